"""Step 2, `bx_settle_and_price`: one pfill_trade_base row per in-scope trade — its window
(tolerance, min, max), locked amount, open capacity, price and `OverLocked` flag.

The fill columns of the same rows are the allocation step's (it updates them)."""

from __future__ import annotations

from pipeline.db import schema as S
from pipeline.engine.book import Book
from pipeline.engine.eligibility import in_scope_trades, locked_amounts, window
from pipeline.engine.exact import CENT, MICRO, to_decimal
from pipeline.engine.runner import RunContext, Step, StepOutput
from pipeline.statuses import RunStatus

OVER_LOCKED = "OverLocked"


class BxSettleAndPrice(Step):
    name = "bx_settle_and_price"
    run_status = RunStatus.PRE_PROCESSING
    tables = (S.trade_base,)

    def compute(self, ctx: RunContext) -> StepOutput:
        with ctx.engine.connect() as conn:
            book = Book(conn, ctx.tenant_id)
            trades = in_scope_trades(book, ctx.options)
            locked = locked_amounts(book) if trades else {}
        rows = []
        for t in trades:
            w = window(t, locked.get(t.trade_id, 0))
            rows.append({
                "trade_id": t.trade_id, "investor_id": t.investor_id, "investor_instrument_name": t.instrument_name,
                "instrument_type": book.instruments[t.instrument_key].type,
                "coupon": to_decimal(t.coupon_u, MICRO), "settlement_date": t.settlement_date,
                "trade_amount": to_decimal(t.amount_c, CENT), "tolerance_pct": to_decimal(t.tolerance_u, MICRO),
                "tolerance_amount": to_decimal(w.tolerance_c, CENT), "min_amount": to_decimal(w.min_c, CENT),
                "max_amount": to_decimal(w.max_c, CENT), "locked_amount": to_decimal(w.locked_c, CENT),
                "open_capacity": to_decimal(w.open_capacity_c, CENT), "price": to_decimal(t.price_u, MICRO),
                "flags": OVER_LOCKED if w.over_locked else "",
            })
        return StepOutput(
            rows={S.trade_base: rows},
            metrics={"trades_in_scope": len(rows), "trades_over_locked": sum(1 for r in rows if r["flags"])},
        )
