"""`tongji template`: one fillable workbook per expected unit."""

from pathlib import Path

import typer

from tongji.cli.common import LEVELS_HELP, console, friendly, progress, shown
from tongji.i18n import t


def template(
    registry: Path = typer.Option(..., "--registry", "-r", help="名册文件（xlsx 或 csv）"),
    period: str = typer.Option(..., "--period", "-p", help="报告期：2025、2025Q2 或 2025-06"),
    out: Path = typer.Option(..., "--out", "-o", help="模板输出目录"),
    unit: str = typer.Option(None, "--unit", help="只生成这一个单位的模板（单位代码）"),
    levels: str = typer.Option(None, "--levels", help=LEVELS_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="覆盖输出目录中同名的文件（默认拒绝：可能是交回的报表）"),
) -> None:
    """生成填报模板：每个基层工会一份，街道及以上每个工会各一份本级报表。"""
    from tongji.definitions.registry import load_registry
    from tongji.writing.template import make_templates

    con = console()
    with progress(con, t("template-making")) as (on_total, tick):
        paths = make_templates(load_registry(registry, levels), period, out, unit=unit, overwrite=overwrite,
                               tick=tick, on_total=on_total)
    # soft_wrap: a long output path must stay on one line for people and for scripts alike
    con.print(shown("template-written", count=len(paths), out=out), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("template")(friendly(template))
