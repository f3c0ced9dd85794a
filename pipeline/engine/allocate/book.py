"""The mutable allocation while an allocator works: which pair holds each loan, fill per trade.

Hot loops read plain Python lists (`amount`, `cap`, ...) because indexing numpy scalars one at a
time is several times slower; the arrays stay the source of truth for vectorised work.
"""

from __future__ import annotations

import numpy as np

from pipeline.engine.allocate.problem import AllocationProblem


class Book:
    def __init__(self, problem: AllocationProblem, pair_of_loan: np.ndarray | None = None):
        self.problem = problem
        self.pair_of_loan = (
            np.full(problem.n_loans, -1, dtype=np.int64)
            if pair_of_loan is None
            else np.array(pair_of_loan, dtype=np.int64)
        )
        self.amount = np.asarray(problem.loan_amount_cents, dtype=np.int64)
        self.cap = np.asarray(problem.trade_capacity_cents, dtype=np.int64)
        self.min_need = np.asarray(problem.trade_min_need_cents, dtype=np.int64)
        self.fill = np.zeros(problem.n_trades, dtype=np.int64)
        placed = self.pair_of_loan[self.pair_of_loan >= 0]
        np.add.at(self.fill, problem.pair_trade[placed], self.amount[problem.pair_loan[placed]])

    def place(self, pair: int) -> None:
        p = self.problem
        loan = int(p.pair_loan[pair])
        if self.pair_of_loan[loan] >= 0:
            raise AssertionError("loan already placed")
        self.pair_of_loan[loan] = pair
        self.fill[p.pair_trade[pair]] += self.amount[loan]

    def remove(self, loan: int) -> None:
        pair = int(self.pair_of_loan[loan])
        if pair < 0:
            return
        self.pair_of_loan[loan] = -1
        self.fill[self.problem.pair_trade[pair]] -= self.amount[loan]

    def loan_trade(self) -> np.ndarray:
        out = np.full(self.problem.n_loans, -1, dtype=np.int32)
        placed = self.pair_of_loan >= 0
        out[placed] = self.problem.pair_trade[self.pair_of_loan[placed]]
        return out

    def shortfall(self) -> np.ndarray:
        return np.maximum(self.min_need - self.fill, 0)

    def check(self) -> None:
        """Capacities are hard: re-checked in integer cents after every solve."""
        over = np.flatnonzero(self.fill > self.cap)
        if len(over):
            t = int(over[0])
            raise AssertionError(
                f"trade {self.problem.trade_ids[t]} over capacity: {self.fill[t]} > {self.cap[t]}"
            )


def value_order(problem: AllocationProblem, pairs: np.ndarray) -> np.ndarray:
    """`pairs` reordered by (objective value per dollar desc, amount desc, loan_id, trade_id)."""
    loan = problem.pair_loan[pairs]
    amount = problem.loan_amount_cents[loan].astype(np.float64)
    ratio = problem.pair_objective_cents[pairs] / np.maximum(amount, 1.0)
    order = np.lexsort((problem.pair_trade[pairs], loan, -amount, -ratio))
    return pairs[order]
