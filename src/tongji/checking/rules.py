"""Evaluate the declarative rules (schemas/rules.toml) on the wide table, all workbooks at once."""

from __future__ import annotations

import math

import polars as pl

from tongji.definitions import Rule, Spec
from tongji.definitions.expr import previous_column, to_polars
from tongji.issues.issue_type import placeholders

_EPS = 1e-9


def _tolerance(rule: Rule, spec: Spec) -> float:
    """0.01 元 per term where amounts take part; counts compare exactly."""
    if any(spec.rows[c].kind == "amount" for c in rule.check.codes):
        return 0.01 * rule.check.terms() + _EPS
    return _EPS


def _fails(rule: Rule, spec: Spec, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    diff, tol = left - right, _tolerance(rule, spec)
    ok = {
        "<=": diff <= tol, ">=": diff >= -tol, "<": diff < 0, ">": diff > 0, "=": diff.abs() <= tol,
        "≈": diff.abs() <= right.abs() * rule.tolerance + tol,
    }[rule.check.cmp]
    return ~ok


def within_summed(found: pl.DataFrame, spec: Spec, summed: pl.Expr) -> pl.DataFrame:
    """`found` (rows with a rule id and its diff) without the findings on a summary that its units' own rounding
    explains. A summary's total adds up `summed` workbooks (its 明细 rows), each allowed 0.01 元 per term and
    accepted with it: their imbalances add up too, so the summary is allowed as many times one workbook's
    tolerance. Other issues, and rules compared without a tolerance, are kept."""
    rules = [r for r in spec.rules if r.check.cmp in ("=", "<=", ">=")]
    if not rules or not found.height:
        return found
    rule = pl.col("rule")
    tol = rule.replace_strict({r.id: _tolerance(r, spec) for r in rules}, default=None, return_dtype=pl.Float64)
    cmp = rule.replace_strict({r.id: r.check.cmp for r in rules}, default=None, return_dtype=pl.Utf8)
    tol, diff = tol * summed, pl.col("diff")
    within = pl.when(cmp == "=").then(diff.abs() <= tol).when(cmp == "<=").then(diff <= tol).when(
        cmp == ">=").then(diff >= -tol)
    return found.filter(~within.fill_null(False))


FAILS = {"pos": pl.Int64, "rule": pl.Utf8, "left": pl.Float64, "right": pl.Float64, "diff": pl.Float64}


def evaluate(wide: pl.DataFrame, spec: Spec, scopes: dict[str, pl.Expr], cross_period: bool = False,
             span: str | None = None) -> pl.DataFrame:
    """One row per (workbook, failed rule): pos, rule, left, right, diff.

    `scopes` maps 基层, 本级 and 汇总 to the rows of `wide` that are such workbooks; 全部 applies to all.
    The rules of one workbook by default; with `cross_period`, the rules reading prev() instead, on a frame that
    also has last period's values (columns prev_JF21, ...), whose `span` (codes.period_span) leaves out the rules
    made for another last period. Every rule is tried in one query; the sides are computed only for the rules
    some row fails (a query has a fixed cost, and most batches fail few rules)."""
    rules = [r for r in spec.derive(_compiled) if r[0].cross_period == cross_period
             and (span is None or r[0].previous in ("任意", span))]
    masks = wide.select([(fails & scopes[rule.scope] if rule.scope in scopes else fails).fill_null(False).alias(
        str(i)) for i, (rule, _, _, fails) in enumerate(rules)]) if rules else pl.DataFrame()
    rows = wide.with_row_index("pos")
    frames = [rows.filter(masks.get_column(str(i))).select(
        pl.col("pos").cast(pl.Int64), pl.lit(rule.id).alias("rule"), left.alias("left"), right.alias("right"),
        (left - right).alias("diff"))
        for i, (rule, left, right, _) in enumerate(rules) if masks.get_column(str(i)).any()]
    return pl.concat(frames) if frames else pl.DataFrame(schema=FAILS)


def _compiled(spec: Spec) -> list[tuple[Rule, pl.Expr, pl.Expr, pl.Expr]]:
    """Each rule with its sides and where it fails (before its scope), as polars expressions: made once per spec."""
    out = []
    for rule in spec.rules:
        left = to_polars(rule.check.left, spec.params)
        right = to_polars(rule.check.right, spec.params)
        fails = _fails(rule, spec, left, right)
        if rule.when is not None:
            fails = fails & _holds(rule.when, spec)
        out.append((rule, left, right, fails))
    return out


def _holds(expr, spec: Spec) -> pl.Expr:
    left, right = to_polars(expr.left, spec.params), to_polars(expr.right, spec.params)
    diff = left - right
    return {"<=": diff <= 0, ">=": diff >= 0, "<": diff < 0, ">": diff > 0, "=": diff == 0,
            "≈": diff.abs() < _EPS}[expr.cmp]


def fmt_number(v: float | None) -> str:
    if v is None:
        return "空"
    if not math.isfinite(v):  # never in a value we accept, but a message must not be what crashes
        return str(v)
    if abs(v - round(v)) < 1e-9:
        return f"{int(round(v))}"
    return f"{v:.2f}"


def imbalance(diff: float | None) -> float | None:
    """A rule's left − right as its message gives it, to the cent: 8625.96 − 8525.96 is 99.99999999999636 in
    floating point, and the issue list's 差额 column showed that beside a message saying 差额 100."""
    return None if diff is None else round(diff, 2)


def rule_params(rule: Rule, values: dict[str, float | None], left: float, right: float,
                diff: float) -> dict[str, str]:
    """The params of a failed rule's issue: the sides and every indicator its messages quote, as written there
    (the catalog's rule_type declares the same names); a placeholder that is neither stays as written."""
    extra = {"左边": left, "右边": right, "差额": diff, "left": left, "right": right, "diff": diff}
    out = {}
    for key in dict.fromkeys(placeholders(rule.message) + placeholders(rule.message_en)):
        last = previous_column(key.removeprefix("上期")) if key.startswith("上期") else None
        if key in extra:
            out[key] = fmt_number(extra[key])
        elif key in values:
            out[key] = fmt_number(values.get(key))
        elif last in values:
            out[key] = fmt_number(values.get(last))
    return out
