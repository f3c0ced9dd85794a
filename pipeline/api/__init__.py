"""The HTTP API's edge: pydantic contracts, the error tree, pagination and the one wrapper.

Blueprints import from here:

    from pipeline.api import ApiRequest, Reply, http_endpoint, NotFound, Conflict, Gone, ...

See `pipeline.api.http` for how to write a handler.
"""

from pipeline.api.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Gone,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    invalid,
    validation_details,
)
from pipeline.api.http import ApiRequest, Reply, error_response, http_endpoint, json_response, parse_json
from pipeline.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor

__all__ = [
    "ApiError", "BadRequest", "Conflict", "Gone", "MethodNotAllowed", "NotFound", "PayloadTooLarge",
    "ServiceUnavailable", "Unauthorized", "UnsupportedMediaType", "invalid", "validation_details",
    "ApiRequest", "Reply", "error_response", "http_endpoint", "json_response", "parse_json",
    "DEFAULT_LIMIT", "MAX_LIMIT", "Page", "decode_cursor", "encode_cursor",
]
