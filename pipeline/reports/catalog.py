"""Which reports exist (ENGINE.md §7): their columns, their key, and where their rows come from.

A table-backed report is a select over one run's rows, paged in SQL by its key. A computed report
(recap, existing-disposition) is built in memory from the run's rows by recap.py and paged by the
same cursor rules. `preserved` marks the reports whose rows BR-9 keeps on a Failed or Cancelled run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Select

from pipeline.db import schema as s
from pipeline.reports.columns import Col, kind_of

HIDDEN = ("run_id", "tenant_id")


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Col, ...]
    query: Callable[[str, str], tuple[Select, list[ColumnElement]]] | None = None  # (run, tenant) -> select, key exprs
    compute: Callable[[Connection, str, str], list[dict]] | None = None            # (conn, run, tenant) -> rows by key
    preserved: bool = False


def _cols(table: Table, extra: tuple[Col, ...] = ()) -> tuple[Col, ...]:
    return tuple(Col(c.name, kind_of(c)) for c in table.columns if c.name not in HIDDEN) + extra


def _table_query(table: Table, where=None) -> Callable[[str, str], tuple[Select, list[ColumnElement]]]:  # noqa: ANN001
    def build(run_id: str, tenant_id: str) -> tuple[Select, list[ColumnElement]]:
        key = [c for c in table.primary_key.columns if c.name != "run_id"]
        sel = select(*[c for c in table.columns if c.name not in HIDDEN]).where(
            table.c.run_id == run_id, table.c.tenant_id == tenant_id)
        if where is not None:
            sel = sel.where(where(table))
        return sel, key
    return build


def _table_spec(name: str, title: str, description: str, table: Table, *, where=None, preserved=False) -> ReportSpec:  # noqa: ANN001
    key = tuple(c.name for c in table.primary_key.columns if c.name != "run_id")
    return ReportSpec(name, title, description, key, _cols(table), query=_table_query(table, where), preserved=preserved)


# The guide shows the trade's instrument, coupon and settlement beside each allocation.
_GUIDE_TRADE_COLS = ("investor_id", "investor_instrument_name", "coupon", "settlement_date")


def _guide_query(run_id: str, tenant_id: str) -> tuple[Select, list[ColumnElement]]:
    g, t = s.powerfill_guide, s.trade_base
    sel = (
        select(*[c for c in g.columns if c.name not in HIDDEN], *[t.c[n] for n in _GUIDE_TRADE_COLS])
        .select_from(g.outerjoin(t, (t.c.run_id == g.c.run_id) & (t.c.trade_id == g.c.trade_id)))
        .where(g.c.run_id == run_id, g.c.tenant_id == tenant_id)
    )
    return sel, [g.c.loan_id]


# Kickouts show the post-UE view (ENGINE.md §5 step 6): the loan's best synthetic trade and
# `post_ue_action = Synthetic` when it is in that trade's tradable fill (the ue step owns both).
_KICKOUT_SYN_COLS = ("syn_trade_id", "post_ue_action")


def _kickouts_query(run_id: str, tenant_id: str) -> tuple[Select, list[ColumnElement]]:
    k, sg = s.kickout_guide, s.syn_guide
    sel = (
        select(*[c for c in k.columns if c.name not in HIDDEN],
               *[sg.c[n] for n in _KICKOUT_SYN_COLS if n not in k.c and n in sg.c])
        .select_from(k.outerjoin(sg, (sg.c.run_id == k.c.run_id) & (sg.c.loan_id == k.c.loan_id)))
        .where(k.c.run_id == run_id, k.c.tenant_id == tenant_id)
    )
    return sel, [k.c.loan_id]


def _recap(conn: Connection, run_id: str, tenant_id: str) -> list[dict]:
    from pipeline.reports.recap import recap_rows

    return recap_rows(conn, run_id, tenant_id)


def _disposition(conn: Connection, run_id: str, tenant_id: str) -> list[dict]:
    from pipeline.reports.recap import disposition_rows

    return disposition_rows(conn, run_id, tenant_id)


RECAP_COLUMNS = (
    Col("trade_id"), Col("investor_id"), Col("investor_instrument_name"), Col("instrument_type"),
    Col("coupon", "rate"), Col("settlement_date", "date"), Col("trade_amount", "money"),
    Col("tolerance_pct", "rate"), Col("min_amount", "money"), Col("max_amount", "money"),
    Col("locked_amount", "money"), Col("open_capacity", "money"), Col("closed_fill_amount", "money"),
    Col("locked_loan_fill_amount", "money"), Col("allocated_amount", "money"), Col("filled_amount", "money"),
    Col("fill_pct", "pct"), Col("fill_status"), Col("shortfall_amount", "money"), Col("over_amount", "money"),
    Col("loan_count", "int"), Col("wavg_note_rate", "rate"), Col("wavg_price", "value"), Col("wavg_carry", "value"),
    Col("wavg_value", "value"), Col("value_amount", "money"), Col("pool_count", "int"), Col("flags"),
)

DISPOSITION_COLUMNS = (
    Col("pool_name"), Col("trade_id"), Col("locked", "bool"), Col("loan_count", "int"), Col("amount", "money"),
    Col("stays_count", "int"), Col("stays_amount", "money"), Col("switches_count", "int"),
    Col("switches_amount", "money"), Col("leaves_count", "int"), Col("leaves_amount", "money"),
)

_kickout_cols = _cols(s.kickout_guide) + tuple(
    Col(n, kind_of(s.syn_guide.c[n])) for n in _KICKOUT_SYN_COLS if n not in s.kickout_guide.c and n in s.syn_guide.c)
_guide_cols = _cols(s.powerfill_guide) + tuple(Col(n, kind_of(s.trade_base.c[n])) for n in _GUIDE_TRADE_COLS)

REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec("guide", "PowerFill guide", "Each allocated loan, its trade, constraint, level and value parts.",
                   ("loan_id",), _guide_cols, query=_guide_query),
        ReportSpec("kickouts", "Kickouts", "In-scope loans left unallocated, with one reason each, and their post-UE action.",
                   ("loan_id",), _kickout_cols, query=_kickouts_query),
        ReportSpec("recap", "Trade recap", "Per trade: window, locked, fill, status, shortfall/over, weighted rate, price, carry, value, pools.",
                   ("trade_id",), RECAP_COLUMNS, compute=_recap),
        _table_spec("pool-guide", "Pool guide", "Pool action of every allocated, pinned or pooled loan.", s.pool_guide),
        _table_spec("switching", "Switching and leaving", "Loans that switch trades or leave their pool.", s.pool_guide,
                    where=lambda t: t.c.pool_action.in_(("Switching", "Leaving"))),
        ReportSpec("existing-disposition", "Existing pool disposition", "Per existing pool: loans that stay, switch or leave.",
                   ("pool_name",), DISPOSITION_COLUMNS, compute=_disposition),
        _table_spec("candidates", "Candidates", "Every eligible loan-trade pair with its value parts and rank.", s.candidates),
        _table_spec("cash-slotting", "Cash slotting", "Allocations to cash trades with their grid slot.", s.cash_market_map,
                    preserved=True),
        _table_spec("syn-trades", "Synthetic trades", "What to sell next: synthetic trades and their tradable amounts.",
                    s.syn_trade_base, preserved=True),
        _table_spec("log", "Run log", "The run's events: counts, warnings, what was skipped and why.", s.powerfill_log,
                    preserved=True),
    )
}

REPORT_NAMES: tuple[str, ...] = tuple(REPORTS)
