"""Validate a batch of workbooks: read all, stack, check the stacked table once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl

from tongji.checking.cover import cover_issues
from tongji.checking.peers import peer_issues
from tongji.checking.plugin_checks import plugin_issues
from tongji.checking.rules import evaluate, fmt_number, rule_params
from tongji.checking.schema import schema_failures
from tongji.checking.versions import not_on_form, old_flags, read_through
from tongji.definitions import Spec
from tongji.definitions.codes import BENJI, SUMMARY, canonical_period
from tongji.definitions.forms import BENJI_HINT
from tongji.definitions.registry import Registry, load_registry
from tongji.errors import TongjiError
from tongji.i18n import MESSAGE_LANG
from tongji.issues.catalog import BUILTIN, Catalog
from tongji.issues.issue_type import IssueType
from tongji.issues.report import ISSUE_COLUMNS, SEVERITY_ORDER, ValidationReport
from tongji.plugins import load_spec
from tongji.reading.values import YES, clean_text, limits, parse_values
from tongji.reading.workbooks import Stack, discover, read_workbooks

COVERED = "JH01"  # 覆盖单位数: what a count of covered units (a row with yes_no) is out of
_INTERNAL = {  # the issue frame before file and unit columns are joined on
    "file_id": pl.Int32, "severity": pl.Utf8, "rule": pl.Utf8, "sheet": pl.Utf8, "ref": pl.Utf8,
    "code": pl.Utf8, "value": pl.Utf8, "message": pl.Utf8, "params": pl.Utf8, "diff": pl.Float64,
    "cells": pl.List(pl.Utf8), "explained": pl.Utf8,
}


def validate(
    paths: Iterable[str | Path] | str | Path,
    *,
    registry: str | Path | Registry | None = None,
    period: str | None = None,
    spec: Spec | None = None,
    workers: int = 1,
    tick: Callable[[], None] | None = None,
    on_files: Callable[[int], None] | None = None,
) -> ValidationReport:
    """Check every workbook under `paths` together and report each one's issues.

    Args:
        paths: Workbook files and folders (searched recursively); a file named explicitly is always read.
        registry: The 单位名册 (a path, or a loaded Registry); without it the checks against it are skipped.
        period: The reporting period (2025, 2025Q2, 2025-06); without it the period check is skipped.
        spec: Forms, rules and indicators; by default those of the built-in schemas and loaded plugins.
        workers: Processes reading the workbooks. 1 (the default) reads in this process; more read a big batch
            in worker processes, and the calling script then needs an `if __name__ == "__main__":` guard.
        tick: Called once for every workbook read (a progress bar).
        on_files: Called once, with the number of workbooks found, before reading starts.

    Returns:
        The ValidationReport: every issue, every workbook's status, values and checksums.

    Raises:
        TongjiError: A setup problem (no inputs, a missing path, a bad period or registry), said in Chinese.
    """
    spec = spec or load_spec()
    if isinstance(paths, str | Path):
        paths = [paths]
    paths = list(paths)
    if period is not None:
        period = canonical_period(period)
    if registry is not None and not isinstance(registry, Registry):
        registry = load_registry(registry)
    files = discover(paths)
    if not files:
        raise TongjiError("no-inputs", paths="、".join(map(str, paths)))
    if on_files:
        on_files(len(files))
    stack = read_workbooks(files, spec, tick, workers=workers)
    return check_stack(stack, spec, registry, period)


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=_INTERNAL) if rows else pl.DataFrame(schema=_INTERNAL)


def check_stack(stack: Stack, spec: Spec, registry: Registry | None, period: str | None) -> ValidationReport:
    is_summary = pl.col("raw").str.strip_chars().str.starts_with(SUMMARY)
    summaries = stack.cells.filter((pl.col("code") == "FM05") & is_summary)
    summary = pl.col("file_id").is_in(summaries["file_id"].implode())
    cells = parse_values(stack.cells.with_columns(summary.alias("summary")), spec).with_columns(
        (pl.col("col") + pl.col("row").cast(pl.Utf8)).alias("ref")).drop("col", "row", "summary")
    stack.cells = stack.cells.clear()  # the parsed table replaces it: columns it dropped are freed
    reading = _reading_problems(stack, cells)
    cells = _without_unreadable(cells, reading)
    readable = [i for i, ok in enumerate(stack.readable) if ok]
    wide = read_through(_wide(cells, spec, readable), spec)  # an older template version: domain.md §11
    kind = pl.col("FM05").fill_null("1")
    scopes = {"基层": ~kind.is_in([SUMMARY, BENJI]), "本级": kind == BENJI, "汇总": kind == SUMMARY}
    parts = [
        reading,
        _parse_issues(cells, spec),
        _schema_issues(wide, cells, spec),
        _benji_issues(cells, wide, spec),
        _yes_for_several_units(cells, wide, spec),
        _rule_issues(wide, cells, spec, scopes),
        _missing_rows(stack, cells, spec, not_on_form(wide, spec)),
        cover_issues(wide, cells, spec, registry, period, stack.files),
        _summary_issues(wide, cells, spec, stack.files, details := {}),
        plugin_issues(wide, cells, spec, registry, period, stack.files, _INTERNAL),
    ]
    issues = pl.concat([p.select(list(_INTERNAL)) for p in parts])
    returned = issues.filter(pl.col("severity") == "错误")["file_id"].unique()
    issues = pl.concat([issues, peer_issues(wide, cells, spec, stack.files, returned).select(list(_INTERNAL))])
    skipped = (["needs-registry"] if registry is None else []) + (["needs-period"] if period is None else [])
    report = _assemble(spec, stack, wide, issues, skipped, _notes(cells, spec))
    report.details = details
    return report


def _notes(cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Every 说明 written beside a value (not the template's own hint): rollup carries a unit's explanations up
    with its 明细."""
    note = pl.col("note").cast(pl.Utf8).str.strip_chars().fill_null("")
    numeric = pl.col("code").is_in([r.code for r in spec.numeric_rows()])
    return cells.filter(numeric & ~note.is_in(["", BENJI_HINT])).select("file_id", "code", note.alias("note"))


