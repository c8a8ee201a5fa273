"""`tongji serve backup`, `restore` and `check`: a backup restores onto an empty data folder with the same board;
a damaged backup or a damaged stored file is found and named."""

from __future__ import annotations

import errno
import hashlib
import json
import re
import threading
import zipfile

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from portal_kit import DISTRICT, STREET, make_world
from tongji import cli
from tongji.portal import create_app
from tongji.portal.backup import backup, restore
from tongji.portal.db import Account, Rollup, Submission


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A 街道 with two uploads (one approved, one returned by the checker), a rollup of the 街道, and its 本级."""
    tmp = tmp_path_factory.mktemp("backup")
    world = make_world(tmp)
    good, bad = world.unit(STREET, 0), world.unit(STREET, 1)
    world.client(good).upload(good, world.workbook(good, tmp))
    world.client(bad).upload(bad, world.workbook(bad, tmp, HY04=99999))
    world.client(STREET).upload(STREET, world.workbook(STREET, tmp))
    street = world.client(STREET)
    with world.portal.db() as db:
        first = db.scalar(select(Submission).where(Submission.unit == good))
    street.get(f"/submissions/{first.id}")
    street.post(f"/submissions/{first.id}/review", {"action": "approve"})
    street.get(f"/board/{STREET}")
    street.post(f"/board/{STREET}/rollup")
    return world


def invoke(*args):
    cli._register()
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def state(app) -> dict:
    """What the board is made of: every submission's unit, version, verdict and review, and the rollups."""
    with app.state.portal.db() as db:
        subs = [(s.unit, s.version, s.sha256, s.verdict, s.review, s.errors) for s in
                db.scalars(select(Submission).order_by(Submission.id))]
        rollups = [(r.unit, r.folder, r.errors) for r in db.scalars(select(Rollup).order_by(Rollup.id))]
        logins = sorted(a.login for a in db.scalars(select(Account)))
    return {"submissions": subs, "rollups": rollups, "logins": logins}


def test_backup_restores_onto_an_empty_folder_with_the_same_board(world, tmp_path):
    result = invoke("serve", "backup", tmp_path / "备份.zip", "--data", world.data)
    assert result.exit_code == 0, result.output
    assert "3 份上报、1 次汇总" in result.output
    result = invoke("serve", "restore", tmp_path / "备份.zip", "--data", tmp_path / "restored")
    assert result.exit_code == 0, result.output
    again = create_app(world.city.registry, "2025", data=tmp_path / "restored", spec=world.portal.spec)
    assert state(again) == state(world.app)
    for sha in {s[2] for s in state(world.app)["submissions"]}:
        found = list((tmp_path / "restored" / "files").rglob(f"{sha}.*"))
        assert len(found) == 1 and hashlib.sha256(found[0].read_bytes()).hexdigest() == sha
    folder = state(world.app)["rollups"][0][1]
    assert sorted(p.name for p in (tmp_path / "restored" / folder).iterdir()) == sorted(
        p.name for p in (world.data / folder).iterdir())
    # the same people sign in with the same passwords and see the same board
    from portal_kit import World

    restored = World(world.city, again, dict(world.passwords), tmp_path / "restored")
    page = restored.client(DISTRICT).get(f"/board/{STREET}")
    assert page.status_code == 200 and world.unit(STREET, 0) in page.text
    check = invoke("serve", "check", "--data", tmp_path / "restored")
    assert check.exit_code == 0 and "完好" in check.output


