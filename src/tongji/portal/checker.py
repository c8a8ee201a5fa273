"""Uploads that arrive together are checked together: one `validate` call for all of them.

A validate call has a fixed cost (the pandera schema, about a quarter of a second on a 2-core server) that does not
grow with the number of workbooks, so checking twenty uploads one by one would take twenty times as long as
checking them at once. One thread takes every upload waiting, checks them in one call, and answers each. Two
uploads of the same unit never share a call (they would be each other's duplicate), and a workbook that a check
across workbooks names (a duplicate, a copy, an outlier among its peers, a plugin's check of the whole batch) is
checked again alone, so a verdict never depends on, nor names, what else arrived at the same moment."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tongji.checking.validate import ACROSS_WORKBOOKS, validate
from tongji.definitions.codes import SUMMARY
from tongji.issues.report import ISSUE_COLUMNS, ValidationReport, issue_row
from tongji.reading.workbooks import read_workbooks
from tongji.writing.template import write_template

MAX_BATCH = 200


@dataclass
class Job:
    data: bytes
    suffix: str
    unit: str
    period: str
    done: threading.Event = field(default_factory=threading.Event)
    report: ValidationReport | None = None
    error: BaseException | None = None
    tries: int = 0


class Checker:
    """With `process`, the checking runs in a process of its own (spawned when the server starts, stopped with the
    app, and gone by itself if the server dies), so that checking and answering pages use two cores; otherwise,
    or when a plugin's functions cannot be sent to another process, in a thread of the server."""

    def __init__(self, portal, process: bool = False):
        self.portal, self.process = portal, process
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.pool: ProcessPoolExecutor | None = None
        self.lock = threading.Lock()
        self.warmed = threading.Event()

    def _renew(self, broken: ProcessPoolExecutor) -> None:
        with self.lock:
            if self.pool is broken:
                self.pool = _pool(self.portal)

    def close(self) -> None:
        with self.lock:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = None

    def start(self) -> None:
        """Start checking now, with the server, rather than at the first upload, and check a blank template first:
        the first uploads then wait neither for the checking process to start nor for the checks to be built."""
        self._started(warm=True)

    def _started(self, warm: bool = False) -> None:
        with self.lock:
            if self.process and self.pool is None:
                self.pool = _pool(self.portal)
                self.process = self.pool is not None
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, args=(warm,), name="tongji-checker", daemon=True)
                self.thread.start()

    def check(self, data: bytes, suffix: str, unit: str, period: str) -> ValidationReport:
        """The report `validate` gives on this workbook alone (blocks until it is checked)."""
        job = Job(data, suffix, unit, period)
        self._started()
        self.jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.report

    def _run(self, warm: bool) -> None:
        if warm:
            self._warm()
        waiting: list[Job] = []
        while True:
            if not waiting:
                waiting.append(self.jobs.get())
            while len(waiting) < MAX_BATCH:
                try:
                    waiting.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            batch, later, units = [], [], set()
            for job in waiting:
                key = (job.unit, job.period)
                (later if key in units or batch and job.period != batch[0].period else batch).append(job)
                units.add(key)
            waiting = later
            self._check(batch)

    def _check(self, batch: list[Job]) -> None:
        across = [*ACROSS_WORKBOOKS, *(check.id for check in self.portal.spec.checks)]
        try:
            reports = self._validate(batch)
            for job, report in zip(batch, reports, strict=True):
                if len(batch) > 1 and report.issues["rule"].is_in(across).any():
                    report = self._validate([job])[0]
                job.report = report
        except BrokenProcessPool:  # the checking process died: a new one checks each alone, once more
            for job in batch:
                job.tries += 1
                if job.tries < 3:
                    self._check([job])
                else:  # this workbook kills it each time
                    job.error = BrokenProcessPool("the workbook stops the checking process")
        except BaseException as exc:  # noqa: BLE001 - said to every waiting request, never kills the thread
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done.set()

    def _warm(self) -> None:
        """Check the template of the registry's first grassroots unit and forget the report."""
        registry = self.portal.registry
        unit = next((r for r in registry.frame.iter_rows(named=True) if registry.is_leaf(r["单位代码"])), None)
        try:
            with self.portal.db() as db:
                period = self.portal.period(db)
            if unit is None or not period:
                return
            with tempfile.TemporaryDirectory(dir=self.portal.data / "tmp") as folder:
                path = write_template(Path(folder) / "warm.xlsx", self.portal.spec, unit, period)
                self._validate([Job(path.read_bytes(), ".xlsx", unit["单位代码"], period)])
            self.warmed.set()
        except Exception:  # noqa: BLE001 - only a warm-up: the first upload meets the same fault and says what it is
            pass

    def _validate(self, batch: list[Job]) -> list[ValidationReport]:
        work = ([(job.data, job.suffix) for job in batch], batch[0].period, str(self.portal.data / "tmp"))
        pool = self.pool
        if pool is None:
            parts = check_files(*work, self.portal.registry, self.portal.spec)
        else:
            try:
                parts = pool.submit(_check_in_process, *work).result()
            except BrokenProcessPool:
                self._renew(pool)
                raise
        return [ValidationReport(issues, books, catalog=self.portal.catalog) for books, issues in parts]


