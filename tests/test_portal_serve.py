"""`tongji serve` and `tongji demo --serve` as a user runs them: real processes, real sockets."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import openpyxl
import pytest
from typer.testing import CliRunner

from conftest import terminal
from portal_kit import make_world
from tongji.cli import _register, app
from tongji.portal.migrate import shown_url


def run(*args: str):
    _register()
    return CliRunner().invoke(app, list(args))


def test_serve_without_a_registry_is_one_chinese_line_and_exit_2():
    result = run("serve", "--period", "2025")
    assert result.exit_code == 2 and "启动门户需要 --registry 和 --period" in result.output


def test_a_malformed_deadline_is_said(tmp_path):
    world = make_world(tmp_path)
    result = run("serve", "-r", str(world.city.registry), "-p", "2025", "--deadline", "1月20日",
                 "--data", str(tmp_path / "d"))
    assert result.exit_code == 2 and "截止日期“1月20日”格式不对" in result.output


def test_a_deadline_in_an_implausible_year_is_said(tmp_path, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kw: None)  # had it started, the test ends all the same
    world = make_world(tmp_path)
    result = run("serve", "-r", str(world.city.registry), "-p", "2025", "--deadline", "9999-12-31",
                 "--data", str(tmp_path / "d"))
    assert result.exit_code == 2 and "截止日期“9999-12-31”不在 2000 年至 2100 年之间" in result.output


@pytest.mark.parametrize("taken", [True, False], ids=["in-use", "out-of-range"])
def test_a_port_that_cannot_be_listened_on_is_one_line_and_exit_2(tmp_path, monkeypatch, taken):
    """A port another program holds (an earlier portal still running), or none at all (99999): said before the
    portal says it is running, not an internal error with uvicorn's traceback (exit 3)."""
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kw: None)  # had it started, the test ends all the same
    world = make_world(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1] if taken else 99999
        result = run("serve", "-r", str(world.city.registry), "-p", "2025", "--data", str(tmp_path / "d"),
                     "--port", str(port))
    assert result.exit_code == 2, result.output
    why = "已被占用（门户可能已经在运行）" if taken else "应在 1 到 65535 之间"
    assert result.output.strip() == f"错误：无法在 127.0.0.1:{port} 上启动门户：端口{why}，可用 --port 换一个端口"
    assert "已启动" not in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_port_below_1024_without_the_right_to_it_is_said_in_the_users_language(tmp_path, monkeypatch, lang):
    """--port 80 as an ordinary user: the system refuses with "Permission denied", in English whatever --lang
    says. (Tests run as root, who may listen there: the refusal is made here.)"""
    import errno

    class Refusing(socket.socket):
        def bind(self, address):
            raise PermissionError(errno.EACCES, "Permission denied")
    world = make_world(tmp_path)
    monkeypatch.setattr(socket, "socket", Refusing)
    result = run("--lang", lang, "serve", "-r", str(world.city.registry), "-p", "2025", "--data",
                 str(tmp_path / "d"), "--host", "0.0.0.0", "--port", "80")
    assert result.exit_code == 2, result.output
    assert result.output.strip() == {
        "zh": "错误：无法在 0.0.0.0:80 上启动门户：1024 以下的端口要有管理员权限才能使用，"
              "可用 --port 换一个端口（如 8000）",
        "en": "Error: Cannot start the portal on 0.0.0.0:80: a port below 1024 needs administrator rights; choose "
              "another with --port (such as 8000)"}[lang]


def test_a_unit_code_too_long_for_the_database_is_said_before_anything_is_kept(tmp_path, database):
    world = make_world(tmp_path)
    unit = world.unit()
    long = unit + "0" * (33 - len(unit))  # 33 characters: PostgreSQL would refuse it at the first account
    world.city.registry.write_text(world.city.registry.read_text(encoding="utf-8").replace(unit, long),
                                   encoding="utf-8")
    result = run("serve", "accounts", "-r", str(world.city.registry), "-p", "2025", "-o", str(tmp_path / "a.xlsx"),
                 "--data", str(tmp_path / "served"), *(["--database", database] if database else []))
    assert result.exit_code == 2 and f"名册中这些单位代码超过 32 个字符，门户无法保存：{long}" in result.output
    assert not (tmp_path / "a.xlsx").exists()


