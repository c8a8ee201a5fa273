"""`tongji demo`: the whole job on the bundled sample city, so a newcomer sees it work in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tongji.engine.report import ValidationReport
from tongji.engine.validate import validate
from tongji.output.annotate import annotate_all
from tongji.output.files import ensure_dir
from tongji.output.report import write_report
from tongji.spec.forms import data_dir

PERIOD = "2025"


@dataclass
class DemoResult:
    report: ValidationReport
    issues_file: Path
    annotated: list[Path]
    inputs: Path


def run_demo(out_dir: Path, tick=None, on_files=None) -> DemoResult:
    samples = data_dir("samples")
    inputs = samples / PERIOD
    out = ensure_dir(Path(out_dir))
    report = validate([inputs], registry=samples / "registry.csv", period=PERIOD, tick=tick, on_files=on_files)
    issues_file = write_report(report, out / "问题清单.xlsx")
    annotated = annotate_all(report.issues, out / "退回工作簿", root=inputs)
    return DemoResult(report, issues_file, annotated, inputs)
