"""Measure a workbook's bytes before calamine sees them, in bounded time and memory.

calamine gives every sheet one slot per cell of its bounding box: a single value at XFD1048576 (or at
row 65536, column 65536 of a damaged .xls) asks for hundreds of GiB, and the process aborts — no Python
`except` can catch that. A zip whose sheet inflates to gigabytes is read whole. So each workbook is
measured here first: the package's true unpacked size (inflated with a cap, whatever its headers
claim) and, per sheet, the furthest cell holding a value. Only what fits the limits is handed on.

Cells without a value (a border, a colour) are skipped, as calamine skips them. A sheet's declared
`<dimension>` is not trusted either way: the calamine fastexcel ships sizes its grid from the cells it
reads, not from that declaration (tests/test_hostile_files.py holds it to that).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import struct
import sys
import time
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO

from tongji.spec import Spec

# name in the [config] table of schemas/forms.toml → default when no configuration names it
LIMIT_KEYS = {"bytes": ("工作簿解压上限MB", 100), "rows": ("工作表行数上限", 10_000),
              "cols": ("工作表列数上限", 200), "seconds": ("读取时限秒", 10)}


@dataclass(frozen=True)
class Limits:
    mb: float
    rows: int
    cols: int
    seconds: float

    @classmethod
    def of(cls, spec: Spec) -> Limits:
        get = {k: spec.params.get(name, default) for k, (name, default) in LIMIT_KEYS.items()}
        return cls(get["bytes"], int(get["rows"]), int(get["cols"]), get["seconds"])

    @property
    def bytes(self) -> int:
        return int(self.mb * 2**20)


@dataclass
class Verdict:
    """What the screen found. `whole` is (message key, kw) when the file must not be read at all;
    `sheets` maps a sheet that must not be read to its (message key, kw); `errors` holds .ods formula
    errors, which calamine reads as empty text: sheet → {(Excel row, 0-based column): "#DIV/0!"}."""

    whole: tuple[str, dict] | None = None
    sheets: dict[str, tuple[str, dict]] = field(default_factory=dict)
    errors: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)


class _Over(Exception):
    def __init__(self, key: str, **kw):
        self.key, self.kw = key, kw


def screen(data: bytes, limits: Limits, wanted: Callable[[str], bool] = lambda sheet: True) -> Verdict:
    """Measure `data` (an xlsx/xlsm/ods zip or an xls compound file). Never raises for bad input.

    Only the sheets `wanted` says will be read are measured, and counted against the size limit with the
    parts calamine reads on opening any workbook (workbook, styles, shared strings); pictures and sheets
    that are never read cost nothing, however large."""
    deadline = time.monotonic() + limits.seconds
    try:
        if data.startswith(b"PK"):
            return _screen_zip(data, limits, deadline, wanted)
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            if len(data) > limits.bytes:
                raise _Over("too-large")
            return _screen_xls(data, limits, deadline)
    except _Over as over:
        return Verdict(whole=(over.key, over.kw if over.kw else {"limit": _mb(limits)}))
    return Verdict()


def _mb(limits: Limits) -> str:
    return f"{limits.mb:g}"


def _check_time(deadline: float, limits: Limits) -> None:
    if time.monotonic() > deadline:
        raise _Over("too-large-time", limit=f"{limits.seconds:g}")


@contextlib.contextmanager
def quiet_stderr():
    """Silence file descriptor 2 while calamine runs: a Rust panic prints its message (and with RUST_BACKTRACE
    a backtrace) there before it reaches Python as an exception, which becomes an issue in Chinese instead."""
    try:
        saved, sink = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no stderr to silence
        yield
        return
    os.dup2(sink, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(sink)


# --- zip packages: xlsx, xlsm, ods ---------------------------------------------------------------

def _screen_zip(data: bytes, limits: Limits, deadline: float, wanted: Callable[[str], bool]) -> Verdict:
    try:
        infos = zipfile.ZipFile(BytesIO(data)).infolist()
    except Exception:  # noqa: BLE001 - a directory we cannot follow is not handed to calamine either
        raise _Over("not-workbook", detail="压缩包已损坏") from None
    parts = {i.filename: b"".join(_inflate(data, i, limits.bytes)) for i in infos
             if i.filename in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")}
    names = _sheet_paths(parts)
    read = [i for i in infos if _is_read(i.filename, names, wanted)]
    if sum(i.file_size for i in read) > limits.bytes:  # what the headers admit to: no need to inflate
        raise _Over("too-large")
    verdict, left = Verdict(), limits.bytes
    for info in read:
        name = info.filename
        if name.startswith("xl/worksheets/"):
            found, size = _grid_xlsx(lambda i=info, left=left: _inflate(data, i, left), limits, deadline)
            if found:  # a sheet we cannot name might be any form sheet: then read nothing
                sheet = names.get(name, name.rsplit("/", 1)[-1])
                if name not in names:
                    raise _Over(found[0], **(found[1] | {"sheet": sheet}))
                verdict.sheets.setdefault(sheet, (found[0], found[1] | {"sheet": sheet}))
        else:
            body = parts.get(name) or b"".join(_inflate(data, info, left))
            size = len(body)
            if size > left:
                raise _Over("too-large")
            if name == "content.xml":
                _grid_ods(body, limits, deadline, verdict)
        left -= size
        _check_time(deadline, limits)
    return verdict


def _is_read(name: str, names: dict[str, str], wanted: Callable[[str], bool]) -> bool:
    """Whether calamine reads this part: the XML parts it opens every workbook with, and the wanted sheets."""
    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
        return name not in names or wanted(names[name])
    return name.endswith((".xml", ".rels")) and not name.startswith(
        ("docProps/", "xl/theme/", "xl/drawings/", "xl/charts/", "xl/media/"))


_PIECE = 1 << 20


def _inflate(data: bytes, info: zipfile.ZipInfo, left: int) -> Iterator[bytes]:
    """The entry's bytes in pieces, inflated from its raw data: a header may understate the size, the data
    cannot. More than `left` bytes raise _Over; data that does not inflate ends the entry (calamine will
    say why)."""
    at = info.header_offset
    if data[at:at + 4] != b"PK\x03\x04" or len(data) < at + 30:
        return
    n, m = struct.unpack_from("<HH", data, at + 26)
    raw = memoryview(data)[at + 30 + n + m:at + 30 + n + m + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > left:
            raise _Over("too-large")
        for start in range(0, len(raw), _PIECE):
            yield bytes(raw[start:start + _PIECE])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:  # a method calamine may not know: go by the header
        if info.file_size > left:
            raise _Over("too-large")
        return
    inflater, size = zlib.decompressobj(-15), 0
    try:
        for start in range(0, len(raw), 1 << 16):
            piece = inflater.decompress(raw[start:start + (1 << 16)], _PIECE)
            while True:
                size += len(piece)
                if size > left:
                    raise _Over("too-large")
                yield piece
                if not inflater.unconsumed_tail:
                    break
                piece = inflater.decompress(inflater.unconsumed_tail, _PIECE)
    except zlib.error:
        return


_SHEET_TAG = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\b(?:\w+:)?id="([^"]*)"')
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb'\b(Id|Target)="([^"]*)"')


def _sheet_paths(parts: dict[str, bytes]) -> dict[str, str]:
    """Worksheet part path → sheet name, from xl/workbook.xml and its relationships."""
    targets = {}
    for attrs in _REL_TAG.findall(parts.get("xl/_rels/workbook.xml.rels", b"")):
        got = dict(_ATTR.findall(attrs))
        if b"Id" in got and b"Target" in got:
            target = got[b"Target"].decode("utf-8", "replace").lstrip("/")
            targets[got[b"Id"]] = target if target.startswith("xl/") else "xl/" + target
    return {targets[rid]: _unescape(name.decode("utf-8", "replace"))
            for name, rid in _SHEET_TAG.findall(parts.get("xl/workbook.xml", b"")) if rid in targets}


def _unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


# <row ...>, <c ...> or <c .../>; a namespace prefix is allowed, as calamine allows it
_XLSX_TAG = re.compile(rb"<(?:\w+:)?(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb'\br="([A-Za-z]*)([0-9]*)"')


_ODD_REF = re.compile(rb'<c r="(?![A-Z]{1,3}[0-9]{1,7}")')  # a reference not as Excel writes one


def _whole_tags(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The same bytes re-cut so that no tag is split between two pieces."""
    carry = b""
    for piece in pieces:
        buf = carry + piece
        cut = buf.rfind(b"<")
        if cut >= 0 and buf.find(b">", cut) < 0 and len(buf) - cut < 1 << 16:
            buf, carry = buf[:cut], buf[cut:]
        else:
            carry = b""
        yield buf
    yield carry


