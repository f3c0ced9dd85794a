"""Schema migrations (Alembic, versions in pipeline/db/migrations/versions) and the reviewed DDL.

`upgrade(url)` brings any supported database to head; `migration_sql(dialect)` is the exact SQL
the migrations run on an empty database of that dialect, which `make sql` writes to
sql/<dialect>/schema.sql for a DBA to review or run by hand.
"""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from pipeline.db.engine import READ_ONLY, get_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Create or migrate the schema of the database at `url` (idempotent)."""
    cfg = alembic_config()
    with get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def migration_sql(dialect_name: str) -> str:
    """The SQL the migrations would run on an empty database of `dialect_name` (offline mode)."""
    cfg = alembic_config()
    buffer = io.StringIO()
    cfg.attributes.update(dialect_name=dialect_name, output_buffer=buffer)
    command.upgrade(cfg, "head", sql=True)
    return buffer.getvalue()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str) -> str | None:
    with get_engine(url).connect().execution_options(**READ_ONLY) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def sql_file(dialect_name: str, root: Path) -> Path:
    return root / "sql" / dialect_name / "schema.sql"
