"""Read every workbook with fastexcel into one long table of cells, keeping file, sheet and Excel row.

Values are read as text (pitfall 1: fastexcel's coercion loses "1,234"); parsing happens later,
vectorised, on the stacked table. Per-workbook Python here is I/O and header finding only. A big batch is read
by worker processes (reading/workers.py); why a value cell read empty is blanks.py's question; which files
are workbooks, discover.py's.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from tongji.definitions import Form, Spec
from tongji.definitions.codes import canonical_version
from tongji.definitions.concordance import Concordance
from tongji.definitions.expr import CODE
from tongji.reading.blanks import blank_reasons
from tongji.reading.labels import (
    CODE_LABELS,
    COVER_VALUE_LABELS,
    NAME_LABELS,
    NOTE_LABELS,
    VALUE_LABELS,
    name_index,
    norm,
    norm_name,
)
from tongji.reading.screen import Limits, Verdict, quiet_stderr, screen
from tongji.reading.workers import Executor, run_in_chunks

_HEADER_SCAN = 40  # rows searched for the header labels
EXTRA_ROWS_SHOWN = 5  # extra-row issues named per sheet; the rest are counted in one
_EXCEL_ERRORS = {
    "Div0": "#DIV/0!", "NA": "#N/A", "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!",
    "Ref": "#REF!", "Value": "#VALUE!", "GettingData": "#GETTING_DATA",
}


def col_letter(index: int) -> str:
    s = ""
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass
class Problem:
    """An issue met while reading: `rule` is its code in issues/catalog.py; `message` names the variant of its
    text when one code has several (which limit was met), else is empty; `kw` are its params."""

    file_id: int
    rule: str
    kw: dict = field(default_factory=dict)
    sheet: str = ""
    cell: str = ""
    code: str = ""
    message: str = ""


@dataclass
class Stack:
    cells: pl.DataFrame  # file_id, sheet, row, col, code, raw, note, error
    files: list[Path]
    readable: list[bool]
    problems: list[Problem]
    hashes: list[str]  # SHA-256 of each file's bytes as read ("" if it could not be read)


CELL_SCHEMA = {
    "file_id": pl.Int32, "sheet": pl.Utf8, "row": pl.Int32, "col": pl.Utf8, "code": pl.Utf8,
    "raw": pl.Utf8, "note": pl.Utf8, "error": pl.Utf8,
}


def read_workbooks(files: list[Path], spec: Spec, tick: Callable[[], None] | None = None, *,
                   workers: int | Executor = 1) -> Stack:
    """Read all files into one Stack, in this process unless asked otherwise.

    With `workers` > 1 a big batch is read in chunks by that many worker processes (reading/workers.py); the
    caller's script then needs the usual `if __name__ == "__main__":` guard, so the library default is 1."""
    return Stack(files=files, **run_in_chunks(read_chunk, files, (spec,), tick, workers=workers, died=died))


def died(file_id: int, path: Path | None = None) -> dict:
    """What is known of a file whose reading process died: it is unreadable."""
    return {"cells": pl.DataFrame(schema=CELL_SCHEMA), "readable": [False], "hashes": [""],
            "problems": [Problem(file_id, "unreadable", {"detail": "读取进程异常终止 (the reading process died)"},
                                 message="unreadable-crash")]}


def read_chunk(start: int, files: list[Path], spec: Spec, tick: Callable[[], None] | None = None) -> dict:
    """Read files numbered from `start` (in this process or a worker): the Stack's fields but `files`."""
    frames: list[pl.DataFrame] = []
    cells: list[tuple] = []  # one tuple per indicator row, in CELL_SCHEMA order
    problems: list[Problem] = []
    readable, hashes = [], []
    for file_id, path in enumerate(files, start=start):
        ok, digest = _read_one(file_id, path, spec, cells, problems)
        readable.append(ok)
        hashes.append(digest)
        if len(cells) > 100_000:  # a list of Python tuples costs ten times its frame: keep it short
            frames.append(pl.DataFrame(cells, schema=CELL_SCHEMA, orient="row"))
            cells = []
        if tick:
            tick()
    frames.append(pl.DataFrame(cells, schema=CELL_SCHEMA, orient="row"))
    return {"cells": pl.concat(frames), "readable": readable, "problems": problems, "hashes": hashes}


