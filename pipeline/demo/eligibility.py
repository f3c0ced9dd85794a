"""Which in-scope loans each demo trade can take — the generator's own, vectorised reading of
ENGINE.md §4 under the default run options.

The generator needs it to size trades against the pipeline they can draw on and to fill existing
pools with loans that fit their trade, and `stats` uses it to report candidate counts. It is not
the engine: it ignores pinning by locked pools when sizing, and works in integer cents and eighths.
"""

from __future__ import annotations

import numpy as np

from pipeline.demo.book import Instrument
from pipeline.demo.loans import NO_DATE, LoanArrays

NUMERIC_FIELDS = {
    "loan_amount": lambda L: L.amount_cents / 100.0,
    "original_loan_amount": lambda L: L.orig_cents / 100.0,
    "note_rate": lambda L: L.note8 / 8.0,
    "fico": lambda L: L.fico.astype(float),
    "ltv": lambda L: L.ltv,
    "dti": lambda L: L.dti,
    "units": lambda L: L.units.astype(float),
}
TEXT_FIELDS = {
    "property_state": lambda L: L.state,
    "occupancy": lambda L: L.occupancy,
    "loan_purpose": lambda L: L.purpose,
    "property_type": lambda L: L.property_type,
    "product": lambda L: L.product,
    "stage_name": lambda L: L.stage,
}
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not_in")


def rule_mask(loans: LoanArrays, field: str, op: str, value: str) -> np.ndarray:
    """Loans passing one rule; a null loan field fails whatever the operator (ENGINE.md §4)."""
    if field in NUMERIC_FIELDS:
        col = NUMERIC_FIELDS[field](loans)
        present = ~np.isnan(col)
        if op in ("in", "not_in"):
            hit = np.isin(col, [float(v) for v in value.split(";")])
            return present & (hit if op == "in" else ~hit)
        v = float(value)
        cmp = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
               ">": np.greater, ">=": np.greater_equal}[op]
        with np.errstate(invalid="ignore"):
            return present & cmp(col, v)
    if op not in ("=", "!=", "in", "not_in"):
        raise ValueError(f"operator {op} is not used on text field {field}")
    values = value.split(";") if op in ("in", "not_in") else [value]
    hit = text_in(loans, field, values)
    return hit if op in ("=", "in") else ~hit


def text_in(loans: LoanArrays, field: str, values: list[str]) -> np.ndarray:
    """Loans whose text `field` is one of `values`: tested once per distinct value (fast at 100K)."""
    cache = loans.__dict__.setdefault("_text_codes", {})
    if field not in cache:
        cache[field] = np.unique(TEXT_FIELDS[field](loans).astype(str), return_inverse=True)
    distinct, codes = cache[field]
    return np.isin(distinct, values)[codes]


def instrument_mask(loans: LoanArrays, inst: Instrument, base: np.ndarray) -> np.ndarray:
    """Loans in `base` that pass the instrument's product, balance and constraint tests."""
    m = base & text_in(loans, "product", inst.products)
    if inst.min_loan_cents is not None:
        m &= loans.orig_cents >= inst.min_loan_cents
    if inst.max_loan_cents is not None:
        m &= loans.orig_cents <= inst.max_loan_cents
    any_constraint = np.zeros(loans.n, dtype=bool)
    for _name, _prio, rules in inst.constraints:
        passed = np.ones(loans.n, dtype=bool)
        for field, op, value in rules:
            passed &= rule_mask(loans, field, op, value)
        any_constraint |= passed
    return m & any_constraint


def trade_candidates(loans: LoanArrays, inst: Instrument, inst_idx: np.ndarray, *, settle_day: int,
                     coupon8: int | None, grid8: tuple[int, int] | None) -> np.ndarray:
    """Indexes (into loans) of the instrument's loans that fit this trade's date and rate tests."""
    avail = loans.available[inst_idx]
    ok = (avail != NO_DATE) & (avail + inst.delivery_lead_days <= settle_day)
    note8 = loans.note8[inst_idx]
    if grid8 is not None:
        ok &= (note8 >= grid8[0]) & (note8 <= grid8[1])
    else:
        lo = round(inst.min_servicing * 8)
        hi = round(inst.max_servicing * 8)
        ok &= (note8 - coupon8 >= lo) & (note8 - coupon8 <= hi)
    return inst_idx[ok]
