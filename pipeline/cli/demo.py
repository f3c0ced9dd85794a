"""`powerfill demo`: the one-command demo over HTTP (see pipeline.devhost.demo); `make demo` runs it."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="generate a demo book, run it through the local host, write the reports to out/")
    p.add_argument("--out", type=Path, default=Path("out"), help="output directory (default ./out)")
    p.add_argument("--size", default="small", help="demo book size (default small)")
    p.add_argument("--seed", type=int, default=7, help="demo book seed (default 7)")
    p.add_argument("--port", type=int, default=0, help="local host port (default: any free port)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from pipeline.devhost.demo import run_demo

    # The demo prints its own story; keep the host's and the SDK's logs to warnings.
    for name in ("pipeline", "azure", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return run_demo(args.out, size=args.size, seed=args.seed, port=args.port)
