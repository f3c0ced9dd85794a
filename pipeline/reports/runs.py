"""Whether a run's reports can be read, and the note a failed or cancelled run carries.

- unknown run, or another tenant's: RunNotFound (the API answers 404, never 403);
- active (Pending ... PostProcessing): RunActive with its status (409): outputs are not final;
- terminal and older than the retention window: OutputsRemoved (410). Retention (the timer)
  deletes output rows of runs whose `ended_at_utc` is more than POWERFILL_RETENTION_DAYS ago and
  keeps the run row; the test here is that same rule (`pipeline.runs.reconcile.outputs_expired`),
  so a report never shows a half-purged run;
- Failed / Cancelled: readable; BR-9 left only the synthetic tables, the log and the cash map, and
  every page carries a note naming failure_step and failure_message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pipeline.db.schema import run_history
from pipeline.runs.reconcile import outputs_expired
from pipeline.reports.errors import OutputsRemoved, RunActive, RunNotFound
from pipeline.settings import get_settings
from pipeline.statuses import ACTIVE_STATUSES, RunStatus


@dataclass
class RunInfo:
    run_id: str
    tenant_id: str
    status: str
    started_at_utc: datetime | None
    ended_at_utc: datetime | None
    failure_step: str | None
    failure_message: str | None
    options: dict[str, Any]
    response: dict[str, Any] | None

    @property
    def note(self) -> dict[str, Any] | None:
        if self.status not in (RunStatus.FAILED.value, RunStatus.CANCELLED.value):
            return None
        kept = "only the preserved rows (synthetic tables, log, cash market map) remain"
        return {
            "message": f"run {self.status.lower()} at step {self.failure_step or 'unknown'}: {kept}",
            "failure_step": self.failure_step,
            "failure_message": self.failure_message,
        }


def _loads(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def readable_run(conn: Connection, tenant_id: str, run_id: str) -> RunInfo:
    row = conn.execute(
        select(run_history).where(run_history.c.run_id == run_id, run_history.c.tenant_id == tenant_id)
    ).mappings().first()
    if row is None:
        raise RunNotFound(f"run {run_id} not found")
    info = RunInfo(
        run_id=row["run_id"], tenant_id=row["tenant_id"], status=row["status"],
        started_at_utc=row["started_at_utc"], ended_at_utc=row["ended_at_utc"],
        failure_step=row["failure_step"], failure_message=row["failure_message"],
        options=_loads(row["options_json"]) or {}, response=_loads(row["response_json"]),
    )
    if info.status in {s.value for s in ACTIVE_STATUSES}:
        raise RunActive(f"run {run_id} is {info.status}; its reports are available once it finishes",
                        run_id=run_id, status=info.status)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if outputs_expired(info.ended_at_utc, now, get_settings().retention_days):
        raise OutputsRemoved(f"the outputs of run {run_id} were removed by retention "
                             f"({get_settings().retention_days} days)", run_id=run_id, status=info.status)
    return info
