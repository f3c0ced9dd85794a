"""ENGINE.md §6 invariants 1–4 and 7 on random small books, for both allocators (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.db import schema as S
from tests.engine.scenario import Scenario, day

loan_st = st.tuples(
    st.integers(50, 400).map(lambda k: k * 1000),          # amount
    st.sampled_from(["6.125", "6.25", "6.5", "6.875", "7.25"]),
    st.sampled_from(["CONV30", "CONV30", "FHA30"]),
    st.sampled_from(["Closed", "Funded", "Approved", "Shipped"]),
    st.sampled_from([None, "P_T0", "P_T1", "P_LOCK", "P_NONE"]),
    st.integers(-20, 25),                                  # available day
)
trade_st = st.tuples(st.integers(2, 12).map(lambda k: k * 100_000), st.sampled_from(["99.5", "100.25", "101", "102"]),
                     st.sampled_from([0, 2, 5]), st.integers(5, 50))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(loans=st.lists(loan_st, min_size=1, max_size=10), trades=st.lists(trade_st, min_size=1, max_size=3),
       allocator=st.sampled_from(["optimal", "greedy"]))
def test_invariants_hold_on_random_books(engine_db, loans, trades, allocator):
    book = Scenario(engine_db)
    book.instrument(servicing_multiple="2", max_pool_amount="500000").carry(points=((0, "5"),))
    book.constraint(name="HI", priority=0, rules=[("fico", ">=", "760")])
    for i, (amount, price, tol, settle) in enumerate(trades):
        book.trade(f"T{i}", amount=amount, price=price, tolerance=tol, settle=day(settle))
    book.pool("P_T0", "T0").pool("P_T1", "T1").pool("P_LOCK", "T0", locked=True).pool("P_NONE", None)
    for i, (amount, note, product, stage, pool, avail) in enumerate(loans):
        book.loan(f"L{i}", amount, note_rate=note, product=product, stage_name=stage, current_pool_name=pool,
                  funded_date=day(avail), fico=700 + 20 * (i % 4))
    run = book.run(allocator=allocator)
    scope = {r["loan_id"]: r["scope"] for r in run.rows(S.loan_scope)}
    in_scope = {k for k, v in scope.items() if v in ("Closed", "Locked")}
    guide, kicks, trades_out = run.guide, run.kickouts, run.trades
    cands = {(c["loan_id"], c["trade_id"]): c for c in run.candidates}
    # 1. each loan at most once, on one of its candidates, with the candidate's value parts
    for loan, g in guide.items():
        c = cands[(loan, g["trade_id"])]
        assert (g["price"], g["servicing_value"], g["carry"], g["value"], g["objective_value"]) == (
            c["price"], c["servicing_value"], c["carry"], c["value"], c["objective_value"])
    # 2. allocated ≤ open capacity
    for t in trades_out.values():
        got = sum(g["loan_amount"] for g in guide.values() if g["trade_id"] == t["trade_id"])
        assert got == t["allocated_amount"] <= t["open_capacity"]
    # 3. every in-scope, unpinned, unallocated loan is a kickout; no allocated or pinned loan is
    assert set(guide) | set(kicks) == in_scope and not set(guide) & set(kicks)
    # 4. pinned loans never move
    for loan, kind in scope.items():
        if kind == "Pinned":
            assert run.pool_guide[loan]["pool_action"] == "Locked" and loan not in guide
    # 7. no unallocated loan keeps a candidate trade with room and a positive objective value
    for (loan, trade), c in cands.items():
        if loan in kicks:
            t = trades_out[trade]
            room = t["open_capacity"] - t["allocated_amount"]
            assert not (c["loan_amount"] <= room and c["objective_value"] > 0), (loan, trade)
