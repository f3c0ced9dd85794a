"""Eligibility of a loan for a trade (ENGINE.md §4), each test at its exact boundary."""

import pytest

from pipeline.db import schema as S
from tests.engine.scenario import Scenario, day


def pairs(run) -> set[tuple[str, str]]:
    return {(c["loan_id"], c["trade_id"]) for c in run.candidates}


def test_available_date_is_funded_else_closing_else_expected_and_settle_needs_lead_plus_buffer(book: Scenario):
    book.instrument(delivery_lead_days=3).trade("T1", settle=day(20))
    none = dict(funded_date=None, closing_date=None, expected_close_date=None)
    book.loan("FUNDED_EDGE", **{**none, "funded_date": day(17), "closing_date": day(40)})  # 17 + 3 = 20
    book.loan("CLOSING_LATE", **{**none, "closing_date": day(18)})
    book.loan("EXPECTED_OK", stage_name="Approved", lock_date=day(-1), lock_expiration_date=day(30),
              **{**none, "expected_close_date": day(10)})
    book.loan("NO_DATE", **none)
    run = book.run()
    assert pairs(run) == {("FUNDED_EDGE", "T1"), ("EXPECTED_OK", "T1")}
    assert run.kickouts["CLOSING_LATE"]["reason"] == "SETTLE_DATE"
    assert run.kickouts["NO_DATE"]["reason"] == "NO_AVAILABLE_DATE"
    run2 = book.rerun(eligible_settle_buffer_days=1)  # 17 + 3 + 1 > 20
    assert pairs(run2) == {("EXPECTED_OK", "T1")}


def test_product_must_be_in_the_instruments_list(book: Scenario):
    book.instrument(products="CONV30;CONV20").trade("T1")
    book.loan("C30").loan("C20", product="CONV20").loan("FHA", product="FHA30")
    run = book.run()
    assert pairs(run) == {("C30", "T1"), ("C20", "T1")}
    assert run.kickouts["FHA"]["reason"] == "PRODUCT"


def test_balance_caps_apply_to_original_amount_inclusively(book: Scenario):
    book.instrument(min_loan_amount="100000.00", max_loan_amount="200000.00").trade("T1")
    book.loan("MIN", 100_000).loan("MAX", 150_000, original="200000.00")
    book.loan("BELOW", "99999.99").loan("ABOVE", 150_000, original="200000.01")
    run = book.run()
    assert pairs(run) == {("MIN", "T1"), ("MAX", "T1")}
    assert run.kickouts["BELOW"]["reason"] == run.kickouts["ABOVE"]["reason"] == "LOAN_AMOUNT"


def test_servicing_bounds_are_inclusive_and_exact(book: Scenario):
    book.instrument(min_servicing="0.25", max_servicing="1.125").trade("T1", coupon="6")
    book.loan("LOW", note_rate="6.25").loan("HIGH", note_rate="7.125")
    book.loan("JUST_BELOW", note_rate="6.249999").loan("JUST_ABOVE", note_rate="7.125001")
    run = book.run()
    assert pairs(run) == {("LOW", "T1"), ("HIGH", "T1")}
    assert run.kickouts["JUST_BELOW"]["reason"] == "SERVICING"
    assert run.kickouts["JUST_ABOVE"]["reason"] == "SERVICING"


@pytest.mark.parametrize("field,op,value,passing", [
    ("fico", "=", "740", {"A"}),
    ("fico", "!=", "740", {"B"}),
    ("fico", "<", "740", {"B"}),
    ("fico", "<=", "740", {"A", "B"}),
    ("fico", ">", "700", {"A"}),
    ("fico", ">=", "700", {"A", "B"}),
    ("ltv", "<=", "80.0000005", {"A"}),          # finer than a micro-unit: still exact
    ("property_state", "in", "CA;NY", {"A"}),
    ("property_state", "not_in", "CA;NY", {"B"}),
    ("occupancy", "=", "primary", set()),          # text is exact and case-sensitive
    ("funded_date", ">=", "2026-10-29", {"A"}),    # dates compare as dates
    ("dti", ">", "0", {"A"}),                       # B's dti is null: a rule on null fails
    ("dti", "!=", "1", {"A"}),
])
def test_constraint_rule_operators(book: Scenario, field, op, value, passing):
    book.instrument(constraint=False).constraint(rules=[(field, op, value)]).trade("T1")
    book.loan("A", fico=740, ltv="80", property_state="CA", funded_date=day(-4), dti="36")
    book.loan("B", fico=700, ltv="80.5", property_state="TX", funded_date=day(-5), dti=None)
    run = book.run()
    assert {c["loan_id"] for c in run.candidates} == passing
    for loan in {"A", "B"} - passing:
        assert run.kickouts[loan]["reason"] == "CONSTRAINT_RULES"


def test_constraint_with_no_rules_matches_every_loan_and_priority_then_name_decides(book: Scenario):
    book.instrument(constraint=False)
    book.constraint(name="B_JUMBO", priority=1, rules=[("loan_amount", ">", "500000")])
    book.constraint(name="Z_ALL", priority=2)
    book.constraint(name="A_ALSO_ALL", priority=2)
    book.trade("T1", amount=5_000_000)
    book.loan("BIG", 600_000).loan("SMALL", 100_000)
    run = book.run()
    got = {c["loan_id"]: (c["constraint_name"], c["level"]) for c in run.candidates}
    assert got == {"BIG": ("B_JUMBO", 1), "SMALL": ("A_ALSO_ALL", 2)}
    blocks = {(r["constraint_name"], r["trade_id"]): r for r in run.rows(S.cblock_guide)}
    assert blocks[("B_JUMBO", "T1")]["level"] == 1 and blocks[("B_JUMBO", "T1")]["consumed"] == 600_000
    assert blocks[("A_ALSO_ALL", "T1")]["capacity_offered"] == 5_250_000 - 600_000


def test_priority_levels_claim_capacity_first(book: Scenario):
    """A level-1 loan takes the room even though a level-2 loan is worth more."""
    book.instrument(constraint=False, servicing_multiple="4")
    book.constraint(name="FIRST", priority=1, rules=[("fico", "<", "700")])
    book.constraint(name="SECOND", priority=2)
    book.trade("T1", amount=300_000, tolerance=0)
    book.loan("LOWFICO", 300_000, fico=650, note_rate="6.25").loan("RICH", 300_000, note_rate="7.5")
    run = book.run()
    assert set(run.guide) == {"LOWFICO"}
    assert run.kickouts["RICH"]["reason"] == "CAPACITY"
    levels = {(r["trade_id"], r["level"]): r["allocated_amount"] for r in run.rows(S.trade_cblock_base)}
    assert levels == {("T1", 1): 300_000, ("T1", 2): 0}
