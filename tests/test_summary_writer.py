"""Writing a Summary to disk: the summary workbook reads back through validate and rollup's 明细 reader."""

from __future__ import annotations

import hashlib
import json

import fastexcel
import openpyxl
import polars as pl
import pytest

import tongji
from tongji.aggregating.summary import DETAIL_KEYS, Summary
from tongji.issues.report import ISSUE_COLUMNS
from tongji.plugins import load_spec
from tongji.writing import summary_files as writer
from tongji.writing.summary_files import write_summary, write_summary_workbook

SHEETS = ["封面", "会员", "建会", "帮扶", "经费", "明细", "说明", "完整性", "校验", "指标", "分组"]
STREET = "0106001"
READING_RULES = {"missing-sheet", "header-not-found", "missing-row", "extra-row", "duplicate-row",
                 "not-a-number", "bad-flag", "text-number", "cell-error"}


def _value(row, i: int, j: int) -> float:
    """Unit i's value for the j-th numeric row: 本级 cells only on the 本级 workbook, one signed amount < 0."""
    benji = i == 2
    if (row.level == "本级") != benji and row.code != "JH00":
        return 0.0
    if row.code == "JH00":
        return 0.0 if benji else 1.0
    if row.kind == "flag":
        return float(i % 2)
    if row.kind == "count":
        return float(10 * (i + 1) + j)
    if row.signed and i == 1:
        return -12.5
    return round(100.25 * (i + 1) + j + 0.1, 2)


def make_summary(has_previous: bool = False) -> Summary:
    spec = load_spec()
    rows = spec.numeric_rows()
    keys = [
        ("91330106MA0000101X", "甲公司工会", STREET, "基层", "1", "2026-01-12"),
        ("91330106MA0000102X", "乙园区联合工会", STREET, "基层", "2", "2026-01-22"),
        (STREET, "示例街道总工会", "0106", "本级", "9", "2026-01-15"),
    ]
    detail = pl.DataFrame(
        {k: [unit[n] for unit in keys] for n, k in enumerate(DETAIL_KEYS)}
        | {r.code: [_value(r, i, j) for i in range(3)] for j, r in enumerate(rows)},
        schema={k: pl.Utf8 for k in DETAIL_KEYS} | {r.code: pl.Float64 for r in rows},
    )
    sums = detail.select([pl.col(r.code).sum() for r in rows]).row(0)
    totals = pl.DataFrame({
        "code": [r.code for r in rows], "name": [r.name for r in rows], "sheet": [r.sheet for r in rows],
        "unit": [r.unit for r in rows], "value": list(sums),
    }, schema={"code": pl.Utf8, "name": pl.Utf8, "sheet": pl.Utf8, "unit": pl.Utf8, "value": pl.Float64})
    indicators = pl.DataFrame({
        "id": ["入会率", "户均帮扶金额", "建会率"], "name": ["职工入会率", "户均帮扶金额", "建会率"],
        "numerator": [63.0, 300.5, 2.0], "denominator": [69.0, 40.0, 0.0], "value": [0.913, 7.5125, None],
        "unit": ["%", "元", "%"], "note": [None, None, "分母为 0，不计算"],
    })
    if has_previous:
        totals = totals.with_columns((pl.col("value") * 0.8).alias("previous"), pl.lit(0.25).alias("change"))
        indicators = indicators.with_columns(pl.Series("previous", [0.9, 7.0, None]),
                                             pl.Series("change", [0.0144, 0.0732, None]))
    cover = {
        "FM01": "示例街道总工会", "FM02": STREET, "FM03": "0106", "FM04": "2025", "FM05": "0",
        "FM07": "330106001000", "FM08": "tongji", "FM10": "2026-01-15", "FM12": spec.version,
    }
    completeness = pl.DataFrame({
        "child": ["91330106MA0000101X", "91330106MA0000102X", "合计"],
        "child_name": ["甲公司工会", "乙园区联合工会", ""],
        "expected": [1, 1, 2], "received": [1, 1, 2], "accepted": [1, 1, 2], "returned": [0, 0, 0],
        "missing": [0, 0, 0],
    })
    units = pl.DataFrame({
        "unit": ["91330106MA0000101X", "91330106MA0000102X"], "name": ["甲公司工会", "乙园区联合工会"],
        "child": ["91330106MA0000101X", "91330106MA0000102X"], "status": ["采用", "采用"],
        "file": ["甲.xlsx", "乙.xlsx"], "reason": [None, None],
    })
    issues = pl.DataFrame([{
        "file": "乙.xlsx", "unit": "91330106MA0000102X", "unit_name": "乙园区联合工会", "severity": "警告",
        "rule": "HY03<=HY01", "sheet": "会员", "cell": "会员!D9", "cells": ["会员!D9", "会员!D7"], "code": "HY03",
        "name": "会员人数", "value": "33", "message": "会员人数大于职工人数", "diff": 1.0, "explained": None,
    }], schema=ISSUE_COLUMNS)
    inputs = pl.DataFrame({
        "file": ["甲.xlsx", "乙.xlsx"], "sha256": ["a" * 64, "b" * 64],
        "unit": ["91330106MA0000101X", "91330106MA0000102X"], "kind": ["基层", "基层"],
        "status": ["采用", "采用"], "reason": [None, None],
    })
    return Summary(STREET, "示例街道总工会", "2025", "街道", cover, totals, detail, indicators, completeness,
                   units, issues, inputs, has_previous=has_previous, children=["91330106MA0000101X"])


