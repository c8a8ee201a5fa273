"""Timeliness (domain.md §5): a unit whose 报出日期 is after the deadline is 迟报; 完整性 gives 报送率 and 及时率."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from city import build
from tongji import cli
from tongji.aggregating.rollup import rollup, rollup_all
from tongji.definitions.forms import parse_deadline
from tongji.errors import TongjiError
from tongji.plugins import load_spec
from tongji.writing.summary_files import write_summary

DEADLINE = "2026-01-20"
SHAPE = [[3, 2]]  # one 区, two 街道 with 3 and 2 grassroots units


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    city = build(tmp_path_factory.mktemp("late"), SHAPE)
    first, second = city.children["330101"]
    a, b, c = city.children[first]
    city.write(a, city.units[a]["file"], FM10="2026-01-20")  # on the day: on time
    city.write(b, city.units[b]["file"], FM10="2026年1月21日")  # a day late, written the Chinese way
    city.units[c]["file"].unlink()  # never sent: missing, neither late nor on time
    d, _ = city.children[second]
    city.write(d, city.units[d]["file"], FM10="2026-02-03")
    city.late = {b, d}
    return city


def invoke(*args):
    cli._register()
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def row(summary, child):
    return next(r for r in summary.completeness.iter_rows(named=True) if r["child"] == child)


def test_late_units_and_rates_per_child(city):
    street = city.children["330101"][0]
    s = rollup(city.folder, registry=city.registry, unit=street, period="2025", deadline=DEADLINE)
    total = row(s, "合计")
    # 3 grassroots units and the 街道's own 本级 workbook: 4 expected, 3 received, 1 of them late
    assert (total["expected"], total["received"], total["missing"], total["late"]) == (4, 3, 1, 1)
    assert total["reported_rate"] == pytest.approx(3 / 4)
    assert total["timely_rate"] == pytest.approx(2 / 4)
    late = s.units.filter(s.units["late"] == "迟报")
    assert late["unit"].to_list() == sorted(city.late & set(city.children[street]))
    assert late["date"].to_list() == ["2026-01-21"]


def test_the_streets_of_a_district_dated_and_counted_together_are_each_as_made_alone(city):
    """rollup_all dates and counts the 街道 of a level in one query for them all: each gets its own 完整性 and its
    own late units, as when it is rolled up alone."""
    together = rollup_all(city.folder, registry=city.registry, period="2025", deadline=DEADLINE)
    late = []
    for street in city.children["330101"]:
        alone = rollup(city.folder, registry=city.registry, unit=street, period="2025", deadline=DEADLINE)
        assert together[street].completeness.equals(alone.completeness)
        # alone, it is the top node: it also lists the other 街道's workbooks, as not its own (child "")
        assert together[street].units.equals(alone.units.filter(pl.col("child") != ""))
        late.append(set(together[street].units.filter(pl.col("late") == "迟报")["unit"].to_list()))
    assert late[0] | late[1] == city.late and late[0] and late[1]


def test_without_a_deadline_nothing_is_late(city):
    street = city.children["330101"][0]
    s = rollup(city.folder, registry=city.registry, unit=street, period="2025")
    total = row(s, "合计")
    assert total["late"] is None and total["timely_rate"] is None
    assert total["reported_rate"] == pytest.approx(3 / 4)
    assert set(s.units["late"].to_list()) == {""}


def test_units_dates_travel_up_in_the_child_summaries(city, tmp_path):
    """The 区 counts each unit late or on time by its own 报出日期, read from its 街道's 明细, as --all does."""
    spec = load_spec()
    streets = city.children["330101"]
    for street in streets:
        write_summary(rollup(city.folder, registry=city.registry, unit=street, period="2025", deadline=DEADLINE),
                      tmp_path, spec)
    inputs = [tmp_path / f"{s}_2025_汇总.xlsx" for s in streets] + [city.units["330101"]["file"]]
    level = rollup(inputs, registry=city.registry, unit="330101", period="2025", deadline=DEADLINE)
    at_once = rollup_all(city.folder, registry=city.registry, period="2025", deadline=DEADLINE)["330101"]
    for s in (level, at_once):
        assert [(r["child"], r["late"]) for r in s.completeness.iter_rows(named=True)] == [
            (streets[0], 1), (streets[1], 1), ("330101", 0), ("合计", 2)]
        assert sorted(s.units.filter(s.units["late"] == "迟报")["unit"].to_list()) == sorted(city.late)


def test_completeness_sheet_shows_late_units_and_rates(city, tmp_path):
    street = city.children["330101"][0]
    s = rollup(city.folder, registry=city.registry, unit=street, period="2025", deadline=DEADLINE)
    path = next(p for p in write_summary(s, tmp_path, load_spec()) if p.suffix == ".xlsx")
    ws = openpyxl.load_workbook(path)["完整性"]
    header = [c.value for c in ws[1]]
    assert header == ["下级单位", "名称", "应报", "已报", "采用", "退回", "缺报", "迟报", "报送率", "及时率"]
    total = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "合计")
    assert [c.value for c in total[7:10]] == [1, 0.75, 0.5]
    assert total[9].number_format == "0.00%"
    rows = [[c.value for c in r][:8] for r in ws.iter_rows(min_row=s.completeness.height + 3)]
    assert rows[0] == ["单位代码", "单位名称", "所属下级", "状态", "文件", "原因", "报出日期", "及时性"]
    late = [r for r in rows[1:] if r[7] == "迟报"]
    assert [(r[0], r[6]) for r in late] == [(city.children[street][1], "2026-01-21")]


def test_the_deadline_from_configuration(city, tmp_path):
    """A region sets 报送截止日期 once in its plugin's TOML; --deadline overrides it for one run."""
    from tongji.plugins import Host

    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "deadline.toml").write_text('[config]\n"报送截止日期" = 2026-01-31\n', encoding="utf-8")
    spec = Host(tmp_path / "plugins", entry_points=False, environment=False).spec
    assert spec.deadline == "2026-01-31"
    street = city.children["330101"][0]
    configured = rollup(city.folder, registry=city.registry, unit=street, period="2025", spec=spec)
    assert row(configured, "合计")["late"] == 0  # 2026-01-21 is before the 31st
    given = rollup(city.folder, registry=city.registry, unit=street, period="2025", spec=spec, deadline=DEADLINE)
    assert row(given, "合计")["late"] == 1


@pytest.mark.parametrize("text, day", [("2026-01-20", "2026-01-20"), ("2026年1月5日", "2026-01-05"),
                                       ("2026/1/5", "2026-01-05"), ("2026-02-30", None), ("下周", None)])
def test_parse_deadline(text, day):
    assert parse_deadline(text) == day


def test_a_malformed_deadline_is_a_usage_error(city, tmp_path):
    with pytest.raises(TongjiError) as caught:
        rollup(city.folder, registry=city.registry, unit="330101", period="2025", deadline="2026-13-01")
    assert caught.value.key == "bad-deadline"
    result = invoke("rollup", city.folder, "-r", city.registry, "-p", "2025", "--unit", "330101",
                    "-o", tmp_path / "out", "--deadline", "明天")
    assert result.exit_code == 2
    assert "报送截止日期“明天”格式不对" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_cli_rollup_prints_late_and_rates(city, tmp_path):
    result = invoke("rollup", city.folder, "-r", city.registry, "-p", "2025", "--unit", "330101",
                    "-o", tmp_path / "out", "--deadline", DEADLINE)
    assert "迟报" in result.output and "及时率" in result.output
    assert "62.5%" in result.output  # 合计: 5 of 8 units on time (two late, one missing)
