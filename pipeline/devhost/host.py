"""`DevHost`: the local host's lifecycle — storage, database, HTTP, queue listeners, timers.

start(): make sure a queue service is reachable at the configured storage connection (starting
the project's Azurite when nothing listens on a local endpoint), migrate the tenants' databases,
discover the app's functions, then serve. stop(): stop fetching messages and firing timers, give
in-flight work a grace period (what is left is redelivered later: runs resume from their
checkpoints), close the HTTP server, stop Azurite if we started it.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import azure.functions as func

from pipeline.devhost.azurite import (
    AzuriteProcess,
    connection_for,
    is_listening,
    normalize_connection,
    queue_endpoint,
    start_azurite,
)
from pipeline.devhost.functions import AppFunctions, discover, find_function_app_file, load_function_app
from pipeline.devhost.hostjson import HostConfig, load_host_config
from pipeline.devhost.http_server import DevHTTPServer, Router, make_handler
from pipeline.devhost.queues import QueueListener
from pipeline.devhost.timers import TimerRunner
from pipeline.settings import get_settings

log = logging.getLogger("pipeline.devhost")

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
STORAGE_SETTING = "AzureWebJobsStorage"


class DevHost:
    def __init__(self, app: func.FunctionApp | None = None, *, bind: str = "127.0.0.1", port: int | None = None,
                 host_json: Path | None = None, run_queues: bool = True, run_timers: bool = True,
                 allow_start_azurite: bool = True, migrate: bool = True, grace_seconds: float = 10.0):
        self.app = app
        self.bind = bind
        self.port = get_settings().devhost_port if port is None else port
        self.host_json = host_json
        self.run_queues = run_queues
        self.run_timers = run_timers
        self.allow_start_azurite = allow_start_azurite
        self.migrate = migrate
        self.grace_seconds = grace_seconds
        self.azurite: AzuriteProcess | None = None
        self.functions: AppFunctions | None = None
        self.config: HostConfig | None = None
        self.listeners: list[QueueListener] = []
        self.timers: list[TimerRunner] = []
        self._server: DevHTTPServer | None = None
        self._server_thread: threading.Thread | None = None
        self.stopped = threading.Event()   # stop() has begun (makes it idempotent)
        self.finished = threading.Event()  # stop() has completed

    @property
    def base_url(self) -> str:
        assert self._server is not None, "host not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- start -------------------------------------------------------------------------------

    def start(self) -> "DevHost":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        connection = self._ensure_storage() if self.run_queues else None
        if self.migrate:
            self._migrate()
        app = self.app or load_function_app()
        default_json = (find_function_app_file().parent / "host.json") if self.app is None else None
        self.config = load_host_config(self.host_json or default_json)
        self.functions = discover(app)
        for name in self.functions.unsupported:
            log.warning("function %s has a trigger the local host does not run", name)

        router = Router(self.functions.http, self.config.route_prefix)
        handler = make_handler(router, lambda: get_settings().max_body_bytes)
        self._server = DevHTTPServer((self.bind, self.port), handler)
        self._server_thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                               name="devhost-http", daemon=True)
        self._server_thread.start()
        for fn in self.functions.http:
            log.info("  %-28s %-14s /%s/%s", fn.name, ",".join(fn.methods), self.config.route_prefix, fn.template.template)

        if self.run_queues and connection:
            for fn in self.functions.queues:
                conn = normalize_connection(os.environ.get(fn.connection_setting) or connection)
                listener = QueueListener(fn, conn, self.config.queues)
                listener.start()
                self.listeners.append(listener)
        if self.run_timers:
            for fn in self.functions.timers:
                runner = TimerRunner(fn)
                runner.start()
                self.timers.append(runner)
        log.info("local host listening on %s", self.base_url)

    def _ensure_storage(self) -> str:
        connection = normalize_connection(os.environ.get(STORAGE_SETTING) or get_settings().storage_connection)
        endpoint = queue_endpoint(connection)
        if endpoint and not is_listening(*endpoint):
            host, port = endpoint
            if host not in LOCAL_HOSTS or not self.allow_start_azurite:
                raise RuntimeError(f"no queue service reachable at {host}:{port}")
            self.azurite = start_azurite(host if host != "localhost" else "127.0.0.1", port)
            connection = connection_for(host, port)
        # The app's own code (submit's enqueue) reads the same setting: make both agree.
        if os.environ.get(STORAGE_SETTING) != connection:
            os.environ[STORAGE_SETTING] = connection
            get_settings.cache_clear()
        return connection

    def _migrate(self) -> None:
        from pipeline.db.migrate import upgrade
        from pipeline.tenants import get_registry

        for url, tenants in get_registry().database_urls().items():
            try:
                upgrade(url)
            except Exception as err:  # noqa: BLE001 - one unreachable tenant database must not stop the host
                log.warning("could not migrate the database of %s: %s", ", ".join(tenants), err)

    # --- stop --------------------------------------------------------------------------------

    def stop(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        for t in self.timers:
            t.stop(self.grace_seconds)
        abandoned = sum(listener.stop(self.grace_seconds) for listener in self.listeners)
        if abandoned:
            log.warning("%d message(s) still in flight at shutdown; they are delivered again later", abandoned)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.azurite is not None:
            self.azurite.stop()
            self.azurite = None
        log.info("local host stopped")
        self.finished.set()

    def wait(self) -> None:
        """Block until stop() (e.g. called from a signal handler) has completed."""
        while not self.finished.wait(0.5):
            pass

    def __enter__(self) -> "DevHost":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
