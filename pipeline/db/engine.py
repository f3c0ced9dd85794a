"""One SQLAlchemy engine per database URL, cached for the life of the process.

Functions instances are reused across invocations, so the pool is too. SQLite gets WAL and foreign
keys on every connection; SQL Server and PostgreSQL URLs asking for a managed identity
(`Authentication=ActiveDirectoryMsi`, optional `ClientId=`) get an Entra token instead of a
password (azure-identity), fetched for every new connection.
"""

from __future__ import annotations

import struct
import threading
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, create_engine, make_url

_engines: dict[str, Engine] = {}
_lock = threading.Lock()

# msodbcsql's connection attribute for an access token (SQL_COPT_SS_ACCESS_TOKEN).
SQL_COPT_SS_ACCESS_TOKEN = 1256
AZURE_SQL_SCOPE = "https://database.windows.net/.default"
AZURE_POSTGRES_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
MANAGED_IDENTITY_AUTH = "ActiveDirectoryMsi"


# Execution options for a connection that only reads (SQLite then takes no write lock).
READ_ONLY = {"powerfill_readonly": True}


def get_engine(url: str) -> Engine:
    """The cached engine for `url` (created on first use)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _create(url)
        return engine


def dispose_all() -> None:
    """Close every cached pool (tests, and the dev host at shutdown)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "mssql":
        return _mssql_engine(parsed)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return _postgresql_engine(parsed)
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r} (use sqlite, postgresql or mssql+pyodbc)")


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # Several threads of one process (HTTP, heartbeat, worker) share the file; WAL lets readers
    # run beside the one writer and busy_timeout waits out the writer instead of failing at once.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001 - DBAPI hook
        # Let SQLAlchemy drive BEGIN so that a transaction really covers every statement.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # BEGIN IMMEDIATE takes the write lock up front, so two read-then-write transactions never
        # deadlock on the lock upgrade; read-only work (reports, status) opts out with READ_ONLY.
        readonly = conn.get_execution_options().get("powerfill_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def _mssql_engine(url: URL) -> Engine:
    query = dict(url.query)
    client_id = None
    use_identity = query.get("Authentication") == MANAGED_IDENTITY_AUTH and not url.password
    if use_identity:
        # The token replaces the Authentication keyword; the driver rejects both together.
        query.pop("Authentication")
        client_id = query.pop("ClientId", None)
        url = url.set(query=query)
    engine = create_engine(url, pool_pre_ping=True, fast_executemany=True, pool_size=5, max_overflow=10)
    if use_identity:

        @event.listens_for(engine, "do_connect")
        def _provide_token(_dialect, _conn_rec, cargs, cparams):  # noqa: ANN001
            # With no user in the URL the pyodbc dialect adds Trusted_Connection=Yes (integrated
            # auth), which the driver refuses together with an access token.
            cargs[0] = _without_trusted_connection(cargs[0])
            cparams.setdefault("attrs_before", {})[SQL_COPT_SS_ACCESS_TOKEN] = access_token_struct(
                fetch_sql_token(client_id or _default_client_id())
            )

    return engine


def _postgresql_engine(url: URL) -> Engine:
    query = dict(url.query)
    use_identity = query.get("Authentication") == MANAGED_IDENTITY_AUTH and not url.password
    client_id = None
    if use_identity:
        # Same convention as SQL Server; libpq knows neither keyword, so they leave the URL.
        query.pop("Authentication")
        client_id = query.pop("ClientId", None)
        url = url.set(query=query)
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if use_identity:

        @event.listens_for(engine, "do_connect")
        def _provide_token(_dialect, _conn_rec, _cargs, cparams):  # noqa: ANN001
            # Azure Database for PostgreSQL takes the Entra token as the password.
            cparams["password"] = fetch_sql_token(client_id or _default_client_id(), scope=AZURE_POSTGRES_SCOPE)

    return engine


def _without_trusted_connection(odbc: str) -> str:
    return ";".join(part for part in odbc.split(";") if part.strip().lower() != "trusted_connection=yes")


def _default_client_id() -> str | None:
    from pipeline.settings import get_settings

    return get_settings().sql_client_id or None


def fetch_sql_token(client_id: str | None, scope: str = AZURE_SQL_SCOPE) -> str:
    """An Entra access token for Azure SQL (or, by scope, Azure PostgreSQL) from the managed
    identity (or the developer's login)."""
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential(managed_identity_client_id=client_id)
    return credential.get_token(scope).token


def access_token_struct(token: str) -> bytes:
    """The ODBC token attribute: UTF-16-LE bytes prefixed with their 4-byte little-endian length."""
    raw = token.encode("utf-16-le")
    return struct.pack("<I", len(raw)) + raw
