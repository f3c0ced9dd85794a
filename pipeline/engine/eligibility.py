"""Who takes part in a run (ENGINE.md §4): in-scope loans, pinned loans, trade windows, in-scope
trades, and the constraint rules that decide a loan's constraint at an instrument.

The eligibility tests themselves (product … constraint rules) are applied pair-wise by the
candidate builder (`pipeline.engine.steps.candidate_builder`) and, for synthetic options, by the
UE step; both use `TESTS` for the order that names a kickout reason and `constraint_index` for
the last test.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

import numpy as np
from sqlalchemy import Date, Integer, Numeric

from pipeline.db import schema as S
from pipeline.engine.book import NO_DAY, Book, Constraint, Instrument, Rule, Trade
from pipeline.engine.exact import MICRO, scaled_array, tolerance_cents
from pipeline.engine.options import RunOptions, Scope

# The §4 tests in order; a loan's kickout names the one it failed furthest down this list.
# Index 3 is SERVICING for TBA/SPEC trades and GRID_RANGE for CASH; TBA/SPEC pass PRICE_FLOOR.
TESTS = ("PRODUCT", "LOAN_AMOUNT", "SETTLE_DATE", "SERVICING", "PRICE_FLOOR", "CONSTRAINT_RULES")
PASSED = len(TESTS)


def test_name(stage: int, instrument_type: str) -> str:
    if stage == 3 and instrument_type == "CASH":
        return "GRID_RANGE"
    return TESTS[stage]


class Scoped:
    """Loan scope labels written to pfill_loan_scope."""

    CLOSED = "Closed"
    LOCKED = "Locked"
    PINNED = "Pinned"
    OUT = "OutOfScope"


@dataclass
class LoanScope:
    """Per loan (index of `book.loans`): its scope label, or None for loans no step reports
    (inactive stage, or active but neither in scope, pinned nor pooled)."""

    label: list[str | None]
    pool_trade: list[str | None]  # the trade of the loan's current pool
    pool_locked: np.ndarray        # bool

    @property
    def in_scope(self) -> np.ndarray:
        return np.array([lab in (Scoped.CLOSED, Scoped.LOCKED) for lab in self.label], dtype=bool)


def loan_scope(book: Book, options: RunOptions) -> LoanScope:
    loans = book.loans
    if options.min_status not in book.stages:
        raise ValueError(f"min_status {options.min_status!r} is not a loan stage")
    col = loans.columns
    closed_rank = book.stages[options.min_status][0]
    as_of = options.as_of_date.toordinal()
    stage = [book.stages.get(s, (0, False)) for s in col["stage_name"]]
    active = np.array([a for _, a in stage], dtype=bool)
    closed = active & (np.array([r for r, _ in stage], dtype=np.int64) >= closed_rank)
    if options.max_eligible_days > 0:  # aging: a closed loan funded too long ago is out
        funded = _days(col["funded_date"])
        closed &= (funded == NO_DAY) | (funded >= as_of - options.max_eligible_days)
    locked = np.zeros(loans.n, dtype=bool)
    if options.scope == Scope.CLOSED_AND_LOCKED:
        expiry = _days(col["lock_expiration_date"])
        has_lock = np.array([d is not None for d in col["lock_date"]], dtype=bool)
        locked = active & ~closed & has_lock & (expiry != NO_DAY) & (expiry >= as_of)
        # a closed loan dropped by aging stays out even with a live lock
        locked &= np.array([r < closed_rank for r, _ in stage], dtype=bool)
    pooled = np.array([p is not None for p in loans.pool], dtype=bool)
    pool_locked = active & np.array([p in book.locked_pools if p else False for p in loans.pool], dtype=bool)
    if options.loan_ids is not None:
        wanted = np.isin(np.array(loans.ids, dtype=object), np.array(options.loan_ids, dtype=object))
        closed &= wanted
        locked &= wanted
    labels = np.full(loans.n, None, dtype=object)
    labels[active & pooled] = Scoped.OUT
    labels[locked] = Scoped.LOCKED
    labels[closed] = Scoped.CLOSED
    labels[pool_locked] = Scoped.PINNED
    pool_trade = [book.pools.get(p) if p else None for p in loans.pool]
    return LoanScope(labels.tolist(), pool_trade, pool_locked)


def _days(values: list) -> np.ndarray:
    return np.array([d.toordinal() if d is not None else NO_DAY for d in values], dtype=np.int64)


def locked_amounts(book: Book) -> dict[str, int]:
    """trade_id -> cents of its locked pools' active-stage loans (in scope or not). Reads only
    the pooled loans, so step 2 does not load the whole loan book."""
    out: dict[str, int] = {}
    for amount_c, stage, pool in book.pooled_loans:
        trade_id = book.pools.get(pool)
        if pool in book.locked_pools and trade_id is not None and book.stages.get(stage, (0, False))[1]:
            out[trade_id] = out.get(trade_id, 0) + amount_c
    return out


def in_scope_trades(book: Book, options: RunOptions) -> list[Trade]:
    """Open, settling within [as_of, as_of + max_trade_settle_days], with a constraint; by id."""
    as_of = options.as_of_date
    horizon = as_of + timedelta(days=options.max_trade_settle_days)
    return [
        t for t in book.trades
        if t.status == "Open" and as_of <= t.settlement_date <= horizon and book.constraints.get(t.instrument_key)
        and t.instrument_key in book.instruments
    ]


@dataclass(frozen=True)
class Window:
    tolerance_c: int
    min_c: int
    max_c: int
    locked_c: int

    @property
    def open_capacity_c(self) -> int:
        return max(0, self.max_c - self.locked_c)

    @property
    def over_locked(self) -> bool:
        return self.locked_c > self.max_c

    @property
    def min_need_c(self) -> int:
        return max(0, self.min_c - self.locked_c)


def window(trade: Trade, locked_c: int) -> Window:
    tol = tolerance_cents(trade.amount_c, trade.tolerance_u)
    return Window(tol, trade.amount_c - tol, trade.amount_c + tol, locked_c)


# ---- constraint rules ---------------------------------------------------------------------------

_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _target(kind: str, field: str, text: str):
    """A rule value parsed by the loan column's type (the importer already checked it parses).

    Numbers become (floor of value × 10**6, has_fraction): a loan value in micro-units is an
    int, so comparing with a finer rule value stays exact (see `_compare_scaled`)."""
    try:
        if kind == "num":
            six = Decimal(text.strip()).scaleb(MICRO)
            floor = int(six.to_integral_value(rounding=ROUND_FLOOR))
            return floor, six != floor
        if kind == "date":
            return date.fromisoformat(text.strip()).toordinal(), False
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"rule value {text!r} does not parse for loan field {field}") from exc
    return text


def _compare_scaled(vals: np.ndarray, op: str, floor: int, frac: bool) -> np.ndarray:
    if not frac:
        return _OPS[op](vals, floor)
    # target t lies strictly between floor and floor + 1: x < t <=> x <= floor, x > t <=> x > floor
    if op in ("<", "<="):
        return vals <= floor
    if op in (">", ">="):
        return vals > floor
    return np.full(len(vals), op == "!=", dtype=bool)


class RuleEvaluator:
    """Evaluates rules over all loans at once, exactly: numbers as micro-unit ints, dates as day
    ordinals, text as strings. Each distinct rule is evaluated once per step and cached."""

    def __init__(self, book: Book):
        self.book = book
        self._cols: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}
        self._rules: dict[Rule, np.ndarray] = {}
        self._cats: dict[str, list[str]] = {}

    def _column(self, field: str) -> tuple[str, np.ndarray, np.ndarray]:
        """(kind, values, present) for a loan column; kind is num, date or text."""
        if field not in self._cols:
            if field not in S.loans.c or field == "tenant_id":
                raise ValueError(f"constraint rule names unknown loan field {field!r}")
            raw = self.book.loans.columns[field]
            present = np.array([v is not None for v in raw], dtype=bool)
            kind = S.loans.c[field].type
            if isinstance(kind, (Numeric, Integer)):
                vals = scaled_array(raw, MICRO)
                self._cols[field] = ("num", vals, present)
            elif isinstance(kind, Date):
                vals = np.array([v.toordinal() if v is not None else 0 for v in raw], dtype=np.int64)
                self._cols[field] = ("date", vals, present)
            else:  # text as category codes: each operator is evaluated once per distinct value
                cats: dict[str, int] = {}
                codes = np.array([cats.setdefault(v, len(cats)) if v is not None else 0 for v in raw], dtype=np.int64)
                self._cols[field] = ("text", codes, present)
                self._cats[field] = list(cats)
        return self._cols[field]

    def rule_mask(self, rule: Rule) -> np.ndarray:
        """Bool per loan: passes `rule` (a rule on a null field fails, whatever the operator)."""
        if rule in self._rules:
            return self._rules[rule]
        kind, vals, present = self._column(rule.field)
        op = rule.operator
        if op in ("in", "not_in"):
            targets = [_target(kind, rule.field, part) for part in rule.value.split(";")]
            if kind == "text":
                wanted = set(targets)
                hit = self._by_category(rule.field, vals, lambda c: c in wanted)
            else:
                exact = [t for t, frac in targets if not frac]
                hit = np.isin(vals, np.array(exact, dtype=np.int64))
            res = hit if op == "in" else ~hit
        elif op in _OPS:
            target = _target(kind, rule.field, rule.value)
            if kind == "text":
                res = self._by_category(rule.field, vals, lambda c: _OPS[op](c, target))
            else:
                res = _compare_scaled(vals, op, *target)
        else:
            raise ValueError(f"unknown rule operator {op!r}")
        mask = res & present
        self._rules[rule] = mask
        return mask

    def _by_category(self, field: str, codes: np.ndarray, test) -> np.ndarray:
        table = np.array([bool(test(c)) for c in self._cats[field]] or [False], dtype=bool)
        return table[codes]

    def passes(self, constraint: Constraint, idx: np.ndarray) -> np.ndarray:
        """Bool per loan of `idx`: passes every rule of the constraint (no rules: every loan)."""
        ok = np.ones(len(idx), dtype=bool)
        for rule in constraint.rules:
            ok &= self.rule_mask(rule)[idx]
        return ok

    def constraint_index(self, constraints: list[Constraint], idx: np.ndarray) -> np.ndarray:
        """Per loan of `idx`: index into `constraints` (claim order) of the first it passes, or -1."""
        out = np.full(len(idx), -1, dtype=np.int64)
        open_ = np.ones(len(idx), dtype=bool)
        for k, cons in enumerate(constraints):
            if not open_.any():
                break
            sel = np.flatnonzero(open_)
            hit = self.passes(cons, idx[sel])
            out[sel[hit]] = k
            open_[sel[hit]] = False
        return out


def instrument_filter(book: Book, inst: Instrument, idx: np.ndarray) -> np.ndarray:
    """Per loan of `idx`: the first instrument-level test it fails (0 PRODUCT, 1 LOAN_AMOUNT) or 2."""
    loans = book.loans
    allowed = np.zeros(len(loans.product_names) + 1, dtype=bool)
    allowed[loans.codes_of(inst.products)] = True
    prod_ok = allowed[loans.product_code[idx]]
    stage = prod_ok.astype(np.int64)
    sub = np.flatnonzero(prod_ok)
    orig = loans.orig_c[idx[sub]]
    amt_ok = np.ones(len(sub), dtype=bool)
    if inst.min_loan_c is not None:
        amt_ok &= orig >= inst.min_loan_c
    if inst.max_loan_c is not None:
        amt_ok &= orig <= inst.max_loan_c
    stage[sub[amt_ok]] = 2
    return stage
