"""Pieces of the local host that need no services: route precedence, host.json reading and its
app-setting overrides, `%SETTING%` resolution, NCRONTAB schedules, discovery of the real app."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from pipeline.devhost.functions import discover, load_function_app, resolve_setting_refs
from pipeline.devhost.hostjson import load_host_config, parse_timespan
from pipeline.devhost.http_server import Router
from pipeline.devhost.routing import RouteTemplate
from pipeline.devhost.timers import Schedule


def test_route_templates_match_with_parameters_and_constraints():
    t = RouteTemplate.parse("powerfill/runs/{run_id}/{report}")
    assert t.match("powerfill/runs/abc/guide") == {"run_id": "abc", "report": "guide"}
    assert t.match("powerfill/runs/abc") is None and t.match("powerfill/runs/abc/guide/x") is None
    assert RouteTemplate.parse("items/{id:int}").match("items/x") is None
    assert RouteTemplate.parse("items/{id:int}").match("items/12") == {"id": "12"}
    assert RouteTemplate.parse("files/{*rest}").match("files/a/b") == {"rest": "a/b"}
    assert RouteTemplate.parse("opt/{x?}").match("opt") == {}


def test_real_app_routes_literal_segments_before_parameters():
    functions = discover(load_function_app())
    router = Router(functions.http, "api")
    fn, params, _ = router.resolve("GET", "/api/powerfill/runs/r1/report.html")
    assert fn.name == "get_report_html" and params == {"run_id": "r1"}
    fn, params, _ = router.resolve("POST", "/api/powerfill/runs/r1/cancel")
    assert fn.name == "cancel_run_http"
    fn, params, _ = router.resolve("GET", "/api/powerfill/runs/r1/recap")
    assert fn.name == "get_report" and params == {"run_id": "r1", "report": "recap"}
    fn, _, allowed = router.resolve("DELETE", "/api/powerfill/runs/r1/recap")
    assert fn is None and "GET" in allowed
    assert router.resolve("GET", "/elsewhere")[0] is None
    assert {q.queue_name for q in functions.queues} == {"powerfill-runs", "powerfill-runs-poison"}
    assert [t.schedule for t in functions.timers] == ["0 */1 * * * *"]


def test_host_json_and_app_setting_overrides(tmp_path):
    path = tmp_path / "host.json"
    path.write_text(json.dumps({"extensions": {"http": {"routePrefix": "x"}, "queues": {
        "batchSize": 4, "visibilityTimeout": "00:00:30", "maxDequeueCount": 5}}}))
    cfg = load_host_config(path, {"AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:02"})
    assert cfg.route_prefix == "x" and cfg.queues.batch_size == 4 and cfg.queues.fetch_threshold == 2
    assert cfg.queues.visibility_timeout == 2 and cfg.queues.max_dequeue_count == 5
    defaults = load_host_config(None, {})
    assert defaults.route_prefix == "api" and defaults.queues.max_dequeue_count == 5
    assert parse_timespan("1.02:03:04.5") == 86400 + 7384.5


def test_setting_references_resolve_from_environment_then_defaults():
    assert resolve_setting_refs("%Q%-poison", {"Q": "runs"}) == "runs-poison"
    assert resolve_setting_refs("%Q%", {}, {"Q": "d"}) == "d"
    with pytest.raises(KeyError):
        resolve_setting_refs("%MISSING%", {}, {})


def test_ncrontab_schedules_are_seconds_first():
    start = datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert Schedule("0 */1 * * * *").next_after(start) == datetime(2026, 1, 1, 0, 1, tzinfo=timezone.utc)
    assert Schedule("*/15 * * * * *").next_after(start) == datetime(2026, 1, 1, 0, 0, 15, tzinfo=timezone.utc)
    assert Schedule("00:05:00").next_after(start) == datetime(2026, 1, 1, 0, 5, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        Schedule("not a schedule")
