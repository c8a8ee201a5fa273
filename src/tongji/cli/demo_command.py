"""`tongji demo [DIR]`: validate the bundled sample city and show where every output went."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tongji.cli.common import check_address, console, friendly, progress, shown, workers
from tongji.cli.samples_command import sample_generator
from tongji.cli.validate_command import show
from tongji.i18n import lang, t

if TYPE_CHECKING:  # the stages are imported when the demo runs, not for `tongji --help`
    from tongji.aggregating.summary import Summary


def register(app: typer.Typer) -> None:
    app.command("demo")(friendly(demo_command))


def demo_command(
    out: Path = typer.Argument(Path("tongji-demo"), help="输出文件夹（默认 ./tongji-demo）"),
    units: int = typer.Option(None, "--units", help="不用自带样例，按此数量新生成一个示例城市"),
    seed: int = typer.Option(2025, "--seed", help="生成示例城市的随机种子"),
    serve: bool = typer.Option(False, "--serve", help="改为启动在线报送门户的演示（示例城市，已有部分单位上报）"),
    host: str = typer.Option("127.0.0.1", "--host", help="与 --serve 同用：监听地址"),
    port: int = typer.Option(8000, "--port", help="与 --serve 同用：端口"),
    database: str = typer.Option(None, "--database", help="与 --serve 同用：数据库地址（SQLAlchemy URL），"
                                 "默认是输出文件夹中的 SQLite；库中已有账号时保留原状态"),
) -> None:
    """演示：审核示例城市的工作簿，写出问题清单和退回工作簿的标注副本，再逐级汇总街道、区、市。"""
    from tongji.checking.rules import fmt_number
    from tongji.demo import PERIOD, run_demo

    con = console()
    if serve:
        return _serve(con, Path(out) / "门户", host, port, database)
    samples = None
    # a fresh city, made by the sample generator (the samples extra) before anything else is written; --units 0
    # is its mistake to refuse, not the bundled city
    if units is not None:
        with progress(con, t("samples-making")) as (on_total, tick):
            city = sample_generator().make_city(Path(out) / "示例市", units=units, seed=seed, period=PERIOD,
                                                previous=True, force=True, workers=workers(), tick=tick,
                                                on_total=on_total)
        samples = city.registry.parent
    with progress(con, t("demo-progress")) as (on_total, tick):
        result = run_demo(out, tick=tick, on_files=on_total, samples=samples, workers=workers(), lang=lang())
    con.print(shown("demo-inputs", path=result.inputs))
    show(con, result.report)
    con.print(shown("demo-outputs", report=result.issues_file, n=len(result.annotated),
                folder=Path(out) / "退回工作簿"))
    for summary, path in result.summaries:
        total = summary.completeness.row(-1, named=True)
        rate, timely = summary.rate("入会率"), total["timely_rate"]
        change = _change(summary, "HY03")
        key = "demo-summary" if change is None else "demo-summary-previous"
        con.print(shown(key, change=change, name=summary.name, level=summary.level, accepted=total["accepted"],
                    expected=total["expected"], timely="—" if timely is None else f"{timely:.1%}",
                    units=fmt_number(summary.total("JH00")),
                    members=fmt_number(summary.total("HY03")), rate="—" if rate is None else f"{rate:.1%}",
                    path=path), soft_wrap=True)


def _change(summary: Summary, code: str) -> str | None:
    """同比 of one total as "+3.1%", or None without last year's figure (or when last year's was 0)."""
    if not summary.has_previous:
        return None
    change = summary.totals.filter(summary.totals["code"] == code)["change"]
    return None if not len(change) or change[0] is None else f"{change[0]:+.1%}"


def _serve(con, data: Path, host: str, port: int, database: str | None = None) -> None:
    import uvicorn

    from tongji.portal.demo_state import DEMO_PASSWORD, demo_portal

    check_address(host, port)  # before the demo database is filled, which takes a while
    app = demo_portal(data, lang(), workers(), database)
    registry = app.state.portal.registry
    district = registry.children(registry.roots()[0])[0]
    street = registry.children(district)[0]
    con.print(shown("demo-serve", url=f"http://{host}:{port}", password=DEMO_PASSWORD, street=street,
                    district=district, unit=registry.children(street)[1], data=data))
    if database:
        from tongji.portal.migrate import shown_url

        con.print(shown("demo-serve-database", url=shown_url(database)))
    uvicorn.run(app, host=host, port=port, log_level="warning")
