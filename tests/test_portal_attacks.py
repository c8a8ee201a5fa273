"""Attacks on the portal, each a test (issue 14 item 7), on SQLite and on PostgreSQL where the database matters.

What test_portal.py already proves is not repeated here: the authorization matrix (it runs on both databases),
one lockout, CSRF on three routes, a hostile file name on the unit page, a unit name on the board."""

from __future__ import annotations

import asyncio
import io
import re
import resource
import time

import openpyxl
import pytest
from sqlalchemy import func, select
from starlette.routing import Route
from starlette.testclient import TestClient

from hostile import MEMBER_PART, before_end, bomb, rezip, with_unread_sheet
from portal_kit import DISTRICT, OTHER_STREET, PASSWORD, STREET, Browser, make_world
from tongji.portal.accounts import create_accounts
from tongji.portal.db import Account, Audit, LoginSession, Submission
from tongji.portal.submissions import issues_of
from tongji.portal.web import COOKIE, same_token

EXPIRED = "页面已过期，请刷新后重试。"


@pytest.fixture
def world(tmp_path, database):
    return make_world(tmp_path, database)


def stranger(world) -> Browser:
    """A browser that has not signed in."""
    return Browser(TestClient(world.app, follow_redirects=True))


def state(world) -> tuple:
    """Everything a state-changing request could change."""
    with world.portal.db() as db:
        return (db.scalars(select(Submission.review)).all(), db.scalar(select(func.count(Audit.id))),
                db.scalars(select(Account.password_hash).order_by(Account.login)).all(),
                db.scalar(select(func.count()).select_from(LoginSession)), world.portal.period(db),
                world.portal.deadline(db))


# --- CSRF ------------------------------------------------------------------------------------------------------


def test_the_csrf_comparison_takes_any_text():
    assert same_token("abc", "abc") and not same_token("abd", "abc")
    assert not same_token("令牌", "abc") and not same_token("", "abc") and not same_token(None, "abc")
    assert not same_token("-", None) and not same_token("-", "")  # no expected token: nothing matches it


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(world, tmp_path):
    """The route table is walked: a POST route added later is covered, or this test names it."""
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path))
    admin = world.client("admin")
    values = {"code": unit, "id": "1", "login": OTHER_STREET}
    posts = sorted(r.path for r in world.app.routes if isinstance(r, Route) and "POST" in r.methods)
    assert posts == ["/admin/accounts/{login}/reset", "/admin/deadline", "/admin/period", "/board/{code}/rollup",
                     "/login", "/logout",
                     "/password", "/rollups/{id}/report-up", "/submissions/{id}/review", "/units/{code}/upload"]
    posts.remove("/login")  # before sign-in: its own test below
    before = state(world)
    data = {"action": "approve", "reason": "x", "deadline": "2030-01-01", "period": "2026",
            "password": "new-password-9", "again": "new-password-9"}
    for path in posts:
        url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path.replace("/board/{code}", f"/board/{STREET}"))
        who = me if "upload" in url else admin
        files = {"file": ("a.xlsx", world.workbook(unit, tmp_path))} if "upload" in url else None
        for token in [None, "", "wrong", me.csrf if who is admin else admin.csrf, "令牌é", who.csrf + "\u00e9"]:
            form = data if token is None else {**data, "csrf": token}
            for multipart in ([False, True] if files is None else [True]):
                extra = {"files": files or {"x": ("x.txt", b"x")}} if multipart else {}
                page = who.client.post(url, data=form, follow_redirects=False, **extra)
                assert page.status_code == 400, (url, token, multipart, page.status_code)
                # a file posted to a form that takes none is refused before its token is read
                assert EXPIRED in page.text or multipart and not files, (url, token, multipart)
    assert state(world) == before
    # with the session's own token the same request is not refused as expired (this test can fail)
    admin.get("/admin")
    page = admin.post("/admin/deadline", {"deadline": "2030-01-01"})
    assert page.status_code == 200 and EXPIRED not in page.text and state(world) != before


def test_the_login_form_refuses_a_missing_wrong_or_planted_token(world):
    unit = world.unit()
    form = {"login": unit, "password": world.passwords[unit]}
    for cookie, sent in [(None, None), (None, "-"), (None, ""), ("abc", "abd"), ("abc", "令牌"), ("abc", None)]:
        browser = TestClient(world.app, cookies={"tongji_login_csrf": cookie} if cookie else None)
        page = browser.post("/login", data=form if sent is None else {**form, "csrf": sent}, follow_redirects=False)
        assert page.status_code == 400 and EXPIRED in page.text, (cookie, sent)
        assert COOKIE not in page.cookies
    browser = TestClient(world.app)
    browser.get("/login")
    page = browser.post("/login", data={**form, "csrf": browser.cookies["tongji_login_csrf"]},
                        follow_redirects=False)
    assert page.status_code == 303 and page.cookies.get(COOKIE)


