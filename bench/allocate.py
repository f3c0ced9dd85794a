"""Benchmark of the allocators on synthetic problems shaped like the real one.

    .venv/bin/python bench/allocate.py --loans 10000 --trades 150 [--method optimal|greedy] [--seed 1]
    .venv/bin/python bench/allocate.py --size large
    .venv/bin/python bench/allocate.py --demo large --problem-file /tmp/large.npz   # the real book

`--demo SIZE` builds the real allocation problem of the demo book instead (bench/engine.py's
path: generate, load into a fresh SQLite, run steps 1–3, build the problem exactly as the
allocation step does) and stops there; with `--problem-file` it is saved once, so later runs
iterate on allocate() alone.

Shape: four product families (independent components); within a family trades sit on a chain of
instrument×coupon groups and a loan is eligible for trades of its group and often the next one
(~8 candidate pairs per loan); three constraint levels per (loan, group); amounts lognormal around
$330K; value 98–104 (trade mean plus loan noise), objective = amount·(value−100)/100 in cents;
capacities sum to ~70% of supply; min = 95–100% of max; a few OverLocked trades (capacity 0).
Prints time, peak RSS and the quality figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.engine.allocate import AllocationProblem, allocate  # noqa: E402

SIZES = {"small": (1_000, 15), "medium": (10_000, 150), "large": (100_000, 1_500)}


def synthetic_problem(n_loans: int, n_trades: int, seed: int = 1, pairs_per_loan: float = 8.0,
                      families: int = 4, supply_share: float = 0.7, penalty: float = 1.0) -> AllocationProblem:
    rng = np.random.default_rng(seed)
    amount = np.round(rng.lognormal(np.log(300_000), 0.45, n_loans), 2)
    amount_cents = np.round(amount * 100).astype(np.int64)
    family_of_trade = np.sort(rng.integers(0, families, n_trades))
    groups_per_family = max(1, n_trades // (10 * families))
    group_of_trade = family_of_trade * groups_per_family + rng.integers(0, groups_per_family, n_trades)
    trade_mean_value = rng.uniform(98.5, 103.0, n_trades)
    family_of_loan = rng.integers(0, families, n_loans)
    group_of_loan = family_of_loan * groups_per_family + rng.integers(0, groups_per_family, n_loans)

    trades_by_group = {g: np.flatnonzero(group_of_trade == g) for g in np.unique(group_of_trade)}
    loans_l, trades_l = [], []
    for l in range(n_loans):
        g = int(group_of_loan[l])
        elig = [trades_by_group.get(g, np.zeros(0, dtype=np.int64))]
        nxt = g + 1
        if rng.random() < 0.5 and nxt // groups_per_family == g // groups_per_family:
            elig.append(trades_by_group.get(nxt, np.zeros(0, dtype=np.int64)))
        elig = np.concatenate(elig)
        if len(elig) == 0:
            continue
        k = min(len(elig), max(1, rng.poisson(pairs_per_loan)))
        chosen = rng.choice(elig, size=k, replace=False)
        loans_l.append(np.full(k, l))
        trades_l.append(chosen)
    pair_loan = np.concatenate(loans_l).astype(np.int32)
    pair_trade = np.concatenate(trades_l).astype(np.int32)
    order = np.lexsort((pair_trade, pair_loan))
    pair_loan, pair_trade = pair_loan[order], pair_trade[order]
    # level per (loan, group): the first constraint of the instrument the loan passes
    level_of = rng.choice([1, 2, 3], size=(n_loans, groups_per_family * families), p=[0.25, 0.3, 0.45])
    pair_level = level_of[pair_loan, group_of_trade[pair_trade]].astype(np.int32)
    value = trade_mean_value[pair_trade] + rng.normal(0, 0.6, len(pair_loan))
    value = np.clip(value, 98.0, 104.0)
    obj = np.round(amount_cents[pair_loan] * (value - 100.0) / 100.0).astype(np.int64)

    weights = rng.uniform(0.5, 1.5, n_trades)
    trade_amount = weights / weights.sum() * supply_share * amount_cents.sum()
    tol = rng.uniform(0.0, 0.025, n_trades)
    cap = np.round(trade_amount * (1 + tol)).astype(np.int64)
    min_need = np.round(trade_amount * (1 - tol)).astype(np.int64)
    over = rng.random(n_trades) < 0.01
    cap[over] = 0
    min_need[over] = 0
    return AllocationProblem(
        loan_ids=[f"L{i:07d}" for i in range(n_loans)],
        loan_amount_cents=amount_cents,
        trade_ids=[f"T{i:05d}" for i in range(n_trades)],
        trade_capacity_cents=cap,
        trade_min_need_cents=min_need,
        pair_loan=pair_loan,
        pair_trade=pair_trade,
        pair_level=pair_level,
        pair_objective_cents=obj,
        shortfall_penalty=penalty,
    )


ARRAYS = ("loan_amount_cents", "trade_capacity_cents", "trade_min_need_cents", "pair_loan",
          "pair_trade", "pair_level", "pair_objective_cents")


def save_problem(p: AllocationProblem, path: str) -> None:
    np.savez(path, loan_ids=np.array(p.loan_ids), trade_ids=np.array(p.trade_ids),
             shortfall_penalty=np.array(p.shortfall_penalty), **{k: getattr(p, k) for k in ARRAYS})


def load_problem(path: str) -> AllocationProblem:
    z = np.load(path)
    return AllocationProblem(loan_ids=z["loan_ids"].tolist(), trade_ids=z["trade_ids"].tolist(),
                             shortfall_penalty=float(z["shortfall_penalty"]), **{k: z[k] for k in ARRAYS})


class _Captured(BaseException):
    """Carries the allocation step's problem out of the run (not an Exception: nothing catches it)."""

    def __init__(self, problem: AllocationProblem):
        self.problem = problem


