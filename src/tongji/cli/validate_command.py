"""`tongji validate PATH...`: check returned workbooks, show who passes and why others are returned."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tongji.cli.common import (
    DASK_HELP,
    LEVELS_HELP,
    SEND_BYTES_HELP,
    console,
    executor,
    friendly,
    progress,
    say_passed_over,
    shown,
    workers,
)
from tongji.i18n import lang, severity, status, t
from tongji.writing.paths import refuse_overlap, refuse_unwritable
from tongji.writing.text import terminal_safe

if TYPE_CHECKING:  # the checking and writing stages are imported when a command runs, not for `tongji --help`
    from tongji.issues.report import ValidationReport

MAX_SHOWN = 200  # issues printed on the terminal; the full list goes to --report
ALL_BOOKS_UP_TO = 50  # beyond this many workbooks, only those needing attention are listed
STYLE = {"退回": "red", "有警告": "yellow", "通过": "green", "错误": "red", "警告": "yellow", "提示": "cyan"}


def register(app: typer.Typer) -> None:
    app.command("validate")(friendly(validate_command))


def validate_command(
    paths: list[Path] = typer.Argument(..., help="工作簿文件或文件夹（递归查找 .xlsx/.xls）"),
    registry: Path = typer.Option(None, "--registry", "-r", help="单位名册（xlsx 或 csv）"),
    period: str = typer.Option(None, "--period", "-p", help="报告期：2025、2025Q2 或 2025-06"),
    report: Path = typer.Option(None, "--report", help="把完整问题清单写入 .xlsx / .csv / .json"),
    annotate: Path = typer.Option(None, "--annotate", help="为有问题的工作簿写出标注副本到此文件夹"),
    levels: str = typer.Option(None, "--levels", help=LEVELS_HELP),
    dask: str = typer.Option(None, "--dask", help=DASK_HELP),
    send_bytes: bool = typer.Option(False, "--dask-send-bytes", help=SEND_BYTES_HELP),
) -> None:
    """审核工作簿：退出码 0 无错误，1 有工作簿需退回，2 用法或设置错误。"""
    from tongji.checking.validate import validate
    from tongji.writing.issue_report import write_report

    out = console()
    refuse_overlap([*paths, *([registry] if registry else [])], [report, annotate])  # the registry is read too
    if report is not None:
        write_report_check(report)
        refuse_unwritable(report.parent)
    if annotate is not None:
        refuse_unwritable(annotate)
    from tongji.definitions.registry import load_registry, parse_levels

    levels = parse_levels(levels)  # a mistyped --levels is refused with or without a registry
    if registry is not None:
        registry = load_registry(registry, levels)
    with progress(out, t("cli-reading")) as (on_total, tick):
        result = validate(paths, registry=registry, period=period, workers=executor(dask, send_bytes), tick=tick,
                          on_files=on_total)
    show(out, result)
    say_passed_over(out, paths)
    if report is not None:
        write_report(result, report, lang())
        out.print(shown("cli-report-written", path=report))
    if annotate is not None:
        from tongji.plugins import load_spec
        from tongji.reading.screen import Limits
        from tongji.writing.annotate import annotate_all

        root = paths[0] if len(paths) == 1 and paths[0].is_dir() else None
        with progress(out, t("cli-annotating")) as (on_total, tick):
            written = annotate_all(result.issues_in(lang()), annotate, root=root, lang=lang(),
                                   inputs=result.workbooks["file"], limits=Limits.of(load_spec()),
                                   keep=[report] if report is not None else [], workers=workers(), tick=tick,
                                   on_total=on_total)
        out.print(shown("cli-annotated", n=len(written), path=annotate))
    raise typer.Exit(result.exit_code)


def write_report_check(path: Path) -> None:
    """Refuse a bad --report suffix, or a folder of that name, before reading ten thousand workbooks, not after."""
    from tongji.errors import TongjiError

    if path.suffix.lower() not in (".xlsx", ".csv", ".json"):
        raise TongjiError("report-format", path=path)
    if path.is_dir():
        raise TongjiError("output-is-folder", path=path)


def show(out, result: ValidationReport) -> None:
    import polars as pl
    from rich.table import Table

    books = result.workbooks
    counts = {s: int((books["status"] == s).sum()) for s in ("通过", "有警告", "退回")}
    out.print(t("cli-summary", n=books.height, ok=counts["通过"], warn=counts["有警告"], bad=counts["退回"]))
    for note in result.skipped_in(lang()):
        out.print(f"[yellow]{terminal_safe(note)}[/yellow]")
    table = Table(*[t(k) for k in ("col-file", "col-unit", "col-name", "col-status", "col-errors",
                                   "col-warnings", "col-explained", "col-notices")])
    listed = books if books.height <= ALL_BOOKS_UP_TO else books.filter(
        (pl.col("status") != "通过") | (pl.col("explained") > 0) | (pl.col("notices") > 0))
    for r in listed.head(MAX_SHOWN).iter_rows(named=True):
        colour = STYLE[r["status"]]
        # every text from a workbook or the registry goes through terminal_safe: it may hold escapes or markup
        table.add_row(terminal_safe(Path(r["file"]).name), terminal_safe(r["unit"] or ""),
                      terminal_safe(r["unit_name"] or ""),
                      f"[{colour}]{status(r['status'])}[/{colour}]",
                      *(str(r[k]) for k in ("errors", "warnings", "explained", "notices")))
    out.print(table)
    if books.height > listed.height:
        out.print(t("cli-more-books", n=books.height - listed.height))
    if result.issues.height:
        _issues(out, result)


def _issues(out, result: ValidationReport) -> None:
    from rich.table import Table

    table = Table(*[t(k) for k in ("col-file", "col-severity", "col-cell", "col-code", "col-message",
                                   "col-diff")], title=t("cli-issues"))
    from tongji.checking.rules import fmt_number

    for r in result.catalog.render(result.issues.head(MAX_SHOWN), lang()).iter_rows(named=True):
        colour = STYLE[r["severity"]]
        label = severity(r["severity"]) + (t("explained-mark") if r["explained"] else "")
        message = terminal_safe(r["message"])
        if r["explained"]:
            message += "\n" + shown("explained", note=r["explained"])
        table.add_row(terminal_safe(Path(r["file"]).name), f"[{colour}]{label}[/{colour}]", terminal_safe(r["cell"]),
                      terminal_safe(f"{r['code']} {r['name']}".strip()), message,
                      fmt_number(r["diff"]) if r["diff"] is not None else "")
    out.print(table)
    rest = result.issues.height - MAX_SHOWN
    if rest > 0:
        out.print(t("cli-more-issues", n=rest))


