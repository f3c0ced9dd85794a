"""The OpenAPI 3.1 document of the HTTP API (served at GET /api/powerfill/openapi.json).

Bodies are the pydantic contracts' own JSON Schemas (`models_json_schema`), so the document cannot
drift from what the handlers validate and return; input rows are described from the input kinds'
columns; the error shape is one schema shared by every error response. A test validates the
document (openapi-spec-validator) and fuzzes the local host with it (schemathesis).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema
from sqlalchemy import Boolean, Date, Integer, Numeric

from pipeline.api.contracts import CancelResponse, RunList, RunResponse, ScheduleIn, ScheduleList, ServiceStatus
from pipeline.api.pagination import MAX_LIMIT as RUNS_MAX_LIMIT
from pipeline.engine.options import RunOptions
from pipeline.reports.catalog import REPORT_NAMES
from pipeline.reports.paging import MAX_LIMIT as REPORT_MAX_LIMIT
from pipeline.statuses import RunStatus

REF = "#/components/schemas/{model}"


class Error(BaseModel):
    """Every error: a code, a sentence, and details (field errors, per-row input errors...)."""

    model_config = ConfigDict(extra="allow")
    error: str = Field(description="machine-readable code, e.g. validation_error, active_run, not_found")
    message: str
    details: list[Any] = Field(default_factory=list)


class ReportColumn(BaseModel):
    name: str
    kind: str = Field(description="money | value | rate | pct | int | bool | date | text")


class ReportNote(BaseModel):
    message: str
    failure_step: str | None
    failure_message: str | None


class ReportPage(BaseModel):
    """One page of a report; decimals are strings at their scale (money 2, prices/values 8)."""

    run_id: str
    report: str
    status: RunStatus
    columns: list[ReportColumn]
    rows: list[dict[str, Any]]
    limit: int
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")
    note: ReportNote | None = Field(None, description="present when the run Failed or was Cancelled")


class InputPutResult(BaseModel):
    kind: str
    count: int = Field(description="rows now stored for this kind")
    seconds: float


class InputRows(BaseModel):
    kind: str
    count: int
    rows: list[dict[str, Any]]


MODELS: tuple[type[BaseModel], ...] = (
    Error, RunOptions, RunResponse, RunList, CancelResponse, ScheduleIn, ScheduleList, ServiceStatus,
    ReportPage, InputPutResult, InputRows,
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict:
    return {"description": description, "content": _json(_ref(Error))}


def _errors(*codes: int) -> dict[str, dict]:
    text = {
        400: "invalid request (field or row errors in `details`)", 401: "no valid API key",
        404: "unknown resource, or another tenant's", 409: "conflict with the run's or tenant's state",
        410: "outputs removed by retention", 413: "body over POWERFILL_MAX_BODY_BYTES",
        415: "unsupported Content-Type", 503: "a backing service is unavailable; retry after Retry-After",
    }
    return {str(c): _error(text[c]) for c in codes}


def _param(name: str, where: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema, "description": description}


RUN_ID = _param("run_id", "path", {"type": "string", "minLength": 1}, "the run's id")


def _input_row_schema(kind_name: str) -> dict:
    from pipeline.inputs.kinds import get_kind

    kind = get_kind(kind_name)
    props: dict[str, Any] = {}
    for name in kind.columns:
        t = kind.table.c[name].type
        if isinstance(t, Boolean):
            types: list[str] = ["boolean", "string"]
        elif isinstance(t, Integer):
            types = ["integer", "string"]
        elif isinstance(t, Numeric):
            types = ["number", "string"]
        elif isinstance(t, Date):
            types = ["string"]
        else:
            types = ["string"]
        schema: dict[str, Any] = {"type": types if name in kind.required else [*types, "null"]}
        if name == "products":
            schema = {"anyOf": [schema, {"type": "array", "items": {"type": "string"}}]}
        props[name] = schema
    return {"type": "object", "properties": props, "required": sorted(kind.required), "additionalProperties": False}


def _paths() -> dict[str, Any]:
    from pipeline.inputs import KINDS

    limit_runs = {"type": "integer", "minimum": 1, "maximum": RUNS_MAX_LIMIT}
    limit_reports = {"type": "integer", "minimum": 1, "maximum": REPORT_MAX_LIMIT}
    cursor = _param("cursor", "query", {"type": "string"}, "next_cursor of the previous page")
    csv_text = {"text/csv": {"schema": {"type": "string"}}}
    input_rows = {"oneOf": [{"type": "array", "items": _input_row_schema(k)} for k in KINDS]}
    return {
        "/powerfill/run": {"post": {
            "operationId": "submitRun", "summary": "Submit a run (202); one active run per tenant (409)",
            "parameters": [_param("Idempotency-Key", "header", {"type": "string", "minLength": 1, "maxLength": 128},
                                  "same key, same run")],
            "requestBody": {"required": False, "content": _json(_ref(RunOptions))},
            "responses": {"202": {"description": "accepted; Location names the run",
                                  "headers": {"Location": {"schema": {"type": "string"}}},
                                  "content": _json(_ref(RunResponse))},
                          "200": {"description": "the run an earlier request with this Idempotency-Key created",
                                  "content": _json(_ref(RunResponse))},
                          **_errors(400, 401, 409, 413, 415, 503)},
        }},
        "/powerfill/runs": {"get": {
            "operationId": "listRuns", "summary": "The tenant's runs, newest first (keyset pages)",
            "parameters": [_param("limit", "query", limit_runs, "page size"), cursor,
                           _param("status", "query", {"type": "string"}, "comma-separated statuses: "
                                  + ", ".join(s.value for s in RunStatus))],
            "responses": {"200": {"description": "a page of runs", "content": _json(_ref(RunList))},
                          **_errors(400, 401, 503)},
        }},
        "/powerfill/runs/{run_id}": {"get": {
            "operationId": "getRun", "summary": "Live progress while active; the stored RunResponse once terminal",
            "parameters": [RUN_ID],
            "responses": {"200": {"description": "the run", "content": _json(_ref(RunResponse))},
                          **_errors(401, 404, 503)},
        }},
        "/powerfill/runs/{run_id}/cancel": {"post": {
            "operationId": "cancelRun", "summary": "Cancel: Pending at once (200), active at the next check (202)",
            "parameters": [RUN_ID],
            "responses": {"200": {"description": "cancelled", "content": _json(_ref(CancelResponse))},
                          "202": {"description": "cancel requested", "content": _json(_ref(CancelResponse))},
                          **_errors(401, 404, 409, 503)},
        }},
        "/powerfill/runs/{run_id}/report.html": {"get": {
            "operationId": "getReportHtml", "summary": "Self-contained HTML report with charts",
            "parameters": [RUN_ID],
            "responses": {"200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
                          **_errors(401, 404, 409, 410, 503)},
        }},
        "/powerfill/runs/{run_id}/{report}": {"get": {
            "operationId": "getReport", "summary": "One report of a finished run: JSON pages or CSV (ENGINE.md §7)",
            "parameters": [RUN_ID, _param("report", "path", {"type": "string", "enum": list(REPORT_NAMES)}, "report name"),
                           _param("limit", "query", limit_reports, "page size (JSON)"), cursor,
                           _param("format", "query", {"type": "string", "enum": ["json", "csv"]},
                                  "csv for the whole report as CSV (or send Accept: text/csv)")],
            "responses": {"200": {"description": "a page of rows (JSON) or every row (CSV)",
                                  "content": {**_json(_ref(ReportPage)), **csv_text}},
                          **_errors(400, 401, 404, 409, 410, 503)},
        }},
        "/powerfill/inputs/{kind}": {
            "get": {
                "operationId": "getInputs", "summary": "The tenant's stored rows of one input kind",
                "parameters": [_param("kind", "path", {"type": "string", "enum": list(KINDS)}, "input kind"),
                               _param("format", "query", {"type": "string", "enum": ["json", "csv"]}, "json or csv")],
                "responses": {"200": {"description": "the rows", "content": {**_json(_ref(InputRows)), **csv_text}},
                              **_errors(400, 401, 404, 503)},
            },
            "put": {
                "operationId": "putInputs", "summary": "Replace one input kind, all or nothing (CSV or JSON array)",
                "parameters": [_param("kind", "path", {"type": "string", "enum": list(KINDS)}, "input kind")],
                "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}},
                                                              "application/json": {"schema": input_rows}}},
                "responses": {"200": {"description": "replaced", "content": _json(_ref(InputPutResult))},
                              **_errors(400, 401, 404, 409, 413, 415, 503)},
            },
        },
        "/powerfill/schedules": {
            "get": {"operationId": "listSchedules", "summary": "The tenant's run schedules",
                    "responses": {"200": {"description": "schedules", "content": _json(_ref(ScheduleList))},
                                  **_errors(401, 503)}},
            "put": {"operationId": "putSchedules", "summary": "Replace the tenant's schedules (6-field NCRONTAB, UTC)",
                    "requestBody": {"required": True, "content": _json(
                        {"type": "array", "items": _ref(ScheduleIn)})},
                    "responses": {"200": {"description": "the stored schedules", "content": _json(_ref(ScheduleList))},
                                  **_errors(400, 401, 413, 415, 503)}},
        },
        "/powerfill/status": {"get": {
            "operationId": "getStatus", "summary": "Version, schema revision, database and queue reachability",
            "responses": {"200": {"description": "status", "content": _json(_ref(ServiceStatus))}, **_errors(401, 503)},
        }},
        "/powerfill/openapi.json": {"get": {
            "operationId": "getOpenApi", "summary": "This document", "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": _json({"type": "object"})}},
        }},
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    from pipeline.runs.status import app_version

    _, defs = models_json_schema([(m, "validation" if m in (RunOptions, ScheduleIn) else "serialization") for m in MODELS],
                                 ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "PowerFill run service", "version": app_version(),
                 "description": "Allocates mortgage loans to forward trades. Authenticate with the tenant's API key "
                                "(`Authorization: Bearer <key>` or `x-api-key`). Errors share one shape: "
                                "`{\"error\", \"message\", \"details\"}`."},
        "servers": [{"url": "/api"}],
        "security": [{"apiKey": []}, {"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }
