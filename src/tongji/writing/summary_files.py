"""A rollup's Summary on disk: the summary workbook, parquet tables and a manifest.

The workbook is a contract with reading/workbooks.py, like the templates (writing/template.py): its form sheets
use the template's header labels and columns, so a summary is itself an input to `tongji validate` and to
the next level's rollup. The 明细 sheet is read back by rollup to check the totals against their detail.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

import tongji
from tongji.aggregating.groups import GROUPS_SHEET
from tongji.aggregating.notes import NOTES_SHEET
from tongji.aggregating.summary import DETAIL_KEYS, Summary, as_written, detail_keys
from tongji.definitions import Form, Spec
from tongji.errors import TongjiError
from tongji.i18n import chosen
from tongji.issues.catalog import Catalog
from tongji.writing.files import ensure_dir, put, save_workbook, write_bytes
from tongji.writing.form_layout import (
    COVER_HEADER,
    COVER_WIDTHS,
    DATA_HEADER,
    DATA_WIDTHS,
    SIGNATURE,
    UNSAFE_IN_NAMES,
    form_top,
    header_row,
)
from tongji.writing.group_sheet import groups_sheet
from tongji.writing.issue_report import HEADERS, csv_frame, flat_issues, header_label, write_table
from tongji.writing.printing import form_pages, table_pages
from tongji.writing.text import ESCAPE_SEQUENCE, XML_ILLEGAL

DETAIL_SHEET, COMPLETENESS_SHEET, ISSUES_SHEET, INDICATORS_SHEET = "明细", "完整性", "校验", "指标"
PREVIOUS_HEADER = ("上期数", "同比")
FORMATS = {"count": "0", "flag": "0", "amount": "0.00"}  # a summary's flags are counts of units
CHANGE_FORMAT = "0.0%"

COMPLETENESS_HEADERS = {
    "child": ("下级单位", "Child"), "child_name": ("名称", "Name"), "expected": ("应报", "Expected"),
    "received": ("已报", "Received"), "accepted": ("采用", "Accepted"), "returned": ("退回", "Returned"),
    "missing": ("缺报", "Missing"), "late": ("迟报", "Late"), "reported_rate": ("报送率", "Reported"),
    "timely_rate": ("及时率", "On time"),
}
UNITS_HEADERS = {
    "unit": ("单位代码", "Unit"), "name": ("单位名称", "Unit name"), "child": ("所属下级", "Child"),
    "status": ("状态", "Status"), "file": ("文件", "File"), "reason": ("原因", "Reason"),
    "date": ("报出日期", "Dated"), "late": ("及时性", "Timeliness"),
}
INDICATOR_HEADERS = {
    "id": ("指标", "Indicator"), "name": ("名称", "Name"), "numerator": ("分子", "Numerator"),
    "denominator": ("分母", "Denominator"), "value": ("数值", "Value"), "unit": ("单位", "Unit"),
    "note": ("说明", "Note"), "previous": ("上期", "Previous"), "change": ("同比", "Change"),
}
INPUT_KEYS = ("file", "sha256", "unit", "kind", "status", "reason")
XML_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


# --- the files ---


def summary_stem(summary: Summary) -> str:
    return stem_for(summary.unit, summary.period)


def stem_for(unit: str, period: str) -> str:
    """What a summary's files are called: <单位代码>_<报告期>, safe in any file system."""
    return UNSAFE_IN_NAMES.sub("_", f"{unit}_{period}")


def write_summary(summary: Summary, out_dir: Path, spec: Spec, formats=("xlsx",),
                  lang: str | None = None) -> list[Path]:
    """Write the summary in each format (an output format of `spec.writers`, the plugins that built the spec:
    xlsx, csv, json, html…), plus 明细/汇总 parquet and the manifest, into `out_dir`; return their paths. Every
    writer is given `lang` ("zh" or "en"; by default the language of this run) and sees the summary in it: the
    issues' messages, rollup's reasons and the indicators' notes (Summary.in_lang).

    Everything is written to a staging folder inside `out_dir` first, so a failure leaves nothing behind.
    """
    writers = spec.writers  # the output formats of the plugins that built this spec
    unknown = [f for f in formats if f not in writers]
    if unknown:
        raise TongjiError("unknown-format", name="、".join(unknown), known="、".join(sorted(writers)))
    out_dir, lang = ensure_dir(Path(out_dir)), chosen(lang)
    summary = summary.in_lang(lang, Catalog.of(spec))
    stem = summary_stem(summary)
    stage = Path(tempfile.mkdtemp(prefix=".tongji-stage-", dir=out_dir))
    try:
        totals = parquet_bytes(summary.totals)
        staged = [*write_parquet(summary, stage, spec),
                  write_bytes(stage / f"{stem}_manifest.json", manifest_bytes(summary, totals))]
        for fmt in dict.fromkeys(formats):
            if fmt != "parquet":
                staged[:0] = writers[fmt].run(summary, stage, spec, lang)
        finals = [out_dir / p.name for p in staged]
        for src, dst in zip(staged, finals, strict=True):
            try:
                os.replace(src, dst)
            except OSError as exc:
                raise TongjiError("output-unwritable", path=dst, detail=exc.strerror or exc) from None
        return finals
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_parquet(summary: Summary, out_dir: Path, spec: Spec) -> list[Path]:
    stem = summary_stem(summary)
    return [write_bytes(out_dir / f"{stem}_明细.parquet", parquet_bytes(summary.detail)),
            write_bytes(out_dir / f"{stem}_汇总.parquet", parquet_bytes(summary.totals))]


