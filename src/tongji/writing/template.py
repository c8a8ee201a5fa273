"""Fillable xlsx templates, one per expected unit.

The layout is a contract with reading/workbooks.py, which finds each sheet's header row by its labels:
no cell above the header may read 代码, 本期数 or 内容, and every filled indicator sits on its own row
with its code in column B and its value in column D (column C on the cover).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tongji.definitions import Form, Row, Spec
from tongji.definitions.codes import normalize_period
from tongji.definitions.forms import BENJI_HINT, GUIDE_SHEET, LISTS_SHEET
from tongji.definitions.registry import Registry
from tongji.errors import TongjiError
from tongji.plugins import load_spec
from tongji.writing.files import ensure_dir, put, save_workbook
from tongji.writing.form_layout import (
    BOX,
    COVER_HEADER,
    COVER_WIDTHS,
    DATA_HEADER,
    DATA_WIDTHS,
    SIGNATURE,
    UNSAFE_IN_NAMES,
    cover_rows_wrapped,
    form_top,
    header_row,
)
from tongji.writing.issue_report import LINE_HEIGHT, wrapped_lines
from tongji.writing.printing import form_pages, text_pages
from tongji.writing.template_copies import Shape, placeholders

BENJI = "9"  # 组织类型 of a 本级 workbook
FLAG_VALUES = ("是", "否")
NAME_BYTES = 150  # of a unit's name in a template's file name: 50 Chinese characters, 255 bytes in all at most
COVER_NOTE = "请填写带底色的单元格，其余各项已预填，请勿修改"

# Cover rows the template fills and locks, so they always match the registry and the collection.
PREFILLED = ("FM01", "FM02", "FM03", "FM04", "FM05", "FM07", "FM12")
NUMBER_FORMATS = {"count": "0", "amount": "0.00", "flag": "@"}

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
BENJI_FILL = PatternFill("solid", fgColor="D9D9D9")
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)

# A4 portrait holds about 95 character widths between 0.5" margins, and a program drawing the default font wider
# (LibreOffice without Calibri: about 30 % wider) fewer, and cuts what runs past the edge; long lines wrap in the column
GUIDE_WIDTH = 72
WRAP = Alignment(wrap_text=True, vertical="top")


# --- which units, which files ---


def make_templates(
    registry: Registry, period: str, out_dir: Path, unit: str | None = None, spec: Spec | None = None,
    overwrite: bool = False, tick=None, on_total=None,
) -> list[Path]:
    """Write one template per active unit (or only `unit`) into `out_dir`; return the paths written.

    Units on the registry's last level get a grassroots workbook; every level above gets a 本级 one. A file of a
    template's name already there is refused before anything is written, unless `overwrite`: it may be the
    workbook a unit filled in and returned. Each is write_template's workbook, copied from one built per shape
    (writing/template_copies.py). `on_total(n)` is told the number of templates, `tick()` once each is written.
    """
    spec = spec or load_spec()
    period = _period(period)
    units = [_prepared(registry, row, spec) for row in _units(registry, unit)]  # a typo should leave nothing behind
    targets = [Path(out_dir) / template_name(prepared, period) for prepared in units]
    if not overwrite:
        there = next((path for path in targets if path.exists()), None)
        if there is not None:
            raise TongjiError("template-exists", path=there)
    ensure_dir(Path(out_dir))
    if on_total:
        on_total(len(units))
    shapes: dict[bool, Shape] = {}
    written = []
    for path, prepared in zip(targets, units, strict=True):
        benji = prepared["组织类型"] == BENJI
        if benji not in shapes:
            shapes[benji] = Shape.of(template_workbook(spec, placeholders() | ({"组织类型": BENJI} if benji else {}),
                                                       period))
        shape = shapes[benji]
        # a unit whose text the copy cannot take as it is (a formula-like name) is built by openpyxl
        written.append(shape.write(path, prepared) or write_template(path, spec, prepared, period))
        if tick:
            tick()
    return written


def unit_template_name(registry: Registry, period: str, unit: str, spec: Spec | None = None) -> str:
    """The name make_templates gives `unit`'s template, so a caller can find one made before by that name alone
    (its folder may also hold another writer's temporary file)."""
    spec = spec or load_spec()
    return template_name(_prepared(registry, _units(registry, unit)[0], spec), _period(period))


def _prepared(registry: Registry, row: dict, spec: Spec) -> dict:
    return dict(row, 组织类型=_org_type(row, registry.levels[-1], spec))


def template_name(unit: dict, period: str) -> str:
    suffix = "本级" if unit.get("组织类型") == BENJI else ""
    # file systems take 255 bytes a name: a long unit name is cut (the code before it keeps names apart)
    name = (unit["单位名称"] or "").encode("utf-8")[:NAME_BYTES].decode("utf-8", "ignore")
    return UNSAFE_IN_NAMES.sub("_", f"{unit['单位代码']}_{name}{suffix}_{period}") + ".xlsx"


def _period(text: str) -> str:
    period = normalize_period(text or "")
    if period is None:
        raise TongjiError("period-invalid", period=text)
    return period


def _units(registry: Registry, code: str | None) -> list[dict]:
    if code is None:
        return [r for r in registry.frame.iter_rows(named=True) if r["状态"] != "撤销"]
    row = registry.get(code.strip())
    if row is None:
        raise TongjiError("unit-not-in-registry", unit=code)
    if row["状态"] == "撤销":  # asking for a revoked unit is almost surely a typo; say so
        raise TongjiError("unit-revoked", unit=code)
    return [row]


def _org_type(unit: dict, leaf: str, spec: Spec) -> str:
    """FM05: 9 above the last level; otherwise the registry's code (or its label), default 1."""
    if unit["层级"] != leaf:
        return BENJI
    value = (unit.get("组织类型") or "").strip()
    names = {name: code for code, name in spec.enums.get("组织类型", {}).items()}
    code = names.get(value, value.split(" ")[0])
    # A grassroots unit is never 本级; a blank or unknown entry falls back to 单独基层工会.
    return code if code in spec.enums.get("组织类型", {}) and code != BENJI else "1"


# --- one workbook ---


def write_template(path: Path, spec: Spec, unit: dict, period: str) -> Path:
    """Write one template. `unit` is a registry row; its 组织类型 "9" makes it a 本级 workbook."""
    return save_workbook(template_workbook(spec, unit, period), Path(path))


def template_workbook(spec: Spec, unit: dict, period: str) -> Workbook:
    """The template of write_template, as an openpyxl workbook not yet saved."""
    period = _period(period)
    lists = _list_entries(spec)
    wb = Workbook()
    wb.remove(wb.active)
    _cover_sheet(wb.create_sheet(spec.cover.sheet), spec, unit, period, lists)
    for form in spec.data_forms:
        _form_sheet(wb.create_sheet(form.sheet), spec, form, unit, period, lists)
    _guide_sheet(wb.create_sheet(GUIDE_SHEET), spec)
    _lists_sheet(wb.create_sheet(LISTS_SHEET), lists)
    wb.active = 0
    return wb


def _form_sheet(ws: Worksheet, spec: Spec, form: Form, unit: dict, period: str, lists: dict) -> None:
    benji = unit.get("组织类型") == BENJI
    name = unit["单位名称"] + ("（本级）" if benji else "")
    header = form_top(ws, spec, form, len(DATA_HEADER), f"填报单位：{name}", f"报告期：{period}")
    header_row(ws, header, DATA_HEADER)
    r = header
    for row in form.rows:
        if row.filled:
            r += 1
            _data_row(ws, r, row, benji, lists)
    ws.cell(r + 2, 1, SIGNATURE)
    _finish(ws, header, DATA_WIDTHS)


def _data_row(ws: Worksheet, r: int, row: Row, benji: bool, lists: dict) -> None:
    for col, value in enumerate((row.name, row.code, row.unit), start=1):  # a plugin's text: never a formula
        put(ws, r, col, value).border = BOX
    ws.cell(r, 3).alignment = Alignment(horizontal="center")
    value, note = ws.cell(r, 4), ws.cell(r, 5)
    value.number_format = NUMBER_FORMATS.get(row.kind, "General")
    for cell in (value, note):
        cell.border = BOX
    if row.level == "本级" and not benji:
        note.value = BENJI_HINT
        for cell in (value, note):
            cell.fill, cell.protection = BENJI_FILL, LOCKED
        return
    for cell in (value, note):
        cell.fill, cell.protection = INPUT_FILL, UNLOCKED
    dv = _value_validation(row, lists)
    ws.add_data_validation(dv)
    dv.add(value)


def _value_validation(row: Row, lists: dict) -> DataValidation:
    if row.yes_no:  # a number or 是/否: the list offers the words and lets a number through
        dv = DataValidation("list", _list_ref(lists, "是否"))
        return _messages(dv, row, "请填写单位个数（不小于 0 的整数）；单独基层工会也可选“是”或“否”", None)
    if row.kind == "count":
        dv = DataValidation("whole", "0", operator="greaterThanOrEqual")
        prompt, error = "请填写不小于 0 的整数，不填按 0 计", "应为不小于 0 的整数"
    elif row.kind == "flag":
        dv = DataValidation("list", _list_ref(lists, "是否"))
        prompt, error = "请从下拉列表选择“是”或“否”", "只能填写“是”或“否”"
    elif row.signed:
        dv = DataValidation("decimal", "-999999999999.99", "999999999999.99", operator="between")
        prompt, error = "金额（元），保留两位小数，可为负数；不填按 0 计", "应为金额数字（元）"
    else:
        dv = DataValidation("decimal", "0", operator="greaterThanOrEqual")
        prompt, error = "金额（元），保留两位小数，不小于 0；不填按 0 计", "应为不小于 0 的金额（元）"
    return _messages(dv, row, prompt, error)


def _messages(dv: DataValidation, row: Row, prompt: str, error: str | None) -> DataValidation:
    dv.allow_blank = True
    dv.showInputMessage = True
    dv.promptTitle = f"{row.code} {row.name}"[:32]  # Excel rejects titles over 32 characters
    hint = _cut(row.hint, MESSAGE_MAX - len(prompt) - 1) + "。" if row.hint else ""  # the instruction is kept
    dv.prompt = _cut(hint + prompt, MESSAGE_MAX)
    if error:
        dv.showErrorMessage = True
        dv.errorStyle = "stop"
        dv.errorTitle = "输入有误"
        dv.error = _cut(f"{row.name}：{error}", MESSAGE_MAX)
    return dv


MESSAGE_MAX = 255  # Excel's limit on a data validation's message: past it, Excel says the file needs repair


def _cut(text: str, room: int) -> str:
    """`text` in at most `room` characters, an ellipsis where it was cut."""
    return text if len(text) <= room else text[:max(room - 1, 0)] + "…"


# --- the cover ---


def _cover_values(spec: Spec, unit: dict, period: str) -> dict[str, str]:
    """FM01, FM02, FM03, FM04, FM05, FM07, FM12 in the order of PREFILLED."""
    values = (
        unit["单位名称"],
        unit["单位代码"],
        unit.get("上级代码") or "",
        period,
        unit.get("组织类型") or "1",
        unit.get("所在地区划代码") or "",
        spec.version,
    )
    return dict(zip(PREFILLED, values, strict=True))


def _cover_sheet(ws: Worksheet, spec: Spec, unit: dict, period: str, lists: dict) -> None:
    header = form_top(ws, spec, spec.cover, len(COVER_HEADER), COVER_NOTE, "")
    header_row(ws, header, COVER_HEADER)
    values = _cover_values(spec, unit, period)
    for r, row in enumerate(spec.cover.rows, start=header + 1):
        for col, text in enumerate((row.name, row.code, None, row.hint or None), start=1):
            put(ws, r, col, text).border = BOX
        value = ws.cell(r, 3)
        value.number_format = "@"  # codes keep their leading zeros
        if row.code in values:
            put(ws, r, 3, values[row.code] or None)
            continue
        value.fill, value.protection = INPUT_FILL, UNLOCKED
        dv = _cover_validation(row, lists)
        ws.add_data_validation(dv)
        dv.add(value)
    cover_rows_wrapped(ws, header + 1, header + len(spec.cover.rows))
    _finish(ws, header, COVER_WIDTHS)


def _cover_validation(row: Row, lists: dict) -> DataValidation:
    required = "（必填）" if row.required else ""
    if row.kind == "enum" and row.enum in lists:
        dv = DataValidation("list", _list_ref(lists, row.enum))
        return _messages(dv, row, f"请从下拉列表选择{required}", "请从下拉列表中选择")
    if row.kind == "industry" and row.enum in lists:  # the 门类 listed; a deeper code is typed
        dv = DataValidation("list", _list_ref(lists, row.enum))
        return _messages(dv, row, f"请从下拉列表选择门类，或填写行业代码{required}", None)
    # Dates stay text ("2026-01-15") so every spreadsheet program hands the reader the same thing.
    return _messages(DataValidation(), row, f"请填写{row.name}{required}", None)


# --- instructions and lists ---


def _guide_lines(spec: Spec) -> list[str]:
    signed = "、".join(f"“{r.name}”" for r in spec.numeric_rows() if r.signed)
    prefilled = "、".join(r.name for r in spec.cover.rows if r.code in PREFILLED)
    return [
        "填表说明",
        "1. 请在各表“本期数”列带底色的单元格中填写；空白单元格按 0 读取。",
        "2. 人数、户数、单位数等填整数；金额以元为单位，保留两位小数。"
        + (f"{signed}可以为负数，其余不能为负。" if signed else ""),
        "3. 是否类指标请从下拉列表选择“是”或“否”。“建立职代会制度的单位”等民主管理指标填覆盖单位中做到的单位个数，"
        "单独基层工会也可选“是”（计 1）或“否”（计 0）。",
        "4. 审核提示有疑问的数值（警告），如数据属实，请在同一行“说明”列写明原因。",
        "5. 灰色单元格为本级指标，只由街道及以上工会的本级报表填报，基层工会不填。",
        f"6. 封面中的{prefilled}已预填，请勿修改；请填写其余带底色的项目。",
        "7. 不要重命名工作表，不要修改表头，不要插入或删除行，不要合并单元格。",
        "8. 填好后请用 Excel 或 WPS 保存，再报送。",
        "",
        f"模板版本：{spec.version}",
    ]


def _guide_sheet(ws: Worksheet, spec: Spec) -> None:
    for r, line in enumerate(_guide_lines(spec), start=1):
        ws.cell(r, 1, line).alignment = WRAP
        lines = wrapped_lines(line, GUIDE_WIDTH)
        if lines > 1:  # LibreOffice shows a wrapped cell's first line only in a row it is not told is taller
            ws.row_dimensions[r].height = lines * LINE_HEIGHT
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = GUIDE_WIDTH
    ws.protection.sheet = True
    text_pages(ws)


def _list_entries(spec: Spec) -> dict[str, list[str]]:
    """Dropdown lists, one column each on the hidden sheet: inline lists over 255 characters corrupt files."""
    lists = {"是否": list(FLAG_VALUES)}
    for name, codes in spec.enums.items():
        lists[name] = [f"{code} {label}" for code, label in codes.items()]
    return lists


def _list_ref(lists: dict[str, list[str]], name: str) -> str:
    col = get_column_letter(list(lists).index(name) + 1)
    return f"'{LISTS_SHEET}'!${col}$1:${col}${len(lists[name])}"


def _lists_sheet(ws: Worksheet, lists: dict[str, list[str]]) -> None:
    for col, entries in enumerate(lists.values(), start=1):
        for r, entry in enumerate(entries, start=1):
            ws.cell(r, col, entry)
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


def _finish(ws: Worksheet, header: int, widths: dict[str, int]) -> None:
    """Widths, frozen header, protection without a password, A4 pages (printing.form_pages)."""
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"A{header + 1}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # still allowed: widening a column does no harm
    ws.protection.formatRows = False
    form_pages(ws, header)
