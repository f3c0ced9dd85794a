"""HTTP adapters for the reports (ENGINE.md §7): GET /powerfill/runs/{run_id}/{report} and
GET /powerfill/runs/{run_id}/report.html. Parsing and mapping only; pipeline.reports does the work.
"""

from __future__ import annotations

import azure.functions as func

from pipeline.api import ApiRequest, BadRequest, Conflict, Gone, NotFound, http_endpoint
from pipeline.reports import (
    BadReportRequest,
    OutputsRemoved,
    ReportError,
    RunActive,
    RunNotFound,
    UnknownReport,
    report_csv,
    report_page,
)
from pipeline.reports.html import report_html
from pipeline.reports.paging import parse_limit

bp = func.Blueprint()

CSV_TYPE = "text/csv"


def api_error(err: ReportError) -> Exception:
    """One place that says what each report error means over HTTP."""
    if isinstance(err, (RunNotFound, UnknownReport)):
        return NotFound(err.message)
    if isinstance(err, RunActive):
        return Conflict(err.message, code="run_active", extra={"run_id": err.fields.get("run_id"),
                                                               "status": err.fields.get("status")})
    if isinstance(err, OutputsRemoved):
        return Gone(err.message, extra={"run_id": err.fields.get("run_id"), "status": err.fields.get("status")})
    if isinstance(err, BadReportRequest):
        return BadRequest(err.message, code="validation_error",
                          details=[{"field": err.fields.get("field"), "message": err.message}])
    return BadRequest(err.message)


def wants_csv(req: ApiRequest) -> bool:
    fmt = (req.query("format") or "").lower()
    if fmt:
        if fmt not in ("json", "csv"):
            raise BadRequest("format must be json or csv", code="validation_error",
                             details=[{"field": "format", "message": "must be json or csv"}])
        return fmt == "csv"
    accept = (req.header("accept") or "").lower()
    return CSV_TYPE in accept and "application/json" not in accept


@bp.route(route="powerfill/runs/{run_id}/report.html", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_endpoint
def get_report_html(req: ApiRequest):
    """The run's self-contained HTML report."""
    try:
        page = report_html(req.engine, req.tenant_id, req.route_param("run_id"))
    except ReportError as err:
        raise api_error(err) from None
    return func.HttpResponse(page, status_code=200, mimetype="text/html", charset="utf-8")


@bp.route(route="powerfill/runs/{run_id}/{report}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_endpoint
def get_report(req: ApiRequest):
    """One report of a run: a JSON page (limit, cursor) or all rows as CSV."""
    run_id, name = req.route_param("run_id"), req.route_param("report")
    try:
        if wants_csv(req):
            run, text = report_csv(req.engine, req.tenant_id, run_id, name)
            headers = {"Content-Disposition": f'attachment; filename="{name}.csv"', "X-PowerFill-Run-Status": run.status}
            if run.note:
                headers["X-PowerFill-Failure-Step"] = run.note["failure_step"] or ""
            return func.HttpResponse(text, status_code=200, mimetype=CSV_TYPE, charset="utf-8", headers=headers)
        page = report_page(req.engine, req.tenant_id, run_id, name,
                           limit=parse_limit(req.query("limit")), cursor=req.query("cursor"))
    except ReportError as err:
        raise api_error(err) from None
    return page.to_json()
