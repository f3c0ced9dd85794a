"""Shape of a generated book under the default run options: how much of the pipeline is in
scope, how many candidate trades an eligible loan has, and how demand compares with supply.

Written into `dataset.json` so a benchmark can say what it ran on; the figures use the generator's
own eligibility reading (`eligibility.py`), which follows ENGINE.md §4 but is not the engine.
"""

from __future__ import annotations

import numpy as np

from pipeline.demo.loans import NO_DATE, LoanArrays
from pipeline.demo.trades import Trade


def book_stats(loans: LoanArrays, trades: list[Trade], locked_pools: set[str], horizon_days: int = 60) -> dict:
    pinned = loans.active & np.isin(loans.pool, sorted(locked_pools)) if locked_pools else np.zeros(loans.n, bool)
    scope = loans.in_scope & ~pinned
    live = [t for t in trades if t.status == "Open" and 0 <= t.settle_day <= horizon_days]
    per_loan = np.zeros(loans.n, dtype=np.int64)
    for t in live:
        c = t.candidates[scope[t.candidates]]
        per_loan[c] += 1
    eligible = per_loan > 0
    counts = per_loan[eligible]
    expired = (loans.lock_date != NO_DATE) & (loans.lock_exp < 0) & loans.active & (loans.stage_rank < 60)
    pct = (lambda q: int(np.percentile(counts, q))) if len(counts) else (lambda q: 0)
    demand = sum(t.amount_cents for t in live) / 100
    return {
        "loans_in_scope": int(scope.sum()),
        "loans_pinned": int(pinned.sum()),
        "loans_locked_expired": int(expired.sum()),
        "loans_eligible": int(eligible.sum()),
        "candidate_pairs": int(counts.sum()),
        "candidates_per_eligible_loan": {
            "mean": round(float(counts.mean()), 2) if len(counts) else 0.0,
            "p10": pct(10), "median": pct(50), "p90": pct(90), "max": int(counts.max()) if len(counts) else 0,
        },
        "trades_in_scope": len(live),
        "in_scope_trade_amount": round(demand, 2),
        "eligible_loan_amount": round(float(loans.amount_cents[eligible].sum()) / 100, 2),
        "low_balance_loans": {
            f"le_{cap // 1000}k": int((loans.active & (loans.orig_cents <= cap * 100)).sum())
            for cap in (85_000, 110_000, 125_000)
        },
    }
