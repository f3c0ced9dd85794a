"""Input rows without a database: cell parsing, the row models (the contract) and the importer's
fast path agreeing with them, and the canonical cell format."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.inputs import KINDS, get_kind
from pipeline.inputs import cells
from pipeline.inputs.cells import CellError, format_cell
from pipeline.inputs.errors import ErrorList
from pipeline.inputs.readers import read_rows
from pipeline.inputs.validate import model_record, validate_rows

SMALL = Path(__file__).parent / "data" / "inputs_small"


@pytest.mark.parametrize("text, expected", [
    ("330000.00", Decimal("330000.00")), ("6.12", Decimal("6.12")), ("-0.5", Decimal("-0.5")),
    (" 12 ", Decimal(12)), ("1.10", Decimal("1.1")), (".5", Decimal("0.5")), ("", None),
])
def test_amounts_parse_exactly(text, expected):
    assert cells.decimal_cell(2, ge=None)(text) == expected


@pytest.mark.parametrize("text, message", [
    ("1.005", "more than 2 decimals"), ("1e3", "not a number"), ("1_000", "not a number"),
    ("NaN", "not a number"), ("12x", "not a number"), ("10000000000000", "out of range"),
])
def test_amounts_reject_rather_than_round(text, message):
    with pytest.raises(CellError, match=message):
        cells.amount_cell()(text)


def test_rates_allow_six_decimals_and_trailing_zeros():
    rate = cells.rate_cell()
    assert rate("6.123456") == Decimal("6.123456")
    assert rate("6.12345600") == Decimal("6.123456")
    with pytest.raises(CellError, match="more than 6 decimals"):
        rate("6.1234567")
    with pytest.raises(CellError, match="more than 6 decimals"):
        rate(Decimal("6.1234567"))  # JSON numbers obey the same rule


@pytest.mark.parametrize("text, ok", [("50", True), ("150", True), ("49.999999", False), ("150.000001", False)])
def test_prices_lie_in_50_to_150(text, ok):
    if ok:
        assert cells.price_cell()(text) == Decimal(text)
    else:
        with pytest.raises(CellError, match="must be"):
            cells.price_cell()(text)


def test_dates_booleans_integers_lists():
    assert cells.parse_date("2026-02-28") == date(2026, 2, 28)
    for bad in ("2026-02-30", "2026/02/28", "20260228", "2026-2-8", "2026-02-28T00:00"):
        with pytest.raises(CellError, match="YYYY-MM-DD"):
            cells.parse_date(bad)
    assert cells.parse_bool("TRUE") is True and cells.parse_bool("false") is False and cells.parse_bool("") is None
    for bad in ("yes", "1", "t"):
        with pytest.raises(CellError, match="true/false"):
            cells.parse_bool(bad)
    assert cells.int_cell()("42") == 42
    with pytest.raises(CellError, match="not an integer"):
        cells.int_cell()("4.0")
    assert cells.list_cell()("CONV30; FHA30") == "CONV30;FHA30"
    assert cells.list_cell()(["CONV30", "FHA30"]) == "CONV30;FHA30"
    with pytest.raises(CellError, match="empty element"):
        cells.list_cell()("CONV30;;FHA30")
    with pytest.raises(CellError, match="required"):
        cells.text_cell(required=True)("")


def test_text_is_stored_exactly_as_given():
    formula = "=cmd|' /C calc'!A0"
    assert cells.text_cell()(formula) == formula
    assert cells.text_cell()("  padded ") == "  padded "


@pytest.mark.parametrize("value, text", [
    (Decimal("330000.00"), "330000"), (Decimal("6.125000"), "6.125"), (Decimal("0E-8"), "0"),
    (Decimal("-0.00"), "0"), (Decimal("0.000001"), "0.000001"), (None, ""), (True, "true"),
    (date(2026, 1, 2), "2026-01-02"), ("=1+1", "=1+1"),
])
def test_canonical_cell_format(value, text):
    assert format_cell(value) == text


def _fixture_rows(kind: str):
    data = (SMALL / f"{kind}.csv").read_bytes()
    return list(read_rows(get_kind(kind), data, "csv", f"{kind}.csv", ErrorList()))


@pytest.mark.parametrize("kind", KINDS)
def test_fast_path_agrees_with_the_pydantic_models(kind):
    """The importer applies the models' own parsers and row rules directly; it must give the
    models' answer for valid rows, defaults included."""
    rows = _fixture_rows(kind)
    errors = ErrorList()
    parsed = validate_rows(get_kind(kind), iter(rows), f"{kind}.csv", errors)
    assert not errors
    assert parsed.records == [model_record(get_kind(kind), cells_) for _, _, cells_ in rows]


