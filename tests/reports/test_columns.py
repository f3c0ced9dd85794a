"""Cell formatting: scales, and spreadsheet-formula neutralisation of text cells only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.reports.columns import csv_cell, json_cell, neutralise


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "=HYPERLINK(\"http://x\")"])
def test_formula_like_text_is_prefixed(text):
    assert neutralise(text) == "'" + text
    assert csv_cell(text, "text") == "'" + text


@pytest.mark.parametrize("text", ["T-1", "plain", "", "a=b", "100"])
def test_ordinary_text_is_untouched(text):
    assert csv_cell(text, "text") == text


def test_numbers_are_written_at_their_scale_and_never_prefixed():
    assert csv_cell(Decimal("-1234.5"), "money") == "-1234.50"
    assert csv_cell(-0.123456785, "value") == "-0.12345678"  # half-even at 8 decimals
    assert csv_cell(Decimal("6.125"), "rate") == "6.125000"
    assert json_cell(Decimal("101.5"), "value") == "101.50000000"
    assert csv_cell(None, "money") == "" and json_cell(None, "money") is None
    assert csv_cell(True, "bool") == "true" and csv_cell(7, "int") == "7"
