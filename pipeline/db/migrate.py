"""Schema migrations (Alembic, versions in pipeline/db/migrations/versions) and the reviewed DDL.

`upgrade(url)` brings any supported database to head; `render_ddl(dialect)` prints the full
CREATE script a DBA reviews (`make sql` writes it to sql/<dialect>/schema.sql).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_mock_engine
from sqlalchemy.dialects import mssql, postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from pipeline.db.engine import get_engine
from pipeline.db.schema import metadata

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DIALECTS = {"mssql": mssql.dialect(), "postgresql": postgresql.dialect(), "sqlite": sqlite.dialect()}


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


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str) -> str | None:
    from pipeline.db.engine import READ_ONLY

    with get_engine(url).connect().execution_options(**READ_ONLY) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def render_ddl(dialect_name: str) -> str:
    """Every CREATE TABLE and CREATE INDEX of the schema, compiled for one dialect, in order."""
    dialect = DIALECTS[dialect_name]
    parts = [f"-- PowerFill schema for {dialect_name}, generated from pipeline/db/schema.py by `make sql`.",
             f"-- Alembic head: {head_revision()}. Do not edit; change the schema in code and regenerate.", ""]
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: i.name):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    return "\n".join(parts)


def sql_file(dialect_name: str, root: Path) -> Path:
    return root / "sql" / dialect_name / "schema.sql"