@pytest.mark.parametrize("kind, change, column", [
    ("loans", {"loan_amount": "1.001"}, "loan_amount"),
    ("loans", {"occupancy": "primary"}, "occupancy"),
    ("instruments", {"min_servicing": "2", "max_servicing": "1"}, "min_servicing"),
    ("trades", {"tolerance_pct": "100.5"}, "tolerance_pct"),
    ("payups", {"div_by": "0"}, "div_by"),
    ("constraint_rules", {"field": "colour"}, "field"),
    ("constraint_rules", {"operator": "=="}, "operator"),
    ("constraint_rules", {"value": "six hundred"}, "value"),
])
def test_both_paths_reject_the_same_rows(kind, change, column):
    _, _, first = _fixture_rows(kind)[0]
    bad = {**first, **change}
    with pytest.raises(ValidationError):
        model_record(get_kind(kind), bad)
    errors = ErrorList()
    validate_rows(get_kind(kind), iter([(2, None, bad)]), f"{kind}.csv", errors)
    assert [e.column for e in errors.errors] == [column]


def test_defaults_are_filled():
    loan = model_record(get_kind("loans"), {"loan_id": "L", "loan_amount": "100", "note_rate": "6",
                                            "product": "CONV30", "stage_name": "Closed"})
    assert loan["original_loan_amount"] == Decimal(100)
    inst = model_record(get_kind("instruments"), {"investor_id": "I", "investor_instrument_name": "N",
                                                  "instrument_type": "TBA", "products": "CONV30",
                                                  "min_servicing": "0.25"})
    assert (inst["excess_servicing_base"], inst["servicing_multiple"], inst["delivery_lead_days"], inst["lot_size"]) \
        == (Decimal("0.25"), 0, 0, Decimal(1_000_000))
    payup = model_record(get_kind("payups"), {"investor_instrument_name": "N", "coupon": "6", "payup_value": "8"})
    assert payup["div_by"] == 1


def test_rule_values_are_read_by_the_loan_column_type():
    rule = {"investor_id": "I", "investor_instrument_name": "N", "constraint_name": "C"}
    ok = [("fico", ">=", "620"), ("lock_date", "<=", "2026-12-01"), ("property_state", "in", "CA;NY"),
          ("ltv", "not_in", "80;90.5"), ("occupancy", "=", "primary")]  # text: any value, exact
    for field, op, value in ok:
        model_record(get_kind("constraint_rules"), {**rule, "field": field, "operator": op, "value": value})
    listed = model_record(get_kind("constraint_rules"), {**rule, "field": "property_state", "operator": "in",
                                                         "value": "CA; NY "})
    assert listed["value"] == "CA;NY"  # list elements trimmed, as the engine splits them
    for field, op, value in [("lock_date", "<", "12/01/2026"), ("fico", "in", "700;x"), ("fico", "in", "700;")]:
        with pytest.raises(ValidationError, match="value does not fit"):
            model_record(get_kind("constraint_rules"), {**rule, "field": field, "operator": op, "value": value})


def test_file_columns_are_the_engine_spec_names():
    header = next(csv.reader(io.StringIO((SMALL / "loans.csv").read_text())))
    assert tuple(header) == get_kind("loans").columns
    assert KINDS[0] == "loan_stages" and len(KINDS) == 12
