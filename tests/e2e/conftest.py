"""The local host as a fixture: the real function_app.py served over HTTP against Azurite (the
harness's `azurite_connection`) and an SQLite file, for end-to-end tests that drive PowerFill the
way a caller does.

`local_host(...)` is a context manager so a module can start its own host on its own database
and queue; two tenants share the database: `demo` (DEMO_API_KEY) and `other` (OTHER_KEY).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.db.engine import get_engine
from pipeline.devhost import DevHost
from pipeline.devhost.client import PowerFillClient
from pipeline.settings import get_settings
from pipeline.tenants import DEMO_API_KEY, get_registry, hash_api_key

OTHER_KEY = "pf-e2e-other-tenant-key"
MAX_BODY = 2_000_000


@dataclass
class Host:
    host: DevHost
    base_url: str
    db_url: str
    queue: str
    connection: str

    def client(self, key: str = DEMO_API_KEY) -> PowerFillClient:
        return PowerFillClient(self.base_url, key, timeout=60)

    @property
    def engine(self):
        return get_engine(self.db_url)


@contextlib.contextmanager
def local_host(tmp: Path, connection: str, *, app=None, env: dict[str, str] | None = None, timers: bool = False,
               host_json: Path | None = None):
    db_url = f"sqlite:///{(tmp / 'e2e.db').as_posix()}"
    queue = f"e2e-{uuid.uuid4().hex[:12]}"
    registry = {"tenants": {
        "demo": {"database_url": db_url, "api_key_sha256": [hash_api_key(DEMO_API_KEY)]},
        "other": {"database_url": db_url, "api_key_sha256": [hash_api_key(OTHER_KEY)]},
    }}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POWERFILL_TENANTS", json.dumps(registry))
        mp.setenv("AzureWebJobsStorage", connection)
        mp.setenv("POWERFILL_RUNS_QUEUE", queue)
        mp.setenv("POWERFILL_MAX_BODY_BYTES", str(MAX_BODY))
        for k, v in (env or {}).items():
            mp.setenv(k, v)
        get_settings.cache_clear()
        get_registry.cache_clear()
        host = DevHost(app, port=0, run_timers=timers, allow_start_azurite=False, grace_seconds=5, host_json=host_json)
        host.start()
        try:
            yield Host(host, host.base_url, db_url, queue, connection)
        finally:
            host.stop()
            get_settings.cache_clear()
            get_registry.cache_clear()


def generate_inputs(out: Path) -> tuple[dict[str, bytes], str]:
    """The small demo book as CSV bytes per kind, and its as_of_date."""
    from pipeline.demo import write_dataset

    ds = write_dataset("small", 7, out)
    return {p.stem: p.read_bytes() for p in out.glob("*.csv")}, ds.as_of.isoformat()
