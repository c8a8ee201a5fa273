"""`tongji serve backup`, `restore` and `check`: what an office needs to trust its data folder.

A backup is one zip: every table as JSON (sign-in sessions left out: a restore signs everyone out), every stored
upload and every summary the database names, and a manifest with the SHA-256 of each of them. It is consistent
while the server runs: the database is read in one snapshot (SQLite's backup API, a REPEATABLE READ transaction
elsewhere), and the files it names were written before their rows were committed and are never changed after.
A restore goes into an empty data folder and an empty database, after every hash in the archive is checked."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import DateTime, func, select, text
from sqlalchemy.exc import DataError, IntegrityError

from tongji.errors import TongjiError
from tongji.portal.db import Account, Audit, Rollup, Setting, Submission, engine_of, open_database
from tongji.portal.migrate import existing, head
from tongji.portal.store import SUFFIXES, stored_name
from tongji.writing.files import ensure_dir, unwritable

FORMAT = 1
TABLES = (Setting, Account, Submission, Rollup, Audit)  # in the order a restore inserts them (foreign keys)
MANIFEST, TABLES_FILE = "manifest.json", "database.json"
Tick, Total = Callable[[], None], Callable[[int], None]  # a progress bar's callbacks


def database_url(data: Path, database: str | None) -> str:
    """The portal's database: `--database`, else SQLite in the data folder (as `tongji serve` opens it)."""
    return database or f"sqlite:///{(Path(data) / 'portal.db').resolve()}"


@dataclass
class Made:
    path: Path
    rows: dict[str, int]
    files: int


