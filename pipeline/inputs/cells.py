"""Cell parsers and the canonical cell format of input files (ENGINE.md §2).

A parser takes one raw cell — a CSV string, or a JSON value — and returns the Python value or
None (an empty cell is null), or raises `CellError` with a message meant for the person who wrote
the file. They are strict on purpose: `1e3`, `1_000`, ` NaN`, `yes` or `2024/01/02` are rejected
rather than guessed at, and a number with more decimals than allowed is rejected, never rounded.

Magnitudes are capped at 15 significant digits (amounts below 10^13, rates and prices below
10^9): SQLite keeps NUMERIC as a double, which is exact to 15 digits, so every accepted value
survives a round trip through either database unchanged.

`format_cell` is the one canonical text form used by the CSV export: decimals exact, without
exponent or trailing zeros (`330000`, `6.125`, `0`); dates `YYYY-MM-DD`; booleans `true`/`false`;
null as an empty cell.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, Callable

Parser = Callable[[Any], Any]

AMOUNT_PLACES = 2
RATE_PLACES = 6
AMOUNT_LIMIT = Decimal(10) ** 13
RATE_LIMIT = Decimal(10) ** 9
PRICE_MIN, PRICE_MAX = Decimal(50), Decimal(150)

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_INTEGER = re.compile(r"[+-]?\d+\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_BOOLEANS = {"true": True, "false": False}


class CellError(ValueError):
    """A cell that does not parse; `column` is set when the error concerns another column."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


REQUIRED = "required: the cell is empty"
# Parsers remember the values of text they have parsed (note rates, dates and small integers
# repeat across 100,000 loans); the memo is bounded so hostile input cannot grow it.
MEMO_SIZE = 20_000


def decimal_cell(
    places: int,
    *,
    required: bool = False,
    ge: Decimal | int | None = None,
    gt: Decimal | int | None = None,
    le: Decimal | int | None = None,
) -> Parser:
    """A Decimal with at most `places` decimals (trailing zeros do not count)."""
    limit = AMOUNT_LIMIT if places <= AMOUNT_PLACES else RATE_LIMIT
    ge_ = None if ge is None else Decimal(ge)
    gt_ = None if gt is None else Decimal(gt)
    le_ = None if le is None else Decimal(le)
    kind = "amount" if places <= AMOUNT_PLACES else "rate or price"
    memo: dict[str, Decimal] = {}

    def check(value: Decimal, raw: Any) -> Decimal:
        if not -limit < value < limit:
            raise CellError(f"{kind} out of range: {_show(raw)} (must be below {limit:,})")
        if ge_ is not None and value < ge_:
            raise CellError(f"must be at least {ge_}: {_show(raw)}")
        if gt_ is not None and value <= gt_:
            raise CellError(f"must be greater than {gt_}: {_show(raw)}")
        if le_ is not None and value > le_:
            raise CellError(f"must be at most {le_}: {_show(raw)}")
        return value

    def parse(raw: Any) -> Decimal | None:
        if type(raw) is str:
            value = memo.get(raw)
            if value is not None:
                return value
            text = raw.strip()
            if not text:
                if required:
                    raise CellError(REQUIRED)
                return None
            if not _NUMBER.match(text):
                raise CellError(f"not a number: {_show(raw)}")
            dot = text.find(".")
            # Count decimals on the text (cheap); trailing zeros do not count.
            if dot >= 0 and len(text) - dot - 1 > places and len(text[dot + 1:].rstrip("0")) > places:
                raise CellError(f"{kind} has more than {places} decimals: {_show(raw)} (not rounded)")
            value = check(Decimal(text), raw)
            if len(memo) < MEMO_SIZE:
                memo[raw] = value
            return value
        if raw is None:
            if required:
                raise CellError(REQUIRED)
            return None
        if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool):
            value = Decimal(raw)
            if not value.is_finite():
                raise CellError(f"not a finite number: {raw}")
            exponent = value.normalize().as_tuple().exponent
            if isinstance(exponent, int) and -exponent > places:
                raise CellError(f"{kind} has more than {places} decimals: {raw} (not rounded)")
            return check(value, raw)
        raise CellError(f"not a number: {_show(raw)}")

    return parse


def amount_cell(*, required: bool = False, ge: int | None = 0) -> Parser:
    return decimal_cell(AMOUNT_PLACES, required=required, ge=ge)


def rate_cell(*, required: bool = False, ge: int | None = None, gt: int | None = None, le: int | None = None) -> Parser:
    return decimal_cell(RATE_PLACES, required=required, ge=ge, gt=gt, le=le)


def price_cell(*, required: bool = False) -> Parser:
    return decimal_cell(RATE_PLACES, required=required, ge=PRICE_MIN, le=PRICE_MAX)


