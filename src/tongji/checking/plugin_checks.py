"""Checks written in Python (hook register_checks): each runs once over the table of every workbook and
returns issues, which join the others: they count in the workbook's status, are marked in annotated copies
and an 错误 returns the workbook in rollup."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from tongji.checking.rules import fmt_number
from tongji.definitions import Spec
from tongji.definitions.codes import BENJI, SUMMARY
from tongji.definitions.forms import SEVERITIES, Check
from tongji.definitions.registry import COLUMNS, Registry
from tongji.errors import TongjiError
from tongji.issues.issue_type import IssueType, check_type
from tongji.reading.discover import file_text

RETURNED = ("file", "code", "cell", "severity", "message", "message_en", "value")  # what a check may return
FOUND = {  # an issue as plugin_issues gives it, by file_id (validation joins on the file and the unit)
    "file_id": pl.Int32, "severity": pl.Utf8, "rule": pl.Utf8, "sheet": pl.Utf8, "ref": pl.Utf8, "code": pl.Utf8,
    "value": pl.Utf8, "message": pl.Utf8, "params": pl.Utf8, "diff": pl.Float64, "cells": pl.List(pl.Utf8),
    "explained": pl.Utf8,
}
REGISTRY_COLUMNS = [c for c in COLUMNS if c != "单位代码"]  # 单位代码 is the cover's FM02


def check_table(wide: pl.DataFrame, spec: Spec, registry: Registry | None,
                files: Sequence[Path | str]) -> pl.DataFrame:
    """One row per readable workbook: file, 类型 (基层/本级/汇总), FM01…FM12, the unit's registry columns
    (null without a registry or for a unit not in it), then every numeric code. `file_id` is kept for joining
    back and dropped before a plugin sees the table."""
    names = pl.DataFrame({"file_id": range(len(files)), "file": [file_text(f) for f in files]},
                         schema={"file_id": pl.Int32, "file": pl.Utf8})
    kind = (pl.when(pl.col("FM05") == SUMMARY).then(pl.lit("汇总"))
            .when(pl.col("FM05") == BENJI).then(pl.lit("本级")).otherwise(pl.lit("基层")))
    df = wide.join(names, on="file_id", how="left").with_columns(kind.alias("类型"))
    if registry is not None:
        reg = registry.frame.select(pl.col("单位代码").alias("FM02"), *REGISTRY_COLUMNS)
        df = df.join(reg, on="FM02", how="left", maintain_order="left")
    else:
        df = df.with_columns([pl.lit(None, pl.Utf8).alias(c) for c in REGISTRY_COLUMNS])
    cover = [r.code for r in spec.cover.rows]
    numeric = [r.code for r in spec.numeric_rows()]
    return df.select("file_id", "file", "类型", *cover, *REGISTRY_COLUMNS, *numeric)


def plugin_issues(wide: pl.DataFrame, cells_of: Callable[[list[int]], pl.DataFrame], spec: Spec,
                  registry: Registry | None, period: str | None, files: Sequence[Path | str],
                  schema: dict = FOUND) -> pl.DataFrame:
    """Every Python check's issues in validation's internal issue frame (`schema`), from the wide table and
    the cells of the workbooks `files` (file_id is the position in `files`): `cells_of(file_ids)` gives those
    workbooks' cells (file_id, code, sheet, ref, raw, note), asked only for the workbooks the checks name."""
    if not spec.checks:
        return pl.DataFrame(schema=schema)
    from tongji.plugins import guarded

    table = check_table(wide, spec, registry, files)
    file_ids = dict(table.select("file", "file_id").iter_rows())
    rows_of = {r["file"]: r for r in table.drop("file_id").iter_rows(named=True)}
    found = []
    for check in spec.checks:
        kind = check_type(check)
        mine = table if check.scope == "全部" else table.filter(pl.col("类型") == check.scope)
        returned = guarded(check.plugin, (f"检查 {check.id}", f"check {check.id}"), check.function,
                           {"table": mine.drop("file_id"), "spec": spec, "registry": registry, "period": period})
        for issue in _returned(check, returned):
            fid = file_ids.get(str(issue["file"]))
            if fid is None:
                raise _bad(check, f"file “{issue['file']}” 不是本次审核的工作簿",
                           f"file '{issue['file']}' is not a workbook of this validation")
            found.append((check, kind, issue, fid))
    where = {}  # (file_id, code) and (file_id, sheet, ref) → (sheet, ref, code, raw, note)
    named = sorted({fid for *_, fid in found})
    for fid, code, sheet, ref, raw, note in cells_of(named).select("file_id", "code", "sheet", "ref", "raw",
                                                                   "note").iter_rows():
        where[(fid, code)] = where[(fid, sheet, ref)] = (sheet, ref, code, raw, note)
    out = [_row(check, kind, issue, fid, rows_of[str(issue["file"])], where, spec.cover.sheet)
           for check, kind, issue, fid in found]
    return pl.DataFrame(out, schema=schema) if out else pl.DataFrame(schema=schema)


