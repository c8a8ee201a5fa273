"""tongji's own marks in an annotated copy, and taking last round's away.

A unit often fixes last round's annotated copy and sends that back, so the source may carry our marks.
They are recognised, never guessed from colour alone (FFC7CE is also Excel's own "Bad" style):
- every comment line we write starts "[错误] ", "[警告] " or "[提示] " (English: "[error] " …) and is one
  line; those lines go from any comment, and a comment left empty goes with them;
- when we colour a cell we record its fill as it was in a custom document property ("tongji 会员!D9"),
  which Excel, WPS and LibreOffice keep. A cell we marked that still has one of our colours gets that
  fill back (the template's pale-yellow input colour, typically). Without a record (the unit copied the
  sheet into a fresh file, say) a cell our comment shows we coloured loses the colour. Any other fill,
  and any fill on a cell we never marked, is the unit's and stays.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import PatternFill
from openpyxl.styles.fills import Fill
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from tongji.i18n import SEVERITY

LIST_SHEET = "问题清单"
FILLS = {"错误": "FFC7CE", "警告": "FFC000", "提示": "DDEBF7"}  # amber: the templates' input cells are pale yellow
MAX_CELLS_PER_REF = 1000  # a stray whole-sheet range must not colour a million cells

_OUR_LINE = re.compile(r"\[(?:{})\] ".format("|".join(f"{zh}|{en}" for zh, en in SEVERITY.items())))
_RECORD = "tongji "  # custom property name prefix; the rest is Sheet!A1
_RECORD_MAX = 255  # characters Excel keeps in a custom property's value


def strip_previous(wb) -> None:
    if LIST_SHEET in wb.sheetnames:
        wb.remove(wb[LIST_SHEET])
    marked = _take_records(wb)
    for ws in wb.worksheets:
        for cell in list(ws._cells.values()):  # only existing cells; iter_rows would create the empty ones
            if cell.comment is not None and _drop_our_lines(cell):
                marked.setdefault((ws.title, cell.coordinate), PatternFill())
    for (title, coord), fill in marked.items():
        ws = wb[title] if title in wb.sheetnames else None
        if isinstance(ws, Worksheet) and _is_ours(ws[coord].fill):
            ws[coord].fill = fill


def _take_records(wb) -> dict[tuple[str, str], Fill]:
    """Our records of fills before colouring, removed from the workbook (new ones follow the new marks)."""
    records, kept = {}, []
    for prop in wb.custom_doc_props.props:
        if not prop.name.startswith(_RECORD):
            kept.append(prop)
            continue
        title, _, coord = prop.name[len(_RECORD):].rpartition("!")
        points = coordinates(coord)
        if title and len(points) == 1:  # one cell; an edited record naming a range is ignored
            r, c = points[0]
            records[(title, f"{get_column_letter(c)}{r}")] = _fill_from(prop.value)
    wb.custom_doc_props.props = kept
    return records


def _drop_our_lines(cell) -> bool:
    """Take our lines out of the cell's comment; True if there were any."""
    lines = (cell.comment.text or "").split("\n")
    theirs = [line for line in lines if not _OUR_LINE.match(line)]
    if len(theirs) == len(lines):
        return False
    text = "\n".join(theirs).strip("\n")
    cell.comment = Comment(text, cell.comment.author) if text.strip() else None
    return True


def _is_ours(fill) -> bool:
    colour = getattr(fill, "fgColor", None)
    return (getattr(fill, "patternType", None) == "solid" and getattr(colour, "type", None) == "rgb"
            and str(colour.rgb)[-6:].upper() in FILLS.values())


def record(wb, title: str, cell) -> None:
    text = ElementTree.tostring(cell.fill.to_tree(), encoding="unicode")
    if len(text) <= _RECORD_MAX:  # a longer (gradient) fill is not recorded: it falls back to no fill
        wb.custom_doc_props.append(StringProperty(name=f"{_RECORD}{title}!{cell.coordinate}", value=text))


def _fill_from(text: object) -> Fill:
    try:
        if isinstance(text, str) and len(text) <= _RECORD_MAX:
            fill = Fill.from_tree(ElementTree.fromstring(text))
            if isinstance(fill, Fill):
                return fill
    except Exception:  # noqa: BLE001 - the unit's file: an edited record means no fill, not a traceback
        pass
    return PatternFill()


def coordinates(coord: str) -> list[tuple[int, int]]:
    try:
        c1, r1, c2, r2 = range_boundaries(coord.upper())
    except (ValueError, TypeError):
        return []
    if None in (c1, r1, c2, r2) or (c2 - c1 + 1) * (r2 - r1 + 1) > MAX_CELLS_PER_REF:
        return []
    return [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