def int_cell(*, required: bool = False, ge: int | None = None, gt: int | None = None) -> Parser:
    memo: dict[str, int] = {}

    def parse(raw: Any) -> int | None:
        if type(raw) is str:
            value = memo.get(raw)
            if value is not None:
                return value
            text = raw.strip()
            if not text:
                if required:
                    raise CellError(REQUIRED)
                return None
            if not _INTEGER.match(text) or len(text) > 13:
                raise CellError(f"not an integer: {_show(raw)}")
            value = int(text)
        elif raw is None:
            if required:
                raise CellError(REQUIRED)
            return None
        elif isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        else:
            raise CellError(f"not an integer: {_show(raw)}")
        if abs(value) >= 10**12:
            raise CellError(f"integer out of range: {value}")
        if ge is not None and value < ge:
            raise CellError(f"must be at least {ge}: {value}")
        if gt is not None and value <= gt:
            raise CellError(f"must be greater than {gt}: {value}")
        if type(raw) is str and len(memo) < MEMO_SIZE:
            memo[raw] = value
        return value

    return parse


_date_memo: dict[str, date] = {}


def parse_date(raw: Any) -> date | None:
    if type(raw) is str:
        value = _date_memo.get(raw)
        if value is not None:
            return value
        text = raw.strip()
        if not text:
            return None
        if _DATE.match(text):
            try:
                value = date.fromisoformat(text)
            except ValueError:
                pass
            else:
                if len(_date_memo) < MEMO_SIZE:
                    _date_memo[raw] = value
                return value
    elif raw is None:
        return None
    raise CellError(f"not a date (YYYY-MM-DD): {_show(raw)}")


def _required(parse_optional: Parser, required: bool) -> Parser:
    """`parse_optional` as is, or wrapped so that an empty cell is an error."""
    if not required:
        return parse_optional

    def parse(raw: Any) -> Any:
        value = parse_optional(raw)
        if value is None:
            raise CellError(REQUIRED)
        return value

    return parse


def date_cell(*, required: bool = False) -> Parser:
    return _required(parse_date, required)


def parse_bool(raw: Any) -> bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        value = _BOOLEANS.get(raw.strip().lower())
        if value is not None:
            return value
    raise CellError(f"not a boolean (true/false): {_show(raw)}")


def bool_cell(*, required: bool = False) -> Parser:
    return _required(parse_bool, required)


def text_cell(*, required: bool = False) -> Parser:
    """Text is stored exactly as given (no trimming, no formula neutralisation: that is the
    report exporter's job); lengths are checked against the schema by the importer."""

    def parse(raw: Any) -> str | None:
        if type(raw) is str and raw:
            return raw
        if raw is None or raw == "":
            if required:
                raise CellError(REQUIRED)
            return None
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        raise CellError(f"not text: {_show(raw)}")

    return parse


def enum_cell(choices: tuple[str, ...], *, required: bool = False) -> Parser:
    allowed = frozenset(choices)
    shown = ", ".join(choices)

    def parse(raw: Any) -> str | None:
        if type(raw) is str and raw in allowed:
            return raw
        if raw is None or raw == "":
            if required:
                raise CellError(REQUIRED)
            return None
        raise CellError(f"must be one of {shown}: {_show(raw)}")

    return parse


def split_list(text: str) -> list[str]:
    """A `;`-separated list; elements are trimmed and must not be empty."""
    items = [item.strip() for item in text.split(";")]
    if any(not item for item in items):
        raise CellError(f"empty element in ';'-separated list: {_show(text)}")
    return items


def list_cell(*, required: bool = False) -> Parser:
    """A list, given as `a;b;c` (CSV or JSON) or a JSON array; stored joined by `;`."""

    def parse(raw: Any) -> str | None:
        if raw is None or raw == "" or raw == []:
            if required:
                raise CellError(REQUIRED)
            return None
        if isinstance(raw, str):
            return ";".join(split_list(raw))
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return ";".join(split_list(";".join(raw)))
        raise CellError(f"not a ';'-separated list: {_show(raw)}")

    return parse


def format_decimal(value: Decimal) -> str:
    text = str(value)
    if "E" in text or "e" in text:
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_cell(value: Any) -> str:
    """The canonical CSV text of a stored value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, float):  # a driver that hands back floats for NUMERIC
        return format_decimal(Decimal(repr(value)))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    """The JSON-ready form of a stored value: decimals as numbers (exact: at most 15
    significant digits, see above), dates as `YYYY-MM-DD`."""
    if isinstance(value, Decimal):
        value = value.normalize()
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return value


DISPLAY_LIMIT = 80


def _show(raw: Any) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return repr(text[:DISPLAY_LIMIT] + "…" if len(text) > DISPLAY_LIMIT else text)
