"""Annotated copies of workbooks with problems: coloured cells, comments and a 问题清单 sheet up front.

The submitter opens the copy, clicks a row of 问题清单 and lands on the cell to fix. The source file is
only ever read (from bytes in memory); every copy is a new .xlsx written through save_workbook.
"""

from __future__ import annotations

import io
import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import openpyxl
import polars as pl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from tongji.errors import TongjiError
from tongji.i18n import SEVERITY, chosen, severity, t
from tongji.issues.report import SEVERITY_ORDER as RANK
from tongji.reading.discover import path_of
from tongji.reading.labels import norm
from tongji.reading.screen import Limits, screen
from tongji.reading.workers import Processes, Tick, run_in_chunks
from tongji.writing.files import ensure_dir, save_workbook
from tongji.writing.formula_results import put_results, saved_results
from tongji.writing.issue_report import LINE_HEIGHT, MAX_HEIGHT, TOP, WRAP, wrapped_lines
from tongji.writing.marks import FILLS, LIST_SHEET, coordinates, record, strip_previous
from tongji.writing.paths import as_xlsx, copy_targets, one_of
from tongji.writing.text import formula_like, xml_safe

AUTHOR = "tongji"

HEADERS = [  # (Chinese, English, column width floor)
    ("序号", "No.", 6),
    ("严重程度", "Severity", 8),
    ("规则", "Rule", 14),
    ("工作表", "Sheet", 8),
    ("单元格", "Cell", 10),
    ("指标代码", "Code", 8),
    ("指标名称", "Indicator", 14),
    ("填报值", "Value", 10),
    ("问题说明", "Message", 40),
    ("差额", "Imbalance", 8),  # as the issue list and the terminal say it
    ("已说明", "Explained", 12),
]
_WIDEST = 60  # characters; longer text wraps instead of pushing the table off screen
_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit)  # the user or Python stopping us: never swallowed
_LISTED = 5  # failed copies named in one message; an unusable output folder is said once, by ensure_dir
SPREAD_MIN = 60  # copies: fewer are written in this process, as starting workers would cost more than it saves
# (on 2 cores: 40 copies took 4.3 s either way, 80 took 9.1 s in this process and 6.4 s with two workers)
PER_CHUNK = 10  # copies a worker is given at a time: the workers finish together, and a bar moves every second


def annotate_workbook(source: Path, issues: pl.DataFrame, target: Path, lang: str | None = None,
                      limits: Limits | None = None) -> Path:
    """Write an annotated copy of `source` (issues: this workbook's rows only, their messages as they are to be
    read: ValidationReport.issues_in(lang)); return the path written. Labels are in `lang` ("zh" or "en"; by
    default the language of this run).

    The copy is always .xlsx: an .xls, a corrupt or encrypted source, or one refused as too large to read,
    gets a new workbook holding only 问题清单, and an .xlsm loses its macros (openpyxl's macro passthrough
    orders zip entries by a set, which would break byte-identical reruns, and a review copy has no use for
    macros). A source that is itself last round's annotated copy loses last round's marks first
    (_strip_previous).
    """
    source, target, lang = Path(source), as_xlsx(Path(target)), chosen(lang)
    if one_of([source])(target):
        raise TongjiError("output-unwritable", path=target, detail=_text("same-as-source", lang))
    rows = _sorted_rows(issues)
    # a workbook or sheet the reader refused as too large (a zip bomb, a million rows) is never opened by
    # openpyxl either, which would inflate all of it: the copy holds only the list
    loaded = None if any(r.get("rule") == "too-large" for r in rows) else _load(source, limits)
    if loaded is not None:
        wb, results = loaded
        try:
            strip_previous(wb)
            _mark_cells(wb, rows, lang)
            _add_list_sheet(wb, rows, lang)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                save_workbook(wb, target)
            return put_results(target, results)
        except (TongjiError, *_FATAL):
            raise
        except BaseException:  # noqa: BLE001 - openpyxl failing on an odd workbook, or a library's panic
            pass  # (a panic derives from BaseException): the unit still gets the list, written below
    try:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        _add_list_sheet(wb, rows, lang)
        return save_workbook(wb, target)
    except (TongjiError, *_FATAL):
        raise
    except BaseException as exc:  # noqa: BLE001 - one clear line for this workbook; the batch goes on
        raise TongjiError("annotate-failed", path=source.name, detail=_first_line(exc)) from None


