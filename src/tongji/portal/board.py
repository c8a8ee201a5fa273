"""Progress, live: each expected unit's state, and per node expected / received / approved / returned / missing,
报送率 and 及时率 against the deadline; the 催报 list of missing units as xlsx."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongji.definitions.registry import CONTACTS
from tongji.i18n import render
from tongji.portal import texts
from tongji.portal.db import Rollup, Submission, now
from tongji.portal.service import Portal
from tongji.portal.submissions import APPROVED, PENDING, RETURNED
from tongji.writing.files import put, save_workbook
from tongji.writing.printing import table_pages

MISSING = "未报"


@dataclass
class UnitState:
    unit: str
    name: str
    level: str
    state: str  # 未报 / 待审 / 退回 / 已审核
    late: bool
    submission: Submission | None
    first_at: datetime | None
    reported_up: datetime | None = None  # a node's summary submitted to its parent


@dataclass
class Progress:
    expected: int
    received: int
    approved: int
    returned: int
    pending: int
    missing: int
    on_time: int
    late: int

    @property
    def rate(self) -> float | None:
        return self.received / self.expected if self.expected else None

    @property
    def timely_rate(self) -> float | None:
        return self.on_time / self.expected if self.expected else None


def states(portal: Portal, db: Session, node: str) -> list[UnitState]:
    """Every unit of `node`'s subtree (itself first, for its 本级 workbook), in registry order."""
    period, deadline = portal.period(db), portal.deadline(db)
    codes = portal.registry.subtree(node)
    latest: dict[str, Submission] = {}
    first: dict[str, datetime] = {}
    for sub in db.scalars(select(Submission).where(Submission.period == period).order_by(Submission.version)):
        latest[sub.unit] = sub
        first.setdefault(sub.unit, sub.uploaded_at)
    up = {r.unit: r.submitted_at for r in db.scalars(select(Rollup).where(
        Rollup.period == period, Rollup.submitted_at.is_not(None)).order_by(Rollup.id))}
    overdue = deadline is not None and now() > deadline
    out = []
    for code in codes:
        row, sub = portal.registry.get(code), latest.get(code)
        at = first.get(code)
        late = (at is not None and deadline is not None and at > deadline) or (at is None and overdue)
        out.append(UnitState(code, row["单位名称"], row["层级"], sub.review if sub else MISSING, late, sub, at,
                             up.get(code)))
    return out


def by_child(registry, items: list[UnitState], node: str) -> dict[str, list[UnitState]]:
    """`items` by the child of `node` each is (or is beneath); `node`'s own and any outside it left out."""
    found: dict[str, list[UnitState]] = {}
    for item in items:
        unit, seen = item.unit, set()
        while (row := registry.get(unit)) and row["上级代码"] and row["上级代码"] != node and unit not in seen:
            seen.add(unit)
            unit = row["上级代码"]
        if row and row["上级代码"] == node:
            found.setdefault(unit, []).append(item)
    return found


def progress(items: list[UnitState]) -> Progress:
    count = {s: sum(1 for i in items if i.state == s) for s in (APPROVED, RETURNED, PENDING, MISSING)}
    # 迟报 counts the units that reported after the deadline, as `tongji rollup` counts it; a unit that has not
    # reported at all is 未报, even once the deadline has passed (its row is still marked overdue)
    late = sum(1 for i in items if i.late and i.first_at is not None)
    received = len(items) - count[MISSING]
    on_time = sum(1 for i in items if i.first_at is not None and not i.late)
    return Progress(len(items), received, count[APPROVED], count[RETURNED], count[PENDING], count[MISSING],
                    on_time, late)


# the 催报名单's columns in either language; the contact columns keep the registry's own names
REMINDER_HEADERS = {"zh": ["单位代码", "单位名称", "层级", "状态", "退回原因"],
                    "en": ["Unit code", "Unit name", "Level", "State", "Reason returned"]}


def reminder_list(portal: Portal, items: list[UnitState], target: Path, lang: str = "zh") -> Path:
    """催报名单: the units that have not reported (or whose latest version is returned), with contacts; its words
    in `lang`. A version returned by the checks, with no reason typed, gives its number of errors as the reason."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "催报名单"
    extra = [c for c in CONTACTS if c in portal.registry.frame.columns]
    header = [*REMINDER_HEADERS["en" if lang == "en" else "zh"], *extra]
    for c, text in enumerate(header, 1):
        put(ws, 1, c, text)
    r = 1
    for item in items:
        if item.state not in (MISSING, RETURNED):
            continue
        r += 1
        row = portal.registry.get(item.unit)
        sub = item.submission if item.state == RETURNED else None
        reason = (sub.reason or render("reason-errors", lang, {"n": sub.errors})) if sub else ""
        late = ("（" + texts.text("late", lang) + "）" if lang != "en" else " (late)") if item.late else ""
        values = [item.unit, item.name, item.level, texts.text(item.state, lang) + late, reason,
                  *[row.get(c) or "" for c in extra]]
        for c, value in enumerate(values, 1):
            put(ws, r, c, value)
    for letter, width in zip("ABCDEFG", (22, 30, 8, 12, 30, 12, 16), strict=False):
        ws.column_dimensions[letter].width = width
    table_pages(ws)
    return save_workbook(wb, target)


# the 账号清单's columns in either language, as the 催报名单's
ACCOUNT_HEADERS = {"zh": ["单位代码", "单位名称", "层级", "账号", "一次性密码"],
                   "en": ["Unit code", "Unit name", "Level", "Login", "One-time password"]}


def account_list(made: list[dict], target: Path, lang: str = "zh") -> Path:
    """账号清单: unit, login and one-time password of each account just made, to print and hand out; its column
    headers in `lang`."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "账号清单"
    for c, label in enumerate(ACCOUNT_HEADERS["en" if lang == "en" else "zh"], 1):
        put(ws, 1, c, label)
    for r, row in enumerate(made, 2):
        for c, key in enumerate(["unit", "name", "level", "login", "password"], 1):
            put(ws, r, c, row[key])
    for letter, width in zip("ABCDE", (22, 30, 8, 22, 14), strict=True):
        ws.column_dimensions[letter].width = width
    table_pages(ws)
    return save_workbook(wb, target)
