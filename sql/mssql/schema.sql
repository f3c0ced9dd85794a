BEGIN TRANSACTION;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

GO

-- Running upgrade  -> 0001

CREATE TABLE carry_costs (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    on_day INTEGER NOT NULL, 
    funding_rate NUMERIC(18, 6) NOT NULL, 
    CONSTRAINT pk_carry_costs PRIMARY KEY (tenant_id, investor_instrument_name, on_day)
);

GO

CREATE TABLE cash_grids (
    tenant_id VARCHAR(64) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    price NUMERIC(18, 6) NOT NULL, 
    CONSTRAINT pk_cash_grids PRIMARY KEY (tenant_id, trade_id, note_rate)
);

GO

CREATE TABLE constraint_rules (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    constraint_name VARCHAR(128) NOT NULL, 
    field VARCHAR(128) NOT NULL, 
    operator VARCHAR(8) NOT NULL, 
    value VARCHAR(1000) NOT NULL, 
    CONSTRAINT pk_constraint_rules PRIMARY KEY NONCLUSTERED (tenant_id, investor_id, investor_instrument_name, constraint_name, field, operator, value)
);

GO

CREATE TABLE constraints (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    constraint_name VARCHAR(128) NOT NULL, 
    constraint_priority INTEGER NOT NULL, 
    CONSTRAINT pk_constraints PRIMARY KEY (tenant_id, investor_id, investor_instrument_name, constraint_name)
);

GO

CREATE TABLE instruments (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    instrument_type VARCHAR(8) NOT NULL, 
    term_months INTEGER NULL, 
    products VARCHAR(1000) NOT NULL, 
    min_servicing NUMERIC(18, 6) NULL, 
    max_servicing NUMERIC(18, 6) NULL, 
    excess_servicing_base NUMERIC(18, 6) NULL, 
    servicing_multiple NUMERIC(18, 6) NOT NULL, 
    min_loan_amount NUMERIC(18, 2) NULL, 
    max_loan_amount NUMERIC(18, 2) NULL, 
    delivery_lead_days INTEGER NOT NULL, 
    lot_size NUMERIC(18, 2) NOT NULL, 
    min_pool_amount NUMERIC(18, 2) NULL, 
    max_pool_amount NUMERIC(18, 2) NULL, 
    CONSTRAINT pk_instruments PRIMARY KEY (tenant_id, investor_id, investor_instrument_name)
);

GO

CREATE TABLE loan_stages (
    tenant_id VARCHAR(64) NOT NULL, 
    stage_name VARCHAR(128) NOT NULL, 
    stage_rank INTEGER NOT NULL, 
    is_active BIT NOT NULL, 
    CONSTRAINT pk_loan_stages PRIMARY KEY (tenant_id, stage_name)
);

GO

CREATE TABLE loans (
    tenant_id VARCHAR(64) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    original_loan_amount NUMERIC(18, 2) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    product VARCHAR(128) NOT NULL, 
    stage_name VARCHAR(128) NOT NULL, 
    lock_date DATETIME NULL, 
    lock_expiration_date DATETIME NULL, 
    expected_close_date DATETIME NULL, 
    closing_date DATETIME NULL, 
    funded_date DATETIME NULL, 
    fico INTEGER NULL, 
    ltv NUMERIC(18, 6) NULL, 
    dti NUMERIC(18, 6) NULL, 
    property_state VARCHAR(8) NULL, 
    occupancy VARCHAR(32) NULL, 
    loan_purpose VARCHAR(32) NULL, 
    property_type VARCHAR(32) NULL, 
    units INTEGER NULL, 
    current_pool_name VARCHAR(128) NULL, 
    CONSTRAINT pk_loans PRIMARY KEY (tenant_id, loan_id)
);

GO

CREATE TABLE lockdowns (
    tenant_id VARCHAR(64) NOT NULL, 
    pool_name VARCHAR(128) NOT NULL, 
    lock_pool BIT NOT NULL, 
    CONSTRAINT pk_lockdowns PRIMARY KEY (tenant_id, pool_name)
);

GO

CREATE TABLE market_prices (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NOT NULL, 
    settlement_date DATETIME NOT NULL, 
    price NUMERIC(18, 6) NOT NULL, 
    CONSTRAINT pk_market_prices PRIMARY KEY (tenant_id, investor_instrument_name, coupon, settlement_date)
);

GO

CREATE TABLE payups (
    tenant_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NOT NULL, 
    payup_value NUMERIC(18, 6) NOT NULL, 
    div_by NUMERIC(18, 6) NOT NULL, 
    CONSTRAINT pk_payups PRIMARY KEY (tenant_id, investor_instrument_name, coupon)
);

GO

CREATE TABLE pfill_bx_cash_grid (
    run_id VARCHAR(36) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    seq INTEGER NOT NULL, 
    price NUMERIC(18, 6) NOT NULL, 
    usable BIT NOT NULL, 
    CONSTRAINT pk_pfill_bx_cash_grid PRIMARY KEY (run_id, trade_id, note_rate)
);

GO

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

GO

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

GO

