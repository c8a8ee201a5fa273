"""A whole period in the portal as a unit and a statistician go through it: what each page says and keeps."""

from __future__ import annotations

import re
from datetime import timedelta

import openpyxl
from sqlalchemy import select
from starlette.testclient import TestClient

from portal_kit import CITY, DISTRICT, OTHER_STREET, STREET, Browser, make_world
from tongji.portal import create_app
from tongji.portal.db import Rollup, Submission
from tongji.portal.node_summary import inputs
from tongji.testing import fill_template


def issue_rows(page) -> list[list[str]]:
    rows = re.findall(r'<tr class="sev-[^"]*">(.*?)</tr>', page.text, re.S)
    return [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]


def test_a_warning_explained_in_its_note_is_shown_as_explained_as_tongji_validate_shows_it(tmp_path):
    world = make_world(tmp_path)
    unit = world.unit()
    path = fill_template(world.city.files[unit], {"HY04": 999, "HY03": 1000}, out=tmp_path / "说明.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["会员"]
    row = next(c.row for (c,) in sheet.iter_rows(min_col=2, max_col=2) if c.value == "HY04")
    sheet.cell(row, 5, "含退休女职工会员")
    book.save(path)
    page = world.client(unit).upload(unit, path.read_bytes())
    rows = {r[2]: r for r in issue_rows(page)}
    assert rows["会员!D11"][0] == "警告（已说明）" and "已说明：含退休女职工会员" in rows["会员!D11"][5]
    assert rows["会员!D10"][0] == "警告" and "已说明" not in rows["会员!D10"][5]  # HY03 > HY01, not explained
    world.app = create_app(world.city.registry, "2025", data=world.data, lang="en", spec=world.portal.spec)
    rows = {r[2]: r for r in issue_rows(world.client(unit).get("/submissions/1"))}
    assert rows["会员!D11"][0] == "warning (explained)" and "Explained: 含退休女职工会员" in rows["会员!D11"][5]


def test_a_wrong_password_keeps_the_login_typed_and_escapes_it(tmp_path):
    world = make_world(tmp_path)
    unit = world.unit()
    browser = Browser(TestClient(world.app, follow_redirects=True))
    page = browser.sign_in(unit, "wrong-password")
    assert page.status_code == 401 and f'name="login" value="{unit}"' in page.text
    page = browser.sign_in('"><b>x', "wrong-password")
    assert 'name="login" value="&#34;&gt;&lt;b&gt;x"' in page.text


def test_a_new_period_shows_and_offers_to_report_up_only_its_own_summaries(tmp_path):
    world = make_world(tmp_path)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    street = world.client(STREET)
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    assert 'id="report-up"' in street.post(f"/board/{STREET}/rollup").text
    admin = world.client("admin")
    admin.get("/admin")
    admin.post("/admin/period", {"period": "2026"})
    page = street.get(f"/board/{STREET}")
    assert "报告期 2026" in page.text and 'id="rollups"' not in page.text and 'id="report-up"' not in page.text
    admin.post("/admin/period", {"period": "2025"})  # back to 2025: its summary is there to report up
    page = street.get(f"/board/{STREET}")
    assert f"{STREET}_2025_汇总.xlsx" in page.text and 'id="report-up"' in page.text


def totals(page) -> list[str]:
    row = re.search(r'<table class="totals" id="totals">.*?<tbody><tr>(.*?)</tr>', page.text, re.S).group(1)
    return re.findall(r"<td>(.*?)</td>", row)


def test_the_boards_late_count_is_what_tongji_rollup_counts_for_the_same_workbooks(tmp_path):
    from tongji.aggregating.rollup import rollup

    world = make_world(tmp_path, deadline="2020-01-20")  # long past: every upload is late
    a, b = world.unit(STREET, 0), world.unit(STREET, 1)
    for unit in (a, b):
        world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    page = world.client(STREET).get(f"/board/{STREET}")
    # 应报 已报 已审核 待审 退回 未报 迟报 报送率 及时率: the 街道's own 本级 is missing, not late
    assert totals(page) == ["3", "2", "0", "2", "0", "1", "2", "66.7%", "0.0%"]
    summary = rollup([world.city.files[a], world.city.files[b]], registry=world.city.registry, unit=STREET,
                     period="2025", spec=world.portal.spec, deadline="2020-01-20")
    total = summary.completeness.filter(summary.completeness["child"] == "合计").row(0, named=True)
    assert (total["expected"], total["received"], total["missing"], total["late"], total["timely_rate"]) == (
        3, 2, 1, 2, 0.0)


def test_a_summary_whose_workbooks_were_returned_since_is_not_reported_up(tmp_path):
    world = make_world(tmp_path)
    a, b = world.unit(STREET, 0), world.unit(STREET, 1)
    for unit in (a, b):
        world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    street = world.client(STREET)
    for sub_id in (1, 2):
        street.get(f"/submissions/{sub_id}")
        street.post(f"/submissions/{sub_id}/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")
    street.get("/submissions/2")
    street.post("/submissions/2/review", {"action": "unlock"})  # unlocked and approved again: the same inputs
    street.post("/submissions/2/review", {"action": "approve"})
    street.post("/submissions/2/review", {"action": "return", "reason": "会员人数有误"})
    street.get(f"/board/{STREET}")
    page = street.post("/rollups/1/report-up")
    assert page.status_code == 400 and "请重新汇总后再上报" in page.text
    assert "未上报" in world.client(DISTRICT).get(f"/board/{DISTRICT}").text
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")  # of a alone now
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "unlock"})
    street.post("/submissions/1/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    page = street.post("/rollups/2/report-up")
    assert page.status_code == 200 and "已上报" in page.text
    with world.portal.db() as db:
        assert [s.name for s in inputs(world.portal, db, DISTRICT)] == [f"{STREET}_2025_汇总.xlsx"]


def test_a_version_replaced_before_it_was_reviewed_says_so_and_points_to_the_latest(tmp_path):
    world = make_world(tmp_path)
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path))
    me.upload(unit, world.workbook(unit, tmp_path, HY01=150))
    street = world.client(STREET)
    page = street.get("/submissions/1")
    assert 'id="review">已被新版本取代<' in page.text and 'href="/submissions/2">v2</a>' in page.text
    assert 'id="approve"' not in page.text
    assert 'id="review">已报待审<' in street.get("/submissions/2").text
    states = re.findall(r"<td>(已报待审|已被新版本取代)</td>", street.get(f"/units/{unit}").text)
    assert states == ["已报待审", "已被新版本取代"]  # v2, v1


