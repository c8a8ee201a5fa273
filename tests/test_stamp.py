"""A summary workbook stamped from its skeleton (writing/summary_book.py) reads back as the one openpyxl builds cell
by cell (the reference, `stamped=False`): every sheet's every cell (value, type, number format, font, fill,
alignment, border), widths, frozen panes, merged cells, filters and print setup, read with openpyxl (normal and
read-only) and fastexcel; and it is byte-identical on rerun."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace

import fastexcel
import openpyxl
import polars as pl
import pytest

from test_summary_writer import SHEETS, make_summary
from tongji.aggregating.notes import NOTE_SCHEMA
from tongji.aggregating.rollup import rollup
from tongji.definitions.forms import data_dir
from tongji.issues.catalog import Catalog
from tongji.issues.report import ISSUE_COLUMNS
from tongji.plugins import load_spec
from tongji.writing import stamp, summary_book
from tongji.writing.summary_files import write_summary_workbook

HOSTILE = "=HYPERLINK(\"http://x\") 工会 & <b>"  # a name that must stay text and well-formed XML
SAMPLES = data_dir("samples")
STREET = "330106001"  # 北干街道: seeded mistakes among its units, 说明 notes, last year's summary


def awkward(has_previous: bool):
    """A summary with everything a cell may hold: a formula-like name, note and issue, a leading space, an empty
    total, a value whose 16 digits matter, a change that is not finite, issues of every severity, text past
    Excel's 32,767 characters, an empty rate."""
    summary = make_summary(has_previous)
    totals = summary.totals.with_columns(
        pl.when(pl.col("code") == "HY02").then(None)
        .when(pl.col("code") == "JF01").then(0.1 + 0.2 + 1234567.0)
        .otherwise(pl.col("value")).alias("value"))
    if has_previous:
        totals = totals.with_columns(pl.when(pl.col("code") == "HY01").then(float("inf"))
                                     .otherwise(pl.col("change")).alias("change"))
    notes = pl.DataFrame({"单位代码": ["91330106MA0000101X"], "单位名称": ["甲公司工会"], "类型": ["基层"],
                          "代码": ["HY03"], "说明": ["+新建 3 家，含 @派遣"]})
    cover = summary.cover | {"FM01": HOSTILE, "FM08": None, "FM11": " 王芳 "}
    issue = summary.issues.row(0, named=True)
    issues = pl.DataFrame([issue, issue | {"severity": "错误", "message": "@SUM(A1) " + "长" * 40_000, "diff": None},
                           issue | {"severity": "提示", "unit_name": " 前后有空格 ", "value": "-1"},
                           issue | {"severity": "其他", "file": HOSTILE, "cells": []}], schema=ISSUE_COLUMNS)
    completeness = summary.completeness.with_columns(pl.lit(None, pl.Float64).alias("reported_rate"))
    return replace(summary, name=HOSTILE, totals=totals, notes=notes, cover=cover, issues=issues,
                   completeness=completeness)


@pytest.fixture(scope="module")
def street():
    """A real 街道's summary from the bundled samples, with last year's summary: previous-period columns, 同比,
    validation issues of its units, 分组; and 说明 notes of three of its units (the samples have none)."""
    last = SAMPLES / "2024" / "汇总" / f"{STREET}_2024_汇总.xlsx"
    summary = rollup(SAMPLES / "2025", registry=SAMPLES / "registry.csv", unit=STREET, period="2025", previous=last)
    notes = summary.detail.head(3).select("单位代码", "类型", "单位名称", pl.lit("HY03").alias("代码"),
                                          pl.Series("说明", ["新建 3 家", " =1+1", "<派遣> & 外包"]))
    return replace(summary, notes=notes.select(list(NOTE_SCHEMA)))


