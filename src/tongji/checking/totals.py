"""The checks a summary's totals get when the next level up validates its workbook, run on summaries made in
memory. `rollup --all` makes the 街道 and 区 summaries itself instead of reading their workbooks, so without
this a 警告 on a 街道's totals (a 人次 without its 金额) would be seen level by level and never with --all.
Both kinds run: the declarative rules (on the totals) and the checks plugins write in Python (on the table
validating the summary's workbook would give them)."""

from __future__ import annotations

import polars as pl

from tongji.aggregating.summary import Summary, as_written, workbook_name
from tongji.checking.plugin_checks import plugin_issues
from tongji.checking.rules import evaluate, fmt_number, imbalance, rule_params, within_summed
from tongji.definitions import Spec
from tongji.definitions.registry import Registry
from tongji.i18n import MESSAGE_LANG
from tongji.issues.catalog import Catalog
from tongji.issues.report import ISSUE_COLUMNS
from tongji.reading.values import clean_text

SUMMARY_SCOPES = {"基层": pl.lit(False), "本级": pl.lit(False), "汇总": pl.lit(True)}  # these are all summaries


def total_cells(spec: Spec) -> dict[str, str]:
    """Where a summary workbook holds each total (column D of its form sheets, below the title, the form marks,
    one info line and the header): the cells a check on that workbook names. writing/summary_files.py writes there."""
    first = _first_row(spec)
    return {row.code: f"{form.sheet}!D{first + i}" for form in spec.data_forms for i, row in enumerate(form.rows)}


def cover_cells(spec: Spec) -> dict[str, str]:
    """Where a summary workbook holds each cover field (column C of 封面, below the same title and header)."""
    first = _first_row(spec)
    return {row.code: f"{spec.cover.sheet}!C{first + i}" for i, row in enumerate(spec.cover.rows)}


def _first_row(spec: Spec) -> int:
    return 1 + len(spec.marks) + 3  # title row 1 carries 表号; then the other marks, the info line, the header


def summary_issues(summaries: list[Summary], spec: Spec, registry: Registry | None,
                   period: str | None) -> pl.DataFrame:
    """Every check validating each summary's workbook would run on what it holds: the rules, then the checks
    written in Python. One issue row per finding, with the summary's unit and no file."""
    return pl.concat([totals_issues(summaries, spec), checks_issues(summaries, spec, registry, period)])


def totals_issues(summaries: list[Summary], spec: Spec) -> pl.DataFrame:
    """One issue row per (summary, failed rule), as validating each summary's workbook would give."""
    if not summaries:
        return pl.DataFrame(schema=ISSUE_COLUMNS)
    codes = [r.code for r in spec.numeric_rows()]
    values = [dict(zip(s.totals["code"].to_list(), s.totals["value"].to_list(), strict=True)) for s in summaries]
    wide = pl.DataFrame([{c: v.get(c) for c in codes} for v in values], schema=dict.fromkeys(codes, pl.Float64),
                        orient="row")
    summed = pl.col("pos").replace_strict(range(len(summaries)), [max(s.detail.height, 1) for s in summaries])
    fails = within_summed(evaluate(wide, spec, SUMMARY_SCOPES), spec, summed)
    rules, cells, kinds = {r.id: r for r in spec.rules}, total_cells(spec), Catalog.of(spec)
    rows = []
    for pos, rid, left, right, diff in fails.iter_rows():
        rule, s = rules[rid], summaries[pos]
        involved = rule.check.codes + [c for c in (rule.when.codes if rule.when else []) if c not in rule.check.codes]
        first = rule.check.codes[0]
        params = rule_params(rule, values[pos], left, right, diff)
        notes = [n for n in (s.note_of(c) for c in involved) if n]  # as validating the workbook reads them
        rows.append({
            "file": "", "unit": s.unit, "unit_name": s.name, "severity": rule.severity, "rule": rid,
            "sheet": spec.rows[first].sheet, "cell": cells.get(first, ""),
            "cells": [cells[c] for c in involved if c in cells], "code": first, "name": spec.rows[first].name,
            "value": fmt_number(values[pos].get(first)), "message": kinds[rid].text(MESSAGE_LANG, **params),
            "params": kinds[rid].params_json(**params),
            "diff": imbalance(diff) if rule.check.cmp in ("=", "<=", ">=", "≈") else None,
            "explained": "；".join(notes) if notes and rule.severity != "错误" else None,
        })
    return pl.DataFrame(rows, schema=ISSUE_COLUMNS)


