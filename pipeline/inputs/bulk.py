"""Bulk insert of validated input rows, by the fastest path each database offers.

SQLAlchemy's executemany spends most of its time per row building and converting parameters,
which at 100,000 loans is most of the load time. The rows here are already validated Python values
of the column types, so they go to the driver directly, on the connection (and transaction) the
importer holds:
- PostgreSQL (psycopg 3): `COPY … FROM STDIN`, rows written one by one by psycopg's adapters;
- SQLite: the driver's executemany, decimals passed as their exact text (the NUMERIC column
  stores the same number SQLAlchemy would) and dates as `YYYY-MM-DD` (SQLAlchemy's SQLite form);
- anything else (SQL Server: pyodbc with `fast_executemany`): SQLAlchemy's executemany in chunks.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from pipeline.db.errors import classify

# Rows per executemany on the generic path: amortises round trips, bounds parameter buffers.
CHUNK = 5_000


def insert_rows(conn: Connection, table: Table, records: list[dict[str, Any]]) -> None:
    """Insert `records` (dicts holding every column of `table`) into `table`."""
    if not records:
        return
    columns = [c.name for c in table.columns]
    dialect = conn.dialect
    if dialect.name in ("postgresql", "sqlite") and dialect.driver in ("psycopg", "pysqlite"):
        try:
            if dialect.name == "postgresql":
                _copy_postgresql(conn, table, columns, records)
            else:
                _executemany_sqlite(conn, table, columns, records)
        except dialect.loaded_dbapi.Error as err:  # the driver's own errors: translate at the edge
            raise classify(err) from err
    else:
        for start in range(0, len(records), CHUNK):
            conn.execute(table.insert(), records[start:start + CHUNK])


def _names(conn: Connection, table: Table, columns: list[str]) -> tuple[str, str]:
    quote = conn.dialect.identifier_preparer
    return quote.format_table(table), ", ".join(quote.quote(c) for c in columns)


def _copy_postgresql(conn: Connection, table: Table, columns: list[str], records: list[dict]) -> None:
    target, names = _names(conn, table, columns)
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for record in records:
                copy.write_row([record[c] for c in columns])
    finally:
        cursor.close()


def _executemany_sqlite(conn: Connection, table: Table, columns: list[str], records: list[dict]) -> None:
    plain = [c for c in columns if _python_type(table, c) not in (Decimal, date)]
    decimals = [c for c in columns if _python_type(table, c) is Decimal]
    dates = [c for c in columns if _python_type(table, c) is date]
    order = plain + decimals + dates  # bound in this order: each group converted its own way
    target, names = _names(conn, table, order)
    sql = f"INSERT INTO {target} ({names}) VALUES ({', '.join('?' for _ in order)})"
    rows = [
        (*[r[c] for c in plain],
         *[None if r[c] is None else str(r[c]) for c in decimals],
         *[None if r[c] is None else r[c].isoformat() for c in dates])
        for r in records
    ]
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def _python_type(table: Table, column: str) -> type | None:
    try:
        return table.c[column].type.python_type
    except NotImplementedError:
        return None
