"""Every sheet prints on A4 one page wide: forms portrait with their mark and signature, tables landscape
with their header repeated, 填表说明 uncut; 明细, a column per indicator, at a size one can read, several pages
across with each row's unit repeated. With LibreOffice installed, PDFs are made and their pages counted."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from city import build
from conftest import write_template_registry
from tongji.aggregating.rollup import rollup
from tongji.checking.validate import validate
from tongji.definitions.registry import load_registry
from tongji.plugins import load_spec
from tongji.writing.issue_report import write_report
from tongji.writing.summary_files import write_summary
from tongji.writing.template import GUIDE_SHEET, make_templates

FORMS = ("封面", "会员", "建会", "帮扶", "经费")
TABLES = ("说明", "完整性", "校验", "指标")
A4 = 9


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    root = tmp_path_factory.mktemp("print")
    city = build(root / "city", [[12]])
    street = next(c for c, u in city.units.items() if u["层级"] == "街道")
    summary = rollup([city.folder], registry=city.registry, unit=street, period="2025")
    paths = write_summary(summary, root / "summaries", load_spec())
    report = write_report(validate([city.folder], registry=load_registry(city.registry), period="2025"),
                          root / "问题清单.xlsx")
    (root / "reg").mkdir()
    templates = make_templates(load_registry(write_template_registry(root / "reg")), "2025", root / "templates")
    return {"summary": next(p for p in paths if p.suffix == ".xlsx"), "report": report,
            "template": next(p for p in templates if "甲公司" in p.name), "root": root}


def _fits_one_page_wide(ws, orientation: str) -> None:
    assert ws.page_setup.paperSize == A4, ws.title
    assert ws.page_setup.orientation == orientation, ws.title
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title


def _reads_across_pages(ws) -> None:
    """明细: landscape at 60 %, pages across first, its two header rows and its unit columns on every page."""
    assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (A4, "landscape")
    assert not ws.sheet_properties.pageSetUpPr.fitToPage  # with it, Excel and LibreOffice ignore the scale
    assert (ws.page_setup.scale, ws.page_setup.pageOrder) == (60, "overThenDown")
    assert (_rows(ws), ws.print_title_cols.replace("$", "")) == ("1:2", "A:B")
    assert ws.print_options.gridLines


def _rows(ws) -> str:
    """The rows repeated on every page, as written ("1:2"); openpyxl reads them back as "$1:$2"."""
    return ws.print_title_rows.replace("$", "")


def _form_is_printable(ws) -> None:
    _fits_one_page_wide(ws, "portrait")
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "代码")
    assert _rows(ws) == f"{header}:{header}"
    first_col, first_row, last_col, last_row = range_boundaries(ws.print_area.split("!")[-1].replace("$", ""))
    assert (first_col, first_row) == (1, 1)
    marks = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("表号")]
    assert marks and all(c.column <= last_col and c.row <= last_row for c in marks), ws.title
    texts = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "填表人" in c.value]
    assert all(c.row <= last_row for c in texts), ws.title
    if ws.title != "封面":
        assert texts, f"{ws.title} has no signature block"


def test_template_sheets(books):
    wb = openpyxl.load_workbook(books["template"])
    for name in FORMS:
        _form_is_printable(wb[name])
    guide = wb[GUIDE_SHEET]
    _fits_one_page_wide(guide, "portrait")
    # A4 portrait between its margins, at full size, in a program that draws the default font about 30 % wider than
    # Excel does (LibreOffice without Calibri or its metric twin): there the lines of a column 90 wide ran past
    # the page's edge, cut, as fitting the sheet to the page's width did not shrink it
    printable = 8.27 - guide.page_margins.left - guide.page_margins.right  # inches
    assert guide.column_dimensions["A"].width * 1.3 <= printable * 96 / 7  # a character of Calibri 11: 7 pixels
    assert all(guide.cell(r, 1).alignment.wrap_text for r in range(1, guide.max_row + 1) if guide.cell(r, 1).value)
    # LibreOffice shows only the first line of a wrapped cell whose row it is not told is taller
    long = [r for r in range(1, guide.max_row + 1) if len(guide.cell(r, 1).value or "") > 45]
    assert len(long) >= 3 and all(guide.row_dimensions[r].height >= 2 * 15 for r in long)
    _cover_lines_wrap(wb["封面"])


def _cover_lines_wrap(ws) -> None:
    """A cover line's long name and its hint wrap in a row tall enough, not cut at the next cell or the page."""
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "FM13")  # 工会法人统一社会信用代码
    assert ws.cell(row, 1).alignment.wrap_text and ws.cell(row, 4).alignment.wrap_text
    assert ws.row_dimensions[row].height >= 2 * 15
    assert {ws.cell(row, c).alignment.vertical for c in range(1, 5)} == {"top"}


