"""ENGINE.md §4 restated plainly: scope, trade windows, eligibility, price, carry and value.

Every quantity is a Decimal; rounding is half-even to 8 decimals for price parts and value, and to
the cent for dollar values (tolerance amounts half-up), exactly as §4 states.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pipeline.db import schema as s

CENT = Decimal("0.01")
E8 = Decimal("0.00000001")


def r8(x: Decimal) -> Decimal:
    return x.quantize(E8, rounding=ROUND_HALF_EVEN)


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass
class Inputs:
    options: dict
    as_of: date
    stages: dict
    loans: dict
    instruments: dict
    trades: dict
    pools: dict
    locked_pools: set
    constraints: dict = field(default_factory=dict)  # (investor, instrument) -> [(priority, name, rules)]
    carry: dict = field(default_factory=dict)        # instrument -> [(on_day, rate)] sorted
    grids: dict = field(default_factory=dict)        # trade_id -> [(note_rate, price)] sorted


def _rows(conn: Connection, table, tenant_id: str) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(select(table).where(table.c.tenant_id == tenant_id))]


def load_inputs(conn: Connection, tenant_id: str, options: dict) -> Inputs:
    loans = {r["loan_id"]: r for r in _rows(conn, s.loans, tenant_id)}
    instruments = {(r["investor_id"], r["investor_instrument_name"]): r for r in _rows(conn, s.instruments, tenant_id)}
    rules = defaultdict(list)
    for r in _rows(conn, s.constraint_rules, tenant_id):
        rules[(r["investor_id"], r["investor_instrument_name"], r["constraint_name"])].append(r)
    constraints = defaultdict(list)
    for c in _rows(conn, s.constraints, tenant_id):
        key = (c["investor_id"], c["investor_instrument_name"])
        constraints[key].append((c["constraint_priority"], c["constraint_name"], rules[key + (c["constraint_name"],)]))
    for v in constraints.values():
        v.sort(key=lambda c: (c[0], c[1]))
    carry = defaultdict(list)
    for r in _rows(conn, s.carry_costs, tenant_id):
        carry[r["investor_instrument_name"]].append((r["on_day"], Decimal(r["funding_rate"])))
    grids = defaultdict(list)
    for r in _rows(conn, s.cash_grids, tenant_id):
        grids[r["trade_id"]].append((Decimal(r["note_rate"]), Decimal(r["price"])))
    return Inputs(
        options=options,
        as_of=date.fromisoformat(options["as_of_date"]),
        stages={r["stage_name"]: r for r in _rows(conn, s.loan_stages, tenant_id)},
        loans=loans,
        instruments=instruments,
        trades={r["trade_id"]: r for r in _rows(conn, s.trades, tenant_id)},
        pools={r["pool_name"]: r for r in _rows(conn, s.pools, tenant_id)},
        locked_pools={r["pool_name"] for r in _rows(conn, s.lockdowns, tenant_id) if r["lock_pool"]},
        constraints={k: v for k, v in constraints.items()},
        carry={k: sorted(v) for k, v in carry.items()},
        grids={k: sorted(v) for k, v in grids.items()},
    )


def available_date(loan: dict) -> date | None:
    return loan["funded_date"] or loan["closing_date"] or loan["expected_close_date"]


def is_pinned(inp: Inputs, loan: dict) -> bool:
    return bool(loan["current_pool_name"] in inp.locked_pools and inp.stages[loan["stage_name"]]["is_active"])


def in_scope(inp: Inputs, loan: dict) -> bool:
    opts = inp.options
    stage = inp.stages[loan["stage_name"]]
    if not stage["is_active"] or is_pinned(inp, loan):
        return False
    if opts.get("loan_ids") is not None and loan["loan_id"] not in set(opts["loan_ids"]):
        return False
    closed = stage["stage_rank"] >= inp.stages[opts["min_status"]]["stage_rank"]
    # "Locked" scope is for loans *before* min_status (ENGINE.md §3), so a closed loan that ages
    # out is not brought back by its lock.
    locked = (
        not closed
        and opts["scope"] == "ClosedAndLocked"
        and loan["lock_date"] is not None
        and loan["lock_expiration_date"] is not None
        and loan["lock_expiration_date"] >= inp.as_of
    )
    if closed and opts["max_eligible_days"] > 0 and loan["funded_date"] is not None:
        if loan["funded_date"] < inp.as_of - timedelta(days=opts["max_eligible_days"]):
            closed = False
    return closed or locked


@dataclass
class Window:
    min_amount: Decimal
    max_amount: Decimal
    locked: Decimal
    open_capacity: Decimal
    over_locked: bool


def trade_in_scope(inp: Inputs, trade: dict) -> bool:
    horizon = inp.as_of + timedelta(days=inp.options["max_trade_settle_days"])
    return (
        trade["status"] == "Open"
        and inp.as_of <= trade["settlement_date"] <= horizon
        and bool(inp.constraints.get((trade["investor_id"], trade["investor_instrument_name"])))
    )


def windows(inp: Inputs) -> dict[str, Window]:
    locked = defaultdict(Decimal)
    for loan in inp.loans.values():
        if is_pinned(inp, loan):
            trade_id = inp.pools[loan["current_pool_name"]]["trade_id"]
            if trade_id is not None:
                locked[trade_id] += Decimal(loan["loan_amount"])
    out = {}
    for tid, t in inp.trades.items():
        amount = Decimal(t["trade_amount"])
        tol = (amount * Decimal(t["tolerance_pct"]) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        mx = amount + tol
        out[tid] = Window(amount - tol, mx, locked[tid], max(Decimal(0), mx - locked[tid]), locked[tid] > mx)
    return out


def _field_value(loan: dict, name: str):
    return loan.get(name)


def _parse_like(sample, text: str):
    if isinstance(sample, bool):
        return text.lower() == "true"
    if isinstance(sample, (int, Decimal, float)):
        return Decimal(text)
    if isinstance(sample, date):
        return date.fromisoformat(text)
    return text


def rule_passes(loan: dict, rule: dict) -> bool:
    actual = _field_value(loan, rule["field"])
    if actual is None:
        return False
    op, raw = rule["operator"], rule["value"]
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        actual = Decimal(actual)
    if op in ("in", "not_in"):
        members = [_parse_like(actual, v) for v in raw.split(";")]
        return (actual in members) == (op == "in")
    target = _parse_like(actual, raw)
    return {
        "=": actual == target, "!=": actual != target, "<": actual < target,
        "<=": actual <= target, ">": actual > target, ">=": actual >= target,
    }[op]


def grid_price(grid: list[tuple[Decimal, Decimal]], rate: Decimal) -> Decimal | None:
    for i, (nr, price) in enumerate(grid):
        if nr == rate:
            return r8(price)
        if nr > rate:
            if i == 0:
                return None
            lo_r, lo_p = grid[i - 1]
            return r8(lo_p + (price - lo_p) * (rate - lo_r) / (nr - lo_r))
    return None


@dataclass
class Pair:
    constraint_name: str
    level: int
    price: Decimal
    servicing_value: Decimal
    carry: Decimal
    value: Decimal
    objective_value: Decimal


def evaluate(inp: Inputs, loan: dict, trade: dict) -> tuple[Pair | None, str | None]:
    """The pair's values, or the first failed eligibility test of ENGINE.md §4 (its kickout reason)."""
    opts = inp.options
    inst = inp.instruments[(trade["investor_id"], trade["investor_instrument_name"])]
    note = Decimal(loan["note_rate"])
    if loan["product"] not in inst["products"].split(";"):
        return None, "PRODUCT"
    orig = Decimal(loan["original_loan_amount"])
    if (inst["min_loan_amount"] is not None and orig < inst["min_loan_amount"]) or (
        inst["max_loan_amount"] is not None and orig > inst["max_loan_amount"]
    ):
        return None, "LOAN_AMOUNT"
    avail = available_date(loan)
    lead = inst["delivery_lead_days"] + opts["eligible_settle_buffer_days"]
    if avail is None or avail + timedelta(days=lead) > trade["settlement_date"]:
        return None, "SETTLE_DATE"
    if inst["instrument_type"] == "CASH":
        grid = inp.grids.get(trade["trade_id"], [])
        if not grid or not (grid[0][0] <= note <= grid[-1][0]):
            return None, "GRID_RANGE"
        base = grid_price(grid, note)
        floor = opts.get("bx_price_floor")
        if floor is not None and base < Decimal(str(floor)):
            return None, "PRICE_FLOOR"
        servicing = Decimal(0)
    else:
        spread = note - Decimal(trade["coupon"])
        if (inst["min_servicing"] is not None and spread < inst["min_servicing"]) or (
            inst["max_servicing"] is not None and spread > inst["max_servicing"]
        ):
            return None, "SERVICING"
        base = Decimal(trade["price"])
        excess_base = inst["excess_servicing_base"] if inst["excess_servicing_base"] is not None else (inst["min_servicing"] or 0)
        servicing = r8(Decimal(inst["servicing_multiple"]) * (spread - Decimal(excess_base)))
    constraint = next(
        (c for c in inp.constraints[(trade["investor_id"], trade["investor_instrument_name"])]
         if all(rule_passes(loan, r) for r in c[2])),
        None,
    )
    if constraint is None:
        return None, "CONSTRAINT_RULES"
    curve = inp.carry.get(trade["investor_instrument_name"])
    if curve:
        days = (trade["settlement_date"] - max(inp.as_of, avail)).days
        rate = next((r for d, r in reversed(curve) if d <= days), curve[0][1])
        carry = r8((note - rate) * days / 360)
    else:
        carry = Decimal(0)
    price = r8(base)
    value = r8(price + servicing + carry) if opts["price_mode"] == "PricePlusCarry" else r8(price + servicing)
    amount = Decimal(loan["loan_amount"])
    objective = cents(amount * (value - 100) / 100) if opts["value_basis"] == "par" else cents(amount * value / 100)
    pool = inp.pools.get(loan["current_pool_name"]) if loan["current_pool_name"] else None
    if pool is not None and pool["trade_id"] is not None and pool["trade_id"] != trade["trade_id"]:
        objective -= cents(amount * Decimal(str(opts["switch_cost_bps"])) / 10000)
    return Pair(constraint[1], constraint[0], price, servicing, carry, value, objective), None


def run_options(conn: Connection, run_id: str, tenant_id: str) -> dict | None:
    row = conn.execute(
        select(s.run_history.c.options_json).where(s.run_history.c.run_id == run_id, s.run_history.c.tenant_id == tenant_id)
    ).first()
    return json.loads(row.options_json) if row else None
