"""The result of a rollup: one node's totals, detail, indicators, completeness and issues as DataFrames."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl

from tongji.aggregating.notes import NOTE_SCHEMA, NOTES_SHEET, empty_notes, total_notes
from tongji.definitions import Spec
from tongji.definitions.concordance import layout_of
from tongji.definitions.expr import to_polars
from tongji.i18n import text_in
from tongji.issues.catalog import Catalog
from tongji.reading.screen import Limits, quiet_stderr, screen

DETAIL_SHEET = "明细"
DETAIL_KEYS = ["单位代码", "单位名称", "上级代码", "类型", "组织类型", "报出日期"]  # then one column per numeric code
KIND_GRASSROOTS, KIND_BENJI = "基层", "本级"
# what a summary workbook holds beside its totals and how it rounds them: written by writing/summary_files.py,
# and what checking/totals.py reads into a summary made in memory as validating its workbook would
# a sheet of 明细 read back: Excel's rows of ~100 codes, each cell as polars writes it (about 2.6 GB), in time
SHEET_MB, SHEET_SECONDS = 4096, 300
TRANSFER_NOTE = "简单汇总：上下级之间的补助收支未抵销"  # domain.md §4: JF04/JF17 are not eliminated
TRANSFER_CODES = ("JF04", "JF17")


@dataclass
class Summary:
    """One node's summary.

    cover:        FM01…FM12 as text (FM05 = "0": a summary workbook).
    totals:       code, name, sheet, unit, value (Float64); with `previous`: also previous, change.
    detail:       DETAIL_KEYS then one Float64 column per numeric code: one row per included grassroots unit
                  and per included 本级 workbook anywhere beneath (and of) the node. totals = column sums.
    indicators:   id, name, numerator, denominator, value, unit, note, note_code, note_params; with previous:
                  previous, change.
    completeness: child, child_name, expected, received, accepted, returned, missing, late, reported_rate,
                  timely_rate (last row 合计); late and timely_rate are null without a deadline.
    units:        unit, name, child, status, file, reason, reason_code, reason_params, date (the 报出日期 that
                  counts), late ("迟报" or ""): every unit expected or received, and what happened.
    issues:       ISSUE_COLUMNS of issues/report.py: validation issues of the inputs and rollup's own.
    inputs:       file, sha256, unit, kind (基层/本级/汇总), status (采用/退回/未采用), reason, reason_code,
                  reason_params.
    A note or reason is text in i18n.MESSAGE_LANG, kept with its key of i18n.MESSAGES (`*_code`) and parameters
    (`*_params`), so that `in_lang` writes it in either language, as an issue's message is.
    registry:     the Registry the rollup used (never written: writers may ask for it).
    covers:       单位代码, 类型, FM01…FM12 of each workbook this rollup accepted (never written); see unit_table.
    notes:        单位代码, 类型, 单位名称, 代码, 说明: every 说明 the units in 明细 wrote beside a value
                  (the 说明 sheet).
    groups:       the 分组 sheet (aggregating/groups.py): one row per grouping and group, the 总计 first.
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
    registry: Any = field(default=None, repr=False)
    covers: pl.DataFrame | None = field(default=None, repr=False)
    notes: pl.DataFrame = field(default_factory=empty_notes)
    _notes_by_code: tuple | None = field(default=None, init=False, repr=False, compare=False)  # (notes, text by code)

    def note_of(self, code: str) -> str | None:
        """The 说明 beside this summary's total of `code`: the 简单汇总 note of JF04/JF17, and the units'
        explanations of that line (aggregating/notes.py), so a warning explained below is explained here."""
        if self._notes_by_code is None or self._notes_by_code[0] is not self.notes:
            self._notes_by_code = (self.notes, total_notes(self.notes))
        parts = [TRANSFER_NOTE if code in TRANSFER_CODES else "", self._notes_by_code[1].get(code, "")]
        return "；".join(p for p in parts if p) or None
    groups: pl.DataFrame | None = None

    @property
    def has_errors(self) -> bool:
        return bool((self.issues["severity"] == "错误").any())

    def in_lang(self, lang: str, catalog: Catalog) -> Summary:
        """This summary as writers see it: issues, reasons and notes in `lang` ("zh" or "en"), without the keys
        and parameters they were rendered from. The summary itself is left as it is."""
        groups = self.groups
        if groups is not None:
            english = [c for c in groups.columns if c.endswith("_en")]
            if lang == "en":
                groups = groups.with_columns(pl.col(c).alias(c.removesuffix("_en")) for c in english)
            groups = groups.drop(english)
        return replace(self, issues=catalog.render(self.issues, lang), units=text_in(self.units, "reason", lang),
                       inputs=text_in(self.inputs, "reason", lang), indicators=text_in(self.indicators, "note", lang),
                       groups=groups)

    def total(self, code: str) -> float | None:
        row = self.totals.filter(pl.col("code") == code)
        return row["value"][0] if row.height else None

    def rate(self, indicator: str) -> float | None:
        row = self.indicators.filter(pl.col("id") == indicator)
        return row["value"][0] if row.height else None


