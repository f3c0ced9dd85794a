"""Arguments and lookups shared by tenant-scoped commands (`--tenant`, `--db`)."""

from __future__ import annotations

import argparse

from sqlalchemy.engine import Engine

from pipeline.db.engine import get_engine


def add_tenant_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", default="demo", help="tenant id (default: demo)")
    parser.add_argument("--db", default=None, help="database URL; overrides the tenant registry")


def tenant_engine(args: argparse.Namespace) -> Engine:
    """The engine for the command's tenant: `--db` if given, else the registry's URL."""
    from pipeline.tenants import get_registry

    url = args.db or get_registry().get(args.tenant).database_url
    return get_engine(url)
