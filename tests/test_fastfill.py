"""A stamped workbook is the template filled cell by cell with openpyxl: same cells, same bytes."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tongji.plugins import load_spec
from tongji.writing.files import save_workbook
from tongji.writing.template import BENJI, write_template
from tongji_samples.fastfill import Stamp

PERIOD = "2025"
GRASSROOTS = {"单位代码": "91350100M000100Y43", "单位名称": "示例市恒达<精密>&机械有限公司工会",
              "上级代码": "330106001", "组织类型": "2", "所在地区划代码": "330106001012"}
CITY = {"单位代码": "330100", "单位名称": "示例市总工会", "上级代码": "", "组织类型": BENJI,
        "所在地区划代码": "330100000000"}
# every shape of value a filled workbook holds, and a few it might
AWKWARD = ["1,234", "约300", None, "是", " 56 ", "a & b < c", "", 0, 12, 299840834.72, 0.1 + 0.2, -17.5, 10**17]


def value_codes(spec, benji: bool) -> list[str]:
    return [r.code for r in spec.numeric_rows() if r.filled and (benji or r.level != "本级")]


def filled(spec, unit: dict) -> tuple[dict, dict]:
    """A cover typed over the prefilled one (FM03 changed, FM08 emptied) and cells of every kind."""
    cover = {"FM03": "330106002", "FM06": "170 私营", "FM08": None, "FM09": "0571-81234567", "FM10": "2026-01-20",
             "FM11": "王芳"}
    codes = value_codes(spec, unit["组织类型"] == BENJI)
    return cover, {code: AWKWARD[i % len(AWKWARD)] for i, code in enumerate(codes)}


def reference(tmp_path, spec, unit: dict, cover: dict, cells: dict) -> bytes:
    """What the generator did before stamps: the unit's template, loaded and filled with openpyxl, saved."""
    path = write_template(tmp_path / "ref.xlsx", spec, unit, PERIOD)
    wb = openpyxl.load_workbook(path)
    kinds = {f.sheet: f.is_cover for f in spec.forms}
    for ws in wb.worksheets:
        if ws.title in kinds:
            source, col = (cover, 3) if kinds[ws.title] else (cells, 4)
            for (code,) in ws.iter_rows(min_col=2, max_col=2):
                if code.value in source:
                    ws.cell(code.row, col).value = source[code.value]
    save_workbook(wb, path)
    return path.read_bytes()


def cells_of(data: bytes) -> dict:
    """Every cell's value, type, style and protection; every sheet's state; every data validation."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = (ws.sheet_state, ws.protection.sheet, [dv.sqref for dv in ws.data_validations.dataValidation])
        for row in ws.iter_rows():
            for c in row:
                out[(ws.title, c.coordinate)] = (c.value, c.data_type, c.number_format, c.protection.locked,
                                                 c.fill.fgColor.rgb)
    return out


@pytest.mark.parametrize("unit", [GRASSROOTS, CITY], ids=["grassroots", "benji"])
def test_a_stamped_workbook_is_the_template_filled_with_openpyxl(tmp_path, unit):
    spec = load_spec()
    benji = unit["组织类型"] == BENJI
    stamp = Stamp.build(spec, PERIOD, benji, set(value_codes(spec, benji)))
    cover, cells = filled(spec, unit)
    got, want = stamp.workbook(unit, cover, cells), reference(tmp_path, spec, unit, cover, cells)
    assert cells_of(got) == cells_of(want)
    if not openpyxl.LXML:  # the cells are written as openpyxl's own (non-lxml) writer writes them
        assert got == want


def test_a_stamp_fills_what_varies_and_nothing_else(tmp_path):
    spec = load_spec()
    stamp = Stamp.build(spec, PERIOD, False, set(value_codes(spec, False)))
    wb = openpyxl.load_workbook(io.BytesIO(stamp.workbook(GRASSROOTS, {}, {"HY01": 12})))
    cover = {ws_row[1].value: ws_row[2].value for ws_row in wb["封面"].iter_rows(min_row=8)}
    assert cover["FM01"] == GRASSROOTS["单位名称"] and cover["FM03"] == "330106001" and cover["FM05"] == "2"
    assert cover["FM04"] == PERIOD and cover["FM08"] is None
    assert wb["会员"]["A6"].value == f"填报单位：{GRASSROOTS['单位名称']}"
    values = {r[1].value: r[3].value for r in wb["会员"].iter_rows(min_row=8) if r[1].value}
    assert values["HY01"] == 12 and values["HY02"] is None
    city = Stamp.build(spec, PERIOD, True, set(value_codes(spec, True))).workbook(CITY, {}, {})
    wb = openpyxl.load_workbook(io.BytesIO(city))
    assert wb["会员"]["A6"].value == "填报单位：示例市总工会（本级）"
    assert {r[1].value: r[2].value for r in wb["封面"].iter_rows(min_row=8)}["FM03"] is None  # blank parent


def test_values_the_template_cannot_hold_are_refused():
    spec = load_spec()
    stamp = Stamp.build(spec, PERIOD, False, set(value_codes(spec, False)))
    with pytest.raises(TypeError):
        stamp.workbook(GRASSROOTS, {}, {"HY01": True})
    with pytest.raises(ValueError, match="formula"):
        stamp.workbook(GRASSROOTS, {}, {"HY01": "=1+1"})