def test_summary_sheets_survive_the_splicing(books):
    wb = openpyxl.load_workbook(books["summary"])
    for name in FORMS:
        _form_is_printable(wb[name])
    _cover_lines_wrap(wb["封面"])
    for name in TABLES:
        ws = wb[name]
        _fits_one_page_wide(ws, "landscape")
        assert _rows(ws) == "1:1", name
        assert ws.print_options.gridLines, name
    _reads_across_pages(wb["明细"])


def test_spliced_sheets_keep_their_page_setup_in_the_xml(books):
    """明细, 说明 and 完整性 are spliced as raw XML; what Excel reads must still be there, in schema order."""
    with zipfile.ZipFile(books["summary"]) as z:
        workbook = z.read("xl/workbook.xml").decode()
        for n in (6, 7, 8):  # 明细, 说明, 完整性
            xml = z.read(f"xl/worksheets/sheet{n}.xml").decode()
            assert f'<pageSetUpPr fitToPage="{int(n != 6)}"' in xml
            order = [xml.index(tag) for tag in ("</sheetData>", "<printOptions", "<pageMargins", "<pageSetup")]
            assert order == sorted(order)
            assert re.search(r'<pageSetup [^>]*orientation="landscape"', xml)
            assert re.search(r'<pageSetup [^>]*scale="60"' if n == 6 else r'<pageSetup [^>]*fitToWidth="1"', xml)
    titles = re.findall(r'<definedName name="_xlnm.Print_Titles" localSheetId="(\d)">([^<]*)<', workbook)
    assert {("5", "'明细'!$1:$2,'明细'!$A:$B"), ("6", "'说明'!$1:$1"), ("7", "'完整性'!$1:$1")} <= set(titles)


def test_report_sheets(books):
    wb = openpyxl.load_workbook(books["report"])
    for ws in wb:
        _fits_one_page_wide(ws, "landscape")
        assert _rows(ws) == "1:1"


# --- PDF through LibreOffice, where installed ---


def _pdf_pages(xlsx: Path, out: Path) -> list[tuple[float, float]]:
    """Each page's (width, height) in points, LibreOffice converting with a profile of its own."""
    profile = out / "profile"  # its own profile: another LibreOffice running would take the job and lose it
    try:
        subprocess.run(["libreoffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(out), str(xlsx)], check=True, capture_output=True, timeout=300)
        pdf = (out / f"{xlsx.stem}.pdf").read_bytes()
    except (OSError, subprocess.SubprocessError) as exc:  # half installed, or no display libraries
        pytest.skip(f"LibreOffice could not convert: {exc}")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)[^>]*?/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)",
                       pdf, re.S)
    count = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    boxes = [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in pages]
    return boxes if len(boxes) == count else [(0.0, 0.0)] * count


def _a4(box: tuple[float, float]) -> bool:
    return sorted(round(v) for v in box) == [595, 842]


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def _alone(book: Path, sheet: str, out: Path, keep: bool) -> Path:
    """`book` with only `sheet` (keep) or without it, saved as `out`: to count one sheet's pages apart."""
    wb = openpyxl.load_workbook(book)
    for name in wb.sheetnames[:]:
        if (name == sheet) != keep:
            wb.remove(wb[name])
    wb.save(out)
    return out


# a summary without 明细: 10 sheets, 分组 two pages tall (a row per group of four groupings; a long table runs on)
@pytest.mark.parametrize("kind, sheets", [("template", 6), ("summary", 11), ("report", 2)])
def test_pdf_has_one_page_per_sheet(books, tmp_path, kind, sheets):
    """A sheet split into vertical strips prints more pages than sheets: a 街道 summary printed 47 pages
    and a template 7 before the page setup. Small sheets here fit one page each, on A4 whichever way round."""
    book = _alone(books[kind], "明细", tmp_path / "其余.xlsx", keep=False) if kind == "summary" else books[kind]
    boxes = _pdf_pages(book, tmp_path)
    # 完整性 lists each unit's file, wrapped in full: under a long temporary folder it runs onto a second page down
    assert sheets <= len(boxes) <= sheets + (kind == "summary"), boxes
    assert all(_a4(b) for b in boxes if b != (0.0, 0.0)), boxes