def _grid_xlsx(pieces: Callable[[], Iterator[bytes]], limits: Limits, deadline: float
               ) -> tuple[tuple[str, dict] | None, int]:
    """The first limit a worksheet's valued cells break, if any, as (message key, kw); and its size.

    First a cheap pass: where every cell names its place, as Excel writes it, and no reference is long
    enough to be beyond the limits (empty cells included), the sheet is inside them. Otherwise the sheet
    is inflated again and walked cell by cell."""
    size, cells, plain = 0, 0, True
    far = _far_refs(limits)
    for xml in _whole_tags(pieces()):
        size += len(xml)
        _check_time(deadline, limits)
        n = xml.count(b'<c r="')
        cells += n
        plain = plain and n == xml.count(b"<c ") + xml.count(b"<c>") and not _ODD_REF.search(xml) and not any(
            _beyond(int(r), _col_index(c), 0, limits) for c, r in far.findall(xml))
    if plain and cells <= limits.rows * limits.cols:
        return None, size
    row = col = cells = 0
    for xml in _whole_tags(pieces()):
        for n, m in enumerate(_XLSX_TAG.finditer(xml)):
            ref = _REF.search(m.group(2))
            if m.group(1) == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
                continue
            col = _col_index(ref.group(1)) if ref and ref.group(1) else col + 1
            at_row = int(ref.group(2)) if ref and ref.group(2) else row
            if m.group(2).endswith(b"/"):
                continue  # an empty cell: it places the next one, but calamine keeps no slot for it
            cells += 1
            over = _beyond(at_row, col, cells, limits)
            if over:
                return over, size
            if n & 0xFFFF == 0:
                _check_time(deadline, limits)
    return None, size