def test_a_workbook_returned_after_its_street_reported_up_takes_that_report_back(tmp_path):
    world = make_world(tmp_path)
    a, b = world.unit(STREET, 0), world.unit(STREET, 1)
    for unit in (a, b):
        world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    street = world.client(STREET)
    for sub_id in (1, 2):
        street.get(f"/submissions/{sub_id}")
        street.post(f"/submissions/{sub_id}/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")
    street.post("/rollups/1/report-up")
    district = world.client(DISTRICT)
    assert 'class="up-330106001">已上报<' in district.get(f"/board/{DISTRICT}").text
    district.get("/submissions/2")
    district.post("/submissions/2/review", {"action": "return", "reason": "职工人数有误"})  # the 区 returns b
    assert 'class="up-330106001">未上报<' in district.get(f"/board/{DISTRICT}").text
    with world.portal.db() as db:  # the 区 now rolls up a alone, not the 街道's summary that still holds b
        assert [p.stem for p in inputs(world.portal, db, DISTRICT)] == [db.get(Submission, 1).sha256]
    street.get(f"/board/{STREET}")
    assert street.post("/rollups/1/report-up").status_code == 400  # that summary holds b: roll up again
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")
    street.post("/rollups/2/report-up")
    assert 'class="up-330106001">已上报<' in district.get(f"/board/{DISTRICT}").text
    street.upload(STREET, world.workbook(STREET, tmp_path))  # the 街道's own 本级 workbook, not in that summary
    district.get("/submissions/3")
    district.post("/submissions/3/review", {"action": "approve"})
    assert 'class="up-330106001">未上报<' in district.get(f"/board/{DISTRICT}").text


def test_without_a_deadline_the_board_gives_no_late_count_and_no_timeliness_as_tongji_rollup(tmp_path):
    world = make_world(tmp_path, deadline=None)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    page = world.client(STREET).get(f"/board/{STREET}")
    assert "截止日期 未设" in page.text
    assert totals(page) == ["3", "1", "0", "1", "0", "2", "—", "33.3%", "—"]


def test_a_revoked_unit_is_told_on_its_page_and_offered_no_template_or_upload(tmp_path):
    from tongji.definitions.registry import load_registry

    world = make_world(tmp_path)
    unit = world.unit()
    rows = [line.removesuffix(",正常") + ",撤销" if line.startswith(unit) else line
            for line in world.city.registry.read_text(encoding="utf-8").splitlines()]
    world.city.registry.write_text("\n".join(rows) + "\n", encoding="utf-8")
    world.portal.registry = load_registry(world.city.registry)
    page = world.client(unit).get(f"/units/{unit}")
    assert 'id="revoked">本单位在名册中已撤销，不需要报送' in page.text
    assert 'id="upload"' not in page.text and "/template" not in page.text
    assert 'id="upload"' in world.client(world.unit(n=1)).get(f"/units/{world.unit(n=1)}").text


