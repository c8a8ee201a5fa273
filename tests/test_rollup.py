"""Rollup is checked against totals computed independently, in plain Python, at every level."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from city import build
from tongji import cli
from tongji.aggregating.completeness import covered_files
from tongji.aggregating.rollup import rollup, rollup_all, rollup_each
from tongji.errors import TongjiError
from tongji.i18n import t
from tongji.issues.catalog import Catalog
from tongji.plugins import load_spec
from tongji.writing.summary_files import write_summary
from workbooks import cell_of

SHAPE = [[2, 1], [1, 2]]  # 2 区; 街道 with 2, 1, 1 and 2 grassroots units
# rates written out by hand, not taken from schemas/indicators.toml
RATES = {
    "入会率": lambda t: t["HY03"] / t["HY01"], "女会员占比": lambda t: t["HY04"] / t["HY03"],
    "实名制入库率": lambda t: t["HY12"] / t["HY03"], "新就业形态会员占比": lambda t: t["HY06"] / t["HY03"],
    "建会率": lambda t: t["JH01"] / t["JH21"], "25人以上单位建会率": lambda t: t["JH02"] / t["JH22"],
    "辖区职工入会率": lambda t: t["HY03"] / t["JH23"], "职代会建制率": lambda t: t["JH04"] / t["JH01"],
    "集体合同签订率": lambda t: t["JH06"] / t["JH01"], "脱困率": lambda t: t["BF06"] / (t["BF01"] + t["BF06"]),
    "户均帮扶金额": lambda t: t["BF07"] / t["BF01"], "职工活动支出占比": lambda t: t["JF11"] / t["JF10"],
    "维权支出占比": lambda t: t["JF12"] / t["JF10"],
}
DATA_SHEETS = ("会员", "建会", "帮扶", "经费", "明细", "分组")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return build(tmp_path_factory.mktemp("city"), SHAPE)


def streets(city):
    return [c for c, u in city.units.items() if u["层级"] == "街道"]


def level_by_level(city, out: Path, period: str = "2025", spec=None) -> dict:
    """What three statisticians do: 街道 from grassroots files, 区 from 街道 summaries, 市 from 区 summaries."""
    spec, done = spec or load_spec(), {}
    for level in ("街道", "区", "市"):
        for node in [c for c, u in city.units.items() if u["层级"] == level]:
            children = city.children.get(node, [])
            inputs = [city.units[node]["file"]]
            for c in children:
                inputs.append(city.units[c]["file"] if city.units[c]["层级"] == "基层" else done[c][1])
            summary = rollup(inputs, registry=city.registry, unit=node, period=period, spec=spec)
            paths = write_summary(summary, out, spec)
            done[node] = (summary, next(p for p in paths if p.suffix == ".xlsx"))
    return done


def assert_matches_plain_python(summary, expected):
    spec = load_spec()
    for row in spec.numeric_rows():
        assert summary.total(row.code) == pytest.approx(expected.get(row.code, 0), abs=0.005), row.code
    for rate, formula in RATES.items():
        assert summary.rate(rate) == pytest.approx(formula(expected)), rate


def test_every_total_and_rate_at_every_level(city, tmp_path):
    done = level_by_level(city, tmp_path)
    assert set(done) == {c for c, u in city.units.items() if u["层级"] != "基层"}
    for node, (summary, _) in done.items():
        assert_matches_plain_python(summary, city.expected(node))
        assert summary.issues.height == 0, summary.issues
    top = done["330100"][0]
    assert top.total("JH00") == 6  # accepted grassroots units
    # 民主管理 counts covered units wherever they are typed (是 from a one-unit union, a number from the others), so
    # numerator and denominator (JH01, summed from the same workbooks) stay comparable: here every unit has one
    assert top.total("JH03") == top.total("JH01") == 49
    assert top.detail.height == 6 + 7  # every grassroots unit and every 本级 workbook of the tree


def test_all_equals_level_by_level_byte_for_byte(city, tmp_path):
    level_by_level(city, tmp_path / "levels")
    spec = load_spec()
    for summary in rollup_all(city.folder, registry=city.registry, period="2025").values():
        write_summary(summary, tmp_path / "all", spec)
    for node, u in city.units.items():
        if u["层级"] == "基层":
            continue
        a, b = (tmp_path / d / f"{node}_2025_汇总.xlsx" for d in ("levels", "all"))
        for sheet in DATA_SHEETS:
            assert _sheet_xml(a, sheet) == _sheet_xml(b, sheet), (node, sheet)
        for suffix in ("明细.parquet", "汇总.parquet"):
            name = f"{node}_2025_{suffix}"
            assert (a.parent / name).read_bytes() == (b.parent / name).read_bytes()


def _sheet_xml(path: Path, sheet: str) -> bytes:
    wb = openpyxl.load_workbook(path, read_only=True)
    index = wb.sheetnames.index(sheet) + 1
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{index}.xml")


def test_summary_is_a_valid_input_to_validate(city, tmp_path):
    import tongji

    done = level_by_level(city, tmp_path)
    report = tongji.validate([done["330101"][1]], registry=city.registry, period="2025")
    assert report.issues.height == 0
    values = report.values.row(0, named=True)
    assert values["HY01"] == done["330101"][0].total("HY01")


def test_returned_missing_unknown_and_wrong_parent(tmp_path):
    city = build(tmp_path / "c", [[3]])
    street = streets(city)[0]
    g1, g2, g3 = city.children[street]
    Path(city.units[g3]["file"]).unlink()  # missing
    from workbooks import cover, make_workbook

    make_workbook(Path(city.units[g2]["file"]), {"HY02": 10_000}, cover(  # an error: returned, not summed
        g2, FM03=street, FM07=city.units[g2]["area"]))
    make_workbook(city.folder / "stray" / "unknown.xlsx", cover_values=cover("999999999", FM03=street))
    s = rollup(city.folder, registry=city.registry, unit=street, period="2025")
    assert s.total("JH00") == 1
    assert s.total("HY01") == city.units[g1]["values"]["HY01"] + city.units[street]["values"]["HY01"]
    status = dict(s.units.select("unit", "status").iter_rows())
    assert (status[g1], status[g2], status[g3], status["999999999"]) == ("采用", "退回", "缺报", "未知单位")
    total = s.completeness.filter(s.completeness["child"] == "合计").row(0, named=True)
    counts = [total[k] for k in ("expected", "received", "accepted", "returned", "missing")]
    assert counts == [4, 3, 2, 1, 1]
    rules = {r for (r,) in s.issues.select("rule").iter_rows()}
    assert {"hy02-le-hy01", "missing-unit", "unknown-unit"} <= rules
    with_errors = rollup(city.folder, registry=city.registry, unit=street, period="2025", include_errors=True)
    assert with_errors.total("JH00") == 2
    reason = with_errors.units.filter(with_errors.units["unit"] == g2)["reason"].item()
    assert reason == "有 1 个错误，按 --include-errors 汇总"



def test_include_errors_leaves_a_cell_with_no_value_blank_never_zero(tmp_path):
    """--include-errors sums a workbook whose cells hold #DIV/0! and a formula never calculated: those units'
    cells are blank in 明细 (and null in its Parquet), not 0, and the totals add what is known."""
    import polars as pl

    city = build(tmp_path / "c", [[2]])
    street = streets(city)[0]
    g1, g2 = city.children[street]
    city.write(g2, city.units[g2]["file"], {**city.units[g2]["values"], "HY13": "#DIV/0!", "JF01": "=1+1"})
    s = rollup(city.folder, registry=city.registry, unit=street, period="2025", include_errors=True)
    assert {(r, c) for r, c in s.issues.select("rule", "code").iter_rows()} >= {
        ("cell-error", "HY13"), ("formula-no-value", "JF01")}
    row = s.detail.filter(pl.col("单位代码") == g2).row(0, named=True)
    assert (row["HY13"], row["JF01"], row["HY01"]) == (None, None, city.units[g2]["values"]["HY01"])
    for code in ("HY13", "JF01"):
        assert s.total(code) == city.units[g1]["values"][code] + city.units[street]["values"][code]
    paths = write_summary(s, tmp_path / "out", load_spec())
    book = openpyxl.load_workbook(next(p for p in paths if p.suffix == ".xlsx"), read_only=True)
    rows = list(book["明细"].iter_rows(values_only=True))
    header, mine = rows[0], next(r for r in rows if r[0] == g2)
    assert (mine[header.index("HY13")], mine[header.index("JF01")]) == (None, None)
    assert mine[header.index("HY01")] == city.units[g2]["values"]["HY01"]
    parquet = pl.read_parquet(next(p for p in paths if p.name.endswith("_明细.parquet")))
    assert parquet.filter(pl.col("单位代码") == g2)["HY13"].to_list() == [None]

@pytest.mark.parametrize(("lang", "sheet_rows"), [("zh", None), ("en", None), ("zh", 5)])
def test_level_by_level_knows_who_was_returned_below(lang, sheet_rows, monkeypatch, tmp_path):
    """A 区 made from its 街道's summary tells a unit the 街道 returned (with the file, reason and 报出日期 the 街道
    gave) from one that sent nothing, and counts both as a 区 made from the workbooks does; whatever language the
    街道 wrote its summary in, and when its list of units continues on 完整性2."""
    from tongji.writing import unit_sheets
    from workbooks import cover, make_workbook

    if sheet_rows:
        monkeypatch.setattr(unit_sheets, "SHEET_ROWS", sheet_rows)
    city = build(tmp_path / "c", [[3]])
    street = streets(city)[0]
    district = city.units[street]["上级代码"]
    g1, g2, g3 = city.children[street]
    Path(city.units[g3]["file"]).unlink()  # missing
    make_workbook(Path(city.units[g2]["file"]), {"HY02": 10_000}, cover(  # an error: returned
        g2, FM03=street, FM07=city.units[g2]["area"]))
    spec, when = load_spec(), {"registry": city.registry, "period": "2025", "deadline": "2026-01-10"}
    street_summary = rollup([city.units[u]["file"] for u in (street, g1, g2)], unit=street, **when)
    book = next(p for p in write_summary(street_summary, tmp_path / "out", spec, lang=lang) if p.suffix == ".xlsx")
    assert ("完整性2" in openpyxl.load_workbook(book, read_only=True).sheetnames) == bool(sheet_rows)

    made = rollup([city.units[district]["file"], book], unit=district, **when)
    fate = {r["unit"]: r for r in made.units.iter_rows(named=True)}
    said = {"zh": "有 1 个错误，退回修改", "en": "1 error: returned"}[lang]
    assert [fate[g2][k] for k in ("status", "reason", "file", "date", "late")] == [
        "退回", said, str(city.units[g2]["file"]), "2026-01-15", "迟报"]
    assert [fate[g3][k] for k in ("status", "reason", "file", "date")] == ["缺报", "未报送", "", ""]
    assert fate[g1]["status"] == "采用"
    whole = rollup_all(city.folder, **when)[district]
    assert made.completeness.equals(whole.completeness)
    total = made.completeness.row(-1, named=True)
    assert [total[k] for k in ("expected", "received", "accepted", "returned", "missing", "late")] == [5, 4, 3, 1, 1, 4]
    assert made.issues.filter(made.issues["rule"] == "missing-unit")["message"].to_list() == [
        f"名册中的单位 {g3} {city.units[g3]['单位名称']} 没有报送"]


def test_a_child_from_which_nothing_came_is_one_warning_not_one_per_unit(tmp_path):
    """A 区 made from its 街道's summaries, one 街道 having sent nothing (no summary, no workbook of its units): one
    warning names that 街道 and how many units under it are missing, as a 区 statistician asks the 街道, not each
    union; 完整性 still lists every one of them. A unit missing from the 街道 that did report keeps its own
    warning, and so does a grassroots unit at the 街道's level."""
    city = build(tmp_path / "c", [[2, 3]])
    first, second = streets(city)
    district = city.units[first]["上级代码"]
    gone = city.children[first][0]
    kept = [city.units[u]["file"] for u in (first, *city.children[first][1:])]
    street = rollup(kept, registry=city.registry, unit=first, period="2025")
    assert street.issues.filter(pl.col("rule") == "missing-unit")["message"].to_list() == [
        f"名册中的单位 {gone} {city.units[gone]['单位名称']} 没有报送"]
    book = next(p for p in write_summary(street, tmp_path / "out", load_spec()) if p.suffix == ".xlsx")
    made = rollup([city.units[district]["file"], book], registry=city.registry, unit=district, period="2025")
    missing = made.issues.filter(pl.col("rule") == "missing-unit")
    assert missing.select("unit", "message").rows() == [
        (gone, f"名册中的单位 {gone} {city.units[gone]['单位名称']} 没有报送"),  # as its 街道 said
        (second, f"下级 {second} 第1区第2街道总工会 没有报送：其下 4 个单位都缺报（名单见“完整性”）")]
    assert missing["unit_name"].to_list() == [city.units[gone]["单位名称"], "第1区第2街道总工会"]
    fate = dict(made.units.select("unit", "status").iter_rows())
    assert [fate[u] for u in city.subtree(second)] == ["缺报"] * 4
    english = Catalog.of().render(missing, "en")["message"].to_list()[1]
    assert english == (f"{second} 第1区第2街道总工会 below sent nothing: none of the 4 units under it reported "
                       "(listed in 完整性)")


