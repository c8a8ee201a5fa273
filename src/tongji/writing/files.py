"""Atomic, reproducible file writing: a temporary name renamed into place, no timestamps inside."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from openpyxl.cell import Cell
from openpyxl.utils import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from tongji.errors import TongjiError
from tongji.reading.discover import PARTIAL
from tongji.writing.text import formula_like, xml_safe

FIXED_TIME = dt.datetime(2000, 1, 1)  # stands in for "now" inside files, so reruns are byte-identical

# sheet name → (blocks of rows, each its first row number and its XML in pieces; the sheet's new dimension)
ExtraRows = dict[str, tuple[list[tuple[int, Iterable[bytes]]], str]]


# the system words its reasons in English whatever --lang says, and "File exists" does not tell a user that the
# output folder they named is a file: the common reasons are said in the user's language
_REASONS = {errno.EEXIST: "output-not-folder", errno.ENOTDIR: "output-not-folder", errno.ENOSPC: "output-disk-full",
            errno.EDQUOT: "output-disk-full", errno.EACCES: "output-no-permission", errno.EPERM: "output-no-permission",
            errno.EROFS: "output-read-only", errno.EISDIR: "output-is-folder"}


def unwritable(path: Path, exc: OSError) -> TongjiError:
    """The setup error for an output `path` the system would not write (`exc`): any other reason is named in
    Chinese by its code (EIO), which whoever helps can look up, and in English in the system's words."""
    key = _REASONS.get(exc.errno)
    if key == "output-not-folder":  # named: the file in the way, not the folder that was to be made past it
        while not Path(path).exists() and Path(path) != Path(path).parent:
            path = Path(path).parent
    if key:
        return TongjiError(key, path=path)
    code = errno.errorcode.get(exc.errno, type(exc).__name__)
    return TongjiError("output-refused", path=path, code=code, detail=exc.strerror or exc)


