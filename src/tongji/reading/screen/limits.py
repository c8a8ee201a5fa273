"""The limits a workbook is read within (configuration), and what the screen found."""

from __future__ import annotations

import contextlib
import functools
import os
import time
from dataclasses import dataclass, field

from tongji.definitions import Spec

# name in the [config] table of schemas/forms.toml → default when no configuration names it
LIMIT_KEYS = {"bytes": ("工作簿解压上限MB", 100), "rows": ("工作表行数上限", 10_000),
              "cols": ("工作表列数上限", 200), "seconds": ("读取时限秒", 10)}


@dataclass(frozen=True)
class Limits:
    mb: float
    rows: int
    cols: int
    seconds: float

    @classmethod
    def of(cls, spec: Spec | None) -> Limits:
        """The limits the spec's configuration sets; the defaults for what it does not, or without a spec."""
        params = spec.params if spec is not None else {}
        get = {k: params.get(name, default) for k, (name, default) in LIMIT_KEYS.items()}
        return cls(get["bytes"], int(get["rows"]), int(get["cols"]), get["seconds"])

    @property
    def bytes(self) -> int:
        return int(self.mb * 2**20)


@dataclass
class Verdict:
    """What the screen found. `whole` is (message key, kw) when the file must not be read at all;
    `sheets` maps a sheet that must not be read to its (message key, kw); `errors` holds .ods formula
    errors, which calamine reads as empty text: sheet → {(Excel row, 0-based column): "#DIV/0!"}; `xml` the XML of
    the small .xlsx sheets it inflated and found inside the limits, by sheet name (reading/blanks.py looks there
    for why a cell is empty instead of inflating it again)."""

    whole: tuple[str, dict] | None = None
    sheets: dict[str, tuple[str, dict]] = field(default_factory=dict)
    errors: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    xml: dict[str, bytes] = field(default_factory=dict)


class Over(Exception):
    def __init__(self, key: str, **kw):
        self.key, self.kw = key, kw


def mb(limits: Limits) -> str:
    return f"{limits.mb:g}"


def check_time(deadline: float, limits: Limits) -> None:
    if time.monotonic() > deadline:
        raise Over("too-large-time", limit=f"{limits.seconds:g}")


@contextlib.contextmanager
def quiet_stderr():
    """Silence file descriptor 2 while calamine runs: a Rust panic prints its message (and with RUST_BACKTRACE
    a backtrace) there before it reaches Python as an exception, which becomes an issue in Chinese instead."""
    try:
        saved, sink = os.dup(2), _devnull()
    except OSError:  # no stderr to silence
        yield
        return
    os.dup2(sink, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.cache
def _devnull() -> int:
    """/dev/null, opened once per process for every workbook's quiet_stderr."""
    return os.open(os.devnull, os.O_WRONLY)


def beyond(row: int, col: int, cells: int, limits: Limits) -> tuple[str, dict] | None:
    if row > limits.rows:
        return "too-large-rows", {"limit": limits.rows}
    if col > limits.cols:
        return "too-large-cols", {"limit": limits.cols}
    if cells > limits.rows * limits.cols:  # the same cell written again and again
        return "too-large-cells", {"limit": limits.rows * limits.cols}
    return None