def test_the_reminder_list_gives_the_checks_reason_and_follows_the_portals_language(tmp_path):
    import io

    world = make_world(tmp_path)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path, HY04=999))  # returned by the checks: 1 error

    def reminders() -> list[tuple]:
        content = world.client(STREET).get(f"/board/{STREET}/reminders").content
        return list(openpyxl.load_workbook(io.BytesIO(content))["催报名单"].iter_rows(values_only=True))

    rows = reminders()
    assert rows[0] == ("单位代码", "单位名称", "层级", "状态", "退回原因")
    assert [r[3:] for r in rows if r[0] == unit] == [("退回", "有 1 个错误，退回修改")]
    world.app = create_app(world.city.registry, "2025", data=world.data, lang="en", spec=world.portal.spec)
    rows = reminders()
    assert rows[0] == ("Unit code", "Unit name", "Level", "State", "Reason returned")
    assert [r[3:] for r in rows if r[0] in (unit, STREET)] == [("missing", None), ("returned", "1 error: returned")]


def completeness_sheet(world, node: str) -> tuple[dict, dict]:
    """The portal's last summary of `node`: its 完整性 table by child and its list of units (status, reason, late)."""
    from tongji.portal.node_summary import last_made, summary_file

    with world.portal.db() as db:
        path = summary_file(world.portal, last_made(db, node, "2025"))
    rows = list(openpyxl.load_workbook(path)["完整性"].iter_rows(values_only=True))
    split = next(i for i, r in enumerate(rows) if r[0] == "单位代码")

    def pick(header: tuple, names: tuple[str, ...]) -> list[int | None]:  # 迟报 and 及时性 only with a deadline
        return [header.index(h) if h in header else None for h in names]

    at = pick(rows[0], ("应报", "已报", "采用", "退回", "缺报", "迟报"))
    table = {r[0]: tuple(None if i is None else r[i] for i in at) for r in rows[1:split] if r[0]}
    at = pick(rows[split], ("状态", "原因", "及时性"))
    return table, {r[0]: tuple("" if i is None else r[i] or "" for i in at) for r in rows[split + 1:] if r[0]}


def units_listed(world, node: str, column: str) -> dict[str, tuple]:
    """The portal's last summary of `node`: each unit its 完整性 lists, with its state and its `column`."""
    from tongji.portal.node_summary import last_made, summary_file

    with world.portal.db() as db:
        path = summary_file(world.portal, last_made(db, node, "2025"))
    rows = list(openpyxl.load_workbook(path)["完整性"].iter_rows(values_only=True))
    split = next(i for i, r in enumerate(rows) if r[0] == "单位代码")
    state, value = rows[split].index("状态"), rows[split].index(column)
    return {r[0]: (r[state], r[value]) for r in rows[split + 1:] if r[0]}


def files_listed(world, node: str) -> dict[str, tuple]:
    return units_listed(world, node, "文件")


def test_the_summarys_completeness_names_each_file_as_uploaded_never_where_the_portal_keeps_it(tmp_path):
    """The folder the portal stores files in is the server's own: a summary says the name each unit uploaded."""
    world = make_world(tmp_path)
    taken, waiting = world.unit(STREET, 0), world.unit(STREET, 1)
    world.client(taken).upload(taken, world.workbook(taken, tmp_path), "第1工会年报.xlsx")
    world.client(waiting).upload(waiting, world.workbook(waiting, tmp_path), "第2工会年报.xlsx")
    street = world.client(STREET)
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")
    assert files_listed(world, STREET) == {taken: ("采用", "第1工会年报.xlsx"), waiting: ("待审", "第2工会年报.xlsx"),
                                           STREET: ("缺报", None)}
    manifest = street.get(f"/rollups/1/files/{STREET}_2025_manifest.json").json()  # offered on the board too
    assert [(i["unit"], i["file"]) for i in manifest["inputs"]] == [(taken, "第1工会年报.xlsx")]
    street.post("/rollups/1/report-up")
    district = world.client(DISTRICT)  # units taken in the 街道's summary: that summary, by its own name
    district.get(f"/board/{DISTRICT}")
    district.post(f"/board/{DISTRICT}/rollup")
    listed = files_listed(world, DISTRICT)
    assert listed[taken] == ("采用", f"{STREET}_2025_汇总.xlsx")
    assert not [f for _, f in listed.values() if f and ("/" in f or "\\" in f)]


