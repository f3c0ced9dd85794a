"""Writing a tenant's inputs back out, in exactly the format the importer reads.

Canonical CSV: UTF-8 without BOM, `\\n` line ends, the header with every column of the kind in
file order, rows sorted by key (in Python, so the order does not depend on a database collation),
minimal quoting, and each cell in `cells.format_cell`'s form (decimals exact without trailing
zeros, e.g. `330000` and `6.125`). Exporting, importing into a fresh tenant and exporting again
gives the same bytes. Cells are written as stored: formula-looking text is not neutralised here,
because this file is meant to be imported again (report exports do neutralise).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, Numeric, select
from sqlalchemy.engine import Engine

from pipeline.db.engine import READ_ONLY
from pipeline.inputs.cells import format_cell, format_decimal, json_value
from pipeline.inputs.kinds import Kind, get_kind


def _stored_rows(engine: Engine, tenant_id: str, kind: Kind) -> list[tuple]:
    table = kind.table
    stmt = select(*(table.c[c] for c in kind.columns)).where(table.c.tenant_id == tenant_id)
    with engine.connect().execution_options(**READ_ONLY) as conn:
        rows = [tuple(r) for r in conn.execute(stmt)]
    key_at = [kind.columns.index(c) for c in kind.key]
    rows.sort(key=lambda r: tuple(r[i] for i in key_at))
    return rows


def _formatter(kind: Kind, column: str):
    """The canonical cell writer of a column (chosen once per column, not per cell)."""
    sql_type = kind.table.c[column].type
    if isinstance(sql_type, Numeric) and not sql_type.asdecimal:
        return format_cell
    if isinstance(sql_type, Numeric):
        return lambda v: "" if v is None else format_decimal(v) if isinstance(v, Decimal) else format_cell(v)
    if isinstance(sql_type, (Boolean, Date)):
        return format_cell
    return lambda v: "" if v is None else str(v)


def export_kind_csv(engine: Engine, tenant_id: str, kind: str) -> bytes:
    """The tenant's rows of `kind` as a CSV file the importer accepts."""
    spec = get_kind(kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spec.columns)
    formatters = [_formatter(spec, c) for c in spec.columns]
    writer.writerows([f(v) for f, v in zip(formatters, row)] for row in _stored_rows(engine, tenant_id, spec))
    return out.getvalue().encode("utf-8")


def export_kind_json(engine: Engine, tenant_id: str, kind: str) -> list[dict[str, Any]]:
    """The tenant's rows of `kind` as JSON-ready objects (the importer accepts them back):
    decimals as numbers, dates as `YYYY-MM-DD`, null for empty, `products` as an array."""
    spec = get_kind(kind)
    rows = []
    for row in _stored_rows(engine, tenant_id, spec):
        item = {c: json_value(v) for c, v in zip(spec.columns, row)}
        if "products" in item and item["products"] is not None:
            item["products"] = item["products"].split(";")
        rows.append(item)
    return rows
