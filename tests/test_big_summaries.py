"""A summary beyond Excel's 1,048,576 rows a sheet: 明细, 说明, 完整性 and 校验 go on in 明细2, 明细3 …, and every
reader (the next level's rollup, --previous, validate's summary-edited check) sees the whole table.

Most tests lower the limit (writing/unit_sheets.SHEET_ROWS) to a few rows; one, marked `big`, writes and reads
a synthetic 明细 of 1.1 million rows at Excel's real limit."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import fastexcel
import openpyxl
import polars as pl
import pytest

import tongji
from city import build
from tongji.aggregating.indicators import totals_frame
from tongji.aggregating.notes import NOTE_SCHEMA
from tongji.aggregating.previous import read_previous
from tongji.aggregating.rollup import rollup, rollup_all
from tongji.aggregating.summary import Summary, detail_keys, read_detail, read_notes
from tongji.definitions.registry import Registry
from tongji.issues.report import ISSUE_COLUMNS
from tongji.plugins import load_spec
from tongji.writing import unit_sheets
from tongji.writing.summary_files import write_summary, write_summary_workbook

CITY, DISTRICT = "330100", "330101"
UNITS_HEADER = ("单位代码", "单位名称", "所属下级", "状态", "文件", "原因")


def synthetic_summary(n: int, spec, notes: int = 0, lines: tuple[str, ...] | None = None) -> Summary:
    """A 区's summary of `n` grassroots units made by polars, as rollup would make it: totals are the column sums
    of 明细, 完整性 lists every unit. The units differ and pass every rule (amounts carry cents); the lines not
    filled are 0. With `lines`, 明细 has only those columns, as a summary of an older template lacks a line: the
    reader takes the others as 0."""
    i = pl.int_range(0, n, eager=True, dtype=pl.Int64)
    code = pl.lit("U") + i.cast(pl.Utf8).str.zfill(9)
    keys = {"单位代码": code, "单位名称": pl.lit("第") + i.cast(pl.Utf8) + pl.lit("工会"), "上级代码": pl.lit(DISTRICT),
            "类型": pl.lit("基层"), "组织类型": pl.lit("1"), "报出日期": pl.lit("2026-01-12"),
            "单位性质": pl.lit("170"), "所在单位行业": pl.lit("C")}
    staff, income, spent = 20 + i % 500, 100 + (i % 1000) * 1.25, 50 + (i % 1000) * 0.5
    filled = {"HY01": staff, "HY02": staff // 2, "HY03": staff - 1, "HY04": staff // 3, "JH00": 1, "JH01": 1,
              "JF01": income, "JF02": income, "JF10": spent, "JF11": spent, "JF20": 1000.5,
              "JF21": 1000.5 + income - spent}
    values = [pl.lit(filled.get(r.code, 0)).cast(pl.Float64).alias(r.code) for r in spec.numeric_rows()]
    detail = pl.select(*[e.alias(k) for k, e in keys.items() if k in detail_keys(spec)], *values)
    totals = totals_frame(detail, spec)
    if lines is not None:
        detail = detail.select(*[k for k in detail_keys(spec)], *lines)
    units = detail.select(pl.col("单位代码").alias("unit"), pl.col("单位名称").alias("name"),
                          pl.lit(DISTRICT).alias("child"), pl.lit("采用").alias("status"),
                          (pl.col("单位代码") + ".xlsx").alias("file"), pl.lit("").alias("reason"))
    completeness = pl.DataFrame({"child": [DISTRICT, "合计"], "child_name": ["某区总工会", ""], "expected": [n, n],
                                 "received": [n, n], "accepted": [n, n], "returned": [0, 0], "missing": [0, 0]})
    note_rows = detail.head(notes).select("单位代码", "类型", "单位名称", pl.lit("HY03").alias("代码"),
                                          (pl.lit("说明") + pl.col("单位代码")).alias("说明"))
    cover = {"FM01": "某区总工会", "FM02": DISTRICT, "FM03": CITY, "FM04": "2025", "FM05": "0",
             "FM07": "330101000000", "FM08": "tongji", "FM10": "2026-01-15", "FM12": spec.version}
    inputs = pl.DataFrame(schema={k: pl.Utf8 for k in ("file", "sha256", "unit", "kind", "status", "reason")})
    indicators = pl.DataFrame({"id": ["入会率"], "name": ["职工入会率"], "numerator": [1.0], "denominator": [2.0],
                               "value": [0.5], "unit": ["%"], "note": [None]})
    return Summary(DISTRICT, "某区总工会", "2025", "区", cover, totals, detail, indicators,
                   completeness, units, pl.DataFrame(schema=ISSUE_COLUMNS), inputs,
                   notes=note_rows.select(list(NOTE_SCHEMA)))


def registry_for(summary: Summary) -> Registry:
    """A 市 with one 区 whose grassroots units are the summary's."""
    head = pl.DataFrame({"单位代码": [CITY, DISTRICT], "单位名称": ["某市总工会", "某区总工会"],
                         "上级代码": ["", CITY], "层级": ["市", "区"]})
    units = summary.detail.select("单位代码", "单位名称", "上级代码", pl.lit("基层").alias("层级"))
    frame = pl.concat([head, units]).with_columns(pl.lit("1").alias("组织类型"), pl.lit("").alias("所在地区划代码"),
                                                 pl.lit("正常").alias("状态"))
    return Registry(frame, ("市", "区", "基层"))


