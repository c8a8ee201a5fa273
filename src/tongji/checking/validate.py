"""Validate a batch of workbooks: each chunk read and checked where it runs (checking/workbook_checks.py; this
process, worker processes or a Dask cluster), then the checks that need the whole batch, over the table of
workbooks: two workbooks of one unit, the registry, summaries against their 明细, plugins' checks, peers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import polars as pl

from tongji.checking.cover import batch_cover_issues
from tongji.checking.peers import peer_issues
from tongji.checking.plugin_checks import plugin_issues
from tongji.checking.rules import fmt_number, imbalance, within_summed
from tongji.checking.where import Where
from tongji.checking.workbook_checks import ISSUE_FRAME, check_chunk, code_names, died_checked, issue_frame
from tongji.definitions import Spec
from tongji.definitions.codes import SUMMARY, canonical_period
from tongji.definitions.registry import Registry, load_registry
from tongji.errors import TongjiError
from tongji.i18n import MESSAGE_LANG, Items
from tongji.issues.catalog import BUILTIN, Catalog
from tongji.issues.report import ISSUE_COLUMNS, SEVERITY_ORDER, ValidationReport
from tongji.plugins import load_spec
from tongji.reading.discover import discover, file_text, passed_over
from tongji.reading.workers import Executor, run_in_chunks


def validate(
    paths: Iterable[str | Path] | str | Path,
    *,
    registry: str | Path | Registry | None = None,
    period: str | None = None,
    spec: Spec | None = None,
    workers: int | Executor = 1,
    tick: Callable[[], None] | None = None,
    on_files: Callable[[int], None] | None = None,
) -> ValidationReport:
    """Check every workbook under `paths` together and report each one's issues.

    Args:
        paths: Workbook files and folders (searched recursively); a file named explicitly is always read.
        registry: The 单位名册 (a path, or a loaded Registry); without it the checks against it are skipped.
        period: The reporting period (2025, 2025Q2, 2025-06); without it the period check is skipped.
        spec: Forms, rules and indicators; by default those of the built-in schemas and loaded plugins.
        workers: Processes reading and checking the workbooks, or an Executor (`tongji.reading.cluster.Dask`
            for a Dask cluster). 1 (the default) works in this process; more read a big batch in worker
            processes, and the calling script then needs an `if __name__ == "__main__":` guard. The report is
            the same whichever runs it.
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
        others = passed_over(paths)
        if others:  # WPS's .et, a .csv: "nothing found" alone would send the user looking for what is there
            raise TongjiError("no-inputs-other-formats", paths=Items(map(str, paths)), n=len(others),
                              files=Items(map(file_text, others), few=5))
        raise TongjiError("no-inputs", paths=Items(map(str, paths)))
    if on_files:
        on_files(len(files))
    chunks = run_in_chunks(check_chunk, files, (spec, period), tick, workers=workers,
                           died=partial(died_checked, spec=spec, period=period))
    return check_batch(chunks, files, spec, registry, period)


# the rules whose finding on one workbook depends on the others checked with it (its duplicate, its peers, a copy
# of it); a Python check of a plugin sees the whole batch too. The portal checks a workbook that one of these names
# again alone, so that its verdict never depends on what else arrived at the same moment.
ACROSS_WORKBOOKS = ("duplicate-unit", "copied-workbook", "peer-outlier", "peer-outlier-far")


def check_batch(chunks: dict, files: list[Path], spec: Spec, registry: Registry | None,
                period: str | None) -> ValidationReport:
    """The chunks' findings joined, and the checks across workbooks run on their table of workbooks."""
    wide, where = chunks["wide"], Where.of(chunks, spec)
    edited = _summary_issues(wide, where, spec, files, details := {}, registry)
    # a summary's rules allow each workbook of its 明细 its own rounding (0.01 元 per term), as accepted below
    summed = {fid: max(details[name].height, 1) for fid in wide.filter(pl.col("FM05") == SUMMARY)["file_id"].to_list()
              if (name := file_text(files[fid])) in details}
    parts = [
        within_summed(chunks["issues"], spec, pl.col("file_id").replace_strict(summed, default=1))
        if summed else chunks["issues"],
        batch_cover_issues(wide, where, spec, registry, files),
        edited,
        plugin_issues(wide, partial(where.of_files, wide=wide, numeric=[r.code for r in spec.numeric_rows()]),
                      spec, registry, period, files, ISSUE_FRAME),
    ]
    issues = pl.concat([p.select(list(ISSUE_FRAME)) for p in parts])
    returned = issues.filter(pl.col("severity") == "错误")["file_id"].unique()
    issues = pl.concat([issues, peer_issues(wide, where, spec, files, returned).select(list(ISSUE_FRAME))])
    skipped = (["needs-registry"] if registry is None else []) + (["needs-period"] if period is None else [])
    report = _assemble(spec, files, chunks["hashes"], wide, issues, skipped, chunks["notes"])
    report.details = details
    return report


