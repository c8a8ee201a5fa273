"""Benchmark: what reading costs per workbook, beside the raw parse, on the same N files in one process.

    python benchmarks/read_cost.py --units 100000 --n 2000     # the first 2,000 workbooks of the cached city
    python benchmarks/read_cost.py --n 2000 --profile read     # also cProfile one phase, in this process

Four phases, each in a fresh process after one warm-up parse (so all read from the page cache), each in one
process (TONGJI_WORKERS=1): the raw parse (fastexcel `load_sheet().to_polars()` of every sheet, as
rollup_bench.py's `raw_parse`), the raw parse with what tongji owes every file before calamine sees it (its bytes
read once, their SHA-256 for the manifests, the screen against hostile files: the floor of any reader that keeps
those guarantees), tongji's reading alone (`read_workbooks`: bytes, hash, screen, calamine, header
and rows, blank cells) and reading with every check of one workbook and of the batch (`tongji.validate`; the
registry is loaded before the clock starts, since at a few thousand workbooks its load would count as much as
their checks). Prints ms per workbook of wall time and of CPU time (the process's, its threads included: the
machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import common


def _files(folder: str, n: str) -> list[Path]:
    return sorted(common.books(folder).rglob("*.xlsx"))[:int(n)]


def _timed(call) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


# --- the phases (each runs in a fresh process) ---------------------------------------------------

def raw(folder: str, n: str) -> dict:
    import fastexcel

    files = _files(folder, n)

    def parse():
        for f in files:
            reader = fastexcel.read_excel(f)
            for name in reader.sheet_names:
                reader.load_sheet(name).to_polars()

    return _timed(parse) | {"books": len(files)}


def floor(folder: str, n: str) -> dict:
    import hashlib

    import fastexcel

    from tongji.plugins import load_spec
    from tongji.reading.labels import norm
    from tongji.reading.screen import Limits, screen

    files, spec = _files(folder, n), load_spec()
    limits, sheets = Limits.of(spec), frozenset(norm(f.sheet) for f in spec.forms)

    def parse():
        for f in files:
            data = f.read_bytes()
            hashlib.sha256(data).hexdigest()
            screen(data, limits, lambda name: norm(name) in sheets)
            reader = fastexcel.read_excel(data)
            for name in reader.sheet_names:
                reader.load_sheet(name).to_polars()

    return _timed(parse) | {"books": len(files)}


def read(folder: str, n: str) -> dict:
    from tongji.plugins import load_spec
    from tongji.reading.workbooks import read_workbooks

    files, spec = _files(folder, n), load_spec()
    return _timed(lambda: read_workbooks(files, spec)) | {"books": len(files)}


def validate(folder: str, n: str) -> dict:
    import tongji
    from tongji.definitions.registry import load_registry

    files = _files(folder, n)
    registry = load_registry(common.registry(folder))  # loaded outside the timing: a fixed cost, not per workbook
    return _timed(lambda: tongji.validate(files, registry=registry, period=common.PERIOD,
                                          workers=1)) | {"books": len(files)}


PHASES = {"raw fastexcel parse": "raw", "raw + bytes, hash, screen": "floor", "tongji read_workbooks": "read",
          "tongji.validate": "validate"}


def profile(folder: Path, n: int, phase: str) -> None:
    import cProfile
    import pstats

    globals()[phase](str(folder), "50")  # imports and caches outside the profile
    cProfile.runctx(f"{phase}(folder, n)", globals(), {"folder": str(folder), "n": str(n)}, "/tmp/read_cost.prof")
    pstats.Stats("/tmp/read_cost.prof").sort_stats("tottime").print_stats(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000, help="the cached city (grassroots units)")
    ap.add_argument("--n", type=int, default=2000, help="workbooks measured (the first n, sorted by path)")
    ap.add_argument("--profile", choices=list(PHASES.values()), help="cProfile this phase instead")
    args = ap.parse_args()
    folder, _ = common.city(args.units)
    if args.profile:
        return profile(folder, args.n, args.profile)
    common.phase("read_cost", "raw", str(folder), str(args.n))  # warm the page cache
    print(f"{args.n} workbooks of city-{args.units}, 1 process each; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'':24}{'wall s':>8}{'cpu s':>8}{'ms/book':>9}{'cpu ms/book':>13}{'×raw':>7}{'cpu ×raw':>10}")
    base = None
    for label, name in PHASES.items():
        r = common.phase("read_cost", name, str(folder), str(args.n), workers="1")
        base = base or r
        print(f"{label:24}{r['wall']:8.2f}{r['cpu']:8.2f}{r['wall'] / r['books'] * 1000:9.3f}"
              f"{r['cpu'] / r['books'] * 1000:13.3f}{r['wall'] / base['wall']:7.2f}{r['cpu'] / base['cpu']:10.2f}",
              flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
