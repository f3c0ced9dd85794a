"""The desk's reference data: instruments, their constraints and rules, settlement calendar,
market prices, payups and carry curves.

Instruments come in three groups:
- core agency instruments (UMBS 30/20/15 TBA for FNMA and FHLMC, GNMA II 30 TBA), present at
  every size;
- low-balance stories: FNMA 30-year SPEC pools and FHLMC 15-year cash instruments capped at
  85k / 110k / 125k, which carry the payups;
- the aggregator's cash window: one instrument per product family and segment (region × credit
  tier × LTV band, see `profiles.SizeProfile`), each restricted to its segment by constraint rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from pipeline.demo import profiles as P


@dataclass
class Instrument:
    investor_id: str
    name: str
    type: str                        # TBA, SPEC, CASH
    term_months: int
    products: list[str]
    family: str                      # price family: CONV30, CONV20, CONV15, GOV30
    min_servicing: float | None = None
    max_servicing: float | None = None
    excess_servicing_base: float | None = None
    servicing_multiple: float = 0.0
    min_loan_cents: int | None = None
    max_loan_cents: int | None = None
    delivery_lead_days: int = 0
    lot_size: int = 1_000_000
    min_pool_amount: int | None = None
    max_pool_amount: int | None = None
    settle_offset: int = 0           # days after the month's 2nd Thursday (SIFMA class, roughly)
    coupons: list[float] = field(default_factory=list)
    payup_points: float = 0.0        # low-balance story premium over TBA, points
    has_carry: bool = True
    # constraints: (name, priority, [(field, operator, value)])
    constraints: list[tuple[str, int, list[tuple[str, str, str]]]] = field(default_factory=list)


def second_thursday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 7)


def settlement_months(as_of: date, count: int = 3) -> list[tuple[int, int]]:
    """The next `count` months whose class-A settlement is at least 5 days after as_of."""
    y, m = as_of.year, as_of.month
    out = []
    while len(out) < count:
        if second_thursday(y, m) >= as_of + timedelta(days=5):
            out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def settlement_date(inst: Instrument, ym: tuple[int, int]) -> date:
    return second_thursday(*ym) + timedelta(days=inst.settle_offset)


_CONV_RULES = [
    ("HighBalanceCA", 1, [("original_loan_amount", ">", "766550"), ("property_state", "in", "CA;NY;NJ;WA")]),
    ("Standard", 2, [("fico", ">=", "660"), ("ltv", "<=", "97")]),
    ("Catchall", 3, []),
]


def _tba(investor: str, name: str, products, family, term, offset, coupons, **kw) -> Instrument:
    base = dict(min_servicing=0.25, max_servicing=1.5, excess_servicing_base=0.25, servicing_multiple=4.5,
                delivery_lead_days=3, lot_size=1_000_000, min_pool_amount=1_000_000, max_pool_amount=25_000_000)
    base.update(kw)
    return Instrument(investor, name, "TBA", term, products, family, settle_offset=offset, coupons=coupons, **base)


def core_instruments() -> list[Instrument]:
    c30 = [5.0, 5.5, 6.0, 6.5]
    c15 = [4.5, 5.0, 5.5]
    out = [
        _tba("FNMA", "FNMA_UMBS30", ["CONV30"], "CONV30", 360, 0, c30, constraints=list(_CONV_RULES)),
        _tba("FHLMC", "FHLMC_UMBS30", ["CONV30"], "CONV30", 360, 0, c30, servicing_multiple=4.25,
             delivery_lead_days=2, constraints=[
                 ("Investor", 1, [("occupancy", "=", "Investor"), ("units", "<=", "2")]),
                 ("Standard", 2, [("fico", ">=", "660")]),
                 ("Catchall", 3, [])]),
        _tba("GNMA", "GNMA2_30", ["FHA30", "VA30"], "GOV30", 360, 5, c30, max_servicing=0.75,
             excess_servicing_base=0.375, servicing_multiple=5.0, delivery_lead_days=5, constraints=[
                 ("LowFICO", 1, [("fico", "<", "660")]),
                 ("Standard", 2, [("property_state", "not_in", "PR;GU;VI"), ("loan_purpose", "!=", "CashOut")]),
                 ("Catchall", 3, [])]),
        _tba("FNMA", "FNMA_UMBS15", ["CONV15"], "CONV15", 180, 4, c15, servicing_multiple=4.0, constraints=[
                 ("Standard", 2, [("dti", "<", "45")]),
                 ("Catchall", 3, [])]),
        _tba("FHLMC", "FHLMC_UMBS15", ["CONV15"], "CONV15", 180, 4, c15, servicing_multiple=4.0,
             lot_size=0, has_carry=False, constraints=[("Catchall", 3, [])]),
        _tba("FNMA", "FNMA_UMBS20", ["CONV20"], "CONV20", 240, 4, [5.0, 5.5, 6.0], constraints=[("Catchall", 3, [])]),
        # no trades: only a synthetic option for "what to sell next" (ENGINE.md §5 step 6)
        _tba("FHLMC", "FHLMC_UMBS20", ["CONV20"], "CONV20", 240, 4, [5.0, 5.5, 6.0], has_carry=False,
             constraints=[("Catchall", 3, [])]),
    ]
    for cap, points in ((85_000, 1.25), (110_000, 0.875), (125_000, 0.625)):
        lower = {85_000: None, 110_000: 85_000, 125_000: 110_000}[cap]
        out.append(Instrument(
            "FNMA", f"FNMA_LB{cap // 1000}_30", "SPEC", 360, ["CONV30"], "CONV30",
            min_servicing=0.25, max_servicing=1.5, excess_servicing_base=0.25, servicing_multiple=4.5,
            min_loan_cents=None if lower is None else lower * 100 + 1, max_loan_cents=cap * 100,
            delivery_lead_days=3, lot_size=1_000_000, min_pool_amount=1_000_000, max_pool_amount=25_000_000,
            coupons=[5.5, 6.0, 6.5], payup_points=points,
            constraints=[("LowBalance", 1, [("occupancy", "!=", "Investor")]), ("Catchall", 3, [])]))
        out.append(Instrument(
            "FHLMC", f"FHLMC_LB{cap // 1000}_15", "CASH", 180, ["CONV15"], "CONV15",
            servicing_multiple=0.0, max_loan_cents=cap * 100, delivery_lead_days=5, lot_size=0,
            payup_points=points, has_carry=cap != 125_000, coupons=[4.5, 5.0, 5.5],
            constraints=[("Standard", 2, [("fico", ">=", "680")]), ("Catchall", 3, [])]))
    return out


def _region_groups(n: int) -> list[list[str]]:
    """Partition the states into n groups of similar loan share (largest first, greedy)."""
    groups: list[list[str]] = [[] for _ in range(n)]
    weights = [0.0] * n
    for state, w in sorted(P.STATES, key=lambda s: (-s[1], s[0])):
        i = min(range(n), key=lambda k: (weights[k], k))
        groups[i].append(state)
        weights[i] += w
    return [sorted(g) for g in groups]


def _credit_tiers(n: int) -> list[tuple[str, list[tuple[str, str, str]]]]:
    if n == 1:
        return [("", [])]
    if n == 2:
        return [("F1", [("fico", "<", "720")]), ("F2", [("fico", ">=", "720")])]
    return [("F1", [("fico", "<", "700")]), ("F2", [("fico", ">=", "700"), ("fico", "<", "760")]),
            ("F3", [("fico", ">=", "760")])]


def _ltv_bands(n: int) -> list[tuple[str, list[tuple[str, str, str]]]]:
    if n == 1:
        return [("", [])]
    if n == 2:
        return [("L1", [("ltv", "<=", "80")]), ("L2", [("ltv", ">", "80")])]
    return [("L1", [("ltv", "<=", "75")]), ("L2", [("ltv", ">", "75"), ("ltv", "<=", "90")]),
            ("L3", [("ltv", ">", "90")])]


def cash_window_instruments(profile: P.SizeProfile) -> list[Instrument]:
    """The aggregator's cash window: one instrument per product family × segment."""
    out = []
    regions = _region_groups(profile.regions)
    for family, products in (("CONV30", ["CONV30", "CONV20"]), ("GOV30", ["FHA30", "VA30"])):
        short = "CONV30" if family == "CONV30" else "GOV30"
        for r, states in enumerate(regions, start=1):
            for tier, tier_rules in _credit_tiers(profile.credit_tiers):
                for band, band_rules in _ltv_bands(profile.ltv_bands):
                    suffix = "".join(f"_{p}" for p in ((f"R{r:02d}" if len(regions) > 1 else ""), tier, band) if p)
                    name = f"AGG_{short}{suffix}"
                    seg_rules = ([("property_state", "in", ";".join(states))] if len(regions) > 1 else [])
                    seg_rules += tier_rules + band_rules
                    if seg_rules:
                        constraints = [(f"Segment{suffix}", 2, seg_rules)]
                    else:  # one window for the whole book: a preferred tier, a floor, no catchall
                        constraints = [("Preferred", 1, [("fico", ">=", "740"), ("ltv", "<=", "80")]),
                                       ("Standard", 2, [("fico", ">=", "640")])]
                    out.append(Instrument(
                        "AGGREGATOR", name, "CASH", 360, products, family, servicing_multiple=0.0,
                        delivery_lead_days=2, lot_size=0, constraints=constraints,
                        # the first cash window of each family has no carry curve (carry missed)
                        has_carry=not (r == 1 and tier in ("", "F1") and band in ("", "L1"))))
    return out


# ---- prices -------------------------------------------------------------------------------------
PAR_COUPON = {"CONV30": 5.9, "CONV20": 5.6, "CONV15": 5.2, "GOV30": 5.8}
PAR_NOTE = {"CONV30": 6.55, "CONV20": 6.3, "CONV15": 5.9, "GOV30": 6.4}


def tick64(x: np.ndarray | float) -> np.ndarray | float:
    return np.round(np.asarray(x) * 64) / 64


def tba_price(family: str, coupon: float, month_index: int, investor: str) -> float:
    """Generic TBA price: convex in coupon, rolling down a little per settlement month."""
    x = coupon - PAR_COUPON[family]
    price = 100 + 3.4 * x - 0.6 * x * x - 0.15 * month_index - (0.03 if investor == "FHLMC" else 0.0)
    return float(tick64(price))


def cash_grid_price(family: str, note_rate: np.ndarray, offset: float) -> np.ndarray:
    """Cash-window price by note rate: rising, slightly concave (3 decimals)."""
    x = note_rate - PAR_NOTE[family]
    return np.round(100 + offset + 3.0 * x - 0.4 * x * x, 3)