# --- the wide table: one row per readable workbook, one column per code -----------------------

def _wide(cells: pl.DataFrame, spec: Spec, readable: list[int]) -> pl.DataFrame:
    """Each form is pivoted on its own, its columns picked before its rows: one pivot of the whole stacked
    table (8 million cells at 100,000 units) needs far more memory than a few of a part each."""
    numeric_codes = [r.code for r in spec.numeric_rows()]
    cover_codes = [r.code for r in spec.cover.rows]
    out = pl.DataFrame({"file_id": readable}, schema={"file_id": pl.Int32})
    for form in spec.forms:
        if form.is_cover:
            part = cells.select("file_id", "code", "raw", "kind").filter(pl.col("code").is_in(cover_codes))
            part = part.with_columns(clean_text().alias("text"))
            part = part.select("file_id", "code", _cover_text(spec).alias("value"))
        else:
            codes = [r.code for r in spec.numeric_rows() if r.sheet == form.sheet]
            part = cells.select("file_id", "code", "value").filter(pl.col("code").is_in(codes))
        if part.height:
            out = out.join(part.pivot(on="code", index="file_id", values="value", aggregate_function="first"),
                           on="file_id", how="left")
    out = out.with_columns([pl.lit(None, dtype=pl.Utf8 if c in cover_codes else pl.Float64).alias(c)
                            for c in [*cover_codes, *numeric_codes] if c not in out.columns])
    return out.select(["file_id", *cover_codes, *numeric_codes]).sort("file_id")


def _cover_text(spec: Spec) -> pl.Expr:
    """Cover text as checked: enum labels to codes ("1 单独基层工会" → "1"), periods canonical."""
    text = pl.col("text")
    labels = {v: k for name in spec.enums for k, v in spec.enums[name].items()}
    enum_code = pl.coalesce(text.str.extract(r"^([0-9]+)"), text.replace_strict(labels, default=None))
    period = text.str.to_uppercase().str.replace_all(r"年|报|\.0$", "")
    return (
        pl.when(pl.col("kind") == "enum").then(pl.coalesce(enum_code, text))
        .when(pl.col("kind") == "period").then(period)
        .when(pl.col("kind") == "area").then(text.str.replace(r"\.0$", ""))
        .otherwise(text)
    )


