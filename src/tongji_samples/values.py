"""This period's values of every unit: people, 建会, 帮扶 and 经费 (in 分), every identity exact."""

from __future__ import annotations

import math
from collections.abc import Callable

from tongji_samples.dice import Dice
from tongji_samples.names import Kind
from tongji_samples.tree import Unit

# Payrolls of big employers are reported in whole 元; it also keeps 9-digit amounts clear of float noise
# (a value such as 299840834.72 reads back as 299840834.720000029 and draws a too-many-decimals notice).
WHOLE_YUAN = 10_000_000 * 100
LEVEL_SHARE = {"街道": 0.25, "区": 0.30, "市": 0.25}  # each level's part of the 2% not kept by 基层


def draw_values(dice: Dice, tree: list[Unit], period: str, ratio: float) -> dict[str, dict[str, int]]:
    """unit code → indicator → int (people, units, 0/1 flags, money in 分), for every active unit."""
    frac = months(period) / 12  # 经费 and 帮扶 money is 本年累计
    return up_the_tree(tree, lambda u: _grassroots_values(dice, u, frac, ratio),
                        lambda u, below, direct: _benji_values(dice, u, below, direct, frac, ratio))


def up_the_tree(tree: list[Unit], grassroots: Callable, benji: Callable) -> dict[str, dict[str, int]]:
    """Values for every active unit: grassroots units first, then each 街道, 区 and 市 from the values beneath it
    (`below`: every grassroots unit of its subtree; `direct`: its children)."""
    active = [u for u in tree if u.state != "撤销"]
    values = {u.code: grassroots(u) for u in active if u.level == "基层"}
    leaves = set(values)
    children: dict[str, list[str]] = {}
    for u in active:
        children.setdefault(u.parent, []).append(u.code)
    for level in ("街道", "区", "市"):
        for u in (u for u in active if u.level == level):
            below = [values[c] for c in _subtree(u.code, children) if c in leaves]
            direct = [values[c] for c in children.get(u.code, [])]
            values[u.code] = benji(u, below, direct)
    return values


def _subtree(code: str, children: dict[str, list[str]]) -> list[str]:
    out, stack = [], [code]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(children.get(node, []))
    return out


def months(period: str) -> int:
    if "Q" in period:
        return 3 * int(period[-1])
    if "-" in period:
        return int(period[-2:])
    return 12


def _grassroots_values(dice: Dice, unit: Unit, frac: float, ratio: float) -> dict[str, int]:
    v = _members(dice, unit, unit.kind)
    v |= _organising(dice, unit.kind, v)
    v |= _assistance(dice, v, frac)
    v |= _funds(dice, unit, v, frac, ratio)
    return v


def _headcount(dice: Dice, unit: Unit, kind: Kind) -> tuple[int, int]:
    """职工人数 and 覆盖单位数: skewed, many small units, a few big employers of 1,000–20,000."""
    if unit.large:
        return min(20_000, max(1_000, round(dice.lognormal(2_500, 0.7)))), 1
    if kind.org == "2":  # a 联合基层工会 covers several small workplaces
        covered = dice.int(2, 30)
        return sum(max(3, round(dice.lognormal(*kind.size))) for _ in range(covered)), covered
    return min(900, max(8, round(dice.lognormal(*kind.size)))), 1


def _members(dice: Dice, unit: Unit, kind: Kind) -> dict[str, int]:
    hy01, jh01 = _headcount(dice, unit, kind)
    female = dice.between(*kind.female)
    hy02 = min(math.floor(hy01 * 0.6), max(math.ceil(hy01 * 0.3), round(hy01 * female)))
    roll = dice.rng.random()
    rate = dice.between(0.80, 0.98) if roll < 0.88 else (1.0 if roll < 0.93 else dice.between(0.65, 0.80))
    hy03 = max(1, min(hy01, round(hy01 * rate)))
    hy04 = min(hy02, hy03, round(hy03 * female * dice.between(0.92, 1.02)))
    hy06 = round(hy03 * dice.between(*kind.gig))
    gig = dice.split(math.floor(hy06 * dice.between(0.6, 1.0)), list(dice.rng.dirichlet([1.0, 2.0, 3.0, 3.0])))
    staff = int(hy01 >= 300) + hy01 // 2_000
    return {
        "HY01": hy01, "HY02": hy02, "HY03": hy03, "HY04": hy04,
        "HY05": round(hy03 * dice.between(*kind.migrant)), "HY06": hy06,
        "HY07": gig[0], "HY08": gig[1], "HY09": gig[2], "HY10": gig[3],
        "HY11": round(hy03 * dice.between(0.0, 0.12)), "HY12": round(hy03 * dice.between(0.85, 1.0)),
        "HY13": staff, "HY14": min(hy03, max(1, round(hy01 / 60) + dice.int(0, 3))), "JH01": jh01,
    }


