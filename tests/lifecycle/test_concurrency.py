"""Races on a real PostgreSQL server: BR-8 under 20 concurrent submits, and a database that drops
away in the middle of a step."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url

from pipeline.db.errors import TransientDatabaseError
from tests.lifecycle import fakes
from tests.lifecycle.conftest import run_row
from tests.polling import wait_for
from tests.lifecycle.test_run_routes import submit

pytestmark = [pytest.mark.azurite, pytest.mark.postgres,
              pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)]  # races need a real server


def test_twenty_concurrent_submits_give_exactly_one_202(functions, tenants, queue, config):
    barrier = threading.Barrier(20)

    def one(_):
        barrier.wait()
        return submit(functions, tenants.key(tenants.a))

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20)))
    codes = sorted(status for status, _, _ in results)
    assert codes == [202] + [409] * 19
    [accepted] = [body for status, body, _ in results if status == 202]
    assert all(body["active_run_id"] == accepted["run_id"] for status, body, _ in results if status == 409)
    assert len(queue.peek_bodies()) == 1


class Proxy:
    """A TCP proxy in front of PostgreSQL that the test can cut (connections reset) and restore."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self):
        self.up.clear()
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns.clear()

    def restore(self):
        self.up.set()

    def close(self):
        self.listener.close()


def test_database_unreachable_during_a_step_is_redelivered_and_completes(functions, tenants, queue, config, install,
                                                                        monkeypatch):
    import json

    from pipeline.settings import get_settings
    from pipeline.tenants import get_registry

    url = make_url(tenants.url)
    proxy = Proxy((url.host, url.port))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    registry = json.loads(__import__("os").environ["POWERFILL_TENANTS"])
    registry["tenants"][tenants.a]["database_url"] = proxied
    monkeypatch.setenv("POWERFILL_TENANTS", json.dumps(registry))
    get_settings.cache_clear()
    get_registry.cache_clear()

    class CutsTheDatabase(fakes.GatedStep):
        """Computes, then the network to the database drops before the checkpoint is written."""

        cuts = 0

        def compute(self, ctx):
            output = super().compute(ctx)
            if CutsTheDatabase.cuts == 0:
                CutsTheDatabase.cuts += 1
                proxy.cut()
            return output

    # A short lease: the worker cannot release it while the database is gone, so the redelivery
    # claims the run once it expires (in production the timer also catches it).
    install(steps=fakes.steps(CutsTheDatabase()), lease_seconds=0.5, heartbeat_seconds=0.1)
    try:
        _, sub, _ = submit(functions, tenants.key(tenants.a))
        [(raw, msg)] = queue.receive()
        with pytest.raises(TransientDatabaseError):
            functions["run_worker"](msg)  # the host will redeliver
        proxy.restore()
        # The host redelivers every visibilityTimeout; a redelivery while the lease is live is dropped.
        wait_for(lambda: functions["run_worker"](msg) or run_row(tenants.url, sub["run_id"]).status == "Complete",
                 timeout=15, interval=0.1)
        run = run_row(tenants.url, sub["run_id"])
        assert run.attempt_count == 2 and run.lease_owner is None
    finally:
        proxy.close()
