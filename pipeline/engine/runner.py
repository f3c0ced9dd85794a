"""The step runner: executes a run's unfinished steps in order, one durable checkpoint per step.

This is the only implementation: the queue worker and `powerfill run --sync` both call
`run_pending_steps`. A step computes its outputs from the run's inputs (steps 1-3) or from earlier
steps' outputs (4-6) outside any transaction, then one transaction
  (1) lets the guard verify the run is still ours (lease fencing: a worker that lost its lease
      cannot write),
  (2) deletes the step's own rows for the run and writes the new ones,
  (3) marks the checkpoint Succeeded (or Skipped) with rows written and metrics.
A runner restarted after any committed step therefore continues with the next one, and a step
interrupted before its commit is repeated exactly once in effect.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from pipeline.db.bulk import ColumnRows, insert_columns, insert_dicts
from pipeline.db.schema import run_history, run_step
from pipeline.engine.options import RunOptions
from pipeline.statuses import ACTIVE_STATUSES, DONE_STEP_STATUSES, RunStatus, StepStatus


def utcnow() -> datetime:
    """Naive UTC, the form every *_utc column stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class RunCancelled(Exception):
    """Raised inside a step when the run's cancel flag is seen; the caller finalizes Cancelled."""


class LeaseLost(Exception):
    """The run's lease belongs to someone else now: this worker must stop without writing."""


class RunGuard(Protocol):
    """What the runner needs from whoever drives it (the queue worker, or the CLI)."""

    def verify(self, conn: Connection) -> None:
        """Inside the checkpoint transaction: raise LeaseLost if the run is no longer ours."""

    def cancel_requested(self) -> bool:
        """Cheap check (no I/O expected) whether cancellation was requested."""


class NoGuard:
    """For callers that own the run outright (tests of the engine alone)."""

    def verify(self, conn: Connection) -> None:
        return None

    def cancel_requested(self) -> bool:
        return False


@dataclass
class RunContext:
    engine: Engine
    tenant_id: str
    run_id: str
    options: RunOptions  # resolved: as_of_date is set
    guard: RunGuard = field(default_factory=NoGuard)
    current_step: str | None = None  # the step being executed (names failure_step on errors)

    def check_cancelled(self) -> None:
        """Steps call this between units of work so a cancel lands within seconds, also mid-step."""
        if self.guard.cancel_requested():
            raise RunCancelled(self.run_id)


@dataclass
class StepOutput:
    # own tables -> rows for this run: dicts, or columns (large tables; no object per row)
    rows: dict[Table, list[dict[str, Any]] | ColumnRows] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)                  # merged into the RunSummary
    skipped: bool = False
    handoff: Any = None  # what the step hands the next one in-process (pipeline.engine.steps.handoff)

    @property
    def rows_written(self) -> int:
        return sum(len(r) for r in self.rows.values())


class Step:
    """One of the six steps. Subclasses set `name`, `run_status`, `tables` and implement `compute`.

    `write` replaces the step's own rows for the run through the bulk insert (`pipeline.db.bulk`);
    a step that owns columns of an earlier step's table (allocation's fill columns in
    pfill_trade_base) extends it.
    """

    name: str
    run_status: RunStatus
    tables: tuple[Table, ...] = ()

    def compute(self, ctx: RunContext) -> StepOutput:
        raise NotImplementedError

    def write(self, conn: Connection, ctx: RunContext, output: StepOutput) -> None:
        for table in self.tables:
            conn.execute(delete(table).where(table.c.run_id == ctx.run_id))
        for table, rows in output.rows.items():
            if table not in self.tables:
                raise RuntimeError(f"step {self.name} wrote {table.name}, which it does not own")
            if isinstance(rows, ColumnRows):
                insert_columns(conn, table, rows.n, rows.columns, {"run_id": ctx.run_id, "tenant_id": ctx.tenant_id})
            else:
                insert_dicts(conn, table, rows, run_id=ctx.run_id, tenant_id=ctx.tenant_id)