def test_at_a_city_a_silent_street_and_a_silent_district_are_one_warning_each(tmp_path):
    """The whole city at once: a 市 names the highest union below it that nothing came from, a 街道 of a 区 that
    reported and a 区 of which nothing came at all, each once; the 区 names its silent 街道 once and its own 本级
    workbook as a unit; the 街道 name their grassroots units one by one."""
    city = build(tmp_path / "c", [[2, 3], [2]])
    quiet_street = streets(city)[1]
    for unit in [*city.subtree(quiet_street), *city.subtree("330102")]:
        Path(city.units[unit]["file"]).unlink()
    every = rollup_all(city.folder, registry=city.registry, period="2025")

    def said(node):
        return every[node].issues.filter(pl.col("rule") == "missing-unit").select("unit", "message").rows()

    assert said("330100") == [
        (quiet_street, f"下级 {quiet_street} 第1区第2街道总工会 没有报送：其下 4 个单位都缺报（名单见“完整性”）"),
        ("330102", "下级 330102 第2区总工会 没有报送：其下 4 个单位都缺报（名单见“完整性”）")]
    assert said("330101") == said("330100")[:1]
    assert said("330102") == [
        ("330102001", "下级 330102001 第2区第1街道总工会 没有报送：其下 3 个单位都缺报（名单见“完整性”）"),
        ("330102", "名册中的单位 330102 第2区总工会 没有报送")]
    assert [unit for unit, _ in said(quiet_street)] == [*city.children[quiet_street], quiet_street]
    assert every["330100"].units.filter(pl.col("status") == "缺报").height == 8


