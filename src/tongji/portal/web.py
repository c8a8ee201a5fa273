"""The portal's pages and actions (Starlette): each route checks who is signed in and what they may see.

Anything of another unit is "not found" (404), never "forbidden", so ids cannot be probed; an action a visible
object does not allow is 403. Every state change is a POST carrying the session's CSRF token."""

from __future__ import annotations

import contextlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tongji.errors import TongjiError
from tongji.portal import accounts, submissions
from tongji.portal.db import Account, Rollup, Submission
from tongji.portal.node_pages import NodePages, download, row_id
from tongji.portal.service import Portal, deadline_day, history, local
from tongji.portal.submissions import Refused, Upload
from tongji.portal.texts import audit_detail, text
from tongji.writing.template import make_templates, unit_template_name

COOKIE, LOGIN_CSRF = "tongji_session", "tongji_login_csrf"
SESSION_AGE = timedelta(hours=12)
# a review refused because the version changed meanwhile, said on the version's page its POST redirects to
REVIEW_REFUSALS = ("review-not-latest", "review-wrong-state", "review-rechecked", "review-needs-reason")
TYPED = 600  # characters of a typed reason carried in that address: within what servers and proxies take in a URL
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def same_token(sent: object, expected: str | None) -> bool:
    """Whether a posted CSRF token is the expected one, in constant time. Compared as UTF-8 bytes:
    hmac.compare_digest refuses a str with a non-ASCII character (a TypeError, a server error), and a token
    typed or forged with one must be refused like any other wrong token."""
    if not expected or not isinstance(sent, str):
        return False
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


