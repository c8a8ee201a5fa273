"""完整性: for each child of a node, the units expected, received, accepted, returned and missing; with a deadline,
those received late (迟报), and 报送率 and 及时率 (domain.md §5). Also what happened to each unit (its fate, a row
of UNIT_SCHEMA), to the inputs no node took, and the issues a missing unit gives."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tongji.aggregating.summary import read_sheet
from tongji.definitions import Spec
from tongji.definitions.registry import Registry
from tongji.i18n import MESSAGE_LANG, params_json, render
from tongji.issues.report import issue_row

ACCEPTED, RETURNED, UNUSED, MISSING = "采用", "退回", "未采用", "缺报"
TOTAL, OWN = "合计", "（本级）"  # the table per child's last row, and the mark on the row of a node's own 本级 workbook
PENDING = "待审"  # received, not yet accepted or returned: known only to a caller that reviews (the portal)
COMPLETENESS_SHEET = "完整性"
# the list of units below 完整性's table per child, its headers in either language (writing/unit_sheets.py)
UNITS_HEADERS = {
    "unit": ("单位代码", "Unit"), "name": ("单位名称", "Unit name"), "child": ("所属下级", "Child"),
    "status": ("状态", "Status"), "file": ("文件", "File"), "reason": ("原因", "Reason"),
    "date": ("报出日期", "Dated"), "late": ("及时性", "Timeliness"),
}
# every unit expected or received, and what happened to it (Summary.units): `reason` is the text in MESSAGE_LANG;
# `reason_code` (a key of i18n.MESSAGES) and `reason_params` render it in the reader's language when written
UNIT_SCHEMA = {"unit": pl.Utf8, "name": pl.Utf8, "child": pl.Utf8, "status": pl.Utf8, "file": pl.Utf8,
               "reason": pl.Utf8, "reason_code": pl.Utf8, "reason_params": pl.Utf8}


def unit_row(unit: str, name: str, child: str, status: str, file: str, reason: str, **params: object) -> dict:
    """One unit's fate (UNIT_SCHEMA); `reason` is a key of i18n.MESSAGES ("" for none) and `params` its parameters."""
    return {"unit": unit, "name": name, "child": child, "status": status, "file": file,
            "reason": render(reason, MESSAGE_LANG, params) if reason else "", "reason_code": reason,
            "reason_params": params_json(**params)}


@dataclass(frozen=True)
class Received:
    """What a caller that keeps the units' uploads (the portal) knows of a unit beyond the inputs: for a unit whose
    workbook is not among them, its upload's fate there, RETURNED or PENDING, with its file and its reason (a key
    of i18n.MESSAGES and its parameters); and whether it was late by the caller's own rule (the portal's: its first
    upload came after the deadline), None to judge by 报出日期 as without it. `date`: the 报出日期 on that file's
    cover (YYYY-MM-DD), shown as a returned workbook's is: the file is no input, so nothing else reads it."""

    status: str = ""  # "" for a unit whose workbook is among the inputs
    file: str = ""
    reason: str = ""
    params: dict = field(default_factory=dict)
    late: bool | None = None
    date: str = ""


def received_fates(units: pl.DataFrame, received: Mapping[str, Received] | None) -> pl.DataFrame:
    """`units` (UNIT_SCHEMA) where a unit with no accepted workbook was received by the caller (`received`): its
    rows returned or missing become one row with the caller's fate, in the place of the first."""
    if not received or not units.height:
        return units
    rows = [unit_row(u, "", "", r.status, r.file, r.reason, **r.params) for u, r in received.items()
            if r.status in (RETURNED, PENDING)]
    taken = units.filter(pl.col("status") == ACCEPTED)["unit"].implode()
    told = pl.col("unit").is_in(pl.DataFrame(rows or None, schema=UNIT_SCHEMA)["unit"].implode()) & ~pl.col(
        "unit").is_in(taken) & pl.col("status").is_in([RETURNED, MISSING, PENDING])
    if not units.select(told.any()).item():
        return units
    df = units.with_row_index("_i").with_columns(told.alias("_told"))
    df = df.filter(~pl.col("_told") | (pl.col("_i") == pl.col("_i").filter("_told").min().over("unit")))
    new = pl.DataFrame(rows, schema=UNIT_SCHEMA).drop("name", "child")
    df = df.join(new, on="unit", how="left", suffix="_new", maintain_order="left")
    swap = [pl.when("_told").then(pl.col(f"{c}_new")).otherwise(c).alias(c) for c in new.columns if c != "unit"]
    return df.with_columns(swap).select(list(UNIT_SCHEMA))