def test_level_by_level_keeps_both_returned_workbooks_of_a_unit(tmp_path):
    """A unit that sent two workbooks, both returned as a conflict, is listed by its 街道 with both; a 区 made from
    that summary keeps both too, so the earlier 报出日期 counts for 及时率 as in a rollup of the workbooks."""
    city = build(tmp_path / "c", [[3]])
    street = streets(city)[0]
    district = city.units[street]["上级代码"]
    g1 = city.children[street][0]
    first = Path(city.units[g1]["file"])
    late = city.write(g1, first.with_name("a_" + first.name), FM10="2026-02-15")  # first by name, after the deadline
    timely = city.write(g1, first.with_name("b_" + first.name), FM10="2026-01-10")
    first.unlink()
    spec, when = load_spec(), {"registry": city.registry, "period": "2025", "deadline": "2026-01-20"}
    inputs = [city.units[u]["file"] for u in (street, *city.children[street][1:])] + [late, timely]
    book = next(p for p in write_summary(rollup(inputs, unit=street, **when), tmp_path / "out", spec)
                if p.suffix == ".xlsx")
    made = rollup([city.units[district]["file"], book], unit=district, **when)
    whole = rollup_all(city.folder, **when)[district]
    assert made.completeness.equals(whole.completeness)
    total = made.completeness.row(-1, named=True)
    assert [total[k] for k in ("received", "returned", "late", "timely_rate")] == [5, 1, 0, 1.0]
    rows = made.units.filter(made.units["unit"] == g1).sort("file").select("status", "file", "date", "late").rows()
    assert rows == [("退回", str(late), "2026-02-15", ""), ("退回", str(timely), "2026-01-10", "")]


def test_a_workbook_whose_organisation_type_contradicts_the_registry_is_returned_not_missing(tmp_path):
    """A grassroots union's workbook marked 本级 (9), and a 街道's own marked 1: each unit did submit, so it is
    returned with its type-not-* error and its file named, never 缺报 with its file "covered by a child summary";
    with --include-errors each is summed where the registry puts it."""
    city = build(tmp_path / "c", [[3]])
    street = streets(city)[0]
    g1 = city.children[street][0]
    for unit, org in ((g1, "9"), (street, "1")):
        city.units[unit]["org"] = org
        city.write(unit, city.units[unit]["file"])
    inputs = [city.units[u]["file"] for u in (street, *city.children[street])]
    s = rollup(inputs, registry=city.registry, unit=street, period="2025")
    fate = {r["unit"]: r for r in s.units.iter_rows(named=True)}
    assert len(fate) == s.units.height == 4  # one row a unit: no file left over as 未采用
    for unit, rule in ((g1, "type-not-grassroots"), (street, "type-not-office")):
        assert [fate[unit][k] for k in ("status", "file", "reason_code")] == [
            "退回", str(city.units[unit]["file"]), "reason-errors"]
        assert rule in s.issues.filter(s.issues["unit"] == unit)["rule"].to_list()
    total = s.completeness.row(-1, named=True)
    assert [total[k] for k in ("expected", "received", "accepted", "returned", "missing")] == [4, 4, 2, 2, 0]
    assert "missing-unit" not in s.issues["rule"].to_list()
    taken = rollup(inputs, registry=city.registry, unit=street, period="2025", include_errors=True)
    assert (taken.total("JH00"), taken.total("HY03"), taken.total("JH21")) == (
        3, city.expected(street)["HY03"], city.units[street]["values"]["JH21"])
    # the same union's workbook marked 1 beside the one marked 9: two of one unit, whatever 组织类型 says
    city.units[g1]["org"] = "1"
    again = city.write(g1, tmp_path / "again" / "g1.xlsx")
    both = rollup([*inputs, again], registry=city.registry, unit=street, period="2025", include_errors=True)
    assert both.detail["单位代码"].to_list().count(g1) == 0 and both.total("JH00") == 2
    assert both.issues.filter(both.issues["rule"] == "duplicate-unit")["unit"].to_list() == [g1, g1]



