"""GET /api/powerfill/openapi.json: the API's OpenAPI document (no API key needed)."""

from __future__ import annotations

import azure.functions as func

from pipeline.api import ApiRequest, http_endpoint
from pipeline.api.openapi import openapi_document

bp = func.Blueprint()


@bp.route(route="powerfill/openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_endpoint(authenticate=False)
def get_openapi(req: ApiRequest):
    """The OpenAPI 3.1 description of every route."""
    return openapi_document()
