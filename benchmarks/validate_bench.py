"""Benchmark: raw fastexcel parsing vs `tongji validate` on a city of N grassroots units.

    python benchmarks/validate_bench.py --n 10000

The city is the sample generator's (benchmarks/common.py: 1 市, 10 区, 100 街道, N grassroots units and a
本级 workbook per 市/区/街道), cached in benchmarks/.cache/city-N/; it is validated against its registry.
Prints both times, their ratio and each run's peak memory (each phase runs in its own process: peak RSS is that
of the phase's largest process, its worker processes included).
"""

from __future__ import annotations

import argparse
import os

import common


def tongji_validate(folder: str) -> dict:
    import tongji
    from tongji.cli.common import executor

    report = tongji.validate(common.books(folder), registry=common.registry(folder), period=common.PERIOD,
                             workers=executor())  # as `tongji validate` chooses (TONGJI_WORKERS, TONGJI_DASK)
    assert report.workbooks.height > 0
    return {}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="grassroots units")
    args = ap.parse_args()
    folder, made = common.city(args.n)
    books = sum(1 for _ in common.books(folder).rglob("*.xlsx"))
    print(f"{books} workbooks in {folder}" + (f" (generated in {made:.0f} s)" if made is not None else ""), flush=True)
    common.phase("rollup_bench", "raw_parse", str(folder))  # warm the page cache so both phases read from memory
    raw = common.phase("rollup_bench", "raw_parse", str(folder))
    runs = {"tongji validate (1 process)": common.phase("validate_bench", "tongji_validate", str(folder), workers="1"),
            "tongji validate (default)": common.phase("validate_bench", "tongji_validate", str(folder))}
    print(f"grassroots units {args.n}, workbooks {books}, {os.cpu_count()} cores; "
          "raw = fastexcel load_sheet().to_polars() of every sheet")
    print(f"{'':30}{'seconds':>9}{'ratio':>8}{'ms/book':>9}{'peak MiB':>10}")
    for label, r in {"raw fastexcel (1 process)": raw, **runs}.items():
        print(f"{label:30}{r['seconds']:9.2f}{r['seconds'] / raw['seconds']:8.2f}"
              f"{r['seconds'] / books * 1000:9.2f}{r['peak_mib']:10.0f}")


if __name__ == "__main__":
    main()
