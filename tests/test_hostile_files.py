"""The reader survives any file (issue 9): every hostile workbook gets one clear issue, and the batch goes on.

The files are made here, each a copy of a good workbook with one thing broken. A test that failed here
might kill the test process outright (calamine aborts on some of these): that is the defect guarded against.
"""

from __future__ import annotations

import dataclasses
import resource
import shutil
import struct
import subprocess
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

import tongji
from hostile import MEMBER_PART, before_end, bomb, far_cell, make_xls, patch_record, rezip, unit
from tongji.plugins import load_spec
from tongji.reading.discover import discover
from workbooks import cell_of

xlwt = pytest.importorskip("xlwt")


def status(report, name):
    sub = report.for_file(name)
    return sub.flatten(["rule", "sheet", "severity"]), sub.workbooks["status"].to_list()


# --- 1. panics -----------------------------------------------------------------------------------

def test_a_reader_panic_is_one_issue_on_its_file(tmp_path, capfd):
    """A FORMULA record whose expression runs past its end makes calamine panic (PanicException)."""
    unit(tmp_path / "good.xlsx", 1)
    path = make_xls(tmp_path / "panic.xls", lambda s: s["会员"].write(40, 3, xlwt.Formula("1+2")))

    def too_long(data, at):  # the expression's length, after row, col, xf, result, flags and chn
        struct.pack_into("<H", data, at + 4 + 20, 200)

    patch_record(path, 0x0006, 40, 3, too_long)
    report = tongji.validate(tmp_path)
    assert status(report, "good.xlsx") == ([], ["通过"])
    assert status(report, "panic.xls") == ([["unreadable", "", "错误"]], ["退回"])
    message = report.for_file("panic.xls").issues["message"][0]
    assert message.startswith("读取程序无法处理这个工作簿") and "技术细节：" in message
    assert "panicked" not in capfd.readouterr().err  # Rust's own report of the panic is not shown


# --- 2. aborts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ref, row, key", [("XFD1048576", 1048576, "rows"), ("XFD60", 60, "cols"),
                                           ("A10001", 10001, "rows")])
def test_a_stray_far_cell_refuses_its_sheet_not_the_process(tmp_path, ref, row, key):
    """One value at XFD1048576 made calamine ask for 512 GiB and abort."""
    rezip(unit(tmp_path / "far.xlsx", 2, {"HY02": 101}), MEMBER_PART, far_cell(ref, row))
    report = tongji.validate(tmp_path)
    issues = report.flatten(["rule", "sheet", "severity"])
    assert issues == [["too-large", "会员", "错误"]]  # hy02-le-hy01 is on the sheet not read; no missing-row either
    limit = {"rows": "第 10000 行以下还有内容（读取上限 10000 行）",
             "cols": "第 200 列以右还有内容（读取上限 200 列）"}[key]
    assert report.issues["message"][0] == f"工作表“会员”{limit}，该表未读取；" + (
        "请删去表格下方多余的行" if key == "rows" else "请删去右侧多余的列")


NS = b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize("cell", [
    b'<x:c %s r="XFD1048576"><x:v>1</x:v></x:c>' % NS,  # any namespace prefix
    b'<y:c xmlns:y="urn:other" r="XFD1048576"><y:v>1</y:v></y:c>',  # even one bound elsewhere
    b'<c\tr="XFD1048576"><v>1</v></c>', b'<c\nr="XFD1048576"><v>1</v></c>',  # any white space
    b"<c r='XFD1048576'><v>1</v></c>", b'<c r = "XFD1048576"><v>1</v></c>',  # any quotes, spaces around =
], ids=["prefix", "foreign-prefix", "tab", "newline", "single-quotes", "spaced"])
def test_a_far_cell_written_any_way_xml_allows_is_screened(tmp_path, cell):
    """calamine reads all of these as the cell XFD1048576 (each made it abort before the screen knew them)."""
    rezip(unit(tmp_path / "far.xlsx", 2), MEMBER_PART, before_end(b'<row r="1048576">' + cell + b"</row>"))
    report = tongji.validate(tmp_path)
    assert report.flatten(["rule", "sheet"]) == [["too-large", "会员"]]