def test_backup_restore_and_check_show_progress_on_a_terminal(world, tmp_path, monkeypatch):
    """An office's data folder holds a file per upload: a backup hashes and copies each, a restore checks and
    writes each, a check hashes each; on a terminal a bar counts them."""
    import tongji.cli.serve_command as command
    from conftest import terminal

    screen = terminal(monkeypatch, command)
    assert invoke("serve", "backup", tmp_path / "备份.zip", "--data", world.data).exit_code == 0
    with zipfile.ZipFile(tmp_path / "备份.zip") as z:
        n = len(json.loads(z.read("manifest.json"))["files"]) - 1  # the tables are one more
    assert n >= 5 and f"写出备份 {'━' * 40} {n}/{n}" in screen.text()
    assert invoke("serve", "restore", tmp_path / "备份.zip", "--data", tmp_path / "restored").exit_code == 0
    assert f"核对并恢复备份 {'━' * 40} {2 * n}/{2 * n}" in screen.text()
    stored = len([p for p in (tmp_path / "restored" / "files").rglob("*") if p.is_file()])
    monkeypatch.setattr("tongji.cli.common.PROGRESS_MIN", 1)  # three uploads: too few for a bar to be seen
    assert invoke("serve", "check", "--data", tmp_path / "restored").exit_code == 0
    assert stored >= 3 and "核对上报的文件" in screen.text() and f"{stored}/{stored}" in screen.text()


def test_restore_refuses_a_folder_that_holds_data(world, tmp_path):
    backup(world.data, tmp_path / "b.zip")
    result = invoke("serve", "restore", tmp_path / "b.zip", "--data", world.data)
    assert result.exit_code == 2 and "只能恢复到空的数据文件夹" in result.output


