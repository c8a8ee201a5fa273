"""Annotated copies: coloured cells, comments, the 问题清单 sheet, and never touching the source."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from openpyxl.comments import Comment
from openpyxl.worksheet.datavalidation import DataValidation

from tongji.errors import TongjiError
from tongji.i18n import set_lang
from tongji.writing.annotate import annotate_all, annotate_workbook

RED, YELLOW = "FFC7CE", "FFC000"  # warnings amber, unlike the pale-yellow input cells
SCHEMA = {
    "file": pl.Utf8, "unit": pl.Utf8, "unit_name": pl.Utf8, "severity": pl.Utf8, "rule": pl.Utf8,
    "sheet": pl.Utf8, "cell": pl.Utf8, "cells": pl.List(pl.Utf8), "code": pl.Utf8, "name": pl.Utf8,
    "value": pl.Utf8, "message": pl.Utf8, "diff": pl.Float64, "explained": pl.Utf8,
}


def make_source(path: Path, *, protect: bool = False, comment: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "封面"
    ws = wb.create_sheet("会员")
    ws.merge_cells("A1:E1")
    ws["A1"] = "会员情况"
    ws.append([])
    ws.append([])
    ws.append([])
    ws.append([])
    ws.append([])
    ws.append(["指标名称", "代码", "计量单位", "本期数", "说明"])  # row 7
    ws.append(["会员人数", "HY03", "人", 100, None])  # row 8
    ws.append(["其中：女会员", "HY04", "人", 120, None])  # row 9
    ws.append(["其中：农民工会员", "HY05", "人", "1,234", None])  # row 10
    dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    dv.add("D8:D30")
    ws.add_data_validation(dv)
    if comment:
        ws["D9"].comment = Comment(comment, "张三")
    if protect:
        ws.protection.sheet = True
        ws.protection.password = "secret"
    wb.active = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def issue(file: Path | str, severity: str, rule: str, cell: str, cells: list[str] | None = None,
          **kw) -> dict:
    row = {k: None for k in SCHEMA}
    row.update({
        "file": str(file), "unit": "81350100M000100Y43", "unit_name": "某公司工会", "severity": severity,
        "rule": rule, "sheet": cell.partition("!")[0] if cell else "", "cell": cell, "cells": cells or [],
        "code": "", "name": "", "value": "", "message": f"{rule} 的说明",
    })
    row.update(kw)
    return row


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA)


def sample_issues(src: Path) -> pl.DataFrame:
    return frame([
        issue(src, "提示", "text-number", "会员!D10", code="HY05", value="1,234",
              message="“1,234”是文本，已按数字 1234 读取"),
        issue(src, "警告", "hy03-le-hy01", "会员!D8", ["会员!D8"], code="HY03", value="100",
              message="会员人数大于职工人数", explained="含退休会员"),
        issue(src, "错误", "hy04-le-hy03", "会员!D9", ["会员!D9", "会员!D8"], code="HY04",
              name="其中：女会员",
              value="120", message="女会员人数（120）大于会员人数（100）", diff=20.0),
    ])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill_of(cell) -> str | None:
    if cell.fill is None or cell.fill.fill_type != "solid":
        return None
    return cell.fill.fgColor.rgb[-6:]


def list_rows(wb) -> list[tuple]:
    return list(wb["问题清单"].iter_rows(values_only=True))


def test_copy_marks_cells_and_leaves_source_alone(tmp_path):
    src = make_source(tmp_path / "in" / "a.xlsx")
    before = sha(src)
    out = annotate_workbook(src, sample_issues(src), tmp_path / "out" / "a.xlsx")

    assert out == tmp_path / "out" / "a.xlsx"
    assert sha(src) == before
    wb = openpyxl.load_workbook(out)
    ws = wb["会员"]
    assert fill_of(ws["D8"]) == RED  # shared by the error and the warning: the error wins
    assert fill_of(ws["D9"]) == RED
    assert fill_of(ws["D10"]) not in (None, RED, YELLOW)  # the notice's own light blue
    marked = {c.coordinate for row in ws.iter_rows() for c in row if fill_of(c)}
    assert marked == {"D8", "D9", "D10"}
    d8 = ws["D8"].comment
    assert d8.author == "tongji"
    assert "[警告] hy03-le-hy01：会员人数大于职工人数" in d8.text
    assert "[错误] hy04-le-hy03：女会员人数（120）大于会员人数（100）" in d8.text
    assert "含退休会员" in d8.text
    with zipfile.ZipFile(out) as z:  # openpyxl does not read comment sizes back; the VML holds them
        vml = next(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
    assert "width:320px" in vml and "height:79px" not in vml
    assert ws["B8"].comment is None


def test_a_long_message_has_a_row_tall_enough_in_the_list(tmp_path):
    """问题说明 wraps in its 60-character column, but neither Excel nor LibreOffice makes the row taller when
    they open the copy: the row is made tall enough, or the submitter sees (and prints) its first line only."""
    src = make_source(tmp_path / "in" / "a.xlsx")
    long = ("全部数值与 单位 81330106MQ8332137E（81330106MQ8332137E_示例市万和精密机械有限公司工会_2025.xlsx）"
            "完全相同，可能是复制的工作簿，请核实")
    issues = frame([issue(src, "警告", "copied-workbook", "会员!D8", message=long),
                    issue(src, "错误", "hy04-le-hy03", "会员!D9", message="女会员人数（120）大于会员人数（100）")])
    ws = openpyxl.load_workbook(annotate_workbook(src, issues, tmp_path / "out" / "a.xlsx"))["问题清单"]
    tall, short = (next(r for r in range(2, 4) if ws.cell(r, 3).value == rule)
                   for rule in ("copied-workbook", "hy04-le-hy03"))
    assert ws.cell(tall, 9).alignment.wrap_text and ws.column_dimensions["I"].width == 60
    assert ws.row_dimensions[tall].height >= 3 * 15
    assert ws.row_dimensions[short].height is None  # one line: the row as it was
    # every cell at the top of its row: at the bottom, a tall row's severity, rule and cell sat beside the last
    # line of its message, and the short message of the row above seemed to be theirs
    assert {ws.cell(r, c).alignment.vertical for r in (tall, short) for c in range(1, 12)} == {"top"}


def test_a_long_explanation_wraps_in_a_row_tall_enough_in_the_list(tmp_path):
    """已说明, the unit's own note on a warning, wraps in its column and its row is made tall enough, as 问题说明's:
    on paper a long note was cut at the column's edge."""
    src = make_source(tmp_path / "in" / "a.xlsx")
    note = "本年度新建园区联合工会 3 家，会员人数随之增加，" * 6
    issues = frame([issue(src, "警告", "hy-change", "会员!D8", explained=note),
                    issue(src, "错误", "hy04-le-hy03", "会员!D9", message="女会员人数（120）大于会员人数（100）")])
    ws = openpyxl.load_workbook(annotate_workbook(src, issues, tmp_path / "out" / "a.xlsx"))["问题清单"]
    tall = next(r for r in range(2, 4) if ws.cell(r, 3).value == "hy-change")
    assert ws.cell(tall, 11).value == note and ws.cell(tall, 11).alignment.wrap_text
    assert ws.column_dimensions["K"].width == 60
    assert ws.row_dimensions[tall].height >= 4 * 15


