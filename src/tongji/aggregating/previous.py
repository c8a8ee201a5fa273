"""Year on year: last period's summary of the same node gives 上期数, 同比 and the cross-period checks (the rules
that read prev(), evaluated on this period's workbooks joined with last period's 明细)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import polars as pl

from tongji.aggregating.indicators import indicators_frame, totals_frame
from tongji.aggregating.summary import KIND_BENJI, KIND_GRASSROOTS, Summary
from tongji.checking.rules import evaluate, fmt_number, imbalance, rule_params
from tongji.checking.workbook_checks import read_values
from tongji.definitions import Spec
from tongji.definitions.codes import canonical_version, normalize_period, period_span
from tongji.definitions.expr import previous_column
from tongji.definitions.registry import Registry
from tongji.errors import TongjiError
from tongji.i18n import MESSAGE_LANG
from tongji.issues.catalog import BUILTIN, Catalog
from tongji.issues.report import issue_row

JUMP = 1000  # a count going from 0 to more than this is an outlier (domain.md §5)


class Previous(NamedTuple):
    """Last period's summary as read: its totals and 明细 (through its version's concordance, if older), what is
    said of it in every summary compared with it, and the lines whose meaning changed since (no 同比 for them)."""

    totals: dict[str, float]
    detail: pl.DataFrame
    notes: list[dict]
    incomparable: tuple[str, ...]
    span: str | None = None  # how last period stands to this one (codes.period_span); None: not known


def read_previous(path: str | Path, spec: Spec, period: str | None = None, registry: Registry | None = None,
                  unit: str | None = None) -> Previous:
    """Last period's summary workbook (which must be of an earlier period of the same kind, and of `unit` or a
    union above it in `registry`, when given). One of an older template version is read through its concordance
    (domain.md §11), with the notice previous-old-version; the lines that were 是/否 of each union then and count
    units now (JH03–JH10 of 2026.1) get no 同比."""
    from tongji.aggregating.summary import read_detail

    path = Path(path)
    if path.is_dir():  # the folder of last period's summaries: --previous names the one of the unit rolled up
        raise TongjiError("previous-folder", path=path)
    if not path.is_file():
        raise TongjiError("previous-missing", path=path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):  # the same summary written -f csv: its .xlsx holds 明细
        raise TongjiError("previous-not-xlsx", path=path)
    # read as validation reads it (an older version through its concordance), not checked: what checks would find
    # in it is not this rollup's to report; its 明细 is read below
    values, cells = read_values([path], spec)
    if not values.height or "明细" not in _sheets(path):
        raise TongjiError("previous-not-summary", path=path)
    row = values.row(0, named=True)
    earlier = normalize_period(str(row.get("FM04") or ""))
    if period and (earlier is None or len(earlier) != len(period) or earlier >= period):
        raise TongjiError("previous-period", path=path, found=row.get("FM04"), period=period, blank=("found",))
    if registry is not None and unit is not None and str(row.get("FM02") or "") not in _lineage(registry, unit):
        # a sibling's or a child's summary holds none (or part) of this node's units: every 上期数 came out 0
        raise TongjiError("previous-other-unit", path=path, found=row.get("FM02"), unit=unit, blank=("found",))
    totals = {r.code: row.get(r.code) or 0.0 for r in spec.numeric_rows()}
    old = spec.versions.get(canonical_version(row.get("FM12") or ""))
    # a line last period's summary did not have is blank, not 0: nothing jumped from 0, no prev() rule is judged
    detail = read_detail(path, spec, row.get("FM12"), lacking=None)
    span = period_span(earlier, period) if period and earlier else None
    if old is None:
        return Previous(totals, detail, [], (), span)
    # the cell its version is written in (what the cover check old-version-read would name, without its ~25 ms)
    cell = cells.filter(pl.col("code") == "FM12").select(pl.concat_str("sheet", pl.lit("!"), "ref"))[:, 0].to_list()
    params = {"raw": old.version, "title": old.title or old.version, "current": spec.version,
              "codes": "、".join(old.flags), "codes_en": ", ".join(old.flags)}
    note = issue_row(str(path), str(row.get("FM02") or ""), "previous-old-version", params, code="FM12",
                     variant=None if old.flags else "previous-old-version-same", cell=cell[0] if cell else "",
                     value=old.version)
    # a line split since: its whole old value reads as the first part, so no part compares with last period
    splits = [issue_row(str(path), str(row.get("FM02") or ""), "previous-split",
                        {"raw": old.version, "old": code, "codes": "、".join(parts),
                         "codes_en": ", ".join(parts), "first": parts[0]}, code=parts[0])
              for code, parts in old.split.items()]
    split_parts = tuple(p for parts in old.split.values() for p in parts)
    return Previous(totals, detail, [note, *splits], old.flags + split_parts, span)


def _sheets(path: Path) -> list[str]:
    import fastexcel

    return fastexcel.read_excel(path).sheet_names


def period_issues(books: pl.DataFrame, previous: pl.DataFrame, spec: Spec, span: str | None = None) -> list[dict]:
    """Cross-period checks of domain.md §5 for each workbook whose unit is in last period's 明细: the rules that
    read prev() (schemas/rules.toml and any plugin's) and are made for last period's `span`, then the count
    jumping from 0 (every count line)."""
    prev = previous.select("单位代码", *[pl.col(c).alias(previous_column(c)) for c in spec.rows
                                        if c in previous.columns and spec.rows[c].kind != "text"])
    df = books.filter(pl.col("kind") != "汇总").join(prev, left_on="unit", right_on="单位代码", how="inner",
                                                     maintain_order="left")
    df = df.with_columns([pl.lit(None, pl.Float64).alias(previous_column(c)) for c in _numeric(spec)
                          if previous_column(c) not in df.columns])  # a line last period's form did not have
    return _rule_issues(df, spec, span) + _jumps(df, spec)


def _lineage(registry: Registry, unit: str) -> list[str]:
    """`unit` and every union above it in `registry`."""
    chain = [unit]
    while (row := registry.get(chain[-1])) and row["上级代码"]:
        chain.append(row["上级代码"])
    return chain


def _numeric(spec: Spec) -> list[str]:
    return [r.code for r in spec.numeric_rows()]


def _rule_issues(df: pl.DataFrame, spec: Spec, span: str | None) -> list[dict]:
    kind = pl.col("kind")
    scopes = {"基层": kind == KIND_GRASSROOTS, "本级": kind == KIND_BENJI, "汇总": kind == "汇总"}
    fails = evaluate(df, spec, scopes, cross_period=True, span=span)
    rules, catalog = {r.id: r for r in spec.rules}, Catalog.of(spec)
    out = []
    for pos, rid, left, right, diff in fails.iter_rows():
        rule, book = rules[rid], df.row(pos, named=True)
        params = rule_params(rule, book, left, right, diff)
        code = (rule.check.codes or rule.check.previous)[0]
        out.append({"file": book["file"], "unit": book["unit"], "code": code, "rule": rid, "severity": rule.severity,
                    "message": catalog[rid].text(MESSAGE_LANG, **params), "params": params,
                    "value": fmt_number(book.get(code)), "kind": catalog[rid],
                    "diff": imbalance(diff) if rule.check.cmp in ("=", "<=", ">=", "≈") else None})
    return out


def _jumps(df: pl.DataFrame, spec: Spec) -> list[dict]:
    """A count going from 0 to more than JUMP, on any count line: one generic outlier check, kept here rather
    than written once per line in the rules."""
    out = []
    counts = [r for r in spec.numeric_rows() if r.kind == "count" and r.code in df.columns]
    for r in df.iter_rows(named=True):
        for row in counts:
            if r.get(previous_column(row.code)) == 0 and (r[row.code] or 0) > JUMP:
                out.append(_issue(r, row.code, "count-jump", name=row.name, value=fmt_number(r[row.code])))
    return out


def _issue(book: dict, code: str, rule: str, **kw) -> dict:
    kind = BUILTIN[rule]
    return {"file": book["file"], "unit": book["unit"], "code": code, "rule": rule, "severity": kind.severity,
            "message": kind.text(MESSAGE_LANG, **kw), "params": kw, "value": fmt_number(book[code]), "kind": kind}


def add_previous(summary: Summary, prev_totals: dict[str, float], spec: Spec,
                 incomparable: tuple[str, ...] = ()) -> None:
    """上期数 and 同比 for every total (relative change; blank where last period was 0) and every rate
    (the change in percentage points). `incomparable` lines changed meaning since last period: they and the rates
    made of them show 上期数 but no 同比."""
    prev = totals_frame(pl.DataFrame({c: [v] for c, v in prev_totals.items()}), spec)
    summary.totals = _with_change(summary.totals, prev.select("code", pl.col("value").alias("previous")), "code")
    prev_ind = indicators_frame(prev, spec).select("id", pl.col("value").alias("previous"))
    ind = _with_change(summary.indicators, prev_ind, "id")
    # a rate's 同比 is its change in percentage points (提高 1.2 个百分点), an amount's the relative change
    points = pl.when(pl.col("previous").is_not_null()).then(pl.col("value") - pl.col("previous"))
    summary.indicators = ind.with_columns(pl.when(pl.col("unit") == "%").then(points).otherwise(pl.col("change"))
                                          .alias("change"))
    if incomparable:
        rates = [i.id for i in spec.indicators if set(i.numerator.names + i.denominator.names) & set(incomparable)]
        summary.totals = _no_change(summary.totals, "code", incomparable)
        summary.indicators = _no_change(summary.indicators, "id", rates)
    summary.has_previous = True


def _no_change(df: pl.DataFrame, key: str, keys) -> pl.DataFrame:
    return df.with_columns(pl.when(pl.col(key).is_in(list(keys))).then(None).otherwise(pl.col("change"))
                           .alias("change"))


def _with_change(df: pl.DataFrame, prev: pl.DataFrame, key: str) -> pl.DataFrame:
    change = pl.when(pl.col("previous").fill_null(0) != 0).then(pl.col("value") / pl.col("previous") - 1)
    return df.join(prev, on=key, how="left", maintain_order="left").with_columns(change.alias("change"))
