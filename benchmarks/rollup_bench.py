"""Benchmark: `tongji rollup --all` over N grassroots units vs raw fastexcel parsing of the same files.

    python benchmarks/rollup_bench.py --units 100000      # the issue's size; --quick is 1,000
    python benchmarks/rollup_bench.py --quick --profile   # also cProfile the aggregation step

The city is 1 市, 10 区, 100 街道 and N grassroots units spread evenly over the 街道, with one 本级 workbook per
市/区/街道 (组织类型 9). Each phase runs in its own process after one warm-up pass over the files; peak memory is
reported twice: the largest single process (ru_maxrss, as validate_bench.py does) and the whole process tree
sampled every 50 ms from outside (the main process and its workers together).
Files are cached in benchmarks/.cache/rollup-N/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

DISTRICTS, STREETS_PER_DISTRICT = 10, 10
CITY, CITY_AREA = "330100", "330100000000"
FACTORS = 7  # grassroots values are GOOD × k, k = 1..7: one template workbook per factor
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
SAMPLE = 200  # grassroots workbooks validated (with every 本级 one) before the cache is marked complete


# --- the city ----------------------------------------------------------------------------------

def city(n: int) -> list[dict]:
    """Registry rows, parents before children: 市, 区, 街道, then the grassroots units of each 街道."""
    from workbooks import uscc

    rows = [_unit(CITY, "示例市总工会", "", "市", CITY_AREA)]
    streets = []
    for d in range(1, DISTRICTS + 1):
        dcode = f"3301{d:02d}"
        rows.append(_unit(dcode, f"第{d}区总工会", CITY, "区", f"{dcode}000000"))
        for s in range(1, STREETS_PER_DISTRICT + 1):
            scode = f"{dcode}{s:03d}"
            rows.append(_unit(scode, f"第{d}区第{s}街道总工会", dcode, "街道", f"{scode}000"))
            streets.append((d, s, scode))
    for j, (d, s, scode) in enumerate(streets):
        count = n // len(streets) + (1 if j < n % len(streets) else 0)
        for g in range(1, count + 1):
            # the area is the street's 9 digits + 3: it repeats past 999 units a street, which validation allows
            rows.append(_unit(uscc(f"81{scode}M{g:05d}"), f"第{d}区{s}街道第{g}工会", scode, "基层",
                              f"{scode}{g % 1000:03d}"))
    return rows


def _unit(code: str, name: str, parent: str, level: str, area: str) -> dict:
    return {"单位代码": code, "单位名称": name, "上级代码": parent, "层级": level,
            "组织类型": "1" if level == "基层" else "9", "所在地区划代码": area, "状态": "正常"}


def generate(n: int, folder: Path) -> Path:
    """Registry CSV and one workbook per unit; grassroots workbooks are templates rewritten as zips."""
    done = folder / ".complete"
    if done.exists():
        return folder
    from concurrent.futures import ProcessPoolExecutor

    from city import values_for
    from workbooks import cover, make_workbook

    units = city(n)
    folder.mkdir(parents=True, exist_ok=True)
    cols = list(units[0])
    (folder / "名册.csv").write_text(",".join(cols) + "\n" + "".join(",".join(u[c] for c in cols) + "\n"
                                                                        for u in units), encoding="utf-8")
    books = folder / "books"
    for i, u in enumerate(u for u in units if u["层级"] != "基层"):  # 111 of them: openpyxl is fast enough
        make_workbook(books / "本级" / f"{u['单位代码']}.xlsx", values_for(1 + i % FACTORS, True), cover(
            u["单位代码"], FM01=u["单位名称"], FM03=u["上级代码"] or None, FM05="9", FM07=u["所在地区划代码"],
            FM04="2025"))
    templates = folder / "templates"
    for k in range(1, FACTORS + 1):
        make_workbook(templates / f"k{k}.xlsx", values_for(k, False), cover(
            "@@FM02@@", FM01="@@FM01@@", FM03="@@FM03@@", FM07="@@FM07@@", FM04="2025", FM05="1"))
    grassroots = [u for u in units if u["层级"] == "基层"]
    by_street: dict[str, list[tuple[int, dict]]] = {}
    for i, u in enumerate(grassroots):
        by_street.setdefault(u["上级代码"], []).append((i, u))
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(_write_street, [(templates, books / street, batch) for street, batch in by_street.items()]))
    _check_sample(folder)
    done.touch()
    return folder


def _write_street(job: tuple[Path, Path, list[tuple[int, dict]]]) -> None:
    templates, out, batch = job
    out.mkdir(parents=True, exist_ok=True)
    entries = {}
    for k in range(1, FACTORS + 1):
        with zipfile.ZipFile(templates / f"k{k}.xlsx") as z:
            entries[k] = [(info, z.read(info.filename)) for info in z.infolist()]
    for i, u in batch:
        values = {"FM01": u["单位名称"], "FM02": u["单位代码"], "FM03": u["上级代码"], "FM07": u["所在地区划代码"]}
        _write_copy(out / f"{u['单位代码']}.xlsx", entries[1 + i % FACTORS], values)


def _write_copy(path: Path, entries: list, values: dict[str, str]) -> None:
    """The template's zip entries with the cover placeholders replaced (codes and names need no XML escaping)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, body in entries:
            if b"@@FM0" in body:
                for code, value in values.items():
                    body = body.replace(f"@@{code}@@".encode(), value.encode())
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, body)


