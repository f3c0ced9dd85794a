"""`powerfill load` and `powerfill export-inputs` against a real SQLite database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.db.migrate import upgrade
from pipeline.inputs import KINDS

SMALL = Path(__file__).parent / "data" / "inputs_small"


@pytest.fixture
def url(sqlite_url):
    upgrade(sqlite_url)
    return sqlite_url


def test_load_dir_then_export_round_trips(url, tmp_path, capsys):
    assert main(["load", "--dir", str(SMALL), "--db", url, "--tenant", "a"]) == 0
    out = capsys.readouterr().out
    assert "loans" in out and "loaded 44 rows for tenant a in" in out

    assert main(["export-inputs", "--out", str(tmp_path / "a"), "--db", url, "--tenant", "a"]) == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(f"{k}.csv" for k in KINDS)
    assert main(["load", "--dir", str(tmp_path / "a"), "--db", url, "--tenant", "b"]) == 0
    assert main(["export-inputs", "--out", str(tmp_path / "b"), "--db", url, "--tenant", "b"]) == 0
    for kind in KINDS:
        assert (tmp_path / "a" / f"{kind}.csv").read_bytes() == (tmp_path / "b" / f"{kind}.csv").read_bytes()


def test_load_one_kind(url, tmp_path, capsys):
    assert main(["load", "--dir", str(SMALL), "--db", url]) == 0
    pools = tmp_path / "pools.csv"
    pools.write_text("pool_name,trade_id\nP1,T2\nP2,T1\n")
    assert main(["load", "pools", str(pools), "--db", url]) == 0
    assert "pools" in capsys.readouterr().out


def test_rejected_load_prints_one_line_per_problem_and_exits_2(url, tmp_path, capsys):
    assert main(["load", "--dir", str(SMALL), "--db", url]) == 0
    folder = tmp_path / "bad"
    shutil.copytree(SMALL, folder)
    (folder / "pools.csv").write_text("pool_name,trade_id\nP1,T9\nP2,T1\n")
    (folder / "trades.csv").write_text((SMALL / "trades.csv").read_text().replace("2026-12-14", "14/12/2026"))
    capsys.readouterr()
    assert main(["load", "--dir", str(folder), "--db", url]) == 2
    err = capsys.readouterr().err.splitlines()
    assert f"{folder / 'trades.csv'}:2:settlement_date: not a date (YYYY-MM-DD): '14/12/2026'" in err
    assert err[-1] == "rejected: 1 problem(s); nothing was changed"  # references are checked once rows parse


def test_usage_errors_exit_2(url, capsys):
    assert main(["load", "--db", url]) == 2
    assert main(["load", "nonsense", str(SMALL / "pools.csv"), "--db", url]) == 2
    assert "unknown input kind 'nonsense'" in capsys.readouterr().err


def test_missing_schema_is_one_line_not_a_traceback(sqlite_url, tmp_path, capsys):
    assert main(["load", "--dir", str(SMALL), "--db", sqlite_url]) == 2
    assert main(["export-inputs", "--out", str(tmp_path), "--db", sqlite_url]) == 2
    assert capsys.readouterr().err.count("powerfill db upgrade") == 2
