"""`tongji rollup`: one node's summary from its children's workbooks, or every node with --all."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
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
)
from tongji.errors import TongjiError
from tongji.i18n import Items, lang, t
from tongji.writing.paths import refuse_overlap, refuse_replacing
from tongji.writing.text import terminal_safe

if TYPE_CHECKING:  # the stages are imported when a command runs, not for `tongji --help`
    from tongji.aggregating.summary import Summary
    from tongji.definitions import Spec


def register(app: typer.Typer) -> None:
    app.command("rollup")(friendly(rollup_command))


def rollup_command(
    inputs: list[Path] = typer.Argument(..., help="基层、本级工作簿和下级汇总表（文件或文件夹）"),
    registry: Path = typer.Option(..., "--registry", "-r", help="单位名册（xlsx 或 csv）"),
    period: str = typer.Option(..., "--period", "-p", help="报告期：2025、2025Q2 或 2025-06"),
    out: Path = typer.Option(..., "--out", "-o", help="汇总表输出文件夹"),
    unit: str = typer.Option(None, "--unit", help="汇总哪个单位（名册中的单位代码）；与 --all 同用时汇总其下每一级"),
    all_nodes: bool = typer.Option(False, "--all", help="自下而上汇总名册中的每一级"),
    include_errors: bool = typer.Option(False, "--include-errors", help="有错误的工作簿也汇总（默认退回不汇总）"),
    prefer_latest: bool = typer.Option(False, "--prefer-latest", help="同一单位多份报表时采用报出日期最新的一份"),
    previous: Path = typer.Option(None, "--previous", help="上期同一单位的汇总表，用于上期数、同比和跨期审核"),
    deadline: str = typer.Option(None, "--deadline", help="报送截止日期（如 2026-01-20）：报出日期晚于它的单位为迟报，"
                                 "完整性给出及时率；默认取配置中的报送截止日期"),
    levels: str = typer.Option(None, "--levels", help=LEVELS_HELP),
    formats: list[str] = typer.Option(["xlsx"], "--format", "-f",
                                      help="输出格式，可重复或用逗号分隔：xlsx、csv、json、parquet 及插件注册的格式"),
    dask: str = typer.Option(None, "--dask", help=DASK_HELP),
    send_bytes: bool = typer.Option(False, "--dask-send-bytes", help=SEND_BYTES_HELP),
) -> None:
    """汇总：退出码 0 无错误，1 有退回或错误，2 用法或设置错误。"""
    from tongji.aggregating.completeness import covered_files
    from tongji.aggregating.rollup import rollup, rollup_each
    from tongji.definitions.registry import load_registry
    from tongji.plugins import load_spec
    from tongji.writing.files import ensure_dir

    unit = unit.strip() if unit else unit  # " 330106" pasted from a sheet is the unit 330106
    if not all_nodes and not unit:
        raise TongjiError("rollup-needs-unit")
    refuse_overlap([*inputs, *([previous] if previous else [])], [out])
    registry = load_registry(registry, levels)
    formats = _check_formats([f.strip() for item in formats for f in item.split(",") if f.strip()])
    ensure_dir(out)  # an unwritable folder is said before any workbook is read
    from tongji.definitions.codes import canonical_period
    from tongji.writing.summary_files import move_held, stem_for, write_summary

    con, spec = console(), load_spec()
    options = {"registry": registry, "period": period, "include_errors": include_errors,
               "prefer_latest": prefer_latest, "previous": previous, "spec": spec,
               "workers": executor(dask, send_bytes),
               "deadline": deadline}
    with progress(con, t("cli-reading")) as (on_total, tick):
        if all_nodes:
            summaries = rollup_each(inputs, unit=unit, tick=tick, on_files=on_total, **options)
        else:
            summaries = [rollup(inputs, unit=unit, tick=tick, on_files=on_total, **options)]
    say_passed_over(con, inputs)
    nodes = summaries.nodes if all_nodes else [s.unit for s in summaries]
    refuse_replacing(inputs, out, [stem_for(n, canonical_period(period)) for n in nodes])
    written, errors, held, done, covered = [], False, [], False, []
    with progress(con, t("cli-writing")) as (on_total, tick):  # 111 summaries of a big city take a while
        on_total(len(summaries))
        write = partial(write_summary, out_dir=out, spec=spec, formats=formats, lang=lang(), held=held)
        beside = written_beside(summaries, write, writer_threads(registry.frame.height, spec, formats))
        try:
            for top, files in beside:
                written += files
                errors = errors or top.has_errors
                covered += covered_files(top.inputs)
                tick()
            done = True
        finally:  # every summary in place, or none of them (once no writer is left running)
            beside.close()
            move_held(held, keep=done)
    if covered:  # not summed and not judged here: said, so that they are not thought lost
        names = Items([terminal_safe(f) for f in covered], few=5)
        con.print(shown("cli-covered", n=len(covered), files=names), soft_wrap=True)  # a path is not cut
    show(con, top)
    con.print(shown("rollup-written", n=len(summaries), path=out, files=len(written)))
    raise typer.Exit(1 if errors else 0)


SMALL_CITY = 20_000  # units in the registry up to which two threads write the summaries


def writer_threads(units: int, spec: Spec, formats: list[str]) -> int:
    """Two threads write a small city's summaries in tongji's own formats, else one: in a big city two gained
    nothing and held two big summaries at once, and a plugin's writer may not expect to run beside itself."""
    from tongji.definitions.builder import BUILTIN

    ours = all(spec.writers[f].plugin == BUILTIN for f in formats)
    return 2 if ours and units <= SMALL_CITY else 1


