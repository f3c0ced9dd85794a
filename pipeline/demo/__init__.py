"""Demo datasets: a realistic, seeded mid-market lender's book for demos, tests and benchmarks
(issue 2, item 5; DESIGN.md §10 `powerfill demo-data`).

    data = generate("small", seed=7, as_of=date(2026, 11, 2))   # rows per input kind
    write_csvs(data, "out/")                                      # <kind>.csv, ENGINE.md §2 format
    write_dataset("medium", 7, "out/")                            # both, plus out/dataset.json

Runs over a demo book should use its `as_of_date` (in dataset.json): every lock, closing,
settlement and market-price date is placed relative to it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipeline.demo.csvfiles import COLUMNS, write_csvs
from pipeline.demo.generate import Dataset, build, generate
from pipeline.demo.profiles import DEFAULT_AS_OF, SIZES

__all__ = ["COLUMNS", "DEFAULT_AS_OF", "SIZES", "Dataset", "build", "generate", "write_csvs", "write_dataset"]


def write_dataset(size: str, seed: int, out_dir: str | Path, as_of: date = DEFAULT_AS_OF) -> Dataset:
    """Generate a book and write its CSV files and `dataset.json` into `out_dir`."""
    ds = build(size, seed, as_of)
    write_csvs(ds.data, out_dir, ds.manifest())
    return ds
