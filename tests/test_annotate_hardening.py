"""Annotated copies, hardened (issue 9): re-annotation starts clean, formula results survive, text stays text,
one broken workbook does not stop the batch, the 问题清单 prints on A4 pages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import openpyxl
import polars as pl
import pytest
from openpyxl.comments import Comment
from openpyxl.packaging.custom import IntProperty, StringProperty
from openpyxl.styles import PatternFill
from typer.testing import CliRunner

import tongji
import tongji.writing.annotate as annotate
from test_annotate import RED, fill_of, frame, issue, list_rows, make_source, sample_issues
from tongji.errors import TongjiError
from tongji.writing.annotate import annotate_all, annotate_workbook
from workbooks import cell_of, make_workbook

PALE = "FFF2CC"  # the templates' input cells
GREEN = "C6EFCE"


def office() -> str:
    found = shutil.which("libreoffice") or shutil.which("soffice")
    if not found:
        pytest.skip("LibreOffice is not installed")
    return found


def convert(path: Path, to: str, folder: Path) -> Path:
    profile = (folder / "lo-profile").as_uri()
    subprocess.run([office(), f"-env:UserInstallation={profile}", "--headless", "--convert-to", to,
                    "--outdir", str(folder), str(path)], capture_output=True, timeout=180, check=True)
    return folder / f"{path.stem}.{to}"


# ---- 1. re-annotation starts from the unit's workbook, without last round's marks ----------------------


def unit_source(path: Path) -> Path:
    """A unit's workbook: pale-yellow input cells, its own note on D9 and B8, its own red on E8."""
    make_source(path, comment="请核实女会员人数")
    wb = openpyxl.load_workbook(path)
    ws = wb["会员"]
    for ref in ("D8", "D9", "D10"):
        ws[ref].fill = PatternFill("solid", fgColor=PALE)
    ws["E8"].fill = PatternFill("solid", fgColor=RED)  # Excel's "Bad" style: the unit's choice, not ours
    ws["B8"].comment = Comment("代码已核对", "李四")
    wb.save(path)
    return path


def round_two(src: Path) -> pl.DataFrame:
    return frame([issue(src, "错误", "not-a-number", "会员!D10", code="HY05", message="“1,234”不是数字")])


def cells(path: Path, sheet: str = "会员") -> dict:
    """Every cell's value, colour and note, to compare two copies cell by cell."""
    ws = openpyxl.load_workbook(path)[sheet]
    return {c.coordinate: (c.value, fill_of(c), c.comment and (c.comment.text, c.comment.author))
            for row in ws.iter_rows() for c in row}


def test_reannotating_last_rounds_copy_starts_clean(tmp_path):
    src = unit_source(tmp_path / "in" / "a.xlsx")
    first = annotate_workbook(src, sample_issues(src), tmp_path / "round1" / "a.xlsx")
    returned = shutil.copy(first, tmp_path / "returned.xlsx")  # the unit fixed the copy and sent it back

    again = annotate_workbook(returned, round_two(returned), tmp_path / "round2" / "a.xlsx")
    fresh = annotate_workbook(src, round_two(src), tmp_path / "fresh" / "a.xlsx")

    wb = openpyxl.load_workbook(again)
    assert wb.sheetnames == ["问题清单", "封面", "会员"]
    assert [r[2] for r in list_rows(wb)[1:]] == ["not-a-number"]
    ws = wb["会员"]
    assert fill_of(ws["D8"]) == PALE and fill_of(ws["D9"]) == PALE  # the unit's fills are back
    assert ws["D8"].comment is None
    assert (ws["D9"].comment.text, ws["D9"].comment.author) == ("请核实女会员人数", "张三")
    assert fill_of(ws["E8"]) == RED and ws["B8"].comment.text == "代码已核对"
    assert fill_of(ws["D10"]) == RED and ws["D10"].comment.text.count("[错误]") == 1
    assert [p.name for p in wb.custom_doc_props.props] == ["tongji 会员!D10"]
    assert cells(again) == cells(fresh)  # exactly as if annotated from the unit's own workbook
    rerun = annotate_workbook(returned, round_two(returned), tmp_path / "round2b" / "a.xlsx")
    assert rerun.read_bytes() == again.read_bytes()


