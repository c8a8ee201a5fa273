"""Everything a user reads, in Chinese first and English with `--lang en` or TONGJI_LANG=en."""

from __future__ import annotations

import os

_lang: str | None = None


def set_lang(lang: str | None) -> None:
    global _lang
    _lang = lang


def lang() -> str:
    value = (_lang or os.environ.get("TONGJI_LANG") or "zh").lower()
    return "en" if value.startswith("en") else "zh"


def t(key: str, **kw: object) -> str:
    zh, en = MESSAGES[key]
    return (en if lang() == "en" else zh).format(**kw)


SEVERITY = {"错误": "error", "警告": "warning", "提示": "notice"}
STATUS = {"通过": "passed", "有警告": "warnings", "退回": "returned"}


def severity(name: str) -> str:
    return SEVERITY.get(name, name) if lang() == "en" else name


def status(name: str) -> str:
    return STATUS.get(name, name) if lang() == "en" else name


MESSAGES: dict[str, tuple[str, str]] = {
    # reading a file
    "file-empty": ("文件是空的（0 字节）", "The file is empty (0 bytes)"),
    "not-workbook": ("不是 Excel 工作簿（{detail}）", "Not an Excel workbook ({detail})"),
    "encrypted": ("工作簿设有打开密码，请去掉密码后重新报送", "The workbook is password-protected; remove the password"),
    "unreadable": ("工作簿无法读取（技术细节：{detail}）", "The workbook cannot be read (technical detail: {detail})"),
    # unreadable, told apart by what went wrong; the library's own words are only the detail
    "unreadable-file": (
        "文件无法打开，可能正被其他程序占用或没有读取权限（技术细节：{detail}）",
        "The file cannot be opened; another program may hold it, or it may not be readable (technical detail: {detail})",
    ),
    "unreadable-damaged": (
        "工作簿已损坏，无法读取；请在 Excel 或 WPS 中打开、另存后重新报送（技术细节：{detail}）",
        "The workbook is damaged and cannot be read; open it in Excel or WPS, save it again and resubmit (technical detail: {detail})",
    ),
    "unreadable-xml": (
        "工作簿内部的表格数据（XML）有错误，无法读取；请在 Excel 或 WPS 中打开、另存后重新报送（技术细节：{detail}）",
        "The workbook's sheet data (XML) is malformed; open it in Excel or WPS, save it again and resubmit (technical detail: {detail})",
    ),
    "unreadable-crash": (
        "读取程序无法处理这个工作簿（文件可能已损坏）；请在 Excel 或 WPS 中打开、另存后重新报送（技术细节：{detail}）",
        "The reading library failed on this workbook (it may be damaged); open it in Excel or WPS, save it again and resubmit (technical detail: {detail})",
    ),
    "too-large": (
        "工作簿解压后超过 {limit} MB（读取上限），未读取；请删去其中的图片等大文件后重新报送",
        "The workbook unpacks to more than {limit} MB (the reading limit) and was not read; remove pictures or other large content",
    ),
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
    "near-duplicate-sheet": (
        "有两张名称几乎相同的工作表“{sheet}”和“{other}”，已读取“{sheet}”；请删去多余的一张",
        "Two sheets have nearly the same name, '{sheet}' and '{other}'; '{sheet}' was read; delete the other",
    ),
    "missing-sheet": ("缺少工作表“{sheet}”", "Sheet '{sheet}' is missing"),
    "header-not-found": (
        "工作表“{sheet}”找不到表头（需要“代码”和“{value}”两列）",
        "Sheet '{sheet}' has no header row (columns 代码 and {value} are needed)",
    ),
    "missing-row": ("缺少指标行 {code} {name}", "Indicator row {code} {name} is missing"),
    "extra-row": ("多出的指标行“{text}”不在标准报表中，未读取", "Row '{text}' is not on the standard form and was not read"),
    "extra-rows-more": (
        "另有 {n} 行不在标准报表中，未读取，不再逐行列出",
        "{n} more rows are not on the standard form and were not read; they are not listed one by one",
    ),
    "duplicate-row": ("指标 {code} 出现了两次（另见第 {other} 行）", "Indicator {code} appears twice (also row {other})"),
    # cell values
    "implausible-number": ("“{raw}”超出任何统计数可能的范围（此类单元格不超过 {limit}）", "'{raw}' is beyond what any statistic can hold (at most {limit} in such a cell)"),
    "not-a-number": ("“{raw}”不是数字", "'{raw}' is not a number"),
    "text-number": ("“{raw}”是文本，已按数字 {value} 读取", "'{raw}' is text; read as the number {value}"),
    "negative": ("{name}不能为负数（{raw}）", "{name} cannot be negative ({raw})"),
    "not-whole": ("{name}应为整数（{raw}）", "{name} must be a whole number ({raw})"),
    "too-many-decimals": ("金额“{raw}”超过两位小数", "Amount '{raw}' has more than two decimals"),
    "bad-flag": ("“{raw}”不是“是/否”", "'{raw}' is not 是/否 (yes/no)"),
    "cell-error": ("单元格是错误值 {raw}", "The cell holds the error value {raw}"),
    "formula-no-value": (
        "单元格是公式但没有计算结果（文件未在 Excel/WPS 中打开保存过），请打开后保存再报送",
        "The cell is a formula with no computed value (never saved in Excel/WPS); open and save it",
    ),
    "merged-cell": ("填报单元格被合并（{range}），只有左上角单元格有值", "Input cells are merged ({range}); only the top-left holds a value"),
    "benji-in-grassroots": (
        "{name}只由本级工会填报，基层工会应为空或 0（现为 {raw}）",
        "{name} is for 本级 workbooks only; a grassroots union leaves it empty (found {raw})",
    ),
    # cover
    "required": ("{name}未填写", "{name} is not filled in"),
    "bad-enum": ("{name}“{raw}”不在代码表中", "{name} '{raw}' is not a valid code"),
    "bad-uscc": ("单位代码“{raw}”不是有效的统一社会信用代码（校验位不符）", "Unit code '{raw}' is not a valid unified social credit code"),
    "bad-period": ("报告期“{raw}”格式不对（应为 2025、2025Q2 或 2025-06）", "Period '{raw}' is malformed (2025, 2025Q2 or 2025-06)"),
    "wrong-period": ("报告期为 {raw}，本次收集的是 {period}", "Period is {raw}; collecting {period}"),
    "bad-date": ("报出日期“{raw}”不是日期", "Report date '{raw}' is not a date"),
    "bad-area": ("区划代码“{raw}”应为 12 位数字", "Area code '{raw}' must be 12 digits"),
    "area-outside-parent": (
        "区划代码 {raw} 不在上级工会所在区划 {parent} 之内",
        "Area code {raw} is outside the parent's area {parent}",
    ),
    "unknown-version": ("模板版本“{raw}”无法识别，请使用最新模板", "Template version '{raw}' is not recognised; use the current template"),
    "old-version": ("模板版本 {raw} 已过时（当前 {current}），请使用最新模板", "Template version {raw} is old (current {current})"),
    # across workbooks / registry
    "duplicate-unit": ("单位 {unit} 报送了多份工作簿：{files}", "Unit {unit} sent several workbooks: {files}"),
    "unknown-unit": ("单位代码 {unit} 不在名册中", "Unit {unit} is not in the registry"),
    "revoked-unit": ("单位 {unit} 在名册中已撤销", "Unit {unit} is marked 撤销 in the registry"),
    "wrong-parent": ("上级工会代码为 {raw}，名册中该单位的上级是 {parent}", "Parent code is {raw}; the registry says {parent}"),
    "missing-unit": ("名册中的单位 {unit} {name} 没有报送", "Registry unit {unit} {name} sent nothing"),
    # rollup
    "summary-edited": ("汇总表的合计（{total}）不等于其明细之和（{sum}），汇总表可能被手工改动", "Summary total ({total}) differs from the sum of its 明细 ({sum}): edited by hand?"),
    "not-under-node": ("单位 {unit} 不属于 {node} 的下级，未汇总", "Unit {unit} is not beneath {node}; not summed"),
    "superseded": ("同一单位有更新的报表（按报出日期），本份未采用", "A newer workbook of the same unit (by 报出日期) was used instead"),
    "jf20-previous": ("年初结余（{value}）不等于上期年末结余（{previous}）", "Opening balance ({value}) differs from last period's closing balance ({previous})"),
    "hy03-change": ("会员人数由上期 {previous} 变为 {value}，变动超过 50%，请核实", "Members changed from {previous} to {value}, more than 50%: please check"),
    "count-jump": ("{name}由上期 0 跳到 {value}，请核实", "{name} jumped from 0 last period to {value}: please check"),
    "bf01-flow": ("在档困难职工户数（{value}）不等于上期户数＋本期新建档－本期脱困（{expected}）", "Hardship households ({value}) differ from last period + new − exited ({expected})"),
    "previous-period": ("上期汇总表 {path} 的报告期是 {found}，应早于本期 {period}（同为年报、季报或月报）", "Previous summary {path} is for {found}; it must be an earlier period of the same kind than {period}"),
    "previous-missing": ("上期汇总表不存在：{path}", "Previous summary not found: {path}"),
    "previous-not-summary": ("{path} 不是 tongji 汇总表（没有“明细”工作表）", "{path} is not a tongji summary (no 明细 sheet)"),
    "zero-denominator": ("分母（{formula}）为 0，不计算", "Denominator ({formula}) is 0: no value"),
    "reason-missing": ("未报送", "not received"),
    "reason-superseded": ("同一单位有报出日期更新的报表（--prefer-latest）", "a newer workbook of the unit was used (--prefer-latest)"),
    "reason-included": ("有 {n} 个错误，按 --include-errors 汇总", "{n} errors, summed as --include-errors asks"),
    "missing-in-summary": ("单位 {unit} {name} 不在下级 {child} 的汇总表中（在下级被退回或缺报）", "Unit {unit} {name} is not in the summary of {child} (returned or missing there)"),
    "reason-errors": ("有 {n} 个错误，退回修改", "{n} errors: returned"),
    "reason-summary": ("经下级汇总表报送", "received in the child's summary"),
    "reason-edited": ("汇总表与其明细不符", "summary does not match its 明细"),
    "reason-not-in-summary": ("下级汇总表中没有该单位（在下级被退回或缺报）", "not in the child's summary (returned or missing there)"),
    "reason-unknown": ("单位代码不在名册中", "unit not in the registry"),
    "reason-unreadable": ("工作簿无法读取或没有封面", "workbook unreadable or without a cover"),
    "reason-elsewhere": ("该单位属于 {parent}", "this unit belongs to {parent}"),
    "reason-revoked": ("该单位在名册中已撤销", "the unit is marked 撤销 in the registry"),
    "reason-covered": ("已由下级汇总表涵盖", "covered by a child summary"),
    # setup and usage (exit 2)
    "no-inputs": ("没有找到任何工作簿：{paths}", "No workbooks found in: {paths}"),
    "path-missing": ("路径不存在：{path}", "Path does not exist: {path}"),
    "period-invalid": ("报告期“{period}”格式不对，应为 2025、2025Q2 或 2025-06", "Period '{period}' is malformed: use 2025, 2025Q2 or 2025-06"),
    "registry-missing": ("名册文件不存在：{path}", "Registry file not found: {path}"),
    "registry-unreadable": ("名册文件无法读取：{path}（{detail}）", "Registry cannot be read: {path} ({detail})"),
    "registry-empty": ("名册中没有任何单位（只有表头）：{path}", "The registry lists no units (only a header): {path}"),
    "registry-formula": ("名册 {path} 的 {cell} 是公式：公式未计算时读出为空，请把名册“粘贴为数值”后再用", "Cell {cell} of registry {path} is a formula: uncalculated, it reads as blank; paste the registry as values first"),
    "registry-no-parent": ("名册中这些单位不在最高层级，却没有上级代码：{items}", "These registry units are below the top level but have no parent code: {items}"),
    "output-in-inputs": ("输出位置 {output} 在输入 {input} 之内：会覆盖或混入要读取的工作簿，请换一个文件夹", "Output {output} lies within the input {input}: it would overwrite or mix with the workbooks being read; choose another folder"),
    "internal-error": ("tongji 内部出错（{kind}：{detail}）。这不是工作簿的问题；请把日志 {log} 交给维护人员。退出码 3", "tongji failed internally ({kind}: {detail}). This is not a problem with the workbooks; please send the log {log} to the maintainers. Exit code 3"),
    "registry-columns": ("名册缺少列：{columns}", "Registry lacks columns: {columns}"),
    "registry-duplicate": ("名册中单位代码重复：{codes}", "Registry has duplicate unit codes: {codes}"),
    "registry-unknown-parent": ("名册中上级代码不存在：{items}", "Registry parents not found: {items}"),
    "registry-cycle": ("名册中上下级关系成环：{items}", "Registry hierarchy has a cycle: {items}"),
    "registry-leaf-children": ("基层单位不能有下级：{items}", "Grassroots units cannot have children: {items}"),
    "registry-level-skip": ("名册层级跳级：{items}", "Registry skips a level: {items}"),
    "registry-bad-level": ("名册中有未知层级：{items}（层级设置为 {levels}，可用 --levels 或 TONGJI_LEVELS 修改）", "Registry has unknown levels: {items} (levels are {levels}; set them with --levels or TONGJI_LEVELS)"),
    "levels-invalid": ("层级设置“{levels}”无效：至少两级、名称不重复，如 县,乡镇,基层", "Levels '{levels}' are invalid: at least two distinct names, e.g. 县,乡镇,基层"),
    "unit-not-in-registry": ("名册中没有单位 {unit}", "Unit {unit} is not in the registry"),
    "output-unwritable": ("无法写入 {path}：{detail}", "Cannot write {path}: {detail}"),
    "report-format": ("报告格式只支持 .xlsx、.csv、.json：{path}", "Report must be .xlsx, .csv or .json: {path}"),
    "plugin-conflict": ("“{what}”被两个插件重复注册：{first} 和 {second}", "'{what}' is registered twice: by {first} and by {second}"),
    "plugin-failed": ("插件 {name} 在 {hook} 中出错：{error}", "Plugin {name} failed in {hook}: {error}"),
    "plugin-broken": ("插件 {name} 无法加载：{error}（用 tongji plugins 查看；TONGJI_LOAD_PLUGINS 可只加载指定插件）", "Plugin {name} cannot be loaded: {error} (see tongji plugins; TONGJI_LOAD_PLUGINS restricts loading)"),
    "plugin-bad-hook": ("未知的钩子（可能拼写错误）：{detail}", "Unknown hook (misspelt?): {detail}"),
    "plugin-duplicate-name": ("插件名 {name} 重复，未加载", "Plugin name {name} is taken; not loaded"),
    "plugins-dir-missing": ("插件文件夹不存在：{path}", "Plugins folder not found: {path}"),
    "unknown-format": ("没有名为 {name} 的输出格式（可用：{known}）", "No output format named {name} (available: {known})"),
    "spec-invalid": ("定义文件 {file} 第 {line} 行有误：{detail}", "Definition file {file} line {line}: {detail}"),
    "needs-registry": ("未提供名册（--registry），已跳过名册相关检查", "No registry (--registry): registry checks skipped"),
    "needs-period": ("未提供报告期（--period），已跳过报告期检查", "No period (--period): period check skipped"),
    "error-prefix": ("错误：", "Error: "),
    "blank": ("（空）", "(blank)"),
    "usage-error": ("用法错误：{detail}（用 --help 查看用法）", "Usage error: {detail} (see --help)"),
    # the terminal
    "cli-reading": ("读取工作簿", "Reading workbooks"),
    "cli-writing": ("写出汇总表", "Writing summaries"),
    "cli-summary": ("共 {n} 份工作簿：通过 {ok}，有警告 {warn}，退回 {bad}", "{n} workbooks: {ok} passed, {warn} with warnings, {bad} returned"),
    "cli-issues": ("问题清单", "Issues"),
    "cli-more-books": ("另有 {n} 份工作簿通过，未逐一列出", "{n} more workbooks passed and are not listed"),
    "cli-more-issues": ("另有 {n} 条问题未显示，请用 --report 导出完整清单", "{n} more issues not shown; use --report for the full list"),
    "cli-report-written": ("问题清单已写入 {path}", "Issue list written to {path}"),
    "cli-annotated": ("已为 {n} 份工作簿写出标注副本：{path}", "Annotated copies of {n} workbooks written to {path}"),
    "annotate-failed": ("{path} 的标注副本未能写出（{detail}）", "The annotated copy of {path} could not be written ({detail})"),
    "annotate-some-failed": (
        "已写出 {n} 份标注副本到 {folder}；{m} 份未能写出：{items}",
        "{n} annotated copies written to {folder}; {m} could not be written: {items}",
    ),
    "annotate-more": ("等，另有 {n} 份", " and {n} more"),
    "demo-inputs": ("示例数据：{path}", "Sample data: {path}"),
    "demo-outputs": (
        "输出：问题清单 {report}；{n} 份需退回或有警告的工作簿的标注副本在 {folder}",
        "Outputs: issue list {report}; annotated copies of {n} workbooks to return in {folder}",
    ),
    "rollup-needs-unit": ("请用 --unit 指定汇总哪个单位，或用 --all 汇总每一级", "Name the node with --unit, or use --all"),
    "rollup-title": ("{name}（{unit}）{period} 汇总", "Summary of {name} ({unit}), {period}"),
    "rollup-figures": (
        "基层工会 {units} 个，职工 {staff} 人，会员 {members} 人，入会率 {rate}；经费收入 {income} 元，支出 {spend} 元",
        "{units} grassroots unions, {staff} employees, {members} members ({rate}); income {income}, expenditure {spend}",
    ),
    "rollup-issues": ("校验：错误 {errors} 条，警告 {warnings} 条（详见汇总表“校验”工作表）", "Checks: {errors} errors, {warnings} warnings (see the 校验 sheet)"),
    "rollup-written": ("已写出 {n} 个单位的汇总（{files} 个文件）：{path}", "Wrote summaries of {n} units ({files} files) to {path}"),
    "col-child": ("下级单位", "Child"), "col-expected": ("应报", "Expected"), "col-received": ("已报", "Received"),
    "col-accepted": ("采用", "Accepted"), "col-returned": ("退回", "Returned"), "col-missing": ("缺报", "Missing"),
    "demo-summary": (
        "{level}汇总 {name}：采用 {accepted}/{expected} 份，基层工会 {units} 个，会员 {members} 人，入会率 {rate} → {path}",
        "{level} summary {name}: {accepted}/{expected} accepted, {units} grassroots unions, {members} members ({rate}) → {path}",
    ),
    "and-more": (" 等共 {n} 项", " … {n} in all"),
    "col-plugin": ("插件", "Plugin"), "col-source": ("来源", "Source"), "col-registered": ("注册内容", "Registered"),
    "col-state": ("状态", "State"), "plugin-ok": ("正常", "ok"),
    "plugin-created": ("已创建插件项目 {path}：pip install -e {path} 后由 tongji 自动加载；pytest {path} 运行其测试", "Created plugin project {path}: pip install -e {path} and tongji loads it; pytest {path} runs its test"),
    "plugin-name-invalid": ("插件名“{name}”只能含小写字母、数字和下划线，且以字母开头", "Plugin name '{name}' must be lowercase letters, digits and underscores, starting with a letter"),
    "plugin-exists": ("{path} 已存在，未覆盖", "{path} exists; not overwritten"),
    "col-file": ("文件", "File"), "col-unit": ("单位代码", "Unit"), "col-name": ("单位名称", "Unit name"),
    "col-status": ("状态", "Status"), "col-errors": ("错误", "Errors"), "col-warnings": ("警告", "Warnings"),
    "col-explained": ("已说明", "Explained"), "col-notices": ("提示", "Notices"),
    "col-severity": ("严重程度", "Severity"), "col-cell": ("单元格", "Cell"), "col-code": ("指标", "Indicator"),
    "col-message": ("问题说明", "Message"), "col-diff": ("差额", "Imbalance"),
    "explained": ("已说明：{note}", "explained: {note}"),
    # demo
    "demo-summary-previous": (
        "{level}汇总 {name}：采用 {accepted}/{expected} 份，基层工会 {units} 个，会员 {members} 人（同比 {change}），"
        "入会率 {rate} → {path}",
        "{level} summary {name}: {accepted}/{expected} accepted, {units} grassroots unions, {members} members "
        "({change} year on year; {rate}) → {path}",
    ),
    # template
    "template-written": ("已生成 {count} 个模板，保存在 {out}", "Wrote {count} template(s) to {out}"),
    # samples
    "samples-written": (
        "已生成示例城市：{units} 个基层工会、{levels} 份本级报表（市、区、街道），共 {files} 个工作簿\n"
        "名册：{registry}\n工作簿：{folder}\n埋设问题 {seeded} 个文件、缺报 {missing} 个单位，答案见 {answers}",
        "Wrote a sample city: {units} grassroots unions and {levels} 本级 workbooks, {files} workbooks in all\n"
        "Registry: {registry}\nWorkbooks: {folder}\nSeeded mistakes in {seeded} file(s), {missing} unit(s) "
        "missing; the answers are in {answers}",
    ),
    "samples-previous-written": (
        "上期（{period}）各级汇总表：{folder}（汇总时用 --previous 指定，得到上期数、同比和跨期审核）；"
        "埋设跨期问题 {seeded} 个文件，只有加 --previous 汇总才能检出",
        "Last period's ({period}) summaries: {folder} (give one to rollup --previous for 上期数, 同比 and the "
        "cross-period checks); {seeded} file(s) carry a cross-period mistake that only rollup --previous finds",
    ),
    # sample data
    "samples-bad-option": ("示例数据参数有误：{detail}", "Invalid sample option: {detail}"),
    "samples-exists": ("{path} 已有文件；换一个目录，或加 --force 覆盖",
                       "{path} is not empty; choose another folder or add --force"),
}
