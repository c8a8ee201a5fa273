"""`tongji demo --serve`: the portal on the bundled sample city, in a state a newcomer can look around in.

Most units have reported (some late, some returned by the checker, one returned by its 街道 with a reason), the
first 街道 has approved its units, rolled up and reported to its 区, and a few units have not reported at all.
Every demo account has the same password, so that any role can be tried; a real collection never does this."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tongji.checking.validate import validate
from tongji.definitions.forms import data_dir
from tongji.demo import with_report_plugin
from tongji.portal import create_app
from tongji.portal.accounts import create_accounts
from tongji.portal.db import Account, Submission
from tongji.portal.node_summary import make, submit_up
from tongji.portal.store import sniff
from tongji.portal.submissions import PENDING, Refused, Upload, keep, review

PERIOD, DEADLINE = "2025", "2026-01-20"
DEMO_PASSWORD = "tongji2025"
MISSING_EVERY, LATE_EVERY = 9, 6  # every 9th unit has not reported; every 6th upload came after the deadline
RETURN_REASON = "会员人数比上年减少较多，请核实后重新上传"


def demo_portal(data: Path, lang: str = "zh", workers: int = 1, database: str | None = None):
    """The demo portal's ASGI app in `data`, on `database` (by default SQLite in `data`); the state is made once,
    in a database without accounts, and kept when the demo is run again."""
    samples = data_dir("samples")
    with_report_plugin()  # the 街道's rollup comes with its HTML report, as in `tongji demo`
    app = create_app(samples / "registry.csv", PERIOD, data=data, database=database, deadline=DEADLINE, lang=lang,
                     check_process=(os.cpu_count() or 1) > 1)
    portal = app.state.portal
    with portal.db() as db:
        if db.scalar(select(Account).limit(1)) is None:
            _fill(portal, db, samples / PERIOD, workers, lang)
    return app


def _fill(portal, db, folder: Path, workers: int, lang: str) -> None:
    create_accounts(db, portal.registry, password=DEMO_PASSWORD)
    by_unit = {a.unit: a for a in db.scalars(select(Account)) if a.unit}
    report = validate([folder], registry=portal.registry, period=PERIOD, spec=portal.spec, workers=workers)
    deadline = portal.deadline(db)
    for n, row in enumerate(report.workbooks.sort("file").iter_rows(named=True)):
        account = by_unit.get(row["unit"])
        path = Path(row["file"])
        if account is None or n % MISSING_EVERY == MISSING_EVERY - 1:
            continue
        data = path.read_bytes()
        try:
            sub = keep(portal, db, account, Upload(path.name, data), sniff(data) or path.suffix,
                       report.for_file(path.name))
        except Refused:
            continue
        late = n % LATE_EVERY == LATE_EVERY - 1
        sub.uploaded_at = deadline + timedelta(days=2 if late else -10, minutes=n)
        db.commit()
    _review_first_street(portal, db, by_unit, lang)


def _review_first_street(portal, db, by_unit: dict, lang: str) -> None:
    """The first 街道 approves its units' workbooks but returns one, rolls up and reports to its 区."""
    district = portal.registry.children(portal.registry.roots()[0])[0]
    street = portal.registry.children(district)[0]
    statistician = by_unit[street]
    pending = list(db.scalars(select(Submission).where(Submission.review == PENDING).order_by(Submission.unit)))
    mine = [s for s in pending if portal.below(street, s.unit)]
    for i, sub in enumerate(mine):
        action, reason = ("return", RETURN_REASON) if i == 0 else ("approve", "")
        review(portal, db, statistician, sub, action, reason, recheck_old=False)  # its upload times are made up
    own = next((s for s in pending if s.unit == street), None)
    if own is not None:
        review(portal, db, by_unit[district], own, "approve", recheck_old=False)
    made = make(portal, db, statistician, street, lang)  # written as the portal's pages say it
    if not made.errors:
        submit_up(portal, db, statistician, made)