class Web(NodePages):
    def __init__(self, portal: Portal, lang: str):
        self.portal, self.lang = portal, lang
        self.env = Environment(loader=PackageLoader("tongji.portal", "templates"),
                               autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(_=lambda key, **kw: text(key, lang, **kw), lang=lang, portal_files=self.files_of,
                                audit_detail=audit_detail)
        self.env.filters.update(local=local, day=deadline_day)

    def files_of(self, made: Rollup) -> list[str]:
        folder = self.portal.data / made.folder
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    # plumbing -----------------------------------------------------------------------------------------------
    def page(self, request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        context.setdefault("me", getattr(request.state, "account", None))
        context.setdefault("csrf", getattr(request.state, "csrf", ""))
        html = self.env.get_template(template).render(portal=self.portal, **context)
        return HTMLResponse(html, status_code=status)

    def signed_in(self, request: Request) -> Account:
        """The account of this request, or a redirect to sign in; a forced password change comes first (signing
        out aside: a one-time password's session on a shared computer must end when its user signs out)."""
        with self.portal.db() as db:
            found = accounts.session_of(db, request.cookies.get(COOKIE), SESSION_AGE)
        if found is None:
            raise HTTPException(303, headers={"Location": "/login"})
        session, account = found
        request.state.account, request.state.csrf = account, session.csrf
        if account.must_change and request.url.path not in ("/password", "/logout"):
            raise HTTPException(303, headers={"Location": "/password"})
        return account

    async def form(self, request: Request, limit: int = 64 * 1024, files: int = 0):
        """The posted form, refused unless it carries this session's CSRF token. A form with files must be
        closed by the caller (its uploads are spooled to temporary files)."""
        length = request.headers.get("content-length")
        if length is None or not length.isdecimal():  # sent in chunks: its size is known only once all read
            raise HTTPException(411)
        if int(length) > limit:
            raise HTTPException(413)
        form = await request.form(max_files=files, max_fields=20)
        if not same_token(form.get("csrf"), request.state.csrf):
            await form.close()
            raise HTTPException(400, detail="csrf")
        return form

    @staticmethod
    def field(form, key: str) -> str:
        """A form's text field. A NUL character is dropped: PostgreSQL's text cannot hold one (SQLite's can), and
        no login, reason or date has one, so typing it must not make the page fail on one database only."""
        return str(form.get(key, "")).replace("\x00", "")

    def refused(self, request: Request, exc: Refused, status: int = 400) -> HTMLResponse:
        return self.page(request, "message.html", status, message=self.said(exc))

    def said(self, exc: Refused) -> str:
        # a state (待审, 退回, 已审核) is a word of the portal's own, said in the page's language like everywhere
        kw = {k: text(v, self.lang) if k == "state" else v for k, v in exc.kw.items()}
        return text(exc.key, self.lang, **kw)

    @staticmethod
    def address(request: Request) -> str:
        return request.client.host if request.client else ""

    def visible_submission(self, db, account: Account, sub_id: str) -> Submission:
        sub = None if (found := row_id(sub_id)) is None else db.get(Submission, found)
        if sub is None or not self.portal.sees(account, sub.unit):
            raise HTTPException(404)
        return sub

    def visible_unit(self, account: Account, code: str) -> str:
        if code not in self.portal.registry or not self.portal.sees(account, code):
            raise HTTPException(404)
        return code

    # sign-in --------------------------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        account = self.signed_in(request)
        if account.role == "admin":
            return RedirectResponse("/admin", 303)
        where = "board" if account.role == "node" else "units"
        return RedirectResponse(f"/{where}/{account.unit}", 303)

    async def login(self, request: Request) -> Response:
        token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
        problem, typed = "", ""
        if request.method == "POST":
            form = await request.form(max_files=0, max_fields=5)
            if not same_token(form.get("csrf"), request.cookies.get(LOGIN_CSRF)):
                raise HTTPException(400, detail="csrf")
            with self.portal.db() as db:
                account, why = accounts.sign_in(db, self.field(form, "login"), self.field(form, "password"))
                if account is not None:
                    response = RedirectResponse("/", 303)
                    self.set_cookie(request, response, COOKIE, accounts.open_session(db, account))
                    response.delete_cookie(LOGIN_CSRF)
                    return response
            problem = text("login-bad" if why == "bad" else "login-locked", self.lang)
            typed = self.field(form, "login")[:64]  # kept in the form: only the password is typed again
        response = self.page(request, "login.html", 401 if problem else 200, login_csrf=token, problem=problem,
                             me=None, typed=typed)
        self.set_cookie(request, response, LOGIN_CSRF, token)
        return response

    @staticmethod
    def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
        response.set_cookie(name, value, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                            max_age=int(SESSION_AGE.total_seconds()))

    async def logout(self, request: Request) -> Response:
        self.signed_in(request)
        await self.form(request)
        with self.portal.db() as db:
            accounts.close_session(db, request.cookies.get(COOKIE))
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE)
        return response

    async def password(self, request: Request) -> Response:
        account = self.signed_in(request)
        problem = ""
        if request.method == "POST":
            form = await self.form(request)
            new, again = self.field(form, "password"), self.field(form, "again")
            if len(new) < accounts.MIN_PASSWORD:
                problem = text("password-short", self.lang)
            elif new != again:
                problem = text("password-differ", self.lang)
            elif not account.must_change and not self.knows_password(account, self.field(form, "current")):
                problem = text("password-current", self.lang)  # a browser left signed in cannot take the account
            else:
                with self.portal.db() as db:
                    accounts.set_password(db, db.get(Account, account.id), new)
                    response = RedirectResponse("/", 303)
                    self.set_cookie(request, response, COOKIE, accounts.open_session(db, db.get(Account, account.id)))
                    return response
        return self.page(request, "password.html", 400 if problem else 200, problem=problem)

    def knows_password(self, account: Account, password: str) -> bool:
        """Whether `password` is the account's own, counted as a sign-in attempt (so it locks the account alike)."""
        with self.portal.db() as db:
            return accounts.sign_in(db, account.login, password)[0] is not None

    # a unit ---------------------------------------------------------------------------------------------------
    async def unit(self, request: Request) -> Response:
        account = self.signed_in(request)
        code = self.visible_unit(account, request.path_params["code"])
        with self.portal.db() as db:
            period = self.portal.period(db)
            items = submissions.versions(db, code, period)
            log = history(db, code)
            deadline = self.portal.deadline(db)
        return self.page(request, "unit.html", code=code, name=self.portal.name(code), versions=items,
                         latest=items[0] if items else None, log=log, period=period, deadline=deadline,
                         own=account.unit == code, limit=self.portal.upload_limit // (1024 * 1024),
                         revoked=self.portal.registry.get(code)["状态"] == "撤销")

    async def upload(self, request: Request) -> Response:
        account = self.signed_in(request)
        code = self.visible_unit(account, request.path_params["code"])
        if account.unit != code:
            raise HTTPException(403)
        form = await self.form(request, limit=self.portal.upload_limit + 64 * 1024, files=1)
        try:
            file = form.get("file")
            if file is None or isinstance(file, str) or not file.filename:
                return self.refused(request, Refused("upload-missing"))
            data, filename = await file.read(self.portal.upload_limit + 1), file.filename
        finally:
            await form.close()
        try:
            sub = await run_in_threadpool(self.submit, account.id, Upload(filename, data, self.address(request)))
        except Refused as exc:
            return self.refused(request, exc, {"upload-too-large": 413, "store-full": 503}.get(exc.key, 400))
        return RedirectResponse(f"/submissions/{sub.id}", 303)

    def submit(self, account_id: int, upload: Upload) -> Submission:
        with self.portal.db() as db:
            return submissions.submit(self.portal, db, db.get(Account, account_id), upload)

    async def template(self, request: Request) -> Response:
        account = self.signed_in(request)
        code = self.visible_unit(account, request.path_params["code"])
        with self.portal.db() as db:
            period = self.portal.period(db)
        folder = self.portal.data / "templates" / period / code
        # by its exact name: the folder may hold `.tongji-….xlsx`, another request's template being written (or
        # one a crash left). Requests that all find none each write their own and rename it into place, which is
        # atomic across processes too, and a template is the same bytes each time it is made.
        path = folder / unit_template_name(self.portal.registry, period, code, self.portal.spec)
        if not path.is_file():
            await run_in_threadpool(make_templates, self.portal.registry, period, folder, unit=code,
                                    spec=self.portal.spec, overwrite=True)  # another request's: the same bytes
        return download(path, path.name)

    # a submission ---------------------------------------------------------------------------------------------
    async def submission(self, request: Request) -> Response:
        """A version's page; after a refused review (`?refused=KEY&typed=REASON`, where its POST was redirected),
        with what refused it, said of the version as it is now, and the reason typed, kept to send again."""
        account = self.signed_in(request)
        refused = request.query_params.get("refused")
        if refused not in REVIEW_REFUSALS:  # an address made up by hand says nothing of a refusal
            refused = None
        typed = request.query_params.get("typed", "")[:TYPED] if refused else ""
        with self.portal.db() as db:
            sub = self.visible_submission(db, account, request.path_params["id"])
            latest = submissions.latest(db, sub.unit, sub.period)
            log = [a for a in history(db, sub.unit) if a.submission_id == sub.id]
        problem = self.said(Refused(refused, state=sub.review, n=sub.errors)) if refused else ""
        issues = submissions.issues_of(self.portal, sub, self.lang).to_dicts()
        reviewer = account.role == "admin" or account.role == "node" and self.portal.below(account.unit, sub.unit)
        return self.page(request, "submission.html", 400 if refused else 200, sub=sub, issues=issues,
                         is_latest=latest.id == sub.id, latest=latest, reviewer=reviewer, log=log,
                         name=self.portal.name(sub.unit), problem=problem, typed=typed)

    async def original(self, request: Request) -> Response:
        account = self.signed_in(request)
        with self.portal.db() as db:
            sub = self.visible_submission(db, account, request.path_params["id"])
        return download(self.portal.store.path(sub.sha256, sub.suffix), f"{sub.unit}_v{sub.version}{sub.suffix}")

    async def annotated(self, request: Request) -> Response:
        account = self.signed_in(request)
        with self.portal.db() as db:
            sub = self.visible_submission(db, account, request.path_params["id"])
        path = await run_in_threadpool(submissions.annotated, self.portal, sub, self.lang)
        return download(path, f"{sub.unit}_v{sub.version}_标注.xlsx")

    async def review(self, request: Request) -> Response:
        account = self.signed_in(request)
        form = await self.form(request)
        action = self.field(form, "action")
        if action not in ("approve", "return", "unlock"):
            raise HTTPException(400)
        try:
            with self.portal.db() as db:
                sub = self.visible_submission(db, account, request.path_params["id"])
                sub_id = sub.id  # a refusal rolls back, and the row with it
                submissions.review(self.portal, db, db.get(Account, account.id), sub, action,
                                   self.field(form, "reason"), self.address(request))
        except Refused as exc:
            if exc.key == "not-allowed":
                return self.refused(request, exc, 403)
            # another reviewer acted first, or a new version came: redirected to the page as it is now, saying why,
            # the typed reason kept; a reload of that page reads it again and posts nothing
            query = {"refused": exc.key}
            if action == "return" and (typed := self.field(form, "reason").strip()):
                query["typed"] = typed[:TYPED]
            return RedirectResponse(f"/submissions/{sub_id}?{urlencode(query)}", 303)
        return RedirectResponse(f"/submissions/{sub_id}", 303)


    async def database_down(self, request: Request, exc: Exception) -> Response:
        """The database stopped or unreachable, or busy (SQLite's one writer at a time, after its wait): 503 and a
        clear page saying which. Every change is one transaction, so what was acknowledged before is kept and what
        was cut off was never acknowledged."""
        busy = "database is locked" in str(getattr(exc, "orig", exc))
        response = self.page(request, "message.html", 503, message=text("database-busy" if busy else "database-down",
                                                                         self.lang), me=None)
        response.headers["Retry-After"] = "5" if busy else "30"
        return response

    async def error(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code in (301, 302, 303):
            return RedirectResponse(exc.headers["Location"], exc.status_code)
        if isinstance(exc, TongjiError):  # a setup problem met by a page (a registry changed under it): said
            return self.page(request, "message.html", 400, message=exc.text(self.lang))
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        # 405: a GET where only a POST is (an old link to /logout, a page reloaded): no such page, for its user
        key = {404: "not-found", 405: "not-found", 403: "forbidden", 411: "length-required",
               413: "upload-too-large"}.get(status, "server-error")
        if status == 400 and getattr(exc, "detail", "") == "csrf":
            key = "csrf"
        elif status == 400:
            key = "not-allowed"
        message = text(key, self.lang, limit=self.portal.upload_limit // (1024 * 1024))
        response = self.page(request, "message.html", status, message=message)
        if status == 405 and exc.headers:  # the router says which methods there are; static files do not
            response.headers.update(exc.headers)
        if status == 500:  # made outside the middleware, so it gets the headers here
            response.headers.update(SECURITY_HEADERS)
        return response


def routes(web: Web) -> list:
    get, post = ["GET"], ["POST"]
    return [
        Route("/", web.home, methods=get),
        Route("/login", web.login, methods=["GET", "POST"]),
        Route("/logout", web.logout, methods=post),
        Route("/password", web.password, methods=["GET", "POST"]),
        Route("/units/{code}", web.unit, methods=get),
        Route("/units/{code}/upload", web.upload, methods=post),
        Route("/units/{code}/template", web.template, methods=get),
        Route("/submissions/{id}", web.submission, methods=get),
        Route("/submissions/{id}/file", web.original, methods=get),
        Route("/submissions/{id}/annotated", web.annotated, methods=get),
        Route("/submissions/{id}/review", web.review, methods=post),
        Route("/board/{code}", web.board, methods=get),
        Route("/board/{code}/reminders", web.reminders, methods=get),
        Route("/board/{code}/rollup", web.rollup, methods=post),
        Route("/rollups/{id}/files/{name}", web.rollup_file, methods=get),
        Route("/rollups/{id}/report-up", web.report_up, methods=post),
        Route("/admin", web.admin, methods=get),
        Route("/admin/deadline", web.admin_deadline, methods=post),
        Route("/admin/period", web.admin_period, methods=post),
        Route("/admin/accounts/{login}/reset", web.admin_reset, methods=post),
        Mount("/static", StaticFiles(packages=[("tongji.portal", "static")]), name="static"),
    ]


class SecurityHeaders:
    """CSP without inline script, no framing, no sniffing, nothing cached: on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADER_BYTES]
            await send(message)

        await self.app(scope, receive, with_headers)


HEADER_BYTES = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]


def make_app(portal: Portal, lang: str) -> Starlette:
    web = Web(portal, lang)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        portal.checker.start()
        yield
        portal.checker.close()  # the checking process stops with the server

    return Starlette(routes=routes(web), middleware=[Middleware(SecurityHeaders)], lifespan=lifespan,
                     # TongjiError by name: under Exception alone, Starlette would answer it and then raise it
                     # again, a traceback in the server's log for a message already shown
                     exception_handlers={Exception: web.error, HTTPException: web.error, TongjiError: web.error,
                                         OperationalError: web.database_down, InterfaceError: web.database_down})
