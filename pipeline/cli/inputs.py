"""`powerfill load` and `powerfill export-inputs`: a tenant's input files in and out (ENGINE.md §2).

    powerfill load --dir DIR          every <kind>.csv (or <kind>.json) in DIR, one transaction
    powerfill load KIND FILE          one kind (.json files are read as JSON, anything else as CSV)
    powerfill export-inputs --out DIR every kind as <kind>.csv, in the format `load` reads

A rejected load prints one line per problem (file:line:column: message) and exits 2; nothing
changes in the database.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

from pipeline.cli._common import add_tenant_args, tenant_engine


def register(sub: argparse._SubParsersAction) -> None:
    load = sub.add_parser("load", help="replace the tenant's inputs from CSV/JSON files (all or nothing)")
    load.add_argument("kind", nargs="?", help="one input kind (with FILE)")
    load.add_argument("file", nargs="?", help="the file for KIND")
    load.add_argument("--dir", help="a directory of <kind>.csv files: load every kind present")
    add_tenant_args(load)
    load.set_defaults(handler=_load)

    export = sub.add_parser("export-inputs", help="write the tenant's inputs as <kind>.csv files")
    export.add_argument("--out", required=True, help="directory to write into (created if missing)")
    add_tenant_args(export)
    export.set_defaults(handler=_export)


def _uploads(args: argparse.Namespace) -> dict[str, tuple[bytes, str, str]]:
    from pipeline.cli import CliError
    from pipeline.inputs import KINDS, get_kind

    if args.dir and (args.kind or args.file):
        raise CliError("give either --dir DIR or KIND FILE, not both")
    if args.dir:
        folder = Path(args.dir)
        if not folder.is_dir():
            raise CliError(f"not a directory: {folder}")
        uploads = {}
        for kind in KINDS:
            for fmt in ("csv", "json"):
                path = folder / f"{kind}.{fmt}"
                if path.is_file():
                    uploads[kind] = (path.read_bytes(), fmt, str(path))
                    break
        if not uploads:
            raise CliError(f"no input files in {folder} (expected names like {KINDS[0]}.csv)")
        return uploads
    if not (args.kind and args.file):
        raise CliError("give --dir DIR, or KIND FILE")
    try:
        get_kind(args.kind)
    except KeyError as err:
        raise CliError(err.args[0]) from None
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    return {args.kind: (path.read_bytes(), fmt, str(path))}


def _load(args: argparse.Namespace) -> int:
    from pipeline.cli import CliError
    from pipeline.db.errors import DatabaseError
    from pipeline.inputs import InputValidationError, import_many

    uploads = _uploads(args)
    try:
        result = import_many(tenant_engine(args), args.tenant, uploads)
    except DatabaseError as err:
        raise CliError(f"database error, nothing was changed ({err}); is the schema there? `powerfill db upgrade`") from err
    except InputValidationError as err:
        for error in err.errors:
            print(error, file=sys.stderr)
        if err.omitted:
            print(f"... and {err.omitted} more problem(s)", file=sys.stderr)
        print(f"rejected: {err.total} problem(s); nothing was changed", file=sys.stderr)
        return 2
    width = max(len(k) for k in result.counts)
    for kind, count in result.counts.items():
        print(f"{kind:<{width}}  {count:>9,}")
    print(f"loaded {sum(result.counts.values()):,} rows for tenant {args.tenant} in {result.seconds:.2f} s")
    return 0


def _export(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from pipeline.cli import CliError
    from pipeline.inputs import KINDS, export_kind_csv

    started = time.perf_counter()
    engine = tenant_engine(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width = max(len(k) for k in KINDS)
    for kind in KINDS:
        try:
            data = export_kind_csv(engine, args.tenant, kind)
        except SQLAlchemyError as err:
            raise CliError(f"database error: {str(err).splitlines()[0]}; is the schema there? `powerfill db upgrade`") from err
        (out / f"{kind}.csv").write_bytes(data)
        rows = sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8"), newline=""))) - 1
        print(f"{kind:<{width}}  {rows:>9,}")
    print(f"exported tenant {args.tenant} to {out} in {time.perf_counter() - started:.2f} s")
    return 0
