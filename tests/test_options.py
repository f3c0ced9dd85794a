"""Run options (ENGINE.md §3): defaults, unknown fields refused, dates only as YYYY-MM-DD."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from pydantic import ValidationError

from pipeline.engine.options import Allocator, RunOptions, Scope


def test_defaults_follow_engine_md():
    o = RunOptions()
    assert (o.scope, o.allocator, o.min_status, o.max_trade_settle_days) == (Scope.CLOSED_AND_LOCKED, Allocator.OPTIMAL, "Closed", 60)
    assert str(o.switch_cost_bps) == "0.1" and str(o.shortfall_penalty) == "1.0"


def test_unknown_fields_are_refused_by_name():
    with pytest.raises(ValidationError, match="colour"):
        RunOptions.model_validate({"colour": "red"})


@pytest.mark.parametrize("bad", [0, 1700000000, "20261102", "2026-13-01", "yesterday"])
def test_as_of_date_must_be_an_iso_date(bad):
    with pytest.raises(ValidationError, match="as_of_date"):
        RunOptions.model_validate({"as_of_date": bad})


def test_as_of_date_defaults_to_the_business_date_in_the_tenant_zone():
    late_evening_new_york = datetime(2026, 11, 3, 3, 30, tzinfo=timezone.utc)  # 22:30 on the 2nd in New York
    assert RunOptions().resolved("America/New_York", late_evening_new_york).as_of_date == date(2026, 11, 2)
    assert RunOptions(as_of_date="2026-01-05").resolved("America/New_York").as_of_date == date(2026, 1, 5)


def test_loan_ids_are_sorted_and_unique():
    assert RunOptions(loan_ids=["b", "a"]).loan_ids == ["a", "b"]
    with pytest.raises(ValidationError, match="duplicates"):
        RunOptions(loan_ids=["a", "a"])