@functools.lru_cache(maxsize=8)
def _far_refs(limits: Limits) -> re.Pattern:
    """Cell references long enough to be beyond the limits (a first sieve; _beyond decides)."""
    # limits beyond Excel's own grid (XFD, 1048576) still make a valid pattern
    letters, digits = min(len(_letters(limits.cols)), 3), min(len(str(limits.rows)), 7)
    return re.compile(rb'<c r="([A-Z]{%d,3}(?=[0-9])|[A-Z]{1,3}(?=[0-9]{%d}))([0-9]+)"' % (letters, digits))


def _letters(col: int) -> str:
    s = ""
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper()[:8]:
        n = n * 26 + ch - 64
    return n if len(letters) <= 8 else 10**9


def _beyond(row: int, col: int, cells: int, limits: Limits) -> tuple[str, dict] | None:
    if row > limits.rows:
        return "too-large-rows", {"limit": limits.rows}
    if col > limits.cols:
        return "too-large-cols", {"limit": limits.cols}
    if cells > limits.rows * limits.cols:  # the same cell written again and again
        return "too-large-cells", {"limit": limits.rows * limits.cols}
    return None


# content.xml of an .ods: tables, rows and cells, each possibly repeated
_ODS_TAG = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*)>")
_ODS_NAME = re.compile(rb'\btable:name="([^"]*)"')
_ROWS_REPEATED = re.compile(rb'\btable:number-rows-repeated="([0-9]+)"')
_COLS_REPEATED = re.compile(rb'\btable:number-columns-repeated="([0-9]+)"')
_ODS_ERROR = re.compile(rb'\bcalcext:value-type="error"')
_ODS_TEXT = re.compile(rb"\s*<text:p[^>]*>([^<]*)")
_ERROR_TEXT = re.compile(r"^(#[A-Z0-9/!?]+|Err:[0-9]+)$")


