"""A node's rollup in the portal: the same library call and writer as `tongji rollup`, on the approved versions of
its units and the summaries its child nodes reported up (上报), or, where a child has not, that child's own units.

The inputs are stored files, so `tongji rollup <the same files> --unit N` gives the same totals and 明细. Its
完整性 says besides what the progress board shows at that moment: a unit whose upload was returned is 退回 with the
reviewer's (or the checks') reason, one whose upload waits for review is 待审 (received, not accepted), and 迟报
is judged as the board judges it, by the time of the unit's first upload."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongji.aggregating import completeness
from tongji.aggregating.completeness import Received
from tongji.aggregating.rollup import rollup
from tongji.aggregating.summary import Summary
from tongji.checking.schema import parse_date
from tongji.portal import board
from tongji.portal.db import Account, Rollup, Submission, now
from tongji.portal.service import Portal, audit, deadline_day
from tongji.portal.submissions import APPROVED, PENDING, RETURNED, Refused, latest, lock_unit, withdraw_reports
from tongji.portal.texts import text
from tongji.reading.workbooks import read_workbooks
from tongji.writing.summary_files import stem_for, write_summary

FORMATS = ("xlsx", "html")  # html when the report plugin is loaded


def reported(db: Session, unit: str, period: str) -> Rollup | None:
    """The summary `unit` last reported up, if any."""
    return db.scalar(select(Rollup).where(Rollup.unit == unit, Rollup.period == period,
                                          Rollup.submitted_at.is_not(None)).order_by(Rollup.id.desc()).limit(1))


def last_made(db: Session, unit: str, period: str) -> Rollup | None:
    return db.scalar(select(Rollup).where(Rollup.unit == unit, Rollup.period == period)
                     .order_by(Rollup.id.desc()).limit(1))


def inputs(portal: Portal, db: Session, node: str, period: str | None = None) -> list[Path]:
    """The node's own approved 本级 version, each approved unit below it, and each child's reported summary in
    place of that child's subtree (of `period`, by default the current one)."""
    return [path for path, _ in named_inputs(portal, db, node, period)]


def named_inputs(portal: Portal, db: Session, node: str, period: str | None = None) -> list[tuple[Path, str]]:
    """`inputs`, each with the name a summary shows for it: the name its unit uploaded it under, or a child's
    summary's own name, never the stored path (it tells the server's folders)."""
    period, found = period or portal.period(db), []

    def own(unit: str) -> None:
        sub = latest(db, unit, period)
        if sub is not None and sub.review == APPROVED:
            found.append((portal.store.path(sub.sha256, sub.suffix), sub.filename))

    def walk(unit: str) -> None:
        own(unit)
        for child in portal.registry.children(unit):
            up = None if portal.registry.is_leaf(child) else reported(db, child, period)
            if up is not None:
                path = summary_file(portal, up)
                found.append((path, path.name))
            else:
                walk(child)

    walk(node)
    return found


def received(portal: Portal, db: Session, node: str) -> dict[str, Received]:
    """What the board shows of each unit below `node` that has uploaded, for the summary's 完整性: its 迟报 (its first
    upload after the deadline) and, unless approved, its latest version returned (with the reason the reviewer
    typed, or else its number of errors, as the 催报名单 gives it) or waiting for review, with its 报出日期."""
    out, items = {}, [i for i in board.states(portal, db, node) if i.submission is not None]
    dates = cover_dates(portal, [i.submission for i in items if i.submission.review in (RETURNED, PENDING)])
    for item in items:
        sub = item.submission
        if sub.review == RETURNED:
            reason, n = ("reason-listed", {"text": sub.reason}) if sub.reason else ("reason-errors", {"n": sub.errors})
            out[item.unit] = Received(completeness.RETURNED, sub.filename, reason, n, item.late, dates.get(sub.id, ""))
        elif sub.review == PENDING:
            out[item.unit] = Received(completeness.PENDING, sub.filename, "reason-pending", late=item.late,
                                      date=dates.get(sub.id, ""))
        else:
            out[item.unit] = Received(late=item.late)
    return out


def cover_dates(portal: Portal, subs: list[Submission]) -> dict[int, str]:
    """The 报出日期 on the cover of each version's stored workbook, by id, read as a rollup reads an input's: the
    portal keeps no date of its own, and these versions are no input of the rollup."""
    if not subs:
        return {}
    stack = read_workbooks([portal.store.path(s.sha256, s.suffix) for s in subs], portal.spec)
    found = stack.cells.filter(pl.col("code") == "FM10").select(
        "file_id", parse_date(pl.col("raw")).cast(pl.Utf8).alias("date")).drop_nulls()
    return {subs[i].id: day for i, day in found.iter_rows()}


