"""Keyset pagination: an opaque cursor holds the last row's key; the next page starts after it.

The cursor is base64url JSON `{"r": report, "k": [key values]}`, so a cursor from one report is
refused by another. The comparison is spelled out as `(a > x) OR (a = x AND b > y)` because SQL
Server has no row-value comparison.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Sequence

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement

from pipeline.reports.errors import BadReportRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise BadReportRequest("limit must be an integer", field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadReportRequest(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


def encode_cursor(report: str, key: Sequence[Any]) -> str:
    raw = json.dumps({"r": report, "k": list(key)}, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(report: str, cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        doc = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        key = doc["k"]
        ok = doc.get("r") == report and isinstance(key, list) and len(key) == arity
        ok = ok and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in key)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, UnicodeError):
        ok = False
    if not ok:
        raise BadReportRequest("cursor is not valid for this report; use next_cursor from a previous page", field="cursor")
    return key


def after(columns: Sequence[ColumnElement], key: Sequence[Any]) -> ColumnElement:
    """Rows strictly after `key` in the order of `columns` (all ascending)."""
    clauses = []
    for i, col in enumerate(columns):
        clauses.append(and_(*[columns[j] == key[j] for j in range(i)], col > key[i]))
    return or_(*clauses)


def key_after(row_key: Sequence[Any], key: Sequence[Any]) -> bool:
    """The same test in Python, for reports computed in memory."""
    return tuple(row_key) > tuple(key)
