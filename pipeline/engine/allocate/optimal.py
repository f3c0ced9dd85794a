"""The `optimal` allocator: per level, LP relaxation → rounding → repair → sweep, MILP on small parts.

For each level in ascending order (ENGINE.md §5 step 4):
  P_k is built from what earlier levels hold (problem.build_level), split into independent
  components; each batch is solved as an LP with HiGHS. A batch of at most MILP_DIRECT_PAIRS
  pairs is then solved as a MILP (gap 0, absolute gap $1, node cap) and its integer answer used
  directly; larger batches are rounded and repaired (repair.py). The level ends with a sweep of
  its own pairs, so later levels and the final sweep never change what it holds — which is why
  the LP solved here is exactly the conditional bound_k of the quality figures.
Work is bounded by simplex iteration and node caps (deterministic); the wall-clock deadline only
stops a runaway solve: a component left without an LP solution is placed by the greedy rule,
then repaired like the others, and its bound is Lagrangian (pricing.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pipeline.engine.allocate.book import Book, value_order
from pipeline.engine.allocate.components import split
from pipeline.engine.allocate.greedy import take_in_order
from pipeline.engine.allocate.lp import solve_component
from pipeline.engine.allocate.pricing import solve_priced
from pipeline.engine.allocate.problem import AllocationProblem, LevelProblem, build_level
from pipeline.engine.allocate.repair import (
    FRACTIONAL,
    INTEGRAL,
    moves,
    pairs_by_trade,
    place_integral,
    round_solution,
    swaps,
    window_fill,
)
from pipeline.engine.allocate.sweep import sweep

MILP_DIRECT_PAIRS = 400  # components this small are solved exactly as a MILP
MILP_NODE_LIMIT = 500
# a direct MILP of a whole small component can be a hard multi-knapsack (measured: 128 pairs over
# 3 trades still open after 500 nodes, 1 s); past this many nodes it keeps its best answer
MILP_DIRECT_NODE_LIMIT = 100
REPAIR_PASSES = 2  # rounds of (fill, swaps, moves): a deterministic work limit
RESIDUAL_MAX_PAIRS = 80  # a residual MILP larger than this is cut into trade blocks
# per trade a split loan touches: held loans the residual MILP may release, and free candidates
# it may bring in (0 = off: measured not worth its MILP time next to the moves/swaps repair)
NEIGHBOUR_HELD = 0
NEIGHBOUR_FREE = 0


@dataclass
class LevelSolve:
    level: int
    pairs: int  # level pairs after pruning
    candidate_pairs: int
    components: int
    batches: int
    lp_objective: float  # Σ over batches (dollars): the LP optimum, or its Lagrangian bound if stopped
    lp_value_cents: float  # Σ obj·x of the LP solution (+ the Lagrangian excess when not proven optimal)
    lp_shortfall_cents: np.ndarray  # per trade: the LP's shortfall (need for trades with no pairs)
    fractional_pairs: int
    milp_batches: int
    polished_loans: int
    swaps: int
    statuses: list[str] = field(default_factory=list)
    stopped: bool = False
    lp_seconds: float = 0.0
    polish_seconds: float = 0.0
    seconds: float = 0.0
    snapshot: np.ndarray | None = None  # pair_of_loan before the level: detects later changes
    lp_exact: bool = True  # the bound is the LP optimum (else a Lagrangian bound: the solve was stopped)
    lp_rounds: int = 0  # LP solves over all components (pricing rounds)


def optimal_allocate(
    problem: AllocationProblem,
    deadline: float,
    cancel_check: Callable[[], None] | None = None,
) -> tuple[Book, list[LevelSolve]]:
    book = Book(problem)
    reports = []
    for level in problem.levels():
        if cancel_check:
            cancel_check()
        reports.append(solve_level(book, level, deadline, cancel_check))
    sweep(book)
    book.check()
    return book, reports


def solve_level(
    book: Book, level: int, deadline: float, cancel_check: Callable[[], None] | None = None
) -> LevelSolve:
    start = time.perf_counter()
    p = book.problem
    snapshot = book.pair_of_loan.copy()
    lvl = build_level(p, level, book.pair_of_loan)
    comps = split(p, lvl.pairs)
    x = np.zeros(len(lvl.pairs))
    lp_short = lvl.need_cents.astype(np.float64).copy()
    lp_obj = 0.0
    lp_value = 0.0  # Σ obj·x of the LP, cents
    statuses: list[str] = []
    stopped = False
    milp_batches = 0
    lp_seconds = 0.0
    exact: list[np.ndarray] = []  # batches answered by the MILP: pairs chosen
    unsolved: list[np.ndarray] = []  # batches the safety stop left without an LP solution
    lp_exact = True  # every component's LP proven optimal (else its bound is Lagrangian)
    rounds = 0
    for comp in comps:
        if cancel_check:
            cancel_check()
        pos = np.searchsorted(lvl.pairs, comp.pairs)
        out = solve_priced(p, lvl, comp.pairs, comp.trades, time_limit_s=deadline - time.monotonic())
        lp_seconds += out.seconds
        rounds += out.rounds
        statuses.append(out.status)
        stopped = stopped or out.status == "time_limit"
        lp_exact = lp_exact and out.status == "optimal"
        lp_value += out.bound_extra_cents  # 0 when proven optimal: see pricing.py
        if out.objective_dollars != out.objective_dollars:  # no LP solution (stopped): greedy takes it
            lp_short[comp.trades] = 0.0
            unsolved.append(comp.pairs)
            continue
        lp_obj += out.objective_dollars + out.bound_extra_cents / 100.0
        lp_short[comp.trades] = out.shortfall_cents
        lp_value += float(np.dot(p.pair_objective_cents[comp.pairs].astype(np.float64), out.x))
        x[pos] = out.x
        integral = not ((out.x > 1e-6) & (out.x < 1 - 1e-6)).any()  # then the LP answer is the MILP's
        if len(comp.pairs) <= MILP_DIRECT_PAIRS and out.status == "optimal" and not integral:
            mip = solve_component(
                p, lvl, comp.pairs, comp.trades, integer=True,
                time_limit_s=max(deadline - time.monotonic(), 0.01), node_limit=MILP_DIRECT_NODE_LIMIT,
            )
            if mip.status == "time_limit":
                stopped = True
            if mip.objective_dollars == mip.objective_dollars and len(mip.x):  # has a solution
                exact.append(comp.pairs[mip.x > 0.5])
                milp_batches += 1
                x[pos] = 0.0  # this batch is placed from the MILP, not rounded
    for pairs in unsolved:  # the greedy rule, so that the repair starts from a full book
        take_in_order(book, value_order(p, pairs), float(p.shortfall_penalty))
    for chosen in exact:
        for pair in value_order(p, chosen).tolist():
            loan, t = int(p.pair_loan[pair]), int(p.pair_trade[pair])
            if book.pair_of_loan[loan] < 0 and book.fill[t] + book.amount[loan] <= book.cap[t]:
                book.place(pair)
    n_frac = int(((x > 1e-6) & (x < 1 - 1e-6)).sum())
    t_polish = time.perf_counter()
    polished, polish_stopped = polish_residual(book, lvl, x, deadline)
    stopped = stopped or polish_stopped
    polish_seconds = time.perf_counter() - t_polish
    round_solution(book, lvl.pairs, x)
    by_trade = pairs_by_trade(book, lvl.pairs)
    level_trades = np.fromiter(by_trade, dtype=np.int64)
    n_swaps = 0
    focus = level_trades
    for _ in range(REPAIR_PASSES):
        before = book.fill.copy()
        window_fill(book, by_trade, value=True, trades=focus)
        focus = focus[book.fill[focus] < book.cap[focus]]
        changed = swaps(book, by_trade, focus) + moves(book, by_trade, level, trades=focus)
        n_swaps += changed
        # the next pass looks only at trades whose fill changed in this one
        focus = level_trades[book.fill[level_trades] != before[level_trades]]
        if not changed or len(focus) == 0:
            break
    window_fill(book, by_trade, value=True, trades=focus)
    sweep(book, lvl.pairs)
    book.check()
    return LevelSolve(
        level=level,
        pairs=len(lvl.pairs),
        candidate_pairs=lvl.candidate_pairs,
        components=sum(c.parts for c in comps),
        batches=len(comps),
        lp_objective=lp_obj,
        lp_value_cents=lp_value,
        lp_shortfall_cents=lp_short,
        fractional_pairs=n_frac,
        polish_seconds=polish_seconds,
        milp_batches=milp_batches,
        polished_loans=polished,
        swaps=n_swaps,
        statuses=statuses,
        stopped=stopped,
        lp_seconds=lp_seconds,
        seconds=time.perf_counter() - start,
        snapshot=snapshot,
        lp_exact=lp_exact,
        lp_rounds=rounds,
    )


def polish_residual(book: Book, lvl: LevelProblem, x: np.ndarray, deadline: float) -> tuple[int, bool]:
    """Place the LP's integral pairs, then decide the fractional loans by a MILP.

    The residual problem holds the loans the LP split (all their level pairs), against what the
    integral part leaves of each trade's capacity and minimum; it is small (a few hundred loans)
    and splits into small components. Returns the number of residual loans and whether a MILP hit
    the safety stop; their pairs' x is zeroed so rounding leaves them alone, and whatever the MILP
    does not place stays for repair.
    """
    p = book.problem
    place_integral(book, lvl.pairs, x)
    frac = (x > FRACTIONAL) & (x < INTEGRAL)
    loans = np.unique(p.pair_loan[lvl.pairs[frac]])
    loans = loans[book.pair_of_loan[loans] < 0]
    if len(loans) == 0:
        return 0, False
    lp_loan = p.pair_loan[lvl.pairs]
    lp_trade = p.pair_trade[lvl.pairs]
    in_res = np.isin(lp_loan, loans)
    # neighbourhood of each trade a split loan touches: its lowest-value held loans of this
    # level (released, to be re-decided) and its best free candidates, each by that one pair
    touched = np.isin(lp_trade, np.unique(lp_trade[frac]))
    held = touched & (book.pair_of_loan[lp_loan] == lvl.pairs)
    free = touched & (book.pair_of_loan[lp_loan] < 0) & ~in_res
    out_pairs = _extreme_per_trade(p, lvl.pairs[held], NEIGHBOUR_HELD, worst=True)
    in_pairs = _extreme_per_trade(p, lvl.pairs[free], NEIGHBOUR_FREE, worst=False)
    for loan in p.pair_loan[out_pairs].tolist():
        book.remove(loan)
    pairs = np.concatenate([lvl.pairs[in_res], out_pairs, in_pairs])
    xr = np.concatenate([x[in_res], np.ones(len(out_pairs)), np.zeros(len(in_pairs))])
    order = np.argsort(pairs, kind="stable")
    pairs, xr = pairs[order], xr[order]
    t = p.pair_trade[pairs]
    fits = book.amount[p.pair_loan[pairs]] <= book.cap[t] - book.fill[t]
    pairs, xr = pairs[fits], xr[fits]
    x[np.isin(lp_loan, np.concatenate([loans, p.pair_loan[out_pairs], p.pair_loan[in_pairs]]))] = 0.0
    residual = LevelProblem(
        level=lvl.level, pairs=pairs, candidate_pairs=len(pairs),
        cap_cents=book.cap - book.fill, need_cents=np.maximum(book.min_need - book.fill, 0),
        is_first=lvl.is_first,
    )
    stopped = False
    for chunk in _bounded_parts(p, pairs, xr, RESIDUAL_MAX_PAIRS):
        trades = np.unique(p.pair_trade[chunk]).astype(np.int64)
        mip = solve_component(
            p, residual, chunk, trades, integer=True,
            time_limit_s=max(deadline - time.monotonic(), 0.01), node_limit=MILP_NODE_LIMIT,
        )
        stopped = stopped or mip.status == "time_limit"
        if mip.objective_dollars != mip.objective_dollars:  # no integer solution: leave to repair
            continue
        for pair in value_order(p, chunk[mip.x > 0.5]).tolist():
            loan, tr = int(p.pair_loan[pair]), int(p.pair_trade[pair])
            if book.pair_of_loan[loan] < 0 and book.fill[tr] + book.amount[loan] <= book.cap[tr]:
                book.place(pair)
    return int(len(loans)), stopped



def _bounded_parts(p: AllocationProblem, pairs: np.ndarray, xr: np.ndarray, limit: int) -> list[np.ndarray]:
    """Independent parts of the residual of at most about `limit` pairs each.

    Components no larger than `limit` are kept (batched); a larger one is cut into blocks of
    consecutive trades holding about `limit` pairs, and a loan keeps only its pairs in the block
    of its largest-x pair, so blocks stay independent. Deterministic: depends on indices and x.
    """
    parts: list[np.ndarray] = []
    for comp in split(p, pairs, batch_pairs=limit):
        cp = comp.pairs
        if len(cp) <= limit:
            parts.append(cp)
            continue
        xc = xr[np.searchsorted(pairs, cp)]
        trade = p.pair_trade[cp].astype(np.int64)
        uniq, inv, counts = np.unique(trade, return_inverse=True, return_counts=True)
        block_of_trade = (np.cumsum(counts) - counts) // limit
        block = block_of_trade[inv]
        loan = p.pair_loan[cp].astype(np.int64)
        order = np.lexsort((trade, -xc, loan))  # per loan: largest x first, then lowest trade
        first = np.ones(len(order), dtype=bool)
        first[1:] = loan[order][1:] != loan[order][:-1]
        home = dict(zip(loan[order][first].tolist(), block[order][first].tolist()))
        keep = block == np.array([home[int(l)] for l in loan.tolist()])
        for b in np.unique(block[keep]).tolist():
            parts.append(cp[keep & (block == b)])
    return parts


def _extreme_per_trade(p: AllocationProblem, pairs: np.ndarray, n: int, worst: bool) -> np.ndarray:
    """Per trade, the n pairs of lowest (`worst`) or highest objective value per dollar."""
    if len(pairs) == 0 or n <= 0:
        return pairs[:0]
    ordered = value_order(p, pairs)
    if worst:
        ordered = ordered[::-1]
    trade = p.pair_trade[ordered]
    order = np.argsort(trade, kind="stable")
    ordered, trade = ordered[order], trade[order]
    rank = np.arange(len(trade)) - np.searchsorted(trade, trade, side="left")
    return np.sort(ordered[rank < n])
