"""The registry tree of a sample city: 市, 区, 街道 and grassroots unions, their names and codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tongji.definitions.codes import USCC_CHARS, uscc_check_char
from tongji.definitions.registry import Registry, load_registry
from tongji.writing.files import write_bytes
from tongji_samples.dice import Dice
from tongji_samples.names import DISTRICTS, HOSPITALS, KINDS, NUMERALS, STREETS, Kind

CITY_CODE, CITY_NAME, CITY_AREA = "330100", "示例市总工会", "330100000000"
REGISTRY_COLUMNS = "单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态"
MOST_DISTRICTS, MOST_STREETS = 99, 999  # 区 in a 市, 街道 in a 区: the two and three digits of their area codes


@dataclass
class Unit:
    code: str
    name: str
    parent: str
    level: str
    org: str
    area: str
    state: str = "正常"
    stem: str = ""  # 北山 for 北山街道总工会, 西湖 for 西湖区总工会
    kind: Kind | None = None
    large: bool = False
    nature: str = "500"  # 单位性质 code: a 总工会 office is 500 机关


def build_tree(dice: Dice, units: int, districts: int, streets: int) -> list[Unit]:
    """Every unit in registry order: 市, 区, 街道, then grassroots (and a couple revoked) 街道 by 街道."""
    city = Unit(CITY_CODE, CITY_NAME, "", "市", "9", CITY_AREA)
    pool = dice.shuffled(DISTRICTS)
    taken = {c for c, _ in DISTRICTS}
    spare = [f"{i:02d}" for i in range(1, 100) if f"{i:02d}" not in taken]
    chosen = pool[:districts] + [(spare[i], f"第{i + 1}") for i in range(max(0, districts - len(pool)))]
    dist = sorted((Unit(f"3301{c}", f"{n}区总工会", CITY_CODE, "区", "9", f"3301{c}000000", stem=n)
                   for c, n in chosen), key=lambda u: u.code)
    stems = dice.shuffled(STREETS)
    stems += [f"第{i + 1}" for i in range(max(0, streets - len(stems)))]
    per_district = _spread(dice, streets, districts, most=MOST_STREETS)
    street_units, k = [], 0
    for d, n in zip(dist, per_district, strict=True):
        for j in range(1, n + 1):
            code = f"{d.code}{j:03d}"
            street_units.append(Unit(code, f"{stems[k]}街道总工会", d.code, "街道", "9", f"{code}000", stem=stems[k]))
            k += 1
    return [city, *dist, *street_units, *_grassroots(dice, units, street_units, dist)]


def _spread(dice: Dice, total: int, bins: int, most: int | None = None) -> list[int]:
    """`total` items into `bins`, each at least one when there are enough, unevenly as in real places; with
    `most`, no bin holds more (what one would take beyond it goes to the first with room)."""
    base = 1 if total >= bins else 0
    weights = dice.rng.dirichlet(np.full(bins, 4.0))
    extra = dice.rng.multinomial(total - base * bins, weights)
    counts = [base + int(e) for e in extra]
    if most is None:
        return counts
    over = sum(max(0, c - most) for c in counts)
    counts = [min(c, most) for c in counts]
    for i, c in enumerate(counts):
        counts[i], over = c + min(over, most - c), over - min(over, most - c)
    return counts


def _grassroots(dice: Dice, units: int, streets: list[Unit], dist: list[Unit]) -> list[Unit]:
    revoked = 1 + (units >= 60) + units // 400
    counts = _spread(dice, units + revoked, len(streets))
    large = set(dice.rng.choice(units, size=max(1, round(units * 0.04)), replace=False).tolist())
    district = {d.code: d for d in dist}
    names: set[str] = set()
    codes: set[str] = set()
    out, i = [], 0
    for street, n in zip(streets, counts, strict=True):
        for _ in range(n):
            big = i in large
            kind = _pick_kind(dice, big)
            name = unit_name(dice, kind, big, street.stem, district[street.parent].stem, names)
            code = _uscc(dice, street.parent, codes)
            area = f"{street.code}{dice.int(1, 40):03d}"  # the 社区 or 村 inside the 街道
            out.append(Unit(code, name, street.code, "基层", kind.org, area, kind=kind, large=big,
                             nature=dice.pick(kind.nature)))
            i += 1
    small = [j for j, u in enumerate(out) if not u.large]  # a big employer closing would be news, not a sample
    for j in dice.rng.choice(len(small), size=revoked, replace=False).tolist():  # len(small) >= revoked
        out[small[j]].state = "撤销"
    return out


def _pick_kind(dice: Dice, large: bool) -> Kind:
    kinds = [k for k in KINDS if k.large] if large else list(KINDS)
    weights = np.array([k.weight for k in kinds])
    return kinds[int(dice.rng.choice(len(kinds), p=weights / weights.sum()))]


def unit_name(dice: Dice, kind: Kind, large: bool, stem: str, district: str, taken: set[str]) -> str:
    """A plausible name from parts, unique in the city (a clash is drawn again, then numbered)."""
    templates = kind.large if large else kind.names
    trades = HOSPITALS if large and kind.key == "医疗" else kind.trades
    for _ in range(40):
        name = dice.pick(templates).format(brand=dice.pick(kind.brands), trade=dice.pick(trades), stem=stem,
                                           district=district, n=dice.pick(NUMERALS))
        if name not in taken:
            break
    # numbered from the plain name (X（二）工会, X（三）工会, …): appending number after number, as this once did,
    # made names too long for a file name in a city of 10,000 units, where hundreds share a few 国企 names
    base, k = name.removesuffix("工会"), 2
    while name in taken:
        name = f"{base}（{_numeral(k)}）工会"
        k += 1
    taken.add(name)
    return name


def _numeral(k: int) -> str:
    """2 → 二, 12 → 十二, 35 → 三十五; digits from 100 on."""
    if k <= 10:
        return NUMERALS[k - 1]
    if k >= 100:
        return str(k)
    tens, ones = divmod(k, 10)
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


def _uscc(dice: Dice, district: str, taken: set[str]) -> str:
    """81 (工会, 社团法人) + the 区's 6-digit code + a 9-character organisation code + check character."""
    letters = USCC_CHARS[10:]
    while True:
        body = f"81{district}M{dice.pick(letters)}{dice.int(0, 9_999_999):07d}"
        code = body + uscc_check_char(body)
        if code not in taken:
            taken.add(code)
            return code


def write_registry(path: Path, tree: list[Unit]) -> Registry:
    rows = [REGISTRY_COLUMNS] + [f"{u.code},{u.name},{u.parent},{u.level},{u.org},{u.area},{u.state}" for u in tree]
    # utf-8 with BOM: Excel on Windows opens it with the Chinese intact
    write_bytes(path, ("\n".join(rows) + "\n").encode("utf-8-sig"))
    return load_registry(path)
