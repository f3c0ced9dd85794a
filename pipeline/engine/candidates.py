"""Every eligible (loan, trade) pair with its value parts (ENGINE.md §4), built column-wise.

Work is grouped by instrument: the instrument-level tests (product, balance caps) and the
loan's constraint (the first constraint of the instrument whose rules it passes — it does not
depend on the trade) are computed once per instrument; only the settle-date, servicing/grid and
price-floor tests and the value parts are computed per trade, over the loans that passed. For a
loan with no candidate we keep the test it failed furthest down the §4 list, ties to the lowest
trade_id, as a score `stage × T + (T − 1 − trade index)` whose maximum is exactly that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.engine.book import NO_DAY, Book, Trade
from pipeline.engine.eligibility import RuleEvaluator, instrument_filter
from pipeline.engine.exact import scaled_rounded
from pipeline.engine.options import PriceMode, RunOptions, ValueBasis
from pipeline.engine.pricing import carry_days, carry_e8, dollar_value_cents, grid_price_e8, rank_by_value, servicing_value_e8, switch_cost_cents


@dataclass
class PairSet:
    """Candidate pairs in (loan, trade) order; loan = index into book.loans, trade = into `trades`."""

    trades: list[Trade]
    constraints: list[tuple[str, str, str]]  # by constraint id: (investor, instrument, name)
    loan: np.ndarray
    trade: np.ndarray
    constraint: np.ndarray        # constraint id
    level: np.ndarray
    price_e8: np.ndarray
    servicing_e8: np.ndarray
    carry_e8: np.ndarray
    carry_matched: np.ndarray
    value_e8: np.ndarray
    objective_c: np.ndarray
    rank: np.ndarray
    fail_score: np.ndarray        # per loan of the book: -1 or stage × T + (T − 1 − trade index)

    def __len__(self) -> int:
        return len(self.loan)


def build_pairs(book: Book, in_scope: np.ndarray, trades: list[Trade], options: RunOptions,
                check_cancelled: Callable[[], None] = lambda: None) -> PairSet:
    loans = book.loans
    n_t = len(trades)
    idx_scope = np.flatnonzero(in_scope)
    fail = np.full(loans.n, -1, dtype=np.int64)
    as_of_day = options.as_of_date.toordinal()
    buffer = options.eligible_settle_buffer_days
    floor_e8 = scaled_rounded(options.bx_price_floor, 8) if options.bx_price_floor is not None else None
    bps_u = scaled_rounded(options.switch_cost_bps, 6)
    with_carry = options.price_mode == PriceMode.PRICE_PLUS_CARRY
    par = options.value_basis == ValueBasis.PAR
    evaluator = RuleEvaluator(book)

    # the trade of each loan's current pool, as a code comparable with the trades' codes
    codes: dict[str, int] = {t.trade_id: k for k, t in enumerate(trades)}
    pool_trade = np.array([
        codes.setdefault(book.pools.get(p), len(codes)) if p and book.pools.get(p) is not None else -1
        for p in loans.pool
    ], dtype=np.int64)

    by_instrument: dict[tuple[str, str], list[int]] = {}
    for ti, t in enumerate(trades):
        by_instrument.setdefault(t.instrument_key, []).append(ti)

    names: list[tuple[str, str, str]] = []
    parts: list[tuple] = []
    cons_of: dict[tuple[str, str], tuple[int, np.ndarray]] = {}
    for key in sorted(by_instrument):
        inst, constraints = book.instruments[key], book.constraints[key]
        cons_of[key] = (len(names), np.array([c.priority for c in constraints], dtype=np.int64))
        names.extend((key[0], key[1], c.name) for c in constraints)
    # many instruments share product lists, balance caps and constraint rules: test each once
    filtered: dict[tuple, np.ndarray] = {}
    claimed: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def stages(inst, idx: np.ndarray, pass_no: int) -> np.ndarray:
        sig = (pass_no, inst.products, inst.min_loan_c, inst.max_loan_c)
        if sig not in filtered:
            filtered[sig] = instrument_filter(book, inst, idx)
        return filtered[sig]

    # pass 1: pairs, over the loans passing the instrument's tests and one of its constraints
    for key in sorted(by_instrument):
        check_cancelled()
        inst = book.instruments[key]
        sig = (inst.products, inst.min_loan_c, inst.max_loan_c, tuple(c.rules for c in book.constraints[key]))
        if sig not in claimed:
            cand = idx_scope[stages(inst, idx_scope, 1) == 2]
            cons_local = evaluator.constraint_index(book.constraints[key], cand)
            claimed[sig] = (cand[cons_local >= 0], cons_local[cons_local >= 0])
        cand, cons_local = claimed[sig]
        if not len(cand):
            continue
        cons_base, prio = cons_of[key]
        curve = book.carry_curves.get(inst.name)
        note, avail, amount = loans.note_u[cand], loans.available_day[cand], loans.amount_c[cand]
        for ti in by_instrument[key]:
            check_cancelled()
            t = trades[ti]
            reach, price = _trade_tests(book, inst, t, note, avail, buffer, floor_e8)
            e = np.flatnonzero(reach == 5)
            if not len(e):
                continue
            settle = t.settlement_date.toordinal()
            p_price = price[e] if price is not None else np.full(len(e), (t.price_u or 0) * 100, dtype=np.int64)
            p_serv = np.zeros(len(e), dtype=np.int64) if inst.type == "CASH" else servicing_value_e8(
                inst.servicing_multiple_u, note[e], t.coupon_u, inst.excess_base_u)
            p_carry = carry_e8(note[e], carry_days(settle, as_of_day, avail[e]), curve)
            value = p_price + p_serv + (p_carry if with_carry else 0)
            obj = dollar_value_cents(amount[e], value, par)
            switching = (pool_trade[cand[e]] >= 0) & (pool_trade[cand[e]] != ti)
            if bps_u and switching.any():
                obj = obj - np.where(switching, switch_cost_cents(amount[e], bps_u), 0)
            c_local = cons_local[e]
            parts.append((cand[e], np.full(len(e), ti), cons_base + c_local, prio[c_local], p_price, p_serv,
                          p_carry, np.full(len(e), curve is not None), value, obj))
    # pass 2: for in-scope loans without a pair, the test failed furthest down the list
    has_pair = np.zeros(loans.n, dtype=bool)
    for p in parts:
        has_pair[p[0]] = True
    lonely = idx_scope[~has_pair[idx_scope]]
    for key in sorted(by_instrument) if len(lonely) else ():
        check_cancelled()
        inst, t_idx = book.instruments[key], by_instrument[key]
        stage_i = stages(inst, lonely, 2)
        out = stage_i < 2
        _record_fail(fail, lonely[out], stage_i[out] * n_t + (n_t - 1 - t_idx[0]))
        cand = lonely[~out]
        if not len(cand):
            continue
        note, avail = loans.note_u[cand], loans.available_day[cand]
        for ti in t_idx:
            reach, _ = _trade_tests(book, inst, trades[ti], note, avail, buffer, floor_e8)
            _record_fail(fail, cand, reach * n_t + (n_t - 1 - ti))  # reach 5 = failed the rules
    return _assemble(trades, names, parts, fail)


def _trade_tests(book: Book, inst, t: Trade, note: np.ndarray, avail: np.ndarray, buffer: int,
                 floor_e8: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per loan: 2 + how many of SETTLE_DATE, SERVICING/GRID_RANGE, PRICE_FLOOR it passes in a row
    (5 = all), and for CASH the interpolated price (0 where out of the grid)."""
    settle_ok = (avail != NO_DAY) & (avail + inst.lead_days + buffer <= t.settlement_date.toordinal())
    price = None
    if inst.type == "CASH":
        grid = book.cash_grids.get(t.trade_id, [])
        s2 = settle_ok & (note >= grid[0][0]) & (note <= grid[-1][0]) if grid else np.zeros(len(note), dtype=bool)
        price = np.zeros(len(note), dtype=np.int64)
        if s2.any():
            price[s2] = grid_price_e8(grid, note[s2])
        s3 = s2 & (price >= floor_e8) if floor_e8 is not None else s2
    else:
        s2 = settle_ok & (t.coupon_u is not None)
        if t.coupon_u is not None:
            diff = note - t.coupon_u
            if inst.min_servicing_u is not None:
                s2 &= diff >= inst.min_servicing_u
            if inst.max_servicing_u is not None:
                s2 &= diff <= inst.max_servicing_u
        s3 = s2
    return 2 + settle_ok.astype(np.int64) + s2 + s3, price


def _record_fail(fail: np.ndarray, loans: np.ndarray, score: np.ndarray) -> None:
    if len(loans):
        fail[loans] = np.maximum(fail[loans], score)


def _assemble(trades, names, parts, fail) -> PairSet:
    if parts:
        cols = [np.concatenate([p[k] for p in parts]) for k in range(10)]
    else:
        cols = [np.zeros(0, dtype=np.int64) for _ in range(10)]
    loan, trade, cons, level, price, serv, carry, matched, value, obj = cols
    order = np.argsort(loan.astype(np.int64) * max(len(trades), 1) + trade, kind="stable")  # (loan, trade) order
    loan, trade, cons, level, price, serv, carry, matched, value, obj = (
        a[order] for a in (loan, trade, cons, level, price, serv, carry, matched, value, obj))
    rank = rank_by_value(loan, trade, value)  # value desc, then trade_id
    return PairSet(trades, names, loan.astype(np.int64), trade.astype(np.int64), cons.astype(np.int64),
                   level.astype(np.int64), price, serv, carry, matched.astype(bool), value, obj, rank, fail)

