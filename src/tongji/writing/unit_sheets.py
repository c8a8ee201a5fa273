"""A summary's sheets with a row per unit or issue (明细, 说明, 完整性, 校验), continued past Excel's last row.

A 市 明细 lists every unit of the city, a national one about 2.8 million 基层工会, and Excel and WPS stop at
1,048,576 rows a sheet. So a table that does not fit goes on in further sheets named after the first (明细2,
明细3 …), each beginning with the same header rows, right after it in the workbook: a statistician sees every unit
in Excel, and the next level's rollup reads the first sheet and its continuations as one table
(aggregating/summary.read_sheet). The rows of the big tables are made as XML by polars (rows_xml) and put into
the sheets as files.save_workbook streams them out.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from copy import copy
from xml.sax.saxutils import escape

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tongji.aggregating.completeness import COMPLETENESS_SHEET, UNITS_HEADERS, per_child_in
from tongji.aggregating.notes import NOTES_SHEET
from tongji.aggregating.summary import DETAIL_KEYS, DETAIL_SHEET, Summary, continuation, detail_keys
from tongji.definitions import Spec
from tongji.writing.files import ExtraRows, put
from tongji.writing.issue_report import (
    HEADERS,
    LINE_HEIGHT,
    MAX_HEIGHT,
    TOP,
    WRAP,
    WRAPPED,
    flat_issues,
    header_label,
    severities_in,
    wrapped_lines,
    write_table,
)
from tongji.writing.printing import table_pages, wide_table_pages
from tongji.writing.text import ESCAPE_SEQUENCE, XML_ILLEGAL, formula_like, xml_safe

SHEET_ROWS = 1_048_576  # Excel's (and WPS's) rows per sheet: a module attribute, so tests can lower it
# cells a frame may have for rows_xml to join them in Python (small_rows_xml); above it the polars expression is
# faster: from about 130 rows of a 明细 (95 columns, most of them numbers), 1,200 of a 完整性 list (7 of text)
SMALL_CELLS = 10_000
UNSAFE = re.compile(r"[\x00-\x1f\ufffe\uffff\ud800-\udfff]")  # what xml_safe might remove or change
FORMULA_LIKE = r"^[=+\-@]"  # text.formula_like, for polars
EDGE_SPACE = re.compile(r"^\s|\s\Z")  # as _text_element's "^\s|\s$" in polars, where $ is the very end
ISSUES_SHEET = "校验"
FORMATS = {"count": "0", "flag": "0", "amount": "0.00"}  # a summary's flags are counts of units
NAME_WIDTHS = {"count": 8, "flag": 8, "amount": 12}  # 明细's columns of codes: counts and flags narrower
BOLD = Font(bold=True)  # made once: a Font per header cell was a tenth of a small summary's cost
XML_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
# text columns that wrap, by their widths in characters: a unit's note, and why a unit was returned or not taken
# and its file, were cut on paper at the column's edge
NOTES_WRAPPED = {"说明": 60}
UNITS_WRAPPED = {"file": 40, "reason": 40}
Rows = tuple[list[tuple[int, Iterator[bytes]]], str]  # a sheet's rows as XML from a row on, and its new dimension

COMPLETENESS_HEADERS = {
    "child": ("下级单位", "Child"), "child_name": ("名称", "Name"), "expected": ("应报", "Expected"),
    "received": ("已报", "Received"), "accepted": ("采用", "Accepted"), "returned": ("退回", "Returned"),
    "missing": ("缺报", "Missing"), "late": ("迟报", "Late"), "reported_rate": ("报送率", "Reported"),
    "timely_rate": ("及时率", "On time"),
}



def unit_sheets(wb: Workbook, summary: Summary, spec: Spec, lang: str) -> ExtraRows:
    """明细, 说明, 完整性 and 校验, each with as many continuation sheets as its rows need; the rows to put into the
    sheets (all but 校验's, which openpyxl writes) for files.save_workbook."""
    rows = spread(wb, DETAIL_SHEET, summary.detail, SHEET_ROWS - 2, lambda ws, part, n: detail_sheet(ws, part, spec))
    rows |= spread(wb, NOTES_SHEET, summary.notes, SHEET_ROWS - 1, lambda ws, part, n: notes_sheet(ws, part, spec))
    # 完整性 begins with the table per child (one row each and a 合计) and a blank row
    rows |= spread(wb, COMPLETENESS_SHEET, summary.units, SHEET_ROWS - 1,
                   lambda ws, part, n: completeness_sheet(ws, summary, part, lang, n == 1),
                   first=max(SHEET_ROWS - summary.completeness.height - 3, 0))
    spread(wb, ISSUES_SHEET, flat_issues(severities_in(summary.issues, lang)), SHEET_ROWS - 1,
           lambda ws, part, n: write_table(ws, part, HEADERS, "severity", lang, WRAPPED))
    return rows


def spread(wb: Workbook, name: str, df: pl.DataFrame, room: int,
           write: Callable[[Worksheet, pl.DataFrame, int], Rows | None], first: int | None = None) -> ExtraRows:
    """`df` written by `write` on sheet `name` and on as many continuation sheets as it needs, `room` rows on each
    (`first` on the first sheet), in order: the first sheet even for no rows. What `write` returns, by sheet."""
    out, start, n, size = {}, 0, 1, room if first is None else first
    while n == 1 or start < df.height:
        title = continuation(name, n)
        done = write(wb.create_sheet(title), df.slice(start, size), n)
        if done is not None:
            out[title] = done
        start, n, size = start + size, n + 1, room
    return out


def detail_columns(detail: pl.DataFrame, spec: Spec) -> tuple[list[str], list[str], list[str]]:
    """明细's keys, its codes and their kinds (count, flag, amount)."""
    keys = [k for k in detail_keys(spec) if k in detail.columns]  # a Summary made by hand may lack the carried ones
    codes = [c for c in detail.columns if c not in keys]
    return keys, codes, [spec.rows[c].kind if c in spec.rows else "amount" for c in codes]


def detail_sheet(ws: Worksheet, detail: pl.DataFrame, spec: Spec) -> Rows:
    """Row 1 codes, row 2 names (rollup drops it: its 单位代码 is empty), data from row 3."""
    keys, codes, kinds = detail_columns(detail, spec)
    ws.append([*keys, *codes])
    for col, code in enumerate(codes, start=len(keys) + 1):  # a plugin row's name: text, never a formula
        put(ws, 2, col, spec.rows[code].name if code in spec.rows else None)
    for cell in (*ws[1], *ws[2]):
        cell.font = BOLD
    for col, kind in enumerate(kinds, start=len(keys) + 1):
        ws.column_dimensions[get_column_letter(col)].number_format = FORMATS.get(kind, "General")
    ws.freeze_panes = "C3"  # each row's unit (code and name) and the codes and names above stay in view
    wide_table_pages(ws, "1:2", "A:B")  # codes and names; each row's unit code and name
    carried = {get_column_letter(col): 10 for col in range(len(DETAIL_KEYS) + 1, len(keys) + 1)}  # 单位性质, 行业
    coded = [NAME_WIDTHS.get(kind, 8) for kind in kinds]
    widths(ws, {"A": 22, "B": 30, "C": 22, "D": 8, "E": 10, "F": 11} | carried
           | {get_column_letter(col): width for col, width in enumerate(coded, start=len(keys) + 1)})
    # the names wrap in their narrow columns, in a row as tall as the longest needs: unwrapped they were cut
    for cell in ws[2]:
        cell.alignment = WRAP
    lines = max((wrapped_lines(cell.value, width) for cell, width in zip(ws[2][len(keys):], coded, strict=True)),
                default=1)
    ws.row_dimensions[2].height = min(lines * LINE_HEIGHT, MAX_HEIGHT)
    rows = rows_xml(detail.select(*keys, *codes), 3, kinds, quoted=quoted_styles(ws, 0))
    return [(3, rows)], detail_dimension(detail, keys, codes)


def detail_dimension(detail: pl.DataFrame, keys: list[str], codes: list[str]) -> str:
    return f"A1:{get_column_letter(len(keys) + len(codes))}{detail.height + 2}"


def notes_sheet(ws: Worksheet, notes: pl.DataFrame, spec: Spec) -> Rows:
    """Every unit's 说明, one row per unit and line, carried up from level to level (aggregating/notes.py).
    The headers are fixed, as 明细's are: the next level reads them back whatever the language."""
    headers = ["单位代码", "单位名称", "类型", "表", "代码", "指标名称", "说明"]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = BOLD
    widths(ws, {"A": 22, "B": 30, "C": 6, "D": 6, "E": 6, "F": 24, "G": 60})
    ws.freeze_panes = "A2"
    table_pages(ws)
    wrap = wrap_styles(ws, NOTES_WRAPPED)
    rows = rows_xml(notes_body(notes, spec), 2, [], wrap=wrap, quoted=quoted_styles(ws, wrap[0], wrap[2]))
    return [(2, rows)], f"A1:G{notes.height + 1}"


def wrap_styles(ws: Worksheet, wrapped: dict[str, float]) -> tuple[int, dict[str, float], int]:
    """rows_xml's `wrap` in `ws`'s workbook, for cells written as XML: the index of the style that wraps text
    (issue_report.WRAP), the `wrapped` columns, and the index of the style of the others (TOP)."""
    styles = []
    for alignment in (WRAP, TOP):
        cell = Cell(ws)  # in no sheet: only its style is registered
        cell.alignment = alignment
        styles.append(cell.style_id)
    return styles[0], wrapped, styles[1]


def quoted_styles(ws: Worksheet, *styles: int) -> dict[int, int]:
    """Each style index of `ws`'s workbook mapped to its twin with quotePrefix, registered there."""
    twins = {}
    for style in styles:
        twin = copy(ws.parent._cell_styles[style])
        twin.quotePrefix = 1
        twins[style] = ws.parent._cell_styles.add(twin)
    return twins


def notes_body(notes: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """The 说明 sheet's columns: each note with the sheet and the name of its line."""
    if not notes.height:  # the usual case in a small summary: no lookup to build
        return notes.select("单位代码", "单位名称", "类型", pl.col("代码").alias("表"), "代码",
                            pl.col("代码").alias("指标名称"), "说明")
    rows = spec.rows
    return notes.select(
        "单位代码", "单位名称", "类型",
        pl.col("代码").replace_strict({c: r.sheet for c, r in rows.items()}, default="", return_dtype=pl.Utf8)
        .alias("表"),
        "代码",
        pl.col("代码").replace_strict({c: r.name for c, r in rows.items()}, default="", return_dtype=pl.Utf8)
        .alias("指标名称"),
        "说明")


def rows_xml(df: pl.DataFrame, first: int, kinds: list[str], chunk: int = 2_000,
             wrap: tuple[int, dict[str, float], int] | None = None, quoted: dict[int, int] | None = None,
             ) -> Iterator[bytes]:
    """Sheet rows as XML, built column-wise by polars `chunk` rows at a time: a 市 明细 has a row per unit of
    the city, which openpyxl would take minutes to write cell by cell, and its XML is too big to hold at once
    (2,000 rows of 85 columns are about 5 MB of XML, held three times over: as polars' strings, joined, encoded).
    Keys are inline strings (leading zeros kept; never formulas, whatever they start with), counts and flags
    whole numbers, amounts rounded to the cent; an empty value is no cell at all. A small frame (SMALL_CELLS: a
    small 街道's 明细) is joined by Python instead, the same bytes (small_rows_xml). `wrap` is a style index, the
    text columns that take it, by width, and the style of the other columns (TOP: beside the first line of the
    row's wrapped text): a row is made as tall as its longest wrapped text needs (no program makes it so when it
    opens the file). `quoted` maps those styles to their twins with quotePrefix, for text that
    starts like a formula (as files.put writes it)."""
    style, widths, other = wrap or (0, {}, 0)
    widths = {name: width for name, width in widths.items() if name in df.columns}
    styles = tuple(style if name in widths else other for name in df.columns)
    twins = tuple((quoted or {}).get(s, s) for s in styles)
    if df.height == 0:
        return
    if df.height * df.width <= SMALL_CELLS:
        heights = small_heights(df, widths) if widths else None
        yield small_rows_xml(df, first, kinds, styles, twins, heights)
        return
    if widths:
        df = df.with_columns(_heights(df, widths))
    schema = {name: dtype for name, dtype in df.schema.items() if name != "_ht"}
    xml = _row_xml(tuple(schema), tuple(dtype == pl.Utf8 for dtype in schema.values()), tuple(kinds), styles, twins)

    def piece(start: int) -> bytes:
        part = df.slice(start, chunk)
        part = part.with_columns(pl.int_range(first + start, first + start + part.height).cast(pl.Utf8).alias("_row"))
        return "".join(part.select(xml)["x"].to_list()).encode("utf-8")

    if df.height <= chunk:
        yield piece(0)
        return
    # each piece is made in a thread while the one before is deflated into the zip: polars and zlib both let
    # go of the GIL, so a big 明细 is written on two cores (at 100,000 units, writing 16.7 → 14.5 s)
    with ThreadPoolExecutor(1) as pool:
        ahead = pool.submit(piece, 0)
        for start in range(chunk, df.height, chunk):
            done, ahead = ahead, pool.submit(piece, start)
            yield done.result()
        yield ahead.result()


def _heights(df: pl.DataFrame, widths: dict[str, float]) -> pl.Expr:
    """Each row's height attributes ("_ht"), where its wrapped text takes more than one line; null elsewhere.

    The lines are counted as issue_report.wrapped_lines counts them, by polars (a 市's 完整性 lists 100,000 files,
    1.5 s in Python): each byte of a character past its first in UTF-8 adds half a column, so a character of three
    bytes (Chinese, full-width forms) counts two, of four (rarer characters, emoji) two and a half, of two (accented
    Latin) one and a half, the halves of a line summed and rounded down."""
    def lines(name: str, width: float) -> pl.Expr:
        room = max(width * 0.75, 1)
        each = pl.element().str.len_chars() + (pl.element().str.len_bytes() - pl.element().str.len_chars()) // 2
        return pl.col(name).str.split("\n").list.eval((each / room).ceil().clip(lower_bound=1)).list.sum()

    n = pl.max_horizontal(*(lines(name, width) for name, width in widths.items())).fill_null(1).cast(pl.Int64)
    height = pl.min_horizontal(n * LINE_HEIGHT, pl.lit(MAX_HEIGHT)).cast(pl.Utf8)
    return pl.when(n > 1).then(pl.format(' ht="{}" customHeight="1"', height)).alias("_ht")


def small_heights(df: pl.DataFrame, widths: dict[str, float]) -> list[str | None]:
    """_heights of a small frame, counted in Python: for a few dozen rows the polars query cost more (1 ms)."""
    def lines(text: str, room: float) -> int:
        return sum(max(1, math.ceil((len(line) + (len(line.encode()) - len(line)) // 2) / room))
                   for line in text.split("\n"))

    rooms = [(df.get_column(name).to_list(), max(width * 0.75, 1)) for name, width in widths.items()]
    out = []
    for i in range(df.height):
        n = max((lines(values[i], room) for values, room in rooms if values[i] is not None), default=1)
        out.append(f' ht="{min(n * LINE_HEIGHT, MAX_HEIGHT)}" customHeight="1"' if n > 1 else None)
    return out


@functools.lru_cache(maxsize=64)
def _row_xml(columns: tuple[str, ...], texts: tuple[bool, ...], kinds: tuple[str, ...],
             styles: tuple[int, ...] = (), twins: tuple[int, ...] = ()) -> pl.Expr:
    """The expression of a row's XML, made once per layout of columns: for the few dozen rows of a 街道, building
    the expression of 85 columns cost more than running it. A cell whose value is null is null, and the row
    leaves it out."""
    row, cells = pl.col("_row"), []
    for j, (name, text) in enumerate(zip(columns, texts, strict=True)):
        at = pl.lit(f'<c r="{get_column_letter(j + 1)}')
        if text:
            clean = clean_text(pl.col(name))
            s = pl.lit(f' s="{styles[j]}"' if styles and styles[j] else "")
            if twins and twins[j] != styles[j]:
                s = pl.when(clean.str.contains(FORMULA_LIKE)).then(pl.lit(f' s="{twins[j]}"')).otherwise(s)
            cells.append(pl.concat_str([at, row, pl.lit('"'), s, pl.lit(' t="inlineStr"><is>'), _text_element(clean),
                                        pl.lit("</is></c>")]))
        else:
            col = pl.col(name)
            whole = kinds[j - (len(columns) - len(kinds))] in ("count", "flag")
            value = col.round(0).cast(pl.Int64).cast(pl.Utf8) if whole else col.round(2).cast(pl.Utf8)
            cells.append(pl.concat_str([at, row, pl.lit('"><v>'), value, pl.lit("</v></c>")]))
    tall = [pl.col("_ht")] if any(styles) else []
    xml = pl.concat_str([pl.lit('<row r="'), row, pl.lit('"'), *tall, pl.lit(">"), *cells, pl.lit("</row>")],
                        ignore_nulls=True)
    return xml.alias("x")


def small_rows_xml(df: pl.DataFrame, first: int, kinds: list[str], styles: tuple[int, ...] = (),
                   twins: tuple[int, ...] = (), heights: list[str | None] | None = None) -> bytes:
    """rows_xml's bytes for a small frame: polars formats the numbers (two expressions, whatever the columns),
    Python cleans the text as files.put does (text.xml_safe: the patterns clean_text gives polars) and fills a
    row's template, cell by cell only where a value is empty: for a few thousand cells, faster than the expression.
    `heights` are the rows' height attributes (small_heights)."""
    schema = df.schema
    texts = [dtype == pl.Utf8 for dtype in schema.values()]
    numbers = [name for name, text in zip(schema, texts, strict=True) if not text]
    whole = [n for n, kind in zip(numbers, kinds[len(kinds) - len(numbers):], strict=True) if kind in ("count", "flag")]
    amounts = [n for n in numbers if n not in set(whole)]
    shown = df.with_columns(pl.col(whole).round(0).cast(pl.Int64).cast(pl.Utf8),
                            pl.col(amounts).round(2).cast(pl.Utf8)) if numbers else df
    n = len(texts)  # a text cell's style attribute is field n + j: a formula-like text takes the quoted twin
    s = [f' s="{styles[j]}"' if styles and styles[j] else "" for j in range(n)]
    q = [f' s="{twins[j]}"' if styles and twins and twins[j] != styles[j] else s[j] for j in range(n)]
    cells = [f'<c r="{get_column_letter(j)}{{0}}"{{{n + j}}} t="inlineStr"><is>{{{j}}}</is></c>' if text
             else f'<c r="{get_column_letter(j)}{{0}}"><v>{{{j}}}</v></c>' for j, text in enumerate(texts, start=1)]
    template = '<row r="{0}">' + "".join(cells) + "</row>"
    # a row with an empty cell or a height is joined cell by cell, each cell's template taking (row, value, style)
    alone = [f'<c r="{get_column_letter(j)}{{0}}"{{2}} t="inlineStr"><is>{{1}}</is></c>' if text
             else f'<c r="{get_column_letter(j)}{{0}}"><v>{{1}}</v></c>' for j, text in enumerate(texts, start=1)]
    at = [j for j, text in enumerate(texts) if text]
    seen: dict[str, tuple[str | None, bool]] = {}  # a text → its <t> and whether it looks like a formula
    out = []
    for i, (r, values) in enumerate(enumerate(shown.iter_rows(), start=first)):
        values = list(values)
        attrs = list(s)
        for j in at:
            if values[j] is not None:
                found = seen.get(values[j])
                if found is None:
                    found = seen[values[j]] = _text_xml(values[j])
                values[j], quote = found
                if quote:
                    attrs[j] = q[j]
        tall = heights[i] if heights else None
        if None in values or tall:
            out.append(f'<row r="{r}"{tall or ""}>' + "".join(c.format(r, v, a) for c, v, a
                                                              in zip(alone, values, attrs, strict=True)
                                                              if v is not None) + "</row>")
        else:
            out.append(template.format(r, *values, *attrs))
    return "".join(out).encode("utf-8")


def _text_xml(value: str) -> tuple[str | None, bool]:
    """A text cell's <t>, as _text_element makes it in polars (None for no cell), and whether its text looks like a
    formula (formula_like, once made XML-safe)."""
    value = xml_safe(value) if UNSAFE.search(value) else value
    if not value:
        return None, False
    if EDGE_SPACE.search(value):
        return f'<t xml:space="preserve">{escape(value)}</t>', formula_like(value)
    return f"<t>{escape(value)}</t>", formula_like(value)


def clean_text(col: pl.Expr) -> pl.Expr:
    """What files.put does to openpyxl's text, done by polars: the same name reads the same in every sheet."""
    col = col.str.replace_all(ESCAPE_SEQUENCE, "").str.replace_all(XML_ILLEGAL, "")
    col = col.str.replace_all("\r\n", "\n", literal=True).str.replace_all("\r", "\n", literal=True)
    return pl.when(col == "").then(None).otherwise(col)


def _text_element(col: pl.Expr) -> pl.Expr:
    text = col
    for char, entity in XML_ENTITIES:
        text = text.str.replace_all(char, entity, literal=True)
    # without xml:space a reader may drop a leading or trailing space
    keep = col.str.contains(r"^\s|\s$")
    return pl.when(keep).then(pl.format('<t xml:space="preserve">{}</t>', text)).otherwise(pl.format("<t>{}</t>", text))


def completeness_sheet(ws: Worksheet, summary: Summary, units: pl.DataFrame, lang: str, first: bool) -> Rows:
    """Per child (a few hundred rows at most, written by openpyxl: its rates are percentages), then the fate of
    every unit (`units`, this sheet's part): bold headers by openpyxl, those rows as XML (a 市 lists all its
    units). A continuation sheet holds the units only, under their header in row 1."""
    per_child = summary.completeness
    cols, heads = completeness_columns(per_child, units)
    for j, c in enumerate(cols if first else [], start=1):
        ws.cell(1, j, header_label(COMPLETENESS_HEADERS, c, lang)).font = BOLD
    for r, row in enumerate(per_child_in(per_child, lang).select(cols).iter_rows() if first else [], start=2):
        for j, (c, value) in enumerate(zip(cols, row, strict=True), start=1):
            cell = put(ws, r, j, None if value == "" else value)
            if c.endswith("_rate"):
                cell.number_format = "0.00%"
    units_at = per_child.height + 3 if first else 1  # one blank row between the two tables
    for j, c in enumerate(heads, start=1):
        ws.cell(units_at, j, header_label(UNITS_HEADERS, c, lang)).font = BOLD
    wrap = wrap_styles(ws, UNITS_WRAPPED)
    quoted = quoted_styles(ws, wrap[0], wrap[2])
    blocks = [(units_at + 1, rows_xml(units_body(units, heads), units_at + 1, [], wrap=wrap, quoted=quoted))]
    widths(ws, {"A": 22, "B": 30, "C": 22, "D": 10, "E": 40, "F": 40, "G": 12, "H": 10, "I": 10, "J": 10})
    ws.freeze_panes = "A2"
    # row 1 heads the first table only; a title row cannot change halfway down the sheet
    table_pages(ws)
    last = get_column_letter(max(len(cols) if first else 0, len(heads)))
    return blocks, f"A1:{last}{units_at + units.height}"


def completeness_columns(per_child: pl.DataFrame, units: pl.DataFrame) -> tuple[list[str], list[str]]:
    """The columns of 完整性's table per child and of its list of units: without a deadline no 迟报 and no 及时率
    (nor in a Summary made by older code)."""
    timely = "late" in per_child.columns and per_child["late"].null_count() < per_child.height
    cols = [c for c in COMPLETENESS_HEADERS if c in per_child.columns and (timely or c not in ("late", "timely_rate"))]
    return cols, [c for c in UNITS_HEADERS if c in units.columns and (timely or c != "late")]


def units_body(units: pl.DataFrame, heads: list[str]) -> pl.DataFrame:
    return units.select(pl.col(heads).cast(pl.Utf8).replace("", None))


def widths(ws: Worksheet, table: dict[str, float]) -> None:
    for col, width in table.items():
        ws.column_dimensions[col].width = width
