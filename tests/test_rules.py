"""Every single-workbook check of domain.md §5: a failing and a passing case, exact rule id and cell."""

from __future__ import annotations

import pytest

import tongji
from workbooks import cell_of, cover, make_workbook

# rule id, values that break it, the cell reported, values that keep it (at the boundary)
CASES = [
    ("hy02-le-hy01", {"HY02": 101}, "HY02", {"HY02": 100}),
    ("hy04-le-hy03", {"HY04": 91, "HY02": 95}, "HY04", {"HY04": 90, "HY02": 90}),
    ("hy05-le-hy03", {"HY05": 91}, "HY05", {"HY05": 90}),
    ("hy06-le-hy03", {"HY06": 91}, "HY06", {"HY06": 90}),
    ("hy07-10-le-hy06", {"HY07": 3}, "HY07", {"HY07": 2}),
    ("hy11-le-hy03", {"HY11": 91}, "HY11", {"HY11": 90}),
    ("hy12-le-hy03", {"HY12": 91}, "HY12", {"HY12": 90}),
    ("hy03-le-hy01", {"HY03": 101}, "HY03", {"HY03": 100}),
    ("hy04-le-hy02", {"HY04": 41}, "HY04", {"HY04": 40}),
    ("jh02-le-jh01", {"JH02": 2}, "JH02", {"JH01": 2, "JH02": 2}),
    ("jh12-le-jh11", {"JH12": 21}, "JH12", {"JH12": 20}),
    # 民主管理 counts covered units (v2): never more than JH01; a 单独基层工会's 是 is 1
    ("jh03-le-jh01", {"JH03": 2}, "JH03", {"JH03": 1}),
    ("jh04-le-jh01", {"JH04": 2}, "JH04", {"JH01": 20, "JH04": 20}),
    ("jh05-le-jh01", {"JH05": 3}, "JH05", {"JH05": "是"}),
    ("jh06-le-jh01", {"JH01": 5, "JH06": 6}, "JH06", {"JH01": 5, "JH06": 5}),
    ("jh07-le-jh01", {"JH07": 2}, "JH07", {"JH07": "√"}),
    ("jh08-le-jh01", {"JH08": 2}, "JH08", {"JH08": 0}),
    ("jh09-le-jh01", {"JH09": 2}, "JH09", {"JH09": 1}),
    ("jh10-le-jh01", {"JH10": 2}, "JH10", {"JH10": "否"}),
    ("jh01-ge-1", {"JH01": 0, "JH02": 0}, "JH01", {"JH01": 1, "JH02": 0}),
    ("bf02-04-le-bf01", {"BF04": 2}, "BF02", {"BF04": 1}),
    # 0.01 元 per term: four amounts allow 0.04
    ("bf08-10-le-bf07", {"BF10": 1000.05}, "BF08", {"BF10": 1000.04}),
    ("bf11-bf12-pair", {"BF12": 0}, "BF12", {"BF11": 0, "BF12": 0, "JF14": 0, "JF13": 6500}),
    ("bf12-bf11-pair", {"BF11": 0}, "BF11", {"BF11": 3}),
    ("bf13-bf14-pair", {"BF14": 0}, "BF14", {"BF13": 0, "BF14": 0}),
    ("bf14-bf13-pair", {"BF13": 0}, "BF13", {"BF13": 2}),
    ("bf15-bf16-pair", {"BF16": 0}, "BF16", {"BF15": 0, "BF16": 0}),
    ("bf16-bf15-pair", {"BF15": 0}, "BF15", {"BF15": 1}),
    ("bf17-bf18-pair", {"BF17": 2}, "BF18", {"BF17": 2, "BF18": 300}),
    ("bf18-bf17-pair", {"BF18": 300}, "BF17", {"BF17": 0, "BF18": 0}),
    ("jf01-sum", {"JF01": 135799.6}, "JF01", {"JF01": 135799.5}),
    ("jf10-sum", {"JF19": 2100}, "JF10", {"JF19": 2000}),
    ("jf13-14-le-jf12", {"JF13": 18600}, "JF13", {"JF13": 18500}),
    ("jf21-balance", {"JF21": 68800}, "JF21", {"JF21": 68799.52}),
    ("jf03-allocation", {"JF03": 90000}, "JF03", {"JF03": 96000}),
    ("bf19-le-hy01", {"BF19": 101}, "BF19", {"BF19": 100}),
    ("jf14-needs-bf11", {"BF11": 0, "BF12": 0}, "BF11", {"BF11": 1, "BF12": 1}),
    ("jf13-needs-bf07", {"BF07": 0, "BF08": 0, "BF09": 0, "BF10": 0}, "BF07", {"BF07": 1}),
]


