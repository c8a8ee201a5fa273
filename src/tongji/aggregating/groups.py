"""The 分组 sheet (甲栏分组, domain.md §9): a summary's totals and key rates for each group of its grassroots units,
made from its 明细 (one row per unit, with the cover fields the groupings read), so that a summary of summaries
groups the units exactly as one made from their workbooks would.

Every 明细 row falls in exactly one group of each grouping: the first group that takes it, else 未分类; a 本级
workbook is not a grassroots unit and is a line of its own (本级). So each grouping adds up to the totals.
Rates come from the group's summed numerator and denominator, never averaged; no value where it is 0.
"""

from __future__ import annotations

from pathlib import Path

import fastexcel
import polars as pl
from openpyxl.utils import get_column_letter

from tongji.aggregating.summary import KIND_BENJI, round_total, stack
from tongji.checking.rules import fmt_number, imbalance
from tongji.definitions import Spec
from tongji.definitions.expr import Expr, to_polars
from tongji.definitions.groupings import Grouping
from tongji.issues.report import issue_row
from tongji.reading.screen import Limits, quiet_stderr, screen

GROUPS_SHEET = "分组"
CODE_ROW = 4  # of the 分组 sheet: the codes its columns sum, under their names; the rows below (writing/group_sheet.py)
UNCLASSIFIED = ("未分类", "Unclassified")
OWN_OFFICE = ("本级", "Union offices' own (本级)")
GRAND_TOTAL = ("总计", "Total")
LABELS = ["grouping", "grouping_name", "grouping_name_en", "group", "group_name", "group_name_en"]
_OTHER, _BENJI = 1_000, 1_001  # the positions of 未分类 and 本级 after a grouping's own groups