def test_without_records_our_commented_colours_go_and_the_units_stay(tmp_path):
    src = unit_source(tmp_path / "a.xlsx")
    first = annotate_workbook(src, sample_issues(src), tmp_path / "round1.xlsx")
    wb = openpyxl.load_workbook(first)  # the unit copied the sheets into a new file: no properties
    wb.custom_doc_props.props = []
    wb["会员"]["D9"].fill = PatternFill("solid", fgColor=GREEN)  # and recoloured one cell themselves
    wb.save(tmp_path / "returned.xlsx")

    ws = openpyxl.load_workbook(annotate_workbook(tmp_path / "returned.xlsx", frame([]), tmp_path / "r2.xlsx"))["会员"]
    assert fill_of(ws["D8"]) is None  # ours (our note said so), original unknown
    assert fill_of(ws["D9"]) == GREEN and ws["D9"].comment.text == "请核实女会员人数"
    assert fill_of(ws["E8"]) == RED  # the unit's red, never commented by us
    assert all(c.comment is None or "[" not in c.comment.text for row in ws.iter_rows() for c in row)


def test_reannotating_after_a_libreoffice_round_trip(tmp_path):
    src = unit_source(tmp_path / "a.xlsx")
    first = annotate_workbook(src, sample_issues(src), tmp_path / "round1" / "a.xlsx")
    edited = convert(first, "xlsx", tmp_path / "lo")  # the unit opened and saved it in LibreOffice
    ws = openpyxl.load_workbook(annotate_workbook(edited, round_two(edited), tmp_path / "r2.xlsx"))["会员"]
    assert fill_of(ws["D8"]) == PALE and fill_of(ws["D9"]) == PALE and fill_of(ws["E8"]) == RED
    assert ws["D8"].comment is None and ws["D9"].comment.text.strip() == "请核实女会员人数"
    assert fill_of(ws["D10"]) == RED


def test_odd_records_and_a_missing_sheet_do_not_stop_the_copy(tmp_path):
    src = unit_source(tmp_path / "a.xlsx")
    first = annotate_workbook(src, sample_issues(src), tmp_path / "round1.xlsx")
    wb = openpyxl.load_workbook(first)
    wb.custom_doc_props.append(StringProperty(name="tongji 会员!D8:D9", value="<fill/>"))  # a range
    wb.custom_doc_props.append(StringProperty(name="tongji 没有这张表!A1", value="<fill/>"))
    wb.custom_doc_props.append(IntProperty(name="tongji 会员!E9", value=3))
    wb.custom_doc_props.append(StringProperty(name="审核人", value="王五"))  # the unit's own property
    wb.save(tmp_path / "returned.xlsx")
    out = openpyxl.load_workbook(annotate_workbook(tmp_path / "returned.xlsx", frame([]), tmp_path / "r2.xlsx"))
    assert out.sheetnames == ["问题清单", "封面", "会员"]
    assert fill_of(out["会员"]["D8"]) == PALE
    assert [p.name for p in out.custom_doc_props.props] == ["审核人"]


# ---- 2. the unit's formulas keep their saved results -------------------------------------------------


def formula_workbook(path: Path) -> tuple[Path, str]:
    """JF01 as a SUM and the cover's 填表人 as a text formula, each with the result Excel would have saved."""
    make_workbook(path)
    wb = openpyxl.load_workbook(path)
    row = int(cell_of("JF01").split("D")[1])
    wb["经费"].cell(row, 4).value = f"=SUM(D{row + 1}:D{row + 8})"
    filler = cell_of("FM08").split("!")[1]
    wb["封面"][filler].value = '="张"&"三"'
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    for name, body in parts.items():  # what Excel writes: the formula and its result
        body = body.replace(f"<f>SUM(D{row + 1}:D{row + 8})</f><v />".encode(),
                            f"<f>SUM(D{row + 1}:D{row + 8})</f><v>135799.5</v>".encode())
        parts[name] = re.sub(rb'(<c r="' + filler.encode() + rb'"[^>]*)>(<f>[^<]*</f>)<v />',
                             rb'\1 t="str">\2<v>' + "张三".encode() + b"</v>", body)
    with zipfile.ZipFile(path, "w") as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return path, filler


def values(path: Path) -> dict:
    reader = fastexcel.read_excel(str(path))
    return {name: reader.load_sheet(name, header_row=None, dtypes="string").to_polars().rows()
            for name in reader.sheet_names if name != "问题清单"}


def test_formula_results_are_kept(tmp_path):
    src, filler = formula_workbook(tmp_path / "in" / "unit.xlsx")
    assert tongji.validate(src).flatten(["rule"]) == []  # the fixture itself reads as calculated
    issues = frame([issue(src, "错误", "hy04-le-hy03", cell_of("HY04"))])
    out = annotate_workbook(src, issues, tmp_path / "out" / "unit.xlsx")

    report = tongji.validate(out)
    assert "formula-no-value" not in [r for (r,) in report.flatten(["rule"])]
    assert values(out) == values(src)
    wb = openpyxl.load_workbook(out)
    assert wb["经费"][cell_of("JF01").split("!")[1]].value.startswith("=SUM(")  # the formula itself stays
    assert wb["封面"][filler].value == '="张"&"三"'
    again = annotate_workbook(src, issues, tmp_path / "again" / "unit.xlsx")
    assert again.read_bytes() == out.read_bytes()


