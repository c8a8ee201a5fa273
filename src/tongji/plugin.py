"""Everything a tongji plugin may import: `from tongji.plugin import hookimpl, PluginError, write_bytes`.

Internal modules may move; this module's names stay (and `HOOK_API_VERSION` says which hooks exist).
docs/plugins.md documents every hook, every object a hook receives and every issue field.
"""

from __future__ import annotations

from tongji.aggregating.summary import DETAIL_KEYS, TRANSFER_NOTE, Summary, detail_keys
from tongji.checking.plugin_checks import REGISTRY_COLUMNS, RETURNED
from tongji.checking.rules import fmt_number
from tongji.definitions import Form, Indicator, Row, Rule, Spec
from tongji.definitions.forms import SCOPES, SEVERITIES, Check
from tongji.definitions.registry import Registry
from tongji.errors import PluginError
from tongji.issues.report import ISSUE_COLUMNS, ValidationReport
from tongji.plugins.hookspecs import HOOK_API_VERSION, hookimpl
from tongji.writing.files import atomic_path, save_workbook, write_bytes
from tongji.writing.summary_files import summary_stem

ISSUE_FIELDS = {
    "file": "工作簿路径（汇总自身的问题为空）",
    "unit": "单位代码（封面 FM02）",
    "unit_name": "单位名称（封面 FM01）",
    "severity": "错误 / 警告 / 提示：错误使工作簿被退回",
    "rule": "问题代码：内置代码（如 missing-row）、审核关系或检查的 id",
    "sheet": "工作表名",
    "cell": "单元格，如 会员!D8；无单元格时为空",
    "cells": "涉及的所有单元格（批注副本逐一标出）",
    "code": "指标代码，如 HY03",
    "name": "指标名称",
    "value": "单元格中填写的内容（文本）",
    "message": "说明：报告中为中文；写出器收到的是写出所用的语言（参数 lang）",
    "params": "说明的参数（JSON 对象文本）；检查的问题为其中文与英文说明 message、message_en",
    "diff": "审核关系两边之差（其他问题为空）",
    "explained": "说明栏中的解释：有解释的警告记为“已说明”",
}
"""Every column of an issue frame (ValidationReport.issues, Summary.issues), described."""

CHECK_TABLE = {
    "file": "工作簿路径：返回的问题用它指明工作簿",
    "类型": "基层 / 本级 / 汇总（按封面 FM05）",
    "FM01…FM12": "封面，文本：FM02 单位代码，FM05 组织类型，FM06 单位性质，FM07 所在地区划代码 …",
    **{c: f"名册中该单位的{c}（未给名册或不在名册中为空）" for c in REGISTRY_COLUMNS},
    "HY01 …": "每个数值指标一列（Float64，未填为空）",
}
"""The columns of the table a check (register_checks) receives, described."""

CHECK_RETURNS = RETURNED
"""The keys an issue returned by a check may have: file (required), code or cell, severity, message, message_en,
value."""

__all__ = [
    "CHECK_RETURNS", "CHECK_TABLE", "DETAIL_KEYS", "HOOK_API_VERSION", "ISSUE_COLUMNS", "ISSUE_FIELDS", "SCOPES",
    "SEVERITIES", "TRANSFER_NOTE", "Check", "Form", "Indicator", "PluginError", "Registry", "Row", "Rule", "Spec",
    "Summary", "ValidationReport", "atomic_path", "detail_keys", "fmt_number", "hookimpl", "save_workbook",
    "summary_stem", "write_bytes",
]
