"""The workbooks to write, one job per unit, and writing them (in worker processes when asked)."""

from __future__ import annotations

import calendar
import datetime as dt
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tongji.definitions import Spec
from tongji.writing.files import write_bytes
from tongji.writing.template import BENJI, template_name
from tongji_samples.codes import cover_codes
from tongji_samples.dice import Dice
from tongji_samples.fastfill import Stamp
from tongji_samples.tree import Unit
from tongji_samples.values import months

BENJI_FOLDER = "本级"
# A worker process takes about half a second to start and a workbook about 2 ms to write: below this many
# workbooks one process is done first.
PARALLEL_MIN = 1000
CHUNK = 200  # workbooks a worker writes before the progress bar hears of them
# lines added to the forms after the sample city was first drawn: see Dice.later
LATER_ROWS = frozenset({"JF23", "JF24", "JF25", "JF26"})


@dataclass
class Job:
    """One workbook to write: the unit's template, filled with `cells` and `cover`, in `folder`."""

    unit: str
    row: dict[str, str]  # what its template shows of the registry: 单位代码, 单位名称, 上级代码, 组织类型, 区划代码
    folder: Path
    name: str
    cells: dict[str, object]  # indicator → what is typed (None: left empty)
    cover: dict[str, object]
    copies: list[tuple[str, dict]] = field(default_factory=list)  # further files: name, cover changes


def make_jobs(dice: Dice, tree: list[Unit], values: dict, root: Path, period: str, spec: Spec) -> list[Job]:
    streets = {u.code: u.name for u in tree if u.level == "街道"}
    end = _period_end(period)
    jobs = []
    for u in tree:
        if u.state == "撤销":
            continue
        benji = u.level != "基层"
        folder = root / (BENJI_FOLDER if benji else streets[u.parent])
        row = {"单位代码": u.code, "单位名称": u.name, "上级代码": u.parent, "组织类型": BENJI if benji else u.org,
               "所在地区划代码": u.area}
        name = template_name(row, period)
        cells = _cells(dice, values[u.code], spec, benji, single=u.org == "1" and not benji)
        cover = {
            "FM06": f"{u.nature} {spec.enums['单位性质'][u.nature]}", "FM08": dice.person(), "FM09": dice.phone(),
            "FM10": (end + dt.timedelta(days=dice.int(3, 25))).isoformat(), "FM11": dice.person(),
            **cover_codes(dice.later, u), "FM16": dice.later.person(),
        }
        jobs.append(Job(u.code, row, folder, name, cells, cover))
    return jobs


def _period_end(period: str) -> dt.date:
    year, month = int(period[:4]), months(period)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _cells(dice: Dice, v: dict[str, int], spec: Spec, benji: bool, single: bool = False) -> dict[str, object]:
    """What is typed in each value cell; some people leave zero cells empty (read as 0). A 单独基层工会 answers
    its 民主管理 counts 是/否, as its template allows."""
    sloppy = dice.chance(0.3)
    cells = {}
    for code in value_codes(spec, benji):
        value = v.get(code, 0)
        draw = dice.later if code in LATER_ROWS else dice
        empty = value == 0 and sloppy and draw.chance(0.5)
        cells[code] = None if empty else typed_value(code, value, spec)
        if single and spec.rows[code].yes_no and not empty:
            cells[code] = "是" if value else "否"
    return cells


def value_codes(spec: Spec, benji: bool) -> list[str]:
    """The value cells a unit types in: JH00 is computed; 本级 lines are locked in a grassroots template."""
    return [row.code for row in spec.numeric_rows() if row.filled and (benji or row.level != "本级")]


def typed_value(code: str, value: int, spec: Spec) -> int | float | str:
    row = spec.rows[code]
    if row.kind == "flag":
        return "是" if value else "否"
    if row.kind == "amount":
        return value // 100 if value % 100 == 0 else value / 100
    return value


def write_all(jobs: list[Job], period: str, spec: Spec, n: int, tick: Callable[[], None] | None = None) -> None:
    """Write every job; many are shared among worker processes, CHUNK at a time (each file depends on its job
    alone, so the files are the same). `tick` is called for every file written (a progress bar)."""
    shapes = {job.row["组织类型"] == BENJI for job in jobs}
    stamps = {benji: Stamp.build(spec, period, benji, set(value_codes(spec, benji))) for benji in shapes}
    tick = tick or (lambda: None)
    if n <= 1 or len(jobs) < PARALLEL_MIN:
        for job in jobs:
            for _ in range(_write_chunk([job], stamps)):
                tick()
        return
    # spawn, not fork: a forked child of a process whose polars thread pool is running can deadlock; each worker
    # is given the stamps once (200 KB), not with every chunk
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"), initializer=_keep,
                             initargs=(stamps,)) as pool:
        futures = [pool.submit(_write_kept, jobs[i:i + CHUNK]) for i in range(0, len(jobs), CHUNK)]
        for future in as_completed(futures):
            for _ in range(future.result()):
                tick()


_STAMPS: dict[bool, Stamp] = {}  # in a worker process: the stamps its pool was made with


def _keep(stamps: dict[bool, Stamp]) -> None:
    _STAMPS.update(stamps)


def _write_kept(jobs: list[Job]) -> int:
    return _write_chunk(jobs, _STAMPS)


def files_of(jobs: list[Job]) -> int:
    """The files the jobs write: a workbook each and their copies."""
    return sum(1 + len(job.copies) for job in jobs)


def _write_chunk(jobs: list[Job], stamps: dict[bool, Stamp]) -> int:
    for job in jobs:
        stamp = stamps[job.row["组织类型"] == BENJI]
        write_bytes(job.folder / job.name, stamp.workbook(job.row, job.cover, job.cells))
        for name, changes in job.copies:
            write_bytes(job.folder / name, stamp.workbook(job.row, job.cover | changes, job.cells))
    return files_of(jobs)
