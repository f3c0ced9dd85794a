"""`powerfill db upgrade | revision | render-sql`: schema management."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.cli._common import add_tenant_args


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="schema: upgrade, render the reviewed SQL, new migration")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")

    up = actions.add_parser("upgrade", help="create or migrate the tenant's database schema")
    add_tenant_args(up)
    up.set_defaults(handler=_upgrade)

    render = actions.add_parser("render-sql", help="write the migrations' SQL to sql/mssql and sql/postgresql")
    render.add_argument("--root", default=".", help="repository root (default: .)")
    render.set_defaults(handler=_render)

    rev = actions.add_parser("revision", help="autogenerate a migration from the schema (developers)")
    rev.add_argument("-m", "--message", required=True)
    rev.set_defaults(handler=_revision)


def _url(args: argparse.Namespace) -> str:
    from pipeline.tenants import get_registry

    return args.db or get_registry().get(args.tenant).database_url


def _upgrade(args: argparse.Namespace) -> int:
    from pipeline.db.migrate import current_revision, upgrade

    url = _url(args)
    upgrade(url)
    print(f"schema at revision {current_revision(url)}")
    return 0


def _render(args: argparse.Namespace) -> int:
    from pipeline.db.migrate import migration_sql, sql_file

    for dialect in ("mssql", "postgresql"):
        path = sql_file(dialect, Path(args.root))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(migration_sql(dialect), encoding="utf-8")
        print(path)
    return 0


def _revision(args: argparse.Namespace) -> int:
    """Autogenerate against a scratch SQLite database migrated to head."""
    import tempfile

    from alembic import command

    from pipeline.db.engine import get_engine
    from pipeline.db.migrate import alembic_config, upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        upgrade(url)
        cfg = alembic_config()
        with get_engine(url).begin() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=args.message, autogenerate=True)
    return 0
