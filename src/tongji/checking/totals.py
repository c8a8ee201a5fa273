"""The checks a summary's totals get when the next level up validates its workbook, run on summaries made in
memory. `rollup --all` makes the 街道 and 区 summaries itself instead of reading their workbooks, so without
this a 警告 on a 街道's totals (a 人次 without its 金额) would be seen level by level and never with --all."""

from __future__ import annotations

import polars as pl

from tongji.aggregating.summary import Summary
from tongji.checking.rules import evaluate, fmt_number, rule_params
from tongji.definitions import Spec
from tongji.i18n import MESSAGE_LANG
from tongji.issues.catalog import Catalog
from tongji.issues.report import ISSUE_COLUMNS

SUMMARY_SCOPES = {"基层": pl.lit(False), "本级": pl.lit(False), "汇总": pl.lit(True)}  # these are all summaries


def total_cells(spec: Spec) -> dict[str, str]:
    """Where a summary workbook holds each total (column D of its form sheets, below the title, the form marks,
    one info line and the header): the cells a check on that workbook names. writing/summary_files.py writes there."""
    first = 1 + len(spec.marks) + 3  # title row 1 carries 表号; then the other marks, the info line, the header
    return {row.code: f"{form.sheet}!D{first + i}" for form in spec.data_forms for i, row in enumerate(form.rows)}


def totals_issues(summaries: list[Summary], spec: Spec) -> pl.DataFrame:
    """One issue row per (summary, failed rule), as validating each summary's workbook would give."""
    if not summaries:
        return pl.DataFrame(schema=ISSUE_COLUMNS)
    codes = [r.code for r in spec.numeric_rows()]
    values = [dict(zip(s.totals["code"].to_list(), s.totals["value"].to_list(), strict=True)) for s in summaries]
    wide = pl.DataFrame([{c: v.get(c) for c in codes} for v in values], schema=dict.fromkeys(codes, pl.Float64),
                        orient="row")
    fails = evaluate(wide, spec, SUMMARY_SCOPES)
    rules, cells, kinds = {r.id: r for r in spec.rules}, total_cells(spec), Catalog.of(spec)
    rows = []
    for pos, rid, left, right, diff in fails.iter_rows():
        rule, s = rules[rid], summaries[pos]
        involved = rule.check.codes + [c for c in (rule.when.codes if rule.when else []) if c not in rule.check.codes]
        first = rule.check.codes[0]
        params = rule_params(rule, values[pos], left, right, diff)
        rows.append({
            "file": "", "unit": s.unit, "unit_name": s.name, "severity": rule.severity, "rule": rid,
            "sheet": spec.rows[first].sheet, "cell": cells.get(first, ""),
            "cells": [cells[c] for c in involved if c in cells], "code": first, "name": spec.rows[first].name,
            "value": fmt_number(values[pos].get(first)), "message": kinds[rid].text(MESSAGE_LANG, **params),
            "params": kinds[rid].params_json(**params),
            "diff": diff if rule.check.cmp in ("=", "<=", ">=", "≈") else None, "explained": None,
        })
    return pl.DataFrame(rows, schema=ISSUE_COLUMNS)
