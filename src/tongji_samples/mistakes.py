"""Seeded mistakes, each caught by its rule, and the answer key that names them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tongji.definitions import Spec
from tongji.writing.files import write_bytes
from tongji_samples.city import City
from tongji_samples.dice import Dice
from tongji_samples.jobs import Job, typed_value
from tongji_samples.tree import Unit

DUPLICATE_SUFFIX = "_重复"
ANSWERS = "埋设问题.csv"  # the answer key beside the registry, for people trying the validator
MISTAKE_KINDS = ("jf01", "hy04", "text", "nan", "required", "parent", "missing", "duplicate")


def seed_mistakes(dice: Dice, jobs: list[Job], tree: list[Unit], values: dict, share: float, city: City) -> None:
    """With chance `share` a grassroots unit makes one mistake; kinds take turns so every kind shows up."""
    order = dice.shuffled(list(MISTAKE_KINDS))
    units = {u.code: u for u in tree}
    streets = [u for u in tree if u.level == "街道"]
    n = 0
    gone = set()  # jobs of missing units, dropped after the loop: list.remove each time is quadratic
    for job in jobs:
        unit = units[job.unit]
        if unit.level != "基层" or not dice.chance(share):
            continue
        kind = order[n % len(order)]
        n += 1
        if kind == "missing":
            gone.add(id(job))
            city.missing.append(job.unit)
        elif kind == "duplicate":
            later = dt.date.fromisoformat(job.cover["FM10"]) + dt.timedelta(days=dice.int(1, 6))
            dup = job.name.removesuffix(".xlsx") + DUPLICATE_SUFFIX + ".xlsx"
            job.copies.append((dup, {"FM10": later.isoformat()}))
            city.seeded[job.name] = city.seeded[dup] = ["duplicate-unit"]
        elif kind == "parent":
            city.seeded[job.name] = _wrong_parent(dice, job, unit, streets, city)
        else:
            city.seeded[job.name] = MISTAKES[kind](dice, job, values[job.unit])
    jobs[:] = [job for job in jobs if id(job) not in gone]


def _jf01_off(dice: Dice, job: Job, v: dict[str, int]) -> list[str]:
    """收入合计 off by 100 元, and the closing balance worked out from the wrong total."""
    delta = dice.pick([100_00, -100_00])
    job.cells["JF01"] = (v["JF01"] + delta) / 100
    job.cells["JF21"] = (v["JF21"] + delta) / 100
    return ["jf01-sum"]


def _female_over_members(dice: Dice, job: Job, v: dict[str, int]) -> list[str]:
    hy04 = v["HY03"] + dice.int(1, max(1, v["HY03"] // 10))
    job.cells["HY04"] = hy04
    return ["hy04-le-hy03"] + (["hy04-le-hy02"] if hy04 > v["HY02"] else [])


def _text_number(dice: Dice, job: Job, v: dict[str, int]) -> list[str]:
    """A number typed as text with thousands separators: read as the number, with a notice."""
    counts = [c for c in ("HY01", "HY03", "HY02", "BF15", "BF19") if v[c] >= 1_000]
    if counts and dice.chance(0.5):
        code = dice.pick(counts)
        job.cells[code] = f"{v[code]:,}"
    else:
        code = dice.pick(["JF22", "JF03", "JF11"] if v["JF11"] >= 100_000 else ["JF22", "JF03"])
        job.cells[code] = f"{v[code] // 100:,}.{v[code] % 100:02d}"
    return ["text-number"]


def _not_a_number(dice: Dice, job: Job, v: dict[str, int]) -> list[str]:
    """职工人数 given as an estimate ("约300"): unreadable, so it is an error and no rule uses it."""
    rough = int(float(format(v["HY01"], ".1g")))
    job.cells["HY01"] = f"约{rough}"
    return ["not-a-number"]


def _required_empty(dice: Dice, job: Job, v: dict[str, int]) -> list[str]:
    job.cover[dice.pick(["FM08", "FM10"])] = None
    return ["required"]


def _wrong_parent(dice: Dice, job: Job, unit: Unit, streets: list[Unit], city: City) -> list[str]:
    """The unit names another 街道 as its parent (the 区 when the city has one 街道) and sends it there."""
    others = [s for s in streets if s.code != unit.parent]
    near = [s for s in others if s.parent == unit.parent[:6]] or others
    if near:
        wrong = dice.pick(near)
        job.cover["FM03"], job.folder = wrong.code, city.folder / wrong.name
    else:
        job.cover["FM03"] = unit.parent[:6]
    return ["wrong-parent"]


MISTAKES = {"jf01": _jf01_off, "hy04": _female_over_members, "text": _text_number, "nan": _not_a_number,
            "required": _required_empty}


def seed_cross_period(dice: Dice, jobs: list[Job], tree: list[Unit], values: dict, city: City) -> None:
    """One clean grassroots unit copies its 年初结余 from last year's 快报, not from the final accounts: JF20 and
    JF21 are off by the same round amount, so the workbook adds up and only last year's summary shows it."""
    units = {u.code: u for u in tree}
    clean = [j for j in jobs if units[j.unit].level == "基层" and j.name not in city.seeded]
    if not clean:
        return
    job = dice.pick(clean)
    v = values[job.unit]
    delta = dice.round_yuan(500, 5_000, 100)
    delta = -delta if v["JF20"] > 2 * delta and dice.chance(0.5) else delta
    job.cells["JF20"] = (v["JF20"] + delta) / 100
    job.cells["JF21"] = (v["JF21"] + delta) / 100
    city.seeded_rollup[job.name] = ["jf20-previous"]


