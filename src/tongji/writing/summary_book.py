"""A summary workbook stamped from a skeleton: every sheet's static part built once, each summary's cells as XML.

Built cell by cell by openpyxl (writing/summary_forms.py, the reference), a summary workbook cost about 65 ms
whatever its size: fonts, fills, widths, page setup, styles and the zip, for a 街道 of 60 units as for a 市.
Here the reference builds, once per spec and Shape (last period's columns or not, the language, 明细's and 校验's
columns), a workbook whose form sheets hold a placeholder in every cell that changes (writing/stamp.py), whose
tables have no rows, and whose styles hold every look a table's cell may take. Its saved parts are cut where a
summary's content goes: the form cells, each table's rows and <dimension>, 校验's filter range and 分组's print
area. A summary's workbook is those pieces joined with its own (writing/sheet_xml.py for the small tables,
unit_sheets.rows_xml for the long ones), zipped once. A summary whose tables go on past one sheet (明细2 …) is
built by the reference: its rows cost far more than the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass, replace

from openpyxl import Workbook
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import absolute_coordinate, get_column_letter, quote_sheetname

from tongji.aggregating.completeness import COMPLETENESS_SHEET
from tongji.aggregating.groups import GROUPS_SHEET
from tongji.aggregating.notes import NOTES_SHEET
from tongji.aggregating.summary import DETAIL_SHEET, Summary
from tongji.definitions import Spec
from tongji.writing import unit_sheets
from tongji.writing.files import Part, size_hint, workbook_parts, zip_bytes
from tongji.writing.group_sheet import FONTS
from tongji.writing.issue_report import HEADERS, TOP, WRAP, flat_issues, severities_in
from tongji.writing.marks import FILLS
from tongji.writing.sheet_xml import group_rows, indicator_rows, issue_rows, per_child_rows, units_header
from tongji.writing.stamp import Skeleton
from tongji.writing.summary_forms import CHANGE_FORMAT, INDICATORS_SHEET, table_sheets
from tongji.writing.unit_sheets import (
    BOLD,
    ISSUES_SHEET,
    NOTES_WRAPPED,
    UNITS_WRAPPED,
    completeness_columns,
    detail_columns,
    detail_dimension,
    notes_body,
    rows_xml,
    units_body,
)

STREAMED = (DETAIL_SHEET, NOTES_SHEET, COMPLETENESS_SHEET)  # a row per unit: deflated as made, at level 1
TABLES = (*STREAMED, ISSUES_SHEET, INDICATORS_SHEET, GROUPS_SHEET)
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')
_SHEET_DATA = re.compile(rb"<sheetData>(.*)</sheetData>|<sheetData\s*/>", re.S)
_ROW = re.compile(rb'<row r="(\d+)"')
_FILTER = re.compile(rb'<autoFilter ref="([^"]*)"')
# the names whose range follows a summary's rows: 校验's filter, 分组's print area
_NAME = re.compile(rb'<definedName name="(?:_xlnm\.)?(_FilterDatabase|Print_Area)" localSheetId="(\d+)"[^>]*>([^<]*)<')
_CUT_NAMES = {("_FilterDatabase", ISSUES_SHEET), ("Print_Area", GROUPS_SHEET)}


@dataclass(frozen=True)
class Shape:
    """What a summary workbook's static parts depend on beside the spec."""

    has_previous: bool
    lang: str
    detail: tuple[str, ...]  # 明细's columns: its headers, widths and number formats
    issues: tuple[str, ...]  # 校验's columns: its header and widths


def summary_xlsx(summary: Summary, spec: Spec, lang: str) -> bytes | None:
    """The summary's workbook stamped from the skeleton of its shape, in memory (summary_parts)."""
    parts = summary_parts(summary, spec, lang)
    return None if parts is None else zip_bytes(parts, level=1)


def summary_parts(summary: Summary, spec: Spec, lang: str) -> Iterator[Part] | None:
    """The summary's workbook stamped from the skeleton of its shape (made when first needed and kept with the
    spec), as parts to zip at level 1 (a third of the default's time, a few % larger); None when a table does
    not fit on one sheet."""
    rows = unit_sheets.SHEET_ROWS
    if (summary.detail.height > rows - 2 or summary.notes.height > rows - 1 or summary.issues.height > rows - 1
            or summary.units.height > max(rows - summary.completeness.height - 3, 0)):
        return None
    shape = Shape(summary.has_previous, lang, tuple(summary.detail.columns),
                  tuple(c for c in HEADERS if c in summary.issues.columns))
    books = spec.derive(_no_books)
    if shape not in books:
        books[shape] = Book.build(spec, summary, shape)
    return books[shape].parts_of(summary, spec)


