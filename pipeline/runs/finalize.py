"""`finalize_run`: the one way a run becomes terminal, used by the worker, timer, poison handler,
cancel and submit (enqueue failure).

One transaction: a conditional UPDATE to the terminal status (only from an active status, and
only under the given fence) — zero rows means another actor already decided and nothing else
happens; the running step marked Failed/Cancelled; BR-9 (Failed/Cancelled: the run's rows in the
user-facing output tables deleted; synthetic tables, log and cash market map kept); the output
counts; and the RunResponse, built from the rows as they now are, stored in `response_json`, so
the stored response always agrees with the terminal status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Engine

from pipeline.api.contracts import RunResponse
from pipeline.db.errors import with_retry
from pipeline.db.schema import USER_FACING_OUTPUTS, kickout_guide, powerfill_guide, run_history, run_step
from pipeline.runs.store import ACTIVE, build_response, load_run
from pipeline.statuses import RunStatus, StepStatus
from pipeline import telemetry

log = logging.getLogger("pipeline.runs.finalize")

# The step status a still-Running step gets with each terminal run status.
_RUNNING_STEP_BECOMES = {RunStatus.FAILED: StepStatus.FAILED, RunStatus.CANCELLED: StepStatus.CANCELLED}


@dataclass(frozen=True)
class Fence:
    """Who may finalize: the lease owner, anyone while no live lease exists, or anyone at all."""

    owner: str | None = None
    unleased_at: datetime | None = None

    @classmethod
    def lease_owner(cls, owner: str) -> "Fence":
        return cls(owner=owner)

    @classmethod
    def unleased(cls, now: datetime) -> "Fence":
        return cls(unleased_at=now)

    def condition(self):  # noqa: ANN201 - SQL expression
        h = run_history.c
        if self.owner is not None:
            return h.lease_owner == self.owner
        if self.unleased_at is not None:
            return or_(h.lease_owner.is_(None), h.lease_expires_at_utc < self.unleased_at)
        return None


ANYONE = Fence()


def finalize_run(
    engine: Engine,
    tenant_id: str,
    run_id: str,
    status: RunStatus,
    *,
    now: datetime,
    failure_step: str | None = None,
    failure_message: str | None = None,
    fence: Fence = ANYONE,
) -> RunResponse | None:
    """Make the run terminal; the stored RunResponse, or None when another actor won."""
    if status not in _RUNNING_STEP_BECOMES and status is not RunStatus.COMPLETE:
        raise ValueError(f"{status} is not a terminal status")

    def work() -> RunResponse | None:
        with engine.begin() as conn:
            h = run_history.c
            cond = [h.run_id == run_id, h.tenant_id == tenant_id, h.status.in_(ACTIVE)]
            if fence.condition() is not None:
                cond.append(fence.condition())
            won = conn.execute(
                update(run_history).where(*cond).values(
                    status=status.value, ended_at_utc=now, lease_owner=None, lease_expires_at_utc=None,
                    failure_step=failure_step, failure_message=failure_message,
                )
            ).rowcount
            if won != 1:
                return None
            step_status = _RUNNING_STEP_BECOMES.get(status)
            if step_status is not None:
                conn.execute(
                    update(run_step)
                    .where(run_step.c.run_id == run_id, run_step.c.status == StepStatus.RUNNING.value)
                    .values(status=step_status.value, ended_at_utc=now, error=failure_message)
                )
                for table in USER_FACING_OUTPUTS:  # BR-9
                    conn.execute(delete(table).where(table.c.run_id == run_id))
            guides = conn.execute(select(func.count()).select_from(powerfill_guide).where(powerfill_guide.c.run_id == run_id)).scalar_one()
            kickouts = conn.execute(select(func.count()).select_from(kickout_guide).where(kickout_guide.c.run_id == run_id)).scalar_one()
            conn.execute(update(run_history).where(h.run_id == run_id)
                         .values(output_guide_count=guides, output_kickout_count=kickouts))
            response = build_response(conn, load_run(conn, tenant_id, run_id))
            conn.execute(update(run_history).where(h.run_id == run_id).values(response_json=response.model_dump_json()))
            return response

    response = with_retry(work)
    if response is None:
        log.info("run %s was already finalized by another actor; leaving it as it is", run_id)
        return None
    duration = (response.ended_at - response.started_at).total_seconds() if response.ended_at else None
    summary = response.summary
    telemetry.event(
        telemetry.RUN_FINALIZED, "run %s finalized %s%s", run_id, status.value,
        f" at step {failure_step}: {failure_message}" if failure_step or failure_message else "",
        level=logging.INFO if status is RunStatus.COMPLETE else logging.WARNING,
        status=status.value, duration_s=duration, failure_step=failure_step,
        gap=_float(summary.gap), value_gap_bps=_float(summary.value_gap_bps),
    )
    telemetry.record("powerfill_run_duration_s", duration, status=status.value)
    if status is RunStatus.COMPLETE:
        telemetry.record("powerfill_allocation_gap", _float(summary.gap))
        telemetry.record("powerfill_value_gap_bps", _float(summary.value_gap_bps))
    return response


def _float(value: object) -> float | None:
    try:
        return float(value) if value is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
