"""The inputs a summary lists in its manifest (`<unit>_<period>_manifest.json`): every file its summary took or
returned, its children's included, with its SHA-256, unit, kind, status and reason."""

from __future__ import annotations

import polars as pl

from tongji.aggregating.completeness import ACCEPTED, RETURNED, UNUSED
from tongji.aggregating.summary import rows_at
from tongji.definitions.registry import Registry
from tongji.i18n import MESSAGE_LANG, params_expr, params_json, render_column


class Manifest:
    """Every input's manifest line (INPUT_KEYS of writing/summary_files.py, and its 报出日期 FM10), made once for
    all inputs; a node picks its own."""

    def __init__(self, books: pl.DataFrame, sha256: dict[str, str]):
        """`books` as acceptance.accept makes them; `sha256` for every file read (ValidationReport.sha256)."""
        self.lines = _input_lines(books, sha256).sort("file")
        self.below: dict[str, pl.DataFrame] = {}  # node → the lines of the files under it, once summarised

    def of(self, files: set[str]) -> pl.DataFrame:
        """The lines of these files; a file validation did not list is 未采用 with nothing known of it."""
        # rows found by a binary search of the lines (in file order), not joined: a join would hash all 100,000
        # inputs of the city for every node, and a dict of them would hold 100,000 Python strings
        wanted, names = pl.Series(sorted(files), dtype=pl.Utf8), self.lines["file"]
        at = names.search_sorted(wanted).clip(0, max(names.len() - 1, 0))
        found = names.gather(at) == wanted if names.len() else pl.Series([False] * wanted.len())
        lines = rows_at(self.lines, at.filter(found).to_list())
        other = wanted.filter(~found).to_list()
        if not other:
            return lines
        other = pl.DataFrame({"file": other}, schema={"file": pl.Utf8}).with_columns(
            [pl.lit("").alias(k) for k in ("sha256", "unit", "kind", "reason", "reason_code")]
            + [pl.lit(UNUSED).alias("status"), pl.lit(params_json()).alias("reason_params")])
        return pl.concat([lines, other], how="diagonal").sort("file")

    def under(self, node: str, registry: Registry, taken: dict[str, list[str]]) -> pl.DataFrame:
        """The lines of every file the node's summary took or returned (`taken`: node → its own files), its
        children's included: built from the children's (known once they are summarised), so the 市 does not look
        up 100,000 files."""
        if node not in self.below:
            parts = [self.of(set(taken.get(node, [])))]
            parts += [self.under(c, registry, taken) for c in registry.children(node) if not registry.is_leaf(c)]
            self.below[node] = pl.concat(parts).sort("file")
        return self.below[node]


def _input_lines(books: pl.DataFrame, sha256: dict[str, str]) -> pl.DataFrame:
    hashes = pl.DataFrame(list(sha256.items()), schema={"file": pl.Utf8, "sha256": pl.Utf8}, orient="row")
    df = books.select("file", "unit", "kind", "ok", "errors", "FM10").join(hashes, on="file", how="full",
                                                                            coalesce=True)
    known = pl.col("kind").is_not_null()  # validation read it as a workbook
    returned = known & ~pl.col("ok")
    lines = df.select(
        "file", pl.col("sha256").fill_null(""), pl.col("unit").fill_null(""), pl.col("kind").fill_null(""),
        pl.when("ok").then(pl.lit(ACCEPTED)).when(known).then(pl.lit(RETURNED)).otherwise(pl.lit(UNUSED))
        .alias("status"), pl.lit("").alias("reason"),
        pl.when(returned).then(pl.lit("reason-errors")).otherwise(pl.lit("")).alias("reason_code"),
        pl.when(returned).then(params_expr(n=pl.col("errors"))).otherwise(pl.lit(params_json()))
        .alias("reason_params"), "FM10",
    )
    return render_column(lines, "reason", MESSAGE_LANG)
