"""`tongji serve --workers N`: several server processes on one PostgreSQL (one process on SQLite), and requests at
once that only the database can settle — versions of one unit, reviews of one submission, rollups of one node,
wrong passwords of one account. Nothing lost, nothing twice."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from portal_kit import STREET, make_world
from server_kit import Server, csrf
from tongji.cli import _register, app
from tongji.portal.db import Account, Audit, Rollup, Submission
from tongji.portal.submissions import review
from tongji.testing import fill_template


@pytest.fixture
def served(tmp_path, database):
    """The world's portal served by two processes on PostgreSQL, or by one on SQLite (which refuses two)."""
    world = make_world(tmp_path, database)
    server = Server(world, tmp_path / "server.log", workers=2 if database else 1).start()
    try:
        if database and Path("/proc/self/task").is_dir():  # uvicorn's supervisor and its two worker processes
            assert len(workers(server.process.pid)) == 2
        yield world, server
    finally:
        server.stop()


def workers(pid: int) -> list[int]:
    """The worker processes uvicorn started (not multiprocessing's resource tracker)."""
    found = {int(p) for task in Path(f"/proc/{pid}/task").iterdir() for p in (task / "children").read_text().split()}
    return [p for p in found if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]


def at_once(n: int, work) -> list:
    """`work(i)` for i in 0..n-1 in n threads released together."""
    gate = threading.Barrier(n)

    def run(i):
        gate.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_several_workers_on_sqlite_are_refused_with_the_reason(tmp_path):
    world = make_world(tmp_path)
    _register()
    result = CliRunner().invoke(app, ["serve", "-r", str(world.city.registry), "-p", "2025", "--data",
                                      str(tmp_path / "d"), "--workers", "2"])
    assert result.exit_code == 2 and "--workers 2 需要 PostgreSQL" in result.output
    assert not (tmp_path / "d").exists()  # refused before anything is made
    result = CliRunner().invoke(app, ["serve", "-r", str(world.city.registry), "-p", "2025", "--workers", "0"])
    assert result.exit_code == 2 and "--workers 须为正整数，而不是 0" in result.output
    result = CliRunner().invoke(app, ["--lang", "en", "serve", "-r", str(world.city.registry), "-p", "2025",
                                      "--data", str(tmp_path / "d"), "--workers", "3"])
    assert result.exit_code == 2 and "--workers 3 needs PostgreSQL" in result.output


def test_twenty_uploads_of_one_unit_at_once_are_versions_one_to_twenty(served, tmp_path):
    world, server = served
    unit = world.unit()
    books = [fill_template(world.city.files[unit], cover={"FM08": f"填表人{i}"}, out=tmp_path / f"{i}.xlsx")
             .read_bytes() for i in range(20)]
    me = server.client(unit)
    token = csrf(me.get(f"/units/{unit}").text)

    def upload(i):
        with httpx2.Client(base_url=server.url, cookies=me.cookies, timeout=300) as client:
            page = client.post(f"/units/{unit}/upload", data={"csrf": token},
                               files={"file": (f"{i}.xlsx", books[i])}, follow_redirects=True)
            return page.status_code, page.url.path

    answers = at_once(20, upload)
    assert [status for status, _ in answers] == [200] * 20
    with world.portal.db() as db:
        subs = list(db.scalars(select(Submission).where(Submission.unit == unit)))
        uploads = list(db.scalars(select(Audit).where(Audit.action == "upload")))
    assert sorted(s.version for s in subs) == list(range(1, 21))
    assert {f"/submissions/{s.id}" for s in subs} == {path for _, path in answers}  # each answer its own version
    assert {s.sha256 for s in subs} == {hashlib.sha256(b).hexdigest() for b in books}  # every file, once each
    for s in subs:
        assert world.portal.store.check(s.sha256, s.suffix)
    assert sorted(a.submission_id for a in uploads) == sorted(s.id for s in subs)


def test_approvals_and_returns_of_one_submission_at_once_settle_as_one_order(served, tmp_path):
    world, server = served
    unit = world.unit()
    me = server.client(unit)
    me.post(f"/units/{unit}/upload", data={"csrf": csrf(me.get(f"/units/{unit}").text)},
            files={"file": ("a.xlsx", world.workbook(unit, tmp_path))})
    with world.portal.db() as db:
        sub = db.scalar(select(Submission).where(Submission.unit == unit))
    reviewers = [server.client(STREET), server.client("admin")]
    tokens = [csrf(r.get(f"/submissions/{sub.id}").text) for r in reviewers]

    def act(action):
        def run(i):
            page = reviewers[i % 2].post(f"/submissions/{sub.id}/review", data={
                "csrf": tokens[i % 2], "action": action(i), "reason": "请核对"})
            return page.status_code, page.text
        return run

    answers = at_once(6, act(lambda i: "approve"))  # six approvals at once: one wins
    assert sorted(s for s, _ in answers) == [200] + [400] * 5
    assert all("当前状态（已审核）下不能这样操作" in text for s, text in answers if s == 400)
    answers = at_once(2, act(lambda i: "unlock" if i == 0 else "return"))
    with world.portal.db() as db:
        log = [a.action for a in db.scalars(select(Audit).where(Audit.submission_id == sub.id).order_by(Audit.id))]
        state = db.get(Submission, sub.id).review
    assert log[:2] == ["upload", "approve"]
    # unlock then return, or return (from 已审核) and then nothing to unlock: both end 退回, as the log says
    assert log[2:] in (["unlock", "return"], ["return"]) and state == "退回"
    assert sorted(s for s, _ in answers) == ([200, 200] if len(log) == 4 else [200, 400])


