"""What the app registers, what host.json says, the HTTP wrapper's edges, log context and the CLI.
No queue needed: SQLite (and PostgreSQL where `db_url` runs both)."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import azure.functions as func

from pipeline.api import ApiRequest, http_endpoint
from pipeline.db.errors import TransientDatabaseError
from pipeline.runs.config import LifecycleConfig, override_config
from pipeline.runs.poison import MAX_DEQUEUE_COUNT
from pipeline.runs.submit import submit_run
from pipeline.runs.worker import Outcome, execute_run
from pipeline.statuses import Trigger
from tests.lifecycle import fakes
from tests.lifecycle.conftest import http

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_registers_each_trigger_once():
    import function_app

    meta = {f.get_function_name(): json.loads(f.get_function_json()) for f in function_app.app.get_functions()}
    routes = {(b["route"], tuple(b["methods"])) for m in meta.values() for b in m["bindings"] if b["type"] == "httpTrigger"}
    assert {("powerfill/run", ("POST",)), ("powerfill/runs", ("GET",)), ("powerfill/runs/{run_id}", ("GET",)),
            ("powerfill/runs/{run_id}/cancel", ("POST",)), ("powerfill/schedules", ("GET",)),
            ("powerfill/schedules", ("PUT",)), ("powerfill/status", ("GET",))} <= routes
    assert all(b["authLevel"] == "ANONYMOUS" for m in meta.values() for b in m["bindings"] if b["type"] == "httpTrigger")
    queues = {m["bindings"][0]["queueName"]: name for name, m in meta.items() if m["bindings"][0]["type"] == "queueTrigger"}
    assert queues == {"%POWERFILL_RUNS_QUEUE%": "run_worker", "%POWERFILL_RUNS_QUEUE%-poison": "run_poison"}
    [timer] = [m["bindings"][0] for m in meta.values() if m["bindings"][0]["type"] == "timerTrigger"]
    assert timer["schedule"] == "%POWERFILL_TIMER_SCHEDULE%" and timer["useMonitor"] is False


def test_host_json_matches_the_code_that_relies_on_it():
    from pipeline.settings import Settings

    host = json.loads((ROOT / "host.json").read_text())
    queues = host["extensions"]["queues"]
    assert host["extensions"]["http"]["routePrefix"] == "api"
    assert queues["maxDequeueCount"] == MAX_DEQUEUE_COUNT
    assert (queues["batchSize"], queues["newBatchThreshold"], queues["messageEncoding"]) == (1, 0, "base64")
    assert host["telemetryMode"] == "OpenTelemetry"
    h, m, s = (int(x) for x in host["functionTimeout"].split(":"))
    assert h * 3600 + m * 60 + s > Settings().run_budget_seconds  # the worker yields before the host kills it
    documented = (ROOT / "README.md").read_text()
    for key in ("routePrefix", "batchSize", "newBatchThreshold", "maxDequeueCount", "visibilityTimeout",
                "messageEncoding", "functionTimeout", "telemetryMode", "maxPollingInterval"):
        assert f"`{key}`" in documented or f"queues.{key}`" in documented or key in documented, key


# --- the HTTP wrapper ------------------------------------------------------------------------

@http_endpoint
def _explodes(req: ApiRequest):
    raise RuntimeError("secret detail /etc/passwd line 42")


@http_endpoint
def _database_down(req: ApiRequest):
    raise TransientDatabaseError("OperationalError: connection refused")


@http_endpoint
def _whoami(req: ApiRequest):
    return {"tenant_id": req.tenant_id}


def test_unexpected_errors_are_500_json_without_a_stack_trace(tenants):
    status, body, _ = http(_explodes, "GET", "x", key=tenants.key(tenants.a))
    assert status == 500 and body["error"] == "internal_error"
    assert "Traceback" not in json.dumps(body) and "passwd" not in json.dumps(body)
    assert body["details"][0]["reference"] in body["message"]


def test_transient_infrastructure_errors_are_503_with_retry_after(tenants):
    status, body, headers = http(_database_down, "GET", "x", key=tenants.key(tenants.a))
    assert status == 503 and body["error"] == "service_unavailable" and int(headers["Retry-After"]) > 0


def test_principal_header_is_trusted_only_in_easy_auth_mode(tenants, monkeypatch):
    from pipeline.settings import get_settings

    principal = base64.b64encode(json.dumps({"claims": [{"typ": "tenant_id", "val": tenants.b}]}).encode()).decode()
    headers = {"x-ms-client-principal": principal}
    assert http(_whoami, "GET", "x", headers=headers)[0] == 401
    monkeypatch.setenv("POWERFILL_AUTH_MODE", "easy_auth")
    get_settings.cache_clear()
    assert http(_whoami, "GET", "x", headers=headers)[:2] == (200, {"tenant_id": tenants.b})
    bad = base64.b64encode(json.dumps({"claims": [{"typ": "tenant_id", "val": "nobody"}]}).encode()).decode()
    assert http(_whoami, "GET", "x", headers={"x-ms-client-principal": bad})[0] == 401


def test_the_wrapper_keeps_the_functions_signature():
    import inspect

    sig = inspect.signature(_whoami)
    assert list(sig.parameters) == ["req"] and sig.parameters["req"].annotation is func.HttpRequest


# --- log context and lifecycle events ----------------------------------------------------------

def test_every_log_line_of_a_run_carries_its_context_and_events_their_dimensions(tenants, caplog):
    from pipeline.db.engine import get_engine

    engine = get_engine(tenants.url)
    with override_config(LifecycleConfig(heartbeat_seconds=0.05, steps=fakes.steps())) as cfg:
        caplog.set_level(logging.INFO, logger="pipeline")
        run = submit_run(engine, tenants.a, {}, trigger=Trigger.CLI, enqueue=False, config=cfg).run
        assert execute_run(engine, tenants.a, run.run_id, config=cfg, use_budget=False) is Outcome.COMPLETED
    events = {r.event: r for r in caplog.records if getattr(r, "event", None)}
    assert {"run_submitted", "run_claimed", "step_finished", "run_finalized"} <= set(events)
    run_lines = [r for r in caplog.records if getattr(r, "run_id", None) == run.run_id]
    assert all(r.tenant_id == tenants.a for r in run_lines)
    steps = [r for r in caplog.records if getattr(r, "event", None) == "step_finished"]
    assert [r.step for r in steps] == ["log_step", "kickout_step", "gated_step"]
    assert all(r.attempt == 1 and r.status == "Succeeded" and r.rows >= 0 and r.duration_s >= 0 for r in steps)
    fin = events["run_finalized"]
    assert fin.status == "Complete" and fin.duration_s >= 0 and fin.gap == 0.001 and fin.value_gap_bps == 0.2


# --- the CLI ----------------------------------------------------------------------------------

def test_powerfill_run_sync_executes_through_the_worker_path(tenants, capsys):
    from pipeline.cli import main

    with override_config(LifecycleConfig(heartbeat_seconds=0.05, steps=fakes.steps())):
        code = main(["run", "--sync", "--tenant", tenants.a, "--db", tenants.url, "--options", '{"allocator": "greedy"}'])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["status"] == "Complete" and out["trigger"] == "cli"
    assert out["options"]["allocator"] == "greedy" and len(out["steps"]) == 3 and out["attempt_count"] == 1

    with override_config(LifecycleConfig(heartbeat_seconds=0.05, steps=fakes.steps(fakes.RaisingStep(lambda: ValueError("x"))))):
        code = main(["run", "--sync", "--tenant", tenants.a, "--db", tenants.url])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["status"] == "Failed" and out["failure_step"] == "gated_step"
    assert main(["run", "--sync", "--tenant", tenants.a, "--db", tenants.url, "--options", '{"bogus": 1}']) == 2
