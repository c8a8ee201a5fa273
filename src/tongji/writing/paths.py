"""Inputs are sacred: no output may be written over, or among, the workbooks being read."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
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


def one_of(paths: Iterable[Path]) -> Callable[[Path], bool]:
    """Whether a path is one of `paths`: the same file when both exist (which also catches case-insensitive file
    systems and hard links), else the same path once resolved. Each of `paths` is looked at once, not once per
    path asked about: 300 annotated copies checked pair by pair against 3,000 inputs took a minute and a half."""
    files, resolved, absent = set(), set(), set()
    for path in paths:
        found, full = _file_id(path), path.resolve()
        files.add(found) if found else absent.add(full)
        resolved.add(full)

    def is_one(path: Path) -> bool:
        found = _file_id(path)
        return (found in files or path.resolve() in absent) if found else path.resolve() in resolved
    return is_one


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except (OSError, ValueError):  # missing, unreadable, or a name the system cannot take
        return None
    return found.st_dev, found.st_ino


def as_xlsx(target: Path) -> Path:
    return target if target.suffix.lower() == ".xlsx" else target.with_suffix(".xlsx")


def copy_targets(files: list[str], out_dir: Path, root: Path | None,
                 keep: Iterable[str | Path] = ()) -> list[tuple[str, Path]]:
    """Pair each file with the path of its copy in `out_dir` (an annotated copy, always .xlsx): its place below
    `root` kept so same-named files do not collide, remaining clashes numbered _2, _3, and none of them a path in
    `keep`. Names compare case-insensitively (Windows, macOS)."""
    natural = {f: as_xlsx(_relative(Path(f), root)) for f in files}
    reserved = {str(p).lower() for p in natural.values()}
    used = {str(rel).lower() for rel in _inside(keep, out_dir)}
    plans = []
    for f in files:
        rel, n = natural[f], 1
        while str(rel).lower() in used:
            n += 1
            rel = natural[f].with_name(f"{natural[f].stem}_{n}.xlsx")
            if str(rel).lower() in reserved:
                rel = natural[f]  # another input really has this name; keep counting
        used.add(str(rel).lower())
        plans.append((f, out_dir / rel))
    return plans


def _inside(paths: Iterable[str | Path], folder: Path) -> list[Path]:
    """The paths that lie in `folder`, relative to it."""
    folder, resolved = folder.resolve(), [Path(p).resolve() for p in paths]
    return [p.relative_to(folder) for p in resolved if p.is_relative_to(folder)]


def _relative(src: Path, root: Path | None) -> Path:
    if root is not None:
        try:
            return src.resolve().relative_to(Path(root).resolve())
        except ValueError:
            pass
    return Path(src.name)