def test_formula_results_kept_from_a_libreoffice_workbook(tmp_path):
    plain = make_workbook(tmp_path / "plain" / "unit.xlsx")
    wb = openpyxl.load_workbook(plain)
    row = int(cell_of("JF01").split("D")[1])
    wb["经费"].cell(row, 4).value = f"=SUM(D{row + 1}:D{row + 8})"
    wb.save(plain)
    src = convert(plain, "xlsx", tmp_path / "calculated")  # LibreOffice calculates and saves the results
    assert tongji.validate(src).flatten(["rule"]) == []
    out = annotate_workbook(src, frame([issue(src, "错误", "r", cell_of("HY04"))]), tmp_path / "out.xlsx")
    assert tongji.validate(out).flatten(["rule"]) == []
    assert values(out) == values(src)


# ---- 3. text from issues is written as inert text ----------------------------------------------------


def test_control_characters_and_formula_like_text_stay_plain_text(tmp_path):
    src = make_source(tmp_path / "a.xlsx")
    issues = frame([
        issue(src, "错误", "r1", "会员!D9", value="=HYPERLINK(\"http://x\")", name="女\x00会员\x1f",
              message="第一行\x0b\n第二行\ufffe", explained="@SUM(A1)", diff=float("inf")),
        issue(src, "警告", "r2", "会员!D8", value="+86 571", message="-5 不是人数", code="\x07HY03"),
    ])
    out = annotate_workbook(src, issues, tmp_path / "out.xlsx")
    with zipfile.ZipFile(out) as z:  # every part is well-formed XML: Excel will not call the copy damaged
        for name in z.namelist():
            if name.endswith((".xml", ".vml", ".rels")):
                ElementTree.fromstring(z.read(name))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["问题清单", "封面", "会员"]  # the real copy, not the list-only fallback
    ws = wb["问题清单"]
    assert [ws[c].value for c in ("H2", "G2", "I2", "K2", "H3", "I3", "F3")] == [
        '=HYPERLINK("http://x")', "女会员", "第一行\n第二行", "@SUM(A1)", "+86 571", "-5 不是人数", "HY03"]
    assert all(ws[c].data_type == "s" for c in ("H2", "K2", "H3", "I3"))
    assert all(ws[c].quotePrefix for c in ("H2", "K2", "H3", "I3"))
    assert ws["J2"].value is None  # an infinite difference is left out, not written as "inf"
    note = wb["会员"]["D9"].comment.text
    assert note == "[错误] r1：第一行 第二行（已说明：@SUM(A1)）"  # one line: the next round can find it


# ---- 4. one workbook failing does not stop the others ------------------------------------------------


class Panic(BaseException):
    """Like pyo3's PanicException: derived from BaseException, not Exception."""


def three_sources(tmp_path: Path) -> tuple[list[Path], pl.DataFrame]:
    srcs = [make_source(tmp_path / "in" / f"{n}.xlsx") for n in "abc"]
    return srcs, frame([issue(s, "错误", "hy04-le-hy03", "会员!D9") for s in srcs])


def test_a_panic_while_marking_gives_that_workbook_its_list_only(tmp_path, monkeypatch):
    srcs, issues = three_sources(tmp_path)
    real = annotate._mark_cells

    def mark(wb, rows, lang):
        if rows and rows[0]["file"] == str(srcs[1]):
            raise Panic("called `Option::unwrap()` on a `None` value")
        real(wb, rows, lang)

    monkeypatch.setattr(annotate, "_mark_cells", mark)
    written = annotate_all(issues, tmp_path / "out", root=tmp_path / "in")
    assert [p.name for p in written] == ["a.xlsx", "b.xlsx", "c.xlsx"]
    names = [openpyxl.load_workbook(p).sheetnames for p in written]
    assert names == [["问题清单", "封面", "会员"], ["问题清单"], ["问题清单", "封面", "会员"]]


def test_a_copy_that_cannot_be_written_at_all_is_named_after_the_others_are_written(tmp_path, monkeypatch):
    srcs, issues = three_sources(tmp_path)
    real = annotate._add_list_sheet

    def add(wb, rows, lang):
        if rows and rows[0]["file"] == str(srcs[0]):
            raise Panic("boom")
        real(wb, rows, lang)

    monkeypatch.setattr(annotate, "_add_list_sheet", add)
    (tmp_path / "out" / "c.xlsx").mkdir(parents=True)  # a folder where c's copy goes: the rename fails
    with pytest.raises(TongjiError) as err:
        annotate_all(issues, tmp_path / "out", root=tmp_path / "in")
    assert err.value.key == "annotate-some-failed"
    message = str(err.value)
    assert message.startswith("已写出 1 份标注副本") and "2 份未能写出" in message
    assert "a.xlsx 的标注副本未能写出（Panic: boom）" in message and "c.xlsx" in message
    assert openpyxl.load_workbook(tmp_path / "out" / "b.xlsx").sheetnames == ["问题清单", "封面", "会员"]


