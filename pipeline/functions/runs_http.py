"""HTTP adapters of the run lifecycle: submit, list, get, cancel (DESIGN.md §5)."""

from __future__ import annotations

import azure.functions as func

from pipeline.api import ApiRequest, BadRequest, Conflict, NotFound, Reply, ServiceUnavailable, http_endpoint
from pipeline.api.auth import presented_key
from pipeline.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from pipeline.runs.cancel import RunAlreadyTerminal, RunNotFound, cancel_run
from pipeline.runs.store import get_run_view, list_runs
from pipeline.runs.submit import ActiveRunConflict, EnqueueFailed, submit_run
from pipeline.statuses import RunStatus, Trigger
from pipeline.tenants import hash_api_key

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the API key is checked by http_endpoint, not by function keys
MAX_IDEMPOTENCY_KEY = 128
QUEUE_RETRY_AFTER_S = 10


def _requested_by(req: ApiRequest) -> str:
    """Who asked, without the secret: a key fingerprint, or the platform principal's name."""
    key = presented_key(req.raw)
    if key:
        return f"api_key:{hash_api_key(key)[:12]}"
    return req.header("x-ms-client-principal-name") or "principal"


@bp.route(route="powerfill/run", methods=["POST"], auth_level=ANONYMOUS)
@http_endpoint
def submit_run_http(req: ApiRequest):
    options = req.json(empty={})
    if not isinstance(options, dict):
        raise BadRequest("the body must be a JSON object of run options", code="validation_error",
                         details=[{"field": None, "message": "expected an object"}])
    key = req.header("idempotency-key")
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters", code="validation_error",
                         details=[{"field": "Idempotency-Key", "message": "bad length"}])
    try:
        submitted = submit_run(req.engine, req.tenant_id, options, trigger=Trigger.HTTP,
                               requested_by=_requested_by(req), idempotency_key=key)
    except ActiveRunConflict as err:
        raise Conflict(str(err), code="active_run",
                       extra={"active_run_id": err.active_run_id, "active_status": err.active_status}) from None
    except EnqueueFailed as err:
        raise ServiceUnavailable("the run could not be queued and was marked Failed; submit again shortly",
                                 code="queue_unavailable", retry_after_s=QUEUE_RETRY_AFTER_S,
                                 extra={"run_id": err.run.run_id if err.run else None}) from None
    run = submitted.run
    return Reply(run, 202, {"Location": run.links.self})


@bp.route(route="powerfill/runs", methods=["GET"], auth_level=ANONYMOUS)
@http_endpoint
def list_runs_http(req: ApiRequest):
    limit = req.query_int("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    statuses = None
    if req.query("status"):
        try:
            statuses = [RunStatus(s.strip()) for s in req.query("status").split(",") if s.strip()]
        except ValueError:
            raise BadRequest("unknown status", code="validation_error",
                             details=[{"field": "status", "message": f"one or more of: {', '.join(s.value for s in RunStatus)}"}]) from None
    return list_runs(req.engine, req.tenant_id, limit=limit, cursor=req.query("cursor"), statuses=statuses)


@bp.route(route="powerfill/runs/{run_id}", methods=["GET"], auth_level=ANONYMOUS)
@http_endpoint
def get_run_http(req: ApiRequest):
    run = get_run_view(req.engine, req.tenant_id, req.route_param("run_id"))
    if run is None:
        raise NotFound("no run with this id")
    return run


@bp.route(route="powerfill/runs/{run_id}/cancel", methods=["POST"], auth_level=ANONYMOUS)
@http_endpoint
def cancel_run_http(req: ApiRequest):
    try:
        result = cancel_run(req.engine, req.tenant_id, req.route_param("run_id"))
    except RunNotFound:
        raise NotFound("no run with this id") from None
    except RunAlreadyTerminal as err:
        raise Conflict(str(err), code="run_terminal", extra={"status": err.status}) from None
    return Reply(result.response, 200 if result.finished_now else 202)