def as_uploaded(summary: Summary, names: dict[str, str]) -> Summary:
    """`summary` with each input named as its unit uploaded it (`names`, by stored path), in 完整性 as those returned
    or waiting are (`received`), in the manifest and in the issues: the stored paths tell the server's folders."""
    named = pl.col("file").replace(names)
    return replace(summary, units=summary.units.with_columns(named), inputs=summary.inputs.with_columns(named),
                   issues=summary.issues.with_columns(named))


def summary_file(portal: Portal, made: Rollup) -> Path:
    return portal.data / made.folder / f"{stem_for(made.unit, made.period)}_汇总.xlsx"


def make(portal: Portal, db: Session, account: Account, node: str, lang: str, address: str = "") -> Rollup:
    """Roll up `node` now and keep the files in a folder of their own under the data folder."""
    if account.role not in ("node", "admin") or account.role == "node" and account.unit != node:
        raise Refused("not-allowed")
    if portal.registry.is_leaf(node):
        raise Refused("rollup-leaf")
    period = portal.period(db)
    named = named_inputs(portal, db, node)
    files = [path for path, _ in named]
    if not files:
        raise Refused("rollup-nothing")
    # no deadline set is none, as on the board, not one a plugin configures
    deadline = deadline_day(portal.deadline(db)) or None
    summary = rollup(files, registry=portal.registry, unit=node, period=period, spec=portal.spec, deadline=deadline,
                     received=received(portal, db, node))
    summary = as_uploaded(summary, {str(path): name for path, name in named})
    # the files are written under a temporary name and renamed when whole; the row that names them is committed
    # after, so a server killed meanwhile leaves a folder no row refers to, never a row with half its files
    staging = Path(tempfile.mkdtemp(prefix=".rollup-", dir=portal.data / "tmp"))
    try:
        write_summary(summary, staging, portal.spec, [f for f in FORMATS if f in portal.spec.writers], lang)
        lock_unit(db, node)  # rollups of one node at once are numbered one after the other
        made = Rollup(unit=node, period=period, folder="", account_id=account.id,
                      errors=int((summary.issues["severity"] == "错误").sum()))
        db.add(made)
        db.flush()
        made.folder = f"rollups/{node}/{made.id}"
        target = portal.data / made.folder
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)  # left by a server killed before its row was committed
        staging.rename(target)
        # kept in Chinese, as every row before; texts.audit_detail shows it in the reader's language
        audit(db, account, "rollup", node, None, text("audit-rollup", "zh", inputs=len(files), errors=made.errors),
              address)
        db.commit()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return made


def submit_up(portal: Portal, db: Session, account: Account, made: Rollup, address: str = "") -> None:
    """上报: the parent now rolls up from this summary. A summary with errors is not reported."""
    if account.role != "node" or account.unit != made.unit:
        raise Refused("not-allowed")
    parent = (portal.registry.get(made.unit) or {}).get("上级代码")
    if not parent:  # the top of the registry (the 市): nobody to report to; its summary is the result
        raise Refused("report-up-top")
    if made.errors:
        raise Refused("rollup-has-errors", n=made.errors)
    lock_unit(db, made.unit)
    if made.id != last_made(db, made.unit, made.period).id:
        raise Refused("rollup-not-latest")
    if stale(portal, db, made):
        raise Refused("rollup-stale")
    withdraw_reports(portal, db, parent, made.period)  # the parent's own report, and those above, held the old one
    made.submitted_at = now()
    audit(db, account, "report-up", made.unit, None, f"rollup {made.id}", address)
    db.commit()


def stale(portal: Portal, db: Session, made: Rollup) -> bool:
    """Whether the node's inputs have changed since `made` was rolled up (a workbook approved, returned or unlocked
    and uploaded again, a child's summary reported): reported up, it would carry what was since returned or left
    out what was since approved. Compared by SHA-256, as its manifest lists them, so a restored data folder
    elsewhere changes nothing."""
    manifest = portal.data / made.folder / f"{stem_for(made.unit, made.period)}_manifest.json"
    used = sorted(line["sha256"] for line in json.loads(manifest.read_text(encoding="utf-8"))["inputs"])
    current = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs(portal, db, made.unit, made.period))
    return used != current
