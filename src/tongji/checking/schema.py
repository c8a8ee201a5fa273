"""The pandera schema of one workbook, built from the forms in `schemas/` (never written by hand).

It is applied once to the wide table: one row per workbook, one column per indicator code.
Each check's `error` is the issue code it reports as (issues/catalog.py); a failure that maps to no issue type
is a fault of this module, raised, never dropped. pandera (and numpy with it, a fifth of a second to import) is
imported only when the quick screen leaves rows for it: a batch of clean workbooks never needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from tongji.definitions import Row, Spec
from tongji.definitions.codes import DIVISION_SECTION, uscc_valid_expr
from tongji.issues.catalog import BUILTIN

if TYPE_CHECKING:
    import pandera.polars as pa

PERIOD_RE = r"^[0-9]{4}(Q[1-4]|-(0[1-9]|1[0-2]))?$"


def _expr_check(make_expr, error: str) -> pa.Check:
    """A vectorised check: `make_expr(col)` is True where the value is acceptable (nulls pass)."""
    import pandera.polars as pa

    def check(data):
        col = pl.col(data.key)
        return data.lazyframe.select(make_expr(col) | col.is_null())

    return pa.Check(check, error=error)


# 国民经济行业分类: the 门类 letter (C), a deeper code with or without it (C13, C131, 1311), a name may follow
INDUSTRY_RE = r"^(?:[A-T]|[A-T]?[0-9]{2,4})(?:\s.*)?$"


def _industry_ok(col: pl.Expr) -> pl.Expr:
    """A 门类 letter, or a code whose 大类 (its first two digits) exists and belongs to the letter given: A13 and
    99 are no industry (13 is 制造业, C; there is no 大类 99)."""
    division = col.str.extract(r"^[A-T]?([0-9]{2})", 1)
    letter = col.str.extract(r"^([A-T])[0-9]", 1)
    section = division.replace_strict(DIVISION_SECTION, default=None, return_dtype=pl.Utf8)
    known = division.is_null() | (section.is_not_null() & (letter.is_null() | (letter == section)).fill_null(False))
    return col.str.contains(INDUSTRY_RE) & known


def _uscc_ok(col: pl.Expr) -> pl.Expr:
    """An 18-character code is a 统一社会信用代码 and must be valid; shorter ones are registry codes."""
    return (col.str.len_chars() != 18) | uscc_valid_expr(col)


def _two_decimals(col: pl.Expr) -> pl.Expr:
    """Whole cents, allowing the float noise of large amounts (299840834.72 reads as …834.720000029)."""
    cents = col * 100
    return (cents.round(0) - cents).abs() <= pl.max_horizontal(pl.lit(1e-6), cents.abs() * 1e-12)


def parse_date(col: pl.Expr) -> pl.Expr:
    text = (
        col.str.replace_all(r"[年月./]", "-").str.replace("日", "").str.replace(r"[ T].*$", "")
        .str.replace(r"^([0-9]{4})([0-9]{2})([0-9]{2})$", "$1-$2-$3")
    )
    day = text.str.to_date("%Y-%m-%d", strict=False)
    # %Y reads 26-1-25 as the year 26: a 报出日期 has its four-digit year, and one a report can bear
    plausible = text.str.contains(r"^[0-9]{4}-") & day.dt.year().is_between(1949, 2100)
    return pl.when(plausible).then(day)


Rule = tuple[Callable[[pl.Expr], pl.Expr], str]  # (True where a value is acceptable, the issue code it fails as)


def _rules(row: Row, spec: Spec) -> tuple[type[pl.DataType], bool, list[Rule]]:
    """What one cell must be: its type, whether it may be empty, and its checks. Both the pandera schema and the
    quick screen below are made from this, so they cannot disagree."""
    if row.kind in ("count", "amount", "flag"):
        checks: list[Rule] = []
        if not row.signed:
            checks.append((lambda c: c >= 0, "negative"))
        if row.kind == "count":
            checks.append((lambda c: c.round(0) == c, "not-whole"))
        if row.kind == "amount":
            checks.append((_two_decimals, "too-many-decimals"))
        return pl.Float64, True, checks
    allowed = sorted(spec.enums.get(row.enum, {})) if row.kind == "enum" else []
    checks = {
        "enum": [(lambda c: c.is_in(allowed), "bad-enum")],
        "unitcode": [(_uscc_ok, "bad-uscc")],
        "uscc": [(uscc_valid_expr, "bad-credit-code")],
        "industry": [(_industry_ok, "bad-industry")],
        "period": [(lambda c: c.str.contains(PERIOD_RE), "bad-period")],
        "date": [(lambda c: parse_date(c).is_not_null(), "bad-date")],
        "area": [(lambda c: c.str.contains(r"^[0-9]{12}$"), "bad-area")],
    }.get(row.kind, [])
    return pl.Utf8, not row.required, checks


def _all_rules(spec: Spec) -> dict[str, tuple[type[pl.DataType], bool, list[Rule]]]:
    return {r.code: _rules(r, spec) for f in spec.forms for r in f.rows}


def workbook_schema(spec: Spec) -> pa.DataFrameSchema:
    """The pandera schema of one workbook's wide row (made once per spec)."""
    return spec.derive(_workbook_schema)