@pytest.fixture
def summary() -> Summary:
    return make_summary()


@pytest.fixture
def book(tmp_path, summary):
    return write_summary_workbook(summary, tmp_path / "汇总.xlsx", load_spec())


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def _header_row(ws, first: str) -> int:
    return next(i for i, row in enumerate(_rows(ws), start=1) if row[0] == first)


def test_sheet_names_and_order(book):
    assert openpyxl.load_workbook(book).sheetnames == SHEETS


def test_validate_reads_the_totals(book, summary):
    report = tongji.validate([book])
    assert not set(report.issues["rule"]) & READING_RULES
    values = report.values.row(0, named=True)
    assert values["FM05"] == "0" and values["FM02"] == STREET
    for code, total in summary.totals.select("code", "value").iter_rows():
        assert values[code] == pytest.approx(total), code


def test_form_sheet_layout(book, summary):
    wb = openpyxl.load_workbook(book)
    ws = wb["经费"]
    header = _header_row(ws, "指标名称")
    assert _rows(ws)[header - 1][:5] == ("指标名称", "代码", "计量单位", "本期数", "说明")
    assert ws.cell(header, 6).value is None  # no previous period, no 上期数 column
    above = {v for row in _rows(ws)[: header - 1] for v in row}
    assert not above & {"代码", "本期数", "内容"}
    by_code = {ws.cell(r, 2).value: r for r in range(header + 1, ws.max_row + 1)}
    assert ws.cell(by_code["JF04"], 5).value == "简单汇总：上下级之间的补助收支未抵销"
    assert ws.cell(by_code["JF17"], 5).value == "简单汇总：上下级之间的补助收支未抵销"
    assert ws.cell(by_code["JF01"], 4).number_format == "0.00"
    jh = wb["建会"]
    codes = {jh.cell(r, 2).value: r for r in range(1, jh.max_row + 1)}
    assert jh.cell(codes["JH00"], 4).value == 2 and isinstance(jh.cell(codes["JH03"], 4).value, int)
    assert jh.cell(codes["JH00"], 4).number_format == "0"
    assert "汇总" in wb["会员"]["A1"].value


def test_cover_values_are_text(book):
    ws = openpyxl.load_workbook(book)["封面"]
    header = _header_row(ws, "项目")
    assert _rows(ws)[header - 1] == ("项目", "代码", "内容", "说明")
    assert not {v for row in _rows(ws)[: header - 1] for v in row} & {"代码", "本期数", "内容"}
    cells = {ws.cell(r, 2).value: ws.cell(r, 3) for r in range(header + 1, ws.max_row + 1)}
    assert [c for c in cells] == [f"FM{i:02d}" for i in range(1, 17)]
    assert cells["FM02"].value == STREET and cells["FM05"].value == "0"
    assert cells["FM02"].number_format == "@" and cells["FM06"].value is None


