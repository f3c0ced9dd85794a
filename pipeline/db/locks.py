"""Transaction-scoped locks that serialise one tenant's input uploads against its run submits.

A run must see one consistent snapshot of its inputs (DESIGN.md §6): an upload is refused while a
run is active, and that check must not race a submit. Both take this lock inside their own
transaction, so one of them commits first: either the upload sees the new run and answers 409,
or the run is inserted after the new inputs are committed. SQLite needs nothing (BEGIN IMMEDIATE
already makes every write transaction exclusive); PostgreSQL and SQL Server take an advisory /
application lock released at commit or rollback.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def lock_tenant_inputs(conn: Connection, tenant_id: str) -> None:
    key = f"powerfill.inputs:{tenant_id}"
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
    elif conn.dialect.name == "mssql":
        conn.execute(text("EXEC sp_getapplock @Resource = :key, @LockMode = 'Exclusive', @LockOwner = 'Transaction'"),
                     {"key": key})
