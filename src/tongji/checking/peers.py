"""Outliers across peers (domain.md §10), over the grassroots workbooks of one batch at once: a unit's ratios far
from those of its peer group (schemas/peers.toml), figures heaped on hundreds, and two units' workbooks with the
same values (a copied workbook). They need the whole batch, so they run beside the duplicate check, not per
workbook; the ratios and thresholds are configuration."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tongji.checking.plugin_checks import FOUND
from tongji.checking.where import Where
from tongji.definitions import Spec
from tongji.definitions.codes import BENJI, SUMMARY
from tongji.definitions.expr import to_polars
from tongji.issues.catalog import BUILTIN
from tongji.reading.discover import file_text

# the peer group: the first digit of the 单位性质 (登记注册类型) code is its major class
GROUPS = {"1": "内资企业", "2": "港澳台商投资企业", "3": "外商投资企业", "4": "事业单位", "5": "机关",
          "6": "个体经济组织", "7": "社会组织"}
GROUPS_EN = {"1": "domestic firms", "2": "Hong Kong, Macao and Taiwan firms", "3": "foreign firms",
             "4": "public institutions", "5": "government bodies", "6": "individual businesses",
             "7": "social organisations"}
SIZES = ((25, "1–24"), (100, "25–99"), (500, "100–499"), (1000, "500–999"))  # 职工人数 HY01; 1000+ above
SIZE_CODE = "HY01"
CONSISTENCY = 0.6745  # makes the MAD of a normal sample comparable to its standard deviation
# configuration names (schemas/peers.toml)
MIN_UNITS, MAD_FLOOR = "同类比较_最少单位数", "同类比较_离散下限"
NOTICE_Z, WARNING_Z = "同类比较_提示阈值", "同类比较_警告阈值"
HEAPED_CELLS, COPIED_CELLS = "凑整_最少格数", "雷同_最少非零格数"
ROUND = 100  # heaped: counts of at least this, all multiples of it
HEAPED_STEP = 10_000  # workbooks looked at together for heaped figures


def peer_issues(wide: pl.DataFrame, where: Where, spec: Spec, files: list[Path],
                returned: pl.Series) -> pl.DataFrame:
    """The three peer checks over the grassroots workbooks of the batch (summaries and 本级 are not peers).
    A workbook `returned` for an 错误 is left out of the ratios: its figures go back anyway, a peer finding
    would repeat the error, and they should not move its group's median."""
    # lazy: each check takes only its columns of the workbooks (a copy of the whole table is 80 MB at 100,000)
    book = wide.lazy().filter(~pl.col("FM05").fill_null("1").is_in([SUMMARY, BENJI]))
    ok = book.filter(~pl.col("file_id").is_in(returned.implode()))
    judged = _height(ok) >= spec.params[MIN_UNITS]  # fewer than one group's worth: no peers to compare with
    parts = [_ratio_issues(ok, where, spec) if judged else pl.DataFrame(schema=FOUND),
             _heaped_issues(book, where, spec),
             _copied_issues(book, where, spec, files) if _height(book) > 1 else pl.DataFrame(schema=FOUND)]
    return pl.concat([p.select(list(FOUND)) for p in parts if p.height] or [pl.DataFrame(schema=FOUND)])


def _height(book: pl.LazyFrame) -> int:
    return book.select(pl.len()).collect().item()


SIZE_LABELS = [label for _, label in SIZES] + [f"{SIZES[-1][0]}+"]


def _size() -> pl.Expr:
    """The size class's number (SIZE_LABELS): a group is two small numbers, not two strings per unit and ratio."""
    staff = pl.col(SIZE_CODE)
    out = pl.when(staff.is_null()).then(pl.lit(None, pl.Int8))
    for i, (upper, _) in enumerate(SIZES):
        out = out.when(staff < upper).then(pl.lit(i, pl.Int8))
    return out.otherwise(pl.lit(len(SIZES), pl.Int8))


