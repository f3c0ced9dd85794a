"""Every status code of the run routes, through the app's registered functions with real HttpRequests."""

from __future__ import annotations

import pytest

from tests.lifecycle.conftest import http, run_row

pytestmark = pytest.mark.azurite


def submit(functions, key, body=None, **kw):
    return http(functions["submit_run_http"], "POST", "powerfill/run", key=key, body=body, **kw)


def get(functions, key, run_id):
    return http(functions["get_run_http"], "GET", f"powerfill/runs/{run_id}", key=key, route_params={"run_id": run_id})


def cancel(functions, key, run_id):
    return http(functions["cancel_run_http"], "POST", f"powerfill/runs/{run_id}/cancel", key=key, route_params={"run_id": run_id})


def list_runs(functions, key, **params):
    return http(functions["list_runs_http"], "GET", "powerfill/runs", key=key, params={k: str(v) for k, v in params.items()})


def test_submit_accepts_and_queues_a_run(functions, tenants, queue, config):
    status, body, headers = submit(functions, tenants.key(tenants.a), {"scope": "ClosedOnly", "as_of_date": "2026-03-02"})
    assert status == 202
    assert headers["Location"] == f"/api/powerfill/runs/{body['run_id']}"
    assert body["status"] == "Pending" and body["tenant_id"] == tenants.a and body["trigger"] == "http"
    assert body["options"]["scope"] == "ClosedOnly" and body["options"]["as_of_date"] == "2026-03-02"
    assert body["links"] == {"self": headers["Location"], "cancel": headers["Location"] + "/cancel"}
    assert [s["name"] for s in body["steps"]] == ["log_step", "kickout_step", "gated_step"]
    assert [m["run_id"] for m in queue.peek_bodies()] == [body["run_id"]]
    assert run_row(tenants.url, body["run_id"]).enqueued_at_utc is not None


def test_submit_resolves_as_of_date_and_accepts_an_empty_body(functions, tenants, queue, config):
    status, body, _ = submit(functions, tenants.key(tenants.a), raw=b"")
    assert status == 202
    assert body["options"]["as_of_date"]  # the tenant's business date


def test_submit_rejects_unknown_and_invalid_options_with_field_errors(functions, tenants, queue, config):
    status, body, _ = submit(functions, tenants.key(tenants.a), {"scope": "Everything", "colour": "red"})
    assert status == 400 and body["error"] == "validation_error"
    fields = {d["field"] for d in body["details"]}
    assert {"scope", "colour"} <= fields
    assert queue.count() == 0


def test_submit_reports_malformed_json_with_line_and_column(functions, tenants, queue, config):
    status, body, _ = submit(functions, tenants.key(tenants.a), raw=b'{\n  "scope": }', headers={"content-type": "application/json"})
    assert status == 400 and body["error"] == "malformed_json"
    assert body["details"][0]["line"] == 2 and body["details"][0]["column"] == 12


def test_submit_refuses_other_content_types_and_bodies_over_the_limit(functions, tenants, queue, config, monkeypatch):
    status, body, _ = submit(functions, tenants.key(tenants.a), raw=b"scope=x", headers={"content-type": "text/plain"})
    assert (status, body["error"]) == (415, "unsupported_media_type")
    monkeypatch.setenv("POWERFILL_MAX_BODY_BYTES", "1024")
    from pipeline.settings import get_settings

    get_settings.cache_clear()
    status, body, _ = submit(functions, tenants.key(tenants.a), raw=b"{" + b" " * 2000 + b"}",
                             headers={"content-type": "application/json"})
    assert (status, body["error"]) == (413, "payload_too_large")


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"authorization": "Bearer wrong"}, {"authorization": "Basic abc"}])
def test_every_route_needs_a_valid_key(functions, tenants, queue, config, headers):
    for name, method, route_params in [
        ("submit_run_http", "POST", {}), ("list_runs_http", "GET", {}), ("get_run_http", "GET", {"run_id": "x"}),
        ("cancel_run_http", "POST", {"run_id": "x"}), ("list_schedules_http", "GET", {}), ("put_schedules_http", "PUT", {}),
        ("status_http", "GET", {}),
    ]:
        status, body, _ = http(functions[name], method, "powerfill/x", headers=headers, route_params=route_params)
        assert status == 401, name
        assert body["error"] == "unauthorized" and set(body) >= {"error", "message", "details"}


def test_bearer_key_works_and_x_tenant_id_must_match(functions, tenants, queue, config):
    status, _, _ = http(
        functions["list_runs_http"], "GET", "powerfill/runs", headers={"authorization": f"Bearer {tenants.key(tenants.a)}"})
    assert status == 200
    status, body, _ = http(functions["list_runs_http"], "GET", "powerfill/runs", key=tenants.key(tenants.a),
                           headers={"x-tenant-id": tenants.b})
    assert status == 401 and body["error"] == "tenant_mismatch"


def test_second_active_run_is_409_with_the_active_run(functions, tenants, queue, config):
    _, first, _ = submit(functions, tenants.key(tenants.a))
    status, body, _ = submit(functions, tenants.key(tenants.a))
    assert status == 409 and body["error"] == "active_run"
    assert body["active_run_id"] == first["run_id"] and body["active_status"] == "Pending"
    # BR-8 is per tenant: tenant B is not blocked.
    assert submit(functions, tenants.key(tenants.b))[0] == 202


