"""What step 3 hands the allocation step in-process equals what a resumed run reads back, on
every dialect (SQLite returns numbers as floats, PostgreSQL as Decimals)."""

from __future__ import annotations

import json
import uuid

import numpy as np
from sqlalchemy import insert

from pipeline.db import schema as S
from pipeline.engine.options import RunOptions
from pipeline.engine.runner import RunContext, run_pending_steps, utcnow
from pipeline.engine.steps import handoff
from pipeline.engine.steps.allocation import _scope_and_candidates
from pipeline.engine.steps.outputs import rows_of
from tests.engine.scenario import AS_OF, Scenario, day
from tests.engine.test_runs import small_book


def test_handed_over_candidates_equal_the_ones_read_back(db):
    book = Scenario(db)
    small_book(book)
    book.instrument(name="FN15", constraint=False).constraint("FN15", "LOW", priority=1, rules=(("note_rate", "<=", "6.5"),))
    book.constraint("FN15", "ALL", priority=2)
    book.trade("U1", instrument="FN15", amount=500_000, settle=day(20)).trade("U0", instrument="FN15", settle=day(25))
    book.run()  # inserts the inputs; this run's handoff is consumed by its own allocation step
    opts = RunOptions(as_of_date=AS_OF)
    run_id = str(uuid.uuid4())
    with book.engine.begin() as conn:
        conn.execute(insert(S.run_history).values(run_id=run_id, tenant_id=book.tenant_id, status="Pending",
                                                  trigger="cli", options_json=json.dumps(opts.to_json_dict()),
                                                  started_at_utc=utcnow()))
    calls = iter(range(100))
    run_pending_steps(RunContext(book.engine, book.tenant_id, run_id, opts), should_yield=lambda: next(calls) >= 3)
    with book.engine.connect() as conn:
        trade_ids = sorted(r["trade_id"] for r in rows_of(conn, S.trade_base, run_id, ("trade_id",)))
        handed = _scope_and_candidates(conn, run_id, trade_ids)
        assert handoff.take(run_id, "candidates") is None  # taken once
        read = _scope_and_candidates(conn, run_id, trade_ids)
    for got, want in zip(handed, read):
        assert got.__dataclass_fields__.keys() == want.__dataclass_fields__.keys()
        for field in got.__dataclass_fields__:
            a, b = getattr(got, field), getattr(want, field)
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and np.array_equal(a, b), field
            else:
                assert a == b, field
    assert len(handed[1]) > 0 and len(set(handed[1].constraint_names)) > 1