def annotate_all(issues: pl.DataFrame, out_dir: Path, root: Path | None = None, lang: str | None = None,
                 inputs: Iterable[str | Path] = (), limits: Limits | None = None,
                 keep: Iterable[str | Path] = (), *, workers: int = 1, tick: Tick | None = None,
                 on_total: Callable[[int], None] | None = None) -> list[Path]:
    """Annotated copies of every file with an error or an unexplained warning (the ones to send back).

    Sub-folders below `root` are kept so same-named files do not collide; remaining clashes get _2, _3.
    Every target is checked against every input (those with issues, and `inputs`: every file read, since a.xls's
    copy is a.xlsx, which may be another unit's clean workbook) before anything is written, so a refused run
    writes nothing. `keep` are other outputs of the run (the issue report): a copy that would take one's name in
    `out_dir` gets _2, _3 instead of replacing it.
    A copy that cannot be written (a file open in Excel, say) does not stop the others: they are written
    first, then one TongjiError names the ones missing. Messages are written as given (ValidationReport.issues_in),
    labels in `lang`.
    With `workers` above 1 and SPREAD_MIN copies or more, the copies are written by that many local processes (a
    copy takes openpyxl a tenth of a second or more; starting a worker, about a second). `on_total(n)` is told the
    number of copies before the first is written, and `tick()` once per copy written or failed.
    """
    out_dir, lang = Path(out_dir), chosen(lang)
    sources = sorted({str(f) for f in issues.get_column("file").drop_nulls().to_list()} | {str(f) for f in inputs})
    unexplained = pl.col("explained").is_null() if "explained" in issues.columns else pl.lit(True)
    wanted = issues.filter((pl.col("severity") == "错误") | ((pl.col("severity") == "警告") & unexplained))
    returned = sorted({str(f) for f in wanted.get_column("file").drop_nulls().to_list()})
    plans = copy_targets(returned, out_dir, root, keep)
    is_source = one_of([path_of(s) for s in sources])
    for _, target in plans:
        if is_source(target):
            raise TongjiError("output-unwritable", path=target, detail=_text("same-as-source", lang))
    if plans:
        ensure_dir(out_dir)  # an unusable folder is one setup error, not one failure per workbook
    if on_total:
        on_total(len(plans))
    per_file = {key[0]: part for key, part in issues.partition_by("file", as_dict=True).items()}
    local = Processes(workers, size=PER_CHUNK, least=SPREAD_MIN)
    done = run_in_chunks(_annotate_chunk, plans, (per_file, lang, limits), tick, workers=local,
                         died=lambda _, plan: {"written": [], "failed": [_died(plan, lang)]})
    written, failed = done["written"], done["failed"]
    if failed:
        more = t("annotate-more", lang=lang, n=len(failed) - _LISTED) if len(failed) > _LISTED else ""
        raise TongjiError("annotate-some-failed", n=len(written), folder=out_dir, m=len(failed),
                          items=("; " if lang == "en" else "；").join(failed[:_LISTED]) + more)
    return written


def _annotate_chunk(start: int, plans: list[tuple[str, Path]], per_file: dict[str, pl.DataFrame], lang: str,
                    limits: Limits | None, tick: Tick | None = None) -> dict:
    """The copies of a run of (source, target) pairs, in this process or a worker's: the paths written, and each
    failure's message in `lang` (a worker's own language need not be the run's)."""
    written, failed = [], []
    for source, target in plans:
        try:
            written.append(annotate_workbook(path_of(source), per_file[source], target, lang, limits))
        except TongjiError as exc:
            failed.append(exc.text(lang))
        if tick:
            tick()
    return {"written": written, "failed": failed}


def _died(plan: tuple[str, Path], lang: str) -> str:
    """The message for a copy whose worker process died writing it (the others are written all the same)."""
    return TongjiError("annotate-failed", path=Path(plan[0]).name, detail=_text("worker-died", lang)).text(lang)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# ---- reading the source ------------------------------------------------------------------------


def _load(source: Path, limits: Limits | None) -> tuple[openpyxl.Workbook, dict] | None:
    """The source as an openpyxl workbook with its formulas' saved results, or None when openpyxl cannot read it,
    or when any of it is beyond the reading limits: openpyxl loads every sheet and part, also those the reader
    never measured (a sheet no form reads, of a million rows, would cost the portal a minute and gigabytes).

    Reading the bytes ourselves means the file is never opened for writing, and a misnamed file
    (an .xlsx saved as .xls) is judged by its content rather than its extension.
    """
    try:
        data = source.read_bytes()
        found = screen(data, limits or Limits.of(None), every_part=True)
        if found.whole or found.sheets:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions (slicers, x14 validations) are dropped
            wb = openpyxl.load_workbook(io.BytesIO(data), rich_text=True)
    except _FATAL:
        raise
    except BaseException:  # noqa: BLE001 - .xls, encrypted, corrupt, missing, a library's panic: list-only copy
        return None
    wb.template = False  # an .xltx source must still come out as a plain workbook
    return wb, saved_results(data)