# the count cells a union estimating its people would round; the others (units covered, staff) stay exact
HEAPED_CODES = ("HY01", "HY02", "HY03", "HY04", "HY05", "HY06", "HY11", "HY12", "JH11", "JH12", "BF11", "BF15",
                "BF19")


def seed_odd_units(dice: Dice, jobs: list[Job], tree: list[Unit], values: dict, before: dict | None, city: City,
                   spec: Spec) -> None:
    """Clean units that only a look across the batch finds (domain.md §10): one sends a copy of a neighbour's
    workbook under its own cover (copied-workbook, on both), one gives its head counts rounded down to hundreds
    (heaped-figures), one types its 帮扶资金总额 in 分, not 元 (peer-outlier-far). Drawn after last period's
    values (`before`) and the cross-period mistake, so those stay as they were; last year each was typed right."""
    units = {u.code: u for u in tree}
    taken = set(city.seeded) | set(city.seeded_rollup)
    clean = [j for j in jobs if units[j.unit].level == "基层" and j.name not in taken]
    if len(clean) < 4:
        return
    copier = dice.pick(clean)
    same = [j for j in clean if j is not copier and units[j.unit].parent == units[copier.unit].parent
            and units[j.unit].org == units[copier.unit].org]
    if same:
        source = dice.pick(same)
        values[copier.unit] = dict(values[source.unit])
        copier.cells = dict(source.cells)
        if before is not None:  # last year it copied too, all but one amount: this year's figures flow from it
            before[copier.unit] = before[source.unit] | {"BF20": before[source.unit]["BF20"] + 100}
        city.seeded[copier.name] = city.seeded[source.name] = ["copied-workbook"]
    counts = {r.code for r in spec.numeric_rows() if r.kind == "count"}
    rounded = [j for j in clean if j.name not in city.seeded and _heaps(values[j.unit], counts)]
    if rounded:
        job = dice.pick(rounded)
        v = values[job.unit]
        for code in HEAPED_CODES:
            if v[code] >= 100:
                v[code] = job.cells[code] = v[code] // 100 * 100
        city.seeded[job.name] = ["heaped-figures"]
    _far_aid(dice, [j for j in clean if j.name not in city.seeded], jobs, units, values, city, spec)


def _heaps(v: dict[str, int], counts: set[str]) -> bool:
    """Rounding this unit's HEAPED_CODES down to hundreds leaves at least 6 of 100 or more and breaks no rule: no
    other count of 100 or more is left exact, and 货车司机…网约送餐员 stay within the rounded 新就业形态 members."""
    exact = [c for c in counts - set(HEAPED_CODES) if v.get(c, 0) >= 100]
    return (sum(v[c] >= 100 for c in HEAPED_CODES) >= 6 and not exact
            and sum(v[c] for c in ("HY07", "HY08", "HY09", "HY10")) <= (v["HY06"] // 100 * 100 or v["HY06"]))


def _far_aid(dice: Dice, clean: list[Job], jobs: list[Job], units: dict[str, Unit], values: dict, city: City,
             spec: Spec) -> None:
    """帮扶资金总额 in 分: 100 times the aid per household of its peers, in a group with room to be judged."""
    from tongji.checking.peers import SIZES

    def peers(job: Job) -> tuple[str, int]:
        return units[job.unit].nature[0], sum(values[job.unit]["HY01"] >= upper for upper, _ in SIZES)

    groups: dict[tuple[str, int], int] = {}
    for job in jobs:
        if units[job.unit].level == "基层" and values[job.unit]["BF01"] > 0:
            groups[peers(job)] = groups.get(peers(job), 0) + 1
    room = spec.params["同类比较_最少单位数"] + 3  # a returned unit or two may leave the group
    big = [j for j in clean if values[j.unit]["BF01"] > 0 and values[j.unit]["BF07"] > 0 and groups[peers(j)] >= room]
    if big:
        job = dice.pick(big)
        values[job.unit]["BF07"] *= 100
        job.cells["BF07"] = typed_value("BF07", values[job.unit]["BF07"], spec)
        city.seeded[job.name] = ["peer-outlier-far"]


VALIDATE, ROLLUP, ROLLUP_PREVIOUS = "tongji validate", "tongji rollup", "tongji rollup --previous"


def write_answers(path: Path, city: City) -> None:
    """The answer key: file, rule ids (、-separated), the command that finds them."""
    lines = ["文件,审核规则,检出命令"]
    lines += [f"{name},{'、'.join(rules)},{VALIDATE}" for name, rules in sorted(city.seeded.items())]
    lines += [f"{name},{'、'.join(rules)},{ROLLUP_PREVIOUS}" for name, rules in sorted(city.seeded_rollup.items())]
    lines += [f"{code}（缺报，无工作簿）,missing-unit,{ROLLUP}" for code in city.missing]
    write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8-sig"))