def _ratio_issues(book: pl.LazyFrame, where: Where, spec: Spec) -> pl.DataFrame:
    """Each ratio of each unit against its group's median, in robust z; groups too small are not judged."""
    if not spec.peer_ratios:
        return pl.DataFrame(schema=FOUND)
    p = spec.params
    major = pl.col("FM06").fill_null("").str.slice(0, 1)
    peers = book.select("file_id", major.replace_strict(list(GROUPS), list(range(len(GROUPS))), default=None,
                                                        return_dtype=pl.Int8).alias("group"), _size().alias("size"),
                        *dict.fromkeys(c for r in spec.peer_ratios for c in r.numerator.codes + r.denominator.codes)
                        ).collect()
    parts = []
    for i, r in enumerate(spec.peer_ratios):  # a handful of ratios, each over every unit at once
        num, den = to_polars(r.numerator.left, p), to_polars(r.denominator.left, p)
        parts.append(peers.select("file_id", "group", "size", pl.lit(i, pl.Int8).alias("ratio"),
                                  pl.when(den > 0).then(num.fill_null(0) / den).alias("x")))
    keys = ["ratio", "group", "size"]
    df = pl.concat(parts).drop_nulls(["x", "group", "size"]).with_columns(
        pl.len().over(keys).alias("n"), pl.col("x").median().over(keys).alias("median"))
    df = df.with_columns((pl.col("x") - pl.col("median")).abs().median().over(keys).alias("mad"))
    scale = pl.max_horizontal("mad", pl.col("median").abs() * p[MAD_FLOOR])
    z = pl.when((scale > 0) & (pl.col("n") >= p[MIN_UNITS])).then(CONSISTENCY * (pl.col("x") - pl.col("median"))
                                                                    / scale)
    hits = df.with_columns(z.alias("z")).filter(pl.col("z").abs() >= p[NOTICE_Z]).sort("file_id", "ratio")
    if not hits.height:
        return pl.DataFrame(schema=FOUND)
    named = range(len(GROUPS))
    hits = hits.with_columns(pl.col("group").replace_strict(named, list(GROUPS_EN.values())).alias("group_en"),
                             pl.col("group").replace_strict(named, list(GROUPS.values())),
                             pl.col("size").replace_strict(range(len(SIZE_LABELS)), SIZE_LABELS))
    # the cells each ratio reads, in order: the issue sits at the first (the numerator), and lists them all
    codes = pl.DataFrame([(i, c, k) for i, r in enumerate(spec.peer_ratios)
                          for k, c in enumerate(dict.fromkeys(r.numerator.codes + r.denominator.codes))],
                         schema={"ratio": pl.Int32, "code": pl.Utf8, "k": pl.Int64}, orient="row")
    located = (where.join(hits.with_columns(pl.col("ratio").cast(pl.Int32)).join(codes, on="ratio"))
               .sort("file_id", "ratio", "k")
               .group_by("file_id", "ratio", maintain_order=True).agg(
                   pl.col("code").first(), pl.col("sheet").first(), pl.col("ref").first(),
                   (pl.col("sheet") + "!" + pl.col("ref")).drop_nulls().alias("cells"),
                   pl.col("note").str.strip_chars().filter(pl.col("note").str.strip_chars() != "")
                   .str.join("；").alias("notes")))
    hits = hits.with_columns(pl.col("ratio").cast(pl.Int32)).join(located, on=["file_id", "ratio"])
    meta = pl.DataFrame([(i, r.name, r.name_en or r.name, r.unit) for i, r in enumerate(spec.peer_ratios)],
                        schema={"ratio": pl.Int32, "name": pl.Utf8, "name_en": pl.Utf8, "unit": pl.Utf8},
                        orient="row")
    hits = hits.join(meta, on="ratio").sort("file_id", "ratio")
    fmt = pl.struct("x", "unit").map_elements(lambda s: _fmt(s["x"], s["unit"]), return_dtype=pl.Utf8)
    med = pl.struct(pl.col("median").alias("x"), "unit").map_elements(lambda s: _fmt(s["x"], s["unit"]),
                                                                     return_dtype=pl.Utf8)
    params = {"name": pl.col("name"), "name_en": pl.col("name_en"), "value": fmt, "median": med,
              "group": pl.col("group"), "group_en": pl.col("group_en"), "size": pl.col("size"),
              "n": pl.col("n").cast(pl.Utf8), "z": pl.col("z").round(1).cast(pl.Utf8)}
    far = pl.col("z").abs() >= p[WARNING_Z]
    out = [_frame(hits.filter(~far), "peer-outlier", params),
           _frame(hits.filter(far), "peer-outlier-far", params, explained=pl.when(pl.col("notes") != "").then("notes"))]
    return pl.concat([o for o in out if o.height] or [pl.DataFrame(schema=FOUND)])


def _fmt(x: float, unit: str) -> str:
    return f"{x * 100:.1f}%" if unit == "%" else f"{x:.2f} {unit}".rstrip()