def _sorted_rows(issues: pl.DataFrame) -> list[dict]:
    rows = issues.to_dicts()
    for row in rows:
        row["severity"] = _severity_zh(row.get("severity"))
    return sorted(rows, key=lambda r: RANK.get(r["severity"], len(RANK)))  # stable within a severity


def _severity_zh(value: object) -> str:
    text = str(value or "")
    back = {en: zh for zh, en in SEVERITY.items()}
    return back.get(text.lower(), text)


# ---- colouring and commenting the cells ---------------------------------------------------------


def _mark_cells(wb, rows: list[dict], lang: str) -> None:
    per_cell: dict[tuple[str, int, int], list[dict]] = defaultdict(list)
    for row in rows:
        for ws, r, c in _targets(wb, row):
            key = (ws.title, r, c)
            if not any(x is row for x in per_cell[key]):  # a row naming a cell twice counts once
                per_cell[key].append(row)
    for (title, r, c), found in per_cell.items():
        cell = wb[title].cell(r, c)
        worst = min(found, key=lambda x: RANK.get(x["severity"], len(RANK)))["severity"]
        if worst in FILLS:
            record(wb, title, cell)
            cell.fill = _fill(worst)
        cell.comment = _comment(cell.comment, [_comment_line(x, lang) for x in found])


def _targets(wb, row: dict) -> list[tuple[Worksheet, int, int]]:
    refs = [x for x in (row.get("cells") or []) if x] or ([row["cell"]] if row.get("cell") else [])
    out = []
    for ref in refs:
        sheet_name, _, coord = str(ref).rpartition("!")
        ws = _find_sheet(wb, sheet_name.strip("'").replace("''", "'") or row.get("sheet") or "")
        if ws is not None:
            out.extend((ws, *_top_left(ws, r, c)) for r, c in coordinates(coord.replace("$", "")))
    return out


def _find_sheet(wb, name: str) -> Worksheet | None:
    """The sheet by exact name, else by the reader's folding (spaces, full-width, 繁体)."""
    found = wb[name] if name in wb.sheetnames else None
    if found is None and name:
        found = next((wb[n] for n in wb.sheetnames if norm(n) == norm(name)), None)
    return found if isinstance(found, Worksheet) else None  # a chartsheet has no cells


def _top_left(ws: Worksheet, r: int, c: int) -> tuple[int, int]:
    """A cell inside a merged block cannot hold a comment; its block's top-left cell is what people see."""
    for block in ws.merged_cells.ranges:
        if block.min_row <= r <= block.max_row and block.min_col <= c <= block.max_col:
            return block.min_row, block.min_col
    return r, c


def _fill(sev: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=FILLS[sev], end_color=FILLS[sev])


def _comment_line(row: dict, lang: str) -> str:
    en = lang == "en"
    sev, rule = severity(row["severity"], lang), row.get("rule") or ""
    head = f"[{sev}] " + (f"{rule}{': ' if en else '：'}" if rule else "")
    line = head + str(row.get("message") or "")
    if row.get("explained"):
        note = t("explained", lang=lang, note=row["explained"])
        line += f" ({note})" if en else f"（{note}）"
    return " ".join(xml_safe(line).splitlines())  # one line per issue: the next round takes exactly ours away


