"""`tongji template`: which files are written, their layout contract with the reader, and the CLI."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import fastexcel
import openpyxl
import pytest
from typer.testing import CliRunner

import tongji
from conftest import TEMPLATE_UNITS, terminal, write_template_registry
from tongji import cli
from tongji.definitions.registry import load_registry
from tongji.errors import TongjiError
from tongji.plugins import load_spec
from tongji.reading.workbooks import read_workbooks
from tongji.writing.form_layout import DATA_HEADER
from tongji.writing.template import make_templates
from workbooks import GOOD

U = TEMPLATE_UNITS
SPEC = load_spec()
EXPECTED_NAMES = {
    f"{U['city']}_示例市总工会本级_2025.xlsx",
    f"{U['district']}_示例区总工会本级_2025.xlsx",
    f"{U['street']}_示例街道总工会本级_2025.xlsx",
    f"{U['g1']}_甲公司（A_B厂）工会_2025.xlsx",  # the slash in the name cannot be in a file name
    f"{U['g2']}_乙园区联合工会_2025.xlsx",
}
HEADER_ROW = 7  # title + 表号 + four marks + the 填报单位 line


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """All templates of the sample registry, written once: {unit code: path}."""
    folder = tmp_path_factory.mktemp("templates")
    registry = load_registry(write_template_registry(folder))
    paths = make_templates(registry, "2025", folder / "out")
    return {p.name.split("_")[0]: p for p in paths}


@pytest.fixture(scope="module")
def grassroots(made):
    return openpyxl.load_workbook(made[U["g1"]])


@pytest.fixture(scope="module")
def benji(made):
    return openpyxl.load_workbook(made[U["street"]])


def validation_of(ws, ref: str):
    found = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
    assert len(found) <= 1, f"{ref} has {len(found)} validations"
    return found[0] if found else None


def row_of(ws, code: str) -> int:
    rows = [c.row for c in ws["B"] if c.value == code]
    assert len(rows) == 1, f"{code} in column B {len(rows)} times"
    return rows[0]


def list_entries(wb, formula: str) -> list[str]:
    """Values of a dropdown range like '_lists'!$A$1:$A$2."""
    sheet, ref = formula.rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[ref.replace("$", "")] for c in row]


# --- which files ---


def test_one_template_per_active_unit(made):
    assert {p.name for p in made.values()} == EXPECTED_NAMES
    assert U["g3"] not in made  # 撤销


def test_period_is_normalized_into_names_and_cover(template_registry, tmp_path):
    paths = make_templates(load_registry(template_registry), "2025q2", tmp_path / "out", unit=U["g2"])
    assert [p.name for p in paths] == [f"{U['g2']}_乙园区联合工会_2025Q2.xlsx"]
    ws = openpyxl.load_workbook(paths[0])["封面"]
    assert ws.cell(row_of(ws, "FM04"), 3).value == "2025Q2"


def test_full_width_period_is_made_plain(app, template_registry, tmp_path):
    args = ["template", "-r", str(template_registry), "-p", "２０２５Ｑ２", "-o", str(tmp_path), "--unit", U["g2"]]
    assert CliRunner().invoke(app, args).exit_code == 0
    [path] = tmp_path.glob("*.xlsx")
    assert path.name == f"{U['g2']}_乙园区联合工会_2025Q2.xlsx"
    ws = openpyxl.load_workbook(path)["封面"]
    assert ws.cell(row_of(ws, "FM04"), 3).value == "2025Q2"


def test_unit_option_writes_one(template_registry, tmp_path):
    paths = make_templates(load_registry(template_registry), "2025", tmp_path / "out", unit=U["street"])
    assert [p.name for p in paths] == [f"{U['street']}_示例街道总工会本级_2025.xlsx"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == [paths[0].name]  # no temporary file left


def test_a_long_unit_name_is_cut_in_the_file_name(tmp_path):
    """File systems take 255 bytes a name: a 92-character unit name (276 bytes) stopped `tongji template` with
    "File name too long". The name is cut in the file name only; the cover keeps it whole."""
    name = "某" * 90 + "工会"
    registry = tmp_path / "名册.csv"
    registry.write_text("单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态\n"
                        "330106001,街道总工会,,街道,9,330106001000,正常\n"
                        f"81330106MA2386146X,{name},330106001,基层,1,330106001001,正常\n", encoding="utf-8")
    [path] = make_templates(load_registry(registry), "2025", tmp_path / "out", unit="81330106MA2386146X")
    assert path.name == f"81330106MA2386146X_{'某' * 50}_2025.xlsx" and path.is_file()
    ws = openpyxl.load_workbook(path)["封面"]
    assert ws.cell(row_of(ws, "FM01"), 3).value == name


@pytest.mark.parametrize(("unit", "period", "key"), [
    ("NOPE", "2025", "unit-not-in-registry"),
    (U["g3"], "2025", "unit-revoked"),
    (None, "2025Q5", "period-invalid"),
    (None, "去年", "period-invalid"),
])
def test_bad_arguments_raise(template_registry, tmp_path, unit, period, key):
    with pytest.raises(TongjiError) as exc:
        make_templates(load_registry(template_registry), period, tmp_path / "out", unit=unit)
    assert exc.value.key == key
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_rerun_is_byte_identical(made, template_registry, tmp_path):
    again = make_templates(load_registry(template_registry), "2025", tmp_path / "again")
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in made.values()}
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in again} == digest


def test_templates_are_copies_of_one_built_per_shape_byte_for_byte(tmp_path, monkeypatch):
    """A template took openpyxl 0.1 s: a 区 of 2,000 units waited four minutes. Each is now copied from one built
    per shape with the unit's cells put in, the same bytes as when built for it; a unit whose name would take a
    style the shape lacks (a formula-like one) is built as before."""
    import tongji.writing.template as template
    from tongji.writing.template_copies import Shape

    registry = tmp_path / "名册.csv"
    registry.write_text(
        "单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态\n"
        "330106001,街道总工会,,街道,9,,正常\n"  # no parent, no area code: empty cells
        "330106001101,A&B<联合>工会,330106001,基层,联合基层工会,330106001001,正常\n"
        '330106001102,"=HYPERLINK(""x"")工会",330106001,基层,,330106001002,正常\n'
        f"330106001103,{'某' * 90}工会,330106001,基层,2,,正常\n"
        "330106001104,普通工会,330106001,基层,1,330106001003,正常\n"
        '330106001105,"两行\n工会",330106001,基层,1,330106001004,正常\n'
        '330106001106," 两端有空格的工会 ",330106001,基层,1,330106001005,正常\n', encoding="utf-8")
    built = []
    real = template.write_template
    monkeypatch.setattr(template, "write_template", lambda path, spec, unit, period: built.append(
        unit["单位代码"]) or real(path, spec, unit, period))
    copied = make_templates(load_registry(registry), "2025", tmp_path / "copied")
    assert built == ["330106001102", "330106001105"]
    monkeypatch.setattr(Shape, "write", lambda self, path, unit: None)  # every one built by openpyxl
    whole = make_templates(load_registry(registry), "2025", tmp_path / "built")
    assert len(built) == 2 + 7 and [p.name for p in copied] == [p.name for p in whole]
    assert [p.read_bytes() for p in copied] == [p.read_bytes() for p in whole]
    cover = openpyxl.load_workbook(copied[1])["封面"]
    assert cover.cell(row_of(cover, "FM01"), 3).value == "A&B<联合>工会"


def test_template_command_shows_progress_on_a_terminal(template_registry, tmp_path, monkeypatch):
    import tongji.cli.template_command as command

    screen = terminal(monkeypatch, command)
    result = CliRunner().invoke(cli.app, ["template", "-r", str(template_registry), "-p", "2025", "-o",
                                          str(tmp_path / "out")])
    n = len(list((tmp_path / "out").iterdir()))
    assert result.exit_code == 0 and n >= 5 and f"{n}/{n}" in screen.getvalue()
    assert "生成填报模板" in screen.getvalue()


# --- layout ---


def test_sheets_in_order_and_lists_hidden(grassroots):
    assert grassroots.sheetnames == ["封面", "会员", "建会", "帮扶", "经费", "填表说明", "_lists"]
    assert grassroots["_lists"].sheet_state == "hidden"
    assert all(grassroots[n].sheet_state == "visible" for n in grassroots.sheetnames[:-1])


@pytest.mark.parametrize("form", SPEC.data_forms, ids=lambda f: f.sheet)
def test_form_sheet_header_and_rows(grassroots, form):
    ws = grassroots[form.sheet]
    assert [c.value for c in ws[HEADER_ROW][:5]] == list(DATA_HEADER)
    above = {str(c.value) for row in ws.iter_rows(max_row=HEADER_ROW - 1) for c in row if c.value}
    assert not any("代码" in v or "本期数" in v for v in above), above
    assert form.table_no in " ".join(above) and any(v.startswith("有效期至") for v in above)
    filled = [r for r in form.rows if r.filled]
    for offset, row in enumerate(filled, start=1):
        assert row_of(ws, row.code) == HEADER_ROW + offset
        assert [c.value for c in ws[HEADER_ROW + offset][:3]] == [row.name, row.code, row.unit or None]
    assert "JH00" not in [c.value for c in ws["B"]]
    last = HEADER_ROW + len(filled)
    assert ws.cell(last + 1, 1).value is None
    signature = ws.cell(last + 2, 1).value
    assert signature.startswith("单位负责人：") and "报出日期：" in signature


def test_cover_prefilled_and_locked(made, grassroots):
    ws = grassroots["封面"]
    assert [c.value for c in ws[HEADER_ROW][:4]] == ["项目", "代码", "内容", "说明"]
    expected = {"FM01": "甲公司（A/B厂）工会", "FM02": U["g1"], "FM03": U["street"], "FM04": "2025",
                "FM05": "1", "FM07": "330106001001", "FM12": SPEC.version}
    for code, value in expected.items():
        cell = ws.cell(row_of(ws, code), 3)
        assert (cell.value, cell.data_type, cell.number_format) == (value, "s", "@"), code
        assert cell.protection.locked, code
    for code in ("FM06", "FM08", "FM09", "FM10", "FM11"):
        cell = ws.cell(row_of(ws, code), 3)
        assert cell.value is None and not cell.protection.locked, code
    assert ws.cell(row_of(ws, "FM10"), 4).value == "如 2026-01-15"


def test_cover_of_benji_and_joint_union(made, benji):
    ws = benji["封面"]
    assert ws.cell(row_of(ws, "FM02"), 3).value == "0106001"  # leading zero kept
    assert ws.cell(row_of(ws, "FM05"), 3).value == "9"
    assert ws.cell(row_of(ws, "FM07"), 3).value == "330106001000"
    joint = openpyxl.load_workbook(made[U["g2"]])["封面"]
    assert joint.cell(row_of(joint, "FM05"), 3).value == "2"  # from the registry
    city = openpyxl.load_workbook(made[U["city"]])["封面"]
    assert city.cell(row_of(city, "FM03"), 3).value is None  # the top has no parent


def test_cover_unit_nature_dropdown(grassroots):
    ws = grassroots["封面"]
    dv = validation_of(ws, f"C{row_of(ws, 'FM06')}")
    assert dv.type == "list" and "_lists" in dv.formula1
    entries = list_entries(grassroots, dv.formula1)
    assert entries[0] == "110 国有" and len(entries) == len(SPEC.enums["单位性质"])
    assert dv.prompt and dv.error


def test_protection_and_input_cells(grassroots):
    for name in grassroots.sheetnames:
        ws = grassroots[name]
        assert ws.protection.sheet and not ws.protection.password, name
    ws = grassroots["会员"]
    r = row_of(ws, "HY01")
    assert ws.cell(r, 1).protection.locked and ws.cell(r, 2).protection.locked
    assert not ws.cell(r, 4).protection.locked and not ws.cell(r, 5).protection.locked
    assert ws.cell(r, 4).fill.fgColor.rgb.endswith("FFF2CC")
    assert ws.cell(HEADER_ROW, 4).protection.locked


def test_a_unit_count_takes_a_number_or_yes_no(grassroots):
    ws = grassroots[SPEC.rows["JH04"].sheet]
    dv = validation_of(ws, ws.cell(row_of(ws, "JH04"), 4).coordinate)
    assert not dv.showErrorMessage  # a 联合 union types its number; the list only offers 是/否
    assert "单位个数" in dv.prompt and "是" in dv.prompt


def test_value_formats_and_validations(grassroots):
    checks = {  # code: (number format, type, operator, formula1)
        "HY01": ("0", "whole", "greaterThanOrEqual", "0"),
        "BF07": ("0.00", "decimal", "greaterThanOrEqual", "0"),
        "JF08": ("0.00", "decimal", "between", None),  # signed: 投资收益 may be negative
    }
    for code, (fmt, kind, op, f1) in checks.items():
        ws = grassroots[SPEC.rows[code].sheet]
        cell = ws.cell(row_of(ws, code), 4)
        dv = validation_of(ws, cell.coordinate)
        assert (cell.number_format, dv.type, dv.operator) == (fmt, kind, op), code
        assert f1 is None or dv.formula1 == f1
        assert dv.showInputMessage and dv.prompt and dv.showErrorMessage, code
        assert "应为" in dv.error or "只能" in dv.error, code
    # a count of units, or 是/否 from the list in a 单独基层工会 (see test_a_unit_count_takes_a_number_or_yes_no)
    flag = validation_of(grassroots["建会"], f"D{row_of(grassroots['建会'], 'JH03')}")
    assert grassroots["建会"][f"D{row_of(grassroots['建会'], 'JH03')}"].number_format == "0"
    assert "_lists" in flag.formula1 and list_entries(grassroots, flag.formula1) == ["是", "否"]
    signed = validation_of(grassroots["经费"], f"D{row_of(grassroots['经费'], 'JF08')}")
    assert float(signed.formula1) < 0 < float(signed.formula2)


def test_every_input_value_cell_has_a_validation(grassroots):
    for form in SPEC.data_forms:
        ws = grassroots[form.sheet]
        for row in form.rows:
            if row.filled and row.level != "本级":
                dv = validation_of(ws, f"D{row_of(ws, row.code)}")
                assert dv is not None and dv.prompt, row.code


def test_a_long_hint_and_name_are_cut_to_excels_limit(tmp_path, template_registry):
    """Excel refuses a validation message over 255 characters: a plugin row's long hint is cut, its instruction
    kept; the error message is cut too."""
    from tongji.testing import load_plugin

    plugin = tmp_path / "long.toml"
    name, hint = "很长的名称" * 60, "说明" * 200
    plugin.write_text(f'[[extend]]\nform = "HY"\nrows = [{{ code = "HY91", name = "{name}", kind = "count", '
                      f'hint = "{hint}" }}]\n', encoding="utf-8")
    spec = load_plugin(plugin).spec
    [path] = make_templates(load_registry(template_registry), "2025", tmp_path / "out", U["g1"], spec=spec)
    ws = openpyxl.load_workbook(path)[spec.rows["HY91"].sheet]
    dv = validation_of(ws, f"D{row_of(ws, 'HY91')}")
    assert len(dv.prompt) == 255 and dv.prompt.startswith("说明说明") and dv.prompt.endswith("不填按 0 计")
    assert len(dv.error) == 255 and dv.error.startswith("很长的名称") and len(dv.promptTitle) <= 32


def test_benji_rows_locked_in_grassroots_open_in_benji(grassroots, benji):
    for code in ("JH21", "JH24", "JF17", "JF18"):
        sheet = SPEC.rows[code].sheet
        ws = grassroots[sheet]
        r = row_of(ws, code)
        assert ws.cell(r, 4).protection.locked and ws.cell(r, 4).value is None
        assert ws.cell(r, 5).value == "本级填报"
        assert validation_of(ws, f"D{r}") is None
        ws = benji[sheet]
        r = row_of(ws, code)
        assert not ws.cell(r, 4).protection.locked and ws.cell(r, 5).value is None
        assert validation_of(ws, f"D{r}").type in ("whole", "decimal")


def test_guide_sheet(grassroots):
    text = "\n".join(str(c.value) for c in grassroots["填表说明"]["A"] if c.value)
    for phrase in ("本期数", "按 0 读取", "“是”或“否”", "元", "说明", "合并单元格", "WPS", SPEC.version):
        assert phrase in text, phrase


def test_fastexcel_finds_header_and_codes(made):
    frame = (
        fastexcel.read_excel(made[U["g1"]])
        .load_sheet("会员", header_row=None, dtypes="string", skip_rows=0)
        .to_polars()
    )
    rows = frame.rows()
    header = next(i for i, r in enumerate(rows) if "代码" in r and "本期数" in r)
    assert header == HEADER_ROW - 1
    codes = [r[1] for r in rows[header + 1:] if r[1]]
    assert codes == [r.code for r in SPEC.rows.values() if r.form == "HY"]


def test_reader_reads_every_template_without_problems(made):
    stack = read_workbooks(list(made.values()), SPEC)
    assert stack.problems == [] and all(stack.readable)
    per_file = stack.cells.group_by("file_id").len()["len"].to_list()
    expected = len(SPEC.cover.rows) + sum(r.filled for r in SPEC.numeric_rows())
    assert per_file == [expected] * len(made)


def fill(path, values: dict, cover: dict) -> None:
    """Type values into the unlocked input cells, as a submitter would."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets[:5]:
        col = 3 if ws.title == "封面" else 4
        for r in range(HEADER_ROW + 1, ws.max_row + 1):
            code, cell = ws.cell(r, 2).value, ws.cell(r, col)
            value = (cover if col == 3 else values).get(code)
            if value is not None and not cell.protection.locked:
                cell.value = value
    wb.save(path)


