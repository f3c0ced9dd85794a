"""Writes a demo book in the CSV file format of ENGINE.md §2: `<kind>.csv`, a header of exactly
the kind's columns (the schema's, without `tenant_id`), dates YYYY-MM-DD, booleans true/false,
lists `;`-separated, an empty cell for null — plus `dataset.json` (size, seed, as_of_date, counts).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from operator import itemgetter
from pathlib import Path

from pipeline.db.schema import INPUT_TABLES

COLUMNS: dict[str, list[str]] = {
    kind: [c.name for c in table.columns if c.name != "tenant_id"] for kind, table in INPUT_TABLES.items()
}


def cell(value) -> str:
    """One CSV cell: '' for null, true/false, YYYY-MM-DD, fixed-point decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _column(values: tuple) -> list[str]:
    # Fast path (2M cells for the large book): str() already gives ISO dates and ints; only
    # booleans, nulls and Decimals in exponent form (str(Decimal('1E+6'))) need `cell`.
    out = ["" if v is None else ("true" if v is True else "false" if v is False else str(v)) for v in values]
    if any("E" in s for s, v in zip(out, values) if type(v) is Decimal):
        out = [cell(v) for v in values]
    return out


def write_csvs(data: dict[str, list[dict]], out_dir: str | Path, manifest: dict | None = None) -> list[Path]:
    """Write one `<kind>.csv` per kind in `data` (and `dataset.json` when a manifest is given).

    Rows may omit a column (empty cell); keys that are not columns of the kind are an error."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, cols in COLUMNS.items():
        if kind not in data:
            continue
        rows = data[kind]
        unknown = sorted({k for r in rows for k in r} - set(cols))
        if unknown:
            raise ValueError(f"{kind}: unknown columns {unknown}")
        full = [r if len(r) == len(cols) else {c: r.get(c) for c in cols} for r in rows]
        get = itemgetter(*cols)
        columns = [_column(col) for col in zip(*map(get, full))] if full else [[] for _ in cols]
        path = out / f"{kind}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(cols)
            w.writerows(zip(*columns))
        written.append(path)
    if manifest is not None:
        path = out / "dataset.json"
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
