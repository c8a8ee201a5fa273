"""Last period's values, worked back from this period's so that they flow into it."""

from __future__ import annotations

import math

from tongji_samples.dice import Dice
from tongji_samples.tree import Unit
from tongji_samples.values import (
    FLAG_ODDS,
    LEVEL_SHARE,
    close_books,
    grassroots_income,
    months,
    other_spending,
    pair,
    up_the_tree,
    whole_yuan,
)


def past_values(dice: Dice, tree: list[Unit], now: dict, period: str, ratio: float) -> dict[str, dict[str, int]]:
    """Last period's values for every active unit, worked back from this period's so that they flow into it."""
    frac = months(period) / 12
    return up_the_tree(tree, lambda u: _past_grassroots(dice, u, now[u.code], frac, ratio),
                        lambda u, below, direct: _past_benji(dice, u, now[u.code], below, direct, frac, ratio))


def _past_grassroots(dice: Dice, unit: Unit, v: dict[str, int], frac: float, ratio: float) -> dict[str, int]:
    """A grassroots union a year earlier: a few percent fewer people mostly, the same 建会 mostly, money in step."""
    size = dice.between(0.93, 1.03)  # last year's head count relative to this year's

    def near(x: int, spread: float = 0.02) -> int:
        return round(x * size * dice.between(1 - spread, 1 + spread))

    hy01 = max(1, round(v["HY01"] * size))
    hy02 = min(hy01, near(v["HY02"]))
    hy03 = min(hy01, max(1, near(v["HY03"])))
    hy04 = min(hy02, hy03, near(v["HY04"]))
    hy06 = min(hy03, near(v["HY06"]))
    gig = {c: math.floor(v[c] * hy06 / v["HY06"]) if v["HY06"] else 0 for c in ("HY07", "HY08", "HY09", "HY10")}
    p = {"HY01": hy01, "HY02": hy02, "HY03": hy03, "HY04": hy04, "HY05": min(hy03, near(v["HY05"])), "HY06": hy06,
         **gig, "HY11": min(hy03, round(v["HY11"] * dice.between(0.5, 1.5))), "HY12": min(hy03, near(v["HY12"])),
         "HY13": int(hy01 >= 300) + hy01 // 2_000, "HY14": min(hy03, max(1, v["HY14"] - dice.int(0, 1)))}
    p |= _past_organising(dice, unit, v, p)
    p |= _past_assistance(dice, v, p, size, frac)
    p |= _past_funds(dice, unit, v, p, size, ratio)
    return p


def _past_organising(dice: Dice, unit: Unit, v: dict[str, int], p: dict[str, int]) -> dict[str, int]:
    """建会 a year earlier: a 联合 union covered a unit or two fewer; now and then a system came only this year."""
    hy01 = p["HY01"]
    jh01 = max(2, v["JH01"] - dice.int(0, 2)) if unit.org == "2" else v["JH01"]
    jh02 = min(jh01, v["JH02"]) if unit.org == "2" else int(hy01 > 25)
    # last period's template asked 是/否 of the union itself (version 2026.1): a unit that has a system now had it
    flags = {code: 1 if v[code] and not dice.chance(0.05) else 0 for code in FLAG_ODDS}
    jh11 = min(hy01, max(3, round(v["JH11"] * dice.between(0.9, 1.05)))) if flags["JH04"] and v["JH11"] else 0
    jh12 = min(jh11, round(jh11 * v["JH12"] / v["JH11"])) if jh11 else 0
    return {"JH01": jh01, "JH02": jh02, **flags, "JH11": jh11, "JH12": jh12}


def _past_assistance(dice: Dice, v: dict[str, int], p: dict[str, int], size: float, frac: float) -> dict[str, int]:
    """帮扶 a year earlier: this year's 困难职工 = last year's + 新建档 − 脱困, exactly."""
    bf01 = v["BF01"] - v["BF05"] + v["BF06"]
    cats = [int(x) for x in dice.rng.multinomial(bf01, [0.3, 0.3, 0.1, 0.3])]
    bf07 = round(bf01 * dice.cents(2_000, 8_000) * frac)
    bf08 = round(bf07 * dice.between(0.3, 0.7))
    bf09 = round((bf07 - bf08) * dice.between(0.0, 0.7))
    bf10 = round((bf07 - bf08 - bf09) * dice.between(0.0, 1.0))
    out = {"BF01": bf01, "BF02": cats[0], "BF03": cats[1], "BF04": cats[2],
           "BF05": int(dice.rng.binomial(bf01, 0.3)), "BF06": int(dice.rng.poisson(bf01 * 0.2)),
           "BF07": bf07, "BF08": bf08, "BF09": bf09, "BF10": bf10}

    def again(count: str, amount: str, floor: int = 1) -> dict[str, int]:
        """A 人次/金额 pair a year earlier: held again wherever it is held now, on a similar scale."""
        if not v[count]:
            return {count: 0, amount: 0}
        n = max(floor, round(v[count] * size * dice.between(0.9, 1.05)))
        return {count: n, amount: max(100, round(v[amount] * n / v[count] * dice.between(0.9, 1.05)))}

    out |= again("BF11", "BF12", max(1, bf01))
    out |= pair("BF13", "BF14", dice.int(1, 3) if dice.chance(0.12) else 0,
                 lambda: dice.pick([1000, 2000, 3000, 5000]) * 100)
    out |= again("BF15", "BF16")
    out |= pair("BF17", "BF18", dice.int(1, 3) if dice.chance(0.08) else 0, lambda: dice.cents(2_000, 20_000))
    bf19 = min(p["HY01"], round(v["BF19"] * size * dice.between(0.95, 1.02)))
    out |= {"BF19": bf19, "BF20": round(v["BF20"] * dice.between(0.7, 1.3)) if bf19 else 0}
    return out


def _past_funds(dice: Dice, unit: Unit, v: dict[str, int], p: dict[str, int], size: float,
                ratio: float) -> dict[str, int]:
    """经费 a year earlier, closing on this year's 年初结余: JF21 = this year's JF20, every identity exact."""
    jf22 = whole_yuan(round(v["JF22"] * p["HY01"] / v["HY01"] * dice.between(0.95, 1.0)))
    income = grassroots_income(dice, unit, p, jf22, ratio)
    income["JF09"] = round(v["JF20"] * dice.between(0.001, 0.004)) if dice.chance(0.6) else 0
    jf01 = sum(income.values())
    room = jf01 + v["JF20"]
    jf13 = min(p["BF08"], round(room * 0.3)) if p["BF07"] else 0
    jf14 = min(round(p["BF12"] * dice.between(0.5, 1.0)), round(room * 0.2)) if p["BF11"] else 0
    jf12 = jf13 + jf14 + round(jf01 * dice.between(0.03, 0.12))
    # whatever was not spent is this year's opening balance; last year opened with a little at least
    spend = max(round(jf01 * dice.between(0.75, 1.1)), jf12, jf01 - v["JF20"] + round(jf01 * dice.between(0.02, 0.1)))
    rest = other_spending(dice, spend - jf12)
    # last period's form (template 2026.1) had no 事业支出 line, JF23: what a service unit spent stayed in JF11
    out = {"JF01": jf01, **income, "JF11": rest[0], "JF12": jf12, "JF13": jf13, "JF14": jf14, "JF15": rest[1],
           "JF16": rest[2], "JF17": 0, "JF18": 0, "JF19": rest[3], "JF20": v["JF20"] - jf01 + spend, "JF22": jf22,
           "JF23": 0}
    return close_books(out)


def _past_benji(dice: Dice, unit: Unit, v: dict[str, int], below: list[dict], direct: list[dict], frac: float,
                ratio: float) -> dict[str, int]:
    """A 总工会 office a year earlier: its denominators a little lower, its books closing on this year's 年初结余."""
    p = {"HY13": v["HY13"], **_past_denominators(dice, unit, v, below)}
    payroll = sum(b["JF22"] for b in below)
    jf17 = sum(d["JF04"] for d in direct)
    jf18 = round(v["JF18"] * dice.between(0.92, 1.0))
    scale = {"街道": 1, "区": 4, "市": 15}[unit.level]
    income = {
        "JF03": round(payroll * 0.02 * (1 - ratio) * LEVEL_SHARE[unit.level] * dice.between(0.95, 1.05)),
        "JF05": dice.round_yuan(20_000 * scale, 100_000 * scale, 1_000) if v["JF05"] or dice.chance(0.2) else 0,
        "JF06": dice.round_yuan(30_000, 150_000, 1_000) if v["JF06"] else 0,
    }
    need = jf17 + jf18 - income["JF03"] - income["JF05"] - income["JF06"]
    granted = round(dice.round_yuan(50_000 * scale, 300_000 * scale, 1_000) * frac)
    income["JF04"] = max(granted, math.ceil(need * dice.between(1.1, 1.3) / 100_000) * 100_000)
    income["JF08"] = round(income["JF03"] * dice.between(-0.01, 0.03)) if v["JF08"] else 0
    income["JF09"] = round(v["JF20"] * dice.between(0.001, 0.005)) if dice.chance(0.8) else 0
    jf01 = sum(income.values())
    own = round(max(0, jf01 - jf17 - jf18) * dice.between(0.6, 1.0))
    own = max(own, jf01 - jf17 - jf18 - v["JF20"] + round(jf01 * dice.between(0.05, 0.2)))
    rest = dice.split(own, [dice.between(0.35, 0.5), dice.between(0.1, 0.2), dice.between(0.2, 0.35),
                            dice.between(0.05, 0.15) if v["JF16"] else 0.0, dice.between(0, 0.05)])
    p |= {"JF01": jf01, "JF02": 0, **income, "JF11": rest[0], "JF12": rest[1], "JF13": 0, "JF14": 0,
          "JF15": rest[2], "JF16": rest[3], "JF17": jf17, "JF18": jf18, "JF19": rest[4],
          "JF20": v["JF20"] - jf01 + jf17 + jf18 + own, "JF22": round(v["JF22"] * dice.between(0.94, 1.0))}
    return close_books(p)


def _past_denominators(dice: Dice, unit: Unit, v: dict[str, int], below: list[dict]) -> dict[str, int]:
    """JH21–JH24 a year earlier: a little lower, still covering last year's units and people."""
    def less(x: int) -> int:
        return round(x * dice.between(0.95, 1.0))

    if unit.level == "街道":
        jh21 = max(math.ceil(max(2 * len(below), sum(b["JH01"] for b in below)) * 1.1), less(v["JH21"]))
        jh22 = min(jh21, max(sum(b["JH02"] for b in below), less(v["JH22"])))
        jh23 = max(math.ceil(sum(b["HY01"] for b in below) * 1.1), less(v["JH23"]))
        return {"JH21": jh21, "JH22": jh22, "JH23": jh23, "JH24": int(dice.rng.binomial(len(below), 0.06))}
    jh21 = less(v["JH21"])
    return {"JH21": jh21, "JH22": min(jh21, less(v["JH22"])), "JH23": less(v["JH23"]), "JH24": dice.int(0, 2)}
