"""Small allocation problems for the tests, and a brute-force solver of one level.

`book(...)` builds an AllocationProblem from readable tuples (dollars → cents); `brute_level`
enumerates every assignment of P_k's free loans given the earlier levels of an allocation and
returns the best obj_k in the convention of docs/allocation.md (cents).
"""

from __future__ import annotations

import numpy as np

from pipeline.engine.allocate import AllocationProblem


def book(loans: dict[str, float], trades: dict[str, tuple[float, float]],
         pairs: list[tuple[str, str, int, float]], penalty: float = 1.0) -> AllocationProblem:
    """loans: id → amount ($); trades: id → (capacity $, min need $);
    pairs: (loan, trade, level, objective $)."""
    loan_ids = sorted(loans)
    trade_ids = sorted(trades)
    li = {k: i for i, k in enumerate(loan_ids)}
    ti = {k: i for i, k in enumerate(trade_ids)}
    rows = sorted((li[l], ti[t], lv, round(o * 100)) for l, t, lv, o in pairs)
    return AllocationProblem(
        loan_ids=loan_ids,
        loan_amount_cents=np.array([round(loans[k] * 100) for k in loan_ids], dtype=np.int64),
        trade_ids=trade_ids,
        trade_capacity_cents=np.array([round(trades[k][0] * 100) for k in trade_ids], dtype=np.int64),
        trade_min_need_cents=np.array([round(trades[k][1] * 100) for k in trade_ids], dtype=np.int64),
        pair_loan=np.array([r[0] for r in rows], dtype=np.int32),
        pair_trade=np.array([r[1] for r in rows], dtype=np.int32),
        pair_level=np.array([r[2] for r in rows], dtype=np.int32),
        pair_objective_cents=np.array([r[3] for r in rows], dtype=np.int64),
        shortfall_penalty=penalty,
    )


def level_of_allocation(p: AllocationProblem, loan_trade: np.ndarray) -> np.ndarray:
    """Per loan: the level of the pair it sits on (a large number when unallocated)."""
    out = np.full(p.n_loans, 10**9)
    for i in range(p.n_pairs):
        if loan_trade[p.pair_loan[i]] == p.pair_trade[i]:
            out[p.pair_loan[i]] = p.pair_level[i]
    return out


def brute_level(p: AllocationProblem, loan_trade: np.ndarray, level: int) -> float:
    """Best obj_k (cents) over every integer assignment of P_k given loan_trade's earlier levels."""
    lam = p.shortfall_penalty
    lv = level_of_allocation(p, loan_trade)
    amount = p.loan_amount_cents.astype(int)
    fill = [0] * p.n_trades
    for l in range(p.n_loans):
        if lv[l] < level:
            fill[loan_trade[l]] += int(amount[l])
    need = [int(x) for x in p.trade_min_need_cents]
    cap = [int(x) for x in p.trade_capacity_cents]
    first = level == min(p.levels())
    base = 0.0 if first else lam * sum(max(need[t] - fill[t], 0) for t in range(p.n_trades))
    options: dict[int, list[tuple[int, int]]] = {}
    for i in range(p.n_pairs):
        l = int(p.pair_loan[i])
        if p.pair_level[i] == level and lv[l] >= level:
            options.setdefault(l, []).append((int(p.pair_trade[i]), int(p.pair_objective_cents[i])))
    loans = sorted(options)
    best = -float("inf")

    def dfs(i: int, value: int) -> None:
        nonlocal best
        if i == len(loans):
            short = sum(max(need[t] - fill[t], 0) for t in range(p.n_trades))
            best = max(best, value - lam * short + base)
            return
        dfs(i + 1, value)
        l = loans[i]
        for t, o in options[l]:
            if fill[t] + amount[l] <= cap[t]:
                fill[t] += int(amount[l])
                dfs(i + 1, value + o)
                fill[t] -= int(amount[l])

    dfs(0, 0)
    return best


def assert_invariants(p: AllocationProblem, loan_trade: np.ndarray) -> None:
    """Each loan once on a candidate, capacities in cents, and the sweep invariant (7)."""
    cand = {(int(l), int(t)): int(o) for l, t, o in zip(p.pair_loan, p.pair_trade, p.pair_objective_cents)}
    fill = np.zeros(p.n_trades, dtype=np.int64)
    for l, t in enumerate(loan_trade.tolist()):
        if t >= 0:
            assert (l, t) in cand, f"loan {l} on non-candidate trade {t}"
            fill[t] += p.loan_amount_cents[l]
    assert (fill <= p.trade_capacity_cents).all()
    for (l, t), o in cand.items():
        if loan_trade[l] < 0 and o > 0:
            assert fill[t] + p.loan_amount_cents[l] > p.trade_capacity_cents[t], (
                f"sweep: loan {l} fits trade {t} with positive value"
            )


def random_book(n_loans: int, n_trades: int, seed: int, penalty: float = 1.0) -> AllocationProblem:
    """A mid-size random book (about 6 pairs per loan, 3 levels, values 98-104, capacities ~70%
    of supply, minimums 95-100% of the maximum)."""
    rng = np.random.default_rng(seed)
    amount = np.round(rng.lognormal(np.log(300_000), 0.45, n_loans) * 100).astype(np.int64)
    per_loan = np.minimum(rng.poisson(6, n_loans) + 1, n_trades)
    loans, trades = [], []
    for l, k in enumerate(per_loan.tolist()):
        trades.extend(sorted(rng.choice(n_trades, size=k, replace=False).tolist()))
        loans.extend([l] * k)
    pair_loan = np.array(loans, dtype=np.int32)
    pair_trade = np.array(trades, dtype=np.int32)
    value = rng.uniform(98.5, 103, n_trades)[pair_trade] + rng.normal(0, 0.6, len(pair_loan))
    obj = np.round(amount[pair_loan] * (value - 100) / 100).astype(np.int64)
    weights = rng.uniform(0.5, 1.5, n_trades)
    size = weights / weights.sum() * 0.7 * amount.sum()
    tol = rng.uniform(0, 0.025, n_trades)
    return AllocationProblem(
        loan_ids=[f"L{i:05d}" for i in range(n_loans)],
        loan_amount_cents=amount,
        trade_ids=[f"T{i:03d}" for i in range(n_trades)],
        trade_capacity_cents=np.round(size * (1 + tol)).astype(np.int64),
        trade_min_need_cents=np.round(size * (1 - tol)).astype(np.int64),
        pair_loan=pair_loan,
        pair_trade=pair_trade,
        pair_level=rng.choice([1, 2, 3], size=len(pair_loan), p=[0.3, 0.3, 0.4]).astype(np.int32),
        pair_objective_cents=obj,
        shortfall_penalty=penalty,
    )
