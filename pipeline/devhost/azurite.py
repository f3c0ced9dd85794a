"""Azurite for the local host: where the storage connection points, whether something listens
there, and starting the project's own `azurite-queue` (npm) when nothing does.

`UseDevelopmentStorage=true` (the Core Tools default in local.settings.json) means the well-known
Azurite account on 127.0.0.1:10001, as it does for the Functions host.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.settings import AZURITE_QUEUE_CONNECTION

log = logging.getLogger("pipeline.devhost.azurite")


def normalize_connection(conn: str) -> str:
    if conn.strip().rstrip(";").lower() == "usedevelopmentstorage=true":
        return AZURITE_QUEUE_CONNECTION
    return conn


def queue_endpoint(conn: str) -> tuple[str, int] | None:
    """(host, port) of the connection's queue endpoint, when it names one explicitly."""
    parts = dict(p.split("=", 1) for p in normalize_connection(conn).split(";") if "=" in p)
    endpoint = parts.get("QueueEndpoint")
    if not endpoint:
        return None
    u = urlsplit(endpoint)
    return u.hostname or "127.0.0.1", u.port or (443 if u.scheme == "https" else 80)


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def find_azurite_queue() -> Path | None:
    explicit = os.environ.get("AZURITE_QUEUE")
    candidates = [Path(explicit)] if explicit else []
    candidates += [Path.cwd() / "node_modules/.bin/azurite-queue",
                   Path(__file__).resolve().parents[2] / "node_modules/.bin/azurite-queue"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    found = shutil.which("azurite-queue")
    return Path(found) if found else None


@dataclass
class AzuriteProcess:
    process: subprocess.Popen
    workdir: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_azurite(host: str, port: int, timeout: float = 30.0) -> AzuriteProcess:
    """Start azurite-queue in memory on host:port and wait until it listens."""
    exe = find_azurite_queue()
    if exe is None:
        raise RuntimeError("Azurite is not installed: run `npm ci` in the project (make serve does it)")
    workdir = Path(tempfile.mkdtemp(prefix="powerfill-azurite-"))
    logfile = open(workdir / "azurite.log", "wb")  # noqa: SIM115 - owned by the process
    # --skipApiVersionCheck: the current SDK speaks a newer API version than Azurite accepts.
    proc = subprocess.Popen(
        [str(exe), "--skipApiVersionCheck", "--inMemoryPersistence", "--disableTelemetry", "--silent",
         "--queueHost", host, "--queuePort", str(port)],
        cwd=workdir, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches the host, which then stops Azurite in order
    )
    deadline = time.monotonic() + timeout
    while not is_listening(host, port, 0.2):
        if proc.poll() is not None:
            raise RuntimeError(f"Azurite exited ({proc.returncode}): {(workdir / 'azurite.log').read_text(errors='replace')[-500:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"Azurite did not listen on {host}:{port} within {timeout:.0f}s")
        time.sleep(0.05)
    log.info("started Azurite (queue) on %s:%d", host, port)
    return AzuriteProcess(proc, workdir)


def connection_for(host: str, port: int) -> str:
    return AZURITE_QUEUE_CONNECTION.replace("http://127.0.0.1:10001", f"http://{host}:{port}")
