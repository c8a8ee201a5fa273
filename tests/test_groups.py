"""The 分组 sheet (domain.md §9): group totals and rates known by hand, 未分类, every grouping adding up to the
totals, a 区 made from 街道 summaries grouped as one made from the units, a plugin's grouping, the written sheet."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from city import build, values_for
from tongji.aggregating.groups import balance_issues, groups_frame, groups_frames, unbalanced
from tongji.aggregating.rollup import rollup, rollup_all
from tongji.plugins import load_spec
from tongji.writing.summary_files import write_summary

# unit → (scale of GOOD, HY01, 组织类型, 单位性质, 行业): HY01 raised above GOOD's 100 per scale for two units, so
# the groups' 入会率 differ and an average of rates would show
UNITS = {
    "g1": (1, 100, "1", "170", "C"),
    "g2": (3, 450, "2", "300", "I65"),  # a deeper 行业 code: its 门类 is I
    "g3": (6, 600, "1", None, None),  # no 单位性质, no 行业: 未分类
    "g4": (12, 1500, "3", "400", "P"),
    "g5": (2, 200, "1", "200", "C"),
}


def make_tree(root: Path):
    """市 → 区 330101 (街道 with g1 g2, 街道 with g3) and 区 330102 (街道 with g4 g5), 本级 everywhere."""
    city = build(root, [[2, 1], [2]])
    grassroots = [c for c, u in city.units.items() if u["层级"] == "基层"]
    for code, (k, hy01, org, nature, industry) in zip(grassroots, UNITS.values(), strict=True):
        u = city.units[code]
        u["org"], u["values"] = org, values_for(k, False) | {"HY01": hy01}
        city.write(code, Path(u["file"]), FM06=nature, FM15=industry)
    return city, dict(zip(UNITS, grassroots, strict=True))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    city, codes = make_tree(tmp_path_factory.mktemp("groups"))
    return city, codes, rollup_all(city.folder, registry=city.registry, period="2025")


def rows(summary) -> dict[tuple[str, str], dict]:
    return {(r["grouping"], r["group_name"]): r for r in summary.groups.iter_rows(named=True)}


def test_group_totals_and_rates_known_by_hand(tree):
    city, _, summaries = tree
    assert summaries["330100"].issues.filter(pl.col("severity") == "错误").height == 0
    got = rows(summaries["330100"])
    wanted = {  # (grouping, group): JH00, HY01, HY03, HY04, 入会率
        ("组织类型", "单独基层工会"): (3, 900, 810, 315, 0.9),
        ("组织类型", "联合基层工会"): (1, 450, 270, 105, 0.6),
        ("组织类型", "基层工会联合会"): (1, 1500, 1080, 420, 0.72),
        ("组织类型", "未分类"): (0, 0, 0, 0, None),
        ("单位性质", "企业：内资"): (1, 100, 90, 35, 0.9),
        ("单位性质", "企业：港澳台商投资"): (1, 200, 180, 70, 0.9),
        ("单位性质", "企业：外商投资"): (1, 450, 270, 105, 0.6),
        ("单位性质", "事业单位"): (1, 1500, 1080, 420, 0.72),
        ("单位性质", "机关"): (0, 0, 0, 0, None),
        ("单位性质", "未分类"): (1, 600, 540, 210, 0.9),
        ("行业门类", "制造业"): (2, 300, 270, 105, 0.9),
        ("行业门类", "信息传输、软件和信息技术服务业"): (1, 450, 270, 105, 0.6),
        ("行业门类", "教育"): (1, 1500, 1080, 420, 0.72),
        ("行业门类", "未分类"): (1, 600, 540, 210, 0.9),
        ("职工规模", "25人以下"): (0, 0, 0, 0, None),
        ("职工规模", "100–499人"): (3, 750, 540, 210, 0.72),  # 540 / 750, not the mean of 0.9, 0.6 and 0.9
        ("职工规模", "500–999人"): (1, 600, 540, 210, 0.9),
        ("职工规模", "1000人及以上"): (1, 1500, 1080, 420, 0.72),
    }
    for key, (units, hy01, hy03, hy04, rate) in wanted.items():
        r = got[key]
        assert (r["JH00"], r["HY01"], r["HY03"], r["HY04"]) == (units, hy01, hy03, hy04), key
        assert r["入会率"] == (pytest.approx(rate) if rate is not None else None), key
        assert r["女会员占比"] == (pytest.approx(hy04 / hy03) if hy03 else None), key
    assert got[("组织类型", "单独基层工会")]["JF01"] == pytest.approx(135799.5 * 9)
    assert got[("组织类型", "单独基层工会")]["JH01"] == 9  # covered units: 1 per scale
    benji = [u["values"] for u in city.units.values() if u["层级"] != "基层"]
    for grouping in ("组织类型", "单位性质", "行业门类", "职工规模"):
        own = got[(grouping, "本级")]
        assert (own["JH00"], own["HY01"]) == (0, sum(v["HY01"] for v in benji))


def test_every_grouping_adds_up_to_the_totals_at_every_node(tree):
    _, _, summaries = tree
    spec = load_spec()
    for node, summary in summaries.items():
        assert unbalanced(summary.groups, spec) == [], node
        top = summary.groups.row(0, named=True)
        assert top["grouping_name"] == "总计"
        for code in ("JH00", "HY01", "HY03", "HY04", "JH01", "JF01", "JF10"):
            assert top[code] == pytest.approx(summary.total(code)), (node, code)
            for grouping in ("组织类型", "单位性质", "行业门类", "职工规模"):
                part = summary.groups.filter(pl.col("grouping") == grouping)[code].sum()
                assert part == pytest.approx(summary.total(code)), (node, grouping, code)
        assert top["入会率"] == pytest.approx(summary.rate("入会率"))


def test_the_write_time_guard_names_a_grouping_that_does_not_add_up(tree):
    _, _, summaries = tree
    spec, summary = load_spec(), summaries["330100"]
    assert balance_issues(summary.unit, summary.name, unbalanced(summary.groups, spec), spec) == []
    broken = summary.groups.with_columns(
        pl.when((pl.col("grouping") == "单位性质") & (pl.col("group_name") == "未分类"))
        .then(pl.col("HY01") - 600).otherwise(pl.col("HY01")).alias("HY01"))
    found = balance_issues(summary.unit, summary.name, unbalanced(broken, spec), spec)
    assert [(i["rule"], i["code"], i["severity"], i["diff"]) for i in found] == [
        ("groups-unbalanced", "HY01", "错误", -600.0)]
    assert "单位性质" in found[0]["message"] and "职工人数" in found[0]["message"]


def test_a_district_from_street_summaries_groups_as_from_the_units(tree, tmp_path):
    city, _, summaries = tree
    spec = load_spec()
    district = "330101"
    inputs = [city.units[district]["file"]]
    for street in city.children[district]:
        files = [city.units[street]["file"]] + [city.units[g]["file"] for g in city.children[street]]
        made = rollup(files, registry=city.registry, unit=street, period="2025")
        inputs.append(next(p for p in write_summary(made, tmp_path, spec) if p.suffix == ".xlsx"))
    from_summaries = rollup(inputs, registry=city.registry, unit=district, period="2025")
    assert from_summaries.detail["单位性质"].to_list() == summaries[district].detail["单位性质"].to_list()
    assert from_summaries.groups.rows() == summaries[district].groups.rows()
    assert rows(from_summaries)[("单位性质", "未分类")]["JH00"] == 1  # g3, carried up blank


def test_a_summary_written_before_the_carried_fields_reads_them_as_unclassified(tree):
    _, _, summaries = tree
    spec, summary = load_spec(), summaries["330100"]
    old = summary.detail.with_columns(pl.lit("").alias("单位性质"), pl.lit("").alias("所在单位行业"))
    got = {(r["grouping"], r["group_name"]): r["JH00"] for r in groups_frame(old, spec).iter_rows(named=True)}
    assert got[("单位性质", "未分类")] == got[("行业门类", "未分类")] == 5
    assert got[("组织类型", "单独基层工会")] == 3  # 组织类型 was always in 明细


def test_the_sheet_is_written_in_either_language_and_byte_identical(tree, tmp_path):
    _, _, summaries = tree
    spec, summary = load_spec(), summaries["330100"]
    first = write_summary(summary, tmp_path / "a", spec, formats=("xlsx", "csv", "json"))
    again = write_summary(summary, tmp_path / "b", spec, formats=("xlsx", "csv", "json"))
    for a, b in zip(first, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    book = next(p for p in first if p.suffix == ".xlsx")
    ws = openpyxl.load_workbook(book)["分组"]
    assert [c.value for c in ws[3]][:5] == ["分组", "组别", "基层工会数", "职工人数", "会员人数"]
    assert [c.value for c in ws[4]][2:] == ["JH00", "HY01", "HY03", "HY04", "JH01", "JF01", "JF10", "HY03/HY01",
                                          "HY04/HY03"]
    assert (ws["A5"].value, ws["C5"].value, ws["D5"].value) == ("总计", 5, summary.total("HY01"))
    assert ws["J5"].number_format == "0.00%" and ws["H5"].number_format == "0.00"
    assert (ws.page_setup.paperSize, ws.page_setup.orientation, ws.page_setup.fitToWidth) == (9, "landscape", 1)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$3:$4"
    assert ws["A3"].fill.fgColor.rgb.endswith("DDEBF7")  # styled as the forms' header
    blank = next(r for r in ws.iter_rows(min_row=5) if r[1].value == "机关" and r[0].value == "按单位性质")
    assert blank[2].value == 0 and blank[9].value is None  # zero denominator: no rate
    csv = next(p for p in first if p.name.endswith("_分组.csv")).read_text(encoding="utf-8-sig").splitlines()
    assert csv[0].startswith("grouping,grouping_name,group,group_name,JH00,HY01")
    doc = json.loads(next(p for p in first if p.suffix == ".json").read_text(encoding="utf-8"))
    assert doc["groups"][0]["grouping_name"] == "总计" and len(doc["groups"]) == summary.groups.height

    english = next(p for p in write_summary(summary, tmp_path / "en", spec, lang="en") if p.suffix == ".xlsx")
    ws = openpyxl.load_workbook(english)["分组"]
    assert [c.value for c in ws[3]][:4] == ["Grouping", "Group", "Grassroots unions", "Employees"]
    assert ws["A5"].value == "Total" and ws["A6"].value == "By type of union"
    assert ws["B6"].value == "Single-employer union"
    assert "Manufacturing" in [c.value for c in ws["B"]] and "Unclassified" in [c.value for c in ws["B"]]
    note = [c.value for c in ws["A"] if c.value and c.value.startswith("Note:")]
    assert note and "Unclassified holds units" in note[0] and "未分类" not in note[0]  # the label the sheet shows


def test_a_hand_edited_groups_sheet_is_an_error(tree, tmp_path):
    import tongji

    city, _, summaries = tree
    book = next(p for p in write_summary(summaries["330101"], tmp_path, load_spec()) if p.suffix == ".xlsx")
    assert tongji.validate([book], registry=city.registry, period="2025").issues.height == 0
    wb = openpyxl.load_workbook(book)
    ws = wb["分组"]
    row = next(r[0].row for r in ws.iter_rows(min_row=5) if r[0].value == "按单位性质")
    ws.cell(row, 4).value += 7  # HY01 of the first 单位性质 group
    wb.save(book)
    report = tongji.validate([book], registry=city.registry, period="2025")
    assert report.flatten(["rule", "cell", "code"]) == [["groups-unbalanced", f"分组!D{row}", "HY01"]]
    del wb["分组"]  # a summary written before the sheet existed has nothing to check
    wb.save(book)
    assert tongji.validate([book], registry=city.registry, period="2025").issues.height == 0


PLUGIN = """
[[extend]]
form = "JH"
rows = [{ code = "JH31", name = "覆盖的互联网企业数", kind = "count", unit = "个" }]

