"""`powerfill export RUN_ID --out DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.cli import CliError
from pipeline.cli._common import add_tenant_args, tenant_engine


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write every output table of a run as CSV plus summary.json")
    p.add_argument("run_id")
    p.add_argument("--out", required=True, type=Path)
    add_tenant_args(p)
    p.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from pipeline.run_export import export_run

    try:
        paths = export_run(tenant_engine(args), args.tenant, args.run_id, args.out)
    except LookupError as err:
        raise CliError(str(err)) from None
    for path in paths:
        print(path)
    return 0
