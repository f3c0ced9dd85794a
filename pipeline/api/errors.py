"""The HTTP API's errors: one class per answer, one JSON shape for all (DESIGN.md §5).

    ApiError(status, code, message, details)      -> {"error": code, "message": text, "details": [...]}
    ├── BadRequest            400  bad_request / validation_error / malformed_json / malformed_csv
    ├── Unauthorized          401  unauthorized
    ├── NotFound              404  not_found (also another tenant's run: never 403)
    ├── MethodNotAllowed      405  method_not_allowed
    ├── Conflict              409  conflict (BR-8 active_run, run_terminal, inputs_locked, ...)
    ├── Gone                  410  gone (outputs removed by retention)
    ├── PayloadTooLarge       413  payload_too_large
    ├── UnsupportedMediaType  415  unsupported_media_type
    └── ServiceUnavailable    503  service_unavailable (+ Retry-After)

Handlers raise these; the wrapper in `pipeline.api.http` turns them, pydantic ValidationError,
transient infrastructure errors (503) and anything else (500, no stack trace) into responses.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class ApiError(Exception):
    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: list[Any] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or []
        self.headers = headers or {}
        self.extra = extra or {}  # more top-level fields of the body (409: active_run_id, ...)

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details, **self.extra}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class NotFound(ApiError):
    status, code = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Gone(ApiError):
    status, code = 410, "gone"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"

    def __init__(self, message: str, *, retry_after_s: int = 5, **kw: Any):
        super().__init__(message, **kw)
        self.headers.setdefault("Retry-After", str(retry_after_s))


def validation_details(err: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """pydantic errors as [{"field": "options.scope", "message": ..., "type": ...}], input never echoed."""
    out = []
    for e in err.errors(include_url=False, include_input=False):
        loc = [*prefix, *e["loc"]]
        out.append({"field": ".".join(str(p) for p in loc) or None, "message": e["msg"], "type": e["type"]})
    return out


def invalid(err: ValidationError, message: str = "request failed validation", prefix: tuple[str | int, ...] = ()) -> BadRequest:
    return BadRequest(message, code="validation_error", details=validation_details(err, prefix))
