"""`tongji samples make OUT`: a fictional city's registry and filled workbooks, with seeded mistakes."""

from __future__ import annotations

from pathlib import Path

import typer

from tongji.cli.common import console, friendly, progress, shown, workers
from tongji.errors import TongjiError
from tongji.i18n import t


def make(
    out: Path = typer.Argument(..., help="输出目录：写入 registry.csv 和 <报告期>/ 下的工作簿"),
    units: int = typer.Option(120, "--units", "-n", help="基层工会数"),
    seed: int = typer.Option(2025, "--seed", "-s", help="随机种子：同一种子生成完全相同的文件"),
    period: str = typer.Option("2025", "--period", "-p", help="报告期：2025、2025Q2 或 2025-06"),
    mistakes: float = typer.Option(0.1, "--mistakes", help="带一处错误的基层工会比例（0–1）"),
    districts: int | None = typer.Option(None, "--districts", help="区数（默认约 基层数/40，至多 99）"),
    streets: int | None = typer.Option(None, "--streets", help="街道数（默认约 基层数/15，每区至多 999）"),
    previous: bool = typer.Option(False, "--previous", help="同时生成上年同期的各级汇总表（用于同比和跨期审核）"),
    force: bool = typer.Option(False, "--force", help="覆盖已有的同一报告期工作簿"),
) -> None:
    """生成一个虚构城市：名册、各基层工会和各级本级的已填报工作簿，部分带有常见错误。"""
    generator = sample_generator()
    with progress(console(), t("samples-making")) as (on_total, tick):
        city = generator.make_city(out, units=units, seed=seed, period=period, mistakes=mistakes,
                                   districts=districts, streets=streets, previous=previous, force=force,
                                   workers=workers(), tick=tick, on_total=on_total)
    files = sorted(city.folder.rglob("*.xlsx"))
    levels = sum(1 for f in files if f.parent.name == generator.BENJI_FOLDER)
    console().print(shown("samples-written", units=units, levels=levels, files=len(files), registry=city.registry,
                      folder=city.folder, seeded=len(city.seeded), missing=len(city.missing),
                      answers=Path(out) / generator.ANSWERS), soft_wrap=True)
    if city.previous is not None:
        console().print(shown("samples-previous-written", period=city.previous_period, folder=city.previous,
                              top=city.previous_summary(), seeded=len(city.seeded_rollup)), soft_wrap=True)


def sample_generator():
    """The tongji_samples package, or one clear line when the samples extra (numpy) is not installed."""
    try:
        import tongji_samples
    except ImportError as exc:
        if exc.name in ("numpy", "tongji_samples") or "numpy" in str(exc):
            raise TongjiError("samples-needs-extra") from None
        raise
    return tongji_samples


def register(app: typer.Typer) -> None:
    samples = typer.Typer(help="示例数据 (sample data)", no_args_is_help=True)
    samples.command("make")(friendly(make))
    app.add_typer(samples, name="samples")
