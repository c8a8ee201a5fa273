"""Template versions and their concordance (domain.md §11): a workbook or last year's summary of an older known
version is read as the current forms, with a notice naming the version; an unknown version is still reported."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import openpyxl
import pytest

from tongji.aggregating.summary import in_version
from tongji.checking.validate import validate
from tongji.definitions.concordance import layout_of
from tongji.errors import TongjiError
from tongji.plugins import load_spec
from tongji.testing import load_plugin, make_city, rollup
from tongji.writing.annotate import annotate_workbook
from tongji.writing.summary_files import write_summary
from workbooks import GOOD, cell_of, cover, make_workbook

OLD = "2026.1"
# a version before 2026.1, as a region's plugin declares it: HY10 was HY15, JF11 and JF15 were one line JF30,
# HY12 came only in 2026.1, BF21 was dropped
OLDER = '''
[[concordance]]
version = "2025.1"
next = "2026.1"
title = "2025年版"
added = ["HY12"]
dropped = ["BF21"]

[concordance.renamed]
HY15 = "HY10"

[concordance.split]
JF30 = ["JF11", "JF15"]

[concordance.names]
HY15 = "外卖骑手"
'''


def old_workbook(path: Path, values: dict | None = None, cover_values: dict | None = None, version: str = OLD,
                 spec=None) -> Path:
    spec = spec or load_spec()
    return make_workbook(path, values, cover(FM12=version, **(cover_values or {})), spec=layout_of(spec, version))


def test_old_version_is_read_through_its_concordance(tmp_path):
    """A 2026.1 workbook: no 事业支出 row (read 0, not missing), 单位性质 900 of the old list (190 now), 是 in a
    line that now counts units, from a union covering three: it passes, with one notice at its own FM12 cell."""
    old = layout_of(load_spec(), OLD)
    path = old_workbook(tmp_path / "old.xlsx", {"JH01": 3, "JH04": "是"}, {"FM06": "900"})
    report = validate([path])
    assert report.flatten(["cell", "rule", "severity"]) == [[cell_of("FM12", old), "old-version-read", "提示"]]
    assert "2026.1（2026年版统计报表）" in report.issues["message"][0] and "2027.1" in report.issues["message"][0]
    row = report.values.row(0, named=True)
    assert (row["JF23"], row["JF24"], row["FM06"], row["JH04"], row["HY10"]) == (0.0, 0.0, "190", 1.0, GOOD["HY10"])
    assert row["FM13"] is None and report.workbooks["status"].to_list() == ["通过"]


def test_without_a_concordance_the_same_workbook_is_reported(tmp_path):
    """The failing case: the same old layout calling itself a version nobody declared."""
    old = layout_of(load_spec(), OLD)
    path = make_workbook(tmp_path / "old.xlsx", {"JH01": 3, "JH04": "是"}, cover(FM12="2025.1"), spec=old)
    found = validate([path]).flatten(["rule", "code"])
    assert ["old-version", "FM12"] in found and ["missing-row", "JF23"] in found
    assert ["yes-for-several-units", "JH04"] in found
    unknown = make_workbook(tmp_path / "unknown.xlsx", cover_values=cover(FM12="我的表"))
    assert validate([unknown]).flatten(["cell", "rule"]) == [[cell_of("FM12"), "unknown-version"]]


@pytest.mark.parametrize(("current", "written", "rule"), [
    ("2027.10", "2027.9", "old-version"),  # as text, "2027.9" > "2027.10": it was called unknown
    ("2027.2", "2027.10", "unknown-version"),  # newer than this tongji knows, not 已过时 as text had it
    ("2027.1", "2026.10", "old-version"),
])
def test_versions_are_compared_as_year_and_number(tmp_path, current, written, rule):
    spec = dataclasses.replace(load_spec(), version=current, accepted_versions=[current])
    path = make_workbook(tmp_path / "v.xlsx", cover_values=cover(FM12=written), spec=spec)
    assert validate([path], spec=spec).flatten(["cell", "rule"]) == [[cell_of("FM12", spec), rule]]


def test_a_version_written_with_a_leading_zero_is_that_version(tmp_path):
    """2027.01 is the current 2027.1 (no warning), and 2026.01 the known 2026.1, read through its concordance,
    as versions are (year, number): it was called unknown, and the old layout was read as the current one."""
    current = make_workbook(tmp_path / "current.xlsx", cover_values=cover(FM12="2027.01"))
    report = validate([current])
    assert report.flatten(["cell", "rule"]) == [] and report.values["FM12"].to_list() == ["2027.1"]
    old = layout_of(load_spec(), OLD)
    path = make_workbook(tmp_path / "old.xlsx", {"JH01": 3, "JH04": "是"}, cover(FM06="900", FM12="２０２６.01"),
                         spec=old)
    report = validate([path])
    assert report.flatten(["cell", "rule", "severity"]) == [[cell_of("FM12", old), "old-version-read", "提示"]]
    row = report.values.row(0, named=True)
    assert (row["JF23"], row["FM06"], row["JH04"]) == (0.0, "190", 1.0)


def test_an_error_in_an_old_workbook_is_at_its_own_cell(tmp_path):
    """JF21 sits a row higher in 2026.1 (no JF23 above it): the balance error and its annotation are there."""
    old = layout_of(load_spec(), OLD)
    path = old_workbook(tmp_path / "old.xlsx", {"JF21": GOOD["JF21"] + 5})
    report = validate([path])
    assert report.flatten(["cell", "rule"], severity="错误") == [[cell_of("JF21", old), "jf21-balance"]]
    assert cell_of("JF21", old) == "经费!D26" and cell_of("JF21") == "经费!D27"
    target = annotate_workbook(path, report.issues, tmp_path / "标注.xlsx")
    ws = openpyxl.load_workbook(target)["经费"]
    assert ws["D26"].comment is not None and "年末结余" in ws["D26"].comment.text
    assert ws["D27"].comment is None


def test_a_plugin_version_chains_renamed_split_and_dropped_lines(tmp_path):
    """2025.1 → 2026.1 → 2027.1: a renamed line carries its value, a split one goes to its first part (the other
    reads 0), an added one reads 0, a dropped one is set aside without a word."""
    (tmp_path / "older.toml").write_text(OLDER, encoding="utf-8")
    host = load_plugin(tmp_path / "older.toml")
    assert host.errors == {}
    spec = host.spec
    assert spec.versions["2025.1"].renamed == {"HY15": "HY10"}
    assert "JF23" in spec.versions["2025.1"].added and "HY12" in spec.versions["2025.1"].added
    joined = GOOD["JF11"] + GOOD["JF15"]
    path = old_workbook(tmp_path / "older.xlsx", {"HY15": 1, "JF30": joined}, version="2025.1", spec=spec)
    wb = openpyxl.load_workbook(path)
    wb["帮扶"].append(["旧的一行", "BF21", "人", 5])
    wb.save(path)
    report = validate([path], spec=spec)
    assert report.flatten(["rule"]) == [["old-version-read"]]
    row = report.values.row(0, named=True)
    assert (row["HY10"], row["JF11"], row["JF15"], row["HY12"], row["JF23"]) == (1.0, joined, 0.0, 0.0, 0.0)


def test_a_workbook_without_codes_is_read_by_its_old_names(tmp_path):
    (tmp_path / "older.toml").write_text(OLDER, encoding="utf-8")
    spec = load_plugin(tmp_path / "older.toml").spec
    path = old_workbook(tmp_path / "older.xlsx", {"HY15": 1, "JF30": GOOD["JF11"] + GOOD["JF15"]},
                        version="2025.1", spec=spec)
    wb = openpyxl.load_workbook(path)
    for row in wb["会员"].iter_rows(min_row=6):
        row[1].value = None  # no codes: rows are known by their names
    wb.save(path)
    report = validate([path], spec=spec)
    assert report.values.row(0, named=True)["HY10"] == 1.0
    assert report.flatten(["rule"]) == [["old-version-read"]]


@pytest.mark.parametrize(("text", "detail"), [
    ('added = ["ZZ99"]', "ZZ99 不是当前表式的指标代码"),
    ('next = "2030.1"', "接不到当前版本"),
])
def test_a_bad_concordance_is_refused_with_its_file(tmp_path, text, detail):
    body = f'[[concordance]]\nversion = "2024.1"\n{text}\n' + ('next = "2027.1"\n' if "next" not in text else "")
    (tmp_path / "bad.toml").write_text(body, encoding="utf-8")
    with pytest.raises(TongjiError) as exc:
        _ = load_plugin(tmp_path / "bad.toml").spec
    assert detail in str(exc.value) and "bad.toml" in str(exc.value)


def test_last_years_old_summary_gives_the_right_year_on_year(tmp_path):
    """Last year's 市 summary in the 2026.1 layout (no JF23 column in its 明细, JH04 a flag of each union): rollup
    with --previous reads it through the concordance; 同比 is right and the notice names the version."""
    host = load_plugin(builtins_only=True)
    spec = host.spec
    last = make_city(tmp_path / "last", host, period="2024", values=lambda code, row: {"HY03": 80, "HY12": 80})
    top = rollup(host, last)[last.top]
    old, layout = in_version(top, spec, OLD)
    prev = next(p for p in write_summary(old, tmp_path / "2024", layout, ("xlsx",)) if p.suffix == ".xlsx")
    header = [c.value for c in next(openpyxl.load_workbook(prev)["明细"].iter_rows(max_row=1))]
    assert "JF23" not in header and "JF21" in header
    now = make_city(tmp_path / "now", host, values={"JF20": GOOD["JF21"], "JF21": GOOD["JF21"] * 2 - GOOD["JF20"]})
    summary = rollup(host, now, previous=prev)[now.top]
    hy03 = summary.totals.filter(summary.totals["code"] == "HY03").row(0, named=True)
    assert hy03["previous"] == top.total("HY03") and hy03["value"] != hy03["previous"]
    assert hy03["change"] == pytest.approx(hy03["value"] / hy03["previous"] - 1)
    jf23 = summary.totals.filter(summary.totals["code"] == "JF23").row(0, named=True)
    assert jf23["previous"] == 0.0
    notes = summary.issues.filter(summary.issues["rule"] == "previous-old-version")
    assert notes["file"].to_list() == [str(prev)] and notes["severity"].to_list() == ["提示"]
    fm12 = next(r[0].coordinate for r in openpyxl.load_workbook(prev)["封面"].iter_rows() if r[1].value == "FM12")
    assert notes["cell"].to_list() == [f"封面!{fm12.replace('A', 'C')}"]  # the version's own cell
    assert "JH03、JH04" in notes["message"][0] and "不计算同比" in notes["message"][0]
    # JH04 counted unions answering 是 last year and counts covered units now: 上期数 shown, no 同比
    jh04 = summary.totals.filter(summary.totals["code"] == "JH04").row(0, named=True)
    assert jh04["previous"] == top.total("JH04") and jh04["change"] is None
    rate = summary.indicators.filter(summary.indicators["id"] == "职代会建制率").row(0, named=True)
    assert rate["previous"] is not None and rate["change"] is None
    assert summary.indicators.filter(summary.indicators["id"] == "入会率")["change"][0] is not None
    assert not summary.issues.filter(summary.issues["rule"] == "jf20-previous").height


def test_a_childs_old_version_summary_is_rolled_up_through_the_concordance(tmp_path):
    """A 街道 sends its summary in the 2026.1 layout: the 区 reads its totals and its 明细 through the concordance
    (not as hand-edited), and adds up to what it would from the current layout."""
    host = load_plugin(builtins_only=True)
    spec = host.spec
    city = make_city(tmp_path / "city", host)
    everything = rollup(host, city)
    street, other = city.streets()
    old, layout = in_version(everything[street], spec, OLD)
    sent = [next(p for p in write_summary(old, tmp_path / "old", layout, ("xlsx",)) if p.suffix == ".xlsx"),
            next(p for p in write_summary(everything[other], tmp_path / "new", spec, ("xlsx",)) if p.suffix == ".xlsx"),
            city.files["330106"]]
    district = rollup(host, sent, registry=city.registry, period=city.period, unit="330106")["330106"]
    issues = district.issues.select("rule", "file").rows()
    assert issues == [("old-version-read", str(sent[0]))]
    for code in ("HY03", "JF10", "JF21", "JH04"):
        assert district.total(code) == everything["330106"].total(code), code


def test_the_bundled_last_year_is_old_and_still_gives_year_on_year():
    """samples/2024 holds last year's summaries as last year's collection made them (template 2026.1): a 街道's
    rollup with --previous reads one through the concordance, with the notice, and 上期数 is its 明细's sum."""
    from tongji.aggregating.rollup import rollup as rollup_one

    samples = Path(__file__).resolve().parent.parent / "samples"
    prev = samples / "2024" / "汇总" / "330106004_2024_汇总.xlsx"
    wb = openpyxl.load_workbook(prev, read_only=True)
    assert [r[2] for r in wb["封面"].iter_rows(values_only=True) if r[1] == "FM12"] == [OLD]
    assert "JF23" not in next(wb["明细"].iter_rows(max_row=1, values_only=True))
    street = samples / "2025" / "翠苑街道总工会"
    summary = rollup_one([street, *(samples / "2025" / "本级").glob("330106004_*")], registry=samples / "registry.csv",
                         unit="330106004", period="2025", previous=prev)
    assert summary.issues.filter(summary.issues["rule"] == "previous-old-version")["file"].to_list() == [str(prev)]
    totals = {r["code"]: r for r in summary.totals.iter_rows(named=True)}
    last = {r[1]: r[3] for r in wb["会员"].iter_rows(values_only=True) if r[1]}  # the 2024 summary's own totals
    assert totals["HY03"]["previous"] == last["HY03"] > 0 and totals["JF23"]["previous"] == 0.0
    assert totals["HY03"]["change"] == pytest.approx(totals["HY03"]["value"] / last["HY03"] - 1)


