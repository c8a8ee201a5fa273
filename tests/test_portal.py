"""The collection portal: a unit submits and sees what is wrong by cell; the 街道 reviews, rolls up and reports up."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from portal_kit import DISTRICT, OTHER_STREET, STREET, Browser, make_world
from tongji.portal.db import Audit, Submission
from tongji.portal.service import settle


@pytest.fixture
def world(tmp_path, database):
    """The portal on each database: SQLite (the default) and PostgreSQL (skipped where no server can start)."""
    return make_world(tmp_path, database)


def test_a_unit_sees_its_errors_by_cell_fixes_them_and_passes(world, tmp_path):
    unit = world.unit()
    me = world.client(unit)
    bad = world.workbook(unit, tmp_path, HY04=999)
    page = me.upload(unit, bad, "第一次.xlsx")
    assert page.status_code == 200 and page.url.path == "/submissions/1"
    assert 'id="verdict">退回<' in page.text
    assert "会员!D11" in page.text and "hy04-le-hy03" in page.text and "hy04-le-hy02" in page.text

    copy = me.get("/submissions/1/annotated")
    assert copy.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(copy.content))
    assert book["会员"]["D11"].comment is not None and "问题清单" in book.sheetnames

    page = me.upload(unit, world.workbook(unit, tmp_path), "改好了.xlsx")
    assert 'id="verdict">通过<' in page.text
    versions = me.get(f"/units/{unit}").text
    with world.portal.db() as db:
        subs = list(db.scalars(select(Submission).order_by(Submission.version)))
    assert [(s.version, s.verdict, s.review) for s in subs] == [(1, "退回", "退回"), (2, "通过", "待审")]
    assert all(s.sha256 in versions for s in subs) and "改好了.xlsx" in versions
    stored = world.portal.store.path(subs[0].sha256, ".xlsx")
    assert stored.read_bytes() == bad  # kept as uploaded, by its hash


def test_the_english_portal_renders_the_same_issue_in_english(tmp_path, database):
    from tongji.portal import create_app
    from tongji.portal.accounts import create_accounts

    world = make_world(tmp_path, database)
    app = create_app(world.city.registry, "2025", data=world.data, database=database, lang="en",
                     spec=world.portal.spec)
    with app.state.portal.db() as db:
        passwords = {a["login"]: a["password"] for a in create_accounts(db, app.state.portal.registry, reset=True)}
    world.app, world.passwords = app, passwords
    unit = world.unit()
    page = world.client(unit).upload(unit, world.workbook(unit, tmp_path, HY04=999))
    assert 'id="verdict">returned<' in page.text and "Female members" in page.text


def test_an_upload_checked_while_the_period_changes_is_not_kept_under_the_new_one(world, tmp_path, monkeypatch):
    from tongji.portal.service import settle

    unit = world.unit()
    me = world.client(unit)
    checker, check = world.portal.checker, world.portal.checker.check

    def period_changed_meanwhile(*args):
        report = check(*args)  # checked for 2025 ...
        with world.portal.db() as db:
            settle(db, "2026", None)  # ... while the administrator starts 2026
        return report

    monkeypatch.setattr(checker, "check", period_changed_meanwhile)
    page = me.upload(unit, world.workbook(unit, tmp_path))
    assert page.status_code == 400 and "报告期刚刚改为 2026" in page.text
    with world.portal.db() as db:
        assert db.scalar(select(func.count(Submission.id))) == 0


def audit_log(page) -> str:
    found = re.search(r'<table class="audit">.*?</table>', page.text, re.S)
    return found.group(0) if found else ""


def test_a_unit_sees_the_address_of_its_own_actions_only(world, tmp_path):
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path))
    street = world.client(STREET)
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "approve"})
    rows = re.findall(r"<tr><td>.*?</tr>", audit_log(me.get(f"/units/{unit}")))
    assert len(rows) == 2 and [("testclient" in row) for row in rows] == [True, False]  # uploaded, approved
    assert audit_log(street.get(f"/units/{unit}")).count("testclient") == 2  # the statistician sees both


CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


def test_the_english_portal_says_states_and_the_audit_log_in_english(tmp_path, database):
    """A review refused in the current state names the state, and the audit log its uploads' verdicts and its
    rollups, in the reader's language; the Chinese portal shows them as it always did."""
    from tongji.portal import create_app
    from tongji.portal.accounts import create_accounts

    world = make_world(tmp_path, database)
    chinese = world.app
    world.app = create_app(world.city.registry, "2025", data=world.data, database=database, lang="en",
                           spec=world.portal.spec)
    with world.portal.db() as db:
        world.passwords = {a["login"]: a["password"] for a in create_accounts(db, world.portal.registry,
                                                                              reset=True)}
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path, HY04=999))
    me.upload(unit, world.workbook(unit, tmp_path))
    street = world.client(STREET)
    street.get("/submissions/2")
    street.post("/submissions/2/review", {"action": "approve"})
    page = street.post("/submissions/2/review", {"action": "approve"})
    assert page.status_code == 400 and "Not possible in the current state (approved)" in page.text
    street.get(f"/board/{STREET}")
    assert 'id="report-up"' in street.post(f"/board/{STREET}/rollup").text
    street.post("/rollups/1/report-up")
    logs = {url: audit_log(street.get(url)) for url in (f"/units/{unit}", "/submissions/2", f"/units/{STREET}")}
    assert "v1 " in logs[f"/units/{unit}"] and " returned<" in logs[f"/units/{unit}"]
    assert " passed<" in logs["/submissions/2"] and "1 input, 0 errors" in logs[f"/units/{STREET}"]
    assert "rollup 1" in logs[f"/units/{STREET}"]
    assert {url: CJK.findall(log) for url, log in logs.items()} == {url: [] for url in logs}
    world.app = chinese
    log = audit_log(world.client(STREET).get(f"/units/{STREET}"))
    assert "1 个输入，0 个错误" in log and "汇总表 1" in log
    assert " 退回<" in audit_log(world.client(STREET).get(f"/units/{unit}"))


