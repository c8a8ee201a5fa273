"""Rebuild the bundled sample set: `python samples/make_samples.py` (run from the repository top).

A small synthetic 示例市 (1 区, 2 街道, 8 基层) for 2025: templates written by `tongji template`, filled
the way a union would fill them, with a few seeded mistakes that `tongji validate` must catch:

    B03  女会员 > 会员                      hy04-le-hy03 (错误)
    B04  收入合计 ≠ 各项收入之和             jf01-sum (错误)
    B05  填表人 left empty                   required (错误)
    B06  上级工会代码 names the other 街道   wrong-parent (错误)
    B07  "1,280" typed as text               text-number (提示, read as 1280)
    B08  会员 > 职工, explained in 说明       hy03-le-hy01 (警告, 已说明)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl

from tongji.output.files import save_workbook
from tongji.output.template import make_templates
from tongji.spec.codes import uscc_check_char
from tongji.spec.registry import load_registry

HERE = Path(__file__).resolve().parent
PERIOD = "2025"


def uscc(body: str) -> str:
    return body + uscc_check_char(body)


CITY, DISTRICT = "330100", "330106"
STREETS = {"330106001": "北山街道总工会", "330106002": "西溪街道总工会"}
GRASSROOTS = [  # code, name, street, 组织类型, scale
    (uscc("81330106MC0000101"), "示例市第一机械厂工会", "330106001", "1", 3),
    (uscc("81330106MC0000102"), "北山小学工会", "330106001", "1", 1),
    (uscc("81330106MC0000103"), "北山商圈联合工会", "330106001", "2", 2),
    (uscc("81330106MC0000104"), "示例软件有限公司工会", "330106001", "1", 5),
    (uscc("81330106MC0000105"), "西溪医院工会", "330106002", "1", 8),
    (uscc("81330106MC0000106"), "西溪物流园区联合工会", "330106002", "2", 4),
    (uscc("81330106MC0000107"), "示例市快递服务中心工会", "330106002", "1", 2),
    (uscc("81330106MC0000108"), "西溪社区卫生服务中心工会", "330106002", "1", 1),
]

BASE = {  # one consistent grassroots unit; each unit is this times its scale
    "HY01": 100, "HY02": 40, "HY03": 90, "HY04": 35, "HY05": 10, "HY06": 8, "HY07": 1, "HY08": 2,
    "HY09": 2, "HY10": 2, "HY11": 5, "HY12": 80, "HY13": 1, "HY14": 3,
    "JH01": 1, "JH02": 1, "JH11": 20, "JH12": 8,
    "BF01": 3, "BF02": 1, "BF03": 1, "BF05": 1, "BF06": 1, "BF07": 6000, "BF08": 3000,
    "BF09": 2000, "BF10": 1000, "BF11": 3, "BF12": 1500, "BF13": 1, "BF14": 1000, "BF15": 10, "BF16": 500,
    "BF19": 80, "BF20": 2000,
    "JF01": 135799.5, "JF02": 5000, "JF03": 120000, "JF04": 10000, "JF08": -200.5, "JF09": 1000,
    "JF10": 117000, "JF11": 60000, "JF12": 20000, "JF13": 5000, "JF14": 1500, "JF15": 30000, "JF16": 5000,
    "JF19": 2000, "JF20": 50000, "JF21": 68799.5, "JF22": 10000000,
}
FLAGS = {"JH03": "是", "JH04": "是", "JH05": "是", "JH06": "是", "JH07": "否", "JH08": "是", "JH09": "是", "JH10": "否"}
BENJI = {"JH21": 420, "JH22": 130, "JH23": 26000, "JH24": 3, "JF02": 0, "JF04": 800000, "JF17": 300000,
         "JF18": 200000, "JF20": 100000}
MISTAKES = {
    7: ({"HY03": 1280, "HY01": "1,280"}, {}, {}),
    8: ({"HY03": 110}, {}, {"HY03": "含退休后保留会籍会员 10 人"}),
}


def registry_csv() -> str:
    lines = ["单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态",
             f"{CITY},示例市总工会,,市,9,330100000000,正常",
             f"{DISTRICT},示例区总工会,{CITY},区,9,330106000000,正常"]
    lines += [f"{code},{name},{DISTRICT},街道,9,{code}000,正常" for code, name in STREETS.items()]
    lines += [f"{code},{name},{street},基层,{kind},{street}{i:03d},正常"
              for i, (code, name, street, kind, _) in enumerate(GRASSROOTS, start=1)]
    return "\n".join(lines) + "\n"


def fill(path: Path, values: dict, cover: dict, notes: dict) -> None:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if ws.title.startswith("_") or ws.title == "填表说明":
            continue
        value_col = 3 if ws.title == "封面" else 4
        for row in ws.iter_rows():
            code = row[1].value if len(row) > 1 else None
            target = cover if ws.title == "封面" else values
            if code in target:
                row[value_col - 1].value = target[code]
            if code in notes:
                row[value_col].value = notes[code]
    save_workbook(wb, path)


def grassroots_values(scale: int) -> dict:
    return {c: (v * scale if isinstance(v, int | float) else v) for c, v in BASE.items()} | FLAGS


def main() -> None:
    out = HERE / PERIOD
    shutil.rmtree(out, ignore_errors=True)
    (HERE / "registry.csv").write_text(registry_csv(), encoding="utf-8")
    registry = load_registry(HERE / "registry.csv")
    written = make_templates(registry, PERIOD, out)
    people = {"FM06": "170 私营", "FM08": "王小红", "FM09": "0571-88886666", "FM10": "2026-01-15", "FM11": "陈建国"}
    by_code = {p.name.split("_")[0]: p for p in written}
    for i, (code, _, street, _, scale) in enumerate(GRASSROOTS, start=1):
        values, cover, notes = grassroots_values(scale), dict(people), {}
        if i == 3:
            values["HY04"] = values["HY03"] + 5
        if i == 4:
            values["JF01"] = values["JF01"] + 1000
            values["JF21"] = values["JF21"] + 1000
        if i == 5:
            cover["FM08"] = None
        if i == 6:
            cover["FM03"] = next(s for s in STREETS if s != street)
        if i in MISTAKES:
            extra, cover_extra, notes = MISTAKES[i]
            values.update(extra)
            cover.update(cover_extra)
        target = out / STREETS[street] / by_code[code].name
        target.parent.mkdir(parents=True, exist_ok=True)
        by_code[code].rename(target)
        fill(target, values, cover, notes)
    benji = {c: 0 for c in BASE} | {c: "否" for c in FLAGS} | BENJI
    benji["JF01"], benji["JF10"] = 800000, 500000
    benji["JF21"] = benji["JF20"] + benji["JF01"] - benji["JF10"]
    for code in [CITY, DISTRICT, *STREETS]:
        target = out / "本级" / by_code[code].name
        target.parent.mkdir(parents=True, exist_ok=True)
        by_code[code].rename(target)
        fill(target, benji, people | {"FM06": "500 机关"}, {})


if __name__ == "__main__":
    main()
