"""Cell types and ranges, text read as numbers, the cover, the registry and duplicates."""

from __future__ import annotations

import polars as pl
import pytest

import tongji
from tongji.definitions.codes import make_uscc, uscc_valid
from workbooks import HOST_CODE, UNION_CODE, cell_of, cover, make_workbook, uscc


def run(tmp_path, values=None, cover_values=None, **kw):
    make_workbook(tmp_path / "unit.xlsx", values, cover_values)
    return tongji.validate(tmp_path, **({"period": "2025"} | kw))


@pytest.mark.parametrize(("code", "raw", "rule", "severity"), [
    ("HY01", "12万", "not-a-number", "错误"),
    ("HY01", "1,23", "not-a-number", "错误"),  # not a thousands pattern: never guessed
    ("HY13", -1, "negative", "错误"),
    ("HY13", 1.5, "not-whole", "错误"),
    ("JF09", 1000.001, "too-many-decimals", "提示"),
    ("JH03", "也许", "not-a-number", "错误"),  # a count of units: a number, or 是/否 from a one-unit union
])
def test_bad_cells(tmp_path, code, raw, rule, severity):
    report = run(tmp_path, {code: raw})
    assert [cell_of(code), rule, severity, str(raw)] in report.flatten(["cell", "rule", "severity", "value"])


@pytest.mark.parametrize("raw", ["1,000", "１０００", " 1000 ", "1000\u3000", "1.000E+03", "1000e0"])
def test_text_numbers_are_read_with_a_notice(tmp_path, raw):
    report = run(tmp_path, {"HY01": raw, "HY03": 1000, "HY12": 900})
    assert report.flatten(["cell", "rule", "severity", "value"]) == [[cell_of("HY01"), "text-number", "提示", raw]]
    assert report.issues["message"][0] == f"“{raw}”是文本，已按数字 1000 读取"
    assert report.workbooks["status"].to_list() == ["通过"]


@pytest.mark.parametrize(("raw", "value"), [("1.23E+07", 12_300_000), ("1e3", 1000), ("1.0E+03", 1000),
                                             ("9.9E+02", 990), ("１.５Ｅ+０３", None)])
def test_a_number_in_scientific_notation_that_hides_digits_is_a_warning(tmp_path, raw, value):
    """12,345,678 in a narrow column shows as 1.23E+07; pasted as text, its last digits are gone. Read as what it
    shows, with a warning to type the whole number (or explain it); a number that writes out every digit of its
    whole part (1.000E+03, above) is only a notice."""
    report = run(tmp_path, {"HY01": raw, "HY03": 900, "HY12": 800})
    if value is None:  # a full-width Ｅ is no number at all
        assert report.flatten(["cell", "rule"]) == [[cell_of("HY01"), "not-a-number"]]
        return
    assert [cell_of("HY01"), "sci-number", "警告", raw] in report.flatten(["cell", "rule", "severity", "value"])
    said = report.issues.filter(pl.col("rule") == "sci-number")
    assert said["message"].to_list() == [f"“{raw}”是科学计数法，已按 {value} 读取，但没有写出全部数字（像是复制了 "
                                         "Excel 显示的值，后几位可能丢了），请填写完整的数"]
    assert report.values["HY01"].to_list() == [value]
    assert report.workbooks["status"].to_list() == ["有警告"]


def test_a_signed_amount_pasted_with_a_minus_sign_is_read(tmp_path):
    """−200.50 with the typographic minus (U+2212, as Word and PDFs write it) is -200.50, like －200.50."""
    for i, raw in enumerate(["\u2212200.50", "\uff0d200.50"]):
        report = run(tmp_path / str(i), {"JF08": raw})
        assert report.flatten(["cell", "rule", "severity", "value"]) == [[cell_of("JF08"), "text-number", "提示", raw]]
        assert report.values["JF08"].to_list() == [-200.5]


def test_text_number_value_takes_part_in_rules(tmp_path):
    report = run(tmp_path, {"HY02": "1,000", "HY01": 1000})
    assert report.flatten(["cell", "rule"]) == [[cell_of("HY02"), "text-number"]]
    report = run(tmp_path / "b", {"HY02": "1,001", "HY01": 1000})
    assert [cell_of("HY02"), "hy02-le-hy01"] in report.flatten(["cell", "rule"])


def test_negative_allowed_where_signed(tmp_path):
    report = run(tmp_path, {"JF08": -200.5})  # 投资收益 may be negative
    assert report.issues.height == 0