def test_the_summarys_completeness_tells_what_the_board_shows_returned_waiting_missing_and_late(tmp_path):
    from datetime import datetime

    world = make_world(tmp_path, deadline="2026-01-10", streets=(5, 1))  # every workbook is dated 2026-01-15
    fixed, returned, failed, waiting, missing = (world.unit(STREET, n) for n in range(5))
    street = world.client(STREET)
    world.client(fixed).upload(fixed, world.workbook(fixed, tmp_path))
    with world.portal.db() as db:  # its first upload came before the deadline
        db.get(Submission, 1).uploaded_at = datetime(2026, 1, 5, 2)
        db.commit()
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "return", "reason": "女会员人数有误"})
    world.client(fixed).upload(fixed, world.workbook(fixed, tmp_path))  # fixed after the deadline
    world.client(returned).upload(returned, world.workbook(returned, tmp_path))
    world.client(failed).upload(failed, world.workbook(failed, tmp_path, HY04=999))  # returned by the checks
    world.client(waiting).upload(waiting, world.workbook(waiting, tmp_path))
    street.get("/submissions/2")
    street.post("/submissions/2/review", {"action": "approve"})
    street.get("/submissions/3")
    street.post("/submissions/3/review", {"action": "return", "reason": "职工人数有误"})
    page = street.get(f"/board/{STREET}")
    # 应报 已报 已审核 待审 退回 未报 迟报 报送率 及时率
    assert totals(page) == ["6", "4", "1", "1", "2", "2", "3", "66.7%", "16.7%"]
    street.post(f"/board/{STREET}/rollup")
    table, units = completeness_sheet(world, STREET)
    assert table["合计"] == (6, 4, 1, 2, 2, 3)  # 应报 已报 采用 退回 缺报 迟报: 已报 holds the one waiting
    assert units[fixed] == ("采用", "", "") and units[returned] == ("退回", "职工人数有误", "迟报")
    assert units[failed] == ("退回", "有 1 个错误，退回修改", "迟报")
    assert units[waiting] == ("待审", "已报送，待审核", "迟报")
    assert units[missing] == ("缺报", "未报送", "") and units[STREET] == ("缺报", "未报送", "")
    # the 区 counts the same, from the units themselves and from the 街道's summary reported up
    district = world.client(DISTRICT)
    district.post(f"/board/{DISTRICT}/rollup")
    assert completeness_sheet(world, DISTRICT)[0][STREET] == (6, 4, 1, 2, 2, 3)
    assert street.post("/rollups/1/report-up").status_code == 200
    district.get(f"/board/{DISTRICT}")
    district.post(f"/board/{DISTRICT}/rollup")
    table, units = completeness_sheet(world, DISTRICT)
    assert table[STREET] == (6, 4, 1, 2, 2, 3) and units[waiting] == ("待审", "已报送，待审核", "迟报")
    assert units[returned] == ("退回", "职工人数有误", "迟报") and units[fixed] == ("采用", "经下级汇总表报送", "")


def test_the_summarys_completeness_gives_the_date_each_unit_reported_returned_and_waiting_too(tmp_path):
    """完整性's 报出日期 is the workbook's own, as `tongji rollup` gives it for a returned workbook: the portal rolls
    up the approved ones only, and read no date for those returned or waiting, at the 街道 or the 区 above it."""
    world = make_world(tmp_path, deadline="2026-01-10", streets=(4, 1))
    taken, returned, failed, waiting = (world.unit(STREET, n) for n in range(4))
    dated = {taken: "2026-01-05", returned: "2026-01-06", failed: "2026年1月7日", waiting: "2026-01-08"}
    for code, day in dated.items():
        book = fill_template(world.city.files[code], {"HY04": 999} if code == failed else {}, {"FM10": day},
                             out=tmp_path / f"{code}.xlsx")
        world.client(code).upload(code, book.read_bytes())
    street = world.client(STREET)
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "approve"})
    street.get("/submissions/2")
    street.post("/submissions/2/review", {"action": "return", "reason": "职工人数有误"})
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")
    want = {taken: ("采用", "2026-01-05"), returned: ("退回", "2026-01-06"), failed: ("退回", "2026-01-07"),
            waiting: ("待审", "2026-01-08"), STREET: ("缺报", "")}
    assert units_dated(world, STREET) == want
    district = world.client(DISTRICT)  # from the units themselves, then from the 街道's summary reported up
    district.get(f"/board/{DISTRICT}")
    district.post(f"/board/{DISTRICT}/rollup")
    assert {u: units_dated(world, DISTRICT)[u] for u in want} == want
    street.post("/rollups/1/report-up")
    district.get(f"/board/{DISTRICT}")
    district.post(f"/board/{DISTRICT}/rollup")
    assert {u: units_dated(world, DISTRICT)[u] for u in want} == want


