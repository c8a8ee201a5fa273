"""Explanations travel up (domain.md §5: a warning explained in 说明 is 已说明). Every 说明 a unit wrote beside a
value stays with the summaries above it: in their 说明 sheet, one row per unit and code, and quoted beside the
summary's own total of that code. A warning on that total is then explained at the next level too, instead of
coming back unexplained from a 街道 to the 区."""

from __future__ import annotations

import polars as pl

NOTES_SHEET = "说明"
# one row per unit and code; the sheet adds the form's sheet and the line's name for the reader
NOTE_SCHEMA = {"单位代码": pl.Utf8, "类型": pl.Utf8, "单位名称": pl.Utf8, "代码": pl.Utf8, "说明": pl.Utf8}
QUOTED = 3  # units quoted beside a total; the others are counted
LONGEST = 100  # characters of one unit's 说明 quoted beside a total (the 说明 sheet keeps all of it)


def empty_notes() -> pl.DataFrame:
    return pl.DataFrame(schema=NOTE_SCHEMA)


def carried(candidates: pl.DataFrame, detail: pl.DataFrame) -> pl.DataFrame:
    """The notes of the units in `detail` (a summary's 明细), with their names, one row per unit and code."""
    units = detail.select("单位代码", "类型", "单位名称")
    return (candidates.select("单位代码", "类型", "代码", "说明")
            .join(units, on=["单位代码", "类型"], how="inner")
            .unique(["单位代码", "类型", "代码"], keep="first")
            .sort("代码", "单位代码", "类型").select(list(NOTE_SCHEMA)))


def total_notes(notes: pl.DataFrame) -> dict[str, str]:
    """What a summary writes in 说明 beside its total of each line the units explained: the first few
    explanations quoted, the rest counted. One pass over the notes, however many lines the forms have."""
    out = {}
    for code, part in notes.partition_by("代码", as_dict=True, maintain_order=True).items():
        quoted = [f"{name}：{note if len(note) <= LONGEST else note[:LONGEST] + '…'}"
                  for name, note in part.head(QUOTED).select("单位名称", "说明").iter_rows()]
        more = [f"另有 {part.height - QUOTED} 个单位的说明，见“{NOTES_SHEET}”表"] if part.height > QUOTED else []
        out[code[0]] = "；".join(quoted + more)
    return out