def run(tmp_path, values=None, **kw):
    make_workbook(tmp_path / "unit.xlsx", values, **kw)
    return tongji.validate(tmp_path, period="2025")


def test_every_rule_in_the_rule_file_has_a_case():
    from test_cross_period import CASES as CROSS_PERIOD
    from test_cross_period import SAME_YEAR
    from tongji.plugins import load_spec

    rules = load_spec().rules
    assert {r.id for r in rules if not r.cross_period} == {c[0] for c in CASES}
    # in test_cross_period.py: against last year's summary, or an earlier quarter's
    assert {r.id for r in rules if r.cross_period} == {c[0] for c in CROSS_PERIOD} | set(SAME_YEAR)


def test_the_good_workbook_passes_cleanly(tmp_path):
    report = run(tmp_path)
    assert report.issues.height == 0
    assert report.workbooks["status"].to_list() == ["通过"]
    assert report.exit_code == 0


@pytest.mark.parametrize(("rule", "bad", "code", "good"), CASES, ids=[c[0] for c in CASES])
def test_rule_fails_and_passes(tmp_path, rule, bad, code, good):
    failing = run(tmp_path / "bad", bad)
    assert [cell_of(code), rule] in failing.flatten(["cell", "rule"])
    passing = run(tmp_path / "good", good)
    assert rule not in {r for (r,) in passing.flatten(["rule"])}


def test_arithmetic_rule_reports_imbalance_and_all_cells(tmp_path):
    report = run(tmp_path, {"JF19": 2100})
    row = report.issues.filter(report.issues["rule"] == "jf10-sum").row(0, named=True)
    assert row["diff"] == pytest.approx(-100)
    assert row["severity"] == "错误"
    assert row["message"] == "支出合计（117000）不等于各项支出之和（117100），差额 -100"
    assert row["cells"][0] == cell_of("JF10") and cell_of("JF19") in row["cells"]
    assert report.workbooks["status"].to_list() == ["退回"]
    assert report.exit_code == 1


def test_imbalance_is_to_the_cent_as_the_message_says(tmp_path):
    """68900.01 − 68799.50 is 100.50999999999476 in floating point: the issue's diff, and the 差额 of the issue
    list and its JSON, are 100.51, as the message says, not the float's noise."""
    import json

    import openpyxl

    from tongji.writing.issue_report import write_report

    report = run(tmp_path / "in", {"JF21": 68900.01})
    row = report.issues.row(0, named=True)
    assert (row["rule"], row["diff"]) == ("jf21-balance", 100.51)
    assert row["message"].endswith("差额 100.51")
    sheet = openpyxl.load_workbook(write_report(report, tmp_path / "问题清单.xlsx"))["问题清单"]
    assert [sheet["E2"].value, sheet["L2"].value] == ["jf21-balance", 100.51]
    listed = json.loads(write_report(report, tmp_path / "问题清单.json").read_text("utf-8"))
    assert listed["issues"][0]["diff"] == 100.51


def test_warning_alone_keeps_the_workbook_but_flags_it(tmp_path):
    report = run(tmp_path, {"HY03": 95, "HY04": 41})
    assert report.flatten(["cell", "rule", "severity"]) == [[cell_of("HY04"), "hy04-le-hy02", "警告"]]
    assert report.workbooks["status"].to_list() == ["有警告"]
    assert report.exit_code == 0


def test_explained_warning_is_reported_as_explained(tmp_path):
    report = run(tmp_path, {"HY03": 101}, notes={"HY03": "含退休会员 5 人"})
    row = report.issues.row(0, named=True)
    assert (row["rule"], row["explained"]) == ("hy03-le-hy01", "含退休会员 5 人")
    assert report.workbooks.select("status", "warnings", "explained").row(0) == ("通过", 0, 1)


# a 本级 office covers no unit of its own (JH01 = 0), so it counts none under 民主管理
NO_UNITS = {f"JH{i:02d}": 0 for i in range(3, 11)}


def test_grassroots_only_rules_skip_benji_workbooks(tmp_path):
    values = {"JH01": 0, "JH02": 0, "JH21": 120, "JH22": 40, "JH23": 9000, "JH24": 3, "JF17": 0, **NO_UNITS}
    report = run(tmp_path, values, cover_values=cover(FM05="9"))
    assert report.issues.height == 0


def test_benji_cells_in_a_grassroots_workbook_are_errors(tmp_path):
    report = run(tmp_path, {"JH23": 9000, "JF18": 0})
    assert report.flatten(["cell", "rule"]) == [[cell_of("JH23"), "benji-in-grassroots"]]