# --- issue sources ----------------------------------------------------------------------------

def _reading_problems(stack: Stack, cells: pl.DataFrame) -> pl.DataFrame:
    rows = [{
        "file_id": p.file_id, "severity": kind.severity, "rule": p.rule, "sheet": p.sheet, "ref": p.cell,
        "code": p.code, "value": None, "message": kind.text(MESSAGE_LANG, p.message or None, **p.kw),
        "params": kind.params_json(p.message or None, **p.kw), "diff": None,
        "cells": [f"{p.sheet}!{p.cell}"] if p.cell else [], "explained": None,
    } for p in stack.problems for kind in [BUILTIN[p.rule]]]
    df = _frame(rows)
    if not df.height:
        return df
    # a problem met at a cell (formula never calculated, merged) gets the code of the row it is on
    keys = ["file_id", "sheet", "ref"]
    where = cells.select(*keys, pl.col("code").alias("_code")).filter(pl.col("file_id").is_in(df["file_id"].implode()))
    return df.join(where, on=keys, how="left", maintain_order="left").with_columns(
        pl.when(pl.col("code") == "").then(pl.col("_code").fill_null("")).otherwise(pl.col("code")).alias("code")
    ).drop("_code")


def _without_unreadable(cells: pl.DataFrame, reading: pl.DataFrame) -> pl.DataFrame:
    """A cell we could not read (formula never calculated, merged) must not count as 0 in the rules."""
    keys = ["file_id", "sheet", "ref"]
    bad = reading.filter(pl.col("ref") != "").select(keys)
    if not bad.height:
        return cells
    rows = (cells.select(keys).with_row_index("i").filter(pl.col("file_id").is_in(bad["file_id"].implode()))
            .join(bad, on=keys, how="semi")["i"])
    return cells.with_columns(cells["value"].scatter(rows, None))


def _cell_issue(df: pl.DataFrame, kind: IssueType, **kw: pl.Expr) -> pl.DataFrame:
    return df.select(
        "file_id", pl.lit(kind.severity).alias("severity"), pl.lit(kind.code).alias("rule"), "sheet", "ref", "code",
        pl.coalesce("error", "raw").alias("value"), *kind.columns(**kw), pl.lit(None, pl.Float64).alias("diff"),
        pl.concat_list(pl.col("sheet") + "!" + pl.col("ref")).alias("cells"),
        pl.lit(None, pl.Utf8).alias("explained"),
    )


def _by_rule(df: pl.DataFrame, keys: Iterable[str], **kw: pl.Expr) -> pl.DataFrame:
    """Cell issues of several types (the `rule` column): one vectorised pass per type."""
    out = []
    for key in keys:
        part = df.filter(pl.col("rule") == key)
        if part.height:
            out.append(_cell_issue(part, BUILTIN[key], **kw))
    return pl.concat(out) if out else pl.DataFrame(schema=_INTERNAL)