@pytest.fixture(scope="module")
def wide_detail(tmp_path_factory):
    """明细 alone, of a 街道 whose 明细 has ten more columns than the built-in forms give it: a plugin's rows."""
    from tongji.testing import load_plugin, make_city

    root = tmp_path_factory.mktemp("wide")
    rows = ", ".join(f'{{ code = "JH{n}", name = "插件指标{n}", kind = "count" }}' for n in range(41, 51))
    (root / "wide.toml").write_text(f'[[extend]]\nform = "JH"\nrows = [{rows}]\n', encoding="utf-8")
    host = load_plugin(root / "wide.toml")
    city = make_city(root / "city", host, streets=(3,))
    summary = rollup([city.folder], registry=city.registry, unit="330106001", period="2025", spec=host.spec)
    book = next(p for p in write_summary(summary, root / "out", host.spec) if p.suffix == ".xlsx")
    return _alone(book, "明细", root / "明细.xlsx", keep=True)


def test_a_plugins_columns_keep_their_width(wide_detail):
    """A plugin's rows add columns, not shrink them: a code column is as wide as the built-in ones."""
    from openpyxl.utils import get_column_letter

    ws = openpyxl.load_workbook(wide_detail)["明细"]
    assert ws.max_column == 95
    added = [c for c in range(1, ws.max_column + 1) if ws.cell(1, c).value in {f"JH{n}" for n in range(41, 51)}]
    assert len(added) == 10 and {ws.column_dimensions[get_column_letter(c)].width for c in added} == {8}
    _reads_across_pages(ws)


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_the_detail_prints_pages_across(books, wide_detail, tmp_path):
    """At 60 % the built-in forms' 明细 takes seven pages across (one band of rows for 12 units), a plugin's ten
    columns one more; squeezed one page wide it printed at 10 %, unreadable."""
    built_in = _pdf_pages(_alone(books["summary"], "明细", tmp_path / "明细.xlsx", keep=True), tmp_path / "a")
    assert len(built_in) == 7, built_in
    assert len(_pdf_pages(wide_detail, tmp_path / "b")) == 8
    assert all(_a4(b) for b in built_in if b != (0.0, 0.0)), built_in


def test_the_reports_long_text_wraps_in_rows_tall_enough(tmp_path):
    """A message, a file or the cells an issue involves longer than their column wrap, in a row made tall enough
    for them: neither Excel nor LibreOffice makes it taller itself. Unwrapped, a message was cut at the next
    column on paper and the last column's text ran past the table, printing it smaller beside empty columns."""
    samples = Path(__file__).parent.parent / "samples"
    report = validate([samples / "2025" / "望江街道总工会"], registry=load_registry(samples / "registry.csv"),
                      period="2025")
    ws = openpyxl.load_workbook(write_report(report, tmp_path / "问题清单.xlsx"))["问题清单"]
    head = [c.value for c in ws[1]]
    message, cells, file = (head.index(label) + 1 for label in ("问题说明", "涉及单元格", "文件"))
    copied = next(r for r in range(2, ws.max_row + 1) if "复制" in ws.cell(r, message).value)
    assert len(ws.cell(copied, message).value) > 60  # two lines of a column 60 characters wide, at least
    assert all(ws.cell(r, c).alignment.wrap_text for r in range(2, ws.max_row + 1) for c in (message, cells, file))
    unit_name, name = (head.index(label) + 1 for label in ("单位名称", "指标名称"))
    assert all(ws.cell(r, c).alignment.wrap_text for r in range(2, ws.max_row + 1) for c in (unit_name, name))
    assert ws.row_dimensions[copied].height >= 2 * 15
    assert ws.cell(copied, head.index("单位代码") + 1).alignment.wrap_text is not True  # short text as it was
    _at_the_top(ws, copied)


def _at_the_top(ws, row: int) -> None:
    """Every cell of a row made taller for its wrapped text sits at its top: at the bottom, Excel's default, a
    tall row's severity, cell and code sat beside the last line of its message, below the row above's."""
    assert {c.alignment.vertical for c in ws[row] if c.value is not None} == {"top"}, row


