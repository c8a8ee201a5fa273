"""Every issue type tongji reports, declared once: its code, severity, category, Chinese and English
templates, parameters and variants (one code with several messages: which reading limit was met, say).
Declarative rules (schemas/rules.toml and plugins' TOML or Python) and plugins' Python checks join as issue
types of their own. Severities, every message and docs/checks.md come from here; what an issue type is and
how its messages are made is issues/issue_type.py.

An issue is kept as its code (the issue frame's `rule` column) and its parameters (`params`: a JSON object
as text), and rendered in the reader's language when written: `Catalog.of(spec).render(issues, "en")`.
The frame's `message` column is the Chinese rendering made when the issue was found (i18n.MESSAGE_LANG).

`python -m tongji.issues.checks_page > docs/checks.md` writes the list the docs show; a test keeps it current.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import polars as pl

from tongji.i18n import MESSAGE_LANG
from tongji.issues.issue_type import (
    ERROR,
    NOTICE,
    WARNING,
    IssueType,
    check_type,
    placeholders,
    rule_type,
)

if TYPE_CHECKING:  # the spec's builder refuses rule ids that clash with these codes, so it imports this module
    from tongji.definitions import Spec

REPORT_SCHEMA = "tongji.issues/1"  # the JSON issue report's format (writing/issue_report.py); bump on a change


def _checked(types: Iterable[IssueType]) -> dict[str, IssueType]:
    """The built-in types by code; a template naming an undeclared param (or a param no template uses) is a
    mistake here, not a blank in a message."""
    out: dict[str, IssueType] = {}
    for t in types:
        templates = [t.zh, t.en, *(x for pair in t.variants.values() for x in pair)]
        used = {p for s in templates for p in placeholders(s)}
        if used != set(t.params) or t.code in out:
            raise ValueError(f"issue type {t.code}: params {t.params} but templates use {sorted(used)}")
        out[t.code] = t
    return out


BUILTIN: dict[str, IssueType] = _checked([
    # 文件
    IssueType("file-empty", ERROR, "文件", (),
              "文件是空的（0 字节）",
              "The file is empty (0 bytes)"),
    IssueType("not-workbook", ERROR, "文件", ("detail", "detail_en"),
              "不是 Excel 工作簿（{detail}）",
              "Not an Excel workbook ({detail_en})"),
    IssueType("encrypted", ERROR, "文件", (),
              "工作簿设有打开密码，请去掉密码后重新报送",
              "The workbook is password-protected; remove the password"),
    IssueType("unreadable", ERROR, "文件", ("detail", "detail_en"),
              "工作簿无法读取（技术细节：{detail}）",
              "The workbook cannot be read (technical detail: {detail_en})",
              variants={
                  "unreadable-file": (
                      "文件无法打开，可能正被其他程序占用或没有读取权限（技术细节：{detail}）",
                      "The file cannot be opened; another program may hold it, or it may not be readable (technical detail: {detail_en})",
                  ),
                  "unreadable-damaged": (
                      "工作簿已损坏，无法读取；请在 Excel 或 WPS 中打开、另存后重新报送（技术细节：{detail}）",
                      "The workbook is damaged and cannot be read; open it in Excel or WPS, save it again and resubmit (technical detail: {detail_en})",
                  ),
                  "unreadable-xml": (
                      "工作簿内部的表格数据（XML）有错误，无法读取；请在 Excel 或 WPS 中打开、另存后重新报送（技术细节：{detail}）",
                      "The workbook's sheet data (XML) is malformed; open it in Excel or WPS, save it again and resubmit (technical detail: {detail_en})",
                  ),
                  "unreadable-crash": (
                      "读取程序无法处理这个工作簿（文件可能已损坏）；请在 Excel 或 WPS 中打开、另存后重新报送（技术细节：{detail}）",
                      "The reading library failed on this workbook (it may be damaged); open it in Excel or WPS, save it again and resubmit (technical detail: {detail_en})",
                  ),
              }),
    IssueType("too-large", ERROR, "文件", ("limit", "sheet"),
              "工作簿解压后超过 {limit} MB（读取上限），未读取；请删去其中的图片等大文件后重新报送",
              "The workbook unpacks to more than {limit} MB (the reading limit) and was not read; remove pictures or other large content",
              variants={
                  "too-large-rows": (
                      "工作表“{sheet}”第 {limit} 行以下还有内容（读取上限 {limit} 行），该表未读取；请删去表格下方多余的行",
                      "Sheet '{sheet}' has content below row {limit} (the reading limit) and was not read; delete the extra rows",
                  ),
                  "too-large-cols": (
                      "工作表“{sheet}”第 {limit} 列以右还有内容（读取上限 {limit} 列），该表未读取；请删去右侧多余的列",
                      "Sheet '{sheet}' has content right of column {limit} (the reading limit) and was not read; delete the extra columns",
                  ),
                  "too-large-cells": (
                      "工作表“{sheet}”的单元格超过读取上限（{limit} 个），该表未读取",
                      "Sheet '{sheet}' has more cells than the reading limit ({limit}) and was not read",
                  ),
                  "too-large-time": (
                      "读取工作簿超过 {limit} 秒（读取时限），未读取",
                      "Reading the workbook took more than {limit} seconds (the time limit); it was not read",
                  ),
              }),
    # 表式
    IssueType("missing-sheet", ERROR, "表式", ("sheet",),
              "缺少工作表“{sheet}”",
              "Sheet '{sheet}' is missing"),
    IssueType("near-duplicate-sheet", WARNING, "表式", ("sheet", "other"),
              "有两张名称几乎相同的工作表“{sheet}”和“{other}”，已读取“{sheet}”；请删去多余的一张",
              "Two sheets have nearly the same name, '{sheet}' and '{other}'; '{sheet}' was read; delete the other"),
    IssueType("header-not-found", ERROR, "表式", ("sheet", "value"),
              "工作表“{sheet}”找不到表头（需要“代码”和“{value}”两列）",
              "Sheet '{sheet}' has no header row (columns 代码 and {value} are needed)"),
    IssueType("missing-row", ERROR, "表式", ("code", "name"),
              "缺少指标行 {code} {name}",
              "Indicator row {code} {name} is missing"),
    IssueType("extra-row", WARNING, "表式", ("text",),
              "多出的指标行“{text}”不在标准报表中，未读取",
              "Row '{text}' is not on the standard form and was not read"),
    IssueType("extra-rows-more", WARNING, "表式", ("n",),
              "另有 {n} 行不在标准报表中，未读取，不再逐行列出",
              "Further rows not on the standard form were not read and are not listed one by one: {n} more"),
    IssueType("duplicate-row", ERROR, "表式", ("code", "other"),
              "指标 {code} 出现了两次（另见第 {other} 行）",
              "Indicator {code} appears twice (also row {other})"),
    # 单元格
    IssueType("not-a-number", ERROR, "单元格", ("raw",),
              "“{raw}”不是数字",
              "'{raw}' is not a number"),
    IssueType("sci-number", WARNING, "单元格", ("raw", "value"),
              "“{raw}”是科学计数法，已按 {value} 读取，但没有写出全部数字（像是复制了 Excel 显示的值，后几位可能丢了），请填写完整的数",
              "'{raw}' is in scientific notation, read as {value}, but not every digit is written (it looks like a value "
              "copied as Excel shows it, its last digits perhaps lost): type the whole number"),
    IssueType("text-number", NOTICE, "单元格", ("raw", "value"),
              "“{raw}”是文本，已按数字 {value} 读取",
              "'{raw}' is text; read as the number {value}"),
    IssueType("negative", ERROR, "单元格", ("name", "raw"),
              "{name}不能为负数（{raw}）",
              "{name} cannot be negative ({raw})"),
    IssueType("not-whole", ERROR, "单元格", ("name", "raw"),
              "{name}应为整数（{raw}）",
              "{name} must be a whole number ({raw})"),
    IssueType("too-many-decimals", NOTICE, "单元格", ("raw",),
              "金额“{raw}”超过两位小数",
              "Amount '{raw}' has more than two decimals"),
    IssueType("bad-flag", ERROR, "单元格", ("raw",),
              "“{raw}”不是“是/否”",
              "'{raw}' is not 是/否 (yes/no)"),
    IssueType("yes-for-several-units", ERROR, "单元格", ("name", "raw", "units"),
              "覆盖 {units} 个单位的工会，{name}应填单位个数；“{raw}”只适用于覆盖一个单位的单独基层工会",
              "A union covering {units} units gives {name} as a number of units; '{raw}' is only for a union "
              "covering one unit"),
    IssueType("cell-error", ERROR, "单元格", ("raw",),
              "单元格是错误值 {raw}",
              "The cell holds the error value {raw}"),
    IssueType("formula-no-value", ERROR, "单元格", (),
              "单元格是公式但没有计算结果（文件未在 Excel/WPS 中打开保存过），请打开后保存再报送",
              "The cell is a formula with no computed value (never saved in Excel/WPS); open and save it"),
    IssueType("merged-cell", ERROR, "单元格", ("range",),
              "填报单元格被合并（{range}），只有左上角单元格有值",
              "Input cells are merged ({range}); only the top-left holds a value"),
    IssueType("benji-in-grassroots", ERROR, "单元格", ("name", "raw"),
              "{name}只由本级工会填报，基层工会应为空或 0（现为 {raw}）",
              "{name} is for 本级 workbooks only; a grassroots union leaves it empty (found {raw})"),
    IssueType("implausible-number", ERROR, "单元格", ("raw", "limit"),
              "“{raw}”超出任何统计数可能的范围（此类单元格不超过 {limit}）",
              "'{raw}' is beyond what any statistic can hold (at most {limit} in such a cell)"),
    # 封面
    IssueType("required", ERROR, "封面", ("name",),
              "{name}未填写",
              "{name} is not filled in"),
    IssueType("bad-enum", ERROR, "封面", ("name", "raw"),
              "{name}“{raw}”不在代码表中",
              "{name} '{raw}' is not a valid code"),
    IssueType("bad-uscc", ERROR, "封面", ("raw",),
              "单位代码“{raw}”不是有效的统一社会信用代码（校验位不符）",
              "Unit code '{raw}' is not a valid unified social credit code"),
    IssueType("bad-credit-code", ERROR, "封面", ("name", "raw"),
              "{name}“{raw}”不是有效的统一社会信用代码（应为 18 位，末位校验码正确）",
              "{name} '{raw}' is not a valid unified social credit code (18 characters, check character right)"),
    IssueType("bad-industry", WARNING, "封面", ("name", "raw"),
              "{name}“{raw}”不是国民经济行业分类代码（门类字母 A–T，或大类、中类、小类代码）",
              "{name} '{raw}' is not an industry code (a section letter A–T, or a division, group or class)"),
    IssueType("credit-not-union", WARNING, "封面", ("raw",),
              "工会法人统一社会信用代码 {raw} 不以 81 或 89（工会）开头，可能填成了所在单位的代码",
              "The union's credit code {raw} does not start with 81 or 89 (a union): perhaps the host unit's code"),
    IssueType("credit-area", WARNING, "封面", ("raw", "area", "county"),
              "工会法人统一社会信用代码 {raw} 第 3–8 位的登记地 {area} 与所在地区划代码的区县 {county} 不一致",
              "The union's credit code {raw} is registered in area {area}, not in its county {county}"),
    IssueType("credit-org-code", WARNING, "封面", ("name", "raw"),
              "{name} {raw} 第 9–17 位的组织机构代码校验位不符，请核对",
              "{name} {raw}: the check character of its organisation code (positions 9–17) is wrong"),
    IssueType("form-lapsed", WARNING, "封面", ("raw", "until"),
              "报出日期 {raw} 晚于报表有效期至 {until}，此表已过有效期",
              "Dated {raw}, after the form's validity ended ({until})"),
    IssueType("area-level", WARNING, "封面", ("raw",),
              "区划代码 {raw} 第 7–9 位不是街道（001–099）、镇（100–199）、乡（200–299）或农场、园区等（400–599）的代码",
              "Area code {raw}: digits 7–9 are no 街道 (001–099), 镇 (100–199), 乡 (200–299) or farm/park (400–599)"),
    IssueType("bad-period", ERROR, "封面", ("raw",),
              "报告期“{raw}”格式不对（应为 2025、2025Q2 或 2025-06）",
              "Period '{raw}' is malformed (2025, 2025Q2 or 2025-06)"),
    IssueType("wrong-period", ERROR, "封面", ("raw", "period"),
              "报告期为 {raw}，本次收集的是 {period}",
              "Period is {raw}; collecting {period}"),
    IssueType("bad-date", ERROR, "封面", ("raw",),
              "报出日期“{raw}”不是日期",
              "Report date '{raw}' is not a date"),
    IssueType("bad-area", WARNING, "封面", ("raw",),
              "区划代码“{raw}”应为 12 位数字",
              "Area code '{raw}' must be 12 digits"),
    IssueType("unknown-version", WARNING, "封面", ("raw",),
              "模板版本“{raw}”无法识别，请使用最新模板",
              "Template version '{raw}' is not recognised; use the current template"),
    IssueType("old-version-read", NOTICE, "封面", ("raw", "title", "current"),
              "模板版本 {raw}（{title}）是旧版，已按版本对照读入当前版本 {current}：新增的指标行按 0 计，"
              "改名、拆分的指标按对照关系取值；下次请使用当前模板",
              "Template version {raw} ({title}) is an older one, read through its concordance as version {current}: "
              "lines it lacked read as 0, renamed and split lines as the concordance says; use the current template "
              "next time"),
    IssueType("old-version", WARNING, "封面", ("raw", "current"),
              "模板版本 {raw} 已过时（当前 {current}），请使用最新模板",
              "Template version {raw} is old (current {current})"),
    # 名册
    IssueType("unknown-unit", ERROR, "名册", ("unit",),
              "单位代码 {unit} 不在名册中",
              "Unit {unit} is not in the registry"),
    IssueType("revoked-unit", WARNING, "名册", ("unit",),
              "单位 {unit} 在名册中已撤销",
              "Unit {unit} is marked 撤销 in the registry"),
    IssueType("wrong-parent", ERROR, "名册", ("raw", "parent"),
              "上级工会代码为 {raw}，名册中该单位的上级是 {parent}",
              "Parent code is {raw}; the registry says {parent}", blank=("raw", "parent")),
    IssueType("type-not-grassroots", ERROR, "名册", ("raw",),
              "组织类型为 {raw}，但名册中该单位是基层工会：基层工会报表的组织类型为 1、2 或 3",
              "Organisation type is {raw}, but the registry has this unit as a grassroots union, whose workbook is "
              "type 1, 2 or 3"),
    IssueType("type-not-office", ERROR, "名册", ("raw",),
              "组织类型为 {raw}，但名册中该单位是街道及以上的工会：其本级报表的组织类型为 9",
              "Organisation type is {raw}, but the registry has this unit as a union office above the grassroots, "
              "whose own workbook is type 9 (本级)"),
    IssueType("type-differs", WARNING, "名册", ("raw", "registered"),
              "组织类型为 {raw}，名册中该单位的组织类型是 {registered}：请核对，单位情况变了的请更新名册",
              "Organisation type is {raw}; the registry says {registered}: check it, or update the registry"),
    IssueType("area-outside-parent", WARNING, "名册", ("raw", "parent"),
              "区划代码 {raw} 不在上级工会所在区划 {parent} 之内",
              "Area code {raw} is outside the parent's area {parent}"),
    IssueType("duplicate-unit", ERROR, "名册", ("unit", "files", "files_en"),
              "单位 {unit} 报送了多份工作簿：{files}",
              "Unit {unit} sent several workbooks: {files_en}"),
    # 汇总
    IssueType("missing-unit", WARNING, "汇总", ("unit", "name", "child", "n"),
              "名册中的单位 {unit} {name} 没有报送",
              "Registry unit {unit} {name} sent nothing",
              variants={
                  "missing-in-summary": ("单位 {unit} {name} 不在下级 {child} 的汇总表中（在下级被退回或缺报）",
                                         "Unit {unit} {name} is not in the summary of {child} (returned or missing "
                                         "there)"),
                  # a part of the tree nothing came from (a 街道 below a 区): one warning, its units in 完整性
                  "child-silent": ("下级 {unit} {name} 没有报送：其下 {n} 个单位都缺报（名单见“完整性”）",
                                   "{unit} {name} below sent nothing: none of the {n} units under it reported "
                                   "(listed in 完整性)"),
              }),
    IssueType("superseded", NOTICE, "汇总", (),
              "同一单位有更新的报表（按报出日期），本份未采用",
              "A newer workbook of the same unit (by 报出日期) was used instead"),
    IssueType("summary-edited", ERROR, "汇总", ("total", "sum"),
              "汇总表的合计（{total}）不等于其明细之和（{sum}），汇总表可能被手工改动",
              "Summary total ({total}) differs from the sum of its 明细 ({sum}): edited by hand?"),
    IssueType("groups-unbalanced", ERROR, "汇总", ("grouping", "name", "sum", "total"),
              "分组“{grouping}”各组的{name}之和（{sum}）不等于总计（{total}），分组表可能被手工改动",
              "Groups of “{grouping}” add up to {sum} for {name}, not to the total ({total}): edited by hand?"),
    IssueType("outside-child-summary", WARNING, "汇总", ("unit", "name", "child"),
              "下级 {child} 的汇总表明细中有单位 {unit} {name}，但名册中它不在 {child} 之下，未计入（汇总表是按旧名册做的？）",
              "The summary of {child} lists unit {unit} {name}, which the registry does not place under {child}: "
              "not counted (was the summary made with an older registry?)"),
    IssueType("not-under-node", WARNING, "汇总", ("unit", "node"),
              "单位 {unit} 不属于 {node} 的下级，未汇总",
              "Unit {unit} is not beneath {node}; not summed"),
    # 跨期
    # the other cross-period checks (jf20-previous, hy03-change, bf01-flow) are rules using prev(), in rules.toml
    IssueType("previous-old-version", NOTICE, "跨期", ("raw", "title", "current", "codes", "codes_en"),
              "上期汇总表是旧版模板 {raw}（{title}），已按版本对照读入当前版本 {current}；{codes} 的口径已变"
              "（旧版为各工会填“是/否”，数的是工会；现在数的是覆盖单位），只列上期数，不计算同比",
              "Last period's summary is of the older template {raw} ({title}), read through its concordance as version "
              "{current}; {codes_en} changed meaning (the old form asked each union 是/否, counting unions; now they "
              "count covered units): last period's figures are shown, with no year-on-year change",
              variants={"previous-old-version-same": (
                  "上期汇总表是旧版模板 {raw}（{title}），已按版本对照读入当前版本 {current}",
                  "Last period's summary is of the older template {raw} ({title}), read through its concordance as "
                  "version {current}")}),
    IssueType("previous-split", NOTICE, "跨期", ("raw", "old", "codes", "codes_en", "first"),
              "上期汇总表（旧版模板 {raw}）的 {old} 一行在当前版本拆分为 {codes}，上期数全部读入 {first}："
              "这几项只列上期数，不计算同比",
              "In last period's summary (older template {raw}) the line {old} is split into {codes_en} now, and all of "
              "its value reads as {first}: last period's figures are shown for them, with no year-on-year change"),
    IssueType("count-jump", WARNING, "跨期", ("name", "value"),
              "{name}由上期 0 跳到 {value}，请核实",
              "{name} jumped from 0 last period to {value}: please check"),
    # 同类比较 (across the units of one batch: schemas/peers.toml)
    IssueType("peer-outlier", NOTICE, "同类比较", ("name", "name_en", "value", "median", "group", "group_en", "size",
                                                 "n", "z"),
              "{name}为 {value}，与同类单位（{group}，职工 {size} 人，{n} 家）的中位数 {median} 相差较大（稳健 z = {z}）",
              "The {name_en} is {value}, far from the median {median} of its peers ({group_en}, {size} employees, "
              "{n} units; robust z = {z})"),
    IssueType("peer-outlier-far", WARNING, "同类比较", ("name", "name_en", "value", "median", "group", "group_en",
                                                     "size", "n", "z"),
              "{name}为 {value}，远离同类单位（{group}，职工 {size} 人，{n} 家）的中位数 {median}（稳健 z = {z}），"
              "请核实或在说明栏说明",
              "The {name_en} is {value}, very far from the median {median} of its peers ({group_en}, {size} employees, "
              "{n} units; robust z = {z}): check it or explain it in 说明"),
    IssueType("heaped-figures", NOTICE, "同类比较", ("n", "cells", "cells_en"),
              "{n} 个人数、户数等计数格都是 100 的整倍数（{cells}），像是估计数而不是实数，请核实",
              "{n} count cells are all multiples of 100 ({cells_en}): estimates rather than counts? Please check"),
    IssueType("copied-workbook", WARNING, "同类比较", ("others", "others_en"),
              "全部数值与 {others} 完全相同，可能是复制的工作簿，请核实",
              "Every value is the same as in {others_en}: a copied workbook? Please check"),
])


def _of_spec(spec: Spec) -> Catalog:
    return Catalog([*BUILTIN.values(), *(rule_type(r, spec.rows) for r in spec.rules),
                    *(check_type(c) for c in spec.checks)])


class Catalog:
    """The issue types of one spec: the built-in ones, one per declarative rule (built-in or a plugin's) and one
    per Python check."""

    def __init__(self, types: Iterable[IssueType]):
        self.types = {t.code: t for t in types}

    @classmethod
    def of(cls, spec: Spec | None = None) -> Catalog:
        """The built-in types, and those of `spec` (made once per spec: every validation and node asks)."""
        if spec is None:
            return cls(BUILTIN.values())
        return spec.derive(_of_spec)

    def __getitem__(self, code: str) -> IssueType:
        return self.types[code]

    def __contains__(self, code: object) -> bool:
        return code in self.types

    def render(self, issues: pl.DataFrame, lang: str) -> pl.DataFrame:
        """`issues` with `message` in `lang` ("zh" or "en"), rendered from each row's code and params.

        One vectorised pass per issue type present (about 1.5 s a million issues, mostly decoding params). A row
        without params, or of a code this catalog does not know (a frame made by hand, a plugin's own), keeps the
        message it has, and so does every row in MESSAGE_LANG, made in that language with the issue."""
        if lang == MESSAGE_LANG or "params" not in issues.columns or not issues.height:
            return issues
        work = issues.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"), "rule", "params")
        work = work.filter(pl.col("params").is_not_null() & pl.col("rule").is_in(list(self.types)))
        parts = [part.select("_i", self.types[code].render(pl.col("params"), lang).alias("message"))
                 for (code,), part in work.partition_by("rule", as_dict=True, maintain_order=True).items()]
        if not parts:
            return issues
        found = pl.concat(parts)
        return issues.with_columns(issues["message"].clone().scatter(found["_i"], found["message"]))
