"""Shared fixtures: fresh migrated databases on SQLite and on the throw-away PostgreSQL server.

`db_url` is parametrised over both dialects: a test that takes it runs twice. The PostgreSQL leg
needs POWERFILL_TEST_PG_URL (set by `make test`); services fixtures live in tests/_services_plugin.py.
"""

from __future__ import annotations

import uuid

import pytest

from pipeline.db.engine import dispose_all, get_engine
from pipeline.db.migrate import upgrade
from pipeline.settings import get_settings
from pipeline.tenants import get_registry

import importlib.util

# The services plugin (PostgreSQL, Azurite fixtures) is owned by the harness.
pytest_plugins = ["tests._services_plugin"] if importlib.util.find_spec("tests._services_plugin") else []


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{(tmp_path / 'powerfill.db').as_posix()}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A freshly migrated database URL, once per dialect."""
    if request.param == "sqlite":
        url = f"sqlite:///{(tmp_path / 'powerfill.db').as_posix()}"
    else:
        url = request.getfixturevalue("pg_database_url")
    upgrade(url)
    yield url
    dispose_all()


@pytest.fixture
def db(db_url):
    """The SQLAlchemy engine of `db_url`."""
    return get_engine(db_url)


@pytest.fixture
def tenant_id() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch, tmp_path):
    """Each test sees settings read afresh, with the local data directory under its tmp_path."""
    monkeypatch.setenv("POWERFILL_DATA_DIR", str(tmp_path / ".powerfill"))
    get_settings.cache_clear()
    get_registry.cache_clear()
    yield
    get_settings.cache_clear()
    get_registry.cache_clear()