FLAG_ODDS = {  # 建会 flags: (chance in a unit under 100 people, chance at 100 or more)
    "JH03": (0.6, 0.95), "JH04": (0.7, 0.95), "JH05": (0.7, 0.95), "JH06": (0.75, 0.9), "JH07": (0.55, 0.85),
    "JH08": (0.35, 0.7), "JH09": (0.8, 0.95), "JH10": (0.04, 0.15),
}


def _organising(dice: Dice, kind: Kind, v: dict[str, int]) -> dict[str, int]:
    hy01, jh01 = v["HY01"], v["JH01"]
    jh02 = int(dice.rng.binomial(jh01, 0.15)) if kind.org == "2" else int(hy01 > 25)
    flags = {code: int(dice.chance(odds[hy01 >= 100])) for code, odds in FLAG_ODDS.items()}
    if flags["JH05"] and not flags["JH04"] and dice.chance(0.7):
        flags["JH05"] = 0  # 厂务公开 mostly goes with a 职代会
    jh11 = min(hy01, max(3, round(3 * math.sqrt(hy01) * dice.between(0.8, 1.2)))) if flags["JH04"] else 0
    jh12 = min(jh11, round(jh11 * v["HY02"] / hy01 * dice.between(0.85, 1.1)))
    return {"JH02": jh02, **covered_units(dice.later, flags, jh01), "JH11": jh11, "JH12": jh12}


