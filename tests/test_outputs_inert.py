"""Hostile text in unit names, registry names and 说明 notes: every output stays inert, valid and readable.

A small city whose grassroots units are named with control characters, terminal escapes, rich markup and
would-be formulas goes through template, validate (report and annotated copies) and rollup --all. Every
xlsx written is then unzipped and parsed as XML and read by openpyxl (normal and read-only) and fastexcel,
which must all see the same rows; no cell may be a formula; CSV text cells may not start one.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from city import build
from tongji import cli
from tongji.writing.files import _insert_rows
from tongji.writing.text import csv_safe, terminal_safe, xml_safe
from workbooks import cover, make_workbook

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-x", "@a", "[/oops]", "\x1b[31m红\x1b[0m", "a<b&c", "ctl\x01\x0b\x1fz",
           " \tspace\r\n"]
FORMULA = '=HYPERLINK("http://x","y")'
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def commands():
    cli._register()


def ooxml(text: str) -> str:
    """How a control character sits in a workbook's XML: Excel and calamine read _x001B_ back as ESC."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", text)


def hostile_city(root: Path):
    """Nine grassroots units named after HOSTILE, each with a warning explained by a hostile 说明; unit 1
    leaves it unexplained and unit 2 has an error quoting hostile text, so annotated copies are written too."""
    city = build(root, [[5, 4]])
    grass = [c for c, u in city.units.items() if u["层级"] == "基层"]
    for i, code in enumerate(grass):
        city.units[code]["单位名称"] = f"{HOSTILE[i]}工会{i}"
    rows = [["单位代码", "单位名称", "上级代码", "层级", "组织类型", "所在地区划代码", "状态"]]
    rows += [[c, u["单位名称"], u["上级代码"], u["层级"], u["org"], u["area"], "正常"] for c, u in city.units.items()]
    with city.registry.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    for i, code in enumerate(grass):
        u = city.units[code]
        values = {**u["values"], "HY03": u["values"]["HY01"] + 1}  # 会员 > 职工: a warning to explain
        if i == 2:
            values["HY05"] = ooxml("\x1b[31m[/oops]=1")  # not a number: the raw text is quoted in the message
        notes = {} if i == 1 else {"HY03": ooxml(f"{HOSTILE[(i + 3) % len(HOSTILE)]}说明")}
        make_workbook(u["file"], values, cover(code, FM01=ooxml(u["单位名称"]), FM03=u["上级代码"], FM05=u["org"],
                                               FM07=u["area"], FM04="2025"), notes=notes)
        wb = openpyxl.load_workbook(u["file"])
        for cell in (c for ws in wb for row in ws.iter_rows() for c in row):
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # typed as text by the submitter, not a formula
        wb.save(u["file"])
    return city


def invoke(*args):
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    city = hostile_city(root / "city")
    out = {"city": city, "root": root}
    out["template"] = invoke("template", "-r", city.registry, "-p", "2025", "-o", root / "templates")
    out["validate"] = invoke("validate", city.folder, "-r", city.registry, "-p", "2025",
                             "--report", root / "report.xlsx", "--annotate", root / "annotated")
    for suffix in ("csv", "json"):
        invoke("validate", city.folder, "-r", city.registry, "-p", "2025", "--report", root / f"report.{suffix}")
    out["rollup"] = invoke("rollup", city.folder, "-r", city.registry, "-p", "2025", "--all", "-o", root / "summaries",
                           "-f", "xlsx,csv,json")
    return out


def xlsx_files(run) -> list[Path]:
    return sorted(run["root"].glob("**/*.xlsx"))


def test_text_helpers():
    assert xml_safe("\x1b[31m红\x1b[0m工会") == "红工会"
    assert xml_safe("a\x01\x0b\x0c\x1f\ufffeb\t\r\n\r") == "ab\t\n\n"
    assert xml_safe("\x1b]8;;http://x\x07链接\x1b]8;;\x07") == "链接"
    assert [csv_safe(s) for s in ("=1+1", "+x", "-x", "@a", "\tx", "\rx", "-200.5", "+3", "1e5", "甲")] == \
        ["'=1+1", "'+x", "'-x", "'@a", "'\tx", "'\rx", "-200.5", "+3", "1e5", "甲"]
    assert terminal_safe("[/oops]\x1b[2J\x9b31m\u202e名") == "\\[/oops]31m名"