def _no_books(spec: Spec) -> dict[Shape, Book]:
    return {}


@dataclass
class Book:
    """A summary workbook's parts cut where a summary's content goes. A piece that is a str is a slot: the form
    sheet "form <title>", or "<title> <what>" for a table's dimension, rows, filter and names."""

    shape: Shape
    parts: list[tuple[str, int, list[bytes | str]]]  # zip name, external attributes, pieces
    titles: dict[str, str]  # zip name → sheet title
    forms: Skeleton
    static: dict[str, dict[int, bytes]]  # the rows of a table that do not change, by sheet and row number
    looks: dict[str, int]  # a generated cell's style index, by name; "'5" is style 5 with quotePrefix (sheet_xml)

    @classmethod
    def build(cls, spec: Spec, summary: Summary, shape: Shape) -> Book:
        wb = Workbook()
        wb.remove(wb.active)
        slots = Skeleton.place(wb, spec, shape.has_previous)
        frames = ("detail", "notes", "completeness", "units", "issues", "indicators")
        empty = replace(summary, name="", period="", cover={}, groups=None,
                        **{name: getattr(summary, name).clear() for name in frames})
        table_sheets(wb, empty, spec, shape.lang)
        looks = _looks(wb)
        wb.active = 0
        titles = {f"xl/worksheets/sheet{i}.xml": ws.title for i, ws in enumerate(wb.worksheets, start=1)}
        order = [ws.title for ws in wb.worksheets]
        parts = workbook_parts(wb)
        forms = Skeleton.cut({titles[n]: body for n, _, body in parts if titles.get(n) not in (None, *TABLES)},
                             slots)
        cut, static = [], {}
        for name, attrs, body in parts:
            title = titles.get(name)
            if title in forms.sheets:
                cut.append((name, attrs, [f"form {title}"]))
            elif title is not None:
                pieces, static[title] = _cut_table(body, title)
                cut.append((name, attrs, pieces))
            elif name == "xl/workbook.xml":
                cut.append((name, attrs, _cut_names(body, order)))
            else:
                cut.append((name, attrs, [body]))
        return cls(shape, cut, titles, forms, static, looks)

    def parts_of(self, summary: Summary, spec: Spec) -> Iterator[Part]:
        lang, looks, static = self.shape.lang, self.looks, self.static
        fill: dict[str, object] = {f"form {title}": body for title, body in self.forms.stamped(summary, looks).items()}
        dims = {}

        def table(title: str, dimension: str, rows: list) -> None:
            dims[title] = dimension
            fill[f"{title} dimension"] = f'<dimension ref="{dimension}"/>'.encode()
            fill[f"{title} rows"] = rows

        keys, codes, kinds = detail_columns(summary.detail, spec)
        detail = summary.detail if summary.detail.columns == [*keys, *codes] else summary.detail.select(*keys, *codes)
        table(DETAIL_SHEET, detail_dimension(detail, keys, codes),
              [static[DETAIL_SHEET][1], static[DETAIL_SHEET][2], rows_xml(detail, 3, kinds, quoted=_quoted(looks, 0))])
        table(NOTES_SHEET, f"A1:G{summary.notes.height + 1}",
              [static[NOTES_SHEET][1],
               rows_xml(notes_body(summary.notes, spec), 2, [], wrap=(looks["wrap"], NOTES_WRAPPED, looks["top"]),
                        quoted=_quoted(looks, looks["wrap"], looks["top"]))])
        cols, heads = completeness_columns(summary.completeness, summary.units)
        at = summary.completeness.height + 3  # the units' header, a blank row below the table per child
        table(COMPLETENESS_SHEET, f"A1:{get_column_letter(max(len(cols), len(heads)))}{at + summary.units.height}",
              [per_child_rows(summary.completeness, cols, lang, looks).encode(),
               units_header(at, heads, lang, looks).encode(),
               rows_xml(units_body(summary.units, heads), at + 1, [], wrap=(looks["wrap"], UNITS_WRAPPED, looks["top"]),
                        quoted=_quoted(looks, looks["wrap"], looks["top"]))])
        rows, ref = issue_rows(flat_issues(severities_in(summary.issues, lang)), looks)
        table(ISSUES_SHEET, ref, [static[ISSUES_SHEET][1], rows.encode()])
        fill[f"{ISSUES_SHEET} filter"] = ref.encode()
        fill[f"{ISSUES_SHEET} _FilterDatabase"] = _range(ISSUES_SHEET, ref)
        rows, ref = indicator_rows(summary, lang, looks)
        table(INDICATORS_SHEET, ref, [rows.encode()])
        body, last = group_rows(summary, spec, lang, static[GROUPS_SHEET], looks)
        ref = f"A1:{get_column_letter(2 + len(spec.group_columns))}{last}"
        table(GROUPS_SHEET, ref, [body])
        fill[f"{GROUPS_SHEET} Print_Area"] = _range(GROUPS_SHEET, ref)
        return self._parts(fill, dims)

    def _parts(self, fill: dict[str, object], dims: dict[str, str]) -> Iterator[Part]:
        for name, attrs, pieces in self.parts:
            title = self.titles.get(name)
            if title in STREAMED:
                yield Part(name, attrs, _chain(pieces, fill), size_hint(dims[title]))
            else:
                yield Part(name, attrs, b"".join(_chain(pieces, fill)))


