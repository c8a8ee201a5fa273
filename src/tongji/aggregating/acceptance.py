"""Which workbooks count: each readable workbook accepted, returned (its errors) or set aside (a newer one of its
unit, --prefer-latest), and its fate as the 完整性 sheet lists it. Cross-period checks run here, before
acceptance, so that their errors return a workbook like any other."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tongji.aggregating.completeness import ACCEPTED, RETURNED, UNUSED
from tongji.aggregating.previous import period_issues
from tongji.aggregating.summary import KIND_BENJI, KIND_GRASSROOTS
from tongji.checking.schema import parse_date
from tongji.definitions import Spec
from tongji.definitions.codes import BENJI, SUMMARY
from tongji.definitions.registry import Registry
from tongji.i18n import MESSAGE_LANG, params_expr, params_json, render_column
from tongji.issues.report import ValidationReport, issue_row
from tongji.reading.discover import path_of
from tongji.reading.workbooks import read_workbooks


def accept(report: ValidationReport, spec: Spec, *, include_errors: bool, prefer_latest: bool,
           previous: pl.DataFrame | None, registry: Registry | None = None,
           span: str | None = None) -> tuple[pl.DataFrame, list[dict]]:
    """One row per readable workbook (its values, unit, kind 基层/本级/汇总, errors, superseded, ok), and the
    issues of the cross-period checks against `previous` (last period's 明细, of the `span` that
    codes.period_span says), when given. A unit in the
    `registry` sends the kind of workbook its place there says, whatever its 组织类型 (FM05) claims."""
    codes = [r.code for r in spec.numeric_rows()]
    status = report.workbooks.select("file", "status", "errors")
    leaves, nodes = _places(registry)
    # a grassroots union's workbook marked 本级, or a 街道's own marked 1–3, is still that unit's submission: taken
    # where the registry puts the unit (returned for its type-not-* error), never left for no node to take
    kind = (pl.when(pl.col("FM02").is_in(leaves)).then(pl.lit(KIND_GRASSROOTS))
            .when(pl.col("FM05") == SUMMARY).then(pl.lit("汇总"))
            .when((pl.col("FM05") == BENJI) | pl.col("FM02").is_in(nodes)).then(pl.lit(KIND_BENJI))
            .otherwise(pl.lit(KIND_GRASSROOTS)))
    # the workbooks' status put beside their values by position: a join would copy every column of the values
    at = report.values.select("file").join(status.with_row_index("_at"), on="file", how="left",
                                           maintain_order="left")
    books = report.values.with_columns(*status["status", "errors"][at["_at"]].get_columns()).with_columns(
        pl.col("FM02").fill_null("").alias("unit"), kind.alias("kind"), *_unknown(report, codes),
        parse_date(pl.col("FM10")).cast(pl.Utf8).alias("FM10"),  # 2026年1月5日 and 2026-01-05 compare alike
    )
    # duplicate-unit errors do not count against the newest workbook when --prefer-latest is given
    books = books.join(_duplicate_only_errors(report), on="file", how="left").with_columns(
        pl.col("dup_errors").fill_null(0))
    if prefer_latest:  # the one workbook with the newest 报出日期; a tie (or no date) stays a conflict: never the path
        newest = (pl.col("FM10") == pl.col("FM10").max().over("unit", "kind")).fill_null(False)
        is_latest = newest & (newest.sum().over("unit", "kind") == 1)
        errors = pl.when(is_latest).then(pl.col("errors") - pl.col("dup_errors")).otherwise(pl.col("errors"))
        superseded = ~is_latest & (pl.col("dup_errors") > 0) & is_latest.any().over("unit", "kind")
        books = books.with_columns(errors.alias("errors"), superseded.alias("superseded"), is_latest.alias("_latest"))
    else:
        books = books.with_columns(pl.lit(False).alias("superseded"), pl.lit(False).alias("_latest"))
    found: list[dict] = []
    if previous is not None:
        books, found = _period_checks(books, previous, spec, span)
    # --include-errors takes a workbook despite its errors, never two of one unit: a conflict is no error to overlook
    conflict = (pl.col("dup_errors") > 0) & ~pl.col("_latest")
    ok = (pl.col("errors") == 0) | (pl.lit(include_errors) & ~conflict)
    return books.with_columns((ok & ~pl.col("superseded")).alias("ok")).drop("_latest"), found


def _places(registry: Registry | None) -> tuple[pl.Series, pl.Series]:
    """The registry's grassroots units (the last level) and the units above them."""
    if registry is None:
        return pl.Series([], dtype=pl.Utf8).implode(), pl.Series([], dtype=pl.Utf8).implode()
    codes = registry.frame["单位代码"]
    leaf = codes.is_in(registry.grassroots().implode())
    return codes.filter(leaf).implode(), codes.filter(~leaf).implode()