# --- sign-in ----------------------------------------------------------------------------------------------------


def test_brute_force_from_many_browsers_locks_the_account_and_a_restart_keeps_it_locked(world):
    from tongji.portal import create_app

    unit = world.unit()
    for n in range(5):  # a new browser (new cookies) for each guess changes nothing
        assert stranger(world).sign_in(unit, f"guess-{n}-wrong").status_code == 401
    world.app = create_app(world.city.registry, "2025", data=world.data, database=world.database,
                           spec=world.portal.spec)
    page = stranger(world).sign_in(unit, world.passwords[unit])
    assert page.status_code == 401 and "锁定" in page.text and page.url.path == "/login"
    other = world.unit(n=1)  # another account is not locked by it
    assert stranger(world).sign_in(other, world.passwords[other]).url.path != "/login"
    with world.portal.db() as db:
        assert db.scalar(select(Account.locked_until).where(Account.login == other)) is None
        assert db.scalar(select(Account.locked_until).where(Account.login == unit)) is not None


def test_a_session_token_planted_before_sign_in_is_not_the_one_after(world):
    unit = world.unit()
    browser = world.client(unit).client  # signed in once, password changed
    browser.post("/logout", data={"csrf": "x"})  # refused (no token): still signed in, harmless
    planted = "planted-by-an-attacker-0123456789"
    browser.cookies.clear()
    browser.cookies.set(COOKIE, planted)
    assert browser.get(f"/units/{unit}", follow_redirects=False).headers["location"] == "/login"
    browser.get("/login")
    page = browser.post("/login", data={"login": unit, "password": world.passwords[unit],
                                        "csrf": browser.cookies["tongji_login_csrf"]}, follow_redirects=False)
    issued = page.cookies.get(COOKIE)
    assert page.status_code == 303 and issued and issued != planted
    victim = browser.get(f"/units/{unit}", follow_redirects=False)
    assert victim.status_code == 200
    attacker = world.client(unit).client
    attacker.cookies.clear()
    attacker.cookies.set(COOKIE, planted)  # the planted token opens nothing after the victim signed in
    assert attacker.get(f"/units/{unit}", follow_redirects=False).headers["location"] == "/login"


def test_a_password_change_ends_the_other_sessions(world):
    unit = world.unit()
    first = world.client(unit)  # its password is changed to PASSWORD by the kit
    token = first.client.cookies[COOKIE]
    second = world.client(unit)
    second.get("/password")
    new = {"password": "another-password-2", "again": "another-password-2"}
    assert second.post("/password", new | {"current": PASSWORD}).url.path != "/password"
    stolen = world.client("admin").client
    stolen.cookies.clear()
    stolen.cookies.set(COOKIE, token)
    assert stolen.get(f"/units/{unit}", follow_redirects=False).headers["location"] == "/login"


def test_every_page_links_to_changing_the_password_which_asks_for_the_current_one(world):
    """The guide says a password is changed with the current one: a signed-in unit finds the page from any page,
    and it is titled as a change, not as the first sign-in's one-time password."""
    unit = world.unit()
    browser = world.client(unit)
    page = browser.get(f"/units/{unit}")
    assert '<a class="account" href="/password" id="change-password">修改密码</a>' in page.text
    page = browser.get("/password")
    assert "<h1>修改密码</h1>" in page.text and "第一次登录" not in page.text and 'name="current"' in page.text
    new = {"password": "another-password-3", "again": "another-password-3", "current": PASSWORD}
    assert browser.post("/password", new).url.path == f"/units/{unit}"
    first = world.client(world.unit(n=1), change_password=False)  # a one-time password: no link, the first page
    assert first.last.url.path == "/password" and 'id="change-password"' not in first.last.text
    assert "<h1>设置新密码</h1>" in first.last.text and "第一次登录" in first.last.text


