"""Report columns and how their cells are written.

Kinds: `money` (2 decimals), `value` (prices, values, carry: 8 decimals), `rate` (input rates and
coupons: 6), `pct` (2), `int`, `bool`, `date`, `text`. Decimals are written at their scale, in JSON
as strings (as everywhere in the API: never rounded by a JSON float) and in CSV as plain numbers,
so files are stable and diffable.

CSV cells that a spreadsheet would execute (text starting with = + - @, tab or carriage return) are
prefixed with a single quote. Only text cells can start that way: numbers are formatted here and
are plain numbers, so a negative amount stays a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric

SCALES = {"money": 2, "value": 8, "rate": 6, "pct": 2}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Col:
    name: str
    kind: str = "text"


def kind_of(column) -> str:  # noqa: ANN001 - a SQLAlchemy Column
    t = column.type
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, Numeric):
        return {2: "money", 8: "value"}.get(t.scale, "rate")
    if isinstance(t, Integer):
        return "int"
    if isinstance(t, (Date, DateTime)):
        return "date"
    return "text"


def _quantize(value: Any, scale: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)


def json_cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind in SCALES:
        return f"{_quantize(value, SCALES[kind]):f}"
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value if isinstance(value, str) else str(value)


def neutralise(text: str) -> str:
    """Make text inert in a spreadsheet: a leading formula character gets a ' in front."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in SCALES:
        return f"{_quantize(value, SCALES[kind]):f}"
    if kind == "int":
        return str(int(value))
    if kind == "bool":
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return neutralise(str(value))
