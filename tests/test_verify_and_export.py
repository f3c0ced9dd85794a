"""`powerfill verify` catches what it must, and `powerfill export` is byte-stable.

One small demo book is loaded and run once per module through the service path; each test then
tampers with a copy of the outputs and checks the independent verifier names the broken invariant.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select, update

from pipeline.cli import main as cli_main
from pipeline.db import schema as s
from pipeline.db.engine import dispose_all, get_engine
from pipeline.db.migrate import upgrade
from pipeline.demo import build, write_csvs
from pipeline.inputs import KINDS, import_many
from pipeline.run_export import export_run
from pipeline.runs.config import get_config
from pipeline.runs.submit import submit_run
from pipeline.runs.worker import execute_run, new_owner
from pipeline.statuses import Trigger
from pipeline.verify.invariants import verify_run

TENANT = "verify"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    ds = build("small", 11)
    write_csvs(ds.data, root / "data", ds.manifest())
    url = f"sqlite:///{root}/base.db"
    upgrade(url)
    engine = get_engine(url)
    uploads = {k: ((root / "data" / f"{k}.csv").read_bytes(), "csv", f"{k}.csv") for k in KINDS}
    import_many(engine, TENANT, uploads)
    config = get_config()
    run = submit_run(engine, TENANT, {"as_of_date": ds.as_of.isoformat()}, trigger=Trigger.CLI,
                     requested_by="test", enqueue=False, config=config)
    execute_run(engine, TENANT, run.run.run_id, config=config, owner=new_owner("test"), use_budget=False)
    dispose_all()
    return root / "base.db", run.run.run_id


@pytest.fixture
def run_copy(finished_run, tmp_path):
    """A private copy of the finished run's database, free to tamper with."""
    path, run_id = finished_run
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    yield get_engine(f"sqlite:///{copy}"), run_id
    dispose_all()


def _invariants(engine, run_id) -> set[int]:
    return {v.invariant for v in verify_run(engine, TENANT, run_id)}


def test_a_real_run_passes_every_invariant_and_the_lp_bounds(run_copy, capsys):
    engine, run_id = run_copy
    assert verify_run(engine, TENANT, run_id) == []
    assert cli_main(["verify", run_id, "--tenant", TENANT, "--db", str(engine.url), "--optimality"]) == 0
    assert "OK: 0 violation(s)" in capsys.readouterr().out


def test_a_changed_price_breaks_invariant_1(run_copy):
    engine, run_id = run_copy
    g = s.powerfill_guide
    with engine.begin() as conn:
        loan = conn.execute(select(g.c.loan_id).where(g.c.run_id == run_id).order_by(g.c.loan_id)).scalars().first()
        conn.execute(update(g).where(g.c.run_id == run_id, g.c.loan_id == loan).values(price=g.c.price + Decimal("0.125")))
    assert 1 in _invariants(engine, run_id)


def test_an_overfilled_trade_breaks_invariant_2(run_copy):
    engine, run_id = run_copy
    g, k = s.powerfill_guide, s.kickout_guide
    with engine.begin() as conn:
        # Move every CAPACITY kickout into its best candidate trade: that trade had no room.
        rows = conn.execute(select(k.c.loan_id, k.c.best_trade_id).where(k.c.run_id == run_id, k.c.reason == "CAPACITY")).all()
        assert rows, "the demo book should have capacity kickouts"
        for loan_id, trade_id in rows:
            cand = conn.execute(select(s.candidates).where(s.candidates.c.run_id == run_id, s.candidates.c.loan_id == loan_id,
                                                           s.candidates.c.trade_id == trade_id)).mappings().one()
            conn.execute(insert(g).values({c: cand[c] for c in ("run_id", "tenant_id", "loan_id", "trade_id", "constraint_name",
                                                                 "level", "loan_amount", "price", "servicing_value", "carry",
                                                                 "value", "objective_value")}))
    assert {2, 3} <= _invariants(engine, run_id)


def test_a_missing_kickout_breaks_invariant_3(run_copy):
    engine, run_id = run_copy
    with engine.begin() as conn:
        conn.execute(delete(s.kickout_guide).where(s.kickout_guide.c.run_id == run_id, s.kickout_guide.c.reason == "NOT_SELECTED"))
    assert 3 in _invariants(engine, run_id)


def test_a_wrong_pool_action_breaks_invariant_4(run_copy):
    engine, run_id = run_copy
    p = s.pool_guide
    with engine.begin() as conn:
        conn.execute(update(p).where(p.c.run_id == run_id, p.c.pool_action == "Locked").values(pool_action="Leaving"))
    assert _invariants(engine, run_id) == {4}


def test_a_dropped_allocation_with_room_breaks_invariant_7(run_copy):
    engine, run_id = run_copy
    g = s.powerfill_guide
    with engine.begin() as conn:
        best = conn.execute(select(g.c.loan_id).where(g.c.run_id == run_id, g.c.objective_value > 0)
                            .order_by(g.c.objective_value.desc(), g.c.loan_id)).scalars().first()
        conn.execute(delete(g).where(g.c.run_id == run_id, g.c.loan_id == best))
        conn.execute(insert(s.kickout_guide).values(run_id=run_id, tenant_id=TENANT, loan_id=best, reason="NOT_SELECTED"))
    assert 7 in _invariants(engine, run_id)


def test_export_writes_every_output_table_and_is_byte_stable(run_copy, tmp_path):
    engine, run_id = run_copy
    first = export_run(engine, TENANT, run_id, tmp_path / "a")
    second = export_run(engine, TENANT, run_id, tmp_path / "b")
    assert {p.name for p in first} == {f"{t.name}.csv" for t in s.OUTPUT_TABLES} | {"summary.json"}
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
    guide = (tmp_path / "a" / "pfill_powerfill_guide.csv").read_text().splitlines()
    assert guide[0].startswith("loan_id,trade_id,constraint_name,level,loan_amount,price,servicing_value,carry,value,objective_value")
    amount, price = guide[1].split(",")[4:6]
    assert len(amount.split(".")[1]) == 2 and len(price.split(".")[1]) == 8


def test_verify_and_export_refuse_an_unknown_run(run_copy, tmp_path):
    engine, _ = run_copy
    with pytest.raises(LookupError):
        verify_run(engine, TENANT, "no-such-run")
    assert cli_main(["export", "no-such-run", "--out", str(tmp_path), "--tenant", TENANT, "--db", str(engine.url)]) == 2
