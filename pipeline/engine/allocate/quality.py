"""Quality figures of an allocation (ENGINE.md §5 step 4), for whichever allocator produced it.

Per level k, with S_k(t) = max(0, min_need(t) − fill of t by pairs of levels ≤ k) and V_k the
objective values of the level-k pairs of the final allocation:
    obj_k   = V_k − λ·(Σ_t S_k(t) − Σ_t S_{k−1}(t)),   and for the lowest level  V_1 − λ·Σ_t S_1(t)
    bound_k = the LP optimum of P_k (earlier levels as written) in the same form:
              V_k^LP − λ·(Σ_t s_t^LP − Σ_t S_{k−1}(t)), s_t^LP = S_{k−1}(t) for trades with no pair
so Σ_k obj_k = objective and gap_k = bound_k − obj_k = (V_k^LP − V_k) + λ·(Σ S_k − Σ s^LP),
the value part and the shortfall part; both are summed over levels for the run's figures.
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from pipeline.engine.allocate.components import split
from pipeline.engine.allocate.pricing import solve_priced
from pipeline.engine.allocate.problem import AllocationProblem, build_level

CENT = Decimal("0.01")


def dollars(cents: Decimal | float | int) -> str:
    """Money as a Decimal string of dollars with 2 decimals (half-even)."""
    if not isinstance(cents, Decimal):
        cents = Decimal(repr(float(cents))) if isinstance(cents, float) else Decimal(int(cents))
    return str((cents / 100).quantize(CENT, rounding=ROUND_HALF_EVEN))


def objective_cents(problem: AllocationProblem, pair_of_loan: np.ndarray) -> Decimal:
    """The run objective, exact: Σ objective values − λ·Σ final shortfall over all trades."""
    placed = pair_of_loan[pair_of_loan >= 0]
    value = int(problem.pair_objective_cents[placed].astype(np.int64).sum())
    fill = _fill(problem, placed)
    short = int(np.maximum(problem.trade_min_need_cents.astype(np.int64) - fill, 0).sum())
    return Decimal(value) - Decimal(repr(float(problem.shortfall_penalty))) * Decimal(short)


def _fill(problem: AllocationProblem, placed: np.ndarray) -> np.ndarray:
    fill = np.zeros(problem.n_trades, dtype=np.int64)
    np.add.at(fill, problem.pair_trade[placed], problem.loan_amount_cents[problem.pair_loan[placed]])
    return fill


def level_lp(problem: AllocationProblem, pair_of_loan: np.ndarray, level: int, deadline: float):
    """LP of P_k given the earlier levels of `pair_of_loan`: (Σ obj·x cents, LP shortfall per
    trade, status, {pairs, candidate_pairs, components}). When a solve is stopped, the value
    carries the Lagrangian excess (pricing.py), so the figures still form a valid bound."""
    lvl = build_level(problem, level, pair_of_loan)
    short = lvl.need_cents.astype(np.float64).copy()
    value = 0.0
    comps = split(problem, lvl.pairs)
    shape = {"pairs": int(len(lvl.pairs)), "candidate_pairs": lvl.candidate_pairs,
             "components": sum(c.parts for c in comps)}
    status = "optimal"
    for comp in comps:
        out = solve_priced(problem, lvl, comp.pairs, comp.trades, time_limit_s=deadline - time.monotonic())
        value += out.bound_extra_cents  # the Lagrangian excess when not proven optimal (pricing.py)
        if out.status != "optimal" and status == "optimal":
            status = out.status
        if out.objective_dollars != out.objective_dollars:  # no LP solution: the trivial bound
            short[comp.trades] = 0.0
            continue
        short[comp.trades] = out.shortfall_cents
        value += float(np.dot(problem.pair_objective_cents[comp.pairs].astype(np.float64), out.x))
    return value, short, status, shape


def level_figures(problem: AllocationProblem, pair_of_loan: np.ndarray, level: int, first: bool,
                  lp_value: float | None, lp_short: np.ndarray) -> dict:
    """obj_k, bound_k and the gap parts of one level, in cents (floats for LP-derived numbers)."""
    lam = float(problem.shortfall_penalty)
    placed = pair_of_loan[pair_of_loan >= 0]
    lv = problem.pair_level[placed]
    need = problem.trade_min_need_cents.astype(np.int64)
    s_before = np.maximum(need - _fill(problem, placed[lv < level]), 0)
    s_after = np.maximum(need - _fill(problem, placed[lv <= level]), 0)
    mine = placed[lv == level]
    value = int(problem.pair_objective_cents[mine].astype(np.int64).sum())
    base = 0.0 if first else lam * float(s_before.sum())
    obj = value - lam * float(s_after.sum()) + base
    out = {
        "value_cents": value,
        "objective_cents": obj,
        "allocated_count": int(len(mine)),
        "allocated_cents": int(problem.loan_amount_cents[problem.pair_loan[mine]].astype(np.int64).sum()),
        "shortfall_cents": int(s_after.sum()),
    }
    if lp_value is None:
        out.update(bound_cents=None, value_gap_cents=None, shortfall_gap_cents=None)
    else:
        out["bound_cents"] = lp_value - lam * float(lp_short.sum()) + base
        out["value_gap_cents"] = lp_value - value
        out["shortfall_gap_cents"] = float(s_after.sum()) - float(lp_short.sum())
    return out


def summarize(problem: AllocationProblem, pair_of_loan: np.ndarray, figures: list[dict]) -> dict:
    """Run-level metrics from the per-level figures (deterministic formatting)."""
    objective = objective_cents(problem, pair_of_loan)
    placed = pair_of_loan[pair_of_loan >= 0]
    face = int(problem.loan_amount_cents[problem.pair_loan[placed]].astype(np.int64).sum())
    known = all(f["bound_cents"] is not None for f in figures)
    if known:
        gap_cents = sum(f["bound_cents"] - f["objective_cents"] for f in figures)
        value_gap = sum(f["value_gap_cents"] for f in figures)
        short_gap = sum(f["shortfall_gap_cents"] for f in figures)
        bound = objective + Decimal(repr(round(gap_cents, 4)))
        rel = float(gap_cents) / max(abs(float(bound)), 100.0)  # max(|bound|, $1)
        metrics = {
            "bound": dollars(bound),
            "gap": float(f"{rel:.10g}"),
            "value_gap_bps": round(value_gap / face * 1e4, 4) if face else 0.0,
            "shortfall_gap_amount": dollars(short_gap),
        }
    else:
        metrics = {"bound": None, "gap": None, "value_gap_bps": None, "shortfall_gap_amount": None}
    return {
        "objective": dollars(objective),
        **metrics,
        "allocated_count": int(len(placed)),
        "allocated_amount": dollars(face),
    }


def level_entry(level: int, f: dict, extra: dict) -> dict:
    def money(c):
        return None if c is None else dollars(c)

    return {
        "level": level,
        **extra,
        "allocated_count": f["allocated_count"],
        "allocated_amount": dollars(f["allocated_cents"]),
        "objective": money(f["objective_cents"]),
        "bound": money(f["bound_cents"]),
        "value_gap": money(f["value_gap_cents"]),
        "shortfall_gap_amount": money(f["shortfall_gap_cents"]),
    }