def _summary_issues(wide: pl.DataFrame, where: Where, spec: Spec, files: list[Path],
                    details: dict[str, pl.DataFrame], registry: Registry | None = None) -> pl.DataFrame:
    """A summary workbook's totals must be the sums of its own 明细, and each grouping of its 分组 sheet must add up
    to them; otherwise it was edited by hand. Only summaries (a few files per batch) have their 明细 read, into
    `details` (file → 明细), which rollup takes up rather than read a national 明细 twice. A grassroots union's
    workbook marked 汇总 by mistake is none: its one type-not-grassroots error says so, not a mismatch a line."""
    summaries = wide.filter(pl.col("FM05") == SUMMARY)
    if registry is not None:
        summaries = summaries.filter(~pl.col("FM02").is_in(registry.grassroots().implode()))
    if not summaries.height:  # a batch of units' workbooks: nothing to import (groups.py brings openpyxl)
        return issue_frame([])
    from tongji.aggregating.groups import sheet_unbalanced
    from tongji.aggregating.summary import column_sums, read_detail, summary_mismatches

    rows = []
    for totals in summaries.iter_rows(named=True):
        fid = totals["file_id"]
        detail = details[file_text(files[fid])] = read_detail(files[fid], spec, totals["FM12"])
        # the 分组 sheet against the 明细 it was made from: an edited total is summary-edited, not this too
        rows += _groups_rows(fid, sheet_unbalanced(files[fid], column_sums(detail, spec), spec), spec)
        found = summary_mismatches(totals, detail, spec)
        if not found:
            continue
        asked = pl.DataFrame({"file_id": fid, "code": [c for c, _, _ in found]}, schema={"file_id": pl.Int32,
                                                                                             "code": pl.Utf8})
        cell_of = dict(where.join(asked).filter(pl.col("ref").is_not_null())
                       .select("code", pl.concat_str("sheet", pl.lit("!"), "ref")).iter_rows())
        for code, total, detail_sum in found:
            sheet, _, ref = cell_of.get(code, "!").partition("!")
            kind, params = BUILTIN["summary-edited"], {"total": fmt_number(total), "sum": fmt_number(detail_sum)}
            rows.append({"file_id": fid, "severity": kind.severity, "rule": kind.code,
                         "sheet": sheet, "ref": ref, "code": code, "value": fmt_number(total),
                         "message": kind.text(MESSAGE_LANG, **params), "params": kind.params_json(**params),
                         "diff": imbalance(total - detail_sum), "cells": [f"{sheet}!{ref}"] if ref else [],
                         "explained": None})
    return issue_frame(rows)


def _groups_rows(fid: int, found: list, spec: Spec) -> list[dict]:
    """groups-unbalanced: a grouping of the summary's 分组 sheet that does not add up to its totals."""
    kind, rows = BUILTIN["groups-unbalanced"], []
    for grouping, code, got, total, cell in found:
        params = {"grouping": grouping, "name": spec.rows[code].name, "sum": fmt_number(got),
                  "total": fmt_number(total)}
        sheet, _, ref = cell.partition("!")
        rows.append({"file_id": fid, "severity": kind.severity, "rule": kind.code, "sheet": sheet, "ref": ref,
                     "code": code, "value": fmt_number(got), "message": kind.text(MESSAGE_LANG, **params),
                     "params": kind.params_json(**params), "diff": imbalance(got - total), "cells": [cell],
                     "explained": None})
    return rows


# --- the report -------------------------------------------------------------------------------

def _assemble(spec: Spec, paths: list[Path], hashes: list[str], wide: pl.DataFrame, issues: pl.DataFrame,
              skipped: list[str], notes: pl.DataFrame) -> ValidationReport:
    files = pl.DataFrame({
        "file_id": list(range(len(paths))),
        "file": [file_text(f) for f in paths],
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
        .join(code_names(spec), on="code", how="left")
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
        _values(wide, files["file"]),
        {file_text(f): h for f, h in zip(paths, hashes, strict=True) if h},
        Catalog.of(spec),
        notes.join(files.select("file_id", "file"), on="file_id").select("file", "code", "note"),
    )


def _values(wide: pl.DataFrame, paths: pl.Series) -> pl.DataFrame:
    """The table of workbooks with each one's file in place of its number. Its columns are the table's own, not
    copies: a join would copy them all (80 MB at 100,000 units)."""
    if not wide["file_id"].is_sorted():
        wide = wide.sort("file_id")
    return wide.select(paths.gather(wide["file_id"]).alias("file"), pl.exclude("file_id"))


def _sheet_rank(spec: Spec) -> dict[str, int]:
    return {f.sheet: i for i, f in enumerate(spec.forms)}
