BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE carry_costs (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    on_day INTEGER NOT NULL, 
    funding_rate NUMERIC(18, 6) NOT NULL, 
    CONSTRAINT pk_carry_costs PRIMARY KEY (tenant_id, investor_instrument_name, on_day)
);

CREATE TABLE cash_grids (
    tenant_id VARCHAR(64) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    price NUMERIC(18, 6) NOT NULL, 
    CONSTRAINT pk_cash_grids PRIMARY KEY (tenant_id, trade_id, note_rate)
);

CREATE TABLE constraint_rules (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    constraint_name VARCHAR(128) NOT NULL, 
    field VARCHAR(128) NOT NULL, 
    operator VARCHAR(8) NOT NULL, 
    value VARCHAR(1000) NOT NULL, 
    CONSTRAINT pk_constraint_rules PRIMARY KEY (tenant_id, investor_id, investor_instrument_name, constraint_name, field, operator, value)
);

CREATE TABLE constraints (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    constraint_name VARCHAR(128) NOT NULL, 
    constraint_priority INTEGER NOT NULL, 
    CONSTRAINT pk_constraints PRIMARY KEY (tenant_id, investor_id, investor_instrument_name, constraint_name)
);

CREATE TABLE instruments (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    instrument_type VARCHAR(8) NOT NULL, 
    term_months INTEGER, 
    products VARCHAR(1000) NOT NULL, 
    min_servicing NUMERIC(18, 6), 
    max_servicing NUMERIC(18, 6), 
    excess_servicing_base NUMERIC(18, 6), 
    servicing_multiple NUMERIC(18, 6) NOT NULL, 
    min_loan_amount NUMERIC(18, 2), 
    max_loan_amount NUMERIC(18, 2), 
    delivery_lead_days INTEGER NOT NULL, 
    lot_size NUMERIC(18, 2) NOT NULL, 
    min_pool_amount NUMERIC(18, 2), 
    max_pool_amount NUMERIC(18, 2), 
    CONSTRAINT pk_instruments PRIMARY KEY (tenant_id, investor_id, investor_instrument_name)
);

CREATE TABLE loan_stages (
    tenant_id VARCHAR(64) NOT NULL, 
    stage_name VARCHAR(128) NOT NULL, 
    stage_rank INTEGER NOT NULL, 
    is_active BOOLEAN NOT NULL, 
    CONSTRAINT pk_loan_stages PRIMARY KEY (tenant_id, stage_name)
);

CREATE TABLE loans (
    tenant_id VARCHAR(64) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    original_loan_amount NUMERIC(18, 2) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    product VARCHAR(128) NOT NULL, 
    stage_name VARCHAR(128) NOT NULL, 
    lock_date DATE, 
    lock_expiration_date DATE, 
    expected_close_date DATE, 
    closing_date DATE, 
    funded_date DATE, 
    fico INTEGER, 
    ltv NUMERIC(18, 6), 
    dti NUMERIC(18, 6), 
    property_state VARCHAR(8), 
    occupancy VARCHAR(32), 
    loan_purpose VARCHAR(32), 
    property_type VARCHAR(32), 
    units INTEGER, 
    current_pool_name VARCHAR(128), 
    CONSTRAINT pk_loans PRIMARY KEY (tenant_id, loan_id)
);

CREATE TABLE lockdowns (
    tenant_id VARCHAR(64) NOT NULL, 
    pool_name VARCHAR(128) NOT NULL, 
    lock_pool BOOLEAN NOT NULL, 
    CONSTRAINT pk_lockdowns PRIMARY KEY (tenant_id, pool_name)
);

CREATE TABLE market_prices (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NOT NULL, 
    settlement_date DATE NOT NULL, 
    price NUMERIC(18, 6) NOT NULL, 
    CONSTRAINT pk_market_prices PRIMARY KEY (tenant_id, investor_instrument_name, coupon, settlement_date)
);