def test_a_damaged_backup_restores_nothing(world, tmp_path):
    backup(world.data, tmp_path / "b.zip")
    damaged = None
    with zipfile.ZipFile(tmp_path / "b.zip") as src, zipfile.ZipFile(tmp_path / "bad.zip", "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if damaged is None and info.filename.startswith("files/") and info.filename.endswith(".xlsx"):
                body = body[:-10] + b"0123456789"  # a flipped tail: the zip is fine, the workbook is not
                damaged = info.filename
            dst.writestr(info, body)
    result = invoke("serve", "restore", tmp_path / "bad.zip", "--data", tmp_path / "restored")
    assert result.exit_code == 2 and "已损坏" in result.output and damaged in result.output
    assert not (tmp_path / "restored").exists()


def test_an_archive_cannot_write_outside_the_data_folder(world, tmp_path):
    body = b"x"
    manifest = {"format": 1, "tables": {}, "files": {"database.json": hashlib.sha256(b"{}").hexdigest(),
                                                      "../evil.txt": hashlib.sha256(body).hexdigest()}}
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("database.json", b"{}")
        z.writestr("../evil.txt", body)
        z.writestr("manifest.json", json.dumps(manifest))
    result = invoke("serve", "restore", tmp_path / "evil.zip", "--data", tmp_path / "restored")
    assert result.exit_code == 2 and "不是 tongji 门户的备份" in result.output
    assert not (tmp_path / "evil.txt").exists()


def test_check_finds_a_damaged_stored_file(tmp_path):
    world = make_world(tmp_path)
    unit = world.unit(STREET, 0)
    world.client(unit).upload(unit, world.workbook(unit, tmp_path))
    stored = next((world.data / "files").rglob("*.xlsx"))
    assert invoke("serve", "check", "--data", world.data).exit_code == 0
    stored.write_bytes(stored.read_bytes()[:-1] + b"!")
    result = invoke("serve", "check", "--data", world.data)
    assert result.exit_code == 1 and stored.name in result.output.replace("\n", "") and "已损坏" in result.output
    stored.unlink()
    result = invoke("serve", "check", "--data", world.data)
    assert result.exit_code == 1 and f"单位 {unit} 第 1 版" in result.output


def test_a_backup_taken_while_units_upload_is_consistent(tmp_path):
    """Uploads keep arriving while the backup runs: every submission the backup holds has its file in it."""
    world = make_world(tmp_path)
    units = [world.unit(STREET, n) for n in range(2)]
    clients = {u: world.client(u) for u in units}
    data = {u: world.workbook(u, tmp_path) for u in units}
    stop, uploaded = threading.Event(), [0]

    def keep_uploading():
        while not stop.is_set():
            for u in units:
                clients[u].upload(u, data[u])
                uploaded[0] += 1

    thread = threading.Thread(target=keep_uploading)
    thread.start()
    made = []
    try:
        while uploaded[0] < 8 and len(made) < 200:  # backups keep being taken while uploads keep arriving
            made.append(backup(world.data, tmp_path / f"b{len(made)}.zip"))
    finally:
        stop.set()
        thread.join()
    held = set()
    for m in made:
        with zipfile.ZipFile(m.path) as z:
            rows = json.loads(z.read("database.json"))
            names = set(z.namelist())
        assert all(f"files/{r['sha256'][:2]}/{r['sha256']}{r['suffix']}" in names for r in rows["submission"])
        held.add(len(rows["submission"]))
    assert len(held) > 1  # the backups did catch the uploads at different moments


def _populated(tmp, database=None):
    world = make_world(tmp, database)
    good, bad = world.unit(STREET, 0), world.unit(STREET, 1)
    world.client(good).upload(good, world.workbook(good, tmp))
    world.client(bad).upload(bad, world.workbook(bad, tmp, HY04=99999))
    street = world.client(STREET)
    with world.portal.db() as db:
        first = db.scalar(select(Submission).where(Submission.unit == good))
    street.get(f"/submissions/{first.id}")
    street.post(f"/submissions/{first.id}/review", {"action": "approve"})
    return world


def test_a_backup_of_either_database_restores_into_sqlite(tmp_path, database):
    """The backup holds rows, not a database file: one taken on PostgreSQL restores into SQLite, times intact."""
    world = _populated(tmp_path / "a", database)
    backup(world.data, tmp_path / "b.zip", database)
    restore(tmp_path / "b.zip", tmp_path / "restored")
    again = create_app(world.city.registry, "2025", data=tmp_path / "restored", spec=world.portal.spec)
    assert state(again) == state(world.app)
    with world.portal.db() as db, again.state.portal.db() as other:
        times = [s.uploaded_at for s in db.scalars(select(Submission).order_by(Submission.id))]
        assert [s.uploaded_at for s in other.scalars(select(Submission).order_by(Submission.id))] == times


def test_a_sqlite_backup_restores_into_either_database(tmp_path, database):
    """Restored into PostgreSQL, the next upload takes the next id: the sequences follow the restored rows."""
    world = _populated(tmp_path / "a")
    backup(world.data, tmp_path / "b.zip")
    restore(tmp_path / "b.zip", tmp_path / "restored", database)
    again = create_app(world.city.registry, "2025", data=tmp_path / "restored", database=database,
                       spec=world.portal.spec)
    assert state(again) == state(world.app)
    from portal_kit import World

    restored = World(world.city, again, dict(world.passwords), tmp_path / "restored", database)
    unit = world.unit(STREET, 1)
    restored.client(unit).upload(unit, world.workbook(unit, tmp_path))
    with again.state.portal.db() as db:
        ids = [s.id for s in db.scalars(select(Submission).order_by(Submission.id))]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) == len(state(world.app)["submissions"]) + 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_backup_file_that_is_not_there_is_said_so(tmp_path, lang):
    """A mistyped backup name: it is missing, not "not a tongji portal backup ([Errno 2] No such file ...)"."""
    result = invoke("--lang", lang, "serve", "restore", tmp_path / "门户备份.zip", "--data", tmp_path / "restored")
    assert result.exit_code == 2
    assert result.output.strip() == {"zh": f"错误：备份文件不存在：{tmp_path / '门户备份.zip'}",
                                     "en": f"Error: Backup file not found: {tmp_path / '门户备份.zip'}"}[lang]
    assert not (tmp_path / "restored").exists()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_file_that_is_not_a_backup_is_said_so_in_the_users_language(tmp_path, lang):
    """A workbook or a zip of something else chosen by mistake: one line in the user's language, no English
    exception text ("File is not a zip file", "There is no item named 'manifest.json' in the archive")."""
    (tmp_path / "not-a-zip.zip").write_text("hello")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("报表.txt", "x")
    said = {}
    for name in ("not-a-zip.zip", "other.zip"):
        result = invoke("--lang", lang, "serve", "restore", tmp_path / name, "--data", tmp_path / "restored")
        assert result.exit_code == 2 and not (tmp_path / "restored").exists()
        said[name] = result.output.strip()
    zh, en = "不是 tongji 门户的备份：", "is not a tongji portal backup: "
    assert said == {
        "zh": {"not-a-zip.zip": f"错误：{tmp_path / 'not-a-zip.zip'} {zh}它不是 zip 文件",
               "other.zip": f"错误：{tmp_path / 'other.zip'} {zh}其中没有备份清单 manifest.json"},
        "en": {"not-a-zip.zip": f"Error: {tmp_path / 'not-a-zip.zip'} {en}it is not a zip file",
               "other.zip": f"Error: {tmp_path / 'other.zip'} {en}it has no manifest.json"}}[lang]


