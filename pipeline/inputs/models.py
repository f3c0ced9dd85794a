"""The row contract of every input kind (ENGINE.md §2): one pydantic model per kind.

Field names are the CSV/JSON column names, in file order; unknown columns are refused. Every
field is parsed by a strict cell parser (`cells.py`) so that a CSV string and a JSON value obey
the same rules. Row-level rules (defaults taken from another column, min ≤ max, a rule's value
parsed by its loan column's type) live in the models' `after` validators; rules that need other
rows or other kinds (duplicate keys, references) are the importer's (`references.py`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, model_validator
from sqlalchemy import Boolean, Date, Integer, Numeric

from pipeline.db.schema import loans as loans_table
from pipeline.inputs import cells
from pipeline.inputs.cells import CellError

OCCUPANCIES = ("Primary", "Second", "Investor")
LOAN_PURPOSES = ("Purchase", "Refi", "CashOut")
INSTRUMENT_TYPES = ("TBA", "SPEC", "CASH")
TRADE_STATUSES = ("Open", "Closed")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not_in")
LIST_OPERATORS = ("in", "not_in")
DEFAULT_LOT_SIZE = Decimal(1_000_000)


def _f(parser: cells.Parser) -> PlainValidator:
    return PlainValidator(parser)


# Field types: the annotation documents the Python type, the parser decides.
Text = Annotated[str, _f(cells.text_cell(required=True))]
OptText = Annotated[str | None, _f(cells.text_cell())]
ReqInt = Annotated[int, _f(cells.int_cell(required=True))]
OptInt = Annotated[int | None, _f(cells.int_cell(ge=0))]
ReqBool = Annotated[bool, _f(cells.bool_cell(required=True))]
Amount = Annotated[Decimal, _f(cells.amount_cell(required=True))]
OptAmount = Annotated[Decimal | None, _f(cells.amount_cell())]
Rate = Annotated[Decimal, _f(cells.rate_cell(required=True, ge=0))]
OptRate = Annotated[Decimal | None, _f(cells.rate_cell(ge=0))]
SignedRate = Annotated[Decimal, _f(cells.rate_cell(required=True))]
OptSignedRate = Annotated[Decimal | None, _f(cells.rate_cell())]
Price = Annotated[Decimal, _f(cells.price_cell(required=True))]
OptPrice = Annotated[Decimal | None, _f(cells.price_cell())]
ReqDate = Annotated[date, _f(cells.date_cell(required=True))]
OptDate = Annotated[date | None, _f(cells.date_cell())]


class InputRow(BaseModel):
    """A row of an input file. `finish` holds the row's rules across columns (defaults taken
    from another column, min ≤ max): one function that the model runs after parsing its fields
    and that the importer's fast path runs on the same parsed values."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def finish(cls, values: dict[str, Any]) -> None:
        """Check and complete parsed `values` in place; raise `CellError` naming the column."""

    @model_validator(mode="after")
    def _finish(self) -> "InputRow":
        type(self).finish(self.__dict__)
        return self


def _check_order(low: Any, high: Any, low_name: str, high_name: str) -> None:
    if low is not None and high is not None and low > high:
        raise CellError(f"{low_name} {low} is greater than {high_name} {high}", column=low_name)


class LoanStage(InputRow):
    stage_name: Text
    stage_rank: ReqInt
    is_active: ReqBool


class Loan(InputRow):
    loan_id: Text
    loan_amount: Amount
    original_loan_amount: OptAmount = None  # default: loan_amount
    note_rate: Rate
    product: Text
    stage_name: Text
    lock_date: OptDate = None
    lock_expiration_date: OptDate = None
    expected_close_date: OptDate = None
    closing_date: OptDate = None
    funded_date: OptDate = None
    fico: OptInt = None
    ltv: OptRate = None
    dti: OptRate = None
    property_state: OptText = None
    occupancy: Annotated[str | None, _f(cells.enum_cell(OCCUPANCIES))] = None
    loan_purpose: Annotated[str | None, _f(cells.enum_cell(LOAN_PURPOSES))] = None
    property_type: OptText = None
    units: OptInt = None
    current_pool_name: OptText = None

    @classmethod
    def finish(cls, values: dict[str, Any]) -> None:
        if values["original_loan_amount"] is None:
            values["original_loan_amount"] = values["loan_amount"]