def test_a_unit_revoked_since_its_account_was_made_is_told_it_does_not_report(world, tmp_path):
    from tongji.portal import create_app

    unit = world.unit()
    world.client(unit)  # signed in once, its own password set
    registry = world.city.registry
    rows = [line.removesuffix(",正常") + ",撤销" if line.startswith(unit) else line
            for line in registry.read_text(encoding="utf-8").splitlines()]
    registry.write_text("\n".join(rows) + "\n", encoding="utf-8")
    world.app = create_app(registry, "2025", data=world.data, database=world.database, deadline="2099-01-20",
                           spec=world.portal.spec)  # the server restarted with the new registry
    page = world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    assert page.status_code == 400 and "本单位在名册中已撤销" in page.text
    with world.portal.db() as db:
        assert db.scalar(select(func.count(Submission.id))) == 0


def test_uploads_that_are_refused_leave_nothing_behind(world, tmp_path):
    unit, other = world.unit(), world.unit(OTHER_STREET)
    me = world.client(unit)
    page = me.upload(unit, world.workbook(other, tmp_path))
    assert page.status_code == 400 and other in page.text and "不是本单位" in page.text
    page = me.upload(unit, b"not a workbook at all", "报表.xlsx")
    assert page.status_code == 400 and "不是 Excel" in page.text
    world.portal.upload_limit = 1000
    page = me.upload(unit, world.workbook(unit, tmp_path))
    assert page.status_code == 413 and "MB" in page.text
    with world.portal.db() as db:
        assert db.scalars(select(Submission)).all() == []
    assert not any((world.data / "files").rglob("*.xlsx"))


def test_a_hostile_file_name_is_only_text(world, tmp_path):
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path), "../../<img src=x onerror=alert(1)>.xlsx")
    page = me.get(f"/units/{unit}")
    assert "<img" not in page.text and "<td>&lt;img src=x onerror=alert(1)&gt;.xlsx</td>" in page.text
    stored = [p.name for p in (world.data / "files").rglob("*") if p.is_file()]
    assert len(stored) == 1 and len(stored[0]) == 64 + len(".xlsx")