def test_ten_wrong_passwords_at_once_lock_the_account_after_exactly_five(served):
    world, server = served
    unit = world.unit()

    answers = at_once(10, lambda i: attempt(server, unit, "wrong-password"))
    assert sorted(answers) == sorted(["账号或密码不对"] * 5 + ["密码错误次数过多，账号已暂时锁定 15 分钟"] * 5)
    with world.portal.db() as db:
        account = db.scalar(select(Account).where(Account.login == unit))
        assert account.failed_logins == 5 and account.locked_until is not None
    assert attempt(server, unit, world.passwords[unit]).endswith("锁定 15 分钟")  # the right one too, while locked

    other = world.unit(n=1)
    assert at_once(4, lambda i: attempt(server, other, "wrong-password")) == ["账号或密码不对"] * 4
    with world.portal.db() as db:
        assert db.scalar(select(Account.failed_logins).where(Account.login == other)) == 4
    assert attempt(server, other, world.passwords[other]) == "signed in"  # four were not enough to lock it
    with world.portal.db() as db:
        assert db.scalar(select(Account.failed_logins).where(Account.login == other)) == 0


def attempt(server: Server, login: str, password: str) -> str:
    """The problem a sign-in page shows, or "signed in"."""
    with httpx2.Client(base_url=server.url, timeout=60) as client:
        client.get("/login")
        page = client.post("/login", data={"csrf": client.cookies["tongji_login_csrf"], "login": login,
                                           "password": password})
        return re.search(r'class="problem" id="problem">([^<]+)<', page.text).group(1) if page.status_code == 401 \
            else "signed in"


def test_rollups_of_one_node_at_once_are_each_whole(served, tmp_path):
    world, server = served
    units = [world.unit(n=0), world.unit(n=1)]
    for unit in units:
        me = server.client(unit)
        me.post(f"/units/{unit}/upload", data={"csrf": csrf(me.get(f"/units/{unit}").text)},
                files={"file": ("a.xlsx", world.workbook(unit, tmp_path))})
    street = server.client(STREET)
    with world.portal.db() as db:
        ids = list(db.scalars(select(Submission.id)))
    for sub in ids:
        street.post(f"/submissions/{sub}/review", data={"csrf": csrf(street.get(f"/submissions/{sub}").text),
                                                         "action": "approve"})
    token = csrf(street.get(f"/board/{STREET}").text)
    answers = at_once(3, lambda i: street.post(f"/board/{STREET}/rollup", data={"csrf": token}).status_code)
    assert answers == [200] * 3
    with world.portal.db() as db:
        made = list(db.scalars(select(Rollup).where(Rollup.unit == STREET)))
        log = list(db.scalars(select(Audit).where(Audit.action == "rollup")))
    assert len(made) == 3 == len(log) and len({m.folder for m in made}) == 3
    for m in made:
        books = list((world.data / m.folder).glob("*_汇总.xlsx"))
        assert len(books) == 1 and "明细" in openpyxl.load_workbook(books[0], read_only=True).sheetnames
    assert not list((world.data / "tmp").glob(".rollup-*"))  # nothing left half made


def test_an_upload_checked_while_its_unit_was_approved_is_refused(tmp_path, database):
    world = make_world(tmp_path, database)
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path))
    world.client(STREET)
    checker, check = world.portal.checker, world.portal.checker.check

    def approved_meanwhile(*args):  # the statistician approves version 1 while version 2 is being checked
        report = check(*args)
        checker.check = check  # once: approving checks version 1 again, with the checker itself
        with world.portal.db() as db:
            statistician = db.scalar(select(Account).where(Account.login == STREET))
            review(world.portal, db, statistician, db.scalar(select(Submission)), "approve")
        return report

    checker.check = approved_meanwhile
    page = me.upload(unit, world.workbook(unit, tmp_path, HY04=1))
    assert page.status_code == 400 and "本期报表已审核锁定" in page.text
    with world.portal.db() as db:
        assert [(s.version, s.review) for s in db.scalars(select(Submission))] == [(1, "已审核")]


def test_a_worker_restarted_after_a_crash_keeps_the_period_the_administrator_set(served):
    world, server = served
    if server.workers == 1:
        pytest.skip("one process on SQLite: no worker to restart")
    admin = server.client("admin")
    admin.post("/admin/period", data={"csrf": csrf(admin.get("/admin").text), "period": "2026"})
    before = workers(server.process.pid)
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (len(now := workers(server.process.pid)) < 2 or before[0] in now):
        time.sleep(0.2)
    assert len(now) == 2 and before[0] not in now  # uvicorn started a new worker
    for _ in range(6):  # whichever worker answers
        assert "报告期 2026" in server.client(STREET).get(f"/board/{STREET}").text
    with world.portal.db() as db:
        assert world.portal.period(db) == "2026"