def test_list_sheet_first_active_sorted_and_linked(tmp_path):
    src = make_source(tmp_path / "a.xlsx")
    out = annotate_workbook(src, sample_issues(src), tmp_path / "out" / "a.xlsx")
    wb = openpyxl.load_workbook(out)

    assert wb.sheetnames == ["问题清单", "封面", "会员"]
    assert wb.active.title == "问题清单"
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets] == [True, False, False]
    rows = list_rows(wb)
    assert rows[0] == ("序号", "严重程度", "规则", "工作表", "单元格", "指标代码", "指标名称", "填报值",
                       "问题说明", "差额", "已说明")
    assert [(r[0], r[1], r[2], r[4]) for r in rows[1:]] == [
        (1, "错误", "hy04-le-hy03", "会员!D9"),
        (2, "警告", "hy03-le-hy01", "会员!D8"),
        (3, "提示", "text-number", "会员!D10"),
    ]
    assert rows[1][9] == 20 and rows[2][10] == "含退休会员" and rows[3][7] == "1,234"
    ws = wb["问题清单"]
    assert ws["A1"].font.b and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:K4"
    assert fill_of(ws["B2"]) == RED and fill_of(ws["B3"]) == YELLOW
    assert ws["E2"].hyperlink.location == "'会员'!D9"
    assert ws.column_dimensions["I"].width >= 20


