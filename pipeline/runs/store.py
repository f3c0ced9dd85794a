"""Reading runs: one run in its tenant, the RunResponse built from the database, the run list.

Every query filters on `tenant_id`: another tenant's run does not exist here (404, never 403).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection, Engine, Row

from pipeline.api.contracts import RunLinks, RunList, RunListItem, RunResponse, RunSummary, StepView
from pipeline.api.pagination import decode_cursor, encode_cursor, invalid_cursor
from pipeline.db.engine import READ_ONLY
from pipeline.db.schema import run_history, run_step
from pipeline.engine.runner import run_summary
from pipeline.statuses import ACTIVE_STATUSES, DONE_STEP_STATUSES, TERMINAL_STATUSES, RunStatus

ACTIVE = tuple(s.value for s in ACTIVE_STATUSES)
TERMINAL = tuple(s.value for s in TERMINAL_STATUSES)
DONE_STEPS = tuple(s.value for s in DONE_STEP_STATUSES)
RUNS_PATH = "/api/powerfill/runs"


def links(run_id: str) -> RunLinks:
    return RunLinks(self=f"{RUNS_PATH}/{run_id}", cancel=f"{RUNS_PATH}/{run_id}/cancel")


def load_run(conn: Connection, tenant_id: str, run_id: str) -> Row | None:
    return conn.execute(
        select(run_history).where(run_history.c.run_id == run_id, run_history.c.tenant_id == tenant_id)
    ).first()


def build_response(conn: Connection, run: Row) -> RunResponse:
    """The RunResponse of `run` as the database has it now (live progress, or the terminal view)."""
    steps = conn.execute(
        select(run_step).where(run_step.c.run_id == run.run_id).order_by(run_step.c.step_order)
    ).all()
    return RunResponse(
        run_id=run.run_id, tenant_id=run.tenant_id, status=RunStatus(run.status), trigger=run.trigger,
        requested_by=run.requested_by, schedule_name=run.schedule_name,
        started_at=run.started_at_utc, ended_at=run.ended_at_utc,
        options=json.loads(run.options_json),
        current_step=run.current_step if run.status in ACTIVE else None,
        steps_done=sum(1 for s in steps if s.status in DONE_STEPS),
        cancel_requested=run.cancel_requested_at_utc is not None,
        attempt_count=run.attempt_count or 0,
        summary=RunSummary(**run_summary(conn, run.run_id)),
        steps=[
            StepView(name=s.step_name, status=s.status, attempt=s.attempt or 0, rows=s.rows_written,
                     duration_s=_seconds(s.started_at_utc, s.ended_at_utc), error=s.error)
            for s in steps
        ],
        failure_step=run.failure_step, failure_message=run.failure_message,
        output_guide_count=run.output_guide_count, output_kickout_count=run.output_kickout_count,
        links=links(run.run_id),
    )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def get_run_view(engine: Engine, tenant_id: str, run_id: str) -> RunResponse | None:
    """GET /runs/{id}: the stored RunResponse once terminal, live progress while active."""
    with engine.connect().execution_options(**READ_ONLY) as conn:
        run = load_run(conn, tenant_id, run_id)
        if run is None:
            return None
        if run.status in TERMINAL and run.response_json:
            return RunResponse.model_validate_json(run.response_json)
        return build_response(conn, run)


def list_runs(engine: Engine, tenant_id: str, *, limit: int, cursor: str | None,
              statuses: list[RunStatus] | None = None) -> RunList:
    """Newest first, keyset on (started_at_utc, run_id) — the ix_pfill_run_history_keyset index."""
    key = decode_cursor(cursor, 2)
    h = run_history.c
    query = select(run_history).where(h.tenant_id == tenant_id)
    if statuses:
        query = query.where(h.status.in_([s.value for s in statuses]))
    if key is not None:
        try:
            after_time = datetime.fromisoformat(key[0])
        except (TypeError, ValueError):
            raise invalid_cursor() from None
        query = query.where(or_(h.started_at_utc < after_time, and_(h.started_at_utc == after_time, h.run_id < key[1])))
    query = query.order_by(h.started_at_utc.desc(), h.run_id.desc()).limit(limit + 1)
    with engine.connect().execution_options(**READ_ONLY) as conn:
        rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        RunListItem(run_id=r.run_id, status=r.status, trigger=r.trigger, requested_by=r.requested_by,
                    started_at=r.started_at_utc, ended_at=r.ended_at_utc,
                    current_step=r.current_step if r.status in ACTIVE else None,
                    failure_step=r.failure_step, links=links(r.run_id))
        for r in rows
    ]
    next_cursor = encode_cursor([rows[-1].started_at_utc.isoformat(), rows[-1].run_id]) if more and rows else None
    return RunList(items=items, next_cursor=next_cursor, limit=limit)


def active_run(conn: Connection, tenant_id: str) -> Row | None:
    """The tenant's active run (BR-8: at most one)."""
    return conn.execute(
        select(run_history.c.run_id, run_history.c.status)
        .where(run_history.c.tenant_id == tenant_id, run_history.c.status.in_(ACTIVE))
    ).first()


def tenant_engine(tenant_id: str) -> Engine | None:
    """The engine of a registered tenant's database; None for an unknown tenant."""
    from pipeline.db.engine import get_engine
    from pipeline.tenants import UnknownTenant, get_registry

    try:
        return get_engine(get_registry().get(tenant_id).database_url)
    except UnknownTenant:
        return None


def response_dict(response: RunResponse) -> dict[str, Any]:
    return response.model_dump(mode="json")
