"""`rollup --all` runs on every node's totals the checks that level-by-level rollup runs on child summaries,
so the two agree on 校验, not only on totals."""

from __future__ import annotations

import polars as pl

from city import build, values_for
from test_rollup import level_by_level
from tongji.aggregating.rollup import rollup_all
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
