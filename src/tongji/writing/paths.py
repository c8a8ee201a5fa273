"""Inputs are sacred: no output may be written over, or among, the workbooks being read."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tongji.errors import TongjiError


def refuse_overlap(inputs: Iterable[Path], outputs: Iterable[Path | None]) -> None:
    """Raise before anything is read if an output is an input or lies inside an input folder.

    Inside an input folder, a report or an annotated copy would be read as a workbook on the next run, and a
    report named like a unit's workbook would overwrite it. Paths are resolved, so `收回/../收回` is caught too."""
    sources = [Path(p).resolve() for p in inputs]
    for out in outputs:
        if out is None:
            continue
        target = Path(out).resolve()
        for src in sources:
            if target == src or (src.is_dir() and target.is_relative_to(src)):
                raise TongjiError("output-in-inputs", output=out, input=src)