def backup(data: Path, out: Path, database: str | None = None, tick: Tick | None = None,
           on_total: Total | None = None) -> Made:
    """`on_total(n)` is told the files to copy, `tick()` once for each (a progress bar)."""
    data, out = Path(data), Path(out)
    if not (data / "files").is_dir():
        raise TongjiError("backup-no-data", path=data)
    if out.exists():  # an earlier backup of the same name is the office's only copy of that day: never replaced
        raise TongjiError("backup-exists", path=out)
    rows = _snapshot(database_url(data, database))
    files = sorted(_named_files(data, rows))
    missing = [f for f in files if not (data / f).is_file()]
    if missing:  # the database names a file the folder lacks: say so, never write a backup that cannot restore
        raise TongjiError("backup-missing-file", path=missing[0], n=len(missing))
    ensure_dir(out.parent)
    if on_total:
        on_total(len(files))
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        hashes = {}
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
            body = json.dumps(rows, ensure_ascii=False, sort_keys=True, default=_json_value).encode("utf-8")
            z.writestr(TABLES_FILE, body)
            hashes[TABLES_FILE] = hashlib.sha256(body).hexdigest()
            for name in files:
                z.write(data / name, name, compress_type=zipfile.ZIP_STORED)  # workbooks are compressed already
                hashes[name] = _sha256(data / name)
                if tick:
                    tick()
            manifest = {"format": FORMAT, "schema": head(), "tables": {k: len(v) for k, v in rows.items()},
                        "files": hashes}
            z.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
        _publish(Path(tmp), out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return Made(out, {k: len(v) for k, v in rows.items()}, len(files))


def _publish(tmp: Path, out: Path) -> None:
    """Give the written backup its name, unless a backup of that name appeared while this one was written (two
    runs at once, a scheduled one and one by hand): a hard link is made only where the name is free."""
    try:
        os.link(tmp, out)
    except FileExistsError:
        raise TongjiError("backup-exists", path=out) from None
    except OSError:  # a file system without hard links: the name is checked once more, then taken
        if out.exists():
            raise TongjiError("backup-exists", path=out) from None
        os.replace(tmp, out)


def _snapshot(url: str) -> dict[str, list[dict]]:
    """Every table's rows as of one moment."""
    existing(url)
    factory = open_database(url)
    engine = engine_of(factory)
    if engine.dialect.name == "sqlite":
        # pysqlite starts no transaction for a SELECT: copy the database at one moment, then read the copy
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "snapshot.db"
            raw = engine.raw_connection()
            try:
                with sqlite3.connect(copy) as target:
                    raw.driver_connection.backup(target)
            finally:
                raw.close()
            engine.dispose()
            return _rows(engine_of(open_database(f"sqlite:///{copy}")), dispose=True)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        return _read(conn)


def _rows(engine, dispose: bool = False) -> dict[str, list[dict]]:
    try:
        with engine.connect() as conn:
            return _read(conn)
    finally:
        if dispose:
            engine.dispose()


def _read(conn) -> dict[str, list[dict]]:
    out = {}
    for model in TABLES:
        table = model.__table__
        order = list(table.primary_key.columns)
        out[table.name] = [dict(r._mapping) for r in conn.execute(select(table).order_by(*order))]
    return out


def _named_files(data: Path, rows: dict[str, list[dict]]) -> set[str]:
    named = {stored_name(r["sha256"], r["suffix"]) for r in rows["submission"]}
    for r in rows["rollup"]:
        folder = data / r["folder"]
        if folder.is_dir():
            named |= {p.relative_to(data).as_posix() for p in folder.rglob("*") if p.is_file()}
    return named


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def restore(archive: Path, data: Path, database: str | None = None, tick: Tick | None = None,
            on_total: Total | None = None) -> Made:
    """`on_total(n)` is told the steps (each file checked, then written), `tick()` once for each."""
    archive, data = Path(archive), Path(data)
    if not archive.is_file():  # a mistyped name: not "not a backup ([Errno 2] No such file ...)"
        raise TongjiError("restore-missing", path=archive)
    try:
        z = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise TongjiError("restore-not-zip", path=archive) from None
    except OSError as exc:
        raise TongjiError("restore-bad-archive", path=archive, detail=str(exc)) from None
    with z:
        manifest, rows = _verified(z, archive, tick, on_total)
        if any(ensure_dir(data).iterdir()):
            raise TongjiError("restore-not-empty", path=data)
        try:  # the files first: the database, committed last, names them
            _put_files(z, manifest, data, tick)
            _put_rows(rows, data, database, archive)
        except BaseException:
            _emptied(data)  # it was empty: what this restore put there goes, and the restore can be tried again
            raise
    return Made(data, {k: len(v) for k, v in rows.items()}, len(manifest["files"]) - 1)


def _put_files(z: zipfile.ZipFile, manifest: dict, data: Path, tick: Tick | None) -> None:
    for name in manifest["files"]:
        if name == TABLES_FILE:
            continue
        target = data / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
        except OSError as exc:  # a full disk: said, and nothing restored
            raise unwritable(target, exc) from None
        if tick:
            tick()


def _put_rows(rows: dict, data: Path, database: str | None, archive: Path) -> None:
    factory = open_database(database_url(data, database))
    engine = engine_of(factory)
    try:
        with engine.begin() as conn:
            if any(conn.execute(select(func.count()).select_from(m.__table__)).scalar() for m in TABLES):
                raise TongjiError("restore-not-empty", path=database or data / "portal.db")
            for model in TABLES:
                table = model.__table__
                if rows.get(table.name):
                    try:
                        conn.execute(table.insert(), [_typed(table, r) for r in rows[table.name]])
                    except (ValueError, TypeError, IntegrityError, DataError):  # a value the table cannot hold
                        raise TongjiError("restore-bad-archive", path=archive, detail=TABLES_FILE) from None
            if engine.dialect.name == "postgresql":  # the next id after the restored ones
                for model in TABLES:
                    if "id" in model.__table__.c:
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{model.__tablename__}', 'id'), "
                                          f"GREATEST(COALESCE(MAX(id), 0), 1)) FROM {model.__tablename__}"))
    finally:
        engine.dispose()