def _heaped_issues(book: pl.LazyFrame, where: Where, spec: Spec) -> pl.DataFrame:
    """Every count cell of ROUND or more a multiple of ROUND, and enough of them: estimates, not counts. Small
    counts (one covered unit, two full-time staff) say nothing either way, so they are left out."""
    columns = book.collect_schema().names()
    counts = [r.code for r in spec.numeric_rows() if r.kind == "count" and r.code in columns]
    if not counts:
        return pl.DataFrame(schema=FOUND)
    order = {c: i for i, c in enumerate(counts)}
    # the long table of the counts, 10,000 workbooks at a time: of a whole batch it is 6 million rows at 100,000
    parts = []
    for first in range(0, _height(book), HEAPED_STEP):
        long = (book.slice(first, HEAPED_STEP).select("file_id", *counts)
                .unpivot(index="file_id", variable_name="code", value_name="v").filter(pl.col("v") >= ROUND))
        heaped = long.group_by("file_id").agg(pl.len().alias("n"), ((pl.col("v") % ROUND) == 0).all().alias("round"))
        heaped = heaped.filter(pl.col("round") & (pl.col("n") >= spec.params[HEAPED_CELLS])).select("file_id", "n")
        parts.append(long.join(heaped, on="file_id").collect())
    long = pl.concat(parts) if parts else pl.DataFrame()
    if not long.height:
        return pl.DataFrame(schema=FOUND)
    found = (where.join(long)
             .with_columns(pl.col("code").replace_strict(order, return_dtype=pl.Int32).alias("k"))
             .sort("file_id", "k").group_by("file_id", maintain_order=True).agg(
                 pl.col("code").first(), pl.col("sheet").first(), pl.col("ref").first(), pl.col("n").first(),
                 (pl.col("sheet") + "!" + pl.col("ref")).drop_nulls().alias("cells")))
    params = {"n": pl.col("n").cast(pl.Utf8), "cells": pl.col("cells").list.join("、"),
              "cells_en": pl.col("cells").list.join(", ")}
    return _frame(found.sort("file_id"), "heaped-figures", params)


def _copied_issues(book: pl.LazyFrame, where: Where, spec: Spec, files: list[Path]) -> pl.DataFrame:
    """Two units (two 单位代码) whose value cells are all the same, with enough of them nonzero: one of the two
    workbooks was most likely copied from the other. A blank cell counts as 0, as it adds up."""
    columns = book.collect_schema().names()
    codes = [r.code for r in spec.numeric_rows() if r.code in columns]
    if not codes:
        return pl.DataFrame(schema=FOUND)
    names = pl.DataFrame({"file_id": range(len(files)), "name": [file_text(f.name) for f in files]},
                         schema={"file_id": pl.Int32, "name": pl.Utf8})
    key = pl.concat_str([pl.col(c).fill_null(0).cast(pl.Utf8) for c in codes], separator="|")
    nonzero = pl.sum_horizontal([pl.col(c).fill_null(0) != 0 for c in codes])
    same = pl.struct([pl.col(c).fill_null(0) for c in codes]).hash(0)  # equal values, equal hashes
    # only workbooks whose hash another shares get the text of all their values, the key compared exactly
    b = (book.filter(pl.col("FM02").is_not_null() & (nonzero >= spec.params[COPIED_CELLS]))
         .filter(pl.len().over(same) > 1).select("file_id", "FM02", key.alias("key")).collect()
         .join(names, on="file_id"))
    pairs = b.join(b, on="key", suffix="_o").filter(pl.col("FM02") != pl.col("FM02_o"))
    if not pairs.height:
        return pl.DataFrame(schema=FOUND)
    others = {"others": pl.format("单位 {}（{}）", "FM02_o", "name_o").str.join("、"),
              "others_en": pl.format("unit {} ({})", "FM02_o", "name_o").str.join(", ")}
    found = (where.join(pairs.sort("file_id", "file_id_o").group_by("file_id", maintain_order=True)
                        .agg(**others).with_columns(pl.lit("FM02").alias("code")))
             .with_columns(pl.concat_list(pl.col("sheet") + "!" + pl.col("ref")).list.drop_nulls().alias("cells")))
    return _frame(found.with_columns(pl.col("sheet").fill_null(spec.cover.sheet)), "copied-workbook",
                  {name: pl.col(name) for name in others})


def _frame(df: pl.DataFrame, code: str, params: dict[str, pl.Expr],
           explained: pl.Expr | None = None) -> pl.DataFrame:
    kind = BUILTIN[code]
    return df.select(
        pl.col("file_id").cast(pl.Int32), pl.lit(kind.severity).alias("severity"), pl.lit(code).alias("rule"),
        pl.col("sheet").fill_null(""), pl.col("ref").fill_null(""), "code",
        (params["value"] if "value" in params else pl.lit(None, pl.Utf8)).alias("value"),
        *kind.columns(**params), pl.lit(None, pl.Float64).alias("diff"), pl.col("cells").cast(pl.List(pl.Utf8)),
        (explained if explained is not None else pl.lit(None, pl.Utf8)).alias("explained"),
    )
