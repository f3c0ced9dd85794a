"""`powerfill` — the operator's and developer's command line (DESIGN.md §10).

Each module of this package owns a group of commands and exposes `register(subparsers)`; they are
discovered here, so adding a command never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="powerfill", description="PowerFill loan-to-trade allocation")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CliError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


class CliError(Exception):
    """A user-facing command failure: printed as one line, exit code 2."""
