"""The checks of one chunk of workbooks, run where the chunk was read (a worker process, a Dask worker, or this
process): the stacked table of its cells is read, checked and reduced to what the batch needs. What a chunk
gives back is one row per workbook (the wide table), its issues, its 说明 notes, its cover as typed and where its
cells are (checking/where.py); the cells themselves never leave it. The checks that need the whole batch run
after, in checking/validate.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl

from tongji.checking.cover import cover_issues
from tongji.checking.rules import evaluate, fmt_number, imbalance, rule_params
from tongji.checking.schema import schema_failures
from tongji.checking.versions import not_on_form, old_flags, read_through
from tongji.checking.where import chunk_layout, cover_otherwise, typed_otherwise
from tongji.definitions import Spec
from tongji.definitions.codes import BENJI, SUMMARY, canonical_version_expr, industry_with_section
from tongji.definitions.forms import BENJI_HINT
from tongji.i18n import MESSAGE_LANG
from tongji.issues.catalog import BUILTIN, Catalog
from tongji.issues.issue_type import IssueType
from tongji.reading.values import YES, clean_text, limits, parse_values
from tongji.reading.workbooks import Stack, died, read_chunk

COVERED = "JH01"  # 覆盖单位数: what a count of covered units (a row with yes_no) is out of
ISSUE_FRAME = {  # the issue frame before file and unit columns are joined on
    "file_id": pl.Int32, "severity": pl.Utf8, "rule": pl.Utf8, "sheet": pl.Utf8, "ref": pl.Utf8,
    "code": pl.Utf8, "value": pl.Utf8, "message": pl.Utf8, "params": pl.Utf8, "diff": pl.Float64,
    "cells": pl.List(pl.Utf8), "explained": pl.Utf8,
}


def check_chunk(start: int, files: list[Path], spec: Spec, period: str | None,
                tick: Callable[[], None] | None = None) -> dict:
    """Read and check the workbooks `files`, numbered from `start`: hundreds at a time, one pandera call."""
    return checked(Stack(files=files, **read_chunk(start, files, spec, tick)), start, spec, period)


def died_checked(file_id: int, path: Path, spec: Spec, period: str | None) -> dict:
    """The chunk of one file whose reading process died: it is unreadable, and said so."""
    return checked(Stack(files=[path], **died(file_id)), file_id, spec, period)


def read_values(files: list[Path], spec: Spec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The workbooks' table of values as the checks see it (one row per readable workbook; an older template
    version read through its concordance) and their cells, parsed, without checking them."""
    _, cells, _, wide = _values(Stack(files=files, **read_chunk(0, files, spec)), 0, spec)
    return wide, cells


def _values(stack: Stack, start: int, spec: Spec) -> tuple[pl.DataFrame, pl.DataFrame, list[int], pl.DataFrame]:
    """The reading problems, the parsed cells, the readable workbooks and their wide table."""
    is_summary = pl.col("raw").str.strip_chars().str.starts_with(SUMMARY)
    summaries = stack.cells.filter((pl.col("code") == "FM05") & is_summary)
    summary = pl.col("file_id").is_in(summaries["file_id"].implode())
    cells = parse_values(stack.cells.with_columns(summary.alias("summary")), spec).with_columns(
        (pl.col("col") + pl.col("row").cast(pl.Utf8)).alias("ref")).drop("col", "row", "summary")
    reading = _reading_problems(stack, cells)
    cells = _without_unreadable(cells, reading)
    readable = [start + i for i, ok in enumerate(stack.readable) if ok]
    wide = read_through(_wide(cells, spec, readable), spec)  # an older template version: domain.md §11
    return reading, cells, readable, wide


def checked(stack: Stack, start: int, spec: Spec, period: str | None) -> dict:
    """Every check of one workbook on its own, over the stacked cells of a chunk at once."""
    reading, cells, readable, wide = _values(stack, start, spec)
    kind = pl.col("FM05").fill_null("1")
    scopes = {"基层": ~kind.is_in([SUMMARY, BENJI]), "本级": kind == BENJI, "汇总": kind == SUMMARY}
    parts = [
        reading,
        _parse_issues(cells, spec),
        _schema_issues(wide, cells, spec),
        _benji_issues(cells, wide, spec),
        _yes_for_several_units(cells, wide, spec),
        _rule_issues(wide, cells, spec, scopes),
        _missing_rows(stack, readable, cells, spec, not_on_form(wide, spec)),
        cover_issues(wide, cells, spec, period),
    ]
    cover = [r.code for r in spec.cover.rows]
    return {
        "wide": wide, "issues": pl.concat([p.select(list(ISSUE_FRAME)) for p in parts]),
        "notes": _notes(cells, spec),
        "cover": cover_otherwise(cells, wide, cover),
        "typed": typed_otherwise(cells, [r.code for r in spec.numeric_rows()]),
        **chunk_layout(cells, spec, start, readable), "readable": stack.readable, "hashes": stack.hashes,
    }