def test_a_session_alone_cannot_change_the_password(world):
    """A browser left signed in (or a stolen cookie) must know the password to change it: else it could lock the
    unit out of its own account. Wrong guesses count as failed sign-ins."""
    unit = world.unit()
    stolen = world.client(unit)
    stolen.get("/password")
    new = {"password": "thiefs-password", "again": "thiefs-password"}
    for guess in ("", "a-guess"):
        page = stolen.post("/password", new | ({"current": guess} if guess else {}))
        assert page.status_code == 400 and "当前密码不对" in page.text
    assert stranger(world).sign_in(unit, PASSWORD).url.path == f"/units/{unit}"  # unchanged
    for n in range(5):
        stolen.post("/password", new | {"current": f"guess-{n}"})
    assert "暂时锁定" in stranger(world).sign_in(unit, PASSWORD).text  # five wrong guesses, as at the sign-in


def signed_out(world, token: str) -> bool:
    """Whether a session token now opens nothing."""
    browser = TestClient(world.app, follow_redirects=False)
    browser.cookies.set(COOKIE, token)
    return browser.get("/password").headers.get("location") == "/login"


def test_signing_out_before_the_first_password_change_ends_the_session(world):
    unit = world.unit()
    browser = world.client(unit, change_password=False)  # a one-time password: every page is /password
    assert browser.last.url.path == "/password"
    token = browser.client.cookies[COOKIE]
    assert browser.post("/logout").url.path == "/login"
    assert signed_out(world, token)


def test_a_reset_password_ends_the_accounts_sessions(world):
    unit = world.unit()
    left_behind = world.client(unit).client.cookies[COOKIE]  # a browser still signed in, or a stolen cookie
    admin = world.client("admin")
    admin.get("/admin")
    given = re.search(r"：(\w+)（", admin.post(f"/admin/accounts/{unit}/reset").text).group(1)
    assert signed_out(world, left_behind)  # it cannot choose the next password before the unit does
    unit_browser = stranger(world)
    assert unit_browser.sign_in(unit, given).url.path == "/password"
    with world.portal.db() as db:  # `tongji serve --reset` gives every account a new one-time password
        create_accounts(db, world.portal.registry, reset=True)
    assert signed_out(world, unit_browser.client.cookies[COOKIE])


def test_an_id_too_big_for_the_database_is_not_found(world):
    admin = world.client("admin")
    for url in ("/submissions/{}", "/submissions/{}/file", "/submissions/{}/annotated", "/rollups/{}/files/x"):
        for big in ("99999999999999999999", "9223372036854775808", "١٢"):
            assert admin.client.get(url.format(big)).status_code == 404, (url, big)


# --- XSS -------------------------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(2)>'


def test_hostile_unit_names_are_text_on_every_page_that_shows_them(tmp_path, database):
    from tongji.definitions.registry import load_registry

    world = make_world(tmp_path, database)
    unit = world.unit()
    names = {unit: SCRIPT, STREET: ATTRIBUTE}
    lines = world.city.registry.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] in names:
            cells[1] = '"' + names[cells[0]].replace('"', '""') + '"'  # quoted as a CSV cell
            lines[n] = ",".join(cells)
    world.city.registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    world.portal.registry = load_registry(world.city.registry)
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    shown = {f"/units/{unit}": [SCRIPT], "/submissions/1": [SCRIPT], f"/board/{STREET}": [SCRIPT, ATTRIBUTE],
             f"/board/{DISTRICT}": [ATTRIBUTE], f"/units/{STREET}": [ATTRIBUTE]}
    for login in ("admin", STREET):
        browser = world.client(login)
        for url, hostile in shown.items():
            if login == STREET and url == f"/board/{DISTRICT}":
                continue
            page = browser.get(url)
            assert page.status_code == 200, url
            for name in hostile:
                assert name not in page.text, (login, url)
                assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
                    '"', "&#34;") in page.text, (login, url)
            assert "<script>" not in page.text.replace('<script src="/static/portal.js" defer></script>', "")


def raw_upload(browser: Browser, url: str, data: bytes, filename: str):
    """A multipart upload written by hand, as curl could send it: a browser (and httpx) would write a double
    quote in a file name as %22, an attacker's client writes it escaped."""
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"').encode()
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + browser.csrf.encode() +
            b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + quoted +
            b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--XyZ--\r\n")
    return browser.client.post(url, content=body, headers={"content-type": "multipart/form-data; boundary=XyZ"})


