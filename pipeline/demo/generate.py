"""Builds a whole demo book: `generate(size, seed, as_of)` → rows per input kind.

Each part of the book draws from its own numpy stream seeded with (seed, part), so the output is a
function of (size, seed, as_of, numpy version) only, and changing how one part is drawn leaves the
others alone. Nothing iterates a set or an unordered dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from pipeline.demo import profiles as P
from pipeline.demo import rows as R
from pipeline.demo.book import cash_window_instruments, core_instruments, settlement_date, settlement_months
from pipeline.demo.loans import generate_loans
from pipeline.demo.pools import build_pools
from pipeline.demo.stats import book_stats
from pipeline.demo.trades import plan_trades

HORIZON_DAYS = 60  # RunOptions.max_trade_settle_days default: market prices cover this horizon


@dataclass
class Dataset:
    size: str
    seed: int
    as_of: date
    data: dict[str, list[dict]]
    stats: dict = field(default_factory=dict)

    def manifest(self) -> dict:
        return {
            "generator": "pipeline.demo", "generator_version": P.GENERATOR_VERSION,
            "numpy_version": np.__version__, "size": self.size, "seed": self.seed,
            "as_of_date": self.as_of.isoformat(),
            "row_counts": {k: len(v) for k, v in self.data.items()},
            "stats": self.stats,
        }


def build(size: str, seed: int, as_of: date = P.DEFAULT_AS_OF) -> Dataset:
    if size not in P.SIZES:
        raise ValueError(f"unknown size {size!r}: expected one of {', '.join(P.SIZES)}")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    profile = P.SIZES[size]

    def stream(part: int) -> np.random.Generator:
        return np.random.default_rng([seed, part])

    loans = generate_loans(stream(1), profile.loans)
    instruments = core_instruments() + cash_window_instruments(profile)
    trades = plan_trades(stream(2), profile, instruments, loans, as_of)
    pools = build_pools(stream(3), loans, trades, HORIZON_DAYS)

    months = settlement_months(as_of)
    horizon = as_of + timedelta(days=HORIZON_DAYS)
    settle_dates = {}
    for i in instruments:
        dates = [settlement_date(i, ym) for ym in months]
        settle_dates[i.name] = [d for d in dates if d <= horizon] or dates[:1]

    pool_rows, lockdown_rows = R.pool_rows(pools)
    constraints, rules = R.constraint_rows(instruments)
    data = {
        "loan_stages": R.stage_rows(),
        "loans": R.loan_rows(loans, as_of),
        "instruments": R.instrument_rows(instruments),
        "trades": R.trade_rows(trades),
        "pools": pool_rows,
        "lockdowns": lockdown_rows,
        "constraints": constraints,
        "constraint_rules": rules,
        "carry_costs": R.carry_rows(stream(4), instruments),
        "payups": R.payup_rows(instruments),
        "cash_grids": R.cash_grid_rows(trades),
        "market_prices": R.market_price_rows(instruments, settle_dates),
    }
    locked = {name for name, on in pools.lockdowns if on}
    return Dataset(size, seed, as_of, data, book_stats(loans, trades, locked, HORIZON_DAYS))


def generate(size: str, seed: int, as_of: date = P.DEFAULT_AS_OF) -> dict[str, list[dict]]:
    """Rows per input kind (ENGINE.md §2), typed: Decimal, date, bool, int, str, None."""
    return build(size, seed, as_of).data