def _grid_ods(xml: bytes, limits: Limits, deadline: float, verdict: Verdict) -> None:
    """Bounds per table as for xlsx, and the cells whose formula ended in an error (calamine reads them as "")."""
    sheet, row, last, col = "", 0, 0, 0
    cells = 0
    for n, m in enumerate(_ODS_TAG.finditer(xml)):
        closing, tag, attrs = m.groups()
        if tag == b"table":
            if not closing:
                name = _ODS_NAME.search(attrs)
                sheet, row, cells = _unescape(name.group(1).decode("utf-8", "replace")) if name else "", 0, 0
            continue
        if closing:
            continue
        if tag == b"table-row":
            rep = _ROWS_REPEATED.search(attrs)
            first, row, col = row + 1, row + (int(rep.group(1)) if rep else 1), 0
            last = row
            continue
        rep = _COLS_REPEATED.search(attrs)
        first_col, col = col, col + (int(rep.group(1)) if rep else 1)
        if attrs.endswith(b"/") and b"value-type" not in attrs:
            continue  # empty, however often repeated
        cells += (col - first_col) * (last - first + 1)
        over = sheet not in verdict.sheets and _beyond(last, col, cells, limits)
        if over:
            verdict.sheets[sheet] = (over[0], over[1] | {"sheet": sheet})
        if b"table:formula" in attrs:
            text = _ODS_TEXT.match(xml, m.end())
            value = _unescape(text.group(1).decode("utf-8", "replace")).strip() if text else ""
            if _ODS_ERROR.search(attrs) or _ERROR_TEXT.match(value):
                verdict.errors.setdefault(sheet, {})[(first, first_col)] = value or "#ERROR"
        if n & 0xFFFF == 0:
            _check_time(deadline, limits)


# --- .xls: a BIFF8 workbook stream inside an OLE compound file -----------------------------------

_FREE = 0xFFFFFFFA  # sector numbers from here up mark ends and free sectors, never data


def _screen_xls(data: bytes, limits: Limits, deadline: float) -> Verdict:
    damaged = _Over("unreadable-damaged", detail="复合文档结构无法解析")
    try:
        stream = _workbook_stream(data)
        if stream is None:
            raise damaged
        if not stream:
            raise _Over("not-workbook", detail="文件里没有 Excel 工作表数据")
        over = _biff_sheets(stream, limits, deadline)
        if over:  # calamine reads every sheet of an .xls as it opens it: one sheet too many is the whole file
            key, kw = next(iter(over.values()))
            raise _Over(key, **kw)
        return Verdict()
    except (struct.error, IndexError, ValueError):  # a record cut short: calamine would misread it
        raise damaged from None


