"""`powerfill export`: every output table of one run as `<table>.csv`, plus `summary.json`.

Rows are ordered by the table's primary key and numbers printed at their column's scale (money 2
decimals, prices and values 8), so two runs with the same inputs and options export byte-identical
tables (ENGINE.md §6 invariant 5). `summary.json` is the stored RunResponse; it holds timings.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Numeric, Table, select
from sqlalchemy.engine import Connection, Engine

from pipeline.db.engine import READ_ONLY
from pipeline.db.schema import OUTPUT_TABLES, run_history


def format_cell(value, column) -> str:
    """One cell as text: null empty, booleans true/false, decimals at the column's scale."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(column.type, Numeric) and column.type.scale is not None:
        return f"{Decimal(value):.{column.type.scale}f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def table_csv(conn: Connection, table: Table, run_id: str) -> str:
    columns = [c for c in table.columns if c.name not in ("run_id", "tenant_id")]
    order = [c for c in table.primary_key.columns if c.name != "run_id"]
    rows = conn.execute(select(*columns).where(table.c.run_id == run_id).order_by(*order))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow([format_cell(v, c) for v, c in zip(row, columns)])
    return out.getvalue()


def export_run(engine: Engine, tenant_id: str, run_id: str, out_dir: Path) -> list[Path]:
    """Write the run's tables and summary into `out_dir`; raises LookupError for an unknown run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with engine.connect().execution_options(**READ_ONLY) as conn:
        response = conn.execute(
            select(run_history.c.response_json, run_history.c.status)
            .where(run_history.c.run_id == run_id, run_history.c.tenant_id == tenant_id)
        ).first()
        if response is None:
            raise LookupError(f"run {run_id} not found for tenant {tenant_id}")
        for table in OUTPUT_TABLES:
            path = out_dir / f"{table.name}.csv"
            path.write_text(table_csv(conn, table, run_id), encoding="utf-8")
            written.append(path)
    summary = json.loads(response.response_json) if response.response_json else {"run_id": run_id, "status": response.status}
    path = out_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written.append(path)
    return written