def issue_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ISSUE_FRAME) if rows else pl.DataFrame(schema=ISSUE_FRAME)


def code_names(spec: Spec) -> pl.DataFrame:
    return pl.DataFrame({"code": list(spec.rows), "name": [r.name for r in spec.rows.values()]})


def _notes(cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Every 说明 written beside a value (not the template's own hint): rollup carries a unit's explanations up
    with its 明细."""
    note = pl.col("note").cast(pl.Utf8).str.strip_chars().fill_null("")
    numeric = pl.col("code").is_in([r.code for r in spec.numeric_rows()])
    return cells.filter(numeric & ~note.is_in(["", BENJI_HINT])).select("file_id", "code", note.alias("note"))


# --- the wide table: one row per readable workbook, one column per code -----------------------

def _wide(cells: pl.DataFrame, spec: Spec, readable: list[int]) -> pl.DataFrame:
    """The cover (text) and the value cells (numbers) pivoted apart, each with its columns picked before its rows.
    A chunk holds at most a few hundred workbooks, so the value cells of all forms go in one pivot."""
    numeric_codes = [r.code for r in spec.numeric_rows()]
    cover_codes = [r.code for r in spec.cover.rows]
    out = pl.DataFrame({"file_id": readable}, schema={"file_id": pl.Int32})
    cover = cells.select("file_id", "code", "raw", "kind").filter(pl.col("code").is_in(cover_codes))
    cover = cover.with_columns(clean_text().alias("text")).select("file_id", "code", _cover_text(spec).alias("value"))
    values = cells.select("file_id", "code", "value").filter(pl.col("code").is_in(numeric_codes))
    for part in (cover, values):
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
    period = text.str.to_uppercase().str.replace_all(r"年度$|年|报|\.0$", "")  # as codes.normalize_period reads
    # a code typed with the input method's full-width letters (８１３３…ＭＣ…) is that code
    code = text.str.normalize("NFKC")
    return (
        pl.when(pl.col("kind") == "enum").then(pl.coalesce(enum_code, text))
        .when(pl.col("kind") == "period").then(period)
        .when(pl.col("kind") == "area").then(text.str.replace(r"\.0$", ""))
        .when(pl.col("kind") == "industry").then(industry_with_section(text))
        .when(pl.col("kind") == "uscc").then(code.str.to_uppercase())  # its letters are capitals: 91…ma1b2c3d… is it
        # a unit code of 18 characters is a 统一社会信用代码, as for FM13; a shorter one is the registry's, as typed
        .when(pl.col("kind") == "unitcode").then(
            pl.when(code.str.len_chars() == 18).then(code.str.to_uppercase()).otherwise(code))
        .when(pl.col("kind") == "version").then(canonical_version_expr(text))
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
    df = issue_frame(rows)
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
    return pl.concat(out) if out else pl.DataFrame(schema=ISSUE_FRAME)


def _parse_issues(cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    df = cells.filter(pl.col("parse_issue").is_not_null())
    if not df.height:  # most chunks: every value read as a number
        return pl.DataFrame(schema=ISSUE_FRAME)
    df = df.with_columns(pl.col("parse_issue").cast(pl.Utf8).alias("rule"))
    raw = pl.coalesce(pl.col("error"), pl.col("raw"))
    value = pl.col("value").map_elements(fmt_number, return_dtype=pl.Utf8)
    limit = pl.col("kind").cast(pl.Utf8).replace_strict(limits(spec), default=None).map_elements(
        fmt_number, return_dtype=pl.Utf8)
    rules = ["not-a-number", "implausible-number", "bad-flag", "cell-error", "sci-number", "text-number"]
    return _by_rule(df, rules, raw=raw, value=value, limit=limit)


def _schema_issues(wide: pl.DataFrame, cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    fails = schema_failures(wide, spec)
    if not fails.height:
        return pl.DataFrame(schema=ISSUE_FRAME)
    ids = wide.select(pl.col("file_id"), pl.int_range(pl.len(), dtype=pl.Int64).alias("pos"))
    df = fails.join(ids, on="pos").join(cells, on=["file_id", "code"], how="inner")
    keys = fails["rule"].unique(maintain_order=True).to_list()  # schema_failures let no unmapped check through
    return _by_rule(df.join(code_names(spec), on="code", how="left"), keys, raw=pl.col("raw"), name=pl.col("name"))


def _benji_issues(cells: pl.DataFrame, wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    benji = [r.code for r in spec.numeric_rows() if r.level == "本级"]
    grassroots = wide.filter(~pl.col("FM05").fill_null("1").is_in([SUMMARY, BENJI])).select("file_id")
    df = cells.filter(pl.col("code").is_in(benji) & (pl.col("value").fill_null(0) != 0)).join(grassroots, on="file_id")
    if not df.height:
        return pl.DataFrame(schema=ISSUE_FRAME)
    df = df.with_columns(pl.lit("benji-in-grassroots").alias("rule")).join(code_names(spec), on="code", how="left")
    return _by_rule(df, ["benji-in-grassroots"], raw=pl.col("raw"), name=pl.col("name"))


def _yes_for_several_units(cells: pl.DataFrame, wide: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """是 in a count of covered units (JH04) of a union covering more than one unit: how many of them is not
    a guess we make (否 is 0 however many units there are)."""
    codes = [r.code for r in spec.numeric_rows() if r.yes_no]
    if not codes or COVERED not in wide.columns:
        return pl.DataFrame(schema=ISSUE_FRAME)
    said_yes = pl.col("raw").str.strip_chars().str.to_lowercase().is_in([w for w in YES if not w.isdigit()])
    several = wide.filter(pl.col(COVERED).fill_null(0) > 1).select("file_id", pl.col(COVERED).alias("units"))
    if not several.height:  # most unions cover one unit
        return pl.DataFrame(schema=ISSUE_FRAME)
    df = cells.filter(pl.col("code").is_in(codes) & said_yes).join(several, on="file_id")
    df = df.join(old_flags(wide, spec), on=["file_id", "code"], how="anti")
    df = df.with_columns(pl.lit("yes-for-several-units").alias("rule")).join(code_names(spec), on="code", how="left")
    units = pl.col("units").map_elements(fmt_number, return_dtype=pl.Utf8)
    return _by_rule(df, ["yes-for-several-units"], raw=pl.col("raw"), name=pl.col("name"), units=units)


def _rule_issues(wide: pl.DataFrame, cells: pl.DataFrame, spec: Spec, scopes: dict[str, pl.Expr]) -> pl.DataFrame:
    fails = evaluate(wide, spec, scopes)
    if not fails.height:
        return pl.DataFrame(schema=ISSUE_FRAME)
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
            "diff": imbalance(diff) if rule.check.cmp in ("=", "<=", ">=", "≈") else None,
            "cells": [f"{w[0]}!{w[1]}" for w in found],
            "explained": "；".join(notes) if notes and rule.severity != "错误" else None,
        })
    return issue_frame(rows)


def _missing_rows(stack: Stack, readable: list[int], cells: pl.DataFrame, spec: Spec,
                  not_on_form: pl.DataFrame) -> pl.DataFrame:
    """Rows of a form that was read (sheet and header found) but lack an indicator row; `not_on_form` are the
    (file_id, code) an older template version never had."""
    not_read = ("missing-sheet", "header-not-found", "too-large", "unreadable")
    unread = {(p.file_id, p.sheet) for p in stack.problems if p.rule in not_read}
    rows = [(r.code, r.name, f.sheet) for f in spec.forms for r in f.rows if r.filled]
    codes = [r[0] for r in rows]
    # only workbooks short of a row are crossed with the list of rows (100,000 complete ones would be 8 million)
    # the reader keeps one row per code and workbook, so a count is a count of distinct codes
    complete = cells.select(pl.col("file_id").filter(pl.col("code").is_in(codes))).group_by("file_id").len("n")
    short = pl.DataFrame({"file_id": readable}, schema={"file_id": pl.Int32})
    short = short.join(complete.filter(pl.col("n") == len(set(codes))), on="file_id", how="anti")
    if not short.height:  # every workbook has every row
        return pl.DataFrame(schema=ISSUE_FRAME)
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

