"""How the cost grows with the work: one table for cities of 1,000 / 10,000 / 100,000 grassroots units.

    python benchmarks/run.py                # 1,000, 10,000 and 100,000 units (generating 100,000 takes minutes)
    python benchmarks/run.py --quick        # 1,000 units, a couple of minutes
    python benchmarks/run.py --units 5000   # one city of that size

For each city: raw fastexcel parsing of every sheet of every workbook (one process), `tongji validate`
and `tongji rollup --all` (default worker processes), their ratios to the raw parse, peak memory (worker
processes included: the process tree sampled every 50 ms) and the cost per unit. Cities are made by the
sample generator (`tongji_samples.make_city`, see benchmarks/common.py) and cached in
benchmarks/.cache/city-N/ (`--cache DIR` for another place).
Each phase runs in a fresh process, after a warm-up parse so every phase reads from the page cache.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import common

SIZES = [1_000, 10_000, 100_000]


def rollup(folder: Path) -> dict:
    out = tempfile.mkdtemp(prefix="tongji-bench-")
    try:
        return common.phase("rollup_bench", "cli_rollup", str(folder), out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def measure(n: int, cache: Path) -> None:
    """Make (or find) the city of n units and print its row of the table."""
    folder, made = common.city(n, cache)
    books = sum(1 for _ in common.books(folder).rglob("*.xlsx"))
    how = f"generated in {made:.1f} s" if made is not None else "found in the cache"
    print(f"city of {n} units: {books} workbooks in {folder}, {how}", file=sys.stderr, flush=True)
    common.phase("rollup_bench", "raw_parse", str(folder))  # warm the page cache
    raw = common.phase("rollup_bench", "raw_parse", str(folder))
    val = common.phase("validate_bench", "tongji_validate", str(folder))
    roll = rollup(folder)
    peak = max(val["tree_mib"], roll["tree_mib"])  # the main process and its workers together
    print(f"{n:>8} {raw['seconds']:>8.1f} {val['seconds']:>11.1f} {val['seconds'] / raw['seconds']:>6.2f} "
          f"{roll['seconds']:>15.1f} {roll['seconds'] / raw['seconds']:>6.2f} {peak:>9.0f} "
          f"{roll['seconds'] / n * 1000:>8.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the 1,000-unit city")
    ap.add_argument("--units", type=int, help="one city of this many grassroots units")
    ap.add_argument("--cache", type=Path, default=common.CACHE, help="where cities are kept (city-N/)")
    args = ap.parse_args()
    sizes = [args.units] if args.units else [1_000] if args.quick else SIZES
    print(f"{'units':>8} {'raw s':>8} {'validate s':>11} {'×raw':>6} {'rollup --all s':>15} {'×raw':>6} "
          f"{'peak MiB':>9} {'ms/unit':>8}", flush=True)
    for n in sizes:
        measure(n, args.cache)


if __name__ == "__main__":
    main()
