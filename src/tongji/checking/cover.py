"""The checks of a workbook's cover (封面), each vectorised over every cover of the batch: the report period, the
template version, the unit against the registry, and two workbooks of one unit."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tongji.checking.schema import PERIOD_RE
from tongji.definitions import Spec
from tongji.definitions.codes import BENJI, SUMMARY, area_prefix
from tongji.definitions.registry import Registry
from tongji.issues.catalog import BUILTIN

SEVERITY = {code: kind.severity for code, kind in BUILTIN.items()}  # of the codes found here


def cover_issues(wide: pl.DataFrame, cells: pl.DataFrame, spec: Spec, registry: Registry | None,
                 period: str | None, files: list[Path]) -> pl.DataFrame:
    """Period, template version, registry and duplicate checks: each one vectorised over all covers."""
    w = wide.select("file_id", "FM02", "FM03", "FM04", "FM05", "FM07", "FM12")
    found = [_version_issues(w, cells, spec), _duplicate_issues(w, files)]
    if period:
        bad = w.filter(pl.col("FM04").str.contains(PERIOD_RE) & (pl.col("FM04") != period))
        found.append(_cover_rule(bad, "FM04", "wrong-period", raw=pl.col("FM04"), period=pl.lit(period)))
    if registry is not None:
        found.extend(_registry_issues(w, registry))
    hits = pl.concat(found)
    where = cells.select("file_id", "code", "sheet", "ref", "raw").filter(pl.col("sheet") == spec.cover.sheet)
    return hits.join(where, on=["file_id", "code"], how="left").select(
        "file_id", pl.col("rule").replace_strict(SEVERITY, return_dtype=pl.Utf8).alias("severity"), "rule",
        pl.col("sheet").fill_null(spec.cover.sheet), pl.col("ref").fill_null(""), "code",
        pl.col("raw").alias("value"), "message", "params", pl.lit(None, pl.Float64).alias("diff"),
        pl.when(pl.col("ref").is_not_null()).then(pl.concat_list(pl.col("sheet") + "!" + pl.col("ref")))
        .otherwise(pl.lit([], dtype=pl.List(pl.Utf8))).alias("cells"),
        pl.lit(None, pl.Utf8).alias("explained"),
    )


def _cover_rule(df: pl.DataFrame, code: str, rule: str, **kw: pl.Expr) -> pl.DataFrame:
    return df.select("file_id", pl.lit(code).alias("code"), pl.lit(rule).alias("rule"), *BUILTIN[rule].columns(**kw))


def _version_issues(w: pl.DataFrame, cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """FM12 not a version we accept; a cover without the row already has its missing-row error."""
    has_row = cells.filter(pl.col("code") == "FM12").select("file_id")
    bad = w.join(has_row, on="file_id").filter(~pl.col("FM12").fill_null("").is_in(spec.accepted_versions))
    old = pl.col("FM12").fill_null("").str.contains(r"^[0-9]{4}\.[0-9]+$") & (pl.col("FM12") < spec.version)
    return pl.concat([
        _cover_rule(bad.filter(old), "FM12", "old-version", raw=pl.col("FM12"), current=pl.lit(spec.version)),
        _cover_rule(bad.filter(~old.fill_null(False)), "FM12", "unknown-version", raw=pl.col("FM12")),
    ])


def _registry_issues(w: pl.DataFrame, registry: Registry) -> list[pl.DataFrame]:
    reg = registry.frame.select(
        pl.col("单位代码").alias("FM02"), pl.col("上级代码").alias("parent"), pl.col("状态").alias("state"))
    areas = registry.frame.select(
        pl.col("单位代码").alias("parent"),
        pl.col("所在地区划代码").map_elements(area_prefix, return_dtype=pl.Utf8).alias("parent_prefix"),
        pl.col("所在地区划代码").alias("parent_area"))
    df = w.filter(pl.col("FM02").is_not_null()).join(reg, on="FM02", how="left").join(areas, on="parent", how="left")
    known = pl.col("parent").is_not_null()
    outside = known & (pl.col("parent_prefix") != "") & ~pl.col("FM07").str.starts_with(pl.col("parent_prefix"))
    return [
        _cover_rule(df.filter(~known), "FM02", "unknown-unit", unit=pl.col("FM02")),
        _cover_rule(df.filter(pl.col("state") == "撤销"), "FM02", "revoked-unit", unit=pl.col("FM02")),
        _cover_rule(df.filter(known & (pl.col("FM03").fill_null("") != pl.col("parent"))), "FM03", "wrong-parent",
                    raw=pl.col("FM03"), parent=pl.col("parent")),  # blank ones read （空）: see the catalog
        _cover_rule(df.filter(outside.fill_null(False)), "FM07", "area-outside-parent",
                    raw=pl.col("FM07"), parent=pl.col("parent_area")),
    ]


def _duplicate_issues(w: pl.DataFrame, files: list[Path]) -> pl.DataFrame:
    """Two workbooks of one kind for one unit and period: both are returned, each naming all the files.

    A 街道's summary and its own 本级 workbook share a unit code but are different submissions."""
    names = pl.DataFrame({"file_id": range(len(files)), "name": [f.name for f in files]},
                         schema={"file_id": pl.Int32, "name": pl.Utf8})
    kind = pl.col("FM05").fill_null("1").replace_strict({SUMMARY: SUMMARY, BENJI: BENJI}, default="1")
    key = [pl.col("FM02"), kind, pl.col("FM04").fill_null("")]  # last year's file left in the folder is no duplicate
    dup = w.filter(pl.col("FM02").is_not_null() & (pl.len().over(key) > 1)).join(names, on="file_id")
    dup = dup.sort("file_id").with_columns(pl.col("name").str.join("、").over(key).alias("files"))
    return _cover_rule(dup, "FM02", "duplicate-unit", unit=pl.col("FM02"), files=pl.col("files"))
