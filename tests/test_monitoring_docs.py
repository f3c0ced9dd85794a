"""The portal workbook (infra/workbook.json) and docs/monitoring.md say the same thing (issue 6).

The workbook must be a valid Azure Monitor workbook whose every query is printed verbatim
(whitespace aside) in the monitoring guide, and both must speak the telemetry the code emits:
the lifecycle event names and metric names defined in pipeline/telemetry.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "infra" / "workbook.json"
GUIDE = ROOT / "docs" / "monitoring.md"


def _normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def workbook() -> dict:
    return json.loads(WORKBOOK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def queries(workbook) -> dict[str, str]:
    return {item["name"]: item["content"]["query"] for item in workbook["items"] if item["type"] == 3}


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def test_workbook_is_a_notebook_of_kql_queries(workbook, queries):
    assert workbook["version"] == "Notebook/1.0"
    names = [item["name"] for item in workbook["items"]]
    assert len(names) == len(set(names)), "item names must be unique"
    assert len(queries) >= 8
    for item in workbook["items"]:
        assert item["type"] in (1, 3, 9), item["name"]
        if item["type"] == 3:
            content = item["content"]
            assert content["version"] == "KqlItem/1.0"
            assert content["queryType"] == 0  # Application Insights / Log Analytics
            assert content["resourceType"] == "microsoft.insights/components"
            assert content["query"].strip() and content["title"].strip()


def test_every_time_range_reference_is_a_declared_parameter(workbook):
    declared = {
        p["name"] for item in workbook["items"] if item["type"] == 9 for p in item["content"]["parameters"]
    }
    for item in workbook["items"]:
        ref = item.get("content", {}).get("timeContextFromParameter")
        if ref:
            assert ref in declared, item["name"]


def test_every_workbook_query_is_printed_in_the_guide(queries, guide):
    blocks = {_normalise(b) for b in re.findall(r"```kusto\n(.*?)```", guide, flags=re.S)}
    missing = [name for name, query in queries.items() if _normalise(query) not in blocks]
    assert not missing, f"workbook queries not in docs/monitoring.md: {missing}"


def test_the_workbook_answers_the_issue_questions(queries):
    text = "\n".join(queries.values())
    for needle in (
        '"run_finalized"',  # runs by status, failures by step, run duration
        "failure_step",
        "powerfill_step_duration_s",
        "powerfill_queue_wait_s",
        'join kind=leftanti',  # open runs: started with no finalize
        '"poison_message"',
        "percentile(",
    ):
        assert needle in text, needle


def test_the_queries_use_only_events_and_metrics_the_code_emits(guide):
    telemetry = pytest.importorskip("pipeline.telemetry")
    events = {
        value for name, value in vars(telemetry).items() if name.isupper() and isinstance(value, str)
        and re.fullmatch(r"[a-z_]+", value)
    }
    metrics = set(telemetry._HISTOGRAMS)
    kusto = "\n".join(re.findall(r"```kusto\n(.*?)```", guide, flags=re.S))
    used_events = set(re.findall(r'"((?:run|step|poison|schedule)_[a-z_]+)"', kusto))
    used_metrics = set(re.findall(r'"(powerfill_[a-z_]+)"', kusto))
    assert used_events <= events, f"unknown events in docs: {used_events - events}"
    assert used_metrics <= metrics, f"unknown metrics in docs: {used_metrics - metrics}"
    # Every event and metric the service emits is queried somewhere.
    assert events <= used_events, f"events never queried: {events - used_events}"
    assert metrics <= used_metrics, f"metrics never queried: {metrics - used_metrics}"


def test_the_bicep_deploys_this_workbook():
    module = (ROOT / "infra" / "modules" / "monitoring.bicep").read_text(encoding="utf-8")
    assert "Microsoft.Insights/workbooks@" in module
    assert "serializedData: loadTextContent('../workbook.json')" in module


# --- KQL semantic check with the Kusto language service (npm) ----------------------------------

# Column schemas of the Application Insights tables the guide queries (the subset it may use).
_KQL_TABLES = {
    "traces": "(timestamp:datetime, message:string, severityLevel:int, itemType:string, customDimensions:dynamic,"
              " customMeasurements:dynamic, operation_Name:string, operation_Id:string, cloud_RoleName:string, itemCount:int)",
    "customMetrics": "(timestamp:datetime, name:string, value:real, valueCount:int, valueSum:real, valueMin:real,"
                     " valueMax:real, valueStdDev:real, customDimensions:dynamic, operation_Name:string, cloud_RoleName:string)",
    "requests": "(timestamp:datetime, id:string, name:string, url:string, success:string, resultCode:string, duration:real,"
                " customDimensions:dynamic, operation_Name:string, operation_Id:string, cloud_RoleName:string, itemCount:int)",
    "exceptions": "(timestamp:datetime, type:string, message:string, outerType:string, outerMessage:string,"
                  " innermostMessage:string, details:dynamic, customDimensions:dynamic, operation_Name:string, severityLevel:int)",
    "AppTraces": "(TimeGenerated:datetime, Message:string, SeverityLevel:int, Properties:dynamic, OperationName:string)",
}

_KQL_CHECK_JS = r"""
const path = require('path');
const dir = path.join(process.argv[1], 'node_modules', '@kusto', 'language-service-next');
require(path.join(dir, 'bridge.min.js'));
require(path.join(dir, 'Kusto.Language.Bridge.min.js'));
const K = Kusto.Language, S = K.Symbols;
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const db = new S.DatabaseSymbol.$ctor2('appinsights', null,
  Object.entries(input.tables).map(([n, s]) => new S.TableSymbol.$ctor7(n, s, null)));
const globals = K.GlobalState.Default.WithDatabase(db);
const out = input.queries.map(q => {
  const diags = K.KustoCode.ParseAndAnalyze(q, globals).GetDiagnostics();
  const errors = [];
  for (let i = 0; i < diags.Count; i++) {
    const d = diags.getItem(i);
    if (d.Severity === 'Error') errors.push(d.Message + ' at: ' + q.substr(d.Start, Math.max(d.Length, 1)));
  }
  return errors;
});
process.stdout.write(JSON.stringify(out));
"""


def test_every_kql_query_in_the_guide_analyses_without_errors(guide):
    """Parse and bind every query against the App Insights table schemas (unknown columns, bad
    syntax, reserved words). Needs node and the npm package @kusto/language-service-next in the
    repository's node_modules; skipped without them."""
    import shutil
    import subprocess

    node = shutil.which("node")
    if not node or not (ROOT / "node_modules" / "@kusto" / "language-service-next").is_dir():
        pytest.skip("needs node and @kusto/language-service-next in node_modules")
    queries = re.findall(r"```kusto\n(.*?)```", guide, flags=re.S)
    proc = subprocess.run(
        [node, "-e", _KQL_CHECK_JS, str(ROOT)],
        input=json.dumps({"tables": _KQL_TABLES, "queries": queries}),
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = {q.splitlines()[-1]: e for q, e in zip(queries, json.loads(proc.stdout)) if e}
    assert not errors, errors
