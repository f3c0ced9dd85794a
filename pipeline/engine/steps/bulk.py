"""Fast writes of the steps' output rows (the candidate table alone holds ~800K rows at 100K loans).

SQLAlchemy's executemany processes every bound value in Python; the steps hand tuples to the
driver's executemany in chunks instead, converting each value the way SQLAlchemy would bind it
for that column type: on SQLite a NUMERIC is bound as the float nearest the exact decimal (what
SQLAlchemy's own Numeric binding does), a DATE as its ISO string (SQLAlchemy's SQLite storage
format), a BOOLEAN as 0/1; other drivers take Decimal, date and bool natively.

Large tables are built column-wise (`ColumnRows`: scaled-integer numpy arrays, never a Decimal
per value); small ones as dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Boolean, Date, Numeric, Table, delete
from sqlalchemy.engine import Connection

from pipeline.engine.runner import RunContext, Step, StepOutput

CHUNK = 20_000


class ColumnRows:
    """Rows held as columns: `columns[name]` is a list (bound as is), or `(ndarray, places)` for
    exact integers in 10**-places units. Missing table columns are null; run_id/tenant_id added."""

    def __init__(self, n: int, columns: dict[str, Any]):
        self.n, self.columns = n, columns

    def __len__(self) -> int:
        return self.n

    def chunks(self, dialect: str, table: Table, run_id: str, tenant_id: str) -> Iterator[list[tuple]]:
        names = [c.name for c in table.c]
        convs = {c.name: _converter(dialect, c) for c in table.c}
        for a in range(0, self.n, CHUNK):
            b = min(a + CHUNK, self.n)
            cols = []
            for name in names:
                if name == "run_id":
                    cols.append([run_id] * (b - a))
                elif name == "tenant_id":
                    cols.append([tenant_id] * (b - a))
                elif name not in self.columns:
                    cols.append([None] * (b - a))
                else:
                    v = self.columns[name]
                    if isinstance(v, tuple):
                        cols.append(numbers(dialect, v[0][a:b], v[1]))
                    elif convs[name] is not None:
                        cols.append([convs[name](x) for x in v[a:b]])
                    else:
                        cols.append(list(v[a:b]))
            yield list(zip(*cols))


def numbers(dialect: str, arr: np.ndarray, places: int) -> list:
    """Bindable numbers for exact integers in 10**-places units."""
    if dialect == "sqlite":
        return (arr / float(10**places)).tolist()  # IEEE division: the float nearest the decimal
    return [Decimal(v).scaleb(-places) for v in arr.tolist()]


def _converter(dialect: str, column) -> Callable[[Any], Any] | None:
    if dialect != "sqlite":
        return None
    if isinstance(column.type, Numeric):
        return lambda v: None if v is None else float(v)
    if isinstance(column.type, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(column.type, Boolean):
        return lambda v: None if v is None else int(v)
    return None


def dict_chunks(dialect: str, table: Table, rows: list[dict], run_id: str, tenant_id: str) -> Iterator[list[tuple]]:
    names = [c.name for c in table.c]
    convs = [_converter(dialect, c) for c in table.c]
    for a in range(0, len(rows), CHUNK):
        out = []
        for r in rows[a:a + CHUNK]:
            values = []
            for name, conv in zip(names, convs):
                v = run_id if name == "run_id" else tenant_id if name == "tenant_id" else r.get(name)
                values.append(conv(v) if conv is not None else v)
            out.append(tuple(values))
        yield out


def insert_tuples(conn: Connection, table: Table, names: Sequence[str], chunks: Iterator[list[tuple]]) -> None:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    for chunk in chunks:
        if chunk:
            conn.exec_driver_sql(sql, chunk)


class BulkWriteStep(Step):
    """A step whose `write` replaces its tables' rows for the run through `insert_tuples`."""

    def write(self, conn: Connection, ctx: RunContext, output: StepOutput) -> None:
        for table in self.tables:
            conn.execute(delete(table).where(table.c.run_id == ctx.run_id))
        dialect = conn.dialect.name
        for table, rows in output.rows.items():
            if table not in self.tables:
                raise RuntimeError(f"step {self.name} wrote {table.name}, which it does not own")
            names = [c.name for c in table.c]
            if isinstance(rows, ColumnRows):
                chunks = rows.chunks(dialect, table, ctx.run_id, ctx.tenant_id)
            else:
                chunks = dict_chunks(dialect, table, rows, ctx.run_id, ctx.tenant_id)
            insert_tuples(conn, table, names, chunks)
