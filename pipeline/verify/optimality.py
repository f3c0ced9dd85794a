"""`powerfill verify --optimality`: rebuild every level's problem from the inputs and the written
allocation, re-solve its LP on the independent path, compare with the stored bounds (within $1)."""

from __future__ import annotations

import json

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from pipeline.db import schema as s
from pipeline.db.engine import READ_ONLY
from pipeline.engine.allocate.problem import AllocationProblem
from pipeline.engine.verify_optimality import compare, level_bounds
from pipeline.verify.recompute import evaluate, in_scope, load_inputs, run_options, trade_in_scope, windows


def rebuild_problem(inp, allocation: dict[str, str]) -> tuple[AllocationProblem, np.ndarray]:
    """The run's AllocationProblem from recomputed candidates, and the written loan -> trade index."""
    win = windows(inp)
    trade_ids = sorted(t for t, row in inp.trades.items() if trade_in_scope(inp, row))
    t_index = {t: i for i, t in enumerate(trade_ids)}
    pairs: list[tuple[str, int, int, int]] = []
    for lid in sorted(inp.loans):
        loan = inp.loans[lid]
        if not in_scope(inp, loan):
            continue
        for tid in trade_ids:
            pair, _ = evaluate(inp, loan, inp.trades[tid])
            if pair is not None:
                pairs.append((lid, t_index[tid], pair.level, int(pair.objective_value * 100)))
    loan_ids = sorted({p[0] for p in pairs})
    l_index = {lid: i for i, lid in enumerate(loan_ids)}
    cap = [0 if win[t].over_locked else int(win[t].open_capacity * 100) for t in trade_ids]
    need = [max(0, int((win[t].min_amount - win[t].locked) * 100)) for t in trade_ids]
    problem = AllocationProblem(
        loan_ids=loan_ids,
        loan_amount_cents=np.array([int(inp.loans[lid]["loan_amount"] * 100) for lid in loan_ids], dtype=np.int64),
        trade_ids=trade_ids,
        trade_capacity_cents=np.array(cap, dtype=np.int64),
        trade_min_need_cents=np.array(need, dtype=np.int64),
        pair_loan=np.array([l_index[p[0]] for p in pairs], dtype=np.int32),
        pair_trade=np.array([p[1] for p in pairs], dtype=np.int32),
        pair_level=np.array([p[2] for p in pairs], dtype=np.int32),
        pair_objective_cents=np.array([p[3] for p in pairs], dtype=np.int64),
        shortfall_penalty=float(inp.options["shortfall_penalty"]),
    )
    written = np.array([t_index.get(allocation.get(lid, ""), -1) for lid in loan_ids], dtype=np.int64)
    return problem, written


def verify_bounds(engine: Engine, tenant_id: str, run_id: str) -> list[str]:
    with engine.connect().execution_options(**READ_ONLY) as conn:
        inp = load_inputs(conn, tenant_id, run_options(conn, run_id, tenant_id))
        allocation = dict(conn.execute(
            select(s.powerfill_guide.c.loan_id, s.powerfill_guide.c.trade_id).where(s.powerfill_guide.c.run_id == run_id)
        ).all())
        metrics_json = conn.execute(
            select(s.run_step.c.metrics_json).where(s.run_step.c.run_id == run_id, s.run_step.c.step_name == "allocation")
        ).scalar()
    stored = json.loads(metrics_json or "{}").get("allocation_levels", [])
    problem, written = rebuild_problem(inp, allocation)
    return compare(stored, level_bounds(problem, written))
