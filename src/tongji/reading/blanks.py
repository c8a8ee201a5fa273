"""Why a value cell of an .xlsx read empty (pitfalls 3 and 4): inside a merged range, or a formula never
calculated (the file was written by a program and never opened in Excel or WPS). Anything else was typed so.

calamine reads both as empty; the sheet's XML tells them apart, and it is read only for a workbook with a
blank it must explain: the XML the screen already inflated (reading/screen/), else from the zip again."""

from __future__ import annotations

import io
import re
import zipfile

from tongji.definitions import Spec
from tongji.reading.labels import norm

Reason = tuple[str, dict, str, str]  # issue code, its params, the form's sheet, the cell (D12)

_SHEET_TAG = re.compile(r'<sheet\b[^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"')
_REL_TAG = re.compile(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"')
_REL_TAG2 = re.compile(r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"')
_MERGE = re.compile(rb'<mergeCell\b[^>]*ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)
_FORMULA = re.compile(rb"<f[\s/>]")


def blank_reasons(data: bytes, blanks: dict[str, list[str]], spec: Spec,
                  inflated: dict[str, bytes] | None = None) -> list[Reason]:
    """Why the blank value cells (sheet name as in the file → cells) of the workbook `data` are blank;
    `inflated` is the XML of sheets already inflated, by the same names."""
    inflated = inflated or {}
    out: list[Reason] = []
    try:
        for name in [n for n in blanks if n in inflated]:
            out.extend(_sheet_reasons(spec, name, inflated[name], blanks[name]))
        if all(n in inflated for n in blanks):
            return out
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            wb = z.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            targets = dict(_REL_TAG.findall(rels)) | {k: v for v, k in _REL_TAG2.findall(rels)}
            for name, rid in _SHEET_TAG.findall(wb):
                name = _unescape(name)
                if name not in blanks or name in inflated or rid not in targets:
                    continue
                target = targets[rid].lstrip("/")
                xml = z.read(target if target.startswith("xl/") else "xl/" + target)
                out.extend(_sheet_reasons(spec, name, xml, blanks[name]))
    except Exception:  # noqa: BLE001 - the values were read; an odd package only costs us the explanation
        pass
    return out


def _unescape(s: str) -> str:
    return s.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')


def _sheet_reasons(spec: Spec, sheet: str, xml: bytes, refs: list[str]) -> list[Reason]:
    """Why each blank value cell is blank: inside a merged range, or a formula never calculated (else: typed so)."""
    canonical = next(f.sheet for f in spec.forms if norm(f.sheet) == norm(sheet))
    places = {ref: re.match(r"([A-Z]+)([0-9]+)", ref).groups() for ref in refs}
    merged = {}
    for found in _MERGE.findall(xml) if b"<mergeCell" in xml else ():
        c1, r1, c2, r2 = (g.decode() for g in found)
        for ref, (col, row) in places.items():
            if c1 <= col <= c2 and len(c1) == len(col) and int(r1) <= int(row) <= int(r2):
                merged[ref] = f"{c1}{r1}:{c2}{r2}"
    # only in a sheet that holds a formula at all (an <f> element: a data validation's <formula1> is none); each
    # blank cell found where it is, not by walking every cell
    uncalculated = {ref for ref in refs if _uncalculated(xml, ref)} if _FORMULA.search(xml) else set()
    out: list[Reason] = []
    for ref in refs:
        if ref in merged:
            out.append(("merged-cell", {"range": merged[ref]}, canonical, ref))
        elif ref in uncalculated:
            out.append(("formula-no-value", {}, canonical, ref))
    return out


def _uncalculated(xml: bytes, ref: str) -> bool:
    """Whether the cell `ref` holds a formula and no value (any of its tags, should it be written twice)."""
    tag = b'<c r="%s"' % ref.encode()
    at = xml.find(tag)
    while at >= 0:
        cell = _CELL.match(xml, at)
        inner = cell.group(2) if cell else None
        if inner and b"<f" in inner and b"<v>" not in inner:
            return True
        at = xml.find(tag, at + 1)
    return False
