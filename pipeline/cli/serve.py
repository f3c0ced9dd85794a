"""`powerfill serve`: the local host (DESIGN.md §9) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="run the local Functions host: HTTP routes, queue and timer")
    p.add_argument("--port", type=int, default=None, help="HTTP port (default POWERFILL_DEVHOST_PORT, 7071)")
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--app", type=Path, default=None, help="function_app.py to serve (default: the project's)")
    p.add_argument("--no-timers", action="store_true", help="do not fire timer functions")
    p.add_argument("--no-azurite", action="store_true", help="never start Azurite; fail if no queue service is reachable")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.devhost import DevHost
    from pipeline.devhost.functions import load_function_app

    app = load_function_app(args.app) if args.app else None
    host = DevHost(app, bind=args.bind, port=args.port, run_timers=not args.no_timers,
                   allow_start_azurite=not args.no_azurite,
                   host_json=(args.app.parent / "host.json") if args.app else None)

    def _stop(signum, _frame) -> None:  # noqa: ANN001
        # The first signal starts a clean shutdown; wait() returns once it is done.
        threading_stop = getattr(_stop, "started", False)
        if not threading_stop:
            _stop.started = True
            import threading

            threading.Thread(target=host.stop, name="devhost-shutdown").start()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    host.start()
    print(f"PowerFill local host on {host.base_url}/api  (Ctrl-C to stop)", flush=True)
    host.wait()
    return 0