def test_tongji_rollup_of_a_portal_summary_gives_the_dates_the_portal_gave(tmp_path):
    """A 区 rolling up with `tongji rollup` from a 街道's summary made in the portal: the units returned and those
    waiting there keep the 报出日期 that summary's 完整性 gives them, as the portal's own 区 summary does."""
    from tongji.aggregating.rollup import rollup
    from tongji.portal.node_summary import last_made, summary_file

    world = make_world(tmp_path, deadline="2026-01-10", streets=(3, 1))
    returned, waiting = world.unit(STREET, 0), world.unit(STREET, 1)
    for code, day in {returned: "2026-01-06", waiting: "2026-01-08"}.items():
        book = fill_template(world.city.files[code], {"HY04": 999} if code == returned else {}, {"FM10": day},
                             out=tmp_path / f"{code}.xlsx")
        world.client(code).upload(code, book.read_bytes())
    taken = world.unit(STREET, 2)
    world.client(taken).upload(taken, world.workbook(taken, tmp_path))
    street = world.client(STREET)
    street.get("/submissions/3")
    street.post("/submissions/3/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")
    with world.portal.db() as db:
        made = summary_file(world.portal, last_made(db, STREET, "2025"))
    summary = rollup([made], registry=world.city.registry, unit="330106", period="2025", spec=world.portal.spec,
                     deadline="2026-01-10")
    dates = {r["unit"]: (r["status"], r["date"]) for r in summary.units.iter_rows(named=True)}
    assert dates[returned] == ("退回", "2026-01-06") and dates[waiting] == ("待审", "2026-01-08")


def units_dated(world, node: str) -> dict[str, tuple]:
    return {unit: (state, date or "") for unit, (state, date) in units_listed(world, node, "报出日期").items()}


def test_without_a_portal_deadline_the_summary_has_no_late_count_even_with_one_configured(tmp_path):
    from dataclasses import replace

    world = make_world(tmp_path, deadline=None)
    world.portal.spec = replace(world.portal.spec, deadline="2026-01-10")  # as a plugin's 报送截止日期 gives
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    street = world.client(STREET)
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "approve"})
    assert totals(street.get(f"/board/{STREET}")) == ["3", "1", "1", "0", "0", "2", "—", "33.3%", "—"]
    street.post(f"/board/{STREET}/rollup")
    table, units = completeness_sheet(world, STREET)
    assert table["合计"] == (3, 1, 1, 0, 2, None) and units[unit] == ("采用", "", "")


def test_a_streets_own_summary_uploaded_as_its_benji_workbook_is_returned_at_its_type_cell(tmp_path):
    from tongji.portal.node_summary import last_made, summary_file

    world = make_world(tmp_path)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    street = world.client(STREET)
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")
    with world.portal.db() as db:
        summary = summary_file(world.portal, last_made(db, STREET, "2025")).read_bytes()
    page = street.upload(STREET, summary, "汇总.xlsx")  # its 本级 slot: no rollup would take a summary there
    assert 'id="verdict">退回<' in page.text
    assert issue_rows(page)[0][:5] == ["错误", "封面", "封面!C12", "FM05", "0"]
    assert issue_rows(page)[0][5] == "组织类型为 0，但名册中该单位是街道及以上的工会：其本级报表的组织类型为 9"
    district = world.client(DISTRICT)
    district.get("/submissions/2")
    assert district.post("/submissions/2/review", {"action": "approve"}).status_code == 400
    world.app = create_app(world.city.registry, "2025", data=world.data, lang="en", spec=world.portal.spec)
    rows = issue_rows(world.client(STREET).get("/submissions/2"))
    assert rows[0][5].startswith("Organisation type is 0, but the registry has this unit as a union office")


def test_the_top_of_the_registry_is_offered_no_report_up_and_one_posted_is_refused(tmp_path):
    from portal_kit import CITY

    world = make_world(tmp_path)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    city = world.client(CITY)  # the 市: no parent in the registry, nobody to report to
    city.get("/submissions/1")
    city.post("/submissions/1/review", {"action": "approve"})
    city.get(f"/board/{CITY}")
    page = city.post(f"/board/{CITY}/rollup")
    assert f"{CITY}_2025_汇总.xlsx" in page.text
    assert 'id="report-up"' not in page.text and "<th>上报</th>" not in page.text
    page = city.post("/rollups/1/report-up")
    assert page.status_code == 400 and "本单位是名册中的最高一级，没有上级可以上报：汇总表直接下载使用" in page.text
    with world.portal.db() as db:
        assert db.get(Rollup, 1).submitted_at is None
    street = world.client(STREET)  # a 街道 is offered it as before
    street.get(f"/board/{STREET}")
    assert 'id="report-up"' in street.post(f"/board/{STREET}/rollup").text


def test_a_return_refused_because_another_reviewer_acted_first_keeps_the_reason_typed(tmp_path):
    world = make_world(tmp_path)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    street, district = world.client(STREET), world.client(DISTRICT)
    street.get("/submissions/1")  # the 街道 opens the page and types; the 区 returns it meanwhile
    district.get("/submissions/1")
    district.post("/submissions/1/review", {"action": "return", "reason": "经费支出合计有误"})
    page = street.post("/submissions/1/review", {"action": "return", "reason": "会员人数与去年差距过大，请核实"})
    assert page.status_code == 400
    assert 'id="problem">当前状态（退回）下不能这样操作<' in page.text
    assert 'id="typed-reason">您填写的退回原因（未保存）：会员人数与去年差距过大，请核实<' in page.text
    assert 'id="reason">退回原因：经费支出合计有误<' in page.text  # what the page now is: the 区's return
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))  # v2 comes while the 区 types on v1
    page = district.post("/submissions/1/review", {"action": "return", "reason": "请补报说明"})
    assert 'id="problem">只能审核最新一版<' in page.text and 'href="/submissions/2">v2</a>' in page.text
    assert 'id="typed-reason">您填写的退回原因（未保存）：请补报说明<' in page.text
    with world.portal.db() as db:
        assert [s.reason for s in db.scalars(select(Submission).order_by(Submission.id))] == ["经费支出合计有误", ""]