def sheet_names(path) -> list[str]:
    return fastexcel.read_excel(path).sheet_names


# --- a few rows a sheet ---


@pytest.fixture
def small_sheets(monkeypatch):
    monkeypatch.setattr(unit_sheets, "SHEET_ROWS", 10)


def test_tables_go_on_in_numbered_sheets_each_with_its_headers(small_sheets, tmp_path):
    spec = load_spec()
    summary = synthetic_summary(25, spec, notes=12)
    path = write_summary_workbook(summary, tmp_path / "big.xlsx", spec)
    names = sheet_names(path)
    # 8 units a 明细 sheet (two header rows), 9 a 说明 sheet; 完整性 has 5 rows for the per-child table first
    assert names[names.index("明细"):names.index("指标")] == [
        "明细", "明细2", "明细3", "明细4", "说明", "说明2", "完整性", "完整性2", "完整性3", "完整性4", "校验"]
    wb = openpyxl.load_workbook(path, read_only=True)  # trusts <dimension>: it must be right
    assert [(wb[s].max_row, wb[s].max_column) for s in ("明细", "明细2", "明细3", "明细4")] == [(10, 85)] * 3 + [
        (3, 85)]
    for sheet in ("明细", "明细2", "明细4"):
        rows = list(wb[sheet].iter_rows(max_row=3, max_col=9, values_only=True))
        assert rows[0] == (*detail_keys(spec), "HY01") and rows[1][8] == "职工人数", sheet
    assert list(wb["明细2"].iter_rows(min_row=3, max_row=3, max_col=1, values_only=True)) == [("U000000008",)]
    assert list(wb["明细4"].iter_rows(min_row=3, max_row=3, max_col=1, values_only=True)) == [("U000000024",)]
    assert [wb[s].max_row for s in ("说明", "说明2")] == [10, 4]
    assert [wb[s].max_row for s in ("完整性", "完整性2", "完整性3", "完整性4")] == [10, 10, 10, 3]
    assert next(wb["完整性2"].iter_rows(max_row=1, values_only=True)) == UNITS_HEADER
    assert next(wb["完整性2"].iter_rows(min_row=2, max_row=2, max_col=1, values_only=True)) == ("U000000005",)
    full = openpyxl.load_workbook(path)  # and read as a whole, the way Excel would
    assert full["明细3"].freeze_panes == "C3" and full["明细3"].print_title_rows == "$1:$2"
    assert full["完整性2"]["A1"].font.bold


def test_every_reader_sees_the_whole_table(small_sheets, tmp_path):
    spec = load_spec()
    summary = synthetic_summary(25, spec, notes=12)
    path = write_summary_workbook(summary, tmp_path / "big.xlsx", spec)
    assert read_detail(path, spec).equals(summary.detail)
    assert read_notes(path, spec).equals(summary.notes)
    report = tongji.validate([path])
    assert report.issues.filter(pl.col("rule") == "summary-edited").height == 0
    assert report.values["HY01"][0] == summary.total("HY01")