def test_review_return_approve_lock_and_unlock_with_an_audit_log(world, tmp_path):
    unit = world.unit()
    me, street = world.client(unit), world.client(STREET)
    me.upload(unit, world.workbook(unit, tmp_path))
    page = street.get("/submissions/1")
    assert 'id="approve"' in page.text
    assert street.post("/submissions/1/review", {"action": "return", "reason": ""}).status_code == 400
    street.post("/submissions/1/review", {"action": "return", "reason": "会员人数与去年差距过大，请核实"})
    assert "退回原因：会员人数与去年差距过大，请核实" in me.get(f"/units/{unit}").text

    me.upload(unit, world.workbook(unit, tmp_path, HY03=151))
    street.get("/submissions/2")
    assert street.post("/submissions/1/review", {"action": "approve"}).status_code == 400  # not the latest
    street.post("/submissions/2/review", {"action": "approve"})
    assert 'id="review">已审核<' in me.get("/submissions/2").text
    refused = me.upload(unit, world.workbook(unit, tmp_path))
    assert refused.status_code == 400 and "锁定" in refused.text
    street.get("/submissions/2")
    street.post("/submissions/2/review", {"action": "unlock"})
    assert me.upload(unit, world.workbook(unit, tmp_path)).url.path == "/submissions/3"
    with world.portal.db() as db:
        log = [(a.login, a.action, a.unit, a.submission_id) for a in db.scalars(select(Audit).order_by(Audit.id))]
    assert log == [(unit, "upload", unit, 1), (STREET, "return", unit, 1), (unit, "upload", unit, 2),
                   (STREET, "approve", unit, 2), (STREET, "unlock", unit, 2), (unit, "upload", unit, 3)]
    assert "审核通过" in street.get("/submissions/2").text  # the audit shown on the submission's page


def test_a_nul_character_typed_into_a_form_is_dropped_on_every_database(world, tmp_path):
    """PostgreSQL's text cannot hold NUL (SQLite's can): a login or a reason typed with one is read without it."""
    unit = world.unit()
    me = world.client(unit)
    me.post("/logout")
    page = me.sign_in(unit[:4] + "\x00" + unit[4:], world.passwords[unit] + "\x00")
    assert page.status_code == 200 and page.url.path != "/login"
    me.upload(unit, world.workbook(unit, tmp_path))
    street = world.client(STREET)
    street.get("/submissions/1")
    assert street.post("/submissions/1/review", {"action": "return", "reason": "请核实\x00金额"}).status_code == 200
    with world.portal.db() as db:
        assert db.scalar(select(Submission.reason)) == "请核实金额"


def test_a_unit_cannot_review_and_an_error_cannot_be_approved(world, tmp_path):
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path, HY04=999))
    me.get("/submissions/1")
    assert me.post("/submissions/1/review", {"action": "approve"}).status_code == 403
    street = world.client(STREET)
    street.get("/submissions/1")
    assert street.post("/submissions/1/review", {"action": "approve"}).status_code == 400


def test_state_changes_need_the_sessions_csrf_token(world, tmp_path):
    unit = world.unit()
    me, street = world.client(unit), world.client(STREET)
    me.upload(unit, world.workbook(unit, tmp_path))
    for url, data in [("/submissions/1/review", {"action": "approve"}), (f"/board/{STREET}/rollup", {}),
                      ("/logout", {})]:
        assert street.post(url, data, csrf=False).status_code == 400
        assert street.post(url, {**data, "csrf": me.csrf}).status_code == 400  # another session's token
    files = {"file": ("a.xlsx", world.workbook(unit, tmp_path))}
    assert me.post(f"/units/{unit}/upload", csrf=False, files=files).status_code == 400
    with world.portal.db() as db:
        assert [s.review for s in db.scalars(select(Submission))] == ["待审"]


def test_sign_in_is_throttled_and_a_new_sign_in_gets_a_new_session(world):
    unit = world.unit()
    me = world.client(unit)
    first = me.client.cookies.get("tongji_session")
    me.post("/logout")
    assert me.get(f"/units/{unit}").url.path == "/login"
    for _ in range(5):
        assert me.sign_in(unit, "wrong-password").status_code == 401
    page = me.sign_in(unit, world.passwords[unit])
    assert page.status_code == 401 and "锁定" in page.text
    with world.portal.db() as db:
        from tongji.portal.db import Account

        account = db.scalar(select(Account).where(Account.login == unit))
        account.locked_until = None
        db.commit()
    me.sign_in(unit, world.passwords[unit])
    assert me.client.cookies.get("tongji_session") not in (None, first)


