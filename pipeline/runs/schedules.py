"""Scheduled runs: the tenant's schedule set (GET|PUT /api/powerfill/schedules) and firing them.

A schedule is {name, cron, options, enabled}; `cron` is NCRONTAB with six fields, seconds FIRST
(`0 30 6 * * 1-5` = 06:30:00 UTC on weekdays), as the Functions timer writes it. croniter puts
seconds last, so expressions are rotated once here.

Firing (from the timer): a schedule is due when its latest firing time at or before now is later
than both the last firing claimed and the moment the schedule was last written. The firing is
claimed by a conditional UPDATE of `last_fired_at_utc`, so two timers running at once start exactly
one run; the run goes through the same `submit_run` (trigger=schedule, BR-8 applies). A BR-8
conflict skips the firing: logged, and visible in the schedule's `last_result`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from pydantic import ValidationError
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Engine

from pipeline import telemetry
from pipeline.api.contracts import ScheduleIn, ScheduleList, ScheduleOut
from pipeline.api.errors import validation_details
from pipeline.db.engine import READ_ONLY
from pipeline.db.schema import schedules
from pipeline.engine.options import RunOptions
from pipeline.runs.config import LifecycleConfig
from pipeline.runs.submit import ActiveRunConflict, EnqueueFailed, submit_run
from pipeline.statuses import Trigger

log = logging.getLogger("pipeline.runs.schedules")

MAX_SCHEDULES = 50


class ScheduleInvalid(ValueError):
    def __init__(self, details: list[dict[str, Any]]):
        super().__init__("the schedules failed validation")
        self.details = details


def to_croniter(ncrontab: str) -> str:
    """'sec min hour day month dow' -> croniter's 'min hour day month dow sec'; ValueError if invalid."""
    fields = ncrontab.split()
    if len(fields) != 6:
        raise ValueError("cron must have 6 fields: second minute hour day month day-of-week (UTC)")
    expr = " ".join(fields[1:] + fields[:1])
    if not croniter.is_valid(expr):
        raise ValueError(f"not a valid NCRONTAB expression: {ncrontab!r}")
    return expr


def latest_firing(ncrontab: str, now: datetime) -> datetime:
    """The latest firing time at or before `now`."""
    start = now.replace(microsecond=0) + timedelta(microseconds=1)
    return croniter(to_croniter(ncrontab), start).get_prev(datetime)


def next_firing(ncrontab: str, now: datetime) -> datetime:
    return croniter(to_croniter(ncrontab), now).get_next(datetime)


def validate(items: list[ScheduleIn]) -> None:
    details: list[dict[str, Any]] = []
    if len(items) > MAX_SCHEDULES:
        details.append({"field": None, "message": f"at most {MAX_SCHEDULES} schedules"})
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.name in seen:
            details.append({"field": f"{i}.name", "message": f"duplicate schedule name {item.name!r}"})
        seen.add(item.name)
        try:
            to_croniter(item.cron)
        except ValueError as err:
            details.append({"field": f"{i}.cron", "message": str(err)})
        try:
            RunOptions.model_validate(item.options)
        except ValidationError as err:
            details.extend(validation_details(err, (i, "options")))
    if details:
        raise ScheduleInvalid(details)


def list_schedules(engine: Engine, tenant_id: str, now: datetime) -> ScheduleList:
    with engine.connect().execution_options(**READ_ONLY) as conn:
        rows = conn.execute(
            select(schedules).where(schedules.c.tenant_id == tenant_id).order_by(schedules.c.schedule_name)
        ).all()
    return ScheduleList(items=[
        ScheduleOut(name=r.schedule_name, cron=r.cron, options=json.loads(r.options_json), enabled=r.enabled,
                    last_fired_at=r.last_fired_at_utc,
                    last_result=json.loads(r.last_result) if r.last_result else None,
                    next_fire_at=next_firing(r.cron, now) if r.enabled else None)
        for r in rows
    ])