def test_a_refused_review_is_answered_with_a_redirect_so_a_reload_sends_nothing_again(tmp_path):
    """Post/redirect/get: the refusal is shown at an address that a reload (F5) only reads again."""
    from tongji.portal.db import Audit

    world = make_world(tmp_path)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    street, district = world.client(STREET), world.client(DISTRICT)
    street.get("/submissions/1")
    district.get("/submissions/1")
    district.post("/submissions/1/review", {"action": "return", "reason": "经费支出合计有误"})
    posted = street.client.post("/submissions/1/review", follow_redirects=False, data={
        "csrf": street.csrf, "action": "return", "reason": "会员人数与去年差距过大，请核实"})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/submissions/1?")
    with world.portal.db() as db:
        log = [(a.login, a.action) for a in db.scalars(select(Audit).order_by(Audit.id))]
    for _ in range(2):  # the page, and the same page reloaded: the same words, and nothing posted again
        page = street.get(posted.headers["location"])
        assert page.status_code == 400 and page.request.method == "GET"
        assert 'id="problem">当前状态（退回）下不能这样操作<' in page.text
        assert 'id="typed-reason">您填写的退回原因（未保存）：会员人数与去年差距过大，请核实<' in page.text
        assert 'id="reason">退回原因：经费支出合计有误<' in page.text
    with world.portal.db() as db:
        assert [(a.login, a.action) for a in db.scalars(select(Audit).order_by(Audit.id))] == log
    plain = street.get("/submissions/1")  # the page at its own address says nothing of the refusal
    assert plain.status_code == 200 and 'id="problem"' not in plain.text and 'id="typed-reason"' not in plain.text
    made_up = street.get("/submissions/1?refused=not-found&typed=x")  # only a review's refusals are said
    assert made_up.status_code == 200 and 'id="problem"' not in made_up.text and 'id="typed-reason"' not in made_up.text


def test_a_version_of_a_unit_moved_to_another_street_since_is_checked_again_when_approved(tmp_path):
    from tongji.definitions.registry import load_registry

    world = make_world(tmp_path)
    moved, stays = world.unit(STREET, 1), world.unit(STREET, 0)
    for unit in (moved, stays):
        world.client(unit).upload(unit, world.workbook(unit, tmp_path))  # clean under the registry of then
    rows = [line.replace(f",{STREET},基层", f",{OTHER_STREET},基层") if line.startswith(moved) else line
            for line in world.city.registry.read_text(encoding="utf-8").splitlines()]
    world.city.registry.write_text("\n".join(rows) + "\n", encoding="utf-8")
    world.app = create_app(load_registry(world.city.registry), "2025", data=world.data, spec=world.portal.spec)
    other = world.client(OTHER_STREET)
    other.get("/submissions/1")
    page = other.post("/submissions/1/review", {"action": "approve"})
    assert page.status_code == 400 and 'id="review">退回<' in page.text
    said = "按门户现在的名册重新检查，这一版有 1 个错误（见下方问题清单），不能审核通过，已退回修改"
    assert f'id="problem">{said}<' in page.text
    assert issue_rows(page)[0][:5] == ["错误", "封面", "封面!C10", "FM03", STREET]
    assert issue_rows(page)[0][5] == f"上级工会代码为 {STREET}，名册中该单位的上级是 {OTHER_STREET}"
    assert [r[3:] for r in other_reminders(world) if r[0] == moved] == [("退回", "有 1 个错误，退回修改")]
    street = world.client(STREET)  # a unit that did not move is approved as before
    street.get("/submissions/2")
    assert 'id="review">已审核<' in street.post("/submissions/2/review", {"action": "approve"}).text


def other_reminders(world) -> list[tuple]:
    import io

    content = world.client(OTHER_STREET).get(f"/board/{OTHER_STREET}/reminders").content
    return list(openpyxl.load_workbook(io.BytesIO(content))["催报名单"].iter_rows(values_only=True))


