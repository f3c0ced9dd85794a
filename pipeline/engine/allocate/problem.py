"""The allocation problem and result (the contract with the `allocation` step), and level views.

An `AllocationProblem` is pure data in integer cents: loans, trades with open capacity and the
need below which shortfall counts, and the candidate pairs with their constraint level and
objective value. `LevelProblem` is P_k of ENGINE.md §5 step 4 for one level given what earlier
levels hold; both allocators, the quality figures and the tests build it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AllocationProblem:
    loan_ids: list[str]  # sorted; index = loan index
    loan_amount_cents: np.ndarray  # int64 per loan
    trade_ids: list[str]  # sorted; index = trade index
    trade_capacity_cents: np.ndarray  # int64 per trade: open capacity (0 for OverLocked)
    trade_min_need_cents: np.ndarray  # int64 per trade: max(0, min - locked)
    pair_loan: np.ndarray  # int32 per candidate pair
    pair_trade: np.ndarray  # int32
    pair_level: np.ndarray  # int32 constraint priority of the pair (lower solved first)
    pair_objective_cents: np.ndarray  # int64 objective value of placing the loan there
    shortfall_penalty: float  # λ: objective cost per dollar a trade ends below its minimum

    @property
    def n_loans(self) -> int:
        return len(self.loan_ids)

    @property
    def n_trades(self) -> int:
        return len(self.trade_ids)

    @property
    def n_pairs(self) -> int:
        return int(len(self.pair_loan))

    def levels(self) -> list[int]:
        return [int(v) for v in np.unique(self.pair_level)]

    def validate(self) -> None:
        """Reject malformed input early: the solvers assume these shapes and uniqueness."""
        n_l, n_t, n_p = self.n_loans, self.n_trades, self.n_pairs
        if len(self.loan_amount_cents) != n_l:
            raise ValueError("loan_amount_cents must have one entry per loan")
        if len(self.trade_capacity_cents) != n_t or len(self.trade_min_need_cents) != n_t:
            raise ValueError("trade arrays must have one entry per trade")
        for name in ("pair_trade", "pair_level", "pair_objective_cents"):
            if len(getattr(self, name)) != n_p:
                raise ValueError(f"{name} must have one entry per pair")
        if n_p:
            if self.pair_loan.min() < 0 or self.pair_loan.max() >= n_l:
                raise ValueError("pair_loan out of range")
            if self.pair_trade.min() < 0 or self.pair_trade.max() >= n_t:
                raise ValueError("pair_trade out of range")
            keys = np.sort(pair_keys(self.pair_loan, self.pair_trade, n_t))
            if (keys[1:] == keys[:-1]).any():
                raise ValueError("a (loan, trade) pair appears twice")
        if (np.asarray(self.loan_amount_cents) < 0).any():
            raise ValueError("loan amounts must be non-negative")
        if (np.asarray(self.trade_capacity_cents) < 0).any() or (
            np.asarray(self.trade_min_need_cents) < 0
        ).any():
            raise ValueError("trade capacity and min need must be non-negative")
        if not self.shortfall_penalty >= 0:
            raise ValueError("shortfall_penalty must be >= 0")


@dataclass(frozen=True)
class AllocationResult:
    loan_trade: np.ndarray  # int32 per loan: trade index or -1
    metrics: dict = field(default_factory=dict)


def pair_keys(pair_loan: np.ndarray, pair_trade: np.ndarray, n_trades: int) -> np.ndarray:
    return pair_loan.astype(np.int64) * max(n_trades, 1) + pair_trade.astype(np.int64)


def pair_of_allocation(problem: AllocationProblem, loan_trade: np.ndarray) -> np.ndarray:
    """Pair index used by each loan of an allocation (-1 = unallocated); rejects non-candidates."""
    loan_trade = np.asarray(loan_trade, dtype=np.int64)
    out = np.full(problem.n_loans, -1, dtype=np.int64)
    placed = np.flatnonzero(loan_trade >= 0)
    if len(placed) == 0:
        return out
    keys = pair_keys(problem.pair_loan, problem.pair_trade, problem.n_trades)
    order = np.argsort(keys, kind="stable")
    want = placed.astype(np.int64) * max(problem.n_trades, 1) + loan_trade[placed]
    pos = np.searchsorted(keys[order], want)
    pos = np.minimum(pos, len(order) - 1)
    found = keys[order][pos] == want
    if not found.all():
        bad = placed[~found][0]
        raise ValueError(f"loan {problem.loan_ids[bad]} is allocated to a non-candidate trade")
    out[placed] = order[pos]
    return out


@dataclass
class LevelProblem:
    """P_k: the level-k pairs whose loan no earlier level holds, with what is left of each trade.

    `pairs` are indices into the problem's pair arrays after pruning (docs/allocation.md):
    a pair is dropped when its loan exceeds the trade's remaining capacity, or when
    obj + λ·min(amount, need) < 0 (placing it can never pay, even counting the shortfall it
    removes). Both rules drop only pairs that no feasible-and-optimal integer solution uses.
    """

    level: int
    pairs: np.ndarray  # int64 pair indices, ascending
    candidate_pairs: int  # level-k pairs with a free loan, before pruning
    cap_cents: np.ndarray  # int64 per trade: open capacity minus earlier levels' fill
    need_cents: np.ndarray  # int64 per trade: max(0, min need - earlier fill) = S_{k-1}
    is_first: bool  # the lowest level of the problem carries the whole shortfall baseline


def earlier_fill(problem: AllocationProblem, pair_of_loan: np.ndarray, level: int) -> np.ndarray:
    """Per trade: cents placed by pairs of levels below `level`."""
    placed = pair_of_loan[pair_of_loan >= 0]
    placed = placed[problem.pair_level[placed] < level]
    return np.bincount(
        problem.pair_trade[placed],
        weights=problem.loan_amount_cents[problem.pair_loan[placed]],
        minlength=problem.n_trades,
    ).astype(np.int64) if len(placed) else np.zeros(problem.n_trades, dtype=np.int64)


def build_level(problem: AllocationProblem, level: int, pair_of_loan: np.ndarray) -> LevelProblem:
    """P_k given the allocation of the earlier levels in `pair_of_loan` (later levels ignored)."""
    fill = earlier_fill(problem, pair_of_loan, level)  # exact: cents sums stay below 2**53
    cap = np.asarray(problem.trade_capacity_cents, dtype=np.int64) - fill
    need = np.maximum(np.asarray(problem.trade_min_need_cents, dtype=np.int64) - fill, 0)
    held = pair_of_loan >= 0
    held_level = np.full(problem.n_loans, np.iinfo(np.int64).max, dtype=np.int64)
    held_level[held] = problem.pair_level[pair_of_loan[held]]
    mask = (problem.pair_level == level) & (held_level[problem.pair_loan] >= level)
    cand = np.flatnonzero(mask)
    amount = problem.loan_amount_cents[problem.pair_loan[cand]].astype(np.int64)
    trade = problem.pair_trade[cand]
    obj = problem.pair_objective_cents[cand].astype(np.float64)
    fits = amount <= cap[trade]
    pays = obj + problem.shortfall_penalty * np.minimum(amount, need[trade]).astype(np.float64) >= 0
    keep = cand[fits & pays]
    return LevelProblem(
        level=level,
        pairs=keep.astype(np.int64),
        candidate_pairs=int(len(cand)),
        cap_cents=cap,
        need_cents=need,
        is_first=level == min(problem.levels(), default=level),
    )

