"""Uploads checked by the same library call as `tongji validate`, kept as versions, and reviewed.

A unit's latest version is the one that counts. The checker's verdict (通过 / 有警告 / 退回) sets where a version
starts: an error returns it at once; otherwise it waits for review (待审). A statistician approves it (已审核,
locked against new uploads until unlocked) or returns it with a reason (退回)."""

from __future__ import annotations

import errno
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tongji.i18n import render
from tongji.issues.report import ISSUE_COLUMNS
from tongji.portal.db import Account, Rollup, Submission
from tongji.portal.service import Portal, audit
from tongji.portal.store import sniff
from tongji.reading.screen import Limits
from tongji.writing.annotate import annotate_workbook

PENDING, RETURNED, APPROVED = "待审", "退回", "已审核"


class Refused(Exception):
    """An upload or an action that is not allowed; `key` names the message shown (portal/texts.py)."""

    def __init__(self, key: str, **kw: object):
        super().__init__(key)
        self.key, self.kw = key, kw


@dataclass
class Upload:
    filename: str
    data: bytes
    address: str = ""


def lock_unit(db: Session, unit: str) -> None:
    """Hold `unit` until this transaction ends: uploads, reviews and rollups of one unit, in any number of server
    processes, take their turn here. An UPDATE of the unit's account row locks that row on PostgreSQL and takes the
    write lock on SQLite (whose reads outside a write take none), so what is read after it is current."""
    db.execute(update(Account).where(Account.unit == unit).values(unit=Account.unit)
               .execution_options(synchronize_session=False))
    db.expire_all()  # and the objects this session loaded before it are read again


def store_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def latest(db: Session, unit: str, period: str) -> Submission | None:
    return db.scalar(select(Submission).where(Submission.unit == unit, Submission.period == period)
                     .order_by(Submission.version.desc()).limit(1))


def versions(db: Session, unit: str, period: str) -> list[Submission]:
    return list(db.scalars(select(Submission).where(Submission.unit == unit, Submission.period == period)
                           .order_by(Submission.version.desc())))


