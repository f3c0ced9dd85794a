"""The allocation step around the allocator: windows, fills, kickout reasons, summary, determinism."""

from decimal import Decimal as D

import pytest

from pipeline.db import schema as S
from tests.engine.scenario import Scenario, day


def test_tolerance_window_rounds_half_up_to_cents(book: Scenario):
    book.instrument().trade("T1", amount="100.20", tolerance="2.5").trade("T2", amount=1_000_000, tolerance="2.5")
    trades = book.run().trades
    assert trades["T1"]["tolerance_amount"] == D("2.51")  # 2.505 half-up (half-even would give 2.50)
    assert (trades["T1"]["min_amount"], trades["T1"]["max_amount"]) == (D("97.69"), D("102.71"))
    assert (trades["T2"]["min_amount"], trades["T2"]["max_amount"]) == (975_000, 1_025_000)


def test_allocation_never_exceeds_open_capacity_and_over_locked_trades_take_nothing(book: Scenario):
    book.instrument().trade("T1", amount=1_000_000, tolerance=5).trade("OVER", amount=500_000, tolerance=0, price="102")
    book.pool("LOCKED1", "T1", locked=True).pool("LOCKED2", "OVER", locked=True)
    book.loan("PIN1", 700_000, current_pool_name="LOCKED1").loan("PIN2", 600_000, current_pool_name="LOCKED2")
    book.loan("A", 300_000).loan("B", 200_000)
    run = book.run()
    t1, over = run.trades["T1"], run.trades["OVER"]
    assert t1["open_capacity"] == 350_000 and t1["flags"] == ""
    assert over["flags"] == "OverLocked" and over["open_capacity"] == 0 and over["fill_status"] == "OverLocked"
    assert over["allocated_amount"] == 0
    assert t1["allocated_amount"] == 300_000 and set(run.guide) == {"A"}
    assert run.kickouts["B"]["reason"] == "CAPACITY" and run.kickouts["B"]["best_trade_id"] == "OVER"
    assert t1["fill_status"] == "Filled" and t1["closed_fill_amount"] == 300_000 and t1["shortfall_amount"] == 0


def test_a_trade_that_cannot_reach_its_minimum_is_filled_as_far_as_it_goes(book: Scenario):
    common = dict(stage_name="Approved", lock_date=day(-3), lock_expiration_date=day(10), funded_date=None,
                  closing_date=None, expected_close_date=day(5))
    book.instrument().trade("T1", amount=1_000_000, tolerance=0).loan("L1", 200_000).loan("LOCKED", 100_000, **common)
    run = book.run()
    t = run.trades["T1"]
    assert t["allocated_amount"] == 300_000 and t["shortfall_amount"] == 700_000 and t["fill_status"] == "Under"
    assert t["closed_fill_amount"] == 200_000 and t["locked_loan_fill_amount"] == 100_000
    s = run.summary
    assert s["shortfall_amount"] == "700000.00" and s["trades_filled"] == 0 and s["trades_in_scope"] == 1
    # objective = Σ objective values − λ × shortfall
    values = sum(g["objective_value"] for g in run.guide.values())
    assert D(s["objective"]) == values - 700_000


def test_kickout_names_the_test_failed_furthest_down_the_list_ties_to_lowest_trade(book: Scenario):
    book.instrument(name="I1", min_servicing="0.25", max_servicing="0.5", products="CONV30")
    book.instrument(name="I2", products="FHA30")
    book.trade("T9", instrument="I1", coupon="6").trade("T5", instrument="I1", coupon="6")  # servicing fails at both
    book.trade("T1", instrument="I2")  # product fails
    book.trade("T7", instrument="I1", coupon="6", settle=day(1))  # settle date fails (available day 2)
    book.loan("L1", note_rate="7", funded_date=None, closing_date=day(2))
    k = book.run().kickouts["L1"]
    assert (k["reason"], k["best_trade_id"]) == ("SERVICING", "T5")


def test_no_in_scope_trade(book: Scenario):
    book.instrument().trade("CLOSED", status="Closed").trade("LATE", settle=day(61)).trade("PAST", settle=day(-1))
    book.instrument(name="NOCONS", constraint=False).trade("NOCONS1", instrument="NOCONS")
    book.loan("L1")
    run = book.run()
    assert run.trades == {}
    assert run.kickouts["L1"]["reason"] == "NO_IN_SCOPE_TRADE"
    assert set(book.rerun(max_trade_settle_days=61).trades) == {"LATE"}


def test_not_selected_when_a_candidate_trade_still_has_room(book: Scenario):
    book.instrument().trade("T1", price="99", amount=1_000_000).loan("L1", 100_000)
    k = book.run(shortfall_penalty="0").kickouts["L1"]
    assert (k["reason"], k["best_trade_id"]) == ("NOT_SELECTED", "T1")


def test_every_in_scope_unpinned_loan_is_placed_or_kicked_out_once(book: Scenario):
    book.instrument(servicing_multiple="2").carry(points=((0, "5"),))
    for i, (amount, price) in enumerate([(800_000, "101"), (500_000, "100.5"), (300_000, "102")]):
        book.trade(f"T{i}", amount=amount, price=price, tolerance=2)
    for i in range(12):
        book.loan(f"L{i:02d}", 50_000 + 37_500 * i, note_rate=str(6.25 + 0.125 * (i % 8)))
    run = book.run()
    guide, kicks = run.guide, run.kickouts
    assert not set(guide) & set(kicks) and set(guide) | set(kicks) == {f"L{i:02d}" for i in range(12)}
    for t in run.trades.values():
        assert t["allocated_amount"] <= t["open_capacity"]
    s = run.summary
    for key in ("constraint_count", "candidate_count", "carry_matched", "carry_missed", "candidates_per_constraint",
                "allocated_count", "kicked_out_count", "cblock_count", "pool_guide_count", "syn_trade_base_count",
                "syn_powerfill_guide_all_rank_count", "syn_powerfill_guide_count", "pfill_powerfill_log_count",
                "post_ue_allocated_count", "post_ue_pool_guide_count", "allocated_amount", "trades_in_scope",
                "trades_filled", "shortfall_amount", "objective", "bound", "gap", "value_gap_bps",
                "shortfall_gap_amount", "greedy_objective", "allocator", "solver_stopped", "engine_version"):
        assert key in s, key
    assert s["candidates_per_constraint"] == {"FNMA|FN30|ALL": s["candidate_count"]}


@pytest.mark.parametrize("allocator", ["optimal", "greedy"])
def test_same_inputs_give_identical_outputs(book: Scenario, allocator):
    book.instrument(servicing_multiple="3").carry(points=((0, "4.5"),))
    book.instrument(name="CASH1", kind="CASH").cash_trade("C1", grid=[("6", "99.5"), ("8", "102")], amount=400_000)
    book.pool("P1", "T0")
    for i in range(3):
        book.trade(f"T{i}", amount=300_000 * (i + 1), price=str(100 + i / 4), settle=day(10 + 15 * i))
    for i in range(15):
        book.loan(f"L{i:02d}", 40_000 + 21_000 * i, note_rate=str(6.25 + 0.125 * (i % 9)),
                  current_pool_name="P1" if i % 4 == 0 else None)
    book.market(coupon="6", price="100.25")
    first = book.run(allocator=allocator)
    second = book.rerun(allocator=allocator)
    for table in S.OUTPUT_TABLES:
        assert first.rows(table) == second.rows(table), table.name