def test_a_grassroots_workbook_marked_summary_has_one_error_not_one_a_line(tmp_path):
    """A union that picked 组织类型 0 (汇总) by mistake gets its type-not-grassroots error, not a summary-edited error
    for every line its missing 明细 does not add up to; --include-errors sums it as the union it is."""
    import tongji

    city = build(tmp_path / "c", [[2]])
    street = streets(city)[0]
    g1 = city.children[street][0]
    city.units[g1]["org"] = "0"
    city.write(g1, city.units[g1]["file"])
    report = tongji.validate(city.folder, registry=city.registry, period="2025")
    assert report.issues.select("unit", "rule").rows() == [(g1, "type-not-grassroots")]
    taken = rollup(city.folder, registry=city.registry, unit=street, period="2025", include_errors=True)
    assert (taken.total("JH00"), taken.total("HY01")) == (2, city.expected(street)["HY01"])

def test_an_input_no_child_summary_covers_is_not_said_to_be_covered(tmp_path):
    """A 街道's own summary of an earlier run left among its inputs is not used, and no child summary covers it;
    a grassroots workbook beside its 街道's summary, at the 区, is covered by that summary."""
    city = build(tmp_path / "c", [[2]])
    street = streets(city)[0]
    district = city.units[street]["上级代码"]
    spec, when = load_spec(), {"registry": city.registry, "period": "2025"}
    made = write_summary(rollup(city.folder, unit=street, **when), city.folder / "汇总", spec)
    book = next(p for p in made if p.suffix == ".xlsx")
    again = rollup(city.folder, unit=street, **when)
    mine = again.units.filter(again.units["file"] == str(book)).select("status", "reason").rows()
    assert mine == [("未采用", "本次汇总未用到，也没有下级汇总表涵盖")]
    above = rollup(city.folder, unit=district, **when)
    grassroots = city.children[street][0]
    assert above.units.filter(above.units["file"] == str(city.units[grassroots]["file"])).select(
        "status", "reason").rows() == [("未采用", "已由下级汇总表涵盖")]


def test_all_limited_to_one_subtree(city):
    summaries = rollup_all(city.folder, registry=city.registry, period="2025", unit="330101")
    assert set(summaries) == {"330101", *[c for c in city.children["330101"]]}
    assert_matches_plain_python(summaries["330101"], city.expected("330101"))


def test_rollup_each_gives_rollup_all_summaries_and_lets_children_go(city):
    """`rollup --all` writes each summary as soon as it is made (rollup_each): the summaries are rollup_all's, in
    its order, and a child's summary is let go once its parent is made, so memory holds a level at a time."""
    import gc
    import weakref

    from polars.testing import assert_frame_equal

    every = rollup_all(city.folder, registry=city.registry, period="2025")
    each = rollup_each(city.folder, registry=city.registry, period="2025")
    assert len(each) == len(every)
    seen, alive = [], {}
    for s in each:
        gc.collect()
        if s.level == "市":  # its 区 and their 街道 were let go once it was made
            assert [u for u, ref in alive.items() if ref() is not None] == []
        alive[s.unit] = weakref.ref(s)
        seen.append(s.unit)
        for name in ("totals", "detail", "indicators", "completeness", "units", "issues", "inputs", "notes",
                     "groups"):
            assert_frame_equal(getattr(s, name), getattr(every[s.unit], name))
        assert s.cover == every[s.unit].cover
    assert seen == list(every)


def test_edited_child_summary_is_an_error(city, tmp_path):
    done = level_by_level(city, tmp_path)
    path = done["330101"][1]
    wb = openpyxl.load_workbook(path)
    ref = cell_of("HY01").split("!")[1]
    row = next(r for r in wb["会员"].iter_rows() if r[1].value == "HY01")
    row[3].value = row[3].value + 1
    row_hy01 = row[3].row
    wb.save(path)
    district = city.units["330101"]["上级代码"]
    inputs = [path, done["330102"][1], city.units[district]["file"]]
    s = rollup(inputs, registry=city.registry, unit=district, period="2025")
    edited = s.issues.filter(s.issues["rule"] == "summary-edited")
    assert edited.select("cell", "code", "severity").rows() == [(f"会员!D{row[3].row}", "HY01", "错误")]
    assert edited["diff"][0] == pytest.approx(1)
    assert ref  # the template layout puts HY01 at a fixed row; the summary has its own
    assert "330101" not in s.detail["单位代码"].to_list()
    # the 街道's units came in its summary: they are returned with it, and the counts add up
    row = s.completeness.filter(s.completeness["child"] == "330101").row(0, named=True)
    n = len(city.subtree("330101"))
    assert (row["expected"], row["received"], row["returned"], row["missing"]) == (n, n, n, 0)
    import tongji

    assert tongji.validate([path]).flatten(["rule", "cell"]) == [["summary-edited", f"会员!D{row_hy01}"]]


def test_conflict_and_prefer_latest(tmp_path):
    from workbooks import cover, make_workbook

    city = build(tmp_path / "c", [[1]])
    street = streets(city)[0]
    g = city.children[street][0]
    u = city.units[g]
    make_workbook(city.folder / "again" / "newer.xlsx", {"HY01": 500, "HY03": 450, "HY12": 400}, cover(
        g, FM03=street, FM07=u["area"], FM10="2026-02-01"))
    s = rollup(city.folder, registry=city.registry, unit=street, period="2025")
    assert s.total("JH00") == 0
    assert sorted(s.units.filter(s.units["unit"] == g)["status"].to_list()) == ["退回", "退回"]
    latest = rollup(city.folder, registry=city.registry, unit=street, period="2025", prefer_latest=True)
    assert latest.total("JH00") == 1
    assert latest.total("HY01") == 500 + city.units[street]["values"]["HY01"]
    # the conflict is resolved as asked: no error left, the older file is set aside with a notice
    assert not latest.has_errors
    assert latest.issues.filter(latest.issues["rule"] != "not-under-node").select("file", "rule").rows() == [
        (str(u["file"]), "superseded")]  # (the 区 and 市 本级 files in the folder are another node's)
    fates = dict(latest.units.filter(latest.units["unit"] == g).select("file", "status").iter_rows())
    assert fates == {str(city.folder / "again" / "newer.xlsx"): "采用", str(u["file"]): "未采用"}
    # --include-errors overlooks errors, not a conflict: the unit is not summed twice
    both = rollup(city.folder, registry=city.registry, unit=street, period="2025", include_errors=True)
    assert both.total("JH00") == 0 and both.detail["单位代码"].to_list().count(g) == 0
    assert rollup(city.folder, registry=city.registry, unit=street, period="2025", include_errors=True,
                  prefer_latest=True).total("HY01") == latest.total("HY01")