def test_a_unit_dropped_from_a_continuation_sheet_is_summary_edited(small_sheets, tmp_path):
    spec = load_spec()
    summary = synthetic_summary(25, spec)
    path = write_summary_workbook(summary, tmp_path / "big.xlsx", spec)
    wb = openpyxl.load_workbook(path)
    wb["明细3"].delete_rows(5)  # the unit U000000018
    wb.save(path)
    dropped = summary.detail.row(18, named=True)
    edited = tongji.validate([path]).issues.filter(pl.col("rule") == "summary-edited")
    assert edited.height == sum(1 for r in spec.numeric_rows() if dropped[r.code])
    hy01 = edited.filter(pl.col("code") == "HY01").row(0, named=True)
    assert hy01["diff"] == pytest.approx(dropped["HY01"]) and hy01["cell"].startswith("会员!D")


def test_issues_go_on_in_a_second_sheet(small_sheets, tmp_path):
    spec = load_spec()
    issue = {"file": "甲.xlsx", "unit_name": "甲公司工会", "severity": "警告", "rule": "HY03<=HY01", "sheet": "会员",
             "cell": "会员!D9", "cells": ["会员!D9"], "code": "HY03", "name": "会员人数", "value": "33",
             "message": "会员人数大于职工人数", "diff": 1.0, "explained": None}
    issues = pl.DataFrame([issue | {"unit": f"U{k:09d}"} for k in range(12)], schema=ISSUE_COLUMNS)
    path = write_summary_workbook(replace(synthetic_summary(3, spec), issues=issues), tmp_path / "i.xlsx", spec)
    wb = openpyxl.load_workbook(path)
    assert [wb[s].max_row for s in ("校验", "校验2")] == [10, 4] and "校验3" not in wb.sheetnames
    assert [c.value for c in wb["校验2"][1]][:2] == ["文件", "单位代码"] and wb["校验2"]["B2"].value == "U000000009"
    assert wb["校验2"]["D2"].fill.fgColor.rgb == wb["校验"]["D2"].fill.fgColor.rgb != "00000000"  # 警告 coloured


def test_a_sheet_that_fits_has_no_continuation(small_sheets, tmp_path):
    spec = load_spec()
    path = write_summary_workbook(synthetic_summary(8, spec), tmp_path / "fits.xlsx", spec)
    assert not {"明细2", "说明2", "校验2"} & set(sheet_names(path))
    assert "完整性2" in sheet_names(path)  # 8 units do not fit under the per-child table on 10 rows


def test_next_level_rollup_and_previous_read_continued_summaries(monkeypatch, tmp_path):
    """Three levels, each summary's 明细 cut into sheets of 3 units: the 市 adds up the same as rollup --all made
    in memory, nothing is summary-edited, and last year's continued 明细 gives 同比 for every unit."""
    from test_rollup import SHAPE, level_by_level

    monkeypatch.setattr(unit_sheets, "SHEET_ROWS", 5)
    city = build(tmp_path / "city", SHAPE)
    done = level_by_level(city, tmp_path / "out")
    top, path = done[CITY]
    assert "明细5" in sheet_names(path) and "明细2" in sheet_names(done[DISTRICT][1])  # 13 and 6 rows
    for node, (summary, _) in done.items():
        assert summary.issues.height == 0, node
    whole = rollup_all(city.folder, registry=city.registry, period="2025")[CITY]
    assert top.detail.sort("单位代码", "类型").equals(whole.detail.sort("单位代码", "类型"))
    assert top.totals.equals(whole.totals)
    assert read_detail(path, load_spec()).height == whole.detail.height == 13

    last = level_by_level(build(tmp_path / "c2024", SHAPE, period="2024"), tmp_path / "last", "2024")
    assert read_previous(last[CITY][1], load_spec(), "2025").detail.height == 13
    s = rollup(city.folder, registry=city.registry, unit=CITY, period="2025", previous=last[CITY][1])
    assert s.totals.filter(pl.col("code") == "HY01")["previous"][0] == last[CITY][0].total("HY01")


def test_rollup_reads_a_child_summarys_detail_once(small_sheets, monkeypatch, tmp_path):
    """Validation reads the 明细 to compare it with the totals; rollup takes that, not a second read."""
    from tongji.aggregating import summary as module

    spec = load_spec()
    child = synthetic_summary(25, spec)
    path = write_summary_workbook(child, tmp_path / "区.xlsx", spec)
    read, sheets = module.read_sheet, []
    monkeypatch.setattr(module, "read_sheet", lambda path, sheet, spec: sheets.append(sheet) or read(path, sheet, spec))
    s = rollup([path], registry=registry_for(child), unit=CITY, period="2025")
    assert s.detail.height == 25 and s.total("HY01") == child.total("HY01")
    assert sheets.count("明细") == 1


