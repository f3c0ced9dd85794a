"""The two commands a newcomer types: `powerfill serve` (starts Azurite when none listens, stops
cleanly on SIGTERM) and `powerfill demo` (leaves every report and report.html in the out dir)."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from pipeline.devhost.azurite import connection_for, find_azurite_queue, is_listening
from pipeline.reports import REPORT_NAMES
from pipeline.tenants import DEMO_API_KEY

ROOT = Path(__file__).resolve().parents[2]
POWERFILL = [sys.executable, "-m", "pipeline"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def azurite_or_skip() -> None:
    if find_azurite_queue() is None:
        if os.environ.get("POWERFILL_REQUIRE_SERVICES") == "1" or os.environ.get("CI"):
            pytest.fail("node_modules/.bin/azurite-queue is missing (npm ci)")
        pytest.skip("Azurite is not installed (npm ci)")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERFILL_", "AzureWebJobsStorage", "AzureFunctionsJobHost"))}
    env.update(POWERFILL_DATA_DIR=str(tmp_path / "data"), POWERFILL_LOG_LEVEL="INFO", **extra)
    return env


def test_serve_starts_azurite_and_stops_cleanly_on_sigterm(tmp_path):
    azurite_or_skip()
    http_port, queue_port = free_port(), free_port()
    env = clean_env(tmp_path, AzureWebJobsStorage=connection_for("127.0.0.1", queue_port), POWERFILL_RUNS_QUEUE="serve-test")
    proc = subprocess.Popen([*POWERFILL, "serve", "--port", str(http_port), "--no-timers"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = requests.get(f"http://127.0.0.1:{http_port}/api/powerfill/status",
                                      headers={"x-api-key": DEMO_API_KEY}, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert status is not None and status.status_code == 200, proc.stdout.read() if proc.poll() is not None else ""
        assert is_listening("127.0.0.1", queue_port), "the host started Azurite on the configured endpoint"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert "local host stopped" in proc.stdout.read()
        assert not is_listening("127.0.0.1", queue_port), "Azurite was stopped with the host"
        assert not is_listening("127.0.0.1", http_port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.azurite
@pytest.mark.slow
def test_demo_writes_every_report_and_the_html_page(tmp_path, azurite_connection):
    out = tmp_path / "out"
    env = clean_env(tmp_path, AzureWebJobsStorage=azurite_connection)
    proc = subprocess.run([*POWERFILL, "demo", "--out", str(out)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in REPORT_NAMES:
        assert (out / f"{name}.csv").is_file() and str(out / f"{name}.csv") in proc.stdout
    guide = list(csv.DictReader((out / "guide.csv").open()))
    assert guide and "Summary" in proc.stdout and "Top synthetic trade recommendations" in proc.stdout
    assert "Plotly.newPlot" in (out / "report.html").read_text()
    assert "6/6" in proc.stdout and "demo finished in" in proc.stdout