def groups_frame(detail: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """LABELS, then one column per GroupColumn of the spec (sums as Float64, rates as ratios): the 总计 row, then
    every group of every grouping in declared order, each grouping's 未分类 and 本级 last. Empty groups are shown
    with zeros, so the sheet has the same rows at every node and in every year."""
    return groups_frames([detail], spec)[0][0]


def groups_frames(details: list[pl.DataFrame], spec: Spec) -> tuple[list[pl.DataFrame], list[list[tuple]]]:
    """groups_frame of several nodes' 明细 (a level's), and where each does not add up (`unbalanced`). Every node
    of a rollup makes this sheet, most from a few dozen rows: what costs is polars' price per query (some
    100 µs), so the nodes are stacked and asked together, a few queries for all of them."""
    if not spec.groupings or not spec.group_columns:
        return [pl.DataFrame(schema=dict.fromkeys(LABELS, pl.Utf8)) for _ in details], [[] for _ in details]
    codes, positions, skeleton, finish = spec.derive(_plan)
    # only the columns asked for are stacked: a level's 明细 whole would be a copy of every unit's row
    needed = list(dict.fromkeys([*codes, *[name for p in positions for name in p.meta.root_names()]]))
    stacked = stack([d[needed] for d in details], "_i", range(len(details)), pl.UInt32)
    values = [pl.col(c).cast(pl.Float64).fill_null(0.0) for c in codes]
    sums = {r["_i"]: r for r in stacked.group_by("_i").agg(v.sum() for v in values).iter_rows(named=True)}
    first = [{"grouping": "", "grouping_name": GRAND_TOTAL[0], "grouping_name_en": GRAND_TOTAL[1], "group": "",
              "group_name": "", "group_name_en": "", "_i": i, "_order": -1}
             | {c: round_total(spec, c, sums.get(i, {}).get(c) or 0.0) for c in codes} for i in range(len(details))]
    rows = pl.DataFrame(first, schema=dict.fromkeys(LABELS, pl.Utf8) | {"_i": pl.UInt32, "_order": pl.Int64}
                        | dict.fromkeys(codes, pl.Float64))
    # each grouping's position of every 明细 row, summed per node and group, grouping after grouping (not
    # unpivoted first: a level of 100,000 units would be copied once per grouping)
    placed = stacked.select("_i", *positions, *values)
    found = pl.concat([placed.group_by("_i", g.id).agg(pl.col(codes).sum()).select(
        "_i", pl.lit(g.id).alias("grouping"), pl.col(g.id).alias("_pos"), *codes) for g in spec.groupings])
    every = pl.DataFrame({"_i": range(len(details))}, schema={"_i": pl.UInt32}).join(skeleton, how="cross")
    placed = every.join(found, on=["_i", "grouping", "_pos"], how="left", maintain_order="left").select(
        *LABELS, "_i", "_order", *[pl.col(c).fill_null(0.0) for c in codes]).with_columns(_rounded(spec, codes))
    out = pl.concat([rows, placed]).sort("_i", "_order", maintain_order=True).select("_i", *finish)
    off = _unbalanced(out, spec)
    parts = out.partition_by("_i", as_dict=True, include_key=False, maintain_order=True)
    return [parts[(i,)] for i in range(len(details))], [off.get(i, []) for i in range(len(details))]


def _plan(spec: Spec) -> tuple[list[str], list[pl.Expr], pl.DataFrame, list[pl.Expr]]:
    """What groups_frames asks of every node, made once per spec: the codes summed, each grouping's position
    expression, the sheet's rows, and its columns as written (rates from the summed terms)."""
    rates = {c.key: _rate(spec, c.key) for c in spec.group_columns if c.rate}
    columns = [*LABELS, *[rates.get(c.key, pl.col(c.key).cast(pl.Float64)).alias(c.key) for c in spec.group_columns]]
    return _codes(spec), [_position(g).alias(g.id) for g in spec.groupings], _skeleton(spec), columns


def unbalanced(groups: pl.DataFrame, spec: Spec) -> list[tuple[str, str, float, float]]:
    """(grouping's name, code, sum of its groups, 总计) wherever a grouping's groups do not add up to the total."""
    if not groups.height:
        return []
    return _unbalanced(groups.with_columns(pl.lit(0, pl.UInt32).alias("_i")), spec).get(0, [])


def _unbalanced(groups: pl.DataFrame, spec: Spec) -> dict[int, list[tuple[str, str, float, float]]]:
    """unbalanced for the sheets of several nodes, stacked (their number in `_i`)."""
    sums = [c.key for c in spec.group_columns if not c.rate]
    if not sums:
        return {}
    total = groups.filter(pl.col("grouping") == "").select("_i", *[pl.col(c).alias(f"_total_{c}") for c in sums])
    by = (groups.filter(pl.col("grouping") != "").group_by("_i", "grouping", maintain_order=True)
          .agg(pl.col("grouping_name").first(), pl.col(sums).sum()).join(total, on="_i", maintain_order="left"))
    off: dict[int, list[tuple[str, str, float, float]]] = {}
    for r in by.iter_rows(named=True):
        for c in sums:
            if abs(r[c] - r[f"_total_{c}"]) > 0.005:
                off.setdefault(r["_i"], []).append((r["grouping_name"], c, r[c], r[f"_total_{c}"]))
    return off


def balance_issues(unit: str, name: str, found: list[tuple[str, str, float, float]], spec: Spec) -> list[dict]:
    """groups-unbalanced for a summary made here (`found`: what `unbalanced` gives): each grouping must add up
    to the totals (the guard as the sheet is written; validate.py checks the same on a summary workbook read
    back)."""
    out = []
    for grouping, code, got, total in found:
        params = {"grouping": grouping, "name": spec.rows[code].name, "sum": fmt_number(got),
                  "total": fmt_number(total)}
        out.append(issue_row("", unit, "groups-unbalanced", params, code=code, name=spec.rows[code].name,
                             diff=imbalance(got - total)) | {"unit_name": name})
    return out


def sheet_unbalanced(path: Path, totals: dict, spec: Spec) -> list[tuple[str, str, float, float, str]]:
    """(grouping, code, sum of its rows, total, first cell) wherever the 分组 sheet of a summary workbook does
    not add up to `totals` (the sums of its 明细): each grouping (and the 总计 line, a grouping of one row)
    must. Columns are found by the codes of CODE_ROW; a workbook without the sheet (written before it) has
    nothing to check."""
    try:
        data = Path(path).read_bytes()
        verdict = screen(data, Limits.of(spec), lambda name: name == GROUPS_SHEET)
        if verdict.whole or GROUPS_SHEET in verdict.sheets:
            return []
        with quiet_stderr():
            reader = fastexcel.read_excel(data)
            if GROUPS_SHEET not in reader.sheet_names:
                return []
            raw = reader.load_sheet(GROUPS_SHEET, header_row=None, dtypes="string").to_polars()
    except BaseException as exc:  # a Rust panic too: a sheet that cannot be read is not checked
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return []
    if raw.height < CODE_ROW:
        return []
    codes = {j: v for j, v in enumerate(raw.row(CODE_ROW - 1)) if v in totals}
    rows = raw.slice(CODE_ROW).with_row_index("_r", offset=CODE_ROW + 1)
    rows = rows.filter(pl.col(raw.columns[0]).is_not_null() & pl.col(raw.columns[2]).is_not_null())
    out = []
    for (name,), part in rows.partition_by(raw.columns[0], as_dict=True, maintain_order=True).items():
        for j, code in codes.items():
            got = part[raw.columns[j]].str.replace_all(",", "").cast(pl.Float64, strict=False).fill_null(0.0).sum()
            total = totals.get(code) or 0.0
            if abs(got - total) > 0.005:
                out.append((name, code, got, total, f"{GROUPS_SHEET}!{get_column_letter(j + 1)}{part['_r'][0]}"))
    return out


def _codes(spec: Spec) -> list[str]:
    """Every numeric code the sheet sums: its columns and the terms of its rates."""
    codes = [c.key for c in spec.group_columns if not c.rate]
    for ind in spec.indicators:
        if any(c.rate and c.key == ind.id for c in spec.group_columns):
            codes += ind.numerator.codes + ind.denominator.codes
    return list(dict.fromkeys(codes))


def _position(g: Grouping) -> pl.Expr:
    """The position of the group that takes each 明细 row: the first whose values or condition hold. Groups of
    values only (an industry's 20 门类) are one lookup of the value, not a chain of twenty tests."""
    benji = pl.col("类型") == KIND_BENJI
    value = pl.col(g.column).cast(pl.Utf8).fill_null("").str.strip_chars()
    if g.prefix:
        value = value.str.slice(0, g.prefix).str.to_uppercase()
    if g.groups and all(group.values for group in g.groups):
        first: dict[str, int] = {}
        for i, group in enumerate(g.groups):
            for v in group.values:
                first.setdefault(v, i)
        found = value.replace_strict(first, default=_OTHER, return_dtype=pl.Int32)
        return pl.when(benji).then(pl.lit(_BENJI, pl.Int32)).otherwise(found)
    expr = pl.when(benji).then(pl.lit(_BENJI))
    for i, group in enumerate(g.groups):
        test = value.is_in(list(group.values)) if group.values else _holds(group.when)
        expr = expr.when(test).then(pl.lit(i))
    return expr.otherwise(pl.lit(_OTHER)).cast(pl.Int32)


def _holds(when: Expr) -> pl.Expr:
    """A group's condition; a blank number is 0, as in the totals (a summary's 明细 reads blanks as 0)."""
    left, right = (to_polars(side, {}).fill_null(0.0) for side in (when.left, when.right))
    return {"<=": left <= right, ">=": left >= right, "<": left < right, ">": left > right,
            "=": (left - right).abs() < 0.005, "≈": (left - right).abs() < 0.005}[when.cmp]


def _skeleton(spec: Spec) -> pl.DataFrame:
    rows = []
    for n, g in enumerate(spec.groupings):
        lines = [*[(i, grp.name, grp.name_en) for i, grp in enumerate(g.groups)],
                 (_OTHER, *UNCLASSIFIED), (_BENJI, *OWN_OFFICE)]
        for pos, name, name_en in lines:
            key = "" if pos >= _OTHER else group_key(g, pos)
            rows.append({"grouping": g.id, "grouping_name": g.name, "grouping_name_en": g.name_en, "group": key,
                         "group_name": name, "group_name_en": name_en, "_pos": pos, "_order": n * 10_000 + pos})
    schema = dict.fromkeys(LABELS, pl.Utf8) | {"_pos": pl.Int32, "_order": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def group_key(g: Grouping, pos: int) -> str:
    """What stands for a group in the csv and json: its one value (C, 170), else its position from 1."""
    values = g.groups[pos].values
    return values[0] if len(values) == 1 else str(pos + 1)


def _rounded(spec: Spec, codes: list[str]) -> list[pl.Expr]:
    """Counts whole, amounts to the cent, as the totals are (summary.round_total)."""
    return [pl.col(c).round(0 if spec.rows[c].kind != "amount" else 2) for c in codes]


def _rate(spec: Spec, key: str) -> pl.Expr:
    ind = next(i for i in spec.indicators if i.id == key)
    num, den = to_polars(ind.numerator.left, {}), to_polars(ind.denominator.left, {})
    return pl.when(den != 0).then(num / den).otherwise(None).cast(pl.Float64).alias(key)

