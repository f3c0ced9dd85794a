"""References between kinds, checked against what the tenant will hold after the upload.

For every reference (ENGINE.md §2, §4: "every reference in the inputs must resolve") a kind in the
upload is checked against the uploaded rows of the kind it names, else against the tenant's rows in
the database; and when the upload replaces a referenced kind, the rows that stay in the database
are checked against the new set, so re-uploading stages without a stage loans still use is refused.
Runs inside the import's transaction, so it sees the snapshot the import replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pipeline.inputs.errors import ErrorList, InputError, display_value
from pipeline.inputs.kinds import get_kind
from pipeline.inputs.validate import ParsedKind

INSTRUMENT = ("investor_id", "investor_instrument_name")


@dataclass(frozen=True)
class Ref:
    child: str
    child_cols: tuple[str, ...]
    parent: str
    parent_cols: tuple[str, ...]
    what: str  # what the parent key is, for messages


REFS = (
    Ref("loans", ("stage_name",), "loan_stages", ("stage_name",), "stage"),
    Ref("loans", ("current_pool_name",), "pools", ("pool_name",), "pool"),
    Ref("trades", INSTRUMENT, "instruments", INSTRUMENT, "instrument"),
    Ref("pools", ("trade_id",), "trades", ("trade_id",), "trade"),
    Ref("lockdowns", ("pool_name",), "pools", ("pool_name",), "pool"),
    Ref("cash_grids", ("trade_id",), "trades", ("trade_id",), "trade"),
    Ref("constraints", INSTRUMENT, "instruments", INSTRUMENT, "instrument"),
    Ref("constraint_rules", (*INSTRUMENT, "constraint_name"), "constraints", (*INSTRUMENT, "constraint_name"), "constraint"),
    Ref("carry_costs", ("investor_instrument_name",), "instruments", ("investor_instrument_name",), "instrument"),
    Ref("payups", ("investor_instrument_name",), "instruments", ("investor_instrument_name",), "instrument"),
    Ref("market_prices", ("investor_instrument_name",), "instruments", ("investor_instrument_name",), "instrument"),
)


class TenantView:
    """The tenant's inputs as they will be after the upload: uploaded rows, else the database's."""

    def __init__(self, conn: Connection, tenant_id: str, uploads: dict[str, ParsedKind]) -> None:
        self.conn, self.tenant_id, self.uploads = conn, tenant_id, uploads

    def source(self, kind: str) -> str:
        upload = self.uploads.get(kind)
        return upload.filename if upload else f"the tenant's {kind}"

    def stored(self, kind: str, cols: tuple[str, ...]) -> set[tuple]:
        """Distinct non-null values of `cols` in the database (the rows the upload does not replace)."""
        table = get_kind(kind).table
        stmt = select(*(table.c[c] for c in cols)).where(table.c.tenant_id == self.tenant_id).distinct()
        return {tuple(r) for r in self.conn.execute(stmt) if None not in r}

    def keys(self, kind: str, cols: tuple[str, ...]) -> set[tuple]:
        upload = self.uploads.get(kind)
        if upload is None:
            return self.stored(kind, cols)
        return {tuple(r[c] for c in cols) for r in upload.records}

    def rows(self, kind: str, cols: tuple[str, ...]) -> list[dict[str, Any]]:
        upload = self.uploads.get(kind)
        if upload is not None:
            return upload.records
        table = get_kind(kind).table
        stmt = select(*(table.c[c] for c in cols)).where(table.c.tenant_id == self.tenant_id)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]


def check_references(conn: Connection, tenant_id: str, uploads: dict[str, ParsedKind], errors: ErrorList) -> None:
    view = TenantView(conn, tenant_id, uploads)
    for ref in REFS:
        if ref.child in uploads or ref.parent in uploads:
            _check_ref(view, ref, view.keys(ref.parent, ref.parent_cols), errors)
    if uploads.keys() & {"cash_grids", "trades", "instruments"}:
        _check_cash_grids(view, errors)
    if uploads.keys() & {"trades", "instruments"}:
        _check_trade_prices(view, errors)


def _shown(cols: tuple[str, ...], key: tuple) -> str:
    return " / ".join(repr(v) for v in key) if len(cols) > 1 else repr(key[0])


def _check_ref(view: TenantView, ref: Ref, parent_keys: set[tuple], errors: ErrorList) -> None:
    child = view.uploads.get(ref.child)
    column = ref.child_cols[-1]
    if child is not None:
        for index, record in enumerate(child.records):
            key = tuple(record[c] for c in ref.child_cols)
            if None in key or key in parent_keys:
                continue
            errors.add(child.error(index, column, record[column],
                                   f"unknown {ref.what} {_shown(ref.child_cols, key)}: not in {view.source(ref.parent)}"))
        return
    parent = view.uploads[ref.parent]
    for key in sorted(view.stored(ref.child, ref.child_cols) - parent_keys, key=str):
        errors.add(InputError(parent.filename, None, ref.parent_cols[-1], display_value(key[-1]),
                              f"{ref.what} {_shown(ref.parent_cols, key)} is missing from this upload "
                              f"but the tenant's {ref.child} still use it"))


def _instrument_types(view: TenantView) -> dict[tuple, str]:
    return {tuple(r[c] for c in INSTRUMENT): r["instrument_type"]
            for r in view.rows("instruments", (*INSTRUMENT, "instrument_type"))}


def _check_cash_grids(view: TenantView, errors: ErrorList) -> None:
    """A cash grid belongs to a CASH trade (a trade of a CASH instrument)."""
    types = _instrument_types(view)
    trade_type = {r["trade_id"]: types.get(tuple(r[c] for c in INSTRUMENT))
                  for r in view.rows("trades", ("trade_id", *INSTRUMENT))}
    grids = view.uploads.get("cash_grids")
    if grids is not None:
        for index, record in enumerate(grids.records):
            kind = trade_type.get(record["trade_id"])
            if kind is not None and kind != "CASH":  # unknown trades are reported by REFS
                errors.add(grids.error(index, "trade_id", record["trade_id"],
                                       f"trade {record['trade_id']!r} is a {kind} trade; cash grids belong to CASH trades"))
        return
    culprit = view.uploads.get("trades") or view.uploads["instruments"]
    for (trade_id,) in sorted(view.stored("cash_grids", ("trade_id",))):
        kind = trade_type.get(trade_id)
        if kind is not None and kind != "CASH":
            errors.add(InputError(culprit.filename, None, "trade_id" if culprit.kind.name == "trades" else "instrument_type",
                                  trade_id, f"trade {trade_id!r} would be a {kind} trade but the tenant's cash grids "
                                            "price it as a CASH trade"))


def _check_trade_prices(view: TenantView, errors: ErrorList) -> None:
    """A TBA or SPEC trade needs a coupon and a price (the servicing test and its value use them)."""
    types = _instrument_types(view)
    trades = view.uploads.get("trades")
    rows = view.rows("trades", ("trade_id", *INSTRUMENT, "coupon", "price"))
    for index, record in enumerate(rows):
        kind = types.get(tuple(record[c] for c in INSTRUMENT))
        if kind not in ("TBA", "SPEC"):
            continue
        for column in ("coupon", "price"):
            if record[column] is not None:
                continue
            if trades is not None:
                errors.add(trades.error(index, column, None, f"a {kind} trade needs a {column}"))
            else:
                errors.add(InputError(view.uploads["instruments"].filename, None, "instrument_type", kind,
                                      f"trade {record['trade_id']!r} has no {column} but its instrument would be {kind}"))
