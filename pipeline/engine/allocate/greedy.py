"""The legacy-style baseline allocator (ENGINE.md §5 step 4, `greedy`).

Reading of the spec, written down in docs/allocation.md:
1. Levels in ascending order; within a level, pairs sorted by (objective value per dollar desc,
   amount desc, loan_id, trade_id). A pair is taken when its loan is free, the trade has room, and
   taking it raises the objective: obj + λ·min(amount, the trade's current shortfall) > 0. (Under
   the `absolute` basis every pair is positive, so this is the legacy fill-by-price; under `par`
   it refuses placements that only lose money, as the sweep does.)
2. Repair: for each trade under its minimum (trade_id order), repeatedly move the lowest-value
   loan (objective value per dollar at its current trade, then loan_id) sitting in a trade that
   stays at or above its own minimum without it, into the under-min trade, when the move fits and
   raises the objective. At most one move per loan per trade; bounded by the number of loans.
3. The sweep.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.engine.allocate.book import Book, value_order
from pipeline.engine.allocate.problem import AllocationProblem
from pipeline.engine.allocate.sweep import sweep


def greedy_allocate(
    problem: AllocationProblem, cancel_check: Callable[[], None] | None = None
) -> Book:
    book = Book(problem)
    lam = float(problem.shortfall_penalty)
    for level in problem.levels():
        if cancel_check:
            cancel_check()
        pairs = value_order(problem, np.flatnonzero(problem.pair_level == level))
        take_in_order(book, pairs, lam)
    if cancel_check:
        cancel_check()
    _repair(book, lam)
    sweep(book)
    return book


def take_in_order(book: Book, pairs: np.ndarray, lam: float) -> None:
    """Step 1 of the greedy rule over `pairs` (already in value order); also `optimal`'s fallback."""
    p = book.problem
    taken = book.pair_of_loan
    fill = book.fill.tolist()
    cap = book.cap.tolist()
    need = book.min_need.tolist()
    loans = p.pair_loan[pairs].tolist()
    trades = p.pair_trade[pairs].tolist()
    amounts = book.amount[p.pair_loan[pairs]].tolist()
    objs = p.pair_objective_cents[pairs].tolist()
    for pair, loan, trade, amount, obj in zip(pairs.tolist(), loans, trades, amounts, objs):
        if taken[loan] >= 0 or fill[trade] + amount > cap[trade]:
            continue
        if obj > 0 or obj + lam * min(amount, max(need[trade] - fill[trade], 0)) > 0:
            taken[loan] = pair
            fill[trade] += amount
    book.fill[:] = fill


def _repair(book: Book, lam: float) -> None:
    p = book.problem
    by_trade = _pairs_by_trade(p)
    budget = p.n_loans + 1
    for t in np.flatnonzero(book.fill < book.min_need).tolist():
        cand = by_trade[t]
        moved = np.zeros(len(cand), dtype=bool)
        while book.fill[t] < book.min_need[t] and budget > 0:
            loan = p.pair_loan[cand]
            cur = book.pair_of_loan[loan]
            ok = (cur >= 0) & ~moved
            ok[ok] = p.pair_trade[cur[ok]] != t
            if not ok.any():
                break
            idx = np.flatnonzero(ok)
            src = p.pair_trade[cur[idx]]
            a = book.amount[loan[idx]]
            feasible = (book.fill[src] - a >= book.min_need[src]) & (book.fill[t] + a <= book.cap[t])
            idx, src, a = idx[feasible], src[feasible], a[feasible]
            if len(idx) == 0:
                break
            short = int(book.min_need[t] - book.fill[t])
            cur_obj = p.pair_objective_cents[cur[idx]]
            gain = p.pair_objective_cents[cand[idx]] - cur_obj + lam * np.minimum(a, short)
            good = gain > 0
            if not good.any():
                break
            idx, a, cur_obj = idx[good], a[good], cur_obj[good]
            # the lowest-value loan: objective value per dollar at its current trade, then loan_id
            pick = idx[np.lexsort((loan[idx], cur_obj / np.maximum(a, 1)))[0]]
            book.remove(int(loan[pick]))
            book.place(int(cand[pick]))
            moved[pick] = True
            budget -= 1


def _pairs_by_trade(p: AllocationProblem) -> list[np.ndarray]:
    order = np.lexsort((p.pair_loan, p.pair_trade))
    bounds = np.searchsorted(p.pair_trade[order], np.arange(p.n_trades + 1))
    return [order[bounds[t]: bounds[t + 1]] for t in range(p.n_trades)]
