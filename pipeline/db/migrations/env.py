"""Alembic environment, always driven by pipeline.db.migrate: online with a live connection, or
offline (SQL text for one dialect, `migration_sql`) for review and the drift tests."""

from alembic import context

from pipeline.db.schema import metadata


def render_item(type_, obj, autogen_context):  # noqa: ANN001 - alembic hook
    """Keep dialect options of primary keys (mssql_clustered) that autogenerate would drop."""
    if type_ == "primary_key" and obj.dialect_kwargs:
        cols = ", ".join(repr(c.name) for c in obj.columns)
        kwargs = "".join(f", {k}={v!r}" for k, v in sorted(obj.dialect_kwargs.items()))
        return f"sa.PrimaryKeyConstraint({cols}, name=op.f({obj.name!r}){kwargs})"
    return False


attributes = context.config.attributes
if context.is_offline_mode():
    context.configure(
        dialect_name=attributes["dialect_name"],
        output_buffer=attributes["output_buffer"],
        target_metadata=metadata,
        literal_binds=True,
    )
else:
    connection = attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
        compare_type=True,
        render_item=render_item,
    )
with context.begin_transaction():
    context.run_migrations()
