"""One page of a report (JSON), or the whole report as CSV, for one run of one tenant.

Every read goes through `readable_run` first (404 / 409 / 410), on a read-only connection.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Engine

from pipeline.db.engine import READ_ONLY
from pipeline.reports.catalog import REPORTS, ReportSpec
from pipeline.reports.columns import csv_cell, json_cell
from pipeline.reports.errors import UnknownReport
from pipeline.reports.paging import after, decode_cursor, encode_cursor, key_after
from pipeline.reports.runs import RunInfo, readable_run


@dataclass
class ReportPage:
    run: RunInfo
    spec: ReportSpec
    rows: list[dict[str, Any]]
    next_cursor: str | None
    limit: int

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "run_id": self.run.run_id,
            "report": self.spec.name,
            "status": self.run.status,
            "columns": [{"name": c.name, "kind": c.kind} for c in self.spec.columns],
            "rows": [{c.name: json_cell(r.get(c.name), c.kind) for c in self.spec.columns} for r in self.rows],
            "limit": self.limit,
            "next_cursor": self.next_cursor,
        }
        if self.run.note:
            body["note"] = self.run.note
        return body


def spec_for(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport(f"no report named {name!r}; reports: {', '.join(REPORTS)}") from None


def _rows(conn: Connection, spec: ReportSpec, run: RunInfo, cursor_key: list | None, limit: int | None) -> list[dict]:
    if spec.compute is not None:
        rows = spec.compute(conn, run.run_id, run.tenant_id)
        if cursor_key is not None:
            rows = [r for r in rows if key_after([r[k] for k in spec.key], cursor_key)]
        return rows if limit is None else rows[:limit]
    sel, key_cols = spec.query(run.run_id, run.tenant_id)
    if cursor_key is not None:
        sel = sel.where(after(key_cols, cursor_key))
    sel = sel.order_by(*key_cols)
    if limit is not None:
        sel = sel.limit(limit)
    return [dict(r) for r in conn.execute(sel).mappings()]


def _key_json(value: Any) -> Any:
    return value if isinstance(value, (int, str)) else str(value)


def report_page(engine: Engine, tenant_id: str, run_id: str, name: str, *, limit: int, cursor: str | None) -> ReportPage:
    spec = spec_for(name)
    cursor_key = decode_cursor(name, cursor, len(spec.key))
    with engine.connect().execution_options(**READ_ONLY) as conn:
        run = readable_run(conn, tenant_id, run_id)
        rows = _rows(conn, spec, run, cursor_key, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(name, [_key_json(rows[-1][k]) for k in spec.key]) if more and rows else None
    return ReportPage(run, spec, rows, nxt, limit)


def report_rows(engine: Engine, tenant_id: str, run_id: str, name: str) -> tuple[RunInfo, ReportSpec, list[dict]]:
    """Every row of a report (CSV export, report.html)."""
    spec = spec_for(name)
    with engine.connect().execution_options(**READ_ONLY) as conn:
        run = readable_run(conn, tenant_id, run_id)
        return run, spec, _rows(conn, spec, run, None, None)


def rows_csv(spec: ReportSpec, rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in spec.columns])
    for r in rows:
        writer.writerow([csv_cell(r.get(c.name), c.kind) for c in spec.columns])
    return out.getvalue()


def report_csv(engine: Engine, tenant_id: str, run_id: str, name: str) -> tuple[RunInfo, str]:
    run, spec, rows = report_rows(engine, tenant_id, run_id, name)
    return run, rows_csv(spec, rows)
