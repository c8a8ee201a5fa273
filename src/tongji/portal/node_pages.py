"""The portal's pages for a node's statistician and for the administrator: progress, 催报, rollup, 上报, accounts
and the deadline. Mixed into web.Web, whose plumbing (signed_in, form, page) they use."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from tongji.definitions.codes import normalize_period
from tongji.portal import accounts, board, node_summary
from tongji.portal.db import Account, Rollup
from tongji.portal.service import audit, deadline_date, settle
from tongji.portal.submissions import Refused
from tongji.portal.texts import text


class NodePages:
    # a node -----------------------------------------------------------------------------------------------------
    def node_of(self, request: Request) -> tuple[Account, str]:
        account = self.signed_in(request)
        code = self.visible_unit(account, request.path_params["code"])
        if account.role == "unit" or self.portal.registry.is_leaf(code):
            raise HTTPException(404)
        return account, code

    async def board(self, request: Request) -> Response:
        account, code = self.node_of(request)
        with self.portal.db() as db:
            items = board.states(self.portal, db, code)
            period, deadline = self.portal.period(db), self.portal.deadline(db)
            # this period's summaries only: an earlier period's, listed first, offered its 上报 as the current one
            made = list(db.scalars(select(Rollup).where(Rollup.unit == code, Rollup.period == period)
                                   .order_by(Rollup.id.desc()).limit(10)))
        wanted = request.query_params.get("state", "")
        children = [i for i in items if self.portal.registry.get(i.unit)["上级代码"] == code
                    and not self.portal.registry.is_leaf(i.unit)]
        within = board.by_child(self.portal.registry, items, code)  # one walk up a unit, not one per child
        shown = [i for i in items[1:] if not wanted or i.state == wanted or wanted == "迟报" and i.late]
        return self.page(request, "board.html", code=code, name=self.portal.name(code), items=shown,
                         own=items[0], total=board.progress(items),
                         children=[(c, board.progress(within.get(c.unit, []))) for c in children],
                         wanted=wanted, rollups=made, period=period, deadline=deadline,
                         mine=account.unit == code, parent=self.portal.registry.get(code)["上级代码"])

    async def reminders(self, request: Request) -> Response:
        _, code = self.node_of(request)
        with self.portal.db() as db:
            items = board.states(self.portal, db, code)
            period = self.portal.period(db)
        target = self.portal.data / "exports" / f"{code}_{period}_催报名单_{secrets.token_hex(4)}.xlsx"
        await run_in_threadpool(board.reminder_list, self.portal, items, target, self.lang)
        return download(target, f"{code}_{period}_催报名单.xlsx", remove=True)

    async def rollup(self, request: Request) -> Response:
        account, code = self.node_of(request)
        await self.form(request)
        try:
            await run_in_threadpool(self.make_rollup, account.id, code, self.address(request))
        except Refused as exc:
            return self.refused(request, exc, 403 if exc.key == "not-allowed" else 400)
        return RedirectResponse(f"/board/{code}", 303)

    def make_rollup(self, account_id: int, code: str, address: str) -> Rollup:
        with self.portal.db() as db:
            return node_summary.make(self.portal, db, db.get(Account, account_id), code, self.lang, address)

    def visible_rollup(self, db, account: Account, made_id: str) -> Rollup:
        made = None if (found := row_id(made_id)) is None else db.get(Rollup, found)
        if made is None or account.role == "unit" or not self.portal.sees(account, made.unit):
            raise HTTPException(404)
        return made

    async def rollup_file(self, request: Request) -> Response:
        account = self.signed_in(request)
        with self.portal.db() as db:
            made = self.visible_rollup(db, account, request.path_params["id"])
        folder = self.portal.data / made.folder
        files = {p.name: p for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}
        name = request.path_params["name"]
        if name not in files:  # only a file that is there, by its exact name: no path ever comes from the URL
            raise HTTPException(404)
        return download(files[name], name)

    async def report_up(self, request: Request) -> Response:
        account = self.signed_in(request)
        await self.form(request)
        try:
            with self.portal.db() as db:
                made = self.visible_rollup(db, account, request.path_params["id"])
                node_summary.submit_up(self.portal, db, db.get(Account, account.id), made, self.address(request))
        except Refused as exc:
            return self.refused(request, exc, 403 if exc.key == "not-allowed" else 400)
        return RedirectResponse(f"/board/{made.unit}", 303)

    # administration --------------------------------------------------------------------------------------------
    def admin_only(self, request: Request) -> Account:
        account = self.signed_in(request)
        if account.role != "admin":
            raise HTTPException(404)
        return account

    async def admin(self, request: Request) -> Response:
        self.admin_only(request)
        with self.portal.db() as db:
            everyone = list(db.scalars(select(Account).order_by(Account.login)))
            period, deadline = self.portal.period(db), self.portal.deadline(db)
        return self.page(request, "admin.html", accounts=everyone, period=period, deadline=deadline,
                         roots=self.portal.registry.roots(), note=request.query_params.get("note", ""))

    async def admin_deadline(self, request: Request) -> Response:
        account = self.admin_only(request)
        form = await self.form(request)
        day = deadline_date(self.field(form, "deadline"))
        if day is None:
            return self.page(request, "message.html", 400, message=text("deadline-bad", self.lang))
        with self.portal.db() as db:
            settle(db, self.portal.period(db), day.isoformat())
            audit(db, account, "deadline", None, None, day.isoformat(), self.address(request))
            db.commit()
        return RedirectResponse("/admin", 303)

    async def admin_period(self, request: Request) -> Response:
        """A new period starts a new round: the boards and rollups show that period's submissions only."""
        account = self.admin_only(request)
        form = await self.form(request)
        period = normalize_period(self.field(form, "period"))
        if not period:
            return self.page(request, "message.html", 400, message=text("period-bad", self.lang))
        with self.portal.db() as db:
            settle(db, period, None)
            audit(db, account, "period", None, None, period, self.address(request))
            db.commit()
        return RedirectResponse("/admin", 303)

    async def admin_reset(self, request: Request) -> Response:
        account = self.admin_only(request)
        await self.form(request)
        with self.portal.db() as db:
            target = db.scalar(select(Account).where(Account.login == request.path_params["login"]))
            if target is None:
                raise HTTPException(404)
            password = accounts.reset_password(db, target)
            audit(db, account, "reset", target.unit, None, target.login, self.address(request))
            db.commit()
        return self.page(request, "message.html", message=text("new-one-time", self.lang, login=target.login,
                                                                password=password))


def row_id(text: str) -> int | None:
    """A row id from a URL, or None (found nowhere): digits only, and few enough for the database's 64-bit
    integer (a longer number made SQLite raise, a server error instead of "not found")."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def download(path: Path, name: str, remove: bool = False) -> Response:
    task = BackgroundTask(path.unlink, missing_ok=True) if remove else None
    return FileResponse(path, filename=name, background=task,
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                        if name.endswith(".xlsx") else None)
