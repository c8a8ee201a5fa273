"""Small jobs: what a newcomer and a 街道 statistician wait for (issue 13, item 4).

    python benchmarks/small_jobs.py [--repeat 5]

Prints, each the median of `--repeat` runs in this process after one warm-up run:
- `tongji demo`: `tongji.demo.run_demo` on the bundled sample city (131 workbooks, 12 summaries);
- one 街道 of 60 units (a city made by the sample generator with one 区 and one 街道, no seeded mistake):
  `tongji.rollup` of the 街道 from its workbooks (read, validated, summed), and `write_summary` of it (xlsx);
- the cost of one summary workbook: `write_summary_workbook` of that 街道's summary, stamped (the default) and
  built cell by cell with openpyxl (`stamped=False`, the reference).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "street-60"
PERIOD = "2025"


def timed(run, repeat: int) -> float:
    run()  # the warm-up: imports, the spec, the skeleton
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def street() -> tuple[Path, str]:
    """The 60-unit city (cached) and its 街道's code."""
    from tongji.definitions.registry import load_registry

    if not (CACHE / ".complete").exists():
        from tongji_samples import make_city

        make_city(CACHE, units=60, seed=2025, period=PERIOD, mistakes=0, districts=1, streets=1, force=True)
        (CACHE / ".complete").touch()
    registry = load_registry(CACHE / "registry.csv")
    node = next(n for n in registry.nodes_bottom_up() if registry.children(n) and all(
        registry.is_leaf(c) for c in registry.children(n)))
    return CACHE, node


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args(argv).repeat

    import tongji
    from tongji.demo import run_demo
    from tongji.plugins import load_spec
    from tongji.writing.summary_files import write_summary, write_summary_workbook

    spec = load_spec()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        demo = timed(lambda: run_demo(out / "demo"), max(1, repeat // 2))
        folder, node = street()
        books = sorted((folder / PERIOD).rglob("*.xlsx"))
        registry = tongji.definitions.registry.load_registry(folder / "registry.csv")

        def roll():
            return tongji.rollup(books, registry=registry, unit=node, period=PERIOD, spec=spec)

        summary = roll()
        units = summary.detail.height
        rolled = timed(roll, repeat)
        written = timed(lambda: write_summary(summary, out / "street", spec), repeat)
        stamped = timed(lambda: write_summary_workbook(summary, out / "s.xlsx", spec), repeat * 4)
        built = timed(lambda: write_summary_workbook(summary, out / "b.xlsx", spec, stamped=False), repeat * 4)
    print(f"tongji demo (131 workbooks, 12 summaries)        {demo:6.2f} s")
    print(f"one 街道 of {units - 1} units + 本级: rollup            {rolled:6.2f} s")
    print(f"  its summary written (xlsx, parquet, manifest)  {written:6.3f} s")
    print(f"  total                                          {rolled + written:6.2f} s")
    print(f"one summary workbook, stamped                    {stamped * 1000:6.1f} ms")
    print(f"one summary workbook, built by openpyxl          {built * 1000:6.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