def test_a_formula_after_blanks_or_in_full_width_is_quoted_in_csv():
    """Spreadsheet programs skip leading blanks, and some take ＝ ＋ － ＠ as = + - @: such text is quoted too,
    alike by csv_safe and by the polars pass the CSV writers use; a number with a sign stays a number."""
    from tongji.writing.issue_report import csv_frame

    texts = [" =1+1", "\u3000=HYPERLINK(1)", "\n@a", "\r\n+x", "＝1+1", "＋1", "－x", "＠SUM(A1)", " -1+2"]
    plain = ["-200.5", " -200.5", "\u3000+3", " 12", "a=b", "甲＝乙"]
    assert [csv_safe(s) for s in texts + plain] == ["'" + s for s in texts] + plain
    assert csv_frame(pl.DataFrame({"名称": texts + plain}))["名称"].to_list() == ["'" + s for s in texts] + plain


def test_commands_finish_without_a_traceback(run):
    assert run["template"].exit_code == 0, run["template"].output
    assert run["validate"].exit_code == 1, run["validate"].output  # one workbook has an error
    assert run["rollup"].exit_code in (0, 1), run["rollup"].output
    for name in ("template", "validate", "rollup"):
        assert "Traceback" not in run[name].output


def test_terminal_output_is_cleaned(run):
    for name in ("validate", "rollup"):
        text = run[name].output
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), name
    shown = run["validate"].output
    assert "[/oops]工会4" in shown and "红工会5" in shown and "ctlz工会7" in shown


def test_every_workbook_was_written(run):
    assert (run["root"] / "report.xlsx").exists()
    assert len(list((run["root"] / "templates").glob("*.xlsx"))) == len(run["city"].units)
    assert len(list((run["root"] / "summaries").glob("*_汇总.xlsx"))) == 4  # 2 街道, 区, 市
    assert list((run["root"] / "annotated").rglob("*.xlsx")), "no annotated copy: the fixture has no error"


def test_every_xml_part_is_well_formed_and_holds_no_formula(run):
    for path in xlsx_files(run):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith((".xml", ".rels")):
                    root = ElementTree.fromstring(z.read(name))  # raises on a malformed part
                    if name.startswith("xl/worksheets/"):
                        assert root.find(f".//{MAIN}f") is None, f"{path.name} {name} has a formula"


def test_every_dimension_covers_the_rows(run):
    """Read-only readers trust <dimension>: a wrong one hides every row below it."""
    for path in xlsx_files(run):
        with zipfile.ZipFile(path) as z:
            for name in (n for n in z.namelist() if n.startswith("xl/worksheets/sheet")):
                root = ElementTree.fromstring(z.read(name))
                rows = [int(r.get("r")) for r in root.iter(f"{MAIN}row")]
                ref = root.find(f"{MAIN}dimension").get("ref")
                if rows:
                    assert int(re.search(r"(\d+)$", ref).group(1)) == max(rows), (path.name, name, ref)


def test_insert_rows_replaces_the_dimension_openpyxl_wrote():
    body = b'<worksheet><dimension ref="A1:BZ2" /><sheetData><row r="1"/></sheetData></worksheet>'
    out = b"".join(_insert_rows(body, [(2, [b'<row r="2"/>'])], "A1:BZ2000"))
    assert b'<dimension ref="A1:BZ2000"/>' in out and b"A1:BZ2\"" not in out


def _canon(value):
    """A cell as every reader can agree on it: fastexcel gives text, openpyxl numbers and text. openpyxl
    leaves OOXML's escape _x001B_ undecoded where Excel and calamine decode it; annotated copies keep the
    submitter's cells as they were, escapes included."""
    if value is None or value == "":
        return None
    try:
        return round(float(value), 6)
    except (TypeError, ValueError):
        return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), str(value))


def _trim(rows) -> list[tuple]:
    rows = [list(map(_canon, r)) for r in rows]
    for r in rows:
        while r and r[-1] is None:
            r.pop()
    while rows and not rows[-1]:
        rows.pop()
    return [tuple(r) for r in rows]


