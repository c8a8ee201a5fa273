"""`tongji plugins` lists what is loaded; `tongji plugin new NAME` scaffolds a plugin package."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tongji.cli.common import console, friendly
from tongji.errors import TongjiError
from tongji.i18n import lang, t
from tongji.writing.text import terminal_safe

# what a plugin registered, as plugins/__init__.py records it, for `tongji --lang en plugins`
KINDS = {"表": "forms", "指标行": "rows", "模板版本": "template versions", "审核关系": "rules",
         "派生指标": "indicators", "分组": "groupings", "同类比较": "peer ratios", "配置": "configuration",
         "检查": "checks", "输出格式": "output formats", "命令": "commands"}
# the first word of a source
SOURCES = {"内置": "built-in", "入口点": "entry point", "文件": "file", "文件夹": "folder", "项目": "project"}
plugin_app = typer.Typer(help="插件开发工具", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("plugins")(friendly(plugins_command))
    plugin_app.command("new")(friendly(new_command))
    app.add_typer(plugin_app, name="plugin")


def plugins_command() -> None:
    """列出已加载的插件及每个插件注册的内容（表、指标行、审核关系、派生指标、配置、输出格式、命令）。"""
    from tongji.plugins import host

    h, con = host(), console()
    problem = None
    try:
        h.spec, h.writers  # noqa: B018 - building them records what each plugin registered
    except TongjiError as exc:  # a plugin that failed to load: said in full, not sent to this very command
        problem = t("plugin-not-loaded", **exc.kw) if exc.key == "plugin-broken" else str(exc)
        h.survey()  # what the others register, the built-in's forms and rules too
    en = lang() == "en"
    table = Table(t("col-plugin"), t("col-source"), t("col-registered"), t("col-state"))
    for info in h.infos.values():
        what = ("; " if en else "；").join(f"{KINDS.get(kind, kind) if en else kind}{': ' if en else '：'}{_few(items)}"
                                          for kind, items in info.registered.items())
        word, _, rest = str(info.source).partition(" ")
        source = " ".join(filter(None, (SOURCES.get(word, word), rest))) if en else str(info.source)
        # a plugin's error message may quote anything, brackets included
        state = f"[red]{terminal_safe(info.error)}[/red]" if info.error else t("plugin-ok")
        table.add_row(terminal_safe(info.name), terminal_safe(source), terminal_safe(what), state)
    con.print(table)
    if problem:
        con.print(f"[red]{terminal_safe(problem)}[/red]")
    raise typer.Exit(1 if problem or h.errors else 0)


def _few(items: list[str], n: int = 6) -> str:
    sep = ", " if lang() == "en" else "、"
    return sep.join(items) if len(items) <= n else sep.join(items[:n]) + t("and-more", n=len(items))


def new_command(
    name: str = typer.Argument(..., help="插件名（字母、数字、下划线），如 my_region"),
    out: Path = typer.Option(Path("."), "--out", "-o", help="在此文件夹下创建插件项目"),
) -> None:
    """生成一个插件项目：pyproject（含入口点）、一个钩子、一个测试；pip install 后即被 tongji 加载。"""
    from tongji.plugins.scaffold import scaffold

    folder = scaffold(name, out)
    console().print(t("plugin-created", path=folder, name=name))
