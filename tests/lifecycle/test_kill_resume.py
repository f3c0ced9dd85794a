"""End to end with the real six steps on the small demo book: a worker killed at every step
boundary and mid-step is resumed by the timer and exports byte-identical outputs; duplicate
deliveries execute once. (ENGINE.md §6 invariant 5, DESIGN.md §4 durable checkpoints.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline.db.engine import READ_ONLY, get_engine
from pipeline.db.schema import OUTPUT_TABLES
from pipeline.engine.runner import default_steps
from pipeline.run_export import table_csv
from pipeline.runs.config import LifecycleConfig, override_config
from tests.lifecycle import killer
from tests.lifecycle.conftest import run_row, timer_request
from tests.polling import wait_for
from tests.lifecycle.test_run_routes import submit

pytestmark = [pytest.mark.azurite, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
STEP_NAMES = [s.name for s in default_steps()]
_reference: dict[str, dict[str, str]] = {}  # dialect -> exported tables of an uninterrupted run


@pytest.fixture(scope="session")
def demo_book(tmp_path_factory) -> tuple[Path, str]:
    from pipeline.cli import main

    out = tmp_path_factory.mktemp("demo-book")
    assert main(["demo-data", "--size", "small", "--seed", "11", "--out", str(out)]) == 0
    return out, json.loads((out / "dataset.json").read_text())["as_of_date"]


@pytest.fixture
def real(tenants, queue, demo_book):
    """Tenant A loaded with the demo book; the real steps, a fast heartbeat."""
    from pipeline.cli import main

    book, as_of = demo_book
    assert main(["load", "--dir", str(book), "--tenant", tenants.a, "--db", tenants.url]) == 0
    with override_config(LifecycleConfig(lease_seconds=30, heartbeat_seconds=0.1)):
        yield {"as_of_date": as_of}


def exported(url: str, run_id: str) -> dict[str, str]:
    with get_engine(url).connect().execution_options(**READ_ONLY) as conn:
        return {t.name: table_csv(conn, t, run_id) for t in OUTPUT_TABLES}


def assert_same_exports(actual: dict[str, str], expected: dict[str, str]) -> None:
    """Table by table, showing the first lines that differ."""
    import difflib

    differing = {}
    for name in expected:
        if actual[name] != expected[name]:
            diff = difflib.unified_diff(expected[name].splitlines(), actual[name].splitlines(), "expected", "resumed", lineterm="")
            differing[name] = list(diff)[:8]
    assert not differing, json.dumps(differing, indent=1)


def reference(functions, tenants, queue, options) -> dict[str, str]:
    dialect = tenants.url.split(":")[0]
    if dialect not in _reference:
        _, sub, _ = submit(functions, tenants.key(tenants.a), options)
        queue.deliver_all(functions["run_worker"])
        assert run_row(tenants.url, sub["run_id"]).status == "Complete"
        _reference[dialect] = exported(tenants.url, sub["run_id"])
    return _reference[dialect]


# SQLite: every step, after its commit and in the middle of its write transaction, plus one kill
# mid-compute; PostgreSQL: two of them (the mechanics do not depend on the dialect, the SQL does).
KILL_POINTS = [pytest.param("sqlite", step, when, id=f"sqlite-{step}-{when}")
               for step in STEP_NAMES for when in ("after_commit", "mid_write")]
KILL_POINTS += [pytest.param("sqlite", STEP_NAMES[3], "mid_compute", id=f"sqlite-{STEP_NAMES[3]}-mid_compute")]
KILL_POINTS += [pytest.param("postgresql", step, when, id=f"postgresql-{step}-{when}", marks=pytest.mark.postgres)
                for step, when in ((STEP_NAMES[3], "after_commit"), (STEP_NAMES[4], "mid_write"))]


@pytest.mark.parametrize("db_url,step,when", KILL_POINTS, indirect=["db_url"])
def test_killed_worker_is_resumed_by_the_timer_with_identical_exports(functions, tenants, queue, real, step, when):
    expected = reference(functions, tenants, queue, real)
    _, sub, _ = submit(functions, tenants.key(tenants.a), real)
    run_id = sub["run_id"]
    for raw, _ in queue.receive(visibility_timeout=300):  # this worker "received" the message
        queue.client.delete_message(raw)

    proc = subprocess.run([sys.executable, "-m", "tests.lifecycle.killer", tenants.url, tenants.a, run_id, step, when],
                          cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert proc.returncode == killer.KILLED, proc.stderr[-2000:]
    dead = run_row(tenants.url, run_id)
    assert dead.status not in ("Complete", "Failed", "Cancelled") and dead.lease_owner.startswith("doomed:")

    # The timer finds the expired lease (LEASE_S) and re-enqueues; a healthy worker resumes.
    wait_for(lambda: functions["reconcile_timer"](timer_request()) or queue.peek_bodies(), timeout=10, interval=0.05)
    queue.deliver_all(functions["run_worker"])
    run = run_row(tenants.url, run_id)
    assert run.status == "Complete" and run.attempt_count == 2
    assert_same_exports(exported(tenants.url, run_id), expected)


def test_duplicate_deliveries_of_a_real_run_execute_once_with_identical_outputs(functions, tenants, queue, real):
    expected = reference(functions, tenants, queue, real)
    _, sub, _ = submit(functions, tenants.key(tenants.a), real)
    [(raw, msg)] = queue.receive()
    threads = [threading.Thread(target=functions["run_worker"], args=(msg,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    functions["run_worker"](msg)  # and once more, after it finished
    run = run_row(tenants.url, sub["run_id"])
    assert run.status == "Complete" and run.attempt_count == 1
    assert_same_exports(exported(tenants.url, sub["run_id"]), expected)
