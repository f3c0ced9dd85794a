"""End to end over HTTP against the local host: load the inputs, submit, poll, read every report
as JSON pages and CSV, the HTML page, cancel, and the 401/404/409/410/413/415/400 answers."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
import requests
from azure.storage.queue import QueueClient
from openapi_spec_validator import validate

from pipeline.inputs import KINDS
from pipeline.reports import REPORT_NAMES
from tests.e2e.conftest import MAX_BODY, OTHER_KEY, generate_inputs, local_host
from tests.reports.fabricate import insert_run

pytestmark = pytest.mark.azurite

RUN_TIMEOUT = 240


@pytest.fixture(scope="module")
def env(tmp_path_factory, azurite_connection):
    tmp = tmp_path_factory.mktemp("e2e")
    inputs, as_of = generate_inputs(tmp / "inputs")
    with local_host(tmp, azurite_connection) as host:
        api = host.client()
        for kind in KINDS:
            api.put_input_csv(kind, inputs[kind])
        run = api.submit({"as_of_date": as_of})
        done = api.wait(run["run_id"], timeout=RUN_TIMEOUT)
        yield {"host": host, "api": api, "run": done, "inputs": inputs, "as_of": as_of}


def err_body(resp: requests.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text[:500]
    body = resp.json()
    assert set(body) >= {"error", "message", "details"} and isinstance(body["details"], list)
    assert "Traceback" not in resp.text
    return body


def test_inputs_were_loaded_and_read_back(env):
    api = env["api"]
    for kind in ("loans", "trades"):
        listed = api.request("GET", f"/inputs/{kind}").json()
        original = list(csv.DictReader(io.StringIO(env["inputs"][kind].decode())))
        assert listed["count"] == len(original) == len(listed["rows"])
        text = api.request("GET", f"/inputs/{kind}", params={"format": "csv"}).text
        assert len(list(csv.DictReader(io.StringIO(text)))) == len(original)


def test_run_completed_through_six_steps_and_the_queue_is_drained(env):
    run = env["run"]
    assert run["status"] == "Complete", run.get("failure_message")
    assert run["steps_done"] == 6 and run["summary"]["allocated_count"] > 0
    queue = QueueClient.from_connection_string(env["host"].connection, env["host"].queue)
    assert list(queue.peek_messages(max_messages=32)) == []  # deleted on success


@pytest.mark.parametrize("report", REPORT_NAMES)
def test_every_report_as_json_pages_and_csv(env, report):
    api, run_id = env["api"], env["run"]["run_id"]
    rows, cursor, pages = [], None, 0
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = api.request("GET", f"/runs/{run_id}/{report}", params=params).json()
        assert page["report"] == report and page["status"] == "Complete" and "note" not in page
        rows += page["rows"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    names = [c["name"] for c in page["columns"]]
    csv_resp = api.request("GET", f"/runs/{run_id}/{report}", headers={"Accept": "text/csv"})
    assert csv_resp.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(csv_resp.text)))
    assert table[0] == names and len(table) - 1 == len(rows)
    if report in ("guide", "kickouts", "recap", "syn-trades", "log", "pool-guide", "candidates"):
        assert rows, f"a complete run of the demo book has {report} rows"
    if report == "guide":
        assert len(rows) == env["run"]["summary"]["allocated_count"]
        first = dict(zip(table[0], table[1]))
        assert len(first["loan_amount"].split(".")[1]) == 2 and len(first["value"].split(".")[1]) == 8


def test_small_pages_chain_without_gaps(env):
    api, run_id = env["api"], env["run"]["run_id"]
    first = api.request("GET", f"/runs/{run_id}/kickouts", params={"limit": 7}).json()
    second = api.request("GET", f"/runs/{run_id}/kickouts", params={"limit": 7, "cursor": first["next_cursor"]}).json()
    both = api.request("GET", f"/runs/{run_id}/kickouts", params={"limit": 14}).json()
    assert first["rows"] + second["rows"] == both["rows"]


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_report_html_is_self_contained_with_charts(env):
    resp = env["api"].request("GET", f"/runs/{env['run']['run_id']}/report.html")
    assert resp.headers["Content-Type"].startswith("text/html")
    page = resp.text
    parser = Tags()
    parser.feed(page)
    assert not any("src" in a for t, a in parser.tags if t == "script")
    assert page.count("Plotly.newPlot") == 4 and "Trade recap" in page


def test_cancel_and_inputs_locked_while_a_run_is_active(env):
    api = env["api"]
    run_id = api.submit({"as_of_date": env["as_of"]})["run_id"]
    body = err_body(api.session.put(api.base + "/inputs/trades", data=env["inputs"]["trades"],
                                    headers={"Content-Type": "text/csv"}), 409)
    assert body["error"] == "inputs_locked" and body["active_run_id"] == run_id
    body = err_body(api.session.get(f"{api.base}/runs/{run_id}/guide"), 409)
    assert body["status"] in ("Pending", "PreProcessing", "Allocating", "PostProcessing")
    resp = api.session.post(f"{api.base}/runs/{run_id}/cancel")
    assert resp.status_code in (200, 202), resp.text
    run = api.wait(run_id, timeout=RUN_TIMEOUT)
    assert run["status"] == "Cancelled"
    page = api.request("GET", f"/runs/{run_id}/guide").json()
    assert page["rows"] == [] and page["note"]["failure_step"] == run["failure_step"]
    err_body(api.session.post(f"{api.base}/runs/{run_id}/cancel"), 409)
    # The tenant is free again: inputs can be replaced.
    assert api.put_input_csv("trades", env["inputs"]["trades"])["count"] > 0


def test_not_found_and_gone(env):
    api, host, run_id = env["api"], env["host"], env["run"]["run_id"]
    other = host.client(OTHER_KEY)
    for path in (f"/runs/{run_id}/guide", f"/runs/{run_id}/report.html", f"/runs/{run_id}"):
        err_body(other.session.get(other.base + path), 404)  # another tenant's run: 404, never 403
    err_body(api.session.get(f"{api.base}/runs/no-such-run/guide"), 404)
    err_body(api.session.get(f"{api.base}/runs/{run_id}/no-such-report"), 404)
    err_body(api.session.get(f"{api.base}/inputs/no-such-kind"), 404)
    old = insert_run(host.engine, "demo", ended_days_ago=400)
    for path in (f"/runs/{old}/guide", f"/runs/{old}/guide?format=csv", f"/runs/{old}/report.html"):
        assert err_body(api.session.get(api.base + path), 410)["error"] == "gone"


def test_error_answers_share_one_shape(env):
    api, base = env["api"], env["api"].base
    err_body(requests.get(f"{base}/runs/{env['run']['run_id']}/guide"), 401)
    err_body(api.session.put(f"{base}/inputs/trades", data=b"x", headers={"Content-Type": "text/plain"}), 415)
    err_body(api.session.put(f"{base}/inputs/trades", data=b"a" * (MAX_BODY + 1), headers={"Content-Type": "text/csv"}), 413)
    bad = env["inputs"]["trades"].decode().splitlines()
    bad[2] = bad[2].replace(",Open,", ",Sideways,") if ",Open," in bad[2] else bad[2] + ",extra"
    body = err_body(api.session.put(f"{base}/inputs/trades", data="\n".join(bad).encode(),
                                    headers={"Content-Type": "text/csv"}), 400)
    assert body["error"] == "invalid_input" and body["details"][0]["line"] == 3
    assert api.request("GET", "/inputs/trades").json()["count"] == len(bad) - 1  # nothing half-loaded
    err_body(api.session.put(f"{base}/inputs/trades", data=b"[{", headers={"Content-Type": "application/json"}), 400)
    run_id = env["run"]["run_id"]
    err_body(api.session.get(f"{base}/runs/{run_id}/guide", params={"cursor": "not-a-cursor"}), 400)
    err_body(api.session.get(f"{base}/runs/{run_id}/guide", params={"limit": "0"}), 400)
    err_body(api.session.get(f"{base}/runs/{run_id}/guide", params={"format": "xml"}), 400)
    err_body(api.session.delete(f"{base}/runs/{run_id}/guide"), 405)


def test_openapi_document_is_valid_and_lists_every_route(env):
    doc = requests.get(env["api"].base + "/openapi.json", timeout=30).json()
    validate(doc)
    served = {(m, "/" + fn.template.template) for fn in env["host"].host.functions.http for m in fn.methods}
    documented = {(m.upper(), "/" + p.removeprefix("/")) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented
