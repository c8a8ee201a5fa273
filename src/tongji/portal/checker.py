"""Uploads that arrive together are checked together: one `validate` call for all of them.

A validate call has a fixed cost (the pandera schema, about a quarter of a second on a 2-core server) that does not
grow with the number of workbooks, so checking twenty uploads one by one would take twenty times as long as
checking them at once. One thread takes every upload waiting, checks them in one call, and answers each. Two
uploads of the same unit never share a call (they would be each other's duplicate), and a workbook the batch calls
a duplicate is checked again alone, so a verdict never depends on what else arrived at the same moment."""

from __future__ import annotations

import queue
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tongji.checking.validate import validate
from tongji.issues.report import ValidationReport

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


class Checker:
    def __init__(self, portal):
        self.portal = portal
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def check(self, data: bytes, suffix: str, unit: str, period: str) -> ValidationReport:
        """The report `validate` gives on this workbook alone (blocks until it is checked)."""
        job = Job(data, suffix, unit, period)
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="tongji-checker", daemon=True)
                self.thread.start()
        self.jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.report

    def _run(self) -> None:
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
        try:
            reports = self._validate(batch)
            for job, report in zip(batch, reports, strict=True):
                if len(batch) > 1 and (report.issues["rule"] == "duplicate-unit").any():
                    report = self._validate([job])[0]
                job.report = report
        except BaseException as exc:  # noqa: BLE001 - said to every waiting request, never kills the thread
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done.set()

    def _validate(self, batch: list[Job]) -> list[ValidationReport]:
        portal = self.portal
        with tempfile.TemporaryDirectory(dir=portal.data / "tmp") as tmp:
            paths = [Path(tmp) / f"upload-{i:06d}{job.suffix}" for i, job in enumerate(batch)]
            for path, job in zip(paths, batch, strict=True):
                path.write_bytes(job.data)
            report = validate(paths, registry=portal.registry, period=batch[0].period, spec=portal.spec)
            return [report.for_file(path.name) for path in paths]