def test_hostile_file_names_and_cell_text_are_text_on_the_unit_and_submission_pages(world, tmp_path):
    unit = world.unit()
    me = world.client(unit)
    book = openpyxl.load_workbook(world.city.files[unit])
    book["会员"]["D10"] = SCRIPT  # a value the checker quotes back
    path = tmp_path / "hostile.xlsx"
    book.save(path)
    me.get(f"/units/{unit}")
    raw_upload(me, f"/units/{unit}/upload", path.read_bytes(), f"{ATTRIBUTE}<svg onload=alert(3)>.xlsx")
    street = world.client(STREET)
    for browser in (me, street):
        for url in (f"/units/{unit}", "/submissions/1"):
            page = browser.get(url)
            assert "<svg" not in page.text and ATTRIBUTE not in page.text, url
            assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;&lt;svg onload=alert(3)&gt;.xlsx" in page.text, url
    issues = me.get("/submissions/1").text
    assert "<td>会员!D10</td><td>HY03</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in issues


def test_a_hostile_note_in_the_html_report_is_text_and_downloaded_not_shown(tmp_path, database):
    """The 说明 a unit writes travels into the node's summary and its HTML report (the example plugin), served
    as an attachment under the same headers: the one page of workbook text the portal serves as HTML."""
    from pathlib import Path

    from tongji.portal import create_app
    from tongji.testing import load_plugin

    world = make_world(tmp_path, database)
    host = load_plugin(Path(__file__).resolve().parent.parent / "plugins" / "html_report")
    assert host.errors == {} and "html" in host.spec.writers
    world.app = create_app(world.city.registry, "2025", data=world.data, database=database, spec=host.spec,
                           deadline="2099-01-20")
    unit = world.unit()
    book = openpyxl.load_workbook(world.city.files[unit])
    book["会员"]["D10"], book["会员"]["E10"] = 150, SCRIPT + ATTRIBUTE  # a warning, explained
    path = tmp_path / "noted.xlsx"
    book.save(path)
    world.client(unit).upload(unit, path.read_bytes())
    street = world.client(STREET)
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "approve"})
    board = street.post(f"/board/{STREET}/rollup")
    names = re.findall(r'href="/rollups/1/files/([^"]+\.html)"', board.text)
    assert len(names) == 1, board.text
    report = street.get(f"/rollups/1/files/{names[0]}")
    assert report.status_code == 200 and report.headers["content-disposition"].startswith("attachment")
    assert "frame-ancestors 'none'" in report.headers["content-security-policy"]
    assert "alert(1)" in report.text  # the note is in the report ...
    assert SCRIPT not in report.text and ATTRIBUTE not in report.text  # ... as text


# --- path traversal -------------------------------------------------------------------------------------------


