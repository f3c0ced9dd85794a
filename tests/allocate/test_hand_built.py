"""Tiny allocation problems whose optimum is known by hand, for both allocators."""

from decimal import Decimal

import pytest

from pipeline.engine.allocate import allocate
from tests.allocate.books import assert_invariants, book

METHODS = ["optimal", "greedy"]


def trades_of(p, res):
    return {p.loan_ids[i]: (p.trade_ids[t] if t >= 0 else None) for i, t in enumerate(res.loan_trade.tolist())}


@pytest.mark.parametrize("method", METHODS)
def test_trade_that_cannot_reach_its_minimum_takes_everything_useful(method):
    p = book({"L1": 300, "L2": 400}, {"T1": (1000, 1000)},
             [("L1", "T1", 1, 1.0), ("L2", "T1", 1, -2.0)])
    res = allocate(p, method=method)
    assert trades_of(p, res) == {"L1": "T1", "L2": "T1"}
    # 1 − 2 − λ·(1000 − 700)
    assert res.metrics["objective"] == "-301.00"
    assert_invariants(p, res.loan_trade)


@pytest.mark.parametrize("method", METHODS)
def test_capacity_exactly_at_loan_amount(method):
    p = book({"L1": 500.00, "L2": 500.01}, {"T1": (500.00, 0), "T2": (500.00, 0)},
             [("L1", "T1", 1, 5.0), ("L2", "T2", 1, 9.0)])
    res = allocate(p, method=method)
    assert trades_of(p, res) == {"L1": "T1", "L2": None}
    assert res.metrics["objective"] == "5.00"


@pytest.mark.parametrize("method", METHODS)
def test_negative_value_pairs_only_fill_a_minimum(method):
    # T1 needs 100: the cheaper of two loss-making loans fills it; nothing else is placed
    p = book({"L1": 100, "L2": 100}, {"T1": (200, 100), "T2": (200, 0)},
             [("L1", "T1", 1, -5.0), ("L2", "T1", 1, -3.0), ("L2", "T2", 1, -1.0)])
    res = allocate(p, method=method)
    assert trades_of(p, res) == {"L1": None, "L2": "T1"}
    assert res.metrics["objective"] == "-3.00"
    assert_invariants(p, res.loan_trade)


@pytest.mark.parametrize("method", METHODS)
def test_lower_level_claims_the_loan_first(method):
    p = book({"L1": 100}, {"T1": (100, 0), "T2": (100, 0)},
             [("L1", "T1", 1, 1.0), ("L1", "T2", 2, 50.0)])
    res = allocate(p, method=method)
    assert trades_of(p, res) == {"L1": "T1"}
    assert [e["level"] for e in res.metrics["levels"]] == [1, 2]
    assert res.metrics["bound"] == "1.00"


def test_optimal_beats_greedy_where_value_per_dollar_misleads():
    # greedy takes the best value per dollar (L1) and leaves no room; one big loan is worth more
    p = book({"L1": 60, "L2": 100}, {"T1": (100, 0)},
             [("L1", "T1", 1, 3.0), ("L2", "T1", 1, 4.0)])
    opt = allocate(p, method="optimal")
    assert trades_of(p, opt) == {"L1": None, "L2": "T1"}
    assert opt.metrics["objective"] == "4.00"
    assert opt.metrics["greedy_objective"] == "3.00"
    assert opt.metrics["fallback_greedy"] is False


def test_greedy_repair_moves_a_loan_into_an_under_min_trade():
    # L1 goes to T1 by value; T2 is left under its minimum; moving L1 is worth λ·100 − 2
    p = book({"L1": 100}, {"T1": (100, 0), "T2": (100, 100)},
             [("L1", "T1", 1, 3.0), ("L1", "T2", 1, 1.0)])
    res = allocate(p, method="greedy")
    assert trades_of(p, res) == {"L1": "T2"}
    assert res.metrics["objective"] == "1.00"


def test_overlocked_trade_takes_nothing_and_trade_without_pairs_counts_shortfall():
    p = book({"L1": 100}, {"T1": (0, 0), "T2": (50, 50)}, [("L1", "T1", 1, 10.0)])
    res = allocate(p, method="optimal")
    assert trades_of(p, res) == {"L1": None}
    assert res.metrics["objective"] == "-50.00"
    assert res.metrics["bound"] == "-50.00"


def test_metrics_shape_and_money_format():
    p = book({"L1": 100, "L2": 100}, {"T1": (150, 120)}, [("L1", "T1", 1, 1.0), ("L2", "T1", 1, 2.0)])
    m = allocate(p, method="optimal").metrics
    for key in ("objective", "bound", "gap", "value_gap_bps", "shortfall_gap_amount",
                "greedy_objective", "allocator", "solver_stopped", "fallback_greedy", "levels",
                "highspy_version", "timings"):
        assert key in m
    assert m["highspy_version"].startswith("1.16")
    for key in ("objective", "bound", "greedy_objective", "shortfall_gap_amount"):
        assert Decimal(m[key]).as_tuple().exponent == -2
    # LP puts 1.2 loans in and no shortfall; the integer answer keeps 20 short
    assert m["objective"] == "-18.00"
    assert Decimal(m["bound"]) >= Decimal(m["objective"])


def test_rejects_duplicate_pairs_and_unknown_method():
    p = book({"L1": 1}, {"T1": (1, 0)}, [("L1", "T1", 1, 1.0)])
    with pytest.raises(ValueError):
        allocate(p, method="magic")
    dup = book({"L1": 1}, {"T1": (1, 0)}, [("L1", "T1", 1, 1.0), ("L1", "T1", 2, 1.0)])
    with pytest.raises(ValueError):
        allocate(dup)


def test_cancel_check_aborts():
    p = book({"L1": 1}, {"T1": (1, 0)}, [("L1", "T1", 1, 1.0)])

    class Stop(Exception):
        pass

    def cancel():
        raise Stop

    with pytest.raises(Stop):
        allocate(p, cancel_check=cancel)