def test_a_version_uploaded_since_the_portal_started_is_approved_without_checking_it_again(tmp_path, monkeypatch):
    """Checked against this registry when it came: approving it checks nothing again (a check costs some 0.3 s)."""
    world = make_world(tmp_path)
    unit = world.unit(STREET, 0)
    monkeypatch.setattr(world.portal, "started", world.portal.started - timedelta(seconds=5))
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    checked = []
    monkeypatch.setattr(world.portal.checker, "check", lambda *a, **k: checked.append(a))
    street = world.client(STREET)
    street.get("/submissions/1")
    assert 'id="review">已审核<' in street.post("/submissions/1/review", {"action": "approve"}).text
    assert checked == []


def test_a_boards_table_of_children_counts_each_childs_units_and_its_own(tmp_path):
    """The 区's board: a row per 街道 with that 街道 and every unit beneath it; the 市's: a row per 区."""
    world = make_world(tmp_path)
    unit = world.unit(STREET, 0)
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))

    def rows(node: str) -> dict[str, list[str]]:
        page = world.client(node).get(f"/board/{node}").text
        table = re.search(r'<table id="children">(.*?)</table>', page, re.S).group(1)
        found = re.findall(r'<tr><td><a href="/board/(\w+)">.*?</a></td>(.*?)</tr>', table, re.S)
        return {code: re.findall(r"<td>(\d+)</td>", cells) for code, cells in found}

    def beneath(node: str) -> int:  # the node and every unit below it in the registry
        units = world.city.units
        return 1 + sum(beneath(c) for c, u in units.items() if u["上级代码"] == node)

    streets = rows(DISTRICT)
    # expected, received, approved, returned, missing
    assert streets[STREET] == [str(beneath(STREET)), "1", "0", "0", str(beneath(STREET) - 1)]
    assert streets[OTHER_STREET] == [str(beneath(OTHER_STREET)), "0", "0", "0", str(beneath(OTHER_STREET))]
    assert rows(CITY)[DISTRICT] == [str(beneath(DISTRICT)), "1", "0", "0", str(beneath(DISTRICT) - 1)]


def test_the_annotated_copy_is_offered_only_for_a_version_with_issues(tmp_path):
    world = make_world(tmp_path)
    unit = world.unit()
    me = world.client(unit)
    clean = me.upload(unit, world.workbook(unit, tmp_path))
    assert "没有发现问题。" in clean.text and 'id="issues"' not in clean.text
    assert 'id="annotated"' not in clean.text and "下载标注副本" not in clean.text
    assert 'href="/submissions/1/file"' in clean.text  # the file as uploaded, as always
    flawed = me.upload(unit, world.workbook(unit, tmp_path, HY04=999))
    assert '<a href="/submissions/2/annotated" id="annotated">' in flawed.text


