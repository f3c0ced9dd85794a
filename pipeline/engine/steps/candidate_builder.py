"""Step 3, `candidate_builder`: every eligible (loan, trade) pair into
pfill_loan2trade_candy_level_01, and the run's loan facts into pfill_loan_scope.

pfill_loan_scope is what lets the later steps read outputs only (docs/engine.md): one row per
active-stage loan that is in scope, pinned (locked pool) or currently pooled, with its amount,
note rate, available date, current pool and that pool's trade, and — for an in-scope loan with
no candidate — the kickout reason and trade that explain it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from pipeline.db import schema as S
from pipeline.engine.book import Book
from pipeline.engine.candidates import PairSet, build_pairs
from pipeline.engine.eligibility import Scoped, in_scope_trades, loan_scope, test_name
from pipeline.engine.exact import CENT, MICRO, to_decimal
from pipeline.engine.runner import RunContext, Step, StepOutput
from pipeline.engine.steps.bulk import CHUNK, insert_tuples, number_writer
from pipeline.statuses import RunStatus

NO_AVAILABLE_DATE = "NO_AVAILABLE_DATE"
NO_IN_SCOPE_TRADE = "NO_IN_SCOPE_TRADE"

CANDIDATE_COLUMNS = (
    "run_id", "tenant_id", "loan_id", "trade_id", "constraint_name", "level", "loan_amount", "price",
    "servicing_value", "carry", "carry_matched", "value", "objective_value", "candidate_rank",
)


class CandidateRows:
    """The candidate rows as arrays; turned into driver tuples chunk by chunk at write time."""

    def __init__(self, pairs: PairSet, loan_ids: list[str], amount_c: np.ndarray):
        self.pairs, self.loan_ids, self.amount_c = pairs, loan_ids, amount_c

    def __len__(self) -> int:
        return len(self.pairs)

    def chunks(self, dialect: str, run_id: str, tenant_id: str) -> Iterator[list[tuple]]:
        p = self.pairs
        e8, cents = number_writer(dialect, 8), number_writer(dialect, CENT)
        trade_ids = [t.trade_id for t in p.trades]
        for a in range(0, len(p), CHUNK):
            s = slice(a, a + CHUNK)
            loans = p.loan[s].tolist()
            yield list(zip(
                [run_id] * len(loans), [tenant_id] * len(loans), [self.loan_ids[i] for i in loans],
                [trade_ids[i] for i in p.trade[s].tolist()], [p.constraints[i][2] for i in p.constraint[s].tolist()],
                p.level[s].tolist(), cents(self.amount_c[p.loan[s]]), e8(p.price_e8[s]), e8(p.servicing_e8[s]),
                e8(p.carry_e8[s]), p.carry_matched[s].tolist(), e8(p.value_e8[s]), cents(p.objective_c[s]),
                p.rank[s].tolist(),
            ))


class CandidateBuilder(Step):
    name = "candidate_builder"
    run_status = RunStatus.PRE_PROCESSING
    tables = (S.loan_scope, S.candidates)

    def compute(self, ctx: RunContext) -> StepOutput:
        with ctx.engine.connect() as conn:
            book = Book(conn, ctx.tenant_id)
            scope = loan_scope(book, ctx.options)
            trades = in_scope_trades(book, ctx.options)
            pairs = build_pairs(book, scope.in_scope, trades, ctx.options, ctx.check_cancelled)
            constraints = book.constraints
        loans = book.loans
        ctx.check_cancelled()
        counts = np.bincount(pairs.loan, minlength=loans.n)
        scope_rows = _scope_rows(book, scope, pairs, counts)
        instrument_keys = sorted({t.instrument_key for t in trades})
        per_constraint = dict.fromkeys(("|".join(c) for c in pairs.constraints), 0)
        for cid, n in zip(*np.unique(pairs.constraint, return_counts=True)):
            per_constraint["|".join(pairs.constraints[cid])] = int(n)
        matched = int(pairs.carry_matched.sum())
        metrics = {
            "constraint_count": sum(len(constraints[k]) for k in instrument_keys),
            "candidate_count": len(pairs),
            "carry_matched": matched,
            "carry_missed": len(pairs) - matched,
            "candidates_per_constraint": per_constraint,
            "loans_in_scope": int(scope.in_scope.sum()),
            "loans_pinned": sum(1 for lab in scope.label if lab == Scoped.PINNED),
        }
        return StepOutput(rows={S.loan_scope: scope_rows, S.candidates: CandidateRows(pairs, loans.ids, loans.amount_c)},
                          metrics=metrics)

    def write(self, conn: Connection, ctx: RunContext, output: StepOutput) -> None:
        for table in self.tables:
            conn.execute(delete(table).where(table.c.run_id == ctx.run_id))
        scope_rows = output.rows[S.loan_scope]
        for a in range(0, len(scope_rows), CHUNK):
            conn.execute(insert(S.loan_scope), [{**r, "run_id": ctx.run_id, "tenant_id": ctx.tenant_id}
                                                for r in scope_rows[a:a + CHUNK]])
        rows: CandidateRows = output.rows[S.candidates]
        insert_tuples(conn, S.candidates, CANDIDATE_COLUMNS, rows.chunks(conn.dialect.name, ctx.run_id, ctx.tenant_id))


def _scope_rows(book: Book, scope, pairs: PairSet, counts: np.ndarray) -> list[dict]:
    loans = book.loans
    n_t = len(pairs.trades)
    rows = []
    for i, label in enumerate(scope.label):
        if label is None:
            continue
        reason = fail_trade = None
        if label in (Scoped.CLOSED, Scoped.LOCKED) and counts[i] == 0:
            if loans.available[i] is None:
                reason = NO_AVAILABLE_DATE
            elif n_t == 0:
                reason = NO_IN_SCOPE_TRADE
            else:
                score = int(pairs.fail_score[i])
                trade = pairs.trades[n_t - 1 - score % n_t]
                reason = test_name(score // n_t, book.instruments[trade.instrument_key].type)
                fail_trade = trade.trade_id
        rows.append({
            "loan_id": loans.ids[i], "scope": label, "loan_amount": to_decimal(loans.amount_c[i], CENT),
            "note_rate": to_decimal(loans.note_u[i], MICRO), "available_date": loans.available[i],
            "current_pool_name": loans.pool[i], "current_pool_trade_id": scope.pool_trade[i],
            "pool_locked": bool(scope.pool_locked[i]), "candidate_count": int(counts[i]),
            "fail_reason": reason, "fail_trade_id": fail_trade,
        })
    return rows
