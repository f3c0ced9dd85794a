"""Step 3, `candidate_builder`: every eligible (loan, trade) pair into
pfill_loan2trade_candy_level_01, and the run's loan facts into pfill_loan_scope.

pfill_loan_scope is what lets the later steps read outputs only (docs/engine.md): one row per
active-stage loan that is in scope, pinned (locked pool) or currently pooled, with its amount,
note rate, available date, current pool and that pool's trade, and — for an in-scope loan with
no candidate — the kickout reason and trade that explain it.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy.engine import Connection

from pipeline.db import schema as S
from pipeline.db.bulk import ColumnRows, Scaled, pick
from pipeline.engine.book import Book
from pipeline.engine.candidates import PairSet, build_pairs
from pipeline.engine.eligibility import Scoped, in_scope_trades, loan_scope, test_name
from pipeline.engine.exact import CENT, E8, MICRO
from pipeline.engine.runner import RunContext, Step, StepOutput
from pipeline.engine.steps import handoff
from pipeline.engine.steps.outputs import CandidateArrays, LoanScope
from pipeline.statuses import RunStatus

NO_AVAILABLE_DATE = "NO_AVAILABLE_DATE"
NO_IN_SCOPE_TRADE = "NO_IN_SCOPE_TRADE"


def candidate_rows(pairs: PairSet, loan_ids: list[str], amount_c: np.ndarray) -> ColumnRows:
    trade_ids = [t.trade_id for t in pairs.trades]
    return ColumnRows(len(pairs), {
        "loan_id": pick(loan_ids, pairs.loan), "trade_id": pick(trade_ids, pairs.trade),
        "constraint_name": pick([c[2] for c in pairs.constraints], pairs.constraint),
        "level": pairs.level.tolist(), "loan_amount": Scaled(amount_c[pairs.loan], CENT),
        "price": Scaled(pairs.price_e8, E8), "servicing_value": Scaled(pairs.servicing_e8, E8), "carry": Scaled(pairs.carry_e8, E8),
        "carry_matched": pairs.carry_matched.tolist(), "value": Scaled(pairs.value_e8, E8),
        "objective_value": Scaled(pairs.objective_c, CENT), "candidate_rank": pairs.rank.tolist(),
    })


def candidate_arrays(pairs: PairSet, scope_index: np.ndarray) -> CandidateArrays:
    """The pairs as `outputs.read_candidates` reads them back: loans indexed into the loan scope,
    constraints numbered by name in order of first appearance."""
    name_ids: dict[str, int] = {}
    by_name = np.array([name_ids.setdefault(c[2], len(name_ids)) for c in pairs.constraints], dtype=np.int64)
    named = by_name[pairs.constraint]
    ids, first = np.unique(named, return_index=True)
    order = ids[np.argsort(first)]
    renumber = np.zeros(len(name_ids), dtype=np.int64)
    renumber[order] = np.arange(len(order))
    names = list(name_ids)
    return CandidateArrays(
        scope_index[pairs.loan], pairs.trade.copy(), renumber[named], [names[k] for k in order.tolist()],
        pairs.level, pairs.price_e8, pairs.servicing_e8, pairs.carry_e8, pairs.value_e8, pairs.objective_c, pairs.rank)


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
        scoped, idx = _loan_scope(book, scope, pairs, counts)
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
        output = StepOutput(rows={S.loan_scope: _scope_rows(scoped, book, scope, idx),
                                  S.candidates: candidate_rows(pairs, loans.ids, loans.amount_c)}, metrics=metrics)
        scope_index = np.full(loans.n, -1, dtype=np.int64)
        scope_index[idx] = np.arange(len(idx))
        output.handoff = (scoped, candidate_arrays(pairs, scope_index), [t.trade_id for t in pairs.trades])
        return output

    def write(self, conn: Connection, ctx: RunContext, output: StepOutput) -> None:
        super().write(conn, ctx, output)
        scoped, cands, trade_ids = output.handoff
        handoff.keep(ctx.run_id, "candidates", (cands, trade_ids))
        handoff.keep(ctx.run_id, "scope", scoped)


def _loan_scope(book: Book, scope, pairs: PairSet, counts: np.ndarray) -> tuple[LoanScope, np.ndarray]:
    """The scope rows' facts, and the book index of each."""
    loans = book.loans
    n_t = len(pairs.trades)
    keep = [i for i, label in enumerate(scope.label) if label is not None]
    reasons: list[str | None] = []
    fail_trades: list[str | None] = []
    for i in keep:
        reason = fail_trade = None
        if scope.label[i] in (Scoped.CLOSED, Scoped.LOCKED) and counts[i] == 0:
            if loans.available[i] is None:
                reason = NO_AVAILABLE_DATE
            elif n_t == 0:
                reason = NO_IN_SCOPE_TRADE
            else:
                score = int(pairs.fail_score[i])
                trade = pairs.trades[n_t - 1 - score % n_t]
                reason = test_name(score // n_t, book.instruments[trade.instrument_key].type)
                fail_trade = trade.trade_id
        reasons.append(reason)
        fail_trades.append(fail_trade)
    idx = np.array(keep, dtype=np.int64)
    scoped = LoanScope(
        [loans.ids[i] for i in keep], [scope.label[i] for i in keep], loans.amount_c[idx], loans.note_u[idx],
        [loans.pool[i] for i in keep], [scope.pool_trade[i] for i in keep], counts[idx], reasons, fail_trades)
    return scoped, idx


def _scope_rows(s: LoanScope, book: Book, scope, idx: np.ndarray) -> ColumnRows:
    return ColumnRows(len(s), {
        "loan_id": s.loan_ids, "scope": s.scope, "loan_amount": Scaled(s.amount_c, CENT),
        "note_rate": Scaled(s.note_u, MICRO), "available_date": [book.loans.available[i] for i in idx.tolist()],
        "current_pool_name": s.pool, "current_pool_trade_id": s.pool_trade,
        "pool_locked": scope.pool_locked[idx].tolist(), "candidate_count": s.candidate_count.tolist(),
        "fail_reason": s.fail_reason, "fail_trade_id": s.fail_trade,
    })
