"""Price, servicing value, carry, value and objective value (ENGINE.md §4), by hand."""

from decimal import Decimal as D

from pipeline.db import schema as S
from tests.engine.scenario import Scenario, day


def test_servicing_value_and_carry_matched_with_the_curve_point_at_or_below_the_days(book: Scenario):
    book.instrument(servicing_multiple="4.5").carry(points=((10, "5"), (30, "4")))
    book.trade("T1", price="101", coupon="6", settle=day(20)).loan("L1", 200_000, note_rate="6.5", funded_date=day(-5))
    run = book.run()
    c = run.candidate("L1", "T1")
    assert c["price"] == D("101") and c["servicing_value"] == D("1.125")  # 4.5 × (6.5 − 6 − 0.25)
    assert c["carry"] == D("0.08333333") and c["carry_matched"] is True  # (6.5 − 5) × 20 / 360
    assert c["value"] == D("102.20833333")
    assert c["objective_value"] == D("4416.67")  # 200,000 × 2.20833333 / 100
    g = run.guide["L1"]
    assert (g["price"], g["servicing_value"], g["carry"], g["value"]) == (c["price"], c["servicing_value"], c["carry"], c["value"])
    assert run.summary["carry_matched"] == 1 and run.summary["carry_missed"] == 0


def test_carry_below_the_first_curve_point_uses_the_smallest_on_day(book: Scenario):
    book.instrument().carry(points=((30, "4"), (60, "3"))).trade("T1", settle=day(20))
    book.loan("L1", note_rate="6.5", funded_date=day(-5))
    assert book.run().candidate("L1", "T1")["carry"] == D("0.13888889")  # (6.5 − 4) × 20 / 360


def test_carry_missed_without_a_curve_and_price_only_shows_but_does_not_count_carry(book: Scenario):
    book.instrument(name="NOCURVE").instrument(name="CURVE").carry("CURVE", ((0, "5"),))
    book.trade("T1", instrument="NOCURVE").trade("T2", instrument="CURVE")
    book.loan("L1", note_rate="6.5", funded_date=day(-5))
    run = book.run(price_mode="PriceOnly")
    missed, matched = run.candidate("L1", "T1"), run.candidate("L1", "T2")
    assert missed["carry"] == 0 and missed["carry_matched"] is False
    assert matched["carry"] == D("0.08333333") and matched["value"] == D("101")
    assert run.summary["carry_missed"] == 1 and run.summary["carry_matched"] == 1


def test_carry_days_start_at_the_as_of_date_for_loans_already_available(book: Scenario):
    book.instrument().carry(points=((0, "5"),)).trade("T1", settle=day(36))
    book.loan("EARLY", note_rate="6.5", funded_date=day(-40)).loan("LATER", note_rate="6.5", funded_date=None,
                                                                     closing_date=day(18))
    run = book.run()
    assert run.candidate("EARLY", "T1")["carry"] == D("0.15")  # 1.5 × 36 / 360
    assert run.candidate("LATER", "T1")["carry"] == D("0.075")  # 1.5 × 18 / 360


def test_cash_grid_interpolation_points_range_and_price_floor(book: Scenario):
    book.instrument(name="CASH1", kind="CASH")
    book.cash_trade("C1", grid=[("6.0", "99"), ("6.3", "100"), ("7.0", "101")])
    book.loan("MID", note_rate="6.1").loan("ON_POINT", note_rate="6.3").loan("OUTSIDE", note_rate="7.125")
    run = book.run()
    assert run.candidate("MID", "C1")["price"] == D("99.33333333")  # 99 + 1 × 0.1 / 0.3
    assert run.candidate("ON_POINT", "C1")["price"] == D("100")
    assert run.candidate("MID", "C1")["servicing_value"] == 0
    assert run.kickouts["OUTSIDE"]["reason"] == "GRID_RANGE"
    cash = {r["loan_id"]: r for r in run.rows(S.cash_market_map)}
    assert cash["MID"]["grid_note_rate"] == D("6.0") and cash["MID"]["grid_price"] == D("99")
    assert cash["ON_POINT"]["grid_note_rate"] == D("6.3")

    floored = book.rerun(bx_price_floor="99.5")
    assert floored.kickouts["MID"]["reason"] == "PRICE_FLOOR"
    assert floored.candidate("ON_POINT", "C1") is not None
    grid = {r["note_rate"]: r["usable"] for r in floored.rows(S.bx_cash_grid)}
    assert grid == {D("6.0"): False, D("6.3"): True, D("7.0"): True}


def test_bx_cash_grids_is_skipped_without_an_in_scope_cash_trade(book: Scenario):
    book.instrument().trade("T1").loan("L1")
    run = book.run()
    from sqlalchemy import select
    with run.engine.connect() as conn:
        status = conn.execute(select(S.run_step.c.status).where(
            S.run_step.c.run_id == run.run_id, S.run_step.c.step_name == "bx_cash_grids")).scalar_one()
    assert status == "Skipped"


def test_value_basis_par_counts_value_above_100_and_absolute_the_whole_price(book: Scenario):
    book.instrument().trade("BELOW_PAR", price="99.5", amount=200_000, tolerance=0).loan("L1", 200_000)
    par = book.run(shortfall_penalty="0", price_mode="PriceOnly")
    assert par.candidate("L1", "BELOW_PAR")["objective_value"] == D("-1000.00")
    assert par.kickouts["L1"]["reason"] == "NOT_SELECTED" and not par.guide
    absolute = book.rerun(shortfall_penalty="0", price_mode="PriceOnly", value_basis="absolute")
    assert absolute.candidate("L1", "BELOW_PAR")["objective_value"] == D("199000.00")
    assert set(absolute.guide) == {"L1"}


def test_switch_cost_keeps_a_loan_in_its_pools_trade_for_a_fraction_of_a_tick(book: Scenario):
    book.instrument().trade("A", price="101").trade("B", price="101.00001")
    book.pool("PA", "A").loan("L1", 200_000, current_pool_name="PA")
    run = book.run()
    assert run.candidate("L1", "B")["objective_value"] == D("2000.02") - D("2.00")  # 0.1 bps of 200,000
    assert run.guide["L1"]["trade_id"] == "A" and run.pool_guide["L1"]["pool_action"] == "Remaining"
    assert run.guide["L1"]["runner_up_trade_id"] == "B"
    assert run.guide["L1"]["runner_up_value_diff"] == D("-0.00001")
    moved = book.rerun(switch_cost_bps="0")
    assert moved.guide["L1"]["trade_id"] == "B" and moved.pool_guide["L1"]["pool_action"] == "Switching"


def test_candidate_rank_is_by_value_then_trade_id(book: Scenario):
    book.instrument().trade("T3", price="101").trade("T1", price="101").trade("T2", price="102")
    book.loan("L1")
    ranks = {c["trade_id"]: c["candidate_rank"] for c in book.run().candidates}
    assert ranks == {"T2": 1, "T1": 2, "T3": 3}