def test_the_board_counts_states_and_lateness_and_exports_the_reminder_list(tmp_path, database):
    world = make_world(tmp_path, database, deadline="2020-01-20")  # long past: every upload is late
    lines = world.city.registry.read_text(encoding="utf-8").splitlines()
    contacts = [lines[0] + ",联系人,联系电话", *[f"{line},王{n},0571-8000{n:04d}" for n, line in enumerate(lines[1:])]]
    world.city.registry.write_text("\n".join(contacts) + "\n", encoding="utf-8")
    from tongji.definitions.registry import load_registry

    world.portal.registry = load_registry(world.city.registry)
    a, b = world.unit(STREET, 0), world.unit(STREET, 1)
    world.client(a).upload(a, world.workbook(a, tmp_path))
    world.client(b).upload(b, world.workbook(b, tmp_path, HY04=999))
    street = world.client(STREET)
    page = street.get(f"/board/{STREET}")
    # expected: the 街道's own 本级 and its two units; received 2, returned 1, pending 1, missing 1 (本级), late 2
    cells = ["3", "2", "0", "1", "1", "1", "2", "66.7%", "0.0%"]
    assert "".join(f"<td>{c}</td>" for c in cells) in page.text.replace("\n", "")
    assert street.get(f"/board/{STREET}?state=退回").text.count("data-unit=") == 1
    book = openpyxl.load_workbook(io.BytesIO(street.get(f"/board/{STREET}/reminders").content))
    rows = [r for r in book["催报名单"].iter_rows(values_only=True)]
    assert rows[0] == ("单位代码", "单位名称", "层级", "状态", "退回原因", "联系人", "联系电话")
    assert [(r[0], r[3]) for r in rows[1:]] == [(STREET, "未报（迟报）"), (b, "退回（迟报）")]
    assert rows[1][5:] == ("王2", "0571-80000002")
    assert not list((world.data / "exports").iterdir())  # the export is not left on the server


def test_rollup_in_the_portal_writes_what_tongji_rollup_writes(world, tmp_path, monkeypatch):
    """Given the same files under the names the units uploaded them as: the portal never names a stored path."""
    import shutil

    from typer.testing import CliRunner

    from tongji.cli import _register, app
    from tongji.portal.node_summary import inputs

    street = world.client(STREET)
    uploaded = {world.unit(STREET, 0): "第1工会.xlsx", world.unit(STREET, 1): "第2工会.xlsx", STREET: "本级.xlsx"}
    for unit, filename in uploaded.items():
        world.client(unit).upload(unit, world.workbook(unit, tmp_path), filename)
    for sub_id in (1, 2):
        street.get(f"/submissions/{sub_id}")
        street.post(f"/submissions/{sub_id}/review", {"action": "approve"})
    district = world.client(DISTRICT)
    district.get("/submissions/3")
    district.post("/submissions/3/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    page = street.post(f"/board/{STREET}/rollup")
    assert 'id="report-up"' in page.text
    folder = next((world.data / "rollups" / STREET).iterdir())
    with world.portal.db() as db:
        files = inputs(world.portal, db, STREET)
    assert len(files) == 3
    (tmp_path / "收回").mkdir()
    for path, filename in zip(files, ["本级.xlsx", "第1工会.xlsx", "第2工会.xlsx"], strict=True):
        shutil.copy(path, tmp_path / "收回" / filename)
    monkeypatch.chdir(tmp_path / "收回")
    _register()
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["rollup", *sorted(uploaded.values()), "-r", str(world.city.registry),
                                      "--unit", STREET, "-p", "2025", "-o", str(out), "--deadline", "2099-01-20"])
    assert result.exit_code == 0, result.output
    ours = {p.name: p.read_bytes() for p in folder.iterdir()}
    theirs = {p.name: p.read_bytes() for p in out.iterdir()}
    assert ours == theirs and f"{STREET}_2025_汇总.xlsx" in ours

    name = f"{STREET}_2025_汇总.xlsx"
    assert street.get(f"/rollups/1/files/{name}").content == ours[name]
    street.post("/rollups/1/report-up")
    assert "已上报" in district.get(f"/board/{DISTRICT}").text
    with world.portal.db() as db:
        assert inputs(world.portal, db, DISTRICT) == [folder / name]  # the 区 rolls up from the report