CREATE TABLE payups (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NOT NULL, 
    payup_value NUMERIC(18, 6) NOT NULL, 
    div_by NUMERIC(18, 6) NOT NULL, 
    CONSTRAINT pk_payups PRIMARY KEY (tenant_id, investor_instrument_name, coupon)
);

CREATE TABLE pfill_bx_cash_grid (
    run_id VARCHAR(36) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    seq INTEGER NOT NULL, 
    price NUMERIC(18, 6) NOT NULL, 
    usable BOOLEAN NOT NULL, 
    CONSTRAINT pk_pfill_bx_cash_grid PRIMARY KEY (run_id, trade_id, note_rate)
);

CREATE TABLE pfill_cash_market_map (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    grid_note_rate NUMERIC(18, 6) NOT NULL, 
    grid_price NUMERIC(18, 6) NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    CONSTRAINT pk_pfill_cash_market_map PRIMARY KEY (run_id, loan_id)
);

CREATE TABLE pfill_cblock_guide (
    run_id VARCHAR(36) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    constraint_name VARCHAR(128) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    level INTEGER NOT NULL, 
    candidate_count INTEGER NOT NULL, 
    capacity_offered NUMERIC(18, 2) NOT NULL, 
    consumed NUMERIC(18, 2) NOT NULL, 
    allocated_count INTEGER NOT NULL, 
    CONSTRAINT pk_pfill_cblock_guide PRIMARY KEY (run_id, investor_id, investor_instrument_name, constraint_name, trade_id)
);

CREATE TABLE pfill_kickout_guide_01 (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    reason VARCHAR(32) NOT NULL, 
    detail TEXT, 
    best_trade_id VARCHAR(64), 
    CONSTRAINT pk_pfill_kickout_guide_01 PRIMARY KEY (run_id, loan_id)
);

CREATE TABLE pfill_loan2trade_candy_level_01 (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    constraint_name VARCHAR(128) NOT NULL, 
    level INTEGER NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    price NUMERIC(20, 8) NOT NULL, 
    servicing_value NUMERIC(20, 8) NOT NULL, 
    carry NUMERIC(20, 8) NOT NULL, 
    carry_matched BOOLEAN NOT NULL, 
    value NUMERIC(20, 8) NOT NULL, 
    objective_value NUMERIC(18, 2) NOT NULL, 
    candidate_rank INTEGER NOT NULL, 
    CONSTRAINT pk_pfill_loan2trade_candy_level_01 PRIMARY KEY (run_id, loan_id, trade_id)
);

CREATE TABLE pfill_loan_scope (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    scope VARCHAR(16) NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    available_date DATE, 
    current_pool_name VARCHAR(128), 
    current_pool_trade_id VARCHAR(64), 
    pool_locked BOOLEAN NOT NULL, 
    candidate_count INTEGER NOT NULL, 
    fail_reason VARCHAR(32), 
    fail_trade_id VARCHAR(64), 
    CONSTRAINT pk_pfill_loan_scope PRIMARY KEY (run_id, loan_id)
);

CREATE TABLE pfill_pool_guide (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    pool_action VARCHAR(16) NOT NULL, 
    from_pool VARCHAR(128), 
    from_trade VARCHAR(64), 
    to_pool VARCHAR(128), 
    to_trade VARCHAR(64), 
    settlement_date DATE, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    reason VARCHAR(32), 
    flags VARCHAR(256) NOT NULL, 
    CONSTRAINT pk_pfill_pool_guide PRIMARY KEY (run_id, loan_id)
);

CREATE TABLE pfill_powerfill_guide (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    constraint_name VARCHAR(128) NOT NULL, 
    level INTEGER NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    price NUMERIC(20, 8) NOT NULL, 
    servicing_value NUMERIC(20, 8) NOT NULL, 
    carry NUMERIC(20, 8) NOT NULL, 
    value NUMERIC(20, 8) NOT NULL, 
    objective_value NUMERIC(18, 2) NOT NULL, 
    runner_up_trade_id VARCHAR(64), 
    runner_up_value_diff NUMERIC(20, 8), 
    CONSTRAINT pk_pfill_powerfill_guide PRIMARY KEY (run_id, loan_id)
);

