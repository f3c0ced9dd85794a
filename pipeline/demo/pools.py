"""Existing pools and lockdowns: the pooling the desk has already done before the run.

- about a third of the open TBA/SPEC trades already have pools of closed loans that fit them
  (15–60% of the trade), split into pools of at most $20M; a third of those pools are locked;
- every Closed TBA/SPEC trade keeps a pool of loans that must now switch or leave, and one pool of
  shipped (inactive) loans stays locked on a Closed trade;
- one open trade, mostly delivered, holds a locked pool larger than its window (reported OverLocked);
- a few warehouse pools have no trade; the first is locked, so its loans are pinned to no trade.
Lockdown rows exist for every locked pool (true) and for some unlocked ones (false: no effect).
"""

from __future__ import annotations

import numpy as np

from pipeline.demo.loans import NO_DATE, LoanArrays
from pipeline.demo.trades import Trade

POOL_CHUNK_CENTS = 20_000_000 * 100
PREFIX = {"FNMA": "FN", "FHLMC": "FR", "GNMA": "G2"}


class PoolBook:
    def __init__(self) -> None:
        self.pools: list[tuple[str, str | None]] = []
        self.lockdowns: list[tuple[str, bool]] = []
        self._seq = 0

    def add(self, loans: LoanArrays, members: np.ndarray, trade: Trade | None, locked: bool | None) -> None:
        """Pool `members` (split into $20M chunks); `locked` None = no lockdown row."""
        chunk = np.cumsum(loans.amount_cents[members]) // POOL_CHUNK_CENTS
        for c in np.unique(chunk).tolist():
            self._seq += 1
            prefix = PREFIX.get(trade.inst.investor_id, "WH") if trade else "WH"
            name = f"{prefix}-{self._seq:05d}"
            loans.pool[members[chunk == c]] = name
            self.pools.append((name, trade.trade_id if trade else None))
            if locked is not None:
                self.lockdowns.append((name, locked))


def build_pools(rng: np.random.Generator, loans: LoanArrays, trades: list[Trade], horizon_days: int = 60) -> PoolBook:
    book = PoolBook()
    avail = loans.available
    poolable = loans.closed & (avail != NO_DATE) & (avail <= 0)

    def free(cands: np.ndarray) -> np.ndarray:
        c = cands[poolable[cands] & (loans.pool[cands] == "")]
        return c[rng.permutation(len(c))]

    def take(cands: np.ndarray, target_cents: float) -> np.ndarray:
        c = free(cands)
        n = int(np.searchsorted(np.cumsum(loans.amount_cents[c]), target_cents, side="right"))
        return c[: max(n, 1 if len(c) else 0)]

    agency = [t for t in trades if t.inst.type != "CASH"]
    open_in_horizon = [t for t in agency if t.status == "Open" and t.settle_day <= horizon_days]
    over = open_in_horizon[int(rng.integers(len(open_in_horizon)))] if open_in_horizon else None
    if over is not None:
        # mostly delivered already: what is left of the trade is smaller than its locked pool
        members = take(over.candidates, over.amount_cents * rng.uniform(0.3, 0.6))
        if len(members):
            locked_cents = int(loans.amount_cents[members].sum())
            over.amount_cents = max(1, int(locked_cents * 0.8 / (1 + over.tolerance_pct / 100)))
            book.add(loans, members, over, locked=True)

    for t in agency:
        if t is over:
            continue
        if t.status == "Closed":
            members = take(t.candidates, t.amount_cents * rng.uniform(0.1, 0.3))
            if len(members):
                book.add(loans, members, t, locked=None)
            continue
        if rng.random() >= 0.35:
            continue
        members = take(t.candidates, t.amount_cents * rng.uniform(0.15, 0.6))
        if len(members):
            r = rng.random()
            book.add(loans, members, t, locked=True if r < 0.33 else (False if r < 0.55 else None))

    closed_agency = [t for t in agency if t.status == "Closed"]
    if closed_agency:
        t = closed_agency[0]
        shipped = np.flatnonzero((loans.stage == "Shipped") & np.isin(loans.product, t.inst.products) & (loans.pool == ""))
        if len(shipped):
            book.add(loans, shipped[rng.permutation(len(shipped))][:15], t, locked=True)

    for k in range(max(3, len(trades) // 40)):
        c = free(np.flatnonzero(poolable))
        members = c[: int(rng.integers(3, 13))]
        if len(members):
            book.add(loans, members, None, locked=True if k == 0 else (False if k == 1 else None))
    return book
