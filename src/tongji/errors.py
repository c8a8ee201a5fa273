"""Exceptions are for unusable setup and the program's own failures; data problems are issues."""

from __future__ import annotations

from tongji.i18n import t


class TongjiError(Exception):
    """A setup or usage problem the user must fix (exit code 2). Carries a message key."""

    exit_code = 2

    def __init__(self, key: str, **kw: object):
        self.key, self.kw = key, kw
        super().__init__(key)

    def __str__(self) -> str:
        return t(self.key, **self.kw)
