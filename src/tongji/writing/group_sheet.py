"""The 分组 sheet of a summary workbook (aggregating/groups.py makes its rows): title, unit and period, a header of
column names over their codes, then the 总计 and every group. Prints A4 landscape, one page wide, its two header
rows repeated; validate reads it back by the codes of its second header row (groups-unbalanced)."""

from __future__ import annotations

from copy import copy

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tongji.aggregating.groups import CODE_ROW
from tongji.aggregating.summary import Summary, as_written
from tongji.definitions import Spec
from tongji.writing.files import put
from tongji.writing.form_layout import header_row
from tongji.writing.printing import table_pages

TITLE = ("分组汇总", "Grouped breakdown")
LABELS = (("分组", "Grouping"), ("组别", "Group"))
NOTE = ("说明：每组的率由该组合计的分子、分母计算，分母为 0 时空白；"
        "未分类为封面未填或无法识别的单位；本级为各级工会本级报表，不分组。",
        "Note: a group's rates come from its summed numerator and denominator (blank where it is 0); Unclassified "
        "holds units whose field is blank or unknown; the union offices' own (本级) workbooks are not grouped.")
FORMATS = {"count": "0", "flag": "0", "amount": "0.00"}
FONTS = {True: Font(bold=True), False: Font(bold=False)}  # made once: a Font per cell cost a third of the sheet


def groups_sheet(ws: Worksheet, summary: Summary, spec: Spec, lang: str) -> None:
    """Write `summary.groups` (already in `lang`, Summary.in_lang) on `ws`."""
    en = lang == "en"
    columns = spec.group_columns
    width = 2 + len(columns)
    ws.cell(1, 1, TITLE[en]).font = Font(bold=True, size=14)
    put(ws, 2, 1, f"Unit: {summary.name}" if en else f"填报单位：{summary.name}")
    period = f"Period: {summary.period}" if en else f"报告期：{summary.period}"
    put(ws, 2, width, period).alignment = Alignment(horizontal="right")
    names = tuple(label[en] for label in LABELS) + tuple(c.name_en if en else c.name for c in columns)
    header_row(ws, CODE_ROW - 1, names)
    header_row(ws, CODE_ROW, ("", "", *[_code_label(c, spec) for c in columns]))
    kinds = {c.key: "rate" if c.rate else spec.rows[c.key].kind for c in columns}
    r = CODE_ROW
    looks: dict[tuple[str, bool], object] = {}  # (number format, bold) → the style of the first cell that had it
    for row in (summary.groups.iter_rows(named=True) if summary.groups is not None else []):
        r += 1
        total = row["grouping"] == ""
        put(ws, r, 1, row["grouping_name"]).font = FONTS[total]
        put(ws, r, 2, row["group_name"] or None)
        for j, c in enumerate(columns, start=3):
            value = row[c.key] if c.rate else as_written(row[c.key], kinds[c.key])
            cell = ws.cell(r, j, value)
            look = ("0.00%" if c.rate else FORMATS.get(kinds[c.key], "General"), total)
            if look in looks:  # openpyxl's own way to copy a style (WorksheetCopy): 20 times cheaper than setting it
                cell._style = copy(looks[look])
            else:
                cell.number_format, cell.font = look[0], FONTS[total]
                looks[look] = copy(cell._style)
    put(ws, r + 2, 1, NOTE[en])
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 30
    for j, c in enumerate(columns, start=3):
        ws.column_dimensions[get_column_letter(j)].width = 14 if kinds[c.key] == "amount" else 11
    ws.freeze_panes = f"C{CODE_ROW + 1}"
    table_pages(ws, f"{CODE_ROW - 1}:{CODE_ROW}")
    ws.print_area = f"A1:{get_column_letter(width)}{r + 2}"


def _code_label(column, spec: Spec) -> str:
    """The code a column sums (HY03), or the formula of a rate (HY03/HY01)."""
    if not column.rate:
        return column.key
    ind = next(i for i in spec.indicators if i.id == column.key)
    return f"{ind.numerator.text}/{ind.denominator.text}"
