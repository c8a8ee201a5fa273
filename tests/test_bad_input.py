"""Bad input gets one precise message and the batch goes on (issue: 'Bad input gets a clear message')."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import tongji
from tongji.plugins import load_spec
from workbooks import GOOD, HEADER_ROW, cell_of, cover, make_workbook


def one(report, name):
    sub = report.for_file(name)
    return sub.flatten(["rule", "sheet", "cell", "severity"]), sub.workbooks["status"].to_list()


def test_garbage_files_do_not_stop_the_batch(tmp_path):
    make_workbook(tmp_path / "good.xlsx")
    (tmp_path / "text.xlsx").write_text("这不是工作簿", encoding="utf-8")
    (tmp_path / "empty.xlsx").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "archive.xlsx", "w") as z:
        z.writestr("readme.txt", "hello")
    report = tongji.validate(tmp_path)
    assert one(report, "good.xlsx") == ([], ["通过"])
    assert one(report, "text.xlsx") == ([["not-workbook", "", "", "错误"]], ["退回"])
    assert one(report, "empty.xlsx") == ([["file-empty", "", "", "错误"]], ["退回"])
    assert one(report, "archive.xlsx")[0] == [["not-workbook", "", "", "错误"]]
    assert report.for_file("archive.xlsx").issues["message"][0] == "不是 Excel 工作簿（压缩包里没有 Excel 工作簿）"
    assert report.exit_code == 1


def test_a_link_that_leads_nowhere_is_said_unreadable_not_passed_over(tmp_path):
    make_workbook(tmp_path / "in" / "good.xlsx")
    (tmp_path / "in" / "gone.xlsx").symlink_to(tmp_path / "moved-away.xlsx")
    (tmp_path / "in" / "folder.xlsx").symlink_to(tmp_path, target_is_directory=True)  # a linked folder: not entered
    report = tongji.validate(tmp_path / "in")
    assert sorted(Path(f).name for f in report.workbooks["file"]) == ["gone.xlsx", "good.xlsx"]
    assert one(report, "gone.xlsx") == ([["unreadable", "", "", "错误"]], ["退回"])
    assert report.for_file("gone.xlsx").issues["message"][0].startswith("文件无法打开")


def test_why_a_file_is_no_workbook_is_said_in_english_too(tmp_path):
    (tmp_path / "text.xlsx").write_text("这不是工作簿", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "archive.xlsx", "w") as z:
        z.writestr("readme.txt", "hello")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    (tmp_path / "cut.xlsx").write_bytes((tmp_path / "archive.xlsx").read_bytes()[:-30])  # its directory cut off
    # an .xls header, then junk
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600)
    english = dict(tongji.validate(tmp_path).issues_in("en").select(pl.col("file").str.extract(r"(\w+\.xlsx?)$"),
                                                                     "message").iter_rows())
    assert english.pop("old.xls") == ("The workbook is damaged and cannot be read; open it in Excel or WPS, save it "
                                      "again and resubmit (technical detail: OLE2 compound document structure is "
                                      "broken)")
    assert english == {
        "text.xlsx": "Not an Excel workbook (file type .xlsx)",
        "archive.xlsx": "Not an Excel workbook (a zip archive with no workbook in it)",
        "broken.xlsx": "Not an Excel workbook (a damaged zip archive)",
        "cut.xlsx": "Not an Excel workbook (a damaged zip archive)",
    }


def test_password_protected_workbook(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = make_workbook(tmp_path / "src" / "plain.xlsx")
    out = io.BytesIO()
    with plain.open("rb") as fh:
        OOXMLFile(fh).encrypt("secret", out)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "locked.xlsx").write_bytes(out.getvalue())
    report = tongji.validate(tmp_path / "in")
    assert report.flatten(["rule"]) == [["encrypted"]]
    assert report.issues["message"][0] == "工作簿设有打开密码，请去掉密码后重新报送"


def test_old_xls_is_read(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    spec, cov = load_spec(), cover()
    wb = xlwt.Workbook()
    for form in spec.forms:
        ws = wb.add_sheet(form.sheet)
        labels = ["项目", "代码", "内容", "说明"] if form.is_cover else ["指标名称", "代码", "计量单位", "本期数"]
        for j, label in enumerate(labels):
            ws.write(4, j, label)
        rows = [r for r in form.rows if r.filled]
        for i, row in enumerate(rows, start=5):
            ws.write(i, 0, row.name)
            ws.write(i, 1, row.code)
            value = (cov if form.is_cover else {**GOOD, "HY02": 101}).get(row.code)
            if value is not None:
                ws.write(i, 2 if form.is_cover else 3, value)
    wb.save(str(tmp_path / "old.xls"))
    report = tongji.validate(tmp_path)
    assert report.flatten(["cell", "rule"]) == [["会员!D7", "hy02-le-hy01"]]


def test_missing_sheet_and_renamed_header(tmp_path):
    path = make_workbook(tmp_path / "unit.xlsx")
    wb = openpyxl.load_workbook(path)
    del wb["帮扶"]
    wb["经费"].cell(HEADER_ROW, 4).value = "金额"
    wb.save(path)
    report = tongji.validate(tmp_path)
    assert report.flatten(["rule", "sheet"]) == [["missing-sheet", "帮扶"], ["header-not-found", "经费"]]
    assert report.issues["message"].to_list() == [
        "缺少工作表“帮扶”", "工作表“经费”找不到表头（需要“代码”和“本期数”两列）"]
    # rules over the sheets that were read still ran, and no row of the unread sheets is called missing
    assert "missing-row" not in report.issues["rule"].to_list()


def test_missing_and_extra_and_duplicate_rows(tmp_path):
    path = make_workbook(tmp_path / "unit.xlsx", drop=("HY14",))
    wb = openpyxl.load_workbook(path)
    ws = wb["会员"]
    last = ws.max_row + 1
    ws.append(["其中：外籍会员", "HY99", "人", 3])
    ws.append(["会员人数", "HY03", "人", 90])
    wb.save(path)
    report = tongji.validate(tmp_path)
    assert report.flatten(["rule", "cell", "code", "severity"]) == [
        ["missing-row", "", "HY14", "错误"],
        ["duplicate-row", f"会员!D{last + 1}", "HY03", "错误"],
        ["extra-row", f"会员!D{last}", "HY99", "警告"],
    ]
    assert report.issues["message"].to_list()[0] == "缺少指标行 HY14 兼职工会工作人员"


def test_formula_without_cached_value_is_not_zero(tmp_path):
    path = make_workbook(tmp_path / "unit.xlsx")
    wb = openpyxl.load_workbook(path)
    row = int(cell_of("JF01").split("D")[1])
    wb["经费"].cell(row, 4).value = f"=SUM(D{row + 1}:D{row + 8})"
    wb.save(path)  # openpyxl writes the formula and no value: never opened in Excel
    report = tongji.validate(tmp_path)
    assert report.flatten(["rule", "cell", "code"]) == [["formula-no-value", cell_of("JF01"), "JF01"]]


def test_merged_cells_over_inputs(tmp_path):
    path = make_workbook(tmp_path / "unit.xlsx", {"HY06": 8, "HY07": None})
    wb = openpyxl.load_workbook(path)
    top, below = cell_of("HY06").split("!")[1], cell_of("HY07").split("!")[1]
    wb["会员"].merge_cells(f"{top}:{below}")
    wb.save(path)
    report = tongji.validate(tmp_path)
    assert report.flatten(["rule", "cell", "code"]) == [["merged-cell", cell_of("HY07"), "HY07"]]
    assert report.issues["message"][0] == f"填报单元格被合并（{top}:{below}），只有左上角单元格有值"


def test_blank_cells_are_explained_alike_from_the_screen_xml_and_from_the_zip(tmp_path):
    """blanks.py looks in the XML the screen inflated, and in the zip for a sheet it did not keep."""
    from tongji.reading.blanks import blank_reasons
    from tongji.reading.screen import Limits, screen

    path = make_workbook(tmp_path / "unit.xlsx", {"HY06": 8, "HY07": None})
    wb = openpyxl.load_workbook(path)
    row = int(cell_of("JF01").split("D")[1])
    wb["经费"].cell(row, 4).value = f"=SUM(D{row + 1}:D{row + 8})"
    top, below = cell_of("HY06").split("!")[1], cell_of("HY07").split("!")[1]
    wb["会员"].merge_cells(f"{top}:{below}")
    wb.save(path)
    data, spec = path.read_bytes(), load_spec()
    blanks = {"会员": [below, "D8"], "经费": [f"D{row}", f"D{row + 1}"]}
    kept = screen(data, Limits.of(spec)).xml
    assert set(kept) >= {"会员", "经费"}
    expected = [("merged-cell", {"range": f"{top}:{below}"}, "会员", below),
                ("formula-no-value", {}, "经费", f"D{row}")]
    assert blank_reasons(data, blanks, spec, kept) == blank_reasons(data, blanks, spec) == expected
    assert blank_reasons(data, blanks, spec, {"会员": kept["会员"]}) == expected


def test_excel_error_value(tmp_path):
    make_workbook(tmp_path / "unit.xlsx", {"HY13": "#DIV/0!"})
    report = tongji.validate(tmp_path)
    assert report.flatten(["rule", "cell", "value"]) == [["cell-error", cell_of("HY13"), "#DIV/0!"]]


def test_empty_workbook(tmp_path):
    openpyxl.Workbook().save(tmp_path / "blank.xlsx")
    report = tongji.validate(tmp_path)
    assert [r for (r,) in report.flatten(["rule"])] == ["missing-sheet"] * 5


def test_large_workbook(tmp_path):
    """A 30 MB workbook (a big picture inside) is read like any other."""
    path = make_workbook(tmp_path / "big.xlsx")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_STORED) as z:
        z.writestr("xl/media/image1.png", os.urandom(30 * 2**20))
    assert path.stat().st_size > 30 * 2**20
    report = tongji.validate(tmp_path)
    assert report.issues.height == 0


def test_chinese_file_name_with_spaces(tmp_path):
    name = "第一 机械厂 工会（2025 年报）.xlsx"
    make_workbook(tmp_path / "子 文件夹" / name, {"HY02": 101})
    before = hashlib.sha256((tmp_path / "子 文件夹" / name).read_bytes()).hexdigest()
    report = tongji.validate(tmp_path)
    assert report.flatten(["cell", "rule"]) == [[cell_of("HY02"), "hy02-le-hy01"]]
    assert report.issues["file"][0].endswith(name)
    assert hashlib.sha256((tmp_path / "子 文件夹" / name).read_bytes()).hexdigest() == before


def test_traditional_chinese_labels(tmp_path):
    """會員人數 with no code, sheet 會員 and header 代碼/本期數 are matched to their codes."""
    path = make_workbook(tmp_path / "unit.xlsx", {"HY02": 101})
    wb = openpyxl.load_workbook(path)
    ws = wb["会员"]
    ws.title = "會員"
    ws.cell(HEADER_ROW, 2).value, ws.cell(HEADER_ROW, 4).value = "代碼", "本期數"
    for row in ws.iter_rows(min_row=HEADER_ROW + 1):
        if row[1].value == "HY02":
            row[0].value, row[1].value = "其中：女職工", None
    wb.save(path)
    report = tongji.validate(tmp_path)
    assert report.flatten(["cell", "rule"]) == [[cell_of("HY02"), "hy02-le-hy01"]]


def test_lock_files_and_other_files_in_folders_are_skipped(tmp_path):
    make_workbook(tmp_path / "unit.xlsx")
    (tmp_path / "~$unit.xlsx").write_bytes(b"lock")
    (tmp_path / "notes.txt").write_text("x")
    report = tongji.validate(tmp_path)
    assert report.workbooks["file"].to_list() == [str(tmp_path / "unit.xlsx")]


def test_setup_errors_raise_with_a_message(tmp_path):
    from tongji.errors import TongjiError

    with pytest.raises(TongjiError) as exc:
        tongji.validate(tmp_path)
    assert str(exc.value) == f"没有找到任何工作簿：{tmp_path}"
    make_workbook(tmp_path / "unit.xlsx")
    with pytest.raises(TongjiError, match="报告期“2025Q5”格式不对"):
        tongji.validate(tmp_path, period="2025Q5")
    with pytest.raises(TongjiError, match="名册文件不存在"):
        tongji.validate(tmp_path, registry=tmp_path / "none.csv")