@pytest.mark.parametrize(("manifest", "tables", "named"), [
    ([], {}, "manifest.json"),  # not an object
    ({"format": 1, "files": ["database.json"]}, {}, "manifest.json"),  # files not by name
    ({"format": 1}, [1, 2], "database.json"),  # tables not an object
    ({"format": 1}, {"account": [{"login": "x", "no_such_column": 1}]}, "database.json")])
def test_a_backup_whose_manifest_or_tables_are_malformed_is_refused_in_one_line(tmp_path, manifest, tables, named):
    """A hand-made or damaged archive whose hashes agree: one line naming the part that is wrong, exit code 2, and
    nothing restored; it crashed (exit code 3) on a manifest or tables of the wrong shape."""
    body = json.dumps(tables).encode("utf-8")
    if isinstance(manifest, dict) and "files" not in manifest:
        manifest = manifest | {"files": {"database.json": hashlib.sha256(body).hexdigest()}}
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as z:
        z.writestr("database.json", body)
        z.writestr("manifest.json", json.dumps(manifest))
    result = invoke("serve", "restore", tmp_path / "b.zip", "--data", tmp_path / "restored")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)  # no crash
    assert result.output.strip() == f"错误：{tmp_path / 'b.zip'} 不是 tongji 门户的备份（{named}）"
    assert not (tmp_path / "restored").exists()


