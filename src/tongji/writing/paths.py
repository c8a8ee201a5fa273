"""Inputs are sacred: no output may be written over, or among, the workbooks being read."""

from __future__ import annotations

import os
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


def refuse_replacing(inputs: Iterable[Path], out: Path, stems: Iterable[str]) -> None:
    """Raise if a file named among the inputs lies in `out` and is called like an output about to be written
    there (<stem>_…): last year's own summary given as an input, say. A child's summary beside it is read, not
    replaced, and may stay."""
    folder, prefixes = Path(out).resolve(), tuple(f"{stem}_" for stem in stems)
    for src in map(Path, inputs):
        if src.is_file() and src.resolve().parent == folder and src.name.startswith(prefixes):
            raise TongjiError("output-replaces-input", input=src, output=out)


def refuse_unwritable(folder: Path) -> None:
    """Raise, before anything is read, if `folder` could not be made and written: the nearest part of it that
    exists is a file, or a folder this user may not write in. Nothing is created, so a run refused later for
    another reason leaves no empty folder behind."""
    existing = Path(folder)  # as the user wrote it, in the message too
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise TongjiError("output-not-folder", path=existing)
    if not os.access(existing, os.W_OK):
        raise TongjiError("output-no-permission", path=existing)
