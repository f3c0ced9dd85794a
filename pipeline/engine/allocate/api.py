"""`allocate`: run one allocator on an AllocationProblem and measure the answer's quality.

`optimal` also runs `greedy` (its objective is reported as `greedy_objective`) and returns
greedy's allocation when that scores higher (`fallback_greedy`, logged FALLBACK_GREEDY by the
step). Everything in `metrics` except `timings` is deterministic for a given problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from pipeline.engine.allocate.greedy import greedy_allocate
from pipeline.engine.allocate.lp import highspy_version
from pipeline.engine.allocate.optimal import LevelSolve, optimal_allocate
from pipeline.engine.allocate.problem import AllocationProblem, AllocationResult
from pipeline.engine.allocate.quality import (
    dollars,
    level_entry,
    level_figures,
    level_lp,
    objective_cents,
    summarize,
)

METHODS = ("optimal", "greedy")


def allocate(
    problem: AllocationProblem,
    *,
    method: str = "optimal",
    time_limit_s: float = 60.0,
    cancel_check: Callable[[], None] | None = None,
) -> AllocationResult:
    if method not in METHODS:
        raise ValueError(f"unknown allocator {method!r}; expected one of {METHODS}")
    problem.validate()
    started = time.perf_counter()
    deadline = time.monotonic() + float(time_limit_s)
    timings: dict = {}

    t0 = time.perf_counter()
    greedy_book = greedy_allocate(problem, cancel_check)
    greedy_book.check()
    timings["greedy_seconds"] = round(time.perf_counter() - t0, 3)
    greedy_obj = objective_cents(problem, greedy_book.pair_of_loan)

    solves: dict[int, LevelSolve] = {}
    fallback = False
    stopped = False
    book = greedy_book
    if method == "optimal":
        t0 = time.perf_counter()
        opt_book, reports = optimal_allocate(problem, deadline, cancel_check)
        timings["optimal_seconds"] = round(time.perf_counter() - t0, 3)
        timings["levels"] = [
            {"level": r.level, "lp_seconds": round(r.lp_seconds, 3),
             "polish_seconds": round(r.polish_seconds, 3), "seconds": round(r.seconds, 3)}
            for r in reports
        ]
        stopped = any(r.stopped for r in reports)
        if objective_cents(problem, opt_book.pair_of_loan) >= greedy_obj:
            book = opt_book
            solves = {r.level: r for r in reports}
        else:
            fallback = True

    t0 = time.perf_counter()
    figures, entries = [], []
    levels = problem.levels()
    for level in levels:
        if cancel_check:
            cancel_check()
        solve = solves.get(level)
        reusable = solve is not None and solve.lp_objective is not None and _same_earlier(
            problem, solve.snapshot, book.pair_of_loan, level
        )
        if reusable:
            lp_value, lp_short = solve.lp_value_cents, solve.lp_shortfall_cents
            status = "optimal" if solve.lp_exact else _worst(solve.statuses)
        else:
            lp_value, lp_short, status, shape = level_lp(problem, book.pair_of_loan, level, deadline)
            stopped = stopped or status == "time_limit"
        f = level_figures(problem, book.pair_of_loan, level, level == levels[0], lp_value, lp_short)
        figures.append(f)
        extra = {"lp_status": status}
        if status != "optimal" and lp_value is not None:
            extra["bound_note"] = ("LP not proven optimal (solver_time_limit_s or iteration cap): bound_k is the "
                                   "Lagrangian bound of its last duals, valid but looser than the LP optimum")
        if not reusable:
            extra.update(shape)
        else:
            extra.update(
                pairs=solve.pairs, candidate_pairs=solve.candidate_pairs,
                components=solve.components, fractional_pairs=solve.fractional_pairs,
                milp_batches=solve.milp_batches, polished_loans=solve.polished_loans, swaps=solve.swaps,
                lp_rounds=solve.lp_rounds,
            )
        entries.append(level_entry(level, f, extra))
    timings["bound_seconds"] = round(time.perf_counter() - t0, 3)

    metrics = summarize(problem, book.pair_of_loan, figures)
    metrics.update(
        greedy_objective=dollars(greedy_obj),
        allocator=method,
        solver_stopped=bool(stopped),
        fallback_greedy=fallback,
        levels=entries,
        highspy_version=highspy_version(),
    )
    timings["total_seconds"] = round(time.perf_counter() - started, 3)
    metrics["timings"] = timings
    return AllocationResult(loan_trade=book.loan_trade(), metrics=metrics)


def _worst(statuses: list[str]) -> str:
    """The level's LP status: the first non-optimal component status, else optimal."""
    return next((st for st in statuses if st != "optimal"), "optimal")


def _same_earlier(problem: AllocationProblem, before: np.ndarray | None, final: np.ndarray, level: int) -> bool:
    """Whether the final allocation's levels below `level` are exactly what the solve saw."""
    if before is None:
        return False

    def earlier(pol: np.ndarray) -> np.ndarray:
        out = pol.copy()
        held = out >= 0
        out[held & (problem.pair_level[np.maximum(out, 0)] >= level)] = -1
        return out

    return bool(np.array_equal(earlier(before), earlier(final)))