def test_detail_reads_back_as_rollup_reads_it(book, summary):
    df = fastexcel.read_excel(book).load_sheet("明细", header_row=0, dtypes="string").to_polars()
    df = df.filter(pl.col("单位代码").is_not_null())
    assert df.columns == summary.detail.columns
    assert df.select(DETAIL_KEYS).rows() == summary.detail.select(DETAIL_KEYS).rows()
    codes = [c for c in summary.detail.columns if c not in DETAIL_KEYS]
    back = df.select(pl.col(codes).cast(pl.Float64))
    assert back.rows() == summary.detail.select(codes).rows()
    ws = openpyxl.load_workbook(book)["明细"]
    assert ws.freeze_panes == "C3" and ws["G1"].value == "HY01" and ws["G2"].value == "职工人数"


def test_previous_columns_only_with_previous(tmp_path):
    summary = make_summary(has_previous=True)
    path = write_summary_workbook(summary, tmp_path / "p.xlsx", load_spec())
    wb = openpyxl.load_workbook(path)
    ws = wb["会员"]
    header = _header_row(ws, "指标名称")
    assert _rows(ws)[header - 1] == ("指标名称", "代码", "计量单位", "本期数", "说明", "上期数", "同比")
    assert ws.cell(header + 1, 7).value == 0.25 and ws.cell(header + 1, 7).number_format == "0.0%"
    assert _rows(wb["指标"])[0][-2:] == ("上期", "同比")
    assert ws.cell(header + 1, 6).value == round(summary.total("HY01") * 0.8)
    assert tongji.validate([path]).values["HY01"][0] == summary.total("HY01")  # extra columns do not confuse the reader


def test_indicator_and_completeness_sheets(book):
    wb = openpyxl.load_workbook(book)
    rows = _rows(wb["指标"])
    assert rows[0] == ("指标", "名称", "分子", "分母", "数值", "单位", "说明")
    assert wb["指标"]["E2"].value == 0.913 and wb["指标"]["E2"].number_format == "0.00%"
    assert wb["指标"]["E3"].number_format == "0.00"
    assert rows[3][4] is None and rows[3][6] == "分母为 0，不计算"
    done = _rows(wb["完整性"])
    assert done[0] == ("下级单位", "名称", "应报", "已报", "采用", "退回", "缺报")
    assert done[3][0] == "合计" and all(v is None for v in done[4])
    assert done[5][:6] == ("单位代码", "单位名称", "所属下级", "状态", "文件", "原因")
    issues = _rows(wb["校验"])
    assert issues[0][:4] == ("文件", "单位代码", "单位名称", "严重程度") and issues[1][-1] == "会员!D9;会员!D7"


def test_write_summary_files(tmp_path, summary):
    paths = write_summary(summary, tmp_path, load_spec())
    names = [p.name for p in paths]
    assert names == [f"{STREET}_2025_汇总.xlsx", f"{STREET}_2025_明细.parquet", f"{STREET}_2025_汇总.parquet",
                     f"{STREET}_2025_manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # staging folder gone
    assert pl.read_parquet(paths[1]).equals(summary.detail)
    assert pl.read_parquet(paths[2]).equals(summary.totals)
    manifest = json.loads(paths[3].read_text(encoding="utf-8"))
    assert set(manifest) == {"unit", "name", "period", "tongji_version", "inputs", "totals_sha256"}
    assert manifest["tongji_version"] == tongji.__version__
    assert [i["file"] for i in manifest["inputs"]] == ["乙.xlsx", "甲.xlsx"]  # sorted, whatever the frame's order
    assert set(manifest["inputs"][0]) == {"file", "sha256", "unit", "kind", "status", "reason"}
    assert manifest["totals_sha256"] == hashlib.sha256(paths[2].read_bytes()).hexdigest()


def test_rerun_is_byte_identical(tmp_path, summary):
    first = {p.name: p.read_bytes() for p in write_summary(summary, tmp_path / "a", load_spec())}
    second = {p.name: p.read_bytes() for p in write_summary(make_summary(), tmp_path / "b", load_spec())}
    assert first == second


def test_failure_leaves_nothing(tmp_path, summary, monkeypatch):
    (tmp_path / "old.txt").write_text("keep")

    def broken(summary, path, spec, lang):
        assert len(list(tmp_path.glob(".tongji-stage-*/*.parquet"))) == 2  # the parquet files were staged
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "write_summary_workbook", broken)
    with pytest.raises(RuntimeError):
        write_summary(summary, tmp_path, load_spec())
    assert [p.name for p in tmp_path.iterdir()] == ["old.txt"]
