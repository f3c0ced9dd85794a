"""The loan pipeline of the demo book, generated column-wise with numpy.

Loans are held as arrays (`LoanArrays`) while the book is built — trades are sized and pools
filled from them — and turned into rows only at the end. Dates are integer day offsets from
`as_of` (`NO_DATE` = null); amounts are integer cents and note rates integer eighths, so every
eligibility comparison the generator makes is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from pipeline.demo import profiles as P

NO_DATE = -(10**6)


@dataclass
class LoanArrays:
    n: int
    product: np.ndarray            # str
    stage: np.ndarray              # str
    stage_rank: np.ndarray         # int
    active: np.ndarray             # bool
    orig_cents: np.ndarray         # int64
    amount_cents: np.ndarray       # int64 (current UPB)
    note8: np.ndarray              # int64: note rate in eighths
    lock_date: np.ndarray          # day offsets, NO_DATE = null
    lock_exp: np.ndarray
    expected_close: np.ndarray
    closing: np.ndarray
    funded: np.ndarray
    fico: np.ndarray               # int
    ltv: np.ndarray                # float, 3 decimals
    dti: np.ndarray                # float, 2 decimals; NaN = null
    state: np.ndarray              # str
    occupancy: np.ndarray
    purpose: np.ndarray
    property_type: np.ndarray
    units: np.ndarray              # int
    pool: np.ndarray = field(default=None)  # str or "" (no pool), filled by pools.py

    @cached_property
    def available(self) -> np.ndarray:
        """Available date (ENGINE.md §4): funded, else closing, else expected close."""
        out = np.where(self.funded != NO_DATE, self.funded, self.closing)
        return np.where(out != NO_DATE, out, self.expected_close)

    @property
    def closed(self) -> np.ndarray:
        return self.active & (self.stage_rank >= 60)

    @property
    def in_scope(self) -> np.ndarray:
        """Closed, or rate-locked with a live lock (default ClosedAndLocked scope)."""
        live_lock = (self.lock_date != NO_DATE) & (self.lock_exp >= 0)
        return self.active & ((self.stage_rank >= 60) | live_lock)


def _pick(rng: np.random.Generator, pairs, n: int) -> np.ndarray:
    names = np.array([p[0] for p in pairs])
    weights = np.array([p[1] for p in pairs], dtype=float)
    return names[rng.choice(len(names), size=n, p=weights / weights.sum())]


def _days(rng: np.random.Generator, lo: int, hi: int, n: int) -> np.ndarray:
    return rng.integers(lo, hi + 1, size=n)


def generate_loans(rng: np.random.Generator, n: int) -> LoanArrays:
    product = _pick(rng, [(k, v[0]) for k, v in P.PRODUCTS.items()], n)
    stage = _pick(rng, list(P.STAGE_MIX.items()), n)
    ranks = {name: rank for name, rank, _ in P.STAGES}
    actives = {name: act for name, _, act in P.STAGES}
    stage_rank = np.array([ranks[s] for s in stage.tolist()], dtype=np.int64)
    active = np.array([actives[s] for s in stage.tolist()], dtype=bool)

    median = np.array([P.PRODUCTS[p][1] for p in product.tolist()], dtype=float)
    rate_centre = np.array([P.PRODUCTS[p][2] for p in product.tolist()], dtype=float)
    is_gov = np.isin(product, ["FHA30", "VA30"])

    # amounts: lognormal around the product median, plus a low-balance tail (more for 15-year)
    orig = median * np.exp(rng.normal(0.0, 0.45, size=n))
    tail_p = np.where(product == "CONV15", 0.22, 0.07)
    tail = rng.random(n) < tail_p
    orig = np.where(tail, rng.uniform(42_000, 135_000, size=n), orig)
    orig = np.clip(np.round(orig), 40_000, P.CONFORMING_HIGH_BALANCE_CAP)
    orig_cents = orig.astype(np.int64) * 100

    # credit
    fico = np.where(is_gov, rng.normal(688, 38, size=n), rng.normal(748, 42, size=n))
    fico = np.clip(np.round(fico), 620, 820).astype(np.int64)
    purpose = _pick(rng, P.PURPOSE, n)
    occupancy = np.where(is_gov, "Primary", _pick(rng, P.OCCUPANCY, n))
    ltv_purchase = np.where(rng.random(n) < 0.3, 80.0, rng.uniform(60, 97, size=n))
    ltv_purchase = np.where(is_gov, np.where(product == "FHA30", 96.5, rng.uniform(90, 100, size=n)), ltv_purchase)
    ltv = np.where(purpose == "Purchase", ltv_purchase,
                   np.where(purpose == "Refi", rng.uniform(40, 85, size=n), rng.uniform(30, 80, size=n)))
    ltv = np.round(ltv, 3)
    dti = np.round(np.clip(rng.normal(37, 8, size=n), 8, 55), 2)
    dti = np.where(rng.random(n) < 0.005, np.nan, dti)  # missing DTI: a rule on it fails

    # note rate in 1/8 steps: product centre, better credit → lower rate, investor → higher
    note = rate_centre + rng.normal(0, 0.38, size=n) - (fico - 740) / 400 + np.where(occupancy == "Investor", 0.5, 0)
    lo_hi = np.where(np.isin(product, ["CONV15"]), 4.5, 5.0), np.where(np.isin(product, ["CONV15"]), 7.5, 8.0)
    note8 = np.clip(np.round(note * 8), lo_hi[0] * 8, lo_hi[1] * 8).astype(np.int64)

    state = _pick(rng, P.STATES, n)
    ptype = _pick(rng, P.PROPERTY_TYPES, n)
    units = np.where(ptype == "2-4 Unit", rng.choice([2, 3, 4], size=n, p=[0.6, 0.2, 0.2]), 1).astype(np.int64)

    dates = _stage_dates(rng, stage, n)

    # current UPB: funded and later loans have paid down a little (cents), others owe the original
    paid = active & (stage_rank >= 70) | np.isin(stage, ["Shipped", "Purchased"])
    amort = np.round(orig_cents * rng.uniform(0.0005, 0.004, size=n)).astype(np.int64)
    amount_cents = np.where(paid, orig_cents - amort, orig_cents)

    return LoanArrays(
        n=n, product=product, stage=stage, stage_rank=stage_rank, active=active,
        orig_cents=orig_cents, amount_cents=amount_cents, note8=note8, fico=fico, ltv=ltv, dti=dti,
        state=state, occupancy=occupancy, purpose=purpose, property_type=ptype, units=units,
        pool=np.full(n, "", dtype=object), **dates,
    )


def _stage_dates(rng: np.random.Generator, stage: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Lock, expected-close, closing and funded day offsets consistent with each loan's stage."""
    none = np.full(n, NO_DATE, dtype=np.int64)
    lock_date, lock_exp, exp_close, closing, funded = (none.copy() for _ in range(5))
    period = rng.choice([30, 45, 60], size=n, p=[0.5, 0.35, 0.15])
    u = rng.random(n)

    for name, share in P.LOCK_SHARE.items():
        m = stage == name
        locked = m & (u < share)
        # locks taken up to 40 days ago: a 30-day lock taken over 30 days ago has expired
        lock_date[locked] = -_days(rng, 0, 40, int(locked.sum()))
        lo, hi = P.EXPECTED_CLOSE_DAYS[name]
        exp_close[m] = _days(rng, lo, hi, int(m.sum()))
    pre = np.isin(stage, list(P.LOCK_SHARE))
    # a few pre-closing loans have no date at all (→ NO_AVAILABLE_DATE when locked)
    exp_close[pre & (rng.random(n) < 0.02)] = NO_DATE

    done = np.isin(stage, ["Closed", "Funded", "Shipped", "Purchased"])
    lock_date[done] = -_days(rng, 25, 110, int(done.sum()))
    ago = {"Closed": (0, 12), "Funded": (1, 45), "Shipped": (20, 70), "Purchased": (40, 130)}
    for name, (lo, hi) in ago.items():
        m = stage == name
        closing[m] = -_days(rng, lo, hi, int(m.sum()))
    aged = (stage == "Funded") & (rng.random(n) < 0.05)  # scratch-and-dent: funded long ago, unsold
    closing[aged] = -_days(rng, 46, 120, int(aged.sum()))
    fund = np.isin(stage, ["Funded", "Shipped", "Purchased"])
    funded[fund] = np.minimum(closing[fund] + rng.choice([0, 1, 2, 3], size=int(fund.sum())), 0)
    exp_close[done] = closing[done] - rng.choice([0, 0, 1, 2, 5], size=int(done.sum()))
    # data gaps on closed loans: some only carry an expected close, a few carry no date
    gap = (stage == "Closed") & (rng.random(n) < 0.01)
    closing[gap] = NO_DATE
    nodate = (stage == "Closed") & (rng.random(n) < 0.004)
    closing[nodate] = NO_DATE
    exp_close[nodate] = NO_DATE

    wd = stage == "Withdrawn"
    wd_locked = wd & (u < 0.5)
    lock_date[wd_locked] = -_days(rng, 20, 90, int(wd_locked.sum()))
    exp_close[wd] = _days(rng, -30, 30, int(wd.sum()))

    has_lock = lock_date != NO_DATE
    lock_exp[has_lock] = lock_date[has_lock] + period[has_lock]
    return {"lock_date": lock_date, "lock_exp": lock_exp, "expected_close": exp_close,
            "closing": closing, "funded": funded}