def _quoted(looks: dict[str, int], *styles: int) -> dict[int, int]:
    return {style: looks[f"'{style}"] for style in styles}


def _chain(pieces: list[bytes | str], fill: dict[str, object]) -> Iterator[bytes]:
    for piece in pieces:
        value = fill[piece] if isinstance(piece, str) else piece
        if isinstance(value, bytes):
            yield value
            continue
        for item in value:
            if isinstance(item, bytes):
                yield item
            else:
                yield from item


def _range(title: str, ref: str) -> bytes:
    return f"{quote_sheetname(title)}!{absolute_coordinate(ref)}".encode()


def _cut_table(body: bytes, title: str) -> tuple[list[bytes | str], dict[int, bytes]]:
    """A table sheet cut at its <dimension>, its rows and its filter range; the rows it has without data."""
    dimension, data = _DIMENSION.search(body), _SHEET_DATA.search(body)
    if dimension is None or data is None or dimension.end() > data.start():
        raise RuntimeError(f"cannot find the dimension and rows of {title} in the skeleton")
    rows = {int(_ROW.match(r).group(1)): r for r in re.split(rb"(?=<row )", data.group(1) or b"") if r}
    pieces = [body[:dimension.start()], f"{title} dimension", body[dimension.end():data.start()] + b"<sheetData>",
              f"{title} rows", b"</sheetData>"]
    tail = body[data.end():]
    found = _FILTER.search(tail)
    if found is None:
        return [*pieces, tail], rows
    return [*pieces, tail[:found.start(1)], f"{title} filter", tail[found.end(1):]], rows


def _cut_names(body: bytes, order: list[str]) -> list[bytes | str]:
    pieces, start = [], 0
    for m in _NAME.finditer(body):
        kind, title = m.group(1).decode(), order[int(m.group(2))]
        if (kind, title) in _CUT_NAMES:
            pieces += [body[start:m.start(3)], f"{title} {kind}"]
            start = m.end(3)
    if len(pieces) != 2 * len(_CUT_NAMES):
        raise RuntimeError("cannot find 校验's filter and 分组's print area in the skeleton's workbook.xml")
    return [*pieces, body[start:]]


def _looks(wb: Workbook) -> dict[str, int]:
    """Register in `wb` every style a generated cell may take, made as the reference makes it; their indexes."""
    ws = wb.create_sheet("looks")
    looks: dict[str, int] = {}

    def look(name: str, **style) -> None:
        cell = ws.cell(len(looks) + 1, 1)
        for attr, value in style.items():
            setattr(cell, attr, value)
        looks[name] = cell.style_id

    look("bold", font=BOLD)
    look("rate", number_format="0.00%")
    look("decimal", number_format="0.00")
    look("change", number_format=CHANGE_FORMAT)
    look("right", alignment=Alignment(horizontal="right"))
    for severity, colour in FILLS.items():  # issue_report.write_table's
        look(severity, fill=PatternFill("solid", fgColor=colour))
    look("wrap", alignment=WRAP)  # and its long text
    look("top", alignment=TOP)  # and the other cells of a row made taller for it
    for severity, colour in FILLS.items():
        look(f"{severity} top", fill=PatternFill("solid", fgColor=colour), alignment=TOP)
    for total, font in FONTS.items():  # group_sheet.groups_sheet's
        look(f"plain{total}", font=font)
        for fmt in ("0", "0.00", "0.00%", "General"):
            look(f"{fmt}{total}", number_format=fmt, font=font)
    wb.remove(ws)
    for sheet in wb.worksheets:  # openpyxl numbers a cell's style when it saves it: every one numbered now
        for cell in sheet._cells.values():
            cell.style_id  # noqa: B018 - reading it registers the style
    for i, style in enumerate(list(wb._cell_styles)):  # each style's twin for formula-like text, as put makes it
        twin = copy(style)
        twin.quotePrefix = 1
        looks[f"'{i}"] = wb._cell_styles.add(twin)
    return looks