def write_xlsx(summary: Summary, out_dir: Path, spec: Spec, lang: str) -> list[Path]:
    return [write_summary_workbook(summary, out_dir / f"{summary_stem(summary)}_汇总.xlsx", spec, lang)]


def write_csv(summary: Summary, out_dir: Path, spec: Spec) -> list[Path]:
    """Totals, 明细 and 分组 as UTF-8 CSV with a BOM, so Excel opens the Chinese correctly; no text cell is a
    formula."""
    stem = summary_stem(summary)
    parts = [("汇总", summary.totals), ("明细", summary.detail)]
    if summary.groups is not None:
        parts.append((GROUPS_SHEET, summary.groups))
    return [write_bytes(out_dir / f"{stem}_{part}.csv", b"\xef\xbb\xbf" + csv_frame(df).write_csv().encode("utf-8"))
            for part, df in parts]


def write_json(summary: Summary, out_dir: Path, spec: Spec) -> list[Path]:
    doc = {
        "unit": summary.unit, "name": summary.name, "period": summary.period, "level": summary.level,
        "totals": summary.totals.to_dicts(), "indicators": summary.indicators.to_dicts(),
        "completeness": summary.completeness.to_dicts(), "units": summary.units.to_dicts(),
        "groups": summary.groups.to_dicts() if summary.groups is not None else [],
        "issues": summary.issues.drop("cells", "params", strict=False).to_dicts(),
        "notes": summary.notes.to_dicts(),
    }
    text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return [write_bytes(out_dir / f"{summary_stem(summary)}_汇总.json", text.encode("utf-8"))]


def parquet_bytes(df: pl.DataFrame) -> bytes:
    """Parquet without statistics: polars writes no timestamp, so the bytes depend on the data only."""
    buf = io.BytesIO()
    df.write_parquet(buf, statistics=False)
    return buf.getvalue()


def manifest_bytes(summary: Summary, totals_parquet: bytes) -> bytes:
    """JSON with sorted keys, one input per line. The input lines are written by polars: a 市's manifest lists
    every workbook of the city, and the json module's indenting encoder is pure Python (seconds per 市)."""
    inputs = summary.inputs.select(INPUT_KEYS).sort([pl.col(k).fill_null("") for k in INPUT_KEYS])
    lines = inputs.select(sorted(INPUT_KEYS)).write_ndjson().splitlines() if inputs.height else []
    fields = {
        "unit": summary.unit,
        "name": summary.name,
        "period": summary.period,
        "tongji_version": tongji.__version__,
        "totals_sha256": hashlib.sha256(totals_parquet).hexdigest(),
    }
    listed = "[\n" + ",\n".join("    " + line for line in lines) + "\n  ]" if lines else "[]"
    parts = [f'  "{k}": ' + (listed if k == "inputs" else json.dumps(fields[k], ensure_ascii=False))
             for k in sorted([*fields, "inputs"])]
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8")


# --- the workbook ---


def write_summary_workbook(summary: Summary, path: Path, spec: Spec, lang: str | None = None) -> Path:
    """Sheets: 封面, the data forms (values = totals), 明细, 完整性, 校验, 指标, 分组. The headers of the last four
    are in `lang` (by default the language of this run); their text is the summary's, as `Summary.in_lang` gives it."""
    lang = chosen(lang)
    wb = Workbook()
    wb.remove(wb.active)
    _cover_sheet(wb.create_sheet(spec.cover.sheet), summary, spec)
    values = {r["code"]: r for r in summary.totals.iter_rows(named=True)}
    for form in spec.data_forms:
        _form_sheet(wb.create_sheet(form.sheet), summary, spec, form, values)
    rows = _detail_sheet(wb.create_sheet(DETAIL_SHEET), summary.detail, spec)
    notes = _notes_sheet(wb.create_sheet(NOTES_SHEET), summary.notes, spec)
    done = _completeness_sheet(wb.create_sheet(COMPLETENESS_SHEET), summary, lang)
    write_table(wb.create_sheet(ISSUES_SHEET), flat_issues(summary.issues), HEADERS, "severity", lang)
    _indicator_sheet(wb.create_sheet(INDICATORS_SHEET), summary, lang)
    groups_sheet(wb.create_sheet(GROUPS_SHEET), summary, spec, lang)
    wb.active = 0
    return save_workbook(wb, Path(path), {DETAIL_SHEET: rows, NOTES_SHEET: notes, COMPLETENESS_SHEET: done})


