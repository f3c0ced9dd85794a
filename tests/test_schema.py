"""Schema: creation and upgrade on both dialects, the reviewed DDL files, and the BR-8 index."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, update
from sqlalchemy.dialects import mssql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateIndex, CreateTable

from pipeline.db.migrate import current_revision, head_revision, migration_sql, sql_file, upgrade
from pipeline.db.schema import INPUT_TABLES, OUTPUT_TABLES, metadata, run_history
from pipeline.statuses import ACTIVE_STATUSES, TERMINAL_STATUSES, RunStatus

ROOT = Path(__file__).resolve().parents[1]


def test_upgrade_creates_every_table_and_is_idempotent(db_url, db):
    upgrade(db_url)  # second time: nothing to do
    assert current_revision(db_url) == head_revision()
    assert set(metadata.tables) <= set(inspect(db).get_table_names())


def test_migrations_match_the_schema_in_code(db):
    """A schema change without a migration shows up here as a diff."""
    with db.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diffs == []


def test_every_table_has_tenant_id_and_outputs_are_keyed_by_run():
    for table in metadata.tables.values():
        if table.name == "alembic_version":
            continue
        assert "tenant_id" in table.c, table.name
    for table in OUTPUT_TABLES:
        assert "run_id" in [c.name for c in table.primary_key.columns], table.name
    for table in INPUT_TABLES.values():
        assert "tenant_id" in [c.name for c in table.primary_key.columns], table.name


@pytest.mark.parametrize("dialect", ["mssql", "postgresql"])
def test_committed_sql_matches_the_code(dialect):
    committed = sql_file(dialect, ROOT).read_text(encoding="utf-8")
    assert committed == migration_sql(dialect), f"sql/{dialect} drifted: run `make sql` and commit"


def test_every_statement_compiles_for_mssql():
    dialect = mssql.dialect()
    for table in metadata.sorted_tables:
        assert str(CreateTable(table).compile(dialect=dialect)).startswith("\nCREATE TABLE")
        for index in table.indexes:
            str(CreateIndex(index).compile(dialect=dialect))
    ddl = migration_sql("mssql")
    assert "WHERE status IN ('Pending', 'PreProcessing', 'Allocating', 'PostProcessing')" in ddl
    assert "PRIMARY KEY NONCLUSTERED" in ddl  # constraint_rules' key is wider than a clustered key may be


def test_br8_index_predicate_is_the_active_set():
    index = next(i for i in run_history.indexes if i.name == "ux_pfill_run_history_active_tenant")
    expected = "status IN ({})".format(", ".join(f"'{s.value}'" for s in ACTIVE_STATUSES))
    for dialect in ("sqlite", "postgresql", "mssql"):
        assert str(index.dialect_options[dialect]["where"]) == expected
    assert set(ACTIVE_STATUSES) | set(TERMINAL_STATUSES) == set(RunStatus)
    assert not set(ACTIVE_STATUSES) & set(TERMINAL_STATUSES)


def _run_row(tenant_id: str, status: RunStatus) -> dict:
    return {
        "run_id": str(uuid.uuid4()), "tenant_id": tenant_id, "status": status.value, "trigger": "cli",
        "options_json": "{}", "started_at_utc": datetime.now(timezone.utc).replace(tzinfo=None),
    }


def test_br8_second_active_run_is_rejected_by_the_database(db, tenant_id):
    with db.begin() as conn:
        conn.execute(insert(run_history), [_run_row(tenant_id, s) for s in TERMINAL_STATUSES * 2])
        first = _run_row(tenant_id, RunStatus.PENDING)
        conn.execute(insert(run_history), first)
        conn.execute(insert(run_history), _run_row("other-tenant", RunStatus.ALLOCATING))
    for status in ACTIVE_STATUSES:
        with pytest.raises(IntegrityError):
            with db.begin() as conn:
                conn.execute(insert(run_history), _run_row(tenant_id, status))
    # Once the active run ends, the tenant may start another.
    with db.begin() as conn:
        conn.execute(update(run_history).where(run_history.c.run_id == first["run_id"]).values(status="Complete"))
        conn.execute(insert(run_history), _run_row(tenant_id, RunStatus.PENDING))
