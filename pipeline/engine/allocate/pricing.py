"""The level LP solved by pricing (column generation), and the Lagrangian bound it certifies.

The LP of a level component (lp.py's model) has a column per candidate pair, but at an optimum a
loan uses one (or, split, two) of its trades. So the LP is first solved over a restricted set of
columns — each loan's INITIAL_PER_LOAN best pairs and each trade's INITIAL_PER_TRADE best, "best"
by objective less the loan's amount at an estimated price of each trade (the trade duals of the
same LP over a sample of the loans) — with every loan and trade row present. The duals then
price every left-out pair: reduced cost rc_p = obj_p − u_loan − amount_p·w_trade. Pairs with
rc_p > 0 enter and the LP is re-solved from its basis (HiGHS keeps it across addCols), until no pair prices out: the restricted optimum is then the optimum of the full LP,
so the objective is exactly the LP bound the quality figures need. After MAX_ROUNDS rounds every
remaining pair enters, so the answer never depends on wall time.

Whatever the duals (u ≥ 0, w), weak duality bounds the full LP:
    L(u, w) = Σ_loans u + Σ_trades (w·cap if w ≥ 0 else w·need) + Σ_pairs max(0, rc_p)
(w ≥ −λ where a shortfall column exists); for given trade prices w the best u is each loan's
best pair, max(0, max_p obj_p − amount_p·w_t), which leaves every rc_p ≤ 0. When the safety stop interrupts the rounds, the last
optimal restricted solution and L of its duals are kept, so the run still has a valid (looser)
bound; with no optimal round at all, L of the sample's trade prices (else w = 0), each loan at
its best pair, still gives one.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from pipeline.engine.allocate.lp import MONEY_UNIT, SEED, LpOutcome, _status_name, new_highs, pair_columns
from pipeline.engine.allocate.problem import AllocationProblem, LevelProblem

INITIAL_PER_LOAN = 3
INITIAL_PER_TRADE = 10
MAX_ROUNDS = 25  # pricing rounds before all remaining columns enter: a deterministic limit
PRICE_TOL = 1e-7  # dollars of reduced cost below which a column does not enter
ITERATIONS_PER_ELEMENT = 50  # simplex iteration cap per solve = this × (rows + columns)
SAMPLE_ABOVE = 30_000  # pairs: a larger component first solves the LP of a sample of its loans
SAMPLE_EVERY_MAX = 8  # the sample: one loan in every 2..8 (by loan index) ...
SAMPLE_LOANS_PER_TRADE = 12  # ... so that it holds about this many loans per trade


def _rank_within(group: np.ndarray, key: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Rank (0 = largest key) of each element within its group; ties on `tie` ascending."""
    order = np.lexsort((tie, -key, group))
    g = group[order]
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - np.searchsorted(g, g, side="left")
    return rank


