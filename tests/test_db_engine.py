"""Engines are cached per URL; SQLite runs in WAL mode with foreign keys on."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pipeline.db.engine import READ_ONLY, get_engine


def test_engine_is_cached_per_url(sqlite_url, tmp_path):
    assert get_engine(sqlite_url) is get_engine(sqlite_url)
    assert get_engine(sqlite_url) is not get_engine(f"sqlite:///{tmp_path}/other.db")


def test_sqlite_is_wal_with_foreign_keys(sqlite_url):
    with get_engine(sqlite_url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_sqlite_transactions_roll_back_as_a_whole(sqlite_url):
    engine = get_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
    with pytest.raises(Exception):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
    with engine.connect().execution_options(**READ_ONLY) as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_unknown_url_scheme_is_refused():
    with pytest.raises(ValueError, match="unsupported database URL"):
        get_engine("oracle://x/y")
