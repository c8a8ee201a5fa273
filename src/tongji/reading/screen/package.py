"""Screening zip packages (xlsx, xlsm, ods): true unpacked sizes and each read sheet's furthest cell."""

from __future__ import annotations

import functools
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO
from typing import NamedTuple

from tongji.reading.screen.limits import Limits, Over, Verdict, beyond, check_time


def screen_zip(data: bytes, limits: Limits, deadline: float, wanted: Callable[[str], bool],
               every_part: bool = False) -> Verdict:
    try:
        infos = _directory(data) or zipfile.ZipFile(BytesIO(data)).infolist()
    except Exception:  # noqa: BLE001 - a directory we cannot follow is not handed to calamine either
        raise Over("not-workbook", detail="压缩包已损坏", detail_en="a damaged zip archive") from None
    parts = {i.filename: b"".join(_inflate(data, i, limits.bytes)) for i in infos
             if i.filename in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")}
    names = _sheet_paths(parts.get("xl/workbook.xml", b""), parts.get("xl/_rels/workbook.xml.rels", b""))
    read = [i for i in infos if every_part or _is_read(i.filename, names, wanted)]
    if sum(i.file_size for i in read) > limits.bytes:  # what the headers admit to: no need to inflate
        raise Over("too-large")
    # what the read parts can inflate to at most, whatever their headers say: when even that fits the limit,
    # only the sheets need inflating (to be walked), each in one piece
    bounded = sum(_most(i) for i in read) <= limits.bytes
    verdict, left = Verdict(), limits.bytes
    for info in read:
        name = info.filename
        if name.startswith("xl/worksheets/"):
            whole = _inflated(data, info) if bounded and _most(info) <= _WHOLE else None
            if whole is not None and _plain(whole, limits):
                found, size = None, len(whole)
            else:
                pieces = (lambda x=whole: iter((x,))) if whole is not None else (
                    lambda i=info, left=left: _inflate(data, i, left))
                found, size = _grid_xlsx(pieces, limits, deadline)
            if found:  # a sheet we cannot name might be any form sheet: then read nothing
                sheet = names.get(name, name.rsplit("/", 1)[-1])
                if name not in names:
                    raise Over(found[0], **(found[1] | {"sheet": sheet}))
                verdict.sheets.setdefault(sheet, (found[0], found[1] | {"sheet": sheet}))
            elif whole is not None and name in names:
                verdict.xml[names[name]] = whole
        elif bounded and name != "content.xml":
            continue  # inside the limit whatever it inflates to, and nothing in it to walk
        else:
            body = parts.get(name) or b"".join(_inflate(data, info, left))
            size = len(body)
            if size > left:
                raise Over("too-large")
            if name == "content.xml":
                _grid_ods(body, limits, deadline, verdict)
        left -= size
        check_time(deadline, limits)
    return verdict


class _Entry(NamedTuple):
    """What the screen uses of a zip entry, named as zipfile.ZipInfo names it."""

    filename: str
    compress_type: int
    compress_size: int
    file_size: int
    header_offset: int


_END = struct.Struct("<4sHHHHIIH")
_HEADER = struct.Struct("<4s4xHH8xIIHHH8xI")  # flags, method, sizes, name/extra/comment lengths, local header


def _directory(data: bytes) -> list[_Entry] | None:
    """The central directory read straight from the bytes, for the plain zip a spreadsheet program writes (as
    zipfile would read it, without its per-entry overhead); None for anything else — a comment, zip64, data
    before the zip, a spanned archive, a damaged directory — which zipfile then reads or refuses."""
    end = len(data) - _END.size
    if end < 0:
        return None
    sig, disk, start_disk, here, n, size, offset, comment = _END.unpack_from(data, end)
    if sig != b"PK\x05\x06" or disk or start_disk or here != n or comment or offset + size != end:
        return None
    out, at = [], offset
    for _ in range(n):
        if data[at:at + 4] != b"PK\x01\x02" or at + 46 > end:
            return None
        _, flags, method, packed, unpacked, name, extra, note, local = _HEADER.unpack_from(data, at)
        if 0xFFFFFFFF in (packed, unpacked, local):
            return None  # zip64
        text = data[at + 46:at + 46 + name].decode("utf-8" if flags & 0x800 else "cp437")
        out.append(_Entry(text.split("\0", 1)[0], method, packed, unpacked, local))
        at += 46 + name + extra + note
    return out if at == end else None


_DEFLATE_MOST = 1032  # deflate's largest ratio: a 258-byte match in two bits
_WHOLE = 16 << 20  # a sheet that cannot inflate to more than this is inflated in one piece (and kept for blanks.py)


def _most(info: _Entry | zipfile.ZipInfo) -> int:
    """The most this entry can inflate to, read as _inflate reads it."""
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return (info.compress_size + 1) * _DEFLATE_MOST
    return info.file_size  # a method calamine may not know: _inflate goes by the header too


def _inflated(data: bytes, info: _Entry | zipfile.ZipInfo) -> bytes:
    """A small entry inflated in one call; as _inflate's pieces when it does not inflate cleanly."""
    raw = _raw(data, info)
    if raw is not None and info.compress_type == zipfile.ZIP_DEFLATED:
        try:
            return zlib.decompressobj(-15).decompress(raw)
        except zlib.error:
            pass
    return b"".join(_inflate(data, info, _WHOLE))


def _is_read(name: str, names: dict[str, str], wanted: Callable[[str], bool]) -> bool:
    """Whether calamine reads this part: the XML parts it opens every workbook with, and the wanted sheets."""
    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
        return name not in names or wanted(names[name])
    return name.endswith((".xml", ".rels")) and not name.startswith(
        ("docProps/", "xl/theme/", "xl/drawings/", "xl/charts/", "xl/media/"))


_PIECE = 1 << 20


def _inflate(data: bytes, info: _Entry | zipfile.ZipInfo, left: int) -> Iterator[bytes]:
    """The entry's bytes in pieces, inflated from its raw data: a header may understate the size, the data
    cannot. More than `left` bytes raise Over; data that does not inflate ends the entry (calamine will
    say why)."""
    raw = _raw(data, info)
    if raw is None:
        return
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > left:
            raise Over("too-large")
        for start in range(0, len(raw), _PIECE):
            yield bytes(raw[start:start + _PIECE])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:  # a method calamine may not know: go by the header
        if info.file_size > left:
            raise Over("too-large")
        return
    inflater, size = zlib.decompressobj(-15), 0
    try:
        for start in range(0, len(raw), 1 << 16):
            piece = inflater.decompress(raw[start:start + (1 << 16)], _PIECE)
            while True:
                size += len(piece)
                if size > left:
                    raise Over("too-large")
                yield piece
                if not inflater.unconsumed_tail:
                    break
                piece = inflater.decompress(inflater.unconsumed_tail, _PIECE)
    except zlib.error:
        return


def _raw(data: bytes, info: _Entry | zipfile.ZipInfo) -> memoryview | None:
    """The entry's data as stored, after its local header; None without a local header where the directory says."""
    at = info.header_offset
    if data[at:at + 4] != b"PK\x03\x04" or len(data) < at + 30:
        return None
    n, m = struct.unpack_from("<HH", data, at + 26)
    return memoryview(data)[at + 30 + n + m:at + 30 + n + m + info.compress_size]


_SHEET_TAG = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\b(?:\w+:)?id="([^"]*)"')
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb'\b(Id|Target)="([^"]*)"')


