"""Every hook a tongji plugin can implement. Each receives a `register` callback (or the CLI app):
the host checks what is registered, rejects clashes and records which plugin supplied what.

A hook implementation must not give its arguments defaults: pluggy does not pass those.
The built-in forms, rules, indicators and writers are registered through these same hooks.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("tongji")
hookimpl = pluggy.HookimplMarker("tongji")


@hookspec
def register_forms(register):
    """Add form sheets or rows to existing forms.

    register(form) with a dict as in a declarative file: a new sheet
        {"id": "AK", "sheet": "安康杯", "title": "...", "rows": [{"code": "AK01", "name": "...", "kind": "count"}]}
    or rows for an existing form: {"extend": "JH", "rows": [{"code": "JH31", "name": "互联网企业数", "kind": "count"}]}.
    Codes are two capital letters and two digits, unique across every form and plugin.
    """


@hookspec
def register_rules(register):
    """Add checks. register(rule) with a dict: {"id", "severity" (错误/警告/提示), "check", "message",
    optional "when", "scope" (基层/全部), "tolerance", "message_en"}. Expressions use indicator codes,
    config names, + - * / ( ) abs(), numbers and 2%; compared with <= >= < > = ≈."""


@hookspec
def register_indicators(register):
    """Add derived indicators. register(indicator) with {"id", "name", "numerator", "denominator",
    "unit" ("%" or "元"), "from" (lowest level)}. Rollup computes them from summed numerator and denominator."""


@hookspec
def register_config(register):
    """Set configuration defaults. register(name, value), e.g. register("留成比例", 0.5). A plugin may change
    a built-in default; two plugins setting the same name is an error."""


@hookspec
def register_output_formats(register):
    """Add summary output formats. register(name, writer, description) where
    writer(summary, out_dir, spec) -> list[pathlib.Path] writes the files (atomically) and returns them.
    `tongji rollup --format NAME` picks it."""


@hookspec
def register_commands(app):
    """Add CLI commands to the `tongji` typer.Typer app: @app.command() def my_command(...)."""