def test_unit_names_from_the_registry_are_escaped(tmp_path, database):
    world = make_world(tmp_path, database)
    text = world.city.registry.read_text(encoding="utf-8").replace("第1街道第1工会", "<script>alert(1)</script>")
    world.city.registry.write_text(text, encoding="utf-8")
    from tongji.definitions.registry import load_registry

    world.portal.registry = load_registry(world.city.registry)
    page = world.client(STREET).get(f"/board/{STREET}")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_every_response_carries_the_security_headers(world):
    page = world.client(world.unit()).get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    login = world.client(world.unit(), change_password=False).last
    set_cookie = " ".join(r.headers.get("set-cookie", "") for r in [*login.history, login])
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie, set_cookie


def test_the_data_folder_holds_everything_and_a_restart_keeps_it(world, tmp_path):
    from tongji.portal import create_app

    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    again = create_app(world.city.registry, "2025", data=world.data, database=world.database, spec=world.portal.spec)
    world.app = again
    assert 'id="verdict">通过<' in world.client(unit).get("/submissions/1").text
    assert (world.data / "portal.db").exists() == (world.database is None)  # SQLite's file, unless told otherwise
    zipfile.ZipFile(next((world.data / "files").rglob("*.xlsx"))).testzip()
    with world.portal.db() as db:
        assert Path(world.portal.store.path(db.scalar(select(Submission.sha256)), ".xlsx")).exists()


