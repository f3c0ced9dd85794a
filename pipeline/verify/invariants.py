"""Check a finished run against ENGINE.md §6 invariants 1-4 and 7, from recomputed facts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Engine

from pipeline.db import schema as s
from pipeline.db.engine import READ_ONLY
from pipeline.verify.recompute import evaluate, in_scope, is_pinned, load_inputs, run_options, trade_in_scope, windows

VALUE_PARTS = ("price", "servicing_value", "carry", "value", "objective_value")


@dataclass(frozen=True)
class Violation:
    invariant: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"invariant {self.invariant} [{self.key}]: {self.message}"


def _run_rows(conn, table, run_id):
    return [dict(r._mapping) for r in conn.execute(select(table).where(table.c.run_id == run_id))]


def verify_run(engine: Engine, tenant_id: str, run_id: str) -> list[Violation]:
    with engine.connect().execution_options(**READ_ONLY) as conn:
        options = run_options(conn, run_id, tenant_id)
        if options is None:
            raise LookupError(f"run {run_id} not found for tenant {tenant_id}")
        inp = load_inputs(conn, tenant_id, options)
        guide = _run_rows(conn, s.powerfill_guide, run_id)
        kickouts = {r["loan_id"]: r for r in _run_rows(conn, s.kickout_guide, run_id)}
        pool_rows = _run_rows(conn, s.pool_guide, run_id)
    out: list[Violation] = []
    win = windows(inp)
    scope_trades = {tid for tid, t in inp.trades.items() if trade_in_scope(inp, t)}
    allocated = {}
    filled = defaultdict(Decimal)

    # 1. each loan at most once; every row an eligible candidate with the §4 value parts.
    for row in guide:
        lid, tid = row["loan_id"], row["trade_id"]
        if lid in allocated:
            out.append(Violation(1, lid, "loan allocated twice"))
        allocated[lid] = tid
        loan, trade = inp.loans.get(lid), inp.trades.get(tid)
        if loan is None or trade is None or tid not in scope_trades or not in_scope(inp, loan):
            out.append(Violation(1, f"{lid}->{tid}", "allocation of an out-of-scope loan or trade"))
            continue
        pair, reason = evaluate(inp, loan, trade)
        if pair is None:
            out.append(Violation(1, f"{lid}->{tid}", f"pair is not eligible ({reason})"))
            continue
        for part in VALUE_PARTS:
            if Decimal(row[part]) != getattr(pair, part):
                out.append(Violation(1, f"{lid}->{tid}", f"{part} {row[part]} != recomputed {getattr(pair, part)}"))
        if row["constraint_name"] != pair.constraint_name or row["level"] != pair.level:
            out.append(Violation(1, f"{lid}->{tid}", f"constraint {row['constraint_name']}/{row['level']} != {pair.constraint_name}/{pair.level}"))
        filled[tid] += Decimal(loan["loan_amount"])

    # 2. allocated <= open capacity (an OverLocked trade takes nothing).
    for tid, amount in sorted(filled.items()):
        cap = Decimal(0) if win[tid].over_locked else win[tid].open_capacity
        if amount > cap:
            out.append(Violation(2, tid, f"allocated {amount} > open capacity {cap}"))

    # 3. every in-scope, unpinned, unallocated loan is a kickout; no allocated or pinned loan is.
    scope_loans = {lid for lid, loan in inp.loans.items() if in_scope(inp, loan)}
    for lid in sorted(scope_loans - set(allocated)):
        if lid not in kickouts or not kickouts[lid]["reason"]:
            out.append(Violation(3, lid, "in-scope unallocated loan has no kickout row"))
    for lid in sorted(set(kickouts)):
        if lid in allocated:
            out.append(Violation(3, lid, "allocated loan is also a kickout"))
        elif lid in inp.loans and is_pinned(inp, inp.loans[lid]):
            out.append(Violation(3, lid, "pinned loan is a kickout"))
        elif lid not in scope_loans:
            out.append(Violation(3, lid, "kickout of a loan that is not in scope"))

    out += _check_pool_guide(inp, allocated, pool_rows)

    # 7. no unallocated, unpinned loan has a candidate trade with room and positive objective value.
    room = {tid: (Decimal(0) if win[tid].over_locked else win[tid].open_capacity) - filled[tid] for tid in scope_trades}
    for lid in sorted(scope_loans - set(allocated)):
        loan = inp.loans[lid]
        amount = Decimal(loan["loan_amount"])
        for tid in sorted(scope_trades):
            if room[tid] < amount:
                continue
            pair, _ = evaluate(inp, loan, inp.trades[tid])
            if pair is not None and pair.objective_value > 0:
                out.append(Violation(7, f"{lid}->{tid}", f"unallocated loan fits trade with room {room[tid]} at objective {pair.objective_value}"))
                break
    return out


def _check_pool_guide(inp, allocated: dict, pool_rows: list[dict]) -> list[Violation]:
    """4. pinned loans never move; every pool action agrees with ENGINE.md §5 step 5."""
    out = []
    by_loan = {r["loan_id"]: r for r in pool_rows}
    expected_loans = set()
    for lid, loan in sorted(inp.loans.items()):
        if not inp.stages[loan["stage_name"]]["is_active"]:
            continue
        pool = inp.pools.get(loan["current_pool_name"]) if loan["current_pool_name"] else None
        if is_pinned(inp, loan):
            expected = "Locked"
            if lid in allocated:
                out.append(Violation(4, lid, "pinned loan was allocated"))
        elif lid in allocated:
            if pool is not None and pool["trade_id"] == allocated[lid]:
                expected = "Remaining"
            elif pool is None or pool["trade_id"] is None:
                expected = "Joining"
            else:
                expected = "Switching"
        elif pool is not None:
            expected = "Leaving"
        else:
            continue
        expected_loans.add(lid)
        row = by_loan.get(lid)
        if row is None:
            out.append(Violation(4, lid, f"no pool guide row (expected {expected})"))
            continue
        if row["pool_action"] != expected:
            out.append(Violation(4, lid, f"pool action {row['pool_action']} != expected {expected}"))
        if expected in ("Locked", "Remaining") and row["to_pool"] != loan["current_pool_name"]:
            out.append(Violation(4, lid, f"{expected} loan moved to pool {row['to_pool']}"))
        if lid in allocated and row["to_trade"] != allocated[lid]:
            out.append(Violation(4, lid, f"pool guide trade {row['to_trade']} != allocated {allocated[lid]}"))
    for lid in sorted(set(by_loan) - expected_loans):
        out.append(Violation(4, lid, "pool guide row for a loan that is neither allocated, pinned nor pooled"))
    return out
