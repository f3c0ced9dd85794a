"""Whole runs: on every dialect, and resumed after any step with the same result."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import insert, update

from pipeline.db import schema as S
from pipeline.engine.options import RunOptions
from pipeline.engine.runner import RunContext, run_pending_steps, utcnow
from pipeline.engine.steps import STEPS, handoff
from tests.engine.scenario import AS_OF, RunResult, Scenario, day


def small_book(book: Scenario) -> Scenario:
    book.instrument(servicing_multiple="3", max_pool_amount="600000").carry(points=((0, "4.5"), (30, "4")))
    book.instrument(name="CASH1", kind="CASH").cash_trade("C1", grid=[("6", "99.5"), ("8", "102")], amount=400_000)
    book.pool("P1", "T0").pool("P2", "T1", locked=True)
    for i in range(3):
        book.trade(f"T{i}", amount=300_000 * (i + 1), price=str(100 + i / 4), settle=day(10 + 15 * i))
    for i in range(15):
        pool = "P1" if i % 4 == 0 else "P2" if i == 7 else None
        book.loan(f"L{i:02d}", 40_000 + 21_000 * i, note_rate=str(6.25 + 0.125 * (i % 9)), current_pool_name=pool)
    book.market(coupon="6", price="100.25").payup(coupon="6")
    return book


def test_a_run_on_each_dialect(db):
    run = small_book(Scenario(db)).run()
    s = run.summary
    assert s["allocated_count"] + s["kicked_out_count"] == 14  # 15 loans, one pinned
    assert run.pool_guide["L07"]["pool_action"] == "Locked"
    for t in run.trades.values():
        assert t["allocated_amount"] <= t["open_capacity"]


@pytest.mark.parametrize("stop_after", range(1, len(STEPS)))
def test_a_run_resumed_after_any_step_gives_the_same_outputs(book: Scenario, stop_after):
    small_book(book)
    whole = book.run()
    opts = RunOptions(as_of_date=AS_OF)
    # a second run executed in two goes: the first stops after `stop_after` steps
    run_id = str(uuid.uuid4())
    with book.engine.begin() as conn:
        conn.execute(insert(S.run_history).values(run_id=run_id, tenant_id=book.tenant_id, status="Pending",
                                                  trigger="cli", options_json=json.dumps(opts.to_json_dict()),
                                                  started_at_utc=utcnow()))
    calls = iter(range(100))
    ctx = RunContext(book.engine, book.tenant_id, run_id, opts)
    assert run_pending_steps(ctx, should_yield=lambda: next(calls) >= stop_after) is False
    handoff.clear()  # a fresh process: later steps read what earlier ones wrote, not what they handed over
    assert run_pending_steps(RunContext(book.engine, book.tenant_id, run_id, opts)) is True
    with book.engine.begin() as conn:
        conn.execute(update(S.run_history).where(S.run_history.c.run_id == run_id).values(status="Complete"))
    resumed = RunResult(book.engine, run_id)
    for table in S.OUTPUT_TABLES:
        assert whole.rows(table) == resumed.rows(table), table.name


class CancelAfter:
    """A guard whose cancel flag rises after `n` checks (the worker's heartbeat sets it for real)."""

    def __init__(self, n: int):
        self.n = n

    def verify(self, conn) -> None:
        return None

    def cancel_requested(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_steps_check_for_cancellation_inside_their_work(book: Scenario):
    from pipeline.engine.runner import RunCancelled
    from pipeline.engine.steps.candidate_builder import CandidateBuilder

    small_book(book).run()
    opts = RunOptions(as_of_date=AS_OF)
    ctx = RunContext(book.engine, book.tenant_id, "not-a-run", opts, guard=CancelAfter(2))
    with pytest.raises(RunCancelled):
        CandidateBuilder().compute(ctx)  # per instrument and per trade: more than two checks
