"""One migrated SQLite database per test session; each test uses its own tenant (unique ids)."""

from __future__ import annotations

import pytest

from pipeline.db.engine import get_engine
from pipeline.db.migrate import upgrade
from tests.engine.scenario import Scenario


@pytest.fixture(scope="session")
def engine_db(tmp_path_factory):
    url = f"sqlite:///{(tmp_path_factory.mktemp('engine') / 'engine.db').as_posix()}"
    upgrade(url)
    return get_engine(url)


@pytest.fixture
def book(engine_db) -> Scenario:
    return Scenario(engine_db)
