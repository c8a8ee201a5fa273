"""The issue catalog (issues/catalog.py): every issue type declared once, rendered in the reader's language."""

from __future__ import annotations

import dataclasses
import json

import openpyxl
import pandera.polars as pa
import polars as pl
import pytest

import tongji
from tongji.checking import schema
from tongji.i18n import MESSAGES
from tongji.issues.catalog import BUILTIN, Catalog
from tongji.issues.report import ISSUE_COLUMNS
from tongji.plugins import load_spec
from tongji.writing.annotate import annotate_all
from tongji.writing.issue_report import write_report
from workbooks import cell_of, cover, make_workbook

# --- every issue type declared once -----------------------------------------------------------------

# code, severity, category, params, variant, params given, Chinese, English
TYPES = [
    ("negative", "错误", "单元格", ("name", "raw"), None, {"name": "会员人数", "raw": "-3"},
     "会员人数不能为负数（-3）", "会员人数 cannot be negative (-3)"),
    ("too-large", "错误", "文件", ("limit", "sheet"), "too-large-rows", {"sheet": "会员", "limit": 10000},
     "工作表“会员”第 10000 行以下还有内容（读取上限 10000 行），该表未读取；请删去表格下方多余的行",
     "Sheet '会员' has content below row 10000 (the reading limit) and was not read; delete the extra rows"),
    ("too-large", "错误", "文件", ("limit", "sheet"), None, {"limit": "100"},
     "工作簿解压后超过 100 MB（读取上限），未读取；请删去其中的图片等大文件后重新报送",
     "The workbook unpacks to more than 100 MB (the reading limit) and was not read; remove pictures or other "
     "large content"),
    ("wrong-parent", "错误", "名册", ("raw", "parent"), None, {"raw": None, "parent": "330106001"},
     "上级工会代码为 （空），名册中该单位的上级是 330106001", "Parent code is (blank); the registry says 330106001"),
    ("missing-unit", "警告", "汇总", ("unit", "name", "child", "n"), "missing-in-summary",
     {"unit": "0106001", "name": "甲工会", "child": "0106"},
     "单位 0106001 甲工会 不在下级 0106 的汇总表中（在下级被退回或缺报）",
     "Unit 0106001 甲工会 is not in the summary of 0106 (returned or missing there)"),
    ("missing-unit", "警告", "汇总", ("unit", "name", "child", "n"), "child-silent",
     {"unit": "0106002", "name": "乙街道总工会", "child": "0106002", "n": 18},
     "下级 0106002 乙街道总工会 没有报送：其下 18 个单位都缺报（名单见“完整性”）",
     "0106002 乙街道总工会 below sent nothing: none of the 18 units under it reported (listed in 完整性)"),
    ("superseded", "提示", "汇总", (), None, {},
     "同一单位有更新的报表（按报出日期），本份未采用",
     "A newer workbook of the same unit (by 报出日期) was used instead"),
    ("count-jump", "警告", "跨期", ("name", "value"), None, {"name": "会员人数", "value": "1200"},
     "会员人数由上期 0 跳到 1200，请核实", "会员人数 jumped from 0 last period to 1200: please check"),
]


@pytest.mark.parametrize(("code", "severity", "category", "params", "variant", "given", "zh", "en"), TYPES,
                         ids=[f"{t[0]}-{t[4]}" for t in TYPES])
def test_a_built_in_issue_type(code, severity, category, params, variant, given, zh, en):
    kind = BUILTIN[code]
    assert (kind.severity, kind.category, kind.params) == (severity, category, params)
    assert (kind.text("zh", variant, **given), kind.text("en", variant, **given)) == (zh, en)
    # the same text column-wise, from the params an issue keeps
    frame = pl.DataFrame([{"rule": code, "message": zh, "params": kind.params_json(variant, **given)}],
                         schema={"rule": pl.Utf8, "message": pl.Utf8, "params": pl.Utf8})
    assert Catalog.of().render(frame, "en")["message"].to_list() == [en]
    assert json.loads(frame["params"][0]).get("variant") == variant


