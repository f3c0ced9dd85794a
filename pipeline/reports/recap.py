"""The computed reports: the per-trade recap and the existing-pool disposition.

Recap (ENGINE.md §7), one row per in-scope trade of the run, from `pfill_trade_base` (window,
locked, fill columns written by the allocation step) and the run's guide rows (loans, weighted
note rate / price / carry / value, value in dollars) and pool guide (pools the trade's loans go
to). Weighted figures are Decimal sums over the guide, weighted by loan amount; the note rate
comes from the run's own `pfill_loan_scope` (the guide does not repeat it), so later input
uploads never change an old run's recap. Filled = locked + allocated; status is
the allocation step's (Under / Filled / OverLocked), derived from the window if absent.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pipeline.db import schema as s

ZERO = Decimal(0)


def _d(v) -> Decimal:  # noqa: ANN001
    return ZERO if v is None else Decimal(str(v))


def recap_rows(conn: Connection, run_id: str, tenant_id: str) -> list[dict]:
    tb, g, scope, pg = s.trade_base, s.powerfill_guide, s.loan_scope, s.pool_guide
    trades = conn.execute(
        select(tb).where(tb.c.run_id == run_id, tb.c.tenant_id == tenant_id).order_by(tb.c.trade_id)
    ).mappings().all()
    if not trades:
        return []

    agg: dict[str, dict] = defaultdict(lambda: {"n": 0, "amt": ZERO, "rate_amt": ZERO, "rate_w": ZERO, "price": ZERO,
                                                 "carry": ZERO, "value": ZERO, "obj": ZERO})
    guide = conn.execute(
        select(g.c.trade_id, g.c.loan_amount, g.c.price, g.c.servicing_value, g.c.carry, g.c.value,
               g.c.objective_value, scope.c.note_rate)
        .select_from(g.outerjoin(scope, (scope.c.run_id == g.c.run_id) & (scope.c.loan_id == g.c.loan_id)))
        .where(g.c.run_id == run_id, g.c.tenant_id == tenant_id)
    )
    for r in guide:
        a = agg[r.trade_id]
        amt = _d(r.loan_amount)
        a["n"] += 1
        a["amt"] += amt
        a["price"] += amt * (_d(r.price) + _d(r.servicing_value))
        a["carry"] += amt * _d(r.carry)
        a["value"] += amt * _d(r.value)
        a["obj"] += _d(r.objective_value)
        if r.note_rate is not None:
            a["rate_amt"] += amt * _d(r.note_rate)
            a["rate_w"] += amt

    pools: dict[str, set] = defaultdict(set)
    for r in conn.execute(select(pg.c.to_trade, pg.c.to_pool).where(
            pg.c.run_id == run_id, pg.c.tenant_id == tenant_id, pg.c.to_pool.is_not(None))):
        if r.to_trade is not None:
            pools[r.to_trade].add(r.to_pool)

    rows = []
    for t in trades:
        a = agg.get(t["trade_id"])
        locked = _d(t["locked_amount"])
        allocated = _d(t["allocated_amount"]) if t["allocated_amount"] is not None else (a["amt"] if a else ZERO)
        filled = locked + allocated
        mn, mx, amount = _d(t["min_amount"]), _d(t["max_amount"]), _d(t["trade_amount"])
        flags = t["flags"] or ""
        status = t["fill_status"] or ("OverLocked" if "OverLocked" in flags.split(";")
                                      else "Filled" if filled >= mn else "Under")
        shortfall = t["shortfall_amount"] if t["shortfall_amount"] is not None else max(ZERO, mn - filled)
        over = t["over_amount"] if t["over_amount"] is not None else max(ZERO, filled - mx)
        w = a["amt"] if a else ZERO
        rows.append({
            "trade_id": t["trade_id"], "investor_id": t["investor_id"],
            "investor_instrument_name": t["investor_instrument_name"], "instrument_type": t["instrument_type"],
            "coupon": t["coupon"], "settlement_date": t["settlement_date"], "trade_amount": amount,
            "tolerance_pct": t["tolerance_pct"], "min_amount": mn, "max_amount": mx, "locked_amount": locked,
            "open_capacity": t["open_capacity"], "closed_fill_amount": t["closed_fill_amount"],
            "locked_loan_fill_amount": t["locked_loan_fill_amount"], "allocated_amount": allocated,
            "filled_amount": filled, "fill_pct": (filled * 100 / amount) if amount else None,
            "fill_status": status, "shortfall_amount": shortfall, "over_amount": over,
            "loan_count": a["n"] if a else 0,
            "wavg_note_rate": (a["rate_amt"] / a["rate_w"]) if a and a["rate_w"] else None,
            "wavg_price": (a["price"] / w) if w else None,
            "wavg_carry": (a["carry"] / w) if w else None,
            "wavg_value": (a["value"] / w) if w else None,
            "value_amount": a["obj"] if a else ZERO,
            "pool_count": len(pools.get(t["trade_id"], ())), "flags": flags,
        })
    return rows


STAYS = ("Remaining", "Locked")


def disposition_rows(conn: Connection, run_id: str, tenant_id: str) -> list[dict]:
    """Per existing pool (a loan's `from_pool`): how many loans and dollars stay, switch or leave.

    A loan stays when it keeps its pool (Remaining, Locked, or Joining the same pool); switches
    when it goes to another pool (Switching, or Joining another pool of a trade); leaves when it
    ends unallocated (Leaving)."""
    pg = s.pool_guide
    out: dict[str, dict] = {}
    q = (select(pg.c.from_pool, pg.c.from_trade, pg.c.to_pool, pg.c.pool_action, pg.c.loan_amount)
         .where(pg.c.run_id == run_id, pg.c.tenant_id == tenant_id, pg.c.from_pool.is_not(None)))
    for r in conn.execute(q):
        row = out.setdefault(r.from_pool, {
            "pool_name": r.from_pool, "trade_id": r.from_trade, "locked": False, "loan_count": 0, "amount": ZERO,
            "stays_count": 0, "stays_amount": ZERO, "switches_count": 0, "switches_amount": ZERO,
            "leaves_count": 0, "leaves_amount": ZERO,
        })
        amt = _d(r.loan_amount)
        row["loan_count"] += 1
        row["amount"] += amt
        if r.pool_action == "Locked":
            row["locked"] = True
        if r.pool_action == "Leaving":
            bucket = "leaves"
        elif r.pool_action in STAYS or r.to_pool == r.from_pool:
            bucket = "stays"
        else:
            bucket = "switches"
        row[f"{bucket}_count"] += 1
        row[f"{bucket}_amount"] += amt
    return [out[k] for k in sorted(out)]