CREATE TABLE pfill_kickout_guide_01 (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    reason VARCHAR(32) NOT NULL, 
    detail NTEXT NULL, 
    best_trade_id VARCHAR(64) NULL, 
    CONSTRAINT pk_pfill_kickout_guide_01 PRIMARY KEY (run_id, loan_id)
);

GO

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
    carry_matched BIT NOT NULL, 
    value NUMERIC(20, 8) NOT NULL, 
    objective_value NUMERIC(18, 2) NOT NULL, 
    candidate_rank INTEGER NOT NULL, 
    CONSTRAINT pk_pfill_loan2trade_candy_level_01 PRIMARY KEY (run_id, loan_id, trade_id)
);

GO

CREATE TABLE pfill_loan_scope (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    scope VARCHAR(16) NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    note_rate NUMERIC(18, 6) NOT NULL, 
    available_date DATETIME NULL, 
    current_pool_name VARCHAR(128) NULL, 
    current_pool_trade_id VARCHAR(64) NULL, 
    pool_locked BIT NOT NULL, 
    candidate_count INTEGER NOT NULL, 
    fail_reason VARCHAR(32) NULL, 
    fail_trade_id VARCHAR(64) NULL, 
    CONSTRAINT pk_pfill_loan_scope PRIMARY KEY (run_id, loan_id)
);

GO

CREATE TABLE pfill_pool_guide (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    pool_action VARCHAR(16) NOT NULL, 
    from_pool VARCHAR(128) NULL, 
    from_trade VARCHAR(64) NULL, 
    to_pool VARCHAR(128) NULL, 
    to_trade VARCHAR(64) NULL, 
    settlement_date DATETIME NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    reason VARCHAR(32) NULL, 
    flags VARCHAR(256) NOT NULL, 
    CONSTRAINT pk_pfill_pool_guide PRIMARY KEY (run_id, loan_id)
);

GO

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
    runner_up_trade_id VARCHAR(64) NULL, 
    runner_up_value_diff NUMERIC(20, 8) NULL, 
    CONSTRAINT pk_pfill_powerfill_guide PRIMARY KEY (run_id, loan_id)
);

GO

CREATE TABLE pfill_powerfill_log (
    run_id VARCHAR(36) NOT NULL, 
    seq INTEGER NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    step_name VARCHAR(32) NOT NULL, 
    severity VARCHAR(8) NOT NULL, 
    event VARCHAR(64) NOT NULL, 
    message NTEXT NOT NULL, 
    CONSTRAINT pk_pfill_powerfill_log PRIMARY KEY (run_id, seq)
);

GO

CREATE TABLE pfill_run_history (
    run_id VARCHAR(36) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    [trigger] VARCHAR(16) NOT NULL, 
    requested_by VARCHAR(256) NULL, 
    options_json NTEXT NOT NULL, 
    input_loan_ids_json NTEXT NULL, 
    started_at_utc DATETIME NOT NULL, 
    ended_at_utc DATETIME NULL, 
    current_step VARCHAR(32) NULL, 
    output_guide_count INTEGER NULL, 
    output_kickout_count INTEGER NULL, 
    failure_step VARCHAR(32) NULL, 
    failure_message NTEXT NULL, 
    response_json NTEXT NULL, 
    cancel_requested_at_utc DATETIME NULL, 
    lease_owner VARCHAR(128) NULL, 
    lease_expires_at_utc DATETIME NULL, 
    attempt_count INTEGER NOT NULL DEFAULT 0, 
    enqueued_at_utc DATETIME NULL, 
    idempotency_key VARCHAR(128) NULL, 
    schedule_name VARCHAR(128) NULL, 
    CONSTRAINT pk_pfill_run_history PRIMARY KEY (run_id)
);

GO

CREATE INDEX ix_pfill_run_history_keyset ON pfill_run_history (tenant_id, started_at_utc, run_id);

GO

CREATE UNIQUE INDEX ux_pfill_run_history_active_tenant ON pfill_run_history (tenant_id) WHERE status IN ('Pending', 'PreProcessing', 'Allocating', 'PostProcessing');

GO