def default_steps() -> tuple[Step, ...]:
    from pipeline.engine.steps import STEPS

    return STEPS


def ensure_step_rows(conn: Connection, tenant_id: str, run_id: str, steps: Iterable[Step]) -> None:
    """One Pending checkpoint row per step (submit does this; the runner repairs a missing one)."""
    existing = set(conn.execute(select(run_step.c.step_name).where(run_step.c.run_id == run_id)).scalars())
    rows = [
        {"run_id": run_id, "tenant_id": tenant_id, "step_name": s.name, "step_order": i,
         "status": StepStatus.PENDING.value, "attempt": 0}
        for i, s in enumerate(steps, 1) if s.name not in existing
    ]
    if rows:
        conn.execute(insert(run_step), rows)


def step_statuses(conn: Connection, run_id: str) -> dict[str, str]:
    return dict(conn.execute(select(run_step.c.step_name, run_step.c.status).where(run_step.c.run_id == run_id)).all())


def run_pending_steps(
    ctx: RunContext,
    steps: tuple[Step, ...] | None = None,
    *,
    on_step_finished: Callable[[Step, StepOutput, float], None] | None = None,
    should_yield: Callable[[], bool] | None = None,
) -> bool:
    """Execute every step not yet Succeeded/Skipped. Returns True when all are done, False when
    `should_yield` asked to stop between steps (the worker's time budget: it re-enqueues)."""
    steps = steps or default_steps()
    with ctx.engine.begin() as conn:
        ensure_step_rows(conn, ctx.tenant_id, ctx.run_id, steps)
        done = {n for n, s in step_statuses(conn, ctx.run_id).items() if s in {d.value for d in DONE_STEP_STATUSES}}
    for step in steps:
        if step.name in done:
            continue
        if should_yield is not None and should_yield():
            return False
        ctx.check_cancelled()
        ctx.current_step = step.name
        _mark_running(ctx, step)
        started = time.monotonic()
        output = step.compute(ctx)
        ctx.check_cancelled()
        with ctx.engine.begin() as conn:
            ctx.guard.verify(conn)
            step.write(conn, ctx, output)
            _checkpoint(conn, ctx, step, output)
        if on_step_finished is not None:
            on_step_finished(step, output, time.monotonic() - started)
    ctx.current_step = None
    return True


def _mark_running(ctx: RunContext, step: Step) -> None:
    with ctx.engine.begin() as conn:
        ctx.guard.verify(conn)
        conn.execute(
            update(run_history)
            .where(run_history.c.run_id == ctx.run_id, run_history.c.status.in_([s.value for s in ACTIVE_STATUSES]))
            .values(status=step.run_status.value, current_step=step.name)
        )
        conn.execute(
            update(run_step)
            .where(run_step.c.run_id == ctx.run_id, run_step.c.step_name == step.name)
            .values(status=StepStatus.RUNNING.value, attempt=run_step.c.attempt + 1, started_at_utc=utcnow(),
                    ended_at_utc=None, error=None)
        )


def _checkpoint(conn: Connection, ctx: RunContext, step: Step, output: StepOutput) -> None:
    status = StepStatus.SKIPPED if output.skipped else StepStatus.SUCCEEDED
    conn.execute(
        update(run_step)
        .where(run_step.c.run_id == ctx.run_id, run_step.c.step_name == step.name)
        .values(status=status.value, ended_at_utc=utcnow(), rows_written=output.rows_written,
                metrics_json=json.dumps(output.metrics, sort_keys=True, default=str))
    )


def run_summary(conn: Connection, run_id: str) -> dict[str, Any]:
    """The RunSummary: every step's metrics merged in step order (later steps may refine a key)."""
    summary: dict[str, Any] = {}
    rows = conn.execute(
        select(run_step.c.metrics_json).where(run_step.c.run_id == run_id).order_by(run_step.c.step_order)
    ).scalars()
    for metrics_json in rows:
        if metrics_json:
            summary.update(json.loads(metrics_json))
    return summary