[[grouping]]
id = "互联网企业"
name = "按是否互联网企业"
name_en = "Internet companies"
field = "JH31"
groups = [
  { name = "互联网企业", name_en = "Internet", when = "JH31 > 0" },
  { name = "其他", name_en = "Other", when = "JH31 = 0" },
]
"""


def test_a_plugin_adds_a_grouping(tmp_path):
    from tongji import plugins

    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "internet.toml").write_text(PLUGIN, encoding="utf-8")
    host = plugins.configure(plugins_dir=folder, entry_points=False)
    assert [g.id for g in host.spec.groupings][-1] == "互联网企业"
    assert host.errors == {} and host.infos["internet"].registered["分组"] == ["互联网企业"]
    city = build(tmp_path / "city", [[3]])
    grassroots = [c for c, u in city.units.items() if u["层级"] == "基层"]
    for code, jh31 in zip(grassroots, (2, 0, 1), strict=True):
        u = city.units[code]
        u["values"] = u["values"] | {"JH31": jh31}
        city.write(code, Path(u["file"]))
    summary = rollup_all(city.folder, registry=city.registry, period="2025")["330100"]
    got = rows(summary)
    internet, other = got[("互联网企业", "互联网企业")], got[("互联网企业", "其他")]
    assert (internet["JH00"], other["JH00"], got[("互联网企业", "未分类")]["JH00"]) == (2, 1, 0)
    hy01 = {c: city.units[c]["values"]["HY01"] for c in grassroots}
    assert internet["HY01"] == hy01[grassroots[0]] + hy01[grassroots[2]]
    assert unbalanced(summary.groups, load_spec()) == []


def test_a_grouping_with_a_mistake_is_refused_with_its_line(tmp_path):
    from tongji import plugins
    from tongji.errors import TongjiError

    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "bad.toml").write_text('\n[[grouping]]\nid = "x"\nfield = "ZZ99"\ngroups = []\n', encoding="utf-8")
    host = plugins.configure(plugins_dir=folder, entry_points=False)
    with pytest.raises(TongjiError, match=r"bad.toml.*4.*ZZ99"):
        _ = host.spec


class SizeOfMembership:
    """A Python plugin's grouping through the hook, by a number of the 会员 form."""

    from tongji.plugin import hookimpl

    @hookimpl
    def register_groupings(self, register):
        register({"id": "会员规模", "name": "按会员人数", "field": "HY03",
                  "groups": [{"name": "500人以上", "when": "HY03 > 500"},
                             {"name": "500人及以下", "when": "HY03 <= 500"}]})


