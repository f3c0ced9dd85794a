"""Independent components of a level: trades that share no candidate loan, with their pairs.

Components come from `scipy.sparse.csgraph.connected_components` on the loan–trade bipartite
graph of the level's pairs; small ones are batched into one solve (the LP of a union of
independent blocks is the union of their LPs), in label order, so the grouping is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from pipeline.engine.allocate.problem import AllocationProblem


@dataclass
class Component:
    pairs: np.ndarray  # int64 pair indices, ascending
    trades: np.ndarray  # int64 trade indices, ascending
    parts: int  # how many independent components this batch holds


def split(problem: AllocationProblem, pairs: np.ndarray, batch_pairs: int = 20_000) -> list[Component]:
    if len(pairs) == 0:
        return []
    n_l = problem.n_loans
    loan = problem.pair_loan[pairs].astype(np.int64)
    trade = problem.pair_trade[pairs].astype(np.int64) + n_l
    n = n_l + problem.n_trades
    graph = sp.coo_matrix((np.ones(len(pairs), dtype=np.int8), (loan, trade)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    pair_label = labels[loan]
    order = np.lexsort((pairs, pair_label))
    sorted_labels = pair_label[order]
    cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
    groups = np.split(pairs[order], cuts)
    out: list[Component] = []
    pending: list[np.ndarray] = []
    pending_size = 0
    for g in groups:
        if len(g) >= batch_pairs:
            out.append(_component(problem, [g]))
            continue
        pending.append(g)
        pending_size += len(g)
        if pending_size >= batch_pairs:
            out.append(_component(problem, pending))
            pending, pending_size = [], 0
    if pending:
        out.append(_component(problem, pending))
    return out


def _component(problem: AllocationProblem, groups: list[np.ndarray]) -> Component:
    pairs = np.sort(np.concatenate(groups))
    trades = np.unique(problem.pair_trade[pairs]).astype(np.int64)
    return Component(pairs=pairs, trades=trades, parts=len(groups))