CREATE UNIQUE INDEX ux_pfill_run_history_idempotency ON pfill_run_history (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

GO

CREATE TABLE pfill_schedule (
    tenant_id VARCHAR(64) NOT NULL, 
    schedule_name VARCHAR(128) NOT NULL, 
    cron VARCHAR(128) NOT NULL, 
    options_json NTEXT NOT NULL, 
    enabled BIT NOT NULL, 
    last_fired_at_utc DATETIME NULL, 
    last_result NTEXT NULL, 
    updated_at_utc DATETIME NOT NULL, 
    CONSTRAINT pk_pfill_schedule PRIMARY KEY (tenant_id, schedule_name)
);

GO

CREATE TABLE pfill_syn_powerfill_guide (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    syn_trade_id VARCHAR(160) NOT NULL, 
    loan_amount NUMERIC(18, 2) NOT NULL, 
    value NUMERIC(20, 8) NOT NULL, 
    in_tradable_fill BIT NOT NULL, 
    post_ue_action VARCHAR(16) NULL, 
    CONSTRAINT pk_pfill_syn_powerfill_guide PRIMARY KEY (run_id, loan_id)
);

GO

CREATE TABLE pfill_syn_powerfill_guide_all_rank (
    run_id VARCHAR(36) NOT NULL, 
    loan_id VARCHAR(64) NOT NULL, 
    syn_trade_id VARCHAR(160) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NOT NULL, 
    settlement_date DATETIME NOT NULL, 
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

GO

CREATE TABLE pfill_syn_trade_base (
    run_id VARCHAR(36) NOT NULL, 
    syn_trade_id VARCHAR(160) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NOT NULL, 
    settlement_date DATETIME NOT NULL, 
    market_price NUMERIC(20, 8) NOT NULL, 
    payup NUMERIC(20, 8) NOT NULL, 
    lot_size NUMERIC(18, 2) NOT NULL, 
    loan_count INTEGER NOT NULL, 
    total_amount NUMERIC(18, 2) NOT NULL, 
    tradable_amount NUMERIC(18, 2) NOT NULL, 
    filled_amount NUMERIC(18, 2) NOT NULL, 
    tradable_count INTEGER NOT NULL, 
    weighted_price NUMERIC(20, 8) NULL, 
    CONSTRAINT pk_pfill_syn_trade_base PRIMARY KEY (run_id, syn_trade_id)
);

GO

CREATE TABLE pfill_trade_base (
    run_id VARCHAR(36) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    instrument_type VARCHAR(8) NOT NULL, 
    coupon NUMERIC(18, 6) NULL, 
    settlement_date DATETIME NOT NULL, 
    trade_amount NUMERIC(18, 2) NOT NULL, 
    tolerance_pct NUMERIC(18, 6) NOT NULL, 
    tolerance_amount NUMERIC(18, 2) NOT NULL, 
    min_amount NUMERIC(18, 2) NOT NULL, 
    max_amount NUMERIC(18, 2) NOT NULL, 
    locked_amount NUMERIC(18, 2) NOT NULL, 
    open_capacity NUMERIC(18, 2) NOT NULL, 
    price NUMERIC(18, 6) NULL, 
    flags VARCHAR(256) NOT NULL, 
    allocated_amount NUMERIC(18, 2) NULL, 
    allocated_count INTEGER NULL, 
    closed_fill_amount NUMERIC(18, 2) NULL, 
    locked_loan_fill_amount NUMERIC(18, 2) NULL, 
    shortfall_amount NUMERIC(18, 2) NULL, 
    over_amount NUMERIC(18, 2) NULL, 
    fill_status VARCHAR(16) NULL, 
    CONSTRAINT pk_pfill_trade_base PRIMARY KEY (run_id, trade_id)
);

GO

CREATE TABLE pfill_trade_cblock_base (
    run_id VARCHAR(36) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    level INTEGER NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    allocated_amount NUMERIC(18, 2) NOT NULL, 
    allocated_count INTEGER NOT NULL, 
    CONSTRAINT pk_pfill_trade_cblock_base PRIMARY KEY (run_id, trade_id, level)
);

GO

CREATE TABLE pools (
    tenant_id VARCHAR(64) NOT NULL, 
    pool_name VARCHAR(128) NOT NULL, 
    trade_id VARCHAR(64) NULL, 
    CONSTRAINT pk_pools PRIMARY KEY (tenant_id, pool_name)
);

GO

CREATE TABLE trades (
    tenant_id VARCHAR(64) NOT NULL, 
    trade_id VARCHAR(64) NOT NULL, 
    investor_id VARCHAR(64) NOT NULL, 
    investor_instrument_name VARCHAR(128) NOT NULL, 
    coupon NUMERIC(18, 6) NULL, 
    trade_amount NUMERIC(18, 2) NOT NULL, 
    tolerance_pct NUMERIC(18, 6) NOT NULL, 
    price NUMERIC(18, 6) NULL, 
    settlement_date DATETIME NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    counterparty VARCHAR(128) NULL, 
    CONSTRAINT pk_trades PRIMARY KEY (tenant_id, trade_id)
);

GO

CREATE TABLE pfill_run_step (
    run_id VARCHAR(36) NOT NULL, 
    step_name VARCHAR(32) NOT NULL, 
    tenant_id VARCHAR(64) NOT NULL, 
    step_order INTEGER NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    attempt INTEGER NOT NULL DEFAULT 0, 
    started_at_utc DATETIME NULL, 
    ended_at_utc DATETIME NULL, 
    rows_written INTEGER NULL, 
    error NTEXT NULL, 
    metrics_json NTEXT NULL, 
    CONSTRAINT pk_pfill_run_step PRIMARY KEY (run_id, step_name), 
    CONSTRAINT fk_pfill_run_step_pfill_run_history FOREIGN KEY(run_id) REFERENCES pfill_run_history (run_id) ON DELETE CASCADE
);

GO

INSERT INTO alembic_version (version_num) OUTPUT inserted.version_num VALUES ('0001');

GO

COMMIT;

GO

