"""Synthetic trade options for unallocated loans (ENGINE.md §5 step 6): what to sell next.

An option is an instrument with a constraint (not CASH) × a coupon and settlement date it has a
market price for within the trade horizon: a trade of unlimited size priced at market price +
payup + servicing value. Loans are tested with the §4 eligibility of a TBA/SPEC trade (product,
balance, settle date, servicing, constraint rules) and valued with the same arithmetic as real
trades (`pipeline.engine.pricing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from pipeline.engine.book import NO_DAY, Book, Instrument
from pipeline.engine.eligibility import RuleEvaluator, instrument_filter
from pipeline.engine.exact import MICRO, to_decimal
from pipeline.engine.options import RunOptions
from pipeline.engine.pricing import carry_days, carry_e8, payup_e8, rank_by_value, servicing_value_e8


@dataclass(frozen=True)
class SynOption:
    syn_trade_id: str
    instrument: Instrument
    coupon_u: int
    settlement_date: date
    market_u: int
    payup_e8: int


def syn_trade_id(instrument_name: str, coupon_u: int, settle: date) -> str:
    coupon = format(to_decimal(coupon_u, MICRO).normalize(), "f")
    return f"SYN:{instrument_name}:{coupon}:{settle.isoformat()}"


def synthetic_options(book: Book, options: RunOptions) -> list[SynOption]:
    as_of = options.as_of_date
    horizon = as_of + timedelta(days=options.max_trade_settle_days)
    out = []
    for name, coupon_u, settle, price_u in book.market_prices:
        inst = book.instruments_by_name.get(name)
        if inst is None or inst.type == "CASH" or not book.constraints.get(inst.key):
            continue
        if not (as_of <= settle <= horizon):
            continue
        payup = book.payups.get((name, coupon_u))
        out.append(SynOption(syn_trade_id(name, coupon_u, settle), inst, coupon_u, settle, price_u,
                             payup_e8(*payup) if payup else 0))
    return sorted(out, key=lambda o: o.syn_trade_id)


@dataclass
class SynPairs:
    loan: np.ndarray
    option: np.ndarray
    servicing_e8: np.ndarray
    carry_e8: np.ndarray
    value_payup_e8: np.ndarray
    value_payup_carry_e8: np.ndarray
    rank_payup: np.ndarray
    rank_payup_carry: np.ndarray

    def __len__(self) -> int:
        return len(self.loan)


def price_options(book: Book, loans: np.ndarray, opts: list[SynOption], options: RunOptions,
                  check_cancelled: Callable[[], None] = lambda: None) -> SynPairs:
    lb = book.loans
    evaluator = RuleEvaluator(book)
    as_of_day = options.as_of_date.toordinal()
    passing: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    parts = []
    for k, o in enumerate(opts):
        check_cancelled()
        inst = o.instrument
        if inst.key not in passing:
            ok = instrument_filter(book, inst, loans) == 2
            cand = loans[ok]
            passing[inst.key] = (cand, evaluator.constraint_index(book.constraints[inst.key], cand))
        cand, cons = passing[inst.key]
        note, avail = lb.note_u[cand], lb.available_day[cand]
        diff = note - o.coupon_u
        ok = (cons >= 0) & (avail != NO_DAY) & (avail + inst.lead_days + options.eligible_settle_buffer_days <= o.settlement_date.toordinal())
        if inst.min_servicing_u is not None:
            ok &= diff >= inst.min_servicing_u
        if inst.max_servicing_u is not None:
            ok &= diff <= inst.max_servicing_u
        e = cand[ok]
        if not len(e):
            continue
        serv = servicing_value_e8(inst.servicing_multiple_u, lb.note_u[e], o.coupon_u, inst.excess_base_u)
        carry = carry_e8(lb.note_u[e], carry_days(o.settlement_date.toordinal(), as_of_day, lb.available_day[e]),
                         book.carry_curves.get(inst.name))
        v = o.market_u * 100 + o.payup_e8 + serv
        parts.append((e, np.full(len(e), k), serv, carry, v, v + carry))
    cols = [np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype=np.int64) for i in range(6)]
    order = np.lexsort((cols[1], cols[0]))
    loan, option, serv, carry, vp, vpc = (c[order].astype(np.int64) for c in cols)
    return SynPairs(loan, option, serv, carry, vp, vpc, rank_by_value(loan, option, vp), rank_by_value(loan, option, vpc))


__all__ = ["SynOption", "SynPairs", "price_options", "synthetic_options", "syn_trade_id"]
