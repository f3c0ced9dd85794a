"""Property tests on random small books: invariants, brute-force optimality per level, optimal ≥
greedy, determinism, and the independent verifier agreeing with the stored bounds."""

from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.engine.allocate import AllocationProblem, allocate
from pipeline.engine.verify_optimality import compare, level_bounds
from tests.allocate.books import assert_invariants, brute_level

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def books(draw) -> AllocationProblem:
    n_l = draw(st.integers(1, 10))
    n_t = draw(st.integers(1, 3))
    n_levels = draw(st.integers(1, 2))
    amounts = draw(st.lists(st.integers(1, 40), min_size=n_l, max_size=n_l))
    pairs = []
    for l in range(n_l):
        for t in range(n_t):
            if draw(st.booleans()):
                level = draw(st.integers(1, n_levels))
                obj = draw(st.integers(-30, 60))
                pairs.append((l, t, level, obj))
    caps, needs = [], []
    for _ in range(n_t):
        cap = draw(st.integers(0, 120))
        caps.append(cap)
        needs.append(draw(st.integers(0, cap)))
    penalty = draw(st.sampled_from([0.0, 0.5, 1.0, 3.0]))
    scale = 1000  # amounts in $10 steps keep ties likely; objectives in cents
    return AllocationProblem(
        loan_ids=[f"L{i}" for i in range(n_l)],
        loan_amount_cents=np.array(amounts, dtype=np.int64) * scale,
        trade_ids=[f"T{i}" for i in range(n_t)],
        trade_capacity_cents=np.array(caps, dtype=np.int64) * scale,
        trade_min_need_cents=np.array(needs, dtype=np.int64) * scale,
        pair_loan=np.array([p[0] for p in pairs], dtype=np.int32),
        pair_trade=np.array([p[1] for p in pairs], dtype=np.int32),
        pair_level=np.array([p[2] for p in pairs], dtype=np.int32),
        pair_objective_cents=np.array([p[3] * 37 for p in pairs], dtype=np.int64),
        shortfall_penalty=penalty,
    )


def cents(s: str) -> Decimal:
    return Decimal(s) * 100


@SETTINGS
@given(books())
def test_invariants_hold_for_both_allocators(p):
    for method in ("optimal", "greedy"):
        res = allocate(p, method=method)
        assert res.loan_trade.dtype == np.int32 and len(res.loan_trade) == p.n_loans
        assert_invariants(p, res.loan_trade)
        assert cents(res.metrics["bound"]) >= cents(res.metrics["objective"]) - Decimal("0.5")


@SETTINGS
@given(books())
def test_optimal_is_within_its_gap_of_brute_force_and_never_below_greedy(p):
    res = allocate(p, method="optimal")
    m = res.metrics
    assert Decimal(m["objective"]) >= Decimal(m["greedy_objective"])
    # per level, given the earlier levels as written: obj_k ≤ brute force ≤ bound_k
    for entry in m["levels"]:
        best = brute_level(p, res.loan_trade, entry["level"])
        assert cents(entry["bound"]) >= Decimal(repr(best)) - Decimal("0.5")
        assert cents(entry["objective"]) <= Decimal(repr(best)) + Decimal("0.5")
        if not m["fallback_greedy"]:
            # small components are solved exactly (MILP, absolute gap $1)
            assert cents(entry["objective"]) >= Decimal(repr(best)) - 100
    if len(m["levels"]) == 1:
        best = brute_level(p, res.loan_trade, m["levels"][0]["level"])
        assert cents(m["bound"]) >= Decimal(repr(best)) - Decimal("0.5")


@SETTINGS
@given(books())
def test_deterministic_and_verifier_agrees(p):
    for method in ("optimal", "greedy"):
        a = allocate(p, method=method)
        b = allocate(p, method=method)
        assert np.array_equal(a.loan_trade, b.loan_trade)
        strip = lambda m: {k: v for k, v in m.items() if k != "timings"}  # noqa: E731
        assert strip(a.metrics) == strip(b.metrics)
        assert compare(a.metrics["levels"], level_bounds(p, a.loan_trade)) == []
