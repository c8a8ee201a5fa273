"""A summary workbook whose form sheets are stamped into the spec's skeleton is the one openpyxl builds
(writing/summary_forms.py, the reference): the same bytes, and cell for cell the same read back with openpyxl
(normal and read-only) and fastexcel."""

from __future__ import annotations

import io
from dataclasses import replace

import fastexcel
import openpyxl
import polars as pl
import pytest

from test_summary_writer import SHEETS, make_summary
from tongji.plugins import load_spec
from tongji.writing import stamp
from tongji.writing.summary_files import write_summary_workbook

HOSTILE = "=HYPERLINK(\"http://x\") 工会 & <b>"  # a name that must stay text and well-formed XML


def awkward(has_previous: bool):
    """A summary with everything a form cell may hold: a formula-like name and note, a leading space, an empty
    total, a value whose 16 digits matter, a change that is not finite."""
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
    return replace(summary, name=HOSTILE, totals=totals, notes=notes, cover=cover)


def cells_of(data: bytes, read_only: bool = False) -> dict:
    """Every form sheet cell's value, type, number format, font and fill, and each sheet's print setup."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=read_only)
    out = {}
    for ws in wb.worksheets[:5]:
        if not read_only:
            out[ws.title] = (ws.dimensions, ws.print_title_rows, ws.print_area, ws.freeze_panes,
                             ws.page_setup.paperSize, ws.page_setup.orientation, ws.page_setup.fitToWidth,
                             ws.sheet_properties.pageSetUpPr.fitToPage,
                             {k: d.width for k, d in ws.column_dimensions.items()})
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and read_only:
                    continue  # read-only openpyxl yields empty cells for what a row lacks
                out[(ws.title, c.coordinate)] = (c.value, c.data_type, c.number_format, c.font.b, c.font.sz,
                                                 c.fill.fgColor.rgb, c.alignment.horizontal, c.border.left.style)
    return out


def frames(data: bytes) -> dict:
    reader = fastexcel.read_excel(data)
    return {name: reader.load_sheet(name, header_row=None).to_polars() for name in reader.sheet_names}


@pytest.mark.parametrize("has_previous", [False, True])
def test_stamped_reads_back_as_the_reference(tmp_path, has_previous):
    spec, summary = load_spec(), awkward(has_previous)
    ref = write_summary_workbook(summary, tmp_path / "ref.xlsx", spec, stamped=False).read_bytes()
    got = write_summary_workbook(summary, tmp_path / "got.xlsx", spec).read_bytes()
    assert got == ref
    assert cells_of(got) == cells_of(ref)
    assert cells_of(got, read_only=True) == cells_of(ref, read_only=True)
    assert frames(got).keys() == frames(ref).keys() == set(SHEETS)
    for name, frame in frames(ref).items():
        assert frames(got)[name].equals(frame), name
    wb = openpyxl.load_workbook(io.BytesIO(got))
    assert len(wb["会员"][1]) == (7 if has_previous else 5)
    assert wb["会员"]["A6"].value == "填报单位：" + HOSTILE and wb["会员"]["A6"].data_type == "s"
    cover = {r[1].value: r[2] for r in wb["封面"].iter_rows(min_row=8)}
    assert cover["FM01"].value == HOSTILE and cover["FM01"].data_type == "s"  # text, never a formula
    assert cover["FM11"].value == " 王芳 " and cover["FM08"].value is None and cover["FM08"].number_format == "@"
    hy03 = next(r for r in wb["会员"].iter_rows(min_row=8) if r[1].value == "HY03")
    assert hy03[4].value == "甲公司工会：+新建 3 家，含 @派遣" and hy03[4].data_type == "s"
    hy02 = next(r for r in wb["会员"].iter_rows(min_row=8) if r[1].value == "HY02")
    assert hy02[3].value is None and hy02[3].number_format == "0"
    jf01 = next(r for r in wb["经费"].iter_rows(min_row=8) if r[1].value == "JF01")
    assert jf01[3].value == round(0.1 + 0.2 + 1234567.0, 2) and jf01[3].number_format == "0.00"


def test_stamped_is_byte_identical_on_rerun(tmp_path):
    spec, summary = load_spec(), awkward(True)
    first = write_summary_workbook(summary, tmp_path / "a.xlsx", spec).read_bytes()
    assert write_summary_workbook(summary, tmp_path / "b.xlsx", spec).read_bytes() == first


def test_a_missing_placeholder_is_refused(monkeypatch):
    """A skeleton that lost one of its cells (the layout changed under it) fails loudly, never writes a
    summary with a stale cell."""
    monkeypatch.setattr(stamp, "FIRST", 8_000_000_000)  # placeholders the pattern no longer finds
    with pytest.raises(RuntimeError, match="placeholder cells"):
        stamp.Skeleton.build(load_spec(), False)


def test_only_changing_cells_are_slots():
    """The skeleton's static XML holds the labels and codes; a summary's values are only in the slots."""
    sk = stamp.skeleton(load_spec(), True)
    static = b"".join(p for pieces in sk.sheets.values() for p in pieces if isinstance(p, bytes))
    assert b"HY03" in static and "工会会员情况（汇总）".encode() in static
    assert b"7000000" not in static
    kinds = {p[1].kind for pieces in sk.sheets.values() for p in pieces if not isinstance(p, bytes)}
    assert kinds == {"name", "period", "cover", "value", "note", "previous", "change"}
