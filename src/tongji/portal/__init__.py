"""The collection portal (`tongji serve`): units submit and see at once what is wrong; statisticians review,
approve and roll up in a browser. `create_app` returns the ASGI app; uvicorn serves it."""

from __future__ import annotations

import time
from pathlib import Path

from tongji.definitions.codes import canonical_period
from tongji.definitions.forms import Spec
from tongji.definitions.registry import Registry, load_registry


def create_app(registry: str | Path | Registry, period: str, *, data: str | Path = "tongji-portal",
               database: str | None = None, deadline: str | None = None, spec: Spec | None = None,
               lang: str = "zh", check_process: bool = False, settled: bool = False):
    """The portal's ASGI app for one collection.

    Args:
        registry: the 名册 (a path or a loaded Registry): who reports, and the tree of nodes.
        period: the report period (2025, 2025Q2, 2025-06).
        data: the folder holding the uploaded files, annotated copies, summaries and (by default) the database.
        database: a SQLAlchemy URL; by default SQLite in `data`/portal.db.
        deadline: the last day to report (YYYY-MM-DD), for 迟报 and 及时率; the administrator may change it.
        spec: forms, rules and writers (default: the built-in ones and the configured plugins).
        lang: "zh" or "en", for every page.
        check_process: check uploads in a process of its own (started with the server), so that checking and
            answering pages use two cores; `tongji serve` does where there are two.
        settled: keep the period and deadline the database holds (a worker process, started or restarted after
            `tongji serve` stored them and the administrator perhaps changed them); `period` is then only a default.
    """
    from datetime import date

    from tongji.errors import TongjiError
    from tongji.i18n import Items
    from tongji.plugins import load_spec
    from tongji.portal.db import UNIT, open_database
    from tongji.portal.service import Portal, deadline_date, settle
    from tongji.portal.store import Store
    from tongji.portal.web import make_app
    from tongji.writing.files import ensure_dir

    if deadline is not None:
        try:
            day = date.fromisoformat(str(deadline))
        except ValueError:
            raise TongjiError("deadline-invalid", deadline=deadline) from None
        if deadline_date(day.isoformat()) is None:
            raise TongjiError("deadline-implausible", deadline=deadline)
        deadline = day.isoformat()
    data = Path(data)
    for sub in ("tmp", "annotated", "exports", "rollups", "templates"):
        ensure_dir(data / sub)  # a file named as the data folder is said, not tongji's crash
    registry = registry if isinstance(registry, Registry) else load_registry(registry)
    long_codes = [c for c in registry.frame["单位代码"].to_list() if len(c) > UNIT]
    if long_codes:
        raise TongjiError("portal-code-long", n=UNIT, codes=Items(long_codes[:5]))
    spec = spec or load_spec()
    spec.check_levels(registry.levels)  # as rollup does, at start rather than at a statistician's first rollup
    factory = open_database(database_url(data, database))
    with factory() as db:
        if not settled:
            settle(db, canonical_period(period), deadline)
    before = time.time() - LEFTOVER_AGE  # what a server stopped mid-way left, once it is a day old
    store = Store(data)
    store.sweep(before)
    sweep(data / "tmp", before)
    portal = Portal(registry, spec, data, factory, store, check_process=check_process)
    app = make_app(portal, "en" if lang == "en" else "zh")
    app.state.portal = portal
    return app


LEFTOVER_AGE = 24 * 3600  # seconds: a temporary file or folder this old is no server's work in progress


def sweep(folder: Path, before: float) -> None:
    """Delete what is in `folder` (the data folder's tmp/: a rollup being written, an upload being checked) and
    was last changed before `before` (a time.time()): a server stopped mid-way left it, no row names it and
    nothing reads it. Younger entries may be the work of another server process, and stay."""
    import shutil

    for p in folder.iterdir():
        try:
            if p.lstat().st_mtime >= before:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink()
        except OSError:  # swept by another server process starting too, or not ours to delete: left
            continue


def database_url(data: str | Path, database: str | None) -> str:
    """`database`, or by default SQLite in the data folder."""
    return database or f"sqlite:///{(Path(data) / 'portal.db').resolve()}"


def migrate_database(data: str | Path = "tongji-portal", database: str | None = None) -> tuple[str, str | None, str]:
    """Bring the portal's database to the newest schema (`tongji serve migrate`); its rows are kept.
    Returns (the URL as it may be shown, the revision before or None for an empty database, the revision after)."""
    from tongji.portal.migrate import connect, existing, shown_url, upgrade
    from tongji.writing.files import ensure_dir

    if database is None and Path(data).is_file():
        ensure_dir(Path(data))  # says that a file is where the folder belongs
    url = database_url(data, database)
    existing(url)
    engine = connect(url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    return shown_url(url), before, after


__all__ = ["create_app", "migrate_database"]
