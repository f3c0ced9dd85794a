"""The one bulk insert (pipeline.db.bulk): exact numbers, nulls, dates and booleans round-trip on
every dialect, across statement, chunk and remainder boundaries."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import numpy as np
from sqlalchemy import select

from pipeline.db import bulk
from pipeline.db import schema as S
from pipeline.db.bulk import ColumnRows, Scaled, insert_columns, insert_dicts
from pipeline.db.copy_text import decimal_text


def test_decimal_text_is_exact():
    units = np.array([0, 5, -5, 123456789, -100000000, 10**17 + 1], dtype=np.int64)
    assert decimal_text(units, 8) == ["0.00000000", "0.00000005", "-0.00000005", "1.23456789", "-1.00000000",
                                      "1000000000.00000001"]
    assert decimal_text(np.array([-1, 250], dtype=np.int64), 2) == ["-0.01", "2.50"]
    assert decimal_text(np.array([-7, 7], dtype=np.int64), 0) == ["-7", "7"]


def test_columns_round_trip_exactly(db, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 250)  # several chunks, each with a partial last statement
    monkeypatch.setattr(bulk, "BIG_INSERT", 100)  # and the larger-cache path on SQLite
    n = 613
    run_id = str(uuid.uuid4())
    rng = np.random.default_rng(5)
    price = rng.integers(-10**12, 10**12, n)
    price[:4] = [0, 1, -1, 99_999_999_999]
    amount = rng.integers(0, 10**11, n)
    loan_ids = [f"L{i:05d}" for i in range(n)]
    rows = ColumnRows(n, {
        "run_id": [run_id] * n, "tenant_id": ["t"] * n, "loan_id": loan_ids, "trade_id": ["T1"] * n,
        "constraint_name": ["ALL"] * n, "level": np.arange(n).tolist(), "loan_amount": Scaled(amount, 2),
        "price": Scaled(price, 8), "servicing_value": [Decimal("-0.12345678")] * n, "carry": Scaled(price // 7, 8),
        "carry_matched": [i % 2 == 0 for i in range(n)], "value": Scaled(price, 8),
        "objective_value": Scaled(-amount, 2), "candidate_rank": [1] * n,
    })
    with db.begin() as conn:
        insert_columns(conn, S.candidates, rows.n, rows.columns)
    c = S.candidates.c
    with db.connect() as conn:
        got = conn.execute(select(c.loan_id, c.level, c.loan_amount, c.price, c.servicing_value, c.carry,
                                  c.carry_matched, c.objective_value)
                           .where(c.run_id == run_id).order_by(c.loan_id)).all()
    assert len(got) == n
    for i, r in enumerate(got):
        assert r.loan_id == loan_ids[i] and r.level == i
        assert r.loan_amount == Decimal(int(amount[i])).scaleb(-2)
        assert r.price == Decimal(int(price[i])).scaleb(-8)
        assert r.carry == Decimal(int(price[i] // 7)).scaleb(-8)
        assert r.servicing_value == Decimal("-0.12345678")
        assert r.carry_matched is (i % 2 == 0)
        assert r.objective_value == -Decimal(int(amount[i])).scaleb(-2)


def test_dict_rows_with_nulls_and_dates(db):
    run_id = str(uuid.uuid4())
    rows = [{"loan_id": "A", "scope": "Closed", "loan_amount": Decimal("1.05"), "note_rate": Decimal("6.125"),
             "available_date": date(2026, 11, 2), "pool_locked": False, "candidate_count": 2},
            {"loan_id": "B", "scope": "Pinned", "loan_amount": Decimal("0.00"), "note_rate": Decimal("-0.000001"),
             "available_date": None, "pool_locked": True, "candidate_count": 0, "fail_reason": "a\tb\\c\nd\re"}]
    with db.begin() as conn:
        insert_dicts(conn, S.loan_scope, rows, run_id=run_id, tenant_id="o'hare")  # a constant needing quotes
    c = S.loan_scope.c
    with db.connect() as conn:
        assert conn.execute(select(c.tenant_id).where(c.run_id == run_id)).scalars().all() == ["o'hare"] * 2
        got = [r._asdict() for r in conn.execute(
            select(c.loan_id, c.loan_amount, c.note_rate, c.available_date, c.pool_locked, c.fail_reason,
                   c.current_pool_name).where(c.run_id == run_id).order_by(c.loan_id))]
    assert got == [
        {"loan_id": "A", "loan_amount": Decimal("1.05"), "note_rate": Decimal("6.125"), "available_date": date(2026, 11, 2),
         "pool_locked": False, "fail_reason": None, "current_pool_name": None},
        {"loan_id": "B", "loan_amount": Decimal("0.00"), "note_rate": Decimal("-0.000001"), "available_date": None,
         "pool_locked": True, "fail_reason": "a\tb\\c\nd\re", "current_pool_name": None},
    ]
