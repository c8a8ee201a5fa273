"""Benchmark: peak memory of `tongji rollup --all`, the whole process tree and the main process, and where it goes.

    python benchmarks/memory.py --units 10000            # the cached city of 10,000 units (made if missing)
    python benchmarks/memory.py --units 100000 --no-steps

Two phases, each in a fresh process (benchmarks/common.py: the process tree sampled every 50 ms from outside,
its resident sizes summed and, counting the pages its processes share once, its proportional set sizes summed):
`cli`, the command exactly as a user runs it (default workers), and `steps`, the same work through the library in
the main process, its resident memory printed after each step (registry loaded, workbooks read and validated, each
level of summaries made and written). Outputs go to a temporary folder, removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path

import common


def _rss() -> float:
    """This process's resident MiB now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peaks() -> dict:
    return {"main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "workers_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def cli(folder: str, out: str) -> dict:
    """`tongji rollup --all` as a user runs it (rollup_bench.cli_rollup), and its peaks."""
    from rollup_bench import cli_rollup

    cli_rollup(folder, out)
    return _peaks()


def steps(folder: str, out: str) -> dict:
    """The same work step by step in the main process: its RSS (MiB) after each step, and its peak."""
    from tongji.aggregating.tree import Context
    from tongji.cli.common import workers
    from tongji.definitions.registry import load_registry
    from tongji.plugins import load_spec
    from tongji.writing.summary_files import write_summary

    spec, seen = load_spec(), {"imports": _rss()}
    registry = load_registry(common.registry(folder))
    seen["registry"] = _rss()
    ctx = Context.build(common.books(folder), registry=registry, period=common.PERIOD, spec=spec,
                        workers=workers())
    seen["build"], seen["build_peak"] = _rss(), _peaks()["main_mib"]
    summaries = ctx.each_summary() if hasattr(ctx, "each_summary") else ctx.summarize_all().values()
    level = None
    for s in summaries:
        if s.level != level and level is not None:
            seen[f"before {s.level}"] = _rss()
        level = s.level
        write_summary(s, Path(out), spec)
    seen["end"] = _rss()
    print("  ".join(f"{k} {v:.0f}" for k, v in seen.items()), file=sys.stderr)
    return _peaks() | {"steps": seen}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--no-steps", action="store_true", help="only the command")
    args = ap.parse_args()
    folder, _ = common.city(args.units)
    print(f"city of {args.units} units in {folder}; load average {os.getloadavg()}", flush=True)
    for name in ["cli"] + ([] if args.no_steps else ["steps"]):
        out = tempfile.mkdtemp(prefix="tongji-memory-")
        try:
            r = common.phase("memory", name, str(folder), out)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        print(f"{name:6} {r['seconds']:7.1f} s  process tree {r['tree_mib']:6.0f} MiB (RSS summed), "
              f"{r['tree_pss_mib']:6.0f} MiB (PSS: shared library pages counted once)  main process "
              f"{r['main_mib']:6.0f} MiB  largest child {r['workers_mib']:6.0f} MiB (ru_maxrss: a spawned worker "
              f"is forked first, so this counts the main process's pages of that moment)", flush=True)
        for k, v in r.get("steps", {}).items():
            print(f"    {k:>16} {v:7.0f} MiB")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