def test_rerun_is_byte_identical(small_sheets, tmp_path):
    spec = load_spec()
    summary = synthetic_summary(25, spec, notes=12)
    a = [p.read_bytes() for p in write_summary(summary, tmp_path / "a", spec)]
    b = [p.read_bytes() for p in write_summary(summary, tmp_path / "b", spec)]
    assert a == b


# --- Excel's real limit ---


@pytest.mark.big
def test_a_summary_of_1_1_million_units_is_written_and_read_by_the_next_level(tmp_path):
    """The one test at Excel's real limit: a 区 of 1,100,000 grassroots units (made by polars, not by rolling up a
    million workbooks), its 明细 and 完整性 on two sheets each, read back whole by the 市's rollup. 明细 carries the
    twelve lines the units fill (a full one of 77 takes minutes and gigabytes: docs/performance.md)."""
    spec = load_spec()
    n, lines = 1_100_000, ("HY01", "HY02", "HY03", "HY04", "JH00", "JH01", "JF01", "JF02", "JF10", "JF11", "JF20",
                           "JF21")
    summary = synthetic_summary(n, spec, lines=lines)
    path = write_summary(summary, tmp_path, spec)[0]
    book = openpyxl.load_workbook(path, read_only=True)  # Excel's last row exactly, then the rest
    assert [s for s in book.sheetnames if s.startswith(("明细", "完整性"))] == ["明细", "明细2", "完整性", "完整性2"]
    assert [book[s].max_row for s in ("明细", "明细2", "完整性", "完整性2")] == [
        1_048_576, n - (1_048_576 - 2) + 2, 1_048_576, n - (1_048_576 - 2 - 3) + 1]
    assert next(book["明细2"].iter_rows(min_row=3, max_row=3, max_col=1, values_only=True)) == ("U001048574",)
    assert next(book["完整性2"].iter_rows(min_row=2, max_row=2, max_col=1, values_only=True)) == ("U001048571",)

    s = rollup([path], registry=registry_for(summary), unit=CITY, period="2025")
    assert s.issues.filter(pl.col("severity") == "错误").rows() == []
    assert s.detail.height == n
    assert s.detail.select(summary.detail.columns).sort("单位代码").equals(summary.detail)
    assert s.totals.equals(summary.totals)
    assert s.completeness.filter(pl.col("child") == DISTRICT)["accepted"][0] == n
    line = s.inputs.filter(pl.col("file") == str(path)).row(0, named=True)
    assert line["status"] == "采用" and line["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_issue_report_past_a_sheets_rows_goes_on_in_further_sheets(monkeypatch, tmp_path):
    """validate --report .xlsx: more issues than a sheet's rows went into one sheet that Excel cuts short when it
    repairs the file; they go on in 问题清单2 … before 工作簿, each sheet with its header, as a summary's 校验 does."""
    from pathlib import Path

    from tongji.writing import issue_report

    samples = Path(__file__).parent.parent / "samples"
    report = tongji.validate(samples / "2025" / "望江街道总工会", registry=samples / "registry.csv", period="2025")
    monkeypatch.setattr(issue_report, "SHEET_ROWS", 4, raising=False)  # a header and 3 rows a sheet
    wb = openpyxl.load_workbook(issue_report.write_report(report, tmp_path / "r.xlsx"))
    sheets = {name: -(-df.height // 3) for name, df in (("问题清单", report.issues), ("工作簿", report.workbooks))}
    assert sheets["问题清单"] > 1
    assert wb.sheetnames == [f"{name}{n if n > 1 else ''}" for name, count in sheets.items()
                             for n in range(1, count + 1)]
    rows = [r for ws in wb.worksheets[:sheets["问题清单"]] for r in ws.iter_rows(values_only=True)]
    assert rows.count(rows[0]) == sheets["问题清单"] and len(rows) == sheets["问题清单"] + report.issues.height
    assert max(ws.max_row for ws in wb) == 4
