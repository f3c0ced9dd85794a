"""Database errors translated at the edge: engine and service code never import a driver.

    DatabaseError                 anything the database layer raises
    ├── TransientDatabaseError    worth retrying: connectivity, throttling, failover, deadlock
    └── PermanentDatabaseError    retrying cannot help: constraint violations, bad SQL, bad data

`classify` maps a driver exception (pyodbc, psycopg, sqlite3, wrapped by SQLAlchemy or not) to one
of the two; `with_retry` re-runs a unit of work on transient errors with exponential backoff.
An error we cannot classify is permanent: retrying an unknown failure five times only delays the
message to the poison queue.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

T = TypeVar("T")

# Azure SQL / SQL Server error numbers that mean "try again" (DESIGN.md §3), plus deadlock (1205).
TRANSIENT_SQLSERVER_ERRORS = frozenset(
    {40613, 40197, 40501, 49918, 49919, 49920, 4060, 4221, 10928, 10929, 10053, 10054, 10060, 233, 64, 1205}
)
# ODBC SQLSTATEs for broken connections.
TRANSIENT_SQLSTATES = frozenset({"08S01", "08001", "08004", "HYT00", "HYT01", "40001", "40P01", "57P01", "57P02", "57P03", "53300"})


class DatabaseError(Exception):
    """Base of the database layer's errors."""


class TransientDatabaseError(DatabaseError):
    """The operation may succeed if repeated (the queue redelivers, or `with_retry` repeats it)."""


class PermanentDatabaseError(DatabaseError):
    """Repeating the operation gives the same error."""


_SQLSERVER_NUMBER = re.compile(r"\((\d{3,5})\)")


def _sqlserver_numbers(err: BaseException) -> set[int]:
    """pyodbc puts the native error number in parentheses in its message: '... (40613) ...'."""
    return {int(n) for n in _SQLSERVER_NUMBER.findall(" ".join(str(a) for a in getattr(err, "args", ())))}


def is_transient(err: BaseException) -> bool:
    original = err.orig if isinstance(err, sa_exc.DBAPIError) and err.orig is not None else err
    if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
        return True
    if isinstance(err, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    sqlstate = getattr(original, "sqlstate", None)  # psycopg
    args = getattr(original, "args", ())
    if sqlstate is None and args and isinstance(args[0], str) and len(args[0]) == 5:
        sqlstate = args[0]  # pyodbc: args = (sqlstate, message)
    if sqlstate in TRANSIENT_SQLSTATES:
        return True
    if _sqlserver_numbers(original) & TRANSIENT_SQLSERVER_ERRORS:
        return True
    module = type(original).__module__
    name = type(original).__name__
    if module.startswith("psycopg") and name in {"OperationalError", "InterfaceError"}:
        return True
    if module == "sqlite3" and name == "OperationalError" and "locked" in str(original):
        return True
    return False


def classify(err: BaseException) -> DatabaseError:
    """The error of our own hierarchy for a driver or SQLAlchemy error (already ours: itself)."""
    if isinstance(err, DatabaseError):
        return err
    cls = TransientDatabaseError if is_transient(err) else PermanentDatabaseError
    translated = cls(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
    translated.__cause__ = err
    return translated


def with_retry(
    work: Callable[[], T],
    *,
    attempts: int = 4,
    base_delay_s: float = 0.2,
    max_delay_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `work`; on a transient error wait (0.2 s, 0.4 s, ... capped) and run it again.

    `work` must be a whole unit (its own transaction), so repeating it is safe. The last transient
    error, and any permanent one, is raised translated.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except (sa_exc.SQLAlchemyError, DatabaseError, OSError) as err:  # OSError: sockets
            translated = classify(err)
            if isinstance(translated, PermanentDatabaseError) or attempt == attempts:
                raise translated from err
            delay = min(max_delay_s, base_delay_s * 2 ** (attempt - 1))
            log.warning("transient database error (attempt %d of %d), retrying in %.1fs: %s", attempt, attempts, delay, translated)
            sleep(delay)
    raise AssertionError("unreachable")
