"""`tongji demo`: the whole job on the bundled sample city, so a newcomer sees it work in seconds.

Validate every returned workbook, write the issue list and annotated copies, then roll up level by level
as three statisticians would: each 街道 from its units' workbooks, each 区 from its 街道 summaries, the 市
from its 区 summaries, each including its own 本级 workbook. Each node is compared with its own summary of last
year (samples/2024/汇总/<code>_2024_汇总.xlsx) when there is one: 上期数, 同比 and the cross-period checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tongji.aggregating.rollup import rollup
from tongji.aggregating.summary import Summary
from tongji.checking.reuse import Remembered
from tongji.checking.validate import validate
from tongji.definitions.codes import previous_period
from tongji.definitions.forms import data_dir
from tongji.definitions.registry import load_registry
from tongji.i18n import chosen
from tongji.issues.report import ValidationReport
from tongji.plugins import load_spec
from tongji.reading.screen import Limits
from tongji.reading.workers import Executor
from tongji.writing.annotate import annotate_all
from tongji.writing.files import ensure_dir
from tongji.writing.issue_report import write_report
from tongji.writing.summary_files import write_summary

PERIOD = "2025"
DEADLINE = "2026-01-20"  # the samples' collection: 基层 workbooks were due by this day (及时率)
SUMMARY_FOLDER = "汇总"  # last period's summary workbooks in a sample set: <last period>/汇总/


@dataclass
class DemoResult:
    report: ValidationReport
    issues_file: Path
    annotated: list[Path]
    inputs: Path
    previous: Path | None = None  # last year's summary workbooks, when the sample set has them
    summaries: list[tuple[Summary, Path]] = field(default_factory=list)


def run_demo(out_dir: Path, tick=None, on_files=None, *, samples: Path | None = None,
             workers: int = 1, lang: str | None = None) -> DemoResult:
    """The demo on a sample city: the bundled one, or `samples` (a folder as `tongji samples make` writes it, with
    registry.csv, 2025/ and 2024/汇总/). `workers` processes read the workbooks, as in `tongji.validate`; every
    output is written in `lang` ("zh" or "en"; by default the language of this run)."""
    lang = chosen(lang)
    out = ensure_dir(Path(out_dir))
    samples = Path(samples) if samples is not None else data_dir("samples")
    inputs, registry = samples / PERIOD, load_registry(samples / "registry.csv")
    previous = samples / previous_period(PERIOD) / SUMMARY_FOLDER
    with_report_plugin()
    # each workbook is read and checked once: the rollups below take its own checks again (checking/reuse.py)
    checking = Remembered(workers)
    report = validate([inputs], registry=registry, period=PERIOD, workers=checking, tick=tick, on_files=on_files)
    issues_file = write_report(report, out / "问题清单.xlsx", lang)
    annotated = annotate_all(report.issues_in(lang), out / "退回工作簿", root=inputs, lang=lang,
                             inputs=report.workbooks["file"], limits=Limits.of(load_spec()), workers=workers,
                             tick=tick, on_total=on_files)
    result = DemoResult(report, issues_file, annotated, inputs, previous if previous.is_dir() else None)
    result.summaries = roll_level_by_level(report, registry, out / "汇总", result.previous, workers=checking,
                                           lang=lang, tick=tick, on_total=on_files)
    return result


def with_report_plugin() -> None:
    """Write the HTML report too when the example plugin ships alongside (in a checkout or a wheel)."""
    from tongji import plugins

    try:
        folder = data_dir("plugins")
    except FileNotFoundError:
        return
    if "html" not in plugins.host().writers and (folder / "html_report").is_dir():
        plugins.configure(folder, only="html_report")


def roll_level_by_level(report: ValidationReport, registry, out: Path, previous: Path | None = None, *,
                        workers: int | Executor = 1, lang: str | None = None, tick=None,
                        on_total=None) -> list[tuple[Summary, Path]]:
    """Each node from its children's workbooks or summaries and its 本级 workbook; with `previous` (a folder of
    last year's summary workbooks) each node against its own summary of last year, where there is one.
    `on_total(n)` is told the number of nodes first, and `tick()` once each is written."""
    files: dict[tuple[str, bool], list[str]] = {}  # a unit may send two workbooks: both go to its parent
    for r in report.values.iter_rows(named=True):
        files.setdefault((r["FM02"], r["FM05"] == "9"), []).append(r["file"])
    last = previous_period(PERIOD)
    written: dict[str, Path] = {}
    done = []
    spec = load_spec()
    formats = ("xlsx", "html") if "html" in spec.writers else ("xlsx",)
    nodes = registry.nodes_bottom_up()
    if on_total:
        on_total(len(nodes))
    for node in nodes:
        inputs = []
        for c in registry.children(node):
            if registry.is_leaf(c):
                inputs += files.get((c, False), [])
            elif c in written:
                inputs.append(written[c])
        inputs += files.get((node, True), [])
        before = previous / f"{node}_{last}_汇总.xlsx" if previous else None
        summary = rollup(inputs, registry=registry, unit=node, period=PERIOD, spec=spec, workers=workers,
                         deadline=DEADLINE, previous=before if before and before.is_file() else None)
        paths = write_summary(summary, out, spec, formats, lang)
        written[node] = next(p for p in paths if p.suffix == ".xlsx")
        done.append((summary, written[node]))
        if tick:
            tick()
    return done
