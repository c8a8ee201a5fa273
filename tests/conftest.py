"""Shared fixtures. Each block below belongs to one test module; keep additions in their own block."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from tongji.definitions.codes import uscc_check_char
from tongji.i18n import set_lang

os.environ["TONGJI_ENTRY_POINTS"] = "0"  # plugins pip-installed on this machine must not change the tests
os.environ.pop("TONGJI_PLUGINS_DIR", None)
os.environ.pop("TONGJI_LOAD_PLUGINS", None)


@pytest.fixture(autouse=True)
def _default_plugins():
    """A test that loads plugins gets the built-in host back afterwards."""
    from tongji import plugins

    before = plugins._host
    yield
    if plugins._host is not before:
        plugins._host = None


@pytest.fixture(autouse=True)
def _cli_commands():
    """The CLI's subcommands are added to its app on the first main() (lazily, for a quick --help); a test driving
    `cli.app` with CliRunner must not depend on an earlier test in its worker process having done so."""
    from tongji import cli

    cli._register()


@pytest.fixture(autouse=True)
def _chinese(monkeypatch):
    """Every test starts in Chinese: --lang en sets a module-level language that must not leak."""
    monkeypatch.delenv("TONGJI_LANG", raising=False)
    set_lang(None)
    yield
    set_lang(None)


# --- template fixtures (tests/test_template.py) ---------------------------------------------------


def uscc(first17: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return first17 + uscc_check_char(first17)


# 1 市, 1 区, 1 街道 (its own registry code, with a leading zero), 3 基层 (one revoked).
TEMPLATE_UNITS = {
    "city": uscc("81330100MC0000011"),
    "district": uscc("81330106MC0000021"),
    "street": "0106001",
    "g1": uscc("81330106MC0000101"),
    "g2": uscc("81330106MC0000102"),
    "g3": uscc("81330106MC0000103"),
}


def write_template_registry(folder: Path) -> Path:
    """A registry CSV as a statistician would keep it (names with a slash, one 撤销 unit)."""
    u = TEMPLATE_UNITS
    lines = [
        "单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态",
        f"{u['city']},示例市总工会,,市,,330100000000,正常",
        f"{u['district']},示例区总工会,{u['city']},区,,330106000000,正常",
        f"{u['street']},示例街道总工会,{u['district']},街道,,330106001000,正常",
        f"{u['g1']},甲公司（A/B厂）工会,{u['street']},基层,,330106001001,正常",
        f"{u['g2']},乙园区联合工会,{u['street']},基层,2,330106001002,正常",
        f"{u['g3']},丙公司工会,{u['street']},基层,1,330106001003,撤销",
    ]
    path = folder / "名册.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def template_registry(tmp_path) -> Path:
    return write_template_registry(tmp_path)


# --- end of template fixtures ---------------------------------------------------------------------


# --- portal databases (tests/test_portal.py, tests/test_portal_serve.py, tests/test_portal_database.py) -------


def _postgres_bin() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    import shutil

    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(shutil.which("initdb")).parent
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]) if
                   p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server on a unix socket in a temporary folder, for the whole session. Yields the
    folder holding the socket, or the reason none could be started (a string), so tests can skip saying why."""
    import shutil
    import subprocess
    import tempfile

    binaries = _postgres_bin()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        yield "psycopg is not installed"
        return
    if binaries is None:
        yield "PostgreSQL is not installed (initdb and pg_ctl not found; apt-get install postgresql)"
        return
    as_user = []
    folder = Path(tempfile.mkdtemp(prefix="tongji-pg-"))  # not under pytest's folder: the server's user reads it
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            yield "running as root and there is no postgres user to run the server as"
            return
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    started = False
    try:
        subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, timeout=120)
        options = f"-k {folder} -c listen_addresses='' -c fsync=off -c max_connections=200"
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                        str(folder / "server.log"), "-w", "-t", "60", "start"], check=True, capture_output=True,
                       timeout=120)
        started = True
        yield folder
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        yield f"PostgreSQL could not be started: {exc} {detail.decode(errors='replace')[-300:]}"
    finally:
        if started:
            subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request):
    """The portal's database URL: None (SQLite in the data folder, the default) or a new, empty PostgreSQL
    database on the session's server, its sessions in Asia/Shanghai. Engines opened during the test are held,
    then closed before it is dropped: one collected with open connections would leave psycopg warning of them in
    some later test."""
    if request.param == "sqlite":
        yield None
        return
    import uuid

    from sqlalchemy import create_engine, event, text
    from sqlalchemy.engine import Engine

    server = request.getfixturevalue("postgres_server")
    if isinstance(server, str):
        pytest.skip(server)
    admin = create_engine(f"postgresql+psycopg://postgres@/postgres?host={server}", isolation_level="AUTOCOMMIT")
    name = f"portal_{uuid.uuid4().hex[:12]}"
    engines: dict[int, Engine] = {}

    def seen(connection) -> None:
        engines.setdefault(id(connection.engine), connection.engine)

    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # sessions read times in Beijing, as on an office's server: the portal's UTC must not depend on it
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Shanghai'"))
    event.listen(Engine, "engine_connect", seen)
    try:
        yield f"postgresql+psycopg://postgres@/{name}?host={server}"
    finally:
        event.remove(Engine, "engine_connect", seen)
        for engine in engines.values():
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


# --- progress bars (the commands' tests): what a command shows on a terminal ---


class Screen(io.StringIO):
    def text(self) -> str:
        """What was shown, without the terminal's colour and cursor codes."""
        return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", self.getvalue())


def terminal(monkeypatch, command) -> Screen:
    """`command` (a module of tongji.cli) prints to a 100-column terminal, where progress bars are drawn."""
    from rich.console import Console

    screen = Screen()
    monkeypatch.setattr(command, "console", lambda: Console(file=screen, force_terminal=True, width=100))
    return screen
