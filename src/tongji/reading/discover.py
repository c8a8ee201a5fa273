"""Which files of the given files and folders are workbooks to read, in a stable order."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tongji.errors import TongjiError

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
# how tongji names what it is writing before renaming it into place (writing/files.py, writing/summary_files.py):
# a run killed outright leaves it behind, and read as a workbook it would be a second copy of a unit's summary
PARTIAL = ".tongji-"


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Workbooks under the given files and folders (recursive), in a stable order: by path, whatever the order
    they were given in.

    A file named explicitly is always taken, so a wrong file gets a message instead of vanishing;
    in folders only workbooks count (.ods too), and neither Excel's lock files (~$x.xlsx), the
    resource forks macOS leaves on shared drives (._x.xlsx), nor what an interrupted tongji left (PARTIAL);
    any other name is a file someone saved.
    """
    # by real path (its case folded where the system's is), so a file named in a folder given and again by
    # another spelling (/home/统计/收回/a.xlsx beside 收回), or through a link, is read once, not returned as two
    # workbooks of one unit; kept under its shortest spelling (then the first in text order), whatever the order
    # of the arguments
    found: dict[str, tuple[str, str]] = {}  # real path → (spelling kept, its absolute path); Paths made at the end
    for p in map(Path, paths):
        real, where = os.path.realpath(p), os.path.abspath(p)
        if p.is_dir():
            given = len(str(p))  # each path under p is str(p) + its part below: that part goes after `where`
            for name, path, linked in _files_under(p):
                if os.path.splitext(name)[1].lower() in EXCEL_SUFFIXES and not name.startswith(("~$", "._", PARTIAL)):
                    # linked folders are not entered: below `real` only a linked file needs resolving
                    key = os.path.realpath(path) if linked else real + path[given:]
                    _keep(found, os.path.normcase(key), path, where + path[given:])
        elif p.is_file():
            _keep(found, os.path.normcase(real), str(p), where)
        else:
            raise TongjiError("path-missing", path=p)
    # sorted as a folder's files are, by the parts of their paths: the order the files or folders were given in
    # changes nothing a run writes
    return [Path(path) for path, _ in sorted(found.values(), key=lambda kept: os.path.normcase(kept[1]).split(os.sep))]


# saved as something else than a workbook tongji reads: WPS's own format, CSV, Excel's binary or template formats,
# Numbers. In a folder they are passed over like any other file, and said to be (`passed_over`): that unit would
# otherwise just be missing
OTHER_TABLES = {".et", ".ett", ".csv", ".xlsb", ".xltx", ".xltm", ".xlt", ".numbers", ".ots", ".fods"}


def passed_over(paths: Iterable[str | Path]) -> list[Path]:
    """Files in the given folders that look like a table saved in a format tongji does not read (OTHER_TABLES)."""
    return [Path(path) for p in map(Path, paths) if p.is_dir() for name, path, _ in _files_under(p)
            if os.path.splitext(name)[1].lower() in OTHER_TABLES and not name.startswith(("~$", "._", PARTIAL))]


def _keep(found: dict[str, tuple[str, str]], key: str, path: str, absolute: str) -> None:
    if key not in found or (len(path), path) < (len(found[key][0]), found[key][0]):
        found[key] = (path, absolute)


def _files_under(folder: Path) -> list[tuple[str, str, bool]]:
    """(name, path, whether it is a link) of the files under `folder`, in the order and with the reach of
    `sorted(folder.rglob("*"))` filtered by is_file(), and the links that lead nowhere: linked folders are not
    entered, unreadable ones and tongji's own staging folders (PARTIAL) passed over. A directory entry says
    whether it is a file without a stat, and paths sort by their parts as text (1.5 s before reading 100,000
    workbooks, now 0.8)."""
    found, folders = [], [(str(folder), ())]
    while folders:
        where, parts = folders.pop()
        try:
            with os.scandir(where) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):  # Windows' Paths sort with their case folded
                        if not entry.name.startswith(PARTIAL):  # a staging folder a killed rollup left
                            folders.append((entry.path, (*parts, os.path.normcase(entry.name))))
                    # a dangling link is a workbook someone meant to send: read, it is said unreadable
                    elif entry.is_file() or entry.is_symlink() and not entry.is_dir():
                        found.append(((*parts, os.path.normcase(entry.name)), entry.name, entry.path,
                                      entry.is_symlink()))
        except OSError:
            continue
    return [(name, path, linked) for _, name, path, linked in sorted(found)]


def file_text(path: str | Path) -> str:
    """A path as the text a workbook is known by in frames, reports and outputs. A name whose bytes are not UTF-8
    (a zip made on a GBK system, say) reaches Python with lone surrogates, which polars, CSV and the terminal
    cannot hold: those bytes are shown as U+FFFD, and `path_of` finds the file again."""
    text = str(path)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate in a Windows name, not an escaped byte
        return text.encode("utf-8", "replace").decode("utf-8")


def path_of(text: str) -> Path:
    """The file that `file_text` gave this text: a name with U+FFFD in it is looked for in its folder."""
    path = Path(text)
    if "\ufffd" not in text or path.exists() or path.parent == path:
        return path
    folder = path_of(str(path.parent))
    try:
        return next((p for p in folder.iterdir() if file_text(p.name) == path.name), path)
    except OSError:
        return path
