"""The portal in a real browser (Debian's chromium through Playwright; skipped where chromium is absent, and
.ci/run installs it): a unit fixes its workbook, the 街道 reviews, rolls up and reports up, the 区 sees it.

`TONGJI_PORTAL_SCREENSHOTS=docs/img python -m pytest tests/test_portal_browser.py` also saves the pictures of the
guide's 在线报送 chapter."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import uvicorn

from portal_kit import CITY, DISTRICT, STREET, make_world

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
SHOTS = os.environ.get("TONGJI_PORTAL_SCREENSHOTS")


@pytest.fixture
def served(tmp_path, database):
    world = make_world(tmp_path, database)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield world, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"portal-{name}.png"), full_page=True)


def sign_in(browser, url: str, world, login: str):
    page = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True).new_page()
    page.on("dialog", lambda d: d.accept())  # "return?", "report up?": the user says yes
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", world.passwords[login])
    page.click("button:has-text('登录')")
    if page.url.endswith("/password"):
        page.fill("input[name=password]", "browser-pass-1")
        page.fill("input[name=again]", "browser-pass-1")
        page.click("button:has-text('保存')")
        world.passwords[login] = "browser-pass-1"
    return page


# what portal.js does in the page, whatever database is behind it: the collection round runs on both
page_only = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def uploaded_then_street(browser, url: str, world):
    """The first unit of the 街道 uploads its workbook (submission 1), then the 街道 signs in: (unit, its page,
    the 街道's page)."""
    unit = world.unit(STREET, 0)
    me = sign_in(browser, url, world, unit)
    me.set_input_files("#upload input[type=file]", str(world.city.files[unit]))
    me.click("#upload button")
    return unit, me, sign_in(browser, url, world, STREET)


def test_a_collection_round_in_the_browser(served, browser, tmp_path):
    world, url = served
    unit, second = world.unit(STREET, 0), world.unit(STREET, 1)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(world.workbook(unit, tmp_path, HY04=999))

    me = sign_in(browser, url, world, unit)
    assert me.url.endswith(f"/units/{unit}")
    me.set_input_files("#upload input[type=file]", str(bad))
    me.click("#upload button")
    assert me.inner_text("#verdict") == "退回"
    cells = me.locator("#issues tbody tr td:nth-child(3)").all_inner_texts()
    assert cells == ["会员!D11", "会员!D11"]
    shot(me, "verdict")
    with me.expect_download() as download:
        me.click("#annotated")
    copy = tmp_path / "标注.xlsx"
    download.value.save_as(copy)
    assert openpyxl.load_workbook(copy)["会员"]["D11"].comment is not None

    good = tmp_path / "good.xlsx"
    good.write_bytes(world.workbook(unit, tmp_path))
    me.goto(f"{url}/units/{unit}")
    me.set_input_files("#upload input[type=file]", str(good))
    me.click("#upload button")
    assert me.inner_text("#verdict") == "通过"

    other = sign_in(browser, url, world, second)
    other.set_input_files("#upload input[type=file]", str(world.city.files[second]))
    other.click("#upload button")
    street = sign_in(browser, url, world, STREET)
    assert street.url.endswith(f"/board/{STREET}")
    street.goto(f"{url}/units/{STREET}")  # its own 本级 workbook
    street.set_input_files("#upload input[type=file]", str(world.city.files[STREET]))
    street.click("#upload button")
    street.goto(f"{url}/board/{STREET}")
    shot(street, "board")
    street.click(f"tr[data-unit='{second}'] td:last-child a")
    street.fill("#return-reason", "会员人数与花名册不符，请核实")
    street.click("#return")
    assert street.inner_text("#review") == "退回"
    other.goto(f"{url}/units/{second}")
    assert other.inner_text("#reason") == "退回原因：会员人数与花名册不符，请核实"

    street.goto(f"{url}/board/{STREET}")
    street.click(f"tr[data-unit='{unit}'] td:last-child a")
    street.click("#approve")
    assert street.inner_text("#review") == "已审核"
    district = sign_in(browser, url, world, DISTRICT)
    district.goto(f"{url}/units/{STREET}")
    district.click("#versions a")
    district.click("#approve")

    street.goto(f"{url}/board/{STREET}")
    street.click("#rollup")
    street.click("#report-up")
    assert "已上报" in street.inner_text("#rollups")
    district.goto(f"{url}/board/{DISTRICT}")
    assert district.inner_text(f".up-{STREET}") == "已上报"
    shot(district, "district")

    district.click("#rollup")
    district.click("#report-up")
    city = sign_in(browser, url, world, CITY)
    assert city.inner_text(f".up-{DISTRICT}") == "已上报"
    city.click("#rollup")
    assert city.locator("#rollups a").count() >= 2

    # every level's summary in the portal has the totals `tongji rollup --all` gives on the same approved workbooks
    import tongji

    approved = [world.city.files[unit], world.city.files[STREET]]
    expected = tongji.rollup_all(approved, registry=world.city.registry, period="2025", spec=world.portal.spec)
    for node in (STREET, DISTRICT, CITY):
        made = next((world.data / "rollups" / node).iterdir()) / f"{node}_2025_汇总.parquet"
        assert pl.read_parquet(made).equals(expected[node].totals), node


@page_only
def test_a_form_clicked_again_while_its_answer_is_awaited_is_sent_once(served, browser, tmp_path):
    """汇总 takes a while at a 区; a second click meanwhile made a second summary (a second upload a second version,
    a second 审核通过 a refusal of what the first had just done). The answer is held back here, as a slow one is."""
    world, url = served
    *_, street = uploaded_then_street(browser, url, world)
    street.goto(f"{url}/submissions/1")
    street.click("#approve")
    street.goto(f"{url}/board/{STREET}")
    held = []
    street.route("**/rollup", lambda route: held.append(route))
    # clicked again 0.3 s after the first, by the page itself: Playwright would wait for the first answer
    street.locator("#rollup").evaluate("button => setTimeout(() => button.click(), 300)")
    street.click("#rollup", no_wait_after=True)
    street.wait_for_timeout(1000)
    assert len(held) == 1
    held[0].continue_()
    street.unroute("**/rollup")
    street.wait_for_selector("#rollups")
    assert street.locator("#rollups tbody tr").count() == 1
    street.go_back()  # a page shown again sends its forms again
    street.click("#rollup")
    assert street.locator("#rollups tbody tr").count() == 2


@page_only
def test_the_questions_before_returning_and_reporting_up_are_the_pages_own(served, browser):
    """They read 退回? and 上报?: a button's label and an ASCII question mark."""
    world, url = served
    unit, me, street = uploaded_then_street(browser, url, world)
    asked = []
    street.on("dialog", lambda dialog: asked.append(dialog.message))
    street.goto(f"{url}/submissions/1")
    street.fill("#return-reason", "请核实会员人数")
    street.click("#return")
    me.goto(f"{url}/units/{unit}")
    me.set_input_files("#upload input[type=file]", str(world.city.files[unit]))
    me.click("#upload button")
    street.goto(f"{url}/submissions/2")
    street.click("#approve")
    street.goto(f"{url}/board/{STREET}")
    street.click("#rollup")
    street.click("#report-up")
    assert asked == ["确定退回这一版吗？", "确定上报这份汇总表吗？"]
    assert "已上报" in street.inner_text("#rollups")
