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
        _take(book, pairs, lam)
    if cancel_check:
        cancel_check()
    _repair(book, lam)
    sweep(book)
    return book


def _take(book: Book, pairs: np.ndarray, lam: float) -> None:
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
    amount = book.amount
    budget = p.n_loans + 1
    for t in np.flatnonzero(book.fill < book.min_need).tolist():
        moved: set[int] = set()
        while book.fill[t] < book.min_need[t] and budget > 0:
            best = None
            for pair in by_trade[t].tolist():
                loan = int(p.pair_loan[pair])
                cur = int(book.pair_of_loan[loan])
                if cur < 0 or loan in moved:
                    continue
                src = int(p.pair_trade[cur])
                if src == t:
                    continue
                a = int(amount[loan])
                if book.fill[src] - a < book.min_need[src] or book.fill[t] + a > book.cap[t]:
                    continue
                short = int(book.min_need[t] - book.fill[t])
                gain = int(p.pair_objective_cents[pair]) - int(p.pair_objective_cents[cur]) + lam * min(a, short)
                if gain <= 0:
                    continue
                key = (int(p.pair_objective_cents[cur]) / max(a, 1), loan)
                if best is None or key < best[0]:
                    best = (key, pair, loan)
            if best is None:
                break
            _, pair, loan = best
            book.remove(loan)
            book.place(pair)
            moved.add(loan)
            budget -= 1


def _pairs_by_trade(p: AllocationProblem) -> list[np.ndarray]:
    order = np.lexsort((p.pair_loan, p.pair_trade))
    bounds = np.searchsorted(p.pair_trade[order], np.arange(p.n_trades + 1))
    return [order[bounds[t]: bounds[t + 1]] for t in range(p.n_trades)]
