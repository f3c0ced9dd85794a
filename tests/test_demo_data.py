"""Demo datasets (issue 2, item 5): deterministic by seed, in the ENGINE.md §2 file format, every
reference resolving, and shaped like a real book (the cases the engine must meet are present).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.db.schema import INPUT_TABLES, loans as loans_table
from pipeline.demo import COLUMNS, DEFAULT_AS_OF, SIZES, build, write_csvs, write_dataset
from pipeline.demo.eligibility import OPERATORS

SEED = 7
AS_OF = DEFAULT_AS_OF
DATE_COLUMNS = {"lock_date", "lock_expiration_date", "expected_close_date", "closing_date", "funded_date",
                "settlement_date"}
BOOL_COLUMNS = {"is_active", "lock_pool"}
AMOUNT_COLUMNS = {"loan_amount", "original_loan_amount", "min_loan_amount", "max_loan_amount", "lot_size",
                  "min_pool_amount", "max_pool_amount", "trade_amount"}
RATE_COLUMNS = {"note_rate", "ltv", "dti", "min_servicing", "max_servicing", "excess_servicing_base",
                "servicing_multiple", "coupon", "tolerance_pct", "price", "funding_rate", "payup_value", "div_by"}


def read_dir(path: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for kind in COLUMNS:
        with (path / f"{kind}.csv").open(encoding="utf-8", newline="") as fh:
            out[kind] = list(csv.DictReader(fh))
    return out


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-small")
    write_dataset("small", SEED, out, AS_OF)
    return out


@pytest.fixture(scope="module")
def book(small_dir) -> dict[str, list[dict[str, str]]]:
    return read_dir(small_dir)


# ---- determinism --------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(small_dir, tmp_path):
    # Given the book written for one seed, When it is generated again through the CLI
    assert main(["demo-data", "--size", "small", "--seed", str(SEED), "--out", str(tmp_path)]) == 0
    # Then every file is byte for byte the same
    names = sorted(p.name for p in small_dir.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"{k}.csv" for k in COLUMNS] + ["dataset.json"])
    for name in names:
        assert (small_dir / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_another_seed_gives_a_different_book(small_dir, tmp_path):
    write_dataset("small", SEED + 1, tmp_path, AS_OF)
    for name in ("loans.csv", "trades.csv", "pools.csv", "cash_grids.csv"):
        assert (small_dir / name).read_bytes() != (tmp_path / name).read_bytes(), name


# ---- file format (ENGINE.md §2) ---------------------------------------------------------------

def test_headers_are_exactly_the_schema_columns_without_tenant(small_dir):
    for kind, table in INPUT_TABLES.items():
        with (small_dir / f"{kind}.csv").open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == [c.name for c in table.columns if c.name != "tenant_id"], kind
        assert "tenant_id" not in header


def test_cells_follow_the_file_format(book):
    for kind, rows in book.items():
        for row in rows:
            for col, v in row.items():
                if v == "":
                    continue
                if col in DATE_COLUMNS:
                    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", v), (kind, col, v)
                elif col in BOOL_COLUMNS:
                    assert v in ("true", "false"), (kind, col, v)
                elif col in AMOUNT_COLUMNS:
                    assert re.fullmatch(r"\d+(\.\d{1,2})?", v), (kind, col, v)
                elif col in RATE_COLUMNS:
                    assert re.fullmatch(r"-?\d+(\.\d{1,6})?", v), (kind, col, v)


def test_manifest_records_size_seed_as_of_and_counts(small_dir, book):
    manifest = json.loads((small_dir / "dataset.json").read_text())
    assert (manifest["size"], manifest["seed"], manifest["as_of_date"]) == ("small", SEED, AS_OF.isoformat())
    assert manifest["row_counts"] == {k: len(v) for k, v in book.items()}


def test_as_of_moves_every_date(tmp_path):
    later = AS_OF + timedelta(days=30)
    ds = build("small", SEED, later)
    assert ds.manifest()["as_of_date"] == later.isoformat()
    settle = [t["settlement_date"] for t in ds.data["trades"]]
    assert min(settle) > later
    locks = [r["lock_date"] for r in ds.data["loans"] if r["lock_date"]]
    assert max(locks) <= later


def test_write_csvs_rejects_unknown_columns(tmp_path):
    with pytest.raises(ValueError, match="unknown columns"):
        write_csvs({"pools": [{"pool_name": "P1", "trade_id": None, "tenant_id": "x"}]}, tmp_path)


# ---- sizes --------------------------------------------------------------------------------------

def test_small_counts(book):
    assert len(book["loans"]) == 2_000 and len(book["trades"]) == 40


def test_medium_counts_and_shape():
    ds = build("medium", SEED)
    assert len(ds.data["loans"]) == 10_000 and len(ds.data["trades"]) == 150
    assert 4 <= ds.stats["candidates_per_eligible_loan"]["mean"] <= 10


@pytest.mark.slow
def test_large_counts_and_shape():
    ds = build("large", SEED)
    assert len(ds.data["loans"]) == 100_000 and len(ds.data["trades"]) == 1_500
    assert 4 <= ds.stats["candidates_per_eligible_loan"]["mean"] <= 10


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="unknown size"):
        build("huge", 1)
    assert set(SIZES) == {"small", "medium", "large"}


# ---- references ---------------------------------------------------------------------------------

def test_every_reference_resolves(book):
    stages = {r["stage_name"] for r in book["loan_stages"]}
    instruments = {(r["investor_id"], r["investor_instrument_name"]) for r in book["instruments"]}
    names = [r["investor_instrument_name"] for r in book["instruments"]]
    assert len(names) == len(set(names)), "investor_instrument_name is unique in the tenant"
    trades = {r["trade_id"] for r in book["trades"]}
    pools = {r["pool_name"] for r in book["pools"]}
    constraints = {(r["investor_id"], r["investor_instrument_name"], r["constraint_name"]) for r in book["constraints"]}
    loan_fields = {c.name for c in loans_table.columns} - {"tenant_id"}

    assert {r["stage_name"] for r in book["loans"]} <= stages
    assert {(r["investor_id"], r["investor_instrument_name"]) for r in book["trades"]} <= instruments
    assert {r["trade_id"] for r in book["pools"] if r["trade_id"]} <= trades
    assert {r["pool_name"] for r in book["lockdowns"]} <= pools
    assert {r["trade_id"] for r in book["cash_grids"]} <= trades
    assert {(r["investor_id"], r["investor_instrument_name"]) for r in book["constraints"]} <= instruments
    assert {(r["investor_id"], r["investor_instrument_name"], r["constraint_name"]) for r in book["constraint_rules"]} <= constraints
    assert {r["field"] for r in book["constraint_rules"]} <= loan_fields
    assert {r["current_pool_name"] for r in book["loans"] if r["current_pool_name"]} <= pools
    for kind in ("carry_costs", "payups", "market_prices"):
        assert {r["investor_instrument_name"] for r in book[kind]} <= set(names), kind


def test_keys_are_unique(book):
    keys = {
        "loan_stages": ["stage_name"], "loans": ["loan_id"], "trades": ["trade_id"], "pools": ["pool_name"],
        "lockdowns": ["pool_name"], "instruments": ["investor_id", "investor_instrument_name"],
        "constraints": ["investor_id", "investor_instrument_name", "constraint_name"],
        "constraint_rules": ["investor_id", "investor_instrument_name", "constraint_name", "field", "operator", "value"],
        "carry_costs": ["investor_instrument_name", "on_day"], "payups": ["investor_instrument_name", "coupon"],
        "cash_grids": ["trade_id", "note_rate"], "market_prices": ["investor_instrument_name", "coupon", "settlement_date"],
    }
    for kind, cols in keys.items():
        seen = Counter(tuple(r[c] for c in cols) for r in book[kind])
        assert max(seen.values()) == 1, kind


# ---- the cases the engine must meet ------------------------------------------------------------

def test_stages_include_closed_and_inactive(book):
    stages = {r["stage_name"]: r for r in book["loan_stages"]}
    assert stages["Closed"]["is_active"] == "true"  # the default min_status
    assert {n for n, r in stages.items() if r["is_active"] == "false"} == {"Shipped", "Purchased", "Withdrawn"}
    assert {r["stage_name"] for r in book["loans"]} == set(stages)


def test_loans_cover_locks_dates_and_low_balance(book):
    loans = book["loans"]
    active = {r["stage_name"] for r in book["loan_stages"] if r["is_active"] == "true"}
    rank = {r["stage_name"]: int(r["stage_rank"]) for r in book["loan_stages"]}
    pre = [r for r in loans if r["stage_name"] in active and rank[r["stage_name"]] < rank["Closed"]]
    a = AS_OF.isoformat()
    assert sum(1 for r in pre if r["lock_date"] and r["lock_expiration_date"] >= a) > 100  # live locks
    assert sum(1 for r in pre if r["lock_date"] and r["lock_expiration_date"] < a) > 10   # expired locks
    assert any(r["funded_date"] for r in loans)
    assert any(r["expected_close_date"] and not r["closing_date"] and not r["funded_date"] for r in loans)
    assert any(not (r["expected_close_date"] or r["closing_date"] or r["funded_date"]) for r in loans)
    orig = [Decimal(r["original_loan_amount"]) for r in loans]
    for cap in (85_000, 110_000, 125_000):
        assert sum(1 for o in orig if o <= cap) > 10, cap
    assert all(Decimal(r["original_loan_amount"]) >= Decimal(r["loan_amount"]) for r in loans)
    assert any(Decimal(r["original_loan_amount"]) > Decimal(r["loan_amount"]) for r in loans)
    assert all((Decimal(r["note_rate"]) * 8) % 1 == 0 for r in loans)
    assert all(620 <= int(r["fico"]) <= 820 for r in loans)
    assert {r["product"] for r in loans} >= {"CONV30", "CONV15", "FHA30", "VA30"}
    assert {r["occupancy"] for r in loans} == {"Primary", "Second", "Investor"}
    assert {r["loan_purpose"] for r in loans} == {"Purchase", "Refi", "CashOut"}
    assert {int(r["units"]) for r in loans} == {1, 2, 3, 4}


def test_trades_are_a_real_problem(book):
    trades = book["trades"]
    kinds = {r["investor_instrument_name"]: r["instrument_type"] for r in book["instruments"]}
    horizon = (AS_OF + timedelta(days=60)).isoformat()
    assert any(r["status"] == "Closed" for r in trades)
    assert any(r["settlement_date"] > horizon for r in trades)
    assert sum(r["settlement_date"] <= horizon for r in trades) > len(trades) / 2
    grids = defaultdict(list)
    for g in book["cash_grids"]:
        grids[g["trade_id"]].append((Decimal(g["note_rate"]), Decimal(g["price"])))
    for t in trades:
        assert 0 <= Decimal(t["tolerance_pct"]) <= 5
        if kinds[t["investor_instrument_name"]] == "CASH":
            assert t["coupon"] == "" and t["price"] == ""
            points = sorted(grids[t["trade_id"]])
            assert len(points) >= 3 and all(p[0] * 8 % 1 == 0 for p in points)
            assert all(a[1] < b[1] for a, b in zip(points, points[1:])), "price rises with note rate"
        else:
            assert t["coupon"] and 95 <= Decimal(t["price"]) <= 105
            assert t["trade_id"] not in grids
    coupons = {(t["investor_instrument_name"], t["coupon"]) for t in trades if t["coupon"]}
    assert len({c for _, c in coupons}) >= 3
    assert {"FNMA_UMBS30", "FHLMC_UMBS30", "GNMA2_30", "FNMA_UMBS15", "FHLMC_LB85_15", "FHLMC_LB110_15",
            "FHLMC_LB125_15"} <= {t["investor_instrument_name"] for t in trades}
    caps = {r["investor_instrument_name"]: r["max_loan_amount"] for r in book["instruments"]}
    assert (caps["FHLMC_LB85_15"], caps["FHLMC_LB110_15"], caps["FHLMC_LB125_15"]) == ("85000.00", "110000.00", "125000.00")


def test_candidates_per_eligible_loan_in_target_range(small_dir):
    stats = json.loads((small_dir / "dataset.json").read_text())["stats"]
    assert 4 <= stats["candidates_per_eligible_loan"]["mean"] <= 10
    assert stats["loans_eligible"] > 0.7 * stats["loans_in_scope"]
    # demand is a fraction of what the in-scope trades can draw on
    assert 0.3 < stats["in_scope_trade_amount"] / stats["eligible_loan_amount"] < 1.0


def test_pools_and_lockdowns(book):
    pools = {r["pool_name"]: r["trade_id"] for r in book["pools"]}
    locked = {r["pool_name"] for r in book["lockdowns"] if r["lock_pool"] == "true"}
    members = Counter(r["current_pool_name"] for r in book["loans"] if r["current_pool_name"])
    assert any(pools[p] for p in locked) and any(r["lock_pool"] == "false" for r in book["lockdowns"])
    assert any(not t for t in pools.values()), "a pool with no trade"
    assert all(members[p] > 0 for p in pools), "every pool holds loans"
    assert sum(members[p] for p in locked) > 0
    assert sum(1 for p, t in pools.items() if t) >= 5


def test_one_trade_is_over_locked(book):
    """A locked pool larger than what is left of its open trade: the engine reports OverLocked."""
    pools = {r["pool_name"]: r["trade_id"] for r in book["pools"]}
    locked = {r["pool_name"] for r in book["lockdowns"] if r["lock_pool"] == "true"}
    inactive = {r["stage_name"] for r in book["loan_stages"] if r["is_active"] == "false"}
    locked_amount = Counter()
    for r in book["loans"]:
        if r["current_pool_name"] in locked and pools[r["current_pool_name"]] and r["stage_name"] not in inactive:
            locked_amount[pools[r["current_pool_name"]]] += Decimal(r["loan_amount"])
    over = [t["trade_id"] for t in book["trades"] if t["status"] == "Open" and locked_amount[t["trade_id"]]
            > Decimal(t["trade_amount"]) * (1 + Decimal(t["tolerance_pct"]) / 100)]
    assert len(over) == 1


def test_constraints_use_every_operator_and_levels(book):
    rules = book["constraint_rules"]
    assert {r["operator"] for r in rules} == set(OPERATORS)
    assert all(";" in r["value"] or r["operator"] not in ("in", "not_in") for r in rules if r["field"] == "property_state")
    priorities = {int(r["constraint_priority"]) for r in book["constraints"]}
    assert priorities >= {1, 2, 3}
    with_rules = {(r["investor_instrument_name"], r["constraint_name"]) for r in rules}
    assert any((r["investor_instrument_name"], r["constraint_name"]) not in with_rules for r in book["constraints"])
    traded = {t["investor_instrument_name"] for t in book["trades"]}
    assert traded <= {r["investor_instrument_name"] for r in book["constraints"]}


def test_prices_carry_and_payups(book):
    kinds = {r["investor_instrument_name"]: r["instrument_type"] for r in book["instruments"]}
    traded = {t["investor_instrument_name"] for t in book["trades"]}
    carried = {r["investor_instrument_name"] for r in book["carry_costs"]}
    assert carried < set(kinds) and len(traded & carried) > len(traded - carried) > 0  # most, not all
    assert all(Decimal(r["div_by"]) > 0 for r in book["payups"])
    assert {r["div_by"] for r in book["payups"]} == {"1", "32"}
    assert {r["investor_instrument_name"] for r in book["payups"]} >= {"FHLMC_LB85_15", "FHLMC_LB110_15", "FHLMC_LB125_15"}
    mp = book["market_prices"]
    assert mp and all(kinds[r["investor_instrument_name"]] != "CASH" for r in mp)
    horizon = (AS_OF + timedelta(days=60)).isoformat()
    assert all(AS_OF.isoformat() <= r["settlement_date"] <= horizon for r in mp)
    by = defaultdict(list)
    for r in mp:
        by[(r["investor_instrument_name"], r["settlement_date"])].append((Decimal(r["coupon"]), Decimal(r["price"])))
    for points in by.values():
        points.sort()
        assert all(a[1] < b[1] for a, b in zip(points, points[1:])), "higher coupon, higher price"


def test_generate_api_returns_typed_rows():
    from pipeline.demo import generate

    data = generate("small", SEED, AS_OF)
    loan = data["loans"][0]
    assert isinstance(loan["loan_amount"], Decimal) and isinstance(loan["fico"], int)
    assert all(isinstance(r["is_active"], bool) for r in data["loan_stages"])
    assert all(isinstance(t["settlement_date"], date) for t in data["trades"])
    assert set(data) == set(COLUMNS)


# ---- the validated importer accepts it -----------------------------------------------------------

def test_small_book_loads_through_the_importer(small_dir, db, tenant_id):
    from sqlalchemy import func, select

    from pipeline.inputs import KINDS, import_many

    uploads = {k: ((small_dir / f"{k}.csv").read_bytes(), "csv", f"{k}.csv") for k in KINDS}
    result = import_many(db, tenant_id, uploads)
    expected = json.loads((small_dir / "dataset.json").read_text())["row_counts"]
    assert result.counts == expected
    with db.connect() as conn:
        for kind in KINDS:
            table = INPUT_TABLES[kind]
            stored = conn.execute(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)).scalar()
            assert stored == expected[kind], kind
