"""Where each workbook's cells are, kept small enough for the main process: the checks that need the whole batch
(duplicates, the registry, peers, plugins' checks, summaries) run on the table of workbooks, not on the cells,
but their issues still name the cell (`会员!D12`) and carry the 说明 written beside it.

A chunk of workbooks filled in from one template has every code at the same cell, so a chunk gives its common
layout (per code, the sheet and cell most of its workbooks have) and only the cells that differ from it
(a moved row, a missing one). Every code of the forms is in a chunk's layout, with no cell if none of its
workbooks has one, so a workbook is never looked up in another chunk's layout."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tongji.definitions import Spec

KEY = ["file_id", "code"]
LAYOUT = {"first": pl.Int32, "code": pl.Utf8, "sheet": pl.Utf8, "ref": pl.Utf8}
MOVED = {"file_id": pl.Int32, "code": pl.Utf8, "sheet": pl.Utf8, "ref": pl.Utf8}
NOTES = {"file_id": pl.Int32, "code": pl.Utf8, "note": pl.Utf8}
COVER = {"file_id": pl.Int32, "code": pl.Utf8, "raw": pl.Utf8}


def number_text(value: pl.Expr) -> pl.Expr:
    """A value as the text a cell holding it reads as: 12.0 as "12", 0.5 as "0.5"."""
    whole = value == value.round(0)
    return pl.when(whole).then(value.round(0).cast(pl.Int64).cast(pl.Utf8)).otherwise(value.cast(pl.Utf8))


def typed_otherwise(cells: pl.DataFrame, codes: list[str]) -> pl.DataFrame:
    """(file_id, code, raw) of the value cells whose text is not simply their number ("1,234", 是, "约20"): the
    text a plugin's issue quotes; any other cell's text is its number's (`number_text`)."""
    raw = pl.col("raw").str.strip_chars()
    differs = raw.is_not_null() & (raw != number_text(pl.col("value"))).fill_null(True)
    return cells.filter(pl.col("code").is_in(codes) & differs).select("file_id", "code", "raw")


def cover_otherwise(cells: pl.DataFrame, wide: pl.DataFrame, codes: list[str]) -> pl.DataFrame:
    """(file_id, code, raw) of the cover cells whose text as typed is not their value in the table of workbooks
    (FM06's "700 民办非企业（社会组织）" for 700): the text an issue quotes; any other cover cell's text is its
    value (Where.join). Fifteen of a workbook's sixteen cover cells are not sent: 1.5 million rows at 100,000
    units."""
    codes = [c for c in codes if c in wide.columns]
    return (cells.filter(pl.col("code").is_in(codes)).select("file_id", "code", "raw")
            .join(_cover_values(wide, codes), on=KEY, how="left")
            .filter(~pl.col("raw").eq_missing(pl.col("_value"))).drop("_value"))


def _cover_values(wide: pl.DataFrame, codes: list[str]) -> pl.DataFrame:
    """(file_id, code, _value): the cover columns `codes` of the table of workbooks, a row per cell."""
    return wide.select(pl.col("file_id").cast(pl.Int32), *codes).unpivot(
        index="file_id", variable_name="code", value_name="_value")


def chunk_layout(cells: pl.DataFrame, spec: Spec, start: int, readable: list[int]) -> dict[str, pl.DataFrame]:
    """The layout of a chunk whose first file is `start`, and its cells that are elsewhere (or absent: no sheet,
    no ref) among its `readable` workbooks. `cells` has file_id, code, sheet, ref."""
    common = (cells.group_by("code", "sheet", "ref").len()
              .sort("code", "len", "sheet", "ref", descending=[False, True, False, False])
              .unique("code", keep="first", maintain_order=True).drop("len"))
    codes = pl.DataFrame({"code": list(spec.rows)}, schema={"code": pl.Utf8})
    layout = codes.join(common, on="code", how="left").select(pl.lit(start, pl.Int32).alias("first"), "code",
                                                                "sheet", "ref")
    elsewhere = (cells.select(*KEY, "sheet", "ref").join(layout, on="code", suffix="_std")
                 .filter((pl.col("sheet") != pl.col("sheet_std")) | (pl.col("ref") != pl.col("ref_std"))))
    books = pl.DataFrame({"file_id": readable}, schema={"file_id": pl.Int32})
    absent = (books.join(layout.filter(pl.col("ref").is_not_null()).select("code"), how="cross")
              .join(cells.select(KEY), on=KEY, how="anti")
              .with_columns(pl.lit(None, pl.Utf8).alias("sheet"), pl.lit(None, pl.Utf8).alias("ref")))
    moved = pl.concat([elsewhere.select(list(MOVED)).cast(MOVED), absent.cast(MOVED)]).sort(KEY)
    return {"layout": layout.cast(LAYOUT), "moved": moved}