def test_one_cell_written_again_and_again_is_counted(tmp_path):
    """Every reference near, but more cells than the limit's rows × columns: refused, as calamine keeps each."""
    spec = load_spec()
    small = dataclasses.replace(spec, params=spec.params | {"工作表行数上限": 100, "工作表列数上限": 10})
    again = b'<row r="99">' + b'<c r="A99"><v>1</v></c>' * 1001 + b"</row>"
    rezip(unit(tmp_path / "again.xlsx", 50), MEMBER_PART, before_end(again))
    unit(tmp_path / "good.xlsx", 51)
    report = tongji.validate(tmp_path, spec=small)
    assert report.flatten(["rule", "sheet"]) == [["too-large", "会员"]]
    assert "1000" in report.issues["message"][0]


def test_a_zip_read_the_long_way_is_screened_alike(tmp_path):
    """The screen reads a plain zip's directory itself and leaves any other (here one with an archive comment)
    to zipfile: both ways a far cell is found and a good workbook read."""
    for n, name in enumerate(("plain.xlsx", "comment.xlsx")):
        rezip(unit(tmp_path / name, 30 + n), MEMBER_PART, far_cell("XFD1048576", 1048576))
        unit(tmp_path / f"good-{name}", 40 + n)
    for name in ("comment.xlsx", "good-comment.xlsx"):
        with zipfile.ZipFile(tmp_path / name, "a") as z:
            z.comment = "一个注释".encode()
    report = tongji.validate(tmp_path)
    assert report.flatten(["file", "rule", "sheet"]) == [
        [str(tmp_path / name), "too-large", "会员"] for name in ("comment.xlsx", "plain.xlsx")]
    assert report.workbooks["status"].to_list().count("通过") == 2


