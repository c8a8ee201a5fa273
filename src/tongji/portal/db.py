"""The portal's database: accounts, sessions, submissions, reviews, rollups and the audit log (SQLAlchemy 2).

SQLite in the data folder by default; any SQLAlchemy URL with `--database`. Files are not kept here but in the
content-addressed store (portal/store.py); a submission names its file by SHA-256."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


def now() -> datetime:
    """UTC without tzinfo: SQLite keeps no zone, and every time the portal stores is UTC."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class UTCTime(TypeDecorator):
    """A moment, which the portal always handles as UTC without tzinfo. PostgreSQL keeps it as `timestamptz`, so a
    server or a session in Asia/Shanghai reads the same instant; SQLite keeps the UTC text as before."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        # a naive time sent to a timestamptz column would be read in the session's zone, not as UTC
        return moment if dialect.name == "postgresql" else moment.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None and value.tzinfo else value


UNIT = 32  # characters of a 单位代码; PostgreSQL refuses a longer one where SQLite would keep it


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCTime}


class Account(Base):
    """One login. role: "unit" (a 基层 unit or a node's 本级 filler), "node" (a node's statistician), "admin".
    `unit` is the registry code the account acts for (None for the administrator)."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str | None] = mapped_column(String(UNIT), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]


class LoginSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "login_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Submission(Base):
    """One uploaded version of a unit's workbook. The latest version of a unit counts.
    verdict: 通过 / 有警告 / 退回 (the checker's); review: 待审 / 退回 / 已审核 (the statistician's)."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("unit", "period", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(UNIT))
    period: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    suffix: Mapped[str] = mapped_column(String(8))
    size: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))  # the client's name, shown as text, never a path
    uploaded_at: Mapped[datetime] = mapped_column(default=now)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    verdict: Mapped[str] = mapped_column(String(8))
    errors: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    issues_json: Mapped[str] = mapped_column(Text, default="[]")
    review: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")


Index("submission_unit_period", Submission.unit, Submission.period)
Index("submission_period", Submission.period)  # the board reads every submission of the period


class Rollup(Base):
    """A node's summary made in the portal; `submitted_at` is set when it is reported up (上报)."""

    __tablename__ = "rollup"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(UNIT), index=True)
    period: Mapped[str] = mapped_column(String(16))
    folder: Mapped[str] = mapped_column(String(255))  # under the data folder
    made_at: Mapped[datetime] = mapped_column(default=now)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    errors: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime | None]


class Audit(Base):
    """Every state change: who, when, what, from where."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now)
    login: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(UNIT), index=True)
    submission_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class Setting(Base):
    """The period and the deadline, changed by the administrator."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


def open_database(url: str) -> sessionmaker:
    """A session factory on `url`, whose schema is the newest: a new, empty database is given it; one of an older
    schema is refused, naming `tongji serve migrate` (portal/migrate.py)."""
    from tongji.portal.migrate import connect, require_current

    engine = connect(url)
    require_current(engine, url)
    return sessionmaker(engine, expire_on_commit=False)


def engine_of(factory: sessionmaker) -> Engine:
    return factory.kw["bind"]
