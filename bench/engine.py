"""Engine benchmark: generate a demo book, load it, run all six steps, print the numbers.

    python bench/engine.py --size small|medium|large [--allocator optimal|greedy] [--db URL] [--seed N]

Uses exactly the service path of `powerfill run --sync` (submit_run + execute_run) on a fresh
SQLite database (or the given one, e.g. PostgreSQL). Prints one line per step with seconds and
rows, then peak RSS, candidates, allocated loans and dollars, objective, bound, gap,
value_gap_bps, shortfall_gap_amount and the optimal-vs-greedy uplift. Timings are measurements,
never assertions; record them in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from pipeline.db.engine import get_engine
from pipeline.db.migrate import upgrade
from pipeline.demo import build, write_csvs
from pipeline.inputs import KINDS, import_many
from pipeline.runs.config import get_config
from pipeline.runs.store import get_run_view
from pipeline.runs.submit import submit_run
from pipeline.runs.worker import execute_run, new_owner
from pipeline.statuses import Trigger


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=["small", "medium", "large"], default="medium")
    ap.add_argument("--allocator", choices=["optimal", "greedy"], default="optimal")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pf-bench-") as tmp:
        t0 = time.perf_counter()
        ds = build(args.size, args.seed)
        write_csvs(ds.data, Path(tmp) / "data", ds.manifest())
        t_gen = time.perf_counter() - t0
        url = args.db or f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = get_engine(url)
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        folder = Path(tmp) / "data"
        uploads = {k: ((folder / f"{k}.csv").read_bytes(), "csv", f"{k}.csv") for k in KINDS if (folder / f"{k}.csv").exists()}
        t0 = time.perf_counter()
        loaded = import_many(engine, tenant, uploads)
        t_load = time.perf_counter() - t0
        print(f"dataset {args.size} seed {args.seed}: generated in {t_gen:.2f}s, loaded {sum(loaded.counts.values()):,} rows "
              f"({loaded.counts.get('loans', 0):,} loans, {loaded.counts.get('trades', 0):,} trades) in {t_load:.2f}s "
              f"into {engine.dialect.name}")

        config = get_config()
        options = {"as_of_date": ds.as_of.isoformat(), "allocator": args.allocator}
        run = submit_run(engine, tenant, options, trigger=Trigger.CLI, requested_by="bench", enqueue=False, config=config)
        t0 = time.perf_counter()
        execute_run(engine, tenant, run.run.run_id, config=config, owner=new_owner("bench"), use_budget=False)
        wall = time.perf_counter() - t0
        view = get_run_view(engine, tenant, run.run.run_id)

    print(f"run {view.run_id}: {view.status.value} in {wall:.2f}s wall")
    for step in view.steps:
        print(f"  step {step.name:<20} {step.status.value:<10} {step.duration_s or 0:7.2f}s {step.rows or 0:>10,} rows")
    s = view.summary
    get = (lambda k: s.get(k)) if isinstance(s, dict) else (lambda k: getattr(s, k, None))
    allocated = Decimal(str(get("allocated_amount") or 0))
    objective = Decimal(str(get("objective") or 0))
    greedy = Decimal(str(get("greedy_objective") or objective))
    uplift = objective - greedy
    uplift_bps = (uplift / allocated * 10_000) if allocated else Decimal(0)
    print(f"peak RSS            {peak_rss_mb():,.0f} MB")
    print(f"candidates          {get('candidate_count'):,}")
    print(f"allocated           {get('allocated_count'):,} loans, ${allocated:,.2f}")
    print(f"trades              {get('trades_filled')} of {get('trades_in_scope')} filled; shortfall ${Decimal(str(get('shortfall_amount') or 0)):,.2f}")
    print(f"objective           {objective:,.2f}")
    print(f"bound               {Decimal(str(get('bound') or 0)):,.2f}")
    print(f"gap                 {get('gap')}")
    print(f"value_gap_bps       {get('value_gap_bps')}")
    print(f"shortfall_gap       ${Decimal(str(get('shortfall_gap_amount') or 0)):,.2f}")
    print(f"greedy objective    {greedy:,.2f}")
    print(f"uplift vs greedy    ${uplift:,.2f} ({uplift_bps:.3f} bps of allocated face)")
    print(f"solver_stopped      {get('solver_stopped')}; fallback_greedy {get('fallback_greedy')}")
    return 0 if view.status.value == "Complete" else 1


if __name__ == "__main__":
    sys.exit(main())