def test_a_python_plugin_adds_a_grouping_through_the_hook(tree):
    from tongji.testing import load_plugin

    city, _, _ = tree
    spec = load_plugin(SizeOfMembership(), name="size").spec
    summary = rollup_all(city.folder, registry=city.registry, period="2025", spec=spec)["330100"]
    got = rows(summary)
    assert got[("会员规模", "500人以上")]["JH00"] == 2  # g3 (540) and g4 (1080)
    assert got[("会员规模", "500人及以下")]["HY03"] == 90 + 270 + 180


def test_the_nodes_of_a_level_grouped_together_are_each_grouped_alone(tree):
    """A level's 分组 sheets are made in one stacked query: no node's sheet takes another's rows, an empty 明细
    among them gives zeros, and each node's balance is its own."""
    _, _, summaries = tree
    spec = load_spec()
    streets = [s for s in summaries.values() if s.level == "街道"]
    assert len(streets) == 3 and len({s.groups["HY01"][0] for s in streets}) == 3  # their totals differ
    details = [s.detail for s in streets] + [streets[0].detail.clear()]
    together, off = groups_frames(details, spec)
    for detail, got in zip(details, together, strict=True):
        assert got.equals(groups_frame(detail, spec))
    assert off == [[], [], [], []]
    assert together[-1]["HY01"].to_list() == [0.0] * together[-1].height
    assert together[0].equals(streets[0].groups)  # as rollup_all made it, with its level


def test_an_industry_code_without_its_letter_counts_under_its_section(tmp_path):
    """1311 (农副食品加工) and 83 (教育) are 大类 codes the cover accepts without the 门类 letter: they count under
    C and P, as C1311 and P would, not as 未分类."""
    city = build(tmp_path, [[3]])
    for code, industry in zip([c for c, u in city.units.items() if u["层级"] == "基层"], ["1311", "83", "C13"],
                              strict=True):
        city.write(code, Path(city.units[code]["file"]), FM15=industry)
    street = next(c for c, u in city.units.items() if u["层级"] == "街道")
    summary = rollup_all(city.folder, registry=city.registry, period="2025")[street]
    assert summary.issues.height == 0
    by_section = {r["group"]: r["JH00"] for r in summary.groups.filter(pl.col("grouping") == "行业门类")
                  .iter_rows(named=True) if r["JH00"]}
    assert by_section == {"C": 2, "P": 1}
