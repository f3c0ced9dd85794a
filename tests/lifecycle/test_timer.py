"""The timer sweep through the registered `reconcile_timer`, and schedules through their routes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func as sa_func
from sqlalchemy import select, update

from pipeline.db.engine import get_engine
from pipeline.db.schema import kickout_guide, powerfill_log, run_history, schedules
from pipeline.engine.runner import utcnow
from pipeline.runs.lease import claim_lease
from pipeline.runs.reconcile import outputs_expired, sweep
from tests.lifecycle.conftest import http, run_row, timer_request
from tests.lifecycle.test_run_routes import submit

pytestmark = pytest.mark.azurite


def set_run(url: str, run_id: str, **values) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(update(run_history).where(run_history.c.run_id == run_id).values(**values))


def test_pending_run_never_enqueued_is_requeued_once(functions, tenants, queue, config):
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    queue.receive(visibility_timeout=300)  # the original message is "lost"
    set_run(tenants.url, sub["run_id"], enqueued_at_utc=None)
    functions["reconcile_timer"](timer_request())
    assert queue.peek_bodies() == []  # within the grace: its submit may still be sending
    set_run(tenants.url, sub["run_id"], started_at_utc=utcnow() - timedelta(minutes=1))
    functions["reconcile_timer"](timer_request())
    functions["reconcile_timer"](timer_request(past_due=True))  # a second tick: already requeued
    assert [m["run_id"] for m in queue.peek_bodies()] == [sub["run_id"]]
    assert queue.peek_bodies()[0]["reason"] == "requeue"
    queue.deliver_all(functions["run_worker"])
    assert run_row(tenants.url, sub["run_id"]).status == "Complete"


def test_pending_run_not_picked_up_is_requeued_after_the_grace_period(functions, tenants, queue, config, install):
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    functions["reconcile_timer"](timer_request())
    assert queue.count() == 1  # recently queued: left alone
    install(pending_requeue_seconds=0)
    set_run(tenants.url, sub["run_id"], enqueued_at_utc=utcnow() - timedelta(seconds=5))
    functions["reconcile_timer"](timer_request())
    assert queue.count() == 2


def test_expired_lease_is_resumed_while_attempts_remain_then_abandoned(functions, tenants, queue, config):
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    queue.receive(visibility_timeout=300)
    engine = get_engine(tenants.url)
    past = utcnow() - timedelta(hours=1)
    assert claim_lease(engine, tenants.a, sub["run_id"], "worker:dead", config, now=past) is not None  # expired now
    set_run(tenants.url, sub["run_id"], status="Allocating", current_step="kickout_step")
    functions["reconcile_timer"](timer_request())
    run = run_row(tenants.url, sub["run_id"])
    assert run.lease_owner is None and run.status == "Allocating"
    assert [m["run_id"] for m in queue.peek_bodies()] == [sub["run_id"]]
    # Attempts used up: the next dead worker's run is failed, not resumed.
    set_run(tenants.url, sub["run_id"], lease_owner="worker:dead2", lease_expires_at_utc=past, attempt_count=3)
    functions["reconcile_timer"](timer_request())
    run = run_row(tenants.url, sub["run_id"])
    assert (run.status, run.failure_step, run.failure_message) == ("Failed", "kickout_step", "abandoned after 3 attempts")


def test_live_lease_is_left_alone(functions, tenants, queue, config):
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    queue.receive(visibility_timeout=300)
    assert claim_lease(get_engine(tenants.url), tenants.a, sub["run_id"], "worker:alive", config) is not None
    set_run(tenants.url, sub["run_id"], enqueued_at_utc=None)
    functions["reconcile_timer"](timer_request())
    assert run_row(tenants.url, sub["run_id"]).lease_owner == "worker:alive" and queue.peek_bodies() == []


def test_cancel_request_nobody_serves_is_finished(functions, tenants, queue, config):
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    engine = get_engine(tenants.url)
    assert claim_lease(engine, tenants.a, sub["run_id"], "worker:dead", config, now=utcnow() - timedelta(hours=1))
    set_run(tenants.url, sub["run_id"], status="PreProcessing")
    # The cancel route would finish it itself; here the request predates the worker's death.
    set_run(tenants.url, sub["run_id"], cancel_requested_at_utc=utcnow())
    functions["reconcile_timer"](timer_request())
    assert run_row(tenants.url, sub["run_id"]).status == "Cancelled"


def test_retention_deletes_old_outputs_and_keeps_run_rows(functions, tenants, queue, config):
    key = tenants.key(tenants.a)
    _, old, _ = submit(functions, key)
    queue.deliver_all(functions["run_worker"])
    _, recent, _ = submit(functions, key)
    queue.deliver_all(functions["run_worker"])
    ended = utcnow() - timedelta(days=31)
    set_run(tenants.url, old["run_id"], ended_at_utc=ended)
    functions["reconcile_timer"](timer_request())
    with get_engine(tenants.url).connect() as conn:
        def n(table, run_id):
            return conn.execute(select(sa_func.count()).select_from(table).where(table.c.run_id == run_id)).scalar_one()
        assert n(kickout_guide, old["run_id"]) == 0 and n(powerfill_log, old["run_id"]) == 0
        assert n(kickout_guide, recent["run_id"]) == 4
    assert run_row(tenants.url, old["run_id"]).status == "Complete"  # the run row stays
    assert outputs_expired(ended, utcnow(), 30) and not outputs_expired(utcnow(), utcnow(), 30)


def test_one_database_failing_does_not_stop_the_sweep(functions, tenants, queue, config, monkeypatch, tmp_path):
    import json

    from pipeline.settings import get_settings
    from pipeline.tenants import get_registry

    registry = json.loads(__import__("os").environ["POWERFILL_TENANTS"])
    registry["tenants"]["broken"] = {"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none", "api_key_sha256": []}
    monkeypatch.setenv("POWERFILL_TENANTS", json.dumps(registry))
    get_settings.cache_clear()
    get_registry.cache_clear()
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    set_run(tenants.url, sub["run_id"], enqueued_at_utc=None, started_at_utc=utcnow() - timedelta(minutes=1))
    report = sweep()
    assert len(report.errors) == 1 and sub["run_id"] in report.requeued


# --- schedules -------------------------------------------------------------------------------

def put_schedules(functions, key, body, **kw):
    return http(functions["put_schedules_http"], "PUT", "powerfill/schedules", key=key, body=body, **kw)


def get_schedules(functions, key):
    return http(functions["list_schedules_http"], "GET", "powerfill/schedules", key=key)


def test_schedule_routes_validate_and_replace_the_set(functions, tenants, queue, config):
    key = tenants.key(tenants.a)
    assert get_schedules(functions, key)[:2] == (200, {"items": []})
    good = [{"name": "morning", "cron": "0 30 6 * * 1-5", "options": {"allocator": "greedy"}},
            {"name": "noon", "cron": "0 0 12 * * *", "enabled": False}]
    status, body, _ = put_schedules(functions, key, good)
    assert status == 200 and [i["name"] for i in body["items"]] == ["morning", "noon"]
    assert body["items"][0]["next_fire_at"] and body["items"][1]["next_fire_at"] is None
    for bad, field in [
        ([{"name": "x", "cron": "*/5 * * * *"}], "0.cron"),                              # 5 fields
        ([{"name": "x", "cron": "0 99 * * * *"}], "0.cron"),
        ([{"name": "x", "cron": "0 0 * * * *", "options": {"nope": 1}}], "0.options.nope"),
        ([{"name": "x", "cron": "0 0 * * * *"}, {"name": "x", "cron": "0 0 * * * *"}], "1.name"),
        ([{"name": "x", "cron": "0 0 * * * *", "colour": "red"}], "0.colour"),
        ({"name": "x"}, None),
    ]:
        status, body, _ = put_schedules(functions, key, bad)
        assert status == 400 and body["error"] == "validation_error", bad
        if field:
            assert field in {d["field"] for d in body["details"]}, (bad, body["details"])
    assert put_schedules(functions, key, None, raw=b"[", headers={"content-type": "application/json"})[0] == 400
    assert put_schedules(functions, key, None, raw=b"name,cron", headers={"content-type": "text/csv"})[0] == 415
    status, body, _ = put_schedules(functions, key, [good[1]])
    assert [i["name"] for i in body["items"]] == ["noon"]
    assert get_schedules(functions, tenants.key(tenants.b))[1] == {"items": []}  # per tenant


def test_due_schedule_starts_exactly_one_run_when_the_timer_fires_twice(functions, tenants, queue, config):
    key = tenants.key(tenants.a)
    put_schedules(functions, key, [{"name": "every-minute", "cron": "0 * * * * *", "options": {"allocator": "greedy"}}])
    with get_engine(tenants.url).begin() as conn:  # written two minutes ago: a firing is due now
        conn.execute(update(schedules).values(updated_at_utc=utcnow() - timedelta(minutes=2)))
    timers = [threading.Thread(target=functions["reconcile_timer"], args=(timer_request(),)) for _ in range(2)]
    for t in timers:
        t.start()
    for t in timers:
        t.join()
    functions["reconcile_timer"](timer_request())
    with get_engine(tenants.url).connect() as conn:
        runs = conn.execute(select(run_history).where(run_history.c.tenant_id == tenants.a)).all()
    assert len(runs) == 1 and runs[0].trigger == "schedule" and runs[0].schedule_name == "every-minute"
    assert runs[0].requested_by == "schedule:every-minute"
    [item] = get_schedules(functions, key)[1]["items"]
    assert item["last_result"]["outcome"] == "started" and item["last_result"]["run_id"] == runs[0].run_id
    assert len(queue.peek_bodies()) == 1


def test_schedule_firing_while_a_run_is_active_is_skipped_and_visible(functions, tenants, queue, config):
    key = tenants.key(tenants.a)
    _, active, _ = submit(functions, key)
    put_schedules(functions, key, [{"name": "hourly", "cron": "0 0 * * * *"}])
    with get_engine(tenants.url).begin() as conn:
        conn.execute(update(schedules).values(updated_at_utc=utcnow() - timedelta(hours=2)))
    functions["reconcile_timer"](timer_request())
    [item] = get_schedules(functions, key)[1]["items"]
    assert item["last_result"]["outcome"] == "skipped"
    assert item["last_result"]["active_run_id"] == active["run_id"]
