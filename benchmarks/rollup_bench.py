"""Benchmark: `tongji rollup --all` over N grassroots units vs raw fastexcel parsing of the same files.

    python benchmarks/rollup_bench.py --units 100000      # the issue's size; --quick is 1,000
    python benchmarks/rollup_bench.py --quick --profile   # also cProfile the aggregation step

The city is the sample generator's (`tongji_samples.make_city`, see benchmarks/common.py): 1 市, 10 区, 100 街道
and N grassroots units, with one 本级 workbook per 市/区/街道 (组织类型 9), every workbook clean. Each phase runs
in its own process after one warm-up pass over the files; peak memory is reported twice: the largest single
process (ru_maxrss) and the whole process tree sampled every 50 ms from outside (the main process and its
workers together). Files are cached in benchmarks/.cache/city-N/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import common

HERE = Path(__file__).resolve().parent
CITY = "330100"  # make_city's 市


def generate(n: int, folder: Path) -> Path:
    """The benchmark city of `n` grassroots units in `folder`, made unless `.complete` says it is there."""
    if not (folder / ".complete").exists():
        common.generate(n, folder)
    return folder


# --- the phases (each runs in a fresh process) ---------------------------------------------------

def raw_parse(folder: str) -> dict:
    import fastexcel

    for f in sorted(common.books(folder).rglob("*.xlsx")):
        reader = fastexcel.read_excel(f)
        for name in reader.sheet_names:
            reader.load_sheet(name).to_polars()
    return {}


def raw_parse_pool(folder: str, processes: str) -> dict:
    """The raw parse spread over `processes` worker processes, as tongji spreads its reading: like with like."""
    from concurrent.futures import ProcessPoolExecutor

    n = int(processes)
    if n <= 1:
        return raw_parse(folder)
    files = sorted(str(f) for f in common.books(folder).rglob("*.xlsx"))
    with ProcessPoolExecutor(n) as pool:
        list(pool.map(_parse_files, [files[i::n] for i in range(n)]))
    return {}


def _parse_files(files: list[str]) -> None:
    import fastexcel

    for f in files:
        reader = fastexcel.read_excel(f)
        for name in reader.sheet_names:
            reader.load_sheet(name).to_polars()


def cli_rollup(folder: str, out: str) -> dict:
    """`tongji rollup --all` exactly as a user runs it; exit code 0 means no workbook was returned."""
    from tongji.cli import main

    sys.argv = ["tongji", "rollup", str(common.books(folder)), "-r", str(common.registry(folder)),
                "-p", common.PERIOD, "-o", out, "--all"]
    try:
        main()
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"tongji rollup --all exited with {exc.code}") from None
    return {"files_written": len(os.listdir(out))}


def aggregate(folder: str, out: str, write_budget: str = "inf", profile: str = "") -> dict:
    """rollup_all's work, then writing, timed step by step; `seconds` is the summarising alone.

    Writing stops after the node that crosses `write_budget` seconds: a writer that grows with the square of
    the detail rows (as one did) must not hold the benchmark for days."""
    from tongji.aggregating.tree import Context
    from tongji.cli.common import workers
    from tongji.plugins import load_spec
    from tongji.writing.summary_files import write_summary

    spec = load_spec()
    t0 = time.perf_counter()
    ctx = Context.build(common.books(folder), registry=common.registry(folder), period=common.PERIOD, spec=spec,
                        workers=workers())
    t1 = time.perf_counter()
    summaries: dict = {}

    def summarise_all() -> None:  # exactly what rollup_all does once the workbooks are read and validated
        summaries.update(ctx.summarize_all())

    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.runcall(summarise_all)
        prof.dump_stats(profile)
    else:
        summarise_all()
    t2 = time.perf_counter()
    written = 0
    for s in summaries.values():
        if time.perf_counter() - t2 > float(write_budget):
            break
        write_summary(s, Path(out), spec)
        written += 1
    t3 = time.perf_counter()
    top = summaries[CITY]
    frame = ctx.registry.frame
    # the generator revokes a few units: they are not expected
    grassroots = frame.filter((frame["层级"] == "基层") & (frame["状态"] != "撤销")).height
    if top.total("JH00") != grassroots or top.has_errors:
        raise RuntimeError(f"top summary: JH00 {top.total('JH00')} for {grassroots} units, errors {top.has_errors}")
    return {"seconds": t2 - t1, "build": t1 - t0, "summarize": t2 - t1, "write": t3 - t2, "written": written,
            "nodes": len(summaries)}


def phase(name: str, folder: Path, *extra: str, workers: str = "", cap: float = float("inf")) -> dict:
    """Run one phase in a fresh process (common.phase), with a scratch output folder if it writes one."""
    out = folder / f"out-{name}-{workers or 'default'}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    args = (str(folder), *([str(out)] if name != "raw_parse" else []), *extra)
    try:
        return common.phase("rollup_bench", name, *args, workers=workers, cap=cap)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _version() -> str:
    """The commit measured, and a digest of the code rollup runs when it has uncommitted changes."""
    import hashlib

    root = HERE.parent
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout
    paths = ["src/tongji", "schemas", "plugins"]
    diff = subprocess.run(["git", "diff", "HEAD", "--", *paths], cwd=root, capture_output=True).stdout
    return head.strip() + (f" + uncommitted changes (diff {hashlib.sha256(diff).hexdigest()[:8]})" if diff else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="1,000 units")
    ap.add_argument("--cap", type=float, default=3600, help="stop a `tongji rollup --all` run after this many s")
    ap.add_argument("--write-budget", type=float, default=600, help="seconds of write_summary in the aggregation "
                    "phase before the remaining nodes are skipped")
    ap.add_argument("--profile", action="store_true", help="cProfile the summarising (a separate run)")
    args = ap.parse_args()
    n = 1000 if args.quick else args.units
    t = time.perf_counter()
    folder = generate(n, common.CACHE / f"city-{n}")
    books = sum(1 for _ in common.books(folder).rglob("*.xlsx"))
    print(f"{books} workbooks in {folder} ({time.perf_counter() - t:.0f} s to generate or find)", flush=True)
    version = _version()
    phase("raw_parse", folder)  # warm the page cache so every phase reads from memory
    raw = phase("raw_parse", folder)
    runs = {"tongji rollup --all (default)": phase("cli_rollup", folder, cap=args.cap),
            "tongji rollup --all (1 process)": phase("cli_rollup", folder, workers="1", cap=args.cap)}
    agg = phase("aggregate", folder, str(args.write_budget))
    runs["aggregation alone (summarise)"] = agg
    print(f"grassroots units {n}, workbooks {books}, {os.cpu_count()} cores; "
          f"raw = fastexcel load_sheet().to_polars() of every sheet; tongji at {version}")
    if _version() != version:
        print(f"WARNING: the code changed during the run (now {_version()}): phases may have measured different code")
    print(f"{'':34}{'seconds':>9}{'ratio':>8}{'ms/unit':>9}{'peak MiB':>10}{'tree MiB':>10}")
    for label, r in {"raw fastexcel (1 process)": raw, **runs}.items():
        cut = ">" if r.get("killed") else " "
        print(f"{label:34}{cut}{r['seconds']:8.2f}{r['seconds'] / raw['seconds']:8.2f}"
              f"{r['seconds'] / n * 1000:9.2f}{r['peak_mib']:10.0f}{r['tree_mib']:10.0f}"
              f"{'  stopped at --cap' if r.get('killed') else ''}")
    print(f"aggregation phase, step by step: read + validate (Context.build) {agg['build']:.2f} s; "
          f"summarise {agg['nodes']} nodes (Context.summarize_all) {agg['summarize']:.2f} s; "
          f"write_summary {agg['written']} of {agg['nodes']} nodes {agg['write']:.2f} s")
    if args.profile:
        stats = folder / "summarize.prof"
        phase("aggregate", folder, "0", str(stats))
        import pstats

        pstats.Stats(str(stats)).sort_stats("cumulative").print_stats("tongji", 25)


if __name__ == "__main__":
    main()
