"""A rollup's Summary on disk: the summary workbook, parquet tables and a manifest.

The workbook is a contract with reading/workbooks.py, like the templates (writing/template.py): its form sheets
use the template's header labels and columns, so a summary is itself an input to `tongji validate` and to
the next level's rollup. The 明细 sheet is read back by rollup to check the totals against their detail; it and
the other sheets with a row per unit are writing/unit_sheets.py's, continued on further sheets past Excel's limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl
from openpyxl import Workbook

import tongji
from tongji.aggregating.groups import GROUPS_SHEET
from tongji.aggregating.summary import Summary
from tongji.definitions import Spec
from tongji.definitions.builder import BUILTIN
from tongji.errors import TongjiError
from tongji.i18n import Items, chosen
from tongji.issues.catalog import Catalog
from tongji.reading.discover import PARTIAL
from tongji.writing.files import (
    atomic_path,
    ensure_dir,
    save_workbook,
    save_zip,
    unwritable,
    write_bytes,
    write_pieces,
)
from tongji.writing.form_layout import UNSAFE_IN_NAMES
from tongji.writing.issue_report import csv_frame
from tongji.writing.summary_book import summary_parts
from tongji.writing.summary_forms import cover_sheet, form_sheet, table_sheets

INPUT_KEYS = ("file", "sha256", "unit", "kind", "status", "reason")


# --- the files ---


def summary_stem(summary: Summary) -> str:
    return stem_for(summary.unit, summary.period)


def stem_for(unit: str, period: str) -> str:
    """What a summary's files are called: <单位代码>_<报告期>, safe in any file system."""
    return UNSAFE_IN_NAMES.sub("_", f"{unit}_{period}")


def write_summary(summary: Summary, out_dir: Path, spec: Spec, formats=("xlsx",),
                  lang: str | None = None, held: list | None = None) -> list[Path]:
    """Write the summary in each format (an output format of `spec.writers`, the plugins that built the spec:
    xlsx, csv, json, html…), plus 明细/汇总 parquet and the manifest, into `out_dir`; return their paths. Every
    writer is given `lang` ("zh" or "en"; by default the language of this run) and sees the summary in it: the
    issues' messages, rollup's reasons and the indicators' notes (Summary.in_lang).

    Everything is written to a staging folder inside `out_dir` first, so a failure leaves nothing behind. Given
    `held`, the files stay there, noted in it, until `move_held` puts every summary's in place at once.
    """
    writers = spec.writers  # the output formats of the plugins that built this spec
    unknown = [f for f in formats if f not in writers]
    if unknown:
        raise TongjiError("unknown-format", name=Items(unknown), known=Items(sorted(writers)))
    out_dir, lang = ensure_dir(Path(out_dir)), chosen(lang)
    summary = summary.in_lang(lang, Catalog.of(spec))
    stem = summary_stem(summary)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f"{PARTIAL}stage-", dir=out_dir))
    except OSError as exc:  # a full disk, or no inodes left
        raise unwritable(out_dir, exc) from None
    try:
        totals = parquet_bytes(summary.totals)
        staged = [*write_parquet(summary, stage, spec, totals),
                  write_pieces(stage / f"{stem}_manifest.json", manifest_pieces(summary, totals))]
        made_by = {p.name: "parquet" for p in staged} | {staged[-1].name: "manifest"}
        for i, fmt in enumerate(dict.fromkeys(formats)):
            if fmt != "parquet":  # each writer in a folder of its own: none overwrites another's file
                written = writers[fmt].run(summary, ensure_dir(stage / str(i)), spec, lang)
                for path in written:
                    _claim(made_by, path.name, fmt, writers)
                staged[:0] = written
        finals = [out_dir / p.name for p in staged]
        if held is not None:
            held.append((stage, staged, finals))
            stage = None
        else:
            _move(staged, finals)
        return finals
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)


def move_held(held: list, keep: bool) -> None:
    """The files of the summaries `write_summary` held, put in place (`keep`) or thrown away; their staging
    folders removed either way. `rollup --all` writes all its summaries or none: a failure halfway must not
    leave this run's 街道 beside the last run's 区."""
    try:
        for _, staged, finals in held if keep else ():
            _move(staged, finals)
    finally:
        for stage, _, _ in held:
            shutil.rmtree(stage, ignore_errors=True)


def _move(staged: list[Path], finals: list[Path]) -> None:
    for src, dst in zip(staged, finals, strict=True):
        try:
            os.replace(src, dst)
        except OSError as exc:
            raise unwritable(dst, exc) from None


def _claim(made_by: dict[str, str], name: str, fmt: str, writers: dict) -> None:
    """One file name, one output: two formats writing one name would leave one's file holding the other's."""
    if name not in made_by:
        made_by[name] = fmt
        return
    other = made_by[name]
    if writers[fmt].plugin == BUILTIN:  # a plugin's format wrote the name first: that plugin is told
        fmt, other = other, fmt
    raise TongjiError("plugin-output-clash", name=writers[fmt].plugin, format=fmt, file=name, other=other)


def write_parquet(summary: Summary, out_dir: Path, spec: Spec, totals: bytes | None = None) -> list[Path]:
    """明细 and 汇总 as parquet; `totals` is the 汇总's parquet_bytes when the caller has them already."""
    stem, totals = summary_stem(summary), totals if totals is not None else parquet_bytes(summary.totals)
    return [_write_parquet(summary.detail, out_dir / f"{stem}_明细.parquet"),
            write_bytes(out_dir / f"{stem}_汇总.parquet", totals)]


