"""The issue list as .xlsx, .csv or .json (`tongji validate --report FILE`).

The JSON document names its format (`"schema": "tongji.issues/1"`, issues/catalog.py REPORT_SCHEMA; docs/checks.md
describes it) so that a program reading it can tell a change of fields."""

from __future__ import annotations

import json
import math
from pathlib import Path
from unicodedata import east_asian_width

import openpyxl
import polars as pl
from openpyxl.styles import Alignment, Font, PatternFill

from tongji.aggregating.summary import continuation
from tongji.errors import TongjiError
from tongji.i18n import SEVERITY, STATUS, chosen
from tongji.issues.catalog import REPORT_SCHEMA
from tongji.writing.files import atomic_path, put, save_workbook, write_bytes
from tongji.writing.marks import FILLS
from tongji.writing.printing import table_pages
from tongji.writing.text import FORMULA_START, PLAIN_NUMBER

# column → (中文, English); JSON keeps the English keys so machines can rely on them
HEADERS = {
    "file": ("文件", "File"), "unit": ("单位代码", "Unit"), "unit_name": ("单位名称", "Unit name"),
    "severity": ("严重程度", "Severity"), "rule": ("规则", "Rule"), "sheet": ("工作表", "Sheet"),
    "cell": ("单元格", "Cell"), "code": ("指标代码", "Code"), "name": ("指标名称", "Indicator"),
    "value": ("填报值", "Value"), "message": ("问题说明", "Message"), "diff": ("差额", "Imbalance"),
    "explained": ("已说明", "Explained"), "cells": ("涉及单元格", "Cells"),
}
BOOK_HEADERS = {
    "file": ("文件", "File"), "unit": ("单位代码", "Unit"), "unit_name": ("单位名称", "Unit name"),
    "status": ("状态", "Status"), "errors": ("错误", "Errors"), "warnings": ("警告", "Warnings"),
    "explained": ("已说明", "Explained"), "notices": ("提示", "Notices"),
}


# the report's long text wraps in its cells: unwrapped it was cut at the next column on paper, and the last
# column's ran on past the table, printing empty columns beside it and the whole table smaller
# (a unit's or an indicator's name too: cut at the next filled cell, 示例市中恒医疗器械有限公司 read 示例市中恒医)
WRAPPED = ("file", "unit_name", "name", "message", "cells")
WIDTHS = {"file": 40, "message": 60, "unit_name": 24, "unit": 20, "cells": 30, "name": 16, "rule": 22}  # else 12
LINE_HEIGHT, MAX_HEIGHT = 15, 409  # points: a line of the default 11-point font; the tallest row Excel allows
WRAP = Alignment(wrap_text=True, vertical="top")
# the other cells of a row made taller for wrapped text: at the bottom, Excel's default, they sat beside the
# wrapped text's last line, and a short message of the row above seemed to be theirs
TOP = Alignment(vertical="top")
SHEET_ROWS = 1_048_576  # Excel's (and WPS's) rows per sheet: a module attribute, so tests can lower it
COLOURS = FILLS | {SEVERITY[zh]: fill for zh, fill in FILLS.items() if zh in SEVERITY}  # by severity, either language


def header_label(table: dict, key: str, lang: str | None = None) -> str:
    return table[key][1 if chosen(lang) == "en" else 0]


def flat_issues(issues: pl.DataFrame) -> pl.DataFrame:
    return issues.with_columns(pl.col("cells").list.join(";"))


def severities_in(issues: pl.DataFrame, lang: str) -> pl.DataFrame:
    """For people: in English 错误, 警告 and 提示 read as error, warning and notice, as on the terminal."""
    return issues.with_columns(pl.col("severity").replace(SEVERITY)) if lang == "en" else issues


def write_report(report, path: Path, lang: str | None = None) -> Path:
    """The issue list in `lang` ("zh" or "en"; by default the language of this run), by the file's suffix."""
    path, lang = Path(path), chosen(lang)
    suffix = path.suffix.lower()
    issues, workbooks = report.issues_in(lang), report.workbooks
    if suffix == ".json":  # for programs: severities stay as issues/catalog.py declares them, whatever the language
        return write_bytes(path, json_bytes(issues))
    issues = severities_in(issues, lang)
    if lang == "en":  # for people: 退回 reads as returned, as on the terminal
        workbooks = workbooks.with_columns(pl.col("status").replace(STATUS))
    if suffix == ".csv":
        df = csv_frame(flat_issues(issues).drop("params"))
        df = df.rename({c: header_label(HEADERS, c, lang) for c in df.columns})
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"\xef\xbb\xbf" + df.write_csv().encode("utf-8"))  # BOM: Excel opens it as UTF-8
        return path
    if suffix == ".xlsx":
        return save_workbook(_workbook(issues, workbooks, lang), path)
    raise TongjiError("report-format", path=path)


