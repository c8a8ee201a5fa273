"""完整性: for each child of a node, the units expected, received, accepted, returned and missing."""

from __future__ import annotations

import polars as pl

from tongji.definitions.registry import Registry
from tongji.i18n import MESSAGE_LANG, params_json, render

ACCEPTED, RETURNED, UNUSED = "采用", "退回", "未采用"
# every unit expected or received, and what happened to it (Summary.units): `reason` is the text in MESSAGE_LANG;
# `reason_code` (a key of i18n.MESSAGES) and `reason_params` render it in the reader's language when written
UNIT_SCHEMA = {"unit": pl.Utf8, "name": pl.Utf8, "child": pl.Utf8, "status": pl.Utf8, "file": pl.Utf8,
               "reason": pl.Utf8, "reason_code": pl.Utf8, "reason_params": pl.Utf8}


def unit_row(unit: str, name: str, child: str, status: str, file: str, reason: str, **params: object) -> dict:
    """One unit's fate (UNIT_SCHEMA); `reason` is a key of i18n.MESSAGES ("" for none) and `params` its parameters."""
    return {"unit": unit, "name": name, "child": child, "status": status, "file": file,
            "reason": render(reason, MESSAGE_LANG, params) if reason else "", "reason_code": reason,
            "reason_params": params_json(**params)}


def completeness_frame(node: str, units: pl.DataFrame, registry: Registry) -> pl.DataFrame:
    """Expected (registry) vs received vs accepted vs returned vs missing, per child and overall.

    A unit with one accepted and one returned workbook counts once, as accepted. One lazy query over all
    units: a 街道 with thousands of units must not cost thousands of filters, and every node runs it."""
    below = registry.children(node)
    children = [*below, node]
    kids = pl.LazyFrame({
        "child": children,
        "child_name": [*registry.names(below), registry.get(node)["单位名称"] + "（本级）"],
        "expected": [*registry.sizes(below), 1],
    }, schema={"child": pl.Utf8, "child_name": pl.Utf8, "expected": pl.Int64})
    flags = [(pl.col("status") == ACCEPTED).any().alias("acc"), (pl.col("status") == RETURNED).any().alias("ret"),
             (pl.col("status") == "缺报").any().alias("mis")]
    # a grassroots child is one unit: its flags are the child's; a 区's units are grouped first
    per_unit = units.lazy().group_by("child", *([] if registry.is_leaf(children[0]) else ["unit"])).agg(flags)
    counts = per_unit.group_by("child").agg(
        pl.col("acc").sum().alias("accepted"), (pl.col("ret") & ~pl.col("acc")).sum().alias("returned"),
        pl.col("mis").sum().alias("missing"))
    n = ["accepted", "returned", "missing"]
    df = kids.join(counts, on="child", how="left", maintain_order="left").with_columns(
        pl.col(n).fill_null(0).cast(pl.Int64)).select(
        "child", "child_name", "expected", (pl.col("accepted") + pl.col("returned")).alias("received"), *n)
    total = df.select(pl.lit("合计").alias("child"), pl.lit("").alias("child_name"),
                      *[pl.col(c).sum() for c in ("expected", "received", "accepted", "returned", "missing")])
    return pl.concat([df, total]).collect()