def test_idempotency_key_returns_the_same_run(functions, tenants, queue, config):
    h = {"idempotency-key": "abc-123"}
    s1, first, _ = submit(functions, tenants.key(tenants.a), headers=h)
    s2, again, loc = submit(functions, tenants.key(tenants.a), headers=h)
    assert (s1, s2) == (202, 202) and again["run_id"] == first["run_id"]
    assert loc["Location"].endswith(first["run_id"])
    assert queue.count() == 1


def test_get_shows_live_progress_then_the_stored_response(functions, tenants, queue, config):
    key = tenants.key(tenants.a)
    _, sub, _ = submit(functions, key)
    status, live, _ = get(functions, key, sub["run_id"])
    assert status == 200 and live["status"] == "Pending" and live["steps_done"] == 0
    assert all(s["status"] == "Pending" for s in live["steps"])
    queue.deliver_all(functions["run_worker"])
    status, done, _ = get(functions, key, sub["run_id"])
    assert status == 200 and done["status"] == "Complete" and done["steps_done"] == 3
    assert done["summary"]["candidate_count"] == 7 and done["summary"]["bound"] is None
    assert done["output_kickout_count"] == 4
    assert [s["status"] for s in done["steps"]] == ["Succeeded"] * 3
    assert run_row(tenants.url, sub["run_id"]).response_json is not None


def test_unknown_and_other_tenants_runs_are_404(functions, tenants, queue, config):
    _, sub, _ = submit(functions, tenants.key(tenants.a))
    assert get(functions, tenants.key(tenants.a), "00000000-0000-0000-0000-000000000000")[0] == 404
    status, body, _ = get(functions, tenants.key(tenants.b), sub["run_id"])
    assert status == 404 and body["error"] == "not_found"
    assert cancel(functions, tenants.key(tenants.b), sub["run_id"])[0] == 404
    assert list_runs(functions, tenants.key(tenants.b))[1]["items"] == []
    assert run_row(tenants.url, sub["run_id"]).status == "Pending"  # B's cancel changed nothing


def test_cancel_pending_is_immediate_then_terminal_is_409(functions, tenants, queue, config):
    key = tenants.key(tenants.a)
    _, sub, _ = submit(functions, key)
    status, body, _ = cancel(functions, key, sub["run_id"])
    assert status == 200 and body["status"] == "Cancelled"
    status, body, _ = cancel(functions, key, sub["run_id"])
    assert status == 409 and body["error"] == "run_terminal" and body["status"] == "Cancelled"
    assert get(functions, key, sub["run_id"])[1]["status"] == "Cancelled"
    # The queued message finds a terminal run and changes nothing.
    queue.deliver_all(functions["run_worker"])
    assert run_row(tenants.url, sub["run_id"]).status == "Cancelled"
    assert submit(functions, key)[0] == 202


def test_list_pages_newest_first_with_status_filter(functions, tenants, queue, config):
    key = tenants.key(tenants.a)
    ids = []
    for _ in range(5):
        _, sub, _ = submit(functions, key)
        ids.append(sub["run_id"])
        cancel(functions, key, sub["run_id"])
    _, active, _ = submit(functions, key)
    seen, cursor = [], None
    while True:
        status, page, _ = list_runs(functions, key, limit=2, **({"cursor": cursor} if cursor else {}))
        assert status == 200 and len(page["items"]) <= 2
        seen += [i["run_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [active["run_id"], *reversed(ids)]
    _, pending, _ = list_runs(functions, key, status="Pending")
    assert [i["run_id"] for i in pending["items"]] == [active["run_id"]]
    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"status": "Nope"}, {"cursor": "garbage!"}):
        status, body, _ = list_runs(functions, key, **bad)
        assert status == 400 and body["error"] == "validation_error", bad


def test_submit_answers_503_when_the_queue_is_unreachable_and_the_tenant_is_not_blocked(
        functions, tenants, queue, config, monkeypatch, azurite_connection):
    from pipeline.settings import get_settings
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("AzureWebJobsStorage", azurite_connection.replace(
        azurite_connection.split("QueueEndpoint=")[1].split("/devstoreaccount1")[0], f"http://127.0.0.1:{closed}"))
    get_settings.cache_clear()
    key = tenants.key(tenants.a)
    status, body, headers = submit(functions, key)
    assert status == 503 and body["error"] == "queue_unavailable" and int(headers["Retry-After"]) > 0
    failed = run_row(tenants.url, body["run_id"])
    assert (failed.status, failed.failure_step) == ("Failed", "enqueue")
    # The queue is back: the tenant can submit again at once.
    monkeypatch.setenv("AzureWebJobsStorage", azurite_connection)
    get_settings.cache_clear()
    assert submit(functions, key)[0] == 202


def test_status_reports_version_schema_and_reachability(functions, tenants, queue, config):
    status, body, _ = http(functions["status_http"], "GET", "powerfill/status", key=tenants.key(tenants.a))
    assert status == 200
    assert body["version"] and body["schema_revision"] == body["schema_head"]
    assert body["database"]["reachable"] is True and body["queue"]["reachable"] is True
