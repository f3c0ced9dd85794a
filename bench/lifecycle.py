"""Run-lifecycle benchmark: submit latency, queue pickup latency, cancel latency.

    scripts/with-services.sh -- .venv/bin/python bench/lifecycle.py [--submits 200] [--pickups 20] [--cancels 10]

Needs POWERFILL_TEST_AZURITE (and POWERFILL_TEST_PG_URL for the PostgreSQL leg), as set by
scripts/with-services.sh. Everything goes through the app's registered functions:
- submit: `submit_run_http` with a real HttpRequest (auth, validation, insert, enqueue to Azurite),
  timed per call; between submits the Pending run is cancelled (not timed) so BR-8 lets the next in.
- pickup: the local host's queue listener (host.json semantics: polling back-off up to
  maxPollingInterval) runs `run_worker`; measured from the submit's answer to the run's claim.
- cancel: a run held mid-step (a step that waits, checking cancellation); measured from the cancel
  answer (202) to the terminal Cancelled row, with the default heartbeat and a 1 s one.
Prints a table and writes JSON (--out). Numbers are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import azure.functions as func  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

KEY = "bench-key-" + "z" * 16


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def configure(db_url: str, azurite: str, queue: str) -> str:
    from pipeline.db.engine import dispose_all
    from pipeline.db.migrate import upgrade
    from pipeline.settings import get_settings
    from pipeline.tenants import get_registry, hash_api_key

    tenant = f"bench-{uuid.uuid4().hex[:6]}"
    os.environ["POWERFILL_TENANTS"] = json.dumps({"tenants": {tenant: {"database_url": db_url, "api_key_sha256": [hash_api_key(KEY)]}}})
    os.environ["AzureWebJobsStorage"] = azurite
    os.environ["POWERFILL_RUNS_QUEUE"] = queue
    os.environ["POWERFILL_LOG_LEVEL"] = "WARNING"
    get_settings.cache_clear()
    get_registry.cache_clear()
    dispose_all()
    upgrade(db_url)
    return tenant


def call(fn, method: str, route_params: dict | None = None, body: bytes = b"") -> tuple[int, dict]:
    resp = fn(func.HttpRequest(method, "http://bench/api/x", headers={"x-api-key": KEY, "content-type": "application/json"},
                               route_params=route_params or {}, body=body))
    return resp.status_code, json.loads(resp.get_body() or b"{}")


def bench_submit(functions, n: int) -> list[float]:
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        status, body = call(functions["submit_run_http"], "POST", body=b"{}")
        timings.append(time.perf_counter() - started)
        assert status == 202, body
        status, _ = call(functions["cancel_run_http"], "POST", {"run_id": body["run_id"]})
        assert status == 200
    return timings


def claimed_at(db_url: str, run_id: str, deadline_s: float = 30) -> float:
    from pipeline.db.engine import get_engine
    from pipeline.db.schema import run_history

    engine = get_engine(db_url)
    end = time.perf_counter() + deadline_s
    while time.perf_counter() < end:
        with engine.connect() as conn:
            attempts = conn.execute(select(run_history.c.attempt_count).where(run_history.c.run_id == run_id)).scalar()
        if attempts:
            return time.perf_counter()
        time.sleep(0.005)
    raise TimeoutError(f"run {run_id} was not picked up within {deadline_s}s")


def bench_pickup_and_cancel(db_url: str, n_pickups: int, n_cancels: int) -> dict:
    from pipeline.devhost.host import DevHost
    from pipeline.runs.config import LifecycleConfig, set_config
    from tests.lifecycle import fakes

    gate = fakes.Gate()
    results: dict = {}
    import function_app

    host = DevHost(function_app.app, port=0, host_json=Path(function_app.__file__).with_name("host.json"), run_timers=False,
                   allow_start_azurite=False, migrate=False, grace_seconds=2).start()
    try:
        functions = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
        set_config(LifecycleConfig(steps=fakes.steps()))
        pickups = []
        for i in range(n_pickups):
            time.sleep(0.25 * (i % 8))  # vary where in the listener's back-off the submit lands
            status, body = call(functions["submit_run_http"], "POST", body=b"{}")
            answered = time.perf_counter()
            pickups.append(claimed_at(db_url, body["run_id"]) - answered)
            _wait_terminal(db_url, body["run_id"])
        results["pickup"] = pickups
        for heartbeat in (LifecycleConfig().heartbeat_seconds, 1.0):
            set_config(LifecycleConfig(steps=fakes.steps(fakes.GatedStep(gate, limit_s=120)), heartbeat_seconds=heartbeat))
            latencies = []
            for _ in range(n_cancels):
                gate.reached.clear()
                status, body = call(functions["submit_run_http"], "POST", body=b"{}")
                assert gate.reached.wait(30)
                status, _ = call(functions["cancel_run_http"], "POST", {"run_id": body["run_id"]})
                asked = time.perf_counter()
                assert status == 202
                _wait_terminal(db_url, body["run_id"])
                latencies.append(time.perf_counter() - asked)
            results[f"cancel_heartbeat_{heartbeat:g}s"] = latencies
    finally:
        set_config(None)
        host.stop()
    return results


def _wait_terminal(db_url: str, run_id: str) -> str:
    from pipeline.db.engine import get_engine
    from pipeline.db.schema import run_history

    end = time.perf_counter() + 60
    while time.perf_counter() < end:
        with get_engine(db_url).connect() as conn:
            status = conn.execute(select(run_history.c.status).where(run_history.c.run_id == run_id)).scalar()
        if status in ("Complete", "Failed", "Cancelled"):
            return status
        time.sleep(0.002)
    raise TimeoutError(run_id)


def summarize(name: str, values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(statistics.median(values) * 1000, 1), "p99_ms": round(pct(values, 99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1), "mean_ms": round(statistics.fmean(values) * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--submits", type=int, default=200)
    ap.add_argument("--pickups", type=int, default=20)
    ap.add_argument("--cancels", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("bench/lifecycle-results.json"))
    args = ap.parse_args(argv)
    azurite = os.environ.get("POWERFILL_TEST_AZURITE")
    if not azurite:
        print("POWERFILL_TEST_AZURITE is not set: run under scripts/with-services.sh", file=sys.stderr)
        return 2
    from pipeline.runs.config import LifecycleConfig, set_config
    from tests.lifecycle import fakes

    import logging

    import function_app

    logging.getLogger("pipeline").setLevel(logging.WARNING)
    functions = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
    results: dict = {}
    tmp = Path(tempfile.mkdtemp(prefix="pf-bench-"))
    legs = {"sqlite": f"sqlite:///{tmp / 'bench.db'}"}
    pg = os.environ.get("POWERFILL_TEST_PG_URL")
    if pg:
        name = f"pf_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        legs["postgresql"] = make_url(pg).set(database=name).render_as_string(hide_password=False)
    set_config(LifecycleConfig(steps=fakes.steps()))
    for dialect, url in legs.items():
        configure(url, azurite, f"bench-{uuid.uuid4().hex[:10]}")
        results[f"submit_{dialect}"] = summarize("submit", bench_submit(functions, args.submits))
        print(f"submit {dialect}: {results[f'submit_{dialect}']}", flush=True)
    set_config(None)
    configure(legs["sqlite"], azurite, f"bench-{uuid.uuid4().hex[:10]}")
    for name, values in bench_pickup_and_cancel(legs["sqlite"], args.pickups, args.cancels).items():
        results[name] = summarize(name, values)
        print(f"{name}: {results[name]}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n| measurement | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['n']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
