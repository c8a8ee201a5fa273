"""Cross-period rules as data (domain.md §5, v2): prev(CODE) in the grammar, the built-in checks in rules.toml and
a plugin's own, each failing and passing at its cell when rollup is given last period's summary."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tongji.definitions.expr import ExprError, parse
from tongji.errors import TongjiError
from tongji.testing import load_plugin, make_city, rollup, validate, write_outputs

# this year's books open with last year's closing balance (68799.5) and close on it plus income − spending
NOW = {"JF20": 68799.5, "JF21": 68799.5 + 135799.5 - 117000}
# rule id, values of one grassroots unit that break it, the code of the cell reported, values that keep it
CASES = [
    ("jf20-previous", {"JF20": 68800.5, "JF21": 87600.0}, "JF20", {}),
    ("hy03-change", {"HY03": 44, "HY12": 40}, "HY03", {"HY03": 45, "HY12": 40}),  # 90 → 45 is exactly 50%
    ("bf01-flow", {"BF01": 4}, "BF01", {"BF01": 4, "BF05": 2}),  # 3 + 2 − 1
]
SAME_YEAR = ("jf20-same-year",)  # compared with an earlier report of the same year (a quarter's): tested below
PLUGIN = '''
[[rule]]
id = "hy12-not-down"
severity = "警告"
when = "prev(HY12) > 0"
check = "HY12 >= prev(HY12) * 90%"
message = "实名制入库会员数由上期 {上期HY12} 降到 {HY12}，请核实"
'''


@pytest.fixture(scope="module")
def last_year(tmp_path_factory) -> Path:
    """The 市's summary workbook of 2024: every unit with GOOD_VALUES (BENJI_VALUES for 本级)."""
    root = tmp_path_factory.mktemp("last")
    host = load_plugin(builtins_only=True)
    city = make_city(root / "city", host, period="2024")
    top = rollup(host, city)[city.top]
    return next(p for p in write_outputs(host, top, root / "汇总") if p.suffix == ".xlsx")


def this_year(root: Path, host, changed: dict):
    """This year's city, one grassroots unit (the first) with `changed` values."""
    first: list[str] = []

    def values(code: str, row: dict) -> dict:
        if row["层级"] == "基层" and not first:
            first.append(code)
        return NOW | (changed if first and code == first[0] else {})

    city = make_city(root, host, values=values)
    return city, first[0]


def cell_of(path: Path, code: str) -> str:
    for ws in openpyxl.load_workbook(path).worksheets:
        for row in ws.iter_rows():
            if len(row) > 3 and row[1].value == code:
                return f"{ws.title}!{row[3].coordinate}"
    raise AssertionError(code)


def period_issues(host, city, last: Path) -> list[list[str]]:
    top = rollup(host, city, previous=last)[city.top]
    return top.issues.select("file", "rule", "cell", "severity").rows()


@pytest.mark.parametrize(("rule", "bad", "code", "good"), CASES, ids=[c[0] for c in CASES])
def test_cross_period_rule_fails_and_passes(tmp_path, last_year, rule, bad, code, good):
    host = load_plugin(builtins_only=True)
    city, unit = this_year(tmp_path / "bad", host, bad)
    found = period_issues(host, city, last_year)
    path = city.files[unit]
    severity = {"jf20-previous": "错误"}.get(rule, "警告")
    assert (str(path), rule, cell_of(path, code), severity) in found
    city, _ = this_year(tmp_path / "good", host, good)
    assert rule not in {r for _, r, _, _ in period_issues(host, city, last_year)}