class Instrument(InputRow):
    investor_id: Text
    investor_instrument_name: Text
    instrument_type: Annotated[str, _f(cells.enum_cell(INSTRUMENT_TYPES, required=True))]
    term_months: Annotated[int | None, _f(cells.int_cell(gt=0))] = None
    products: Annotated[str, _f(cells.list_cell(required=True))]
    min_servicing: OptSignedRate = None
    max_servicing: OptSignedRate = None
    excess_servicing_base: OptSignedRate = None  # default: min_servicing
    servicing_multiple: OptSignedRate = None  # default: 0
    min_loan_amount: OptAmount = None
    max_loan_amount: OptAmount = None
    delivery_lead_days: OptInt = None  # default: 0
    lot_size: OptAmount = None  # default: 1,000,000; 0 = no rounding
    min_pool_amount: OptAmount = None
    max_pool_amount: OptAmount = None

    @classmethod
    def finish(cls, values: dict[str, Any]) -> None:
        for low in ("min_servicing", "min_loan_amount", "min_pool_amount"):
            high = "max" + low[3:]
            _check_order(values[low], values[high], low, high)
        if values["excess_servicing_base"] is None:
            values["excess_servicing_base"] = values["min_servicing"]
        if values["servicing_multiple"] is None:
            values["servicing_multiple"] = Decimal(0)
        if values["delivery_lead_days"] is None:
            values["delivery_lead_days"] = 0
        if values["lot_size"] is None:
            values["lot_size"] = DEFAULT_LOT_SIZE


class Trade(InputRow):
    trade_id: Text
    investor_id: Text
    investor_instrument_name: Text
    coupon: OptRate = None  # null for CASH
    trade_amount: Amount
    tolerance_pct: Annotated[Decimal, _f(cells.rate_cell(required=True, ge=0, le=100))]
    price: OptPrice = None  # TBA/SPEC
    settlement_date: ReqDate
    status: Annotated[str, _f(cells.enum_cell(TRADE_STATUSES, required=True))]
    counterparty: OptText = None


class Pool(InputRow):
    pool_name: Text
    trade_id: OptText = None


class Lockdown(InputRow):
    pool_name: Text
    lock_pool: ReqBool


class Constraint(InputRow):
    investor_id: Text
    investor_instrument_name: Text
    constraint_name: Text
    constraint_priority: ReqInt


def _loan_field_parsers() -> dict[str, cells.Parser]:
    """How a rule's value is read, by the type of the loan column it names."""
    parsers: dict[str, cells.Parser] = {}
    for column in loans_table.columns:
        if column.name == "tenant_id":
            continue
        if isinstance(column.type, (Numeric, Integer)):
            parsers[column.name] = cells.decimal_cell(cells.RATE_PLACES, required=True)
        elif isinstance(column.type, Date):
            parsers[column.name] = cells.date_cell(required=True)
        elif isinstance(column.type, Boolean):
            parsers[column.name] = cells.bool_cell(required=True)
        else:
            parsers[column.name] = lambda raw: raw  # text: exact and case-sensitive
    return parsers


RULE_FIELD_PARSERS = _loan_field_parsers()


def parse_rule_value(field: str, operator: str, value: str) -> Any:
    """A rule's value as the engine compares it: one typed value, or a list for in/not_in."""
    parse = RULE_FIELD_PARSERS[field]
    if operator in LIST_OPERATORS:
        return [parse(item) for item in cells.split_list(value)]
    return parse(value)


class ConstraintRule(InputRow):
    investor_id: Text
    investor_instrument_name: Text
    constraint_name: Text
    field: Text
    operator: Text
    value: Text

    @classmethod
    def finish(cls, values: dict[str, Any]) -> None:
        field, operator = values["field"], values["operator"]
        if field not in RULE_FIELD_PARSERS:
            raise CellError(f"unknown loan field {field!r}", column="field")
        if operator not in OPERATORS:
            raise CellError(f"unknown operator {operator!r} (use {' '.join(OPERATORS)})", column="operator")
        try:
            parse_rule_value(field, operator, values["value"])
        except CellError as err:
            raise CellError(f"value does not fit loan field {field}: {err}", column="value") from None
        if operator in LIST_OPERATORS:  # stored as the engine splits it: elements trimmed
            values["value"] = ";".join(cells.split_list(values["value"]))


class CarryCost(InputRow):
    investor_instrument_name: Text
    on_day: Annotated[int, _f(cells.int_cell(required=True, ge=0))]
    funding_rate: SignedRate


class Payup(InputRow):
    investor_instrument_name: Text
    coupon: Rate
    payup_value: SignedRate
    div_by: Annotated[Decimal | None, _f(cells.rate_cell(gt=0))] = None  # default: 1

    @classmethod
    def finish(cls, values: dict[str, Any]) -> None:
        if values["div_by"] is None:
            values["div_by"] = Decimal(1)


class CashGrid(InputRow):
    trade_id: Text
    note_rate: Rate
    price: Price


class MarketPrice(InputRow):
    investor_instrument_name: Text
    coupon: Rate
    settlement_date: ReqDate
    price: Price