def test_filled_templates_pass_validation(made, template_registry, tmp_path):
    inbox = tmp_path / "收到"
    inbox.mkdir()
    for code in (U["g1"], U["street"]):
        shutil.copy(made[code], inbox / made[code].name)
        fill(inbox / made[code].name, GOOD, {"FM06": "170 私营", "FM08": "张三", "FM10": "2026-01-15"})
    report = tongji.validate([inbox], registry=template_registry, period="2025")
    assert report.issues.height == 0, report.issues.select("file", "rule", "cell", "message").rows()
    assert sorted(report.workbooks["org_type"].to_list()) == ["1", "9"]


def test_libreoffice_opens_a_template(made, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if not office:
        pytest.skip("LibreOffice is not installed")
    source = made[U["g1"]]
    result = subprocess.run(
        [office, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        capture_output=True, timeout=120, check=False,
    )
    pdf = tmp_path / (source.stem + ".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 0, result.stderr.decode(errors="replace")


# --- CLI ---


@pytest.fixture(scope="module")
def app():
    if not any(c.name == "template" for c in cli.app.registered_commands):
        cli._register()
    return cli.app


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """The real entry point, so TongjiError becomes exit code 2 and one line on stderr."""
    monkeypatch.setattr(sys, "argv", ["tongji", *args])
    monkeypatch.setattr(cli, "_register", lambda: None)  # the `app` fixture registered the commands
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return exc.value.code, capsys.readouterr().err


def test_cli_writes_all(app, template_registry, tmp_path):
    out = tmp_path / "模板"
    result = CliRunner().invoke(app, ["template", "-r", str(template_registry), "-p", "2025", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == EXPECTED_NAMES
    assert f"已生成 5 个模板，保存在 {out}" in result.output


def test_cli_one_unit_in_english(app, template_registry, tmp_path):
    args = ["--lang", "en", "template", "--registry", str(template_registry), "--period", "2025",
            "--out", str(tmp_path), "--unit", U["g2"]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Wrote 1 template to" in result.output
    assert [p.name for p in tmp_path.glob("*.xlsx")] == [f"{U['g2']}_乙园区联合工会_2025.xlsx"]


def test_cli_refuses_to_write_over_a_file_of_a_templates_name(app, monkeypatch, capsys, template_registry, tmp_path):
    """Templates made again into the folder where a unit's filled workbook lies: refused with exit 2 naming it,
    nothing written; --overwrite replaces it."""
    out = tmp_path / "模板"
    out.mkdir()
    returned = out / f"{U['g2']}_乙园区联合工会_2025.xlsx"
    returned.write_bytes(b"filled in")
    code, err = run_main(monkeypatch, capsys, "template", "-r", str(template_registry), "-p", "2025", "-o", str(out))
    assert code == 2
    assert f"{returned} 已存在（可能是单位交回的报表），未生成任何模板" in err
    assert [p.name for p in out.iterdir()] == [returned.name] and returned.read_bytes() == b"filled in"
    result = CliRunner().invoke(app, ["template", "-r", str(template_registry), "-p", "2025", "-o", str(out),
                                      "--overwrite"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == EXPECTED_NAMES and returned.read_bytes()[:2] == b"PK"


def test_cli_unknown_unit_exits_2(app, monkeypatch, capsys, template_registry, tmp_path):
    code, err = run_main(monkeypatch, capsys, "template", "-r", str(template_registry), "-p", "2025",
                         "-o", str(tmp_path / "out"), "--unit", "X999")
    assert code == 2
    assert "名册中没有单位 X999" in err
    assert not (tmp_path / "out").exists()


def test_cli_invalid_period_exits_2(app, monkeypatch, capsys, template_registry, tmp_path):
    code, err = run_main(monkeypatch, capsys, "template", "-r", str(template_registry), "-p", "2025年13月",
                         "-o", str(tmp_path / "out"))
    assert code == 2
    assert "报告期“2025年13月”格式不对" in err


def test_cli_revoked_unit_exits_2(app, monkeypatch, capsys, template_registry, tmp_path):
    code, err = run_main(monkeypatch, capsys, "template", "-r", str(template_registry), "-p", "2025",
                         "-o", str(tmp_path / "out"), "--unit", U["g3"])
    assert (code, err.strip()) == (2, f"错误：名册中单位 {U['g3']} 已撤销")


def test_cli_missing_registry_exits_2(app, monkeypatch, capsys, tmp_path):
    code, err = run_main(monkeypatch, capsys, "template", "-r", str(tmp_path / "无.csv"), "-p", "2025",
                         "-o", str(tmp_path / "out"))
    assert code == 2 and "名册文件不存在" in err
