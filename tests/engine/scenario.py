"""A tiny hand-built book for engine tests: inputs inserted directly, one run executed by the
real runner and steps, outputs read back sorted.

Defaults make a valid one-instrument book (a TBA instrument `FN30` with one catch-all constraint);
each test sets only what its rule is about.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from pipeline.db import schema as S
from pipeline.engine.options import RunOptions
from pipeline.engine.runner import RunContext, run_pending_steps, run_summary, utcnow

AS_OF = date(2026, 11, 2)


def d(x) -> Decimal | None:
    return None if x is None else Decimal(str(x))


def day(n: int) -> date:
    return AS_OF + timedelta(days=n)


class Scenario:
    def __init__(self, engine, tenant_id: str | None = None):
        self.engine = engine
        self.tenant_id = tenant_id or f"t-{uuid.uuid4().hex[:12]}"
        self.rows: dict[str, list[dict]] = {name: [] for name in S.INPUT_TABLES}
        self.stages = [("Application", 10, True), ("Approved", 30, True), ("Closed", 60, True),
                       ("Funded", 70, True), ("Shipped", 80, False)]

    # ---- inputs -------------------------------------------------------------------------------
    def loan(self, loan_id: str, amount=200_000, **kw) -> "Scenario":
        row = dict(loan_id=loan_id, loan_amount=d(amount), original_loan_amount=d(kw.pop("original", amount)),
                   note_rate=d(kw.pop("note_rate", "6.5")), product="CONV30", stage_name="Closed",
                   lock_date=None, lock_expiration_date=None, expected_close_date=None, closing_date=day(-10),
                   funded_date=day(-5), fico=740, ltv=d(80), dti=d(36), property_state="CA", occupancy="Primary",
                   loan_purpose="Purchase", property_type="SFR", units=1, current_pool_name=None)
        row.update(kw)
        self.rows["loans"].append(row)
        return self

    def instrument(self, name="FN30", investor="FNMA", kind="TBA", constraint=True, **kw) -> "Scenario":
        row = dict(investor_id=investor, investor_instrument_name=name, instrument_type=kind, term_months=360,
                   products="CONV30", min_servicing=d("0.25") if kind != "CASH" else None,
                   max_servicing=d("2") if kind != "CASH" else None, excess_servicing_base=None,
                   servicing_multiple=d(0), min_loan_amount=None, max_loan_amount=None, delivery_lead_days=0,
                   lot_size=d(1_000_000), min_pool_amount=None, max_pool_amount=None)
        row.update({k: (d(v) if isinstance(v, (int, float, str)) and k not in ("products", "delivery_lead_days", "term_months") else v)
                    for k, v in kw.items()})
        self.rows["instruments"].append(row)
        if constraint:
            self.constraint(name, investor=investor)
        return self

    def constraint(self, instrument="FN30", name="ALL", priority=1, rules=(), investor="FNMA") -> "Scenario":
        self.rows["constraints"].append(dict(investor_id=investor, investor_instrument_name=instrument,
                                             constraint_name=name, constraint_priority=priority))
        for field, op, value in rules:
            self.rows["constraint_rules"].append(dict(investor_id=investor, investor_instrument_name=instrument,
                                                      constraint_name=name, field=field, operator=op, value=value))
        return self

    def trade(self, trade_id: str, amount=1_000_000, instrument="FN30", investor="FNMA", **kw) -> "Scenario":
        row = dict(trade_id=trade_id, investor_id=investor, investor_instrument_name=instrument,
                   coupon=d(kw.pop("coupon", "6")), trade_amount=d(amount), tolerance_pct=d(kw.pop("tolerance", 5)),
                   price=d(kw.pop("price", 101)), settlement_date=kw.pop("settle", day(20)), status="Open",
                   counterparty="CP")
        row.update(kw)
        self.rows["trades"].append(row)
        return self

    def cash_trade(self, trade_id: str, grid: list[tuple], amount=1_000_000, instrument="CASH1", **kw) -> "Scenario":
        self.trade(trade_id, amount=amount, instrument=instrument, coupon=None, price=None, **kw)
        for rate, price in grid:
            self.rows["cash_grids"].append(dict(trade_id=trade_id, note_rate=d(rate), price=d(price)))
        return self

    def pool(self, name: str, trade_id: str | None, locked: bool | None = None) -> "Scenario":
        self.rows["pools"].append(dict(pool_name=name, trade_id=trade_id))
        if locked is not None:
            self.rows["lockdowns"].append(dict(pool_name=name, lock_pool=locked))
        return self

    def carry(self, instrument="FN30", points=((0, "5"),)) -> "Scenario":
        for on_day, rate in points:
            self.rows["carry_costs"].append(dict(investor_instrument_name=instrument, on_day=on_day, funding_rate=d(rate)))
        return self

    def payup(self, instrument="FN30", coupon="6", value="8", div_by="32") -> "Scenario":
        self.rows["payups"].append(dict(investor_instrument_name=instrument, coupon=d(coupon), payup_value=d(value), div_by=d(div_by)))
        return self

    def market(self, instrument="FN30", coupon="6", settle=None, price="100.5") -> "Scenario":
        self.rows["market_prices"].append(dict(investor_instrument_name=instrument, coupon=d(coupon),
                                               settlement_date=settle or day(30), price=d(price)))
        return self

    # ---- run ----------------------------------------------------------------------------------
    def run(self, **options: Any) -> "RunResult":
        with self.engine.begin() as conn:
            if not self.rows["loan_stages"]:
                self.rows["loan_stages"] = [dict(stage_name=n, stage_rank=r, is_active=a) for n, r, a in self.stages]
            for name, table in S.INPUT_TABLES.items():
                rows = self.rows[name]
                if rows:
                    conn.execute(insert(table), [{**r, "tenant_id": self.tenant_id} for r in rows])
                self.rows[name] = []
        return self.rerun(**options)

    def rerun(self, **options: Any) -> "RunResult":
        options.setdefault("as_of_date", AS_OF.isoformat())
        opts = RunOptions(**options).resolved("America/New_York")
        run_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(insert(S.run_history).values(
                run_id=run_id, tenant_id=self.tenant_id, status="Pending", trigger="cli",
                options_json=json.dumps(opts.to_json_dict()), started_at_utc=utcnow()))
        run_pending_steps(RunContext(self.engine, self.tenant_id, run_id, opts))
        with self.engine.begin() as conn:  # let the next run of this tenant start (BR-8)
            conn.execute(S.run_history.update().where(S.run_history.c.run_id == run_id).values(status="Complete"))
        return RunResult(self.engine, run_id)


class RunResult:
    def __init__(self, engine, run_id: str):
        self.engine, self.run_id = engine, run_id

    def rows(self, table) -> list[dict]:
        keys = [c for c in table.primary_key.columns if c.name != "run_id"]
        with self.engine.connect() as conn:
            out = conn.execute(select(table).where(table.c.run_id == self.run_id).order_by(*keys)).mappings().all()
        return [{k: v for k, v in r.items() if k not in ("run_id", "tenant_id")} for r in out]

    def by_loan(self, table) -> dict[str, dict]:
        return {r["loan_id"]: r for r in self.rows(table)}

    @property
    def summary(self) -> dict:
        with self.engine.connect() as conn:
            return run_summary(conn, self.run_id)

    @property
    def guide(self) -> dict[str, dict]:
        return self.by_loan(S.powerfill_guide)

    @property
    def kickouts(self) -> dict[str, dict]:
        return self.by_loan(S.kickout_guide)

    @property
    def candidates(self) -> list[dict]:
        return self.rows(S.candidates)

    def candidate(self, loan_id: str, trade_id: str) -> dict | None:
        return next((c for c in self.candidates if c["loan_id"] == loan_id and c["trade_id"] == trade_id), None)

    @property
    def trades(self) -> dict[str, dict]:
        return {r["trade_id"]: r for r in self.rows(S.trade_base)}

    @property
    def pool_guide(self) -> dict[str, dict]:
        return self.by_loan(S.pool_guide)
