"""Step 5, `pool_guide`: what happens to every loan's pool membership (ENGINE.md §5 step 5).

One row per active-stage loan that is allocated, pinned or currently pooled, keyed on the loan
alone (ENGINE.md §8: one loan has exactly one action, whatever trades its old and new pools are
bound for). Reads the run's loan scope, guide, kickouts and trade base; from the inputs it
re-reads only the pools (names, trades, lockdowns — existing pools with no loan still take
top-ups) and the pool limits and settlement dates of the pools' trades (docs/engine.md: inputs
are frozen while the run is active).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import select

from pipeline.db import schema as S
from pipeline.db.bulk import ColumnRows, Scaled
from pipeline.engine.book import Book
from pipeline.engine.eligibility import Scoped
from pipeline.engine.exact import CENT
from pipeline.engine.runner import RunContext, Step, StepOutput
from pipeline.engine.steps import handoff
from pipeline.engine.steps.outputs import LoanScope, read_scope
from pipeline.statuses import RunStatus

LOCKED, REMAINING, JOINING, SWITCHING, LEAVING = "Locked", "Remaining", "Joining", "Switching", "Leaving"
OUT_OF_SCOPE = "OUT_OF_SCOPE"
BELOW_MIN_POOL, ABOVE_MAX_POOL = "BELOW_MIN_POOL", "ABOVE_MAX_POOL"


class PoolGuide(Step):
    name = "pool_guide"
    run_status = RunStatus.POST_PROCESSING
    tables = (S.pool_guide,)

    def compute(self, ctx: RunContext) -> StepOutput:
        with ctx.engine.connect() as conn:
            scope = handoff.take(ctx.run_id, "scope")
            if scope is None:  # a resumed run: read back what step 3 wrote
                scope = read_scope(conn, ctx.run_id)
            placements = handoff.take(ctx.run_id, "placements")
            if placements is None:
                g, k = S.powerfill_guide.c, S.kickout_guide.c
                placements = (dict(conn.execute(select(g.loan_id, g.trade_id).where(g.run_id == ctx.run_id)).all()),
                              dict(conn.execute(select(k.loan_id, k.reason).where(k.run_id == ctx.run_id)).all()))
            allocated, kicked = placements  # loan -> trade, loan -> kickout reason
            book = Book(conn, ctx.tenant_id)
            pools, locked_pools = book.pools, book.locked_pools
            trades = {t.trade_id: t for t in book.trades}
            instruments = book.instruments
        rows = _actions(scope, allocated, kicked, trades)
        ctx.check_cancelled()

        def limits(trade_id):
            t = trades.get(trade_id) if trade_id else None
            inst = instruments.get(t.instrument_key) if t else None
            return (inst.min_pool_c, inst.max_pool_c) if inst else (None, None)

        new_pools = _assign_pools(rows, pools, locked_pools, limits)
        _flag(rows, pools, limits)
        rows.sort(key=lambda r: r["loan_id"])
        counts = defaultdict(int)
        for r in rows:
            counts[r["pool_action"]] += 1
        return StepOutput(rows={S.pool_guide: _columns(rows)}, metrics={
            "pool_guide_count": len(rows), "pool_actions": dict(sorted(counts.items())), "new_pool_count": new_pools,
        })


def _actions(scope: LoanScope, allocated, kicked, trades) -> list[dict]:
    rows = []
    for loan, label, pool, pool_trade, amount_c in zip(scope.loan_ids, scope.scope, scope.pool, scope.pool_trade,
                                                        scope.amount_c.tolist()):
        base = {"loan_id": loan, "from_pool": pool, "from_trade": pool_trade if pool else None,
                "amount_c": amount_c, "reason": None, "to_pool": None, "to_trade": None, "settlement_date": None,
                "flags": ""}
        if label == Scoped.PINNED:
            base.update(pool_action=LOCKED, to_pool=pool, to_trade=pool_trade)
        elif loan in allocated:
            trade = allocated[loan]
            if pool and pool_trade == trade:
                action = REMAINING
                base["to_pool"] = pool
            elif pool and pool_trade is not None:
                action = SWITCHING
            else:
                action = JOINING
            base.update(pool_action=action, to_trade=trade)
        elif pool:
            reason = OUT_OF_SCOPE if label == Scoped.OUT else kicked.get(loan)
            base.update(pool_action=LEAVING, reason=reason)
        else:
            continue
        if base["to_trade"] in trades:
            base["settlement_date"] = trades[base["to_trade"]].settlement_date
        rows.append(base)
    return rows


def _columns(rows: list[dict]) -> ColumnRows:
    names = [c.name for c in S.pool_guide.columns if c.name not in ("run_id", "tenant_id", "loan_amount")]
    columns = {name: [r[name] for r in rows] for name in names}
    columns["loan_amount"] = Scaled(np.array([r["amount_c"] for r in rows], dtype=np.int64), CENT)
    return ColumnRows(len(rows), columns)


def _assign_pools(rows, pools, locked_pools, limits) -> int:
    """Joining and switching loans of each trade, by amount desc then loan_id: first fit into the
    trade's unlocked existing pools (name order) up to max_pool_amount, then first fit into new
    pools `<trade_id>-N<seq>`; a loan above max_pool_amount gets a new pool of its own."""
    content: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["pool_action"] == REMAINING:
            content[r["to_pool"]] += r["amount_c"]
    movers: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["pool_action"] in (JOINING, SWITCHING):
            movers[r["to_trade"]].append(r)
    existing: dict[str, list[str]] = defaultdict(list)
    for name, trade_id in sorted(pools.items()):
        if trade_id is not None and name not in locked_pools:
            existing[trade_id].append(name)
    created = 0
    for trade_id in sorted(movers):
        _, max_c = limits(trade_id)
        fits = (lambda pool, a: True) if max_c is None else (lambda pool, a: content[pool] + a <= max_c)
        own = existing[trade_id]
        new: list[str] = []
        seq = 0

        def open_pool() -> str:
            nonlocal seq
            while True:
                seq += 1
                name = f"{trade_id}-N{seq}"
                if name not in pools:
                    new.append(name)
                    return name

        ordered = sorted(movers[trade_id], key=lambda x: (-x["amount_c"], x["loan_id"]))
        smallest = ordered[-1]["amount_c"]
        # pools that could still take a loan: one without room for the smallest mover never will,
        # so dropping it leaves every first-fit choice unchanged (and keeps the scan short)
        open_own = list(own) if max_c is None else [p for p in own if content[p] + smallest <= max_c]
        open_new: list[str] = []
        for r in ordered:
            a = r["amount_c"]
            if max_c is not None and a > max_c:
                target = open_pool()
            else:
                target = next((p for p in open_own if fits(p, a)), None) or next((p for p in open_new if fits(p, a)), None)
                if target is None:
                    target = open_pool()
                    open_new.append(target)
            content[target] += a
            r["to_pool"] = target
            if max_c is not None and content[target] + smallest > max_c:
                for live in (open_own, open_new):
                    if target in live:
                        live.remove(target)
        created += len(new)
    return created


def _flag(rows, pools, limits) -> None:
    """Pool-level flags on every row bound for the pool (after leavers and switchers left)."""
    content: dict[str, int] = defaultdict(int)
    trade_of: dict[str, str | None] = {}
    for r in rows:
        if r["to_pool"] is not None:
            content[r["to_pool"]] += r["amount_c"]
            trade_of[r["to_pool"]] = r["to_trade"]
    flags: dict[str, str] = {}
    for pool, amount in content.items():
        min_c, max_c = limits(trade_of[pool])
        f = []
        if min_c is not None and amount < min_c:
            f.append(BELOW_MIN_POOL)
        if max_c is not None and amount > max_c:
            f.append(ABOVE_MAX_POOL)
        flags[pool] = ";".join(f)
    for r in rows:
        if r["to_pool"] is not None:
            r["flags"] = flags[r["to_pool"]]
