"""Replacing a tenant's inputs: validate everything, then swap whole kinds in one transaction.

`import_many` is the one path (the CLI and the HTTP layer both use it; `import_kind` is the one-kind
case). Order of work:
1. read and validate every uploaded file on its own (types, required fields, ranges, duplicates);
2. open the transaction, check references against the uploads and the tenant's stored rows;
3. DELETE the tenant's rows of each uploaded kind and bulk-insert the new ones (`pipeline.db.bulk`, the one bulk insert), in load order.
Any error in 1 or 2 raises `InputValidationError` before a row changes (2 rolls back).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from sqlalchemy import delete
from sqlalchemy.engine import Connection, Engine

from pipeline.db.errors import with_retry
from pipeline.db.locks import lock_tenant_inputs
from pipeline.db.bulk import insert_dicts
from pipeline.inputs.errors import ErrorList
from pipeline.inputs.kinds import KINDS, get_kind
from pipeline.inputs.readers import read_rows
from pipeline.inputs.references import check_references
from pipeline.inputs.validate import ParsedKind, validate_rows

Upload = tuple[bytes, str, str]  # (data, "csv" | "json", filename)


@dataclass
class ImportResult:
    counts: dict[str, int] = field(default_factory=dict)  # rows now stored, per uploaded kind
    seconds: float = 0.0


def import_kind(engine: Engine, tenant_id: str, kind: str, data: bytes, *, fmt: str = "csv",
                filename: str | None = None, guard: Callable[[Connection], None] | None = None) -> ImportResult:
    """Replace the tenant's rows of one kind with `data` (CSV with a header row, or a JSON array)."""
    return import_many(engine, tenant_id, {kind: (data, fmt, filename or f"{kind}.{fmt}")}, guard=guard)


def import_many(engine: Engine, tenant_id: str, uploads: Mapping[str, Upload], *,
                guard: Callable[[Connection], None] | None = None) -> ImportResult:
    """Replace several kinds at once, all or nothing. `guard(conn)` runs inside the write
    transaction, after the tenant's input lock is taken: raising there refuses the upload (the
    HTTP layer refuses while a run is active, race-free against submits)."""
    started = time.perf_counter()
    for kind in uploads:
        get_kind(kind)  # unknown kind names are a programming error, not an input error
    errors = ErrorList()
    parsed: dict[str, ParsedKind] = {}
    for kind in KINDS:
        if kind not in uploads:
            continue
        data, fmt, filename = uploads[kind]
        spec = get_kind(kind)
        parsed[kind] = validate_rows(spec, read_rows(spec, data, fmt, filename, errors), filename, errors)
    errors.raise_if_any()

    def replace_in_one_transaction() -> None:
        ref_errors = ErrorList()  # afresh on every attempt
        with engine.begin() as conn:
            lock_tenant_inputs(conn, tenant_id)
            if guard is not None:
                guard(conn)
            check_references(conn, tenant_id, parsed, ref_errors)
            ref_errors.raise_if_any()  # leaving the block by an exception rolls back
            for upload in parsed.values():
                _replace(conn, tenant_id, upload)

    # A transient database error (failover, deadlock) repeats the whole transaction; anything
    # else is raised as the db layer's PermanentDatabaseError, InputValidationError as itself.
    with_retry(replace_in_one_transaction)
    return ImportResult({k: len(p.records) for k, p in parsed.items()}, time.perf_counter() - started)


def _replace(conn: Connection, tenant_id: str, upload: ParsedKind) -> None:
    table = upload.kind.table
    conn.execute(delete(table).where(table.c.tenant_id == tenant_id))
    for record in upload.records:
        record["tenant_id"] = tenant_id
    insert_dicts(conn, table, upload.records)
