"""The registry (名册): checked on load, levels from configuration, the tree it defines."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tongji import cli, i18n
from tongji.definitions.registry import load_registry, parse_levels
from tongji.errors import TongjiError
from tongji.i18n import t

HEADER = "单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态\n"
GOOD = HEADER + """C,市总,,市,9,330100000000,正常
D,区总,C,区,9,330106000000,正常
S,街道,D,街道,9,330106001000,正常
G1,甲工会,S,基层,1,330106001001,正常
G2,乙工会,S,基层,1,330106001002,撤销
"""


def write(tmp_path, text, name="名册.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_good_registry_and_its_tree(tmp_path):
    reg = load_registry(write(tmp_path, GOOD))
    assert reg.children("S") == ["G1"]  # 撤销 units are not expected
    assert reg.subtree("C") == ["C", "D", "S", "G1"]
    assert reg.nodes_bottom_up() == ["S", "D", "C"]
    assert reg.roots() == ["C"] and reg.is_leaf("G1") and not reg.is_leaf("S")


@pytest.mark.parametrize(("rows", "message"), [
    ("C,市总,,市\nC,又一个,,市\n", "名册中单位代码重复：C"),
    ("C,市总,,市\nD,区总,X,区\n", "名册中上级代码不存在：D→X"),
    ("A,甲,B,区\nB,乙,A,区\n", "名册中上下级关系成环：A→B→A"),
    ("S,街道,,街道\nG,工会,S,基层\nH,下属,G,基层\n", "基层单位不能有下级：G"),
    ("C,市总,,市\nS,街道,C,街道\n", "名册层级跳级：S（街道）→C（市）"),
    ("C,市总,,省\n", "名册中有未知层级：省"),
])
def test_registry_checks(tmp_path, rows, message):
    with pytest.raises(TongjiError) as exc:
        load_registry(write(tmp_path, "单位代码,单位名称,上级代码,层级\n" + rows))
    assert message in str(exc.value)


def test_missing_columns_and_unreadable(tmp_path):
    with pytest.raises(TongjiError, match="名册缺少列：层级"):
        load_registry(write(tmp_path, "单位代码,单位名称,上级代码\nA,甲,\n"))
    with pytest.raises(TongjiError, match="名册文件不存在"):
        load_registry(tmp_path / "none.csv")
    with pytest.raises(TongjiError, match="不是有效的 Excel 文件"):
        load_registry(write(tmp_path, "not a workbook", name="名册.xlsx"))


def test_gbk_csv_and_xlsx_registries(tmp_path):
    import openpyxl

    assert load_registry(write(tmp_path, GOOD, encoding="gbk")).children("S") == ["G1"]
    wb = openpyxl.Workbook()
    for line in GOOD.splitlines():
        wb.active.append(line.split(","))
    wb.save(tmp_path / "名册.xlsx")
    assert load_registry(tmp_path / "名册.xlsx").subtree("D") == ["D", "S", "G1"]


def test_levels_are_configuration(tmp_path, monkeypatch):
    county = HEADER + "X,县总,,县,9,,\nT,乡镇,X,乡镇,9,,\nG,工会,T,基层,1,,\n"
    path = write(tmp_path, county)
    with pytest.raises(TongjiError, match="名册中有未知层级：乡镇、县"):
        load_registry(path)
    assert load_registry(path, "县,乡镇,基层").nodes_bottom_up() == ["T", "X"]
    monkeypatch.setenv("TONGJI_LEVELS", "县、乡镇、基层")
    assert load_registry(path).is_leaf("G")
    with pytest.raises(TongjiError, match="层级设置“基层”无效"):
        parse_levels("基层")


def test_cli_levels_option(tmp_path):
    from workbooks import cover, make_workbook

    path = write(tmp_path, HEADER + "X,县总,,县,9,,\nT,乡镇,X,乡镇,9,,\nG,工会,T,基层,1,,\n")
    make_workbook(tmp_path / "in" / "g.xlsx", cover_values=cover("G", FM03="T", FM07=None))
    cli._register()
    args = ["validate", str(tmp_path / "in"), "-r", str(path)]
    assert CliRunner().invoke(cli.app, args).exit_code == 2
    result = CliRunner().invoke(cli.app, [*args, "--levels", "县,乡镇,基层"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("rows", "message"), [
    ("C,市总,,市\nD,区总,C,区\nS,街道,D,街道\nG1,甲工会,S,基层\nG2,乙工会,,基层\n",
     "名册中这些单位不在最高层级，却没有上级代码：G2（基层）"),
    ("", "名册中没有任何单位（只有表头）"),
])
def test_registry_refuses_what_it_cannot_trust(tmp_path, rows, message):
    with pytest.raises(TongjiError) as exc:
        load_registry(write(tmp_path, "单位代码,单位名称,上级代码,层级\n" + rows))
    assert message in str(exc.value)


@pytest.mark.parametrize("content", ["", "\n\n", "\ufeff"])
def test_an_empty_registry_file_is_said_so_in_the_users_language(tmp_path, content):
    """A CSV saved empty (or only blank lines): the reader's own words were English, `empty CSV`, inside the
    Chinese message."""
    path = write(tmp_path, content)
    with pytest.raises(TongjiError) as exc:
        load_registry(path)
    assert str(exc.value) == f"名册文件是空的：{path}"
    assert t("registry-blank", lang="en", **exc.value.kw) == f"The registry file is empty: {path}"


def test_a_registry_may_start_below_the_top_level(tmp_path):
    reg = load_registry(write(tmp_path, HEADER + "S,街道,,街道,9,,\nG,工会,S,基层,1,,\n"))
    assert reg.roots() == ["S"] and reg.children("S") == ["G"]


def test_a_formula_in_an_xlsx_registry_is_refused(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    for line in GOOD.splitlines():
        wb.active.append(line.split(","))
    wb.active["C5"] = '=IF(1,"S","")'  # openpyxl saves no cached value: it reads as blank
    wb.save(tmp_path / "名册.xlsx")
    with pytest.raises(TongjiError, match="名册 .*名册.xlsx 的 C5 是公式"):
        load_registry(tmp_path / "名册.xlsx")


def test_registry_mistakes_exit_2_with_one_line(tmp_path):
    path = write(tmp_path, "单位代码,单位名称,上级代码,层级\n")
    result = CliRunner().invoke(cli.app, ["validate", str(path), "--registry", str(path)])
    assert result.exit_code == 2
    assert "名册中没有任何单位" in result.output and "Traceback" not in result.output


def test_an_active_unit_under_a_revoked_one_is_a_registry_error(tmp_path):
    """A 街道 revoked while its grassroots units stay 正常 would leave them in nobody's subtree: not expected, their
    workbooks said to belong elsewhere, their figures in no total. The registry is refused, naming both."""
    rows = GOOD.replace("S,街道,D,街道,9,330106001000,正常", "S,街道,D,街道,9,330106001000,撤销")
    path = write(tmp_path, rows)
    with pytest.raises(TongjiError) as exc:
        load_registry(path)
    assert str(exc.value) == "名册中这些单位未撤销，其上级却已撤销：G1→S"  # G2 is revoked with it
    result = CliRunner().invoke(cli.app, ["--lang", "en", "validate", str(path), "--registry", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "active but their parent is marked 撤销 (revoked): G1→S" in result.output
    revoked = rows.replace("G1,甲工会,S,基层,1,330106001001,正常", "G1,甲工会,S,基层,1,330106001001,撤销")
    assert load_registry(write(tmp_path, revoked)).children("D") == []  # revoked with its units: fine


def test_a_state_other_than_active_or_revoked_is_a_registry_error(tmp_path):
    """撤消 or 注销 must not read as 正常: the unit would be expected and counted missing. Blank stays 正常."""
    rows = GOOD.replace("330106001002,撤销", "330106001002,撤消").replace("330106001001,正常", "330106001001,")
    path = write(tmp_path, rows)
    with pytest.raises(TongjiError) as exc:
        load_registry(path)
    assert str(exc.value) == "名册中状态应为“正常”或“撤销”（空白按正常）：G2（撤消）"
    result = CliRunner().invoke(cli.app, ["--lang", "en", "validate", str(path), "--registry", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "正常 (active) or 撤销 (revoked; blank is 正常): G2 (撤消)" in result.output
    reg = load_registry(write(tmp_path, rows.replace("撤消", "撤销")))
    assert reg.children("S") == ["G1"]


def test_an_invalid_credit_code_in_the_registry_is_refused(tmp_path):
    """An 18-character 单位代码 is checked as a 统一社会信用代码 on every cover (bad-uscc): one with a wrong check
    character in the registry would return every workbook of its unit, which could never put it right. The registry
    is refused instead, naming the code; shorter codes (统计编码 such as 330106004) are not checked."""
    good, bad = "91350100M000100Y43", "91350100M000100Y4Z"
    rows = GOOD.replace("G1,", f"{good},").replace("G2,", f"{bad},")
    path = write(tmp_path, rows)
    with pytest.raises(TongjiError) as exc:
        load_registry(path)
    assert str(exc.value) == ("名册中这些 18 位单位代码不是有效的统一社会信用代码（校验位不符），"
                              f"请按单位的登记证书改正：{bad}")
    result = CliRunner().invoke(cli.app, ["--lang", "en", "validate", str(path), "--registry", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "not valid unified social credit codes (check character wrong)" in " ".join(result.output.split())
    fixed = write(tmp_path, rows.replace(bad, "81330106MM4426490Q"))
    assert load_registry(fixed).children("S") == [good]


@pytest.mark.parametrize(("rows", "zh", "en"), [
    (HEADER + "C,市总,,市,9,,\nD,区总,C,县,9,,\nS,街道,D,乡镇,9,,\n",
     "名册中有未知层级：乡镇、县（层级设置为 市、区、街道、基层，可用 --levels 或 TONGJI_LEVELS 修改）",
     "Registry has unknown levels: 乡镇, 县 (levels are 市, 区, 街道, 基层; set them with --levels or TONGJI_LEVELS)"),
    ("单位代码,单位名称\nC,市总\n", "名册缺少列：上级代码、层级", "Registry lacks columns: 上级代码, 层级"),
    (HEADER + "C,市总,,市,9,,\n" + "".join(f"G{i},工会,X{i},基层,1,,\n" for i in range(7)),
     "名册中上级代码不存在：G0→X0、G1→X1、G2→X2、G3→X3、G4→X4 等 7 项",
     "Registry parents not found: G0→X0, G1→X1, G2→X2, G3→X3, G4→X4 … 7 in all"),
    (HEADER + "C,市总,,市,9,,\nD,区总,C,区,9,,\nG,工会,D,基层,1,,\n",
     "名册层级跳级：G（基层）→D（区）", "Registry skips a level: G (基层)→D (区)"),
])
def test_the_lists_in_a_registry_error_are_joined_in_the_language_it_is_read_in(tmp_path, monkeypatch, rows, zh,
                                                                               en):
    """A Chinese list separator (、), 等 N 项 and full-width brackets have no place in an English sentence."""
    with pytest.raises(TongjiError) as exc:
        load_registry(write(tmp_path, rows))
    assert str(exc.value) == zh
    monkeypatch.setattr(i18n, "_lang", "en")
    assert str(exc.value) == en


def test_a_registry_in_an_unknown_encoding_is_said_so_in_the_language_it_is_read_in(tmp_path, monkeypatch):
    path = tmp_path / "名册.csv"
    path.write_bytes(b"\xff\xfe\xff\xff,\xff\n")  # neither UTF-8 nor GBK
    with pytest.raises(TongjiError) as exc:
        load_registry(path)
    assert str(exc.value) == f"名册文件无法读取：{path}（编码无法识别）"
    monkeypatch.setattr(i18n, "_lang", "en")
    assert str(exc.value) == f"Registry cannot be read: {path} (its text encoding is neither UTF-8 nor GBK)"


def test_a_type_outside_the_codes_is_a_registry_error_naming_file_row_and_value(tmp_path):
    """A 组织类型 of 5 was read as 1 单独基层工会 and prefilled so on the unit's template. Blank, a code, its name or
    the two together stay as they were."""
    path = write(tmp_path, GOOD.replace("G1,甲工会,S,基层,1,", "G1,甲工会,S,基层,5,"))
    with pytest.raises(TongjiError) as exc:
        load_registry(path)
    assert str(exc.value) == (f"名册 {path} 中组织类型应为 1（单独基层工会）、2（联合基层工会）、3（基层工会联合会）、"
                              "9（本级）或空白：第 5 行 G1：“5”")
    result = CliRunner().invoke(cli.app, ["--lang", "en", "template", "-r", str(path), "-p", "2025", "-o",
                                          str(tmp_path / "模板")])
    assert result.exit_code == 2 and "Traceback" not in result.output and not (tmp_path / "模板").exists()
    assert " ".join(result.output.split()) == (
        f"Error: In registry {path}, 组织类型 must be 1 (单独基层工会), 2 (联合基层工会), 3 (基层工会联合会), "
        "9 (本级) or blank: row 5 G1: '5'")
    for fine in ("", "2", "联合基层工会", "2 联合基层工会"):
        assert load_registry(write(tmp_path, GOOD.replace("G1,甲工会,S,基层,1,", f"G1,甲工会,S,基层,{fine},")))


def test_the_registry_takes_the_types_the_form_declares_but_a_summary_s():
    from tongji.definitions.registry import ORG_TYPES
    from tongji.plugins import load_spec

    assert ORG_TYPES == {c: n for c, n in load_spec().enums["组织类型"].items() if c != "0"}  # 0 is rollup's own


def test_a_folder_given_as_the_registry_is_said_to_be_a_folder(tmp_path, monkeypatch):
    """It exists: "not found" would send the statistician looking for a file that is there."""
    with pytest.raises(TongjiError) as exc:
        load_registry(tmp_path)
    assert str(exc.value) == f"名册要给文件（xlsx 或 csv，如 名册.xlsx），不是文件夹：{tmp_path}"
    monkeypatch.setattr(i18n, "_lang", "en")
    assert str(exc.value) == f"The registry is a file (xlsx or csv, such as 名册.xlsx), not a folder: {tmp_path}"


@pytest.mark.parametrize(("name", "text", "zh", "en"), [
    ("名册.csv", HEADER + "C,市总,,市,9,330100000000,正常\nD,区总,有限公司,C,区,9,330106000000,正常\n",
     "名册文件 {path} 第 3 行的列数比表头多：多半是某个名称中有英文逗号；请在 Excel 或 WPS 中打开、另存为 CSV 后再用",
     "Line 3 of registry {path} has more fields than its header: most likely a name holding a comma; open it in "
     "Excel or WPS and save it as CSV again"),
    ("名册.csv", HEADER + 'C,市总,,市,9,330100000000,正常\nD,"区总,C,区,9,330106000000,正常\nS,街道,D,街道,9,,\n',
     "名册文件 {path} 第 3 行的英文引号（\"）不成对；请在 Excel 或 WPS 中打开、另存为 CSV 后再用",
     "Line 3 of registry {path} has a double quote (\") without its pair; open it in Excel or WPS and save it as "
     "CSV again"),
    ("名册.xlsx", GOOD,
     "名册文件 {path} 不是有效的 Excel 文件（可能已损坏、设有打开密码，或是改了扩展名的其他文件）；"
     "请在 Excel 或 WPS 中打开、另存为 .xlsx 后再用",
     "Registry {path} is not a valid Excel file (damaged, password-protected, or another kind of file renamed); "
     "open it in Excel or WPS and save it as .xlsx"),
    ("名册.xls", "<html><table><tr><td>单位代码</td></tr></table></html>",  # a web page some systems export as .xls
     "名册文件 {path} 不是有效的 Excel 文件（可能已损坏、设有打开密码，或是改了扩展名的其他文件）；"
     "请在 Excel 或 WPS 中打开、另存为 .xlsx 后再用",
     "Registry {path} is not a valid Excel file (damaged, password-protected, or another kind of file renamed); "
     "open it in Excel or WPS and save it as .xlsx"),
], ids=["comma", "quote", "xlsx", "html-xls"])
def test_an_unreadable_registry_says_why_in_the_users_language(tmp_path, monkeypatch, name, text, zh, en):
    """The reading library says what is wrong in English (found more fields than defined in 'Schema', calamine
    error: …): inside a Chinese line, and without the line."""
    path = write(tmp_path, text, name=name)
    with pytest.raises(TongjiError) as exc:
        load_registry(path)
    assert str(exc.value) == zh.format(path=path)
    monkeypatch.setattr(i18n, "_lang", "en")
    assert str(exc.value) == en.format(path=path)