def test_openpyxl_readonly_and_fastexcel_see_the_same_rows(run):
    for path in xlsx_files(run):
        normal = openpyxl.load_workbook(path)
        fast = fastexcel.read_excel(path)
        ro = openpyxl.load_workbook(path, read_only=True)
        assert normal.sheetnames == ro.sheetnames == fast.sheet_names
        for name in normal.sheetnames:
            expected = _trim(normal[name].iter_rows(values_only=True))
            assert _trim(ro[name].iter_rows(values_only=True)) == expected, (path.name, name)
            got = fast.load_sheet(name, header_row=None, dtypes="string").to_polars().rows()
            assert _trim(got) == expected, (path.name, name)
        ro.close()


def _cells(path: Path) -> list:
    wb = openpyxl.load_workbook(path)
    return [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]


def test_hostile_names_are_kept_as_text(run):
    city = run["root"] / "summaries" / "330100_2025_汇总.xlsx"  # 明细 and 完整性 list every unit
    names = [c.value for c in _cells(city) if isinstance(c.value, str) and "工会" in c.value]
    sheets = [c.parent.title for c in _cells(city) if c.value == "space\n工会8"]
    assert f"{FORMULA}工会0" in names
    assert "红工会5" in names and "ctlz工会7" in names and "a<b&c工会6" in names
    # 明细, 完整性 and 校验 (the registry trims the ends), and 说明, which carries its note up
    assert sorted(sheets) == sorted(["明细", "说明", "完整性", "校验"])
    assert "space\n工会8" in [c.value for c in _cells(run["root"] / "report.xlsx")]
    report = [c for c in _cells(run["root"] / "report.xlsx") if isinstance(c.value, str)]
    assert any(c.value == f"{FORMULA}工会0" and c.data_type == "s" for c in report)
    # with Excel's leading apostrophe (quotePrefix): edited in Excel or LibreOffice, it does not become a formula
    assert all(c.quotePrefix for c in report if c.value.startswith("="))
    quoted = [c for c in _cells(city) if str(c.value).startswith("=")]  # 明细, 完整性 and 校验 alike
    assert {c.parent.title for c in quoted} >= {"明细", "完整性", "校验"} and all(c.quotePrefix for c in quoted)
    assert any(c.value.startswith("=HYPERLINK") and c.value.endswith("说明") for c in report)  # a 说明 note


def test_templates_carry_hostile_names_as_text(run):
    template = next((run["root"] / "templates").glob("*工会0_2025.xlsx"))
    cover = openpyxl.load_workbook(template)["封面"]
    named = [c for row in cover.iter_rows() for c in row if c.value == f"{FORMULA}工会0"]
    assert named and all(c.quotePrefix for c in named)


def _csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_csv_text_cells_cannot_start_a_formula(run):
    report = _csv_rows(run["root"] / "report.csv")
    detail = [r for p in (run["root"] / "summaries").glob("*_明细.csv") for r in _csv_rows(p)]
    for rows, column in ((report, "单位名称"), (report, "已说明"), (detail, "单位名称")):
        values = [r[column] for r in rows if r[column]]
        assert values
        assert not [v for v in values if v[0] in "=+-@\t\r"], (column, values)
    assert f"'{FORMULA}工会0" in [r["单位名称"] for r in detail]
    numbers = [r["JF08"] for r in detail]  # a signed amount: a number, never quoted
    assert numbers and all(not v.startswith("'") for v in numbers)
    assert pl.read_csv(next((run["root"] / "summaries").glob("*_明细.csv")))["HY01"].dtype.is_numeric()


def test_reruns_are_byte_identical(run, tmp_path):
    city = run["city"]
    for n in (1, 2):
        invoke("rollup", city.folder, "-r", city.registry, "-p", "2025", "--all", "-o", tmp_path / f"s{n}", "-f",
               "xlsx,csv")
        invoke("validate", city.folder, "-r", city.registry, "-p", "2025", "--report", tmp_path / f"r{n}.xlsx")
    first = sorted((tmp_path / "s1").iterdir())
    assert first
    for p in first:
        assert p.read_bytes() == (tmp_path / "s2" / p.name).read_bytes(), p.name
    assert (tmp_path / "r1.xlsx").read_bytes() == (tmp_path / "r2.xlsx").read_bytes()