def test_the_authorization_matrix(world, tmp_path):
    """Every route × every role × own and other units: what one may not see is 404, what one sees but may not
    do is 403, and nothing changes."""
    a, b = world.unit(STREET, 0), world.unit(OTHER_STREET, 0)
    world.client(a).upload(a, world.workbook(a, tmp_path))
    world.client(b).upload(b, world.workbook(b, tmp_path))
    street = world.client(STREET)
    assert "无可汇总" in street.post(f"/board/{STREET}/rollup").text
    street.get("/submissions/1")
    street.post("/submissions/1/review", {"action": "approve"})
    street.post(f"/board/{STREET}/rollup")
    name = f"{STREET}_2025_汇总.xlsx"
    roles = {"unit": a, "other unit": b, "node": STREET, "other node": OTHER_STREET, "ancestor": DISTRICT,
             "admin": "admin"}
    ok, hidden, refused = 200, 404, 403
    gets = {
        f"/units/{a}": dict(unit=ok, node=ok, ancestor=ok, admin=ok),
        f"/units/{a}/template": dict(unit=ok, node=ok, ancestor=ok, admin=ok),
        "/submissions/1": dict(unit=ok, node=ok, ancestor=ok, admin=ok),
        "/submissions/1/file": dict(unit=ok, node=ok, ancestor=ok, admin=ok),
        "/submissions/1/annotated": dict(unit=ok, node=ok, ancestor=ok, admin=ok),
        f"/board/{STREET}": dict(node=ok, ancestor=ok, admin=ok),
        f"/board/{STREET}/reminders": dict(node=ok, ancestor=ok, admin=ok),
        f"/rollups/1/files/{name}": dict(node=ok, ancestor=ok, admin=ok),
        "/rollups/1/files/..%2F..%2Fportal.db": {},
        "/submissions/999": {}, "/units/nobody": {}, "/board/nobody": {},
        "/admin": dict(admin=ok),
    }
    done, wrong_state = 303, 400  # submission 1 is approved (locked); rollup 1 is superseded by the node's next
    posts = {
        f"/units/{a}/upload": dict(unit=wrong_state, node=refused, ancestor=refused, admin=refused),
        # a review refused by the version's state: redirected to its page, which says why (post/redirect/get)
        "/submissions/1/review": dict(unit=refused, node=done, ancestor=done, admin=done),
        f"/board/{STREET}/rollup": dict(node=done, ancestor=refused, admin=done),
        "/rollups/1/report-up": dict(node=wrong_state, ancestor=refused, admin=refused),
        "/admin/deadline": dict(admin=done), f"/admin/accounts/{OTHER_STREET}/reset": dict(admin=ok),
        "/admin/period": dict(admin=wrong_state),  # posted with no period: said, nothing changed
    }
    with world.portal.db() as db:
        before = [(s.id, s.version, s.review) for s in db.scalars(select(Submission))]
    seen = {}
    for role, login in roles.items():
        me = world.client(login)
        for url, allowed in gets.items():
            seen[role, url] = me.client.get(url, follow_redirects=False).status_code
            assert seen[role, url] == allowed.get(role, hidden), (role, url)
        for url, allowed in posts.items():
            me.get("/")
            data = {"csrf": me.csrf, "action": "approve", "reason": "x", "deadline": "2030-01-01"}
            files = {"file": ("a.xlsx", world.workbook(a, tmp_path))} if url.endswith("upload") else None
            status = me.client.post(url, data=data, files=files, follow_redirects=False).status_code
            assert status == allowed.get(role, hidden), (role, url, status)
    with world.portal.db() as db:
        assert [(s.id, s.version, s.review) for s in db.scalars(select(Submission))] == before
    anonymous = world.client("admin").client
    anonymous.cookies.clear()
    for url in [u for u in [*gets, *posts] if "%2F" not in u]:  # a path with a slash matches no route at all
        response = anonymous.request("GET" if url in gets else "POST", url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", url


def test_a_new_period_starts_a_new_round(world, tmp_path):
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    admin = world.client("admin")
    admin.get("/admin")
    assert admin.post("/admin/period", {"period": "2025年第五季度"}).status_code == 400
    admin.post("/admin/period", {"period": "2026"})
    page = world.client(STREET).get(f"/board/{STREET}")
    assert "报告期 2026" in page.text and page.text.count('class="state-未报"') == 2
    with world.portal.db() as db:
        assert [a.action for a in db.scalars(select(Audit).order_by(Audit.id))] == ["upload", "period"]


def test_uploads_checked_together_get_the_verdicts_they_get_alone(world, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    a, b, c = world.unit(STREET, 0), world.unit(STREET, 1), world.unit(OTHER_STREET, 0)
    jobs = [(a, world.workbook(a, tmp_path)), (a, world.workbook(a, tmp_path)),  # one unit twice at once
            (b, world.workbook(b, tmp_path, HY04=999)), (STREET, world.workbook(STREET, tmp_path)),
            (c, copy_of(world, a, c, tmp_path))]  # another 街道's unit with a's figures: a copy, seen together
    checker = world.portal.checker

    def check(job):
        return checker.check(job[1], ".xlsx", job[0], "2025")

    alone = [check(job) for job in jobs]
    sizes, validate = [], checker._validate

    def counted(batch):
        sizes.append(len(batch))
        return validate(batch)

    checker._validate = counted
    with ThreadPoolExecutor(len(jobs) * 5) as pool:
        together = list(pool.map(check, jobs * 5))
    assert max(sizes) > 1 and sum(sizes) >= len(jobs) * 5  # some were checked together
    for one, report in zip(jobs * 5, together, strict=True):
        expected = alone[jobs.index(one)]
        assert report.flatten(["cell", "rule"]) == expected.flatten(["cell", "rule"])
        assert report.workbooks["status"].to_list() == expected.workbooks["status"].to_list()
    assert [r.workbooks["status"][0] for r in alone] == ["通过", "通过", "退回", "通过", "通过"]
    for rule in ("duplicate-unit", "copied-workbook"):
        assert not any((r.issues["rule"] == rule).any() for r in together)
    assert not any(c in message for r in together[:4] for message in r.issues["message"])  # c is never named


def copy_of(world, source: str, unit: str, tmp_path) -> bytes:
    """`unit`'s workbook with every figure of `source`'s."""
    import openpyxl

    values = {code: d for ws in openpyxl.load_workbook(world.city.files[source], data_only=True).worksheets
              for code, _, d in ws.iter_rows(min_col=2, max_col=4, values_only=True)
              if isinstance(code, str) and not code.startswith("FM") and isinstance(d, int | float)}
    return world.workbook(unit, tmp_path, **values)


def test_a_checking_process_gives_the_verdicts_a_thread_gives(world, tmp_path):
    from tongji.portal.checker import Checker

    a, b = world.unit(STREET, 0), world.unit(STREET, 1)
    jobs = [(a, world.workbook(a, tmp_path)), (b, world.workbook(b, tmp_path, HY04=999))]
    in_thread = [world.portal.checker.check(data, ".xlsx", unit, "2025") for unit, data in jobs]
    checker = Checker(world.portal, process=True)
    try:
        in_process = [checker.check(data, ".xlsx", unit, "2025") for unit, data in jobs]
        assert checker.pool is not None
    finally:
        checker.close()
    for one, other in zip(in_thread, in_process, strict=True):
        assert one.flatten(["cell", "rule", "message"]) == other.flatten(["cell", "rule", "message"])
        assert one.workbooks.drop("file").equals(other.workbooks.drop("file"))  # files: temporary names
    assert checker.pool is None


def test_the_checking_process_starts_with_the_server_and_checks_a_template_first(world, tmp_path):
    from starlette.testclient import TestClient

    checker = world.app.state.portal.checker
    checker.process = True
    sizes, validate = [], checker._validate

    def counted(batch):
        sizes.append(len(batch))
        return validate(batch)

    checker._validate = counted
    with TestClient(world.app):  # the app's lifespan: the server starting
        assert checker.warmed.wait(120) and sizes == [1]  # one template, before any upload
        started = set(checker.pool._processes)
        unit = world.unit()
        page = world.client(unit).upload(unit, world.workbook(unit, tmp_path))
        assert 'id="verdict">通过<' in page.text
        assert sizes == [1, 1] and set(checker.pool._processes) == started  # the same process, already warm
    assert checker.pool is None  # and it stops with the server


def test_a_checking_process_that_dies_is_replaced(world, tmp_path):
    import os
    import signal

    from tongji.portal.checker import Checker

    unit = world.unit()
    data = world.workbook(unit, tmp_path)
    checker = Checker(world.portal, process=True)
    try:
        assert checker.check(data, ".xlsx", unit, "2025").workbooks["status"][0] == "通过"
        for pid in list(checker.pool._processes):
            os.kill(pid, signal.SIGKILL)
        assert checker.check(data, ".xlsx", unit, "2025").workbooks["status"][0] == "通过"
    finally:
        checker.close()


@pytest.fixture
def beijing(monkeypatch):
    """The server's time zone is the office's, ahead of UTC: the end of 9999-12-31 there is past year 9999 in the
    sums that turn a local time into UTC."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_deadline_in_an_implausible_year_is_refused_and_one_stored_before_breaks_no_page(world, beijing):
    world.client("admin")  # its first password changed
    admin = Browser(TestClient(world.app, follow_redirects=True, raise_server_exceptions=False))
    admin.sign_in("admin", world.passwords["admin"])
    for typed in ("9999-12-31", "0001-01-01", "1月20日"):
        admin.get("/admin")
        page = admin.post("/admin/deadline", {"deadline": typed})
        assert page.status_code == 400 and "截止日期应为 2000 年至 2100 年间的日期" in page.text, typed
    assert "2099-01-20" in admin.get("/admin").text  # unchanged
    with world.portal.db() as db:  # saved by a portal that did not refuse it yet
        settle(db, "2025", "9999-12-31")
    unit = world.unit()
    me = world.client(unit)
    pages = [admin.get("/admin"), admin.get(f"/board/{STREET}"), me.get(f"/units/{unit}")]
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert "截止日期 未设" in pages[1].text and "截止日期 未设" in pages[2].text  # as far as no deadline at all
    admin.get("/admin")  # and the administrator can set a real one
    assert admin.post("/admin/deadline", {"deadline": "2026-01-20"}).status_code == 200
    assert "2026-01-20" in admin.get(f"/board/{STREET}").text


def test_a_wrong_method_is_no_such_page_and_a_post_without_its_length_is_said(world):
    """An old link to /logout (a GET where only POST is) is not a server failure; a body sent in chunks, without
    Content-Length, is not a file over the size limit."""
    unit = world.unit()
    me = world.client(unit)
    for url in ("/logout", f"/units/{unit}/upload", "/submissions/1/review"):
        page = me.get(url)
        assert page.status_code == 405 and page.headers["allow"] == "POST", url
        assert "没有这个页面" in page.text and "服务器出错" not in page.text, url
    page = me.client.post("/static/portal.css")
    assert page.status_code == 405 and "没有这个页面" in page.text
    me.get(f"/units/{unit}")

    def chunks():
        yield f"csrf={me.csrf}".encode()

    form = {"content-type": "application/x-www-form-urlencoded"}
    for url in (f"/units/{unit}/upload", "/logout"):
        page = me.client.post(url, content=chunks(), headers=form)
        assert page.status_code == 411 and "请求没有说明长度" in page.text, url
        assert "MB" not in page.text and "服务器出错" not in page.text, url
    assert me.get(f"/units/{unit}").url.path == f"/units/{unit}"  # still signed in: the logout was not done
