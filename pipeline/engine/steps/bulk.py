"""Bulk inserts of large output tables (the candidate table holds ~800K rows at 100K loans).

SQLAlchemy's executemany processes every bound value in Python; for the biggest table we hand
tuples to the driver's executemany in chunks instead. Numbers go in as the driver expects them:
SQLite stores NUMERIC columns as REAL, so it receives the float nearest to the exact decimal (the
same float SQLAlchemy would bind for that Decimal); every other driver receives the Decimal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from sqlalchemy import Table
from sqlalchemy.engine import Connection

CHUNK = 20_000


def placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert_tuples(conn: Connection, table: Table, columns: Sequence[str], chunks: Iterator[list[tuple]]) -> None:
    mark = placeholder(conn)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    for chunk in chunks:
        if chunk:
            conn.exec_driver_sql(sql, chunk)


def number_writer(conn_or_dialect_name: str, places: int) -> Callable:
    """A converter from an int array in 10**-places units to a list of bindable numbers."""
    from decimal import Decimal

    if conn_or_dialect_name == "sqlite":
        scale = float(10**places)
        return lambda arr: (arr / scale).tolist()
    return lambda arr: [Decimal(int(v)).scaleb(-places) for v in arr.tolist()]