@pytest.mark.parametrize(("yes", "no"), [("1", "0"), ("Y", "N"), ("√", "×"), ("是", "否"), (True, False)])
def test_flag_variants(tmp_path, yes, no):
    report = run(tmp_path, {"JH03": yes, "JH07": no})
    assert report.issues.height == 0


def test_blank_cells_read_as_zero(tmp_path):
    report = run(tmp_path, {"HY13": None, "HY14": None})
    assert report.issues.height == 0


def _with_bad_org_check(prefix: str, area: str) -> str:
    """A code whose own check character is right but whose organisation code (positions 9–17) is not."""
    good = make_uscc(prefix, area, "MA2C3D4E")
    wrong = "0" if good[16] != "0" else "1"
    return uscc(good[:16] + wrong)


@pytest.mark.parametrize(("code", "raw", "rule", "severity"), [
    ("FM08", None, "required", "错误"),
    ("FM06", "999", "bad-enum", "错误"),
    ("FM05", "7", "bad-enum", "错误"),
    ("FM02", "91350100M000100Y4Z", "bad-uscc", "错误"),
    ("FM04", "2025年第五季度", "bad-period", "错误"),
    ("FM10", "明天", "bad-date", "错误"),
    ("FM10", "26-1-25", "bad-date", "错误"),  # not the year 0026, nor a guess at 2026
    ("FM10", "26年1月25日", "bad-date", "错误"),
    ("FM10", "1026-01-25", "bad-date", "错误"),  # four digits, but no year a report was sent in
    ("FM10", "2126-01-25", "bad-date", "错误"),
    ("FM07", "3301", "bad-area", "警告"),
    ("FM12", "2025.1", "old-version", "警告"),
    ("FM12", "我的表", "unknown-version", "警告"),
    ("FM04", "2024", "wrong-period", "错误"),
    # the cover items of v2 and the deeper code checks
    ("FM13", UNION_CODE[:-1] + "0", "bad-credit-code", "错误"),
    ("FM14", "91330106MA1B2C3D", "bad-credit-code", "错误"),
    ("FM15", "制造", "bad-industry", "警告"),
    ("FM15", "A13", "bad-industry", "警告"),  # 大类 13 is 制造业, in 门类 C, not A
    ("FM15", "99", "bad-industry", "警告"),  # there is no 大类 99
    ("FM13", HOST_CODE, "credit-not-union", "警告"),  # the host firm's 91 code where the union's belongs
    ("FM13", make_uscc("81", "330108", "MA2C3D4E"), "credit-area", "警告"),  # registered in another county
    ("FM13", _with_bad_org_check("81", "330106"), "credit-org-code", "警告"),
    ("FM14", _with_bad_org_check("91", "330106"), "credit-org-code", "警告"),
    ("FM07", "330106350001", "area-level", "警告"),  # 350: no kind of 乡级 unit
    ("FM10", "2028-01-05", "form-lapsed", "警告"),  # after 有效期至 2027年12月
])
def test_cover_checks(tmp_path, code, raw, rule, severity):
    report = run(tmp_path, cover_values=cover(**{code: raw}))
    got = report.flatten(["cell", "rule", "severity"])
    assert [cell_of(code), rule, severity] in got
    assert len(got) == 1


def test_cover_accepts_labels_and_variants(tmp_path):
    report = run(tmp_path, cover_values=cover(FM05="1 单独基层工会", FM06="私营", FM04="2025年", FM10="2026年1月5日"))
    assert report.issues.height == 0


@pytest.mark.parametrize("over", [
    {"FM13": None, "FM14": None, "FM15": None, "FM16": None},  # all optional: a 联合 union has no host code
    {"FM15": "C 制造业"}, {"FM15": "C1311"}, {"FM15": "13"},  # the 门类 from the list, or a deeper code
    {"FM13": make_uscc("89", "330106", "MA2C3D4E")},  # 89: a union other than a grassroots one
    {"FM07": "330106101001", "FM03": "330106001"},  # 101: a 镇
    {"FM06": "159 其他有限责任公司"}, {"FM06": "700"},  # the 登记注册类型 list
    {"FM10": "2027-12-31"},  # the last day of 有效期至 2027年12月
    {"FM13": UNION_CODE.lower(), "FM14": HOST_CODE.lower()},  # a credit code typed in small letters is that code
    {"FM04": "2025年度"}, {"FM04": "2025年报"}, {"FM04": "２０２５"},  # as `--period` takes them: it was bad-period
])
def test_cover_v2_items_pass(tmp_path, over):
    assert run(tmp_path, cover_values=cover(**over)).issues.height == 0