@dataclass
class EachSummary:
    """tree.Context.each_summary's summaries: iterate once, children before their parents; len() says how many."""

    nodes: list[str]
    summaries: Iterator[Summary]

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Summary]:
        return self.summaries


def workbook_name(summary: Summary) -> str:
    """The name a summary's workbook is written under: what stands for it when it was made in memory."""
    return f"{summary.unit}_{summary.period}_汇总.xlsx"


def as_written(value: float | None, kind: str) -> int | float | None:
    """Counts and flags as whole numbers, amounts to the cent: sums of floats carry noise like 0.30000000000000004."""
    if value is None:
        return None
    return int(round(value)) if kind in ("count", "flag") else round(value, 2)


def detail_keys(spec: Spec) -> list[str]:
    """DETAIL_KEYS, then the cover fields a grouping of the 分组 sheet reads (单位性质, 所在单位行业): carried up
    in 明细 with each unit, so a summary of summaries groups its units as one made from their workbooks."""
    carried = [g.column for g in spec.groupings if g.cover and g.column not in DETAIL_KEYS]
    return DETAIL_KEYS + list(dict.fromkeys(carried))


def detail_rows(books: pl.DataFrame, spec: Spec, parents: dict[str, str]) -> pl.DataFrame:
    """明细's rows of workbooks (file, unit, kind, FM…, the numeric codes: aggregating/acceptance.accept's books),
    with their file; `parents` gives each unit's 上级代码."""
    codes = [r.code for r in spec.numeric_rows()]
    grassroots = pl.col("kind") == KIND_GRASSROOTS
    # a plugin's flags count grassroots unions doing something: a 本级 office is not one
    flags = {r.code for r in spec.numeric_rows() if r.kind == "flag"}

    def value(code: str) -> pl.Expr:
        col = pl.col(code).cast(pl.Float64)
        return (pl.when(grassroots).then(col).otherwise(0.0) if code in flags else col).alias(code)

    return books.select(
        "file", pl.col("unit").alias("单位代码"), pl.col("FM01").fill_null("").alias("单位名称"),
        pl.col("unit").replace_strict(parents, default="").alias("上级代码"),
        pl.col("kind").alias("类型"), pl.col("FM05").fill_null("").alias("组织类型"),
        pl.col("FM10").fill_null("").alias("报出日期"),
        *[pl.col(g.field).fill_null("").str.strip_chars().alias(g.column)
          for g in spec.groupings if g.cover and g.column not in DETAIL_KEYS],
        *[value(c) for c in codes if c != "JH00"],
        pl.when(grassroots).then(1.0).otherwise(0.0).alias("JH00"),
    ).select("file", *detail_keys(spec), *codes)


def empty_detail(spec: Spec) -> pl.DataFrame:
    """A 明细 without rows."""
    codes = {r.code: pl.Float64 for r in spec.numeric_rows()}
    return pl.DataFrame(schema={k: pl.Utf8 for k in detail_keys(spec)} | codes)