@pytest.mark.parametrize("folder", ["again", "a-again", "z-again"])
def test_prefer_latest_never_chooses_between_equal_dates_by_the_path(tmp_path, folder):
    from workbooks import cover, make_workbook

    city = build(tmp_path / "c", [[1]])
    street = streets(city)[0]
    g = city.children[street][0]
    u = city.units[g]
    make_workbook(city.folder / folder / "same-day.xlsx", {"HY01": 500, "HY03": 450, "HY12": 400}, cover(
        g, FM03=street, FM07=u["area"], FM10="2026-01-15"))  # the date the first one bears: which is newer?
    tie = rollup(city.folder, registry=city.registry, unit=street, period="2025", prefer_latest=True)
    assert tie.total("JH00") == 0 and tie.has_errors  # both returned, as without --prefer-latest
    assert sorted(tie.units.filter(tie.units["unit"] == g)["status"].to_list()) == ["退回", "退回"]


def test_other_period_and_other_node(city, tmp_path):
    from workbooks import cover, make_workbook

    street = streets(city)[0]
    g = city.children[street][0]
    make_workbook(tmp_path / "old.xlsx", cover_values=cover(g, FM03=street, FM04="2024"))
    s = rollup([tmp_path / "old.xlsx", city.units[street]["file"]], registry=city.registry, unit=street, period="2025")
    assert [r for (r,) in s.issues.select("rule").iter_rows() if r == "wrong-period"] == ["wrong-period"]
    assert s.total("JH00") == 0
    # last year's file left beside this year's is a wrong period, not a duplicate of it
    both = rollup([tmp_path / "old.xlsx", city.units[g]["file"], city.units[street]["file"]], registry=city.registry,
                  unit=street, period="2025")
    assert "duplicate-unit" not in both.issues["rule"].to_list() and both.total("JH00") == 1
    done = level_by_level(city, tmp_path / "s")
    # a 街道 of the other 区
    other = rollup([done["330102001"][1]], registry=city.registry, unit="330101", period="2025")
    assert other.units.filter(other.units["unit"] == "330102001")["status"].to_list() == ["不属本级"]
    assert "not-under-node" in other.issues["rule"].to_list()


def test_zero_denominator_gives_blank_rate_with_note(city, tmp_path):
    street = streets(city)[0]
    s = rollup([city.units[c]["file"] for c in city.children[street]], registry=city.registry, unit=street,
               period="2025")  # no 本级
    row = s.indicators.filter(s.indicators["id"] == "建会率").row(0, named=True)
    assert row["value"] is None and row["note"] == "分母（JH21）为 0，不计算"


def test_previous_period(city, tmp_path):

    last = level_by_level(build(tmp_path / "c2024", SHAPE, period="2024"), tmp_path / "last", "2024")
    street = streets(city)[0]
    g = city.children[street][0]
    u = city.units[g]
    now = tmp_path / "now"
    for c in [street, *city.children[street]]:
        v = dict(city.units[c]["values"])
        v["JF20"] = v["JF21"] + (1 if c == g else 0)  # opening balance = last closing balance, except for g
        v["JF21"] = v["JF20"] + v["JF01"] - v["JF10"]
        city.write(c, now / f"{c}.xlsx", v)
    s = rollup(now, registry=city.registry, unit=street, period="2025", previous=last[street][1])
    with pytest.raises(TongjiError, match="应早于本期 2025"):
        rollup(now, registry=city.registry, unit=street, period="2025",
               previous=level_by_level(city, tmp_path / "same")[street][1])
    for given, said in ((tmp_path / "last", "不是文件夹"), (tmp_path / "nowhere.xlsx", "上期汇总表不存在")):
        with pytest.raises(TongjiError, match=said):  # the folder of last year's summaries, a file not there
            rollup(now, registry=city.registry, unit=street, period="2025", previous=given)
    assert s.has_previous
    jf20 = s.issues.filter(s.issues["rule"] == "jf20-previous")
    assert jf20.select("file", "cell", "severity").rows() == [(str(now / f"{g}.xlsx"), cell_of("JF20"), "错误")]
    assert g not in s.detail["单位代码"].to_list()  # the error returns the workbook
    hy01 = s.totals.filter(s.totals["code"] == "HY01").row(0, named=True)
    assert hy01["previous"] == city.expected(street)["HY01"]
    assert hy01["value"] == city.expected(street)["HY01"] - u["values"]["HY01"]
    assert hy01["change"] == pytest.approx(hy01["value"] / hy01["previous"] - 1)
    assert "change" in s.indicators.columns


def test_manifest_lists_inputs_with_hashes(city, tmp_path):
    import hashlib

    done = level_by_level(city, tmp_path)
    manifest = json.loads((tmp_path / "330101_2025_manifest.json").read_text(encoding="utf-8"))
    files = {i["file"]: i for i in manifest["inputs"]}
    child = str(done["330101"][1].parent / f"{city.children['330101'][0]}_2025_汇总.xlsx")
    assert hashlib.sha256(Path(child).read_bytes()).hexdigest() == files[child]["sha256"]
    assert files[child]["status"] == "采用" and manifest["tongji_version"]


def test_a_manifest_stays_json_whatever_a_file_name_holds():
    """polars writes U+2028 in a string as it is; a line is cut at the newline alone, not where str.splitlines
    would also cut (U+2028, U+0085 …)."""
    from types import SimpleNamespace

    import polars as pl

    from tongji.writing.summary_files import INPUT_KEYS, manifest_bytes

    names = ["a\u2028b.xlsx", "c\x85d.xlsx", "e\nf.xlsx", "plain.xlsx"]
    inputs = pl.DataFrame({k: names if k == "file" else ["x"] * len(names) for k in INPUT_KEYS})
    summary = SimpleNamespace(inputs=inputs, unit="330101", name="街道", period="2025")
    manifest = json.loads(manifest_bytes(summary, b"").decode("utf-8"))
    assert sorted(i["file"] for i in manifest["inputs"]) == sorted(names)


# --- the command -------------------------------------------------------------------------------

runner = CliRunner()


