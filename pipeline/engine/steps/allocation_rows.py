"""The allocation step's rows, from the read outputs and the allocator's answer.

Guide (with runner-up), kickouts (one reason each, ENGINE.md §5 step 4), trade fills, constraint
blocks per constraint × trade, fill per trade × level, and the cash-market map. Capacity is
re-checked here in cents: an allocation over a trade's open capacity is a bug, never written.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np

from pipeline.db import schema as S
from pipeline.db.bulk import ColumnRows, Scaled
from pipeline.engine.eligibility import Scoped
from pipeline.engine.exact import CENT, E8, MICRO, scaled, to_decimal
from pipeline.engine.options import RunOptions
from pipeline.engine.steps.outputs import CandidateArrays, LoanScope

NOT_SELECTED = "NOT_SELECTED"
CAPACITY = "CAPACITY"


class AllocationView:
    """The step 1–3 outputs of a run, as arrays indexed like the candidates."""

    def __init__(self, trade_rows: list[dict], scope: LoanScope, cands: CandidateArrays, grid_rows: list[dict]):
        self.trade_rows, self.loans, self.cands = trade_rows, scope, cands
        self.trade_ids = [r["trade_id"] for r in trade_rows]
        self.loan_ids = scope.loan_ids
        cents = lambda rows, col: np.array([scaled(r[col], CENT) for r in rows], dtype=np.int64)  # noqa: E731
        self.capacity_c = cents(trade_rows, "open_capacity")
        self.locked_c = cents(trade_rows, "locked_amount")
        self.min_c = cents(trade_rows, "min_amount")
        self.max_c = cents(trade_rows, "max_amount")
        self.min_need_c = np.maximum(self.min_c - self.locked_c, 0)
        self.over_locked = np.array(["OverLocked" in r["flags"] for r in trade_rows], dtype=bool)
        self.amount_c = scope.amount_c
        self.scope = scope.scope
        self.grids: dict[str, list[dict]] = defaultdict(list)
        for g in grid_rows:
            self.grids[g["trade_id"]].append(g)

    @property
    def n_trades(self) -> int:
        return len(self.trade_ids)


def build_rows(view: AllocationView, loan_trade: np.ndarray, options: RunOptions):
    c = view.cands
    n_t = max(view.n_trades, 1)
    keys = c.loan * n_t + c.trade
    placed = np.flatnonzero(loan_trade >= 0)
    pair_of = np.full(len(view.loan_ids), -1, dtype=np.int64)
    if len(placed):
        pos = np.searchsorted(keys, placed * n_t + loan_trade[placed])
        if (pos >= len(keys)).any() or (keys[np.minimum(pos, len(keys) - 1)] != placed * n_t + loan_trade[placed]).any():
            raise RuntimeError("the allocator placed a loan in a trade that is not its candidate")
        pair_of[placed] = pos
    used = pair_of[placed]
    fill = np.bincount(c.trade[used], weights=view.amount_c[c.loan[used]], minlength=view.n_trades).astype(np.int64) \
        if len(used) else np.zeros(view.n_trades, dtype=np.int64)
    if (fill > view.capacity_c).any():
        bad = int(np.flatnonzero(fill > view.capacity_c)[0])
        raise RuntimeError(f"trade {view.trade_ids[bad]} allocated {fill[bad]} cents over its open capacity")
    first = np.full(len(view.loan_ids), -1, dtype=np.int64)
    second = np.full(len(view.loan_ids), -1, dtype=np.int64)
    first[c.loan[c.rank == 1]] = np.flatnonzero(c.rank == 1)
    second[c.loan[c.rank == 2]] = np.flatnonzero(c.rank == 2)

    guide = _guide_rows(view, placed, pair_of, first, second)
    kickouts = _kickout_rows(view, pair_of, first, fill)
    fills, trade_metrics = _fills(view, placed, pair_of, fill)
    cblocks, trade_levels = _blocks(view, pair_of)
    cash = _cash_map(view, placed, pair_of)
    metrics = {
        "allocated_count": len(placed),
        "kicked_out_count": len(kickouts),
        "cblock_count": len(cblocks),
        "kickouts_by_reason": dict(sorted(_count(kickouts.columns["reason"]).items())),
        **trade_metrics,
    }
    rows = {S.powerfill_guide: guide, S.kickout_guide: kickouts, S.cblock_guide: cblocks,
            S.trade_cblock_base: trade_levels, S.cash_market_map: cash}
    return rows, fills, metrics


def _count(items) -> dict:
    out: dict = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


def _guide_rows(view, placed, pair_of, first, second) -> ColumnRows:
    c = view.cands
    p = pair_of[placed]
    runner = np.where(c.rank[p] != 1, first[placed], second[placed])
    has = runner >= 0
    r = np.where(has, runner, 0)
    diff = c.value_e8[p] - c.value_e8[r]
    return ColumnRows(len(placed), {
        "loan_id": [view.loan_ids[i] for i in placed.tolist()],
        "trade_id": [view.trade_ids[t] for t in c.trade[p].tolist()],
        "constraint_name": [c.constraint_names[k] for k in c.constraint[p].tolist()],
        "level": c.level[p].tolist(), "loan_amount": Scaled(view.amount_c[placed], CENT),
        "price": Scaled(c.price_e8[p], E8), "servicing_value": Scaled(c.servicing_e8[p], E8), "carry": Scaled(c.carry_e8[p], E8),
        "value": Scaled(c.value_e8[p], E8), "objective_value": Scaled(c.objective_c[p], CENT),
        "runner_up_trade_id": [view.trade_ids[c.trade[x]] if ok else None for x, ok in zip(r.tolist(), has.tolist())],
        "runner_up_value_diff": [v if ok else None for v, ok in zip(numbers_for(diff, E8), has.tolist())],
    })


def numbers_for(arr: np.ndarray, places: int) -> list:
    """Exact Decimals (the dialect-neutral form a list column carries)."""
    return [Decimal(v).scaleb(-places) for v in arr.tolist()]


def _kickout_rows(view, pair_of, first, fill) -> ColumnRows:
    c, s = view.cands, view.loans
    room = view.capacity_c - fill
    pair_room = room[c.trade] >= view.amount_c[c.loan]
    loan_has_room = np.zeros(len(view.loan_ids), dtype=bool)
    loan_has_room[c.loan[pair_room]] = True
    eligible = np.fromiter((x in (Scoped.CLOSED, Scoped.LOCKED) for x in s.scope), dtype=bool, count=len(s))
    out = np.flatnonzero(eligible & (pair_of < 0)).tolist()
    reasons, details, bests = [], [], []
    for i in out:
        if s.candidate_count[i] == 0:
            reason, best = s.fail_reason[i], s.fail_trade[i]
            detail = {
                "NO_AVAILABLE_DATE": "the loan has no funded, closing or expected close date",
                "NO_IN_SCOPE_TRADE": "the run has no in-scope trade",
            }.get(reason, f"failed {reason} at {best} (the test it passed furthest at any in-scope trade)")
        else:
            p = int(first[i])
            best = view.trade_ids[c.trade[p]]
            value = to_decimal(c.value_e8[p], E8)
            if loan_has_room[i]:
                reason = NOT_SELECTED
                detail = f"a candidate trade has room; left out on value (best {best} at {value})"
            else:
                reason = CAPACITY
                detail = f"no candidate trade has room for {to_decimal(view.amount_c[i], CENT)} (best {best} at {value})"
        reasons.append(reason)
        details.append(detail)
        bests.append(best)
    return ColumnRows(len(out), {"loan_id": [view.loan_ids[i] for i in out], "reason": reasons, "detail": details,
                                 "best_trade_id": bests})


def _fills(view, placed, pair_of, fill):
    c = view.cands
    t = c.trade[pair_of[placed]]
    closed_loan = np.fromiter((view.scope[i] == Scoped.CLOSED for i in placed.tolist()), dtype=bool, count=len(placed))
    amount = view.amount_c[placed]
    count = np.bincount(t, minlength=view.n_trades)
    closed = _sum_by(t[closed_loan], amount[closed_loan], view.n_trades)
    locked_loans = _sum_by(t[~closed_loan], amount[~closed_loan], view.n_trades)
    fills = []
    short_total = 0
    filled = 0
    for t, trade_id in enumerate(view.trade_ids):
        total = int(view.locked_c[t] + fill[t])
        short = max(0, int(view.min_need_c[t] - fill[t]))
        over = max(0, total - int(view.max_c[t]))
        status = "OverLocked" if view.over_locked[t] else ("Filled" if total >= view.min_c[t] else "Under")
        filled += status == "Filled"
        short_total += short
        fills.append({
            "trade_id": trade_id, "allocated_amount": to_decimal(fill[t], CENT), "allocated_count": int(count[t]),
            "closed_fill_amount": to_decimal(closed[t], CENT), "locked_loan_fill_amount": to_decimal(locked_loans[t], CENT),
            "shortfall_amount": to_decimal(short, CENT), "over_amount": to_decimal(over, CENT), "fill_status": status,
        })
    metrics = {
        "allocated_amount": str(to_decimal(int(fill.sum()), CENT)),
        "trades_in_scope": view.n_trades,
        "trades_filled": int(filled),
        "shortfall_amount": str(to_decimal(short_total, CENT)),
    }
    return fills, metrics


def _blocks(view, pair_of):
    """Per constraint × trade: capacity offered when its level is solved, and what it consumed;
    per trade × level: what it got."""
    c = view.cands
    on = np.zeros(len(c), dtype=bool)
    on[pair_of[pair_of >= 0]] = True
    got = np.where(on, view.amount_c[c.loan], 0)
    n_k = max(len(c.constraint_names), 1)
    # (trade, level) groups, in (trade, level) order
    # one int64 key per (trade, level), ordered like the pair: np.unique(axis=1) sorts void rows, slowly
    lv_min = int(c.level.min()) if len(c) else 0
    lv_span = (int(c.level.max()) - lv_min + 1) if len(c) else 1
    packed, lv_inv = np.unique(c.trade * lv_span + (c.level - lv_min), return_inverse=True)
    lv_keys = np.stack([packed // lv_span, packed % lv_span + lv_min])
    lv_amount = np.bincount(lv_inv.ravel(), weights=got, minlength=lv_keys.shape[1]).astype(np.int64)
    lv_count = np.bincount(lv_inv.ravel(), weights=on, minlength=lv_keys.shape[1]).astype(np.int64)
    earlier = np.zeros(lv_keys.shape[1], dtype=np.int64)  # fill of the trade's lower levels
    for g in range(1, lv_keys.shape[1]):
        if lv_keys[0, g] == lv_keys[0, g - 1]:
            earlier[g] = earlier[g - 1] + lv_amount[g - 1]
    trade_levels = [{"trade_id": view.trade_ids[t], "level": int(lv), "allocated_amount": to_decimal(a, CENT),
                     "allocated_count": int(n)}
                    for t, lv, a, n in zip(lv_keys[0].tolist(), lv_keys[1].tolist(), lv_amount.tolist(), lv_count.tolist())]
    before = {(t, lv): e for t, lv, e in zip(lv_keys[0].tolist(), lv_keys[1].tolist(), earlier.tolist())}
    keys, first, inv = np.unique(c.trade * n_k + c.constraint, return_index=True, return_inverse=True)
    n = np.bincount(inv, minlength=len(keys))
    consumed = np.bincount(inv, weights=got, minlength=len(keys)).astype(np.int64)
    count = np.bincount(inv, weights=on, minlength=len(keys)).astype(np.int64)
    rows = []
    for g, key in enumerate(keys.tolist()):
        t, k, lv = key // n_k, key % n_k, int(c.level[first[g]])
        tr = view.trade_rows[t]
        rows.append({
            "investor_id": tr["investor_id"], "investor_instrument_name": tr["investor_instrument_name"],
            "constraint_name": c.constraint_names[k], "trade_id": view.trade_ids[t], "level": lv,
            "candidate_count": int(n[g]),
            "capacity_offered": to_decimal(max(0, int(view.capacity_c[t]) - before[(t, lv)]), CENT),
            "consumed": to_decimal(int(consumed[g]), CENT), "allocated_count": int(count[g]),
        })
    rows.sort(key=lambda r: (r["investor_id"], r["investor_instrument_name"], r["constraint_name"], r["trade_id"]))
    return rows, trade_levels


def _sum_by(group: np.ndarray, amount: np.ndarray, n: int) -> np.ndarray:
    """Exact int64 sums per group (bincount's float weights could round above 2**53 cents)."""
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, group, amount)
    return out


