"""Step 6, `ue` (unallocated eligible): synthetic options for every in-scope loan left
unallocated, each loan's best option, the synthetic trades with their lot-rounded tradable fill,
and the run's log (ENGINE.md §5 step 6).

The post-UE view is recorded here, not on the kickout rows (step 4's table): a loan in a
tradable synthetic fill has `post_ue_action = Synthetic` on its pfill_syn_powerfill_guide row.
The loans tested are the run's kickouts (every in-scope, unpinned, unallocated loan); their
attributes for the eligibility tests, and the market prices, payups and carry curves, are
re-read from the inputs (frozen while the run is active; docs/engine.md).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import func, select

from pipeline.db import schema as S
from pipeline.db.bulk import ColumnRows, Scaled, pick
from pipeline.engine.book import Book
from pipeline.engine.exact import CENT, E8, MICRO, div_half_even, to_decimal
from pipeline.engine.options import PriceMode
from pipeline.engine.runner import RunContext, Step, StepOutput
from pipeline.engine.steps.run_log import log_rows
from pipeline.engine.synthetic import SynOption, SynPairs, price_options, synthetic_options
from pipeline.statuses import RunStatus

SYNTHETIC = "Synthetic"


class UnallocatedEligible(Step):
    name = "ue"
    run_status = RunStatus.POST_PROCESSING
    tables = (S.syn_guide_all_rank, S.syn_guide, S.syn_trade_base, S.powerfill_log)

    def compute(self, ctx: RunContext) -> StepOutput:
        with ctx.engine.connect() as conn:
            g = S.powerfill_guide.c
            allocated = conn.execute(select(func.count()).select_from(S.powerfill_guide).where(g.run_id == ctx.run_id)).scalar_one()
            pg = S.pool_guide.c
            pooled = set(conn.execute(select(pg.loan_id).where(pg.run_id == ctx.run_id)).scalars().all())
            # the in-scope, unpinned, unallocated loans are exactly the kickouts (ENGINE.md §6.3)
            k = S.kickout_guide.c
            book = Book(conn, ctx.tenant_id, only_loans=select(k.loan_id).where(k.run_id == ctx.run_id))
            opts = synthetic_options(book, ctx.options)
            has_prices = bool(book.market_prices)
            loans = book.loans
            idx = np.arange(loans.n, dtype=np.int64)
            pairs = price_options(book, idx, opts, ctx.options, ctx.check_cancelled)
            events = log_rows(conn, ctx.run_id)
        ctx.check_cancelled()
        carry_mode = ctx.options.price_mode == PriceMode.PRICE_PLUS_CARRY
        all_rank = _all_rank_rows(book, opts, pairs)
        best = np.flatnonzero((pairs.rank_payup_carry if carry_mode else pairs.rank_payup) == 1)
        best_value = (pairs.value_payup_carry_e8 if carry_mode else pairs.value_payup_e8)[best]
        trades, in_fill = _syn_trades(book, opts, pairs, best, best_value)
        guide = _guide_rows(book, opts, pairs, best, best_value, in_fill)
        synthetic_ids = {loans.ids[i] for i in in_fill}
        if not has_prices:
            events.append(("ue", "WARN", "NO_MARKET_PRICES", "no market prices: no synthetic options were built"))
        elif not opts:
            events.append(("ue", "WARN", "NO_SYNTHETIC_OPTIONS", "no market price falls within the trade horizon for an instrument with a constraint"))
        events.append(("ue", "INFO", "UE_SUMMARY",
                       f"{len(idx)} unallocated in-scope loans, {len(opts)} synthetic options, {len(guide)} loans with a best option, "
                       f"{len(synthetic_ids)} in a tradable synthetic fill"))
        log = [{"seq": k, "step_name": s, "severity": sev, "event": ev, "message": msg}
               for k, (s, sev, ev, msg) in enumerate(events, 1)]
        metrics = {
            "syn_trade_base_count": len(trades),
            "syn_powerfill_guide_all_rank_count": len(all_rank),
            "syn_powerfill_guide_count": len(guide),
            "pfill_powerfill_log_count": len(log),
            "post_ue_allocated_count": allocated + len(synthetic_ids),
            "post_ue_pool_guide_count": len(pooled) + len(synthetic_ids - pooled),
        }
        return StepOutput(rows={S.syn_guide_all_rank: all_rank, S.syn_guide: guide, S.syn_trade_base: trades,
                                S.powerfill_log: log}, metrics=metrics)


def _guide_rows(book: Book, opts: list[SynOption], pairs: SynPairs, best: np.ndarray, best_value: np.ndarray,
                in_fill: set[int]) -> ColumnRows:
    """Each loan's best option under the run's price mode, and whether it is in a tradable fill."""
    loans = book.loans
    loan = pairs.loan[best]
    filled = [i in in_fill for i in loan.tolist()]
    return ColumnRows(len(best), {
        "loan_id": [loans.ids[i] for i in loan.tolist()],
        "syn_trade_id": [opts[k].syn_trade_id for k in pairs.option[best].tolist()],
        "loan_amount": Scaled(loans.amount_c[loan], CENT), "value": Scaled(best_value, E8),
        "in_tradable_fill": filled, "post_ue_action": [SYNTHETIC if f else None for f in filled],
    })


def _all_rank_rows(book: Book, opts: list[SynOption], pairs: SynPairs) -> ColumnRows:
    loans = book.loans
    k = pairs.option
    by_option = lambda f: pick([f(x) for x in opts], k)  # noqa: E731
    units = lambda f: np.array([f(x) for x in opts] or [0], dtype=np.int64)[k]  # noqa: E731
    return ColumnRows(len(pairs), {
        "loan_id": pick(loans.ids, pairs.loan), "syn_trade_id": by_option(lambda x: x.syn_trade_id),
        "investor_id": by_option(lambda x: x.instrument.investor_id),
        "investor_instrument_name": by_option(lambda x: x.instrument.name),
        "coupon": Scaled(units(lambda x: x.coupon_u), MICRO),
        "settlement_date": by_option(lambda x: x.settlement_date), "loan_amount": Scaled(loans.amount_c[pairs.loan], CENT),
        "market_price": Scaled(units(lambda x: x.market_u * 100), E8),
        "payup": Scaled(units(lambda x: x.payup_e8), E8),
        "servicing_value": Scaled(pairs.servicing_e8, E8), "carry": Scaled(pairs.carry_e8, E8),
        "value_payup": Scaled(pairs.value_payup_e8, E8), "value_payup_carry": Scaled(pairs.value_payup_carry_e8, E8),
        "rank_payup": pairs.rank_payup.tolist(), "rank_payup_carry": pairs.rank_payup_carry.tolist(),
    })


def _syn_trades(book: Book, opts: list[SynOption], pairs: SynPairs, best: np.ndarray, best_value: np.ndarray):
    """Per synthetic trade that is some loan's best option: its loans, total, the tradable amount
    (total rounded down to lot_size; 0 = no rounding), filled by value desc then loan_id, skipping
    a loan that would overshoot and going on; weighted price over the filled loans."""
    loans = book.loans
    members: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # option -> (value, loan, pair)
    for p, v in zip(best.tolist(), best_value.tolist()):
        members[int(pairs.option[p])].append((v, int(pairs.loan[p]), p))
    rows, in_fill = [], set()
    for k in sorted(members, key=lambda k: opts[k].syn_trade_id):
        o = opts[k]
        group = sorted(members[k], key=lambda m: (-m[0], loans.ids[m[1]]))
        total = sum(int(loans.amount_c[m[1]]) for m in group)
        lot = o.instrument.lot_c
        tradable = total - total % lot if lot else total
        filled, weighted, chosen = 0, 0, 0
        for _, i, p in group:
            a = int(loans.amount_c[i])
            if filled + a > tradable:
                continue
            filled += a
            chosen += 1
            price = o.market_u * 100 + o.payup_e8 + int(pairs.servicing_e8[p])
            weighted += a * price
            in_fill.add(i)
        rows.append({
            "syn_trade_id": o.syn_trade_id, "investor_id": o.instrument.investor_id,
            "investor_instrument_name": o.instrument.name, "coupon": to_decimal(o.coupon_u, MICRO),
            "settlement_date": o.settlement_date, "market_price": to_decimal(o.market_u * 100, E8),
            "payup": to_decimal(o.payup_e8, E8), "lot_size": to_decimal(lot, CENT), "loan_count": len(group),
            "total_amount": to_decimal(total, CENT), "tradable_amount": to_decimal(tradable, CENT),
            "filled_amount": to_decimal(filled, CENT), "tradable_count": chosen,
            "weighted_price": to_decimal(div_half_even(weighted, filled), E8) if filled else None,
        })
    return rows, in_fill