def rezipped(source, target, change) -> None:
    """A copy of the backup `source` whose tables `change` edits, the manifest's hash of them made to agree."""
    with zipfile.ZipFile(source) as z:
        members = {name: z.read(name) for name in z.namelist()}
    rows = json.loads(members["database.json"])
    change(rows)
    members["database.json"] = json.dumps(rows, ensure_ascii=False).encode("utf-8")
    manifest = json.loads(members["manifest.json"])
    manifest["files"]["database.json"] = hashlib.sha256(members["database.json"]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode("utf-8")
    with zipfile.ZipFile(target, "w") as z:
        for name, body in members.items():
            z.writestr(name, body)


def test_a_restore_that_fails_halfway_leaves_the_folder_empty_to_try_again(world, tmp_path, monkeypatch):
    """A time the table cannot hold (a hand-edited archive whose hashes agree), or a disk that fills while the files
    are written: one line, exit code 2, and the data folder as empty as it was, so the restore can be run again;
    the first crashed (exit code 3), and either left a half-restored folder that refused a second try."""
    assert invoke("serve", "backup", tmp_path / "good.zip", "--data", world.data).exit_code == 0

    def bad_time(rows):
        row = rows["submission"][0]
        key = next(k for k, v in row.items() if isinstance(v, str) and re.match(r"\d{4}-\d\d-\d\dT", v))
        row[key] = "去年某天"

    rezipped(tmp_path / "good.zip", tmp_path / "bad.zip", bad_time)
    target = tmp_path / "restored"
    result = invoke("serve", "restore", tmp_path / "bad.zip", "--data", target)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.output.strip() == f"错误：{tmp_path / 'bad.zip'} 不是 tongji 门户的备份（database.json）"
    assert list(target.iterdir()) == []

    real, reads, written = zipfile.ZipFile.read, {}, []

    def full_disk(self, name, *args):  # each file is read twice: its hash checked, then written
        reads[name] = reads.get(name, 0) + 1
        if name.startswith("files/") and reads[name] == 2:
            written.append(name)
            if len(written) == 2:  # the disk fills as the second file is written
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, name, *args)

    with monkeypatch.context() as m:
        m.setattr(zipfile.ZipFile, "read", full_disk)
        result = invoke("serve", "restore", tmp_path / "good.zip", "--data", target)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit) and len(written) == 2
    said = "".join(result.output.split())
    assert said == f"错误：无法写入{target / written[1]}：磁盘已满"
    assert list(target.iterdir()) == []
    assert invoke("serve", "restore", tmp_path / "good.zip", "--data", target).exit_code == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_backup_never_replaces_an_earlier_one(world, tmp_path, lang):
    """The same name twice (a manual backup run again, a copied command line): the office's earlier backup stays."""
    earlier = tmp_path / "门户备份.zip"
    earlier.write_bytes(b"an earlier backup")
    result = invoke("--lang", lang, "serve", "backup", earlier, "--data", world.data)
    assert result.exit_code == 2
    assert result.output.strip() == {
        "zh": f"错误：备份文件 {earlier} 已存在，未覆盖：请换一个文件名",
        "en": f"Error: The backup file {earlier} exists already; it was not replaced: choose another name"}[lang]
    assert earlier.read_bytes() == b"an earlier backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["门户备份.zip"]


def test_a_backup_of_the_same_name_written_meanwhile_is_not_replaced(world, tmp_path, monkeypatch):
    """Two runs at once (a scheduled backup and one by hand): the name was free when this one began and taken
    before it was written. The other backup stays as it was, and this one says so and leaves nothing."""
    from tongji.errors import TongjiError
    from tongji.portal import backup as module

    out, snapshot = tmp_path / "门户备份.zip", module._snapshot

    def meanwhile(url):
        rows = snapshot(url)
        out.write_bytes(b"the other run's backup")
        return rows

    monkeypatch.setattr(module, "_snapshot", meanwhile)
    with pytest.raises(TongjiError) as exc:
        backup(world.data, out)
    assert exc.value.key == "backup-exists"
    assert out.read_bytes() == b"the other run's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["门户备份.zip"]


@pytest.mark.parametrize("command", ["serve", "accounts", "migrate", "backup", "restore"])
def test_a_file_where_a_folder_is_needed_is_one_line_not_a_crash(world, tmp_path, command):
    """`--data 门户.xlsx`, or a backup inside a file: the folder cannot be made there. It was tongji's crash
    (exit code 3, a traceback in a log) for a mistyped name."""
    import socket

    blocker = tmp_path / "门户.xlsx"
    blocker.write_text("x")
    with socket.socket() as s:  # a port free on this machine: serve stops before listening anyway
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if command == "restore":
        backup(world.data, tmp_path / "b.zip")
    registry = world.city.registry
    args = {"serve": ["serve", "-r", registry, "-p", "2025", "--data", blocker, "--port", port],
            "accounts": ["serve", "accounts", "-r", registry, "-p", "2025", "-o", tmp_path / "账号.xlsx",
                         "--data", blocker],
            "migrate": ["serve", "migrate", "--data", blocker],
            "backup": ["serve", "backup", blocker / "门户备份.zip", "--data", world.data],
            "restore": ["serve", "restore", tmp_path / "b.zip", "--data", blocker]}[command]
    result = invoke(*args)
    assert (result.exit_code, result.output.strip()) == (
        2, f"错误：无法写入 {blocker}：那里已有一个同名的文件，不能当作文件夹，请换一个名字"), result.exception
