"""A workbook's own checks kept within a run (checking/reuse.py): a later batch gets the same report as a fresh
validation of it, without reading again the workbooks it has already met with the same bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

import tongji.checking.workbook_checks as workbook_checks
from tongji.checking.reuse import Remembered
from tongji.checking.validate import validate
from tongji.definitions.registry import load_registry
from tongji.reading.discover import discover
from tongji.reading.workers import Processes
from workbooks import cover, make_workbook, uscc

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def same(a, b) -> None:
    for name in ("issues", "workbooks", "values", "notes"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert a.sha256 == b.sha256 and a.skipped == b.skipped
    assert sorted(a.details) == sorted(b.details)
    assert all(a.details[f].equals(b.details[f]) for f in a.details)


def counting(monkeypatch) -> list[int]:
    """How many files each call of the chunk reader was given."""
    calls, read = [], workbook_checks.read_chunk

    def counted(start, files, *args, **kw):
        calls.append(len(files))
        return read(start, files, *args, **kw)

    monkeypatch.setattr(workbook_checks, "read_chunk", counted)
    return calls


def test_a_later_batch_gets_the_report_of_a_fresh_validation_without_reading_again(tmp_path, monkeypatch):
    registry = load_registry(SAMPLES / "registry.csv")
    books = discover([SAMPLES / "2025"])
    # a batch mixing workbooks met in three earlier chunks, in another order, with one never met (a summary of
    # last year: a wrong period, and its 明细 read); its files are numbered as this batch numbers them
    later = [*books[40:45], *books[3:9][::-1], SAMPLES / "2024" / "汇总" / "330106001_2024_汇总.xlsx", books[120]]
    memo = Remembered(Processes(1, size=50))
    calls = counting(monkeypatch)
    first = validate(books, registry=registry, period="2025", workers=memo)
    assert calls == [50, 50, 31]
    again = validate(later, registry=registry, period="2025", workers=memo)
    assert calls == [50, 50, 31, 1]  # only the summary was read
    same(again, validate(later, registry=registry, period="2025"))  # fresh: its 13 files read
    assert again.flatten(["file", "rule"], "错误") and "wrong-period" in again.issues["rule"].to_list()
    # the whole batch again is the first report, nothing read
    same(validate(books, registry=registry, period="2025", workers=memo), first)
    assert calls == [50, 50, 31, 1, 13]


def test_a_workbook_whose_bytes_changed_is_read_again(tmp_path, monkeypatch):
    books = discover([SAMPLES / "2025" / "翠苑街道总工会"])[:3]
    copies = [Path(shutil.copy(b, tmp_path / b.name)) for b in books]
    memo = Remembered()
    calls = counting(monkeypatch)
    validate(copies, period="2025", workers=memo)
    copies[1].write_bytes(books[0].read_bytes())  # another unit's workbook under this name
    again = validate(copies, period="2025", workers=memo)
    assert calls == [3, 1]
    same(again, validate(copies, period="2025"))
    assert again.workbooks.filter(pl.col("file") == str(copies[1]))["unit"].item() == \
        again.workbooks.filter(pl.col("file") == str(copies[0]))["unit"].item()


def test_another_period_is_checked_afresh(monkeypatch):
    books = discover([SAMPLES / "2025" / "翠苑街道总工会"])[:2]
    memo = Remembered()
    calls = counting(monkeypatch)
    validate(books, period="2025", workers=memo)
    other = validate(books, period="2024", workers=memo)
    assert calls == [2, 2]
    assert "wrong-period" in other.issues["rule"].to_list()


def test_each_workbook_is_found_in_the_layout_of_its_own_chunk(tmp_path):
    """Two chunks laid out differently (the second lacks 单位名称, so every cover cell below it is a row higher):
    a later batch putting a workbook of the second before one of the first still names its own cells."""
    codes = [uscc(f"81330106MC000000{i}") for i in range(4)]
    files = [make_workbook(tmp_path / f"{i}.xlsx", cover_values=cover(code), drop=("FM01",) if i >= 2 else ())
             for i, code in enumerate(codes)]
    registry = load_registry(SAMPLES / "registry.csv")  # none of these units is in it: unknown-unit at FM02
    memo = Remembered(Processes(1, size=2))
    validate(files, registry=registry, period="2025", workers=memo)
    later = [files[2], files[0]]
    again = validate(later, registry=registry, period="2025", workers=memo)
    same(again, validate(later, registry=registry, period="2025"))
    cells = dict(again.issues.filter(pl.col("rule") == "unknown-unit").select("file", "cell").iter_rows())
    assert cells[str(files[0])] == "封面!C7" and cells[str(files[2])] == "封面!C6"
