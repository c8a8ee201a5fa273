"""Every hook a tongji plugin can implement. Most receive a `register` callback (one, `register_commands`,
the CLI app): the host checks what is registered, rejects clashes and records which plugin supplied what.

Hooks are called through pluggy (`pm.hook.NAME(...)`), so an implementation takes only the arguments it
names, and a hook may gain an argument in a later version without breaking a plugin written before it.
An implementation must not give its arguments defaults: pluggy does not pass those.
The built-in forms, rules, indicators and writers are registered through these same hooks.

Plugins import `hookimpl` and the types below from `tongji.plugin`, never from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("tongji")
hookimpl = pluggy.HookimplMarker("tongji")

HOOK_API_VERSION = 4
"""The version of the hooks below: 1 had the six `register_*` hooks called directly; 2 calls them through
pluggy, adds `register_checks`, and passes writers the registry, the units table and the cover; 3 passes
writers the language they write in (`lang`); 4 adds `register_groupings` (the summary's 分组 sheet) and
`register_peer_ratios` (outliers across peers)."""

Register = Callable[..., None]


@hookspec
def register_forms(register: Register) -> None:
    """Add form sheets or rows to existing forms.

    register(form) with a dict as in a declarative file: a new sheet
        {"id": "AK", "sheet": "安康杯", "title": "...", "rows": [{"code": "AK01", "name": "...", "kind": "count"}]}
    or rows for an existing form: {"extend": "JH", "rows": [{"code": "JH31", "name": "互联网企业数", "kind": "count"}]}.
    Codes are two capital letters and two digits, unique across every form and plugin.
    An older template version, read through its concordance to the next (domain.md §11):
        {"concordance": "2026.1", "version": "2026.1", "next": "2027.1", "added": ["JF23"],
         "renamed": {}, "split": {}, "dropped": [], "names": {"HY10": "外卖配送员"}, "flags": [], "enums": {}}
    (the keys of definitions/concordance.py's Concordance); a workbook of that version is read as the current one.
    """


@hookspec
def register_rules(register: Register) -> None:
    """Add checks written as expressions. register(rule) with a dict: {"id", "severity" (错误/警告/提示), "check",
    "message", optional "when", "scope" (基层/本级/汇总/全部), "tolerance", "message_en"}. Expressions use numeric
    indicator codes, config names, + - * / ( ) abs(), numbers and 2%; compared with <= >= < > = ≈.

    .. versionchanged:: 2 scope 本级 and 汇总; a rule naming a text (cover) field is refused when loaded."""


@hookspec
def register_indicators(register: Register) -> None:
    """Add derived indicators. register(indicator) with {"id", "name", "numerator", "denominator",
    "unit" ("%" or "元"), "from" (lowest level)}. Rollup computes them from summed numerator and denominator."""


@hookspec
def register_groupings(register: Register) -> None:
    """Add a grouping to the summary's 分组 sheet. register(grouping) with a dict as a [[grouping]] of a
    declarative file: {"id", "name", "name_en", "field" (a cover code or a numeric code), "groups": [{"name",
    "name_en", "values": [...]} for a cover field, or {"name", "name_en", "when": "JH31 > 0"} for numbers],
    optional "prefix" (compare the first n characters), "enum" (one group per value of an enumeration) and
    "names_en" (English names of the enumeration's values)}. A unit no group takes is 未分类.

        register({"id": "互联网企业", "field": "JH31",
                  "groups": [{"name": "互联网企业", "when": "JH31 > 0"}, {"name": "其他", "when": "JH31 = 0"}]})

    .. versionadded:: 4"""


@hookspec
def register_peer_ratios(register: Register) -> None:
    """Add ratios on which each grassroots unit is compared with its peers (same 单位性质 group and size class of
    HY01; median and MAD, thresholds in config). register(ratio) with {"id", "name", "numerator", "denominator",
    "unit" ("%" or "元"), "name_en"}, e.g. {"id": "人均经费", "name": "人均经费收入", "numerator": "JF01",
    "denominator": "HY03", "unit": "元"}. A unit whose denominator is 0 is not compared.

    .. versionadded:: 4"""


@hookspec
def register_config(register: Register) -> None:
    """Set configuration defaults. register(name, value), e.g. register("留成比例", 0.5). A plugin may change
    a built-in default; two plugins setting the same name is an error."""


@hookspec
def register_checks(register: Register) -> None:
    """Add checks written in Python, over the table of every workbook at once.

    register(id, check, severity="错误", message="", message_en="", scope="全部") where
    check(table) -> issues. `table` is a polars DataFrame, one row per readable workbook: file, 类型
    (基层/本级/汇总), the cover FM01…FM12 as text, every numeric code as Float64, and the unit's registry
    columns (所在地区划代码, 层级, 上级代码, 状态; null without a registry). The check may also name `spec`,
    `registry` and `period` as arguments. It returns a DataFrame or a list of dicts with `file` and any of
    `code`, `cell` (封面!C12), `severity`, `message`, `value`; or None. An 错误 returns the workbook.

    .. versionadded:: 2"""


@hookspec
def register_output_formats(register: Register) -> None:
    """Add summary output formats. register(name, writer, description) where
    writer(summary, out_dir, spec, units, registry, lang) -> list[pathlib.Path] writes the files (atomically)
    and returns them; the writer names only the arguments it needs. `tongji rollup --format NAME` picks it.

        def write_title(summary, out_dir, lang):
            title = "Summary of" if lang == "en" else "汇总："
            return [write_bytes(out_dir / f"{summary.unit}.md", f"# {title} {summary.name}\\n".encode())]

    .. versionchanged:: 2 writers may ask for `units` (one row per unit in 明细, with its registry and cover
       fields and its own indicator values) and `registry`.
    .. versionchanged:: 3 writers may ask for `lang`, "zh" or "en": the language the summary is written in
       (`--lang`, TONGJI_LANG, `write_summary(lang=)`). The summary's issue messages, reasons and notes are
       already in it.
    .. versionchanged:: 4 `summary.groups` is the 分组 sheet; `summary.detail` carries, after DETAIL_KEYS, the cover
       fields the groupings read (单位性质, 所在单位行业): `tongji.plugin.detail_keys(spec)` lists its text columns."""


@hookspec
def register_commands(app: Any) -> None:
    """Add CLI commands to the `tongji` typer.Typer app: @app.command() def my_command(...)."""