def _workbook_stream(data: bytes) -> bytes | None:
    """The `Workbook` (or BIFF5 `Book`) stream; b"" when there is none (a Word file, say), None when the
    container is too damaged to follow."""
    if len(data) < 512:
        return None
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12):
        return None
    size = 1 << shift
    n_fat, dir_start = struct.unpack_from("<II", data, 0x2C)
    cutoff, minifat_start, _, difat_start, n_difat = struct.unpack_from("<IIIII", data, 0x38)
    n_sectors = len(data) // size

    def sector(s: int) -> bytes:
        return data[(s + 1) * size:(s + 2) * size]

    def table(raw: bytes) -> array:
        out = array("I", raw[:len(raw) // 4 * 4])
        if sys.byteorder == "big":
            out.byteswap()
        return out

    def chain(start: int, links: array) -> list[int]:
        out = []
        while start < _FREE and start < len(links) and len(out) <= n_sectors:
            out.append(start)
            start = links[start]
        return out

    difat = list(table(data[0x4C:0x200]))
    s = difat_start
    for _ in range(min(n_difat, n_sectors)):
        if s >= _FREE:
            break
        block = table(sector(s))
        difat += block[:-1]
        s = block[-1]
    fat = table(b"".join(sector(s) for s in difat[:n_fat] if s < _FREE))
    directory = b"".join(sector(s) for s in chain(dir_start, fat))
    entries = []
    for at in range(0, len(directory) - 127, 128):
        length, kind = struct.unpack_from("<HB", directory, at + 0x40)
        name = directory[at:at + max(0, min(length, 64) - 2)].decode("utf-16-le", "replace")
        start, stream_size = struct.unpack_from("<II", directory, at + 0x74)
        entries.append((name, kind, start, stream_size))
    if not entries:
        return None
    found = next((e for e in entries if e[1] == 2 and e[0].lower() in ("workbook", "book")), None)
    if found is None:
        return b""
    _, _, start, stream_size = found
    if stream_size < cutoff:
        mini = b"".join(sector(s) for s in chain(entries[0][2], fat))
        minifat = table(b"".join(sector(s) for s in chain(minifat_start, fat)))
        step = 1 << mini_shift
        body = b"".join(mini[s * step:(s + 1) * step] for s in chain(start, minifat))
    else:
        body = b"".join(sector(s) for s in chain(start, fat))
    return body[:stream_size]


# BIFF records that put a value in a cell: row and column are the body's first two u16
_VALUE_RECORDS = {0x0006, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00D6, 0x0406}
_MULRK, _BOF, _EOF, _BOUNDSHEET, _DIMENSIONS = 0x00BD, 0x0809, 0x000A, 0x0085, 0x0200


def _records(stream: bytes, pos: int):
    """(record id, body offset, body length) from `pos` to the end of the substream that starts there."""
    depth = 0
    while pos + 4 <= len(stream):
        rid, length = struct.unpack_from("<HH", stream, pos)
        yield rid, pos + 4, length
        depth += (rid == _BOF) - (rid == _EOF)
        if depth <= 0:
            return
        pos += 4 + length


def _biff_sheets(stream: bytes, limits: Limits, deadline: float) -> dict[str, tuple[str, dict]]:
    """Sheets whose cells break a limit, each walked from where the globals say it starts, as calamine
    does. A BIFF sheet is at most 65536 × 256, but a damaged record can name column 65535."""
    starts = {}
    for rid, body, length in _records(stream, 0):
        if rid == _BOUNDSHEET and length >= 8:
            starts[_biff_name(stream[body + 6:body + length])] = struct.unpack_from("<I", stream, body)[0]
    over = {}
    for sheet, start in starts.items():
        cells = 0
        for n, (rid, body, length) in enumerate(_records(stream, start)):
            if rid == _DIMENSIONS and not _dimensions_fit(stream, body, length):
                # calamine reserves room for the declared size: past what .xls allows it can only be damage
                over[sheet] = ("unreadable-damaged", {"detail": f"工作表“{sheet}”的尺寸记录超出 .xls 格式的上限"})
                break
            if length >= 4 and (rid in _VALUE_RECORDS or rid == _MULRK):
                row, col = struct.unpack_from("<HH", stream, body)
                if rid == _MULRK and length >= 6:
                    col = struct.unpack_from("<H", stream, body + length - 2)[0]
                cells += 1
                found = _beyond(row + 1, col + 1, cells, limits)
                if found:
                    over[sheet] = (found[0], found[1] | {"sheet": sheet})
                    break
            if n & 0xFFFF == 0:
                _check_time(deadline, limits)
    return over


def _dimensions_fit(stream: bytes, body: int, length: int) -> bool:
    """Whether a DIMENSIONS record declares a range .xls can hold, first row and column before the last:
    u32 rows in BIFF8, u16 in BIFF5."""
    if length >= 14:
        first, last = struct.unpack_from("<II", stream, body)
        left, right = struct.unpack_from("<HH", stream, body + 8)
    elif length >= 8:
        first, last, left, right = struct.unpack_from("<HHHH", stream, body)
    else:
        return True
    return first <= last <= 65536 and left <= right <= 256


def _biff_name(raw: bytes) -> str:
    """A BIFF8 short unicode string: length, a flag byte (1 = UTF-16), then the characters."""
    if len(raw) < 2:
        return ""
    count, wide = raw[0], raw[1] & 1
    text = raw[2:2 + count * (2 if wide else 1)]
    return text.decode("utf-16-le" if wide else "latin-1", "replace")
