"""Reading an uploaded file into raw rows: bytes → text → (line, row, {column: cell}).

Owns everything about the *file* rather than its values: the UTF-8 check (with the byte offset of
the first bad byte), an optional BOM, the empty file, the CSV header (missing, unknown, repeated
columns), the field size limit, malformed CSV or JSON, and row widths. File-level problems stop
the read; row-level ones are recorded and the read goes on so one upload reports them all.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from typing import Any, Iterator

from pipeline.inputs.errors import ErrorList, InputError, display_value
from pipeline.inputs.kinds import Kind

# No input column is longer than 1,000 characters; anything past this is not a cell but a
# mistake (or an attack), refused before it is held as a Python string per row.
FIELD_SIZE_LIMIT = 100_000
BOM = b"\xef\xbb\xbf"
FORMATS = ("csv", "json")

RawRow = tuple[int | None, int | None, dict[str, Any]]  # (CSV line, JSON index, cells)


def read_rows(kind: Kind, data: bytes, fmt: str, filename: str, errors: ErrorList) -> Iterator[RawRow]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use csv or json)")
    text = _decode(data, filename, errors)
    if text is None:
        return iter(())
    if not text.strip():
        errors.add(InputError(filename, 1, None, None, "empty file: no header row" if fmt == "csv" else "empty file"))
        return iter(())
    if fmt == "csv":
        return _csv_rows(kind, text, filename, errors)
    return _json_rows(text, filename, errors)


def _decode(data: bytes, filename: str, errors: ErrorList) -> str | None:
    skip = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = skip + err.start
        line = data.count(b"\n", 0, offset) + 1
        bad = data[offset:offset + 1].hex()
        errors.add(InputError(filename, line, None, None, f"not UTF-8: invalid byte 0x{bad} at byte offset {offset}"))
        return None


# ------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------

def _csv_rows(kind: Kind, text: str, filename: str, errors: ErrorList) -> Iterator[RawRow]:
    # The limit is process-wide in the csv module; every reader of input files wants the same.
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = _read_header(kind, reader, text, filename, errors)
    if header is None:
        return
    width = len(header)
    consumed = reader.line_num
    while True:
        start = consumed + 1  # a quoted cell may span lines: report the line the record starts on
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            _csv_error(err, text, start, header, filename, errors)
            return
        consumed = reader.line_num
        if not cells:
            continue  # a blank line
        if len(cells) != width:
            errors.add(InputError(filename, start, None, None, f"row has {len(cells)} fields, the header has {width}"))
            continue
        yield start, None, dict(zip(header, cells))


def _read_header(kind: Kind, reader: Any, text: str, filename: str, errors: ErrorList) -> list[str] | None:
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as err:
        _csv_error(err, text, 1, None, filename, errors)
        return None
    before = errors.total
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.add(InputError(filename, 1, name, name, f"column {name!r} appears twice in the header"))
        elif name not in kind.columns:
            errors.add(InputError(filename, 1, name, name, f"unknown column {name!r} (expected: {', '.join(kind.columns)})"))
        seen.add(name)
    for name in kind.columns:
        if name in kind.required and name not in seen:
            errors.add(InputError(filename, 1, name, None, f"missing required column {name!r}"))
    return None if errors.total > before else header


def _csv_error(err: csv.Error, text: str, line: int, header: list[str] | None, filename: str, errors: ErrorList) -> None:
    index = _locate_bad_field(text, _line_offset(text, line))
    column = None
    if index is not None:
        column = header[index] if header and index < len(header) else f"field {index + 1}"
    message = str(err)
    if "field larger than field limit" in message:
        message = f"field larger than the {FIELD_SIZE_LIMIT:,}-character limit"
    else:
        message = f"malformed CSV: {message}"
    errors.add(InputError(filename, line, column, None, message))


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset


# One CSV field: quoted (doubled quotes inside, may span lines), unquoted, or empty.
_FIELD = re.compile(r'"[^"]*(?:""[^"]*)*"|[^,"\r\n][^,\r\n]*|')


def _locate_bad_field(text: str, offset: int) -> int | None:
    """The index of the first field of the record at `offset` that is oversized or malformed."""
    index, pos = 0, offset
    while True:
        match = _FIELD.match(text, pos)
        end = match.end()
        if end - pos > FIELD_SIZE_LIMIT:
            return index
        if end >= len(text) or text[end] in "\r\n":
            return None
        if text[end] != ",":
            return index  # e.g. text after a closing quote, or a quote never closed
        index, pos = index + 1, end + 1


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------

def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _json_rows(text: str, filename: str, errors: ErrorList) -> Iterator[RawRow]:
    try:
        doc = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        errors.add(InputError(filename, err.lineno, None, None, f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}"))
        return
    except ValueError as err:
        errors.add(InputError(filename, None, None, None, f"malformed JSON: {err}"))
        return
    if not isinstance(doc, list):
        errors.add(InputError(filename, None, None, None, "expected a JSON array of row objects"))
        return
    for index, item in enumerate(doc):
        if not isinstance(item, dict):
            errors.add(InputError(filename, None, None, display_value(item), "expected an object", row=index))
            continue
        oversized = [k for k, v in item.items() if isinstance(v, str) and len(v) > FIELD_SIZE_LIMIT]
        for key in oversized:
            errors.add(InputError(filename, None, key, display_value(item[key]),
                                  f"field larger than the {FIELD_SIZE_LIMIT:,}-character limit", row=index))
        if not oversized:
            yield None, index, item
