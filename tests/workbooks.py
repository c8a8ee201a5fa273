"""Fixture workbooks made by code, in the template layout, independent of the template writer.

`GOOD` passes every rule; tests change one value and assert the exact rule and cell.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from tongji.definitions.codes import uscc_check_char
from tongji.plugins import load_spec

GOOD = {
    "HY01": 100, "HY02": 40, "HY03": 90, "HY04": 35, "HY05": 10, "HY06": 8, "HY07": 1, "HY08": 2,
    "HY09": 2, "HY10": 2, "HY11": 5, "HY12": 80, "HY13": 1, "HY14": 3,
    "JH01": 1, "JH02": 1, "JH03": "是", "JH04": "是", "JH05": "是", "JH06": "是", "JH07": "否",
    "JH08": "是", "JH09": "是", "JH10": "否", "JH11": 20, "JH12": 8,
    "BF01": 3, "BF02": 1, "BF03": 1, "BF04": 0, "BF05": 1, "BF06": 1, "BF07": 6000, "BF08": 3000,
    "BF09": 2000, "BF10": 1000, "BF11": 3, "BF12": 1500, "BF13": 1, "BF14": 1000, "BF15": 10, "BF16": 500,
    "BF17": 0, "BF18": 0, "BF19": 80, "BF20": 2000,
    "JF01": 135799.5, "JF02": 5000, "JF03": 120000, "JF04": 10000, "JF05": 0, "JF06": 0, "JF07": 0,
    "JF08": -200.5, "JF09": 1000, "JF10": 117000, "JF11": 60000, "JF12": 20000, "JF13": 5000, "JF14": 1500,
    "JF15": 30000, "JF16": 5000, "JF17": 0, "JF18": 0, "JF19": 2000, "JF20": 50000, "JF21": 68799.5,
    "JF22": 10000000,
}
HEADER_ROW = 5  # rows 1-4: title and marks, as in a template


def uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def cover(code: str = "", **over) -> dict:
    base = {
        "FM01": "示例市第一机械厂工会", "FM02": code or uscc("81330106MC0000001"), "FM03": "330106001",
        "FM04": "2025", "FM05": "1", "FM06": "170", "FM07": "330106001001", "FM08": "张三",
        "FM09": "0571-88880000", "FM10": "2026-01-15", "FM11": "李四", "FM12": load_spec().version,
    }
    base.update(over)
    return base


def make_workbook(path: Path, values: dict | None = None, cover_values: dict | None = None,
                  drop: tuple[str, ...] = (), notes: dict | None = None) -> Path:
    """Write a filled workbook. `values` override GOOD (None leaves a cell empty); `drop` leaves rows out."""
    spec = load_spec()
    vals = {**GOOD, **(values or {})}
    cov = cover_values if cover_values is not None else cover()
    notes = notes or {}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for form in spec.forms:
        ws = wb.create_sheet(form.sheet)
        ws.cell(1, 1, form.title)
        ws.cell(2, 5, f"表号：{form.table_no}")
        if form.is_cover:
            header, source = ("项目", "代码", "内容", "说明"), cov
        else:
            header, source = ("指标名称", "代码", "计量单位", "本期数", "说明"), vals
        for j, label in enumerate(header, start=1):
            ws.cell(HEADER_ROW, j, label)
        r = HEADER_ROW + 1
        for row in form.rows:
            if not row.filled or row.code in drop:
                continue
            ws.cell(r, 1, row.name)
            ws.cell(r, 2, row.code)
            value = source.get(row.code)
            col = 3 if form.is_cover else 4
            if not form.is_cover:
                ws.cell(r, 3, row.unit)
            if value is not None:
                ws.cell(r, col, value)
            if row.code in notes:
                ws.cell(r, col + 1, notes[row.code])
            r += 1
        ws.cell(r + 1, 1, "单位负责人：        统计负责人：        填表人：        报出日期：")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def cell_of(code: str) -> str:
    """Where make_workbook puts a code's value, e.g. '会员!D8'."""
    spec = load_spec()
    for form in spec.forms:
        r = HEADER_ROW + 1
        for row in form.rows:
            if not row.filled:
                continue
            if row.code == code:
                return f"{form.sheet}!{'C' if form.is_cover else 'D'}{r}"
            r += 1
    raise KeyError(code)
