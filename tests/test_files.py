"""files.save_workbook: rows spliced into the right sheet, whatever sheets come before it."""

from __future__ import annotations

import zipfile

import openpyxl

from tongji.writing.files import save_workbook


def test_rows_are_spliced_into_their_sheet_after_a_chartsheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "封面"
    wb.create_chartsheet("图", 0)  # openpyxl numbers worksheets apart from chartsheets
    detail = wb.create_sheet("明细")
    detail.append(["单位代码"])
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>G1</t></is></c></row>'
    save_workbook(wb, tmp_path / "x.xlsx", {"明细": ([(2, [row])], "A1:A2")})
    with zipfile.ZipFile(tmp_path / "x.xlsx") as z:  # 封面 is sheet1.xml, 明细 sheet2.xml
        assert b"G1" in z.read("xl/worksheets/sheet2.xml")
        assert b"G1" not in z.read("xl/worksheets/sheet1.xml")
