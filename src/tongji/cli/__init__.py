"""The `tongji` command. Each subcommand lives in its own module and calls a library function."""

from __future__ import annotations

import os
import sys

import typer
import typer.main

from tongji.cli.usage import option_from
from tongji.errors import TongjiError
from tongji.i18n import lang, set_lang, t

app = typer.Typer(
    name="tongji",
    help="工会统计报表：生成模板、审核、汇总 (trade-union statistics: templates, validation, rollup)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    lang: str = typer.Option(None, "--lang", help="界面语言 zh 或 en（也可设 TONGJI_LANG）"),
    plugins_dir: str = typer.Option(None, "--plugins-dir", help="插件文件夹（也可设 TONGJI_PLUGINS_DIR）"),
) -> None:
    if lang is not None and not lang.lower().startswith(("zh", "en")):  # not Chinese said as if nothing was wrong
        raise TongjiError("bad-lang", value=lang)
    setting = os.environ.get("TONGJI_LANG", "")
    if lang is None and setting and not setting.lower().startswith(("zh", "en")):  # as --lang fr is refused
        raise TongjiError("bad-lang-env", value=setting)
    set_lang(lang)
    if plugins_dir and plugins_dir != _configured.get("dir"):
        _configure(plugins_dir)


_configured: dict = {}


def _configure(plugins_dir: str | None) -> None:
    from tongji import plugins

    _configured["dir"] = plugins_dir
    plugins.configure(plugins_dir)


def _register() -> None:
    """Add the subcommands (once): imported late so `tongji --help` stays quick."""
    from tongji.cli import (
        demo_command,
        plugins_command,
        rollup_command,
        samples_command,
        serve_command,
        template_command,
        validate_command,
    )

    if "built-in" in _configured:
        return
    for module in (template_command, validate_command, rollup_command, demo_command, samples_command,
                   plugins_command, serve_command):
        module.register(app)
    _configured["built-in"] = len(app.registered_commands)


def _plugin_commands() -> None:
    """Commands plugins add. The plugin host (and with it the engine) starts only where a plugin could add one:
    an entry point of the group or a plugins folder. Without either, `tongji --help` imports none of it."""
    import importlib.metadata
    import os

    del app.registered_commands[_configured["built-in"]:]  # a run before in this process may have added some
    folder = _configured.get("dir") or os.environ.get("TONGJI_PLUGINS_DIR")
    entry_points = os.environ.get("TONGJI_ENTRY_POINTS", "1") != "0" and importlib.metadata.entry_points(
        group="tongji")
    if folder or entry_points:
        from tongji.plugins import host

        host().add_commands(app)


# polars' allocator (jemalloc) keeps pages it has freed for ten seconds by default, so a step's memory still
# counts while the next step allocates its own: at 100,000 units that was some 200 MiB of rollup's peak. Freed
# pages go back at once instead (no slower, measured); read when polars loads, so set before it is imported,
# and inherited by worker processes. A setting of the user's own is kept.
ALLOCATOR = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")


class ReaderGone:
    """stdout when its reader may stop reading early (`tongji validate … | head`): the rest of the output is
    dropped and the command runs to its end, with its own exit code and every file written (click would exit 1,
    the code for data errors, wherever it was)."""

    def __init__(self, out) -> None:
        self._out = out

    def write(self, text: str) -> int:
        try:
            return self._out.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._out.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        null = os.open(os.devnull, os.O_WRONLY)  # what is buffered, and all that follows, goes nowhere
        os.dup2(null, self._out.fileno())
        os.close(null)

    def __getattr__(self, name: str):
        return getattr(self._out, name)


def main() -> None:
    """Console entry point: a user mistake is one clear line and exit code 2, never a traceback."""
    os.environ.setdefault(*ALLOCATOR)
    if sys.stdout is not None and not sys.stdout.isatty():  # None: no output at all (closed, or pythonw)
        sys.stdout = ReaderGone(sys.stdout)
    set_lang(option_from(sys.argv[1:], "--lang"))  # known before parsing, so a usage mistake is said in it
    try:
        plugins_dir = option_from(sys.argv[1:], "--plugins-dir")
        if plugins_dir:
            _configure(plugins_dir)
        _register()
        _plugin_commands()
    except TongjiError as exc:
        print(f"{t('error-prefix')}{exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    try:
        command = typer.main.get_command(app)  # what app() runs, built here so that its help can be English
        if lang() == "en":
            from tongji.cli.help_en import in_english

            in_english(command)
        else:
            from tongji.cli.help_zh import in_chinese

            in_chinese(command)
        # without standalone mode click hands back typer.Exit's code instead of exiting
        code = command(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except TongjiError as exc:  # commands catch their own; this is for errors outside any command
        from rich.console import Console

        Console(stderr=True, highlight=False).print(f"{t('error-prefix')}{exc}")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except Exception as exc:
        # usage errors of typer's vendored click arrive here in standalone_mode=False; duck-typed
        # because the vendored classes are not the installed click's (pitfall 6)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            from tongji.cli.usage import chinese, misplaced, missing_argument

            set_lang(option_from(sys.argv[1:], "--lang"))  # asked for, if after the command: click refused it
            detail = misplaced(exc, sys.argv[1:]) or missing_argument(exc) or exc.format_message()
            if type(exc).__name__ == "NoArgsIsHelpError":  # a bare `tongji` (or `tongji samples`): its help, as is
                print(detail, file=sys.stderr)
            elif detail:
                zh = lang() != "en" and chinese(detail)
                print(t("usage-error", detail=zh or detail), file=sys.stderr)
            sys.exit(exc.exit_code if exc.exit_code else 2)
        _crash(exc)
    except BaseException as exc:  # a reader's panic is a BaseException: still our failure, not a verdict
        if isinstance(exc, SystemExit | KeyboardInterrupt):
            raise
        _crash(exc)


CRASH_EXIT = 3  # a fault in tongji itself: neither a verdict on the workbooks (1) nor a user mistake (2)


def _crash(exc: BaseException) -> None:
    """One line for the statistician, the traceback in a file for whoever maintains tongji, and exit code 3."""
    import tempfile
    import traceback

    fd, log = tempfile.mkstemp(prefix="tongji-crash-", suffix=".txt")
    with open(fd, "w", encoding="utf-8") as f:
        f.write("".join(traceback.format_exception(exc)))
    detail = (str(exc).strip().splitlines() or [""])[0][:200]
    print(t("internal-error", kind=type(exc).__name__, detail=detail, log=log), file=sys.stderr)
    sys.exit(CRASH_EXIT)
