"""Templates by the thousand: built once per shape by openpyxl, then copied with each unit's cells put in.

openpyxl takes about 0.1 s to build and save a template: `tongji template` for a 区 of 2,000 units took four
minutes. A shape (the grassroots or the 本级 template of one period) is built once, by template_workbook, for a unit
whose registry fields are placeholders, and its saved parts are cut at the cells that hold them: the cover's
prefilled 内容 and the 填报单位 line of each form sheet. A unit's template is those pieces joined with its own cells,
written as put() and openpyxl write them (sheet_xml.cell), and zipped as save_workbook zips: the same bytes as
write_template's.
A unit whose text put() would change or style (a formula-like name takes a quotePrefix style the shape lacks) or that
holds a control character (a line break, a tab) gets no copy: the caller builds it with openpyxl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import unescape

from tongji.writing.files import Part, save_zip, workbook_parts
from tongji.writing.sheet_xml import cell
from tongji.writing.text import formula_like, xml_safe

FIELDS = ("单位名称", "单位代码", "上级代码", "组织类型", "所在地区划代码")  # the registry fields a template shows
TOKENS = tuple(f"TONGJIFIELD{n}Z" for n in range(len(FIELDS)))  # text put() and openpyxl leave as it is
_TOKEN = re.compile("TONGJIFIELD[0-9]Z")
# a text cell as openpyxl writes it: <c r="C8" s="6" t="inlineStr"><is><t>…</t></is></c>
_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"(?: s="([0-9]+)")? t="inlineStr"><is><t>([^<]*TONGJIFIELD[^<]*)</t>'
                   rb'</is></c>')


def placeholders() -> dict[str, str]:
    """A unit whose every registry field a template shows is a placeholder."""
    return dict(zip(FIELDS, TOKENS, strict=True))


@dataclass
class Shape:
    """One template shape, its parts in order: (name, attributes, [bytes, (cell, style, text), bytes, …])."""

    parts: list[tuple[str, int, list]]

    @classmethod
    def of(cls, wb) -> Shape:
        """The shape of a template built (template_workbook) for the unit `placeholders()` gives."""
        parts = []
        for name, attrs, body in workbook_parts(wb):
            pieces, start = [], 0
            for m in _CELL.finditer(body):
                slot = (m.group(1).decode(), int(m.group(2) or 0), unescape(m.group(3).decode("utf-8")))
                pieces += [body[start:m.start()], slot]
                start = m.end()
            pieces.append(body[start:])
            if any(b"TONGJIFIELD" in p for p in pieces if isinstance(p, bytes)):
                raise RuntimeError(f"{name}: a unit's field outside the cells a copy fills")
            parts.append((name, attrs, pieces))
        return cls(parts)

    def write(self, path: Path, unit: dict) -> Path | None:
        """`unit`'s template (a prepared registry row of this shape) at `path`; None if it must be built."""
        values = {token: str(unit.get(field) or "") for field, token in zip(FIELDS, TOKENS, strict=True)}
        parts = []
        for name, attrs, pieces in self.parts:
            body = []
            for piece in pieces:
                xml = piece if isinstance(piece, bytes) else _cell(*piece, values)
                if xml is None:
                    return None
                body.append(xml)
            parts.append(Part(name, attrs, b"".join(body)))
        return save_zip(path, parts)


def _cell(ref: str, style: int, text: str, values: dict[str, str]) -> bytes | None:
    """The cell put() gives this text with the unit's fields in it, as openpyxl writes it; None where it cannot."""
    text = _TOKEN.sub(lambda m: values[m.group(0)], text)  # in one pass: a name may read like a token
    if xml_safe(text) != text or formula_like(text) or any(ch < " " for ch in text):
        return None  # put() would clean it, or style it with quotePrefix, which the shape lacks
    return cell(ref, text or None, style).encode("utf-8")  # an empty value is no text: put(None)
