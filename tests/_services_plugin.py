"""Fixtures for the real services that `make test` starts (scripts/with-services.sh).

- `pg_admin_url` (session): the throw-away PostgreSQL server, from POWERFILL_TEST_PG_URL.
- `pg_database_url` (function): a fresh, empty database on that server, dropped afterwards.
- `azurite_connection` (session): the Azurite connection string, from POWERFILL_TEST_AZURITE.
- `queue_name` (function): a queue name unique to the test, deleted afterwards.

Without the environment variables these fixtures skip, and so do tests marked `postgres` or
`azurite`, so a bare `pytest` runs the SQLite tier. Under CI (env `CI`) or with
POWERFILL_REQUIRE_SERVICES=1 (set by `make test`) a missing service is a failure instead: a
harness that failed to start must not look like a green run with skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

PG_URL_ENV = "POWERFILL_TEST_PG_URL"
AZURITE_ENV = "POWERFILL_TEST_AZURITE"
REQUIRE_ENV = "POWERFILL_REQUIRE_SERVICES"

# Marker name -> (environment variable, what provides it).
_SERVICES = {
    "postgres": (PG_URL_ENV, "the throw-away PostgreSQL server"),
    "azurite": (AZURITE_ENV, "Azurite's queue service"),
}


def services_required() -> bool:
    """True where a missing service must fail the test rather than skip it."""
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get(REQUIRE_ENV) == "1"


def require_service(marker: str) -> str:
    """The service's connection value, or skip (fail where services are required)."""
    env, what = _SERVICES[marker]
    value = os.environ.get(env, "").strip()
    if value:
        return value
    reason = f"{env} is not set: {what} is started by `make test` (scripts/with-services.sh)"
    if services_required():
        pytest.fail(f"{reason}; failing rather than skipping because CI or {REQUIRE_ENV}=1 is set", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A test marked for a service is skipped up front even if it never takes a fixture below.
    for marker in _SERVICES:
        if item.get_closest_marker(marker) is not None:
            require_service(marker)


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """URL of the server's `postgres` database (superuser, trust auth, 127.0.0.1)."""
    return require_service("postgres")


@pytest.fixture(scope="session")
def _pg_admin_engine(pg_admin_url: str):
    # NullPool: CREATE/DROP DATABASE must not be held up by our own idle pooled connections.
    engine = create_engine(pg_admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_database_url(pg_admin_url: str, _pg_admin_engine) -> Iterator[str]:
    """A new empty database for this test; dropped (connections and all) after it."""
    from pipeline.db.engine import dispose_all

    name = f"pf_test_{uuid.uuid4().hex[:16]}"
    with _pg_admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    # Cached engines (pipeline.db.engine) would otherwise keep pooled connections open to it.
    dispose_all()
    with _pg_admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- Azurite -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def azurite_connection() -> str:
    """The Azurite connection string (QueueEndpoint on 127.0.0.1)."""
    return require_service("azurite")


@pytest.fixture
def queue_name(azurite_connection: str) -> Iterator[str]:
    """A queue name no other test uses; the queue is deleted afterwards if the test made it."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.queue import QueueServiceClient

    name = f"t-{uuid.uuid4().hex[:20]}"
    yield name
    service = QueueServiceClient.from_connection_string(azurite_connection)
    try:
        service.delete_queue(name)
    except ResourceNotFoundError:
        pass
    finally:
        service.close()
