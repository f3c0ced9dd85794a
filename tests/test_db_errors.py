"""The transient/permanent split and the retry helper, with synthetic driver errors."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from pipeline.db.errors import (
    PermanentDatabaseError,
    TransientDatabaseError,
    classify,
    is_transient,
    with_retry,
)


class FakePyodbcError(Exception):
    """Shaped like pyodbc.Error: args = (sqlstate, message with the native number in parentheses)."""


def _pyodbc(sqlstate: str, number: int) -> FakePyodbcError:
    return FakePyodbcError(sqlstate, f"[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Something ({number}) (SQLExecDirectW)")


def _wrapped(orig: Exception) -> sa_exc.DBAPIError:
    return sa_exc.OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize("number", [40613, 40197, 40501, 49918, 49919, 49920, 4060, 4221, 10928, 10929, 1205])
def test_azure_sql_transient_numbers_are_transient(number):
    assert is_transient(_wrapped(_pyodbc("42000", number)))
    assert isinstance(classify(_wrapped(_pyodbc("42000", number))), TransientDatabaseError)


@pytest.mark.parametrize("number", [2627, 547, 208, 8152])  # unique key, FK, invalid object, truncation
def test_other_sql_server_errors_are_permanent(number):
    assert isinstance(classify(_wrapped(_pyodbc("23000", number))), PermanentDatabaseError)


def test_connection_failure_sqlstate_is_transient():
    assert is_transient(_wrapped(FakePyodbcError("08S01", "Communication link failure")))


def test_sqlite_locked_is_transient_and_syntax_error_is_not():
    assert is_transient(_wrapped(sqlite3.OperationalError("database is locked")))
    assert not is_transient(_wrapped(sqlite3.OperationalError('near "SELEC": syntax error')))


def test_unclassified_error_is_permanent():
    assert isinstance(classify(ValueError("what")), PermanentDatabaseError)


def test_with_retry_repeats_transient_errors_then_succeeds():
    calls, sleeps = [], []

    def work():
        calls.append(1)
        if len(calls) < 3:
            raise _wrapped(_pyodbc("42000", 40613))
        return "ok"

    assert with_retry(work, sleep=sleeps.append) == "ok"
    assert len(calls) == 3
    assert sleeps == [0.2, 0.4]


def test_with_retry_gives_up_after_the_last_attempt_with_a_transient_error():
    def work():
        raise _wrapped(_pyodbc("42000", 40501))

    with pytest.raises(TransientDatabaseError):
        with_retry(work, attempts=3, sleep=lambda s: None)


def test_with_retry_does_not_repeat_permanent_errors():
    calls = []

    def work():
        calls.append(1)
        raise sa_exc.IntegrityError("INSERT", {}, _pyodbc("23000", 2627))

    with pytest.raises(PermanentDatabaseError):
        with_retry(work, sleep=lambda s: None)
    assert len(calls) == 1
