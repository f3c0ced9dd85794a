"""Submitting a run: the one path for HTTP, schedules and the CLI (DESIGN.md §4, Submit).

validate and resolve the options → honour the Idempotency-Key → insert the run (Pending) and its
step checkpoints in one transaction, where the BR-8 index turns a second active run into
`ActiveRunConflict` → commit → enqueue the wake-up message. When the message cannot be queued the
run is finalized Failed with `failure_step = enqueue` (so the tenant is not blocked by a run no
worker will ever see) and `EnqueueFailed` tells the caller to answer 503.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from pipeline import telemetry
from pipeline.api.contracts import RunResponse
from pipeline.db.engine import READ_ONLY
from pipeline.db.errors import classify
from pipeline.db.locks import lock_tenant_inputs
from pipeline.db.schema import run_history
from pipeline.engine.options import RunOptions
from pipeline.engine.runner import ensure_step_rows
from pipeline.runs.config import LifecycleConfig, get_config
from pipeline.runs.finalize import ANYONE, finalize_run
from pipeline.runs.queue import QueueUnavailable, RunMessage
from pipeline.runs.store import active_run, build_response, get_run_view, load_run
from pipeline.statuses import RunStatus, Trigger

log = logging.getLogger("pipeline.runs.submit")

ENQUEUE_STEP = "enqueue"  # failure_step of a run whose wake-up message could not be sent
INSERT_ATTEMPTS = 3       # a BR-8 conflict whose active run ended meanwhile is retried


class ActiveRunConflict(Exception):
    """BR-8: the tenant already has an active run."""

    def __init__(self, active_run_id: str, active_status: str):
        super().__init__(f"run {active_run_id} is {active_status}; one active run per tenant (BR-8)")
        self.active_run_id = active_run_id
        self.active_status = active_status


class EnqueueFailed(Exception):
    """The run was inserted but its message could not be queued; it is now Failed."""

    def __init__(self, run: RunResponse | None, cause: Exception):
        super().__init__(f"the run could not be queued: {cause}")
        self.run = run
        self.cause = cause


@dataclass(frozen=True)
class Submitted:
    run: RunResponse
    created: bool  # False: the Idempotency-Key named an earlier run, returned as it is now


def tenant_timezone(tenant_id: str, config: LifecycleConfig) -> str:
    from pipeline.tenants import UnknownTenant, get_registry

    try:
        return get_registry().get(tenant_id).business_timezone or config.business_timezone
    except UnknownTenant:
        return config.business_timezone


def submit_run(
    engine: Engine,
    tenant_id: str,
    raw_options: Mapping[str, Any] | None,
    *,
    trigger: Trigger,
    requested_by: str | None = None,
    idempotency_key: str | None = None,
    schedule_name: str | None = None,
    enqueue: bool = True,
    config: LifecycleConfig | None = None,
) -> Submitted:
    """Create a Pending run (and queue it). Raises pydantic ValidationError for bad options,
    ActiveRunConflict (BR-8), EnqueueFailed, or a DatabaseError."""
    config = config or get_config()
    now = config.clock()
    options = RunOptions.model_validate(dict(raw_options or {}))
    resolved = options.resolved(tenant_timezone(tenant_id, config), now.replace(tzinfo=timezone.utc))

    if idempotency_key:
        earlier = _by_idempotency_key(engine, tenant_id, idempotency_key)
        if earlier is not None:
            return Submitted(earlier, created=False)

    run_id = str(uuid.uuid4())
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        try:
            response = _insert(engine, tenant_id, run_id, resolved, trigger, requested_by, idempotency_key,
                               schedule_name, now, config, enqueue)
            break
        except sa_exc.IntegrityError as err:
            if idempotency_key:
                earlier = _by_idempotency_key(engine, tenant_id, idempotency_key)
                if earlier is not None:
                    return Submitted(earlier, created=False)
            with engine.connect().execution_options(**READ_ONLY) as conn:
                active = active_run(conn, tenant_id)
            if active is not None:
                raise ActiveRunConflict(active.run_id, active.status) from None
            if attempt == INSERT_ATTEMPTS:
                raise classify(err) from err
        except sa_exc.SQLAlchemyError as err:
            raise classify(err) from err

    with telemetry.log_context(run_id=run_id, tenant_id=tenant_id, trigger=trigger.value):
        telemetry.event(telemetry.RUN_SUBMITTED, "run %s submitted (%s)", run_id, trigger.value,
                        trigger=trigger.value, schedule_name=schedule_name)
        if enqueue:
            try:
                send_wakeup(engine, tenant_id, run_id, config, reason="submit")
            except QueueUnavailable as err:
                log.error("run %s could not be queued; marking it Failed so the tenant can submit again: %s", run_id, err)
                failed = finalize_run(engine, tenant_id, run_id, RunStatus.FAILED, now=config.clock(),
                                      failure_step=ENQUEUE_STEP, failure_message=f"could not queue the run: {err}",
                                      fence=ANYONE)
                raise EnqueueFailed(failed, err) from err
    return Submitted(response, created=True)


def send_wakeup(engine: Engine, tenant_id: str, run_id: str, config: LifecycleConfig, *, reason: str) -> None:
    """Send the run's message (after the caller committed), then record when it was sent."""
    sent_at = config.clock()
    message = RunMessage(run_id=run_id, tenant_id=tenant_id, traceparent=telemetry.current_traceparent(),
                         sent_at_utc=sent_at, reason=reason)
    config.queue().send(message)
    try:
        with engine.begin() as conn:
            conn.execute(update(run_history).where(run_history.c.run_id == run_id).values(enqueued_at_utc=sent_at))
    except sa_exc.SQLAlchemyError as err:
        # The message is out, so the run is accepted; without the stamp the timer sends one more
        # wake-up after its grace period, which the lease makes harmless.
        log.warning("run %s was queued but its enqueued_at could not be recorded: %s", run_id, classify(err))


def _insert(engine, tenant_id, run_id, options: RunOptions, trigger, requested_by, idempotency_key,
            schedule_name, now, config: LifecycleConfig, enqueue: bool) -> RunResponse:
    with engine.begin() as conn:
        lock_tenant_inputs(conn, tenant_id)  # no upload commits between this insert and the run's reads
        conn.execute(insert(run_history).values(
            run_id=run_id, tenant_id=tenant_id, status=RunStatus.PENDING.value, trigger=trigger.value,
            requested_by=requested_by, options_json=options.model_dump_json(),
            input_loan_ids_json=None if options.loan_ids is None else json.dumps(options.loan_ids),
            started_at_utc=now, attempt_count=0, idempotency_key=idempotency_key or None,
            schedule_name=schedule_name,
            # A run executed in-process (CLI) is dispatched now; the timer must not queue it as lost.
            enqueued_at_utc=None if enqueue else now,
        ))
        ensure_step_rows(conn, tenant_id, run_id, config.steps())
        return build_response(conn, load_run(conn, tenant_id, run_id))


def _by_idempotency_key(engine: Engine, tenant_id: str, key: str) -> RunResponse | None:
    with engine.connect().execution_options(**READ_ONLY) as conn:
        run_id = conn.execute(
            select(run_history.c.run_id)
            .where(run_history.c.tenant_id == tenant_id, run_history.c.idempotency_key == key)
        ).scalar()
    return get_run_view(engine, tenant_id, run_id) if run_id else None
