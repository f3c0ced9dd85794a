"""Lifecycle fixtures: two tenants on a fresh database, a real Azurite queue per test, the app's
registered functions, and a LifecycleConfig with fake steps and a fast heartbeat passed in."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest
from sqlalchemy import select

from pipeline.db.schema import run_history
from pipeline.runs.config import LifecycleConfig, override_config
from pipeline.settings import get_settings
from pipeline.tenants import get_registry, hash_api_key
from tests.lifecycle import fakes

KEY_A = "key-tenant-a-" + "x" * 8
KEY_B = "key-tenant-b-" + "y" * 8


@dataclass
class Tenants:
    a: str
    b: str
    url: str

    def key(self, tenant: str) -> str:
        return KEY_A if tenant == self.a else KEY_B


@pytest.fixture
def tenants(db_url, monkeypatch) -> Tenants:
    suffix = uuid.uuid4().hex[:6]
    t = Tenants(a=f"alpha-{suffix}", b=f"beta-{suffix}", url=db_url)
    registry = {"tenants": {
        t.a: {"database_url": db_url, "api_key_sha256": [hash_api_key(KEY_A)]},
        t.b: {"database_url": db_url, "api_key_sha256": [hash_api_key(KEY_B)]},
    }}
    monkeypatch.setenv("POWERFILL_TENANTS", json.dumps(registry))
    get_settings.cache_clear()
    get_registry.cache_clear()
    return t


@pytest.fixture
def queue_env(azurite_connection, queue_name, monkeypatch) -> str:
    monkeypatch.setenv("AzureWebJobsStorage", azurite_connection)
    monkeypatch.setenv("POWERFILL_RUNS_QUEUE", queue_name)
    get_settings.cache_clear()
    return queue_name


@pytest.fixture
def config() -> Iterator[LifecycleConfig]:
    """Fake steps, a 30 s lease renewed every 50 ms; tests replace fields with `install`."""
    cfg = LifecycleConfig(lease_seconds=30, heartbeat_seconds=0.05, steps=fakes.steps())
    with override_config(cfg):
        yield cfg


@pytest.fixture
def install() -> Iterator[Callable[..., LifecycleConfig]]:
    """install(**changes): override the process-wide lifecycle config for the rest of the test."""
    from pipeline.runs import config as config_module

    previous = config_module._override

    def _install(**changes: Any) -> LifecycleConfig:
        cfg = (config_module._override or LifecycleConfig()).with_(**changes)
        config_module.set_config(cfg)
        return cfg

    yield _install
    config_module.set_config(previous)


# --- the app's functions -------------------------------------------------------------------

@pytest.fixture(scope="session")
def functions() -> dict[str, Callable[..., Any]]:
    import function_app

    return {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}


def http(fn: Callable, method: str, path: str, *, key: str | None = None, body: Any = None, raw: bytes | None = None,
         headers: dict[str, str] | None = None, route_params: dict[str, str] | None = None,
         params: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    hdrs = dict(headers or {})
    if key is not None:
        hdrs.setdefault("x-api-key", key)
    if raw is None:
        raw = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            hdrs.setdefault("content-type", "application/json")
    resp = fn(func.HttpRequest(method, f"http://localhost/api/{path}", headers=hdrs, params=params or {},
                               route_params=route_params or {}, body=raw))
    text = resp.get_body().decode() if resp.get_body() else ""
    return resp.status_code, (json.loads(text) if text else None), dict(resp.headers)


class QueueDriver:
    """Plays the Functions host for one Azurite queue: receive, invoke, delete on success."""

    def __init__(self, connection: str, name: str):
        from azure.storage.queue import QueueClient

        self.client = QueueClient.from_connection_string(connection, name)

    def receive(self, visibility_timeout: int = 30) -> list[QueueMessage]:
        try:
            got = list(self.client.receive_messages(max_messages=32, visibility_timeout=visibility_timeout))
        except Exception:  # noqa: BLE001 - the queue may not exist yet
            return []
        out = []
        for m in got:
            body = base64.b64decode(m.content)
            out.append((m, QueueMessage(id=m.id, body=body, dequeue_count=m.dequeue_count, pop_receipt=m.pop_receipt)))
        return out

    def count(self) -> int:
        try:
            return self.client.get_queue_properties().approximate_message_count
        except Exception:  # noqa: BLE001
            return 0

    def peek_bodies(self) -> list[dict]:
        try:
            return [json.loads(base64.b64decode(m.content)) for m in self.client.peek_messages(max_messages=32)]
        except Exception:  # noqa: BLE001
            return []

    def deliver_all(self, fn: Callable, *, rounds: int = 10) -> int:
        """Deliver every queued message to `fn` until the queue is empty; the number delivered."""
        delivered = 0
        for _ in range(rounds):
            batch = self.receive()
            if not batch:
                return delivered
            for raw, msg in batch:
                fn(msg)
                delivered += 1
                self.client.delete_message(raw)
        return delivered

    def send_raw(self, text: str) -> None:
        self.client.send_message(base64.b64encode(text.encode()).decode())


@pytest.fixture
def queue(queue_env, azurite_connection) -> QueueDriver:
    return QueueDriver(azurite_connection, queue_env)


def timer_request(past_due: bool = False) -> TimerRequest:
    return TimerRequest(past_due=past_due)


def queue_message(body: bytes | str, dequeue_count: int = 1) -> QueueMessage:
    return QueueMessage(id=uuid.uuid4().hex, body=body if isinstance(body, bytes) else body.encode(), dequeue_count=dequeue_count)


def run_row(db_url: str, run_id: str):
    from pipeline.db.engine import get_engine

    with get_engine(db_url).connect() as conn:
        return conn.execute(select(run_history).where(run_history.c.run_id == run_id)).first()