def demo_problem(size: str, seed: int = 7) -> AllocationProblem:
    """The allocation step's own AllocationProblem for the demo book of `size` (steps 1–3 run)."""
    import contextlib
    import io

    import engine as engine_bench  # bench/engine.py
    import pipeline.engine.steps.allocation as allocation_step

    def capture(problem, **_):
        raise _Captured(problem)

    original = allocation_step.allocate
    allocation_step.allocate = capture
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            engine_bench.main(["--size", size, "--seed", str(seed)])
    except _Captured as got:
        return got.problem
    finally:
        allocation_step.allocate = original
    raise RuntimeError("the run ended before the allocation step built its problem")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES))
    ap.add_argument("--demo", choices=sorted(SIZES), help="the real problem of this demo book (bench/engine.py)")
    ap.add_argument("--loans", type=int, default=10_000)
    ap.add_argument("--trades", type=int, default=150)
    ap.add_argument("--method", default="optimal", choices=["optimal", "greedy"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the full metrics")
    ap.add_argument("--problem-file", help="load the problem from this .npz (write it first if absent):"
                    " a second run then measures allocate()'s peak RSS without the generator's")
    args = ap.parse_args()
    n_loans, n_trades = SIZES[args.size] if args.size else (args.loans, args.trades)
    t0 = time.perf_counter()
    if args.problem_file and Path(args.problem_file).exists():
        problem = load_problem(args.problem_file)
    else:
        problem = demo_problem(args.demo) if args.demo else synthetic_problem(n_loans, n_trades, seed=args.seed)
        if args.problem_file:
            save_problem(problem, args.problem_file)
    gen = time.perf_counter() - t0
    total_min = problem.trade_min_need_cents.sum() / 100
    print(f"problem: {problem.n_loans} loans, {problem.n_trades} trades, {problem.n_pairs} pairs, "
          f"levels {problem.levels()}, built in {gen:.1f}s")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    res = allocate(problem, method=args.method, time_limit_s=600)
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = res.metrics
    print(f"allocate({args.method}): {secs:.2f}s  peak RSS {rss:.0f} MB (before: {rss0:.0f} MB)")
    print(f"timings: {json.dumps(m['timings'])}")
    for lv in m["levels"]:
        print("  level", json.dumps({k: v for k, v in lv.items()}))
    obj, greedy = float(m["objective"]), float(m["greedy_objective"])
    face = float(m["allocated_amount"])
    print(f"allocated {m['allocated_count']} loans, ${face:,.2f}")
    print(f"objective {m['objective']}  bound {m['bound']}  gap {m['gap']}")
    print(f"value_gap_bps {m['value_gap_bps']}  shortfall_gap_amount {m['shortfall_gap_amount']} "
          f"({float(m['shortfall_gap_amount'] or 0) / total_min * 100:.4f}% of total min ${total_min:,.0f})")
    print(f"greedy_objective {m['greedy_objective']}  uplift ${obj - greedy:,.2f} "
          f"({(obj - greedy) / face * 1e4 if face else 0:.3f} bps of allocated face)  "
          f"fallback_greedy {m['fallback_greedy']}  solver_stopped {m['solver_stopped']}")
    if args.json:
        print(json.dumps(m, indent=1))


if __name__ == "__main__":
    main()
