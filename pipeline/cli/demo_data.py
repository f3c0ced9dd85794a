"""`powerfill demo-data`: write a seeded demo book as `<kind>.csv` files (DESIGN.md §10)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from pipeline.demo import DEFAULT_AS_OF, SIZES, write_dataset


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo-data", help="write a realistic demo dataset (one <kind>.csv per input kind, plus dataset.json)",
        description="Generate a mid-market lender's book, deterministic by --seed. Runs over it should use "
                    "its as_of_date (written to DIR/dataset.json).")
    p.add_argument("--size", choices=list(SIZES), default="small",
                   help="small ≈ 2,000 loans / 40 trades; medium ≈ 10,000 / 150; large ≈ 100,000 / 1,500")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1); same seed and size → same bytes")
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write (created if missing)")
    p.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF, metavar="YYYY-MM-DD",
                   help=f"the book's as-of date; every date in it is relative to this (default {DEFAULT_AS_OF})")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pipeline.cli import CliError

    if args.seed < 0:
        raise CliError("--seed must be a non-negative integer")
    started = time.perf_counter()
    ds = write_dataset(args.size, args.seed, args.out, args.as_of)
    elapsed = time.perf_counter() - started
    counts = ", ".join(f"{k} {n}" for k, n in ds.manifest()["row_counts"].items())
    print(f"wrote {args.size} demo book (seed {args.seed}, as_of {args.as_of}) to {args.out} "
          f"in {elapsed:.1f}s: {counts}")
    cand = ds.stats["candidates_per_eligible_loan"]
    print(f"in scope: {ds.stats['loans_in_scope']} loans, {ds.stats['trades_in_scope']} trades; "
          f"{ds.stats['loans_eligible']} eligible loans with {cand['mean']} candidate trades each on average",
          file=sys.stderr)
    return 0