def test_far_but_empty_cells_and_a_wide_dimension_are_harmless(tmp_path):
    """A formatted empty cell far away, or a sheet's <dimension> declaring the whole grid, cost calamine
    nothing (it sizes its grid from the cells holding values), so they are read as usual."""
    path = unit(tmp_path / "styled.xlsx", 3)
    rezip(path, MEMBER_PART, lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'))
    path = unit(tmp_path / "dimension.xlsx", 4)
    rezip(path, MEMBER_PART, lambda xml: xml.replace(b'<dimension ref="', b'<dimension ref="A1:XFD1048576" x="'))
    assert b'"A1:XFD1048576"' in zipfile.ZipFile(path).read(MEMBER_PART)
    report = tongji.validate(tmp_path)
    assert report.issues.height == 0


def test_cells_without_references_are_counted_too(tmp_path):
    """Cells may omit r="…"; then their place is counted, as calamine counts it."""
    wide = b"<row>" + b"<c><v>1</v></c>" * 300 + b"</row>"
    rezip(unit(tmp_path / "wide.xlsx", 5), MEMBER_PART, before_end(wide))
    report = tongji.validate(tmp_path)
    assert report.flatten(["rule", "sheet"]) == [["too-large", "会员"]]
    assert "第 200 列以右" in report.issues["message"][0]


def test_xls_far_cells_are_screened_before_calamine(tmp_path):
    """In .xls a value at row 65536 costs calamine 1 GiB and 3 s; a damaged record naming column 65535
    aborts it; a DIMENSIONS record whose first row is after its last asks for 257 GB."""
    make_xls(tmp_path / "far.xls", lambda s: s["会员"].write(65535, 255, 1))
    damaged = make_xls(tmp_path / "damaged.xls", lambda s: s["会员"].write(50, 3, 12345.678))
    patch_record(damaged, 0x0203, 50, 3, lambda d, at: struct.pack_into("<HH", d, at + 4, 0xFFFF, 0xFFFF))
    dims = make_xls(tmp_path / "dims.xls")
    data = bytearray(dims.read_bytes())
    at = data.index(struct.pack("<HH", 0x0200, 14))  # the first sheet's DIMENSIONS record
    struct.pack_into("<I", data, at + 4, 0xC0000004)
    dims.write_bytes(bytes(data))
    report = tongji.validate(tmp_path)
    assert status(report, "far.xls") == ([["too-large", "", "错误"]], ["退回"])
    assert status(report, "damaged.xls") == ([["too-large", "", "错误"]], ["退回"])
    assert status(report, "dims.xls") == ([["unreadable", "", "错误"]], ["退回"])
    assert "尺寸记录超出 .xls 格式的上限" in report.for_file("dims.xls").issues["message"][0]
    english = report.issues_in("en").filter(report.issues_in("en")["file"].str.ends_with("dims.xls"))["message"][0]
    assert english.endswith("(technical detail: sheet '封面' declares a size beyond the .xls limits)"), english


# --- 3. bounds: zip bombs and the limits as configuration ---------------------------------------


@pytest.mark.parametrize("declared", [None, 20_000], ids=["honest", "lying"])
def test_a_zip_bomb_is_refused_quickly_and_cheaply(tmp_path, declared):
    """3.9 MB on disk, 3.9 GB inflated: read whole at 4 GiB RSS and passed before. Honest headers are refused
    at once; headers that lie are caught by inflating no more than the limit."""
    path = bomb(tmp_path / "bomb.xlsx", 3.9, declared)
    assert path.stat().st_size < 5 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    report = tongji.validate(tmp_path)
    assert time.perf_counter() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300 * 1024  # KiB
    assert status(report, "bomb.xlsx") == ([["too-large", "", "错误"]], ["退回"])
    assert report.issues["message"][0].startswith("工作簿解压后超过 100 MB（读取上限），未读取")


def test_the_limits_are_configuration(tmp_path):
    """schemas/forms.toml [config] holds the defaults; a plugin or a test may change them."""
    spec = load_spec()
    assert {k: spec.params[k] for k in ("工作簿解压上限MB", "工作表行数上限", "工作表列数上限", "读取时限秒")} == {
        "工作簿解压上限MB": 100, "工作表行数上限": 10000, "工作表列数上限": 200, "读取时限秒": 10}
    unit(tmp_path / "a.xlsx", 6)
    small = dataclasses.replace(spec, params=spec.params | {"工作表行数上限": 5})
    report = tongji.validate(tmp_path, spec=small)
    assert report.flatten(["rule", "sheet"]) == [["too-large", f.sheet] for f in spec.forms]
    tiny = dataclasses.replace(spec, params=spec.params | {"工作簿解压上限MB": 0.01})
    report = tongji.validate(tmp_path, spec=tiny)
    assert report.flatten(["rule"]) == [["too-large"]]
    assert report.issues["message"][0].startswith("工作簿解压后超过 0.01 MB")


# --- 4. floods -----------------------------------------------------------------------------------

def test_a_million_pasted_rows_refuse_the_sheet_in_a_moment(tmp_path):
    """1,000,000 rows pasted below a form gave a million extra-row warnings (265 MB of CSV, minutes)."""
    rows = b'<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c><c/><c><v>1</v></c></row>' * 1_000_000
    rezip(unit(tmp_path / "flood.xlsx", 7), MEMBER_PART, before_end(rows))
    start = time.perf_counter()
    report = tongji.validate(tmp_path)
    assert time.perf_counter() - start < 5
    assert report.flatten(["rule", "sheet"]) == [["too-large", "会员"]]


def test_extra_rows_are_named_a_few_then_counted(tmp_path):
    path = unit(tmp_path / "extra.xlsx", 8)
    wb = openpyxl.load_workbook(path)
    for i in range(300):
        wb["会员"].append([f"补充指标{i}", f"HY{100 + i}", "人", i])
    wb.save(path)
    report = tongji.validate(tmp_path)
    rules = [r for (r,) in report.flatten(["rule"])]
    assert rules == ["extra-row"] * 5 + ["extra-rows-more"]
    assert report.issues["message"][5] == "另有 295 行不在标准报表中，未读取，不再逐行列出"


# --- 5. .ods ---------------------------------------------------------------------------------------

def test_ods_files_in_folders_are_counted(tmp_path):
    for name in ("a.xlsx", "b.ods", "c.xls", "d.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in discover([tmp_path])] == ["a.xlsx", "b.ods", "c.xls"]


def to_ods(path: Path, out_dir: Path) -> Path:
    """Convert with LibreOffice, in a profile of its own so that a running LibreOffice does not interfere."""
    profile = out_dir / "lo-profile"
    subprocess.run([shutil.which("libreoffice"), f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "ods", "--outdir", str(out_dir), str(path)],
                   check=True, capture_output=True, timeout=180)
    shutil.rmtree(profile, ignore_errors=True)
    return out_dir / (path.stem + ".ods")


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_ods_formula_errors_are_cell_errors_not_zero(tmp_path):
    """calamine reads an .ods formula error as empty text, which counted as 0 with no word said."""
    src = tmp_path / "src"
    unit(src / "good.xlsx", 9)
    bad = unit(src / "bad.xlsx", 10)
    wb = openpyxl.load_workbook(bad)
    ref = cell_of("HY13").split("!")[1]
    wb["会员"][ref] = "=1/0"
    wb.save(bad)
    out = tmp_path / "in"
    out.mkdir()
    to_ods(src / "good.xlsx", out)
    to_ods(bad, out)
    report = tongji.validate(out)
    assert status(report, "good.ods") == ([], ["通过"])
    assert report.for_file("bad.ods").flatten(["rule", "cell", "value"]) == [["cell-error", cell_of("HY13"), "#DIV/0!"]]


# --- 6. sheet names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("index", [1, 2], ids=["before", "after"])
def test_the_exact_sheet_name_wins_and_its_near_twin_is_named(tmp_path, index):
    path = unit(tmp_path / "twins.xlsx", 11)
    wb = openpyxl.load_workbook(path)
    twin = wb.copy_worksheet(wb["会员"])
    twin.title = "会员 "
    twin[cell_of("HY02").split("!")[1]] = 101  # would break hy02-le-hy01 if it were read
    wb.move_sheet(twin, offset=index - wb.sheetnames.index("会员 "))
    wb.save(path)
    report = tongji.validate(tmp_path)
    assert report.flatten(["rule", "sheet", "severity"]) == [["near-duplicate-sheet", "会员", "警告"]]
    assert report.issues["message"][0] == "有两张名称几乎相同的工作表“会员”和“会员 ”，已读取“会员”；请删去多余的一张"


# --- 7. hidden names -------------------------------------------------------------------------------

def test_only_lock_files_and_resource_forks_are_skipped(tmp_path):
    for name in ("..报表.xlsx", ".报表.xlsx", "~$报表.xlsx", "._报表.xlsx", "报表.xlsx"):
        (tmp_path / name).write_bytes(b"x")
    assert sorted(p.name for p in discover([tmp_path])) == sorted(["..报表.xlsx", ".报表.xlsx", "报表.xlsx"])


# --- 8. the library's English is only a detail --------------------------------------------------------

def test_reading_problems_are_told_in_chinese_then_english(tmp_path):
    rezip(unit(tmp_path / "entity.xlsx", 12), MEMBER_PART, lambda xml: xml.replace(b"<t>", b"<t>&bogus;", 1))
    rezip(unit(tmp_path / "workbook.xlsx", 13), "xl/workbook.xml", lambda xml: b"garbage")
    report = tongji.validate(tmp_path)
    messages = dict(zip(report.issues["file"].to_list(), report.issues["message"].to_list(), strict=True))
    entity = next(m for f, m in messages.items() if f.endswith("entity.xlsx"))
    damaged = next(m for f, m in messages.items() if f.endswith("workbook.xlsx"))
    assert entity.startswith("工作簿内部的表格数据（XML）有错误，无法读取；") and "技术细节：calamine" in entity
    assert damaged.startswith("工作簿已损坏，无法读取；") and "Cannot detect file format" in damaged
    english = report.issues_in("en")["message"].to_list()  # the variant and its params are kept, not the text
    starts = ("The workbook's sheet data (XML) is malformed", "The workbook is damaged")
    assert all(m.startswith(starts) for m in english)


# --- 10. a batch of good and hostile files -------------------------------------------------------------

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "2025"


def test_hostile_files_change_nothing_for_the_good_ones(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    for path in sorted(SAMPLES.rglob("*.xlsx"))[:12]:
        shutil.copy(path, good / path.name)
    alone = tongji.validate(good)
    mixed = tmp_path / "mixed"
    shutil.copytree(good, mixed)
    hostile = mixed / "hostile"
    hostile.mkdir()
    rezip(unit(hostile / "far.xlsx", 20), MEMBER_PART, far_cell("XFD1048576", 1048576))
    bomb(hostile / "bomb.xlsx", 1, declared=20_000)
    panic = make_xls(hostile / "panic.xls", lambda s: s["会员"].write(40, 3, xlwt.Formula("1+2")))
    patch_record(panic, 0x0006, 40, 3, lambda d, at: struct.pack_into("<H", d, at + 4 + 20, 200))
    rezip(unit(hostile / "entity.xlsx", 21), MEMBER_PART, lambda xml: xml.replace(b"<t>", b"<t>&bogus;", 1))
    (hostile / "text.xlsx").write_text("不是工作簿", encoding="utf-8")
    report = tongji.validate(mixed)
    for path in sorted(good.iterdir()):
        keys = ["rule", "sheet", "cell", "severity", "message"]
        assert report.for_file(path.name).flatten(keys) == alone.for_file(path.name).flatten(keys), path.name
        assert report.for_file(path.name).workbooks["status"].to_list() == \
            alone.for_file(path.name).workbooks["status"].to_list()
    for path in hostile.iterdir():
        assert report.for_file(path.name).workbooks["status"].to_list() == ["退回"], path.name
