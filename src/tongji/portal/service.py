"""What the portal holds for one collection: the registry, the period, the plugins' spec, the database and the store.

Made once by `create_app`; every page and every action is a function of it and the signed-in account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tongji.definitions.forms import Spec
from tongji.definitions.registry import Registry
from tongji.issues.catalog import Catalog
from tongji.portal.checker import Checker
from tongji.portal.db import Account, Audit, Setting
from tongji.portal.store import Store

UPLOAD_LIMIT = 20 * 1024 * 1024  # bytes; a filled workbook is well under 1 MB
# a deadline's plausible years: one outside is a typo, and 9999-12-31 ends past year 9999 in UTC+8's sums
DEADLINE_YEARS = range(2000, 2101)


@dataclass
class Portal:
    registry: Registry
    spec: Spec
    data: Path
    db: sessionmaker
    store: Store
    upload_limit: int = UPLOAD_LIMIT
    check_process: bool = False
    catalog: Catalog = field(init=False)
    checker: Checker = field(init=False)
    started: datetime = field(init=False)  # UTC, as the database keeps it: an upload since was checked as now

    def __post_init__(self) -> None:
        from tongji.portal.db import now

        self.catalog = Catalog.of(self.spec)
        self.checker = Checker(self, self.check_process)
        self.started = now()

    def dispose(self) -> None:
        """Close the database connections (a process handing over to its workers keeps none open)."""
        self.db.kw["bind"].dispose()

    def setting(self, db: Session, key: str) -> str:
        found = db.get(Setting, key)
        return found.value if found else ""

    def period(self, db: Session) -> str:
        return self.setting(db, "period")

    def deadline(self, db: Session) -> datetime | None:
        """The end of the deadline day in the server's time zone (the office's), as UTC like every stored time."""
        day = deadline_date(self.setting(db, "deadline"))
        if day is None:  # none, or an implausible one saved before such were refused: as far as none
            return None
        return datetime.combine(day, time(23, 59, 59)).astimezone().astimezone(UTC).replace(tzinfo=None)

    def sees(self, account: Account, unit: str | None) -> bool:
        """Whether `account` may see `unit`'s data: its own unit, its subtree for a node, everything for admin."""
        if unit is None or unit not in self.registry:
            return account.role == "admin"
        if account.role == "admin":
            return True
        if account.unit == unit:
            return True
        return account.role == "node" and self.below(account.unit, unit)

    def below(self, node: str | None, unit: str) -> bool:
        """Whether `unit` is strictly beneath `node` in the registry."""
        row = self.registry.get(unit)
        seen = set()
        while row and row["上级代码"] and row["上级代码"] not in seen:
            parent = row["上级代码"]
            if parent == node:
                return True
            seen.add(parent)
            row = self.registry.get(parent)
        return False

    def name(self, unit: str | None) -> str:
        row = self.registry.get(unit) if unit else None
        return row["单位名称"] if row else ""


def deadline_date(text: str) -> date | None:
    """A deadline as typed or stored (2026-01-20), or None if it is not a date in a plausible year."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if day.year in DEADLINE_YEARS else None


def settle(db: Session, period: str, deadline: str | None) -> None:
    """Keep the period and deadline the server was started with (the administrator may change the deadline).
    Each period keeps its own deadline: a new round does not inherit the last one's, long past, which would make
    every unit late at once; it has none until one is given, and going back to a period finds that period's."""
    found = db.get(Setting, "period")
    if found is not None and found.value != period:
        _put(db, f"deadline {found.value}", _value(db, "deadline"))
        if deadline is None:
            deadline = _value(db, f"deadline {period}")  # "" for none
    for key, value in (("period", period), ("deadline", deadline)):
        if value is not None:
            _put(db, key, value)
    db.commit()


def _value(db: Session, key: str) -> str:
    found = db.get(Setting, key)
    return found.value if found else ""


def _put(db: Session, key: str, value: str) -> None:
    found = db.get(Setting, key)
    if found is None:
        db.add(Setting(key=key, value=value))
    else:
        found.value = value


def audit(db: Session, account: Account, action: str, unit: str | None = None, submission: int | None = None,
          detail: str = "", address: str = "") -> None:
    db.add(Audit(login=account.login, action=action, unit=unit, submission_id=submission, detail=detail,
                 address=address))


def history(db: Session, unit: str) -> list[Audit]:
    return list(db.scalars(select(Audit).where(Audit.unit == unit).order_by(Audit.id)))


def local(moment: datetime | None) -> str:
    """A stored (UTC) time as the office reads it: the server's time zone, to the minute."""
    return moment.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def deadline_day(moment: datetime | None) -> str:
    return moment.replace(tzinfo=UTC).astimezone().date().isoformat() if moment else ""
