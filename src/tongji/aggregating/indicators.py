"""Rates (入会率 and every other derived indicator): from the summed numerator and denominator at every level,
never averaged from children; no value, and a note, where the denominator is 0."""

from __future__ import annotations

import polars as pl

from tongji.aggregating.summary import column_sums
from tongji.definitions import Spec
from tongji.definitions.expr import to_polars
from tongji.i18n import MESSAGE_LANG, params_json, render


def totals_frame(detail: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    sums = column_sums(detail, spec)
    rows = [r for r in spec.numeric_rows()]
    return pl.DataFrame({
        "code": [r.code for r in rows], "name": [r.name for r in rows], "sheet": [r.sheet for r in rows],
        "unit": [r.unit for r in rows], "value": [sums[r.code] for r in rows],
    }, schema={"code": pl.Utf8, "name": pl.Utf8, "sheet": pl.Utf8, "unit": pl.Utf8, "value": pl.Float64})


def indicators_frame(totals: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Every rate from the summed numerator and denominator; no value (and a note) when the denominator is 0.
    The note is in MESSAGE_LANG, with its key and parameters (`note_code`, `note_params`) to write it in another."""
    wide = totals.select("code", pl.col("value").cast(pl.Float64)).transpose(column_names="code")
    terms = indicator_terms(spec)
    values = wide.select(terms).row(0, named=True) if terms else {}
    rows = []
    for i, ind in enumerate(spec.indicators):
        num, den = values[f"n{i}"], values[f"d{i}"]  # None: the formula divides by 0 somewhere inside
        value = None if not den or num is None else num / den
        code, params = ("", {}) if value is not None else (
            ("zero-denominator", {"formula": ind.denominator.text}) if den == 0 else
            ("divides-by-zero", {"formula": (ind.numerator if num is None else ind.denominator).text}))
        rows.append({"id": ind.id, "name": ind.name, "numerator": num, "denominator": den, "value": value,
                     "unit": ind.unit, "note": render(code, MESSAGE_LANG, params) if code else "",
                     "note_code": code, "note_params": params_json(**params)})
    return pl.DataFrame(rows, schema={"id": pl.Utf8, "name": pl.Utf8, "numerator": pl.Float64,
                                      "denominator": pl.Float64, "value": pl.Float64, "unit": pl.Utf8, "note": pl.Utf8,
                                      "note_code": pl.Utf8, "note_params": pl.Utf8})


def indicator_terms(spec: Spec) -> list[pl.Expr]:
    """Every indicator's numerator and denominator as polars expressions, for one select over the totals: made
    once per spec, as rollup asks for them at every node."""
    return spec.derive(_terms)


def _terms(spec: Spec) -> list[pl.Expr]:
    terms = []
    for i, ind in enumerate(spec.indicators):
        terms += [to_polars(ind.numerator.left, {}).alias(f"n{i}"), to_polars(ind.denominator.left, {}).alias(f"d{i}")]
    return terms
