"""Accounts from the registry, passwords (argon2), sign-in with throttling, and browser sessions."""

from __future__ import annotations

import hashlib
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.orm import Session

from tongji.definitions.registry import Registry
from tongji.portal.db import Account, LoginSession, now

# OWASP's argon2id setting (19 MiB, 2 passes, 1 lane): the library's default (64 MiB, 4 lanes) takes 0.25-0.5 s a
# hash on a 2-core office server, so a 10,000-unit city's accounts would take an hour to make.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper and typed by hand
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8
ADMIN = "admin"


def one_time_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


def role_of(registry: Registry, code: str) -> str:
    return "unit" if registry.is_leaf(code) else "node"


def create_accounts(db: Session, registry: Registry, reset: bool = False, password: str | None = None,
                    tick=None, on_total=None) -> list[dict]:
    """An account for every active unit of the registry (login = 单位代码) and the administrator.
    Returns the accounts given a new one-time password: those just made, or all with `reset`.
    `password` gives every account that one, with no change forced (the demo only). `on_total(n)` is told how many
    passwords are to be hashed, and `tick()` once each is (a 10,000-unit city's take minutes)."""
    existing = {a.login: a for a in db.scalars(select(Account))}
    codes = [c for root in registry.roots() for c in registry.subtree(root)]
    todo = [(login, unit, role) for login, unit, role in
            [(ADMIN, None, "admin"), *[(c, c, role_of(registry, c)) for c in codes]]
            if reset or login not in existing]
    passwords = [password or one_time_password() for _ in todo]
    if on_total:
        on_total(len(todo))
    hashes = []
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # argon2 lets go of the GIL while it hashes
        for hashed in pool.map(HASHER.hash, passwords) if password is None else [HASHER.hash(password)] * len(todo):
            hashes.append(hashed)
            if tick:
                tick()
    made = []
    for (login, unit, role), password_, hashed in zip(todo, passwords, hashes, strict=True):
        account = existing.get(login)
        if account is None:
            account = Account(login=login, unit=unit, role=role, password_hash="")
            db.add(account)
        account.password_hash, account.must_change = hashed, password is None
        account.failed_logins, account.locked_until = 0, None
        if account.id is not None:  # an account given a new password: its sessions end (reset_password)
            db.execute(delete(LoginSession).where(LoginSession.account_id == account.id))
        row = registry.get(unit) if unit else None
        made.append({"login": login, "password": password_, "unit": unit or "", "role": role,
                     "name": row["单位名称"] if row else "", "level": row["层级"] if row else ""})
    db.commit()
    return made


def sign_in(db: Session, login: str, password: str) -> tuple[Account | None, str]:
    """(account, "") when the password is right; (None, reason) otherwise: "bad" or "locked".
    After MAX_FAILURES wrong passwords the account is locked for LOCKOUT, right password or not.

    Each attempt takes one of the MAX_FAILURES tries in a single UPDATE before the password is verified, so
    attempts at once in several processes are counted by the database: ten wrong passwords at once are five
    "bad" and five "locked", never more tries than allowed."""
    account = db.scalar(select(Account).where(Account.login == login.strip()))
    if account is None:
        HASHER.hash(password)  # the same time is spent whether or not the login exists
        return None, "bad"
    moment, row = now(), Account.id == account.id
    unlocked = or_(Account.locked_until.is_(None), Account.locked_until <= moment)
    db.execute(update(Account).where(row, Account.failed_logins >= MAX_FAILURES, unlocked)  # its lock ran out
               .values(failed_logins=0, locked_until=None))
    taken = db.execute(update(Account).where(row, Account.failed_logins < MAX_FAILURES).values(
        failed_logins=Account.failed_logins + 1,
        locked_until=case((Account.failed_logins + 1 >= MAX_FAILURES,  # bound as the column's UTC type
                           literal(moment + LOCKOUT, Account.locked_until.type)), else_=None)))
    db.commit()
    if taken.rowcount != 1:
        return None, "locked"
    try:
        HASHER.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None, "bad"
    db.execute(update(Account).where(row).values(failed_logins=0, locked_until=None))
    db.commit()
    db.refresh(account)
    return account, ""


def set_password(db: Session, account: Account, password: str) -> None:
    account.password_hash, account.must_change = HASHER.hash(password), False
    db.execute(delete(LoginSession).where(LoginSession.account_id == account.id))  # other browsers sign out
    db.commit()


def reset_password(db: Session, account: Account) -> str:
    """A new one-time password for the account (returned; the caller commits), its lock lifted and every session
    of it ended: a browser left signed in, or a stolen cookie, must not be the one to choose the next password."""
    password = one_time_password()
    account.password_hash, account.must_change = HASHER.hash(password), True
    account.failed_logins, account.locked_until = 0, None
    db.execute(delete(LoginSession).where(LoginSession.account_id == account.id))
    return password


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Session, account: Account) -> str:
    """A new random token for every sign-in, so a token planted before it is worth nothing (session fixation)."""
    token = secrets.token_urlsafe(32)
    db.add(LoginSession(token_hash=_digest(token), account_id=account.id, csrf=secrets.token_urlsafe(24)))
    db.commit()
    return token


def session_of(db: Session, token: str | None, max_age: timedelta) -> tuple[LoginSession, Account] | None:
    if not token:
        return None
    found = db.get(LoginSession, _digest(token))
    if found is None or found.created_at < now() - max_age:
        return None
    account = db.get(Account, found.account_id)
    return (found, account) if account else None


def close_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
        db.commit()