def test_an_old_form_lapses_at_its_own_mark(tmp_path):
    """A 2025.1 form was filed until 2026年12月: dated 2027-01-15 it had lapsed, though the current form runs to
    2027年12月; the same date on a current workbook is fine."""
    (tmp_path / "older.toml").write_text(OLDER + '\n[concordance.marks]\n"有效期至" = "2026年12月"\n', encoding="utf-8")
    spec = load_plugin(tmp_path / "older.toml").spec
    joined = GOOD["JF11"] + GOOD["JF15"]
    path = old_workbook(tmp_path / "older.xlsx", {"HY15": 1, "JF30": joined}, {"FM10": "2027-01-15"},
                        version="2025.1", spec=spec)
    report = validate([path], spec=spec)
    old = layout_of(spec, "2025.1")
    assert report.flatten(["rule", "cell", "severity"]) == [
        ["form-lapsed", cell_of("FM10", old), "警告"], ["old-version-read", cell_of("FM12", old), "提示"]]
    assert "晚于报表有效期至 2026年12月" in report.issues["message"][0]
    current = make_workbook(tmp_path / "current.xlsx", cover_values=cover(FM10="2027-01-15"))
    assert validate([current], spec=spec).flatten(["rule"]) == []


def test_a_line_split_since_last_year_gets_no_year_on_year(tmp_path):
    """Last year's 2025.1 summary had one line JF30 for 职工活动 and 业务 spending, split into JF11 and JF15 now.
    Its whole value reads as JF11: 上期数 is shown, but a 同比 of JF11 (−33%) or of 职工活动支出占比 would be wrong."""
    import polars as pl

    (tmp_path / "older.toml").write_text(OLDER, encoding="utf-8")
    host = load_plugin(tmp_path / "older.toml")
    spec = host.spec
    last = make_city(tmp_path / "last", host, period="2024")
    top = rollup(host, last)[last.top]
    old, layout = in_version(top, spec, "2025.1")
    old.detail = old.detail.with_columns((pl.col("JF30") + top.detail["JF15"]).alias("JF30"))  # the one old line
    prev = next(p for p in write_summary(old, tmp_path / "2024", layout, ("xlsx",)) if p.suffix == ".xlsx")
    now = make_city(tmp_path / "now", host, values={"JF20": GOOD["JF21"], "JF21": GOOD["JF21"] * 2 - GOOD["JF20"]})
    summary = rollup(host, now, previous=prev)[now.top]
    totals = {r["code"]: r for r in summary.totals.iter_rows(named=True)}
    assert totals["JF11"]["previous"] == top.total("JF11") + top.total("JF15") and totals["JF11"]["change"] is None
    assert totals["JF15"]["change"] is None and totals["JF10"]["change"] == 0.0
    rates = {r["id"]: r for r in summary.indicators.iter_rows(named=True)}
    assert rates["职工活动支出占比"]["change"] is None and rates["维权支出占比"]["change"] == 0.0
    notes = summary.issues.filter(pl.col("rule") == "previous-split")
    assert notes.select("severity", "code", "message").rows() == [
        ("提示", "JF11", "上期汇总表（旧版模板 2025.1）的 JF30 一行在当前版本拆分为 JF11、JF15，上期数全部读入 JF11："
                        "这几项只列上期数，不计算同比")]