def test_source_keeps_validations_merges_and_other_sheets(tmp_path):
    src = make_source(tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(annotate_workbook(src, sample_issues(src), tmp_path / "out.xlsx"))
    ws = wb["会员"]
    assert "A1:E1" in {str(r) for r in ws.merged_cells.ranges}
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["D8:D30"]
    assert ws["D10"].value == "1,234" and ws["B9"].value == "HY04"
    assert "封面" in wb.sheetnames


def test_existing_comment_is_kept_above_ours(tmp_path):
    src = make_source(tmp_path / "a.xlsx", comment="请核实女会员人数")
    wb = openpyxl.load_workbook(annotate_workbook(src, sample_issues(src), tmp_path / "out.xlsx"))
    text = wb["会员"]["D9"].comment.text
    assert text.index("请核实女会员人数") < text.index("[错误] hy04-le-hy03")


def test_protected_sheet_is_still_annotated(tmp_path):
    src = make_source(tmp_path / "a.xlsx", protect=True)
    wb = openpyxl.load_workbook(annotate_workbook(src, sample_issues(src), tmp_path / "out.xlsx"))
    ws = wb["会员"]
    assert ws.protection.sheet  # protection itself is kept
    assert fill_of(ws["D9"]) == RED and "hy04-le-hy03" in ws["D9"].comment.text


def test_existing_list_sheet_is_replaced_and_missing_sheet_only_listed(tmp_path):
    src = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "会员"
    wb.create_sheet("问题清单")["A1"] = "old"
    wb.save(src)
    issues = frame([issue(src, "错误", "missing-sheet", "", sheet="经费", message="缺少工作表“经费”"),
                    issue(src, "警告", "hy03-le-hy01", "帮扶!D8")])
    out = openpyxl.load_workbook(annotate_workbook(src, issues, tmp_path / "out.xlsx"))
    assert out.sheetnames == ["问题清单", "会员"]
    rows = list_rows(out)
    assert [r[2] for r in rows[1:]] == ["missing-sheet", "hy03-le-hy01"]
    assert out["问题清单"]["E3"].hyperlink is None  # no sheet 帮扶 to jump to


@pytest.mark.parametrize("name, body", [
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
    ("junk.xlsx", b"this is not a workbook"),
    ("empty.xlsx", b""),
])
def test_unreadable_source_gets_list_only_workbook(tmp_path, name, body):
    src = tmp_path / name
    src.write_bytes(body)
    out = annotate_workbook(src, sample_issues(src), tmp_path / "out" / name)
    assert out == (tmp_path / "out" / name).with_suffix(".xlsx")
    assert src.read_bytes() == body
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["问题清单"]
    assert [r[2] for r in list_rows(wb)[1:]] == ["hy04-le-hy03", "hy03-le-hy01", "text-number"]


def test_missing_source_does_not_raise(tmp_path):
    src = tmp_path / "gone.xlsx"
    out = annotate_workbook(src, sample_issues(src), tmp_path / "out" / "gone.xlsx")
    assert openpyxl.load_workbook(out).sheetnames == ["问题清单"]


def test_annotate_all_skips_notices_keeps_folders_and_dedupes(tmp_path):
    root = tmp_path / "in"
    a = make_source(root / "街道甲" / "报表.xlsx")
    b = make_source(root / "街道乙" / "报表.xlsx")
    c = make_source(root / "街道乙" / "只有提示.xlsx")
    outside = make_source(tmp_path / "elsewhere" / "报表.xlsx")
    issues = frame([
        issue(a, "错误", "hy04-le-hy03", "会员!D9"),
        issue(b, "警告", "hy03-le-hy01", "会员!D8"),
        issue(c, "提示", "text-number", "会员!D10"),
        issue(outside, "错误", "hy04-le-hy03", "会员!D9"),
    ])
    out = tmp_path / "out"
    written = annotate_all(issues, out, root=root)
    # ordered by source path: elsewhere/ < in/街道乙 (乙 U+4E59) < in/街道甲 (甲 U+7532)
    assert written == [out / "报表.xlsx", out / "街道乙" / "报表.xlsx", out / "街道甲" / "报表.xlsx"]
    assert all(p.exists() for p in written)
    assert not (out / "街道乙" / "只有提示.xlsx").exists()
    # each copy carries only its own workbook's issues
    assert [r[2] for r in list_rows(openpyxl.load_workbook(written[1]))[1:]] == ["hy03-le-hy01"]
    assert annotate_all(issues, out, root=root) == written  # rerun: same names, not _2

    flat = annotate_all(issues, tmp_path / "flat")
    assert [p.name for p in flat] == ["报表.xlsx", "报表_2.xlsx", "报表_3.xlsx"]


def test_annotate_all_dedupe_does_not_take_a_real_name(tmp_path):
    a = make_source(tmp_path / "x" / "a.xlsx")
    b = make_source(tmp_path / "y" / "a.xlsx")
    a2 = make_source(tmp_path / "z" / "a_2.xlsx")
    issues = frame([issue(p, "错误", "r", "会员!D8") for p in (a, b, a2)])
    names = sorted(p.name for p in annotate_all(issues, tmp_path / "out"))
    assert names == ["a.xlsx", "a_2.xlsx", "a_3.xlsx"]


def test_annotate_all_refuses_to_overwrite_source(tmp_path):
    src = make_source(tmp_path / "a.xlsx")
    before = sha(src)
    with pytest.raises(TongjiError) as err:
        annotate_all(frame([issue(src, "错误", "hy04-le-hy03", "会员!D9")]), tmp_path)
    assert err.value.key == "output-unwritable"
    assert sha(src) == before
    with pytest.raises(TongjiError):
        annotate_workbook(src, frame([]), src)


def test_annotate_all_refuses_a_copy_that_is_an_input_under_another_name(tmp_path):
    """A hard link (or, on Windows and macOS, another spelling of the name) is the same file: writing the copy there
    would change the input."""
    src = make_source(tmp_path / "in" / "a.xlsx")
    clean = make_source(tmp_path / "in" / "clean.xlsx")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.xlsx").hardlink_to(clean)
    before = sha(clean)
    with pytest.raises(TongjiError) as err:
        annotate_all(frame([issue(src, "错误", "hy04-le-hy03", "会员!D9")]), tmp_path / "out", inputs=[src, clean])
    assert err.value.key == "output-unwritable" and sha(clean) == before


def test_annotate_all_looks_at_each_input_once(tmp_path, monkeypatch):
    """Every copy was checked against every input, pair by pair: 300 copies among 3,000 inputs took a minute and a
    half before the first was written. Each path is now resolved about once."""
    returned = [make_source(tmp_path / "in" / f"{n}.xlsx") for n in range(3)]
    clean = [tmp_path / "in" / f"clean{n}.xlsx" for n in range(300)]
    for path in clean:
        path.touch()
    resolved = []
    real = Path.resolve
    monkeypatch.setattr(Path, "resolve", lambda self, *a, **k: resolved.append(self) or real(self, *a, **k))
    written = annotate_all(frame([issue(p, "错误", "hy04-le-hy03", "会员!D9") for p in returned]), tmp_path / "out",
                           inputs=returned + clean)
    assert [p.name for p in written] == ["0.xlsx", "1.xlsx", "2.xlsx"]
    assert len(resolved) <= len(returned + clean) + 10 * len(returned)


def test_rerun_is_byte_identical(tmp_path):
    src = make_source(tmp_path / "a.xlsx", comment="旧批注")
    first = annotate_workbook(src, sample_issues(src), tmp_path / "one.xlsx")
    second = annotate_workbook(src, sample_issues(src), tmp_path / "two.xlsx")
    assert first.read_bytes() == second.read_bytes()
    again = annotate_workbook(src, sample_issues(src), tmp_path / "one.xlsx")
    assert sha(again) == sha(second)


def test_english_headers_and_comments(tmp_path, monkeypatch):
    monkeypatch.setenv("TONGJI_LANG", "en")
    set_lang(None)
    src = make_source(tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(annotate_workbook(src, sample_issues(src), tmp_path / "out.xlsx"))
    rows = list_rows(wb)
    assert rows[0][:5] == ("No.", "Severity", "Rule", "Sheet", "Cell")
    assert rows[0][9] == "Imbalance"  # 差额, named as in the issue list and on the terminal
    assert rows[1][1] == "error"
    assert "[error] hy04-le-hy03: " in wb["会员"]["D9"].comment.text


def test_formula_like_value_stays_text(tmp_path):
    src = make_source(tmp_path / "a.xlsx")
    issues = frame([issue(src, "错误", "not-a-number", "会员!D9", value="=1+1", message="bad\x01 text")])
    wb = openpyxl.load_workbook(annotate_workbook(src, issues, tmp_path / "out.xlsx"))
    assert list_rows(wb)[1][7] == "=1+1"
    assert wb["问题清单"]["H2"].data_type == "s"
    assert list_rows(wb)[1][8] == "bad text"


def test_libreoffice_opens_the_copy(tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if not office:
        pytest.skip("LibreOffice is not installed")
    src = make_source(tmp_path / "a.xlsx", protect=True, comment="旧批注")
    out = annotate_workbook(src, sample_issues(src), tmp_path / "out" / "a.xlsx")
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run(
        [office, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "pdf"), str(out)],
        capture_output=True, timeout=120,
    )
    pdf = tmp_path / "pdf" / "a.pdf"
    assert done.returncode == 0, done.stderr
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    # a round trip through LibreOffice keeps the jump link, the colour and the comment
    subprocess.run(
        [office, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx",
         "--outdir", str(tmp_path / "lo"), str(out)],
        capture_output=True, timeout=120, check=True,
    )
    wb = openpyxl.load_workbook(tmp_path / "lo" / "a.xlsx")
    assert wb.active.title == "问题清单"
    assert wb["问题清单"]["E2"].hyperlink.location == "'会员'!D9"
    assert fill_of(wb["会员"]["D9"]) == RED and "hy04-le-hy03" in wb["会员"]["D9"].comment.text


def test_many_copies_are_written_by_worker_processes_as_in_this_one(tmp_path, monkeypatch):
    """A batch of SPREAD_MIN copies or more is spread over the worker processes: each copy comes out byte for
    byte as when written here, in the same order, and the progress bar is told of each one. A copy that cannot be
    written is named in the run's language, which a worker process does not share."""
    import tongji.writing.annotate as annotate
    from tongji.reading.workers import Processes

    sources = [make_source(tmp_path / "in" / f"{n}.xlsx") for n in range(5)]
    issues = frame([issue(p, "错误", "hy04-le-hy03", "会员!D9") for p in sources])
    here = annotate_all(issues, tmp_path / "here")
    spread = []
    real_run = Processes.run
    monkeypatch.setattr(Processes, "run", lambda self, *a: spread.append(self.workers) or real_run(self, *a))
    monkeypatch.setattr(annotate, "SPREAD_MIN", 2)
    monkeypatch.setattr(annotate, "PER_CHUNK", 2)
    totals, ticks = [], []
    there = annotate_all(issues, tmp_path / "there", workers=2, on_total=totals.append, tick=lambda: ticks.append(1))
    assert spread == [2]
    assert [p.name for p in there] == [p.name for p in here] == [f"{n}.xlsx" for n in range(5)]
    assert [p.read_bytes() for p in there] == [p.read_bytes() for p in here]
    assert totals == [5] and len(ticks) == 5

    (tmp_path / "blocked" / "3.xlsx").mkdir(parents=True)  # a folder where a copy should go
    with pytest.raises(TongjiError) as err:
        annotate_all(issues, tmp_path / "blocked", lang="en", workers=2)
    assert err.value.key == "annotate-some-failed" and err.value.kw["n"] == 4 and err.value.kw["m"] == 1
    assert err.value.kw["items"] == f"Cannot write {tmp_path / 'blocked' / '3.xlsx'}: it is a folder; give a file name"
    assert len(spread) == 2