def _check_sample(folder: Path) -> None:
    """The generator's output must validate cleanly, or the benchmark measures returned workbooks."""
    import tongji

    grassroots = sorted(p for p in (folder / "books").rglob("*.xlsx") if p.parent.name != "本级")[:SAMPLE]
    report = tongji.validate([*grassroots, folder / "books" / "本级"], registry=folder / "名册.csv", period="2025")
    errors = report.issues.filter(report.issues["severity"] == "错误")
    if errors.height:
        raise SystemExit(f"generated workbooks do not validate:\n{errors.head(10)}")


# --- the phases (each runs in a fresh process) ---------------------------------------------------

def raw_parse(folder: str) -> dict:
    import fastexcel

    for f in sorted(Path(folder, "books").rglob("*.xlsx")):
        reader = fastexcel.read_excel(f)
        for name in reader.sheet_names:
            reader.load_sheet(name).to_polars()
    return {}


def cli_rollup(folder: str, out: str) -> dict:
    """`tongji rollup --all` exactly as a user runs it; exit code 0 means no workbook was returned."""
    from tongji.cli import main

    sys.argv = ["tongji", "rollup", str(Path(folder, "books")), "-r", str(Path(folder, "名册.csv")),
                "-p", "2025", "-o", out, "--all"]
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
    from tongji.engine.rollup import Context
    from tongji.output.summary import write_summary
    from tongji.spec import load_spec

    spec = load_spec()
    t0 = time.perf_counter()
    ctx = Context.build(Path(folder, "books"), Path(folder, "名册.csv"), "2025", False, False, spec, None, None)
    t1 = time.perf_counter()
    roots = set(ctx.registry.roots())
    nodes = ctx.registry.nodes_bottom_up()
    levels: dict[str, float] = {}
    summaries = {}

    def summarise_all() -> None:
        for i, node in enumerate(nodes, start=1):
            t = time.perf_counter()
            summaries[node] = ctx.summarize(node, top=node in roots)
            level = ctx.registry.get(node)["层级"]
            levels[level] = levels.get(level, 0.0) + time.perf_counter() - t
            if i % 10 == 0:
                print(f"  summarised {i}/{len(nodes)} nodes, {time.perf_counter() - t1:.0f} s", file=sys.stderr,
                      flush=True)

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
    grassroots = ctx.registry.frame.filter(ctx.registry.frame["层级"] == "基层").height
    if top.total("JH00") != grassroots or top.has_errors:
        raise RuntimeError(f"top summary: JH00 {top.total('JH00')} for {grassroots} units, errors {top.has_errors}")
    return {"seconds": t2 - t1, "build": t1 - t0, "summarize": t2 - t1, "levels": levels, "write": t3 - t2,
            "written": written, "nodes": len(nodes)}


def phase(name: str, folder: Path, *extra: str, workers: str = "", cap: float = float("inf")) -> dict:
    """Run one phase in a fresh process; return its wall time, peak RSS and the tree's sampled peak.

    A phase still running after `cap` seconds is stopped (its own process group) and marked killed."""
    out = folder / f"out-{name}-{workers or 'default'}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    args = ", ".join(repr(a) for a in (str(folder), *([str(out)] if name != "raw_parse" else []), *extra))
    code = (
        f"import resource, sys, time, json; sys.path.insert(0, {str(HERE)!r}); import rollup_bench as b;"
        f"t = time.perf_counter(); r = b.{name}({args}); dt = time.perf_counter() - t;"
        "peak = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN));"
        "print(json.dumps({'seconds': dt, 'peak_mib': peak / 1024, **r}))"
    )
    env = dict(os.environ, TONGJI_WORKERS=workers) if workers else None
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    tree, start = 0, time.perf_counter()
    try:
        while proc.poll() is None:
            tree = max(tree, _tree_rss(proc.pid))
            if time.perf_counter() - start > cap:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return {"seconds": cap, "peak_mib": float("nan"), "tree_mib": tree / 2**20, "killed": True}
            time.sleep(0.05)
        text = proc.stdout.read()
        if proc.returncode:
            raise RuntimeError(f"phase {name} failed ({proc.returncode})")
        return json.loads(text.strip().splitlines()[-1]) | {"tree_mib": tree / 2**20}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants now (0 once it has gone)."""
    total, stack, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{p}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def _version() -> str:
    """The commit measured, and a digest of the code rollup runs when it has uncommitted changes."""
    import hashlib

    root = HERE.parent
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout
    paths = ["src/tongji/engine", "src/tongji/output", "src/tongji/spec", "src/tongji/cli/rollup.py", "schemas"]
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
    folder = generate(n, HERE / ".cache" / f"rollup-{n}")
    books = sum(1 for _ in (folder / "books").rglob("*.xlsx"))
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
    levels = ", ".join(f"{k} {v:.2f} s" for k, v in agg["levels"].items())
    print(f"aggregation phase, step by step: read + validate (Context.build) {agg['build']:.2f} s; "
          f"summarise {agg['nodes']} nodes {agg['summarize']:.2f} s ({levels}); "
          f"write_summary {agg['written']} of {agg['nodes']} nodes {agg['write']:.2f} s")
    if args.profile:
        stats = folder / "summarize.prof"
        phase("aggregate", folder, "0", str(stats))
        import pstats

        pstats.Stats(str(stats)).sort_stats("cumulative").print_stats("tongji", 25)


if __name__ == "__main__":
    main()
