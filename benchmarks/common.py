"""What the benchmarks share: the city they measure, and running one phase in a fresh process.

The city is `tongji_samples.make_city` with the issue's shape: 1 市, 10 区, 100 街道 (fewer 街道 for a city
under 1,000 units, so that each has about ten), N grassroots units, no seeded mistake (every workbook is
accepted), in the generator's layout: registry.csv, 2025/<街道名>/*.xlsx and 2025/本级/*.xlsx.
Cities are cached in benchmarks/.cache/city-N/ (or $TONGJI_BENCH_CACHE/city-N/); `.complete` marks a finished one.

    python benchmarks/common.py MODULE FUNCTION ARG...   # what `phase` runs: prints one line of JSON
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("TONGJI_BENCH_CACHE") or HERE / ".cache")
PERIOD = "2025"
DISTRICTS, STREETS, PER_STREET = 10, 100, 10
SEED = 2025
SAMPLE = 200  # grassroots workbooks validated (with every 本级 one) before the cache is marked complete


# --- the city ----------------------------------------------------------------------------------

def books(folder: Path | str) -> Path:
    """The folder of a city's workbooks."""
    return Path(folder) / PERIOD


def registry(folder: Path | str) -> Path:
    return Path(folder) / "registry.csv"


def city(n: int, cache: Path | None = None, workers: int = 2) -> tuple[Path, float | None]:
    """The city of `n` grassroots units, made unless cached; returns its folder and the seconds it took to make
    (None when it was found in the cache)."""
    folder = (cache or CACHE) / f"city-{n}"
    if (folder / ".complete").exists():
        return folder, None
    return folder, generate(n, folder, workers)


def generate(n: int, folder: Path, workers: int = 2) -> float:
    """Make the city in `folder` (replacing an unfinished one), check it and mark it complete; return seconds."""
    from tongji_samples import make_city

    start = time.perf_counter()
    streets = min(STREETS, max(DISTRICTS, n // PER_STREET))
    make_city(folder, units=n, seed=SEED, period=PERIOD, mistakes=0, districts=DISTRICTS, streets=streets,
              force=True, workers=workers)
    seconds = time.perf_counter() - start
    _check_sample(folder)
    (folder / ".complete").touch()
    return seconds


def _check_sample(folder: Path) -> None:
    """The generator's output must validate cleanly, or the benchmark measures returned workbooks."""
    import tongji

    grassroots = sorted(p for p in books(folder).rglob("*.xlsx") if p.parent.name != "本级")[:SAMPLE]
    report = tongji.validate([*grassroots, books(folder) / "本级"], registry=registry(folder), period=PERIOD)
    found = report.issues.filter(report.issues["severity"] != "提示")  # a notice (a unit far from its peers) is fine
    if found.height:
        raise SystemExit(f"generated workbooks do not validate:\n{found.head(10)}")


# --- phases --------------------------------------------------------------------------------------

def phase(module: str, function: str, *args: str, workers: str = "", cap: float = float("inf")) -> dict:
    """Run benchmarks/<module>.py's `function(*args)` in a fresh process; return what it returns (a dict) with
    `seconds` (its wall time), `peak_mib` (the largest single process: ru_maxrss of it and its children) and
    `tree_mib` (the whole process tree, sampled every 50 ms from outside: the main process and its workers) and
    `tree_pss_mib` (the same, each process's proportional set size: a page shared by several processes, such as
    polars' 170 MB library mapped into each worker, counted once across them rather than once in each).

    `workers` sets TONGJI_WORKERS, which the phases read through `tongji.cli.common.workers()` as the commands do.
    A phase still running after `cap` seconds is stopped (its own process group)
    and marked `killed`."""
    env = dict(os.environ, TONGJI_WORKERS=workers) if workers else None
    with tempfile.TemporaryFile("w+") as out:  # a file, not a pipe: a chatty phase cannot fill it and stall
        proc = subprocess.Popen([sys.executable, str(Path(__file__)), module, function, *args], stdout=out,
                                text=True, env=env, start_new_session=True)
        tree, pss, start = 0, 0, time.perf_counter()
        while proc.poll() is None:
            tree, pss = max(tree, _tree_rss(proc.pid)), max(pss, _tree_rss(proc.pid, pss=True))
            if time.perf_counter() - start > cap:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return {"seconds": cap, "peak_mib": float("nan"), "tree_mib": tree / 2**20,
                        "tree_pss_mib": pss / 2**20, "killed": True}
            time.sleep(0.05)
        if proc.returncode:
            raise RuntimeError(f"phase {module}.{function} failed ({proc.returncode})")
        out.seek(0)
        return json.loads(out.read().strip().splitlines()[-1]) | {"tree_mib": tree / 2**20,
                                                                  "tree_pss_mib": pss / 2**20}


def _run(module: str, function: str, args: list[str]) -> None:
    """In the fresh process: time the call, then print its result with the peak RSS as the last line."""
    call = getattr(importlib.import_module(module), function)
    start = time.perf_counter()
    result = call(*args) or {}
    seconds = time.perf_counter() - start
    peak = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(json.dumps({"seconds": seconds, "peak_mib": peak / 1024, **result}), flush=True)


def _tree_rss(pid: int, pss: bool = False) -> int:
    """Resident bytes of `pid` and all its descendants now (0 once it has gone); with `pss`, their proportional
    set sizes (each shared page divided among the processes mapping it)."""
    total, stack, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            if pss:
                text = Path(f"/proc/{p}/smaps_rollup").read_text()
                total += int(text.split("\nPss:", 1)[1].split()[0]) * 1024
            else:
                total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{p}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return total


if __name__ == "__main__":
    _run(sys.argv[1], sys.argv[2], sys.argv[3:])