def invoke(*args):
    cli._register()
    return runner.invoke(cli.app, [str(a) for a in args])


def test_cli_rollup_all_and_exit_codes(city, tmp_path):
    result = invoke("rollup", city.folder, "-r", city.registry, "-p", "2025", "-o", tmp_path / "out", "--all")
    assert result.exit_code == 0, result.output
    assert "已写出 7 个单位的汇总" in result.output
    assert (tmp_path / "out" / "330100_2025_汇总.xlsx").exists()


def test_cli_rollup_shows_progress_on_a_terminal_only(city, tmp_path, monkeypatch):
    """Reading and writing the summaries each get a bar on a terminal; piped output has none."""
    import tongji.cli.rollup_command as command
    from conftest import terminal

    screen = terminal(monkeypatch, command)
    args = ("rollup", city.folder, "-r", city.registry, "-p", "2025", "--all")
    assert invoke(*args, "-o", tmp_path / "tty").exit_code == 0
    assert "读取工作簿" in screen.getvalue() and "写出汇总表" in screen.getvalue()
    monkeypatch.undo()
    piped = invoke(*args, "-o", tmp_path / "piped")
    assert piped.exit_code == 0 and "读取工作簿" not in piped.output and "写出汇总表" not in piped.output


def test_rollup_all_takes_a_child_summary_as_it_is_and_never_replaces_an_input(city, tmp_path):
    import shutil

    import polars as pl

    done = level_by_level(city, tmp_path / "below")
    district = "330101"
    street, *others = city.children[district]
    folder = tmp_path / "out"
    folder.mkdir()
    given = Path(shutil.copy(done[street][1], folder))  # the 街道's summary, in the folder the 区 writes to
    before = given.read_bytes()
    inputs = [given, city.units[district]["file"], *[city.units[u]["file"] for s in others
                                                     for u in [s, *city.children[s]]]]
    args = ["-r", city.registry, "-p", "2025", "--unit", district, "--all", "-o", folder]
    result = invoke("rollup", *inputs, *args)
    assert result.exit_code == 0, result.output
    assert given.read_bytes() == before  # not made again from workbooks that are not there
    assert sorted(p.name for p in folder.glob(f"{street}_*")) == [given.name]
    made = pl.read_parquet(folder / f"{district}_2025_汇总.parquet")
    assert made.equals(pl.read_parquet(tmp_path / "below" / f"{district}_2025_汇总.parquet"))
    own = folder / f"{district}_2025_汇总.xlsx"  # last year's own summary given again: refused, kept
    mine = own.read_bytes()
    result = invoke("rollup", own, *inputs, *args)
    assert result.exit_code == 2 and "会被本次写出的汇总表覆盖" in result.output and own.read_bytes() == mine


def test_a_unit_moved_to_another_street_counts_once(tmp_path):
    """街道 A's summary, made before unit X moved to 街道 B, still holds X; B's holds it too. The 区 takes X from B,
    where the registry now puts it, and says that A's summary lists a unit no longer beneath A."""
    city = build(tmp_path / "c", [[2, 2]])
    a, b = city.children["330101"]
    x = city.children[a][0]
    moved = tmp_path / "新名册.csv"
    moved.write_text("\n".join(line.replace(f",{a},基层", f",{b},基层") if line.startswith(f"{x},") else line
                               for line in city.registry.read_text(encoding="utf-8").splitlines()) + "\n",
                     encoding="utf-8")
    spec, out = load_spec(), tmp_path / "out"
    old = rollup([city.units[u]["file"] for u in [a, *city.children[a]]], registry=city.registry, unit=a,
                 period="2025")
    city.units[x]["上级代码"] = b
    resent = city.write(x, tmp_path / "resent" / f"{x}.xlsx")  # to B, now its 街道
    new = rollup([resent, *[city.units[u]["file"] for u in [b, *city.children[b]]]], registry=moved, unit=b,
                 period="2025")
    books = [next(p for p in write_summary(s, out, spec) if p.suffix == ".xlsx") for s in (old, new)]
    district = rollup([*books, city.units["330101"]["file"]], registry=moved, unit="330101", period="2025")
    assert district.detail["单位代码"].to_list().count(x) == 1
    assert district.total("JH00") == 4 == old.total("JH00") + new.total("JH00") - 1  # four unions, not five
    said = district.issues.filter(district.issues["rule"] == "outside-child-summary")
    assert said.select("unit", "severity").rows() == [(a, "警告")] and x in said["message"][0]


@pytest.mark.parametrize("case", ["cycle", "unwritable", "empty", "no-unit", "unknown-node", "grassroots",
                                  "grassroots-all"])
def test_cli_setup_errors_exit_2_and_leave_nothing(city, tmp_path, case):
    registry, out, inputs, extra = city.registry, tmp_path / "out", city.folder, ["--unit", "330100"]
    if case == "cycle":
        registry = tmp_path / "cycle.csv"
        registry.write_text("单位代码,单位名称,上级代码,层级\nA,甲,B,区\nB,乙,A,区\n", encoding="utf-8")
    elif case == "unwritable":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "out"
    elif case == "empty":
        inputs = tmp_path / "nothing"
        inputs.mkdir()
    elif case == "no-unit":
        extra = []
    elif case.startswith("grassroots"):
        grassroots = next(c for c, u in city.units.items() if u["层级"] == "基层")
        extra = ["--unit", grassroots, *(["--all"] if case == "grassroots-all" else [])]
    else:
        extra = ["--unit", "000000"]
    result = invoke("rollup", inputs, "-r", registry, "-p", "2025", "-o", out, *extra)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = {"cycle": "名册中上下级关系成环", "unwritable": "无法写入", "empty": "没有找到任何工作簿",
               "no-unit": "请用 --unit", "unknown-node": "名册中没有单位 000000",
               "grassroots": "是基层工会，下面没有单位可汇总"}[case.removesuffix("-all")]
    assert message in result.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("call", [rollup, rollup_all, rollup_each])
def test_a_grassroots_unit_has_nothing_to_roll_up(city, call):
    unit = next(c for c, u in city.units.items() if u["层级"] == "基层")
    with pytest.raises(TongjiError) as exc:
        call(city.folder, registry=city.registry, unit=unit, period="2025")
    assert exc.value.key == "unit-is-grassroots"
    name = city.units[unit]["单位名称"]
    assert t("unit-is-grassroots", lang="en", **exc.value.kw) == (
        f"Unit {unit} ({name}) is a grassroots union: there is nothing below it to roll up; name a union above it")


