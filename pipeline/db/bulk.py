"""Bulk insert of many rows held as columns, by the fastest path each database offers.

SQLAlchemy's executemany converts every bound value in Python; at 100K loans the engine writes
~1M output rows, so rows go to the driver directly, on the caller's connection (and transaction):
- SQLite: multi-row `INSERT … VALUES (…), (…), …` through the driver's executemany (one statement
  step per ~100 rows instead of per row). A NUMERIC is bound as the float nearest the exact decimal
  (what SQLAlchemy's own Numeric binding does on SQLite), a DATE as its ISO text (SQLAlchemy's
  SQLite storage form), a BOOLEAN as 0/1;
- PostgreSQL (psycopg 3): `COPY … FROM STDIN` in text format, built column-wise
  (`pipeline.db.copy_text`); exact numbers as their decimal text;
- anything else (SQL Server): the driver's executemany of tuples in chunks, numbers as Decimals.

A column is a list of Python values (None, str, int, bool, Decimal, date), or `Scaled(array,
places)` for exact integers in 10**-places units (numpy int64) — written without a Decimal per
value. Both ends of an exact number agree: the SQLite float of `units / 10**places` is the one
float(Decimal) gives, and reading it back at the column's scale recovers the decimal exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Boolean, Date, Numeric, Table
from sqlalchemy.engine import Connection

from pipeline.db.copy_text import copy_lines, decimal_text, value_text
from pipeline.db.errors import classify

CHUNK = 20_000          # rows converted at once: bounds the flat parameter lists
# SQLite rows per multi-row VALUES, kept under the driver's variable limit (measured, 616K rows:
# 20 rows 2.98 s, 100 rows 2.74 s, 200 rows 2.63 s of CPU)
ROWS_PER_STATEMENT = 200
BIG_INSERT = 50_000     # SQLite: from this many rows, the insert runs with a larger page cache
BIG_CACHE_KIB = -131_072  # negative = KiB (128 MiB), released when the insert ends


@dataclass(frozen=True)
class Scaled:
    """Exact numbers as integers in 10**-places units."""

    units: np.ndarray
    places: int

    def __len__(self) -> int:
        return len(self.units)


Column = Sequence[Any] | Scaled


class ColumnRows:
    """`n` rows held as columns (name -> list or `Scaled`); table columns not given are null."""

    def __init__(self, n: int, columns: dict[str, Column]):
        self.n, self.columns = n, columns

    def __len__(self) -> int:
        return self.n


def insert_columns(conn: Connection, table: Table, n: int, columns: dict[str, Column],
                   constants: dict[str, str] | None = None) -> None:
    """Insert `n` rows given as `columns` (name -> column of length n) and `constants` (name -> the
    text every row holds, e.g. run_id) into `table`; table columns given neither way are null."""
    if n == 0:
        return
    constants = constants or {}
    for name, col in columns.items():
        if len(col) != n:
            raise ValueError(f"{table.name}.{name}: {len(col)} values for {n} rows")
    dialect = conn.dialect
    try:
        if dialect.name == "sqlite" and dialect.driver == "pysqlite":
            _sqlite(conn, table, n, columns, constants)
        else:
            columns = {**columns, **{name: [value] * n for name, value in constants.items()}}
            names = [c.name for c in table.columns if c.name in columns]
            if dialect.name == "postgresql" and dialect.driver == "psycopg":
                _copy_postgresql(conn, table, n, names, columns)
            else:
                _generic(conn, table, n, names, columns)
    except dialect.loaded_dbapi.Error as err:  # the driver's own errors: translate at the edge
        raise classify(err) from err


def insert_dicts(conn: Connection, table: Table, rows: list[dict[str, Any]], **constants: str) -> None:
    """Insert dict rows (missing keys are null); `constants` (e.g. run_id) go on every row."""
    names = [c.name for c in table.columns if c.name not in constants]
    insert_columns(conn, table, len(rows), {name: [r.get(name) for r in rows] for name in names}, constants)


def pick(values: Sequence[Any], index: np.ndarray) -> list:
    """`[values[i] for i in index]`, through an object array (twice as fast on long columns)."""
    if not len(index):
        return []
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table[index].tolist()


# --- SQLite --------------------------------------------------------------------------------------

def _sqlite_values(column, col: Column, a: int, b: int) -> list:
    if isinstance(col, Scaled):
        return (col.units[a:b] / float(10**col.places)).tolist()  # IEEE division: the nearest float
    values = col[a:b] if isinstance(col, list) else list(col[a:b])
    kind = column.type
    if isinstance(kind, Numeric):
        return [None if v is None else float(v) for v in values]
    if isinstance(kind, Date):  # few distinct dates: format each once
        text = {v: v.isoformat() for v in set(values) if v is not None}
        return [None if v is None else text[v] for v in values]
    if isinstance(kind, Boolean):
        return [None if v is None else int(v) for v in values]
    if values and isinstance(values[0], np.generic):
        return np.asarray(values).tolist()
    return values


def _sqlite(conn: Connection, table: Table, n: int, columns: dict[str, Column], constants: dict[str, str]) -> None:
    names = [c.name for c in table.columns if c.name in columns or c.name in constants]
    bound = [name for name in names if name not in constants]  # constants go in the SQL: fewer binds
    if not bound:
        raise ValueError(f"{table.name}: nothing but constants to insert")
    width = len(bound)
    raw = conn.connection.driver_connection
    limit = raw.getlimit(9) if hasattr(raw, "getlimit") else 999  # 9 = SQLITE_LIMIT_VARIABLE_NUMBER
    per = max(1, min(ROWS_PER_STATEMENT, limit // max(width, 1)))
    one = "(" + ", ".join(_literal(constants[name]) if name in constants else "?" for name in names) + ")"
    head = f"INSERT INTO {_quoted(conn, table, names)} VALUES "
    many = head + ", ".join([one] * per)
    cursor = raw.cursor()
    cache = None
    if n >= BIG_INSERT:  # a bigger page cache for the transaction: fewer B-tree pages spilled and re-read
        cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
        cursor.execute(f"PRAGMA cache_size={BIG_CACHE_KIB}")
    try:
        for a in range(0, n, CHUNK):
            b = min(a + CHUNK, n)
            flat: list = [None] * ((b - a) * width)
            for j, name in enumerate(bound):
                flat[j::width] = _sqlite_values(table.c[name], columns[name], a, b)
            step = per * width
            full = (b - a) // per * step
            if full:
                cursor.executemany(many, [flat[i:i + step] for i in range(0, full, step)])
            if full < len(flat):
                cursor.executemany(head + one, [flat[i:i + width] for i in range(full, len(flat), width)])
    finally:
        if cache is not None:
            cursor.execute(f"PRAGMA cache_size={int(cache)}")  # give the memory back
        cursor.close()


# --- PostgreSQL ----------------------------------------------------------------------------------

def _copy_postgresql(conn: Connection, table: Table, n: int, names: list[str], columns: dict[str, Column]) -> None:
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {_quoted(conn, table, names)} FROM STDIN") as copy:
            for a in range(0, n, CHUNK):
                b = min(a + CHUNK, n)
                fields = []
                for name in names:
                    col = columns[name]
                    if isinstance(col, Scaled):
                        fields.append(decimal_text(col.units[a:b], col.places))
                    else:
                        fields.append(value_text(table.c[name], col[a:b]))
                copy.write(copy_lines(fields))
    finally:
        cursor.close()


# --- anything else (SQL Server: pyodbc, fast_executemany set by the engine) ------------------------

def _generic(conn: Connection, table: Table, n: int, names: list[str], columns: dict[str, Column]) -> None:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {_quoted(conn, table, names)} VALUES ({', '.join([mark] * len(names))})"
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        cols = []
        for name in names:
            col = columns[name]
            if isinstance(col, Scaled):
                cols.append([Decimal(v).scaleb(-col.places) for v in col.units[a:b].tolist()])
            else:
                part = col[a:b]
                cols.append(np.asarray(part).tolist() if len(part) and isinstance(part[0], np.generic) else list(part))
        conn.exec_driver_sql(sql, list(zip(*cols)))


def _literal(text: str) -> str:
    """A text constant as an SQL string literal."""
    if not isinstance(text, str) or "\x00" in text:
        raise ValueError(f"constant {text!r} is not plain text")
    return "'" + text.replace("'", "''") + "'"


def _quoted(conn: Connection, table: Table, names: list[str]) -> str:
    quote = conn.dialect.identifier_preparer
    return f"{quote.format_table(table)} ({', '.join(quote.quote(c) for c in names)})"