def checks_issues(summaries: list[Summary], spec: Spec, registry: Registry | None,
                  period: str | None) -> pl.DataFrame:
    """The Python checks (hook register_checks) run once over the summaries, each a row of the table the check
    receives, as if validating their workbooks: `file` is the name rollup writes the workbook under."""
    if not summaries or not spec.checks:
        return pl.DataFrame(schema=ISSUE_COLUMNS)
    wide, cells = read_back(summaries, spec)
    found = plugin_issues(wide, lambda _: cells, spec, registry, period, [workbook_name(s) for s in summaries])
    units = pl.DataFrame({"file_id": range(len(summaries)), "unit": [s.unit for s in summaries],
                          "unit_name": [s.name for s in summaries]}, schema={"file_id": pl.Int32, "unit": pl.Utf8,
                                                                              "unit_name": pl.Utf8})
    row_names = {code: row.name for code, row in spec.rows.items()}
    return found.join(units, on="file_id", how="left", maintain_order="left").select(
        pl.lit("").alias("file"), "unit", "unit_name", "severity", "rule", pl.col("sheet").fill_null(""),
        pl.when(pl.col("ref").fill_null("") != "").then(pl.col("sheet") + "!" + pl.col("ref"))
        .otherwise(pl.lit("")).alias("cell"),
        "cells", pl.col("code").fill_null(""),
        pl.col("code").replace_strict(row_names, default="", return_dtype=pl.Utf8).alias("name"),
        "value", "message", pl.lit(None, pl.Utf8).alias("params"), "diff", "explained",
    ).cast(ISSUE_COLUMNS)


def read_back(summaries: list[Summary], spec: Spec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What validation reads from each summary's workbook, made from the summaries themselves: the wide table
    (file_id, the cover as text, every total as written: counts whole, amounts to the cent) and the cells
    (file_id, code, sheet, ref, raw text, note beside it). The cells are where total_cells and cover_cells say."""
    where = total_cells(spec) | cover_cells(spec)
    kinds = {row.code: row.kind for row in spec.numeric_rows()}
    rows = []
    for fid, s in enumerate(summaries):
        totals = dict(zip(s.totals["code"].to_list(), s.totals["value"].to_list(), strict=True))
        for row in spec.cover.rows:
            rows.append((fid, row.code, where[row.code], str(s.cover.get(row.code, "") or "") or None, None, None))
        for code, kind in kinds.items():
            value = as_written(totals.get(code), kind)
            note = s.note_of(code)  # what the workbook has beside the total: the 简单汇总 note, the units' 说明
            rows.append((fid, code, where[code], _text(value), None if value is None else float(value), note))
    cells = pl.DataFrame(rows, schema={"file_id": pl.Int32, "code": pl.Utf8, "cell": pl.Utf8, "raw": pl.Utf8,
                                       "value": pl.Float64, "note": pl.Utf8}, orient="row").with_columns(
        pl.col("cell").str.split_exact("!", 1).struct.rename_fields(["sheet", "ref"])).unnest("cell")
    cover = [row.code for row in spec.cover.rows]
    text = cells.filter(pl.col("code").is_in(cover)).with_columns(clean_text().alias("text"))
    wide = (text.pivot(on="code", index="file_id", values="text")
            .join(cells.filter(~pl.col("code").is_in(cover)).pivot(on="code", index="file_id", values="value"),
                  on="file_id").select("file_id", *cover, *kinds))
    return wide, cells.drop("value")


def _text(value: int | float | None) -> str | None:
    """A number as its cell's text: 12 and 12.0 as "12", 0.5 as "0.5". An amount read back from the workbook
    may carry one more digit of binary noise (9466141.060000001, as openpyxl writes it): only the issue's
    `value` text differs then."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))
