"""Numbers no statistic can hold (NaN, infinity, 1E+308, 400 digits) are errors on their cells, never crashes."""

from __future__ import annotations

import pytest

from tongji import plugins
from tongji.aggregating.rollup import rollup_all
from tongji.checking.validate import validate
from workbooks import make_workbook

HUGE = ["NaN", "nan", "inf", "-Infinity", "1E+308", "1E+20", "9" * 400, "1,000,000,000,000,000"]


@pytest.mark.parametrize("text", HUGE)
def test_an_implausible_number_is_an_error_on_its_cell(tmp_path, text):
    make_workbook(tmp_path / "u.xlsx", {"HY01": text, "JF02": text})
    report = validate(tmp_path / "u.xlsx")
    found = report.issues.filter(report.issues["rule"] == "implausible-number")
    assert found.select("cell", "code").rows() == [("会员!D6", "HY01"), ("经费!D7", "JF02")]
    assert found["severity"].to_list() == ["错误", "错误"]
    assert f"“{text}”超出任何统计数可能的范围（此类单元格不超过 1000000000）" == found["message"][0]
    assert report.workbooks["status"].to_list() == ["退回"]


def test_plausible_large_values_pass(tmp_path):
    make_workbook(tmp_path / "u.xlsx", {"JF22": "9999999999999.99"})  # just under 10 万亿元
    issues = validate(tmp_path / "u.xlsx").issues
    assert "implausible-number" not in issues["rule"].to_list()


def test_the_limits_are_configuration(tmp_path):
    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "small.toml").write_text('[config]\n"数值上限_人数" = 100\n', encoding="utf-8")
    plugins.configure(folder, entry_points=False)
    make_workbook(tmp_path / "b" / "u.xlsx", {"HY01": 150, "HY02": 40, "HY03": 90, "HY04": 30})
    found = validate(tmp_path / "b").issues
    assert ("会员!D6", "implausible-number") in found.select("cell", "rule").rows()


def test_rollup_of_a_city_with_implausible_values_still_writes(tmp_path):
    from city import build

    city = build(tmp_path, [[2], [1]])
    victim = next(c for c, u in city.units.items() if u["层级"] == "基层")
    values = city.units[victim]["values"] | {"HY01": "1E+20", "JF02": "inf"}
    city.write(victim, city.units[victim]["file"], values, FM04="2025")
    summaries = rollup_all(city.folder, registry=city.registry, period="2025", include_errors=True)
    expected = city.expected("330100")["HY01"] - city.units[victim]["values"]["HY01"]
    assert summaries["330100"].total("HY01") == expected  # the implausible cell is left out, not summed
