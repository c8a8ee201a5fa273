"""The deployment files (deploy/, docs/deploy.md) agree with each other and with tongji: they are read as text,
so a renamed option, port or limit fails here before it fails on a server; and deploy/nginx.conf is run, in front
of a real `tongji serve`, where nginx is installed (.ci/run installs it)."""

from __future__ import annotations

import configparser
import inspect
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import httpx2
import pytest
from typer.main import get_command

from portal_kit import make_world
from server_kit import Server, csrf, free_port
from tongji.cli import _register, app
from tongji.portal.service import UPLOAD_LIMIT
from tongji.portal.web import Web

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
DOC = Path(__file__).resolve().parent.parent / "docs" / "deploy.md"
PORT = "8000"


def unit_file(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def options_of(*words: str) -> set[str]:
    """The options `tongji WORDS...` takes, from the CLI itself."""
    _register()
    command = get_command(app)
    for word in words:
        command = command.commands[word]
    return {o for p in command.params for o in p.opts}


def tongji_commands(line: str) -> list[list[str]]:
    """Every `tongji ...` command in a line, as words, up to a shell operator or the end of a quoted script."""
    found = []
    for match in re.finditer(r"(?:^|[\s'/])tongji ((?:serve|validate|rollup)[^'&;|\n]*)", line):
        found.append(shlex.split(match.group(1).replace("\\\n", " ")))
    return found


def check_command(words: list[str]) -> None:
    """The command's sub-commands exist and every option it uses is one they take."""
    path = [w for w in words[:2] if not w.startswith("-") and w in ("serve", "migrate", "backup", "check",
                                                                    "restore", "accounts")]
    known = options_of(*path)
    used = {w.split("=")[0] for w in words if w.startswith("--")}
    assert used <= known, (words, used - known)


def test_the_systemd_units_run_commands_tongji_has():
    service = unit_file("tongji.service")
    start = service["Service"]["ExecStart"]
    assert start.startswith("/opt/tongji/venv/bin/tongji serve ")
    words = shlex.split(start)
    check_command(words[1:])
    assert words[words.index("--host") + 1] == "127.0.0.1" and words[words.index("--port") + 1] == PORT
    assert words[words.index("--data") + 1] == service["Service"]["ReadWritePaths"] == "/srv/tongji"
    assert service["Install"]["WantedBy"] == "multi-user.target"
    check_command(shlex.split(service["Service"]["ExecStartPre"])[1:])
    backup = unit_file("tongji-backup.service")
    for key in ("ExecStart", "ExecStartPost"):
        for words in tongji_commands(backup["Service"][key]):
            check_command(words)
    assert "tongji serve backup" in backup["Service"]["ExecStart"]
    timer = unit_file("tongji-backup.timer")
    assert re.fullmatch(r"\*-\*-\* [\d,]+:\d\d:\d\d", timer["Timer"]["OnCalendar"])
    assert timer["Install"]["WantedBy"] == "timers.target"


def nginx_blocks(text: str) -> list[str]:
    """nginx.conf's statements: comments dropped, braces balanced, every directive ended with a semicolon."""
    body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    depth = 0
    for char in body:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    for line in body.splitlines():
        line = line.strip()
        assert not line or line.endswith(("{", "}", ";")), line
    return [s.strip() for s in re.split(r";|\{|\}", body) if s.strip()]


def test_nginx_forwards_to_the_portal_with_tls_its_headers_and_its_upload_limit():
    statements = nginx_blocks((DEPLOY / "nginx.conf").read_text(encoding="utf-8"))
    assert f"server 127.0.0.1:{PORT}" in statements and "proxy_pass http://tongji" in statements
    assert "listen 443 ssl" in statements and "return 301 https://$host$request_uri" in statements
    assert any(s.startswith("ssl_certificate ") for s in statements)
    for header in ("Host $host", "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme"):
        assert f"proxy_set_header {header}" in statements
    size = next(s.split()[1] for s in statements if s.startswith("client_max_body_size"))
    allowed = int(size.rstrip("m")) * 2**20
    posted = UPLOAD_LIMIT + 64 * 1024  # what the upload form may carry (Web.upload: the file and the form)
    assert posted <= allowed < UPLOAD_LIMIT + 2 * 2**20, size
    assert "upload_limit + 64 * 1024" in inspect.getsource(Web.upload)
    timeouts = {s.split()[0]: int(s.split()[1].rstrip("s")) for s in statements if s.endswith("s") and
                s.split()[0] in ("proxy_read_timeout", "proxy_send_timeout")}
    assert timeouts and min(timeouts.values()) >= 60


def yaml_keys(text: str) -> dict[str, str]:
    """compose.yaml as dotted keys → values, read as the indentation says (two spaces a level, no tabs)."""
    keys, stack = {}, []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line.lstrip().startswith("- "):
            continue
        assert "\t" not in line
        indent = len(line) - len(line.lstrip())
        match = re.match(r"\s*([\w.-]+):(?:\s+(.*))?$", line)
        if match is None:
            continue  # the continuation of a folded value
        assert indent % 2 == 0, line
        stack = stack[:indent // 2] + [match.group(1)]
        keys[".".join(stack)] = (match.group(2) or "").strip().strip('"')
    return keys


def test_the_compose_file_runs_the_portal_on_its_postgresql():
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    keys = yaml_keys(text)
    assert keys["services.db.image"].startswith("postgres:")
    user, db = keys["services.db.environment.POSTGRES_USER"], keys["services.db.environment.POSTGRES_DB"]
    url = keys["services.tongji.environment.TONGJI_DATABASE"]
    assert re.fullmatch(rf"postgresql\+psycopg://{user}:\$\{{TONGJI_DB_PASSWORD\}}@db:5432/{db}", url), url
    assert keys["services.tongji.depends_on.db.condition"] == "service_healthy"
    assert f'"127.0.0.1:{PORT}:{PORT}"' in text  # published on the host's loopback only, where nginx reaches it
    command = text.split("command: >-", 1)[1].split("ports:", 1)[0]
    script = " ".join(line.strip() for line in command.splitlines()).replace("$$", "$")
    runs = tongji_commands(script)
    assert [w[:2] for w in runs] == [["serve", "migrate"], ["serve", "--registry"]]
    for words in runs:
        check_command(words)
    assert runs[1][runs[1].index("--port") + 1] == PORT
    assert (DEPLOY / keys["services.tongji.build.dockerfile"].removeprefix("deploy/")).exists()
    assert set(re.findall(r"^  ([\w-]+):$", text.split("\nvolumes:", 1)[1], re.M)) == {"tongji-db", "tongji-data"}


@pytest.mark.parametrize("name", ["tongji.service", "tongji-backup.service", "tongji-backup.timer", "nginx.conf",
                                  "compose.yaml", "Dockerfile"])
def test_the_deployment_guide_names_each_file(name):
    assert f"deploy/{name}" in DOC.read_text(encoding="utf-8")


def test_the_guides_commands_are_tongjis():
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", text, re.S)
    runs = [words for block in blocks for line in block.replace("\\\n", " ").splitlines()
            for words in tongji_commands(line)]
    assert len(runs) >= 5
    for words in runs:
        check_command(words)


NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(NGINX is None or OPENSSL is None, reason="nginx or openssl is absent (.ci/run installs them)")
def test_a_unit_uploads_through_nginx_with_tls_and_reads_the_portals_own_messages(tmp_path):
    """deploy/nginx.conf as it is, only its ports, certificate and server name changed for the test, in front of a
    real `tongji serve`: the redirect to https, the portal's pages and headers through TLS, a verdict, and an upload
    over the portal's limit answered by the portal, not by nginx."""
    world = make_world(tmp_path)
    server = Server(world, tmp_path / "serve.log").start()
    nginx = tmp_path / "nginx"
    (nginx / "logs").mkdir(parents=True)
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(nginx / "tongji.key"), "-out", str(nginx / "tongji.crt")],
                   check=True, capture_output=True)
    plain, tls = free_port(), free_port()
    site = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    for old, new in ((f"127.0.0.1:{PORT}", f"127.0.0.1:{server.port}"), ("listen 80;", f"listen 127.0.0.1:{plain};"),
                     ("listen 443 ssl;", f"listen 127.0.0.1:{tls} ssl;"), ("/etc/nginx/tls/", f"{nginx}/"),
                     ("tongji.example.gov.cn", "localhost")):
        assert old in site
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)  # a machine without IPv6
    temp = " ".join(f"{k}_temp_path {nginx}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (nginx / "nginx.conf").write_text(
        f"user root; daemon off; pid {nginx}/nginx.pid; error_log {nginx}/logs/error.log;\n"
        f"events {{ worker_connections 64; }}\nhttp {{ access_log off; {temp}\n{site}\n}}\n", encoding="utf-8")
    with (nginx / "logs" / "out.log").open("wb") as out:
        proxy = subprocess.Popen([NGINX, "-p", str(nginx), "-c", str(nginx / "nginx.conf")], stdout=out,
                                 stderr=subprocess.STDOUT)
    try:
        url = f"https://127.0.0.1:{tls}"
        for _ in range(100):
            try:
                httpx2.get(url + "/login", verify=False, timeout=2)
                break
            except httpx2.TransportError:
                assert proxy.poll() is None, (nginx / "logs" / "out.log").read_text(encoding="utf-8")
                time.sleep(0.1)
        moved = httpx2.get(f"http://127.0.0.1:{plain}/login", headers={"Host": "localhost"}, timeout=5)
        assert moved.status_code == 301 and moved.headers["location"] == "https://localhost/login"

        cookies = httpx2.get(url + "/login", verify=False, timeout=5).headers.get_list("set-cookie")
        assert cookies and all("secure" in c.lower() for c in cookies)  # the portal knows it is behind TLS
        unit = world.unit()
        me = server.client(unit, url, verify=False)
        page = me.get(f"/units/{unit}")
        assert page.status_code == 200 and str(page.url).startswith(url)
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        token = csrf(page.text)
        page = me.post(f"/units/{unit}/upload", data={"csrf": token},
                       files={"file": ("报表.xlsx", world.workbook(unit, tmp_path))})
        assert page.status_code == 200 and 'id="verdict">通过<' in page.text
        page = me.get(f"/units/{unit}")
        big = b"PK\x03\x04" + b"\0" * (UPLOAD_LIMIT + 1)
        page = me.post(f"/units/{unit}/upload", data={"csrf": csrf(page.text)}, files={"file": ("大.xlsx", big)})
        assert page.status_code == 413 and "文件超过 20 MB" in page.text and "nginx" not in page.text
    finally:
        proxy.terminate()
        proxy.wait(30)
        server.stop()


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is absent")
def test_systemd_reads_the_units_without_a_complaint(tmp_path):
    """systemd's own reader: no unknown key or section, no bad value; the only complaint allowed is that the
    program the units start (/opt/tongji/venv/bin/tongji) is not installed on this computer."""
    names = ["tongji.service", "tongji-backup.service", "tongji-backup.timer"]
    for name in names:
        shutil.copy(DEPLOY / name, tmp_path / name)
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", *names], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert said, "systemd-analyze said nothing: it did not check the ExecStart lines"
    absent = re.compile(r"[\w.-]+\.service: Command /opt/tongji/venv/bin/tongji is not executable: .*")
    assert [line for line in said if not absent.fullmatch(line)] == []
