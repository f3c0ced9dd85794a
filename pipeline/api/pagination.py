"""Keyset pagination shared by every list route: an opaque cursor and the page envelope.

A cursor is the sort key of the last row returned, JSON in URL-safe base64; the next page is
`WHERE key < cursor` in the route's order, so pages stay stable while rows are added. Callers
never build cursors; a tampered one is a 400.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from pipeline.api.errors import BadRequest

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None  # absent on the last page
    limit: int


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, json.JSONDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != arity:
        raise invalid_cursor()
    return key


def invalid_cursor() -> BadRequest:
    return BadRequest("the cursor is not valid; start again without it", code="validation_error",
                      details=[{"field": "cursor", "message": "not a cursor this API issued"}])
