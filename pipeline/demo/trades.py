"""The forward-trade book: which trades exist, their cash grids, and how big they are.

Trades are planned first (instrument, coupon or grid, settlement date), then sized against the
pipeline they can draw on: each in-scope loan's amount is shared equally among the trades it fits,
and a trade asks for a fraction of its share — most ask for 45–95% (fillable), about one in eight
asks for 1.3–2.2× (cannot reach its minimum). TBA and SPEC amounts are whole millions, a quarter of
them already partly delivered; cash commitments are rounded to $10K.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from pipeline.demo import profiles as P
from pipeline.demo.book import Instrument, cash_grid_price, settlement_date, settlement_months, tba_price, tick64
from pipeline.demo.eligibility import instrument_mask, trade_candidates
from pipeline.demo.loans import LoanArrays

MONTH_WEIGHTS = np.array([0.42, 0.43, 0.15])  # the third month lies past the default 60-day horizon


@dataclass
class Trade:
    trade_id: str
    inst: Instrument
    settle: date
    settle_day: int                       # days after as_of
    month_index: int | None               # TBA/SPEC: index of the settlement month
    coupon: float | None = None           # TBA/SPEC
    grid8: tuple[int, int] | None = None  # CASH: lowest and highest note rate, eighths
    grid: list[tuple[float, float]] = field(default_factory=list)
    candidates: np.ndarray | None = None
    amount_cents: int = 0
    tolerance_pct: float = 0.0
    price: float | None = None
    status: str = "Open"
    counterparty: str = ""


def _coupon_weights(coupons: list[float]) -> np.ndarray:
    mid = (len(coupons) - 1) / 2
    w = np.array([1.0 / (1.0 + abs(i - mid)) for i in range(len(coupons))])
    return w / w.sum()


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder split of `total` by weights (ties to the lower index)."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(np.int64)
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[: total - int(out.sum())]:
        out[i] += 1
    return out


def plan_trades(rng: np.random.Generator, profile: P.SizeProfile, instruments: list[Instrument],
                loans: LoanArrays, as_of: date) -> list[Trade]:
    months = settlement_months(as_of)
    in_scope = loans.in_scope
    inst_idx = {i.name: np.flatnonzero(instrument_mask(loans, i, in_scope)) for i in instruments}

    counts = {i.name: profile.core_trades.get(i.name, 0) for i in instruments if i.investor_id != "AGGREGATOR"}
    window = [i for i in instruments if i.investor_id == "AGGREGATOR"]
    supply = np.array([loans.amount_cents[inst_idx[i.name]].sum() for i in window], dtype=float)
    for inst, k in zip(window, _allocate(profile.trades - sum(counts.values()), supply)):
        counts[inst.name] = int(k)

    trades: list[Trade] = []
    for inst in instruments:
        for _ in range(counts.get(inst.name, 0)):
            trades.append(_plan_one(rng, inst, inst_idx[inst.name], loans, months, as_of))
    for n, t in enumerate(trades, start=1):
        t.trade_id = f"T{n:05d}"
        t.candidates = trade_candidates(
            loans, t.inst, inst_idx[t.inst.name], settle_day=t.settle_day,
            coupon8=None if t.coupon is None else round(t.coupon * 8), grid8=t.grid8)
    _size(rng, trades, loans)
    _close_some(rng, trades)
    return trades


def _plan_one(rng, inst: Instrument, idx: np.ndarray, loans: LoanArrays, months, as_of: date) -> Trade:
    if inst.type == "CASH":
        settle = as_of + timedelta(days=int(rng.integers(8, 76)))
        if inst.max_loan_cents is not None:  # low-balance window: one wide grid
            lo8, hi8 = 36, 60
        else:
            centre = int(loans.note8[idx[rng.integers(len(idx))]]) if len(idx) else round(P.PAR_NOTE[inst.family] * 8)
            lo8, hi8 = centre - int(rng.integers(1, 4)), centre + int(rng.integers(1, 4))
        offset = float(rng.normal(0, 0.25)) + 0.8 * inst.payup_points
        rates = np.arange(lo8, hi8 + 1) / 8.0
        prices = cash_grid_price(inst.family, rates, offset)
        return Trade("", inst, settle, (settle - as_of).days, None, grid8=(lo8, hi8),
                     grid=list(zip(rates.tolist(), prices.tolist())),
                     tolerance_pct=float(rng.choice([0, 1, 2, 5], p=[0.05, 0.25, 0.3, 0.4])),
                     counterparty=P.AGGREGATORS[int(rng.integers(len(P.AGGREGATORS)))])
    m = int(rng.choice(3, p=MONTH_WEIGHTS))
    coupon = float(inst.coupons[int(rng.choice(len(inst.coupons), p=_coupon_weights(inst.coupons)))])
    settle = settlement_date(inst, months[m])
    price = tba_price(inst.family, coupon, m, inst.investor_id) + float(rng.normal(0, 0.12))
    if inst.type == "SPEC":  # a SPEC trade's price already includes its payup
        price += payup_points(inst, coupon)
    return Trade("", inst, settle, (settle - as_of).days, m, coupon=coupon, price=float(tick64(price)),
                 tolerance_pct=float(rng.choice([0, 0.5, 1, 2, 2.5, 5], p=[0.06, 0.14, 0.2, 0.2, 0.15, 0.25])),
                 counterparty=P.COUNTERPARTIES[int(rng.integers(len(P.COUNTERPARTIES)))])


def payup_points(inst: Instrument, coupon: float) -> float:
    """Low-balance payups grow with the coupon (prepayment protection is worth more at premiums)."""
    return max(0.0, inst.payup_points * (1 + 0.5 * (coupon - 5.5)))


def _size(rng, trades: list[Trade], loans: LoanArrays) -> None:
    fits = np.zeros(loans.n, dtype=np.int64)
    for t in trades:
        fits[t.candidates] += 1
    share = np.where(fits > 0, loans.amount_cents / np.maximum(fits, 1), 0.0)
    for t in trades:
        supply = float(share[t.candidates].sum())
        stretch = rng.random() < 0.12
        f = rng.uniform(1.3, 2.2) if stretch else rng.uniform(0.45, 0.95)
        want = supply * f / 100.0  # dollars
        if t.inst.type == "CASH":
            dollars = max(100_000, int(round(want / 10_000)) * 10_000)
            t.amount_cents = dollars * 100
        else:
            dollars = max(1_000_000, int(round(want / 1_000_000)) * 1_000_000)
            cents = dollars * 100
            if rng.random() < 0.25:  # partly delivered: the still-undelivered amount
                cents -= int(round(cents * rng.uniform(0.05, 0.35)))
            t.amount_cents = cents


def _close_some(rng, trades: list[Trade]) -> None:
    """A few trades are Closed (fully delivered or paired off): never in scope."""
    k = max(1, round(len(trades) * 0.04))
    for i in sorted(rng.choice(len(trades), size=k, replace=False).tolist()):
        trades[i].status = "Closed"