def _read_one(file_id: int, path: Path, spec: Spec, cells: list[tuple], problems: list[Problem]) -> tuple[bool, str]:
    """Append the workbook's cells; return whether it was read and the SHA-256 of its bytes.

    The file is read into memory once: hashed for the manifests, sniffed, screened against the limits
    (reading/screen/) and only then handed to calamine."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(file_id, "unreadable", {"detail": _first_line(exc)}, message="unreadable-file"))
        return False, ""
    digest = hashlib.sha256(data).hexdigest()
    bad = _sniff(data, path)
    if bad:
        problems.append(Problem(file_id, bad[0], bad[1]))
        return False, digest
    facts = spec.derive(_Facts.of)
    limits = facts.limits
    deadline = time.monotonic() + limits.seconds
    first, known = len(cells), len(problems)
    try:
        verdict = screen(data, limits, lambda name: norm(name) in facts.sheets)
        if verdict.whole:
            raise _Refused(*verdict.whole)
        with quiet_stderr():  # once for the workbook: calamine runs from here to the last sheet
            blanks = _read_forms(file_id, data, verdict, spec, cells, problems, deadline)
    except BaseException as exc:  # a Rust panic is a BaseException: one bad workbook must not stop the batch
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        del cells[first:]  # a half-read workbook contributes nothing
        del problems[known:]
        problems.append(_limit_problem(file_id, exc.key, exc.kw) if isinstance(exc, _Refused)
                        else _diagnose(file_id, data, exc))
        return False, digest
    if blanks and path.suffix.lower() in (".xlsx", ".xlsm"):
        problems.extend(Problem(file_id, rule, kw, sheet, ref)
                        for rule, kw, sheet, ref in blank_reasons(data, blanks, spec, verdict.xml))
    return True, digest


def _read_forms(file_id: int, data: bytes, verdict: Verdict, spec: Spec, cells: list[tuple],
                problems: list[Problem], deadline: float) -> dict[str, list[str]]:
    """Open the screened workbook with calamine and read each form's sheet; return the blank value cells to
    explain, by sheet name as in the file."""
    first = len(cells)
    reader = fastexcel.read_excel(data)
    names = reader.sheet_names
    unknown = next((k for k in verdict.sheets if k not in names), None)
    if unknown is not None:  # the screen and calamine disagree on a name: read none of it
        raise _Refused(*verdict.sheets[unknown])
    blanks: dict[str, list[str]] = {}
    benji, old = False, None
    for form in spec.forms:
        actual, twin = _match_sheet(form.sheet, names)
        if actual is None:
            problems.append(Problem(file_id, "missing-sheet", {"sheet": form.sheet}, sheet=form.sheet))
            continue
        if twin is not None:
            problems.append(Problem(file_id, "near-duplicate-sheet", {"sheet": actual, "other": twin},
                                    sheet=form.sheet))
        if actual in verdict.sheets:
            problem = _limit_problem(file_id, *verdict.sheets[actual])
            problem.sheet = form.sheet
            problems.append(problem)
            continue
        sheet = reader.load_sheet(actual, header_row=None, dtypes="string", skip_rows=0)
        empty = _read_sheet(file_id, form, sheet, spec, cells, problems, benji, verdict.errors.get(actual), old)
        if form.is_cover:
            benji = any(c[4] == "FM05" and str(c[5]).strip().startswith("9") for c in cells[first:])
            # an older template version is read through its concordance (domain.md §11)
            old = next((spec.versions.get(canonical_version(c[5])) for c in cells[first:] if c[4] == "FM12"), None)
        if empty:
            blanks[actual] = empty
        if time.monotonic() > deadline:
            raise _Refused("too-large-time", {"limit": f"{spec.derive(_Facts.of).limits.seconds:g}"})
    return blanks


@dataclass(frozen=True)
class _Facts:
    """What reading needs of a spec, made once per spec: the limits, the form sheets' names folded, and per form
    its codes and the 本级 rows a grassroots workbook leaves empty."""

    limits: Limits
    sheets: frozenset[str]
    codes: dict[str, frozenset[str]]
    own_rows: dict[str, frozenset[str]]

    @classmethod
    def of(cls, spec: Spec) -> _Facts:
        return cls(Limits.of(spec), frozenset(norm(f.sheet) for f in spec.forms),
                   {f.sheet: frozenset(r.code for r in f.rows) for f in spec.forms},
                   {f.sheet: frozenset(r.code for r in f.rows if r.level == "本级") for f in spec.forms})


class _Refused(Exception):
    """A limit met after calamine opened the workbook."""

    def __init__(self, key: str, kw: dict):
        self.key, self.kw = key, kw


def _limit_problem(file_id: int, key: str, kw: dict) -> Problem:
    """The screen's finding as an issue: every limit is `too-large`, a container it could not follow `unreadable`."""
    rule = next((r for r in ("too-large", "unreadable") if key.startswith(r)), key)
    return Problem(file_id, rule, kw, message=key)