def _parse_issues(cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    df = cells.filter(pl.col("parse_issue").is_not_null())
    df = df.with_columns(pl.col("parse_issue").cast(pl.Utf8).alias("rule"))
    raw = pl.coalesce(pl.col("error"), pl.col("raw"))
    value = pl.col("value").map_elements(fmt_number, return_dtype=pl.Utf8)
    limit = pl.col("kind").cast(pl.Utf8).replace_strict(limits(spec), default=None).map_elements(
        fmt_number, return_dtype=pl.Utf8)
    return _by_rule(df, ["not-a-number", "implausible-number", "bad-flag", "cell-error", "text-number"], raw=raw,
                    value=value, limit=limit)


def _schema_issues(wide: pl.DataFrame, cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    fails = schema_failures(wide, spec)
    if not fails.height:
        return pl.DataFrame(schema=_INTERNAL)
    ids = wide.select(pl.col("file_id"), pl.int_range(pl.len(), dtype=pl.Int64).alias("pos"))
    df = fails.join(ids, on="pos").join(cells, on=["file_id", "code"], how="inner")
    keys = fails["rule"].unique(maintain_order=True).to_list()  # schema_failures let no unmapped check through
    return _by_rule(df.join(_names(spec), on="code", how="left"), keys, raw=pl.col("raw"), name=pl.col("name"))


def _benji_issues(cells: pl.DataFrame, wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    benji = [r.code for r in spec.numeric_rows() if r.level == "本级"]
    grassroots = wide.filter(~pl.col("FM05").fill_null("1").is_in([SUMMARY, BENJI])).select("file_id")
    df = cells.filter(pl.col("code").is_in(benji) & (pl.col("value").fill_null(0) != 0)).join(grassroots, on="file_id")
    df = df.with_columns(pl.lit("benji-in-grassroots").alias("rule")).join(_names(spec), on="code", how="left")
    return _by_rule(df, ["benji-in-grassroots"], raw=pl.col("raw"), name=pl.col("name"))


def _yes_for_several_units(cells: pl.DataFrame, wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """是 in a count of covered units (JH04) of a union covering more than one unit: how many of them is not
    a guess we make (否 is 0 however many units there are)."""
    codes = [r.code for r in spec.numeric_rows() if r.yes_no]
    if not codes or COVERED not in wide.columns:
        return pl.DataFrame(schema=_INTERNAL)
    said_yes = pl.col("raw").str.strip_chars().str.to_lowercase().is_in([w for w in YES if not w.isdigit()])
    several = wide.filter(pl.col(COVERED).fill_null(0) > 1).select("file_id", pl.col(COVERED).alias("units"))
    df = cells.filter(pl.col("code").is_in(codes) & said_yes).join(several, on="file_id")
    df = df.join(old_flags(wide, spec), on=["file_id", "code"], how="anti")
    df = df.with_columns(pl.lit("yes-for-several-units").alias("rule")).join(_names(spec), on="code", how="left")
    units = pl.col("units").map_elements(fmt_number, return_dtype=pl.Utf8)
    return _by_rule(df, ["yes-for-several-units"], raw=pl.col("raw"), name=pl.col("name"), units=units)


def _rule_issues(wide: pl.DataFrame, cells: pl.DataFrame, spec: Spec, scopes: dict[str, pl.Expr]) -> pl.DataFrame:
    fails = evaluate(wide, spec, scopes)
    if not fails.height:
        return pl.DataFrame(schema=_INTERNAL)
    rules, kinds = {r.id: r for r in spec.rules}, Catalog.of(spec)
    ids = wide["file_id"].to_list()
    failing = {ids[p] for p in fails["pos"].to_list()}
    where = {
        (f, code): (sheet, ref, raw, note)
        for f, code, sheet, ref, raw, note in cells.filter(pl.col("file_id").is_in(list(failing)))
        .select("file_id", "code", "sheet", "ref", "raw", "note").iter_rows()
    }
    values = {r["file_id"]: r for r in wide.filter(pl.col("file_id").is_in(list(failing))).iter_rows(named=True)}
    rows = []
    for pos, rid, left, right, diff in fails.iter_rows():
        rule, fid = rules[rid], ids[pos]
        codes = rule.check.codes + [c for c in (rule.when.codes if rule.when else []) if c not in rule.check.codes]
        found = [where[(fid, c)] for c in codes if (fid, c) in where]
        notes = [w[3] for w in found if w[3] and str(w[3]).strip()]
        first = where.get((fid, rule.check.codes[0]), ("", "", None, None))
        params = rule_params(rule, values[fid], left, right, diff)
        rows.append({
            "file_id": fid, "severity": rule.severity, "rule": rid, "sheet": first[0], "ref": first[1],
            "code": rule.check.codes[0], "value": first[2],
            "message": kinds[rid].text(MESSAGE_LANG, **params), "params": kinds[rid].params_json(**params),
            "diff": diff if rule.check.cmp in ("=", "<=", ">=", "≈") else None,
            "cells": [f"{w[0]}!{w[1]}" for w in found],
            "explained": "；".join(notes) if notes and rule.severity != "错误" else None,
        })
    return _frame(rows)


def _missing_rows(stack: Stack, cells: pl.DataFrame, spec: Spec, not_on_form: pl.DataFrame) -> pl.DataFrame:
    """Rows of a form that was read (sheet and header found) but lack an indicator row; `not_on_form` are the
    (file_id, code) an older template version never had."""
    not_read = ("missing-sheet", "header-not-found", "too-large", "unreadable")
    unread = {(p.file_id, p.sheet) for p in stack.problems if p.rule in not_read}
    rows = [(r.code, r.name, f.sheet) for f in spec.forms for r in f.rows if r.filled]
    codes = [r[0] for r in rows]
    # only workbooks short of a row are crossed with the list of rows (100,000 complete ones would be 8 million)
    # the reader keeps one row per code and workbook, so a count is a count of distinct codes
    complete = cells.select(pl.col("file_id").filter(pl.col("code").is_in(codes))).group_by("file_id").len("n")
    short = pl.DataFrame({"file_id": [i for i, ok in enumerate(stack.readable) if ok]}, schema={"file_id": pl.Int32})
    short = short.join(complete.filter(pl.col("n") == len(set(codes))), on="file_id", how="anti")
    expected = short.join(pl.DataFrame(rows, schema=["code", "name", "sheet"], orient="row"), how="cross")
    if unread:
        skip = pl.DataFrame(list(unread), schema={"file_id": pl.Int32, "sheet": pl.Utf8}, orient="row")
        expected = expected.join(skip, on=["file_id", "sheet"], how="anti")
    present = cells.select("file_id", "code").filter(pl.col("file_id").is_in(short["file_id"].implode()))
    missing = expected.join(present, on=["file_id", "code"], how="anti").join(not_on_form, on=["file_id", "code"],
                                                                              how="anti")
    missing = missing.with_columns(pl.lit("").alias("ref"), pl.lit(None, pl.Utf8).alias("raw"),
                                   pl.lit(None, pl.Utf8).alias("error"), pl.lit("missing-row").alias("rule"))
    out = _by_rule(missing, ["missing-row"], code=pl.col("code"), name=pl.col("name"))
    return out.with_columns(pl.lit([], dtype=pl.List(pl.Utf8)).alias("cells"))


def _summary_issues(wide: pl.DataFrame, cells: pl.DataFrame, spec: Spec, files: list[Path],
                    details: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """A summary workbook's totals must be the sums of its own 明细, and each grouping of its 分组 sheet must add up
    to them; otherwise it was edited by hand. Only summaries (a few files per batch) have their 明细 read, into
    `details` (file → 明细), which rollup takes up rather than read a national 明细 twice."""
    from tongji.aggregating.groups import sheet_unbalanced
    from tongji.aggregating.summary import column_sums, read_detail, summary_mismatches

    rows = []
    for totals in wide.filter(pl.col("FM05") == SUMMARY).iter_rows(named=True):
        fid = totals["file_id"]
        detail = details[str(files[fid])] = read_detail(files[fid], spec, totals["FM12"])
        # the 分组 sheet against the 明细 it was made from: an edited total is summary-edited, not this too
        rows += _groups_rows(fid, sheet_unbalanced(files[fid], column_sums(detail, spec), spec), spec)
        found = summary_mismatches(totals, detail, spec)
        if not found:
            continue
        where = dict(cells.filter((pl.col("file_id") == fid) & pl.col("code").is_in([c for c, _, _ in found]))
                     .select("code", pl.concat_str("sheet", pl.lit("!"), "ref")).iter_rows())
        for code, total, detail_sum in found:
            sheet, _, ref = where.get(code, "!").partition("!")
            kind, params = BUILTIN["summary-edited"], {"total": fmt_number(total), "sum": fmt_number(detail_sum)}
            rows.append({"file_id": fid, "severity": kind.severity, "rule": kind.code,
                         "sheet": sheet, "ref": ref, "code": code, "value": fmt_number(total),
                         "message": kind.text(MESSAGE_LANG, **params), "params": kind.params_json(**params),
                         "diff": total - detail_sum, "cells": [f"{sheet}!{ref}"] if ref else [], "explained": None})
    return _frame(rows)


def _groups_rows(fid: int, found: list, spec: Spec) -> list[dict]:
    """groups-unbalanced: a grouping of the summary's 分组 sheet that does not add up to its totals."""
    kind, rows = BUILTIN["groups-unbalanced"], []
    for grouping, code, got, total, cell in found:
        params = {"grouping": grouping, "name": spec.rows[code].name, "sum": fmt_number(got),
                  "total": fmt_number(total)}
        sheet, _, ref = cell.partition("!")
        rows.append({"file_id": fid, "severity": kind.severity, "rule": kind.code, "sheet": sheet, "ref": ref,
                     "code": code, "value": fmt_number(got), "message": kind.text(MESSAGE_LANG, **params),
                     "params": kind.params_json(**params), "diff": got - total, "cells": [cell], "explained": None})
    return rows


# --- the report -------------------------------------------------------------------------------

def _assemble(spec: Spec, stack: Stack, wide: pl.DataFrame, issues: pl.DataFrame,
              skipped: list[str], notes: pl.DataFrame) -> ValidationReport:
    files = pl.DataFrame({
        "file_id": list(range(len(stack.files))),
        "file": [str(f) for f in stack.files],
    }, schema={"file_id": pl.Int32, "file": pl.Utf8}).join(
        wide.select("file_id", pl.col("FM02").alias("unit"), pl.col("FM01").alias("unit_name"),
                    pl.col("FM05").alias("org_type")), on="file_id", how="left")
    issues = (
        issues.join(files, on="file_id", how="left")
        .with_columns(
            pl.when(pl.col("ref") != "").then(pl.col("sheet") + "!" + pl.col("ref"))
            .otherwise(pl.lit("")).alias("cell"),
            pl.col("sheet").fill_null(""),
            pl.col("severity").replace_strict(SEVERITY_ORDER, return_dtype=pl.Int8).alias("_sev"),
            pl.col("sheet").replace_strict(_sheet_rank(spec), default=-1, return_dtype=pl.Int32).alias("_sheet"),
            pl.col("ref").str.extract(r"([0-9]+)$").cast(pl.Int32).alias("_row"),
        )
        .join(_names(spec), on="code", how="left")
        .sort("file_id", "_sev", "_sheet", "_row", "rule", maintain_order=True, nulls_last=False)
    )
    counts = issues.group_by("file_id").agg(
        (pl.col("severity") == "错误").sum().alias("errors"),
        ((pl.col("severity") == "警告") & pl.col("explained").is_null()).sum().alias("warnings"),
        ((pl.col("severity") == "警告") & pl.col("explained").is_not_null()).sum().alias("explained"),
        (pl.col("severity") == "提示").sum().alias("notices"),
    )
    books = files.join(counts, on="file_id", how="left").with_columns(
        pl.col("errors", "warnings", "explained", "notices").fill_null(0).cast(pl.Int64)
    ).with_columns(
        pl.when(pl.col("errors") > 0).then(pl.lit("退回"))
        .when(pl.col("warnings") > 0).then(pl.lit("有警告")).otherwise(pl.lit("通过")).alias("status")
    ).sort("file_id")
    cols = list(ISSUE_COLUMNS)
    return ValidationReport(
        issues.with_columns(pl.col("code").fill_null(""), pl.col("name").fill_null("")).select(cols),
        books.select("file", "unit", "unit_name", "org_type", "status", "errors", "warnings", "explained", "notices"),
        skipped,
        files.select("file_id", "file").join(wide, on="file_id").drop("file_id"),
        {str(f): h for f, h in zip(stack.files, stack.hashes, strict=True) if h},
        Catalog.of(spec),
        notes.join(files.select("file_id", "file"), on="file_id").select("file", "code", "note"),
    )


def _sheet_rank(spec: Spec) -> dict[str, int]:
    return {f.sheet: i for i, f in enumerate(spec.forms)}


def _names(spec: Spec) -> pl.DataFrame:
    return pl.DataFrame({"code": list(spec.rows), "name": [r.name for r in spec.rows.values()]})
