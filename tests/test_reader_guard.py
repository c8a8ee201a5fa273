"""A workbook that kills the process reading it (an abort no `except` can catch) costs the batch nothing
when the batch is read by worker processes: the file that killed its worker is found and reported."""

from __future__ import annotations

import polars as pl

import tongji
from hostile import MEMBER_PART, far_cell, rezip, unit
from tongji import plugins
from tongji.reading import workers as reading_workers


def test_a_worker_killed_by_a_file_is_reported_and_the_rest_read(tmp_path, monkeypatch):
    folder = tmp_path / "插件"
    folder.mkdir()  # limits so lax that the screen lets the far cell through: calamine aborts on it
    (folder / "lax.toml").write_text('[config]\n"工作表行数上限" = 2000000\n"工作表列数上限" = 20000\n',
                                     encoding="utf-8")
    plugins.configure(folder, entry_points=False)
    books = tmp_path / "books"
    for n in range(6):
        unit(books / f"{n}.xlsx", n)
    rezip(unit(books / "3.xlsx", 3), MEMBER_PART, far_cell("XFD1048576", 1048576))
    monkeypatch.setattr(reading_workers, "PARALLEL_MIN", 2)
    monkeypatch.setattr(reading_workers, "CHUNK", 4)
    report = tongji.validate(books, workers=2)
    status = dict(report.workbooks.select(pl.col("file").str.extract(r"(\d)\.xlsx$"), "status").iter_rows())
    assert status == {"0": "通过", "1": "通过", "2": "通过", "3": "退回", "4": "通过", "5": "通过"}
    crash = report.for_file("3.xlsx").issues
    assert crash.select("rule", "severity").rows() == [("unreadable", "错误")]
    assert crash["message"][0].startswith("读取程序无法处理这个工作簿")