def test_gig_worker_lines_use_the_campaign_names():
    from tongji.plugins import load_spec

    rows = load_spec().rows
    assert [rows[c].name for c in ("HY07", "HY08", "HY09", "HY10")] == [
        "其中：货车司机", "其中：网约车司机", "其中：快递员", "其中：网约送餐员"]


def test_there_is_no_900_in_the_nature_list(tmp_path):
    report = run(tmp_path, cover_values=cover(FM06="900"))
    assert report.flatten(["cell", "rule"]) == [[cell_of("FM06"), "bad-enum"]]


def test_form_marks_say_filed_and_lapse():
    from tongji.definitions.codes import form_lapse_date
    from tongji.plugins import load_spec

    marks = load_spec().marks
    assert list(marks) == ["制定机关", "备案机关", "备案文号", "有效期至"]
    assert str(form_lapse_date(marks["有效期至"])) == "2027-12-31"
    assert form_lapse_date("2027年2月") .day == 28 and form_lapse_date("长期有效") is None


def test_org_code_test_vector():
    from tongji.definitions.codes import org_code_valid

    assert org_code_valid("91350100M000100Y43")  # positions 9–17: M000100Y4, check 4
    assert not org_code_valid("91350100M000100Y53")


def test_uscc_test_vector():
    assert uscc_valid("91350100M000100Y43")
    assert not uscc_valid("91350100M000100Y4Z")


REGISTRY = """单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态
330100,示例市总工会,,市,9,330100000000,正常
330106,西湖区总工会,330100,区,9,330106000000,正常
330106001,北山街道总工会,330106,街道,9,330106001000,正常
330106002,西溪街道总工会,330106,街道,9,330106002000,正常
{a},示例市第一机械厂工会,330106001,基层,1,330106001001,正常
{b},已撤销的工会,330106001,基层,1,330106001002,撤销
"""
A, B = uscc("81330106MC0000001"), uscc("81330106MC0000002")


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "名册.csv"
    path.write_text(REGISTRY.format(a=A, b=B), encoding="utf-8")
    return path


@pytest.mark.parametrize(("over", "code", "rule", "severity"), [
    ({"FM02": uscc("81330106MC0000009")}, "FM02", "unknown-unit", "错误"),
    ({"FM02": B}, "FM02", "revoked-unit", "警告"),
    ({"FM03": "330106002"}, "FM03", "wrong-parent", "错误"),
    ({"FM07": "330106002001"}, "FM07", "area-outside-parent", "警告"),
    ({"FM05": "9"}, "FM05", "type-not-grassroots", "错误"),  # a grassroots union's workbook marked 本级
    ({"FM05": "2"}, "FM05", "type-differs", "警告"),  # the registry has it as 1 单独基层工会
])
def test_registry_checks(tmp_path, registry, over, code, rule, severity):
    report = run(tmp_path / "in", cover_values=cover(A, **over), registry=registry)
    assert report.flatten(["cell", "rule", "severity"]) == [[cell_of(code), rule, severity]]


def test_registry_match_passes_and_skips_are_reported(tmp_path, registry):
    report = run(tmp_path / "in", cover_values=cover(A), registry=registry)
    assert report.issues.height == 0 and report.skipped == []
    bare = tongji.validate(tmp_path / "in")
    assert bare.skipped == ["needs-registry", "needs-period"]
    assert bare.skipped_in("zh") == [
        "未提供名册（--registry），已跳过名册相关检查", "未提供报告期（--period），已跳过报告期检查"]
    assert bare.skipped_in("en") == [
        "No registry (--registry): registry checks skipped", "No period (--period): period check skipped"]


@pytest.mark.parametrize("typed", ["lower", "full-width"])
def test_a_credit_code_typed_in_lowercase_or_full_width_is_the_units_code(tmp_path, registry, typed):
    """A 统一社会信用代码's letters are capitals (GB 32100) and a full-width one is the same code: a unit that typed
    its own so is found in the registry, with no check character said to be wrong."""
    code = A.lower() if typed == "lower" else A.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    host = HOST_CODE.lower() if typed == "lower" else HOST_CODE.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    report = run(tmp_path / "in", cover_values=cover(code, FM14=host), registry=registry)
    assert report.issues.select("rule", "cell", "message").rows() == []
    assert report.values.select("FM02", "FM14").row(0) == (A, HOST_CODE)


def test_same_unit_twice_returns_both(tmp_path):
    make_workbook(tmp_path / "a.xlsx")
    make_workbook(tmp_path / "b.xlsx")
    report = tongji.validate(tmp_path)
    assert report.flatten(["file", "cell", "rule"]) == [
        [str(tmp_path / "a.xlsx"), cell_of("FM02"), "duplicate-unit"],
        [str(tmp_path / "b.xlsx"), cell_of("FM02"), "duplicate-unit"],
    ]
    assert "b.xlsx" in report.issues["message"][0]
    assert report.workbooks["status"].to_list() == ["退回", "退回"]


