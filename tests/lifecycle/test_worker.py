"""The queue worker through the registered `run_worker` / `run_poison` functions: duplicates,
fencing, cancellation, transient and permanent errors, bad messages, continuations."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func as sa_func
from sqlalchemy import select

from pipeline.db.engine import get_engine
from pipeline.db.schema import kickout_guide, powerfill_log, run_step, trade_cblock_base
from pipeline.db.errors import TransientDatabaseError
from pipeline.engine.runner import utcnow
from pipeline.runs.lease import claim_lease
from pipeline.runs.queue import RunMessage
from tests.lifecycle import fakes
from tests.lifecycle.conftest import http, queue_message, run_row
from tests.polling import wait_for
from tests.lifecycle.test_run_routes import cancel, submit

pytestmark = pytest.mark.azurite


def count(url: str, table, run_id: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(select(sa_func.count()).select_from(table).where(table.c.run_id == run_id)).scalar_one()


def steps_of(url: str, run_id: str) -> dict[str, tuple[str, int]]:
    with get_engine(url).connect() as conn:
        return {r.step_name: (r.status, r.attempt) for r in conn.execute(select(run_step).where(run_step.c.run_id == run_id))}


def outputs(url: str, run_id: str) -> dict[str, list[tuple]]:
    out = {}
    with get_engine(url).connect() as conn:
        for table in (powerfill_log, kickout_guide, trade_cblock_base):
            cols = [c for c in table.columns if c.name != "run_id"]
            out[table.name] = [tuple(r) for r in conn.execute(select(*cols).where(table.c.run_id == run_id).order_by(*cols))]
    return out


def message_for(run_id: str, tenant_id: str, **extra) -> str:
    return RunMessage(run_id=run_id, tenant_id=tenant_id).model_dump_json() if not extra else json.dumps(
        {"v": 1, "run_id": run_id, "tenant_id": tenant_id, **extra})


def test_same_message_three_times_executes_once_with_identical_outputs(functions, tenants, queue, config):
    key = tenants.key(tenants.a)
    _, reference, _ = submit(functions, key)
    queue.deliver_all(functions["run_worker"])
    _, sub, _ = submit(functions, key)
    [(raw, msg)] = queue.receive()
    for _ in range(3):
        functions["run_worker"](msg)
    run = run_row(tenants.url, sub["run_id"])
    assert run.status == "Complete" and run.attempt_count == 1
    assert set(steps_of(tenants.url, sub["run_id"]).values()) == {("Succeeded", 1)}
    assert outputs(tenants.url, sub["run_id"]) == outputs(tenants.url, reference["run_id"])


def test_concurrent_duplicate_deliveries_execute_once(functions, tenants, queue, config):
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    [(raw, msg)] = queue.receive()
    errors = []

    def deliver():
        try:
            functions["run_worker"](msg)
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    run = run_row(tenants.url, sub["run_id"])
    assert run.status == "Complete" and run.attempt_count == 1
    assert set(steps_of(tenants.url, sub["run_id"]).values()) == {("Succeeded", 1)}
    assert count(tenants.url, kickout_guide, sub["run_id"]) == 4


def test_a_worker_whose_lease_was_taken_over_cannot_commit(functions, tenants, queue, config, install):
    gate = fakes.Gate()
    install(steps=fakes.steps(fakes.GatedStep(gate)))
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    [(raw, msg)] = queue.receive()
    worker = threading.Thread(target=functions["run_worker"], args=(msg,))
    worker.start()
    assert gate.reached.wait(10)
    # Another worker sees the lease as expired (its clock is past the expiry) and takes the run over.
    engine = get_engine(tenants.url)
    later = run_row(tenants.url, sub["run_id"]).lease_expires_at_utc
    thief = claim_lease(engine, tenants.a, sub["run_id"], "worker:thief", config, now=later + timedelta(seconds=1))
    assert thief is not None
    gate.open.set()
    worker.join(10)
    run = run_row(tenants.url, sub["run_id"])
    assert run.status == "PostProcessing" and run.lease_owner == "worker:thief"
    assert count(tenants.url, trade_cblock_base, sub["run_id"]) == 0  # the old owner's step never committed
    assert steps_of(tenants.url, sub["run_id"])["gated_step"][0] == "Running"


def test_cancel_mid_step_stops_within_seconds_applies_br9_and_frees_the_tenant(functions, tenants, queue, config, install):
    gate = fakes.Gate()
    install(steps=fakes.steps(fakes.GatedStep(gate)))
    key = tenants.key(tenants.a)
    _, sub, _ = submit(functions, key)
    [(raw, msg)] = queue.receive()
    worker = threading.Thread(target=functions["run_worker"], args=(msg,))
    worker.start()
    assert gate.reached.wait(10)
    assert count(tenants.url, kickout_guide, sub["run_id"]) == 4
    asked = time.monotonic()
    status, body, _ = cancel(functions, key, sub["run_id"])
    assert status == 202 and body["cancel_requested"] is True and body["status"] == "PostProcessing"
    wait_for(lambda: run_row(tenants.url, sub["run_id"]).status == "Cancelled", timeout=5)
    print(f"cancel latency mid-step: {time.monotonic() - asked:.3f}s")
    worker.join(5)
    run = run_row(tenants.url, sub["run_id"])
    assert run.lease_owner is None and run.ended_at_utc is not None
    assert count(tenants.url, kickout_guide, sub["run_id"]) == 0   # BR-9: user-facing rows gone
    assert count(tenants.url, powerfill_log, sub["run_id"]) == 5   # the log is kept
    assert steps_of(tenants.url, sub["run_id"])["gated_step"][0] == "Cancelled"
    stored = json.loads(run.response_json)
    assert stored["status"] == "Cancelled" and stored["output_kickout_count"] == 0
    assert submit(functions, key)[0] == 202


def test_transient_error_is_redelivered_and_resumes_after_the_checkpoint(functions, tenants, queue, config, install):
    install(steps=fakes.steps(fakes.RaisingStep(fakes.transient, times=1)))
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    [(raw, msg)] = queue.receive()
    with pytest.raises(TransientDatabaseError):
        functions["run_worker"](msg)
    run = run_row(tenants.url, sub["run_id"])
    assert run.status == "PostProcessing" and run.lease_owner is None  # released for the redelivery
    functions["run_worker"](msg)  # the host redelivers the same message
    run = run_row(tenants.url, sub["run_id"])
    assert run.status == "Complete" and run.attempt_count == 2
    assert steps_of(tenants.url, sub["run_id"]) == {
        "log_step": ("Succeeded", 1), "kickout_step": ("Succeeded", 1), "gated_step": ("Succeeded", 2)}


@pytest.mark.parametrize("error", [lambda: ValueError("bad input data"), lambda: KeyError("unclassified")])
def test_permanent_and_unclassified_errors_fail_the_run_with_the_step(functions, tenants, queue, config, install, error):
    install(steps=fakes.steps(fakes.RaisingStep(error)))
    key = tenants.key(tenants.a)
    _, sub, _ = submit(functions, key)
    queue.deliver_all(functions["run_worker"])  # returns normally: nothing to redeliver
    run = run_row(tenants.url, sub["run_id"])
    assert run.status == "Failed" and run.failure_step == "gated_step"
    assert run.failure_message.startswith(("ValueError: bad input data", "KeyError"))
    assert count(tenants.url, kickout_guide, sub["run_id"]) == 0 and count(tenants.url, powerfill_log, sub["run_id"]) == 5
    _, body, _ = http(functions["get_run_http"], "GET", "x", key=key, route_params={"run_id": sub["run_id"]})
    assert body["status"] == "Failed" and body["steps"][2]["status"] == "Failed" and body["failure_step"] == "gated_step"
    assert submit(functions, key)[0] == 202


def test_poison_message_fails_its_run_with_br9(functions, tenants, queue, config, install):
    install(steps=fakes.steps(fakes.RaisingStep(fakes.transient)))
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    [(raw, msg)] = queue.receive()
    with pytest.raises(TransientDatabaseError):
        functions["run_worker"](msg)
    assert count(tenants.url, kickout_guide, sub["run_id"]) == 4
    functions["run_poison"](queue_message(msg.get_body(), dequeue_count=1))
    run = run_row(tenants.url, sub["run_id"])
    assert (run.status, run.failure_message) == ("Failed", "gave up after 5 deliveries")
    assert count(tenants.url, kickout_guide, sub["run_id"]) == 0 and count(tenants.url, powerfill_log, sub["run_id"]) == 5
    functions["run_poison"](queue_message(msg.get_body()))  # a second poison copy changes nothing
    assert run_row(tenants.url, sub["run_id"]).ended_at_utc == run.ended_at_utc


def test_malformed_unknown_version_and_forged_messages_change_nothing(functions, tenants, queue, config):
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    before = run_row(tenants.url, sub["run_id"])
    for body in [
        "not json", "{}", "[1,2]",
        json.dumps({"v": 2, "run_id": sub["run_id"], "tenant_id": tenants.a}),                  # unknown version
        json.dumps({"v": 1, "run_id": sub["run_id"], "tenant_id": tenants.a, "priority": 9}),   # unknown field
        message_for(sub["run_id"], tenants.b),                                                  # forged: B's tenant
        message_for(sub["run_id"], "no-such-tenant"),
        message_for("00000000-0000-0000-0000-000000000000", tenants.a),
    ]:
        assert functions["run_worker"](queue_message(body)) is None
        assert functions["run_poison"](queue_message(body)) is None
    assert run_row(tenants.url, sub["run_id"]) == before


def test_time_budget_hands_over_to_continuations(functions, tenants, queue, config, install):
    install(run_budget_seconds=0)
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    delivered = queue.deliver_all(functions["run_worker"])
    assert delivered == 3  # one step per invocation, each queueing the next
    run = run_row(tenants.url, sub["run_id"])
    assert run.status == "Complete" and run.attempt_count == 1  # planned hand-overs use no attempts


def test_heartbeat_keeps_the_lease_alive_past_its_ttl(functions, tenants, queue, config, install):
    gate = fakes.Gate()
    install(steps=fakes.steps(fakes.GatedStep(gate)), lease_seconds=0.3, heartbeat_seconds=0.05)
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    [(raw, msg)] = queue.receive()
    worker = threading.Thread(target=functions["run_worker"], args=(msg,))
    worker.start()
    assert gate.reached.wait(10)
    first = run_row(tenants.url, sub["run_id"]).lease_expires_at_utc
    wait_for(lambda: run_row(tenants.url, sub["run_id"]).lease_expires_at_utc > first + timedelta(seconds=0.3))
    assert run_row(tenants.url, sub["run_id"]).lease_expires_at_utc > utcnow()
    gate.open.set()
    worker.join(10)
    assert run_row(tenants.url, sub["run_id"]).status == "Complete"