def _match_sheet(wanted: str, names: list[str]) -> tuple[str | None, str | None]:
    """The sheet to read for the form sheet `wanted` (its exact name first, else one equal but for spaces,
    width or script), and a second one that also matches loosely: "会员 " beside "会员" is worth a word."""
    loose = [n for n in names if norm(n) == norm(wanted)]
    actual = wanted if wanted in names else (loose[0] if loose else None)
    return actual, next((n for n in loose if n != actual), None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _sniff(data: bytes, path: Path) -> tuple[str, dict] | None:
    """Tell a password, an empty file or a non-workbook apart before calamine gives a cryptic error."""
    head = data[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0") and "EncryptedPackage".encode("utf-16-le") in data:
        return "encrypted", {}
    if not data:
        return "file-empty", {}
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return None  # a zip (xlsx, ods) or a compound file (xls): calamine decides
    return "not-workbook", {"detail": f"文件类型 {path.suffix or '无扩展名'}",
                            "detail_en": f"file type {path.suffix or 'without an extension'}"}


def _diagnose(file_id: int, data: bytes, exc: BaseException) -> Problem:
    """Why calamine could not read a workbook, in the user's words; the library's text is only the detail."""
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                if "xl/workbook.xml" not in names and "content.xml" not in names:
                    return Problem(file_id, "not-workbook", {"detail": "压缩包里没有 Excel 工作簿",
                                                             "detail_en": "a zip archive with no workbook in it"})
        except Exception:  # noqa: BLE001 - zipfile has many ways to say a zip is broken
            return Problem(file_id, "not-workbook", {"detail": "压缩包已损坏", "detail_en": "a damaged zip archive"})
    detail = _first_line(exc)
    if not isinstance(exc, Exception):  # a panic inside the reading library
        key = "unreadable-crash"
    elif re.search(r"xml|escape|entity|utf-?8", detail, re.I):
        key = "unreadable-xml"
    else:  # calamine's "Cannot detect file format" is said of a damaged workbook.xml too
        key = "unreadable-damaged"
    return Problem(file_id, "unreadable", {"detail": detail}, message=key)


def _find_header(rows: list[tuple], value_labels: set[str]) -> tuple[int, dict[str, int]] | None:
    """The first row holding a code label and a value label; exact labels first, folded ones after."""
    return _scan_header(rows, value_labels) or _scan_header(rows, value_labels, norm)


def _scan_header(rows: list[tuple], value_labels: set[str], fold=None) -> tuple[int, dict[str, int]] | None:
    for i, row in enumerate(rows[:_HEADER_SCAN]):
        if fold is None and (CODE_LABELS.isdisjoint(row) or value_labels.isdisjoint(row)):
            continue  # labels as typed: a row without both kinds is passed over at C speed
        labels = {fold(v) if fold else v: j for j, v in enumerate(row) if v}
        code = next((labels[x] for x in CODE_LABELS if x in labels), None)
        value = next((labels[x] for x in value_labels if x in labels), None)
        if code is not None and value is not None:
            return i, {
                "code": code, "value": value,
                "name": next((labels[x] for x in NAME_LABELS if x in labels), None),
                "note": next((labels[x] for x in NOTE_LABELS if x in labels), None),
            }
    return None


def _read_sheet(file_id: int, form: Form, sheet, spec: Spec, cells: list[tuple], problems: list[Problem],
                benji: bool, formula_errors: dict[tuple[int, int], str] | None = None,
                old: Concordance | None = None) -> list[str]:
    """Append this sheet's indicator rows to `cells`; return value cells whose emptiness needs explaining.

    A workbook of an older template version (`old`) is read through its concordance: an old code (or old row
    name) is kept under its current code, at the row it has in the file; a dropped one is passed over.

    本级 rows of a grassroots workbook are meant to be empty, so why they are empty does not matter.
    `formula_errors` are an .ods sheet's formula errors by (Excel row, column), which calamine reads as "".
    """
    batch, errors = sheet.to_arrow_with_errors()
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    value_labels = COVER_VALUE_LABELS if form.is_cover else VALUE_LABELS
    found = _find_header(list(zip(*(c[:_HEADER_SCAN] for c in columns), strict=True)), value_labels)
    if found is None:
        value = "内容" if form.is_cover else "本期数"
        problems.append(Problem(file_id, "header-not-found", {"sheet": form.sheet, "value": value}, sheet=form.sheet))
        return []
    start, at = found
    offset = sheet.available_columns()[0].absolute_index if columns else 0
    vcol = col_letter(offset + at["value"])
    cell_errors = {}
    if errors is not None:
        for e in errors.errors:
            if e.position[1] == at["value"]:
                kind = e.detail.rsplit("Error(", 1)[-1].rstrip(")'")
                cell_errors[e.position[0]] = _EXCEL_ERRORS.get(kind, "#" + kind)
    for (row, col), text in (formula_errors or {}).items():
        if col == offset + at["value"]:
            cell_errors[row - 1] = text
    facts = spec.derive(_Facts.of)
    codes = facts.codes[form.sheet]  # JH00 is not filled by anyone, but summaries carry it
    expect_empty = frozenset() if benji else facts.own_rows[form.sheet]
    by_name = name_index(spec)[form.sheet]
    mapped = old.code_map() if old else {}
    old_names = {norm_name(n): c for c, n in old.names.items()} if old else {}
    seen: dict[str, int] = {}
    empty = []
    extras: list[Problem] = []
    names, values = columns[at["name"]] if at["name"] is not None else None, columns[at["value"]]
    notes = columns[at["note"]] if at["note"] is not None else None
    for i, code in enumerate(columns[at["code"]][start + 1:], start + 1):  # column by column: no row tuples
        code = code.strip().upper() if code else ""
        if code not in codes and code not in mapped:
            name = names[i] if names is not None else None
            code = (by_name.get(norm_name(name)) or old_names.get(norm_name(name), "")) if name else ""
        if code in mapped:
            code = mapped[code]
            if code is None:  # a line the current forms dropped
                continue
        if code not in codes:
            _maybe_extra(file_id, form, [c[i] for c in columns], at, i, vcol, extras)
            continue
        raw = values[i]
        if code in seen:
            problems.append(Problem(file_id, "duplicate-row",
                                    {"code": code, "other": seen[code]}, form.sheet, f"{vcol}{i + 1}", code))
            continue
        seen[code] = i + 1
        note = notes[i] if notes is not None else None
        err = cell_errors.get(i)
        cells.append((file_id, form.sheet, i + 1, vcol, code, raw, note, err))
        if raw is None and err is None and code not in expect_empty:
            empty.append(f"{vcol}{i + 1}")
    # rows pasted below a form would otherwise give one warning each: name a few, count the rest from
    # the first one not named
    problems.extend(extras[:EXTRA_ROWS_SHOWN])
    if len(extras) > EXTRA_ROWS_SHOWN:
        problems.append(Problem(file_id, "extra-rows-more", {"n": len(extras) - EXTRA_ROWS_SHOWN}, form.sheet,
                                extras[EXTRA_ROWS_SHOWN].cell))
    return empty


def _maybe_extra(file_id: int, form: Form, row: list, at: dict, i: int, vcol: str, problems: list[Problem]) -> None:
    """A row that is not on the form is worth a word only if it carries a value or looks like a code."""
    code = (row[at["code"]] or "").strip()
    if row[at["value"]] is None and not CODE.match(code.upper()):
        return
    label = " ".join(str(row[j]) for j in (at["name"], at["code"]) if j is not None and row[j])
    problems.append(Problem(file_id, "extra-row", {"text": label or f"第 {i + 1} 行"},
                            form.sheet, f"{vcol}{i + 1}", code.upper() if CODE.match(code.upper()) else ""))