def test_a_full_disk_is_a_setup_error(city, tmp_path, monkeypatch):
    """No space (or no inode) left for the folder a summary is staged in: exit 2 and 无法写入, not an internal
    error."""
    import errno
    import tempfile

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tempfile, "mkdtemp", full)
    result = invoke("rollup", city.folder, "-r", city.registry, "-p", "2025", "-o", tmp_path / "out", "--all")
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"错误：无法写入 {tmp_path / 'out'}：磁盘已满"


def test_revoked_unit_is_listed_not_summed(tmp_path):
    city = build(tmp_path / "c", [[2]])
    street = streets(city)[0]
    gone = city.children[street][1]
    text = city.registry.read_text(encoding="utf-8")
    lines = [line[: line.rfind(",")] + ",撤销" if line.startswith(gone) else line for line in text.splitlines()]
    city.registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = rollup(city.folder, registry=city.registry, unit=street, period="2025")
    assert s.units.filter(s.units["unit"] == gone).select("status").item() == "已撤销"
    assert s.total("JH00") == 1
    assert s.completeness.row(-1, named=True)["expected"] == 2  # one grassroots unit and the 本级


@pytest.mark.parametrize("extra", [[], ["--all"]])
def test_a_revoked_node_is_refused_as_a_template_for_it_is(tmp_path, extra):
    city = build(tmp_path / "c", [[1, 1]])
    gone = streets(city)[1]
    text = city.registry.read_text(encoding="utf-8")
    # the 街道 revoked with its grassroots unit (an active unit under a revoked one is a registry error)
    lines = [line[: line.rfind(",")] + ",撤销" if gone in line.split(",")[:3:2] else line for line in text.splitlines()]
    city.registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("rollup", city.folder, "-r", city.registry, "-p", "2025", "-o", tmp_path / "out", "--unit", gone,
                    *extra)
    assert (result.exit_code, result.output.strip()) == (2, f"错误：名册中单位 {gone} 已撤销")


def test_file_names_that_are_not_utf8_are_rolled_up_and_listed_with_their_bad_bytes_replaced(tmp_path):
    """A grassroots workbook and a 街道's summary whose names' bytes are not UTF-8 (GBK) are summed; the manifests
    name them with U+FFFD for those bytes, with the checksum of the file read."""
    city = build(tmp_path / "c", [[2]])
    unit = next(c for c, u in city.units.items() if u["层级"] == "基层")
    gbk = city.units[unit]["file"].with_name(os.fsdecode(b"\xb1\xb1\xb8\xc9.xlsx"))
    city.write(unit, gbk, notes={"HY03": "含退休会员"})
    city.units[unit]["file"].unlink()
    shown = str(gbk.parent / "\ufffd\ufffd\ufffd\ufffd.xlsx")
    result = invoke("rollup", city.folder, "-r", city.registry, "-p", "2025", "-o", tmp_path / "out", "--all",
                    "-f", "xlsx,csv,json")
    assert result.exit_code == 0, result.output
    inputs = json.loads((tmp_path / "out" / "330101001_2025_manifest.json").read_text(encoding="utf-8"))["inputs"]
    mine = next(i for i in inputs if i["unit"] == unit)
    assert (mine["file"], mine["status"]) == (shown, "采用")
    assert mine["sha256"] == hashlib.sha256(gbk.read_bytes()).hexdigest()
    # a summary so named, as the next level up receives it: read again for its 说明 and 明细
    street = tmp_path / "up" / os.fsdecode(b"\xbd\xd6\xb5\xc0.xlsx")
    street.parent.mkdir()
    (tmp_path / "out" / "330101001_2025_汇总.xlsx").rename(street)
    summary = rollup([street, city.units["330101"]["file"]], registry=city.registry, unit="330101", period="2025")
    assert summary.totals.equals(rollup_all(city.folder, registry=city.registry, period="2025")["330101"].totals)
    assert summary.notes["说明"].to_list() == ["含退休会员"]


def test_a_streets_own_workbooks_beside_its_summary_are_named_once_and_not_judged_again(tmp_path):
    """The 区 is given a 街道's summary and that 街道's own workbooks too (one returned there with an error): the
    summary is summed, the workbooks are listed as covered, said once as not used, and the error the 街道 already
    returned is neither in the 区's 校验 nor its exit code, as when the summary alone is given."""
    city = build(tmp_path / "c", [[2]])
    street = streets(city)[0]
    district, g1 = city.units[street]["上级代码"], city.children[street][0]
    values = city.units[g1]["values"]
    city.write(g1, city.units[g1]["file"], {**values, "HY02": values["HY01"] + 1})
    own = [city.units[u]["file"] for u in (street, *city.children[street])]
    when = {"registry": city.registry, "period": "2025", "unit": district}
    made = write_summary(rollup(own, **{**when, "unit": street}), tmp_path / "街道汇总", load_spec())
    summary = [next(p for p in made if p.suffix == ".xlsx"), city.units[district]["file"]]
    alone, both = rollup(summary, **when), rollup([*summary, *own], **when)
    assert both.issues.select("rule", "unit").rows() == alone.issues.select("rule", "unit").rows() == []
    unused = both.units.filter(both.units["status"] == "未采用")
    # g1's is the workbook the 街道 returned: its line is that one (a test below)
    assert unused.select("file", "reason").rows() == [
        (str(f), "已由下级汇总表涵盖") for f in sorted(own) if f != city.units[g1]["file"]]
    assert both.total("HY02") == alone.total("HY02")
    lines = both.inputs.filter(pl.col("file").is_in([str(f) for f in own]))  # the manifest's, as for 完整性
    assert lines.select("status", "reason").unique().rows() == [("未采用", "已由下级汇总表涵盖")]
    result = invoke("rollup", *summary, *own, "-r", city.registry, "-p", "2025", "--unit", district, "-o",
                    tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "提示：3 份工作簿未采用：输入中有其上级（街道等）的汇总表，汇总的是汇总表，这些工作簿的问题也不计入本次校验："
        + "、".join(sorted(str(f) for f in own)))
    assert "校验：错误 0 条，警告 0 条" in result.output
    result = invoke("--lang", "en", "rollup", *summary, own[0], "-r", city.registry, "-p", "2025", "--unit",
                    district, "-o", tmp_path / "out-en")
    assert result.output.splitlines()[0] == (  # one workbook: it is not "above them"
        "Notice: 1 workbook not used, as the summary of a union above is among the inputs and is summed instead; "
        f"issues in the files listed do not count in this rollup's checks: {own[0]}")


