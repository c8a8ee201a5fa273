"""The `tongji` command. Each subcommand lives in its own module and calls a library function."""

from __future__ import annotations

import sys

import typer

from tongji.errors import TongjiError
from tongji.i18n import set_lang, t

app = typer.Typer(
    name="tongji",
    help="工会统计报表：生成模板、审核、汇总 (trade-union statistics: templates, validation, rollup)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    lang: str = typer.Option(None, "--lang", help="界面语言 zh 或 en（也可设 TONGJI_LANG）"),
) -> None:
    set_lang(lang)


def _register() -> None:
    from tongji.cli import demo, template, validate

    for module in (template, validate, demo):
        module.register(app)


def main() -> None:
    """Console entry point: a user mistake is one clear line and exit code 2, never a traceback."""
    _register()
    try:
        app(standalone_mode=False)
    except TongjiError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[red]{t('error-prefix')}[/red]{exc}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in standalone_mode=False
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        raise
