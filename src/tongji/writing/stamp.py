"""A summary workbook's form sheets stamped from a skeleton: built by openpyxl once per spec, then copied.

Building the cover and the four data forms cell by cell, with their fonts, fills and borders, and serialising
them through openpyxl cost about half of each summary workbook. The skeleton is those sheets built once by the
reference builder (writing/summary_forms.py) with a numeric placeholder in every cell that differs from summary
to summary (填报单位, 报告期, the cover's values, every total, 说明, 上期数 and 同比), saved, and cut at those
cells. A summary's sheets are the pieces joined with its cells, written as openpyxl writes them (numbers with
"%.16g", text as inline strings, an empty cell kept only where it has a style); the style indexes are the
skeleton's: writing/summary_book.py builds and saves them inside the skeleton of the whole workbook.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from types import SimpleNamespace
from xml.sax.saxutils import escape

from openpyxl import Workbook

from tongji.aggregating.summary import Summary, as_written
from tongji.definitions import Spec
from tongji.writing.summary_forms import cover_sheet, form_sheet
from tongji.writing.text import formula_like, xml_safe

FIRST = 7_000_000_000  # placeholders are FIRST + 1, FIRST + 2, …: no form sheet holds such a number
PLACEHOLDER = re.compile(rb'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="n"><v>(7[0-9]{9})</v></c>')


@dataclass(frozen=True)
class Slot:
    """A cell that differs per summary: `kind` says what goes in it ("name", "period", "cover", "value", "note",
    "previous", "change"), `code` of which line, `row_kind` how its number is written (count or amount)."""

    kind: str
    code: str = ""
    row_kind: str = ""


@dataclass
class Skeleton:
    """The form sheets of one spec, with or without last period's columns, cut into static XML and slots."""

    sheets: dict[str, list]  # title → [bytes, (ref and style, Slot), bytes, …, bytes]

    @staticmethod
    def place(wb: Workbook, spec: Spec, has_previous: bool) -> list[Slot]:
        """Add the cover and the data forms to `wb`, built by the reference builder with a placeholder in each
        cell that changes; the slots, in the order of their placeholders."""
        blank = SimpleNamespace(name="", period="", cover={}, has_previous=has_previous, note_of=lambda code: None)
        slots = []
        header = cover_sheet(wb.create_sheet(spec.cover.sheet), blank, spec)
        ws = wb[spec.cover.sheet]
        cells = [(header - 1, 1, Slot("name"))] + [(r, 3, Slot("cover", row.code))
                                                   for r, row in enumerate(spec.cover.rows, start=header + 1)]
        slots += [(ws, *cell) for cell in cells]
        for form in spec.data_forms:
            ws = wb.create_sheet(form.sheet)
            header = form_sheet(ws, blank, spec, form, {})
            slots += [(ws, header - 1, 1, Slot("name")), (ws, header - 1, ws.max_column, Slot("period"))]
            kinds = ("value", "note", "previous", "change") if has_previous else ("value", "note")
            slots += [(ws, r, col, Slot(kind, row.code, row.kind))
                      for r, row in enumerate(form.rows, start=header + 1)
                      for col, kind in enumerate(kinds, start=4)]
        for n, (ws, r, col, _) in enumerate(slots, start=1):
            ws.cell(r, col).value = FIRST + n  # the cell keeps its style
        return [slot for *_, slot in slots]

    @classmethod
    def cut(cls, xml: dict[str, bytes], slots: list[Slot]) -> Skeleton:
        """The saved form sheets (title → XML) cut at their placeholders."""
        sheets = {title: _cut(body, slots) for title, body in xml.items()}
        found = sum(len(p) // 2 for p in sheets.values())
        if found != len(slots):
            raise RuntimeError(f"found {found} of {len(slots)} placeholder cells in the skeleton")
        return cls(sheets)

    def stamped(self, summary: Summary, looks: dict[str, int]) -> dict[str, bytes]:
        """The XML of each form sheet with `summary`'s cells; formula-like text with its style's twin that has
        quotePrefix, from `looks` (writing/summary_book.py)."""
        values = {r["code"]: r for r in summary.totals.iter_rows(named=True)}
        return {title: b"".join(p if isinstance(p, bytes) else _cell(p[0], _value(p[1], summary, values), looks)
                                for p in pieces)
                for title, pieces in self.sheets.items()}


def _cut(body: bytes, slots: list[Slot]) -> list:
    pieces, start = [], 0
    for m in PLACEHOLDER.finditer(body):
        attrs = b'r="' + m.group(1) + b'"' + (m.group(2) or b"")
        pieces += [body[start:m.start()], (attrs, slots[int(m.group(3)) - FIRST - 1])]
        start = m.end()
    return [*pieces, body[start:]]


def _value(slot: Slot, summary: Summary, values: dict[str, dict]) -> object:
    """What the reference builder puts in the cell (writing/summary_forms.py): text through xml_safe, as put does."""
    kind, total = slot.kind, values.get(slot.code, {})
    if kind == "name":
        return xml_safe(f"填报单位：{summary.name}") or None
    if kind == "period":
        return xml_safe(f"报告期：{summary.period}") or None
    if kind == "cover":
        return xml_safe(str(summary.cover.get(slot.code, "") or "")) or None
    if kind == "note":
        note = summary.note_of(slot.code)
        return xml_safe(note) or None if isinstance(note, str) else note
    if kind == "change":
        return total.get("change")
    return as_written(total.get(kind), slot.row_kind)  # "value" or "previous"


def _cell(attrs: bytes, value: object, looks: dict[str, int]) -> bytes:
    """One <c> as openpyxl writes it, byte for byte: an empty cell without a style is left out, a number that is
    not finite is an empty <v />."""
    if isinstance(value, float) and not math.isfinite(value):
        return b"<c " + attrs + b' t="n"><v /></c>'
    if value is None:
        return b"<c " + attrs + b' t="n" />' if b" s=" in attrs else b""
    if isinstance(value, str):
        if formula_like(value):
            ref, _, style = attrs.partition(b" s=")
            attrs = ref + b' s="' + str(looks["'" + (style.strip(b'"').decode() or "0")]).encode() + b'"'
        space = ' xml:space="preserve"' if value.strip() and value != value.strip() else ""
        return b"<c " + attrs + f' t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'.encode()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to a summary's form cell")
    return b"<c " + attrs + f' t="n"><v>{value:.16g}</v></c>'.encode()
