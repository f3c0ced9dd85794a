"""HTTP adapters of the tenant's schedules: GET lists them, PUT replaces the whole set."""

from __future__ import annotations

import azure.functions as func
from pydantic import TypeAdapter, ValidationError

from pipeline.api import ApiRequest, BadRequest, http_endpoint, invalid
from pipeline.api.contracts import ScheduleIn
from pipeline.runs.config import get_config
from pipeline.runs.schedules import ScheduleInvalid, list_schedules, replace_schedules

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS
_schedule_list = TypeAdapter(list[ScheduleIn])


@bp.route(route="powerfill/schedules", methods=["GET"], auth_level=ANONYMOUS)
@http_endpoint
def list_schedules_http(req: ApiRequest):
    return list_schedules(req.engine, req.tenant_id, get_config().clock())


@bp.route(route="powerfill/schedules", methods=["PUT"], auth_level=ANONYMOUS)
@http_endpoint
def put_schedules_http(req: ApiRequest):
    body = req.json()
    if isinstance(body, dict) and set(body) == {"items"}:
        body = body["items"]
    try:
        items = _schedule_list.validate_python(body)
    except ValidationError as err:
        raise invalid(err, "the schedules failed validation") from None
    try:
        return replace_schedules(req.engine, req.tenant_id, items, get_config().clock())
    except ScheduleInvalid as err:
        raise BadRequest("the schedules failed validation", code="validation_error", details=err.details) from None
