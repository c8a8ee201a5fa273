"""`rollup --all` runs on every node's totals the checks that level-by-level rollup runs on child summaries,
so the two agree on 校验, not only on totals."""

from __future__ import annotations

import polars as pl

from city import build, values_for
from test_rollup import level_by_level
from tongji.aggregating.rollup import rollup, rollup_all
from tongji.aggregating.summary import TRANSFER_NOTE
from tongji.checking.totals import total_cells
from tongji.plugins import load_spec

KEYS = ["unit", "severity", "rule", "cell", "cells", "code", "value", "message", "diff"]


def no_amounts(i: int, benji: bool) -> dict:
    return values_for(1 + i % 7, benji) | {"BF12": 0}  # 送温暖 visits with no amount anywhere: a 警告 on totals


def test_checks_on_intermediate_totals_agree(tmp_path):
    city = build(tmp_path / "city", [[2, 1], [1]], values=no_amounts)
    done = level_by_level(city, tmp_path / "levels")
    every = rollup_all(city.folder, registry=city.registry, period="2025")
    summaries = [c for c, u in city.units.items() if u["层级"] in ("街道", "区")]
    for node, (summary, _) in done.items():
        # level by level, a node's 校验 holds what validating its child summaries' workbooks found
        files = {str(path): child for child, (_, path) in done.items() if city.units[child]["上级代码"] == node}
        levels = summary.issues.filter(pl.col("file").is_in(list(files)))
        assert set(levels["unit"]) == {c for c in files.values()}, node  # every child's totals fail the check
        made = every[node].issues.filter((pl.col("file") == "") & (pl.col("rule") != "missing-unit"))
        mine = made.filter(pl.col("unit").is_in(list(files.values())))
        assert mine.select(KEYS).sort(KEYS).rows() == levels.select(KEYS).sort(KEYS).rows(), node
        # --all also carries the checks of deeper summaries up, as it carries the grassroots issues
        deeper = {c for c in summaries if c in city.subtree(node) and c != node}
        assert set(made["unit"]) == deeper, node


def test_total_cells_are_where_the_summary_workbook_holds_them(tmp_path):
    import openpyxl

    city = build(tmp_path / "city", [[1]])
    done = level_by_level(city, tmp_path / "levels")
    wb = openpyxl.load_workbook(done["330100"][1])
    for code, cell in total_cells(load_spec()).items():
        sheet, ref = cell.split("!")
        assert wb[sheet][ref].offset(column=-2).value == code, cell


# --- checks written in Python, on summaries made in memory ----------------------------------------

class SummaryChecks:
    """A region's checks on summaries: a 街道 over a 会员 limit is an 错误 (returned), every summary gets a 警告
    on its cover (by code and by cell) and on JF04 (explained by the note beside it in a summary workbook)."""

    from tongji.plugin import hookimpl

    def __init__(self, limit: float, cover_cell: str):
        self.limit, self.cover_cell, self.seen = limit, cover_cell, []

    def too_many_members(self, table):
        self.seen.append(table.filter(pl.col("类型") == "汇总"))
        big = table.filter(pl.col("层级") == "街道", pl.col("HY03") > self.limit)
        return big.select("file", pl.lit("HY03").alias("code"))

    def every_summary(self, table, registry, period):
        assert registry is not None and period == "2025"
        return [issue | {"file": f} for f in table["file"]
                for issue in ({"code": "JF04"}, {"code": "FM07"}, {"cell": self.cover_cell, "severity": "提示"})]

    @hookimpl
    def register_checks(self, register):
        register("street-members", self.too_many_members, "错误", "{FM01} 会员 {HY03} 人，超过上限", scope="汇总")
        register("summary-seen", self.every_summary, "警告", "{FM01}（{FM07}）的 JF04 为 {JF04}", scope="汇总")