def test_serve_accounts_writes_a_list_whose_passwords_sign_in(tmp_path, database):
    world = make_world(tmp_path)  # the city's own portal on SQLite; the served one on `database`
    data, out = tmp_path / "served", tmp_path / "账号.xlsx"
    on = ["--database", database] if database else []
    result = run("serve", "accounts", "-r", str(world.city.registry), "-p", "2025", "-o", str(out), "--data", str(data),
                 *on)
    assert result.exit_code == 0, result.output
    where = shown_url(database) if database else data  # a first list is said to be a new portal's (a mistyped --data)
    assert f"这是一个新门户：{where}中原来没有账号" in "".join(result.output.split())
    rows = list(openpyxl.load_workbook(out)["账号清单"].iter_rows(values_only=True))
    assert rows[0] == ("单位代码", "单位名称", "层级", "账号", "一次性密码")
    logins = {r[3]: r[4] for r in rows[1:]}
    assert set(logins) == {"admin", *world.city.units}
    again = run("serve", "accounts", "-r", str(world.city.registry), "-p", "2025", "-o", str(tmp_path / "2.xlsx"),
                "--data", str(data), *on)
    assert again.exit_code == 0 and "已生成 0 个账号" in again.output  # nobody's password changes by accident
    assert "新门户" not in again.output
    english = run("--lang", "en", "serve", "accounts", "-r", str(world.city.registry), "-p", "2025", "-o",
                  str(tmp_path / "en.xlsx"), "--data", str(data), "--reset", *on)
    assert english.exit_code == 0 and "One-time passwords for" in english.output and "new portal" not in english.output
    rows = list(openpyxl.load_workbook(tmp_path / "en.xlsx")["账号清单"].iter_rows(values_only=True))
    assert rows[0] == ("Unit code", "Unit name", "Level", "Login", "One-time password")
    logins = {r[3]: r[4] for r in rows[1:]}  # --reset: these are the passwords now

    from starlette.testclient import TestClient

    from tongji.portal import create_app

    served = create_app(world.city.registry, "2025", data=data, database=database)
    client = TestClient(served)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    unit = next(iter(world.city.grassroots()))
    page = client.post("/login", data={"csrf": token, "login": unit, "password": logins[unit]})
    assert page.url.path == "/password"  # a one-time password must be changed first


def test_serve_accounts_shows_progress_while_it_hashes(tmp_path, monkeypatch):
    """argon2 takes some 40 ms a password here: a 10,000-unit city's list takes minutes, with a bar on a terminal."""
    import tongji.cli.serve_command as command

    world = make_world(tmp_path)
    screen = terminal(monkeypatch, command)
    result = run("serve", "accounts", "-r", str(world.city.registry), "-p", "2025", "-o", str(tmp_path / "a.xlsx"),
                 "--data", str(tmp_path / "served"))
    n, shown = len(world.city.units) + 1, screen.text()  # and the administrator
    assert result.exit_code == 0 and f"已生成{n}个账号" in "".join(shown.split())
    assert f"生成账号和一次性密码 {'━' * 40} {n}/{n}" in shown


@pytest.mark.parametrize("where", ["folder", "inside-a-file"])
def test_an_account_list_that_cannot_be_written_gives_nobody_a_password(tmp_path, where):
    """The one-time passwords were kept (hashed) before the list was written: a list that could not be written
    left every account with a password nobody has, and the next run made none (已生成 0 个账号)."""
    world = make_world(tmp_path)
    (tmp_path / "名册.xlsx").write_text("x")
    out = {"folder": tmp_path, "inside-a-file": tmp_path / "名册.xlsx" / "账号.xlsx"}[where]
    args = ["serve", "accounts", "-r", str(world.city.registry), "-p", "2025", "--data", str(tmp_path / "served")]
    result = run(*args, "-o", str(out))
    assert result.exit_code == 2
    said = {"folder": f"错误：无法写入 {tmp_path}：那里是一个文件夹，请给出文件名",
            "inside-a-file": f"错误：无法写入 {tmp_path / '名册.xlsx'}：那里已有一个同名的文件，"
                             "不能当作文件夹，请换一个名字"}
    assert result.output.strip() == said[where]
    again = run(*args, "-o", str(tmp_path / "账号.xlsx"))
    assert again.exit_code == 0 and f"已生成 {len(world.city.units) + 1} 个账号" in again.output, again.output

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    env = {**os.environ, "TONGJI_WORKERS": "1"}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", "from tongji.cli import main; main()", "demo",
                                    str(tmp_path / "demo"), "--serve", "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            httpx2.get(url + "/login", timeout=1)
            break
        except httpx2.TransportError:
            if process.poll() is not None:
                pytest.fail(log.read_text(encoding="utf-8"))
            time.sleep(0.3)
    yield url, log
    process.terminate()
    process.wait(10)