def submit(portal: Portal, db: Session, account: Account, upload: Upload) -> Submission:
    """Check the upload as `tongji validate` would and keep it as the unit's next version."""
    unit, period = account.unit, portal.period(db)
    if unit is None:
        raise Refused("upload-no-unit")
    if (portal.registry.get(unit) or {}).get("状态") == "撤销":  # not expected: no board would ever show it
        raise Refused("upload-revoked")
    if len(upload.data) > portal.upload_limit:
        raise Refused("upload-too-large", limit=portal.upload_limit // (1024 * 1024))
    suffix = sniff(upload.data)
    if suffix is None:
        raise Refused("upload-not-workbook")
    current = latest(db, unit, period)
    if current is not None and current.review == APPROVED:
        raise Refused("upload-locked")
    try:
        report = portal.checker.check(upload.data, suffix, unit, period)
    except OSError as exc:  # the data folder's disk is full: the upload is written nowhere
        if store_full(exc):
            raise Refused("store-full") from None
        raise
    return keep(portal, db, account, upload, suffix, report, period)


def keep(portal: Portal, db: Session, account: Account, upload: Upload, suffix: str, report,
         checked_for: str | None = None) -> Submission:
    """Store a checked upload and record it as the unit's next version (`report`: its validation alone, for the
    period `checked_for`, by default the current one). The file is in place before its row is committed, and the
    version is numbered under the unit's lock, so uploads of one unit at once get one version each, none lost and
    none twice."""
    unit = account.unit
    found = report.workbooks["unit"].drop_nulls().to_list()
    if found and found[0] != unit:
        raise Refused("upload-other-unit", found=found[0], unit=unit)  # another unit's data is never kept here
    try:
        sha, _ = portal.store.put(upload.data, suffix)
    except OSError as exc:
        if store_full(exc):
            raise Refused("store-full") from None
        raise
    row = report.workbooks.row(0, named=True) if report.workbooks.height else {"status": "退回", "errors": 1,
                                                                              "warnings": 0}
    issues = report.issues.with_columns(pl.lit("").alias("file"))
    lock_unit(db, unit)
    period = portal.period(db)
    if checked_for is not None and period != checked_for:  # the period was changed while it was being checked
        db.rollback()
        raise Refused("upload-period-changed", period=period)
    current = latest(db, unit, period)
    if current is not None and current.review == APPROVED:  # approved while this one was being checked
        db.rollback()
        raise Refused("upload-locked")
    sub = Submission(unit=unit, period=period, version=(current.version if current else 0) + 1, sha256=sha,
                     suffix=suffix, size=len(upload.data), filename=_display_name(upload.filename),
                     account_id=account.id, verdict=row["status"], errors=row["errors"], warnings=row["warnings"],
                     issues_json=issues.write_json(), review=RETURNED if row["status"] == "退回" else PENDING)
    db.add(sub)
    db.flush()
    audit(db, account, "upload", unit, sub.id, f"v{sub.version} {sha[:12]} {sub.verdict}", upload.address)
    db.commit()
    return sub


def _display_name(name: str) -> str:
    """The client's file name as text to show: the last path part, no control characters, at most 120 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:120] or "upload"


def issues_of(portal: Portal, sub: Submission, lang: str) -> pl.DataFrame:
    """The issues of a version, their messages rendered in `lang` from code and parameters."""
    frame = pl.read_json(io.StringIO(sub.issues_json), schema=ISSUE_COLUMNS) if sub.issues_json != "[]" else \
        pl.DataFrame(schema=ISSUE_COLUMNS)
    return portal.catalog.render(frame, lang)


def annotated(portal: Portal, sub: Submission, lang: str) -> Path:
    """The annotated copy of a version in `lang`, made once and kept beside the store."""
    target = portal.data / "annotated" / f"{sub.sha256}-{sub.id}-{lang}.xlsx"
    if not target.exists():
        target.parent.mkdir(exist_ok=True)
        source = portal.store.path(sub.sha256, sub.suffix)
        annotate_workbook(source, issues_of(portal, sub, lang).with_columns(pl.lit(str(source)).alias("file")),
                          target, lang, Limits.of(portal.spec))
    return target


def review(portal: Portal, db: Session, account: Account, sub: Submission, action: str, reason: str = "",
           address: str = "", *, recheck_old: bool = True) -> None:
    """approve / return / unlock the latest version of a unit below `account`'s node. A version uploaded before this
    portal started (its registry may have changed since) is checked again when approved, unless `recheck_old` is
    False (the demo's state, checked a moment ago against this registry)."""
    if not (account.role == "admin" or account.role == "node" and portal.below(account.unit, sub.unit)):
        raise Refused("not-allowed")  # a node reviews the units beneath it, never its own 本级
    # checked again against the registry held now: a unit moved to another 街道 since it uploaded passed then, and
    # approved, its 上级工会代码 would be an error in its new 街道's rollup that nothing on the board explains
    old = recheck_old and sub.uploaded_at <= portal.started  # within the second it started: checked again too
    again = recheck(portal, sub) if action == "approve" and old else None
    lock_unit(db, sub.unit)  # two statisticians at once: the second sees what the first did
    if sub.id != latest(db, sub.unit, sub.period).id:
        db.rollback()
        raise Refused("review-not-latest")
    moves = {"approve": ((PENDING,), APPROVED), "return": ((PENDING, APPROVED), RETURNED),
             "unlock": ((APPROVED,), PENDING)}
    allowed, target = moves[action]
    if sub.review not in allowed or (action == "approve" and sub.verdict == "退回"):
        db.rollback()
        raise Refused("review-wrong-state", state=sub.review)
    if action == "return" and not reason.strip():
        db.rollback()
        raise Refused("review-needs-reason")
    if again is not None:  # returned by the checks, as an upload with errors is
        sub.verdict, sub.errors, sub.warnings, sub.issues_json, sub.review = again
        withdraw_reports(portal, db, sub.unit, sub.period)
        # kept in Chinese, as every row; texts.audit_detail shows it in the reader's language
        audit(db, account, "return", sub.unit, sub.id, render("reason-errors", "zh", {"n": sub.errors}), address)
        db.commit()
        raise Refused("review-rechecked", n=sub.errors)
    sub.review = target
    sub.reason = reason.strip()[:2000] if action == "return" else sub.reason
    withdraw_reports(portal, db, sub.unit, sub.period)
    audit(db, account, action, sub.unit, sub.id, reason.strip()[:2000], address)
    db.commit()


def recheck(portal: Portal, sub: Submission) -> tuple | None:
    """A version's verdict, errors, warnings, issues and state if the checks return it now, or None."""
    report = portal.checker.check(portal.store.path(sub.sha256, sub.suffix).read_bytes(), sub.suffix, sub.unit,
                                  sub.period)
    row = report.workbooks.row(0, named=True)
    if row["status"] != "退回":
        return None
    issues = report.issues.with_columns(pl.lit("").alias("file"))
    return row["status"], row["errors"], row["warnings"], issues.write_json(), RETURNED


def withdraw_reports(portal: Portal, db: Session, unit: str, period: str) -> None:
    """A workbook approved, returned or unlocked, or a summary reported, changes what `unit` (a node's own 本级 is in
    its summary) and every node above it roll up: the summaries they reported up (上报) no longer hold it, so they
    count as not reported, the parents roll up from beneath them, and the nodes roll up and report again."""
    nodes, code = [], unit
    while code and code not in nodes:
        nodes.append(code)
        row = portal.registry.get(code)
        code = row["上级代码"] if row else ""
    db.execute(update(Rollup).where(Rollup.unit.in_(nodes), Rollup.period == period, Rollup.submitted_at.is_not(None))
               .values(submitted_at=None).execution_options(synchronize_session=False))
