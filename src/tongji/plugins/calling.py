"""Calling a plugin's own code (a writer, a check, a hook, a command) with the arguments it names: a failure of
its own is named with the plugin, exit code 2, never tongji's crash."""

from __future__ import annotations

import functools
import inspect
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tongji.definitions.builder import BUILTIN
from tongji.definitions.forms import Spec
from tongji.errors import PluginError, TongjiError


@dataclass
class Writer:
    """An output format: `write` takes any of summary, out_dir, spec, units, registry, lang, by name."""

    name: str
    write: Callable
    plugin: str
    description: str = ""

    def run(self, summary, out_dir: Path, spec: Spec, lang: str) -> list[Path]:
        """Call the writer with the arguments it names; `units` is built only for a writer that asks. `lang` is the
        language ("zh" or "en") the summary is written in: a writer that does not name it still works."""
        wanted = parameters(self.write)
        given = {"summary": summary, "out_dir": Path(out_dir), "spec": spec,
                 "registry": getattr(summary, "registry", None), "lang": lang}
        if wanted is None or "units" in wanted:
            from tongji.aggregating.summary import unit_table

            given["units"] = unit_table(summary, spec)
        written = guarded(self.plugin, (f"输出格式 {self.name}", f"output format {self.name}"), self.write, given)
        folder = Path(out_dir).resolve()
        if not isinstance(written, list | tuple) or not all(isinstance(p, Path) for p in written):
            raise TongjiError("plugin-bad-output", name=self.plugin, format=self.name, value=repr(written)[:120])
        for path in written:  # named as the author wrote it: out_dir is a staging folder the author never sees
            if path.resolve().parent != folder or not path.is_file():
                inside = path.resolve().parent == folder
                raise TongjiError("plugin-output-not-written", name=self.plugin, format=self.name,
                                  file=f"out_dir / {path.name!r}" if inside else str(path))
        return list(written)


def parameters(fn: Callable) -> set[str] | None:
    """The argument names `fn` takes; None when it takes **kwargs (then it gets everything)."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def guarded(plugin: str, where: str | tuple[str, str], fn: Callable, available: dict, own: Callable | None = None):
    """Call a plugin's function (writer, check) with the arguments it names: its PluginError is its own one-line
    message; any other exception is the plugin's bug, reported with its name, never as a traceback. `where` names
    what was called, a hook's name or (Chinese, English) words such as ("检查 x", "check x"). The line said is the
    last one of `own` (default `fn`: a hook is called through pluggy, `own` is the plugin's function) that ran."""
    wanted = parameters(fn)
    try:
        return fn(**(available if wanted is None else {k: v for k, v in available.items() if k in wanted}))
    except PluginError as exc:
        exc.plugin = exc.plugin or plugin
        raise
    except TongjiError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's own bug is its error, named
        if plugin == BUILTIN or _typer_exit(exc):  # tongji's own bug: the CLI's crash report, not a plugin's
            raise
        hook, hook_en = where if isinstance(where, tuple) else (where, where)
        error = f"{type(exc).__name__}: {exc}"
        code = getattr(own or fn, "__code__", None)  # the line of the plugin's own function where it failed, if any
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if code and f.filename == code.co_filename]
        if lines:
            raise TongjiError("plugin-failed-at", name=plugin, hook=hook, hook_en=hook_en, error=error,
                              file=code.co_filename, line=lines[-1]) from None
        raise TongjiError("plugin-failed", name=plugin, hook=hook, hook_en=hook_en, error=error) from None


def _typer_exit(exc: Exception) -> bool:
    """typer's exit, abort or usage error, raised in a plugin's command: how a command ends, not a failure."""
    import typer

    return isinstance(exc, typer.Exit | typer.Abort | typer.TyperException)


def command_name(command) -> str:
    """A typer command's name: given, or its function's name as typer writes it."""
    return command.name or command.callback.__name__.lower().replace("_", "-")


def guarded_command(plugin: str, command: str, fn: Callable) -> Callable:
    """A plugin's command, its own failure named with the plugin (exit 2) as a writer's is."""

    @functools.wraps(fn)  # typer reads the options from the signature of the function wrapped
    def run(**options):
        return guarded(plugin, (f"命令 {command}", f"command {command}"), fn, options)
    return run
