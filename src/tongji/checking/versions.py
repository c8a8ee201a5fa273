"""Workbooks of an older template version, read through its concordance (domain.md §11), vectorised over the wide
table: the lines their form lacked read as 0 (not as missing), their enumeration codes become the current ones,
and the rows that were 是/否 of the union itself are not asked how many units they cover.

The reader has already put each old code's value under its current code, at its own cell
(reading/workbooks.py); what is left is what no cell holds."""

from __future__ import annotations

import polars as pl

from tongji.definitions import Spec

VERSION = "FM12"


def read_through(wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """The wide table with every old-version workbook's added lines at 0 and its enumeration codes mapped."""
    if not spec.versions:
        return wide
    numeric = {r.code for r in spec.numeric_rows()}
    version = pl.col(VERSION).fill_null("").str.strip_chars()
    changes: dict[str, pl.Expr] = {}
    for name, old in spec.versions.items():
        here = version == name
        for code in old.read_as_zero():
            if code in numeric:
                changes[code] = pl.when(here).then(pl.col(code).fill_null(0.0)).otherwise(changes.get(code, code))
        for row in spec.cover.rows:
            mapping = old.enums.get(row.enum)
            if mapping:
                mapped = pl.col(row.code).replace(mapping)
                changes[row.code] = pl.when(here).then(mapped).otherwise(changes.get(row.code, row.code))
    return wide.with_columns([expr.alias(code) for code, expr in changes.items()]) if changes else wide


def _pairs(wide: pl.DataFrame, spec: Spec, codes_of) -> pl.DataFrame:
    """(file_id, code) for every old-version workbook and each code `codes_of(concordance)` names."""
    parts = [
        wide.filter(pl.col(VERSION).fill_null("").str.strip_chars() == name).select(
            "file_id", pl.lit(list(codes_of(old)), dtype=pl.List(pl.Utf8)).alias("code")).explode("code")
        for name, old in spec.versions.items() if codes_of(old)
    ]
    schema = {"file_id": pl.Int32, "code": pl.Utf8}
    return pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)


def not_on_form(wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """(file_id, code) of the lines an old-version workbook's form did not have: never a missing row."""
    return _pairs(wide, spec, lambda old: old.read_as_zero())


def old_flags(wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """(file_id, code) of the rows an old-version workbook answered 是/否 for the union itself (JH03–JH10 of
    2026.1): 是 reads 1 however many units it covers, since its form could not say how many."""
    return _pairs(wide, spec, lambda old: old.flags)