def test_two_workbooks_of_one_name_in_two_folders_are_told_apart(tmp_path):
    """The same file name sent to two 街道: the message names each by its path, not the same name twice."""
    make_workbook(tmp_path / "甲街道" / "a.xlsx")
    make_workbook(tmp_path / "乙街道" / "a.xlsx")
    make_workbook(tmp_path / "乙街道" / "b.xlsx")
    report = tongji.validate(tmp_path)
    both = f"{tmp_path / '乙街道' / 'a.xlsx'}、b.xlsx、{tmp_path / '甲街道' / 'a.xlsx'}"
    assert report.issues["message"].to_list() == [f"单位 {A} 报送了多份工作簿：{both}"] * 3
    assert report.issues_in("en")["message"][0].endswith(f"sent several workbooks: {both.replace('、', ', ')}")


def test_parent_code_blank_only_at_the_top(tmp_path, registry):
    city = cover("330100", FM01="示例市总工会", FM03=None, FM05="9", FM07="330100000000", FM13=None, FM14=None)
    benji = {"JH01": 0, "JH02": 0, "JH21": 100, "JH22": 30, "JH23": 8000, "JH24": 2,
             **{f"JH{i:02d}": 0 for i in range(3, 11)}}  # an office covers no unit of its own
    make_workbook(tmp_path / "city" / "city.xlsx", benji, city)
    assert tongji.validate(tmp_path / "city", registry=registry, period="2025").issues.height == 0
    report = run(tmp_path / "unit", cover_values=cover(A, FM03=None), registry=registry)
    assert report.flatten(["cell", "rule"]) == [[cell_of("FM03"), "wrong-parent"]]
    assert report.issues["message"][0] == "上级工会代码为 （空），名册中该单位的上级是 330106001"


def test_an_office_workbook_marked_grassroots_is_an_error(tmp_path, registry):
    street = cover("330106001", FM01="北山街道总工会", FM03="330106", FM05="1", FM07="330106001000", FM13=None,
                   FM14=None)
    report = run(tmp_path, cover_values=street, registry=registry)
    assert [cell_of("FM05"), "type-not-office"] in report.flatten(["cell", "rule"])
    assert report.issues.filter(pl.col("rule") == "type-not-office")["message"].to_list() == [
        "组织类型为 1，但名册中该单位是街道及以上的工会：其本级报表的组织类型为 9"]


@pytest.mark.parametrize(("registered", "found"), [("2", ["2"]), ("联合基层工会", ["2"]), ("", []), ("1", [])])
def test_a_grassroots_type_other_than_the_registry_s_is_a_warning(tmp_path, registered, found):
    """The registry's 组织类型 (a code or its label; blank: nothing to compare) is what the template prefills."""
    path = tmp_path / "名册.csv"
    path.write_text(REGISTRY.format(a=A, b=B).replace(",基层,1,330106001001", f",基层,{registered},330106001001"),
                    encoding="utf-8")
    report = run(tmp_path / "in", cover_values=cover(A), registry=path)
    assert report.flatten(["cell", "rule", "severity"]) == [[cell_of("FM05"), "type-differs", "警告"]] * len(found)
    assert report.issues["message"].to_list() == [
        f"组织类型为 1，名册中该单位的组织类型是 {r}：请核对，单位情况变了的请更新名册" for r in found]


def test_large_amounts_with_cents_are_not_flagged(tmp_path):
    # 299,840,834.72 comes back from the file as 299840834.720000029
    values = {"JF22": 299840834.72, "JF03": 3598090.02, "JF01": 3613889.52, "JF21": 3546889.52}
    report = run(tmp_path, values)
    assert report.issues.height == 0, report.issues
    report = run(tmp_path / "b", {"JF09": 1000.004})
    assert [cell_of("JF09"), "too-many-decimals"] in report.flatten(["cell", "rule"])


@pytest.mark.parametrize(("raw", "rules"), [("330106²01001", ["bad-area"]), ("３３０１０６００１００１", [])])
def test_an_area_code_of_other_digits_is_read_not_a_crash(tmp_path, raw, rules):
    """A superscript digit makes a code that is not a 区划代码 (never a crash); full-width digits read as digits."""
    report = run(tmp_path, cover_values=cover(FM07=raw, FM13=make_uscc("81", "330106", "MA2C3D4E")))
    assert report.flatten(["cell", "rule"]) == [[cell_of("FM07"), rule] for rule in rules]