def _cash_map(view, placed, pair_of) -> ColumnRows:
    """Allocations to CASH trades with their grid slot: the grid row with the largest note rate
    ≤ the loan's."""
    c = view.cands
    is_cash = np.array([r["instrument_type"] == "CASH" for r in view.trade_rows] or [False], dtype=bool)
    t = c.trade[pair_of[placed]]
    on_cash = is_cash[t] if len(t) else np.zeros(0, dtype=bool)
    loans, trades = placed[on_cash], t[on_cash]
    note_u = view.loans.note_u[loans]
    slot = np.full(len(loans), -1, dtype=np.int64)
    grid_of = []  # per trade: its grid rows, in note-rate order
    for tr in np.unique(trades).tolist():
        grid = view.grids[view.trade_ids[tr]]
        rates = np.array([scaled(g["note_rate"], MICRO) for g in grid], dtype=np.int64)
        mine = np.flatnonzero(trades == tr)
        pos = np.searchsorted(rates, note_u[mine], side="right") - 1  # largest rate <= note rate
        slot[mine] = np.where(pos >= 0, len(grid_of) + pos, -1)
        grid_of.extend(grid)
    keep = np.flatnonzero(slot >= 0)
    rows = [grid_of[k] for k in slot[keep].tolist()]
    return ColumnRows(len(keep), {
        "loan_id": [view.loan_ids[i] for i in loans[keep].tolist()],
        "trade_id": [view.trade_ids[x] for x in trades[keep].tolist()],
        "note_rate": Scaled(note_u[keep], MICRO), "grid_note_rate": [g["note_rate"] for g in rows],
        "grid_price": [g["price"] for g in rows], "loan_amount": Scaled(view.amount_c[loans[keep]], CENT),
    })
