"""Who is calling: the tenant from the API key, or from App Service Authentication (DESIGN.md §7).

A key arrives as `Authorization: Bearer <key>` or `x-api-key: <key>` and is looked up hashed in the
tenant registry. Only with `POWERFILL_AUTH_MODE=easy_auth` is the `x-ms-client-principal` header
(set by the platform, never by the caller, in that mode) trusted for its `tenant_id` claim. An
`X-Tenant-Id` header is never a credential; when sent it must name the authenticated tenant.
"""

from __future__ import annotations

import base64
import json

import azure.functions as func

from pipeline.api.errors import Unauthorized
from pipeline.settings import get_settings
from pipeline.tenants import UnknownTenant, get_registry

PRINCIPAL_HEADER = "x-ms-client-principal"
TENANT_CLAIM = "tenant_id"


def presented_key(req: func.HttpRequest) -> str | None:
    auth = req.headers.get("authorization") or ""
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    key = (req.headers.get("x-api-key") or "").strip()
    return key or None


def _principal_tenant(req: func.HttpRequest) -> str | None:
    raw = req.headers.get(PRINCIPAL_HEADER)
    if not raw:
        return None
    try:
        principal = json.loads(base64.b64decode(raw))
        claims = principal.get("claims") or []
        values = [c.get("val") for c in claims if isinstance(c, dict) and c.get("typ") == TENANT_CLAIM]
    except (ValueError, AttributeError, TypeError):
        raise Unauthorized("the client principal header is not valid") from None
    return values[0] if values and isinstance(values[0], str) else None


def authenticate(req: func.HttpRequest) -> str:
    """The caller's tenant id, or Unauthorized."""
    registry = get_registry()
    tenant_id = None
    key = presented_key(req)
    if key is not None:
        tenant_id = registry.tenant_for_key(key)
        if tenant_id is None:
            raise Unauthorized("the API key is not valid")
    elif get_settings().auth_mode == "easy_auth":
        tenant_id = _principal_tenant(req)
        if tenant_id is not None:
            try:
                registry.get(tenant_id)
            except UnknownTenant:
                raise Unauthorized("the principal's tenant is not registered") from None
    if tenant_id is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>' or 'x-api-key'")
    claimed = req.headers.get("x-tenant-id")
    if claimed is not None and claimed != tenant_id:
        raise Unauthorized("X-Tenant-Id does not match the authenticated tenant", code="tenant_mismatch")
    return tenant_id