def subtree_fates(units: list[str], names: list[str], inside: set[str], taken: dict, child: str,
                  listed: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What happened to each unit of a child's subtree, given in the child's summary: a unit in its 明细 (`inside`)
    has the summary's fate (`taken`, a unit_row); any other has the fate the summary's 完整性 gives it (`listed`,
    from `listed_fates`), as if this rollup had read the unit's workbook itself: returned down there, with the
    file and reason said there, or missing. A unit listed with several workbooks (two of one unit, both returned)
    keeps a row for each, as a rollup of the workbooks themselves would. Also the 报出日期 of those returned (unit,
    file, date): they may be late, and of a unit's returned workbooks the earliest counts."""
    absent = unit_row("", "", child, MISSING, "", "reason-not-in-summary")
    below: dict[str, list[dict]] = {}
    for r in listed.iter_rows(named=True) if listed is not None else ():
        below.setdefault(r["unit"], []).append(r)
    each, at = [], []
    for u, name in zip(units, names, strict=True):
        rows = below.get(u, []) if u not in inside else []
        if not rows:
            each.append(taken if u in inside else absent)
            at.append((u, name))
        for r in rows:
            if r["status"] in (RETURNED, PENDING):  # waiting for review is said only by a portal's summary
                each.append(unit_row("", "", child, r["status"], r["file"], "reason-listed", text=r["reason"]))
            else:
                each.append(unit_row("", "", child, MISSING, "", "reason-missing"))
            at.append((u, name))
    frame = pl.DataFrame({"unit": [u for u, _ in at], "name": [n for _, n in at]}
                         | {c: [f[c] for f in each] for c in UNIT_SCHEMA if c not in ("unit", "name")},
                         schema=UNIT_SCHEMA)
    returned = [(u, r["file"], r["date"]) for u, rows in below.items() for r in rows
                if r["status"] in (RETURNED, PENDING) and r["file"]]
    return frame, pl.DataFrame(returned, schema={"unit": pl.Utf8, "file": pl.Utf8, "date": pl.Utf8}, orient="row")


def listed_fates(path: Path, spec: Spec) -> pl.DataFrame:
    """The units a summary workbook's 完整性 lists as returned, waiting (a portal's) or missing (unit, status, file,
    reason, date), read under headers in either language; none from a summary without that list."""
    fields = ("unit", "status", "file", "reason", "date")
    labels = {label: key for key, pair in UNITS_HEADERS.items() for label in pair}
    raw = read_sheet(path, COMPLETENESS_SHEET, spec, starts=UNITS_HEADERS["unit"])
    raw = raw.rename({c: labels[c] for c in raw.columns if c in labels})
    if not {"unit", "status"} <= set(raw.columns):
        return pl.DataFrame(schema=dict.fromkeys(fields, pl.Utf8))
    return raw.select(pl.col(f).fill_null("") if f in raw.columns else pl.lit("").alias(f) for f in fields).filter(
        pl.col("status").is_in([RETURNED, MISSING, PENDING]) & (pl.col("unit") != ""))


LATE = "迟报"


def dated(units: pl.DataFrame, carried: pl.DataFrame, files: pl.DataFrame, deadline: str | None,
          received: Mapping[str, Received] | None = None) -> pl.DataFrame:
    """Each unit's 报出日期 that counts and whether it was late, at each node (`_node`, as in `units`). `carried`
    (_node, unit, date) holds the date of every unit carried up in a node's 明细, `files` (unit, file, date) that
    of every workbook and of every unit a child's summary lists as returned or waiting: a unit's own date wins.
    Of a unit's workbooks, the one taken counts (采用); if none was, the earliest. A unit the caller received
    (`received`) is late as the caller says, whatever its date, and dated as it says where no workbook among the
    inputs is its. The rows stay in the order of `units` (level.py cuts them apart by position)."""
    told = pl.DataFrame({"unit": list(received or ()), "_late": [r.late for r in (received or {}).values()],
                         "_told_date": [r.date for r in (received or {}).values()]},  # _late None: by date
                        schema={"unit": pl.Utf8, "_late": pl.Boolean, "_told_date": pl.Utf8})
    df = (units.drop("date", "late", strict=False)
          .join(carried.select("_node", "unit", pl.col("date").alias("_unit_date")).unique(["_node", "unit"],
                keep="first"), on=["_node", "unit"], how="left", maintain_order="left")
          .join(files.select("unit", "file", pl.col("date").alias("_own_date")).unique(["unit", "file"],
                keep="first"), on=["unit", "file"], how="left", maintain_order="left")
          # by file alone (a child's summary dates the units in it) only where the name is one unit's: units a
          # portal's summary lists as returned or waiting may all have uploaded 报表.xlsx
          .join(files.filter(pl.col("unit").n_unique().over("file") == 1).select(
              "file", pl.col("date").alias("_file_date")).unique("file", keep="first"), on="file", how="left",
              maintain_order="left")
          .join(told, on="unit", how="left", maintain_order="left"))
    date = pl.coalesce(*(pl.col(c).replace("", None) for c in ("_unit_date", "_told_date", "_own_date", "_file_date")))
    received_now = pl.col("status").is_in([ACCEPTED, RETURNED, PENDING])
    df = df.with_columns(pl.when(received_now).then(date).otherwise(None).alias("date"))
    taken = pl.col("date").filter(pl.col("status") == ACCEPTED).min()
    df = df.with_columns(pl.coalesce(taken, pl.col("date").min()).over("_node", "unit").alias("_counts"))
    late = received_now & pl.lit(deadline is not None) & (pl.col("_counts") > pl.lit(deadline or ""))
    late = pl.when(pl.col("_late").is_not_null()).then(
        received_now & pl.lit(deadline is not None) & pl.col("_late")).otherwise(late)
    return df.with_columns(pl.when(late.fill_null(False)).then(pl.lit(LATE)).otherwise(pl.lit("")).alias("late"),
                           pl.col("date").fill_null("")).drop("_unit_date", "_own_date", "_file_date", "_counts",
                                                              "_late", "_told_date")


def completeness_frames(nodes: list[str], units: pl.DataFrame, registry: Registry, deadline: str | None = None
                        ) -> list[pl.DataFrame]:
    """Each node's 完整性: expected (registry) vs received vs accepted vs returned vs missing, per child and
    overall; with a deadline, the units received late (`units` from `dated`, every node's, by `_node`), 报送率 =
    received / expected and 及时率 = received on time / expected.

    A unit with one accepted and one returned workbook counts once, as accepted; one waiting for review (PENDING,
    a portal's) is received, neither accepted nor returned. One query for all the nodes
    (a level's): a query costs some 100 µs however small the frame, and a 街道 may have thousands of units."""
    kids = {"_node": [], "child": [], "child_name": [], "expected": []}
    for node in nodes:
        below = registry.children(node)
        kids["_node"] += [node] * (len(below) + 1)
        kids["child"] += [*below, node]
        kids["child_name"] += [*registry.names(below), registry.get(node)["单位名称"] + OWN]
        kids["expected"] += [*registry.sizes(below), 1]
    flags = [(pl.col("status") == ACCEPTED).any().alias("acc"), (pl.col("status") == RETURNED).any().alias("ret"),
             (pl.col("status") == MISSING).any().alias("mis"), (pl.col("late") == LATE).any().alias("lat"),
             (pl.col("status") == PENDING).any().alias("pen")]
    if "late" not in units.columns:
        units = units.with_columns(pl.lit("").alias("late"))
    # a grassroots child is one unit, its own child; a 区's units are each counted once
    per_unit = units.lazy().group_by("_node", "child", "unit").agg(flags)
    counts = per_unit.group_by("_node", "child").agg(
        pl.col("acc").sum().alias("accepted"), (pl.col("ret") & ~pl.col("acc")).sum().alias("returned"),
        pl.col("mis").sum().alias("missing"), (pl.col("acc") | pl.col("ret") | pl.col("pen")).sum().alias("received"),
        ((pl.col("acc") | pl.col("ret") | pl.col("pen")) & pl.col("lat")).sum().alias("late"))
    n = ["received", "accepted", "returned", "missing", "late"]
    schema = {"_node": pl.Utf8, "child": pl.Utf8, "child_name": pl.Utf8, "expected": pl.Int64}
    df = pl.LazyFrame(kids, schema=schema).join(counts, on=["_node", "child"], how="left", maintain_order="left"
                                                ).with_columns(pl.col(n).fill_null(0).cast(pl.Int64)).select(
        "_node", "child", "child_name", "expected", *n)
    sums = ("expected", "received", "accepted", "returned", "missing", "late")
    total = df.group_by("_node", maintain_order=True).agg(pl.col(sums).sum()).select(
        "_node", pl.lit(TOTAL).alias("child"), pl.lit("").alias("child_name"), *sums)
    share = pl.when(pl.col("expected") > 0).then(pl.col("received") / pl.col("expected"))
    timely = pl.when(pl.col("expected") > 0).then((pl.col("received") - pl.col("late")) / pl.col("expected"))
    out = (pl.concat([df.with_columns(pl.lit(0).alias("_total")), total.with_columns(pl.lit(1).alias("_total"))])
           .with_columns(share.alias("reported_rate"), timely.alias("timely_rate")))
    if deadline is None:  # without a deadline nothing is late, and 及时率 is not known
        out = out.with_columns(pl.lit(None, pl.Int64).alias("late"), pl.lit(None, pl.Float64).alias("timely_rate"))
    # each node's 合计 after its children
    parts = out.sort("_total", maintain_order=True).drop("_total").collect().partition_by(
        "_node", as_dict=True, include_key=False, maintain_order=True)
    return [parts[(node,)] for node in nodes]


def per_child_in(per_child: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The table per child as a reader of `lang` sees it: in English its last row reads Total and a node's own row
    "name (本级)". The summary keeps 合计, which writers (the HTML report) look for."""
    if lang != "en" or "child" not in per_child.columns:
        return per_child
    return per_child.with_columns(pl.col("child").replace(TOTAL, "Total"),
                                  pl.col("child_name").str.replace(f"{OWN}$", " (本级)"))


def unused_fates(left: pl.DataFrame, registry: Registry, node: str, summarised: Collection[str],
                 missing: Collection[str] = ()) -> tuple[pl.DataFrame, list[dict]]:
    """What happened to the inputs no node took (`left`: file, unit, unit_name): unknown units, units of another
    node, unreadable files, revoked units, units covered by a summary (one of `summarised`, the units whose
    summaries are among the inputs, is the unit or above it below `node`) or left out of it (`missing` there),
    any other not used; and a not-under-node issue for each workbook of a unit outside `node`."""
    rows, issues = [], []
    below = set(registry.subtree(node))

    def covered(unit: str) -> bool:
        while unit and unit != node:
            if unit in summarised:
                return True
            unit = registry.get(unit)["上级代码"]
        return False

    for b in left.iter_rows(named=True):
        unit = b["unit"] or ""
        reg = registry.get(unit) if unit else None
        params = {}
        if reg is None and unit:
            status, reason = "未知单位", "reason-unknown"
        elif reg is None:
            status, reason = "无法读取", "reason-unreadable"
        elif reg["状态"] == "撤销":
            status, reason = "已撤销", "reason-revoked"
        elif unit not in below:
            status, reason, params = "不属本级", "reason-elsewhere", {"parent": reg["上级代码"]}
            issues.append(issue_row(b["file"], unit, "not-under-node", {"unit": unit, "node": node}, code="FM02"))
        elif not covered(unit):  # e.g. `node`'s own summary of an earlier run, left among its inputs
            status, reason = UNUSED, "reason-not-used"
        else:  # the summary is summed in its place; one that has the unit 缺报 does not hold this workbook
            status, reason = UNUSED, "reason-missing-below" if unit in missing else "reason-covered"
        rows.append(unit_row(unit, b["unit_name"] or "", "", status, b["file"], reason, **params))
    return (pl.DataFrame(rows, schema=UNIT_SCHEMA) if rows else pl.DataFrame(schema=UNIT_SCHEMA)), issues


COVERED = ("reason-covered", "reason-missing-below")  # an input that a child's summary among the inputs stands for


def covered_files(inputs: pl.DataFrame) -> list[str]:
    """The inputs left unused because a child's summary among the inputs covers their units (unused_fates; from a
    summary's manifest lines, which keep them all): the summary is summed in their place, and their issues are that
    summary's, not the rollup's."""
    return inputs.filter(pl.col("reason_code").is_in(COVERED))["file"].to_list()


def told_below(unused: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """`unused` (unused_fates) without the covered workbooks of a unit that a child's summary lists as returned or
    waiting (`units`): its line there, with the reason said down there, is that workbook's fate, and a second line
    saying 未采用 would contradict it. A unit taken in the summary keeps its workbook's line: the summary is the
    file its 采用 names."""
    told = units.filter(pl.col("status").is_in([RETURNED, PENDING]))["unit"].implode()
    return unused.filter((pl.col("reason_code") != "reason-covered") | ~pl.col("unit").is_in(told))


def missing_issues(units: pl.DataFrame, registry: Registry, node: str) -> list[dict]:
    """A warning for each missing unit; one absent from a child's summary whose 完整性 does not list it either (a
    summary of an older tongji, a registry that has changed since), or whose own workbook is among the inputs
    beside that summary, is said to be left out of the summary, not to have sent nothing. A part of the tree from
    which nothing came at all (a 街道 with no summary and no workbook of its units; at a 市, a whole 区) is one
    warning for its top unit, not one for each unit: a statistician asks that union; 完整性 lists the units."""
    missing = units.filter(pl.col("status") == MISSING)
    if missing.is_empty():
        return []
    heard: set[str] = set()  # units below `node` something came from, from them or from beneath them
    for unit in units.filter(pl.col("status") != MISSING)["unit"].to_list():
        while unit and unit != node and unit not in heard and unit in registry:
            heard.add(unit)
            unit = registry.parent(unit)
    tops = []  # the highest unit above each missing one (itself included) that nothing came from
    for unit in missing["unit"].to_list():
        top = unit
        while unit and unit != node and unit not in heard and unit in registry:
            top, unit = unit, registry.parent(unit)
        tops.append(top)
    size = Counter(tops)
    sent = set(units.filter(pl.col("reason_code") == "reason-missing-below")["unit"].to_list())
    out, said = [], set()
    for r, top in zip(missing.iter_rows(named=True), tops, strict=True):
        if size[top] == 1 and top == r["unit"]:
            out.append(issue_row("", r["unit"], "missing-unit", {"unit": r["unit"], "name": r["name"],
                                                                  "child": r["child"]},
                                 variant="missing-in-summary" if r["reason_code"] == "reason-not-in-summary"
                                 or r["unit"] in sent else None))
        elif top not in said:
            said.add(top)
            out.append(issue_row("", top, "missing-unit", {"unit": top, "name": registry.names([top])[0],
                                                            "child": r["child"], "n": size[top]},
                                 variant="child-silent"))
    return out


def strays_apart(detail: pl.DataFrame, units: list[str], file: str, child: str, registry: Registry,
                 issues: list[dict]) -> pl.DataFrame:
    """A child summary's 明细 without the units the registry does not place beneath the child (a summary made with
    an older registry still holds a unit moved to another 街道, whose own summary holds it too: it would count
    twice); each one left out is said in `issues`."""
    strays = detail.filter(~pl.col("单位代码").is_in(units))
    for unit in strays["单位代码"].to_list():
        row = registry.get(unit)
        issues.append(issue_row(file, child, "outside-child-summary",
                                {"unit": unit, "name": row["单位名称"] if row else "", "child": child}))
    return detail.filter(pl.col("单位代码").is_in(units)) if strays.height else detail
