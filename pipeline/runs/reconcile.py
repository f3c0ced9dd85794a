"""The timer's sweep: put right whatever the queue lost or a dead worker left (DESIGN.md §4, Timer).

Per database of the tenant registry, like rq's `StartedJobRegistry.cleanup`, one category at a
time — select what is past its deadline, decide with a conditional write, commit, and only then
send messages:

1. cancel requests nobody serves (active, cancel requested, no live lease) → Cancelled;
2. unserved runs (active, no live lease):
   - the lease expired (its worker died): re-enqueue while `attempt_count < max_attempts`, else
     Failed "abandoned after N attempts";
   - no lease and never enqueued (submitted more than `enqueue_grace_seconds` ago), or enqueued
     more than `pending_requeue_seconds` ago without a pickup: re-enqueue (or Failed as above when
     the attempts are used up);
3. due schedules → runs (pipeline.runs.schedules);
4. retention: output rows of runs that ended more than `retention_days` ago are deleted; run rows
   stay. `outputs_expired()` tells the report routes to answer 410 for such runs.

Every write is conditional, so two timers (or a timer and a worker) never both act: the sweep is
safe to run twice. One database failing does not stop the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine

from pipeline import telemetry
from pipeline.db.engine import READ_ONLY, get_engine
from pipeline.db.schema import OUTPUT_TABLES, run_history
from pipeline.runs.config import LifecycleConfig, get_config
from pipeline.runs.failures import describe
from pipeline.runs.finalize import Fence, finalize_run
from pipeline.runs.queue import QueueUnavailable
from pipeline.runs.schedules import fire_due
from pipeline.runs.store import ACTIVE
from pipeline.runs.submit import send_wakeup
from pipeline.statuses import RunStatus

log = logging.getLogger("pipeline.runs.reconcile")


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    schedules_started: int = 0
    purged_rows: int = 0
    errors: list[str] = field(default_factory=list)


def outputs_expired(ended_at_utc: datetime | None, now: datetime, retention_days: int) -> bool:
    """True when retention has removed (or is due to remove) the run's outputs: answer 410."""
    return ended_at_utc is not None and ended_at_utc < now - timedelta(days=retention_days)


def sweep(config: LifecycleConfig | None = None, now: datetime | None = None) -> SweepReport:
    """One timer tick over every tenant database."""
    from pipeline.tenants import get_registry

    config = config or get_config()
    now = now or config.clock()
    report = SweepReport()
    for url, tenants in get_registry().database_urls().items():
        try:
            sweep_database(get_engine(url), tenants, now, config, report)
        except Exception as err:  # noqa: BLE001 - one database down must not stop the others
            log.error("sweep of the database of tenants %s failed; the next tick retries: %s", ", ".join(tenants), describe(err),
                      exc_info=True)
            report.errors.append(describe(err))
    return report


def sweep_database(engine: Engine, tenants: list[str], now: datetime, config: LifecycleConfig, report: SweepReport) -> None:
    _finish_orphaned_cancels(engine, tenants, now, report)
    _recover_unserved(engine, tenants, now, config, report)
    report.schedules_started += fire_due(engine, tenants, now, config)
    report.purged_rows += apply_retention(engine, tenants, now, config.retention_days)


def _finish_orphaned_cancels(engine: Engine, tenants: list[str], now: datetime, report: SweepReport) -> None:
    h = run_history.c
    with engine.connect().execution_options(**READ_ONLY) as conn:
        rows = conn.execute(
            select(h.run_id, h.tenant_id).where(
                h.tenant_id.in_(tenants), h.status.in_(ACTIVE), h.cancel_requested_at_utc.is_not(None),
                h.lease_owner.is_(None) | (h.lease_expires_at_utc < now))
        ).all()
    for row in rows:
        with telemetry.log_context(run_id=row.run_id, tenant_id=row.tenant_id):
            if finalize_run(engine, row.tenant_id, row.run_id, RunStatus.CANCELLED, now=now,
                            failure_message="cancelled by request", fence=Fence.unleased(now)):
                report.cancelled.append(row.run_id)


