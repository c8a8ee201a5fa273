"""A summary workbook's sheets built cell by cell with openpyxl: 封面, the data forms, 指标, and (table_sheets) the
tables of the other writing modules.

This is the reference: writing/summary_book.py builds its skeleton with these functions once per spec and shape,
makes each summary's cells as XML, and tests compare the two. The form sheets use the template's header labels
and columns, so a summary is itself an input to `tongji validate` and to the next level's rollup.
"""

from __future__ import annotations

from openpyxl.styles import Alignment
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tongji.aggregating.groups import GROUPS_SHEET
from tongji.aggregating.summary import Summary, as_written
from tongji.definitions import Form, Spec
from tongji.writing.files import ExtraRows, put
from tongji.writing.form_layout import (
    COVER_HEADER,
    COVER_WIDTHS,
    DATA_HEADER,
    DATA_WIDTHS,
    SIGNATURE,
    cover_rows_wrapped,
    form_top,
    header_row,
)
from tongji.writing.group_sheet import groups_sheet
from tongji.writing.issue_report import header_label
from tongji.writing.printing import form_pages, table_pages
from tongji.writing.unit_sheets import BOLD, FORMATS, unit_sheets, widths

PREVIOUS_HEADER = ("上期数", "同比")
CHANGE_FORMAT = "0.0%"
INDICATORS_SHEET = "指标"
INDICATOR_HEADERS = {
    "id": ("指标", "Indicator"), "name": ("名称", "Name"), "numerator": ("分子", "Numerator"),
    "denominator": ("分母", "Denominator"), "value": ("数值", "Value"), "unit": ("单位", "Unit"),
    "note": ("说明", "Note"), "previous": ("上期", "Previous"), "change": ("同比", "Change"),
}
INDICATOR_WIDTHS = {"A": 20, "B": 24, "C": 14, "D": 14, "E": 12, "F": 8, "G": 40, "H": 12, "I": 10}


def cover_sheet(ws: Worksheet, summary, spec: Spec) -> int:
    """The cover: a row per cover line, its value as text in column C. Returns the header row."""
    header = form_top(ws, spec, spec.cover, len(COVER_HEADER), f"填报单位：{summary.name}", "")
    put(ws, 1, 1, f"{ws['A1'].value}（汇总）")
    header_row(ws, header, COVER_HEADER)
    for r, row in enumerate(spec.cover.rows, start=header + 1):
        put(ws, r, 1, row.name)
        ws.cell(r, 2, row.code)
        value = put(ws, r, 3, str(summary.cover.get(row.code, "") or "") or None)
        value.number_format = "@"  # codes keep their leading zeros
    cover_rows_wrapped(ws, header + 1, header + len(spec.cover.rows))
    widths(ws, COVER_WIDTHS)
    ws.freeze_panes = f"A{header + 1}"
    form_pages(ws, header)
    return header


def form_sheet(ws: Worksheet, summary, spec: Spec, form: Form, values: dict[str, dict]) -> int:
    """A data form: a row per line, its total in D, the units' 说明 in E, last period and 同比 in F and G when
    the summary has them. Returns the header row."""
    labels = DATA_HEADER + (PREVIOUS_HEADER if summary.has_previous else ())
    header = form_top(ws, spec, form, len(labels), f"填报单位：{summary.name}", f"报告期：{summary.period}")
    put(ws, 1, 1, f"{ws['A1'].value}（汇总）")
    header_row(ws, header, labels)
    r = header
    for row in form.rows:  # all rows, JH00 too: it is a total like any other
        r += 1
        total = values.get(row.code, {})
        fmt = FORMATS.get(row.kind, "General")
        put(ws, r, 1, row.name)
        ws.cell(r, 2, row.code)
        put(ws, r, 3, row.unit).alignment = Alignment(horizontal="center")  # a plugin's text, as the name
        ws.cell(r, 4, as_written(total.get("value"), row.kind)).number_format = fmt
        put(ws, r, 5, summary.note_of(row.code))  # units' explanations are their text: never a formula
        if summary.has_previous:
            ws.cell(r, 6, as_written(total.get("previous"), row.kind)).number_format = fmt
            ws.cell(r, 7, total.get("change")).number_format = CHANGE_FORMAT
    ws.cell(r + 2, 1, SIGNATURE)
    widths(ws, DATA_WIDTHS | {"F": 18, "G": 10})
    ws.freeze_panes = f"A{header + 1}"
    form_pages(ws, header)
    return header


def table_sheets(wb: Workbook, summary: Summary, spec: Spec, lang: str) -> ExtraRows:
    """明细, 说明, 完整性, 校验 and their continuations, 指标 and 分组, after the form sheets; the rows to put into
    the first three for files.save_workbook."""
    rows = unit_sheets(wb, summary, spec, lang)
    indicator_sheet(wb.create_sheet(INDICATORS_SHEET), summary, lang)
    groups_sheet(wb.create_sheet(GROUPS_SHEET), summary, spec, lang)
    return rows


def indicator_columns(summary: Summary) -> list[str]:
    """The columns of 指标: last period's only when the summary has them."""
    skip = () if summary.has_previous else ("previous", "change")
    return [c for c in INDICATOR_HEADERS if c in summary.indicators.columns and c not in skip]


def indicator_value(row: dict, column: str) -> object:
    """What 指标 shows of `column`: no note is "" in rollup's frame and an empty cell here; numerators and
    denominators to the cent, rates and ratios as they are."""
    value = None if row[column] == "" else row[column]
    if isinstance(value, float) and column not in ("value", "previous", "change"):
        return round(value, 2)
    return value


def indicator_sheet(ws: Worksheet, summary: Summary, lang: str) -> None:
    cols = indicator_columns(summary)
    for j, c in enumerate(cols, start=1):
        ws.cell(1, j, header_label(INDICATOR_HEADERS, c, lang)).font = BOLD
    for r, row in enumerate(summary.indicators.iter_rows(named=True), start=2):
        fmt = "0.00%" if row.get("unit") == "%" else "0.00"  # a rate is a ratio (0.913), shown as 91.30%
        for j, c in enumerate(cols, start=1):
            cell = put(ws, r, j, indicator_value(row, c))
            if c in ("value", "previous"):
                cell.number_format = fmt
            elif c == "change":
                cell.number_format = CHANGE_FORMAT
    ws.freeze_panes = "A2"
    table_pages(ws)
    widths(ws, INDICATOR_WIDTHS)
