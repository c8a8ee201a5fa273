"""The checks of a workbook's cover (封面), each vectorised over every cover of the batch: the report period, the
template version, the unit against the registry, two workbooks of one unit, the deeper code checks and the form's
有效期至."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tongji.checking.schema import PERIOD_RE, parse_date
from tongji.checking.where import Where
from tongji.definitions import Spec
from tongji.definitions.codes import (
    BENJI,
    SUMMARY,
    UNION_PREFIXES,
    area_level_ok_expr,
    area_prefix,
    form_lapse_date,
    org_code_valid_expr,
    uscc_valid_expr,
)
from tongji.definitions.registry import Registry
from tongji.issues.catalog import BUILTIN
from tongji.reading.discover import file_text

SEVERITY = {code: kind.severity for code, kind in BUILTIN.items()}  # of the codes found here


def cover_issues(wide: pl.DataFrame, cells: pl.DataFrame, spec: Spec, period: str | None) -> pl.DataFrame:
    """Each workbook's own cover checks (period, template version, the codes, 有效期至), vectorised over a chunk's
    covers; `cells` are its cells, for where each finding sits."""
    w = wide.select("file_id", "FM02", "FM03", "FM04", "FM05", "FM07", "FM10", "FM12", *_CODES)
    found = [_version_issues(w, cells, spec), *_code_issues(w, spec), _lapsed_issues(w, spec)]
    if period:
        bad = w.filter(pl.col("FM04").str.contains(PERIOD_RE) & (pl.col("FM04") != period))
        found.append(_cover_rule(bad, "FM04", "wrong-period", raw=pl.col("FM04"), period=pl.lit(period)))
    where = cells.select("file_id", "code", "sheet", "ref", "raw").filter(pl.col("sheet") == spec.cover.sheet)
    return _located(pl.concat(found).join(where, on=["file_id", "code"], how="left", maintain_order="left"), spec)


def batch_cover_issues(wide: pl.DataFrame, where: Where, spec: Spec, registry: Registry | None,
                       files: list[Path]) -> pl.DataFrame:
    """The cover checks that need the whole batch: two workbooks of one unit, and each unit against the registry."""
    w = wide.select("file_id", "FM02", "FM03", "FM04", "FM05", "FM07")
    found = [_duplicate_issues(w, files, registry)]
    if registry is not None:
        found.extend(_registry_issues(w, registry, spec))
    return _located(where.join(pl.concat(found)), spec)


def _located(hits: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Cover findings, with the sheet, cell and text of the cover row they are about, as issues."""
    return hits.select(
        "file_id", pl.col("rule").replace_strict(SEVERITY, return_dtype=pl.Utf8).alias("severity"), "rule",
        pl.col("sheet").fill_null(spec.cover.sheet), pl.col("ref").fill_null(""), "code",
        pl.col("raw").alias("value"), "message", "params", pl.lit(None, pl.Float64).alias("diff"),
        pl.when(pl.col("ref").is_not_null()).then(pl.concat_list(pl.col("sheet") + "!" + pl.col("ref")))
        .otherwise(pl.lit([], dtype=pl.List(pl.Utf8))).alias("cells"),
        pl.lit(None, pl.Utf8).alias("explained"),
    )


FOUND = {"file_id": pl.Int32, "code": pl.Utf8, "rule": pl.Utf8, "message": pl.Utf8, "params": pl.Utf8}


def _cover_rule(df: pl.DataFrame, code: str, rule: str, **kw: pl.Expr) -> pl.DataFrame:
    if not df.height:  # most checks find nothing: building their messages would cost a query each
        return pl.DataFrame(schema=FOUND)
    return df.select("file_id", pl.lit(code).alias("code"), pl.lit(rule).alias("rule"), *BUILTIN[rule].columns(**kw))


_CODES = ("FM13", "FM14")  # the union's own 统一社会信用代码 and its host unit's


def _code_issues(w: pl.DataFrame, spec: Spec) -> list[pl.DataFrame]:
    """The deeper checks of domain.md §3, each a warning: a union's code starts 81/89 and is registered in its
    county (positions 3–8 against FM07); positions 9–17 are an organisation code with its own check character;
    FM07's 乡级 digits are of a known type. A code that is no valid 统一社会信用代码 at all is bad-credit-code.
    Every check is one column of one query (its expressions made once per spec); most chunks fail none."""
    names = {r.code: r.name for r in spec.cover.rows}
    first, then = spec.derive(_code_flags)
    flags = w.with_columns(first).select(then)
    if not flags.select(pl.any_horizontal(pl.all()).any()).item():
        return []
    area = pl.col("FM07").fill_null("")
    out = [
        _cover_rule(w.filter(flags["credit-not-union"]), "FM13", "credit-not-union", raw=pl.col("FM13")),
        _cover_rule(w.filter(flags["credit-area"]), "FM13", "credit-area", raw=pl.col("FM13"),
                    area=pl.col("FM13").str.slice(2, 6), county=area.str.slice(0, 6)),
        _cover_rule(w.filter(flags["area-level"]), "FM07", "area-level", raw=pl.col("FM07")),
    ]
    for code in _CODES:
        out.append(_cover_rule(w.filter(flags[f"credit-org-code {code}"]), code, "credit-org-code",
                               name=pl.lit(names[code]), raw=pl.col(code)))
    return out


