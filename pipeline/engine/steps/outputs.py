"""Reading a run's earlier outputs back (steps 4–6 read these, not the inputs, where they can).

Small tables come back as dicts of Decimals through SQLAlchemy. The candidate table (~800K rows
at 100K loans) and the loan scope (one row per loan) are read raw — driver values, no per-value
type processing — and scaled to exact integers column-wise: SQLite returns the REAL nearest to
each stored decimal (scaling and rounding recovers it exactly, see `pipeline.engine.exact.scaled`),
other drivers a Decimal. Both are also handed over in-process by the step that wrote them
(`handoff`); these readers serve a run resumed in a fresh process, with identical arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.types import NullType

from pipeline.db import schema as S
from pipeline.engine.exact import CENT, MICRO, scaled_array

FETCH = 50_000


def rows_of(conn: Connection, table, run_id: str, order_by: tuple[str, ...]) -> list[dict]:
    cols = [table.c[c] for c in order_by]
    result = conn.execute(select(table).where(table.c.run_id == run_id).order_by(*cols))
    keys = list(result.keys())
    return [dict(zip(keys, r)) for r in result.all()]


def _raw_rows(conn: Connection, query):
    """The query's rows as driver tuples, in batches (SQLAlchemy's per-row wrapping costs more
    than the fetch)."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(FETCH):
            yield batch
    finally:
        cursor.close()


@dataclass
class LoanScope:
    """A run's pfill_loan_scope as columns, in loan_id order (candidate indices point here)."""

    loan_ids: list[str]
    scope: list[str]
    amount_c: np.ndarray
    note_u: np.ndarray
    pool: list[str | None]          # current_pool_name
    pool_trade: list[str | None]    # current_pool_trade_id
    candidate_count: np.ndarray
    fail_reason: list[str | None]
    fail_trade: list[str | None]

    def __len__(self) -> int:
        return len(self.loan_ids)


def read_scope(conn: Connection, run_id: str) -> LoanScope:
    c = S.loan_scope.c
    q = (select(c.loan_id, c.scope, type_coerce(c.loan_amount, NullType()), type_coerce(c.note_rate, NullType()),
                c.current_pool_name, c.current_pool_trade_id, c.candidate_count, c.fail_reason, c.fail_trade_id)
         .where(c.run_id == run_id).order_by(c.loan_id))
    rows = [r for batch in _raw_rows(conn, q) for r in batch]
    rows.sort(key=lambda r: r[0])  # Python's order, never the database collation's
    cols = list(zip(*rows)) if rows else [()] * 9
    return LoanScope(list(cols[0]), list(cols[1]), scaled_array(list(cols[2]), CENT), scaled_array(list(cols[3]), MICRO),
                     list(cols[4]), list(cols[5]), np.array(cols[6], dtype=np.int64), list(cols[7]), list(cols[8]))


@dataclass
class CandidateArrays:
    """The run's candidate pairs, in (loan_id, trade_id) order, as indices and exact integers."""

    loan: np.ndarray        # index into the given loan ids
    trade: np.ndarray       # index into the given trade ids
    constraint: np.ndarray  # index into `constraint_names`
    constraint_names: list[str]
    level: np.ndarray
    price_e8: np.ndarray
    servicing_e8: np.ndarray
    carry_e8: np.ndarray
    value_e8: np.ndarray
    objective_c: np.ndarray
    rank: np.ndarray

    def __len__(self) -> int:
        return len(self.loan)


def read_candidates(conn: Connection, run_id: str, loan_index: dict[str, int], trade_index: dict[str, int]) -> CandidateArrays:
    c = S.candidates.c
    raw = [type_coerce(col, NullType()) for col in (c.price, c.servicing_value, c.carry, c.value, c.objective_value)]
    q = (select(c.loan_id, c.trade_id, c.constraint_name, c.level, c.candidate_rank, *raw)
         .where(c.run_id == run_id).order_by(c.loan_id, c.trade_id))
    names: dict[str, int] = {}
    cols: list[list] = [[] for _ in range(10)]
    for batch in _raw_rows(conn, q):
        loan_id, trade_id, cons, level, rank, price, serv, carry, value, obj = zip(*batch)
        cols[0].append(np.array([loan_index[x] for x in loan_id], dtype=np.int64))
        cols[1].append(np.array([trade_index[x] for x in trade_id], dtype=np.int64))
        cols[2].append(np.array([names.setdefault(x, len(names)) for x in cons], dtype=np.int64))
        cols[3].append(np.array(level, dtype=np.int64))
        cols[4].append(np.array(rank, dtype=np.int64))
        for k, (vals, places) in enumerate(((price, 8), (serv, 8), (carry, 8), (value, 8), (obj, 2)), 5):
            cols[k].append(scaled_array(list(vals), places))
    arr = [np.concatenate(x) if x else np.zeros(0, dtype=np.int64) for x in cols]
    # the database's collation orders ids; re-sort by index so order never depends on it
    order = np.lexsort((arr[1], arr[0]))
    arr = [a[order] for a in arr]
    return CandidateArrays(arr[0], arr[1], arr[2], list(names), arr[3], arr[5], arr[6], arr[7], arr[8], arr[9], arr[4])
