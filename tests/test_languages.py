"""One run, two languages: library calls keep text as keys and parameters, and writers render it in the language
they are given. Nothing here calls set_lang except to show that library calls ignore it."""

from __future__ import annotations

import json

import openpyxl
import polars as pl
import pytest

import tongji
from city import build
from tongji import i18n
from tongji.errors import TongjiError
from tongji.plugins import load_spec
from tongji.writing.issue_report import write_report
from tongji.writing.summary_files import write_summary
from workbooks import cover, make_workbook, uscc

STREET, BARE_STREET = "330101001", "330101002"  # the second has no 本级 workbook: 建会率 has no denominator

REASONS = {  # a unit's fate in the 完整性 sheet, in each language
    "zh": {"未报送", "有 1 个错误，退回修改", "单位代码不在名册中"},
    "en": {"not received", "1 error: returned", "unit not in the registry"},
}
NOTE = {"zh": "分母（JH21）为 0，不计算", "en": "Denominator (JH21) is 0: no value"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A 区 of two 街道: one grassroots unit returned (an error), one missing, a stray unit not in the registry."""
    city = build(tmp_path_factory.mktemp("langs"), [[2, 1]])
    returned, missing = city.children[STREET]
    values = city.units[returned]["values"]
    city.write(returned, city.units[returned]["file"], {**values, "HY02": values["HY01"] + 1})
    city.units[missing]["file"].unlink()
    city.units[BARE_STREET]["file"].unlink()
    make_workbook(city.folder / "stray.xlsx", cover_values=cover(uscc("81330101001M99999"), FM03=STREET))
    return city


def run(city) -> tuple:
    report = tongji.validate(city.folder, registry=city.registry, period="2025")
    return report, tongji.rollup_all(city.folder, registry=city.registry, period="2025")


def completeness(path) -> tuple[str, set[str]]:
    """The 原因 header and the reasons of the unit table of a summary workbook's 完整性 sheet."""
    rows = list(openpyxl.load_workbook(path)["完整性"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if i and r[0] in ("单位代码", "Unit"))
    return rows[start][5], {r[5] for r in rows[start + 1:] if r[5]}


def written(report, summaries, folder, lang: str | None) -> dict:
    """Everything a reader of `lang` gets: the issue report three ways, and two summaries as xlsx and json."""
    out, spec = {}, load_spec()
    for suffix in ("xlsx", "csv", "json"):
        out[suffix] = write_report(report, folder / f"问题清单.{suffix}", lang)
    for node in ("330100", BARE_STREET):
        paths = write_summary(summaries[node], folder / node, spec, ("xlsx", "json"), lang)
        out[node] = {p.name.rsplit(".", 1)[-1] if "manifest" not in p.name else "manifest": p for p in paths}
    return out


def check_language(report, paths: dict, lang: str) -> None:
    messages = report.issues_in(lang)["message"].to_list()
    assert any("Female employees" in m for m in messages) == (lang == "en")
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert [i["message"] for i in doc["issues"]] == messages
    csv = pl.read_csv(paths["csv"])
    assert csv[{"zh": "问题说明", "en": "Message"}[lang]].to_list() == messages
    book = openpyxl.load_workbook(paths["xlsx"])
    sheet = book.worksheets[0]
    assert [c.value for c in sheet["K"][1:]] == messages
    severity = {"zh": "错误", "en": "error"}[lang]  # as the terminal says it
    assert {severity} == {c.value for c in sheet["D"][1:]} == set(csv[{"zh": "严重程度", "en": "Severity"}[lang]])
    assert "FFC7CE" in {c.fill.fgColor.rgb[-6:] for c in sheet["D"][1:]}  # an error is red in either language
    assert {"zh": "退回", "en": "returned"}[lang] in {c.value for c in book.worksheets[1]["D"][1:]}
    assert {i["severity"] for i in doc["issues"]} == {"错误"}  # JSON: the catalog's values, for programs

    header, reasons = completeness(paths["330100"]["xlsx"])
    assert header == {"zh": "原因", "en": "Reason"}[lang] and REASONS[lang] <= reasons
    assert not REASONS["en" if lang == "zh" else "zh"] & reasons
    top = json.loads(paths["330100"]["json"].read_text(encoding="utf-8"))
    assert REASONS[lang] <= {u["reason"] for u in top["units"]}
    manifest = json.loads(paths["330100"]["manifest"].read_text(encoding="utf-8"))
    returned = {"zh": "有 1 个错误，退回修改", "en": "1 error: returned"}[lang]
    assert returned in {i["reason"] for i in manifest["inputs"]}
    bare = openpyxl.load_workbook(paths[BARE_STREET]["xlsx"])["指标"]
    assert NOTE[lang] in [c.value for c in bare["G"]]
    assert {i["note"] for i in json.loads(paths[BARE_STREET]["json"].read_text(encoding="utf-8"))["indicators"]} \
        >= {NOTE[lang]}


def test_one_report_and_one_rollup_are_written_in_chinese_then_english(city, tmp_path):
    report, summaries = run(city)
    before = summaries["330100"].units.clone()
    for lang in ("zh", "en"):
        check_language(report, written(report, summaries, tmp_path / lang, lang), lang)
    assert summaries["330100"].units.equals(before)  # writing renders; the summary keeps its keys and text
    assert REASONS["zh"] <= set(before["reason"].to_list())
    bare = tongji.validate(city.folder)
    assert bare.skipped_in("en") == ["No registry (--registry): registry checks skipped",
                                     "No period (--period): period check skipped"]
    assert bare.skipped_in("zh")[0] == "未提供名册（--registry），已跳过名册相关检查"


def test_library_calls_ignore_the_language_of_the_run(city, tmp_path):
    """--lang en sets the run's language for the terminal; validate and rollup_all, and writers told "zh",
    write Chinese all the same."""
    i18n.set_lang("en")
    report, summaries = run(city)
    check_language(report, written(report, summaries, tmp_path, "zh"), "zh")
    assert tongji.validate(city.folder).skipped == ["needs-registry", "needs-period"]


def test_library_calls_never_ask_for_the_language_of_the_run(city, tmp_path, monkeypatch):
    """Not even to fall back on it: a writer given a language has no reason to look."""
    def asked():
        raise AssertionError("a library call read the run's language")

    monkeypatch.setattr(i18n, "lang", asked)
    report, summaries = run(city)
    written(report, summaries, tmp_path / "zh", "zh")
    written(report, summaries, tmp_path / "en", "en")
    report.skipped_in("en")


def test_a_setup_error_is_said_in_the_language_it_is_shown_in():
    error = TongjiError("previous-period", path="上期.xlsx", found="", period="2025", blank=("found",))
    assert str(error) == "上期汇总表 上期.xlsx 的报告期是 （空），应早于本期 2025（同为年报、季报或月报）"
    i18n.set_lang("en")
    assert str(error) == ("Previous summary 上期.xlsx is for (blank); it must be an earlier period of the same kind "
                          "than 2025")


def test_lists_in_english_messages_are_separated_by_commas(tmp_path):
    """A unit's two workbooks and the round cells of another are listed with ", " in English, "、" in Chinese;
    an issue kept from before its type had the English list reads the Chinese one, never a blank."""
    from tongji.issues.catalog import Catalog

    make_workbook(tmp_path / "a.xlsx")
    make_workbook(tmp_path / "b.xlsx")
    report = tongji.validate(tmp_path)
    catalog = Catalog.of(load_spec())
    found = report.issues.filter(pl.col("rule") == "duplicate-unit")
    assert found["message"][0].endswith("报送了多份工作簿：a.xlsx、b.xlsx")
    assert catalog.render(found, "en")["message"][0].endswith("sent several workbooks: a.xlsx, b.xlsx")
    old = found.with_columns(pl.col("params").str.replace(r',"files_en":"[^"]*"', ""))
    assert "files_en" not in old["params"][0]
    assert catalog.render(old, "en")["message"][0].endswith("sent several workbooks: a.xlsx、b.xlsx")


@pytest.mark.parametrize("stamped", [True, False])
def test_the_table_per_child_reads_total_and_own_office_in_english(city, tmp_path, stamped):
    """完整性's first table ends in 合计 and marks the node's own row （本级）: in English, Total and " (本级)",
    with no full-width bracket. The summary keeps 合计, which a writer may look for."""
    from tongji.writing.summary_files import write_summary_workbook

    _, summaries = run(city)
    street = summaries[STREET]
    own = {"zh": "总工会（本级）", "en": "总工会 (本级)"}
    for lang, total in (("zh", "合计"), ("en", "Total")):
        path = write_summary_workbook(street, tmp_path / f"{lang}.xlsx", load_spec(), lang, stamped=stamped)
        rows = list(openpyxl.load_workbook(path)["完整性"].iter_rows(min_row=2, max_row=street.completeness.height + 1,
                                                                      values_only=True))
        assert rows[-1][0] == total
        assert rows[-2][0] == STREET and rows[-2][1].endswith(own[lang])
    assert street.completeness["child"][-1] == "合计"


@pytest.mark.parametrize("stamped", [True, False])
def test_the_checks_sheet_says_its_severities_in_english_in_english(city, tmp_path, stamped):
    """校验 has the columns of the issue list, and in English its severities read as the issue list's do: error, not
    错误 beside an English message; coloured as in Chinese. The summary keeps 错误 for the writers of plugins."""
    from tongji.writing.summary_files import write_summary_workbook

    _, summaries = run(city)
    street = summaries[STREET]
    for lang, error in (("zh", "错误"), ("en", "error")):
        path = write_summary_workbook(street, tmp_path / f"{lang}.xlsx", load_spec(), lang, stamped=stamped)
        column = openpyxl.load_workbook(path)["校验"]["D"]
        assert column[0].value == {"zh": "严重程度", "en": "Severity"}[lang]
        severities = {c.value for c in column[1:]}
        assert error in severities
        assert severities <= {"zh": {"错误", "警告", "提示"}, "en": {"error", "warning", "notice"}}[lang]
        assert "FFC7CE" in {c.fill.fgColor.rgb[-6:] for c in column[1:] if c.value == error}
    assert "错误" in street.issues["severity"].to_list()


@pytest.mark.parametrize(("key", "params", "one", "two"), [
    ("cli-summary", {"ok": 1, "warn": 0, "bad": 0}, "1 workbook: 1 passed", "2 workbooks: 1 passed"),
    ("cli-more-books", {}, "1 more workbook passed and is not listed", "2 more workbooks passed and are not listed"),
    ("cli-more-issues", {}, "1 more issue not shown", "2 more issues not shown"),
    ("cli-annotated", {"path": "退回"}, "1 annotated copy written to 退回", "2 annotated copies written to 退回"),
    ("cli-passed-over", {"files": "a.et"}, "Notice: 1 file in the input folders not read",
     "Notice: 2 files in the input folders not read"),
    ("reason-errors", {}, "1 error: returned", "2 errors: returned"),
    ("reason-included", {}, "1 error, summed", "2 errors, summed"),
    ("rollup-written", {"path": "汇总", "files": 1}, "Wrote summaries of 1 unit (1 file) to 汇总",
     "Wrote summaries of 2 units (1 file) to 汇总"),
    ("check-found", {}, "1 problem found", "2 problems found"),
    ("accounts-written", {"path": "p.csv"}, "One-time passwords for 1 account written",
     "One-time passwords for 2 accounts written"),
])
def test_an_english_count_of_one_is_said_in_the_singular(key, params, one, two):
    assert i18n.t(key, lang="en", n=1, **params).startswith(one)
    assert i18n.t(key, lang="en", n=2, **params).startswith(two)
    assert i18n.t("reason-errors", lang="zh", n=1) == "有 1 个错误，退回修改"


@pytest.mark.parametrize(("count", "said"), [(1, "1 error, 1 warning"), (2, "2 errors, 2 warnings")])
def test_the_counts_in_a_rollups_lines_agree_with_their_nouns(count, said):
    figures = i18n.t("rollup-figures", lang="en", units=count, staff=count, members=count, rate="", income=0,
                     spend=0)
    assert figures.startswith({1: "1 grassroots union, 1 employee, 1 member (",
                               2: "2 grassroots unions, 2 employees, 2 members ("}[count])
    assert i18n.t("rollup-issues", lang="en", errors=count, warnings=count) == f"Checks: {said} (see the 校验 sheet)"
    assert i18n.t("template-written", lang="en", count=count, out="模板") == (
        "Wrote 1 template to 模板" if count == 1 else "Wrote 2 templates to 模板")
    assert i18n.t("rollup-issues", lang="zh", errors=count, warnings=count).startswith(
        f"校验：错误 {count} 条，警告 {count} 条")
    assert i18n.render("reason-errors", "en", {"n": str(count)}) == (  # as kept with the data, in text
        "1 error: returned" if count == 1 else "2 errors: returned")


def test_one_more_extra_row_is_said_without_a_plural():
    from tongji.issues.catalog import BUILTIN

    assert BUILTIN["extra-rows-more"].text("en", n=1) == (
        "Further rows not on the standard form were not read and are not listed one by one: 1 more")