def dying_chunk(start, plans, *args, tick=None):
    """annotate's task, in a worker process that dies outright (as the kernel kills a process out of memory) when
    its share holds b.xlsx."""
    if any(Path(source).name == "b.xlsx" for source, _ in plans):
        os._exit(9)
    return annotate._annotate_chunk(start, plans, *args, tick=tick)


def test_a_copy_whose_worker_process_dies_is_named_and_the_others_written(tmp_path, monkeypatch):
    """Copies written by worker processes: the process writing b's copy dies. The copies its share held are
    written again in processes of their own until b's alone is left; b is named as not written, in the run's
    language, and the others are written all the same."""
    srcs, issues = three_sources(tmp_path)
    monkeypatch.setattr(annotate, "SPREAD_MIN", 2)
    monkeypatch.setattr(annotate, "_annotate_chunk", dying_chunk)
    ticks = []
    with pytest.raises(TongjiError) as err:
        annotate_all(issues, tmp_path / "out", root=tmp_path / "in", lang="en", workers=2,
                     tick=lambda: ticks.append(1))
    assert err.value.key == "annotate-some-failed" and err.value.kw["n"] == 2 and err.value.kw["m"] == 1
    assert err.value.kw["items"] == ("The annotated copy of b.xlsx could not be written (the process writing it "
                                     "stopped unexpectedly)")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.xlsx", "c.xlsx"]
    listed = openpyxl.load_workbook(tmp_path / "out" / "c.xlsx")["问题清单"]
    assert listed["A1"].value == annotate.HEADERS[0][1] and listed["A2"].value is not None  # labels in English
    assert len(ticks) == 3


def test_interrupting_is_not_swallowed(tmp_path, monkeypatch):
    _, issues = three_sources(tmp_path)
    monkeypatch.setattr(annotate, "_mark_cells", lambda wb, rows, lang: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        annotate_all(issues, tmp_path / "out")


def test_cli_reports_a_failed_copy_in_one_chinese_line(tmp_path):
    from tongji import cli

    cli._register()
    folder = tmp_path / "收到的报表"
    make_workbook(folder / "a.xlsx", {"HY04": 200})
    make_workbook(folder / "b.xlsx", {"HY04": 200})
    (tmp_path / "退回" / "a.xlsx").mkdir(parents=True)
    result = CliRunner().invoke(cli.app, ["validate", str(folder), "--annotate", str(tmp_path / "退回")])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert "1 份未能写出" in result.output
    assert openpyxl.load_workbook(tmp_path / "退回" / "b.xlsx").sheetnames[0] == "问题清单"


# ---- 5. the 问题清单 prints on A4 pages, as wide as the page ---------------------------------------------


def long_issues(src: Path) -> pl.DataFrame:
    return frame([issue(src, "错误", "hy04-le-hy03", "会员!D9", name="其中：女会员" * 3,
                        message="女会员人数大于会员人数，请核实后重新填报。" * 4)] * 3)


def test_list_sheet_prints_fitted_to_a4_width(tmp_path):
    src = make_source(tmp_path / "a.xlsx")
    ws = openpyxl.load_workbook(annotate_workbook(src, long_issues(src), tmp_path / "out.xlsx"))["问题清单"]
    setup = ws.page_setup
    assert (setup.orientation, int(setup.paperSize), int(setup.fitToWidth), int(setup.fitToHeight)) == (
        "landscape", 9, 1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"


def test_list_sheet_is_not_printed_in_vertical_strips(tmp_path):
    src = make_source(tmp_path / "a.xlsx")
    out = annotate_workbook(src, long_issues(src), tmp_path / "out" / "a.xlsx")
    pdf = convert(out, "pdf", tmp_path / "pdf").read_bytes()
    pages = []  # (width, height) of each page object
    for chunk in pdf.split(b"endobj"):
        if re.search(rb"/Type\s*/Page\b", chunk):
            box = re.search(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", chunk)
            x0, y0, x1, y1 = (float(v) for v in box.group(1).split())
            pages.append((round(x1 - x0), round(y1 - y0)))
    assert pages.count((842, 595)) == 1  # the whole list on one A4 landscape page
    assert len(pages) == 2  # and one page for 会员 (封面 is empty)
