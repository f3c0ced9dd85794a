"""Independent re-solve of the level LP bounds, for `powerfill verify --optimality`.

Given an AllocationProblem and a final allocation (trade index per loan), rebuild every P_k of
ENGINE.md §5 step 4 from scratch — earlier levels as written, the pruning rule of
docs/allocation.md — and solve its LP with `scipy.optimize.linprog(method="highs")` on sparse
matrices. Nothing here is shared with `pipeline.engine.allocate` except the problem dataclass:
the model is stated differently (one row per loan, separate capacity and shortfall rows, every
trade with a need gets its shortfall column) so an error in either path shows as a mismatch.

bound_k (dollars) uses the convention of docs/allocation.md: the LP optimum of
Σ obj·x − λ·Σ_t s_t, plus λ·Σ_t S_{k-1}(t) for every level but the lowest, so the figures are
directly comparable with the `bound` of each entry in the allocator's `metrics["levels"]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from pipeline.engine.allocate.problem import AllocationProblem

TOLERANCE_DOLLARS = Decimal("1.00")


@dataclass(frozen=True)
class LevelBound:
    level: int
    pairs: int  # variables after pruning
    bound: float  # dollars
    status: str


def level_bounds(problem: AllocationProblem, loan_trade: np.ndarray) -> list[LevelBound]:
    """Per level, the LP bound of P_k given `loan_trade`'s earlier levels."""
    n_t = problem.n_trades
    lam = float(problem.shortfall_penalty)
    index = {
        (int(l), int(t)): i
        for i, (l, t) in enumerate(zip(problem.pair_loan.tolist(), problem.pair_trade.tolist()))
    }
    held_level = np.full(problem.n_loans, np.inf)
    held_trade = np.asarray(loan_trade, dtype=np.int64)
    for loan in np.flatnonzero(held_trade >= 0).tolist():
        pair = index.get((loan, int(held_trade[loan])))
        if pair is None:
            raise ValueError(f"loan {problem.loan_ids[loan]} sits on a non-candidate trade")
        held_level[loan] = problem.pair_level[pair]
    amounts = np.asarray(problem.loan_amount_cents, dtype=np.float64)
    levels = sorted({int(v) for v in problem.pair_level.tolist()})
    out = []
    for k in levels:
        earlier = held_level < k
        fill = np.zeros(n_t)
        for loan in np.flatnonzero(earlier).tolist():
            fill[held_trade[loan]] += amounts[loan]
        cap = problem.trade_capacity_cents.astype(np.float64) - fill
        need = np.maximum(problem.trade_min_need_cents.astype(np.float64) - fill, 0.0)
        base = 0.0 if k == levels[0] else lam * need.sum() / 100.0
        sel = np.flatnonzero(
            (problem.pair_level == k) & ~earlier[problem.pair_loan]
        )
        a = amounts[problem.pair_loan[sel]]
        t = problem.pair_trade[sel].astype(np.int64)
        obj = problem.pair_objective_cents[sel].astype(np.float64)
        keep = (a <= cap[t]) & (obj + lam * np.minimum(a, need[t]) >= 0)
        sel, a, t, obj = sel[keep], a[keep], t[keep], obj[keep]
        bound, status = _solve(problem.pair_loan[sel], a, t, obj, cap, need, lam, n_t)
        out.append(LevelBound(level=k, pairs=int(len(sel)), bound=float(bound + base), status=status))
    return out


def _solve(loan, a, t, obj, cap, need, lam, n_t) -> tuple[float, str]:
    """min −Σ obj x + λ Σ s  s.t. loan rows ≤ 1, capacity rows, shortfall rows (amounts in $K)."""
    n = len(loan)
    s_trades = np.flatnonzero(need > 0)
    n_s = len(s_trades)
    if n == 0:
        return -lam * need.sum() / 100.0, "optimal"
    scale = 1e5  # cents per $K
    _, loan_row = np.unique(loan, return_inverse=True)
    n_loans = int(loan_row.max()) + 1
    cols = np.arange(n)
    ones = sp.csr_matrix((np.ones(n), (loan_row, cols)), shape=(n_loans, n + n_s))
    capacity = sp.csr_matrix((a / scale, (t, cols)), shape=(n_t, n + n_s))
    s_pos = {int(tr): j for j, tr in enumerate(s_trades.tolist())}
    short_rows = np.array([s_pos.get(int(tr), -1) for tr in t.tolist()])
    m = short_rows >= 0
    shortfall = sp.csr_matrix(
        (np.concatenate([-a[m] / scale, -np.ones(n_s)]),
         (np.concatenate([short_rows[m], np.arange(n_s)]), np.concatenate([cols[m], n + np.arange(n_s)]))),
        shape=(n_s, n + n_s),
    )
    a_ub = sp.vstack([ones, capacity, shortfall]).tocsc()
    b_ub = np.concatenate([np.ones(n_loans), cap / scale, -need[s_trades] / scale])
    c = np.concatenate([-obj / 100.0, np.full(n_s, lam * scale / 100.0)])
    bounds = np.column_stack([np.zeros(n + n_s), np.concatenate([np.ones(n), np.full(n_s, np.inf)])])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        return float("nan"), str(res.message)
    # trades with a need but no pair still count their whole shortfall: their s is forced to need
    return float(-res.fun), "optimal"


def compare(stored_levels: list[dict], recomputed: list[LevelBound]) -> list[str]:
    """Mismatches (as sentences) between stored level bounds and the re-solve, beyond $1.

    A level whose LP was stopped by the safety limit (`lp_status` not optimal) stores a looser,
    still valid bound: it must not lie below the true LP optimum, but may lie above it."""
    problems = []
    stored = {int(e["level"]): e for e in stored_levels}
    for lb in recomputed:
        e = stored.get(lb.level)
        if e is None or e.get("bound") is None:
            problems.append(f"level {lb.level}: no stored bound (re-solve gives {lb.bound:.2f})")
            continue
        stored_bound, true_bound = Decimal(e["bound"]), Decimal(f"{lb.bound:.2f}")
        if e.get("lp_status", "optimal") != "optimal":
            if stored_bound < true_bound - TOLERANCE_DOLLARS:
                problems.append(f"level {lb.level}: stopped-LP bound {e['bound']} is below the LP optimum {lb.bound:.2f}")
            continue
        diff = abs(stored_bound - true_bound)
        if diff > TOLERANCE_DOLLARS:
            problems.append(
                f"level {lb.level}: stored bound {e['bound']} vs re-solve {lb.bound:.2f} (off by {diff})"
            )
    return problems