def _comment(old: Comment | None, lines: list[str]) -> Comment:
    """Our lines below the unit's own comment, if any; that comment keeps its author (it is still theirs)."""
    theirs = old is not None and bool(old.text)
    text = xml_safe("\n".join(([old.text.rstrip("\n")] if theirs else []) + lines))
    width = 320  # px: about 28 Chinese characters a line
    wrapped = sum(max(1, -(-_display_width(line) // 52)) for line in text.split("\n"))
    author = xml_safe(old.author or AUTHOR) if theirs else AUTHOR
    return Comment(text, author, height=min(24 + 16 * wrapped, 600), width=width)


def _display_width(text: str) -> int:
    """Columns a string takes on screen: CJK and full-width characters count as two."""
    return sum(1 if ord(ch) < 0x1100 else 2 for ch in text)


# ---- the 问题清单 sheet -----------------------------------------------------------------------------


def _add_list_sheet(wb, rows: list[dict], lang: str) -> None:
    ws = wb.create_sheet(LIST_SHEET, 0)
    en = lang == "en"
    ws.append([en_h if en else zh_h for zh_h, en_h, _ in HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill(fill_type="solid", start_color="D9D9D9", end_color="D9D9D9")
    for n, row in enumerate(rows, start=1):
        _list_row(wb, ws, n, row, lang)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{len(rows) + 1}"
    _set_widths(ws)
    widths = {c: ws.column_dimensions[get_column_letter(c)].width for c in (9, 11)}  # 问题说明 and 已说明
    for r in range(2, len(rows) + 2):  # they wrap, in a row as tall as they need: no program makes it so
        lines = max(wrapped_lines(ws.cell(r, c).value, width) for c, width in widths.items())
        if lines > 1:
            ws.row_dimensions[r].height = min(LINE_HEIGHT * lines, MAX_HEIGHT)
    _set_printing(ws)
    _make_active(wb, ws)


def _list_row(wb, ws: Worksheet, n: int, row: dict, lang: str) -> None:
    ref = row.get("cell") or next(iter(row.get("cells") or []), "") or ""
    diff = row.get("diff")
    diff = None if isinstance(diff, float) and math.isnan(diff) else diff  # NaN would corrupt the sheet XML
    values = [
        n, severity(row["severity"], lang), row.get("rule"), row.get("sheet"), ref, row.get("code"),
        row.get("name"), row.get("value"), row.get("message"), diff, row.get("explained"),
    ]
    r = n + 1  # below the header; ws.max_row would scan every cell on every row
    for c, value in enumerate(values, start=1):
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            ws.cell(r, c, value)
        elif value is not None and not isinstance(value, float):  # inf would corrupt the sheet XML too
            _set_text(ws.cell(r, c), str(value))
    if row["severity"] in FILLS:
        ws.cell(r, 2).fill = _fill(row["severity"])
    for c in range(1, len(values) + 1):  # 问题说明 and 已说明 wrap (a long one was cut on paper); every cell at
        ws.cell(r, c).alignment = WRAP if c in (9, 11) else TOP  # the top, beside the first line of its row's text
    location = _location(wb, row, ref)
    if location:
        link = ws.cell(r, 5)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=location, display=xml_safe(ref))
        link.font = Font(color="0563C1", underline="single")


def _set_text(cell, text: str) -> None:
    """Text exactly as given: a leading "=" stays text, not a formula; characters XML forbids are dropped."""
    cell.value = xml_safe(text)
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if formula_like(cell.value):
        cell.quotePrefix = True  # Excel's leading apostrophe: editing the cell does not turn it into a formula




def _location(wb, row: dict, ref: str) -> str:
    """An internal link target like 'Sheet'!D8, only when that sheet and cell exist in this copy."""
    sheet_name, _, coord = str(ref).rpartition("!")
    ws = _find_sheet(wb, sheet_name.strip("'").replace("''", "'") or row.get("sheet") or "")
    if ws is None or ws.title == LIST_SHEET:
        return ""
    points = coordinates(coord.replace("$", ""))
    if not points:
        return ""
    r, c = points[0]
    return "'{}'!{}{}".format(ws.title.replace("'", "''"), get_column_letter(c), r)


def _set_widths(ws: Worksheet) -> None:
    for idx, (_, _, floor) in enumerate(HEADERS, start=1):
        letter = get_column_letter(idx)
        longest = max((_display_width(str(c.value)) for c in ws[letter] if c.value is not None), default=0)
        ws.column_dimensions[letter].width = min(max(floor, longest + 2), _WIDEST)


def _set_printing(ws: Worksheet) -> None:
    """A4 landscape, all columns on one page width (as many pages down as needed), the header on every page;
    otherwise the list prints as vertical strips, 问题说明 on a different sheet of paper from its cell."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _make_active(wb, ws: Worksheet) -> None:
    """Open on the list. Other tabs must be deselected, or Excel opens with the sheets grouped."""
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    for sheet in wb.chartsheets:
        for view in sheet.sheetViews.sheetView:
            view.tabSelected = False
    wb.active = ws
    ws.sheet_view.tabSelected = True
    for view in wb.views:
        view.firstSheet = 0


# ---- text --------------------------------------------------------------------------------------

_TEXT = {
    "same-as-source": ("批注副本不能覆盖原文件", "an annotated copy must not overwrite its source"),
    "worker-died": ("写出它的进程意外中止", "the process writing it stopped unexpectedly"),
}


def _text(key: str, lang: str) -> str:
    zh, en = _TEXT[key]
    return en if lang == "en" else zh