CREATE TABLE pfill_powerfill_log (
    run_id VARCHAR(36) NOT NULL, 
    seq INTEGER NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    step_name VARCHAR(32) NOT NULL, 
    severity VARCHAR(8) NOT NULL, 
    event VARCHAR(64) NOT NULL, 
    message TEXT NOT NULL, 
    CONSTRAINT pk_pfill_powerfill_log PRIMARY KEY (run_id, seq)
);

CREATE TABLE pfill_run_history (
    run_id VARCHAR(36) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    trigger VARCHAR(16) NOT NULL, 
    requested_by VARCHAR(256), 
    options_json TEXT NOT NULL, 
    input_loan_ids_json TEXT, 
    started_at_utc TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    ended_at_utc TIMESTAMP WITHOUT TIME ZONE, 
    current_step VARCHAR(32), 
    output_guide_count INTEGER, 
    output_kickout_count INTEGER, 
    failure_step VARCHAR(32), 
    failure_message TEXT, 
    response_json TEXT, 
    cancel_requested_at_utc TIMESTAMP WITHOUT TIME ZONE, 
    lease_owner VARCHAR(128), 
    lease_expires_at_utc TIMESTAMP WITHOUT TIME ZONE, 
    attempt_count INTEGER DEFAULT 0 NOT NULL, 
    enqueued_at_utc TIMESTAMP WITHOUT TIME ZONE, 
    idempotency_key VARCHAR(128), 
    schedule_name VARCHAR(128), 
    CONSTRAINT pk_pfill_run_history PRIMARY KEY (run_id)
);

CREATE INDEX ix_pfill_run_history_keyset ON pfill_run_history (tenant_id, started_at_utc, run_id);

CREATE UNIQUE INDEX ux_pfill_run_history_active_tenant ON pfill_run_history (tenant_id) WHERE status IN ('Pending', 'PreProcessing', 'Allocating', 'PostProcessing');

