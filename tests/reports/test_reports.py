"""The read side over a fabricated run: every report pages through all its rows, CSV is formatted
and neutralised, and the run's state decides 404 / 409 / 410 / note (ENGINE.md §7, DESIGN.md §4 BR-9)."""

from __future__ import annotations

import csv
import io

import pytest

from pipeline.reports import (
    REPORT_NAMES,
    BadReportRequest,
    OutputsRemoved,
    RunActive,
    RunNotFound,
    UnknownReport,
    report_csv,
    report_page,
)
from pipeline.statuses import RunStatus
from tests.reports.fabricate import fill_outputs, insert_run


@pytest.fixture
def run_id(db, tenant_id):
    rid = insert_run(db, tenant_id)
    fill_outputs(db, tenant_id, rid)
    return rid


def all_rows(db, tenant_id, run_id, name, limit):
    rows, cursor, pages = [], None, 0
    while True:
        page = report_page(db, tenant_id, run_id, name, limit=limit, cursor=cursor).to_json()
        rows += page["rows"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return rows, pages


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_every_report_pages_through_all_rows_once(db, tenant_id, run_id, name):
    whole, _ = all_rows(db, tenant_id, run_id, name, 1000)
    paged, pages = all_rows(db, tenant_id, run_id, name, 3)
    assert paged == whole
    assert pages == max(1, -(-len(whole) // 3))  # no empty trailing page
    _, text = report_csv(db, tenant_id, run_id, name)
    assert len(list(csv.reader(io.StringIO(text)))) == len(whole) + 1


def test_report_contents(db, tenant_id, run_id):
    guide, _ = all_rows(db, tenant_id, run_id, "guide", 1000)
    assert len(guide) == 23 and guide[0]["loan_id"] == "L0000"  # 30 loans, 7 kicked out
    assert guide[0]["investor_instrument_name"] == "FNMA30" and guide[0]["carry"] == "-0.12345678"
    recap, _ = all_rows(db, tenant_id, run_id, "recap", 1000)
    t1 = recap[0]
    t1_loans = [i for i in range(30) if i % 3 == 0 and i % 4 != 3]
    assert t1["trade_id"] == "T1" and t1["loan_count"] == len(t1_loans) == 7
    filled = 100_000 + sum(200_000 + i for i in t1_loans)  # locked + allocated
    assert t1["filled_amount"] == f"{filled}.00" and t1["fill_pct"] == f"{filled / 10_000:.2f}"
    assert t1["fill_status"] == "Filled" and t1["over_amount"] == f"{filled - 1_050_000}.00" and t1["pool_count"] == 1
    assert t1["wavg_note_rate"] == "6.125000" and t1["wavg_price"] == "101.75000000"
    kickouts, _ = all_rows(db, tenant_id, run_id, "kickouts", 1000)
    synthetic = [k["loan_id"] for k in kickouts if k.get("post_ue_action") == "Synthetic"]
    assert synthetic == ["L0003", "L0011", "L0019", "L0027"]  # in a tradable synthetic fill
    switching, _ = all_rows(db, tenant_id, run_id, "switching", 1000)
    assert {r["pool_action"] for r in switching} == {"Switching", "Leaving"}
    disposition, _ = all_rows(db, tenant_id, run_id, "existing-disposition", 1000)
    assert [d["pool_name"] for d in disposition] == ["P0", "P1"]
    p1 = disposition[1]
    assert p1["leaves_count"] == 1 and p1["loan_count"] == p1["stays_count"] + p1["switches_count"] + 1


def test_csv_scales_and_formula_neutralisation(db, tenant_id, run_id):
    _, text = report_csv(db, tenant_id, run_id, "kickouts")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["detail"] == "'=HYPERLINK(\"http://x\")"
    _, text = report_csv(db, tenant_id, run_id, "log")
    messages = [r["message"] for r in csv.DictReader(io.StringIO(text))]
    assert messages == ["no cash", "'+SUM(A1)", "'@cmd", "ok"]
    _, text = report_csv(db, tenant_id, run_id, "guide")
    first = next(csv.DictReader(io.StringIO(text)))
    assert first["loan_amount"] == "200000.00" and first["carry"] == "-0.12345678" and first["price"] == "101.50000000"


def test_other_tenant_and_unknown_run_are_not_found(db, tenant_id, run_id):
    with pytest.raises(RunNotFound):
        report_page(db, "someone-else", run_id, "guide", limit=10, cursor=None)
    with pytest.raises(RunNotFound):
        report_page(db, tenant_id, "no-such-run", "guide", limit=10, cursor=None)
    with pytest.raises(UnknownReport):
        report_page(db, tenant_id, run_id, "nope", limit=10, cursor=None)


def test_bad_cursor_is_refused(db, tenant_id, run_id):
    page = report_page(db, tenant_id, run_id, "guide", limit=2, cursor=None).to_json()
    with pytest.raises(BadReportRequest):
        report_page(db, tenant_id, run_id, "kickouts", limit=2, cursor=page["next_cursor"])
    with pytest.raises(BadReportRequest):
        report_page(db, tenant_id, run_id, "guide", limit=2, cursor="garbage!!")


def test_active_run_is_a_conflict(db, tenant_id):
    rid = insert_run(db, tenant_id, status=RunStatus.ALLOCATING)
    with pytest.raises(RunActive) as err:
        report_page(db, tenant_id, rid, "guide", limit=10, cursor=None)
    assert err.value.fields["status"] == "Allocating"


def test_retention_removed_outputs_are_gone(db, tenant_id):
    rid = insert_run(db, tenant_id, ended_days_ago=31)
    with pytest.raises(OutputsRemoved):
        report_csv(db, tenant_id, rid, "guide")


def test_failed_run_answers_preserved_rows_with_a_note(db, tenant_id):
    rid = insert_run(db, tenant_id, status=RunStatus.FAILED, failure_step="allocation", failure_message="solver exploded")
    fill_outputs(db, tenant_id, rid, user_facing=False)
    guide = report_page(db, tenant_id, rid, "guide", limit=10, cursor=None).to_json()
    assert guide["rows"] == [] and guide["note"]["failure_step"] == "allocation"
    assert guide["note"]["failure_message"] == "solver exploded"
    syn = report_page(db, tenant_id, rid, "syn-trades", limit=10, cursor=None).to_json()
    assert len(syn["rows"]) == 2 and syn["note"]["failure_step"] == "allocation"