def test_a_declarative_rule_is_an_issue_type_of_the_same_catalog():
    kind = Catalog.of(load_spec())["jf10-sum"]
    assert (kind.severity, kind.category, kind.params) == ("错误", "审核关系", ("JF10", "右边", "差额"))
    given = {"JF10": "117000", "右边": "117100", "差额": "-100"}
    assert kind.text("zh", **given) == "支出合计（117000）不等于各项支出之和（117100），差额 -100"
    assert kind.text("en", **given) == (
        "Total expenditure (117000) differs from the sum of expenditure items (117100) by -100")


def test_issue_text_lives_in_the_catalog_only():
    variants = {v for kind in BUILTIN.values() for v in kind.variants}
    assert not (set(BUILTIN) | variants) & set(MESSAGES), "issue messages belong to issues/catalog.py"
    assert set(BUILTIN) >= {"missing-row", "summary-edited", "count-jump", "duplicate-unit"}


def test_a_row_the_catalog_cannot_render_keeps_its_message():
    frame = pl.DataFrame([{"rule": "my-plugin-check", "message": "自定义", "params": "{}"},
                          {"rule": "negative", "message": "手写", "params": None}],
                         schema={"rule": pl.Utf8, "message": pl.Utf8, "params": pl.Utf8})
    assert Catalog.of().render(frame, "en")["message"].to_list() == ["自定义", "手写"]


# --- one report, written in both languages ----------------------------------------------------------


ZH = ["报告期为 2025，本次收集的是 2024", "女职工人数（101）大于职工人数（100）", "兼职工会工作人员不能为负数（-3）",
      "模板版本 2019.1 已过时（当前 {version}），请使用最新模板"]
EN = ["Period is 2025; collecting 2024", "Female employees (101) exceed employees (100)",
      "兼职工会工作人员 cannot be negative (-3)", "Template version 2019.1 is old (current {version})"]


def test_one_report_is_written_in_chinese_then_in_english(tmp_path):
    version = load_spec().version
    zh, en = [m.format(version=version) for m in ZH], [m.format(version=version) for m in EN]
    make_workbook(tmp_path / "in" / "unit.xlsx", {"HY02": 101, "HY14": -3}, cover_values=cover(FM12="2019.1"))
    report = tongji.validate(tmp_path / "in", period="2024")
    before = report.issues.clone()
    assert report.flatten(["rule", "cell"]) == [["wrong-period", cell_of("FM04")], ["hy02-le-hy01", cell_of("HY02")],
                                                ["negative", cell_of("HY14")], ["old-version", cell_of("FM12")]]
    for lang, messages in (("zh", zh), ("en", en)):
        doc = json.loads(write_report(report, tmp_path / f"{lang}.json", lang).read_text(encoding="utf-8"))
        assert [i["message"] for i in doc["issues"]] == messages
        assert doc["issues"][1]["params"] == {"HY02": "101", "HY01": "100"}
        csv = pl.read_csv(write_report(report, tmp_path / f"{lang}.csv", lang))
        assert csv[{"zh": "问题说明", "en": "Message"}[lang]].to_list() == messages
        ws = openpyxl.load_workbook(write_report(report, tmp_path / f"{lang}.xlsx", lang)).worksheets[0]
        assert [c.value for c in ws["K"][1:]] == messages and ws.title == {"zh": "问题清单", "en": "Issues"}[lang]
        copy = annotate_all(report.issues_in(lang), tmp_path / lang, lang=lang)[0]
        comment = openpyxl.load_workbook(copy)["会员"][cell_of("HY02").split("!")[1]].comment.text
        assert comment == {"zh": f"[错误] hy02-le-hy01：{zh[1]}", "en": f"[error] hy02-le-hy01: {en[1]}"}[lang]
    assert report.issues.equals(before)  # writing renders; the report itself is untouched


