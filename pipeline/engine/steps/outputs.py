"""Reading a run's earlier outputs back (steps 4–6 read these, not the inputs, where they can).

Small tables come back as dicts of Decimals through SQLAlchemy. The candidate table (~800K rows
at 100K loans) is read raw — driver values, no per-value type processing — and scaled to exact
integers column-wise: SQLite returns the REAL nearest to each stored decimal (scaling and
rounding recovers it exactly, see `pipeline.engine.exact.scaled`), other drivers a Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.types import NullType

from pipeline.db import schema as S
from pipeline.engine.exact import scaled_array

FETCH = 50_000


def rows_of(conn: Connection, table, run_id: str, order_by: tuple[str, ...]) -> list[dict]:
    cols = [table.c[c] for c in order_by]
    result = conn.execute(select(table).where(table.c.run_id == run_id).order_by(*cols))
    keys = list(result.keys())
    return [dict(zip(keys, r)) for r in result.all()]


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
    # the driver's cursor directly: SQLAlchemy's per-row result wrapping costs more than the fetch
    sql = str(q.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.cursor()
    cursor.execute(sql)
    while batch := cursor.fetchmany(FETCH):
        loan_id, trade_id, cons, level, rank, price, serv, carry, value, obj = zip(*batch)
        cols[0].append(np.array([loan_index[x] for x in loan_id], dtype=np.int64))
        cols[1].append(np.array([trade_index[x] for x in trade_id], dtype=np.int64))
        cols[2].append(np.array([names.setdefault(x, len(names)) for x in cons], dtype=np.int64))
        cols[3].append(np.array(level, dtype=np.int64))
        cols[4].append(np.array(rank, dtype=np.int64))
        for k, (vals, places) in enumerate(((price, 8), (serv, 8), (carry, 8), (value, 8), (obj, 2)), 5):
            cols[k].append(scaled_array(list(vals), places))
    cursor.close()
    arr = [np.concatenate(x) if x else np.zeros(0, dtype=np.int64) for x in cols]
    # the database's collation orders ids; re-sort by index so order never depends on it
    order = np.lexsort((arr[1], arr[0]))
    arr = [a[order] for a in arr]
    return CandidateArrays(arr[0], arr[1], arr[2], list(names), arr[3], arr[5], arr[6], arr[7], arr[8], arr[9], arr[4])
