"""Fixture workbooks made by code, in the template layout, independent of the template writer.

`GOOD` passes every rule; tests change one value and assert the exact rule and cell.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from tongji.definitions.codes import make_uscc, uscc_check_char
from tongji.plugins import load_spec
from tongji.testing import GOOD_VALUES

GOOD = GOOD_VALUES  # the values every rule accepts: the plugin authors' kit holds them
HEADER_ROW = 5  # rows 1-4: title and marks, as in a template


def uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


UNION_CODE = make_uscc("81", "330106", "MA2C3D4E")  # a union's legal-person code, registered in 330106
HOST_CODE = make_uscc("91", "330106", "MA1B2C3D")  # the firm it is the union of


def cover(code: str = "", **over) -> dict:
    base = {
        "FM01": "示例市第一机械厂工会", "FM02": code or uscc("81330106MC0000001"), "FM03": "330106001",
        "FM04": "2025", "FM05": "1", "FM06": "170", "FM07": "330106001001", "FM08": "张三",
        "FM09": "0571-88880000", "FM10": "2026-01-15", "FM11": "李四", "FM12": load_spec().version,
        "FM13": UNION_CODE, "FM14": HOST_CODE, "FM15": "C", "FM16": "王五",
    }
    base.update(over)
    area = str(base.get("FM07") or "")
    if "FM13" not in over and area[:6].isdigit() and len(area) == 12:  # registered in the unit's own county
        base["FM13"] = make_uscc("81", area[:6], "MA2C3D4E")
    return base


def make_workbook(path: Path, values: dict | None = None, cover_values: dict | None = None,
                  drop: tuple[str, ...] = (), notes: dict | None = None, spec=None) -> Path:
    """Write a filled workbook. `values` override GOOD (None leaves a cell empty); `drop` leaves rows out;
    `spec` lays it out as another template version (definitions/concordance.layout_of)."""
    spec = spec or load_spec()
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


def cell_of(code: str, spec=None) -> str:
    """Where make_workbook puts a code's value, e.g. '会员!D8' (in the layout of `spec`)."""
    spec = spec or load_spec()
    for form in spec.forms:
        r = HEADER_ROW + 1
        for row in form.rows:
            if not row.filled:
                continue
            if row.code == code:
                return f"{form.sheet}!{'C' if form.is_cover else 'D'}{r}"
            r += 1
    raise KeyError(code)


def count_calls(start: int, files: list, seen: list, tick=None) -> dict:
    """A chunk task for the executors' tests: how many chunks this copy of `seen` has been given so far."""
    seen.append(start)
    return {"calls": [len(seen)]}