CREATE UNIQUE INDEX ux_pfill_run_history_idempotency ON pfill_run_history (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE pfill_schedule (
    tenant_id VARCHAR(64) NOT NULL, 
    schedule_name VARCHAR(128) NOT NULL, 
    cron VARCHAR(128) NOT NULL, 
    options_json TEXT NOT NULL, 
    enabled BOOLEAN NOT NULL, 
    last_fired_at_utc TIMESTAMP WITHOUT TIME ZONE, 
    last_result TEXT, 
    updated_at_utc TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    CONSTRAINT pk_pfill_schedule PRIMARY KEY (tenant_id, schedule_name)
);

CREATE TABLE pfill_syn_powerfill_guide (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    syn_trade_id VARCHAR(160) NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    value NUMERIC(20, 8) NOT NULL, 
    in_tradable_fill BOOLEAN NOT NULL, 
    post_ue_action VARCHAR(16), 
    CONSTRAINT pk_pfill_syn_powerfill_guide PRIMARY KEY (run_id, loan_id)
);

CREATE TABLE pfill_syn_powerfill_guide_all_rank (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    syn_trade_id VARCHAR(160) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NOT NULL, 
    settlement_date DATE NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    market_price NUMERIC(20, 8) NOT NULL, 
    payup NUMERIC(20, 8) NOT NULL, 
    servicing_value NUMERIC(20, 8) NOT NULL, 
    carry NUMERIC(20, 8) NOT NULL, 
    value_payup NUMERIC(20, 8) NOT NULL, 
    value_payup_carry NUMERIC(20, 8) NOT NULL, 
    rank_payup INTEGER NOT NULL, 
    rank_payup_carry INTEGER NOT NULL, 
    CONSTRAINT pk_pfill_syn_powerfill_guide_all_rank PRIMARY KEY (run_id, loan_id, syn_trade_id)
);

CREATE TABLE pfill_syn_trade_base (
    run_id VARCHAR(36) NOT NULL, 
    syn_trade_id VARCHAR(160) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NOT NULL, 
    settlement_date DATE NOT NULL, 
    market_price NUMERIC(20, 8) NOT NULL, 
    payup NUMERIC(20, 8) NOT NULL, 
    lot_size NUMERIC(18, 2) NOT NULL, 
    loan_count INTEGER NOT NULL, 
    total_amount NUMERIC(18, 2) NOT NULL, 
    tradable_amount NUMERIC(18, 2) NOT NULL, 
    filled_amount NUMERIC(18, 2) NOT NULL, 
    tradable_count INTEGER NOT NULL, 
    weighted_price NUMERIC(20, 8), 
    CONSTRAINT pk_pfill_syn_trade_base PRIMARY KEY (run_id, syn_trade_id)
);

CREATE TABLE pfill_trade_base (
    run_id VARCHAR(36) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    instrument_type VARCHAR(8) NOT NULL, 
    coupon NUMERIC(18, 6), 
    settlement_date DATE NOT NULL, 
    trade_amount NUMERIC(18, 2) NOT NULL, 
    tolerance_pct NUMERIC(18, 6) NOT NULL, 
    tolerance_amount NUMERIC(18, 2) NOT NULL, 
    min_amount NUMERIC(18, 2) NOT NULL, 
    max_amount NUMERIC(18, 2) NOT NULL, 
    locked_amount NUMERIC(18, 2) NOT NULL, 
    open_capacity NUMERIC(18, 2) NOT NULL, 
    price NUMERIC(18, 6), 
    flags VARCHAR(256) NOT NULL, 
    allocated_amount NUMERIC(18, 2), 
    allocated_count INTEGER, 
    closed_fill_amount NUMERIC(18, 2), 
    locked_loan_fill_amount NUMERIC(18, 2), 
    shortfall_amount NUMERIC(18, 2), 
    over_amount NUMERIC(18, 2), 
    fill_status VARCHAR(16), 
    CONSTRAINT pk_pfill_trade_base PRIMARY KEY (run_id, trade_id)
);

CREATE TABLE pfill_trade_cblock_base (
    run_id VARCHAR(36) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    level INTEGER NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    allocated_amount NUMERIC(18, 2) NOT NULL, 
    allocated_count INTEGER NOT NULL, 
    CONSTRAINT pk_pfill_trade_cblock_base PRIMARY KEY (run_id, trade_id, level)
);

CREATE TABLE pools (
    tenant_id VARCHAR(64) NOT NULL, 
    pool_name VARCHAR(128) NOT NULL, 
    trade_id VARCHAR(64), 
    CONSTRAINT pk_pools PRIMARY KEY (tenant_id, pool_name)
);

CREATE TABLE trades (
    tenant_id VARCHAR(64) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6), 
    trade_amount NUMERIC(18, 2) NOT NULL, 
    tolerance_pct NUMERIC(18, 6) NOT NULL, 
    price NUMERIC(18, 6), 
    settlement_date DATE NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    counterparty VARCHAR(128), 
    CONSTRAINT pk_trades PRIMARY KEY (tenant_id, trade_id)
);

CREATE TABLE pfill_run_step (
    run_id VARCHAR(36) NOT NULL, 
    step_name VARCHAR(32) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    step_order INTEGER NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    attempt INTEGER DEFAULT 0 NOT NULL, 
    started_at_utc TIMESTAMP WITHOUT TIME ZONE, 
    ended_at_utc TIMESTAMP WITHOUT TIME ZONE, 
    rows_written INTEGER, 
    error TEXT, 
    metrics_json TEXT, 
    CONSTRAINT pk_pfill_run_step PRIMARY KEY (run_id, step_name), 
    CONSTRAINT fk_pfill_run_step_pfill_run_history FOREIGN KEY(run_id) REFERENCES pfill_run_history (run_id) ON DELETE CASCADE
);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

COMMIT;

