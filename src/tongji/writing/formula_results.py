"""Formula results kept in annotated copies.

openpyxl loads a formula or its last result, never both, and writes formulas with an empty <v>. A copy
without the results reads as "formula never calculated" (formula-no-value) in tongji's own reader and
shows blanks in viewers that do not recalculate. So the results Excel saved in the source are put back
into the copy's XML, cell by cell, exactly as they were written (text, not re-typed Python values).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from tongji.writing.files import write_bytes

_KEPT_TYPES = {None, "n", "str", "b", "e", "d"}  # results held in <v> itself; "s" would index the old sst
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
_EMPTY_FORMULA_CELL = re.compile(  # as openpyxl writes a formula cell: address, maybe a style, <f>, empty <v>
    r'<c r="([A-Z]{1,3}[0-9]{1,7})"((?: s="[0-9]+")?)>(<f\b[^>]*?(?:/>|>[^<]*</f>))(?:<v\s*/>|<v></v>)</c>')


def saved_results(data: bytes) -> dict[str, dict[str, tuple[str | None, str]]]:
    """Sheet name → cell → (its t attribute, its <v> text) for every formula cell with a saved result."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            out = {}
            for name, part in _sheet_parts(z).items():
                xml = z.read(part)
                if _HAS_FORMULA.search(xml):
                    out[name] = _results_in(xml)
            return {name: found for name, found in out.items() if found}
    except Exception:  # noqa: BLE001 - an odd package only costs the results; the marks still matter more
        return {}


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part in the package, through xl/workbook.xml and its relationships."""
    rels = {el.get("Id"): el.get("Target", "") for el in ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    out = {}
    for el in ElementTree.fromstring(z.read("xl/workbook.xml")).iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            target = rels.get(rid, "")
            if target:
                out[el.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def _results_in(xml: bytes) -> dict[str, tuple[str | None, str]]:
    found = {}
    for _, el in ElementTree.iterparse(io.BytesIO(xml)):
        if _local(el.tag) != "c":
            continue
        parts = {_local(child.tag): child for child in el}
        v, kind = parts.get("v"), el.get("t")
        if "f" in parts and v is not None and v.text and el.get("r") and kind in _KEPT_TYPES:
            found[el.get("r")] = (kind, v.text)
        el.clear()
    return found


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def put_results(target: Path, results: dict) -> Path:
    """Rewrite the saved copy with each formula's result filled in; unchanged if there is none to put."""
    if not results:
        return target
    try:
        data = target.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = {part: results[name] for name, part in _sheet_parts(z).items() if name in results}
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
                for info in z.infolist():
                    body = z.read(info.filename)
                    if info.filename in parts:
                        body = _with_results(body.decode("utf-8"), parts[info.filename]).encode("utf-8")
                    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)  # files.py's fixed time
                    copy.compress_type, copy.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
                    dst.writestr(copy, body)
    except Exception:  # noqa: BLE001 - a copy without the results is still a useful copy
        return target
    return write_bytes(target, out.getvalue())


def _with_results(xml: str, results: dict[str, tuple[str | None, str]]) -> str:
    def put(m: re.Match) -> str:
        ref, style, formula = m.groups()
        if ref not in results:
            return m.group(0)
        kind, value = results[ref]
        kind_attr = f' t="{kind}"' if kind not in (None, "n") else ""
        return f'<c r="{ref}"{style}{kind_attr}>{formula}<v>{escape(value)}</v></c>'

    return _EMPTY_FORMULA_CELL.sub(put, xml)
