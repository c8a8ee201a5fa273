"""`make_city`: a sample city's registry and workbooks, this period's and (with previous=True) last's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from tongji.definitions import Spec
from tongji.definitions.codes import normalize_period, previous_period
from tongji.definitions.registry import Registry
from tongji.demo import SUMMARY_FOLDER
from tongji.errors import TongjiError
from tongji.plugins import load_spec
from tongji.writing.files import ensure_dir
from tongji_samples.city import City
from tongji_samples.dice import Dice
from tongji_samples.jobs import files_of, make_jobs, typed_value, write_all
from tongji_samples.last_period import past_values
from tongji_samples.mistakes import (
    ANSWERS,
    seed_cross_period,
    seed_mistakes,
    seed_odd_units,
    write_answers,
)
from tongji_samples.tree import MOST_DISTRICTS, MOST_STREETS, Unit, build_tree, write_registry
from tongji_samples.values import draw_values

BY_CHANCE = ("peer-outlier", "peer-outlier-far")  # last period's drawn figures may stand out among peers
LAST_VERSION = "2026.1"  # the template of last period's collection: before 事业支出 and the counts of covered units


def make_city(
    out: Path,
    units: int = 120,
    seed: int = 2025,
    period: str = "2025",
    mistakes: float = 0.1,
    districts: int | None = None,
    streets: int | None = None,
    *,
    previous: bool = False,
    force: bool = False,
    workers: int = 1,
    tick: Callable[[], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> City:
    """Write a fictional city under `out`: its registry and a filled workbook for every unit that reports.

    Args:
        out: The folder to write registry.csv, 埋设问题.csv (the answer key) and `<period>/` into.
        units: Grassroots unions (a few more are drawn and revoked).
        seed: The random seed: the same seed gives the same files byte for byte.
        period: The reporting period (2025, 2025Q2, 2025-06).
        mistakes: The share of grassroots unions whose workbook carries one seeded mistake (0 to 1).
        districts: 区 in the city; by default about one per 40 units, at most 99.
        streets: 街道 in the city; by default about one per 15 units, at most 999 in a 区.
        previous: Also make last period's city, roll it up and keep only its summary workbooks, in
            `<last period>/汇总/`.
        force: Replace an earlier `<period>/` (and `<last period>/`) folder; without it, one that holds files
            is an error.
        workers: Processes writing (and reading last period's) workbooks; the files are the same. More than 1
            needs the calling script's `if __name__ == "__main__":` guard, so the default is 1.
        tick: Called for every step done: a workbook written, read back or rolled up (a progress bar).
        on_total: Called with the number of steps of each stage before it starts (they add up).

    Returns:
        The City: where everything was written, the values meant, the seeded mistakes and the missing units.

    Raises:
        TongjiError: A bad option, or a folder that already holds files (without `force`), said in Chinese.
    """
    period_text = period
    period = normalize_period(str(period)) or ""
    districts, streets = city_shape(units, districts, streets)
    _check_options(units, mistakes, districts, streets, period, period_text, seed)
    out = Path(out)
    folder = out / period
    last = previous_period(period) if previous else ""
    folders = [folder, out / last] if previous else [folder]
    for f in folders:
        if f.exists() and any(f.iterdir()) and not force:
            raise TongjiError("samples-exists", path=f)
    for f in folders:
        if f.exists():
            shutil.rmtree(f)
    spec = load_spec()
    ratio = spec.params.get("留成比例", 0.6)
    dice = Dice(seed)
    tree = build_tree(dice, units, districts, streets)
    registry = write_registry(ensure_dir(out) / "registry.csv", tree)
    city = City(out / "registry.csv", folder, period)
    values = draw_values(dice, tree, period, ratio)
    jobs = make_jobs(dice, tree, values, folder, period, spec)
    seed_mistakes(dice, jobs, tree, values, mistakes, city)
    if previous:  # a stream of its own: this period's draws, and so its files, stay as they are without it
        past = Dice([seed, 1])
        before = past_values(past, tree, values, period, ratio)
        if mistakes > 0:
            seed_cross_period(past, jobs, tree, values, city)
    if mistakes > 0:  # units standing out among their peers: a stream of their own too
        seed_odd_units(Dice([seed, 2]), jobs, tree, values, before if previous else None, city, spec)
    for unit in tree:
        if unit.code in values:
            city.values[unit.code] = {c: typed_value(c, v, spec) for c, v in values[unit.code].items()}
    tick, on_total = tick or (lambda: None), on_total or (lambda n: None)
    on_total(files_of(jobs))
    write_all(jobs, period, spec, workers, tick)
    if previous:
        city.previous_period, city.previous = last, out / last / SUMMARY_FOLDER
        city.previous_values = {code: {c: typed_value(c, v, spec) for c, v in before[code].items()} for code in before}
        _write_previous(past, tree, before, out, last, registry, spec, workers, tick, on_total)
    write_answers(out / ANSWERS, city)
    return city


def city_shape(units: int, districts: int | None, streets: int | None) -> tuple[int, int]:
    """The 区 and 街道 of the city: those asked for, else about one 区 per 40 units and one 街道 per 15, as many as
    their area codes can number (99 区, 999 街道 in each)."""
    if districts is None:
        districts = min(MOST_DISTRICTS, max(1, round(units / 40)))
    if streets is None:
        streets = min(MOST_STREETS * districts, max(districts, min(max(units, 1), round(units / 15))))
    return districts, streets


def _check_options(units: int, mistakes: float, districts: int, streets: int, period: str, text: str,
                   seed: int) -> None:
    # what is wrong, in Chinese and in English (the message is made in the language of the run), each value named
    # by its option on the command line (`tongji samples make`, `tongji demo`), as most who read it typed it there
    problems = [
        (units < 1, f"--units {units}，基层工会数至少为 1", f"--units {units}: at least 1 grassroots union"),
        (not 0 <= mistakes <= 1, f"--mistakes {mistakes}，应在 0 到 1 之间", f"--mistakes {mistakes}: from 0 to 1"),
        (districts < 1, f"--districts {districts}，区至少 1 个", f"--districts {districts}: at least 1 district"),
        (streets < districts, f"--streets {streets}，街道数不能少于区数 {districts}",
         f"--streets {streets}: no fewer streets than the {districts} districts"),
        (districts > MOST_DISTRICTS or streets > MOST_STREETS * districts, "区或街道太多，区划代码放不下",
         "too many districts or streets for their area codes"),
        (not period, f"--period {text}，应为 2025、2025Q2 或 2025-06", f"--period {text}: use 2025, 2025Q2 or 2025-06"),
        (seed < 0, f"--seed {seed}，随机种子不能为负数", f"--seed {seed}: the random seed cannot be negative"),
    ]
    for bad, detail, detail_en in problems:
        if bad:
            raise TongjiError("samples-bad-option", detail=detail, detail_en=detail_en)


def _write_previous(dice: Dice, tree: list[Unit], values: dict, out: Path, period: str, registry: Registry,
                    spec: Spec, workers: int, tick: Callable[[], None], on_total: Callable[[int], None]) -> None:
    """Last period's workbooks, rolled up; only the summary workbooks stay, in out/<period>/汇总/, written in the
    layout of the template version last period's collection used (LAST_VERSION): what the statistician kept from
    last year, read through its concordance this year."""
    from tongji.aggregating.rollup import rollup_all
    from tongji.aggregating.summary import in_version
    from tongji.writing.summary_files import write_summary

    folder = out / period
    jobs = make_jobs(dice, tree, values, folder, period, spec)
    on_total(files_of(jobs))
    write_all(jobs, period, spec, workers, tick)
    summaries = rollup_all(folder, registry=registry, period=period, spec=spec, workers=workers, tick=tick,
                           on_files=on_total)
    target = folder / SUMMARY_FOLDER
    on_total(len(summaries))
    for summary in summaries.values():
        # a bug of the generator: last period has no mistakes; a unit whose drawn figures stand out among its peers
        # is chance, not a mistake
        mistakes = summary.issues.filter(~summary.issues["rule"].is_in(BY_CHANCE))
        if not mistakes.is_empty():
            raise RuntimeError(f"{summary.unit} {period}: {mistakes['rule'].to_list()}")
        for name in ("units", "issues", "inputs"):  # name files relative to `out`: the same bytes anywhere
            df = getattr(summary, name)
            setattr(summary, name, df.with_columns(df["file"].map_elements(
                lambda f: Path(os.path.relpath(f, out)).as_posix() if f else f, return_dtype=df["file"].dtype)))
        old, layout = in_version(summary, spec, LAST_VERSION)
        for path in write_summary(old, target, layout, ("xlsx",)):
            if path.suffix != ".xlsx":
                path.unlink()  # parquet and manifest name workbooks that are not kept
        tick()
    for child in folder.iterdir():
        if child != target:
            shutil.rmtree(child)
