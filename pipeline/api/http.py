"""The one HTTP wrapper: every route's authentication, body limits, log context and error shape.

Use it under the blueprint's route decorator; the handler receives an `ApiRequest` (authenticated
`tenant_id`, the tenant's `engine`, body helpers) and returns a pydantic model, a dict/list (200
JSON), a `Reply` (status/headers of your choice) or a ready `func.HttpResponse` (CSV, ...)::

    bp = func.Blueprint()

    @bp.route(route="powerfill/runs/{run_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    @http_endpoint
    def get_run(req: ApiRequest):
        run = runs.get_run(req.engine, req.tenant_id, req.route_param("run_id"))
        if run is None:
            raise NotFound("no such run")
        return run                                     # 200 JSON

    @bp.route(route="powerfill/status", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    @http_endpoint(authenticate=False)                 # no API key needed (req.tenant_id is None)
    def status(req: ApiRequest): ...

Body helpers: `req.json(Model)` (415 unless JSON, 413 over POWERFILL_MAX_BODY_BYTES, 400 with line
and column when malformed, 400 with field errors when invalid), `req.body_bytes()` and
`req.require_content_type("text/csv", ...)` for other formats, `req.query_int(...)`.

What the wrapper answers for the handler (the order of `except` clauses below):
- `ApiError` subclasses (pipeline.api.errors) -> their status, code, details, headers;
- pydantic `ValidationError` escaping a service -> 400 validation_error with field errors;
- transient infrastructure errors (database, queue) -> 503 with Retry-After;
- anything else -> 500 {"error": "internal_error", "message": "... reference <id>"}; the stack
  trace goes to the log under that reference, never to the caller.
Every log line of the request carries `operation` (the function name) and `tenant_id`.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from pipeline.api.auth import authenticate as _authenticate
from pipeline.api.errors import (
    ApiError,
    BadRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    invalid,
)
from pipeline.db.errors import DatabaseError, TransientDatabaseError, classify
from pipeline.settings import get_settings
from pipeline.telemetry import log_context, span_from_traceparent

log = logging.getLogger("pipeline.api")

M = TypeVar("M", bound=BaseModel)
JSON_TYPES = ("application/json",)
RETRY_AFTER_S = 5


@dataclass
class Reply:
    """A JSON answer with a status other than 200 and/or extra headers (202 + Location, ...)."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class ApiRequest:
    """The handler's view of the request: tenant, engine, parsed parts."""

    def __init__(self, raw: func.HttpRequest, tenant_id: str | None):
        self.raw = raw
        self.tenant_id = tenant_id
        self._engine: Engine | None = None

    # --- tenant ---------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The authenticated tenant's database engine (cached per URL)."""
        if self._engine is None:
            from pipeline.db.engine import get_engine
            from pipeline.tenants import get_registry

            if self.tenant_id is None:
                raise RuntimeError("this endpoint is not authenticated; it has no tenant engine")
            self._engine = get_engine(get_registry().get(self.tenant_id).database_url)
        return self._engine

    # --- url ------------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return self.raw.method.upper()

    def route_param(self, name: str) -> str:
        return self.raw.route_params.get(name, "")

    def query(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.params.get(name)
        return default if value is None or value == "" else value

    def query_int(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = self.query(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(f"query parameter {name!r} must be an integer", code="validation_error",
                             details=[{"field": name, "message": "not an integer"}]) from None
        if not minimum <= value <= maximum:
            raise BadRequest(f"query parameter {name!r} must be between {minimum} and {maximum}", code="validation_error",
                             details=[{"field": name, "message": f"must be between {minimum} and {maximum}"}])
        return value

    def header(self, name: str) -> str | None:
        return self.raw.headers.get(name)

    # --- body -----------------------------------------------------------------------------
    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case ('' when absent)."""
        return (self.raw.headers.get("content-type") or "").split(";")[0].strip().lower()

    def body_bytes(self) -> bytes:
        limit = get_settings().max_body_bytes
        declared = self.raw.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        body = self.raw.get_body() or b""
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        return body

    def require_content_type(self, *allowed: str) -> str:
        media = self.content_type
        if media not in allowed and not ("application/json" in allowed and media.endswith("+json")):
            raise UnsupportedMediaType(f"Content-Type must be one of: {', '.join(allowed)}",
                                       details=[{"received": media or None}])
        return media

    def json(self, model: type[M] | None = None, *, empty: Any = ..., prefix: tuple[str | int, ...] = ()) -> Any:
        """The body parsed as JSON and validated against `model`.

        `empty`: the value used for an empty body (default: an empty body is a 400)."""
        body = self.body_bytes()
        if not body.strip():
            if empty is ...:
                raise BadRequest("a JSON body is required", code="malformed_json")
            data = empty
        else:
            self.require_content_type(*JSON_TYPES)
            data = parse_json(body)
        if model is None:
            return data
        try:
            return model.model_validate(data)
        except ValidationError as err:
            raise invalid(err, prefix=prefix) from None


def parse_json(body: bytes) -> Any:
    """JSON from bytes; malformed -> 400 naming the line and column."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadRequest("the body is not UTF-8", code="malformed_json",
                         details=[{"byte": err.start, "message": "invalid UTF-8"}]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise BadRequest(f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}", code="malformed_json",
                         details=[{"line": err.lineno, "column": err.colno, "message": err.msg}]) from None


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    if isinstance(body, BaseModel):
        text = body.model_dump_json()
    else:
        text = json.dumps(body, default=_json_default, separators=(",", ":"))
    return func.HttpResponse(text, status_code=status, headers=headers or {}, mimetype="application/json", charset="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def error_response(err: ApiError) -> func.HttpResponse:
    return json_response(err.body(), err.status, err.headers)


def _is_transient(err: BaseException) -> bool:
    from pipeline.runs.queue import QueueUnavailable

    if isinstance(err, (TransientDatabaseError, QueueUnavailable)):
        return True
    if isinstance(err, (sa_exc.SQLAlchemyError, DatabaseError)):
        return isinstance(classify(err), TransientDatabaseError)
    return False


def _to_response(result: Any) -> func.HttpResponse:
    if isinstance(result, func.HttpResponse):
        return result
    if isinstance(result, Reply):
        return json_response(result.body, result.status, result.headers)
    return json_response(result)


Handler = Callable[[ApiRequest], Any]


def http_endpoint(handler: Handler | None = None, *, authenticate: bool = True) -> Any:
    """Wrap `handler(ApiRequest)` as a Functions HTTP function `(req: func.HttpRequest) -> HttpResponse`.

    Usable bare (`@http_endpoint`) or with options (`@http_endpoint(authenticate=False)`)."""
    if handler is None:
        return lambda h: http_endpoint(h, authenticate=authenticate)

    operation = handler.__name__

    def endpoint(req: func.HttpRequest) -> func.HttpResponse:
        # Continue the caller's W3C trace, so a submit and the queue execution it causes are one trace.
        with log_context(operation=operation), span_from_traceparent(operation, req.headers.get("traceparent")):
            try:
                tenant_id = _authenticate(req) if authenticate else None
                with log_context(tenant_id=tenant_id):
                    return _to_response(handler(ApiRequest(req, tenant_id)))
            except ApiError as err:
                if err.status >= 500:
                    log.warning("%s answered %d: %s", operation, err.status, err.message)
                return error_response(err)
            except ValidationError as err:
                return error_response(invalid(err))
            except Exception as err:  # noqa: BLE001 - the edge: nothing escapes as a stack trace
                if _is_transient(err):
                    log.warning("%s: transient infrastructure error, answering 503: %s", operation, err)
                    return error_response(ServiceUnavailable("a backing service is unavailable; retry shortly",
                                                             retry_after_s=RETRY_AFTER_S))
                reference = uuid.uuid4().hex[:12]
                log.exception("%s failed (reference %s)", operation, reference)
                return error_response(ApiError(f"internal error; reference {reference}", details=[{"reference": reference}]))

    # The Functions indexer reads the signature: it must be exactly (req: func.HttpRequest).
    endpoint.__name__ = endpoint.__qualname__ = operation
    endpoint.__doc__ = handler.__doc__
    endpoint.__module__ = handler.__module__
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("req", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=func.HttpRequest)],
        return_annotation=func.HttpResponse,
    )
    endpoint.handler = handler  # type: ignore[attr-defined]
    return endpoint


__all__ = ["ApiRequest", "Reply", "http_endpoint", "json_response", "error_response", "parse_json"]
