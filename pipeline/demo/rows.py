"""Turns the generated arrays and objects into input rows (ENGINE.md §2), typed as the importer
reads them: `Decimal` amounts (2 places) and rates/prices (at most 6), `date`, `bool`, `int`,
`str`, and `None` for an empty cell; lists are `;`-joined strings, as in the CSV.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np

from pipeline.demo import profiles as P
from pipeline.demo.book import Instrument, tba_price
from pipeline.demo.loans import NO_DATE, LoanArrays
from pipeline.demo.pools import PoolBook
from pipeline.demo.trades import Trade, payup_points


def money(cents: int | None) -> Decimal | None:
    if cents is None:
        return None
    cents = int(cents)
    return Decimal(f"{cents // 100}.{cents % 100:02d}")


def rate(x: float | None) -> Decimal | None:
    """A rate or price with at most 6 decimals, trailing zeros dropped (6.125, 100, 99.890625)."""
    if x is None:
        return None
    s = f"{x:.6f}".rstrip("0").rstrip(".")
    return Decimal("0" if s in ("-0", "") else s)


def _dates(offsets: np.ndarray, as_of: date) -> list[date | None]:
    base = as_of.toordinal()
    cache = {d: date.fromordinal(base + d) for d in np.unique(offsets).tolist() if d != NO_DATE}
    cache[NO_DATE] = None
    return [cache[d] for d in offsets.tolist()]


def _decimals(values: np.ndarray, convert) -> list:
    """Convert each distinct value once (100K loans share few distinct rates and ratios)."""
    distinct, codes = np.unique(values, return_inverse=True)
    table = [convert(v) for v in distinct.tolist()]
    return [table[c] for c in codes.tolist()]


def loan_rows(loans: LoanArrays, as_of: date) -> list[dict]:
    dates = {k: _dates(getattr(loans, a), as_of) for k, a in (
        ("lock_date", "lock_date"), ("lock_expiration_date", "lock_exp"),
        ("expected_close_date", "expected_close"), ("closing_date", "closing"), ("funded_date", "funded"))}
    amounts = [Decimal(c).scaleb(-2) for c in loans.amount_cents.tolist()]
    originals = [Decimal(c).scaleb(-2) for c in loans.orig_cents.tolist()]
    notes = _decimals(loans.note8, lambda e: rate(e / 8))
    ltv = _decimals(loans.ltv, rate)
    dti = _decimals(loans.dti, lambda x: None if x != x else rate(x))
    cols = zip(
        amounts, originals, notes, loans.product.tolist(),
        loans.stage.tolist(), dates["lock_date"], dates["lock_expiration_date"], dates["expected_close_date"],
        dates["closing_date"], dates["funded_date"], loans.fico.tolist(), ltv, dti, loans.state.tolist(),
        loans.occupancy.tolist(), loans.purpose.tolist(), loans.property_type.tolist(), loans.units.tolist(),
        loans.pool.tolist())
    return [
        {"loan_id": f"LN{i + 1:07d}", "loan_amount": a, "original_loan_amount": o, "note_rate": n8,
         "product": prod, "stage_name": st, "lock_date": ld, "lock_expiration_date": le, "expected_close_date": ec,
         "closing_date": cd, "funded_date": fd, "fico": fi, "ltv": lt, "dti": dt, "property_state": ps,
         "occupancy": oc, "loan_purpose": pu, "property_type": pt, "units": un, "current_pool_name": pool or None}
        for i, (a, o, n8, prod, st, ld, le, ec, cd, fd, fi, lt, dt, ps, oc, pu, pt, un, pool) in enumerate(cols)
    ]


def stage_rows() -> list[dict]:
    return [{"stage_name": n, "stage_rank": r, "is_active": a} for n, r, a in P.STAGES]


def instrument_rows(instruments: list[Instrument]) -> list[dict]:
    return [{
        "investor_id": i.investor_id, "investor_instrument_name": i.name, "instrument_type": i.type,
        "term_months": i.term_months, "products": ";".join(i.products),
        "min_servicing": rate(i.min_servicing), "max_servicing": rate(i.max_servicing),
        "excess_servicing_base": rate(i.excess_servicing_base), "servicing_multiple": rate(i.servicing_multiple),
        "min_loan_amount": money(i.min_loan_cents), "max_loan_amount": money(i.max_loan_cents),
        "delivery_lead_days": i.delivery_lead_days, "lot_size": money(i.lot_size * 100),
        "min_pool_amount": money(None if i.min_pool_amount is None else i.min_pool_amount * 100),
        "max_pool_amount": money(None if i.max_pool_amount is None else i.max_pool_amount * 100),
    } for i in instruments]


def trade_rows(trades: list[Trade]) -> list[dict]:
    return [{
        "trade_id": t.trade_id, "investor_id": t.inst.investor_id, "investor_instrument_name": t.inst.name,
        "coupon": rate(t.coupon), "trade_amount": money(t.amount_cents), "tolerance_pct": rate(t.tolerance_pct),
        "price": rate(t.price), "settlement_date": t.settle, "status": t.status, "counterparty": t.counterparty,
    } for t in trades]


def pool_rows(book: PoolBook) -> tuple[list[dict], list[dict]]:
    pools = [{"pool_name": n, "trade_id": t} for n, t in book.pools]
    locks = [{"pool_name": n, "lock_pool": b} for n, b in book.lockdowns]
    return pools, locks


def constraint_rows(instruments: list[Instrument]) -> tuple[list[dict], list[dict]]:
    cons, rules = [], []
    for i in instruments:
        for name, prio, rs in i.constraints:
            key = {"investor_id": i.investor_id, "investor_instrument_name": i.name, "constraint_name": name}
            cons.append({**key, "constraint_priority": prio})
            rules += [{**key, "field": f, "operator": op, "value": v} for f, op, v in rs]
    return cons, rules


def carry_rows(rng: np.random.Generator, instruments: list[Instrument]) -> list[dict]:
    out = []
    for i in instruments:
        if not i.has_carry:
            continue
        base = 5.05 + float(rng.uniform(0, 0.4))
        for step, day in enumerate((0, 15, 30, 45, 60, 90)):
            out.append({"investor_instrument_name": i.name, "on_day": day, "funding_rate": rate(round(base + 0.07 * step, 4))})
    return out


def payup_rows(instruments: list[Instrument]) -> list[dict]:
    out = []
    for i in instruments:
        if not i.payup_points:
            continue
        for c in i.coupons:
            pts = payup_points(i, c)
            if i.type == "SPEC":  # quoted in 32nds
                out.append({"investor_instrument_name": i.name, "coupon": rate(c),
                            "payup_value": rate(round(pts * 32)), "div_by": rate(32)})
            else:
                out.append({"investor_instrument_name": i.name, "coupon": rate(c),
                            "payup_value": rate(round(pts, 3)), "div_by": rate(1)})
    return out


def cash_grid_rows(trades: list[Trade]) -> list[dict]:
    return [{"trade_id": t.trade_id, "note_rate": rate(r), "price": rate(p)} for t in trades for r, p in t.grid]


def market_price_rows(instruments: list[Instrument], settle_dates: dict[str, list[date]]) -> list[dict]:
    """Generic prices for every non-CASH instrument with a constraint, at its settlement dates."""
    out = []
    for i in instruments:
        if i.type == "CASH" or not i.constraints:
            continue
        for m, d in enumerate(settle_dates[i.name]):
            for c in i.coupons:
                out.append({"investor_instrument_name": i.name, "coupon": rate(c), "settlement_date": d,
                            "price": rate(tba_price(i.family, c, m, i.investor_id))})
    return out
