"""The level LP (and MILP) built column-wise and solved with HiGHS through `highspy`.

Model of one component of P_k (ENGINE.md §5 step 4), maximised:
  columns  x_p ∈ [0, 1] per pair, objective obj_p dollars;
           s_t ≥ 0 per trade with need > 0 (shortfall, $M), objective −λ·10^6 dollars per $M
  rows     Σ_p∈loan x_p ≤ 1                  for loans with two or more pairs in the component
           need_t ≤ Σ_p∈t a_p x_p + s_t ≤ cap_t  ($M), one ranged row per trade
The ranged row is exact: at an optimum s_t = max(0, need_t − fill_t) and need_t ≤ cap_t, so it
states both the capacity and the shortfall definition. Amounts are scaled to millions and the
objective to dollars to keep HiGHS' absolute tolerances meaningful (1e-7 · $1M = 10 cents).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from pipeline.engine.allocate.problem import AllocationProblem, LevelProblem

MONEY_UNIT = 1e8  # cents per $M: the unit of amounts in the model
SEED = 20240917  # fixed random_seed: HiGHS is deterministic given model, options and seed


@dataclass
class LpOutcome:
    x: np.ndarray  # per pair of the component, in the component's pair order
    shortfall_cents: np.ndarray  # per component trade (float cents)
    objective_dollars: float  # Σ obj x − λ Σ s over the component (dollars)
    status: str  # "optimal", "time_limit", "iteration_limit", "node_limit", or a HiGHS status
    iterations: int
    seconds: float
    bound_extra_cents: float = 0.0  # pricing.py: Lagrangian bound minus objective when not proven optimal
    rounds: int = 1  # pricing rounds (LP solves)
    columns: int = 0  # pair columns in the final model
    trade_duals: np.ndarray | None = None  # pricing.py: per component trade, the trade rows' duals


_banner_lock = threading.Lock()
_banner_done = False


def new_highs() -> highspy.Highs:
    """A quiet HiGHS instance. The library prints its banner to stdout (fd 1, from C++) on the
    first construction in a process, which would corrupt JSON printed by the CLI; that one
    construction runs with fd 1 pointed at /dev/null."""
    global _banner_done
    with _banner_lock:
        if not _banner_done:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_done = True
        else:
            h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def highspy_version() -> str:
    return str(new_highs().version())


def pair_columns(problem: AllocationProblem, pairs: np.ndarray, trades: np.ndarray):
    """The model's per-pair columns: loan index, position of its trade in `trades`, amount in $M,
    objective in dollars (one place, so every LP of the package is stated in the same units)."""
    loan = problem.pair_loan[pairs].astype(np.int64)
    trade_pos = np.searchsorted(trades, problem.pair_trade[pairs])
    amount = problem.loan_amount_cents[loan].astype(np.float64) / MONEY_UNIT
    obj = problem.pair_objective_cents[pairs].astype(np.float64) / 100.0
    return loan, trade_pos, amount, obj


def solve_component(
    problem: AllocationProblem,
    lvl: LevelProblem,
    pairs: np.ndarray,
    trades: np.ndarray,
    *,
    integer: bool = False,
    time_limit_s: float = 60.0,
    iteration_limit: int | None = None,
    node_limit: int | None = None,
    options: dict | None = None,
) -> LpOutcome:
    """Solve the LP (or MILP with `integer`) of P_k restricted to `pairs` over `trades`."""
    start = time.perf_counter()
    n_p = len(pairs)
    lam = float(problem.shortfall_penalty)
    loan, trade_pos, amount, obj = pair_columns(problem, pairs, trades)

    # loan rows only where a loan has a choice; single-pair loans are bounded by x ≤ 1 alone
    uniq, inverse, counts = np.unique(loan, return_inverse=True, return_counts=True)
    multi = counts[inverse] > 1
    loan_row = np.cumsum(counts > 1) - 1
    n_loan_rows = int((counts > 1).sum())
    trade_rows = n_loan_rows + np.arange(len(trades))

    need = lvl.need_cents[trades].astype(np.float64) / MONEY_UNIT
    cap = lvl.cap_cents[trades].astype(np.float64) / MONEY_UNIT
    s_trades = np.flatnonzero(need > 0)
    n_s = len(s_trades)

    rows = np.concatenate([loan_row[inverse][multi], trade_rows[trade_pos], trade_rows[s_trades]])
    cols = np.concatenate([np.flatnonzero(multi), np.arange(n_p), n_p + np.arange(n_s)])
    vals = np.concatenate([np.ones(int(multi.sum())), amount, np.ones(n_s)])
    n_rows = n_loan_rows + len(trades)
    a = sp.csc_matrix((vals, (rows, cols)), shape=(n_rows, n_p + n_s))
    a.sort_indices()

    lp = highspy.HighsLp()
    lp.num_col_ = n_p + n_s
    lp.num_row_ = n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([obj, np.full(n_s, -lam * MONEY_UNIT / 100.0)])
    lp.col_lower_ = np.zeros(n_p + n_s)
    lp.col_upper_ = np.concatenate([np.ones(n_p), np.full(n_s, highspy.kHighsInf)])
    lp.row_lower_ = np.concatenate([np.full(n_loan_rows, -highspy.kHighsInf), need])
    lp.row_upper_ = np.concatenate([np.ones(n_loan_rows), cap])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_p + [highspy.HighsVarType.kContinuous] * n_s

    h = new_highs()
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", SEED)
    h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    if iteration_limit is not None:
        h.setOptionValue("simplex_iteration_limit", int(iteration_limit))
    if integer:
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1.0)  # $1: the objective is in dollars
        # measured on residual MILPs: sub-MIP heuristics and presolve cost more than they find
        for key in ("mip_heuristic_run_rins", "mip_heuristic_run_rens",
                    "mip_heuristic_run_feasibility_jump"):
            h.setOptionValue(key, False)
        h.setOptionValue("presolve", "off")
        if node_limit is not None:
            h.setOptionValue("mip_max_nodes", int(node_limit))
    else:
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("presolve", "off")  # measured: presolve finds little in these LPs and costs time
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    h.run()
    status = _status_name(h)
    sol = h.getSolution()
    info = h.getInfo()
    has_primal = bool(getattr(sol, "value_valid", True)) and len(sol.col_value) == n_p + n_s
    if has_primal:
        col = np.asarray(sol.col_value, dtype=np.float64)
        x = np.clip(col[:n_p], 0.0, 1.0)
        s_cents = np.zeros(len(trades))
        s_cents[s_trades] = np.maximum(col[n_p:], 0.0) * MONEY_UNIT
        objective = float(info.objective_function_value)
    else:
        x = np.zeros(n_p)
        s_cents = np.maximum(lvl.need_cents[trades].astype(np.float64), 0.0)
        objective = float("nan")
        if status == "optimal":
            status = "no_solution"
    iters = int(info.simplex_iteration_count) if not integer else int(info.mip_node_count)
    return LpOutcome(x, s_cents, objective, status, iters, time.perf_counter() - start)


def _status_name(h: highspy.Highs) -> str:
    st = h.getModelStatus()
    ms = highspy.HighsModelStatus
    if st == ms.kOptimal:
        return "optimal"
    if st == ms.kTimeLimit:
        return "time_limit"
    if st == ms.kIterationLimit:
        return "iteration_limit"
    if st == getattr(ms, "kSolutionLimit", None):
        return "node_limit"
    return h.modelStatusToString(st).lower().replace(" ", "_")