@dataclass
class Where:
    """The cells of a batch, compactly: `layout` (first, code, sheet, ref) of each chunk from its first file on,
    `moved` (file_id, code, sheet, ref) the cells elsewhere or absent, `notes` (file_id, code, note) every 说明
    beside a value, `cover` (file_id, code, raw) the cover cells whose text as typed is not their value in
    `covers` (file_id and the cover's codes: the table of workbooks' columns), `typed` (file_id, code, raw) the
    value cells whose text is not their number's."""

    layout: pl.DataFrame
    moved: pl.DataFrame
    notes: pl.DataFrame
    cover: pl.DataFrame
    typed: pl.DataFrame
    covers: pl.DataFrame

    def join(self, df: pl.DataFrame) -> pl.DataFrame:
        """`df` (with file_id and code) with the cell's sheet, ref, note and raw text (cover) beside each row;
        null where the workbook has no such cell. The rows keep their order."""
        keys = df.select(pl.col("file_id").cast(pl.Int32), pl.col("code").cast(pl.Utf8)).unique().sort(KEY)
        std = keys.join_asof(self.layout.sort("first"), left_on="file_id", right_on="first", by="code",
                             check_sortedness=False)
        # the batch's tables cut to these workbooks first: a join would hash the whole right side (the cover's
        # text is 1.6 million rows at 100,000 units, a 280 MiB table to find a handful of cells)
        mine = pl.col("file_id").is_in(keys["file_id"].unique().implode())
        moved = self.moved.filter(mine).with_columns(pl.lit(True).alias("_moved"))
        found = std.join(moved, on=KEY, how="left", suffix="_m").select(
            *KEY, *(pl.when(pl.col("_moved")).then(pl.col(f"{c}_m")).otherwise(pl.col(c)).alias(c)
                    for c in ("sheet", "ref")))
        values = _cover_values(self.covers.filter(mine), self.covers.columns[1:])
        typed = self.cover.filter(mine).with_columns(pl.lit(True).alias("_typed"))
        found = (found.join(self.notes.filter(mine), on=KEY, how="left").join(typed, on=KEY, how="left")
                 .join(values, on=KEY, how="left")
                 .with_columns(pl.when(pl.col("_typed")).then(pl.col("raw"))  # the cell's text, as typed
                               .when(pl.col("ref").is_not_null()).then(pl.col("_value")).alias("raw"))
                 .drop("_typed", "_value"))
        drop = [c for c in ("sheet", "ref", "note", "raw") if c in df.columns]
        return df.drop(drop).join(found, on=KEY, how="left", maintain_order="left").with_columns(
            pl.when(pl.col("ref").is_not_null()).then(pl.col("sheet")).alias("sheet"))

    def of_files(self, file_ids: list[int], wide: pl.DataFrame, numeric: list[str]) -> pl.DataFrame:
        """Every cell of these workbooks: file_id, code, sheet, ref, note, raw (its text as read: from `wide`, the
        table of workbooks, where the text is the number's)."""
        ids = pl.DataFrame({"file_id": file_ids}, schema={"file_id": pl.Int32})
        codes = self.layout.select("code").unique(maintain_order=True)
        values = (wide.filter(pl.col("file_id").is_in(file_ids)).select("file_id", *numeric)
                  .unpivot(index="file_id", variable_name="code", value_name="value")
                  .select(*KEY, number_text(pl.col("value")).alias("number")))
        typed = self.typed.rename({"raw": "typed"})
        return (self.join(ids.join(codes, how="cross")).filter(pl.col("ref").is_not_null())
                .join(typed, on=KEY, how="left", maintain_order="left")
                .join(values, on=KEY, how="left", maintain_order="left")
                .with_columns(pl.coalesce("raw", "typed", "number").alias("raw")).drop("typed", "number"))

    @classmethod
    def of(cls, result: dict, spec: Spec) -> Where:
        """The chunks' findings (their `wide`, the table of workbooks, not copied)."""
        codes = [r.code for r in spec.cover.rows if r.code in result["wide"].columns]
        return cls(result["layout"], result["moved"], result["notes"], result["cover"], result["typed"],
                   result["wide"].select(pl.col("file_id").cast(pl.Int32), *codes))
