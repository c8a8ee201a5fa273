"""What every command shares: the console and the progress bar."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tongji.errors import TongjiError
from tongji.i18n import t
from tongji.writing.text import terminal_safe

if TYPE_CHECKING:  # the cluster module is imported when a command is pointed at one, not for `tongji --help`
    from tongji.reading.cluster import Dask

PROGRESS_MIN = 5  # fewer files than this finish before a bar would be seen
LEVELS_HELP = "层级名称自上而下，逗号分隔（默认 市,区,街道,基层；也可设 TONGJI_LEVELS）"
MAX_WORKERS = 4  # more reading processes than this gain little and cost memory


def workers() -> int:
    """Worker processes a command reads (and the sample generator writes) with: TONGJI_WORKERS, else one per
    core (at most MAX_WORKERS). The library itself uses one process unless given `workers=`."""
    env = os.environ.get("TONGJI_WORKERS", "").strip()
    if env and not env.isdecimal():  # "abc" or "-2" was the default, silently: a setting that did nothing
        raise TongjiError("bad-workers-env", value=env)
    return max(1, int(env)) if env else min(os.cpu_count() or 1, MAX_WORKERS)


def check_address(host: str, port: int) -> None:
    """Refuse, before the portal says it is running, an address uvicorn could not listen on: it would fail after
    saying so, with its traceback and exit code 3. A port another program holds (an earlier portal still
    running), no port at all, or an address this machine does not have."""
    import errno
    import socket

    address = f"{host}:{port}"
    if not 0 < port < 65536:
        raise TongjiError("serve-port-range", address=address)
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is free
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise TongjiError("serve-port-busy", address=address) from None
        if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
            raise TongjiError("serve-host", address=address) from None
        if exc.errno in (errno.EACCES, errno.EPERM) and port < 1024:  # --port 80 as an ordinary user
            raise TongjiError("serve-port-privileged", address=address) from None
        # the system's words are English: in Chinese, its code, which whoever helps can look up
        raise TongjiError("serve-address", address=address, detail=exc.strerror or exc,
                          code=errno.errorcode.get(exc.errno, type(exc).__name__)) from None


DASK_HELP = "Dask 集群调度器地址（如 tcp://10.0.0.5:8786；也可设 TONGJI_DASK）：在集群各节点上读取并审核工作簿"
SEND_BYTES_HELP = "把工作簿内容发给 Dask 各节点（各节点看不到同一共享路径时用）"


def executor(dask: str | None = None, send_bytes: bool = False) -> int | Dask:
    """Where a command reads and checks: the Dask cluster of `--dask` or TONGJI_DASK, else local processes."""
    if dask or send_bytes or os.environ.get("TONGJI_DASK", "").strip():
        from tongji.reading.cluster import from_env

        cluster = from_env(dask, send_bytes)
        if cluster is None:
            raise TongjiError("dask-send-bytes-alone")
        return cluster
    return workers()


def say_passed_over(out: Console, paths: list) -> None:
    """A notice for files in the input folders saved in a format tongji does not read (a WPS .et, a .csv): their
    units would otherwise just be missing, without a word why."""
    from tongji.i18n import Items
    from tongji.reading.discover import file_text, passed_over

    skipped = passed_over(paths)
    if skipped:
        names = Items([terminal_safe(file_text(p)) for p in skipped], few=5)  # shown() cleans only plain text
        out.print(shown("cli-passed-over", n=len(skipped), files=names))


def console() -> Console:
    """A terminal gets colours; a pipe gets plain text wide enough not to wrap Chinese tables."""
    c = Console(highlight=False)
    return c if c.is_terminal else Console(highlight=False, width=200, no_color=True)


def shown(key: str, **kw: object) -> str:
    """t() for the terminal: the names and paths put into the message come from files and folders, so
    they are cleaned of escape sequences and cannot be read as rich markup."""
    return t(key, **{k: terminal_safe(str(v)) if isinstance(v, str | PurePath) else v for k, v in kw.items()})


@contextlib.contextmanager
def progress(out: Console, label: str) -> Iterator[tuple]:
    """Yield (on_total, tick) callbacks; a bar is drawn only on a terminal and for enough files. Each on_total(n)
    adds n steps: work in stages (the demo's checking, copies and summaries) fills one bar."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=out, transient=True)
    state = {"task": None, "total": 0, "done": 0}

    def on_total(n: int) -> None:
        state["total"] += n
        if state["task"] is not None:
            bar.update(state["task"], total=state["total"])
        elif out.is_terminal and state["total"] >= PROGRESS_MIN:
            bar.start()
            state["task"] = bar.add_task(label, total=state["total"], completed=state["done"])

    def tick() -> None:
        state["done"] += 1
        if state["task"] is not None:
            bar.advance(state["task"])

    try:
        yield on_total, tick
    finally:
        if state["task"] is not None:
            bar.stop()


def friendly(command: Callable) -> Callable:
    """A setup or usage mistake becomes one clear line on stderr and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except TongjiError as exc:
            err = Console(stderr=True, highlight=False)
            if not err.is_terminal:  # a pipe or a log file: one line, not wrapped at 80 columns
                err = Console(stderr=True, highlight=False, width=10_000, no_color=True)
            err.print(f"{t('error-prefix')}{terminal_safe(str(exc))}")
            raise typer.Exit(exc.exit_code) from None

    return wrapper