def _code_flags(spec: Spec) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Where each check of _code_issues fails (never null), as one column each: the codes' own checks first, each
    made once (polars would compute an expression again wherever it is used)."""
    codes = [pl.col(c).fill_null("") for c in _CODES]
    first = [uscc_valid_expr(c).alias(f"_valid {name}") for c, name in zip(codes, _CODES, strict=True)]
    first += [org_code_valid_expr(c).alias(f"_org {name}") for c, name in zip(codes, _CODES, strict=True)]
    area = pl.col("FM07").fill_null("")
    elsewhere = area.str.contains(r"^[0-9]{12}$") & (pl.col("FM13").str.slice(2, 6) != area.str.slice(0, 6))
    valid = pl.col("_valid FM13")
    flags = {
        "credit-not-union": valid & ~pl.col("FM13").str.slice(0, 2).is_in(UNION_PREFIXES),
        "credit-area": valid & elsewhere,
        "area-level": ~area_level_ok_expr(area),
    } | {f"credit-org-code {c}": pl.col(f"_valid {c}") & ~pl.col(f"_org {c}") for c in _CODES}
    return first, [expr.fill_null(False).alias(name) for name, expr in flags.items()]


def _lapsed_issues(w: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """报出日期 after the form mark's 有效期至: the form was no longer approved (filed) when it was filled. A
    workbook of an older template version is judged by the mark its own form printed (its concordance's)."""
    current = spec.marks.get("有效期至", "")
    marks = {v: (c.marks or spec.marks).get("有效期至", "") for v, c in spec.versions.items()}
    text = pl.col("FM12").fill_null("").str.strip_chars().replace_strict(marks, default=current,
                                                                         return_dtype=pl.Utf8)
    days = {t: day for t in {current, *marks.values()} if (day := form_lapse_date(t)) is not None}
    until = text.replace_strict(days, default=None, return_dtype=pl.Date) if days else pl.lit(None, pl.Date)
    late = parse_date(pl.col("FM10")) > until
    return _cover_rule(w.filter(late.fill_null(False)), "FM10", "form-lapsed", raw=pl.col("FM10"), until=text)


def _version_issues(w: pl.DataFrame, cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """FM12 an older version known by its concordance: read through it, and said (a notice). FM12 neither current
    nor known: reported as today. A cover without the row already has its missing-row error."""
    has_row = cells.filter(pl.col("code") == "FM12").select("file_id")
    version = pl.col("FM12").fill_null("").str.strip_chars()
    bad = w.join(has_row, on="file_id").filter(~version.is_in(spec.accepted_versions))
    known = version.is_in(list(spec.versions))
    old = _older(version, spec.version) & ~known
    titles = {v: c.title or v for v, c in spec.versions.items()}
    return pl.concat([
        _cover_rule(bad.filter(known), "FM12", "old-version-read", raw=version, current=pl.lit(spec.version),
                    title=version.replace_strict(titles, default="", return_dtype=pl.Utf8)),
        _cover_rule(bad.filter(old), "FM12", "old-version", raw=pl.col("FM12"), current=pl.lit(spec.version)),
        _cover_rule(bad.filter(~old.fill_null(False) & ~known), "FM12", "unknown-version", raw=pl.col("FM12")),
    ])


def _older(version: pl.Expr, current: str) -> pl.Expr:
    """A version `year.number` before `current`, compared as (year, number): as text, 2027.10 came before 2027.2."""
    def parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        found = text.str.extract_groups(r"^([0-9]{4})\.([0-9]+)$")
        return (found.struct.field(name).cast(pl.Int64, strict=False) for name in ("1", "2"))

    (year, number), (now_year, now_number) = parts(version), parts(pl.lit(current))
    return (year < now_year) | ((year == now_year) & (number < now_number))


def _registered_type(spec: Spec) -> pl.Expr:
    """The registry's 组织类型 of a grassroots unit as a code (1, 2 or 3; a label such as 联合基层工会 read as its
    code, as the template does), null when blank or anything else: then there is nothing to compare."""
    types = {c: n for c, n in spec.enums.get("组织类型", {}).items() if c not in (SUMMARY, BENJI)}
    text = pl.col("组织类型").str.strip_chars().str.split(" ").list.first()
    code = text.replace({n: c for c, n in types.items()})
    return pl.when(code.is_in(list(types))).then(code)


def _registry_issues(w: pl.DataFrame, registry: Registry, spec: Spec) -> list[pl.DataFrame]:
    reg = registry.frame.select(pl.col("单位代码").alias("FM02"), pl.col("上级代码").alias("parent"),
                                pl.col("状态").alias("state"), (pl.col("层级") == registry.levels[-1]).alias("leaf"),
                                _registered_type(spec).alias("registered"))
    df = w.filter(pl.col("FM02").is_not_null()).join(reg, on="FM02", how="left")
    # the areas of the parents this batch names, not of the whole registry (100,000 units: 0.1 s a batch)
    areas = registry.frame.select(pl.col("单位代码").alias("parent"), pl.col("所在地区划代码").alias("parent_area"))
    areas = areas.join(df.select("parent").unique(), on="parent", how="semi").with_columns(
        pl.col("parent_area").map_elements(area_prefix, return_dtype=pl.Utf8).alias("parent_prefix"))
    df = df.join(areas, on="parent", how="left")
    known, office = pl.col("parent").is_not_null(), pl.col("FM05").is_in([SUMMARY, BENJI])
    outside = known & (pl.col("parent_prefix") != "") & ~pl.col("FM07").str.starts_with(pl.col("parent_prefix"))
    return [
        _cover_rule(df.filter(~known), "FM02", "unknown-unit", unit=pl.col("FM02")),
        _cover_rule(df.filter(pl.col("state") == "撤销"), "FM02", "revoked-unit", unit=pl.col("FM02")),
        _cover_rule(df.filter(known & (pl.col("FM03").fill_null("") != pl.col("parent"))), "FM03", "wrong-parent",
                    raw=pl.col("FM03"), parent=pl.col("parent")),  # blank ones read （空）: see the catalog
        _cover_rule(df.filter(outside.fill_null(False)), "FM07", "area-outside-parent",
                    raw=pl.col("FM07"), parent=pl.col("parent_area")),
        # a 本级 workbook of a grassroots union, or a grassroots one of a 街道: no node would ever take it
        _cover_rule(df.filter(pl.col("leaf") & office), "FM05", "type-not-grassroots", raw=pl.col("FM05")),
        _cover_rule(df.filter(~pl.col("leaf") & ~office & pl.col("FM05").is_not_null()), "FM05", "type-not-office",
                    raw=pl.col("FM05")),
        # 单独 or 联合 decides the 分组 a union is counted in and whether it may answer 是/否 for its units: the
        # registry prefills it, so a cover that differs was changed by hand, or the registry is out of date
        _cover_rule(df.filter(pl.col("FM05").is_in(list(spec.enums.get("组织类型", {}))) & ~office
                              & (pl.col("FM05") != pl.col("registered")).fill_null(False)),
                    "FM05", "type-differs", raw=pl.col("FM05"), registered=pl.col("registered")),
    ]


def _duplicate_issues(w: pl.DataFrame, files: list[Path], registry: Registry | None) -> pl.DataFrame:
    """Two workbooks of one kind for one unit and period: both are returned, each naming all the files.

    A 街道's summary and its own 本级 workbook share a unit code but are different submissions. A registry unit's
    kind is its place there, as rollup takes it: a grassroots union's workbooks marked 1 and 9 are two of one kind."""
    names = pl.DataFrame({"file_id": range(len(files)), "name": [file_text(f.name) for f in files],
                          "path": [file_text(str(f)) for f in files]},
                         schema={"file_id": pl.Int32, "name": pl.Utf8, "path": pl.Utf8})
    kind = pl.col("FM05").fill_null("1").replace_strict({SUMMARY: SUMMARY, BENJI: BENJI}, default="1")
    if registry is not None:
        leaf, known = (pl.col("FM02").is_in(codes.implode()) for codes in (registry.grassroots(),
                                                                             registry.frame["单位代码"]))
        kind = pl.when(leaf).then(pl.lit("1")).when(known & (kind != SUMMARY)).then(pl.lit(BENJI)).otherwise(kind)
    key = [pl.col("FM02"), kind, pl.col("FM04").fill_null("")]  # last year's file left in the folder is no duplicate
    dup = w.filter(pl.col("FM02").is_not_null() & (pl.len().over(key) > 1)).join(names, on="file_id")
    # one file name sent to two 街道 (a.xlsx and a.xlsx) says nothing of which: those are named by their paths
    dup = dup.with_columns(pl.when(pl.len().over([*key, "name"]) > 1).then("path").otherwise("name").alias("name"))
    dup = dup.sort("file_id").with_columns(pl.col("name").str.join("、").over(key).alias("files"),
                                           pl.col("name").str.join(", ").over(key).alias("files_en"))
    return _cover_rule(dup, "FM02", "duplicate-unit", unit=pl.col("FM02"), files=pl.col("files"),
                       files_en=pl.col("files_en"))
