"""The one schema definition (SQLAlchemy Core) for SQLite, PostgreSQL and SQL Server.

Three groups of tables, every one carrying `tenant_id`:
- inputs (ENGINE.md §2), replaced as whole sets per kind by the importer; references between
  kinds are checked by the importer, not by foreign keys, so one kind can be replaced alone;
- the run lifecycle: `pfill_run_history` and its checkpoints `pfill_run_step` (DESIGN.md §3);
- outputs (ENGINE.md §5), keyed by `run_id` so a newer run never overwrites an older one.

Column types: amounts Numeric(18,2); input rates and prices Numeric(18,6); computed prices,
values and carry Numeric(20,8); ids String(64); names String(128); timestamps naive UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Numeric,
    String,
    Table,
    UnicodeText,
    text,
)

from pipeline.statuses import ACTIVE_STATUSES

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def Id(name: str, **kw) -> Column:
    return Column(name, String(64), **kw)


def Name(name: str, **kw) -> Column:
    return Column(name, String(128), **kw)


def Amount(name: str, **kw) -> Column:
    return Column(name, Numeric(18, 2), **kw)


def Rate(name: str, **kw) -> Column:
    """Input rates and prices: at most 6 decimals (ENGINE.md §2)."""
    return Column(name, Numeric(18, 6), **kw)


def Value(name: str, **kw) -> Column:
    """Computed price parts, carry and value: 8 decimals (ENGINE.md §4)."""
    return Column(name, Numeric(20, 8), **kw)


def Tenant() -> Column:
    return Column("tenant_id", String(64), primary_key=True)


def RunId() -> Column:
    return Column("run_id", String(36), primary_key=True)


def TenantOf() -> Column:
    """tenant_id on output tables: not part of the key (run_id is unique), kept for scoping."""
    return Column("tenant_id", String(64), nullable=False)


# ------------------------------------------------------------------------------------------------
# Inputs (ENGINE.md §2)
# ------------------------------------------------------------------------------------------------

loan_stages = Table(
    "loan_stages", metadata,
    Tenant(), Name("stage_name", primary_key=True),
    Column("stage_rank", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False),
)

loans = Table(
    "loans", metadata,
    Tenant(), Id("loan_id", primary_key=True),
    Amount("loan_amount", nullable=False),
    Amount("original_loan_amount", nullable=False),
    Rate("note_rate", nullable=False),
    Name("product", nullable=False),
    Name("stage_name", nullable=False),
    Column("lock_date", Date),
    Column("lock_expiration_date", Date),
    Column("expected_close_date", Date),
    Column("closing_date", Date),
    Column("funded_date", Date),
    Column("fico", Integer),
    Rate("ltv"),
    Rate("dti"),
    Column("property_state", String(8)),
    Column("occupancy", String(32)),
    Column("loan_purpose", String(32)),
    Column("property_type", String(32)),
    Column("units", Integer),
    Name("current_pool_name"),
)

instruments = Table(
    "instruments", metadata,
    Tenant(), Id("investor_id", primary_key=True), Name("investor_instrument_name", primary_key=True),
    Column("instrument_type", String(8), nullable=False),
    Column("term_months", Integer),
    Column("products", String(1000), nullable=False),  # ';'-separated, as in the CSV
    Rate("min_servicing"),
    Rate("max_servicing"),
    Rate("excess_servicing_base"),
    Rate("servicing_multiple", nullable=False),
    Amount("min_loan_amount"),
    Amount("max_loan_amount"),
    Column("delivery_lead_days", Integer, nullable=False),
    Amount("lot_size", nullable=False),
    Amount("min_pool_amount"),
    Amount("max_pool_amount"),
)

trades = Table(
    "trades", metadata,
    Tenant(), Id("trade_id", primary_key=True),
    Id("investor_id", nullable=False),
    Name("investor_instrument_name", nullable=False),
    Rate("coupon"),
    Amount("trade_amount", nullable=False),
    Rate("tolerance_pct", nullable=False),
    Rate("price"),
    Column("settlement_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Name("counterparty"),
)

pools = Table(
    "pools", metadata,
    Tenant(), Name("pool_name", primary_key=True),
    Id("trade_id"),
)

lockdowns = Table(
    "lockdowns", metadata,
    Tenant(), Name("pool_name", primary_key=True),
    Column("lock_pool", Boolean, nullable=False),
)

constraints = Table(
    "constraints", metadata,
    Tenant(), Id("investor_id", primary_key=True), Name("investor_instrument_name", primary_key=True),
    Name("constraint_name", primary_key=True),
    Column("constraint_priority", Integer, nullable=False),
)

constraint_rules = Table(
    "constraint_rules", metadata,
    Column("tenant_id", String(64), nullable=False),
    Id("investor_id", nullable=False), Name("investor_instrument_name", nullable=False),
    Name("constraint_name", nullable=False),
    Name("field", nullable=False),
    Column("operator", String(8), nullable=False),
    Column("value", String(1000), nullable=False),
    # The key is up to ~1,500 bytes wide; SQL Server caps a clustered key at 900 bytes and a
    # nonclustered one at 1,700, so the primary key is nonclustered there (the table is a heap).
    PrimaryKeyConstraint(
        "tenant_id", "investor_id", "investor_instrument_name", "constraint_name", "field", "operator", "value",
        mssql_clustered=False,
    ),
)

carry_costs = Table(
    "carry_costs", metadata,
    Tenant(), Name("investor_instrument_name", primary_key=True),
    Column("on_day", Integer, primary_key=True),
    Rate("funding_rate", nullable=False),
)

payups = Table(
    "payups", metadata,
    Tenant(), Name("investor_instrument_name", primary_key=True), Rate("coupon", primary_key=True),
    Rate("payup_value", nullable=False),
    Rate("div_by", nullable=False),
)

cash_grids = Table(
    "cash_grids", metadata,
    Tenant(), Id("trade_id", primary_key=True), Rate("note_rate", primary_key=True),
    Rate("price", nullable=False),
)

market_prices = Table(
    "market_prices", metadata,
    Tenant(), Name("investor_instrument_name", primary_key=True), Rate("coupon", primary_key=True),
    Column("settlement_date", Date, primary_key=True),
    Rate("price", nullable=False),
)

# Load order: every kind after the kinds it references (the importer and the CLI use it).
INPUT_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        loan_stages, instruments, trades, pools, lockdowns, loans, constraints, constraint_rules,
        carry_costs, payups, cash_grids, market_prices,
    )
}

# ------------------------------------------------------------------------------------------------
# Run lifecycle (DESIGN.md §3)
# ------------------------------------------------------------------------------------------------

_active_predicate = "status IN ({})".format(", ".join(f"'{s.value}'" for s in ACTIVE_STATUSES))

run_history = Table(
    "pfill_run_history", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("requested_by", String(256)),
    Column("options_json", UnicodeText, nullable=False),
    Column("input_loan_ids_json", UnicodeText),
    Column("started_at_utc", DateTime, nullable=False),
    Column("ended_at_utc", DateTime),
    Column("current_step", String(32)),
    Column("output_guide_count", Integer),
    Column("output_kickout_count", Integer),
    Column("failure_step", String(32)),
    Column("failure_message", UnicodeText),
    Column("response_json", UnicodeText),
    Column("cancel_requested_at_utc", DateTime),
    Column("lease_owner", String(128)),
    Column("lease_expires_at_utc", DateTime),
    Column("attempt_count", Integer, nullable=False, server_default=text("0")),
    Column("enqueued_at_utc", DateTime),
    Column("idempotency_key", String(128)),
    Column("schedule_name", String(128)),
    # BR-8: one active run per tenant, enforced by the database on every dialect.
    Index(
        "ux_pfill_run_history_active_tenant", "tenant_id", unique=True,
        sqlite_where=text(_active_predicate),
        postgresql_where=text(_active_predicate),
        mssql_where=text(_active_predicate),
    ),
    # Keyset pagination of GET /runs (newest first).
    Index("ix_pfill_run_history_keyset", "tenant_id", "started_at_utc", "run_id"),
    Index(
        "ux_pfill_run_history_idempotency", "tenant_id", "idempotency_key", unique=True,
        sqlite_where=text("idempotency_key IS NOT NULL"),
        postgresql_where=text("idempotency_key IS NOT NULL"),
        mssql_where=text("idempotency_key IS NOT NULL"),
    ),
)

run_step = Table(
    "pfill_run_step", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("step_name", String(32), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("step_order", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False, server_default=text("0")),
    Column("started_at_utc", DateTime),
    Column("ended_at_utc", DateTime),
    Column("rows_written", Integer),
    Column("error", UnicodeText),
    Column("metrics_json", UnicodeText),
    ForeignKeyConstraint(["run_id"], ["pfill_run_history.run_id"], ondelete="CASCADE"),
)

schedules = Table(
    "pfill_schedule", metadata,
    Tenant(), Name("schedule_name", primary_key=True),
    Column("cron", String(128), nullable=False),
    Column("options_json", UnicodeText, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("last_fired_at_utc", DateTime),   # the firing time last claimed; claims are conditional
    Column("last_result", UnicodeText),
    Column("updated_at_utc", DateTime, nullable=False),
)

# ------------------------------------------------------------------------------------------------
# Outputs (ENGINE.md §5), keyed by run_id
# ------------------------------------------------------------------------------------------------

bx_cash_grid = Table(
    "pfill_bx_cash_grid", metadata,
    RunId(), Id("trade_id", primary_key=True), Rate("note_rate", primary_key=True), TenantOf(),
    Column("seq", Integer, nullable=False),
    Rate("price", nullable=False),
    Column("usable", Boolean, nullable=False),
)

trade_base = Table(
    "pfill_trade_base", metadata,
    RunId(), Id("trade_id", primary_key=True), TenantOf(),
    Id("investor_id", nullable=False),
    Name("investor_instrument_name", nullable=False),
    Column("instrument_type", String(8), nullable=False),
    Rate("coupon"),
    Column("settlement_date", Date, nullable=False),
    Amount("trade_amount", nullable=False),
    Rate("tolerance_pct", nullable=False),
    Amount("tolerance_amount", nullable=False),
    Amount("min_amount", nullable=False),
    Amount("max_amount", nullable=False),
    Amount("locked_amount", nullable=False),
    Amount("open_capacity", nullable=False),
    Rate("price"),
    Column("flags", String(256), nullable=False),
    # Fill columns, written by the allocation step (null until it has run).
    Amount("allocated_amount"),
    Column("allocated_count", Integer),
    Amount("closed_fill_amount"),
    Amount("locked_loan_fill_amount"),
    Amount("shortfall_amount"),
    Amount("over_amount"),
    Column("fill_status", String(16)),
)

loan_scope = Table(
    # Written by candidate_builder: the loan facts later steps need (scope, pin, pool, why no
    # candidate), so allocation and pool_guide read outputs, not inputs (docs/engine.md).
    "pfill_loan_scope", metadata,
    RunId(), Id("loan_id", primary_key=True), TenantOf(),
    Column("scope", String(16), nullable=False),  # Closed / Locked / Pinned / OutOfScope
    Amount("loan_amount", nullable=False),
    Rate("note_rate", nullable=False),
    Column("available_date", Date),
    Name("current_pool_name"),
    Id("current_pool_trade_id"),
    Column("pool_locked", Boolean, nullable=False),
    Column("candidate_count", Integer, nullable=False),
    Column("fail_reason", String(32)),  # furthest-failed test when in scope without a candidate
    Id("fail_trade_id"),
)

candidates = Table(
    "pfill_loan2trade_candy_level_01", metadata,
    RunId(), Id("loan_id", primary_key=True), Id("trade_id", primary_key=True), TenantOf(),
    Name("constraint_name", nullable=False),
    Column("level", Integer, nullable=False),
    Amount("loan_amount", nullable=False),
    Value("price", nullable=False),
    Value("servicing_value", nullable=False),
    Value("carry", nullable=False),
    Column("carry_matched", Boolean, nullable=False),
    Value("value", nullable=False),
    Amount("objective_value", nullable=False),
    Column("candidate_rank", Integer, nullable=False),
)

powerfill_guide = Table(
    "pfill_powerfill_guide", metadata,
    RunId(), Id("loan_id", primary_key=True), TenantOf(),
    Id("trade_id", nullable=False),
    Name("constraint_name", nullable=False),
    Column("level", Integer, nullable=False),
    Amount("loan_amount", nullable=False),
    Value("price", nullable=False),
    Value("servicing_value", nullable=False),
    Value("carry", nullable=False),
    Value("value", nullable=False),
    Amount("objective_value", nullable=False),
    Id("runner_up_trade_id"),
    Value("runner_up_value_diff"),
)

kickout_guide = Table(
    "pfill_kickout_guide_01", metadata,
    RunId(), Id("loan_id", primary_key=True), TenantOf(),
    Column("reason", String(32), nullable=False),
    Column("detail", UnicodeText),
    Id("best_trade_id"),
)

cblock_guide = Table(
    "pfill_cblock_guide", metadata,
    RunId(), Id("investor_id", primary_key=True), Name("investor_instrument_name", primary_key=True),
    Name("constraint_name", primary_key=True), Id("trade_id", primary_key=True), TenantOf(),
    Column("level", Integer, nullable=False),
    Column("candidate_count", Integer, nullable=False),
    Amount("capacity_offered", nullable=False),
    Amount("consumed", nullable=False),
    Column("allocated_count", Integer, nullable=False),
)

trade_cblock_base = Table(
    "pfill_trade_cblock_base", metadata,
    RunId(), Id("trade_id", primary_key=True), Column("level", Integer, primary_key=True), TenantOf(),
    Amount("allocated_amount", nullable=False),
    Column("allocated_count", Integer, nullable=False),
)

cash_market_map = Table(
    "pfill_cash_market_map", metadata,
    RunId(), Id("loan_id", primary_key=True), TenantOf(),
    Id("trade_id", nullable=False),
    Rate("note_rate", nullable=False),
    Rate("grid_note_rate", nullable=False),
    Rate("grid_price", nullable=False),
    Amount("loan_amount", nullable=False),
)

pool_guide = Table(
    "pfill_pool_guide", metadata,
    RunId(), Id("loan_id", primary_key=True), TenantOf(),
    Column("pool_action", String(16), nullable=False),
    Name("from_pool"),
    Id("from_trade"),
    Name("to_pool"),
    Id("to_trade"),
    Column("settlement_date", Date),
    Amount("loan_amount", nullable=False),
    Column("reason", String(32)),
    Column("flags", String(256), nullable=False),
)

syn_guide_all_rank = Table(
    "pfill_syn_powerfill_guide_all_rank", metadata,
    RunId(), Id("loan_id", primary_key=True), Column("syn_trade_id", String(160), primary_key=True), TenantOf(),
    Id("investor_id", nullable=False),
    Name("investor_instrument_name", nullable=False),
    Rate("coupon", nullable=False),
    Column("settlement_date", Date, nullable=False),
    Amount("loan_amount", nullable=False),
    Value("market_price", nullable=False),
    Value("payup", nullable=False),
    Value("servicing_value", nullable=False),
    Value("carry", nullable=False),
    Value("value_payup", nullable=False),
    Value("value_payup_carry", nullable=False),
    Column("rank_payup", Integer, nullable=False),
    Column("rank_payup_carry", Integer, nullable=False),
)

syn_guide = Table(
    "pfill_syn_powerfill_guide", metadata,
    RunId(), Id("loan_id", primary_key=True), TenantOf(),
    Column("syn_trade_id", String(160), nullable=False),
    Amount("loan_amount", nullable=False),
    Value("value", nullable=False),
    Column("in_tradable_fill", Boolean, nullable=False),
    Column("post_ue_action", String(16)),  # Synthetic when in a tradable fill (ue owns it, not kickouts)
)

syn_trade_base = Table(
    "pfill_syn_trade_base", metadata,
    RunId(), Column("syn_trade_id", String(160), primary_key=True), TenantOf(),
    Id("investor_id", nullable=False),
    Name("investor_instrument_name", nullable=False),
    Rate("coupon", nullable=False),
    Column("settlement_date", Date, nullable=False),
    Value("market_price", nullable=False),
    Value("payup", nullable=False),
    Amount("lot_size", nullable=False),
    Column("loan_count", Integer, nullable=False),
    Amount("total_amount", nullable=False),
    Amount("tradable_amount", nullable=False),
    Amount("filled_amount", nullable=False),
    Column("tradable_count", Integer, nullable=False),
    Value("weighted_price"),
)

powerfill_log = Table(
    "pfill_powerfill_log", metadata,
    RunId(), Column("seq", Integer, primary_key=True), TenantOf(),
    Column("step_name", String(32), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("event", String(64), nullable=False),
    Column("message", UnicodeText, nullable=False),
)

# Output tables in step order; BR-9 clears USER_FACING_OUTPUTS of a Failed/Cancelled run and keeps
# the synthetic tables, the log and the cash market map for forensics.
OUTPUT_TABLES: tuple[Table, ...] = (
    bx_cash_grid, trade_base, loan_scope, candidates, powerfill_guide, kickout_guide, cblock_guide,
    trade_cblock_base, cash_market_map, pool_guide, syn_guide_all_rank, syn_guide, syn_trade_base,
    powerfill_log,
)
USER_FACING_OUTPUTS: tuple[Table, ...] = (
    candidates, powerfill_guide, kickout_guide, trade_base, cblock_guide, trade_cblock_base, pool_guide,
)