def _write_parquet(df: pl.DataFrame, target: Path) -> Path:
    """As parquet_bytes, straight into the file: a 市's 明细 is not held twice. polars says a full disk in its
    own exception: it is an unwritable output like any other."""
    with atomic_path(target) as tmp:
        try:
            df.write_parquet(tmp, statistics=False)
        except pl.exceptions.PolarsError as exc:
            raise OSError(str(exc).splitlines()[0]) from None
    return target


def write_xlsx(summary: Summary, out_dir: Path, spec: Spec, lang: str) -> list[Path]:
    return [write_summary_workbook(summary, out_dir / f"{summary_stem(summary)}_汇总.xlsx", spec, lang)]


def write_csv(summary: Summary, out_dir: Path, spec: Spec) -> list[Path]:
    """Totals, 明细 and 分组 as UTF-8 CSV with a BOM, so Excel opens the Chinese correctly; no text cell is a
    formula."""
    stem = summary_stem(summary)
    parts = [("汇总", summary.totals), ("明细", summary.detail)]
    if summary.groups is not None:
        parts.append((GROUPS_SHEET, summary.groups))
    return [write_bytes(out_dir / f"{stem}_{part}.csv", b"\xef\xbb\xbf" + csv_frame(df).write_csv().encode("utf-8"))
            for part, df in parts]


def write_json(summary: Summary, out_dir: Path, spec: Spec) -> list[Path]:
    doc = {
        "unit": summary.unit, "name": summary.name, "period": summary.period, "level": summary.level,
        "totals": summary.totals.to_dicts(), "indicators": summary.indicators.to_dicts(),
        "completeness": summary.completeness.to_dicts(), "units": summary.units.to_dicts(),
        "groups": summary.groups.to_dicts() if summary.groups is not None else [],
        "issues": summary.issues.drop("cells", "params", strict=False).to_dicts(),
        "notes": summary.notes.to_dicts(),
    }
    text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return [write_bytes(out_dir / f"{summary_stem(summary)}_汇总.json", text.encode("utf-8"))]


def parquet_bytes(df: pl.DataFrame) -> bytes:
    """Parquet without statistics: polars writes no timestamp, so the bytes depend on the data only."""
    buf = io.BytesIO()
    df.write_parquet(buf, statistics=False)
    return buf.getvalue()


def manifest_bytes(summary: Summary, totals_parquet: bytes) -> bytes:
    return b"".join(manifest_pieces(summary, totals_parquet))


def manifest_pieces(summary: Summary, totals_parquet: bytes) -> list[bytes]:
    """JSON with sorted keys, one input per line, in pieces to write one after another. The input lines are
    written by polars and indented in one pass over their bytes: a 市's manifest lists every workbook of the city
    (30 MB at 100,000 units), and the json module's indenting encoder is pure Python (seconds per 市). A JSON line
    holds no raw newline (a newline in a string is written \\n), so the lines are cut at the newline alone."""
    inputs = summary.inputs.select(INPUT_KEYS).sort([pl.col(k).fill_null("") for k in INPUT_KEYS])
    fields = {
        "unit": summary.unit,
        "name": summary.name,
        "period": summary.period,
        "tongji_version": tongji.__version__,
        "totals_sha256": hashlib.sha256(totals_parquet).hexdigest(),
    }
    pieces, sep = [b"{\n"], b""
    for key in sorted([*fields, "inputs"]):
        pieces.append(sep + f'  "{key}": '.encode())
        sep = b",\n"
        if key != "inputs":
            pieces.append(json.dumps(fields[key], ensure_ascii=False).encode("utf-8"))
        elif inputs.height:
            lines = io.BytesIO()
            inputs.select(sorted(INPUT_KEYS)).write_ndjson(lines)
            pieces += [b"[\n    ", lines.getvalue().removesuffix(b"\n").replace(b"\n", b",\n    "), b"\n  ]"]
        else:
            pieces.append(b"[]")
    return [*pieces, b"\n}\n"]


# --- the workbook ---


def write_summary_workbook(summary: Summary, path: Path, spec: Spec, lang: str | None = None,
                           stamped: bool = True) -> Path:
    """Sheets: 封面, the data forms (values = totals), 明细, 说明, 完整性, 校验, 指标, 分组. The headers of the tables
    are in `lang` (by default the language of this run); their text is the summary's, as `Summary.in_lang` gives it.

    The workbook is stamped from the skeleton of the spec's summaries (writing/summary_book.py); `stamped=False`
    builds it cell by cell with openpyxl instead, the reference the skeleton is made from and tested against, as
    is a summary whose tables go on past one sheet (明细2 …)."""
    lang = chosen(lang)
    parts = summary_parts(summary, spec, lang) if stamped else None
    if parts is not None:
        return save_zip(Path(path), parts, level=1)
    wb = Workbook()
    wb.remove(wb.active)
    cover_sheet(wb.create_sheet(spec.cover.sheet), summary, spec)
    values = {r["code"]: r for r in summary.totals.iter_rows(named=True)}
    for form in spec.data_forms:
        form_sheet(wb.create_sheet(form.sheet), summary, spec, form, values)
    rows = table_sheets(wb, summary, spec, lang)  # 明细, 说明, 完整性, 校验 and their continuations, 指标, 分组
    wb.active = 0
    return save_workbook(wb, Path(path), rows)