def raw_get(world, browser: Browser, raw: bytes):
    """A GET of `raw` exactly as a client could send it, decoded as uvicorn decodes it (percent-escapes
    undone in `path`, `..` left as it is): httpx would tidy `../` away before sending."""
    from urllib.parse import unquote_to_bytes

    messages, asked = [], []

    async def receive():  # the request once; then, as a client that stays, nothing until the answer is sent
        if not asked:
            asked.append(1)
            return {"type": "http.request", "body": b"", "more_body": False}
        while not any(m["type"] == "http.response.body" and not m.get("more_body") for m in messages):
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote_to_bytes(raw).decode("utf-8", "replace"), "raw_path": raw, "root_path": "",
             "query_string": b"", "server": ("testserver", 80), "client": ("127.0.0.1", 1),
             "headers": [(b"host", b"testserver"),
                         (b"cookie", f"{COOKIE}={browser.client.cookies[COOKIE]}".encode())]}
    asyncio.run(world.app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return messages[0]["status"], body


def test_no_download_route_serves_a_path_from_the_url(world, tmp_path):
    """Every download route × `../`, encoded, double-encoded, backslashed and absolute paths, and another
    unit's file by its SHA-256: 404 (or no route at all), and never the bytes of a file outside what it serves."""
    a, b = world.unit(STREET, 0), world.unit(OTHER_STREET, 0)
    world.client(b).upload(b, world.workbook(b, tmp_path))
    world.client(a).upload(a, world.workbook(a, tmp_path))
    street = world.client(STREET)
    street.get("/submissions/2")
    street.post("/submissions/2/review", {"action": "approve"})
    street.post(f"/board/{STREET}/rollup")
    secret = b"SECRET-0f3c: the server's own file"
    (world.data / "secret.txt").write_bytes(secret)
    (world.data / "rollups" / "secret.txt").write_bytes(secret)
    with world.portal.db() as db:
        other_sha = db.scalar(select(Submission.sha256).where(Submission.unit == b))
    me = world.client(a)
    assert me.get("/submissions/2/file").status_code == 200  # the unit's own file: the routes do serve
    escapes = ["../secret.txt", "..%2Fsecret.txt", "%2e%2e%2fsecret.txt", "%252e%252e%252fsecret.txt",
               "..%5Csecret.txt", "..\\secret.txt", "%2Fetc%2Fpasswd", "/etc/passwd", "....//secret.txt",
               "..%2F..%2Fsecret.txt", "..%2F..%2Fportal.db", "%2e%2e/%2e%2e/secret.txt", "..%00.xlsx"]
    prefixes = ["/submissions/2/file/", "/submissions/2/annotated/", "/submissions/", "/units/", "/units/" + a + "/",
                "/rollups/1/files/", "/rollups/", "/static/", "/board/", "/"]
    admin = world.client("admin")
    for who in (me, street, admin):
        for prefix in prefixes:
            for escape in escapes:
                status, body = raw_get(world, who, (prefix + escape).encode())
                assert status in (404, 405) and secret not in body and b"root:" not in body, (prefix, escape, status)
                assert b"SQLite format" not in body
        for url in [f"/submissions/{other_sha}/file", f"/submissions/{other_sha}", f"/rollups/1/files/{other_sha}.xlsx",
                    f"/submissions/{other_sha[:8]}/annotated", "/submissions/1%2F..%2F2/file", "/submissions/-1/file",
                    "/submissions/01/file", "/submissions/1.0/file", "/submissions/%31/file",
                    "/submissions/%C2%B2/file", "/submissions/%C2%B9", "/rollups/%C2%B9/files/x.xlsx"]:  # ² and ¹
            status, body = raw_get(world, who, url.encode())
            visible_one = who is admin and url in ("/submissions/01/file", "/submissions/%31/file")
            assert status == (200 if visible_one else 404), (url, status)
            assert (body == world.workbook(b, tmp_path)) == visible_one  # submission 1 is b's: the admin sees it
    status, body = raw_get(world, me, b"/submissions/1/file")  # another unit's file by its number
    assert status == 404 and body != world.workbook(b, tmp_path)


# --- hostile uploads -------------------------------------------------------------------------------------------

LAUGHS = b'<!DOCTYPE worksheet [<!ENTITY lol "lol">' + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)) + b"]>"


def laughs(xml: bytes) -> bytes:
    """A billion laughs: ten nested entities, 10⁹ "lol"s (3 GB) if a parser expands them, in the 说明 column."""
    xml = xml.replace(b"<worksheet", LAUGHS + b"<worksheet", 1)
    return before_end(b'<row r="30"><c r="E30" t="inlineStr"><is><t>&lol9;</t></is></c></row>')(xml)


def million_rows(xml: bytes) -> bytes:
    return before_end(b'<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c></row>' * 1_000_000)(xml)


@pytest.mark.parametrize("attack", ["zip bomb", "billion laughs", "a million rows"])
def test_a_hostile_upload_is_returned_quickly_and_cheaply_and_so_is_its_annotated_copy(world, tmp_path, attack):
    """The portal's checking goes through the reader's screen (reading/screen/), so the unit gets one clear
    issue in seconds; the annotated copy of it is the issue list alone, never the workbook inflated."""
    unit = world.unit()
    path = tmp_path / "hostile.xlsx"
    if attack == "zip bomb":
        bomb(path, 3.9)  # 3.9 MB uploaded, 3.9 GB inflated
    else:
        path.write_bytes(world.workbook(unit, tmp_path))
        rezip(path, MEMBER_PART, laughs if attack == "billion laughs" else million_rows)
    assert path.stat().st_size < 5 * 2**20
    expected = {"zip bomb": ("too-large", ""), "billion laughs": ("unreadable", ""),
                "a million rows": ("too-large", "会员")}[attack]
    me = world.client(unit)
    me.get(f"/units/{unit}")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    page = me.post(f"/units/{unit}/upload", files={"file": ("报表.xlsx", path.read_bytes())})
    assert time.perf_counter() - start < 30  # a second or two here; generous for a loaded CI machine
    assert page.status_code == 200 and 'id="verdict">退回<' in page.text
    with world.portal.db() as db:
        sub = db.scalar(select(Submission))
    rules = [(i["rule"], i["sheet"] or "") for i in issues_of(world.portal, sub, "zh").to_dicts()]
    assert expected in rules, rules
    start = time.perf_counter()
    copy = me.get(f"/submissions/{sub.id}/annotated")
    assert copy.status_code == 200 and time.perf_counter() - start < 30
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 400 * 1024  # KiB: no gigabytes inflated
    assert openpyxl.load_workbook(io.BytesIO(copy.content)).sheetnames == ["问题清单"]


