"""Annotated copies, hardened (issue 9): re-annotation starts clean, formula results survive, text stays text,
one broken workbook does not stop the batch, the 问题清单 prints on A4 pages."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import openpyxl
import pytest

import tongji
from test_annotate import frame, issue, make_source
from tongji.output.annotate import annotate_workbook
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
    assert "第一行" in note and not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe]", note)