def written_beside(summaries: Iterable[Summary], write: Callable[[Summary], list[Path]], writers: int = 1
                   ) -> Iterator[tuple]:
    """Each summary with the files `write` made of it, in order; written in `writers` threads while the next
    summaries are made (much of both is polars, zlib and the file system, which let the other threads run). At
    most `writers` + 1 wait to be written, so a big city's summaries are still let go a few at a time.

    Two writers pay in a small city: at 1,000 units making and writing the 111 summaries took 2.4 to 2.9 s with
    two, 3.0 to 3.5 with one. In a city of 100,000 they gained nothing and held two big summaries at once
    (907 MiB against 779 at the peak)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(writers) as pool:
        waiting: deque = deque()
        for summary in summaries:
            waiting.append((summary, pool.submit(write, summary)))
            if len(waiting) > writers + 1:
                done, future = waiting.popleft()
                yield done, future.result()
        while waiting:
            done, future = waiting.popleft()
            yield done, future.result()


def _check_formats(formats: list[str]) -> list[str]:
    """The formats asked for by their writers' names (XLSX is xlsx); an unknown one is said before ten thousand
    workbooks are read, not after."""
    from tongji.plugins import host

    writers = host().writers
    named = {w.lower(): w for w in writers}
    formats = [f if f in writers else named.get(f.lower(), f) for f in formats]
    unknown = [f for f in formats if f not in writers]
    if unknown:
        raise TongjiError("unknown-format", name=Items(unknown), known=Items(sorted(writers)))
    return formats


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def show(con, s: Summary) -> None:
    from rich.table import Table

    from tongji.aggregating.completeness import per_child_in
    from tongji.checking.rules import fmt_number

    con.print(shown("rollup-title", name=s.name, unit=s.unit, period=s.period))
    timely = s.completeness["late"].null_count() < s.completeness.height  # the rollup had a deadline
    cols = ["child", "child_name", "expected", "received", "accepted", "returned", "missing",
            *(["late"] if timely else []), "reported_rate", *(["timely_rate"] if timely else [])]
    table = Table(*[t("col-" + c.replace("_", "-").replace("child-name", "name")) for c in cols])
    for r in per_child_in(s.completeness, lang()).select(cols).iter_rows(named=True):
        table.add_row(*[_percent(r[c]) if c.endswith("rate") else terminal_safe(str(r[c])) for c in cols])
    con.print(table)
    key = {c: s.total(c) for c in ("JH00", "HY01", "HY03", "JF01", "JF10")}
    rate = s.rate("入会率")
    con.print(t("rollup-figures", units=fmt_number(key["JH00"]), staff=fmt_number(key["HY01"]),
                members=fmt_number(key["HY03"]), rate="—" if rate is None else f"{rate:.2%}",
                income=fmt_number(key["JF01"]), spend=fmt_number(key["JF10"])))
    errors = int((s.issues["severity"] == "错误").sum())
    warned = s.issues["severity"] == "警告"
    # one explained in 说明 is not left to chase: counted apart, as validate's table counts it
    explained = int((warned & (s.issues["explained"].fill_null("") != "")).sum())
    if explained:
        con.print(t("rollup-issues-explained", errors=errors, warnings=int(warned.sum()) - explained,
                    explained=explained))
    else:
        con.print(t("rollup-issues", errors=errors, warnings=int(warned.sum())))