@pytest.mark.parametrize("stamped", [True, False])
def test_a_summarys_issues_wrap_in_rows_tall_enough(tmp_path, stamped):
    """校验 is the issue report's table: its long text wraps in rows made tall enough, stamped or built by openpyxl."""
    from tongji.writing.summary_files import write_summary_workbook

    samples = Path(__file__).parent.parent / "samples"
    summary = rollup([samples / "2025" / "望江街道总工会", samples / "2025" / "本级"],
                     registry=samples / "registry.csv", unit="330106003", period="2025")
    book = write_summary_workbook(summary, tmp_path / "s.xlsx", load_spec(), stamped=stamped)
    ws = openpyxl.load_workbook(book)["校验"]
    message = [c.value for c in ws[1]].index("问题说明") + 1
    copied = [r for r in range(2, ws.max_row + 1) if "复制" in ws.cell(r, message).value]
    assert copied and all(ws.cell(r, message).alignment.wrap_text for r in range(2, ws.max_row + 1))
    assert all(ws.row_dimensions[r].height >= 2 * 15 for r in copied)
    for r in copied:
        _at_the_top(ws, r)
    # a unit's name of 15 characters wraps in its column of 24, two lines, not cut at the severity beside it
    unit_name = [c.value for c in ws[1]].index("单位名称") + 1
    long = [r for r in range(2, ws.max_row + 1) if len(ws.cell(r, unit_name).value or "") >= 14]
    assert long and all(ws.cell(r, unit_name).alignment.wrap_text and ws.row_dimensions[r].height >= 2 * 15
                        for r in long)


@pytest.mark.parametrize("stamped", [True, False])
def test_a_summarys_notes_and_units_wrap_in_rows_tall_enough(tmp_path, stamped):
    """说明's notes and 完整性's files and reasons wrap in rows made tall enough, stamped or built by openpyxl: on
    paper a long note, a unit's file path or why it was returned was cut at its column's edge."""
    from dataclasses import replace

    import polars as pl

    from tongji.aggregating.notes import NOTE_SCHEMA
    from tongji.writing.summary_files import write_summary_workbook

    samples = Path(__file__).parent.parent / "samples"
    summary = rollup([samples / "2025" / "望江街道总工会", samples / "2025" / "本级"],
                     registry=samples / "registry.csv", unit="330106003", period="2025")
    long = "本年度新建园区联合工会 3 家，新入会职工随之增加，会员人数比上年增加较多。" * 3
    notes = summary.detail.head(1).select("单位代码", "类型", "单位名称", pl.lit("HY03").alias("代码"),
                                          pl.lit(long).alias("说明"))
    summary = replace(summary, notes=notes.select(list(NOTE_SCHEMA)))
    wb = openpyxl.load_workbook(write_summary_workbook(summary, tmp_path / "s.xlsx", load_spec(), stamped=stamped))
    ws = wb["说明"]
    assert ws["G2"].value == long and ws["G2"].alignment.wrap_text and ws.row_dimensions[2].height >= 3 * 15
    _at_the_top(ws, 2)
    ws = wb["完整性"]
    head = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "单位代码")
    file, reason = ([c.value for c in ws[head]].index(label) + 1 for label in ("文件", "原因"))
    rows = range(head + 1, ws.max_row + 1)
    assert all(ws.cell(r, c).alignment.wrap_text for r in rows for c in (file, reason) if ws.cell(r, c).value)
    longest = max(rows, key=lambda r: len(ws.cell(r, file).value or ""))
    assert len(ws.cell(longest, file).value) > 60 and ws.row_dimensions[longest].height >= 2 * 15
    _at_the_top(ws, longest)


@pytest.mark.parametrize("stamped", [True, False])
def test_the_details_indicator_names_wrap_in_a_row_tall_enough(tmp_path, stamped):
    """明细's row of indicator names wraps in its narrow columns, in a row as tall as the longest name needs: it
    was one line high, so a name such as 获评市级及以上模范职工之家的单位 (JH10) was cut at its column's edge."""
    import math

    from tongji.writing.summary_files import write_summary_workbook

    samples = Path(__file__).parent.parent / "samples"
    summary = rollup([samples / "2025" / "望江街道总工会", samples / "2025" / "本级"],
                     registry=samples / "registry.csv", unit="330106003", period="2025")
    ws = openpyxl.load_workbook(write_summary_workbook(summary, tmp_path / "s.xlsx", load_spec(),
                                                       stamped=stamped))["明细"]
    names = [c for c in ws[2] if c.value]
    assert len(names) > 70 and all(c.alignment.wrap_text for c in names)
    # at the least, two columns of width for each Chinese character, and 15 points a line
    need = max(math.ceil(2 * len(c.value) / ws.column_dimensions[c.column_letter].width) for c in names)
    assert need >= 4 and ws.row_dimensions[2].height >= need * 15
    assert ws.row_dimensions[3].height is None  # the units' rows keep their height