def test_demo_serve_answers_on_localhost_with_a_realistic_state(demo_server):
    url, log = demo_server
    assert "所有演示账号的密码都是 tongji2025" in log.read_text(encoding="utf-8")
    def sign_in(client, login):
        page = client.get("/login")
        assert page.status_code == 200 and "frame-ancestors 'none'" in page.headers["content-security-policy"]
        token = client.cookies["tongji_login_csrf"]
        return client.post("/login", data={"csrf": token, "login": login, "password": "tongji2025"})

    with httpx2.Client(base_url=url, follow_redirects=True) as client:
        board = sign_in(client, "330106001")
        assert board.url.path == "/board/330106001"
        states = re.findall(r'<td class="state-(\S+?)">', board.text)
        assert {"已审核", "退回"} <= set(states)
        assert client.get("/board/330106").status_code == 404  # a 街道 does not see its 区
    with httpx2.Client(base_url=url, follow_redirects=True) as client:
        district = sign_in(client, "330106")
        assert district.url.path == "/board/330106"
        assert "已上报" in district.text and "未上报" in district.text



def test_the_demo_portal_fills_the_database_it_is_given_once(tmp_path, database):
    """`tongji demo --serve --database URL`: the demo's accounts and uploads go into that database (no SQLite file
    beside the data), and a second start keeps what is there instead of filling it again."""
    from sqlalchemy import func, select

    from tongji.portal.db import Account, Submission
    from tongji.portal.demo_state import demo_portal

    data = tmp_path / "门户"
    portal = demo_portal(data, database=database).state.portal
    with portal.db() as db:
        made = db.scalar(select(func.count()).select_from(Submission))
        assert made > 100 and db.scalar(select(Account).where(Account.login == "330106001")) is not None
    assert (data / "portal.db").exists() == (database is None)
    with demo_portal(data, database=database).state.portal.db() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == made


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc to find the child process")
def test_the_checking_process_goes_when_the_server_is_killed(tmp_path, database):
    world = make_world(tmp_path, database)
    port = free_port()
    registry = str(world.city.registry)
    server = subprocess.Popen([sys.executable, "-c", "from tongji.cli import main; main()", "serve", "-r", registry,
                               "-p", "2025", *world.options(), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx2.get(url + "/login", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.1)
        unit = world.unit()
        with httpx2.Client(base_url=url, follow_redirects=True, timeout=60) as client:
            client.get("/login")
            client.post("/login", data={"csrf": client.cookies["tongji_login_csrf"], "login": unit,
                                        "password": world.passwords[unit]})
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/password").text).group(1)
            client.post("/password", data={"csrf": token, "password": "new-password-1", "again": "new-password-1"})
            token = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/units/{unit}").text).group(1)
            page = client.post(f"/units/{unit}/upload", data={"csrf": token},
                               files={"file": ("a.xlsx", world.workbook(unit, tmp_path))})
            assert 'id="verdict">通过<' in page.text
        checking = [p for p in children(server.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
        if (os.cpu_count() or 1) > 1:
            assert len(checking) == 1
    finally:
        server.kill()
        server.wait(10)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in checking) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in checking)


def test_the_english_demo_portals_first_summary_is_in_english(tmp_path):
    """`tongji --lang en demo --serve`: the summary the first 街道 made and reported up is written in English, as
    every page around it is and as a summary made there later is."""
    from tongji.portal.demo_state import demo_portal
    from tongji.portal.node_summary import last_made, summary_file

    portal = demo_portal(tmp_path / "门户", lang="en").state.portal
    with portal.db() as db:
        made = last_made(db, "330106001", "2025")
        path = summary_file(portal, made)
    assert '<html lang="en">' in (path.parent / "330106001_2025_报告.html").read_text(encoding="utf-8")
    portal.dispose()