def _emptied(data: Path) -> None:
    for child in data.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _verified(z: zipfile.ZipFile, archive: Path, tick: Tick | None = None,
              on_total: Total | None = None) -> tuple[dict, dict]:
    """The manifest and the tables, after every member's hash is checked and every name is a safe one."""
    if MANIFEST not in z.namelist():  # a zip of something else: said, not KeyError's English
        raise TongjiError("restore-no-manifest", path=archive, name=MANIFEST)
    try:
        manifest = json.loads(z.read(MANIFEST))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise TongjiError("restore-bad-archive", path=archive, detail=MANIFEST)
        names = set(z.namelist())
        if on_total:  # each stored file is checked here, then written
            on_total(2 * (len(manifest["files"]) - 1))
        for name, digest in manifest["files"].items():
            if name not in names or not _safe(name):
                raise TongjiError("restore-bad-archive", path=archive, detail=name)
            if hashlib.sha256(z.read(name)).hexdigest() != digest:
                raise TongjiError("restore-corrupt", path=archive, name=name)
            if tick and name != TABLES_FILE:
                tick()
        rows = json.loads(z.read(TABLES_FILE))
    except (KeyError, ValueError) as exc:
        raise TongjiError("restore-bad-archive", path=archive, detail=str(exc)) from None
    if not _tables_ok(rows):
        raise TongjiError("restore-bad-archive", path=archive, detail=TABLES_FILE)
    if manifest.get("format") != FORMAT:
        raise TongjiError("restore-bad-archive", path=archive, detail=f"format {manifest.get('format')}")
    if manifest.get("schema") != head():  # rows of another schema: restore with the tongji that made it, migrate
        raise TongjiError("restore-other-schema", path=archive, found=manifest.get("schema"), head=head())
    return manifest, rows


def _tables_ok(rows: object) -> bool:
    """The tables are an object of lists of rows, each row an object of the table's columns (a hand-made archive
    whose hashes agree may hold anything)."""
    return isinstance(rows, dict) and all(
        isinstance(rows.get(m.__table__.name, []), list)
        and all(isinstance(r, dict) and set(r) <= set(m.__table__.c.keys()) for r in rows.get(m.__table__.name, []))
        for m in TABLES)


def _safe(name: str) -> bool:
    """A member that lands inside the data folder: no absolute path, no .., only files/ and rollups/."""
    parts = Path(name).parts
    return name == TABLES_FILE or (bool(parts) and parts[0] in ("files", "rollups") and ".." not in parts
                                   and not Path(name).is_absolute())


def _typed(table, row: dict) -> dict:
    out = {}
    for key, value in row.items():
        column = table.c[key]
        out[key] = datetime.fromisoformat(value) if value is not None and _is_time(column) else value
    return out


def _is_time(column) -> bool:
    kind = getattr(column.type, "impl", column.type)  # a TypeDecorator (db.UTCTime) stands for its impl
    return isinstance(kind, DateTime)


def check(data: Path, database: str | None = None, tick: Tick | None = None,
          on_total: Total | None = None) -> list[tuple[str, dict]]:
    """Problems found, as (message key, parameters): a stored file whose bytes no longer match its SHA-256, a
    file the database names that is missing, a summary folder that is missing. `on_total(n)` is told the stored
    files to hash, `tick()` once for each."""
    data = Path(data)
    if not (data / "files").is_dir():
        raise TongjiError("backup-no-data", path=data)
    found = []
    stored = [p for p in sorted((data / "files").rglob("*"))
              if p.is_file() and p.suffix in SUFFIXES and not p.name.startswith(".")]
    if on_total:
        on_total(len(stored))
    for path in stored:
        if _sha256(path) != path.stem:
            found.append(("check-corrupt", {"path": path}))
        if tick:
            tick()
    rows = _snapshot(database_url(data, database))
    for r in rows["submission"]:
        if not (data / stored_name(r["sha256"], r["suffix"])).is_file():
            found.append(("check-missing", {"id": r["id"], "unit": r["unit"], "version": r["version"]}))
    for r in rows["rollup"]:
        if not (data / r["folder"]).is_dir():
            found.append(("check-missing-rollup", {"id": r["id"], "unit": r["unit"]}))
    return found
