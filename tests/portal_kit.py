"""A small city behind the portal, and a browser-like client that signs in as any of its accounts."""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.testclient import TestClient

from tongji.portal import create_app
from tongji.portal.accounts import create_accounts
from tongji.testing import City, fill_template, load_plugin, make_city

PASSWORD = "unit-password-1"
STREET, OTHER_STREET, DISTRICT, CITY = "330106001", "330106002", "330106", "330100"


@dataclass
class World:
    city: City
    app: object
    passwords: dict[str, str]
    data: Path
    database: str | None = None  # a SQLAlchemy URL; None: SQLite in the data folder

    def options(self) -> list[str]:
        """`--data` and, on another database, `--database`, for a `tongji serve` command line."""
        return ["--data", str(self.data), *(["--database", self.database] if self.database else [])]

    @property
    def portal(self):
        return self.app.state.portal

    def unit(self, street: str = STREET, n: int = 0) -> str:
        return [c for c, u in self.city.units.items() if u["上级代码"] == street][n]

    def workbook(self, code: str, tmp: Path, **values) -> bytes:
        """`code`'s filled workbook, with `values` changed (HY04=999 makes an error)."""
        if not values:
            return self.city.files[code].read_bytes()
        return fill_template(self.city.files[code], values, out=tmp / f"{code}-changed.xlsx").read_bytes()

    def client(self, login: str, change_password: bool = True) -> Browser:
        browser = Browser(TestClient(self.app, follow_redirects=True))
        browser.sign_in(login, self.passwords[login])
        if change_password and "/password" in browser.last.url.path:
            browser.post("/password", {"password": PASSWORD, "again": PASSWORD})
            self.passwords[login] = PASSWORD
        return browser


class Browser:
    """A TestClient that keeps the CSRF token of the last page, as a browser's form would."""

    def __init__(self, client: TestClient):
        self.client, self.csrf, self.last = client, "", None

    def _seen(self, response):
        self.last = response
        found = re.search(r'name="csrf" value="([^"]+)"', response.text) if "html" in response.headers.get(
            "content-type", "") else None
        if found:
            self.csrf = found.group(1)
        return response

    def get(self, url: str, **kw):
        return self._seen(self.client.get(url, **kw))

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf", self.csrf)
        return self._seen(self.client.post(url, data=data, **kw))

    def sign_in(self, login: str, password: str):
        self.get("/login")
        return self.post("/login", {"login": login, "password": password})

    def upload(self, code: str, content: bytes, name: str = "报表.xlsx"):
        self.get(f"/units/{code}")
        return self.post(f"/units/{code}/upload", files={"file": (name, content)})


def make_world(tmp: Path, database: str | None = None, deadline: str | None = "2099-01-20", **city) -> World:
    """A city and its portal; `database` is the `database` fixture's URL (None: SQLite in the data folder)."""
    host = load_plugin(builtins_only=True)
    made = copy_city(tmp / "city", host, **city)
    app = create_app(made.registry, made.period, data=tmp / "data", database=database, deadline=deadline,
                     spec=host.spec)
    with app.state.portal.db() as db:
        passwords = {a["login"]: a["password"] for a in create_accounts(db, app.state.portal.registry)}
    return World(made, app, passwords, tmp / "data", database)


_MADE: dict[str, City] = {}  # in this process: each city asked for, made once (openpyxl takes 1.5 s a city)


def copy_city(root: Path, host, **city) -> City:
    """`make_city(root, host, **city)`, copied from the same city made earlier in this process. The city's files
    depend only on its arguments (no callables here), so the copy is what making it again would write."""
    key = repr(sorted(city.items()))
    if key not in _MADE:
        folder = Path(tempfile.mkdtemp(prefix="tongji-city-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _MADE[key] = make_city(folder / "city", host, **city)
    made = _MADE[key]
    shutil.copytree(made.root, root)

    def moved(path: Path) -> Path:
        return root / path.relative_to(made.root)

    return replace(made, root=root, registry=moved(made.registry), folder=moved(made.folder),
                   units={code: dict(row) for code, row in made.units.items()},
                   files={code: moved(path) for code, path in made.files.items()})
