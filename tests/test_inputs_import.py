"""Importing inputs on SQLite and PostgreSQL: a valid dataset loads; every kind of bad upload is
rejected with a message naming file, line and column, and the tenant's previous rows stay intact;
export → import → export gives the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.db.schema import loans, trades
from pipeline.inputs import (
    KINDS, InputValidationError, export_kind_csv, export_kind_json, import_kind, import_many,
)

SMALL = Path(__file__).parent / "data" / "inputs_small"


def fixture_uploads(folder: Path = SMALL) -> dict[str, tuple[bytes, str, str]]:
    return {k: ((folder / f"{k}.csv").read_bytes(), "csv", f"{k}.csv") for k in KINDS}


def snapshot(db, tenant_id) -> dict[str, bytes]:
    return {k: export_kind_csv(db, tenant_id, k) for k in KINDS}


def fixture_text(kind: str) -> str:
    return (SMALL / f"{kind}.csv").read_text(encoding="utf-8")


def rejected(db, tenant_id, kind: str, data: bytes, fmt: str = "csv") -> list[str]:
    """Upload `data`, expect a rejection, and return the messages."""
    with pytest.raises(InputValidationError) as exc:
        import_kind(db, tenant_id, kind, data, fmt=fmt, filename=f"{kind}.{fmt}")
    return [str(e) for e in exc.value.errors]


@pytest.fixture
def loaded(db, tenant_id):
    """The small fixture dataset loaded, and its export."""
    result = import_many(db, tenant_id, fixture_uploads())
    assert result.counts["loans"] == 6 and result.counts["trades"] == 4
    return snapshot(db, tenant_id)


def test_valid_dataset_loads_with_defaults(db, tenant_id, loaded):
    with db.connect() as conn:
        l001 = conn.execute(select(loans).where(loans.c.tenant_id == tenant_id, loans.c.loan_id == "L001")).one()
        assert str(l001.original_loan_amount) == "330000.00"  # default: loan_amount
        t3 = conn.execute(select(trades).where(trades.c.tenant_id == tenant_id, trades.c.trade_id == "T3")).one()
        assert t3.coupon is None and t3.price is None
    # Rows in key order; defaults filled; decimals without trailing zeros.
    assert loaded["instruments"].splitlines()[1:3] == [
        b"BANKX,BANKX_CASH30,CASH,360,CONV30;FHA30,,,,0,,,0,0,,",
        b"FHLMC,FHLMC_LB85_15,SPEC,180,CONV15,0.25,1,0.25,4,,85000,2,1000000,,",
    ]


def _replace_cell(text: str, line: int, column: str, value: str) -> str:
    lines = text.splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def _drop_column(text: str, column: str) -> str:
    rows = [line.split(",") for line in text.splitlines()]
    at = rows[0].index(column)
    return "\n".join(",".join(r[:at] + r[at + 1:]) for r in rows) + "\n"


# (kind, data, expected message prefix): each must be rejected and change nothing.
BAD_UPLOADS = {
    "missing column": ("loans", _drop_column(fixture_text("loans"), "note_rate").encode(),
                       "loans.csv:1:note_rate: missing required column 'note_rate'"),
    "extra column": ("pools", b"pool_name,trade_id,colour\nP1,T1,red\nP2,,blue\n",
                     "pools.csv:1:colour: unknown column 'colour'"),
    "bad number": ("loans", _replace_cell(fixture_text("loans"), 3, "loan_amount", "81x500").encode(),
                   "loans.csv:3:loan_amount: not a number: '81x500'"),
    "too many decimals": ("trades", _replace_cell(fixture_text("trades"), 2, "price", "99.5312345").encode(),
                          "trades.csv:2:price: rate or price has more than 6 decimals"),
    "price out of range": ("cash_grids", b"trade_id,note_rate,price\nT3,6,49.99\n",
                           "cash_grids.csv:2:price: must be at least 50"),
    "bad date": ("trades", _replace_cell(fixture_text("trades"), 4, "settlement_date", "2026-13-01").encode(),
                 "trades.csv:4:settlement_date: not a date (YYYY-MM-DD): '2026-13-01'"),
    "unknown stage": ("loans", _replace_cell(fixture_text("loans"), 5, "stage_name", "Docs Out").encode(),
                      "loans.csv:5:stage_name: unknown stage 'Docs Out': not in the tenant's loan_stages"),
    "dangling pool": ("loans", _replace_cell(fixture_text("loans"), 2, "current_pool_name", "P9").encode(),
                      "loans.csv:2:current_pool_name: unknown pool 'P9'"),
    "dangling trade": ("pools", b"pool_name,trade_id\nP1,T1\nP2,T99\n",
                       "pools.csv:3:trade_id: unknown trade 'T99'"),
    "dangling constraint": ("constraint_rules", fixture_text("constraint_rules").replace(
        "BANKX,BANKX_CASH30,Cash,ltv", "BANKX,BANKX_CASH30,Kash,ltv").encode(),
        "constraint_rules.csv:7:constraint_name: unknown constraint 'BANKX' / 'BANKX_CASH30' / 'Kash'"),
    "cash grid on a TBA trade": ("cash_grids", b"trade_id,note_rate,price\nT1,6,99\n",
                                 "cash_grids.csv:2:trade_id: trade 'T1' is a TBA trade"),
    "unknown instrument": ("carry_costs", b"investor_instrument_name,on_day,funding_rate\nNOPE,0,5\n",
                           "carry_costs.csv:2:investor_instrument_name: unknown instrument 'NOPE'"),
    "duplicate key": ("trades", (fixture_text("trades") + "T2,FNMA,FNMA_UMBS30,6,1,2,99,2026-12-14,Open,X\n").encode(),
                      "trades.csv:6:trade_id: duplicate key (trade_id=T2), first on line 3"),
    "duplicate instrument name": ("instruments", (fixture_text("instruments") + ",".join(
        ["GNMA", "FNMA_UMBS30", "TBA", "360", "CONV30", "0.25", "1"] + [""] * 8) + "\n").encode(),
                                  "instruments.csv:5:investor_instrument_name: duplicate key (investor_instrument_name=FNMA_UMBS30)"),
    "stage still used": ("loan_stages", fixture_text("loan_stages").replace("Closed,40,true\n", "").encode(),
                         "loan_stages.csv:stage_name: stage 'Closed' is missing from this upload but the tenant's loans still use it"),
    "empty file": ("loans", b"", "loans.csv:1: empty file: no header row"),
    "only a BOM": ("loans", b"\xef\xbb\xbf\n", "loans.csv:1: empty file"),
    "not utf-8": ("pools", b"pool_name,trade_id\nP1,T1\nP\xe92,\n", "pools.csv:3: not UTF-8: invalid byte 0xe9 at byte offset 26"),
    "10 MB field": ("pools", b"pool_name,trade_id\nP1,T1\nP2," + b"x" * 10_000_000 + b"\n",
                    "pools.csv:3:trade_id: field larger than the 100,000-character limit"),
    "unterminated quote": ("pools", b'pool_name,trade_id\nP1,T1\n"P2,\n', "pools.csv:3:pool_name: malformed CSV"),
    "line after a multi-line cell": ("pools", b'pool_name,trade_id\r\n"P\r\n1",T1\r\nP2,T99\r\n',
                                     "pools.csv:4:trade_id: unknown trade 'T99'"),
    "ragged row": ("pools", b"pool_name,trade_id\nP1,T1,\n", "pools.csv:2: row has 3 fields, the header has 2"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_is_rejected_precisely_and_changes_nothing(db, tenant_id, loaded, case):
    kind, data, expected = BAD_UPLOADS[case]
    messages = rejected(db, tenant_id, kind, data)
    assert any(m.startswith(expected) for m in messages), messages
    assert snapshot(db, tenant_id) == loaded


def test_several_kinds_are_all_or_nothing(db, tenant_id, loaded):
    uploads = fixture_uploads()
    uploads["loans"] = (fixture_text("loans").replace("L006,150000", "L007,150000").encode(), "csv", "loans.csv")
    uploads["market_prices"] = (b"investor_instrument_name,coupon,settlement_date,price\nFNMA_UMBS30,6,2026-12-14,200\n",
                                "csv", "market_prices.csv")
    with pytest.raises(InputValidationError) as exc:
        import_many(db, tenant_id, uploads)
    assert [str(e) for e in exc.value.errors] == ["market_prices.csv:2:price: must be at most 150: '200'"]
    assert snapshot(db, tenant_id) == loaded


def test_formula_looking_cells_are_stored_as_plain_text(db, tenant_id, loaded):
    formula = "=cmd|' /C calc'!A0"
    text = _replace_cell(fixture_text("loans"), 2, "property_type", formula)
    text = _replace_cell(text, 3, "property_state", "@SUM")
    import_kind(db, tenant_id, "loans", text.encode())
    with db.connect() as conn:
        stored = dict(conn.execute(select(loans.c.loan_id, loans.c.property_type).where(loans.c.tenant_id == tenant_id)).all())
    assert stored["L001"] == formula
    row = ("L001,330000,330000,6.625,CONV30,Funded,2026-09-28,2026-11-27,2026-10-30,2026-10-30,2026-11-02,"
           f"742,80,36.5,TX,Primary,Purchase,{formula},1,P1")
    assert row in export_kind_csv(db, tenant_id, "loans").decode().splitlines()


def test_errors_are_capped_with_a_total(db, tenant_id, loaded):
    body = "pool_name,trade_id\n" + "".join(f"P{i},T99\n" for i in range(250))
    with pytest.raises(InputValidationError) as exc:
        import_kind(db, tenant_id, "pools", body.encode())
    assert len(exc.value.errors) == 100 and exc.value.total >= 250 and exc.value.omitted == exc.value.total - 100


def test_export_import_round_trip_is_byte_identical(db, tenant_id, loaded):
    other = tenant_id + "-copy"
    import_many(db, other, {k: (data, "csv", f"{k}.csv") for k, data in loaded.items()})
    assert snapshot(db, other) == loaded
    assert loaded["loans"].startswith(b"loan_id,loan_amount,original_loan_amount,note_rate,")


def test_json_upload_and_json_round_trip(db, tenant_id, loaded):
    other = tenant_id + "-json"
    uploads = {k: (json.dumps(export_kind_json(db, tenant_id, k)).encode(), "json", f"{k}.json") for k in KINDS}
    import_many(db, other, uploads)
    assert snapshot(db, other) == loaded
    stages = export_kind_json(db, tenant_id, "loan_stages")
    assert {"stage_name": "Closed", "stage_rank": 40, "is_active": True} in stages


def test_json_upload_errors_name_the_array_index(db, tenant_id, loaded):
    body = json.dumps([{"pool_name": "P1", "trade_id": "T1"}, {"pool_name": "P2", "trade": "T1"}, ["P3"]]).encode()
    messages = rejected(db, tenant_id, "pools", body, fmt="json")
    assert sorted(messages) == ["pools.json[1]:trade: unknown column 'trade'", "pools.json[2]: expected an object"]
    assert rejected(db, tenant_id, "pools", b'[{"pool_name": "P1",}]', fmt="json")[0].startswith(
        "pools.json:1: malformed JSON at line 1 column 21")
    assert snapshot(db, tenant_id) == loaded


def test_json_numbers_are_exact(db, tenant_id, loaded):
    body = b'[{"trade_id": "T3", "note_rate": 6.125, "price": 100.015625}]'
    import_kind(db, tenant_id, "cash_grids", body, fmt="json")
    assert export_kind_csv(db, tenant_id, "cash_grids") == b"trade_id,note_rate,price\nT3,6.125,100.015625\n"
    assert rejected(db, tenant_id, "cash_grids", b'[{"trade_id": "T3", "note_rate": 6.1234567, "price": 100}]',
                    fmt="json") == ["cash_grids.json[0]:note_rate: rate or price has more than 6 decimals: 6.1234567 (not rounded)"]


def test_a_bom_is_accepted(db, tenant_id, loaded):
    import_kind(db, tenant_id, "pools", b"\xef\xbb\xbfpool_name,trade_id\nP1,T1\nP2,\n")
    assert export_kind_csv(db, tenant_id, "pools") == b"pool_name,trade_id\nP1,T1\nP2,\n"


def test_instrument_type_change_is_checked_against_stored_trades(db, tenant_id, loaded):
    # BANKX_CASH30 becoming a TBA would leave trade T3 without coupon and price, and its cash grid orphaned.
    text = fixture_text("instruments").replace("BANKX_CASH30,CASH", "BANKX_CASH30,TBA")
    messages = rejected(db, tenant_id, "instruments", text.encode())
    assert "instruments.csv:instrument_type: trade 'T3' has no coupon but its instrument would be TBA" in messages
    assert snapshot(db, tenant_id) == loaded


def test_tenants_are_independent(db, tenant_id, loaded):
    import_kind(db, "someone-else", "loan_stages", b"stage_name,stage_rank,is_active\nOnly,1,true\n")
    assert snapshot(db, tenant_id) == loaded


@pytest.fixture(scope="module")
def demo_small(tmp_path_factory) -> Path:
    demo = pytest.importorskip("pipeline.demo")
    folder = tmp_path_factory.mktemp("demo_small")
    demo.write_dataset("small", 7, folder)
    return folder


def test_demo_dataset_loads(db, tenant_id, demo_small):
    result = import_many(db, tenant_id, fixture_uploads(demo_small))
    with open(demo_small / "loans.csv", newline="") as f:
        assert result.counts["loans"] == sum(1 for _ in f) - 1 > 1000
    exported = snapshot(db, tenant_id)
    import_many(db, tenant_id + "-2", {k: (v, "csv", f"{k}.csv") for k, v in exported.items()})
    assert snapshot(db, tenant_id + "-2") == exported


def test_bulk_insert_stores_exactly_the_validated_values(db, tenant_id, loaded):
    """The driver-level bulk path (COPY / raw executemany) must store what SQLAlchemy would read
    back as the very values the importer validated."""
    from pipeline.inputs.errors import ErrorList
    from pipeline.inputs.kinds import get_kind
    from pipeline.inputs.readers import read_rows
    from pipeline.inputs.validate import validate_rows

    for kind in KINDS:
        spec = get_kind(kind)
        errors = ErrorList()
        parsed = validate_rows(spec, read_rows(spec, (SMALL / f"{kind}.csv").read_bytes(), "csv", kind, errors), kind, errors)
        with db.connect() as conn:
            stored = [dict(r._mapping) for r in conn.execute(
                select(*(spec.table.c[c] for c in spec.columns)).where(spec.table.c.tenant_id == tenant_id))]
        def key(row, columns=spec.key):
            return tuple(row[c] for c in columns)

        assert sorted(stored, key=key) == sorted(parsed.records, key=key), kind


def test_a_guard_refusing_inside_the_transaction_changes_nothing(db, tenant_id, loaded):
    """The HTTP layer refuses uploads while a run is active from inside the import transaction."""
    seen = []

    class Refused(Exception):
        pass

    def guard(conn):
        seen.append(conn.in_transaction())
        raise Refused("a run is active")

    uploads = fixture_uploads()
    uploads["loans"] = (fixture_text("loans").replace("L006,150000", "L006,150001").encode(), "csv", "loans.csv")
    with pytest.raises(Refused):
        import_many(db, tenant_id, uploads, guard=guard)
    assert seen == [True]
    assert snapshot(db, tenant_id) == loaded