def read_detail(path: Path, spec: Spec, version: str | None = None, lacking: float | None = 0.0) -> pl.DataFrame:
    """The 明细 sheet of a summary workbook: row 1 headers (keys, then codes), row 2 names, data below.

    A summary of an older template `version` (its FM12) is read through that version's concordance: its columns
    under their current codes, the lines it lacked at 0 (domain.md §11), so last year's summary stays comparable.
    `lacking=None` leaves the lines it lacked blank instead: last period had no such figure to compare with."""
    codes = [r.code for r in spec.numeric_rows()]
    raw = read_sheet(path, "明细", spec)
    old = spec.versions.get((version or "").strip())
    if old is not None:
        moved = {c: new for c, new in old.code_map().items() if c in raw.columns}
        raw = raw.drop([c for c, new in moved.items() if new is None])
        raw = raw.drop([new for new in moved.values() if new in raw.columns and new not in moved])
        raw = raw.rename({c: new for c, new in moved.items() if new is not None})
    keys = detail_keys(spec)  # a summary written before a key was carried reads it blank: its units are 未分类
    missing = [c for c in keys + codes if c not in raw.columns]
    raw = raw.with_columns([pl.lit(None, pl.Utf8).alias(c) for c in missing])
    numbers = pl.col(codes).str.replace_all(",", "").cast(pl.Float64, strict=False).fill_null(0.0)
    lacked = [c for c in codes if c in missing]
    return raw.filter(pl.col("单位代码").is_not_null()).select(pl.col(keys).fill_null(""), numbers).with_columns(
        pl.lit(lacking, pl.Float64).alias(c) for c in lacked)


def read_notes(path: Path, spec: Spec) -> pl.DataFrame:
    """The 说明 sheet of a summary workbook: the units' explanations it carries (none in an older summary)."""
    raw = read_sheet(path, NOTES_SHEET, spec)
    if not all(c in raw.columns for c in NOTE_SCHEMA):
        return empty_notes()
    return raw.filter(pl.col("单位代码").is_not_null() & pl.col("说明").is_not_null()).select(
        [pl.col(c).fill_null("") for c in NOTE_SCHEMA])


def read_sheet(path: Path, sheet: str, spec: Spec, starts: Collection[str] = ()) -> pl.DataFrame:
    """One table sheet of a summary workbook as text, headers in row 1, and below it the rows of its continuation
    sheets (明细2, 明细3 …: writing/unit_sheets.py), each under the same headers; empty if it cannot be read or is
    absent. A continuation that cannot be read makes the whole table unreadable: never half a 明细. With `starts`,
    each sheet's table is headed by its first row whose first cell is one of them (完整性's list of units, below
    its table per child).

    明细 has a row per unit (100,000 in a 市, 2.8 million in the country), so each sheet is screened on its own,
    within Excel's rows and the bytes a full sheet of codes takes; the other limits still guard the calamine
    process against a forged file (reading/screen/)."""
    limits = Limits.of(spec)
    limits = replace(limits, mb=max(limits.mb, SHEET_MB), rows=1_048_576, seconds=max(limits.seconds, SHEET_SECONDS),
                     cols=max(limits.cols, len(spec.numeric_rows()) + 10))
    try:
        data = Path(path).read_bytes()
        if screen(data, limits, lambda s: False).whole:  # the parts calamine opens every workbook with
            raise ValueError("beyond the reading limits")
        with quiet_stderr():
            book = fastexcel.read_excel(data)
        frames, name = [], sheet  # no sheet: a summary written before it existed
        while name in book.sheet_names:
            verdict = screen(data, limits, lambda s, name=name: s == name)
            if verdict.whole or name in verdict.sheets:
                raise ValueError("beyond the reading limits")
            with quiet_stderr():
                frame = book.load_sheet(name, header_row=None if starts else 0, dtypes="string").to_polars()
            frames.append(_headed(frame, starts) if starts else frame)
            name = continuation(sheet, len(frames) + 1)
        return pl.concat(frames, how="diagonal") if frames else pl.DataFrame()
    except BaseException as exc:  # a Rust panic too: a summary without a readable 明细 cannot be checked or carried up
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return pl.DataFrame()


def _headed(raw: pl.DataFrame, starts: Collection[str]) -> pl.DataFrame:
    """The rows of `raw` (read without headers) below its first row whose first cell is one of `starts`, named
    by that row; none without such a row."""
    at = raw.get_column(raw.columns[0]).is_in(list(starts)).arg_true() if raw.width else pl.Series([])
    if at.is_empty():
        return pl.DataFrame()
    head = raw.row(at[0])
    return raw.slice(at[0] + 1).select(pl.col(c).alias(h) for c, h in zip(raw.columns, head, strict=True) if h)


def continuation(sheet: str, n: int) -> str:
    """The name of the n-th sheet of a table (1 is the sheet itself): 明细, 明细2, 明细3 …"""
    return sheet if n == 1 else f"{sheet}{n}"


