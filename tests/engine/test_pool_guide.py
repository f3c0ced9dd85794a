"""Pool actions and pool building (ENGINE.md §5 step 5, §8)."""

from tests.engine.scenario import Scenario, day


def actions(run) -> dict[str, tuple]:
    return {k: (r["pool_action"], r["from_pool"], r["from_trade"], r["to_pool"], r["to_trade"])
            for k, r in run.pool_guide.items()}


def test_every_pool_action_and_a_switch_between_trades_differing_only_in_settlement(book: Scenario):
    book.instrument()
    # same instrument and coupon, different settlement dates; the later one pays more
    book.trade("EARLY", settle=day(10), price="100.5", amount=2_000_000).trade("LATE", settle=day(40), price="101.5", amount=1_000_000)
    book.pool("PE", "EARLY").pool("PL", "LATE").pool("PNONE", None)
    book.loan("STAYS", 300_000, current_pool_name="PL")
    book.loan("SWITCHES", 300_000, current_pool_name="PE")  # a point more at LATE beats the switch cost
    book.loan("JOINS", 100_000).loan("JOINS_FROM_TRADELESS", 100_000, current_pool_name="PNONE")
    book.loan("OUT", 100_000, current_pool_name="PE", stage_name="Application")
    book.loan("KICKED", 100_000, current_pool_name="PE", product="FHA30")
    run = book.run()
    a = actions(run)
    assert a["STAYS"] == ("Remaining", "PL", "LATE", "PL", "LATE")
    assert a["OUT"] == ("Leaving", "PE", "EARLY", None, None) and run.pool_guide["OUT"]["reason"] == "OUT_OF_SCOPE"
    assert a["KICKED"][0] == "Leaving" and run.pool_guide["KICKED"]["reason"] == "PRODUCT"
    assert a["JOINS"][0] == "Joining" and a["JOINS_FROM_TRADELESS"][:3] == ("Joining", "PNONE", None)
    sw = run.pool_guide["SWITCHES"]
    assert (sw["pool_action"], sw["from_trade"]) == ("Switching", "EARLY") and sw["to_trade"] == "LATE"
    assert sw["settlement_date"] == day(40)
    # PE held loans bound for several destinations: one switched, one left out of scope, one kicked out
    assert {r["loan_id"] for r in run.pool_guide.values() if r["from_pool"] == "PE"} == {"SWITCHES", "OUT", "KICKED"}


def test_movers_top_up_existing_pools_in_name_order_then_new_pools_first_fit_decreasing(book: Scenario):
    book.instrument(max_pool_amount="500000", min_pool_amount="250000").trade("T1", amount=3_000_000, tolerance=10)
    book.pool("T1-B", "T1").pool("T1-A", "T1").pool("T1-N1", None)  # T1-N1 exists: new names skip it
    book.loan("IN_A", 350_000, current_pool_name="T1-A").loan("IN_B", 100_000, current_pool_name="T1-B")
    for loan_id, amount in [("M1", 200_000), ("M2", 150_000), ("M3", 300_000), ("M4", 120_000), ("M5", 100_000),
                            ("HUGE", 600_000)]:
        book.loan(loan_id, amount)
    run = book.run()
    to = {k: r["to_pool"] for k, r in run.pool_guide.items()}
    # by amount desc: HUGE 600K alone in a new pool (T1-N1 exists, so N2); M3 300K: A (350K) has no
    # room, B (100K) has -> 400K; M1 200K: no room in A or B -> N3; M2 150K fills A to exactly 500K;
    # M4 120K: B would be 520K -> N3 (320K); M5 100K fills B to exactly 500K
    assert to["HUGE"] == "T1-N2"
    assert (to["M3"], to["M1"], to["M2"], to["M4"], to["M5"]) == ("T1-B", "T1-N3", "T1-A", "T1-N3", "T1-B")
    flags = {k: r["flags"] for k, r in run.pool_guide.items()}
    assert flags["HUGE"] == "ABOVE_MAX_POOL"
    assert flags["M1"] == ""  # 350K is within [250K, 500K]
    assert flags["IN_B"] == flags["M5"] == ""
    assert run.summary["new_pool_count"] == 2


def test_below_min_pool_is_flagged_after_leavers(book: Scenario):
    book.instrument(min_pool_amount="250000").trade("T1")
    book.pool("P", "T1").loan("STAY", 200_000, current_pool_name="P")
    book.loan("GONE", 200_000, current_pool_name="P", stage_name="Application")
    run = book.run()
    assert run.pool_guide["STAY"]["flags"] == "BELOW_MIN_POOL"
    assert run.pool_guide["GONE"]["flags"] == ""