def _recover_unserved(engine: Engine, tenants: list[str], now: datetime, config: LifecycleConfig, report: SweepReport) -> None:
    h = run_history.c
    stale_before = now - timedelta(seconds=config.pending_requeue_seconds)
    with engine.connect().execution_options(**READ_ONLY) as conn:
        rows = conn.execute(
            select(h.run_id, h.tenant_id, h.lease_owner, h.lease_expires_at_utc, h.attempt_count, h.enqueued_at_utc,
                   h.started_at_utc, h.current_step)
            .where(h.tenant_id.in_(tenants), h.status.in_(ACTIVE), h.cancel_requested_at_utc.is_(None),
                   h.lease_owner.is_(None) | (h.lease_expires_at_utc < now))
        ).all()
    to_send: list[tuple[str, str]] = []
    grace_before = now - timedelta(seconds=config.enqueue_grace_seconds)
    for row in rows:
        died = row.lease_owner is not None
        if not died and row.enqueued_at_utc is not None and row.enqueued_at_utc >= stale_before:
            continue  # queued recently; give the queue its chance
        if not died and row.enqueued_at_utc is None and row.started_at_utc >= grace_before:
            continue  # just submitted: its submit may be between commit and send
        with telemetry.log_context(run_id=row.run_id, tenant_id=row.tenant_id, attempt=row.attempt_count):
            if row.attempt_count >= config.max_attempts:
                message = f"abandoned after {row.attempt_count} attempts"
                if finalize_run(engine, row.tenant_id, row.run_id, RunStatus.FAILED, now=now, failure_step=row.current_step,
                                failure_message=message, fence=Fence.unleased(now)):
                    telemetry.event(telemetry.RUN_ABANDONED, "run %s %s", row.run_id, message, level=logging.WARNING,
                                    attempts=row.attempt_count, failure_step=row.current_step)
                    report.abandoned.append(row.run_id)
                continue
            if _claim_requeue(engine, row, now):
                to_send.append((row.tenant_id, row.run_id))
    # Commit first, enqueue after: a message never points at a decision that was rolled back.
    for tenant_id, run_id in to_send:
        with telemetry.log_context(run_id=run_id, tenant_id=tenant_id):
            try:
                send_wakeup(engine, tenant_id, run_id, config, reason="requeue")
            except QueueUnavailable as err:
                log.warning("could not re-enqueue run %s; the next tick tries again: %s", run_id, err)
                continue
            telemetry.event(telemetry.RUN_REQUEUED, "run %s re-enqueued by the timer", run_id, reason="requeue")
            report.requeued.append(run_id)


def _claim_requeue(engine: Engine, row, now: datetime) -> bool:  # noqa: ANN001 - a Row
    """Take the expired lease away / stamp the re-enqueue, only if nothing changed since we looked."""
    h = run_history.c
    cond = [h.run_id == row.run_id, h.status.in_(ACTIVE), h.cancel_requested_at_utc.is_(None)]
    if row.lease_owner is not None:
        cond += [h.lease_owner == row.lease_owner, h.lease_expires_at_utc < now]
    else:
        cond += [h.lease_owner.is_(None),
                 h.enqueued_at_utc.is_(None) if row.enqueued_at_utc is None else h.enqueued_at_utc == row.enqueued_at_utc]
    with engine.begin() as conn:
        return conn.execute(
            update(run_history).where(*cond).values(lease_owner=None, lease_expires_at_utc=None, enqueued_at_utc=now)
        ).rowcount == 1


def apply_retention(engine: Engine, tenants: list[str], now: datetime, retention_days: int) -> int:
    """Delete the output rows of runs that ended before the retention horizon; run rows stay."""
    cutoff = now - timedelta(days=retention_days)
    expired = select(run_history.c.run_id).where(run_history.c.tenant_id.in_(tenants), run_history.c.ended_at_utc < cutoff)
    deleted = 0
    with engine.begin() as conn:
        for table in OUTPUT_TABLES:
            deleted += conn.execute(delete(table).where(table.c.run_id.in_(expired))).rowcount or 0
    if deleted:
        telemetry.event("outputs_purged", "retention: deleted %d output rows of runs that ended before %s", deleted,
                        cutoff.isoformat(), rows=deleted, cutoff=cutoff.isoformat())
    return deleted
