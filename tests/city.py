"""A small city built by code for rollup tests: 市 → 区 → 街道 → 基层, with 本级 workbooks at every level.

Every unit's values are GOOD scaled by its own factor (so every rule holds); `expected` is computed here
in plain Python, independently of tongji, for every node: the sum over its subtree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbooks import GOOD, cover, make_workbook, uscc

BENJI_EXTRA = {"JH21": 40, "JH22": 12, "JH23": 3000, "JH24": 1}
FLAGS = {c: v for c, v in GOOD.items() if isinstance(v, str)}


@dataclass
class City:
    registry: Path
    folder: Path
    units: dict[str, dict] = field(default_factory=dict)  # code → registry row + "values" + "file"
    children: dict[str, list[str]] = field(default_factory=dict)

    def subtree(self, code: str) -> list[str]:
        out = [code]
        for c in self.children.get(code, []):
            out.extend(self.subtree(c))
        return out

    def write(self, code: str, path: Path, values: dict | None = None, notes: dict | None = None,
              **cover_over) -> Path:
        """A workbook for `code` with its proper cover; `values` replace the unit's own; `notes` fill 说明."""
        u = self.units[code]
        return make_workbook(path, values or u["values"], cover(
            code, FM01=u["单位名称"], FM03=u["上级代码"] or None, FM05=u["org"], FM07=u["area"], **cover_over),
            notes=notes)

    def expected(self, node: str) -> dict[str, float]:
        """Totals of `node` by plain addition: 是 counts 1 (a flag only in grassroots unions; a count of units
        answered 是/否, JH03–JH10, wherever it is typed), JH00 counts grassroots units."""
        from tongji.plugins import load_spec

        rows = load_spec().rows
        total: dict[str, float] = {}
        for code in self.subtree(node):
            unit = self.units[code]
            for k, v in unit["values"].items():
                if isinstance(v, str):
                    counts = rows[k].yes_no or unit["层级"] == "基层"
                    v = 1 if v == "是" and counts else 0
                total[k] = total.get(k, 0) + v
            total["JH00"] = total.get("JH00", 0) + (1 if unit["层级"] == "基层" else 0)
        return total


def values_for(k: int, benji: bool) -> dict:
    """GOOD scaled by k; JH01 is then k covered units, so 民主管理 (是/否 for one unit) counts k or 0 of them."""
    scaled = {c: v * k for c, v in GOOD.items() if not isinstance(v, str)}
    if benji:
        scaled |= {c: v * k for c, v in BENJI_EXTRA.items()}
    return scaled | ({c: k if v == "是" else 0 for c, v in FLAGS.items()} if k > 1 else FLAGS)


def build(root: Path, shape: list[list[int]], period: str = "2025", values=None) -> City:
    """shape[d][s] = number of grassroots units under 街道 s of 区 d.

    `values(i, benji)` gives unit i its values; by default GOOD scaled by a deterministic factor, and a
    互助保障给付金额 (BF20) of its own, so that no two units are copies of one another (copied-workbook)."""
    values = values or (lambda i, benji: values_for(1 + i % 7, benji) | {"BF20": GOOD["BF20"] * (1 + i % 7) + i})
    city = City(root / "名册.csv", root / "收到")
    rows = []

    def add(code, name, parent, level, org, area):
        city.units[code] = {"单位名称": name, "上级代码": parent, "层级": level, "area": area,
                            "values": values(len(city.units), level != "基层"), "org": org}
        city.children.setdefault(parent, []).append(code)
        rows.append(f"{code},{name},{parent},{level},{org},{area},正常")

    add("330100", "示例市总工会", "", "市", "9", "330100000000")
    for d, streets in enumerate(shape, start=1):
        dcode = f"3301{d:02d}"
        add(dcode, f"第{d}区总工会", "330100", "区", "9", f"{dcode}000000")
        for s, n in enumerate(streets, start=1):
            scode = f"{dcode}{s:03d}"
            add(scode, f"第{d}区第{s}街道总工会", dcode, "街道", "9", f"{scode}000")
            for g in range(1, n + 1):
                add(uscc(f"81{scode}M{g:05d}"), f"第{d}区{s}街道第{g}工会", scode, "基层", "1",
                    f"{scode}{g:03d}")
    root.mkdir(parents=True, exist_ok=True)
    city.registry.write_text("单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态\n" + "\n".join(rows) + "\n",
                             encoding="utf-8")
    for code, u in city.units.items():
        u["file"] = city.write(code, city.folder / (u["上级代码"] or "top") / f"{code}.xlsx", FM04=period)
    return city