def json_bytes(issues: pl.DataFrame) -> bytes:
    """The JSON issue report: {"schema": REPORT_SCHEMA, "issues": [...]}, each issue's params as an object."""
    rows = issues.to_dicts()
    for row in rows:
        row["params"] = json.loads(row["params"]) if row.get("params") else {}
    doc = {"schema": REPORT_SCHEMA, "issues": rows}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def csv_frame(df: pl.DataFrame) -> pl.DataFrame:
    """text.csv_safe on every text column, done by polars (a 市 明细 has a row per unit); numbers untouched."""
    def safe(name: str) -> pl.Expr:
        col = pl.col(name)
        risky = col.str.contains(FORMULA_START) & ~col.str.contains(PLAIN_NUMBER)
        return pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name)

    return df.with_columns(safe(n) for n, dtype in df.schema.items() if dtype == pl.Utf8)


def _workbook(issues: pl.DataFrame, workbooks: pl.DataFrame, lang: str) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "问题清单" if lang != "en" else "Issues"
    _spread(wb, ws, flat_issues(issues), HEADERS, "severity", lang, WRAPPED)
    books = wb.create_sheet("工作簿" if lang != "en" else "Workbooks")
    _spread(wb, books, workbooks.drop("org_type"), BOOK_HEADERS, None, lang)
    return wb


def _spread(wb: openpyxl.Workbook, ws, df: pl.DataFrame, headers: dict, colour_by: str | None, lang: str,
            wrap: tuple[str, ...] = ()) -> None:
    """`df` on `ws`, and past the rows Excel allows a sheet on continuation sheets (问题清单2 …) after it, each
    with its header row: a sheet of more rows is one Excel repairs by dropping the rest."""
    room = SHEET_ROWS - 1
    for n, start in enumerate(range(0, max(df.height, 1), room), start=1):
        sheet = ws if n == 1 else wb.create_sheet(continuation(ws.title, n))
        write_table(sheet, df.slice(start, room), headers, colour_by, lang, wrap)


def write_table(ws, df: pl.DataFrame, headers: dict, colour_by: str | None, lang: str | None = None,
                wrap: tuple[str, ...] = ()) -> None:
    """`df` as a table under its header row; the text of the `wrap` columns wraps within them."""
    cols = [c for c in headers if c in df.columns]
    wrapped = [(j, c, WIDTHS.get(c, 12)) for j, c in enumerate(cols, start=1) if c in wrap]
    ws.append([header_label(headers, c, lang) for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for n, row in enumerate(df.select(cols).iter_rows(named=True), start=2):
        for j, c in enumerate(cols, start=1):
            put(ws, n, j, row[c])
        for j, _, _ in wrapped:
            ws.cell(n, j).alignment = WRAP
        # neither Excel nor LibreOffice makes a row taller for wrapped text it opens: the row says how tall
        lines = max((wrapped_lines(row[c], width) for _, c, width in wrapped), default=1)
        if lines > 1:
            ws.row_dimensions[n].height = min(LINE_HEIGHT * lines, MAX_HEIGHT)
            for j, c in enumerate(cols, start=1):
                if c not in wrap:
                    ws.cell(n, j).alignment = TOP
        if colour_by and row[colour_by] in COLOURS:  # ws.max_row scans every cell: count rows instead
            ws.cell(n, cols.index(colour_by) + 1).fill = PatternFill("solid", fgColor=COLOURS[row[colour_by]])
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, c in enumerate(cols, start=1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = WIDTHS.get(c, 12)
    table_pages(ws)


def wrapped_lines(text: object, width: float) -> int:
    """The lines `text` takes wrapped in a column `width` characters wide, a Chinese character counting two."""
    if not isinstance(text, str) or not text:
        return 1
    room = max(width * 0.75, 1)  # a little short of the width: fonts differ, and a cut line is lost on paper
    if len(text) * 2 <= room and "\n" not in text:  # most cells: one line whatever their characters
        return 1
    return sum(max(1, math.ceil(sum(2 if east_asian_width(ch) in "WF" else 1 for ch in line) / room))
               for line in text.split("\n"))