def _cover_sheet(ws: Worksheet, summary: Summary, spec: Spec) -> None:
    header = form_top(ws, spec, spec.cover, len(COVER_HEADER), f"填报单位：{summary.name}", "")
    ws["A1"].value += "（汇总）"
    header_row(ws, header, COVER_HEADER)
    for r, row in enumerate(spec.cover.rows, start=header + 1):
        ws.cell(r, 1, row.name)
        ws.cell(r, 2, row.code)
        value = put(ws, r, 3, str(summary.cover.get(row.code, "") or "") or None)
        value.number_format = "@"  # codes keep their leading zeros
    _widths(ws, COVER_WIDTHS)
    ws.freeze_panes = f"A{header + 1}"
    form_pages(ws, header)


def _form_sheet(ws: Worksheet, summary: Summary, spec: Spec, form: Form, values: dict[str, dict]) -> None:
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
    _widths(ws, DATA_WIDTHS | {"F": 18, "G": 10})
    ws.freeze_panes = f"A{header + 1}"
    form_pages(ws, header)


def _detail_sheet(ws: Worksheet, detail: pl.DataFrame, spec: Spec) -> tuple[list[tuple[int, Iterator[bytes]]], str]:
    """Row 1 codes, row 2 names (rollup drops it: its 单位代码 is empty), data from row 3."""
    keys = [k for k in detail_keys(spec) if k in detail.columns]  # a Summary made by hand may lack the carried ones
    codes = [c for c in detail.columns if c not in keys]
    ws.append([*keys, *codes])
    ws.append([None] * len(keys) + [spec.rows[c].name if c in spec.rows else None for c in codes])
    for cell in (*ws[1], *ws[2]):
        cell.font = Font(bold=True)
    kinds = [spec.rows[c].kind if c in spec.rows else "amount" for c in codes]
    for col, kind in enumerate(kinds, start=len(keys) + 1):
        ws.column_dimensions[get_column_letter(col)].number_format = FORMATS.get(kind, "General")
    ws.freeze_panes = "C3"  # each row's unit (code and name) and the codes and names above stay in view
    table_pages(ws, "1:2")  # codes and names
    # counts and flags are narrower than amounts: 73 columns of 12 are too wide for one A4 page at the
    # smallest scale Excel and LibreOffice allow (10%), and the sheet printed two pages wide
    carried = {get_column_letter(col): 10 for col in range(len(DETAIL_KEYS) + 1, len(keys) + 1)}  # 单位性质, 行业
    _widths(ws, {"A": 22, "B": 30, "C": 22, "D": 8, "E": 10, "F": 11} | carried
            | {get_column_letter(col): 12 if kind == "amount" else 8
               for col, kind in enumerate(kinds, start=len(keys) + 1)})
    last = f"{get_column_letter(len(keys) + len(codes))}{detail.height + 2}"
    return [(3, rows_xml(detail.select(*keys, *codes), 3, kinds))], f"A1:{last}"


def _notes_sheet(ws: Worksheet, notes: pl.DataFrame, spec: Spec) -> tuple[list[tuple[int, Iterator[bytes]]], str]:
    """Every unit's 说明, one row per unit and line, carried up from level to level (aggregating/notes.py).
    The headers are fixed, as 明细's are: the next level reads them back whatever the language."""
    headers = ["单位代码", "单位名称", "类型", "表", "代码", "指标名称", "说明"]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    rows = spec.rows
    body = notes.select(
        "单位代码", "单位名称", "类型",
        pl.col("代码").replace_strict({c: r.sheet for c, r in rows.items()}, default="", return_dtype=pl.Utf8)
        .alias("表"),
        "代码",
        pl.col("代码").replace_strict({c: r.name for c, r in rows.items()}, default="", return_dtype=pl.Utf8)
        .alias("指标名称"),
        "说明")
    _widths(ws, {"A": 22, "B": 30, "C": 6, "D": 6, "E": 6, "F": 24, "G": 60})
    ws.freeze_panes = "A2"
    table_pages(ws)
    return [(2, rows_xml(body, 2, []))], f"A1:G{notes.height + 1}"


