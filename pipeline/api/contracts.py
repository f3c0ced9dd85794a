"""Pydantic models of the run API's bodies (DESIGN.md §5): what callers send and receive.

`RunResponse` is one model for three uses: the body of GET /runs/{id} (live while the run is
active, the stored copy once terminal), the `response_json` column written by finalize, and the
output of `powerfill run --sync`. Its `summary` lists every RunSummary field of ENGINE.md §5
(null until the step that computes it has run) and passes any further step metrics through.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from pipeline.statuses import RunStatus, StepStatus, Trigger

def _utc_iso(value: datetime) -> str:
    """Timestamps are stored naive UTC; on the wire they are RFC 3339 with the Z offset."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


UtcDateTime = Annotated[datetime, PlainSerializer(_utc_iso, return_type=str, when_used="json"),
                        WithJsonSchema({"type": "string", "format": "date-time"})]

Number = Union[int, float, str, None]  # decimals travel as strings, never rounded by JSON floats


class RunSummary(BaseModel):
    """ENGINE.md §5 RunSummary; every field present (null when not computed)."""

    model_config = ConfigDict(extra="allow")

    constraint_count: int | None = None
    candidate_count: int | None = None
    carry_matched: int | None = None
    carry_missed: int | None = None
    candidates_per_constraint: dict[str, int] | None = None
    allocated_count: int | None = None
    kicked_out_count: int | None = None
    cblock_count: int | None = None
    pool_guide_count: int | None = None
    syn_trade_base_count: int | None = None
    syn_powerfill_guide_all_rank_count: int | None = None
    syn_powerfill_guide_count: int | None = None
    pfill_powerfill_log_count: int | None = None
    post_ue_allocated_count: int | None = None
    post_ue_pool_guide_count: int | None = None
    allocated_amount: Number = None
    trades_in_scope: int | None = None
    trades_filled: int | None = None
    shortfall_amount: Number = None
    objective: Number = None
    bound: Number = None
    gap: Number = None
    value_gap_bps: Number = None
    shortfall_gap_amount: Number = None
    greedy_objective: Number = None
    allocator: str | None = None
    solver_stopped: bool | None = None
    engine_version: str | None = None


class StepView(BaseModel):
    name: str
    status: StepStatus
    attempt: int
    rows: int | None = None
    duration_s: float | None = None
    error: str | None = None


class RunLinks(BaseModel):
    self: str
    cancel: str


class RunResponse(BaseModel):
    run_id: str
    tenant_id: str
    status: RunStatus
    trigger: Trigger
    requested_by: str | None = None
    schedule_name: str | None = None
    started_at: UtcDateTime = Field(description="when the run was submitted (UTC)")
    ended_at: UtcDateTime | None = None
    options: dict[str, Any] = Field(description="the resolved run options (ENGINE.md §3)")
    current_step: str | None = Field(None, description="the step executing now (active runs)")
    steps_done: int = Field(0, description="steps Succeeded or Skipped")
    cancel_requested: bool = False
    attempt_count: int = 0
    summary: RunSummary
    steps: list[StepView]
    failure_step: str | None = None
    failure_message: str | None = None
    output_guide_count: int | None = None
    output_kickout_count: int | None = None
    links: RunLinks


class RunListItem(BaseModel):
    run_id: str
    status: RunStatus
    trigger: Trigger
    requested_by: str | None = None
    started_at: UtcDateTime
    ended_at: UtcDateTime | None = None
    current_step: str | None = None
    failure_step: str | None = None
    links: RunLinks


class RunList(BaseModel):
    items: list[RunListItem]
    next_cursor: str | None = None
    limit: int


class CancelResponse(BaseModel):
    run_id: str
    status: RunStatus
    cancel_requested: bool
    message: str
    links: RunLinks


class ScheduleIn(BaseModel):
    """One schedule as PUT: NCRONTAB with seconds first, six fields, UTC."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
    cron: str = Field(min_length=11, max_length=128, description="6-field NCRONTAB (sec min hour day month dow), UTC")
    options: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class ScheduleOut(ScheduleIn):
    model_config = ConfigDict(extra="forbid")

    last_fired_at: UtcDateTime | None = None
    last_result: dict[str, Any] | None = None
    next_fire_at: UtcDateTime | None = None


class ScheduleList(BaseModel):
    items: list[ScheduleOut]


class ServiceStatus(BaseModel):
    version: str
    schema_revision: str | None
    schema_head: str
    database: dict[str, Any]
    queue: dict[str, Any]
