"""Explanations travel up: a unit's 说明 goes with its 明细 into every summary above it (the 说明 sheet, and beside
the summary's total of that line), so a warning explained at the 街道 is not returned unexplained by the 区."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest

from city import build
from tongji.aggregating.rollup import rollup, rollup_all
from tongji.plugins import load_spec
from tongji.writing.summary_files import write_summary

NOTE = "含退休后仍保留会籍的会员 10000 人"
TRICKY = "+1 人为劳务派遣"  # a leading + must stay text in every summary, never become a formula


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """One 街道 whose first unit has more members than employees (警告 hy03-le-hy01), explained in 说明; it is
    big enough that the 街道's own totals break the same rule."""
    city = build(tmp_path_factory.mktemp("notes"), [[2]])
    street = city.children["330101"][0]
    unit = city.children[street][0]
    values = dict(city.units[unit]["values"], HY03=city.units[unit]["values"]["HY01"] + 10000)
    city.write(unit, city.units[unit]["file"], values, notes={"HY03": NOTE})
    city.street, city.unit = street, unit
    return city


def warnings(summary, rule="hy03-le-hy01"):
    return summary.issues.filter(pl.col("rule") == rule).select("unit", "explained").rows()


def test_the_unit_note_is_kept_with_the_street_summary(city, tmp_path):
    s = rollup(city.folder, registry=city.registry, unit=city.street, period="2025")
    assert warnings(s) == [(city.unit, NOTE)]  # explained in the unit's own workbook
    name = city.units[city.unit]["单位名称"]
    assert s.notes.rows() == [(city.unit, "基层", name, "HY03", NOTE)]
    path = next(p for p in write_summary(s, tmp_path, load_spec()) if p.suffix == ".xlsx")
    wb = openpyxl.load_workbook(path)
    assert [c.value for c in wb["说明"][2]] == [city.unit, name, "基层", "会员", "HY03", "会员人数", NOTE]
    members = {r[1]: r[4] for r in wb["会员"].iter_rows(values_only=True)}
    assert members["HY03"] == f"{name}：{NOTE}"  # beside the 街道's own total of the line
    assert members["HY01"] is None


def test_the_district_finds_the_street_warning_explained(city, tmp_path):
    street = rollup(city.folder, registry=city.registry, unit=city.street, period="2025")
    summary = next(p for p in write_summary(street, tmp_path, load_spec()) if p.suffix == ".xlsx")
    district = rollup([summary, city.units["330101"]["file"]], registry=city.registry, unit="330101", period="2025")
    name = city.units[city.unit]["单位名称"]
    # the 街道's totals break the rule too; the unit's explanation, carried beside HY03, explains it
    assert warnings(district) == [(city.street, f"{name}：{NOTE}")]
    assert district.notes.select("单位代码", "说明").rows() == [(city.unit, NOTE)]
    # --all makes the 街道 in memory and gets the same
    at_once = rollup_all(city.folder, registry=city.registry, period="2025")["330101"]
    assert sorted(warnings(at_once)) == sorted([(city.unit, NOTE), (city.street, f"{name}：{NOTE}")])
    assert at_once.notes.rows() == district.notes.rows()


def test_without_the_note_the_district_gets_an_unexplained_warning(city, tmp_path):
    plain = build(tmp_path / "plain", [[2]])
    street, unit = city.street, city.unit
    values = dict(plain.units[unit]["values"], HY03=plain.units[unit]["values"]["HY01"] + 10000)
    plain.write(unit, plain.units[unit]["file"], values)
    s = rollup(plain.folder, registry=plain.registry, unit=street, period="2025")
    summary = next(p for p in write_summary(s, tmp_path / "out", load_spec()) if p.suffix == ".xlsx")
    district = rollup([summary, plain.units["330101"]["file"]], registry=plain.registry, unit="330101",
                      period="2025")
    assert warnings(district) == [(street, None)]
    assert district.notes.height == 0


def test_template_hints_are_not_explanations(city, tmp_path):
    """A template prints 本级填报 beside the lines only a 本级 office fills: that is not carried up."""
    from tongji.definitions.forms import BENJI_HINT

    other = build(tmp_path / "hint", [[1]])
    street = other.children["330101"][0]
    unit = other.children[street][0]
    other.write(unit, other.units[unit]["file"], notes={"JF17": BENJI_HINT, "JF11": TRICKY})
    s = rollup(other.folder, registry=other.registry, unit=street, period="2025")
    assert s.notes.select("代码", "说明").rows() == [("JF11", TRICKY)]
    path = next(p for p in write_summary(s, tmp_path / "out", load_spec()) if p.suffix == ".xlsx")
    wb = openpyxl.load_workbook(path)
    note = wb["说明"]["G2"]
    assert note.value == TRICKY and note.data_type == "s"  # text from a workbook, never a formula
    funds = next(r for r in wb["经费"].iter_rows() if r[1].value == "JF11")
    assert funds[4].data_type == "s" and funds[4].value.endswith(TRICKY)
