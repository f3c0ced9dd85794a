"""Step 4, `allocation`: each in-scope loan to at most one trade (ENGINE.md §5 step 4).

Reads only step 2–3 outputs (trade base, loan scope, candidates, and step 1's grids for cash
slotting), builds the allocator's problem, calls `pipeline.engine.allocate.allocate`, re-checks
the answer in cents, and writes the guide, the kickouts, the trade fill columns of
pfill_trade_base (an UPDATE: step 2 owns the rows, this step the fill columns), the constraint
blocks and the cash-market map. The rows are derived in `allocation_rows`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection

import pipeline
from pipeline.db import schema as S
from pipeline.engine.allocate import AllocationProblem, allocate
from pipeline.engine.runner import RunContext, Step, StepOutput
from pipeline.engine.steps.allocation_rows import AllocationView, build_rows
from pipeline.engine.steps import handoff
from pipeline.engine.steps.outputs import CandidateArrays, LoanScope, read_candidates, read_scope, rows_of
from pipeline.statuses import RunStatus

FILL_COLUMNS = ("allocated_amount", "allocated_count", "closed_fill_amount", "locked_loan_fill_amount",
                "shortfall_amount", "over_amount", "fill_status")


class Allocation(Step):
    name = "allocation"
    run_status = RunStatus.ALLOCATING
    tables = (S.powerfill_guide, S.kickout_guide, S.cblock_guide, S.trade_cblock_base, S.cash_market_map)

    def compute(self, ctx: RunContext) -> StepOutput:
        with ctx.engine.connect() as conn:
            trade_rows = rows_of(conn, S.trade_base, ctx.run_id, ("trade_id",))
            grid_rows = rows_of(conn, S.bx_cash_grid, ctx.run_id, ("trade_id", "note_rate"))
            trade_rows.sort(key=lambda r: r["trade_id"])
            trade_ids = [r["trade_id"] for r in trade_rows]
            scope, cands = _scope_and_candidates(conn, ctx.run_id, trade_ids)
        loan_ids = scope.loan_ids
        ctx.check_cancelled()
        view = AllocationView(trade_rows, scope, cands, grid_rows)
        problem, used_loans = self._problem(ctx, view)
        result = allocate(problem, method=ctx.options.allocator.value, time_limit_s=ctx.options.solver_time_limit_s,
                          cancel_check=ctx.check_cancelled)
        loan_trade = np.full(len(loan_ids), -1, dtype=np.int64)
        loan_trade[used_loans] = np.asarray(result.loan_trade, dtype=np.int64)
        rows, fills, metrics = build_rows(view, loan_trade, ctx.options)
        metrics.update(_allocator_metrics(result.metrics))
        metrics["engine_version"] = pipeline.ENGINE_VERSION
        output = StepOutput(rows=rows, metrics=metrics)
        output.trade_fills = fills  # type: ignore[attr-defined]  # written by `write` as an UPDATE
        return output

    def _problem(self, ctx: RunContext, view: AllocationView) -> tuple[AllocationProblem, np.ndarray]:
        """Only loans with a candidate enter the problem; the allocator sees indices into them."""
        c = view.cands
        used = np.unique(c.loan)
        remap = np.full(len(view.loan_ids), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        problem = AllocationProblem(
            loan_ids=[view.loan_ids[i] for i in used],
            loan_amount_cents=view.amount_c[used],
            trade_ids=view.trade_ids,
            trade_capacity_cents=view.capacity_c,
            trade_min_need_cents=view.min_need_c,
            pair_loan=remap[c.loan].astype(np.int32),
            pair_trade=c.trade.astype(np.int32),
            pair_level=c.level.astype(np.int32),
            pair_objective_cents=c.objective_c,
            shortfall_penalty=float(ctx.options.shortfall_penalty),
        )
        return problem, used

    def write(self, conn: Connection, ctx: RunContext, output: StepOutput) -> None:
        super().write(conn, ctx, output)
        fills = output.trade_fills  # type: ignore[attr-defined]
        if fills:
            tb = S.trade_base
            stmt = (update(tb).where(tb.c.run_id == bindparam("r_id"), tb.c.trade_id == bindparam("t_id"))
                    .values({c: bindparam(f"v_{c}") for c in FILL_COLUMNS}))
            conn.execute(stmt, [{"r_id": ctx.run_id, "t_id": f["trade_id"], **{f"v_{c}": f[c] for c in FILL_COLUMNS}}
                                for f in fills])
        guide, kicked = output.rows[S.powerfill_guide].columns, output.rows[S.kickout_guide].columns
        handoff.keep(ctx.run_id, "placements", (dict(zip(guide["loan_id"], guide["trade_id"])),
                                                dict(zip(kicked["loan_id"], kicked["reason"]))))


def _scope_and_candidates(conn: Connection, run_id: str, trade_ids: list[str]) -> tuple[LoanScope, CandidateArrays]:
    """Step 3's loan scope and candidates: handed over in-process, else (a resumed run) read back."""
    handed, scope = handoff.take(run_id, "candidates"), handoff.peek(run_id, "scope")
    if handed is None or scope is None:
        scope = read_scope(conn, run_id)
        cands = read_candidates(conn, run_id, {x: i for i, x in enumerate(scope.loan_ids)},
                                {x: i for i, x in enumerate(trade_ids)})
        return scope, cands
    cands, pair_trade_ids = handed
    position = {x: i for i, x in enumerate(trade_ids)}
    remap = np.array([position[x] for x in pair_trade_ids], dtype=np.int64)
    return scope, replace(cands, trade=remap[cands.trade] if len(remap) else cands.trade)


def _allocator_metrics(m: dict) -> dict:
    keep = ("objective", "bound", "gap", "value_gap_bps", "shortfall_gap_amount", "greedy_objective",
            "allocator", "solver_stopped", "fallback_greedy", "highspy_version", "levels", "timings")
    out = {k: m.get(k) for k in keep if k in m}
    out["allocation_levels"] = out.pop("levels", [])
    out["allocation_timings"] = out.pop("timings", {})
    return out



