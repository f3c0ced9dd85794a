"""Synthetic options for unallocated loans (ENGINE.md §5 step 6)."""

from decimal import Decimal as D

from pipeline.db import schema as S
from tests.engine.scenario import Scenario, day


def test_options_payups_and_ranks_under_both_value_measures(book: Scenario):
    book.instrument().carry(points=((0, "5"),)).payup(coupon="6", value="8", div_by="32")  # 8/32 = 0.25
    book.instrument(name="NOCONS", constraint=False).instrument(name="CASH1", kind="CASH")
    book.market(coupon="6", settle=day(30), price="100.5")     # A: 100.75 with payup
    book.market(coupon="6", settle=day(10), price="100.55")    # B: 100.80 with payup
    book.market(coupon="6", settle=day(61), price="103")       # beyond the horizon
    book.market(coupon="6.5", settle=day(30), price="102")     # servicing 0 < 0.25: not eligible
    book.market("NOCONS", coupon="6", settle=day(30), price="104").market("CASH1", coupon="6", settle=day(30), price="104")
    book.loan("L1", note_rate="6.5", funded_date=day(-5))
    run = book.run()
    rows = {r["syn_trade_id"]: r for r in run.rows(S.syn_guide_all_rank)}
    a, b = "SYN:FN30:6:" + day(30).isoformat(), "SYN:FN30:6:" + day(10).isoformat()
    assert set(rows) == {a, b}
    assert rows[a]["payup"] == D("0.25") and rows[a]["value_payup"] == D("100.75")
    assert rows[a]["carry"] == D("0.125") and rows[a]["value_payup_carry"] == D("100.875")
    assert rows[b]["value_payup"] == D("100.8") and rows[b]["value_payup_carry"] == D("100.84166667")
    assert (rows[a]["rank_payup"], rows[a]["rank_payup_carry"]) == (2, 1)
    assert (rows[b]["rank_payup"], rows[b]["rank_payup_carry"]) == (1, 2)
    assert run.by_loan(S.syn_guide)["L1"]["syn_trade_id"] == a  # PricePlusCarry
    assert book.rerun(price_mode="PriceOnly").by_loan(S.syn_guide)["L1"]["syn_trade_id"] == b


def test_tradable_amount_rounds_down_to_the_lot_and_skips_a_loan_that_would_overshoot(book: Scenario):
    book.instrument(lot_size="1000000").market(coupon="6", settle=day(30), price="100.5")
    for loan_id, amount in [("L1", 400_000), ("L2", 350_000), ("L3", 300_000), ("L4", 200_000)]:
        book.loan(loan_id, amount, note_rate="6.5")
    run = book.run()
    (t,) = run.rows(S.syn_trade_base)
    assert (t["loan_count"], t["total_amount"], t["tradable_amount"]) == (4, 1_250_000, 1_000_000)
    assert (t["filled_amount"], t["tradable_count"], t["weighted_price"]) == (950_000, 3, D("100.5"))
    guide = run.by_loan(S.syn_guide)
    assert {k for k, r in guide.items() if r["post_ue_action"] == "Synthetic"} == {"L1", "L2", "L4"}
    assert guide["L3"]["in_tradable_fill"] is False
    s = run.summary
    assert s["post_ue_allocated_count"] == s["allocated_count"] + 3 == 3
    assert s["post_ue_pool_guide_count"] == s["pool_guide_count"] + 3
    assert all(k["reason"] == "NO_IN_SCOPE_TRADE" for k in run.kickouts.values())


def test_lot_size_zero_trades_the_whole_total(book: Scenario):
    book.instrument(lot_size="0").market(coupon="6", settle=day(30))
    book.loan("L1", 123_456.78, note_rate="6.5")
    (t,) = book.run().rows(S.syn_trade_base)
    assert t["tradable_amount"] == t["filled_amount"] == D("123456.78")


def test_no_market_prices_leaves_the_synthetic_tables_empty_and_says_so(book: Scenario):
    book.instrument().trade("T1", amount=100_000, tolerance=0).loan("L1", 100_000).loan("L2", 100_000)
    run = book.run()
    assert run.rows(S.syn_guide_all_rank) == run.rows(S.syn_guide) == run.rows(S.syn_trade_base) == []
    log = run.rows(S.powerfill_log)
    assert any(r["event"] == "NO_MARKET_PRICES" for r in log)
    assert [r["seq"] for r in log] == list(range(1, len(log) + 1))
    assert run.summary["pfill_powerfill_log_count"] == len(log)
