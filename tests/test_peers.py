"""Outliers across peers (domain.md §10): a unit's ratios against its peer group's median and MAD, heaped figures
and copied workbooks, each found over the whole batch."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import tongji
from tongji.errors import TongjiError
from tongji.testing import load_plugin
from workbooks import GOOD, cover, make_workbook, uscc

PEER_RULES = ["peer-outlier", "peer-outlier-far", "heaped-figures", "copied-workbook"]


def unit(i: int) -> str:
    return uscc(f"81330106MC{i:07d}")


def batch(folder: Path, members: list[int], notes: dict | None = None, **extra: dict) -> Path:
    """One workbook per unit: 100 staff each (内资企业 170, size class 100–499), `members[i]` of them members.
    Each unit has its own number of part-time union staff (HY14), so that no two workbooks are copies."""
    for i, hy03 in enumerate(members):
        values = {"HY03": hy03, "HY04": min(35, hy03 // 2), "HY12": min(80, hy03), "HY14": i + 1,
                  **extra.get(str(i), {})}
        make_workbook(folder / f"u{i:02d}.xlsx", values, cover(unit(i)), notes=notes if i == 0 else None)
    return folder


def peer_findings(report) -> list[list]:
    found = report.issues.filter(pl.col("rule").is_in(PEER_RULES))
    return [list(r) for r in found.select("unit", "rule", "severity", "cell", "cells").rows()]


def test_a_unit_far_from_its_peers_is_a_warning(tmp_path):
    # nine units with 86–94 members of 100 staff, one with 20: 入会率 20% against a median of 89.5%
    report = tongji.validate(batch(tmp_path, [20, *range(86, 95)]))
    far = unit(0)
    assert peer_findings(report) == [
        [far, "peer-outlier-far", "警告", "会员!D8", ["会员!D8", "会员!D6"]],  # 入会率 HY03 / HY01
        [far, "peer-outlier-far", "警告", "经费!D6", ["经费!D6", "会员!D8"]],  # 人均经费收入 JF01 / HY03
    ]
    first = report.issues.filter(pl.col("rule") == "peer-outlier-far").row(0, named=True)
    assert first["message"] == ("职工入会率为 20.0%，远离同类单位（内资企业，职工 100–499 人，10 家）的中位数 89.5%"
                                "（稳健 z = -18.8），请核实或在说明栏说明")
    assert first["explained"] is None
    status = report.workbooks.filter(pl.col("unit") == far).row(0, named=True)
    assert (status["status"], status["warnings"], status["errors"]) == ("有警告", 2, 0)
    english = report.issues_in("en").filter(pl.col("rule") == "peer-outlier-far")["message"][0]
    assert english == ("The membership rate is 20.0%, very far from the median 89.5% of its peers (domestic firms, "
                       "100–499 employees, 10 units; robust z = -18.8): check it or explain it in 说明")


def test_a_warning_explained_in_the_note_is_explained(tmp_path):
    note = "大量劳务派遣人员在派出单位入会"
    report = tongji.validate(batch(tmp_path, [20, *range(86, 95)], notes={"HY03": note}))
    found = report.issues.filter(pl.col("rule") == "peer-outlier-far")
    assert found["explained"].to_list() == [note, note]  # HY03 is a cell of both ratios
    status = report.workbooks.filter(pl.col("unit") == unit(0)).row(0, named=True)
    assert (status["status"], status["warnings"], status["explained"]) == ("通过", 0, 2)


def test_a_unit_somewhat_off_is_a_notice_that_does_not_hold_it_back(tmp_path):
    # 入会率 55%: z = 0.6745 × (0.55 − 0.895) / 0.025 = −9.3, between the two thresholds; 人均经费 is still far
    report = tongji.validate(batch(tmp_path, [55, *range(86, 95)]))
    rules = {(r[1], r[3]) for r in peer_findings(report)}
    assert ("peer-outlier", "会员!D8") in rules
    assert report.workbooks.filter(pl.col("unit") == unit(0))["errors"].item() == 0


def test_a_group_smaller_than_the_minimum_is_not_judged(tmp_path):
    report = tongji.validate(batch(tmp_path, [20, *range(86, 92)]))  # 7 units: fewer than 8
    assert peer_findings(report) == []


def test_units_of_another_group_or_size_are_not_peers(tmp_path):
    batch(tmp_path, [*range(86, 95)])
    # the same far-off figures, but a 事业单位 (400): alone in its group, so not judged
    make_workbook(tmp_path / "other.xlsx", {"HY03": 20, "HY04": 10, "HY12": 20, "HY14": 30},
                  cover(unit(50), FM06="400"))
    assert peer_findings(tongji.validate(tmp_path)) == []


def test_mad_zero_is_floored_not_divided_by(tmp_path):
    # nine units with exactly 90 members of 100 (MAD = 0), one with 88: floored at 2% of the median, z = −0.75
    report = tongji.validate(batch(tmp_path, [88, *[90] * 9]))
    assert peer_findings(report) == []
    assert report.issues.filter(pl.col("rule").str.starts_with("peer")).height == 0


def test_mad_zero_still_finds_the_far_one(tmp_path):
    report = tongji.validate(batch(tmp_path, [45, *[90] * 9]))  # z = 0.6745 × 0.45 / 0.018 = −16.9
    assert [r[1:4] for r in peer_findings(report)][0] == ["peer-outlier-far", "警告", "会员!D8"]


def test_thresholds_are_configuration(tmp_path):
    folder = batch(tmp_path / "in", [88, *[90] * 9])
    plugin = tmp_path / "严格.toml"
    plugin.write_text('[config]\n"同类比较_提示阈值" = 0.5\n"同类比较_离散下限" = 0.01\n', encoding="utf-8")
    spec = load_plugin(plugin).spec
    # 0.6745 × 0.02 / 0.009 = 1.5: a notice once the threshold is lowered, on 入会率, 女会员占比 and 人均经费
    found = peer_findings(tongji.validate(folder, spec=spec))
    assert [(r[0], r[1], r[3]) for r in found] == [(unit(0), "peer-outlier", "会员!D8"),
                                                   (unit(0), "peer-outlier", "会员!D9"),
                                                   (unit(0), "peer-outlier", "经费!D6")]
    plugin.write_text('[config]\n"同类比较_最少单位数" = 11\n', encoding="utf-8")
    far = batch(tmp_path / "far", [20, *range(86, 95)])
    assert peer_findings(tongji.validate(far, spec=load_plugin(plugin).spec)) == []


def test_a_plugin_adds_a_peer_ratio(tmp_path):
    plugin = tmp_path / "帮扶.toml"
    plugin.write_text('[[peer_ratio]]\nid = "兼职比"\nname = "兼职工会工作人员占会员"\nnumerator = "HY14"\n'
                      'denominator = "HY03"\n', encoding="utf-8")
    spec = load_plugin(plugin).spec
    folder = batch(tmp_path / "in", [90] * 10, **{"0": {"HY14": 80}})  # the others have 2–10
    found = tongji.validate(folder, spec=spec).issues.filter(pl.col("rule").str.starts_with("peer"))
    assert found.select("unit", "rule", "cell").rows() == [(unit(0), "peer-outlier-far", "会员!D19")]
    assert found["message"][0].startswith("兼职工会工作人员占会员为 88.9%")


def test_a_unit_returned_for_an_error_is_not_compared(tmp_path):
    # 20 members but 35 女会员: hy04-le-hy03 returns it; a peer finding would only repeat that
    report = tongji.validate(batch(tmp_path, [20, *range(86, 95)], **{"0": {"HY04": 35}}))
    assert "hy04-le-hy03" in report.issues["rule"].to_list()
    assert peer_findings(report) == []


def heaped(i: int) -> dict:
    return {"HY01": 1200, "HY02": 500, "HY03": 1100, "HY04": 400, "HY05": 300, "HY12": 1000, "HY14": i + 1,
            "BF19": 800}


def test_heaped_figures_are_a_notice(tmp_path):
    make_workbook(tmp_path / "a.xlsx", heaped(0), cover(unit(0)))
    report = tongji.validate(tmp_path)
    found = report.issues.filter(pl.col("rule") == "heaped-figures")
    assert found.select("unit", "severity", "cell").rows() == [(unit(0), "提示", "会员!D6")]
    assert found["cells"][0].to_list() == ["会员!D6", "会员!D7", "会员!D8", "会员!D9", "会员!D10", "会员!D17",
                                           "帮扶!D24"]
    assert found["message"][0].startswith("7 个人数、户数等计数格都是 100 的整倍数（会员!D6、会员!D7")
    from tongji.issues.catalog import Catalog
    from tongji.plugins import load_spec

    english = Catalog.of(load_spec()).render(found, "en")["message"][0]
    assert english.startswith("7 count cells are all multiples of 100 (会员!D6, 会员!D7, 会员!D8")
    assert report.workbooks["status"].to_list() == ["通过"]


def test_figures_with_one_exact_count_are_not_heaped(tmp_path):
    make_workbook(tmp_path / "a.xlsx", {**heaped(0), "HY03": 1123}, cover(unit(0)))
    make_workbook(tmp_path / "b.xlsx", {**heaped(1), "HY12": None, "BF19": 0, "HY05": 0}, cover(unit(1)))  # 4 cells
    assert tongji.validate(tmp_path).issues.filter(pl.col("rule") == "heaped-figures").height == 0


def test_two_units_with_identical_values_are_copied(tmp_path):
    make_workbook(tmp_path / "甲.xlsx", None, cover(unit(1)))
    make_workbook(tmp_path / "乙.xlsx", None, cover(unit(2), FM01="示例市第二机械厂工会"))
    report = tongji.validate(tmp_path)
    found = report.issues.filter(pl.col("rule") == "copied-workbook")
    assert found.select("unit", "severity", "cell").rows() == [(unit(2), "警告", "封面!C7"),
                                                                (unit(1), "警告", "封面!C7")]
    assert found.filter(pl.col("unit") == unit(1))["message"][0] == (
        f"全部数值与 单位 {unit(2)}（乙.xlsx） 完全相同，可能是复制的工作簿，请核实")
    english = report.issues_in("en").filter((pl.col("rule") == "copied-workbook") & (pl.col("unit") == unit(1)))
    assert english["message"].to_list() == [
        f"Every value is the same as in unit {unit(2)} (乙.xlsx): a copied workbook? Please check"]


def test_two_units_differing_in_one_cell_are_not_copied(tmp_path):
    make_workbook(tmp_path / "甲.xlsx", None, cover(unit(1)))
    make_workbook(tmp_path / "乙.xlsx", {"BF20": 2100}, cover(unit(2)))
    # and two workbooks of one unit are duplicate-unit, not a copy
    make_workbook(tmp_path / "丙.xlsx", {"BF20": 2100}, cover(unit(2)))
    rules = tongji.validate(tmp_path).issues["rule"].to_list()
    assert "copied-workbook" not in rules and rules.count("duplicate-unit") == 2


def test_nearly_empty_workbooks_are_not_copies(tmp_path):
    zeros = dict.fromkeys(GOOD, 0) | {"JH01": 1}  # one nonzero cell: fewer than 雷同_最少非零格数
    for i in (1, 2):
        make_workbook(tmp_path / f"{i}.xlsx", zeros, cover(unit(i)))
    assert "copied-workbook" not in tongji.validate(tmp_path).issues["rule"].to_list()


def test_rollup_reports_peer_findings_and_still_takes_the_unit(tmp_path):
    """In rollup the peers are the batch's grassroots workbooks too; a warning does not return a workbook."""
    from tongji.testing import make_city, rollup

    host = load_plugin(builtins_only=True)
    far: list[str] = []

    def values(code: str, row: dict) -> dict:
        if row["层级"] == "基层" and not far:
            far.append(code)
            return {"HY03": 20, "HY04": 8, "HY12": 20}
        return {}

    city = make_city(tmp_path, host, streets=(10,), values=values)
    top = rollup(host, city)[city.top]
    found = top.issues.filter(pl.col("rule").str.starts_with("peer"))
    assert found.select("unit", "rule", "cell").rows() == [(far[0], "peer-outlier-far", "会员!D10"),  # a template
                                                           (far[0], "peer-outlier-far", "经费!D8")]
    assert top.units.filter(pl.col("unit") == far[0])["status"].to_list() == ["采用"]
    assert top.total("HY03") == 20 + 9 * 90 + 3 * 90  # and the 本级 workbooks of 街道, 区 and 市


def test_a_peer_ratio_naming_an_unknown_code_is_refused_at_its_line(tmp_path):
    plugin = tmp_path / "坏.toml"
    plugin.write_text('[[peer_ratio]]\nid = "坏"\nname = "坏"\nnumerator = "HY99"\ndenominator = "HY03"\n',
                      encoding="utf-8")
    with pytest.raises(TongjiError) as caught:
        load_plugin(plugin).spec  # noqa: B018 - building the spec is what refuses it
    assert "坏.toml" in str(caught.value) and "HY99" in str(caught.value)
    assert caught.value.kw["line"] == "4"