def test_a_summary_is_written_in_the_language_asked_for(tmp_path):
    from test_summary_writer import make_summary
    from tongji.writing.summary_files import write_summary

    kind = BUILTIN["missing-unit"]
    given = {"unit": "0106009", "name": "丙工会"}
    summary = make_summary()
    summary.issues = pl.DataFrame([{
        "file": "", "unit": "0106009", "unit_name": "", "severity": kind.severity, "rule": kind.code, "sheet": "",
        "cell": "", "cells": [], "code": "", "name": "", "value": None, "message": kind.text("zh", **given),
        "params": kind.params_json(**given), "diff": None, "explained": None}], schema=ISSUE_COLUMNS)
    paths = write_summary(summary, tmp_path, load_spec(), ("xlsx", "json"), lang="en")
    book = openpyxl.load_workbook(next(p for p in paths if p.suffix == ".xlsx"))
    messages = [c.value for c in book["校验"][1] if c.value in ("问题说明", "Message")]
    column = [c.value for c in book["校验"][1]].index(messages[0]) + 1
    assert book["校验"].cell(2, column).value == "Registry unit 0106009 丙工会 sent nothing"
    doc = json.loads(next(p for p in paths if p.suffix == ".json").read_text(encoding="utf-8"))
    assert doc["issues"][0]["message"] == "Registry unit 0106009 丙工会 sent nothing"
    assert summary.issues["message"].to_list() == ["名册中的单位 0106009 丙工会 没有报送"]

# --- a pandera failure is never dropped -------------------------------------------------------------


def test_a_pandera_check_without_an_issue_type_is_raised(monkeypatch):
    bad = pa.DataFrameSchema({"HY01": pa.Column(pl.Float64, checks=[pa.Check.ge(0, error="no-such-issue")])})
    monkeypatch.setattr(schema, "workbook_schema", lambda spec: bad)
    with pytest.raises(schema.UnmappedCheck, match="'no-such-issue' on column 'HY01'"):
        schema.schema_failures(pl.DataFrame({"HY01": [-1.0, 2.0]}), load_spec())


def test_a_failure_of_a_whole_column_is_raised_not_filtered_out():
    wide = pl.DataFrame({"HY01": ["12"]})  # text where the schema wants numbers: no row to report it on
    with pytest.raises(schema.UnmappedCheck, match="HY01"):
        schema.schema_failures(wide, load_spec())


def test_validate_stops_on_an_unmapped_failure_instead_of_passing_the_workbook(tmp_path, monkeypatch):
    make_workbook(tmp_path / "unit.xlsx", {"HY01": 100})
    rules = schema._all_rules

    def with_unmapped(spec):  # a check on HY01 whose failure no issue type reports
        dtype, nullable, checks = rules(spec)["HY01"]
        return rules(spec) | {"HY01": (dtype, nullable, [*checks, (lambda c: c <= 10, "no-such-issue")])}

    monkeypatch.setattr(schema, "_all_rules", with_unmapped)
    fresh = dataclasses.replace(load_spec())  # nothing derived yet: the schema is made with the extra check
    with pytest.raises(schema.UnmappedCheck):
        tongji.validate(tmp_path, spec=fresh)


# --- a plugin rule cannot take a built-in issue code ------------------------------------------------


def test_a_declarative_rule_with_a_built_in_issue_code_is_refused(tmp_path):
    from typer.testing import CliRunner

    from tongji import cli

    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "杭州.toml").write_text('[[rule]]\nid = "negative"\nseverity = "警告"\ncheck = "HY02 <= HY01"\n'
                                      'message = "女职工多于职工"\n', encoding="utf-8")
    make_workbook(tmp_path / "in" / "unit.xlsx")
    cli._register()
    result = CliRunner().invoke(cli.app, ["--plugins-dir", str(folder), "validate", str(tmp_path / "in")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "错误：插件 杭州 的审核关系 id“negative”与内置问题代码重名（杭州.toml:2），请给这条审核关系另起一个 id")
    assert "Traceback" not in result.output


def test_a_python_plugin_rule_with_a_built_in_issue_code_is_refused(tmp_path):
    from tongji import plugins
    from tongji.errors import TongjiError

    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "my_checks.py").write_text(
        "from tongji.plugins.hookspecs import hookimpl\n\n\n@hookimpl\ndef register_rules(register):\n"
        "    register({'id': 'missing-unit', 'severity': '错误', 'check': 'HY03 <= HY01', 'message': '会员多'})\n",
        encoding="utf-8")
    with pytest.raises(TongjiError) as exc:
        _ = plugins.configure(folder, entry_points=False).spec
    assert exc.value.exit_code == 2
    assert str(exc.value) == "插件 my_checks 的审核关系 id“missing-unit”与内置问题代码重名，请给这条审核关系另起一个 id"
