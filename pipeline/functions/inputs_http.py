"""HTTP adapters for the tenant's inputs (DESIGN.md §6): GET|PUT /powerfill/inputs/{kind}.

PUT replaces the kind's rows with a CSV (header row) or JSON array body, all or nothing, through
the same importer as `powerfill load`; refused with 409 while the tenant has an active run (the
run must read one consistent snapshot), 413 over the body limit, 415 for other content types,
400 with the importer's per-row errors. GET returns the stored rows as JSON or CSV.
"""

from __future__ import annotations

import azure.functions as func

from pipeline.api import ApiRequest, BadRequest, Conflict, NotFound, http_endpoint
from pipeline.inputs import KINDS, InputValidationError, export_kind_csv, export_kind_json, import_kind
from pipeline.runs.store import active_run

bp = func.Blueprint()

FORMATS = {"text/csv": "csv", "application/json": "json"}


def _kind(req: ApiRequest) -> str:
    kind = req.route_param("kind")
    if kind not in KINDS:
        raise NotFound(f"no input kind {kind!r}; kinds: {', '.join(KINDS)}")
    return kind


def refuse_while_active(tenant_id: str):
    """The import guard: inside the upload's transaction (after the tenant's input lock), refuse
    while a run is active, so a run always sees one snapshot of its inputs (DESIGN.md §6)."""

    def guard(conn) -> None:  # noqa: ANN001 - a Connection
        active = active_run(conn, tenant_id)
        if active is not None:
            raise Conflict(f"run {active.run_id} is {active.status}; inputs can be replaced once it finishes",
                           code="inputs_locked", extra={"active_run_id": active.run_id, "active_status": active.status})

    return guard


@bp.route(route="powerfill/inputs/{kind}", methods=["PUT"], auth_level=func.AuthLevel.ANONYMOUS)
@http_endpoint
def put_inputs(req: ApiRequest):
    """Replace the tenant's rows of one input kind (CSV or JSON array)."""
    kind = _kind(req)
    fmt = FORMATS[req.require_content_type(*FORMATS)]
    body = req.body_bytes()
    try:
        result = import_kind(req.engine, req.tenant_id, kind, body, fmt=fmt, filename=f"{kind}.{fmt}",
                             guard=refuse_while_active(req.tenant_id))
    except InputValidationError as err:
        listed = f" (first {len(err.errors)} listed)" if err.omitted else ""
        raise BadRequest(f"{err.total} input error(s) in {kind}; nothing was changed{listed}", code="invalid_input",
                         details=[e.to_dict() for e in err.errors]) from None
    return {"kind": kind, "count": result.counts.get(kind, 0), "seconds": round(result.seconds, 3)}


@bp.route(route="powerfill/inputs/{kind}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_endpoint
def get_inputs(req: ApiRequest):
    """The tenant's stored rows of one input kind, as JSON (default) or CSV."""
    kind = _kind(req)
    fmt = (req.query("format") or "").lower()
    if fmt not in ("", "json", "csv"):
        raise BadRequest("format must be json or csv", code="validation_error",
                         details=[{"field": "format", "message": "must be json or csv"}])
    accept = (req.header("accept") or "").lower()
    if fmt == "csv" or (not fmt and "text/csv" in accept and "application/json" not in accept):
        return func.HttpResponse(export_kind_csv(req.engine, req.tenant_id, kind), status_code=200,
                                 mimetype="text/csv", charset="utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
    rows = export_kind_json(req.engine, req.tenant_id, kind)
    return {"kind": kind, "count": len(rows), "rows": rows}
