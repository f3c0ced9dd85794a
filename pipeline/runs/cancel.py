"""Cancelling a run (DESIGN.md §4, Cancel).

Set `cancel_requested_at_utc` (conditional: only on an active run), then try to finish the run at
once with `finalize_run(..., fence=unleased)`: that wins for a Pending run nobody has claimed and
for an active run whose worker is gone. Otherwise a live worker holds the lease; its heartbeat
reads the flag and the running step stops at its next check, within seconds (202).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.engine import Engine

from pipeline.api.contracts import CancelResponse
from pipeline.db.engine import READ_ONLY
from pipeline.db.schema import run_history
from pipeline.runs.config import LifecycleConfig, get_config
from pipeline.runs.finalize import Fence, finalize_run
from pipeline.runs.store import ACTIVE, TERMINAL, links, load_run
from pipeline.statuses import RunStatus

CANCELLED_MESSAGE = "cancelled by request"


class RunNotFound(Exception):
    pass


class RunAlreadyTerminal(Exception):
    def __init__(self, run_id: str, status: str):
        super().__init__(f"run {run_id} is already {status}")
        self.status = status


@dataclass(frozen=True)
class CancelResult:
    response: CancelResponse
    finished_now: bool  # True: Cancelled already; False: the worker will stop it (202)


def cancel_run(engine: Engine, tenant_id: str, run_id: str, config: LifecycleConfig | None = None) -> CancelResult:
    config = config or get_config()
    now = config.clock()
    h = run_history.c
    with engine.begin() as conn:
        conn.execute(
            update(run_history)
            .where(h.run_id == run_id, h.tenant_id == tenant_id, h.status.in_(ACTIVE), h.cancel_requested_at_utc.is_(None))
            .values(cancel_requested_at_utc=now)
        )
        run = load_run(conn, tenant_id, run_id)
    if run is None:
        raise RunNotFound(run_id)
    if run.status in TERMINAL:
        raise RunAlreadyTerminal(run_id, run.status)
    done = finalize_run(engine, tenant_id, run_id, RunStatus.CANCELLED, now=now, failure_message=CANCELLED_MESSAGE,
                        fence=Fence.unleased(now))
    if done is not None:
        return CancelResult(CancelResponse(run_id=run_id, status=RunStatus.CANCELLED, cancel_requested=True,
                                           message="the run was cancelled", links=links(run_id)), True)
    with engine.connect().execution_options(**READ_ONLY) as conn:
        run = load_run(conn, tenant_id, run_id)
    if run.status in TERMINAL:  # the worker finished (or stopped) it meanwhile
        if run.status != RunStatus.CANCELLED.value:
            raise RunAlreadyTerminal(run_id, run.status)
        return CancelResult(CancelResponse(run_id=run_id, status=RunStatus.CANCELLED, cancel_requested=True,
                                           message="the run was cancelled", links=links(run_id)), True)
    return CancelResult(CancelResponse(run_id=run_id, status=RunStatus(run.status), cancel_requested=True,
                                       message="cancel requested; the worker stops the run at its next check",
                                       links=links(run_id)), False)
