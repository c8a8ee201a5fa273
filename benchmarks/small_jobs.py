"""Small jobs: what a newcomer and a 街道 statistician wait for (issue 13, item 4).

    python benchmarks/small_jobs.py [--repeat 5]

Prints, for each, the fastest of `--repeat` runs in this process after one warm-up run, in wall-clock seconds
and in CPU seconds of this process (all its threads): on a shared machine the CPU time is the steadier figure,
since it leaves out the time spent waiting for a core.
- `tongji demo`: `tongji.demo.run_demo` on the bundled sample city (131 workbooks, 12 summaries);
- one workbook validated alone (`tongji.validate` of one grassroots workbook with the registry and period): what
  the portal pays for an upload checked on its own;
- one 街道 of 60 units (a city made by the sample generator with one 区 and one 街道, no seeded mistake):
  `tongji.rollup` of the 街道 from its workbooks (read, validated, summed), and `write_summary` of it (xlsx);
- the cost of one summary workbook: `write_summary_workbook` of that 街道's summary, stamped (the default) and
  built cell by cell with openpyxl (`stamped=False`, the reference);
- a summary workbook's fixed cost and its cost per unit: the stamped workbook of a 街道 of one unit (made the same
  way), and the line through it and the 60-unit one; the fixed cost is where that line meets zero units.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
PERIOD = "2025"


def timed(run, repeat: int) -> tuple[float, float]:
    """The fastest run's wall-clock and CPU seconds."""
    run()  # the warm-up: imports, the spec, the skeleton
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def street(units: int = 60) -> tuple[Path, str]:
    """A city of one 街道 of `units` grassroots units (cached) and the 街道's code."""
    from tongji.definitions.registry import load_registry

    folder = CACHE / f"street-{units}"
    if not (folder / ".complete").exists():
        from tongji_samples import make_city

        make_city(folder, units=units, seed=2025, period=PERIOD, mistakes=0, districts=1, streets=1, force=True)
        (folder / ".complete").touch()
    registry = load_registry(folder / "registry.csv")
    node = next(n for n in registry.nodes_bottom_up() if registry.children(n) and all(
        registry.is_leaf(c) for c in registry.children(n)))
    return folder, node


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

        one = next(b for b in books if b.parent.name != "本级")  # a grassroots unit's, as the portal gets them
        alone = timed(lambda: tongji.validate([one], registry=registry, period=PERIOD, spec=spec), repeat * 4)

        def roll():
            return tongji.rollup(books, registry=registry, unit=node, period=PERIOD, spec=spec)

        summary = roll()
        units = summary.detail.height
        rolled = timed(roll, repeat)
        written = timed(lambda: write_summary(summary, out / "street", spec), repeat)
        stamped = timed(lambda: write_summary_workbook(summary, out / "s.xlsx", spec), repeat * 4)
        built = timed(lambda: write_summary_workbook(summary, out / "b.xlsx", spec, stamped=False), repeat * 4)
        folder, node = street(1)
        small = tongji.rollup(sorted((folder / PERIOD).rglob("*.xlsx")), registry=tongji.definitions.registry
                              .load_registry(folder / "registry.csv"), unit=node, period=PERIOD, spec=spec)
        one = timed(lambda: write_summary_workbook(small, out / "one.xlsx", spec), repeat * 4)
    # the line through the two stamped workbooks, by their rows of 明细 (the units and the 本级)
    rows = summary.detail.height - small.detail.height
    slope = tuple((big - little) / rows for big, little in zip(stamped, one, strict=True))
    fixed = tuple(little - small.detail.height * per for little, per in zip(one, slope, strict=True))
    rows = [("tongji demo (131 workbooks, 12 summaries)", demo, 1),
            ("one workbook validated alone (ms)", alone, 1000),
            (f"one 街道 of {units - 1} units + 本级: rollup", rolled, 1),
            ("  its summary written (xlsx, parquet, manifest)", written, 1),
            ("  total", (rolled[0] + written[0], rolled[1] + written[1]), 1),
            ("one summary workbook, stamped (ms)", stamped, 1000),
            ("one summary workbook, built by openpyxl (ms)", built, 1000),
            (f"a summary workbook of {small.detail.height - 1} unit + 本级, stamped (ms)", one, 1000),
            ("  fixed cost of a summary workbook (ms)", fixed, 1000),
            ("  and per unit (ms)", slope, 1000)]
    print(f"{'':48} {'wall':>8} {'cpu':>8}")
    for label, (wall, cpu), scale in rows:
        print(f"{label:48} {wall * scale:8.3f} {cpu * scale:8.3f}")


if __name__ == "__main__":
    sys.exit(main())