def _sheet_paths(workbook: bytes, rels: bytes) -> dict[str, str]:
    """Worksheet part path → sheet name, from xl/workbook.xml and its relationships (not to be changed by the
    caller). A batch of one template has the same two small parts in every workbook: those are read once."""
    if len(workbook) + len(rels) <= 1 << 16:
        return _known_sheet_paths(workbook, rels)
    return _read_sheet_paths(workbook, rels)


@functools.lru_cache(maxsize=16)
def _known_sheet_paths(workbook: bytes, rels: bytes) -> dict[str, str]:
    return _read_sheet_paths(workbook, rels)


def _read_sheet_paths(workbook: bytes, rels: bytes) -> dict[str, str]:
    targets = {}
    for attrs in _REL_TAG.findall(rels):
        got = dict(_ATTR.findall(attrs))
        if b"Id" in got and b"Target" in got:
            target = got[b"Target"].decode("utf-8", "replace").lstrip("/")
            targets[got[b"Id"]] = target if target.startswith("xl/") else "xl/" + target
    return {targets[rid]: _unescape(name.decode("utf-8", "replace"))
            for name, rid in _SHEET_TAG.findall(workbook) if rid in targets}


def _unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


# <row ...>, <c ...> or <c .../>; a namespace prefix is allowed, as calamine allows it (any prefix, even one bound
# to another namespace)
_XLSX_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"""\br\s*=\s*["']([A-Za-z]*)([0-9]*)["']""")


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

    First a cheap pass, one regular expression and one count in C: where every cell tag (`<c` or `<x:c`) names its
    place as Excel writes it, inside the limits (empty cells included), and there are no more of them than the
    limit has cells, the sheet is inside them. Otherwise the sheet is inflated again and walked cell by cell."""
    size, tags, plain = 0, 0, True
    odd = _odd_cells(limits)
    for xml in _whole_tags(pieces()):
        size += len(xml)
        tags += xml.count(b'c r="')
        check_time(deadline, limits)
        plain = plain and not odd.search(xml)
    if plain and tags <= limits.rows * limits.cols:
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
            over = beyond(at_row, col, cells, limits)
            if over:
                return over, size
            if n & 0xFFFF == 0:
                check_time(deadline, limits)
    return None, size


def _plain(xml: bytes, limits: Limits) -> bool:
    """The cheap pass over a sheet inflated whole: no odd cell tag, and no more cell tags than the limit has cells
    (counted only in a sheet big enough to hold that many: each takes six bytes at least, `<c r="`)."""
    most = limits.rows * limits.cols
    return not _odd_cells(limits).search(xml) and (len(xml) <= 6 * most or xml.count(b'c r="') <= most)


@functools.lru_cache(maxsize=8)
def _odd_cells(limits: Limits) -> re.Pattern:
    """A cell tag the cheap pass cannot clear: any `c` element (after `<` or a prefix's `:`) whose first attribute
    is not a reference as Excel writes it, inside the limits. A false alarm (`:c ` in a text) only costs the walk.
    The search starts from the letter c, which the engine finds fast, and looks behind for the `<` or `:`."""
    near = rb"(?:%s)(?:%s)" % (_at_most(_letters(limits.cols), b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                               _at_most(str(limits.rows).encode(), b"0123456789"))
    return re.compile(rb'c(?<=[<:]c)(?! r="%s")[\s/>]' % near)


def _at_most(top: str | bytes, alphabet: bytes) -> bytes:
    """A pattern for the strings over `alphabet` (in its order, its first letter not leading) that count no more
    than `top`: fewer characters, or as many and not after it."""
    top = top.encode() if isinstance(top, str) else top
    if not top:
        return rb"(?!)"
    every = b"[%c-%c]" % (alphabet[0], alphabet[-1])
    lead = b"[%c-%c]" % (alphabet[1], alphabet[-1]) if alphabet[0:1] == b"0" else every
    alts = [lead + every + b"{0,%d}" % (len(top) - 2)] if len(top) > 1 else []
    for i, ch in enumerate(top):
        lower = alphabet[(1 if i == 0 and alphabet[0:1] == b"0" else 0):alphabet.index(ch)]
        if lower:
            alts.append(re.escape(top[:i]) + b"[%c-%c]" % (lower[0], lower[-1]) + every + b"{%d}" % (len(top) - i - 1))
    alts.append(re.escape(top))
    return b"|".join(alts)


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
        over = sheet not in verdict.sheets and beyond(last, col, cells, limits)
        if over:
            verdict.sheets[sheet] = (over[0], over[1] | {"sheet": sheet})
        if b"table:formula" in attrs:
            text = _ODS_TEXT.match(xml, m.end())
            value = _unescape(text.group(1).decode("utf-8", "replace")).strip() if text else ""
            if _ODS_ERROR.search(attrs) or _ERROR_TEXT.match(value):
                verdict.errors.setdefault(sheet, {})[(first, first_col)] = value or "#ERROR"
        if n & 0xFFFF == 0:
            check_time(deadline, limits)