def book(data: bytes, read_only: bool = False) -> dict:
    """Every sheet's every cell and settings, as openpyxl reads them."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=read_only)
    out = {"sheets": wb.sheetnames, "active": wb.active.title}
    for ws in wb.worksheets:
        if read_only:
            out[ws.title] = (ws.max_row, ws.max_column)  # from <dimension>, which read-only readers trust
        else:
            setup, margins = ws.page_setup, ws.page_margins
            out[ws.title] = (
                ws.dimensions, ws.print_title_rows, ws.print_title_cols, ws.print_area, ws.freeze_panes,
                ws.auto_filter.ref,
                sorted(str(r) for r in ws.merged_cells.ranges), setup.paperSize, setup.orientation,
                setup.fitToWidth, setup.fitToHeight, setup.scale, setup.pageOrder,
                ws.sheet_properties.pageSetUpPr.fitToPage,
                ws.print_options.gridLines, ws.print_options.horizontalCentered, ws.oddFooter.center.text,
                (margins.left, margins.right, margins.top, margins.bottom, margins.header, margins.footer),
                {k: (d.width, d.number_format) for k, d in ws.column_dimensions.items()})
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and read_only:
                    continue  # read-only openpyxl yields empty cells for what a row lacks
                out[(ws.title, c.coordinate)] = (
                    c.value, c.data_type, c.number_format, c.font.b, c.font.sz, c.fill.fill_type,
                    c.fill.fgColor.rgb, c.alignment.horizontal, c.alignment.vertical, c.border.left.style,
                    getattr(c, "quotePrefix", None))  # read-only cells do not say
    return out


def frames(data: bytes) -> dict:
    reader = fastexcel.read_excel(data)
    return {name: reader.load_sheet(name, header_row=None).to_polars() for name in reader.sheet_names}


def same_workbook(got: bytes, ref: bytes) -> None:
    assert book(got) == book(ref)
    assert book(got, read_only=True) == book(ref, read_only=True)
    theirs = frames(ref)
    assert frames(got).keys() == theirs.keys()
    for name, frame in frames(got).items():
        assert frame.equals(theirs[name]), name


def written(summary, spec, lang, tmp_path, stamped=True) -> bytes:
    summary = summary.in_lang(lang, Catalog.of(spec))
    name = "got.xlsx" if stamped else "ref.xlsx"
    return write_summary_workbook(summary, tmp_path / name, spec, lang, stamped=stamped).read_bytes()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("has_previous", [False, True])
def test_stamped_reads_back_as_the_reference(tmp_path, has_previous, lang):
    spec, summary = load_spec(), awkward(has_previous)
    got, ref = written(summary, spec, lang, tmp_path), written(summary, spec, lang, tmp_path, stamped=False)
    assert got != ref  # the two are made apart: styles are numbered in another order
    same_workbook(got, ref)
    wb = openpyxl.load_workbook(io.BytesIO(got))
    assert wb.sheetnames == SHEETS
    assert len(wb["会员"][1]) == (7 if has_previous else 5)
    assert wb["会员"]["A6"].value == "填报单位：" + HOSTILE and wb["会员"]["A6"].data_type == "s"
    cover = {r[1].value: r[2] for r in wb["封面"].iter_rows(min_row=8)}
    assert cover["FM01"].value == HOSTILE and cover["FM01"].data_type == "s"  # text, never a formula
    assert cover["FM01"].quotePrefix and wb["会员"]["A6"].quotePrefix is False  # nor one once edited
    assert cover["FM11"].value == " 王芳 " and cover["FM08"].value is None and cover["FM08"].number_format == "@"
    hy03 = next(r for r in wb["会员"].iter_rows(min_row=8) if r[1].value == "HY03")
    assert hy03[4].value == "甲公司工会：+新建 3 家，含 @派遣" and hy03[4].data_type == "s"
    jf01 = next(r for r in wb["经费"].iter_rows(min_row=8) if r[1].value == "JF01")
    assert jf01[3].value == round(0.1 + 0.2 + 1234567.0, 2) and jf01[3].number_format == "0.00"
    issues = wb["校验"]
    assert issues.auto_filter.ref == "A1:N5" and issues["D3"].value == {"zh": "错误", "en": "error"}[lang]
    assert issues["D3"].fill.fgColor.rgb.endswith("FFC7CE") and issues["D5"].fill.fill_type is None  # 其他: uncoloured
    assert issues["K3"].value.startswith("@SUM(A1) ") and len(issues["K3"].value) == 32_767  # Excel's limit
    assert issues["A5"].value == HOSTILE and issues["A5"].data_type == "s" and issues["A5"].quotePrefix
    assert wb["说明"]["G2"].value == "+新建 3 家，含 @派遣"
    assert wb["完整性"]["H2"].value is None and wb["完整性"]["H2"].number_format == "0.00%"  # an empty rate


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_real_street_reads_back_as_the_reference(tmp_path, street, lang):
    spec = load_spec()
    assert street.has_previous and street.notes.height and street.issues.height and street.groups is not None
    got, ref = written(street, spec, lang, tmp_path), written(street, spec, lang, tmp_path, stamped=False)
    same_workbook(got, ref)
    wb = openpyxl.load_workbook(io.BytesIO(got))
    last = openpyxl.utils.get_column_letter(2 + len(spec.group_columns))
    assert wb["分组"].print_area == f"'分组'!$A$1:${last}${4 + street.groups.height + 2}"
    assert wb["分组"].freeze_panes == "C5" and wb["分组"]["C3"].font.b
    assert wb["指标"]["I1"].value == ("同比" if lang == "zh" else "Change")


def test_a_street_without_last_year_reads_back_as_the_reference(tmp_path, street):
    spec = load_spec()
    summary = replace(street, has_previous=False, totals=street.totals.drop("previous", "change"),
                      indicators=street.indicators.drop("previous", "change"))
    same_workbook(written(summary, spec, "zh", tmp_path), written(summary, spec, "zh", tmp_path, stamped=False))


def test_stamped_is_byte_identical_on_rerun(tmp_path, street):
    spec = load_spec()
    first = written(street, spec, "zh", tmp_path)
    assert written(street, spec, "zh", tmp_path) == first
    with zipfile.ZipFile(io.BytesIO(first)) as z:  # one zip, every part at the fixed time
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert b"7000000" not in b"".join(z.read(n) for n in z.namelist())  # no placeholder left


def test_a_skeleton_is_built_once_per_shape_and_kept_with_the_spec(monkeypatch):
    spec, summary = load_spec(), make_summary()
    shapes = [(summary, "zh"), (summary, "en"), (replace(summary, detail=summary.detail.drop("HY02")), "zh")]
    first = [summary_book.summary_xlsx(s, spec, lang) for s, lang in shapes]
    assert len(set(first)) == 3

    def refuse(*args):
        raise AssertionError("built again")

    monkeypatch.setattr(summary_book.Book, "build", refuse)
    assert [summary_book.summary_xlsx(s, spec, lang) for s, lang in shapes] == first
    with pytest.raises(AssertionError, match="built again"):  # 明细 without two more lines: another shape
        summary_book.summary_xlsx(replace(summary, detail=summary.detail.drop("HY03", "HY04")), spec, "zh")


def test_a_summary_made_by_hand_without_indicators_reads_back_as_the_reference(tmp_path):
    spec, summary = load_spec(), make_summary()
    summary = replace(summary, indicators=pl.DataFrame(), issues=summary.issues.clear())
    same_workbook(written(summary, spec, "zh", tmp_path), written(summary, spec, "zh", tmp_path, stamped=False))


def test_a_table_past_one_sheet_is_built_by_the_reference(monkeypatch):
    from tongji.writing import unit_sheets

    spec, summary = load_spec(), make_summary()
    monkeypatch.setattr(unit_sheets, "SHEET_ROWS", 4)
    assert summary_book.summary_xlsx(summary, spec, "zh") is None  # 明细: three units under two header rows
    monkeypatch.setattr(unit_sheets, "SHEET_ROWS", 7)
    assert summary_book.summary_xlsx(summary, spec, "zh") is None  # 完整性: 3 rows per child, a blank, a header
    monkeypatch.setattr(unit_sheets, "SHEET_ROWS", 8)
    assert summary_book.summary_xlsx(summary, spec, "zh") is not None


def test_a_missing_placeholder_is_refused(monkeypatch):
    """A skeleton that lost one of its cells (the layout changed under it) fails loudly, never writes a
    summary with a stale cell."""
    monkeypatch.setattr(stamp, "FIRST", 8_000_000_000)  # placeholders the pattern no longer finds
    with pytest.raises(RuntimeError, match="placeholder cells"):
        summary_book.Book.build(load_spec(), make_summary(), summary_book.Shape(False, "zh", (), ()))


def test_only_changing_cells_are_slots():
    """The skeleton's static XML holds the labels and codes; a summary's values are only in the slots."""
    spec, summary = load_spec(), make_summary(True)
    shape = summary_book.Shape(True, "zh", tuple(summary.detail.columns), ())
    sk = summary_book.Book.build(spec, summary, shape).forms
    static = b"".join(p for pieces in sk.sheets.values() for p in pieces if isinstance(p, bytes))
    assert b"HY03" in static and "工会会员情况（汇总）".encode() in static
    assert b"7000000" not in static
    kinds = {p[1].kind for pieces in sk.sheets.values() for p in pieces if not isinstance(p, bytes)}
    assert kinds == {"name", "period", "cover", "value", "note", "previous", "change"}


def test_small_frames_make_the_rows_polars_makes(monkeypatch):
    """unit_sheets.rows_xml joins a small frame's cells in Python: byte for byte what the polars expression makes
    of a 市's (in one piece or several), for text that must be cleaned, escaped or keep its spaces, and numbers
    that round at the edge."""
    from tongji.writing import unit_sheets

    texts = [None, "", " lead", "trail ", "\u3000全角", "a\r\nb\rc", "x\x1b[31m红\x1b[0m", "\x00ctl\x0b", "&<>\"'",
             "=SUM(A1)", "\t", "\n", " ", "\u00a0nbsp", "a\ufffeb", "\x1b]8;;http://x\x07link", "@派遣", "+1", "-2"]
    n = len(texts)
    counts = [1.5, 2.5, -0.5, None, 1e15, 0.49999999999999994, -2.5, 7.0, 0.0, -0.0, 3.5, None, 12.0, 1.0, 2.0, 3.0,
              4.0, 5.0, 6.0]
    amounts = [0.125, 1.005, 2.675, -0.0, None, 123456789.125, 1e-9, 0.1 + 0.2, -1.115, 1e16, 99.995, 5e-3, 0.0,
               None, 1.0, 2.25, -3.375, 4.5, 1234.5678]
    df = pl.DataFrame({"单位代码": texts, "名称": list(reversed(texts)), "HY01": counts[:n], "JF01": amounts[:n]},
                      schema={"单位代码": pl.Utf8, "名称": pl.Utf8, "HY01": pl.Float64, "JF01": pl.Float64})
    small = b"".join(unit_sheets.rows_xml(df, 3, ["count", "amount"]))
    monkeypatch.setattr(unit_sheets, "SMALL_CELLS", -1)
    assert small == b"".join(unit_sheets.rows_xml(df, 3, ["count", "amount"]))
    # a frame of several pieces (each made while the one before is deflated) gives them in order
    pieces = list(unit_sheets.rows_xml(df, 3, ["count", "amount"], chunk=4))
    assert len(pieces) == 5 and b"".join(pieces) == small
    assert b"<t>=SUM(A1)</t>" in small and b'<t xml:space="preserve"> lead</t>' in small and b"\x1b" not in small
    assert b"<t>&amp;&lt;&gt;\"'</t>" in small and b'<c r="C6"' not in small  # a null count is no cell
    texts_only = df.select("单位代码", "名称")
    monkeypatch.setattr(unit_sheets, "SMALL_CELLS", 10_000)
    small = b"".join(unit_sheets.rows_xml(texts_only, 2, []))
    monkeypatch.setattr(unit_sheets, "SMALL_CELLS", -1)
    assert small == b"".join(unit_sheets.rows_xml(texts_only, 2, []))


def test_row_heights_counted_in_python_are_polars_heights(monkeypatch):
    """A small frame's row heights are counted in Python (unit_sheets.small_heights), a large one's by polars: the
    same for characters of one to four bytes, lines ended by \\n or \\r\\n, empty and missing text, two wrapped
    columns of different widths (the taller wins) and text past the tallest row Excel allows."""
    from tongji.writing import unit_sheets

    words = ["", None, "é" * 41, "é" * 60 + "中", "中" * 20, "中" * 21, "😀" * 31, "😀" * 30 + "a", "a\r\nb\r\nc",
             "\n", "x" * 45, "x" * 46, "中\n" * 40, "短", "ab" * 100]
    df = pl.DataFrame({"A": words, "B": list(reversed(words))}, schema={"A": pl.Utf8, "B": pl.Utf8})
    wrap = (7, {"A": 60, "B": 1}, 3)
    small = b"".join(unit_sheets.rows_xml(df, 2, [], wrap=wrap))
    monkeypatch.setattr(unit_sheets, "SMALL_CELLS", -1)
    assert small == b"".join(unit_sheets.rows_xml(df, 2, [], wrap=wrap))
    wrap = (7, {"A": 40}, 3)
    large = b"".join(unit_sheets.rows_xml(df, 2, [], wrap=wrap))
    monkeypatch.setattr(unit_sheets, "SMALL_CELLS", 10_000)
    assert large == b"".join(unit_sheets.rows_xml(df, 2, [], wrap=wrap))
    heights = re.findall(rb'<row r="(\d+)"(?: ht="(\d+)")?', large)
    # 40 wide: room for 30 in a line, a character of n bytes counting 1 + (n - 1) / 2, rounded down in each line
    assert heights[:10] == [(b"2", b""), (b"3", b""), (b"4", b"45"), (b"5", b"60"), (b"6", b"30"), (b"7", b"30"),
                            (b"8", b"45"), (b"9", b"45"), (b"10", b"45"), (b"11", b"30")]
    assert (b"14", b"409") in heights  # 41 lines, cut to Excel's tallest row


def test_wrapped_columns_are_the_same_rows_small_or_large(monkeypatch):
    """A wrapped text column (说明's notes, 完整性's files and reasons) takes the wrap style, the others the style
    that puts them at the top of their row, and a row whose text needs more lines is made as tall: the same bytes
    joined by Python or made by polars, in one piece or several."""
    from tongji.writing import unit_sheets

    notes = ["短", None, "因新建园区联合工会，会员人数比上年增加较多。" * 5, "a\nb\nc", "=1+1"]
    df = pl.DataFrame({"单位代码": ["1", "2", "3", "4", "5"], "说明": notes})
    wrap = (7, {"说明": 60, "缺少的列": 10}, 3)
    small = b"".join(unit_sheets.rows_xml(df, 2, [], wrap=wrap))
    monkeypatch.setattr(unit_sheets, "SMALL_CELLS", -1)
    assert small == b"".join(unit_sheets.rows_xml(df, 2, [], wrap=wrap))
    assert small == b"".join(unit_sheets.rows_xml(df, 2, [], chunk=2, wrap=wrap))
    assert b'<row r="2"><c r="A2" s="3" t="inlineStr"><is><t>1</t></is></c><c r="B2" s="7" t="inlineStr">' in small
    assert b'<row r="4" ht="75" customHeight="1">' in small and b'<row r="5" ht="45" customHeight="1">' in small
    assert b'<row r="3"><c r="A3" s="3" t="inlineStr"><is><t>2</t></is></c></row>' in small
    quoted = b"".join(unit_sheets.rows_xml(df, 2, [], wrap=wrap, quoted={3: 8, 7: 9}))
    monkeypatch.setattr(unit_sheets, "SMALL_CELLS", 10_000)
    assert quoted == b"".join(unit_sheets.rows_xml(df, 2, [], wrap=wrap, quoted={3: 8, 7: 9}))
    assert b'<c r="B6" s="9" t="inlineStr"><is><t>=1+1</t>' in quoted and b'<c r="B2" s="7" ' in quoted
