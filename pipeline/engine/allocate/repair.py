"""From an LP solution to a good integer allocation of one level: rounding, then repair.

1. Rounding: pairs at x = 1 are placed (value order, capacity re-checked in cents); fractional
   loans go to their largest-x trade that still has room, if that raises the objective.
2. Window fill: each trade under its minimum takes, one at a time, the free level pair with the
   largest gain obj + λ·min(amount, shortfall) that fits.
3. Swaps (marginal-cost substitution): for trades under their minimum or touched by a fractional
   loan, exchange one held loan of the level for one free candidate when the exchange fits and
   raises the objective (value and shortfall together); best exchange first, bounded rounds.
All choices are deterministic: ties break on (amount, loan index, trade index).
"""

from __future__ import annotations

import numpy as np

from pipeline.engine.allocate.book import Book, value_order

INTEGRAL = 1.0 - 1e-6
FRACTIONAL = 1e-6
SWAP_ROUNDS = 2  # swaps per trade per level: a deterministic work limit
SWAP_WINDOW = 400  # held and free loans per trade a swap round compares (repair.py _swap_window)


def round_solution(book: Book, pairs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Place the LP's integral pairs and round fractional loans; returns trades touched by them."""
    p = book.problem
    lam = float(p.shortfall_penalty)
    place_integral(book, pairs, x)
    frac_mask = (x > FRACTIONAL) & (x < INTEGRAL)
    frac = pairs[frac_mask]
    if len(frac) == 0:
        return np.zeros(0, dtype=np.int64)
    xf = x[frac_mask]
    loan = p.pair_loan[frac]
    order = np.lexsort((p.pair_trade[frac], loan, -xf))
    for pair in frac[order].tolist():
        loan_i = int(p.pair_loan[pair])
        t = int(p.pair_trade[pair])
        a = int(book.amount[loan_i])
        if book.pair_of_loan[loan_i] >= 0 or book.fill[t] + a > book.cap[t]:
            continue
        if _gain(book, pair, lam) > 0:
            book.place(pair)
    return np.unique(p.pair_trade[frac]).astype(np.int64)


def place_integral(book: Book, pairs: np.ndarray, x: np.ndarray) -> None:
    """Pairs the LP sets to 1, in value order, each re-checked against capacity in cents."""
    p = book.problem
    chosen = pairs[x >= INTEGRAL]
    chosen = chosen[book.pair_of_loan[p.pair_loan[chosen]] < 0]
    if len(chosen) == 0:
        return
    # the LP gives each loan at most one x = 1; place trade by trade in bulk where the whole set
    # fits in cents, one by one in value order only at a trade the float solve overfilled
    trade = p.pair_trade[chosen]
    amount = book.amount[p.pair_loan[chosen]]
    total = np.bincount(trade, weights=amount, minlength=p.n_trades).astype(np.int64)
    bulk = (book.fill + total <= book.cap)[trade]
    loans = p.pair_loan[chosen[bulk]]
    first = np.unique(loans, return_index=True)[1]
    ok = chosen[bulk][first] if len(first) == len(loans) else np.zeros(0, dtype=np.int64)
    rest = chosen[~bulk] if len(ok) else chosen
    book.pair_of_loan[p.pair_loan[ok]] = ok
    np.add.at(book.fill, p.pair_trade[ok], book.amount[p.pair_loan[ok]])
    for pair in value_order(p, rest).tolist():
        loan = int(p.pair_loan[pair])
        t = int(p.pair_trade[pair])
        if book.pair_of_loan[loan] < 0 and book.fill[t] + book.amount[loan] <= book.cap[t]:
            book.place(pair)


def _gain(book: Book, pair: int, lam: float) -> float:
    p = book.problem
    t = int(p.pair_trade[pair])
    a = int(book.amount[p.pair_loan[pair]])
    short = max(int(book.min_need[t] - book.fill[t]), 0)
    return int(p.pair_objective_cents[pair]) + lam * min(a, short)


def window_fill(book: Book, by_trade: dict[int, np.ndarray], value: bool = False,
                trades: np.ndarray | None = None) -> None:
    """Fill trades under their minimum (and, with `value`, any room) with the best fitting pair.

    "Best" is the largest absolute gain, not gain per dollar: the room left after rounding is
    small, and what matters is the most objective that fits in it.
    """
    p = book.problem
    lam = float(p.shortfall_penalty)
    for t in sorted(by_trade) if trades is None else trades.tolist():
        cand = by_trade[t]
        while value or book.fill[t] < book.min_need[t]:
            free = cand[book.pair_of_loan[p.pair_loan[cand]] < 0]
            a = book.amount[p.pair_loan[free]]
            room = book.cap[t] - book.fill[t]
            ok = a <= room
            if not ok.any():
                break
            free, a = free[ok], a[ok]
            short = max(int(book.min_need[t] - book.fill[t]), 0)
            gain = p.pair_objective_cents[free] + lam * np.minimum(a, short)
            best = _argbest(gain, a, p.pair_loan[free])
            if gain[best] <= 0:
                break
            book.place(int(free[best]))


def swaps(book: Book, by_trade: dict[int, np.ndarray], trades: np.ndarray) -> int:
    """Best single exchanges (held level loan ↔ free candidate) at `trades`; returns swaps made."""
    p = book.problem
    lam = float(p.shortfall_penalty)
    done = 0
    for t in trades.tolist():
        cand = by_trade.get(t)
        if cand is None:
            continue
        for _ in range(SWAP_ROUNDS):
            held = cand[book.pair_of_loan[p.pair_loan[cand]] == cand]
            free = cand[book.pair_of_loan[p.pair_loan[cand]] < 0]
            if len(held) == 0 or len(free) == 0:
                break
            held, free = _swap_window(p, held, free)
            a_in = book.amount[p.pair_loan[free]].astype(np.float64)
            o_in = p.pair_objective_cents[free].astype(np.float64)
            a_out = book.amount[p.pair_loan[held]].astype(np.float64)
            o_out = p.pair_objective_cents[held].astype(np.float64)
            fill = float(book.fill[t])
            room = float(book.cap[t]) - fill
            need = float(book.min_need[t])
            short_now = max(need - fill, 0.0)
            # new fill = fill - a_out + a_in; gain = Δobj − λ·Δshortfall
            delta = a_in[None, :] - a_out[:, None]
            fits = delta <= room
            short_new = np.maximum(need - (fill + delta), 0.0)
            gain = o_in[None, :] - o_out[:, None] + lam * (short_now - short_new)
            gain = np.where(fits, gain, -np.inf)
            flat = int(np.argmax(gain))
            if not gain.flat[flat] > 0.5:  # at least half a cent: float noise never triggers a swap
                break
            i, j = divmod(flat, len(free))
            book.remove(int(p.pair_loan[held[i]]))
            book.place(int(free[j]))
            done += 1
    return done


def _swap_window(p, held: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most SWAP_WINDOW held loans of lowest objective value and free candidates of highest:
    a big trade would otherwise cost a held × free matrix per round (tens of millions of entries
    on a 30K-pair cash trade) for an exchange that nearly always lies among these."""
    if len(held) > SWAP_WINDOW:
        o = p.pair_objective_cents[held]
        held = held[np.lexsort((p.pair_loan[held], o))[:SWAP_WINDOW]]
    if len(free) > SWAP_WINDOW:
        o = p.pair_objective_cents[free]
        free = free[np.lexsort((p.pair_loan[free], -o))[:SWAP_WINDOW]]
    return held, free


def _argbest(gain: np.ndarray, amount: np.ndarray, loan: np.ndarray) -> int:
    order = np.lexsort((loan, -amount, -gain))
    return int(order[0])


def pairs_by_trade(book: Book, pairs: np.ndarray) -> dict[int, np.ndarray]:
    p = book.problem
    trade = p.pair_trade[pairs]
    order = np.lexsort((pairs, trade))
    sorted_pairs = pairs[order]
    cuts = np.flatnonzero(np.diff(trade[order])) + 1
    groups = np.split(sorted_pairs, cuts)
    return {int(p.pair_trade[g[0]]): g for g in groups if len(g)}


MOVE_ROUNDS = 4  # moves into each under-min trade per pass: a deterministic work limit


def moves(book: Book, by_trade: dict[int, np.ndarray], level: int,
          trades: np.ndarray | None = None) -> int:
    """Move loans this level placed elsewhere into a trade with room, when it pays.

    Gain of moving loan l from t' to t: obj(l,t) − obj(l,t') + λ·(shortfall removed at t −
    shortfall added at t'); the loan must fit t. Earlier levels' loans are never touched.
    """
    p = book.problem
    lam = float(p.shortfall_penalty)
    done = 0
    for t in sorted(by_trade) if trades is None else trades.tolist():
        cand = by_trade[t]
        for _ in range(MOVE_ROUNDS):
            short_t = max(int(book.min_need[t] - book.fill[t]), 0)
            if book.fill[t] >= book.cap[t]:
                break
            loans = p.pair_loan[cand]
            cur = book.pair_of_loan[loans]
            ok = cur >= 0
            ok[ok] = (p.pair_level[cur[ok]] == level) & (p.pair_trade[cur[ok]] != t)
            if not ok.any():
                break
            pairs, cur, loans = cand[ok], cur[ok], loans[ok]
            a = book.amount[loans]
            fits = a <= book.cap[t] - book.fill[t]
            if not fits.any():
                break
            pairs, cur, loans, a = pairs[fits], cur[fits], loans[fits], a[fits]
            src = p.pair_trade[cur]
            short_src = np.maximum(book.min_need[src] - book.fill[src], 0)
            added = np.maximum(book.min_need[src] - (book.fill[src] - a), 0) - short_src
            gain = (p.pair_objective_cents[pairs] - p.pair_objective_cents[cur]
                    + lam * (np.minimum(a, short_t) - added))
            best = _argbest(gain, a, loans)
            if not gain[best] > 0.5:
                break
            book.remove(int(loans[best]))
            book.place(int(pairs[best]))
            done += 1
    return done
