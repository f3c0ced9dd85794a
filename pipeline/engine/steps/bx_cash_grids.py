"""Step 1, `bx_cash_grids`: the grid points of every in-scope CASH trade, flagged usable."""

from __future__ import annotations

from pipeline.db import schema as S
from pipeline.engine.book import Book
from pipeline.engine.eligibility import in_scope_trades
from pipeline.engine.exact import MICRO, to_decimal
from pipeline.engine.runner import RunContext, Step, StepOutput
from pipeline.statuses import RunStatus


class BxCashGrids(Step):
    name = "bx_cash_grids"
    run_status = RunStatus.PRE_PROCESSING
    tables = (S.bx_cash_grid,)

    def compute(self, ctx: RunContext) -> StepOutput:
        floor = ctx.options.bx_price_floor
        with ctx.engine.connect() as conn:
            book = Book(conn, ctx.tenant_id)
            cash = [t for t in in_scope_trades(book, ctx.options) if book.instruments[t.instrument_key].type == "CASH"]
            grids = book.cash_grids
        if not cash:
            return StepOutput(skipped=True, metrics={"cash_trades_in_scope": 0})
        rows = []
        for trade in cash:
            for seq, (rate_u, price_u) in enumerate(grids.get(trade.trade_id, []), 1):
                price = to_decimal(price_u, MICRO)
                rows.append({
                    "trade_id": trade.trade_id, "note_rate": to_decimal(rate_u, MICRO), "seq": seq,
                    "price": price, "usable": floor is None or price >= floor,
                })
        return StepOutput(rows={S.bx_cash_grid: rows}, metrics={"cash_trades_in_scope": len(cash)})