def _returned(check: Check, found) -> list[dict]:
    if found is None:
        return []
    if isinstance(found, pl.DataFrame):
        found = found.to_dicts()
    if not isinstance(found, list | tuple) or not all(isinstance(i, dict) for i in found):
        raise _bad(check, f"应返回 polars DataFrame、字典的列表或 None，而不是 {type(found).__name__}",
                   f"it should return a polars DataFrame, a list of dicts or None, not {type(found).__name__}")
    for issue in found:
        unknown = [k for k in issue if k not in RETURNED]
        if unknown:
            raise _bad(check, f"未知的字段 {'、'.join(unknown)}（可用：{'、'.join(RETURNED)}）",
                       f"unknown fields {', '.join(unknown)} (known: {', '.join(RETURNED)})")
        if "file" not in issue:
            raise _bad(check, "缺少 file", "no file")
        if issue.get("severity") not in (None, *SEVERITIES):
            raise _bad(check, f"severity 应为 {'/'.join(SEVERITIES)}", f"severity should be {'/'.join(SEVERITIES)}")
    return list(found)


def _row(check: Check, kind: IssueType, issue: dict, fid: int, values: dict, where: dict, cover_sheet: str) -> dict:
    code, cell = issue.get("code") or "", issue.get("cell") or ""
    if cell:
        sheet, _, ref = cell.partition("!")
        found = where.get((fid, sheet, ref))
    else:
        found = where.get((fid, code))
        sheet, ref = (found[0], found[1]) if found else ("", "")
    code = code or (found[2] if found else "")
    severity = issue.get("severity") or check.severity
    note = found[4] if found and sheet != cover_sheet else None  # the cover's 说明 column holds hints
    value = issue.get("value")
    messages = {"message": _message(check, issue, values, "zh"), "message_en": _message(check, issue, values, "en")}
    return {
        "file_id": fid, "severity": severity, "rule": check.id, "sheet": sheet, "ref": ref, "code": code,
        "value": str(value) if value is not None else (found[3] if found else None),
        "message": messages["message"], "params": kind.params_json(**messages), "diff": None,
        "cells": [f"{sheet}!{ref}"] if ref else [],
        "explained": str(note).strip() if severity != "错误" and note and str(note).strip() else None,
    }


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _message(check: Check, issue: dict, values: dict, lang: str) -> str:
    """The issue's own message, else the check's, in `lang`, with {FM07} or {HY03} put in from the workbook's row."""
    english = lang == "en"
    text = (english and issue.get("message_en")) or issue.get("message") or \
        (english and check.message_en) or check.message or check.id

    def sub(m: re.Match) -> str:
        value = values.get(m.group(1), m.group(0))
        return fmt_number(value) if isinstance(value, int | float) else str(value if value is not None else "")

    return _PLACEHOLDER.sub(sub, str(text))


def _bad(check: Check, detail: str, detail_en: str) -> TongjiError:
    error = TongjiError("plugin-bad-return", name=check.plugin, check=check.id, detail=detail, detail_en=detail_en)
    error.plugin = check.plugin
    return error