def in_version(summary: Summary, spec: Spec, version: str) -> tuple[Summary, Spec]:
    """The summary and the spec laid out as an older template `version` was (definitions/concordance.layout_of):
    what last year's summary workbook looked like, for the samples and the tests. Lines that version lacked are
    left out; a renamed line goes back to its old code (a split one to the old code of its first part)."""
    old = spec.versions[version]
    back = {new: code for code, new in old.renamed.items()} | {parts[0]: code for code, parts in old.split.items()}
    gone = list(old.read_as_zero())
    detail = summary.detail.drop([c for c in gone if c in summary.detail.columns])
    totals = summary.totals.filter(~pl.col("code").is_in(gone)).with_columns(pl.col("code").replace(back))
    return (replace(summary, detail=detail.rename({k: v for k, v in back.items() if k in detail.columns}),
                    totals=totals, cover=summary.cover | {"FM12": version}), layout_of(spec, version))


def column_sums(detail: pl.DataFrame, spec: Spec) -> dict[str, float]:
    """Every numeric code's total, rounded as written. Every node asks twice (totals, 分组): one expression for
    all the columns, not a hundred."""
    codes = [r.code for r in spec.numeric_rows()]
    row = detail.select(pl.col(codes).sum()).row(0, named=True) if detail.height else {}
    return {c: round_total(spec, c, row.get(c) or 0.0) for c in codes}


def stack(frames: list[pl.DataFrame], key: str, labels: Iterable, dtype: pl.DataType = pl.Utf8) -> pl.DataFrame:
    """The frames one under another, each row with its frame's label in `key`: a level's nodes asked together."""
    return pl.concat(frames, how="vertical_relaxed").with_columns(
        pl.Series(key, [k for k, f in zip(labels, frames, strict=True) for _ in range(f.height)], dtype=dtype))


def rows_at(df: pl.DataFrame, positions: list[int]) -> pl.DataFrame:
    """The rows at these positions; the list becomes one Series, not one per column (the 明细 has ninety)."""
    return df.select(pl.all().gather(pl.Series(positions, dtype=pl.UInt32)))


def round_total(spec: Spec, code: str, value: float) -> float:
    """Counts are whole, amounts have two decimals: a sum of 10,000 floats must not show 0.30000000000000004."""
    return float(round(value)) if spec.rows[code].kind != "amount" else round(value, 2)


def summary_mismatches(totals: dict, detail: pl.DataFrame, spec: Spec) -> list[tuple[str, float, float]]:
    """(code, total, sum of 明细) wherever a summary's total is not the sum of its own 明细: edited by hand."""
    sums = column_sums(detail, spec)
    return [(c, totals.get(c) or 0.0, v) for c, v in sums.items() if abs((totals.get(c) or 0.0) - v) > 0.005]


def unit_table(summary: Summary, spec: Spec) -> pl.DataFrame:
    """One row per row of 明细, for writers: DETAIL_KEYS, the unit's registry fields (层级, 所在地区划代码, 状态),
    its cover as filled (FM01…FM12: null for a unit carried up in a child's summary workbook), every numeric
    code, and the unit's own value of every derived indicator (null where its denominator is 0, and for one whose
    `from` level is above the grassroots: a single workbook is no jurisdiction).

    明细 itself is not widened: the summary workbook and its parquet stay as they are."""
    df = summary.detail
    cover_codes = [r.code for r in spec.cover.rows]
    if summary.registry is not None:
        frame = summary.registry.frame
        df = df.join(frame.select("单位代码", *[c for c in frame.columns if c not in detail_keys(spec)]),
                     on="单位代码", how="left", maintain_order="left")
    if summary.covers is not None and summary.covers.height:
        covers = summary.covers.select("单位代码", "类型", *[c for c in cover_codes if c in summary.covers.columns])
        df = df.join(covers, on=["单位代码", "类型"], how="left", maintain_order="left")
    df = df.with_columns([pl.lit(None, pl.Utf8).alias(c) for c in cover_codes if c not in df.columns])
    # each row is one workbook, never a jurisdiction: a rate that means something only from a level above the
    # grassroots (建会率 JH01 / JH21) is blank there; a 本级 row's own JH01 over the whole 辖区's JH21 is no 建会率
    grassroots = {"基层", summary.registry.levels[-1] if summary.registry is not None else "基层"}
    rates = []
    for ind in spec.indicators:
        num, den = to_polars(ind.numerator.left, {}), to_polars(ind.denominator.left, {})
        rate = pl.when(den != 0).then(num / den) if ind.level in grassroots else pl.lit(None)
        rates.append(rate.cast(pl.Float64).alias(ind.id))
    return df.with_columns(rates)
