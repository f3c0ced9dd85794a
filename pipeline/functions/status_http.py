"""GET /api/powerfill/status: version, schema revision, database and queue reachability."""

from __future__ import annotations

import azure.functions as func

from pipeline.api import ApiRequest, http_endpoint
from pipeline.runs.status import service_status

bp = func.Blueprint()


@bp.route(route="powerfill/status", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_endpoint
def status_http(req: ApiRequest):
    return service_status(req.tenant_id)
