"""Screening .xls files: a BIFF8 workbook stream inside an OLE compound file, read record by record."""

from __future__ import annotations

import struct
import sys
from array import array

from tongji.reading.screen.limits import Limits, Over, Verdict, beyond, check_time

_FREE = 0xFFFFFFFA  # sector numbers from here up mark ends and free sectors, never data


def screen_xls(data: bytes, limits: Limits, deadline: float) -> Verdict:
    # a technical detail in the words the reading library uses for its own, in either language
    damaged = Over("unreadable-damaged", detail="OLE2 compound document structure is broken")
    try:
        stream = _workbook_stream(data)
        if stream is None:
            raise damaged
        if not stream:
            raise Over("not-workbook", detail="文件里没有 Excel 工作表数据", detail_en="no sheet data in the file")
        over = _biff_sheets(stream, limits, deadline)
        if over:  # calamine reads every sheet of an .xls as it opens it: one sheet too many is the whole file
            key, kw = next(iter(over.values()))
            raise Over(key, **kw)
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
                over[sheet] = ("unreadable-damaged", {
                    "detail": f"工作表“{sheet}”的尺寸记录超出 .xls 格式的上限",
                    "detail_en": f"sheet '{sheet}' declares a size beyond the .xls limits"})
                break
            if length >= 4 and (rid in _VALUE_RECORDS or rid == _MULRK):
                row, col = struct.unpack_from("<HH", stream, body)
                if rid == _MULRK and length >= 6:
                    col = struct.unpack_from("<H", stream, body + length - 2)[0]
                cells += 1
                found = beyond(row + 1, col + 1, cells, limits)
                if found:
                    over[sheet] = (found[0], found[1] | {"sheet": sheet})
                    break
            if n & 0xFFFF == 0:
                check_time(deadline, limits)
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