def test_a_sheet_no_form_reads_cannot_make_the_annotated_copy_slow(world, tmp_path):
    """The reader measures only the sheets it reads, so a workbook with a huge extra sheet is accepted; openpyxl
    would load that sheet too to make the copy (at 200,000 rows, half a minute and 400 MiB in the server)."""
    unit = world.unit()
    path = tmp_path / "extra.xlsx"
    path.write_bytes(world.workbook(unit, tmp_path))
    with_unread_sheet(path, 200_000)
    assert path.stat().st_size < 200_000
    me = world.client(unit)
    assert 'id="verdict">通过<' in me.upload(unit, path.read_bytes()).text
    start = time.perf_counter()
    copy = me.get("/submissions/1/annotated")
    assert copy.status_code == 200 and time.perf_counter() - start < 5
    assert openpyxl.load_workbook(io.BytesIO(copy.content)).sheetnames == ["问题清单"]


def test_an_upload_whose_mimetype_is_a_bomb_is_not_inflated_to_be_sniffed(tmp_path):
    """An ODS is known by its first entry, "mimetype": a 1 GB one is read 64 bytes deep, not inflated."""
    import zipfile

    from tongji.portal.store import sniff

    path = tmp_path / "bomb.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("mimetype", "w", force_zip64=True) as entry:
            entry.write(b"application/vnd.oasis.opendocument.spreadsheet")
            for _ in range(1024):
                entry.write(b" " * 2**20)
    assert path.stat().st_size < 5 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    assert sniff(path.read_bytes()) == ".ods"
    assert time.perf_counter() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB


# --- security headers ------------------------------------------------------------------------------------------


def test_every_kind_of_response_carries_the_security_headers(world, tmp_path):
    """Pages, redirects, errors (400, 403, 404, 405, 413), downloads, static files, the sign-in page: CSP with
    no inline script, no framing, no sniffing; and no page has an inline script or handler for the CSP to block."""
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path, HY04=999))
    stranger_ = world.client(unit).client
    stranger_.cookies.clear()
    street = world.client(STREET)
    responses = {
        "sign-in page": stranger_.get("/login"), "redirect": stranger_.get("/", follow_redirects=False),
        "unit page": me.get(f"/units/{unit}"), "submission page": me.get("/submissions/1"),
        "board": street.get(f"/board/{STREET}"), "admin": world.client("admin").get("/admin"),
        "original file": me.get("/submissions/1/file"), "annotated copy": me.get("/submissions/1/annotated"),
        "template": me.get(f"/units/{unit}/template"), "reminders": street.get(f"/board/{STREET}/reminders"),
        "static css": me.get("/static/portal.css"), "static js": me.get("/static/portal.js"),
        "404": me.get("/submissions/999"), "403": me.post("/submissions/1/review", {"action": "approve"}),
        "400 csrf": me.post("/logout", csrf=False), "405": me.client.put(f"/units/{unit}"),
        "missing static": me.get("/static/nothing.js"),
    }
    world.portal.upload_limit = 1000
    me.get(f"/units/{unit}")
    responses["413"] = me.post(f"/units/{unit}/upload", files={"file": ("a.xlsx", world.workbook(unit, tmp_path))})
    statuses = {k: r.status_code for k, r in responses.items()}
    assert statuses == {**{k: 200 for k in responses}, "redirect": 303, "404": 404, "403": 403, "400 csrf": 400,
                        "405": 405, "missing static": 404, "413": 413}
    for kind, response in responses.items():
        csp = response.headers.get("content-security-policy", "")
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
        assert directives.get("script-src") == "'self'" and "unsafe-inline" not in csp, kind
        assert directives.get("frame-ancestors") == "'none'" and directives.get("default-src") == "'self'", kind
        assert response.headers.get("x-content-type-options") == "nosniff", kind
        assert response.headers.get("x-frame-options") == "DENY", kind
        if response.headers.get("content-type", "").startswith("text/html"):
            assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), kind  # no inline script
            assert not re.search(r"\son[a-z]+=", response.text), kind  # no inline handler
            assert "javascript:" not in response.text, kind