def test_the_audit_of_a_version_returned_by_the_recheck_on_approval_reads_in_english_too(tmp_path):
    """Written in Chinese as every audit row is; shown in the reader's language as its neighbours are."""
    from tongji.definitions.registry import load_registry

    world = make_world(tmp_path)
    moved = world.unit(STREET, 1)
    world.client(moved).upload(moved, world.workbook(moved, tmp_path))
    rows = [line.replace(f",{STREET},基层", f",{OTHER_STREET},基层") if line.startswith(moved) else line
            for line in world.city.registry.read_text(encoding="utf-8").splitlines()]
    world.city.registry.write_text("\n".join(rows) + "\n", encoding="utf-8")
    registry = load_registry(world.city.registry)
    world.app = create_app(registry, "2025", data=world.data, spec=world.portal.spec)
    other = world.client(OTHER_STREET)
    other.get("/submissions/1")
    page = other.post("/submissions/1/review", {"action": "approve"})
    audit = re.compile(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>")
    assert audit.findall(page.text)[-1] == ("退回", "有 1 个错误，退回修改")
    world.app = create_app(registry, "2025", data=world.data, lang="en", spec=world.portal.spec)
    page = world.client(OTHER_STREET).get("/submissions/1")
    assert audit.findall(page.text)[-1] == ("return", "1 error: returned")


def test_a_setup_problem_met_by_a_page_is_said_in_the_pages_language_not_the_servers(tmp_path):
    """An English portal in a process whose own language is Chinese (a --workers process, started without the
    command line's --lang): a 街道 revoked in the registry since, asked to roll up, is told so in English."""
    from tongji.definitions.registry import load_registry
    from tongji.i18n import lang

    world = make_world(tmp_path)
    unit = world.unit(OTHER_STREET)
    world.client(OTHER_STREET).upload(OTHER_STREET, world.workbook(OTHER_STREET, tmp_path))  # its 本级
    district = world.client(DISTRICT)
    district.get("/submissions/1")
    district.post("/submissions/1/review", {"action": "approve"})
    rows = [line.removesuffix(",正常") + ",撤销" if line.startswith((f"{OTHER_STREET},", unit)) else line
            for line in world.city.registry.read_text(encoding="utf-8").splitlines()]
    world.city.registry.write_text("\n".join(rows) + "\n", encoding="utf-8")
    world.app = create_app(load_registry(world.city.registry), "2025", data=world.data, lang="en",
                           spec=world.portal.spec)
    assert lang() == "zh"
    street = world.client(OTHER_STREET)
    street.get(f"/board/{OTHER_STREET}")
    page = street.post(f"/board/{OTHER_STREET}/rollup")
    assert page.status_code == 400, page.text
    assert f"Unit {OTHER_STREET} is marked 撤销 (revoked) in the registry" in page.text
    assert "名册中单位" not in page.text


def test_the_board_counts_each_units_warnings_still_to_explain_beside_its_errors(tmp_path):
    """A unit whose workbook passed with a warning not yet explained in 说明 does not look clean on the board: its
    warnings needing 说明 are counted (an explained one is not), in either language."""
    world = make_world(tmp_path)
    unit = world.unit()
    path = fill_template(world.city.files[unit], {"HY04": 999, "HY03": 1000}, out=tmp_path / "说明.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["会员"]
    row = next(c.row for (c,) in sheet.iter_rows(min_col=2, max_col=2) if c.value == "HY04")
    sheet.cell(row, 5, "含退休女职工会员")  # HY04 > HY03 explained; HY03 > HY01 not
    book.save(path)
    world.client(unit).upload(unit, path.read_bytes())

    def counts(page) -> tuple[list[str], list[str]]:
        table = re.search(r'<table id="units">(.*?)</table>', page.text, re.S).group(1)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", re.search(rf'data-unit="{unit}">(.*?)</tr>', table, re.S).group(1),
                           re.S)
        return re.findall(r"<th>(.*?)</th>", table)[4:6], cells[4:6]

    assert counts(world.client(STREET).get(f"/board/{STREET}")) == (["错误", "警告"], ["0", "1"])
    assert counts(world.client(DISTRICT).get(f"/board/{DISTRICT}")) == (["错误", "警告"], ["0", "1"])
    world.app = create_app(world.city.registry, "2025", data=world.data, lang="en", spec=world.portal.spec)
    assert counts(world.client(STREET).get(f"/board/{STREET}")) == (["Errors", "Warnings"], ["0", "1"])


def test_each_period_keeps_its_own_deadline_so_a_new_round_is_not_late_at_once(tmp_path):
    """The administrator starts the 2026 round: the 2025 deadline (long past) is not the new round's, which would
    mark every unit 迟报 at once; the new round has none until one is set, and going back to 2025 finds its own."""
    world = make_world(tmp_path, deadline="2026-01-20")
    admin = world.client("admin")
    admin.get("/admin")
    admin.post("/admin/period", {"period": "2026"})
    street = world.client(STREET)
    page = street.get(f"/board/{STREET}")
    assert "报告期 2026 · 截止日期 未设" in page.text and 'class="late"' not in page.text
    assert totals(page)[6] == "—"
    admin.get("/admin")
    admin.post("/admin/deadline", {"deadline": "2027-01-20"})
    assert "截止日期 2027-01-20" in street.get(f"/board/{STREET}").text
    admin.get("/admin")
    admin.post("/admin/period", {"period": "2025"})
    assert "报告期 2025 · 截止日期 2026-01-20" in street.get(f"/board/{STREET}").text
    admin.get("/admin")
    admin.post("/admin/period", {"period": "2026"})
    assert "报告期 2026 · 截止日期 2027-01-20" in street.get(f"/board/{STREET}").text
    # the server restarted for the 2026 round with the registry and period only: its deadline is still 2027's
    world.app = create_app(world.city.registry, "2026", data=world.data, spec=world.portal.spec)
    assert "报告期 2026 · 截止日期 2027-01-20" in world.client(STREET).get(f"/board/{STREET}").text


def test_a_version_returned_by_the_checks_offers_its_reviewer_no_empty_action_heading(tmp_path):
    world = make_world(tmp_path)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path, HY04=999))
    page = world.client(STREET).get("/submissions/1")
    assert 'id="review">退回<' in page.text and "<h2>操作</h2>" not in page.text
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    page = world.client(STREET).get("/submissions/2")
    assert "<h2>操作</h2>" in page.text and 'id="approve"' in page.text


def test_resetting_a_password_is_asked_first_naming_the_account(tmp_path):
    """One click on 重置密码 in a list of every account made a new one-time password and signed that unit out:
    the page asks first, naming the account (the portal's script shows the question)."""
    world = make_world(tmp_path)
    unit = world.unit()
    page = world.client("admin").get("/admin")
    assert (f'<button data-confirm="确定重置账号 {unit} 的密码吗？该账号须改用新的一次性密码登录。">重置密码</button>'
            in page.text)
    world.app = create_app(world.city.registry, "2025", data=world.data, lang="en", spec=world.portal.spec)
    page = world.client("admin").get("/admin")
    assert (f'<button data-confirm="Reset the password of {unit}? It will sign in with the new one-time password '
            f'only.">Reset password</button>' in page.text)