def covered_units(dice: Dice, flags: dict[str, int], jh01: int) -> dict[str, int]:
    """民主管理 as counts of covered units: a union covering one unit has 0 or 1; a 联合 union where the system
    exists has it in some of its units (dice: the later stream, see Dice.later)."""
    if jh01 <= 1:
        return flags
    return {code: dice.int(max(1, jh01 // 4), jh01) if flag else 0 for code, flag in flags.items()}


def _assistance(dice: Dice, members: dict[str, int], frac: float) -> dict[str, int]:
    """帮扶: categories within the households, both halves of every 人次/金额 pair or neither."""
    hy01, hy03 = members["HY01"], members["HY03"]
    bf01 = int(dice.rng.poisson(hy01 * dice.between(0.002, 0.01)))
    cats = [int(x) for x in dice.rng.multinomial(bf01, [0.3, 0.3, 0.1, 0.3])]
    bf07 = round(bf01 * dice.cents(2_000, 8_000) * frac)
    bf08 = round(bf07 * dice.between(0.3, 0.7))
    bf09 = round((bf07 - bf08) * dice.between(0.0, 0.7))
    bf10 = round((bf07 - bf08 - bf09) * dice.between(0.0, 1.0))
    v = {"BF01": bf01, "BF02": cats[0], "BF03": cats[1], "BF04": cats[2],
         "BF05": int(dice.rng.binomial(bf01, 0.3)), "BF06": int(dice.rng.poisson(bf01 * 0.2)),
         "BF07": bf07, "BF08": bf08, "BF09": bf09, "BF10": bf10}
    visits = bf01 + (int(dice.rng.binomial(hy01, dice.between(0.01, 0.08))) if dice.chance(0.55) else 0)
    v |= pair("BF11", "BF12", visits, lambda: dice.pick([200, 300, 500, 800, 1000]) * 100 * frac)
    v |= pair("BF13", "BF14", dice.int(1, 3) if dice.chance(0.12) else 0,
               lambda: dice.pick([1000, 2000, 3000, 5000]) * 100)
    v |= pair("BF15", "BF16", max(1, round(hy01 * dice.between(0.3, 1.0))) if dice.chance(0.45) else 0,
               lambda: dice.cents(30, 80))
    v |= pair("BF17", "BF18", dice.int(1, 3) if dice.chance(0.08) else 0, lambda: dice.cents(2_000, 20_000))
    bf19 = min(hy01, round(hy03 * dice.between(0.5, 1.0))) if dice.chance(0.6) else 0
    v |= {"BF19": bf19, "BF20": round(bf19 * dice.cents(5, 60) * frac) if bf19 and dice.chance(0.4) else 0}
    return v


def pair(count: str, amount: str, n: int, each: Callable[[], float]) -> dict[str, int]:
    """人次 and 金额 together: the amount is positive exactly when there were people."""
    return {count: n, amount: max(100, round(n * each())) if n else 0}


def _funds(dice: Dice, unit: Unit, v: dict[str, int], frac: float, ratio: float) -> dict[str, int]:
    """经费 in 分: 拨缴 from the payroll, spending within income and balance, every identity exact."""
    hy01 = v["HY01"]
    jf22 = whole_yuan(round(hy01 * dice.between(*unit.kind.wage) * 100 * frac))
    income = grassroots_income(dice, unit, v, jf22, ratio)
    jf20 = round((income["JF02"] + income["JF03"]) / frac * dice.between(0.1, 0.9))
    income["JF09"] = round(jf20 * dice.between(0.001, 0.004)) if dice.chance(0.6) else 0
    jf01 = sum(income.values())
    room = jf01 + jf20
    jf13 = min(v["BF08"], round(room * 0.3)) if v["BF07"] else 0
    jf14 = min(round(v["BF12"] * dice.between(0.5, 1.0)), round(room * 0.2)) if v["BF11"] else 0
    jf12 = jf13 + jf14 + round(jf01 * dice.between(0.03, 0.12))
    spend = min(room, max(round(jf01 * dice.between(0.75, 1.1)), jf12))
    rest = other_spending(dice, spend - jf12)
    jf23 = service_spending(income["JF07"], rest)
    out = {"JF01": jf01, **income, "JF11": rest[0], "JF12": jf12, "JF13": jf13, "JF14": jf14, "JF15": rest[1],
           "JF16": rest[2], "JF17": 0, "JF18": 0, "JF19": rest[3], "JF20": jf20, "JF22": jf22, "JF23": jf23}
    return close_books(out)


def service_spending(jf07: int, rest: list[int]) -> int:
    """JF23 事业支出: a union that earns 事业收入 (JF07) from the service unit it runs spends most of it there;
    it comes out of 职工活动 (rest[0]) so the total spent stays the same. No dice are thrown: the lines of v2
    leave every other draw, and so the seeded mistakes, where they were."""
    jf23 = min(rest[0], round(jf07 * 0.8))
    rest[0] -= jf23
    return jf23


def other_spending(dice: Dice, amount: int) -> list[int]:
    """What a grassroots union spends beyond 维权: JF11 职工活动, JF15 业务, JF16 资本性 (now and then), JF19 其他."""
    return dice.split(amount, [dice.between(0.45, 0.65), dice.between(0.15, 0.3),
                               dice.between(0.02, 0.1) if dice.chance(0.15) else 0.0, dice.between(0, 0.05)])


def whole_yuan(amount: int) -> int:
    return round(amount, -2) if amount >= WHOLE_YUAN else amount


def grassroots_income(dice: Dice, unit: Unit, v: dict[str, int], jf22: int, ratio: float) -> dict[str, int]:
    """JF02–JF08 of a grassroots union in 分: 会费 and 拨缴 from the payroll, grants now and then."""
    kind, hy01, hy03 = unit.kind, v["HY01"], v["HY03"]
    income = {
        "JF02": round(jf22 * hy03 / hy01 * 0.005 * dice.between(0.7, 1.05)),
        "JF03": round(jf22 * 0.02 * ratio * dice.between(0.9, 1.1)),
        "JF04": dice.round_yuan(2_000, 20_000, 1_000) if dice.chance(0.6 if hy01 < 50 else 0.2) else 0,
        "JF05": dice.round_yuan(5_000, 30_000, 5_000) if dice.chance(0.03) else 0,
        # enterprises often top up their union (行政补助)
        "JF06": dice.round_yuan(hy01 * 100, hy01 * 400, 100) if unit.nature in ("170", "120", "200", "300")
        and dice.chance(0.35) else 0,
        "JF07": dice.cents(1_000, 20_000) if kind.key == "民非" and dice.chance(0.2) else 0,
    }
    income["JF08"] = round(income["JF03"] * dice.between(-0.005, 0.02)) if hy01 >= 300 and dice.chance(0.3) else 0
    return income


SPENDING = ("JF11", "JF12", "JF15", "JF16", "JF17", "JF18", "JF19", "JF23")


def close_books(v: dict[str, int]) -> dict[str, int]:
    """JF10 and JF21 from the lines: a 本级 office also moves money to and from 投资 and 后备金 (JF24–JF26)."""
    for code in (*SPENDING, "JF24", "JF25", "JF26"):
        v.setdefault(code, 0)
    v["JF10"] = sum(v[c] for c in SPENDING)
    v["JF21"] = v["JF20"] + v["JF01"] - v["JF10"] - v["JF24"] + v["JF25"] - v["JF26"]
    return v


def _benji_values(dice: Dice, unit: Unit, below: list[dict], direct: list[dict], frac: float,
                  ratio: float) -> dict[str, int]:
    """A 总工会 office: its staff, the jurisdiction's denominators, its own funds; no grassroots lines."""
    staff = {"街道": (2, 5), "区": (8, 20), "市": (30, 60)}[unit.level]
    v = {"HY13": dice.int(*staff)}
    v |= _denominators(dice, unit, below)
    payroll = sum(b["JF22"] for b in below)
    jf17 = sum(d["JF04"] for d in direct)  # what this office granted its children is their 上级补助收入
    jf18 = round(v["HY13"] * dice.between(120_000, 200_000) * 100 * frac)
    scale = {"街道": 1, "区": 4, "市": 15}[unit.level]
    income = {
        "JF03": round(payroll * 0.02 * (1 - ratio) * LEVEL_SHARE[unit.level] * dice.between(0.95, 1.05)),
        "JF05": dice.round_yuan(20_000 * scale, 100_000 * scale, 1_000) if dice.chance(0.4) else 0,
        "JF06": dice.round_yuan(30_000, 150_000, 1_000) if unit.level == "街道" and dice.chance(0.6) else 0,
    }
    # 上级补助 keeps the office able to pay its grants and its staff
    need = jf17 + jf18 - income["JF03"] - income["JF05"] - income["JF06"]
    granted = round(dice.round_yuan(50_000 * scale, 300_000 * scale, 1_000) * frac)
    income["JF04"] = max(granted, math.ceil(need * dice.between(1.1, 1.3) / 100_000) * 100_000)
    jf20 = round(sum(income.values()) * dice.between(0.2, 0.8))
    income["JF08"] = round(income["JF03"] * dice.between(-0.01, 0.03)) if unit.level == "市" and dice.chance(0.5) else 0
    income["JF09"] = round(jf20 * dice.between(0.001, 0.005)) if dice.chance(0.8) else 0
    jf01 = sum(income.values())
    rest = dice.split(round(max(0, jf01 - jf17 - jf18) * dice.between(0.6, 1.0)),
                      [dice.between(0.35, 0.5), dice.between(0.1, 0.2), dice.between(0.2, 0.35),
                       dice.between(0.05, 0.15) if dice.chance(0.3) else 0.0, dice.between(0, 0.05)])
    v |= {"JF01": jf01, "JF02": 0, **income, "JF11": rest[0], "JF12": rest[1], "JF13": 0, "JF14": 0,
          "JF15": rest[2], "JF16": rest[3], "JF17": jf17, "JF18": jf18, "JF19": rest[4], "JF20": jf20,
          "JF22": round(v["HY13"] * dice.between(130_000, 180_000) * 100 * frac)}
    v |= _reserves(unit, jf20)
    return close_books(v)


def _reserves(unit: Unit, jf20: int) -> dict[str, int]:
    """JF24–JF26 of an office: the 市 sets 后备金 aside from its opening balance and invests a tenth of it;
    a 区 sets aside less; a 街道 office moves none. No dice, as in service_spending."""
    if unit.level == "街道":
        return {}
    if unit.level == "市":
        return {"JF24": round(jf20 * 0.1, -6), "JF26": round(jf20 * 0.03, -2)}
    return {"JF26": round(jf20 * 0.02, -2)}


def _denominators(dice: Dice, unit: Unit, below: list[dict]) -> dict[str, int]:
    """JH21–JH24. A 街道 reports its whole area; a 区 or the 市 only what no 街道 covers (直属), so that
    the totals of every summary stay the jurisdiction's: 法人单位 ≥ 2 × 基层工会, 职工 ≥ their 职工."""
    if unit.level == "街道":
        n = len(below)
        jh21 = math.ceil(max(2 * n, sum(b["JH01"] for b in below)) * dice.between(1.2, 2.0))
        jh22 = min(jh21, max(math.ceil(sum(b["JH02"] for b in below) * dice.between(1.1, 1.5)),
                             round(jh21 * dice.between(0.2, 0.35))))
        jh23 = math.ceil(sum(b["HY01"] for b in below) * dice.between(1.15, 1.6))
        return {"JH21": jh21, "JH22": jh22, "JH23": jh23, "JH24": int(dice.rng.binomial(n, 0.06))}
    jh21 = dice.int(5, 30) * (3 if unit.level == "市" else 1)
    return {"JH21": jh21, "JH22": round(jh21 * dice.between(0.2, 0.4)),
            "JH23": round(jh21 * dice.between(50, 300)), "JH24": dice.int(0, 2)}
