"""The run's log events (pfill_powerfill_log), from the earlier steps' checkpoints and outputs.

Written by the `ue` step, the last one: counts per step, what was skipped and why, and warnings a
trader should see (over-locked trades, trades left under their minimum, carry missed, the
allocator falling back to greedy or stopping on its safety time limit)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pipeline.db import schema as S

Event = tuple[str, str, str, str]  # step, severity, event, message


def log_rows(conn: Connection, run_id: str) -> list[Event]:
    rs = S.run_step.c
    steps = conn.execute(select(rs.step_name, rs.status, rs.rows_written, rs.metrics_json)
                         .where(rs.run_id == run_id).order_by(rs.step_order)).all()
    events: list[Event] = []
    for name, status, rows, metrics_json in steps:
        if name == "ue":
            continue
        m = json.loads(metrics_json) if metrics_json else {}
        if status == "Skipped":
            why = "no in-scope CASH trade" if name == "bx_cash_grids" else "nothing to do"
            events.append((name, "INFO", "STEP_SKIPPED", f"{name} skipped: {why}"))
            continue
        events.append((name, "INFO", "STEP_DONE", f"{name}: {rows or 0} rows written"))
        if name == "bx_settle_and_price":
            events.append((name, "INFO", "TRADES_IN_SCOPE", f"{m.get('trades_in_scope', 0)} trades in scope"))
            if m.get("trades_over_locked"):
                events.append((name, "WARN", "OVER_LOCKED", f"{m['trades_over_locked']} trades are OverLocked and take nothing"))
        elif name == "candidate_builder":
            events.append((name, "INFO", "CANDIDATES",
                           f"{m.get('candidate_count', 0)} candidates for {m.get('loans_in_scope', 0)} in-scope loans "
                           f"({m.get('loans_pinned', 0)} pinned); {m.get('constraint_count', 0)} constraints"))
            if m.get("carry_missed"):
                events.append((name, "WARN", "CARRY_MISSED", f"{m['carry_missed']} candidates have no carry curve (carry 0)"))
        elif name == "allocation":
            events.append((name, "INFO", "ALLOCATED",
                           f"{m.get('allocated_count', 0)} loans allocated ({m.get('allocated_amount')}), "
                           f"{m.get('kicked_out_count', 0)} kicked out; objective {m.get('objective')}, bound {m.get('bound')}, "
                           f"value gap {m.get('value_gap_bps')} bps"))
            if m.get("fallback_greedy"):
                events.append((name, "WARN", "FALLBACK_GREEDY", "greedy scored higher than the optimal allocator; greedy's allocation kept"))
            if m.get("solver_stopped"):
                events.append((name, "WARN", "SOLVER_STOPPED", "the solver hit solver_time_limit_s; the best answer found was kept"))
            under = int(m.get("trades_in_scope", 0)) - int(m.get("trades_filled", 0))
            if under > 0:
                events.append((name, "WARN", "TRADES_UNDER_MIN",
                               f"{under} in-scope trades end below their minimum or over-locked (shortfall {m.get('shortfall_amount')})"))
        elif name == "pool_guide":
            events.append((name, "INFO", "POOL_ACTIONS", f"pool actions: {json.dumps(m.get('pool_actions', {}), sort_keys=True)}"))
    return events
