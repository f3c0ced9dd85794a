"""The one-command demo (`powerfill demo`, `make demo`): PowerFill doing its job over HTTP.

Generate the small demo book (fixed seed) → start the local host (in this process, its own
database under out/.powerfill and its own queue name, so nothing else interferes) → PUT every
input kind with the demo tenant's key → POST a run with the book's as_of_date → a progress bar
through the six steps → a summary → every report as CSV plus report.html in out/ → stop the host.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

STEP_COUNT = 6
BAR = 30


def _reset_environment(data_dir: Path, queue: str) -> None:
    os.environ["POWERFILL_DATA_DIR"] = str(data_dir)
    os.environ["POWERFILL_RUNS_QUEUE"] = queue
    os.environ.setdefault("POWERFILL_LOG_LEVEL", "WARNING")  # the demo prints its own story
    for name in ("POWERFILL_TENANTS", "POWERFILL_TENANTS_FILE"):
        os.environ.pop(name, None)  # the demo uses the built-in local registry (the demo tenant)
    from pipeline.settings import get_settings
    from pipeline.tenants import get_registry

    get_settings.cache_clear()
    get_registry.cache_clear()


class Progress:
    """One line redrawn in place on a terminal; one line per change otherwise (logs, CI)."""

    def __init__(self, stream=sys.stdout):  # noqa: ANN001
        self.stream = stream
        self.tty = stream.isatty()
        self.last = None

    def __call__(self, run: dict) -> None:
        done = min(run.get("steps_done") or 0, STEP_COUNT)
        step = run.get("current_step") or ("done" if run["status"] in ("Complete", "Failed", "Cancelled") else "waiting")
        state = (done, step, run["status"])
        if state == self.last:
            return
        self.last = state
        filled = BAR * done // STEP_COUNT
        line = f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{STEP_COUNT}  {run['status']:<14} {step}"
        if self.tty:
            self.stream.write("\r" + line.ljust(90))
            if run["status"] in ("Complete", "Failed", "Cancelled"):
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _money(v) -> str:  # noqa: ANN001
    return "" if v is None else f"{Decimal(str(v)):,.2f}"


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def print_summary(run: dict, kickouts: list[dict], syn: list[dict], out=sys.stdout) -> None:  # noqa: ANN001
    s = run.get("summary") or {}
    lines = [
        ("run", run["run_id"]), ("status", run["status"]), ("as_of_date", (run.get("options") or {}).get("as_of_date")),
        ("trades in scope", s.get("trades_in_scope")), ("trades filled (>= min)", s.get("trades_filled")),
        ("loans allocated", s.get("allocated_count")), ("dollars allocated", _money(s.get("allocated_amount"))),
        ("shortfall", _money(s.get("shortfall_amount"))), ("objective", _money(s.get("objective"))),
        ("LP bound", _money(s.get("bound"))), ("gap", s.get("gap")), ("value gap (bps)", s.get("value_gap_bps")),
        ("greedy objective", _money(s.get("greedy_objective"))), ("allocator", s.get("allocator")),
    ]
    out.write("\nSummary\n" + "-" * 60 + "\n")
    for k, v in lines:
        out.write(f"  {k:<26} {'' if v is None else v}\n")
    out.write(f"\nKickouts by reason ({len(kickouts)} loans)\n" + "-" * 60 + "\n")
    for reason, n in sorted(Counter(k["reason"] for k in kickouts).items(), key=lambda x: (-x[1], x[0])):
        out.write(f"  {reason:<26} {n:>6}\n")
    top = sorted(syn, key=lambda r: (-Decimal(r["tradable_amount"] or 0), r["syn_trade_id"]))[:5]
    out.write("\nTop synthetic trade recommendations (what to sell next)\n" + "-" * 60 + "\n")
    if not top:
        out.write("  none\n")
    for r in top:
        out.write(f"  {r['syn_trade_id']:<44} tradable {_money(r['tradable_amount']):>16}  "
                  f"({r['tradable_count']} loans, eligible {_money(r['total_amount'])})\n")


def run_demo(out_dir: Path, *, size: str = "small", seed: int = 7, port: int = 0, run_timeout: float = 600.0) -> int:
    started = time.perf_counter()
    out_dir = out_dir.resolve()
    data_dir = out_dir / ".powerfill"
    shutil.rmtree(data_dir, ignore_errors=True)
    queue = f"powerfill-demo-{uuid.uuid4().hex[:8]}"
    _reset_environment(data_dir, queue)

    from pipeline.demo import write_dataset
    from pipeline.devhost import DevHost
    from pipeline.devhost.client import PowerFillClient
    from pipeline.inputs import KINDS
    from pipeline.reports import REPORT_NAMES
    from pipeline.tenants import DEMO_API_KEY

    input_dir = out_dir / "inputs"
    ds = write_dataset(size, seed, input_dir)
    as_of = ds.as_of.isoformat()
    print(f"1. generated the {size} demo book (seed {seed}, as_of {as_of}) in {input_dir}")

    host = DevHost(port=port, run_timers=True)
    host.start()
    try:
        print(f"2. local host on {host.base_url}/api (queue {queue}, database {data_dir / 'demo.db'})")
        api = PowerFillClient(host.base_url, DEMO_API_KEY)
        for kind in KINDS:
            path = input_dir / f"{kind}.csv"
            result = api.put_input_csv(kind, path.read_bytes())
            print(f"   PUT /inputs/{kind:<17} {result['count']:>6} rows")
        submitted = api.submit({"as_of_date": as_of})
        run_id = submitted["run_id"]
        print(f"3. submitted run {run_id}")
        run = api.wait(run_id, timeout=run_timeout, on_progress=Progress())
        reports = {}
        for name in REPORT_NAMES:
            data = api.report_csv(run_id, name)
            reports[name] = data
            (out_dir / f"{name}.csv").write_bytes(data)
        (out_dir / "report.html").write_bytes(api.report_html(run_id))
        print_summary(run, _rows(reports["kickouts"]), _rows(reports["syn-trades"]))
        print("\nReports\n" + "-" * 60)
        for name in REPORT_NAMES:
            print(f"  {out_dir / (name + '.csv')}")
        print(f"  {out_dir / 'report.html'}   <- open this in a browser")
        if run["status"] != "Complete":
            print(f"\nthe run ended {run['status']} at {run.get('failure_step')}: {run.get('failure_message')}",
                  file=sys.stderr)
            return 1
    finally:
        host.stop()
    print(f"\ndemo finished in {time.perf_counter() - started:.1f}s")
    return 0
