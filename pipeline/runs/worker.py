"""The queue worker, top to bottom (DESIGN.md §4, Worker; STYLE.md §1):

parse the message → load the run in that tenant → drop if unknown, forged or terminal → finalize
Cancelled if cancel was requested → claim the lease → run each unfinished step with a heartbeat
and a fenced checkpoint → finalize (or hand over to a continuation when the time budget nears).

`execute_run` is also what `powerfill run --sync` calls, so the CLI and the queue share one path.
Every early exit logs one sentence: why, and what happens next.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from enum import Enum

from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from pipeline import telemetry
from pipeline.db.engine import READ_ONLY
from pipeline.db.errors import classify
from pipeline.engine.options import RunOptions
from pipeline.engine.runner import LeaseLost, RunCancelled, RunContext, Step, StepOutput, run_pending_steps
from pipeline.runs.config import LifecycleConfig, get_config
from pipeline.runs.failures import describe, is_transient
from pipeline.runs.finalize import Fence, finalize_run
from pipeline.runs.lease import Lease, claim_lease
from pipeline.runs.queue import BadMessage, QueueUnavailable, parse_message
from pipeline.runs.store import TERMINAL, load_run, tenant_engine
from pipeline.runs.submit import send_wakeup
from pipeline.statuses import RunStatus

log = logging.getLogger("pipeline.runs.worker")


class Outcome(str, Enum):
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CONTINUED = "continued"  # budget reached: a continuation message carries on
    DROPPED = "dropped"      # nothing to do for this message (bad, forged, duplicate, held)


def new_owner(kind: str = "worker") -> str:
    return f"{kind}:{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def handle_message(body: bytes | str, *, dequeue_count: int = 1, config: LifecycleConfig | None = None) -> Outcome:
    """One delivery of a run message. Raises only transient errors (the queue redelivers)."""
    config = config or get_config()
    try:
        message = parse_message(body)
    except BadMessage as err:
        log.warning("dropping a malformed run message (it would fail the same way every time): %s", err)
        return Outcome.DROPPED
    with telemetry.log_context(run_id=message.run_id, tenant_id=message.tenant_id):
        engine = tenant_engine(message.tenant_id)
        if engine is None:
            log.warning("dropping a message for unknown tenant %r; nothing was changed", message.tenant_id)
            return Outcome.DROPPED
        if message.sent_at_utc is not None:
            telemetry.record("powerfill_queue_wait_s", (config.clock() - message.sent_at_utc.replace(tzinfo=None)).total_seconds())
        with telemetry.span_from_traceparent("powerfill.run", message.traceparent, run_id=message.run_id,
                                             tenant_id=message.tenant_id, dequeue_count=dequeue_count):
            return execute_run(engine, message.tenant_id, message.run_id, config=config)


def execute_run(engine: Engine, tenant_id: str, run_id: str, *, config: LifecycleConfig,
                owner: str | None = None, use_budget: bool = True) -> Outcome:
    """Claim the run and execute its unfinished steps to a terminal status (or a continuation)."""
    owner = owner or new_owner()
    try:
        with engine.connect().execution_options(**READ_ONLY) as conn:
            run = load_run(conn, tenant_id, run_id)
    except sa_exc.SQLAlchemyError as err:
        raise classify(err) from err
    if run is None:
        log.warning("dropping the message: run %s does not exist in tenant %s (forged or stale); nothing was changed", run_id, tenant_id)
        return Outcome.DROPPED
    if run.status in TERMINAL:
        log.info("dropping the message: run %s is already %s (duplicate delivery)", run_id, run.status)
        return Outcome.DROPPED
    if run.cancel_requested_at_utc is not None:
        done = finalize_run(engine, tenant_id, run_id, RunStatus.CANCELLED, now=config.clock(),
                            failure_message="cancelled by request", fence=Fence.unleased(config.clock()))
        if done is None:
            log.info("cancel requested for run %s but a live worker holds it; that worker will stop it", run_id)
        return Outcome.CANCELLED if done else Outcome.DROPPED

    try:
        options = RunOptions.model_validate_json(run.options_json)
    except ValidationError as err:  # stored by an older version and no longer valid: retrying cannot help
        log.error("run %s has options this version cannot read; the run fails", run_id)
        finalize_run(engine, tenant_id, run_id, RunStatus.FAILED, now=config.clock(), failure_step="options",
                     failure_message=describe(err), fence=Fence.unleased(config.clock()))
        return Outcome.FAILED

    lease = claim_lease(engine, tenant_id, run_id, owner, config)
    if lease is None:
        log.info("dropping the message: run %s is held by a live worker or no longer active", run_id)
        return Outcome.DROPPED
    with telemetry.log_context(attempt=lease.attempt):
        telemetry.event(telemetry.RUN_CLAIMED, "run %s claimed by %s (attempt %d)", run_id, owner, lease.attempt,
                        owner=owner)
        return _run_steps(engine, tenant_id, run_id, options, lease, config, use_budget)


def _run_steps(engine: Engine, tenant_id: str, run_id: str, options: RunOptions, lease: Lease,
               config: LifecycleConfig, use_budget: bool) -> Outcome:
    ctx = RunContext(engine=engine, tenant_id=tenant_id, run_id=run_id, options=options, guard=lease)
    began = time.monotonic()
    done_here: list[str] = []

    def step_finished(step: Step, output: StepOutput, duration_s: float) -> None:
        done_here.append(step.name)
        _step_finished(step, output, duration_s)

    def should_yield() -> bool:
        # At least one step per invocation, so a budget shorter than a step still makes progress.
        return bool(done_here) and time.monotonic() - began > config.yield_after_s

    owned = Fence.lease_owner(lease.owner)
    with lease:
        try:
            finished = run_pending_steps(ctx, tuple(_Observed(s) for s in config.steps()),
                                         on_step_finished=step_finished, should_yield=should_yield if use_budget else None)
        except RunCancelled:
            finalize_run(engine, tenant_id, run_id, RunStatus.CANCELLED, now=config.clock(), fence=owned,
                         failure_step=ctx.current_step, failure_message="cancelled by request")
            return Outcome.CANCELLED
        except LeaseLost as err:
            log.warning("stopping without writing: %s; the new owner carries the run on", err)
            return Outcome.DROPPED
        except Exception as err:
            if is_transient(err):
                _release_for_redelivery(lease)
                log.warning("transient error in step %s of run %s; the lease is released and the queue will "
                            "redeliver, resuming after the last checkpoint: %s", ctx.current_step, run_id, describe(err))
                if isinstance(err, sa_exc.SQLAlchemyError):
                    raise classify(err) from err  # one error tree past this point
                raise
            log.error("permanent error in step %s of run %s; the run fails", ctx.current_step, run_id, exc_info=True)
            finalize_run(engine, tenant_id, run_id, RunStatus.FAILED, now=config.clock(), fence=owned,
                         failure_step=ctx.current_step, failure_message=describe(err))
            return Outcome.FAILED
    if not finished:
        return _continue_later(engine, tenant_id, run_id, lease, config)
    finalize_run(engine, tenant_id, run_id, RunStatus.COMPLETE, now=config.clock(), fence=owned)
    return Outcome.COMPLETED


def _continue_later(engine: Engine, tenant_id: str, run_id: str, lease: Lease, config: LifecycleConfig) -> Outcome:
    """The time budget is near: hand the run to a fresh invocation through a continuation message."""
    lease.release(planned=True)
    try:
        send_wakeup(engine, tenant_id, run_id, config, reason="continuation")
    except QueueUnavailable as err:
        log.warning("run %s reached its time budget and the continuation could not be queued; the timer will "
                    "re-enqueue it: %s", run_id, err)
        return Outcome.CONTINUED
    telemetry.event(telemetry.RUN_REQUEUED, "run %s reached its time budget; continuation queued", run_id,
                    reason="continuation")
    return Outcome.CONTINUED


def _release_for_redelivery(lease: Lease) -> None:
    # Lets the redelivered message claim at once instead of waiting out the lease. If even this
    # fails (the database is down), the lease expires and the redelivery or the timer resumes.
    try:
        lease.release(planned=False)
    except Exception as err:  # noqa: BLE001 - best effort; the original error is what matters
        log.warning("could not release the lease on run %s (it will expire): %s", lease.run_id, describe(err))


def _step_finished(step: Step, output: StepOutput, duration_s: float) -> None:
    status = "Skipped" if output.skipped else "Succeeded"
    with telemetry.log_context(step=step.name):
        telemetry.event(telemetry.STEP_FINISHED, "step %s %s in %.2fs, %d rows", step.name, status.lower(), duration_s,
                        output.rows_written, status=status, duration_s=round(duration_s, 3), rows=output.rows_written)
    telemetry.record("powerfill_step_duration_s", duration_s, step=step.name)


class _Observed(Step):
    """A step whose compute and write log with `step` in their context."""

    def __init__(self, inner: Step):
        self.inner = inner
        self.name = inner.name
        self.run_status = inner.run_status
        self.tables = inner.tables

    def compute(self, ctx: RunContext) -> StepOutput:
        with telemetry.log_context(step=self.name):
            return self.inner.compute(ctx)

    def write(self, conn, ctx: RunContext, output: StepOutput) -> None:  # noqa: ANN001
        with telemetry.log_context(step=self.name):
            self.inner.write(conn, ctx, output)
