"""The result of a rollup: one node's totals, detail, indicators, completeness and issues as DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

DETAIL_KEYS = ["单位代码", "单位名称", "上级代码", "类型", "组织类型"]  # then one column per numeric code
KIND_GRASSROOTS, KIND_BENJI = "基层", "本级"


@dataclass
class Summary:
    """One node's summary.

    cover:        FM01…FM12 as text (FM05 = "0": a summary workbook).
    totals:       code, name, sheet, unit, value (Float64); with `previous`: also previous, change.
    detail:       DETAIL_KEYS then one Float64 column per numeric code: one row per included grassroots unit
                  and per included 本级 workbook anywhere beneath (and of) the node. totals = column sums.
    indicators:   id, name, numerator, denominator, value, unit, note; with previous: previous, change.
    completeness: child, child_name, expected, received, accepted, returned, missing (last row 合计).
    units:        unit, name, child, status, file, reason: every unit expected or received, and what happened.
    issues:       ISSUE_COLUMNS of engine.report: validation issues of the inputs and rollup's own.
    inputs:       file, sha256, unit, kind (基层/本级/汇总), status (采用/退回/未采用), reason.
    """

    unit: str
    name: str
    period: str
    level: str
    cover: dict[str, str]
    totals: pl.DataFrame
    detail: pl.DataFrame
    indicators: pl.DataFrame
    completeness: pl.DataFrame
    units: pl.DataFrame
    issues: pl.DataFrame
    inputs: pl.DataFrame
    has_previous: bool = False
    children: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool((self.issues["severity"] == "错误").any())

    def total(self, code: str) -> float | None:
        row = self.totals.filter(pl.col("code") == code)
        return row["value"][0] if row.height else None

    def rate(self, indicator: str) -> float | None:
        row = self.indicators.filter(pl.col("id") == indicator)
        return row["value"][0] if row.height else None
