"""A summary's small tables as sheet XML, cell for cell what the openpyxl reference writes (writing/summary_forms.py
and the modules it calls): the table per child of 完整性, 校验, 指标 and 分组's rows.

Each cell is what files.put gives openpyxl and what openpyxl then saves: text made XML-safe and cut at Excel's
32,767 characters, kept as an inline string (never a formula, whatever it starts with); numbers with "%.16g"; an
empty cell only where it has a style. `looks` are the style indexes the skeleton registered
(writing/summary_book.py), by name: "bold", "rate", "decimal", "change", a severity, "right", and for 分组
"plain" or a number format, each followed by True or False (bold or not).
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

import polars as pl
from openpyxl.utils import get_column_letter

from tongji.aggregating.completeness import UNITS_HEADERS, per_child_in
from tongji.aggregating.groups import CODE_ROW
from tongji.aggregating.summary import Summary, as_written
from tongji.definitions import Spec
from tongji.i18n import SEVERITY
from tongji.writing.group_sheet import FORMATS, NOTE
from tongji.writing.issue_report import (
    HEADERS,
    LINE_HEIGHT,
    MAX_HEIGHT,
    WIDTHS,
    WRAPPED,
    header_label,
    wrapped_lines,
)
from tongji.writing.marks import FILLS
from tongji.writing.summary_forms import INDICATOR_HEADERS, indicator_columns, indicator_value
from tongji.writing.text import formula_like, xml_safe
from tongji.writing.unit_sheets import COMPLETENESS_HEADERS, UNSAFE

CHINESE = {en: zh for zh, en in SEVERITY.items()}  # a severity as the English 校验 shows it → its look's name
TEXT_LIMIT = 32_767  # characters of a cell: openpyxl cuts longer text there, and so must we


def cell(ref: str, value: object, style: int = 0, looks: dict[str, int] | None = None) -> str:
    """One <c> as openpyxl writes what files.put (or, for a number, ws.cell) gave it: formula-like text with
    the twin of its style that has quotePrefix, from `looks`."""
    s = f' s="{style}"' if style else ""
    if type(value) in (float, int) and math.isfinite(value):  # most cells: checked first
        return f'<c r="{ref}"{s} t="n"><v>{value:.16g}</v></c>'  # as openpyxl: "%.16g"
    if isinstance(value, str):
        text = (xml_safe(value) if UNSAFE.search(value) else value)[:TEXT_LIMIT]
        if not text:  # put leaves None typed as text
            return f'<c r="{ref}"{s} t="inlineStr" />' if style else ""
        if looks is not None and formula_like(text):
            s = f' s="{quoted(style, looks)}"'
        space = ' xml:space="preserve"' if text.strip() and text != text.strip() else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
    if value is None:
        return f'<c r="{ref}"{s} t="n" />' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{value:d}</v></c>'
    if not isinstance(value, int | float):
        raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to a summary's table")
    if not math.isfinite(value):
        return f'<c r="{ref}"{s} t="n"><v /></c>'
    return f'<c r="{ref}"{s} t="n"><v>{value:.16g}</v></c>'  # as openpyxl: "%.16g"


def quoted(style: int, looks: dict[str, int]) -> int:
    """The index of `style` with quotePrefix (summary_book._looks registers one for every style)."""
    return looks["'" + str(style)]


def row(r: int, cells: list[str], height: int | None = None) -> str:
    """A <row> of its cells; none when no cell is written, as openpyxl leaves out a row of empty cells."""
    body = "".join(cells)
    tall = f' ht="{height}" customHeight="1"' if height else ""
    return f'<row r="{r}"{tall}>{body}</row>' if body else ""


def columns(df: pl.DataFrame, cols: list[str]) -> zip:
    """The rows of `cols`, read column by column: no query for a table of a few dozen rows."""
    return zip(*(df.get_column(c).to_list() for c in cols), strict=True)


def letters(n: int) -> list[str]:
    return [get_column_letter(j) for j in range(1, n + 1)]


def header(r: int, labels: list[str], bold: int) -> str:
    return row(r, [cell(f"{L}{r}", label, bold) for L, label in zip(letters(len(labels)), labels, strict=True)])


def per_child_rows(per_child: pl.DataFrame, cols: list[str], lang: str, looks: dict[str, int]) -> str:
    """完整性's first table: its header in row 1, a row per child and the 合计, rates as percentages."""
    refs = letters(len(cols))
    styles = [looks["rate"] if c.endswith("_rate") else 0 for c in cols]
    out = [header(1, [header_label(COMPLETENESS_HEADERS, c, lang) for c in cols], looks["bold"])]
    for r, values in enumerate(columns(per_child_in(per_child, lang), cols), start=2):
        out.append(row(r, [cell(f"{L}{r}", None if v == "" else v, s, looks)
                           for L, v, s in zip(refs, values, styles, strict=True)]))
    return "".join(out)


