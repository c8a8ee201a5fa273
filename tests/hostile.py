"""Hostile workbooks made by code: each a good workbook with one thing broken (tests and benchmarks share them).

Some of these made calamine panic or abort the process before the reader screened them (issue 9)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import xlwt

from tongji.plugins import load_spec
from workbooks import GOOD, cover, make_workbook, uscc

MEMBER_PART = "xl/worksheets/sheet2.xml"  # make_workbook writes 封面 first, then 会员


def rezip(path: Path, part: str, change) -> Path:
    """Rewrite one part of a workbook's zip with `change(bytes) -> bytes`."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in src.infolist():
            body = src.read(info)
            out.writestr(info.filename, change(body) if info.filename == part else body)
    return path


def unit(path: Path, n: int, values: dict | None = None) -> Path:
    """A good workbook of its own unit, so that no two files of a batch are one unit's, nor copies of one another
    (a 互助保障给付金额 BF20 of its own)."""
    return make_workbook(path, {"BF20": GOOD["BF20"] + n, **(values or {})}, cover(uscc(f"81330106MC{n:07d}")))


def make_xls(path: Path, extra=None) -> Path:
    """A filled .xls in the template layout; `extra(sheets)` may write more cells."""
    spec, cov = load_spec(), cover(uscc("81330106MC0000900"))
    wb = xlwt.Workbook()
    sheets = {}
    for form in spec.forms:
        ws = sheets[form.sheet] = wb.add_sheet(form.sheet)
        labels = ["项目", "代码", "内容", "说明"] if form.is_cover else ["指标名称", "代码", "计量单位", "本期数"]
        for j, label in enumerate(labels):
            ws.write(4, j, label)
        for i, row in enumerate([r for r in form.rows if r.filled], start=5):
            ws.write(i, 0, row.name)
            ws.write(i, 1, row.code)
            value = (cov if form.is_cover else GOOD).get(row.code)
            if value is not None:
                ws.write(i, 2 if form.is_cover else 3, value)
    if extra:
        extra(sheets)
    wb.save(str(path))
    return path


def patch_record(path: Path, rid: int, row: int, col: int, change) -> Path:
    """Change the BIFF record `rid` of the cell (row, col), found in the file's bytes, with change(bytes, at)."""
    data = bytearray(path.read_bytes())
    at = next(i for i in range(len(data) - 8)
              if data[i:i + 2] == struct.pack("<H", rid) and data[i + 4:i + 8] == struct.pack("<HH", row, col))
    change(data, at)
    path.write_bytes(bytes(data))
    return path


def before_end(rows: bytes):
    """A change for rezip: `rows` put at the end of the sheet's data."""
    return lambda xml: xml.replace(b"</sheetData>", rows + b"</sheetData>")


def far_cell(ref: str, row: int):
    return before_end(f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'.encode())


def write_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip written by hand from (name, raw deflate data, crc, size the header declares)."""
    out, central = bytearray(), bytearray()
    for name, raw, crc, size in entries:
        n, offset = name.encode(), len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0x21, crc, len(raw), size, len(n), 0) + n
        out += raw
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, 8, 0, 0x21, crc, len(raw), size,
                               len(n), 0, 0, 0, 0, 0, offset) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))
    return path


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def bomb(path: Path, gigabytes: float, declared: int | None = None) -> Path:
    """A good workbook whose 会员 sheet inflates to `gigabytes` of spaces between two rows: 1 MiB of spaces
    deflated once and repeated (a full flush makes each copy stand alone). The CRC is not worked out: the
    sheet must be refused before anyone inflates it to the end."""
    src = zipfile.ZipFile(make_workbook(path))
    entries = []
    for info in src.infolist():
        body = src.read(info)
        if info.filename != MEMBER_PART:
            entries.append((info.filename, deflate(body), zlib.crc32(body), len(body)))
            continue
        head, tail = body.split(b"<sheetData>", 1)
        c = zlib.compressobj(1, zlib.DEFLATED, -15)
        first = c.compress(head + b"<sheetData>") + c.flush(zlib.Z_FULL_FLUSH)
        one = zlib.compressobj(9, zlib.DEFLATED, -15)
        mib = one.compress(b" " * 2**20) + one.flush(zlib.Z_FULL_FLUSH)
        copies = int(gigabytes * 1024)
        raw = first + mib * copies + deflate(tail)
        size = len(body) + copies * 2**20
        entries.append((info.filename, raw, 0, declared if declared is not None else size))
    return write_zip(path, entries)


def with_unread_sheet(path: Path, rows: int) -> Path:
    """The workbook with one more sheet, which no form reads, of `rows` rows of four cells (no r= attributes:
    it deflates about 1,000 to 1)."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c><c><v>2</v></c><c><v>3</v></c></row>'
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData>' + row * rows + b"</sheetData></worksheet>")
    kind = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    rezip(path, "xl/workbook.xml", lambda x: x.replace(b"</sheets>", b'<sheet name="extra" sheetId="99" '
                                                                    b'r:id="rIdX99"/></sheets>'))
    rezip(path, "xl/_rels/workbook.xml.rels", lambda x: x.replace(b"</Relationships>", b'<Relationship Id="rIdX99" '
          b'Type="' + kind + b'" Target="worksheets/sheet99.xml"/></Relationships>'))
    rezip(path, "[Content_Types].xml", lambda x: x.replace(b"</Types>", b'<Override PartName="/xl/worksheets/'
          b'sheet99.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          b"</Types>"))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        out.writestr("xl/worksheets/sheet99.xml", sheet)
    return path