def replace_schedules(engine: Engine, tenant_id: str, items: list[ScheduleIn], now: datetime) -> ScheduleList:
    """Replace the tenant's whole set in one transaction; an unchanged schedule keeps its history."""
    validate(items)
    s = schedules.c
    with engine.begin() as conn:
        existing = {r.schedule_name: r for r in conn.execute(select(schedules).where(s.tenant_id == tenant_id))}
        keep = {i.name for i in items}
        gone = [n for n in existing if n not in keep]
        if gone:
            conn.execute(delete(schedules).where(s.tenant_id == tenant_id, s.schedule_name.in_(gone)))
        for item in items:
            values = {"cron": item.cron, "options_json": json.dumps(item.options, sort_keys=True), "enabled": item.enabled}
            old = existing.get(item.name)
            if old is None:
                conn.execute(insert(schedules).values(tenant_id=tenant_id, schedule_name=item.name, updated_at_utc=now, **values))
            elif (old.cron, old.options_json, old.enabled) != (values["cron"], values["options_json"], values["enabled"]):
                # A changed schedule starts afresh: no firing before this moment is due.
                conn.execute(update(schedules).where(s.tenant_id == tenant_id, s.schedule_name == item.name)
                             .values(updated_at_utc=now, **values))
    return list_schedules(engine, tenant_id, now)


def fire_due(engine: Engine, tenant_ids: list[str], now: datetime, config: LifecycleConfig) -> int:
    """Start a run for every due schedule of these tenants; the number of runs started."""
    s = schedules.c
    with engine.connect().execution_options(**READ_ONLY) as conn:
        rows = conn.execute(select(schedules).where(s.tenant_id.in_(tenant_ids), s.enabled.is_(True))).all()
    started = 0
    for row in rows:
        try:
            due = latest_firing(row.cron, now)
        except ValueError:
            log.warning("schedule %s of tenant %s has an invalid cron %r; skipped", row.schedule_name, row.tenant_id, row.cron)
            continue
        baseline = row.last_fired_at_utc or row.updated_at_utc
        if due <= baseline:
            continue
        with engine.begin() as conn:
            claimed = conn.execute(
                update(schedules)
                .where(s.tenant_id == row.tenant_id, s.schedule_name == row.schedule_name, s.enabled.is_(True),
                       s.updated_at_utc < due, or_(s.last_fired_at_utc.is_(None), s.last_fired_at_utc < due))
                .values(last_fired_at_utc=due)
            ).rowcount
        if claimed != 1:
            continue  # another timer claimed this firing
        started += _fire(engine, row.tenant_id, row.schedule_name, json.loads(row.options_json), due, config)
    return started


def _fire(engine: Engine, tenant_id: str, name: str, options: dict, due: datetime, config: LifecycleConfig) -> int:
    result: dict[str, Any] = {"fired_at": due.isoformat(), "outcome": "started"}
    with telemetry.log_context(tenant_id=tenant_id):
        try:
            submitted = submit_run(engine, tenant_id, options, trigger=Trigger.SCHEDULE, requested_by=f"schedule:{name}",
                                   schedule_name=name, config=config)
            result["run_id"] = submitted.run.run_id
            telemetry.event(telemetry.SCHEDULE_FIRED, "schedule %s started run %s", name, submitted.run.run_id,
                            schedule_name=name, run_id=submitted.run.run_id)
        except ActiveRunConflict as err:
            result.update(outcome="skipped", reason="active_run", active_run_id=err.active_run_id,
                          active_status=err.active_status)
            telemetry.event(telemetry.SCHEDULE_SKIPPED, "schedule %s skipped: run %s is %s (BR-8)", name,
                            err.active_run_id, err.active_status, level=logging.WARNING, schedule_name=name,
                            reason="active_run", active_run_id=err.active_run_id)
        except (EnqueueFailed, ValidationError) as err:
            result.update(outcome="failed", reason=type(err).__name__, message=str(err).splitlines()[0])
            telemetry.event(telemetry.SCHEDULE_SKIPPED, "schedule %s could not start a run: %s", name, err,
                            level=logging.WARNING, schedule_name=name, reason=type(err).__name__)
    with engine.begin() as conn:
        conn.execute(update(schedules).where(schedules.c.tenant_id == tenant_id, schedules.c.schedule_name == name)
                     .values(last_result=json.dumps(result, sort_keys=True)))
    return 1 if result["outcome"] == "started" else 0
