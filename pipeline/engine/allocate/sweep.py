"""The sweep (ENGINE.md §6 invariant 7): no unallocated loan keeps a candidate trade with room for
it and positive objective value.

One pass in value order is already stable: a pair is skipped only because its loan is taken (it
stays taken) or its trade lacks room (room only shrinks); the loop re-checks anyway, vectorised.
"""

from __future__ import annotations

import numpy as np

from pipeline.engine.allocate.book import Book, value_order


def sweep(book: Book, pairs: np.ndarray | None = None) -> int:
    """Place free loans on positive pairs (of `pairs`, default all) that fit; returns placements."""
    p = book.problem
    if pairs is None:
        pairs = np.arange(p.n_pairs, dtype=np.int64)
    pairs = pairs[p.pair_objective_cents[pairs] > 0]
    placed_total = 0
    while True:
        free = book.pair_of_loan[p.pair_loan[pairs]] < 0
        cand = pairs[free]
        fits = book.amount[p.pair_loan[cand]] <= book.cap[p.pair_trade[cand]] - book.fill[p.pair_trade[cand]]
        cand = cand[fits]
        if len(cand) == 0:
            return placed_total
        cand = value_order(p, cand)
        taken = book.pair_of_loan
        fill = book.fill.tolist()
        cap = book.cap.tolist()
        loans = p.pair_loan[cand].tolist()
        trades = p.pair_trade[cand].tolist()
        amounts = book.amount[p.pair_loan[cand]].tolist()
        for pair, loan, trade, amount in zip(cand.tolist(), loans, trades, amounts):
            if taken[loan] < 0 and fill[trade] + amount <= cap[trade]:
                taken[loan] = pair
                fill[trade] += amount
                placed_total += 1
        book.fill[:] = fill