def ensure_dir(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable(folder, exc) from None
    if not os.access(folder, os.W_OK):
        raise TongjiError("output-no-permission", path=folder)
    return folder


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only if the block succeeds."""
    target = Path(target)
    ensure_dir(target.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=PARTIAL, suffix=target.suffix, dir=target.parent)
    except OSError as exc:  # a full disk, or no inodes left: the folder exists but takes no new file
        raise unwritable(target, exc) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an output is an ordinary file
        os.replace(tmp, target)
    except OSError as exc:
        raise unwritable(target, exc) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@functools.cache
def _umask() -> int:
    """The process's umask, read once: reading it means setting it, and for that moment a file another thread
    made (the portal's requests, rollup's writer thread) would get no mask at all."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def write_bytes(target: Path, data: bytes) -> Path:
    return write_pieces(target, [data])


def write_pieces(target: Path, pieces: Iterable[bytes]) -> Path:
    """The pieces one after another into `target`, atomically."""
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        for piece in pieces:
            out.write(piece)
    return target


def put(ws: Worksheet, row: int, col: int, value: object) -> Cell:
    """Write a value that came from a workbook or a registry: text stays text and XML-safe.

    openpyxl makes any str starting with "=" a formula, so a unit named '=HYPERLINK(...)' would be live; and
    Excel or LibreOffice would make it one when a user edits the cell, unless its style has quotePrefix."""
    cell = ws.cell(row, col)
    if isinstance(value, str):
        cell.value = xml_safe(value) or None  # nothing left is an empty cell, as readers see it anyway
        cell.data_type = "s"
        if cell.value and formula_like(cell.value):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def save_workbook(wb, target: Path, extra_rows: ExtraRows | None = None) -> Path:
    """Save an openpyxl workbook atomically with fixed document and zip timestamps (workbook_entries)."""
    return save_zip(target, workbook_entries(wb, extra_rows))


def save_zip(target: Path, parts: Iterable[Part], level: int | None = None) -> Path:
    """The parts zipped (zip_into) straight into `target`, atomically: a 市's workbook (45 MB at 100,000 units)
    is never held in memory whole."""
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        zip_into(out, parts, level)
    return target


def workbook_entries(wb, extra_rows: ExtraRows | None = None) -> list[Part]:
    """An openpyxl workbook's parts, to zip, with fixed document timestamps.

    `extra_rows` maps a sheet name to (blocks, new dimension like "A1:CQ100002"), each block a first row number
    and the XML of consecutive rows from there, in pieces: rows put among what openpyxl wrote, for sheets too
    big to build cell by cell (a 市 明细 has a row per unit: 230 MB of XML at 100,000 units). Such a sheet is
    streamed into the zip piece by piece and deflated at level 1, four times faster than the default."""
    # openpyxl names the parts sheet1.xml, sheet2.xml, … in the order of the workbook's sheets
    worksheets = [ws.title for ws in wb.worksheets]  # openpyxl numbers worksheets only, not chartsheets
    rows = {f"xl/worksheets/sheet{worksheets.index(name) + 1}.xml": blocks
            for name, blocks in (extra_rows or {}).items()}
    entries = []
    for name, attrs, body in workbook_parts(wb):
        if name in rows:
            entries.append(Part(name, attrs, _insert_rows(body, *rows[name]), size_hint(rows[name][1])))
        else:
            entries.append(Part(name, attrs, body))
    return entries


def workbook_parts(wb) -> list[tuple[str, int, bytes]]:
    """The files of an openpyxl workbook, in order, as (name, external attributes, bytes), with fixed document
    times: openpyxl writes them into this list instead of a zip, so the workbook is zipped once (zip_into)."""
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = "tongji"
    wb.properties.creator = "tongji"
    parts = _Parts()
    ExcelWriter(wb, parts).save()
    return [(name, attrs, _fix_core(body) if name == "docProps/core.xml" else body)
            for name, attrs, body in parts.items]


@dataclass(frozen=True)
class Part:
    """One file of a zip: its name, its external attributes (as zipfile records them), and its bytes, or its
    pieces with a generous size (`size`, see size_hint) when it is streamed."""

    name: str
    attrs: int
    body: bytes | Iterable[bytes]
    size: int = 0


def zip_bytes(parts: Iterable[Part], level: int | None = None) -> bytes:
    """The parts zipped in memory (zip_into)."""
    out = io.BytesIO()
    zip_into(out, parts, level)
    return out.getvalue()


def zip_into(out: BinaryIO, parts: Iterable[Part], level: int | None = None) -> None:
    """The parts deflated into one zip written to `out`, with a fixed time on each, so the same parts give the
    same bytes; at zlib's default level, or `level` (a streamed part always at 1)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for part in parts:
            info = zipfile.ZipInfo(part.name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = part.attrs
            if isinstance(part.body, bytes):
                dst.writestr(info, part.body, compresslevel=level)
                continue
            info._compresslevel = 1  # the name in Python 3.11 and 3.12; 3.13 keeps it as an alias
            # zipfile learns the size of a streamed part at its end; from this hint it chooses ZIP64 up front,
            # needed past 2 GiB (a full sheet of a national 明细) and only there: Excel refuses ZIP64 headers
            # on a workbook that does not need them
            info.file_size = part.size
            with dst.open(info, "w") as stream:
                for piece in part.body:
                    stream.write(piece)


class _Parts:
    """What openpyxl's ExcelWriter puts into a zip, kept in order as (name, external attributes, bytes), with
    the attributes zipfile would give them: the workbook is then zipped once, with fixed times."""

    def __init__(self) -> None:
        self.items: list[tuple[str, int, bytes]] = []

    def writestr(self, name: str, data: str | bytes) -> None:
        self.items.append((name, 0o600 << 16, data.encode("utf-8") if isinstance(data, str) else data))

    def write(self, filename: str, arcname: str) -> None:
        self.items.append((arcname, (os.stat(filename).st_mode & 0xFFFF) << 16, Path(filename).read_bytes()))

    def namelist(self) -> list[str]:
        return [name for name, *_ in self.items]

    def close(self) -> None:
        pass


def _insert_rows(body: bytes, blocks: list[tuple[int, Iterable[bytes]]], dimension: str) -> Iterator[bytes]:
    """The sheet, in pieces, with each block of rows put in row order among the (few) rows openpyxl wrote."""
    # openpyxl writes <dimension ref="A1:BZ2" /> from the rows it holds; read-only readers trust it
    body, found = _DIMENSION.subn(f'<dimension ref="{dimension}"/>'.encode(), body, count=1)
    if not found:
        raise ValueError("no <dimension> in the sheet to put rows into")
    if b"<sheetData/>" in body:
        head, tail = body.split(b"<sheetData/>", 1)
        written = b""
    else:
        head, rest = body.split(b"<sheetData>", 1)
        written, tail = rest.split(b"</sheetData>", 1)
    rows = [(int(_ROW_NUMBER.match(r).group(1)), [r]) for r in re.split(rb"(?=<row )", written) if r]
    yield head + b"<sheetData>"
    for _, pieces in sorted(rows + blocks, key=lambda r: r[0]):
        yield from pieces
    yield b"</sheetData>" + tail


_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')


def size_hint(dimension: str, per_cell: int = 64) -> int:
    """A generous size of a sheet's XML from its dimension ("A1:CG51428"): `per_cell` bytes a cell, where the
    rows of writing/unit_sheets.py take about 30 (amounts with their reference and tags)."""
    last = dimension.rsplit(":", 1)[-1]
    letters = last.rstrip("0123456789")
    return column_index_from_string(letters) * int(last[len(letters):] or 1) * per_cell


def _fix_core(body: bytes) -> bytes:
    """openpyxl stamps dcterms:modified with the save time whatever we set; put the fixed time back."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", body)
