"""What each demo size looks like: counts, segmentation, and the fixed market facts of the book.

A size is mostly a loan count and a trade count. What grows with the size is the number of
*segment* cash instruments (an aggregator's grid per region × credit tier × LTV band): a bigger
lender sells more mandatory whole-loan commitments, each priced for one bucket, while its TBA
book grows in trade size rather than trade count. That keeps each eligible loan at a handful of
candidate trades (about 4–10) at every size, which is what the optimiser is benchmarked on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEFAULT_AS_OF = date(2026, 11, 2)
GENERATOR_VERSION = "1"


@dataclass(frozen=True)
class SizeProfile:
    name: str
    loans: int
    trades: int
    regions: int          # state groups of the segment cash instruments
    credit_tiers: int     # FICO bands of the segment cash instruments (1, 2 or 3)
    ltv_bands: int        # LTV bands of the segment cash instruments (1, 2 or 3)
    # trades per core (TBA / SPEC / low-balance cash) instrument, by instrument name
    core_trades: dict[str, int]


def _core(fnma30, fhlmc30, gnma30, fnma15, fhlmc15, fnma20, lb30, lb15) -> dict[str, int]:
    return {
        "FNMA_UMBS30": fnma30, "FHLMC_UMBS30": fhlmc30, "GNMA2_30": gnma30,
        "FNMA_UMBS15": fnma15, "FHLMC_UMBS15": fhlmc15, "FNMA_UMBS20": fnma20,
        "FNMA_LB85_30": lb30, "FNMA_LB110_30": lb30, "FNMA_LB125_30": lb30,
        "FHLMC_LB85_15": lb15, "FHLMC_LB110_15": lb15, "FHLMC_LB125_15": lb15,
    }


SIZES: dict[str, SizeProfile] = {
    "small": SizeProfile("small", 2_000, 40, 1, 1, 1, _core(6, 5, 5, 3, 2, 0, 1, 1)),
    "medium": SizeProfile("medium", 10_000, 150, 3, 2, 1, _core(8, 7, 7, 4, 3, 2, 2, 2)),
    "large": SizeProfile("large", 100_000, 1_500, 12, 3, 3, _core(8, 7, 8, 5, 4, 3, 3, 3)),
}

# ---- loan stages: (name, rank, is_active); `Closed` is the default min_status --------------------
STAGES: list[tuple[str, int, bool]] = [
    ("Withdrawn", 0, False),
    ("Application", 10, True),
    ("Submitted", 20, True),
    ("Approved", 30, True),
    ("Docs Out", 40, True),
    ("Docs Back", 50, True),
    ("Closed", 60, True),
    ("Funded", 70, True),
    ("Shipped", 80, False),
    ("Purchased", 90, False),
]
STAGE_MIX = {
    "Withdrawn": 0.02, "Application": 0.07, "Submitted": 0.07, "Approved": 0.09, "Docs Out": 0.07,
    "Docs Back": 0.07, "Closed": 0.20, "Funded": 0.31, "Shipped": 0.06, "Purchased": 0.04,
}
# share of loans at a pre-closing stage that carry a rate lock
LOCK_SHARE = {"Application": 0.35, "Submitted": 0.55, "Approved": 0.75, "Docs Out": 0.85, "Docs Back": 0.9}
# expected closing, days after as_of, by pre-closing stage
EXPECTED_CLOSE_DAYS = {
    "Application": (30, 80), "Submitted": (20, 65), "Approved": (12, 45), "Docs Out": (4, 25),
    "Docs Back": (1, 14),
}

# ---- loan mixes --------------------------------------------------------------------------------
# product: (share, median original amount, note-rate centre, term months)
PRODUCTS = {
    "CONV30": (0.56, 345_000, 6.45, 360),
    "CONV20": (0.04, 300_000, 6.20, 240),
    "CONV15": (0.11, 215_000, 5.85, 180),
    "FHA30": (0.18, 290_000, 6.25, 360),
    "VA30": (0.11, 385_000, 6.10, 360),
}
CONFORMING_HIGH_BALANCE_CAP = 1_249_125  # the 2026 high-cost-area limit; our jumbo-ish cap
STATES = [  # (state, weight) — a national mid-market lender, heavy in the Sun Belt and CA
    ("CA", 14), ("TX", 11), ("FL", 9), ("AZ", 5), ("GA", 5), ("NC", 5), ("WA", 4), ("CO", 4),
    ("NY", 4), ("IL", 4), ("VA", 3), ("NJ", 3), ("PA", 3), ("OH", 3), ("MI", 3), ("TN", 3),
    ("NV", 2), ("UT", 2), ("OR", 2), ("SC", 2), ("MN", 2), ("MD", 2), ("MA", 2), ("MO", 1),
    ("IN", 1), ("WI", 1), ("AL", 1),
]
OCCUPANCY = [("Primary", 0.86), ("Second", 0.05), ("Investor", 0.09)]
PURPOSE = [("Purchase", 0.62), ("Refi", 0.18), ("CashOut", 0.20)]
PROPERTY_TYPES = [("SFR", 0.66), ("PUD", 0.18), ("Condo", 0.10), ("Townhouse", 0.03), ("2-4 Unit", 0.03)]

COUNTERPARTIES = [
    "BofA Securities", "Barclays", "Citigroup Global Markets", "Goldman Sachs", "J.P. Morgan",
    "Mizuho Securities", "Morgan Stanley", "Nomura", "RBC Capital Markets", "Wells Fargo Securities",
]
AGGREGATORS = ["PennyMac Correspondent", "Truist Correspondent", "US Bank Correspondent",
               "Rocket Pro TPO", "AmeriHome Mortgage"]
