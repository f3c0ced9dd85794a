"""Exact arithmetic for the engine (ENGINE.md §4): scaled integers and their rounding.

Every number the engine compares or writes is held as an integer in a fixed unit:
- money in cents (`CENT` = 2 decimals),
- input rates, prices and amounts-as-rates in micro-units (`MICRO` = 6 decimals; inputs carry at
  most 6),
- computed price parts, carry and value in 1e-8 (`E8`), the precision they are rounded to.
Integer arithmetic is exact, so boundaries (balance caps, servicing bounds, price floors) never
see float noise; rounding is half-even (ties to the even neighbour) unless a rule says half-up.
Functions accept Python ints or numpy int64 arrays; `mul_div_half_even` falls back to Python
ints (object arrays) when a product could overflow int64.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np

CENT = 2
MICRO = 6
E8 = 8
_INT64_SAFE = 2**62


def scaled(value: Decimal | int | float | str | None, places: int) -> int | None:
    """`value` × 10**places as an exact int (raises if it has more decimals than `places`).

    Floats come from SQLite's REAL storage of a NUMERIC column written from an exact decimal with
    at most `places` decimals; rounding the scaled float recovers that decimal exactly."""
    if value is None:
        return None
    if isinstance(value, float):
        return int(round(value * 10**places))
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    s = d.scaleb(places)
    i = int(s)
    if s != i:
        raise ValueError(f"{value} has more than {places} decimals")
    return i


def scaled_array(values: list, places: int) -> np.ndarray:
    """`scaled` over a column read from a NUMERIC of scale ≤ `places` (nulls become 0; callers
    keep their own null mask)."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    sample = next((v for v in values if v is not None), None)
    if sample is None or isinstance(sample, (float, int)):
        arr = np.array([0.0 if v is None else v for v in values], dtype=np.float64)
        return np.rint(arr * 10**places).astype(np.int64)
    # Decimals of a NUMERIC column (PostgreSQL, at most `places` decimals): through the nearest
    # float, exact while |units| < 2**50 (the two roundings stay under half a unit); else one by one
    arr = np.rint(np.array([0.0 if v is None else float(v) for v in values], dtype=np.float64) * 10**places)
    if len(arr) and np.abs(arr).max() < 2**50:
        return arr.astype(np.int64)
    return np.array([scaled(v, places) or 0 for v in values], dtype=np.int64)


def scaled_rounded(value: Decimal, places: int) -> int:
    """`value` × 10**places rounded half-even (options such as switch_cost_bps may be finer)."""
    return int(value.scaleb(places).to_integral_value(rounding=ROUND_HALF_EVEN))


def to_decimal(units: int | np.integer | None, places: int) -> Decimal | None:
    """The Decimal a scaled integer stands for, with exactly `places` decimals."""
    if units is None:
        return None
    return Decimal(int(units)).scaleb(-places)


def div_half_even(n, d: int):
    """n / d rounded half-even, for an int or an int array (d > 0)."""
    q = n // d
    r = n - q * d
    twice = 2 * r
    if isinstance(q, np.ndarray):
        up = (twice > d) | ((twice == d) & (q % 2 == 1))
        return q + up.astype(q.dtype)
    if twice > d or (twice == d and q % 2 == 1):
        return q + 1
    return q


def mul_div_half_even(a, b, d: int):
    """a × b / d rounded half-even, elementwise; exact even when a × b exceeds int64."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a_arr, b_arr = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        amax = int(np.abs(a_arr).max()) if a_arr.size else 0
        bmax = int(np.abs(b_arr).max()) if b_arr.size else 0
        if amax * bmax < _INT64_SAFE:
            return div_half_even(a_arr * b_arr, d)
        wide = div_half_even(a_arr.astype(object) * b_arr.astype(object), d)
        return np.asarray(wide, dtype=np.int64)
    return div_half_even(int(a) * int(b), d)


def tolerance_cents(amount_cents: int, tolerance_micro: int) -> int:
    """amount × tolerance_pct / 100 rounded half-up to cents (ENGINE.md §4, trade window)."""
    exact = Decimal(amount_cents) * Decimal(tolerance_micro) / Decimal(100 * 10**MICRO)
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def day(d: date | None) -> int | None:
    """A date as its proleptic ordinal (days compare and subtract as ints)."""
    return None if d is None else d.toordinal()