def test_a_unit_the_street_returned_is_one_line_of_the_districts_completeness(tmp_path):
    """Its own workbook beside the 街道's summary is the workbook the 街道 returned: 完整性 says so once, 退回 with
    the 街道's reason, not a second time as 未采用; the workbook is still named as covered and not judged again."""
    city = build(tmp_path / "c", [[2]])
    street = streets(city)[0]
    district, (g1, g2) = city.units[street]["上级代码"], city.children[street]
    values = city.units[g1]["values"]
    city.write(g1, city.units[g1]["file"], {**values, "HY02": values["HY01"] + 1})
    own = [city.units[u]["file"] for u in (street, g1, g2)]
    when = {"registry": city.registry, "period": "2025", "unit": district}
    made = write_summary(rollup(own, **{**when, "unit": street}), tmp_path / "街道汇总", load_spec())
    summary = next(p for p in made if p.suffix == ".xlsx")
    result = invoke("rollup", summary, city.units[district]["file"], *own, "-r", city.registry, "-p", "2025",
                    "--unit", district, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("提示：3 份工作簿未采用")
    sheet = openpyxl.load_workbook(tmp_path / "out" / f"{district}_2025_汇总.xlsx")["完整性"]
    rows = [r[:6] for r in sheet.iter_rows(values_only=True)]
    name = {u: city.units[u]["单位名称"] for u in city.units}
    assert rows[:4] == [
        ("下级单位", "名称", "应报", "已报", "采用", "退回"),
        (street, name[street], 3, 3, 2, 1), (district, name[district] + "（本级）", 1, 1, 1, 0),
        ("合计", None, 4, 4, 3, 1)]
    assert rows[6:] == [
        (street, name[street], street, "采用", str(summary), "经下级汇总表报送"),
        (g1, name[g1], street, "退回", str(own[1]), "有 1 个错误，退回修改"),
        (g2, name[g2], street, "采用", str(summary), "经下级汇总表报送"),
        (district, name[district], district, "采用", str(city.units[district]["file"]), None),
        (street, name[street], None, "未采用", str(own[0]), "已由下级汇总表涵盖"),
        (g2, name[g2], None, "未采用", str(own[2]), "已由下级汇总表涵盖")]


def test_a_warning_explained_in_its_note_is_counted_apart_as_validate_counts_it(tmp_path):
    """The line under a rollup's table says how many warnings are left to chase: one its unit explained in 说明 is
    counted as explained (已说明), as validate's table counts it, not as a warning."""
    city = build(tmp_path / "c", [[2]])
    street = streets(city)[0]
    g1 = city.children[street][0]
    values = city.units[g1]["values"]
    city.write(g1, city.units[g1]["file"], {**values, "HY03": values["HY01"] + 5, "HY12": values["HY01"]},
               notes={"HY03": "含离退休会员 5 人"})
    args = [city.folder / street, city.units[street]["file"], "-r", city.registry, "-p", "2025", "--unit", street]
    result = invoke("rollup", *args, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "校验：错误 0 条，警告 0 条，已说明的警告 1 条（详见汇总表“校验”工作表）" in result.output
    result = invoke("--lang", "en", "rollup", *args, "-o", tmp_path / "en")
    assert "Checks: 0 errors, 0 warnings, 1 explained warning (see the 校验 sheet)" in result.output


def test_a_workbook_beside_a_street_summary_that_says_its_unit_is_missing_is_not_said_to_be_covered(tmp_path):
    """The 街道 summed before a unit's workbook came: its summary says 缺报. The 区, given that summary and the
    late workbook, sums the summary: the unit stays 缺报 there, and the workbook's line says why it is not summed
    (the summary does not cover it), not 已由下级汇总表涵盖; its warning does not say it sent nothing."""
    city = build(tmp_path / "c", [[2]])
    street = streets(city)[0]
    district, (g1, g2) = city.units[street]["上级代码"], city.children[street]
    when = {"registry": city.registry, "period": "2025", "unit": district}
    made = write_summary(rollup([city.units[u]["file"] for u in (street, g2)], **{**when, "unit": street}),
                         tmp_path / "街道汇总", load_spec())
    summary = next(p for p in made if p.suffix == ".xlsx")
    late = city.units[g1]["file"]
    got = rollup([summary, city.units[district]["file"], late], **when)
    assert got.units.filter(pl.col("unit") == g1).select("child", "status", "file", "reason").rows() == [
        (street, "缺报", "", "未报送"),
        ("", "未采用", str(late), "下级汇总表中该单位为缺报，这份工作簿未汇总：请下级将它汇总后重报汇总表")]
    assert got.completeness.row(0, named=True)["missing"] == 1
    name = city.units[g1]["单位名称"]
    assert got.issues.select("rule", "unit", "message").rows() == [
        ("missing-unit", g1, f"单位 {g1} {name} 不在下级 {street} 的汇总表中（在下级被退回或缺报）")]
    assert covered_files(got.inputs) == [str(late)]  # still not judged here, and named in the notice


@pytest.mark.parametrize("name", ["330106_2024_汇总.csv", "330106_2024_汇总.parquet", "330106_2024_manifest.json"])
def test_a_summary_written_in_another_format_is_asked_for_as_xlsx(tmp_path, name):
    """`-f csv` writes a summary tongji made, but --previous reads the 明细 sheet of its .xlsx: "not a tongji
    summary (no 明细 sheet)" was wrong about the file and did not say which one to give."""
    from tongji.aggregating.previous import read_previous

    path = tmp_path / name
    path.write_text("单位代码,指标\n", encoding="utf-8")
    with pytest.raises(TongjiError) as exc:
        read_previous(path, load_spec())
    assert (t(exc.value.key, **exc.value.kw), t(exc.value.key, lang="en", **exc.value.kw)) == (
        f"--previous 要给上期汇总表的 .xlsx 文件（如 330106_2024_汇总.xlsx），不是 {path}："
        "上期数从其中的“明细”工作表读取",
        f"--previous takes last period's summary as its .xlsx file (such as 330106_2024_汇总.xlsx), not {path}: "
        "last period's figures are read from its 明细 sheet")