def _pool(portal) -> ProcessPoolExecutor | None:
    try:
        state = pickle.dumps((portal.registry, portal.spec))
    except Exception:  # noqa: BLE001 - a plugin's function that cannot be pickled: check in a thread instead
        return None
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                               initargs=(state, os.getpid()))


_STATE: tuple = ()


def _start(state: bytes, parent: int) -> None:
    global _STATE
    _STATE = pickle.loads(state)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """A server killed outright (kill -9) cannot stop its checking process: it notices and goes."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _check_in_process(files, period, tmp):
    return check_files(files, period, tmp, *_STATE)


def check_files(files: list[tuple[bytes, str]], period: str, tmp: str, registry, spec) -> list[tuple]:
    """(workbooks, issues) of each file, all checked in one validate call."""
    with tempfile.TemporaryDirectory(dir=tmp) as folder:
        paths = [Path(folder) / f"upload-{i:06d}{suffix}" for i, (_, suffix) in enumerate(files)]
        for path, (data, _) in zip(paths, files, strict=True):
            path.write_bytes(data)
        report = validate(paths, registry=registry, period=period, spec=spec)
        return [own_workbook(part.workbooks, part.issues, path, registry, spec)
                for part, path in ((report.for_file(p.name), p) for p in paths)]


def own_workbook(books: pl.DataFrame, issues: pl.DataFrame, path: Path, registry, spec) -> tuple:
    """A node uploads its own 本级 workbook, never a summary (组织类型 0): `tongji validate` passes a summary, which
    is the next level's input, but no rollup takes a node's summary as its own 本级, so approved it would be shown
    已审核 while the node's summary lists its 本级 as missing. It is returned at its 组织类型 cell instead."""
    unit = books["unit"][0] if books.height == 1 else None
    # a grassroots union's summary is type-not-grassroots already, an unknown unit's unknown-unit
    if unit not in registry or books["org_type"][0] != SUMMARY or registry.is_leaf(unit):
        return books, issues
    at = read_workbooks([path], spec).cells.filter(pl.col("code") == "FM05").row(0, named=True)
    row = issue_row(books["file"][0], unit, "type-not-office", {"raw": SUMMARY}, code="FM05", value=SUMMARY,
                    cell=f"{at['sheet']}!{at['col']}{at['row']}", name=spec.rows["FM05"].name)
    row["unit_name"] = books["unit_name"][0]
    books = books.with_columns(pl.col("errors") + 1, pl.lit("退回").alias("status"))
    return books, pl.concat([pl.DataFrame([row], schema=ISSUE_COLUMNS), issues.select(list(ISSUE_COLUMNS))])
