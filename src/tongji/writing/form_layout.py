"""The layout every form sheet shares, templates and summaries alike: title, form marks, header row, widths."""

from __future__ import annotations

import re

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from tongji.definitions import Form, Spec
from tongji.writing.files import put
from tongji.writing.issue_report import LINE_HEIGHT, wrapped_lines

DATA_HEADER = ("指标名称", "代码", "计量单位", "本期数", "说明")
COVER_HEADER = ("项目", "代码", "内容", "说明")
SIGNATURE = "单位负责人：            统计负责人：            填表人：            报出日期："
DATA_WIDTHS = {"A": 36, "B": 9, "C": 10, "D": 18, "E": 40}
COVER_WIDTHS = {"A": 18, "B": 9, "C": 40, "D": 44}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def form_top(ws: Worksheet, spec: Spec, form: Form, width: int, left: str, right: str) -> int:
    """Title, the statistical-form marks top right, one info line; returns the header row number."""
    put(ws, 1, 1, form.title).font = Font(bold=True, size=14)  # a plugin's title: text, never a formula
    if form.basis:  # under the title, left of the marks: which edition the lines follow
        put(ws, 2, 1, f"口径：{form.basis}")
    marks = [("表号", form.table_no), *spec.marks.items()]
    for i, (key, value) in enumerate(marks, start=1):
        ws.cell(i, width, f"{key}：{value}").alignment = Alignment(horizontal="right")
    info = len(marks) + 1
    put(ws, info, 1, left)  # the unit's name, from the registry
    put(ws, info, width, right).alignment = Alignment(horizontal="right")
    return info + 1


def header_row(ws: Worksheet, row: int, labels: tuple[str, ...]) -> None:
    for col, label in enumerate(labels, start=1):
        cell = ws.cell(row, col, label)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center")


def cover_rows_wrapped(ws: Worksheet, first: int, last: int) -> None:
    """A cover line's name (工会法人统一社会信用代码) and its hint wrap in their columns, in a row as tall as they
    need: unwrapped they were cut at the next cell, or at the page's edge, and LibreOffice shows only the first
    line of a wrapped cell in a row it is not told is taller."""
    wrapped = {1: COVER_WIDTHS["A"], 4: COVER_WIDTHS["D"]}  # 项目 and 说明
    for r in range(first, last + 1):
        lines = 1
        for col in range(1, len(COVER_HEADER) + 1):  # all at the top: a code beside the first line of its name
            cell = ws.cell(r, col)
            cell.alignment = Alignment(wrap_text=col in wrapped, vertical="top")
            lines = max(lines, wrapped_lines(cell.value, wrapped[col]) if col in wrapped else 1)
        if lines > 1:
            ws.row_dimensions[r].height = lines * LINE_HEIGHT
