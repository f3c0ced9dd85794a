"""A tenant's inputs (ENGINE.md §2) read into typed objects, each kind loaded on first use.

Loans are held column-wise: `LoanBook` keeps the raw column values (lists, for rule evaluation)
and exact scaled-integer numpy arrays (cents, micro-units, day ordinals) for the vectorised
eligibility of the candidate builder. Everything is sorted by its key in Python (not by the
database's collation), so every step sees the same order on every dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
from sqlalchemy import Date, select, type_coerce
from sqlalchemy.types import NullType
from sqlalchemy.engine import Connection

from pipeline.db import schema as S
from pipeline.engine.exact import CENT, MICRO, scaled, scaled_array

NO_DAY = -(10**9)  # day ordinal standing for a null date


@dataclass(frozen=True)
class Instrument:
    investor_id: str
    name: str
    type: str  # TBA, SPEC, CASH
    products: frozenset[str]
    min_servicing_u: int | None
    max_servicing_u: int | None
    excess_base_u: int | None  # defaults to min_servicing (0 when both are unset)
    servicing_multiple_u: int
    min_loan_c: int | None
    max_loan_c: int | None
    lead_days: int
    lot_c: int
    min_pool_c: int | None
    max_pool_c: int | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.investor_id, self.name)


@dataclass(frozen=True)
class Trade:
    trade_id: str
    investor_id: str
    instrument_name: str
    coupon_u: int | None
    amount_c: int
    tolerance_u: int
    price_u: int | None
    settlement_date: date
    status: str
    counterparty: str | None

    @property
    def instrument_key(self) -> tuple[str, str]:
        return (self.investor_id, self.instrument_name)


@dataclass(frozen=True)
class Rule:
    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class Constraint:
    investor_id: str
    instrument_name: str
    name: str
    priority: int
    rules: tuple[Rule, ...]


class LoanBook:
    """The tenant's loans, sorted by loan_id, as columns (numbers raw from the driver: a float on
    SQLite, a Decimal elsewhere; `exact.scaled_array` makes them exact integers)."""

    def __init__(self, columns: dict[str, list]):
        ids = columns["loan_id"]
        if all(a < b for a, b in zip(ids, ids[1:])):
            self.columns: dict[str, list] = columns
        else:
            order = sorted(range(len(ids)), key=ids.__getitem__)
            self.columns = {name: [vals[i] for i in order] for name, vals in columns.items()}
        col = self.columns
        self.n = len(ids)
        self.ids: list[str] = col["loan_id"]
        self.index: dict[str, int] = {lid: i for i, lid in enumerate(self.ids)}
        self.amount_c = scaled_array(col["loan_amount"], CENT)
        self.orig_c = scaled_array(col["original_loan_amount"], CENT)
        self.note_u = scaled_array(col["note_rate"], MICRO)
        self.available: list[date | None] = [
            f or c or e for f, c, e in zip(col["funded_date"], col["closing_date"], col["expected_close_date"])
        ]
        self.available_day = np.array([d.toordinal() if d else NO_DAY for d in self.available], dtype=np.int64)
        self.products: list[str] = col["product"]
        self.product_names = sorted(set(self.products))
        self._product_codes = {p: k for k, p in enumerate(self.product_names)}
        self.product_code = np.array([self._product_codes[p] for p in self.products], dtype=np.int64)
        self.pool: list[str | None] = col["current_pool_name"]

    def codes_of(self, products: frozenset[str]) -> np.ndarray:
        return np.array(sorted(self._product_codes[p] for p in products if p in self._product_codes), dtype=np.int64)


def _loan_columns(conn: Connection, tenant_id: str, only=None) -> dict[str, list]:
    """Loans column-wise; numeric columns without per-value type processing (the hot read)."""
    cols = [c for c in S.loans.c if c.name != "tenant_id"]
    sel = [type_coerce(c, NullType()).label(c.name) for c in cols]
    q = select(*sel).where(S.loans.c.tenant_id == tenant_id).order_by(S.loans.c.loan_id)
    if only is not None:
        q = q.where(S.loans.c.loan_id.in_(only))
    rows = conn.execute(q).all()
    values = list(zip(*rows)) if rows else [() for _ in cols]
    out = {c.name: list(v) for c, v in zip(cols, values)}
    for c in cols:  # SQLite hands back dates as ISO text and booleans as ints
        if isinstance(c.type, Date):
            raw = out[c.name]
            parsed = {v: date.fromisoformat(v) for v in set(raw) if isinstance(v, str)}  # few distinct dates
            if parsed:
                out[c.name] = [parsed[v] if isinstance(v, str) else v for v in raw]
    return out


def _rows(conn: Connection, table, tenant_id: str) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(select(table).where(table.c.tenant_id == tenant_id))]


class Book:
    """The inputs of one tenant, read through `conn` the first time each kind is used."""

    def __init__(self, conn: Connection, tenant_id: str, only_loans=None):
        """`only_loans`: a select of loan ids restricting `loans` (the UE step reads its kickouts)."""
        self.conn = conn
        self.tenant_id = tenant_id
        self.only_loans = only_loans

    @cached_property
    def stages(self) -> dict[str, tuple[int, bool]]:
        return {r["stage_name"]: (r["stage_rank"], bool(r["is_active"])) for r in _rows(self.conn, S.loan_stages, self.tenant_id)}

    @cached_property
    def loans(self) -> LoanBook:
        return LoanBook(_loan_columns(self.conn, self.tenant_id, self.only_loans))

    @cached_property
    def pooled_loans(self) -> list[tuple[int, str, str]]:
        """(amount in cents, stage, pool) of every loan with a current pool, in loan_id order."""
        c = S.loans.c
        rows = self.conn.execute(
            select(c.loan_id, type_coerce(c.loan_amount, NullType()), c.stage_name, c.current_pool_name)
            .where(c.tenant_id == self.tenant_id, c.current_pool_name.is_not(None))
        ).all()
        return [(scaled(a, CENT), st, p) for _, a, st, p in sorted(rows)]

    @cached_property
    def instruments(self) -> dict[tuple[str, str], Instrument]:
        out = {}
        for r in _rows(self.conn, S.instruments, self.tenant_id):
            min_s = scaled(r["min_servicing"], MICRO)
            base = scaled(r["excess_servicing_base"], MICRO)
            out[(r["investor_id"], r["investor_instrument_name"])] = Instrument(
                investor_id=r["investor_id"], name=r["investor_instrument_name"], type=r["instrument_type"],
                products=frozenset(p.strip() for p in (r["products"] or "").split(";") if p.strip()),
                min_servicing_u=min_s, max_servicing_u=scaled(r["max_servicing"], MICRO),
                excess_base_u=base if base is not None else (min_s or 0),
                servicing_multiple_u=scaled(r["servicing_multiple"], MICRO) or 0,
                min_loan_c=scaled(r["min_loan_amount"], CENT), max_loan_c=scaled(r["max_loan_amount"], CENT),
                lead_days=int(r["delivery_lead_days"] or 0), lot_c=scaled(r["lot_size"], CENT) or 0,
                min_pool_c=scaled(r["min_pool_amount"], CENT), max_pool_c=scaled(r["max_pool_amount"], CENT),
            )
        return out

    @cached_property
    def instruments_by_name(self) -> dict[str, Instrument]:
        """`investor_instrument_name` is unique within a tenant (it keys carry, payups, prices)."""
        return {i.name: i for i in self.instruments.values()}

    @cached_property
    def trades(self) -> list[Trade]:
        out = [
            Trade(
                trade_id=r["trade_id"], investor_id=r["investor_id"], instrument_name=r["investor_instrument_name"],
                coupon_u=scaled(r["coupon"], MICRO), amount_c=scaled(r["trade_amount"], CENT),
                tolerance_u=scaled(r["tolerance_pct"], MICRO), price_u=scaled(r["price"], MICRO),
                settlement_date=r["settlement_date"], status=r["status"], counterparty=r["counterparty"],
            )
            for r in _rows(self.conn, S.trades, self.tenant_id)
        ]
        return sorted(out, key=lambda t: t.trade_id)

    @cached_property
    def pools(self) -> dict[str, str | None]:
        """pool_name -> its trade (the pool's trade is always this column)."""
        return {r["pool_name"]: r["trade_id"] for r in _rows(self.conn, S.pools, self.tenant_id)}

    @cached_property
    def locked_pools(self) -> frozenset[str]:
        return frozenset(r["pool_name"] for r in _rows(self.conn, S.lockdowns, self.tenant_id) if r["lock_pool"])

    @cached_property
    def constraints(self) -> dict[tuple[str, str], list[Constraint]]:
        """Per instrument key, its constraints in claim order: priority, then name."""
        rules: dict[tuple[str, str, str], list[Rule]] = {}
        for r in _rows(self.conn, S.constraint_rules, self.tenant_id):
            key = (r["investor_id"], r["investor_instrument_name"], r["constraint_name"])
            rules.setdefault(key, []).append(Rule(r["field"], r["operator"], r["value"]))
        out: dict[tuple[str, str], list[Constraint]] = {}
        for r in _rows(self.conn, S.constraints, self.tenant_id):
            key = (r["investor_id"], r["investor_instrument_name"], r["constraint_name"])
            out.setdefault(key[:2], []).append(Constraint(
                investor_id=key[0], instrument_name=key[1], name=key[2], priority=int(r["constraint_priority"]),
                rules=tuple(sorted(rules.get(key, []), key=lambda x: (x.field, x.operator, x.value))),
            ))
        for cons in out.values():
            cons.sort(key=lambda c: (c.priority, c.name))
        return out

    @cached_property
    def carry_curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per instrument name: (on_day ascending, funding_rate in micro-units)."""
        points: dict[str, list[tuple[int, int]]] = {}
        for r in _rows(self.conn, S.carry_costs, self.tenant_id):
            points.setdefault(r["investor_instrument_name"], []).append((int(r["on_day"]), scaled(r["funding_rate"], MICRO)))
        return {
            name: (np.array([p[0] for p in sorted(pts)], dtype=np.int64), np.array([p[1] for p in sorted(pts)], dtype=np.int64))
            for name, pts in points.items()
        }

    @cached_property
    def payups(self) -> dict[tuple[str, int], tuple[int, int]]:
        """(instrument name, coupon µ) -> (payup_value µ, div_by µ)."""
        return {
            (r["investor_instrument_name"], scaled(r["coupon"], MICRO)): (scaled(r["payup_value"], MICRO), scaled(r["div_by"], MICRO))
            for r in _rows(self.conn, S.payups, self.tenant_id)
        }

    @cached_property
    def cash_grids(self) -> dict[str, list[tuple[int, int]]]:
        """trade_id -> [(note_rate µ, price µ)] sorted by note rate."""
        out: dict[str, list[tuple[int, int]]] = {}
        c = S.cash_grids.c
        rows = self.conn.execute(  # numbers raw from the driver (the largest of the small inputs)
            select(c.trade_id, type_coerce(c.note_rate, NullType()), type_coerce(c.price, NullType()))
            .where(c.tenant_id == self.tenant_id)
        ).all()
        for trade_id, rate, price in rows:
            out.setdefault(trade_id, []).append((scaled(rate, MICRO), scaled(price, MICRO)))
        for pts in out.values():
            pts.sort()
        return out

    @cached_property
    def market_prices(self) -> list[tuple[str, int, date, int]]:
        """(instrument name, coupon µ, settlement date, price µ), sorted."""
        return sorted(
            (r["investor_instrument_name"], scaled(r["coupon"], MICRO), r["settlement_date"], scaled(r["price"], MICRO))
            for r in _rows(self.conn, S.market_prices, self.tenant_id)
        )