def solve_priced(
    problem: AllocationProblem,
    lvl: LevelProblem,
    pairs: np.ndarray,
    trades: np.ndarray,
    *,
    time_limit_s: float,
    max_rounds: int = MAX_ROUNDS,
    sample: bool = True,
) -> LpOutcome:
    start = time.perf_counter()
    deadline = time.monotonic() + max(float(time_limit_s), 0.01)
    n_p = len(pairs)
    lam = float(problem.shortfall_penalty)
    loan, trade_pos, amount, obj = pair_columns(problem, pairs, trades)

    uniq, inverse, counts = np.unique(loan, return_inverse=True, return_counts=True)
    has_row = counts > 1
    n_loan_rows = int(has_row.sum())
    loan_row = np.where(has_row, np.cumsum(has_row) - 1, -1)[inverse]  # -1: one pair, x ≤ 1 suffices
    trade_row = n_loan_rows + trade_pos
    n_rows = n_loan_rows + len(trades)
    need = lvl.need_cents[trades].astype(np.float64) / MONEY_UNIT
    cap = lvl.cap_cents[trades].astype(np.float64) / MONEY_UNIT
    s_trades = np.flatnonzero(need > 0)
    n_s = len(s_trades)
    s_cost = -lam * MONEY_UNIT / 100.0  # dollars per $M of shortfall

    idx = np.arange(n_p)
    w_est = _estimate_trade_duals(problem, lvl, pairs, trades, uniq, inverse, amount, deadline) if sample else None
    score = obj / np.maximum(amount, 1e-12) if w_est is None else obj - amount * w_est[trade_pos]
    chosen = (_rank_within(inverse, score, idx) < INITIAL_PER_LOAN) | (
        _rank_within(trade_pos, score, idx) < INITIAL_PER_TRADE
    )

    def columns(sel: np.ndarray):
        """CSC pieces of the pair columns `sel` (positions): loan row (if any), then trade row."""
        multi = loan_row[sel] >= 0
        nnz = 1 + multi.astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(nnz)[:-1]]).astype(np.int32)
        index = np.empty(int(nnz.sum()), dtype=np.int32)
        value = np.empty(len(index))
        index[starts[multi]] = loan_row[sel][multi]
        value[starts[multi]] = 1.0
        last = starts + nnz - 1
        index[last] = trade_row[sel]
        value[last] = amount[sel]
        return starts, index, value

    sel = np.flatnonzero(chosen)
    starts, index, value = columns(sel)
    # shortfall columns first (fixed positions), then pair columns in the order they enter
    lp = highspy.HighsLp()
    lp.num_col_ = n_s + len(sel)
    lp.num_row_ = n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.full(n_s, s_cost), obj[sel]])
    lp.col_lower_ = np.zeros(n_s + len(sel))
    lp.col_upper_ = np.concatenate([np.full(n_s, highspy.kHighsInf), np.ones(len(sel))])
    lp.row_lower_ = np.concatenate([np.full(n_loan_rows, -highspy.kHighsInf), need])
    lp.row_upper_ = np.concatenate([np.ones(n_loan_rows), cap])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate([np.arange(n_s), starts + n_s, [n_s + len(index)]]).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([(n_loan_rows + s_trades).astype(np.int32), index])
    lp.a_matrix_.value_ = np.concatenate([np.ones(n_s), value])

    h = new_highs()
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", SEED)
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("presolve", "off")  # measured: presolve finds little here, and warm starts need it off
    # measured on the real books: without cost perturbation the dual simplex takes 30% fewer
    # iterations and half the time (the costs are already varied enough to avoid stalling)
    h.setOptionValue("dual_simplex_cost_perturbation_multiplier", 0.0)
    h.passModel(lp)

    col_of_pair = np.full(n_p, -1, dtype=np.int64)
    col_of_pair[sel] = n_s + np.arange(len(sel))
    in_model = chosen.copy()
    best = None  # (x per pair, s per trade in $M, objective, row duals) of the last optimal solve
    status = "optimal"
    iterations = rounds = 0
    converged = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            status = "time_limit"
            break
        h.setOptionValue("time_limit", remaining)
        h.setOptionValue("simplex_iteration_limit", int(ITERATIONS_PER_ELEMENT * (n_rows + n_p + n_s)))
        h.run()
        rounds += 1
        info = h.getInfo()
        iterations += int(info.simplex_iteration_count)
        status = _status_name(h)
        if status != "optimal":
            break
        sol = h.getSolution()
        col = np.asarray(sol.col_value, dtype=np.float64)
        y = np.asarray(sol.row_dual, dtype=np.float64)
        x = np.zeros(n_p)
        x[in_model] = np.clip(col[col_of_pair[in_model]], 0.0, 1.0)
        s = np.zeros(len(trades))
        s[s_trades] = np.maximum(col[:n_s], 0.0)
        u = _loan_duals(obj, amount, loan_row, trade_row, y, inverse, len(uniq), in_model)
        best = (x, s, float(info.objective_function_value), y)
        rc = obj - u[inverse] - amount * y[trade_row]
        enter = ~in_model & (rc > PRICE_TOL)
        if not enter.any():
            converged = True
            break
        if rounds >= max_rounds:
            enter = ~in_model  # the deterministic cap: finish with every column
        add = np.flatnonzero(enter)
        a_starts, a_index, a_value = columns(add)
        h.addCols(len(add), obj[add], np.zeros(len(add)), np.ones(len(add)), len(a_index),
                  a_starts, a_index, a_value)
        col_of_pair[add] = h.getNumCol() - len(add) + np.arange(len(add))
        in_model[add] = True

    if best is None:
        # no optimal solve: the sample's trade prices (else w = 0), each loan at its best pair
        w = np.zeros(len(trades)) if w_est is None else w_est
        lag = lagrangian_bound(obj, amount, inverse, len(uniq), trade_pos, w, cap, need, s_trades, s_cost)
        return LpOutcome(
            x=np.zeros(n_p), shortfall_cents=np.zeros(len(trades)), objective_dollars=float("nan"),
            status=status, iterations=iterations, seconds=time.perf_counter() - start,
            bound_extra_cents=lag * 100.0, rounds=rounds, columns=int(in_model.sum()),
        )
    x, s, primal, y = best
    extra = 0.0
    if not converged:
        lag = lagrangian_bound(obj, amount, inverse, len(uniq), trade_pos, y[n_loan_rows:], cap, need, s_trades,
                               s_cost)
        extra = max(lag - primal, 0.0) * 100.0
    return LpOutcome(
        x=x, shortfall_cents=s * MONEY_UNIT, objective_dollars=primal, status=status,
        iterations=iterations, seconds=time.perf_counter() - start, bound_extra_cents=extra,
        rounds=rounds, columns=int(in_model.sum()), trade_duals=y[n_loan_rows:].copy(),
    )