def _workbook_schema(spec: Spec) -> pa.DataFrameSchema:
    import pandera.polars as pa

    columns = {code: pa.Column(dtype, checks=[_expr_check(make, error) for make, error in checks],
                               nullable=nullable, required=False)
               for code, (dtype, nullable, checks) in spec.derive(_all_rules).items()}
    return pa.DataFrameSchema(columns, name="工会统计报表")


def _suspect(wide: pl.DataFrame, spec: Spec) -> pl.Series | None:
    """Which rows some check of the schema might fail, in one polars query (a pandera call costs a fixed 0.2 s
    here, whatever the rows: an upload checked alone paid it all). None when a column's type is not the
    schema's: pandera then looks at everything, as before."""
    rules = spec.derive(_all_rules)
    present = [code for code in rules if code in wide.columns]
    schema = wide.schema  # made afresh at each access
    if any(schema[code] != rules[code][0] for code in present):
        return None
    # the wide table has every column (validate adds the missing ones): its query is made once per spec
    where = spec.derive(_screen) if len(present) == len(rules) else _screen(spec, present)
    return wide.select(where).to_series() if where is not None else pl.Series([False] * wide.height)


def _screen(spec: Spec, codes: list[str] | None = None) -> pl.Expr | None:
    """True where a row may fail a check of the columns `codes` (all of them by default)."""
    ok = []
    for code, (_, nullable, checks) in spec.derive(_all_rules).items():
        if codes is not None and code not in codes:
            continue
        col = pl.col(code)
        ok += [(make(col) | col.is_null()).fill_null(False) for make, _ in checks]
        ok += [] if nullable else [col.is_not_null()]
    return ~pl.all_horizontal(ok) if ok else None


class UnmappedCheck(RuntimeError):
    """A pandera failure no issue type reports (a check without an issue code, a failure of a whole column): a
    bug in the schema. The CLI reports it as an internal error (exit 3) rather than let a problem go unsaid."""


def schema_failures(wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Run the schema once on the rows that may fail it; return (pos, code, rule) for every failing cell. `pos` is
    the row in `wide`. Rows every check passes are not given to pandera: it would find nothing in them."""
    suspect = _suspect(wide, spec)
    rows = pl.Series(range(wide.height), dtype=pl.Int64) if suspect is None else (
        pl.Series(range(wide.height), dtype=pl.Int64).filter(suspect))
    if not rows.len():
        return pl.DataFrame(schema={"pos": pl.Int64, "code": pl.Utf8, "rule": pl.Utf8})
    fails = _pandera_failures(wide if suspect is None else wide.filter(suspect), spec)
    return fails.with_columns(pl.col("pos").replace_strict(range(rows.len()), rows, return_dtype=pl.Int64))


def _pandera_failures(wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    import pandera.polars as pa

    try:
        workbook_schema(spec).validate(wide, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fails = exc.failure_cases.select(
            pl.col("index").cast(pl.Int64).alias("pos"),
            pl.col("column").cast(pl.Utf8).alias("code"),
            pl.col("check").cast(pl.Utf8).replace({"not_nullable": "required"}).alias("rule"),
        )
        unmapped = fails.filter(pl.col("pos").is_null() | ~pl.col("rule").is_in(list(BUILTIN)))
        if unmapped.height:
            what = unmapped.row(0, named=True)
            raise UnmappedCheck(f"pandera check {what['rule']!r} on column {what['code']!r} maps to no issue type"
                                f" ({unmapped.height} failure(s))") from None
        return fails
    return pl.DataFrame(schema={"pos": pl.Int64, "code": pl.Utf8, "rule": pl.Utf8})