def test_python_checks_on_summaries_made_in_memory_agree_with_level_by_level(tmp_path):
    from tongji.checking.totals import cover_cells
    from tongji.testing import load_plugin

    city = build(tmp_path / "city", [[2, 1, 4], [1]])
    streets = {c: city.expected(c)["HY03"] for c, u in city.units.items() if u["层级"] == "街道"}
    biggest, *others = sorted(streets, key=streets.get, reverse=True)
    assert streets[biggest] > streets[others[0]]
    checks = SummaryChecks(streets[others[0]], cover_cells(load_spec())["FM07"])
    spec = load_plugin(checks, name="region").spec

    done = level_by_level(city, tmp_path / "levels", spec=spec)
    levels_seen, checks.seen = pl.concat(checks.seen), []
    every = rollup_all(city.folder, registry=city.registry, period="2025", spec=spec)
    all_seen = pl.concat(checks.seen)

    # the check sees the same table either way (but `file`: a path, or the name the workbook would get)
    assert all_seen["file"].to_list() == [f"{u}_2025_汇总.xlsx" for u in all_seen["FM02"]]
    assert all_seen.drop("file").sort("FM02").rows() == levels_seen.drop("file").sort("FM02").rows()
    assert set(all_seen["FM02"]) == set(streets) | {c for c, u in city.units.items() if u["层级"] == "区"}

    mine = ["street-members", "summary-seen"]
    keys = [*KEYS, "explained"]
    for node, (summary, _) in done.items():
        # the same acceptance: the big 街道 is returned to its 区, its units are in no total above it
        assert summary.detail["单位代码"].sort().to_list() == every[node].detail["单位代码"].sort().to_list(), node
        assert summary.totals.rows() == every[node].totals.rows(), node
        # the same issues on the child summaries, with the same cells, values, messages and explanations
        files = {str(path) for child, (_, path) in done.items() if city.units[child]["上级代码"] == node}
        levels = summary.issues.filter(pl.col("file").is_in(list(files)), pl.col("rule").is_in(mine))
        children = [c for c in city.children.get(node, []) if c in done]
        made = every[node].issues.filter(pl.col("file") == "", pl.col("rule").is_in(mine),
                                         pl.col("unit").is_in(children))
        assert made.select(keys).sort(keys).rows() == levels.select(keys).sort(keys).rows(), node
    district = city.units[biggest]["上级代码"]
    returned = done[district][0].completeness.filter(pl.col("child") == biggest)
    assert returned["accepted"].to_list() == [0] and returned["returned"].to_list() == [len(city.subtree(biggest))]
    assert every[district].completeness.filter(pl.col("child") == biggest).rows() == returned.rows()
    flagged = every[district].issues.filter(pl.col("rule") == "street-members")
    assert flagged.select("unit", "severity", "cell").rows() == [(biggest, "错误", "会员!D10")]
    jf04 = every[district].issues.filter(pl.col("rule") == "summary-seen", pl.col("code") == "JF04")
    assert set(jf04["explained"]) == {TRANSFER_NOTE}  # a 警告 beside the summary's note is explained

    # rollup of one node sums a child that sent no summary in memory too, and returns it the same way
    alone = rollup(city.folder, registry=city.registry, unit=district, period="2025", spec=spec)
    assert alone.detail["单位代码"].sort().to_list() == every[district].detail["单位代码"].sort().to_list()
    # --include-errors takes it, as it takes a workbook with errors
    taken = rollup_all(city.folder, registry=city.registry, period="2025", spec=spec, include_errors=True)
    assert set(city.subtree(biggest)) <= set(taken[district].detail["单位代码"])


# --- a summary allows each of its workbooks its own rounding ---------------------------------------

def off_by_cents(i: int, benji: bool) -> dict:
    """Every workbook's 收入合计 5 分 above its lines, within its tolerance (0.01 元 for each of 9 terms): accepted."""
    v = values_for(1, benji) | {"BF20": 2000 + i}
    return v | {"JF01": v["JF01"] + 0.05, "JF21": v["JF21"] + 0.05}


def test_a_summary_of_workbooks_each_within_tolerance_is_not_returned(tmp_path):
    """Two grassroots unions and a 街道's 本级, each 0.05 off: the 街道's total is 0.15 off, more than one workbook's
    0.09 but within three. Its units were accepted with it, so the 区 must not return the 街道 for jf01-sum,
    level by level (its summary workbook validated) or with --all (its totals made in memory)."""
    city = build(tmp_path / "city", [[2]], values=off_by_cents)
    done = level_by_level(city, tmp_path / "levels")
    every = rollup_all(city.folder, registry=city.registry, period="2025")
    for node in ("330101", "330100"):
        for summary in (done[node][0], every[node]):
            assert "jf01-sum" not in summary.issues["rule"].to_list(), node
            assert summary.total("JH00") == 2, node


def test_a_summary_imbalanced_beyond_its_units_rounding_is_still_caught(tmp_path):
    """A 街道 that took a unit 100 元 off (--include-errors) sends a summary 100 元 off: the 区 sees jf01-sum."""
    city = build(tmp_path / "city", [[2]], values=lambda i, benji: values_for(1, benji) | {"BF20": 2000 + i} | (
        {"JF01": values_for(1, benji)["JF01"] + 100, "JF21": values_for(1, benji)["JF21"] + 100} if i == 3 else {}))
    street = next(c for c, u in city.units.items() if u["层级"] == "街道")
    inputs = [city.units[street]["file"], *[city.units[c]["file"] for c in city.children[street]]]
    summary = rollup(inputs, registry=city.registry, unit=street, period="2025", include_errors=True)
    from tongji.writing.summary_files import write_summary

    path = next(p for p in write_summary(summary, tmp_path / "out", load_spec()) if p.suffix == ".xlsx")
    import tongji

    found = tongji.validate([path], period="2025").issues.filter(pl.col("rule") == "jf01-sum")
    assert found.select("rule", "cell", "diff").rows() == [("jf01-sum", "经费!D8", 100.0)]