def lagrangian_bound(obj, amount, inverse, n_loans, trade_pos, w, cap, need, s_trades, s_cost) -> float:
    """L(u, w) of the module docstring (dollars; amounts, cap, need in $M; w per $M): an upper
    bound on the LP for any trade prices w. w is first clipped to ≥ s_cost (= −λ) where a
    shortfall column exists (else that column is unbounded); u is then the best for w — each
    loan's best pair, obj − amount·w, or 0 — which makes every reduced cost ≤ 0."""
    w = np.asarray(w, dtype=np.float64).copy()
    w[s_trades] = np.maximum(w[s_trades], s_cost)
    u = np.zeros(n_loans)
    np.maximum.at(u, inverse, obj - amount * w[trade_pos])
    return float(u.sum() + np.where(w >= 0, w * cap, w * need).sum())


def _loan_duals(obj, amount, loan_row, trade_row, y, inverse, n_loans, in_model) -> np.ndarray:
    """Per loan: a dual u ≥ 0, optimal for the restricted LP, carrying the loan's value.

    HiGHS may put a loan's value on the bound x ≤ 1 of a column instead of on the loan's row
    (always so when the loan has one column in the model). Moving it to the row — u = max(row
    dual, max over the loan's columns in the model of obj − amount·w) — keeps the duals optimal
    (a column at its upper bound makes the row tight) and prices the loan's other pairs against
    what it already earns.
    """
    base = obj - amount * y[trade_row]
    u = np.zeros(n_loans)
    has = loan_row >= 0
    u[inverse[has]] = y[loan_row[has]]
    best = np.full(n_loans, -np.inf)
    np.maximum.at(best, inverse[in_model], base[in_model])
    return np.maximum(np.maximum(u, best), 0.0)


def _estimate_trade_duals(problem, lvl, pairs, trades, uniq, inverse, amount, deadline):
    """Trade prices from the LP over a sample of the loans against proportionally scaled windows.

    They only choose the initial columns (deterministically); optimality is still decided by
    pricing every column against the real duals."""
    # about SAMPLE_LOANS_PER_TRADE sampled loans per trade: fewer make the trade prices too coarse
    every = int(np.clip(len(uniq) // (SAMPLE_LOANS_PER_TRADE * max(len(trades), 1)), 2, SAMPLE_EVERY_MAX))
    if len(pairs) <= SAMPLE_ABOVE or len(uniq) < 4 * every:
        return None
    sampled = (np.arange(len(uniq)) % every) == 0
    sub = sampled[inverse]
    loan_amount = np.zeros(len(uniq))
    loan_amount[inverse] = amount
    share = float(loan_amount[sampled].sum() / max(loan_amount.sum(), 1e-12))
    sub_lvl = LevelProblem(
        level=lvl.level, pairs=pairs[sub], candidate_pairs=int(sub.sum()),
        cap_cents=np.floor(lvl.cap_cents * share).astype(np.int64),
        need_cents=np.floor(lvl.need_cents * share).astype(np.int64), is_first=lvl.is_first,
    )
    out = solve_priced(problem, sub_lvl, pairs[sub], trades, time_limit_s=deadline - time.monotonic(), sample=False)
    return out.trade_duals
