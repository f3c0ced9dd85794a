"""The level LP by pricing (pricing.py): same optimum as the full LP, on fewer columns, and the
Lagrangian bound it falls back on is a valid upper bound for any duals."""

import dataclasses

import numpy as np
import pytest

from pipeline.engine.allocate.components import split
from pipeline.engine.allocate.lp import MONEY_UNIT, solve_component
from pipeline.engine.allocate.pricing import SAMPLE_ABOVE, lagrangian_bound, solve_priced
from pipeline.engine.allocate.problem import build_level
from tests.allocate.books import random_book


@pytest.fixture(scope="module")
def level():
    # one level over all pairs, large enough that the sampled trade prices are used
    p = random_book(6000, 40, seed=11)
    p = dataclasses.replace(p, pair_level=np.ones(p.n_pairs, dtype=np.int32))
    lvl = build_level(p, 1, np.full(p.n_loans, -1))
    (comp,) = split(p, lvl.pairs, batch_pairs=10**9)
    assert len(comp.pairs) > SAMPLE_ABOVE
    full = solve_component(p, lvl, comp.pairs, comp.trades, time_limit_s=120)
    assert full.status == "optimal"
    return p, lvl, comp, full


@pytest.mark.parametrize("sample", [True, False])
def test_priced_lp_reaches_the_full_lp_optimum(level, sample):
    p, lvl, comp, full = level
    out = solve_priced(p, lvl, comp.pairs, comp.trades, time_limit_s=120, sample=sample)
    assert out.status == "optimal" and out.bound_extra_cents == 0.0
    assert out.objective_dollars == pytest.approx(full.objective_dollars, abs=1.0)
    assert out.columns < len(comp.pairs)  # it did leave columns out
    # the reported x and shortfall are the LP's: same objective when re-evaluated
    lam = p.shortfall_penalty
    value = float(np.dot(p.pair_objective_cents[comp.pairs], out.x)) / 100
    assert value - lam * out.shortfall_cents.sum() / 100 == pytest.approx(full.objective_dollars, abs=1.0)


def test_lagrangian_bound_is_valid_for_any_duals(level):
    p, lvl, comp, full = level
    out = solve_priced(p, lvl, comp.pairs, comp.trades, time_limit_s=120)
    pairs, trades = comp.pairs, comp.trades
    loan = p.pair_loan[pairs]
    uniq, inverse = np.unique(loan, return_inverse=True)
    trade_pos = np.searchsorted(trades, p.pair_trade[pairs])
    amount = p.loan_amount_cents[loan] / MONEY_UNIT
    obj = p.pair_objective_cents[pairs] / 100.0
    cap = lvl.cap_cents[trades] / MONEY_UNIT
    need = lvl.need_cents[trades] / MONEY_UNIT
    s_trades = np.flatnonzero(need > 0)
    s_cost = -p.shortfall_penalty * MONEY_UNIT / 100.0

    def bound(w):
        return lagrangian_bound(obj, amount, inverse, len(uniq), trade_pos, w, cap, need, s_trades, s_cost)

    assert bound(out.trade_duals) == pytest.approx(full.objective_dollars, abs=1.0)
    rng = np.random.default_rng(3)
    for scale in (0.0, 100.0, 1e4):
        w = out.trade_duals + rng.normal(0, scale, len(trades))
        assert bound(w) >= full.objective_dollars - 1e-6 * abs(full.objective_dollars)
