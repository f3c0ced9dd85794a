"""The input kinds: for each, its row model, table, key, and which columns a file must carry.

`KINDS` lists the names in load order (every kind after the kinds it references), the order of
`pipeline.db.schema.INPUT_TABLES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import PlainValidator
from sqlalchemy import String, Table

from pipeline.db.schema import INPUT_TABLES
from pipeline.inputs import models

_MODELS: dict[str, type[models.InputRow]] = {
    "loan_stages": models.LoanStage,
    "loans": models.Loan,
    "instruments": models.Instrument,
    "trades": models.Trade,
    "pools": models.Pool,
    "lockdowns": models.Lockdown,
    "constraints": models.Constraint,
    "constraint_rules": models.ConstraintRule,
    "carry_costs": models.CarryCost,
    "payups": models.Payup,
    "cash_grids": models.CashGrid,
    "market_prices": models.MarketPrice,
}

# Keys that must be unique besides the primary key (ENGINE.md §2: the instrument name keys
# carry, payups and market prices, so it is unique within a tenant).
_UNIQUE: dict[str, tuple[tuple[str, ...], ...]] = {
    "instruments": (("investor_instrument_name",),),
}


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[models.InputRow]
    table: Table
    columns: tuple[str, ...]  # file columns, in file order
    key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]  # the key first, then any other unique column sets
    required: frozenset[str]  # columns a CSV header must name (the rest may be left out)
    max_lengths: dict[str, int]  # text columns and the schema's length limit
    parsers: tuple[tuple[str, Callable[[Any], Any]], ...]  # the model's cell parser per column

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


def _kind(name: str, table: Table) -> Kind:
    model = _MODELS[name]
    columns = tuple(model.model_fields)
    table_columns = tuple(c.name for c in table.columns if c.name != "tenant_id")
    if columns != table_columns:  # the file format and the schema must not drift apart
        raise RuntimeError(f"{name}: model columns {columns} differ from table columns {table_columns}")
    key = tuple(c.name for c in table.primary_key.columns if c.name != "tenant_id")
    return Kind(
        name=name,
        model=model,
        table=table,
        columns=columns,
        key=key,
        unique=(key, *_UNIQUE.get(name, ())),
        required=frozenset(n for n, f in model.model_fields.items() if f.is_required()),
        max_lengths={
            c.name: c.type.length
            for c in table.columns
            if isinstance(c.type, String) and c.type.length and c.name != "tenant_id"
        },
        parsers=tuple((name, _parser(f.metadata)) for name, f in model.model_fields.items()),
    )


def _parser(metadata: list) -> Callable[[Any], Any]:
    """The cell parser a model field is declared with (its PlainValidator)."""
    for item in metadata:
        if isinstance(item, PlainValidator):
            return item.func
    raise RuntimeError("every input field is declared with a cell parser (PlainValidator)")


KIND_SPECS: dict[str, Kind] = {name: _kind(name, table) for name, table in INPUT_TABLES.items()}
KINDS: tuple[str, ...] = tuple(KIND_SPECS)


def get_kind(name: str) -> Kind:
    try:
        return KIND_SPECS[name]
    except KeyError:
        raise KeyError(f"unknown input kind {name!r} (kinds: {', '.join(KINDS)})") from None
