"""Faults: the server killed (kill -9) in the middle of an upload and of a rollup, and what that leaves swept a day
later; the database unreachable, or busy with another writer; the file store's disk full; a template's temporary
file left beside it, and many first downloads of one template at once. What was acknowledged is kept; nothing half
made is referenced or served."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2
import openpyxl
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient
from typer.testing import CliRunner

from portal_kit import STREET, make_world
from server_kit import Server, csrf
from tongji.cli import _register, app
from tongji.portal import create_app
from tongji.portal.db import Rollup, Submission
from tongji.portal.store import Store
from tongji.portal.web import make_app


def check(world) -> CliRunner:
    _register()
    return CliRunner().invoke(app, ["serve", "check", *world.options()])


def kill_when(server: Server, appears, request) -> bool:
    """Send `request` in a thread; kill -9 the server as soon as `appears()` (the work under way); whether it was."""
    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    deadline, seen = time.monotonic() + 60, False
    while time.monotonic() < deadline and thread.is_alive() and not seen:
        seen = appears()
        time.sleep(0.005)
    server.kill()
    thread.join(30)
    return seen


def test_a_server_killed_in_the_middle_of_an_upload_loses_nothing_acknowledged(tmp_path, database):
    world = make_world(tmp_path, database)
    server = Server(world, tmp_path / "server.log").start()
    unit = world.unit()
    try:
        me = server.client(unit)
        token = csrf(me.get(f"/units/{unit}").text)
        for _ in range(2):
            assert me.post(f"/units/{unit}/upload", data={"csrf": token},
                           files={"file": ("a.xlsx", world.workbook(unit, tmp_path))}).status_code == 200
        other = world.workbook(unit, tmp_path, HY04=1)  # new bytes, not yet in the store
        answered = []

        def upload():
            try:
                answered.append(me.post(f"/units/{unit}/upload", data={"csrf": token},
                                        files={"file": ("b.xlsx", other)}).status_code)
            except httpx2.TransportError:
                pass

        checking = world.data / "tmp"  # the upload is received and being checked: a folder of it is there
        assert kill_when(server, lambda: any(checking.iterdir()), upload)
        assert answered == []  # never acknowledged
        server.start()
        with world.portal.db() as db:
            kept = list(db.scalars(select(Submission).where(Submission.unit == unit).order_by(Submission.version)))
        assert [s.version for s in kept] == [1, 2]
        assert all(world.portal.store.check(s.sha256, s.suffix) for s in kept)
        result = check(world)
        assert result.exit_code == 0 and "完好" in result.output, result.output
        me = server.client(unit)
        page = me.post(f"/units/{unit}/upload", data={"csrf": csrf(me.get(f"/units/{unit}").text)},
                       files={"file": ("b.xlsx", other)})
        assert page.status_code == 200 and 'id="verdict">' in page.text
        with world.portal.db() as db:
            assert db.scalar(select(Submission.version).order_by(Submission.id.desc()).limit(1)) == 3
    finally:
        server.stop()


def test_a_server_killed_in_the_middle_of_a_rollup_leaves_no_partial_summary(tmp_path, database):
    world = make_world(tmp_path, database)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    with world.portal.db() as db:
        sub = db.scalar(select(Submission.id))
    street = world.client(STREET)
    street.get(f"/submissions/{sub}")
    street.post(f"/submissions/{sub}/review", {"action": "approve"})
    server = Server(world, tmp_path / "server.log").start()
    try:
        me = server.client(STREET)
        token = csrf(me.get(f"/board/{STREET}").text)

        def rollup():
            try:
                me.post(f"/board/{STREET}/rollup", data={"csrf": token})
            except httpx2.TransportError:
                pass

        staging = world.data / "tmp"
        assert kill_when(server, lambda: any(staging.glob(".rollup-*/*")), rollup)  # files being written
        with world.portal.db() as db:
            assert list(db.scalars(select(Rollup))) == []  # no row names what was cut off
        server.start()
        result = check(world)
        assert result.exit_code == 0 and "完好" in result.output, result.output
        me = server.client(STREET)
        assert me.post(f"/board/{STREET}/rollup", data={"csrf": csrf(me.get(f"/board/{STREET}").text)}
                       ).status_code == 200
        with world.portal.db() as db:
            made = list(db.scalars(select(Rollup)))
        assert len(made) == 1
        books = list((world.data / made[0].folder).glob("*_汇总.xlsx"))
        assert len(books) == 1 and "明细" in openpyxl.load_workbook(books[0], read_only=True).sheetnames
    finally:
        server.stop()


def test_a_starting_server_removes_what_a_crash_left_a_day_ago_and_nothing_else(tmp_path):
    """Temporary files of cut-off uploads and folders left in tmp/ go once a day old, when a server starts; what
    another server may still be writing (younger) stays, and so does every stored upload, however old."""
    world = make_world(tmp_path)
    unit = world.unit()
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    (stored,) = [p for p in (world.data / "files").rglob("*") if p.is_file()]
    leftovers = {name: world.data / "tmp" / name for name in (".rollup-old", ".rollup-new")}
    leftovers |= {name: stored.parent / name for name in (".upload-old", ".upload-new")}
    for name, path in leftovers.items():
        if name.startswith(".rollup"):
            path.mkdir()
            (path / "330100_2025_汇总.xlsx").write_bytes(b"half")
        else:
            path.write_bytes(b"half")
    day_ago = time.time() - 25 * 3600
    for path in (stored, leftovers[".upload-old"], leftovers[".rollup-old"],
                 leftovers[".rollup-old"] / "330100_2025_汇总.xlsx"):
        os.utime(path, (day_ago, day_ago))
    create_app(world.city.registry, "2025", data=world.data, spec=world.portal.spec)  # the server starts again
    assert {name for name, path in leftovers.items() if path.exists()} == {".rollup-new", ".upload-new"}
    assert stored.exists()


def test_an_unreachable_database_is_a_chinese_503_page_and_loses_nothing(tmp_path, database):
    if database is None:
        pytest.skip("SQLite is a file in the data folder: there is no server to lose")
    world = make_world(tmp_path, database)
    unit = world.unit()
    me = world.client(unit)
    me.upload(unit, world.workbook(unit, tmp_path))
    name = make_url(database).database
    admin = create_engine(make_url(database).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:  # the server refuses this database, and drops who is on it
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                               {"n": name})
        page = me.get(f"/units/{unit}")
        assert page.status_code == 503 and "数据库暂时无法连接，本次操作未完成" in page.text
        assert page.headers["retry-after"] == "30" and "Traceback" not in page.text
        page = me.client.post(f"/units/{unit}/upload", data={"csrf": me.csrf},
                              files={"file": ("a.xlsx", world.workbook(unit, tmp_path, HY04=1))})
        assert page.status_code == 503 and "数据库暂时无法连接" in page.text
        english = TestClient(make_app(world.portal, "en"), cookies=dict(me.client.cookies)).get(f"/units/{unit}")
        assert english.status_code == 503 and "The database cannot be reached just now" in english.text
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    page = me.get(f"/units/{unit}")
    assert page.status_code == 200
    with world.portal.db() as db:
        assert [s.version for s in db.scalars(select(Submission))] == [1]  # kept; the cut-off upload not recorded


def test_sqlite_busy_with_another_writer_is_a_busy_page_not_an_unreachable_one(tmp_path, monkeypatch):
    """SQLite lets one process write at a time: an upload that waited its turn in vain says the server is busy,
    asks to be tried again in seconds, and records nothing; once the writer is done the same upload is kept."""
    from tongji.portal import migrate

    monkeypatch.setattr(migrate, "BUSY_MS", 200)  # SQLite's wait for the other writer, on connections made now
    world = make_world(tmp_path)
    unit = world.unit()
    me = world.client(unit)
    book = world.workbook(unit, tmp_path)
    other = sqlite3.connect(world.data / "portal.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        page = me.upload(unit, book)
        assert page.status_code == 503 and "服务器正忙，本次操作未完成" in page.text
        assert page.headers["retry-after"] == "5" and "数据库暂时无法连接" not in page.text
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert me.upload(unit, book).status_code == 200
    with world.portal.db() as db:
        assert [s.version for s in db.scalars(select(Submission))] == [1]


def test_a_full_disk_refuses_the_upload_and_stores_nothing(tmp_path, monkeypatch):
    world = make_world(tmp_path)
    unit = world.unit()
    me = world.client(unit)

    def full(f, data):
        f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Store, "write", staticmethod(full))
    page = me.upload(unit, world.workbook(unit, tmp_path))
    assert page.status_code == 503 and "服务器磁盘已满，文件未保存，本次上传未被接收" in page.text
    assert [p for p in (world.data / "files").rglob("*") if p.is_file()] == []  # not even the half file
    with world.portal.db() as db:
        assert list(db.scalars(select(Submission))) == []
    monkeypatch.undo()
    page = me.upload(unit, world.workbook(unit, tmp_path))
    assert page.status_code == 200 and 'id="verdict">通过<' in page.text


def test_a_temporary_file_left_beside_a_template_is_never_served(tmp_path):
    """A crash while a template was written leaves `.tongji-….xlsx` in its folder; the unit still gets the real
    template (the temporary name sorted first, and an empty file was served for ever)."""
    world = make_world(tmp_path)
    unit = world.unit()
    folder = world.data / "templates" / "2025" / unit
    folder.mkdir(parents=True)
    (folder / ".tongji-k3j2x1.xlsx").write_bytes(b"")
    page = world.client(unit).get(f"/units/{unit}/template")
    assert page.status_code == 200 and page.content
    assert "会员" in openpyxl.load_workbook(io.BytesIO(page.content), read_only=True).sheetnames
    assert ".tongji-" not in page.headers["content-disposition"]


def test_many_first_downloads_of_a_template_at_once_all_get_it(tmp_path, monkeypatch):
    """Several requests for a template not made yet: each makes it under a temporary name of its own and renames
    it into place, so none is served another's half-written or vanished temporary file."""
    from tongji.writing import files

    zip_into = files.zip_into

    def slow_disk(*args, **kw):  # the temporary file stays empty a while, as on a busy server
        time.sleep(0.1)
        zip_into(*args, **kw)

    monkeypatch.setattr(files, "zip_into", slow_disk)
    world = make_world(tmp_path)
    unit = world.unit()
    cookies = dict(world.client(unit).client.cookies)
    start = threading.Barrier(12)

    def download(n):
        client = TestClient(world.app, cookies=cookies, raise_server_exceptions=False)
        start.wait(30)
        time.sleep(n * 0.02)  # spread over the time one is written: later ones find the folder mid-write
        page = client.get(f"/units/{unit}/template")
        return page.status_code, page.content

    with ThreadPoolExecutor(12) as pool:
        pages = list(pool.map(download, range(12)))
    assert [status for status, _ in pages] == [200] * 12
    assert len({content for _, content in pages}) == 1 and pages[0][1]
    assert [p.name for p in (world.data / "templates" / "2025" / unit).iterdir() if p.name.startswith(".")] == []