def rows_xml(df: pl.DataFrame, first: int, kinds: list[str], chunk: int = 10_000) -> Iterator[bytes]:
    """Sheet rows as XML, built column-wise by polars `chunk` rows at a time: a 市 明细 has a row per unit of
    the city, which openpyxl would take minutes to write cell by cell, and its XML is too big to hold at once.
    Keys are inline strings (leading zeros kept; never formulas, whatever they start with), counts and flags
    whole numbers, amounts rounded to the cent; an empty value is no cell at all."""
    cells = []
    for j, name in enumerate(df.columns):
        ref = pl.lit(get_column_letter(j + 1)) + pl.col("_row")
        col = pl.col(name)
        if df.schema[name] == pl.Utf8:
            col = clean_text(col)
            cell = pl.format('<c r="{}" t="inlineStr"><is>{}</is></c>', ref, _text_element(col))
        else:
            kind = kinds[j - (len(df.columns) - len(kinds))]
            whole = kind in ("count", "flag")
            value = col.round(0).cast(pl.Int64).cast(pl.Utf8) if whole else col.round(2).cast(pl.Utf8)
            cell = pl.format('<c r="{}"><v>{}</v></c>', ref, value)
        cells.append(pl.when(col.is_null()).then(pl.lit("")).otherwise(cell))
    xml = pl.format("<row r=\"{}\">", pl.col("_row")) + pl.concat_str(cells) + pl.lit("</row>")
    for start in range(0, df.height, chunk):
        part = df.slice(start, chunk)
        part = part.with_columns(pl.int_range(first + start, first + start + part.height).cast(pl.Utf8).alias("_row"))
        yield "".join(part.select(xml.alias("x"))["x"].to_list()).encode("utf-8")


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


def _completeness_sheet(ws: Worksheet, summary: Summary, lang: str) -> tuple[list[tuple[int, Iterator[bytes]]], str]:
    """Per child (a few hundred rows at most, written by openpyxl: its rates are percentages), then the fate of
    every unit: bold headers by openpyxl, those rows as XML (a 市 lists all its units)."""
    per_child = summary.completeness
    # without a deadline: no 迟报, no 及时率 (nor in a Summary made by older code)
    timely = "late" in per_child.columns and per_child["late"].null_count() < per_child.height
    cols = [c for c in COMPLETENESS_HEADERS if c in per_child.columns and (timely or c not in ("late", "timely_rate"))]
    for j, c in enumerate(cols, start=1):
        ws.cell(1, j, header_label(COMPLETENESS_HEADERS, c, lang)).font = Font(bold=True)
    for r, row in enumerate(per_child.select(cols).iter_rows(), start=2):
        for j, (c, value) in enumerate(zip(cols, row, strict=True), start=1):
            cell = put(ws, r, j, None if value == "" else value)
            if c.endswith("_rate"):
                cell.number_format = "0.00%"
    units_at = per_child.height + 3  # one blank row between the two tables
    units = [c for c in UNITS_HEADERS if c in summary.units.columns and (timely or c != "late")]
    for j, c in enumerate(units, start=1):
        ws.cell(units_at, j, header_label(UNITS_HEADERS, c, lang)).font = Font(bold=True)
    body = summary.units.select(pl.col(units).cast(pl.Utf8).replace("", None))
    blocks = [(units_at + 1, rows_xml(body, units_at + 1, []))]
    _widths(ws, {"A": 22, "B": 30, "C": 22, "D": 10, "E": 40, "F": 40, "G": 12, "H": 10, "I": 10, "J": 10})
    ws.freeze_panes = "A2"
    # row 1 heads the first table only; a title row cannot change halfway down the sheet
    table_pages(ws)
    last = get_column_letter(max(len(cols), len(units)))
    return blocks, f"A1:{last}{units_at + summary.units.height}"


def _indicator_sheet(ws: Worksheet, summary: Summary, lang: str) -> None:
    df = summary.indicators
    skip = () if summary.has_previous else ("previous", "change")
    cols = [c for c in INDICATOR_HEADERS if c in df.columns and c not in skip]
    for j, c in enumerate(cols, start=1):
        ws.cell(1, j, header_label(INDICATOR_HEADERS, c, lang)).font = Font(bold=True)
    for r, row in enumerate(df.iter_rows(named=True), start=2):
        fmt = "0.00%" if row.get("unit") == "%" else "0.00"  # a rate is a ratio (0.913), shown as 91.30%
        for j, c in enumerate(cols, start=1):
            value = None if row[c] == "" else row[c]  # rollup writes "" for "no note"
            if isinstance(value, float):
                value = value if c in ("value", "previous", "change") else round(value, 2)
            cell = put(ws, r, j, value)
            if c in ("value", "previous"):
                cell.number_format = fmt
            elif c == "change":
                cell.number_format = CHANGE_FORMAT
    ws.freeze_panes = "A2"
    table_pages(ws)
    _widths(ws, {"A": 20, "B": 24, "C": 14, "D": 14, "E": 12, "F": 8, "G": 40, "H": 12, "I": 10})


def _widths(ws: Worksheet, widths: dict[str, float]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[col].width = width