def fates(books: pl.DataFrame, registry: Registry) -> pl.DataFrame:
    """What happened to each workbook, as the completeness sheet lists it (UNIT_SCHEMA, plus ok and kind)."""
    names = dict(registry.frame.select("单位代码", "单位名称").iter_rows())
    errors = pl.col("errors")
    reason = (pl.when(pl.col("ok") & (errors > 0)).then(pl.lit("reason-included")).when("ok").then(pl.lit(""))
              .when("superseded").then(pl.lit("reason-superseded")).otherwise(pl.lit("reason-errors")))
    counted = reason.is_in(["reason-included", "reason-errors"])
    out = books.select(
        "unit", pl.col("unit").replace_strict(names, default="").alias("name"), pl.col("unit").alias("child"),
        pl.when("ok").then(pl.lit(ACCEPTED)).when("superseded").then(pl.lit(UNUSED))
        .otherwise(pl.lit(RETURNED)).alias("status"), "file", pl.lit("").alias("reason"),
        reason.alias("reason_code"),
        pl.when(counted).then(params_expr(n=errors)).otherwise(pl.lit(params_json())).alias("reason_params"),
        "ok", "kind")
    return render_column(out, "reason", MESSAGE_LANG)


def _period_checks(books: pl.DataFrame, previous: pl.DataFrame, spec: Spec,
                   span: str | None) -> tuple[pl.DataFrame, list[dict]]:
    """The books with the errors of the cross-period checks added, and those checks' issues (at their cells)."""
    found = period_issues(books, previous, spec, span)
    by_file: dict[str, list[dict]] = {}
    for i in found:
        by_file.setdefault(i["file"], []).append(i)
    rules = {r.id: r for r in spec.rules}

    def involved(item: dict) -> list[str]:  # the cells a rule reads, as for the checks of one workbook
        rule = rules.get(item["rule"])
        codes = [] if rule is None else rule.check.codes + (rule.when.codes if rule.when else [])
        return list(dict.fromkeys([item["code"], *codes]))

    issues = []
    for file, items in by_file.items():
        cells, notes = _locate(path_of(file), [c for i in items for c in involved(i)], spec)
        for i in items:
            row = issue_row(i["file"], i["unit"], i["rule"], i["params"], code=i["code"],
                            cell=cells.get(i["code"], ""), value=i["value"], name=spec.rows[i["code"]].name,
                            kind=i["kind"], diff=i.get("diff"))
            said = [notes[c] for c in involved(i) if notes.get(c)]
            if i["severity"] != "错误" and said:  # a swing explained in 说明 (beside any cell it reads) is 已说明
                row["explained"] = "；".join(said)
            issues.append(row)
    errors = pl.DataFrame([(i["file"], 1) for i in found if i["severity"] == "错误"] or None,
                          schema={"file": pl.Utf8, "n": pl.Int64}, orient="row")
    extra = errors.group_by("file").agg(pl.col("n").sum())
    books = books.join(extra, on="file", how="left").with_columns(
        (pl.col("errors") + pl.col("n").fill_null(0)).alias("errors")).drop("n")
    return books, issues


# cells whose value the workbook does not give: an error value, text that is no number, a formula never
# calculated, a merged input cell. A blank input cell is 0; these are not, even when --include-errors sums them.
UNKNOWN = ("cell-error", "not-a-number", "bad-flag", "implausible-number", "formula-no-value", "merged-cell")


def _unknown(report: ValidationReport, codes: list[str]) -> list[pl.Expr]:
    """Each code's column with its unknown cells null, and any other gap (a row the workbook lacks) 0."""
    found = report.issues.filter(pl.col("rule").is_in(UNKNOWN) & pl.col("code").is_in(codes))
    files = dict(found.group_by("code").agg(pl.col("file").unique()).iter_rows())
    return [pl.when(pl.col("file").is_in(pl.Series(files[c], dtype=pl.Utf8).implode())).then(None)
            .otherwise(pl.col(c).fill_null(0.0)).alias(c) if c in files else pl.col(c).fill_null(0.0) for c in codes]


def _duplicate_only_errors(report: ValidationReport) -> pl.DataFrame:
    dup = report.issues.filter(pl.col("rule") == "duplicate-unit")
    return dup.group_by("file").agg(pl.len().cast(pl.Int64).alias("dup_errors"))


def _locate(path: Path, codes: list[str], spec: Spec) -> tuple[dict[str, str], dict[str, str]]:
    """Where each code's value is (经费!D28), and what its 说明 says."""
    cells = read_workbooks([path], spec).cells.filter(pl.col("code").is_in(codes))
    rows = cells.select("code", "sheet", "col", "row", "note").iter_rows()
    found = [(c, f"{s}!{col}{r}", (note or "").strip()) for c, s, col, r, note in rows]
    return {c: ref for c, ref, _ in found}, {c: note for c, _, note in found if note}