def units_header(r: int, heads: list[str], lang: str, looks: dict[str, int]) -> str:
    return header(r, [header_label(UNITS_HEADERS, c, lang) for c in heads], looks["bold"])


def issue_rows(issues: pl.DataFrame, looks: dict[str, int]) -> tuple[str, str]:
    """校验's rows below its header (issue_report.write_table), the severity coloured; and the sheet's range."""
    cols = [c for c in HEADERS if c in issues.columns]
    refs, at = letters(len(cols)), cols.index("severity")
    wrapped = [(cols.index(c), WIDTHS.get(c, 12)) for c in WRAPPED if c in cols]
    out = []
    for r, values in enumerate(columns(issues, cols), start=2):
        lines = max((wrapped_lines(values[i], width) for i, width in wrapped), default=1)
        tall = lines > 1  # a taller row's other cells at its top, as write_table puts them
        cells = [cell(f"{L}{r}", v, looks["top"] if tall else 0, looks) for L, v in zip(refs, values, strict=True)]
        severity = CHINESE.get(values[at], values[at])  # the look of 错误 colours an error too
        if severity in FILLS:
            cells[at] = cell(f"{refs[at]}{r}", values[at], looks[f"{severity} top" if tall else severity], looks)
        for i, _ in wrapped:
            cells[i] = cell(f"{refs[i]}{r}", values[i], looks["wrap"], looks)
        out.append(row(r, cells, min(LINE_HEIGHT * lines, MAX_HEIGHT) if lines > 1 else None))
    return "".join(out), f"A1:{refs[-1]}{issues.height + 1}"


def indicator_rows(summary: Summary, lang: str, looks: dict[str, int]) -> tuple[str, str]:
    """指标 (summary_forms.indicator_sheet): bold headers, then a row per indicator, a rate shown as a percentage
    and 同比 as one with a decimal; and the sheet's range."""
    cols = indicator_columns(summary)
    refs = letters(len(cols))
    out = [header(1, [header_label(INDICATOR_HEADERS, c, lang) for c in cols], looks["bold"])]
    for r, values in enumerate(summary.indicators.iter_rows(named=True), start=2):
        fmt = looks["rate" if values.get("unit") == "%" else "decimal"]
        styles = [fmt if c in ("value", "previous") else looks["change"] if c == "change" else 0 for c in cols]
        out.append(row(r, [cell(f"{L}{r}", indicator_value(values, c), s, looks)
                           for L, c, s in zip(refs, cols, styles, strict=True)]))
    return "".join(out), f"A1:{get_column_letter(max(len(cols), 1))}{summary.indicators.height + 1}"


def group_rows(summary: Summary, spec: Spec, lang: str, static: dict[int, bytes],
               looks: dict[str, int]) -> tuple[bytes, int]:
    """分组 (group_sheet.groups_sheet): the title and the two header rows as the skeleton has them, the unit and
    period, a row per group, the note; and the last row."""
    en, columns = lang == "en", spec.group_columns
    refs = letters(2 + len(columns))
    kinds = {c.key: "rate" if c.rate else spec.rows[c.key].kind for c in columns}
    unit = f"Unit: {summary.name}" if en else f"填报单位：{summary.name}"
    period = f"Period: {summary.period}" if en else f"报告期：{summary.period}"
    out = [row(2, [cell("A2", unit, 0, looks), cell(f"{refs[-1]}2", period, looks["right"], looks)])]
    r = CODE_ROW
    for values in summary.groups.iter_rows(named=True) if summary.groups is not None else []:
        r += 1
        total = values["grouping"] == ""
        cells = [cell(f"A{r}", values["grouping_name"], looks[f"plain{total}"], looks),
                 cell(f"B{r}", values["group_name"] or None, 0, looks)]
        for L, c in zip(refs[2:], columns, strict=True):
            value = values[c.key] if c.rate else as_written(values[c.key], kinds[c.key])
            fmt = "0.00%" if c.rate else FORMATS.get(kinds[c.key], "General")
            cells.append(cell(f"{L}{r}", value, looks[f"{fmt}{total}"], looks))
        out.append(row(r, cells))
    out.append(row(r + 2, [cell(f"A{r + 2}", NOTE[en], 0, looks)]))
    body = static[1] + out[0].encode() + static[CODE_ROW - 1] + static[CODE_ROW] + "".join(out[1:]).encode()
    return body, r + 2
