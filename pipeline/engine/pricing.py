"""Price, servicing value, carry, value and objective value of loan × trade pairs (ENGINE.md §4).

Vectorised over arrays of pairs and exact: inputs are micro-unit (µ, 1e-6) and cent integers,
results 1e-8 integers (`E8`) rounded half-even, dollar amounts cents rounded half-even. The
candidate builder and the UE step both price through here, so a synthetic option and a real
trade are valued by the same arithmetic.
"""

from __future__ import annotations

import numpy as np

from pipeline.engine.exact import div_half_even, mul_div_half_even

PAR_E8 = 100 * 10**8


def micro_to_e8(u):
    return u * 100


def servicing_value_e8(multiple_u: int, note_u: np.ndarray, coupon_u: int, base_u: int) -> np.ndarray:
    """multiple × (note_rate − coupon − excess_servicing_base), points (negative = buydown)."""
    if multiple_u == 0:
        return np.zeros(len(note_u), dtype=np.int64)
    return div_half_even(multiple_u * (note_u - coupon_u - base_u), 10**4)  # µ·µ = 1e-12 -> 1e-8


def funding_rate_u(curve: tuple[np.ndarray, np.ndarray], days: np.ndarray) -> np.ndarray:
    """The rate at the largest on_day ≤ d; the smallest on_day's rate when d is below all."""
    on_days, rates = curve
    pos = np.searchsorted(on_days, days, side="right") - 1
    return rates[np.maximum(pos, 0)]


def carry_e8(note_u: np.ndarray, days: np.ndarray, curve: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """(note_rate − f) × d / 360 points; 0 when the instrument has no curve (carry missed)."""
    if curve is None:
        return np.zeros(len(note_u), dtype=np.int64)
    f = funding_rate_u(curve, days)
    return div_half_even((note_u - f) * days * 100, 360)  # µ × 100 = 1e-8


def carry_days(settle_day: int, as_of_day: int, available_day: np.ndarray) -> np.ndarray:
    return settle_day - np.maximum(available_day, as_of_day)


def grid_price_e8(grid: list[tuple[int, int]], note_u: np.ndarray) -> np.ndarray:
    """Cash-grid price, linear between the two points around the note rate (a rate on a point
    uses that point). Callers pass only rates within the grid's range."""
    rates = np.array([g[0] for g in grid], dtype=np.int64)
    prices = np.array([g[1] for g in grid], dtype=np.int64)
    lo = np.searchsorted(rates, note_u, side="right") - 1  # largest grid rate <= note rate
    lo = np.clip(lo, 0, len(rates) - 1)
    hi = np.minimum(lo + 1, len(rates) - 1)
    on_point = rates[lo] == note_u
    r0, r1, p0, p1 = rates[lo], rates[hi], prices[lo], prices[hi]
    span = np.where(r1 > r0, r1 - r0, 1)
    # (p1 − p0)·(x − r0)/(r1 − r0): µ·µ·100 / µ = 1e-8; < 2**62 for prices in [50, 150]
    frac = div_half_even((p1 - p0) * (note_u - r0) * 100, span)
    return np.where(on_point, p0 * 100, p0 * 100 + frac)


def payup_e8(payup_u: int, div_by_u: int) -> int:
    """payup_value / div_by points (div_by 32 for 32nds)."""
    return div_half_even(payup_u * 10**8, div_by_u)


def dollar_value_cents(amount_c: np.ndarray, value_e8: np.ndarray, par: bool) -> np.ndarray:
    """amount × (v − 100)/100 under par, amount × v/100 under absolute, to the cent."""
    points = value_e8 - PAR_E8 if par else value_e8
    return mul_div_half_even(amount_c, points, 10**10)  # cents × 1e-8 points / 100


def switch_cost_cents(amount_c: np.ndarray, bps_u: int) -> np.ndarray:
    """amount × switch_cost_bps / 10,000, to the cent (bps in micro-units)."""
    return mul_div_half_even(amount_c, np.full(len(amount_c), bps_u, dtype=np.int64), 10**10)


def rank_by_value(loan: np.ndarray, other: np.ndarray, value: np.ndarray) -> np.ndarray:
    """1-based rank of each pair among its loan's pairs: value desc, then `other` ascending (the
    trade or option index, which follows its id)."""
    rank = np.empty(len(loan), dtype=np.int64)
    if not len(loan):
        return rank
    order = np.lexsort((other, -value, loan))
    sorted_loans = loan[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_loans)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(loan)]))
    rank[order] = np.arange(len(loan)) - group_start + 1
    return rank
