"""How the cost grows with the work, compared like with like: cities of 1,000 / 10,000 / 100,000 grassroots units.

    python benchmarks/run.py                # 1,000, 10,000 and 100,000 units (generating 100,000 takes minutes)
    python benchmarks/run.py --quick        # 1,000 units, a few minutes
    python benchmarks/run.py --units 5000   # one city of that size (300000 runs here too; generation is cached)
    python benchmarks/run.py --no-dask      # without the Dask row
    python benchmarks/run.py --units 100000 --no-dask --no-single   # only the two-process row (the big cities)
    python benchmarks/run.py --units 10000 --repeat 3   # each row's phases run 3 times in turn: the medians

For each city and each way of running, a row: `tongji validate` and `tongji rollup --all` with 1 local process,
with 2 local worker processes (the default on this 2-core machine), and on a Dask LocalCluster of 2 worker
processes; beside each, the raw fastexcel parse of every sheet of every workbook with the same number of processes
(tongji starts workers only for 1,500 workbooks or more, so below that both sides use one); their ratios; peak
memory of the phase's whole process tree (sampled every 50 ms: resident sizes summed, and proportional set sizes
summed, which count the pages the processes share once; the Dask row's workers belong to the cluster, not to the
phase, and are counted apart); the cost per unit. With two sizes or more, a national projection (2.8 million
基层工会) from the measured growth, printed as a projection. Cities are made by the sample generator
(benchmarks/common.py) and cached in benchmarks/.cache/city-N/ (`--cache DIR`). Each phase runs in a fresh process,
after a warm-up parse, so every phase reads from the page cache. One run of a phase can stray by a quarter on this
machine: with `--repeat N` a row's three phases run N times in turn (raw, validate, rollup, raw, …) and the row
gives each phase's median and the ratios of the medians (peak memory: the largest of the N).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import common

SIZES = [1_000, 10_000, 100_000]
NATIONAL = 2_800_000  # 基层工会 in the country, for the projection
PARALLEL_MIN = 1500  # tongji.reading.workers.PARALLEL_MIN: below it tongji reads in one process


def rollup(folder: Path, workers: str) -> dict:
    out = tempfile.mkdtemp(prefix="tongji-bench-")
    try:
        return common.phase("rollup_bench", "cli_rollup", str(folder), out, workers=workers)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def measure(n: int, cache: Path, dask: bool, single: bool = True, repeat: int = 1) -> list[dict]:
    """Make (or find) the city of n units; print and return its rows."""
    folder, made = common.city(n, cache)
    books = sum(1 for _ in common.books(folder).rglob("*.xlsx"))
    how = f"generated in {made:.1f} s" if made is not None else "found in the cache"
    print(f"city of {n} units: {books} workbooks in {folder}, {how}", file=sys.stderr, flush=True)
    common.phase("rollup_bench", "raw_parse", str(folder))  # warm the page cache
    runs = ([("1 process", "1", None)] if single else []) + [("2 processes", "2", None)]
    if dask:
        runs.append(("dask 2 workers", "2", "dask"))
    rows = []
    for label, workers, how in runs:
        used = workers if books >= PARALLEL_MIN else "1"
        with _cluster() if how else _nothing() as cluster:
            if cluster is not None:
                os.environ["TONGJI_DASK"], used = cluster.scheduler_address, workers
            try:
                runs_of = [(common.phase("rollup_bench", "raw_parse_pool", str(folder), used),
                            common.phase("validate_bench", "tongji_validate", str(folder), workers=workers),
                            rollup(folder, workers)) for _ in range(repeat)]
                extra = _cluster_mib(cluster)
            finally:
                os.environ.pop("TONGJI_DASK", None)
        raw, val, roll = (_median(list(phase)) for phase in zip(*runs_of, strict=True))
        peak = max(val["tree_mib"], roll["tree_mib"]) + extra
        pss = max(val["tree_pss_mib"], roll["tree_pss_mib"]) + extra
        row = {"units": n, "run": label, "procs": used, "raw": raw["seconds"], "validate": val["seconds"],
               "rollup": roll["seconds"], "peak": peak, "pss": pss}
        rows.append(row)
        print(f"{n:>8} {label:>15} {used:>5} {raw['seconds']:>8.2f} {val['seconds']:>11.2f} "
              f"{val['seconds'] / raw['seconds']:>6.2f} {roll['seconds']:>15.2f} "
              f"{roll['seconds'] / raw['seconds']:>6.2f} {peak:>9.0f} {pss:>8.0f} {roll['seconds'] / n * 1000:>8.3f}",
              flush=True)
    return rows


def _median(runs: list[dict]) -> dict:
    """One phase's runs as one: the median time, the largest memory."""
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            **{k: max(r[k] for r in runs) for k in ("tree_mib", "tree_pss_mib")}}


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _cluster():
    from distributed import LocalCluster

    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)


def _cluster_mib(cluster) -> float:
    """Memory the Dask workers hold (they are the cluster's processes, not the phase's)."""
    if cluster is None:
        return 0.0
    from distributed import Client

    with Client(cluster) as client:
        info = client.scheduler_info()["workers"].values()
        return sum(w["metrics"]["memory"] for w in info) / 2**20


def project(rows: list[dict]) -> None:
    """Time and memory at the national scale from the two largest cities of 10,000 units or more: a straight line
    through them (smaller cities are all fixed cost). A projection, not a measurement."""
    local = sorted((r for r in rows if r["run"] == "2 processes" and r["units"] >= 10_000), key=lambda r: r["units"])
    if len({r["units"] for r in local}) < 2:
        return
    a, b = local[-2], local[-1]
    per_unit = (b["rollup"] - a["rollup"]) / (b["units"] - a["units"])
    mib_per_unit = (b["peak"] - a["peak"]) / (b["units"] - a["units"])
    seconds = b["rollup"] + per_unit * (NATIONAL - b["units"])
    mib = b["peak"] + mib_per_unit * (NATIONAL - b["units"])
    print(f"projection (not measured), {NATIONAL:,} units, 2 local processes, from {a['units']:,} and "
          f"{b['units']:,}: rollup --all about {seconds / 60:.0f} min, peak about {mib / 1024:.1f} GiB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the 1,000-unit city")
    ap.add_argument("--units", type=int, action="append", help="a city of this many grassroots units (repeatable)")
    ap.add_argument("--cache", type=Path, default=common.CACHE, help="where cities are kept (city-N/)")
    ap.add_argument("--no-dask", action="store_true", help="leave out the Dask LocalCluster row")
    ap.add_argument("--no-single", action="store_true", help="leave out the one-process row")
    ap.add_argument("--repeat", type=int, default=1, help="run each row's phases this many times: medians")
    args = ap.parse_args()
    sizes = args.units or ([1_000] if args.quick else SIZES)
    dask = not args.no_dask
    if dask:
        try:
            import distributed  # noqa: F401
        except ImportError:
            print("distributed is not installed (pip install 'tongji[dask]'): no Dask row", file=sys.stderr)
            dask = False
    print(f"{'units':>8} {'run':>15} {'procs':>5} {'raw s':>8} {'validate s':>11} {'×raw':>6} "
          f"{'rollup --all s':>15} {'×raw':>6} {'peak MiB':>9} {'PSS MiB':>8} {'ms/unit':>8}", flush=True)
    if args.repeat > 1:
        print(f"each phase run {args.repeat} times in turn: the medians", file=sys.stderr, flush=True)
    rows = []
    for n in sizes:
        rows += measure(n, args.cache, dask, single=not args.no_single, repeat=max(1, args.repeat))
    project(rows)


if __name__ == "__main__":
    main()
