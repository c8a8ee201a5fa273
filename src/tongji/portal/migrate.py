"""The portal database's schema, one path for every database: the Alembic migrations shipped in the package
(portal/migrations/versions/), applied by `tongji serve migrate` or, on a new empty database, when it is opened.

A database made before migrations existed (its tables made by SQLAlchemy's create_all) has the first revision's
schema without Alembic's version table; migrating records it as that revision and goes on from there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from tongji.errors import TongjiError

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST = "0001"  # the schema `create_all` made before migrations existed
BUSY_MS = 10_000  # how long SQLite waits for another writer before it says "database is locked"
LOCK = 0x746F6E676A69  # PostgreSQL advisory lock: two servers starting at once upgrade one after the other


def connect(url: str) -> Engine:
    """An engine on `url`, tried once, so a wrong address or a stopped server is one clear line."""
    try:
        # pre-ping: a connection the database server closed (restarted, or an idle timeout) is replaced unseen
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise TongjiError("database-url", url=shown_url(url), detail=str(exc).splitlines()[0]) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        raise TongjiError("database-unreachable", url=shown_url(url), detail=str(exc.orig).strip().splitlines()[0]
                          ) from None
    return engine


def existing(url: str) -> None:
    """Refuse a SQLite file that is not there: opening one would make a new, empty portal where the statistician
    mistyped --data, and migrate, back up or check that instead of theirs. Only `tongji serve` (and its `accounts`)
    make a portal."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # connect() says what is wrong with it
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        raise TongjiError("database-missing", path=parsed.database)


def shown_url(url: str) -> str:
    """The URL as it may be printed: without its password; a SQLite file by its path, which rendering would
    %-quote (a 门户数据 folder read %E9%97%A8%E6%88%B7…)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return f"sqlite:///{parsed.database}"
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(connection, _record) -> None:
    # WAL lets the board be read while an upload is written; foreign keys are off in SQLite unless asked.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_MS)}")
    cursor.close()


def _config(connection: Connection, scripts: Path = MIGRATIONS):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["connection"] = connection
    return config


def head(scripts: Path = MIGRATIONS) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(scripts)).get_current_head()


def known(scripts: Path = MIGRATIONS) -> set[str]:
    """Every revision this tongji's migrations know."""
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory(str(scripts)).walk_revisions()}


def revision(connection: Connection) -> str | None:
    """The database's revision; FIRST for tables made before migrations; None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    found = MigrationContext.configure(connection).get_current_revision()
    if found is None and inspect(connection).has_table("account"):
        return FIRST
    return found


def upgrade(engine: Engine, target: str = "head", scripts: Path = MIGRATIONS) -> tuple[str | None, str]:
    """Bring the database to `target` (the newest schema by default); returns (revision before, revision after).
    `scripts`: the migrations' folder (a test's copy with one more)."""
    from alembic import command

    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # SQLite alters a table by copying it: the old one is dropped under its references (SQLite's advice)
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
                before = revision(connection)
                if before is not None and before not in known(scripts):  # a newer tongji upgraded it: no way down
                    raise TongjiError("database-newer", found=before, head=head(scripts),
                                      url=shown_url(str(engine.url)))
                config = _config(connection, scripts)
                if before == FIRST and not inspect(connection).has_table("alembic_version"):
                    command.stamp(config, FIRST)
                command.upgrade(config, target)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() if sqlite else []
                if broken:
                    raise RuntimeError(f"a migration left rows without the row they refer to: {broken[:5]}")
                return before, revision(connection)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def require_current(engine: Engine, url: str) -> None:
    """A new, empty database gets the newest schema; one of another schema is refused with what to do."""
    with engine.connect() as connection:
        found = revision(connection)
    newest = head()
    if found == newest:
        return
    if found is None:
        upgrade(engine)
        return
    key = "database-old" if found in known() else "database-newer"
    raise TongjiError(key, found=found, head=newest, url=shown_url(url))
