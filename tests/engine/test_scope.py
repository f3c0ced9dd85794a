"""Which loans take part (ENGINE.md §4, in-scope loan and locked pool)."""

from pipeline.db import schema as S
from tests.engine.scenario import Scenario, day


def scope_of(run) -> dict[str, str]:
    return {r["loan_id"]: r["scope"] for r in run.rows(S.loan_scope)}


def test_stage_rank_reaches_min_status_and_inactive_stages_are_never_in_scope(book: Scenario):
    book.instrument().trade("T1")
    book.loan("CLOSED", stage_name="Closed").loan("FUNDED", stage_name="Funded")
    book.loan("APPROVED", stage_name="Approved").loan("SHIPPED", stage_name="Shipped")
    run = book.run(scope="ClosedOnly")
    assert scope_of(run) == {"CLOSED": "Closed", "FUNDED": "Closed"}
    assert set(run.guide) == {"CLOSED", "FUNDED"}
    # min_status moves the threshold: Funded only
    assert scope_of(book.rerun(scope="ClosedOnly", min_status="Funded")) == {"FUNDED": "Closed"}


def test_locked_loans_count_while_the_lock_has_not_expired_on_the_as_of_date(book: Scenario):
    book.instrument().trade("T1")
    common = dict(stage_name="Approved", lock_date=day(-20), funded_date=None, closing_date=None, expected_close_date=day(5))
    book.loan("LIVE", lock_expiration_date=day(1), **common)
    book.loan("EXPIRES_TODAY", lock_expiration_date=day(0), **common)
    book.loan("EXPIRED", lock_expiration_date=day(-1), **common)
    book.loan("NO_LOCK", **{**common, "lock_date": None}, lock_expiration_date=day(9))
    run = book.run()
    assert scope_of(run) == {"LIVE": "Locked", "EXPIRES_TODAY": "Locked"}
    assert scope_of(book.rerun(scope="ClosedOnly")) == {}


def test_aging_excludes_closed_loans_funded_more_than_max_eligible_days_ago(book: Scenario):
    book.instrument().trade("T1")
    book.loan("EDGE", funded_date=day(-30)).loan("OLD", funded_date=day(-31)).loan("UNFUNDED", funded_date=None)
    assert scope_of(book.run(max_eligible_days=30)) == {"EDGE": "Closed", "UNFUNDED": "Closed"}
    assert set(scope_of(book.rerun())) == {"EDGE", "OLD", "UNFUNDED"}


def test_loan_ids_option_restricts_the_run(book: Scenario):
    book.instrument().trade("T1").loan("A").loan("B").loan("C")
    run = book.run(loan_ids=["C", "A"])
    assert scope_of(run) == {"A": "Closed", "C": "Closed"}


def test_locked_pool_loans_are_pinned_and_count_as_the_pool_trades_locked_amount(book: Scenario):
    book.instrument().trade("T1", amount=1_000_000).trade("OLD", settle=day(90))  # OLD is out of scope
    book.pool("P1", "T1", locked=True).pool("P2", "OLD", locked=True).pool("P3", None, locked=True)
    book.pool("P4", "T1", locked=False)
    book.loan("PIN1", 300_000, current_pool_name="P1")
    book.loan("PIN_NOT_IN_SCOPE", 100_000, current_pool_name="P1", stage_name="Application")
    book.loan("PIN_INACTIVE", 100_000, current_pool_name="P1", stage_name="Shipped")
    book.loan("PIN_OLD", 200_000, current_pool_name="P2").loan("PIN_NOTRADE", 50_000, current_pool_name="P3")
    book.loan("FREE", 100_000, current_pool_name="P4")
    run = book.run()
    assert scope_of(run) == {"PIN1": "Pinned", "PIN_NOT_IN_SCOPE": "Pinned", "PIN_OLD": "Pinned",
                             "PIN_NOTRADE": "Pinned", "FREE": "Closed"}
    t1 = run.trades["T1"]
    assert t1["locked_amount"] == 400_000 and t1["open_capacity"] == 1_050_000 - 400_000
    assert set(run.trades) == {"T1"}
    assert set(run.guide) == {"FREE"}
    assert not {"PIN1", "PIN_OLD", "PIN_NOTRADE"} & set(run.kickouts)
    assert {r["loan_id"] for r in run.candidates} == {"FREE"}
    pg = run.pool_guide
    assert {k: v["pool_action"] for k, v in pg.items() if v["pool_action"] == "Locked"} == {
        "PIN1": "Locked", "PIN_NOT_IN_SCOPE": "Locked", "PIN_OLD": "Locked", "PIN_NOTRADE": "Locked"}
    assert pg["PIN_OLD"]["to_trade"] == "OLD" and pg["PIN_OLD"]["to_pool"] == "P2"
    assert pg["PIN_NOTRADE"]["to_trade"] is None