@pytest.mark.parametrize(("rule", "bad", "diff"), [
    ("jf20-previous", {"JF20": 68800.5, "JF21": 87600.0}, 1.0),  # 68800.5 − last year's 68799.5
    ("hy03-change", {"HY03": 30, "HY12": 20}, 15.0),  # |30 − 90| − 90 × 50%
    ("bf01-flow", {"BF01": 5}, 2.0),  # 5 − (3 + 1 − 1)
])
def test_a_cross_period_rule_gives_its_imbalance_as_the_others_do(tmp_path, last_year, rule, bad, diff):
    """差额 (left − right) beside a cross-period finding, as beside JF01 = Σ in one period (domain.md §5)."""
    host = load_plugin(builtins_only=True)
    city, _ = this_year(tmp_path, host, bad)
    top = rollup(host, city, previous=last_year)[city.top]
    assert top.issues.filter(top.issues["rule"] == rule)["diff"].to_list() == [diff]
    book = next(p for p in write_outputs(host, top, tmp_path / "汇总") if p.suffix == ".xlsx")
    sheet = openpyxl.load_workbook(book)["校验"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert [r["差额"] for r in rows if r["规则"] == rule] == [diff]


def test_a_clean_year_passes_every_cross_period_rule(tmp_path, last_year):
    host = load_plugin(builtins_only=True)
    city, _ = this_year(tmp_path, host, {})
    assert period_issues(host, city, last_year) == []


def test_messages_quote_last_periods_value(tmp_path, last_year):
    host = load_plugin(builtins_only=True)
    city, _ = this_year(tmp_path, host, {"HY03": 44, "HY12": 40})
    top = rollup(host, city, previous=last_year)[city.top]
    assert top.issues["message"].to_list() == ["会员人数由上期 90 变为 44，变动超过 50%，请核实"]


def test_a_swing_explained_in_the_note_is_explained(tmp_path, last_year):
    host = load_plugin(builtins_only=True)
    city, unit = this_year(tmp_path, host, {"HY03": 44, "HY12": 40})
    wb = openpyxl.load_workbook(city.files[unit])
    sheet, ref = cell_of(city.files[unit], "HY03").split("!")
    wb[sheet][ref].offset(column=1).value = "本年改制，部分职工转出"
    wb.save(city.files[unit])
    top = rollup(host, city, previous=last_year)[city.top]
    assert top.issues.select("rule", "explained").rows() == [("hy03-change", "本年改制，部分职工转出")]


def test_a_plugin_adds_its_own_cross_period_rule(tmp_path, last_year):
    plugin = tmp_path / "跨期.toml"
    plugin.write_text(PLUGIN, encoding="utf-8")
    host = load_plugin(plugin)
    assert not host.errors
    city, unit = this_year(tmp_path / "city", host, {"HY12": 71})  # 80 → 71: more than 10% down
    found = period_issues(host, city, last_year)
    path = city.files[unit]
    assert (str(path), "hy12-not-down", cell_of(path, "HY12"), "警告") in found
    top = rollup(host, city, previous=last_year)[city.top]
    assert "实名制入库会员数由上期 80 降到 71，请核实" in top.issues["message"].to_list()
    city, _ = this_year(tmp_path / "ok", host, {"HY12": 72})
    assert "hy12-not-down" not in {r for _, r, _, _ in period_issues(host, city, last_year)}


def test_validate_alone_leaves_cross_period_rules_to_rollup(tmp_path):
    host = load_plugin(builtins_only=True)
    city, _ = this_year(tmp_path, host, {"JF20": 1.0, "JF21": 1.0 + 135799.5 - 117000})
    assert validate(host, city).issues.height == 0  # no last period: nothing to compare with


def test_prev_in_the_grammar():
    expr = parse("abs(HY03 - prev(HY03)) <= prev(HY03) * 50%")
    assert expr.previous == ["HY03"] and expr.codes == ["HY03"]
    assert parse("JF20 = prev(JF21)").codes == ["JF20"]  # last period's JF21 is no cell of this workbook
    with pytest.raises(ExprError, match="prev"):
        parse("prev(HY03 + 1) > 0")


def test_a_rule_reading_an_unknown_code_last_period_is_refused(tmp_path):
    plugin = tmp_path / "bad.toml"
    plugin.write_text(PLUGIN.replace("prev(HY12) * 90%", "prev(ZZ99) * 90%"), encoding="utf-8")
    host = load_plugin(plugin)
    with pytest.raises(TongjiError, match="ZZ99"):
        host.spec  # noqa: B018


@pytest.fixture(scope="module")
def first_quarter(tmp_path_factory) -> Path:
    """The 市's summary of 2025Q1: every unit opens the year at 50000 (GOOD_VALUES) and closes Q1 at 68799.5."""
    root = tmp_path_factory.mktemp("q1")
    host = load_plugin(builtins_only=True)
    city = make_city(root / "city", host, period="2025Q1")
    top = rollup(host, city)[city.top]
    return next(p for p in write_outputs(host, top, root / "汇总") if p.suffix == ".xlsx")


def quarter(root: Path, host, period: str, changed: dict):
    first: list[str] = []

    def values(code: str, row: dict) -> dict:
        if row["层级"] == "基层" and not first:
            first.append(code)
        return changed if first and code == first[0] else {}

    return make_city(root, host, period=period, values=values), first


def test_a_later_quarter_keeps_the_years_opening_balance(tmp_path, first_quarter):
    """经费 is 本年累计: Q2 opens the year on the same 年初结余 as Q1 (not on Q1's closing balance)."""
    host = load_plugin(builtins_only=True)
    city, _ = quarter(tmp_path / "ok", host, "2025Q2", {})
    assert period_issues(host, city, first_quarter) == []
    city, unit = quarter(tmp_path / "bad", host, "2025Q2", {"JF20": 50001, "JF21": 68800.5})
    path = city.files[unit[0]]
    assert period_issues(host, city, first_quarter) == [(str(path), "jf20-same-year", cell_of(path, "JF20"), "错误")]
    top = rollup(host, city, previous=first_quarter)[city.top]
    assert top.issues["message"].to_list() == ["年初结余（50001）不等于本年上期报表的年初结余（50000）"]


def test_the_same_quarter_a_year_before_judges_no_opening_balance(tmp_path, first_quarter):
    """2025Q1's closing balance is mid-year: a 2026Q1 report's 年初结余 is not compared with it."""
    host = load_plugin(builtins_only=True)
    city, _ = quarter(tmp_path, host, "2026Q1", {})
    assert period_issues(host, city, first_quarter) == []


def test_how_last_period_stands_to_this_one():
    from tongji.definitions.codes import period_span

    pairs = [("2024", "2025"), ("2024Q4", "2025Q2"), ("2024-12", "2025-01"), ("2025Q1", "2025Q2"),
             ("2024Q2", "2025Q2"), ("2023", "2025")]
    assert [period_span(a, b) for a, b in pairs] == ["上年末", "上年末", "上年末", "本年", "", ""]


def test_previous_is_only_for_a_rule_reading_last_period(tmp_path):
    plugin = tmp_path / "bad.toml"
    plugin.write_text('[[rule]]\nid = "x"\nseverity = "错误"\ncheck = "HY03 <= HY01"\nprevious = "本年"\n',
                      encoding="utf-8")
    with pytest.raises(TongjiError, match="previous"):
        load_plugin(plugin).spec  # noqa: B018


def test_a_line_last_period_did_not_have_did_not_jump_from_0(tmp_path, last_year):
    """A plugin adds a count line this year: last year's summary has no such column, so no unit's 1500 jumped from
    0 (count-jump) and a rule reading prev() of it is not judged; 上期数 still reads 0, with no 同比."""
    plugin = tmp_path / "hz.toml"
    plugin.write_text('[[extend]]\nform = "HY"\nrows = [{ code = "HZ01", name = "灵活就业人员", kind = "count", '
                      'unit = "人" }]\n\n[[rule]]\nid = "hz01-not-down"\nseverity = "警告"\n'
                      'check = "HZ01 >= prev(HZ01)"\nmessage = "灵活就业人员少于上期"\n', encoding="utf-8")
    host = load_plugin(plugin)
    assert not host.errors
    city, unit = this_year(tmp_path / "city", host, {"HZ01": 1500})
    assert period_issues(host, city, last_year) == []
    top = rollup(host, city, previous=last_year)[city.top]
    hz01 = top.totals.filter(top.totals["code"] == "HZ01").row(0, named=True)
    assert (hz01["value"], hz01["previous"], hz01["change"]) == (1500.0, 0.0, None)
    builtins = load_plugin(builtins_only=True)
    city, unit = this_year(tmp_path / "jump", builtins, {"BF17": 1500, "BF18": 1000})
    path = city.files[unit]
    assert period_issues(builtins, city, last_year) == [
        (str(path), "count-jump", cell_of(path, "BF17"), "警告")]  # a line last year had, at 0


def test_a_flow_explained_beside_any_cell_it_reads_is_explained(tmp_path, last_year):
    """bf01-flow reads BF01, BF05 and BF06: a household that left the city, said in 说明 beside 本期脱困户数, explains
    it, as a note beside any cell of a rule does within one workbook."""
    host = load_plugin(builtins_only=True)
    city, unit = this_year(tmp_path, host, {"BF01": 4})
    wb = openpyxl.load_workbook(city.files[unit])
    sheet, ref = cell_of(city.files[unit], "BF06").split("!")
    wb[sheet][ref].offset(column=1).value = "另有一户迁出本市"
    wb.save(city.files[unit])
    top = rollup(host, city, previous=last_year)[city.top]
    assert top.issues.select("rule", "cell", "explained").rows() == [
        ("bf01-flow", cell_of(city.files[unit], "BF01"), "另有一户迁出本市")]


def test_the_issues_a_rollup_finds_name_their_unit_as_the_others_do():
    """The 校验 sheet has the issue list's columns: a cross-period error (翠苑卫生院's 年初结余 in the sample city), a
    unit that sent nothing and last year's summary read through its version name their unit in 单位名称, as the
    issues of a workbook do; it was blank for them."""
    import tongji
    from tongji.definitions.forms import data_dir

    samples = data_dir("samples")
    summary = tongji.rollup([samples / "2025" / "北干街道总工会", samples / "2025" / "翠苑街道总工会"],
                            registry=samples / "registry.csv", unit="330106", period="2025",
                            previous=samples / "2024" / "汇总" / "330106_2024_汇总.xlsx")
    named = {(rule, unit): name for rule, unit, name in summary.issues.select("rule", "unit", "unit_name").rows()}
    assert named["jf20-previous", "81330106MJ2554759A"] == "翠苑卫生院工会"
    assert named["missing-unit", "81330106MA31995955"] == "示例市永安医疗器械有限公司工会"
    assert named["previous-old-version", "330106"] == "西湖区总工会"
    assert "" not in summary.issues["unit_name"].to_list()


def test_last_periods_summary_of_another_unit_is_refused(tmp_path):
    """--previous naming a sibling street's summary (330106003's for 330106004): its 明细 holds none of this
    street's units, and the summary came out with every 上期数 0, no 同比 and no cross-period check, silently.
    The street's own summary and its district's are taken, as the guide says."""
    import tongji
    from tongji.cli import _register, app
    from tongji.definitions.forms import data_dir

    samples = data_dir("samples")
    inputs = [samples / "2025" / "翠苑街道总工会", *(samples / "2025" / "本级").glob("330106004_*")]
    last = samples / "2024" / "汇总"
    for call in (tongji.rollup, tongji.rollup_all):
        with pytest.raises(TongjiError) as exc:
            call(inputs, registry=samples / "registry.csv", unit="330106004", period="2025",
                 previous=last / "330106003_2024_汇总.xlsx")
        assert str(exc.value) == (f"上期汇总表 {last / '330106003_2024_汇总.xlsx'} 是 330106003 的汇总，不是 330106004 "
                                  "或其上级的：请给出本单位（或上级）上一期的汇总表")
    for own in ("330106004", "330106"):
        summary = tongji.rollup(inputs, registry=samples / "registry.csv", unit="330106004", period="2025",
                                previous=last / f"{own}_2024_汇总.xlsx")
        members = summary.totals.filter(summary.totals["code"] == "HY03")
        assert members["previous"].to_list() == [610]  # 翠苑街道's own units, from either summary
    _register()
    result = CliRunner().invoke(app, ["--lang", "en", "rollup", *map(str, inputs), "-r", str(samples / "registry.csv"),
                                      "-p", "2025", "--unit", "330106004", "-o", str(tmp_path / "out"),
                                      "--previous", str(last / "330106003_2024_汇总.xlsx")])
    assert result.exit_code == 2 and not any((tmp_path / "out").glob("*"))
    assert "is that of 330106003, not of 330106004 or a union above it" in result.output