def test_service_spending_is_part_of_total_expenditure(tmp_path):
    """JF23 事业支出 (v2): a union running a service unit balances only with it in JF10."""
    with_service = {"JF07": 8000, "JF01": 143799.5, "JF10": 125000, "JF23": 8000}
    assert run(tmp_path / "good", with_service).issues.height == 0
    failing = run(tmp_path / "bad", with_service | {"JF23": 0})
    assert failing.flatten(["cell", "rule"]) == [[cell_of("JF10"), "jf10-sum"]]
    row = failing.issues.row(0, named=True)
    assert row["diff"] == pytest.approx(8000) and cell_of("JF23") in row["cells"]


# a 本级 office invests 100,000, recovers 30,000 and sets aside 5,000 of 后备金: 68799.5 − 75000 = −6200.5
BENJI_MOVES = {"JH01": 0, "JH02": 0, "JH21": 120, "JH22": 40, "JH23": 9000, "JH24": 3,
               "JF24": 100000, "JF25": 30000, "JF26": 5000, **NO_UNITS}


def test_benji_balance_counts_investment_and_reserve(tmp_path):
    passing = run(tmp_path / "good", BENJI_MOVES | {"JF21": -6200.5}, cover_values=cover(FM05="9"))
    assert passing.issues.height == 0
    failing = run(tmp_path / "bad", BENJI_MOVES, cover_values=cover(FM05="9"))
    assert failing.flatten(["cell", "rule"]) == [[cell_of("JF21"), "jf21-balance"]]
    row = failing.issues.row(0, named=True)
    assert row["diff"] == pytest.approx(75000)
    assert {cell_of(c) for c in ("JF24", "JF25", "JF26")} <= set(row["cells"])


def test_investment_lines_are_benji_only(tmp_path):
    report = run(tmp_path, {"JF24": 1000, "JF21": 67799.5})
    assert report.flatten(["cell", "rule"]) == [[cell_of("JF24"), "benji-in-grassroots"]]


def test_the_funds_form_names_its_accounting_edition():
    from tongji.plugins import load_spec

    funds = next(f for f in load_spec().forms if f.id == "JF")
    assert funds.basis == "工会会计制度（2010）收入支出表"
    assert [r.code for r in funds.rows if r.level == "本级"] == ["JF17", "JF18", "JF24", "JF25", "JF26"]


# a 联合基层工会 covering 20 firms: its 民主管理 lines are numbers of firms (否 still reads as 0)
JOINT = {"JH01": 20, "JH02": 3, **{f"JH{i:02d}": 12 for i in range(3, 11)}, "JH07": "否", "JH10": 0}


def test_a_joint_union_counts_its_covered_units(tmp_path):
    """A 联合基层工会 covering 20 firms says that 5 of them hold a 职代会: no flag could."""
    report = run(tmp_path, JOINT | {"JH04": 5, "JH05": 4, "JH06": 20})
    assert report.issues.height == 0
    values = report.values.row(0, named=True)
    assert (values["JH03"], values["JH04"], values["JH07"]) == (12, 5, 0)  # 否 is 0 however many units


def test_yes_from_a_union_covering_several_units_is_not_guessed(tmp_path):
    """是 from a 联合 union covering 20 firms: one of them, or all 20? It is returned, naming the cell."""
    report = run(tmp_path, JOINT | {"JH04": "是"})
    assert report.flatten(["cell", "rule"]) == [[cell_of("JH04"), "yes-for-several-units"]]
    assert report.issues["message"].to_list() == [
        "覆盖 20 个单位的工会，建立职代会制度的单位应填单位个数；“是”只适用于覆盖一个单位的单独基层工会"]
    assert report.workbooks["status"].to_list() == ["退回"]


def test_yes_no_is_read_for_unit_counts_only(tmp_path):
    """是/否 stands for 1/0 in a 民主管理 count; in any other count it is not a number."""
    report = run(tmp_path, {"JH04": "有", "JH11": "是"})
    assert report.flatten(["cell", "rule"]) == [[cell_of("JH11"), "not-a-number"]]


def test_english_messages(tmp_path):
    """The language is the writer's, not the validation's: one report renders in either."""
    report = run(tmp_path, {"HY02": 101})
    assert report.issues["message"].to_list() == ["女职工人数（101）大于职工人数（100）"]
    assert report.issues_in("en")["message"].to_list() == ["Female employees (101) exceed employees (100)"]
    assert report.issues_in("zh").equals(report.issues)
