"""A summary workbook's form sheets (封面 and the data forms) built cell by cell with openpyxl.

This is the reference: writing/stamp.py builds its skeleton with these functions once per spec and stamps each
summary's values into it, and tests compare the two. The sheets use the template's header labels and columns,
so a summary is itself an input to `tongji validate` and to the next level's rollup.
"""

from __future__ import annotations

from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from tongji.aggregating.summary import as_written
from tongji.definitions import Form, Spec
from tongji.writing.files import put
from tongji.writing.form_layout import (
    COVER_HEADER,
    COVER_WIDTHS,
    DATA_HEADER,
    DATA_WIDTHS,
    SIGNATURE,
    form_top,
    header_row,
)
from tongji.writing.printing import form_pages
from tongji.writing.unit_sheets import FORMATS, widths

PREVIOUS_HEADER = ("上期数", "同比")
CHANGE_FORMAT = "0.0%"


def cover_sheet(ws: Worksheet, summary, spec: Spec) -> int:
    """The cover: a row per cover line, its value as text in column C. Returns the header row."""
    header = form_top(ws, spec, spec.cover, len(COVER_HEADER), f"填报单位：{summary.name}", "")
    ws["A1"].value += "（汇总）"
    header_row(ws, header, COVER_HEADER)
    for r, row in enumerate(spec.cover.rows, start=header + 1):
        ws.cell(r, 1, row.name)
        ws.cell(r, 2, row.code)
        value = put(ws, r, 3, str(summary.cover.get(row.code, "") or "") or None)
        value.number_format = "@"  # codes keep their leading zeros
    widths(ws, COVER_WIDTHS)
    ws.freeze_panes = f"A{header + 1}"
    form_pages(ws, header)
    return header


def form_sheet(ws: Worksheet, summary, spec: Spec, form: Form, values: dict[str, dict]) -> int:
    """A data form: a row per line, its total in D, the units' 说明 in E, last period and 同比 in F and G when
    the summary has them. Returns the header row."""
    labels = DATA_HEADER + (PREVIOUS_HEADER if summary.has_previous else ())
    header = form_top(ws, spec, form, len(labels), f"填报单位：{summary.name}", f"报告期：{summary.period}")
    ws["A1"].value += "（汇总）"
    header_row(ws, header, labels)
    r = header
    for row in form.rows:  # all rows, JH00 too: it is a total like any other
        r += 1
        total = values.get(row.code, {})
        fmt = FORMATS.get(row.kind, "General")
        ws.cell(r, 1, row.name)
        ws.cell(r, 2, row.code)
        ws.cell(r, 3, row.unit).alignment = Alignment(horizontal="center")
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
