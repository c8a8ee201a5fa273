"""A realistic fictional city: a registry and filled workbooks for demos, tests and load trials.

`make_city(out, units=120, seed=2025)` writes `out/registry.csv` (市 → 区 → 街道 → 基层) and one workbook per
expected unit under `out/<period>/`: grassroots workbooks in a folder per 街道, every 本级 workbook in `本级/`.
Workbooks are real templates (`write_template`) filled in, as a union would fill them with Excel; they are
written by `tongji.fastfill` (one template saved per shape, copied with each unit's cells spliced in), a few
milliseconds each, so that benchmarks can make cities of 100,000 units with the same generator.

Everything is drawn from `numpy.random.default_rng(seed)` in one fixed order, so a seed gives the same files
byte for byte. Money is drawn in integer 分 (cents) so that every identity of 经费 holds exactly.
A share `mistakes` of grassroots units carries one seeded mistake; `City.seeded` names the rules that must
catch each file, `City.missing` the units left without a workbook. Clean workbooks pass every rule.

With `previous=True` the same tree is also filled for last period (the year before, or the same quarter or
month a year before), with values that flow into this period's: last year's 年末结余 is this year's 年初结余,
this year's 困难职工 = last year's + 新建档 − 脱困, head counts a few percent apart. Last period is clean, is
rolled up, and only its summary workbooks are kept, in `out/<last period>/汇总/`: what a statistician has from
last year, and what `rollup --previous` needs for 上期数, 同比 and the cross-period checks. Last period's values
come from a random stream of their own, so this period's workbooks are the same with or without it, but for
one seeded cross-period mistake (`City.seeded_rollup`: caught by rollup with --previous, not by validate).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tongji.errors import TongjiError
from tongji.fastfill import Stamp
from tongji.output.files import ensure_dir, write_bytes
from tongji.output.template import BENJI, template_name
from tongji.spec import Spec, load_spec
from tongji.spec.codes import USCC_CHARS, normalize_period, uscc_check_char
from tongji.spec.registry import Registry, load_registry

CITY_CODE, CITY_NAME, CITY_AREA = "330100", "示例市总工会", "330100000000"
SUMMARY_FOLDER = "汇总"  # last period's summary workbooks: out/<last period>/汇总/
REGISTRY_COLUMNS = "单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态"
BENJI_FOLDER = "本级"
ANSWERS = "埋设问题.csv"  # the answer key beside the registry, for people trying the validator
DUPLICATE_SUFFIX = "_重复"
# A worker process takes about half a second to start and a workbook about 2 ms to write: below this many
# workbooks one process is done first.
PARALLEL_MIN = 1000
# Payrolls of big employers are reported in whole 元; it also keeps 9-digit amounts clear of float noise
# (a value such as 299840834.72 reads back as 299840834.720000029 and draws a too-many-decimals notice).
WHOLE_YUAN = 10_000_000 * 100
LEVEL_SHARE = {"街道": 0.25, "区": 0.30, "市": 0.25}  # each level's part of the 2% not kept by 基层

# --- names -------------------------------------------------------------------------------------

DISTRICTS = [  # 3301xx and a name; more districts than these get plain numbered names
    ("06", "西湖"), ("02", "上城"), ("05", "拱墅"), ("08", "滨江"), ("09", "萧山"), ("10", "余杭"),
    ("13", "临平"), ("14", "钱塘"), ("11", "富阳"), ("12", "临安"), ("15", "东城"), ("16", "西城"),
    ("17", "南湖"), ("18", "北岸"), ("19", "江滨"), ("20", "湖东"), ("21", "新城"), ("23", "高新"),
    ("24", "城南"), ("25", "城北"), ("26", "河西"), ("28", "江东"), ("29", "江北"), ("30", "东湖"),
]
STREETS = (
    "北山 西溪 灵隐 翠苑 文新 古荡 蒋村 留下 转塘 三墩 湖滨 清波 小营 望江 南星 紫阳 采荷 凯旋 闸弄口 彭埠 九堡 "
    "笕桥 丁兰 米市巷 湖墅 小河 和睦 大关 祥符 拱宸桥 半山 康桥 上塘 东新 石桥 西兴 长河 浦沿 北干 城厢 新塘 "
    "宁围 南阳 东湖 南苑 星桥 乔司 运河 崇贤 仁和 良渚 闲林 五常 仓前 中泰 瓶窑 径山 百丈 富春 春江 东洲 "
    "银湖 锦城 玲珑 青山湖 锦南 锦北 下沙 白杨 河庄 义蓬 新湾 临江 前进 龙坞 双浦 文晖 潮鸣 长庆"
).split()
BRANDS = (
    "恒达 华信 鼎盛 瑞丰 博远 新宇 金桥 中联 远航 天成 宏发 永安 长青 汇通 明德 启航 万和 嘉禾 通达 诚信 "
    "晨光 海川 星辰 安泰 润华 智联 云帆 德胜 和信 盛世 正和 东信 卓越 精工 联创 华晨 信达 宏图 锦程 立新 "
    "伟业 中恒 天合 泰和 育英 鸿运 同创 凯达 新锐 银河 百川 方正 九洲 春晖 蓝天 鑫源 海纳 聚力 英特 兴业"
).split()
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅玲丹萍鹏辉斌宇浩凯晨欣怡婷雪琳颖晓文博宁佳"
SCHOOL_WORDS = "育才 明德 育英 启航 春晖 求是 崇文 文澜 天长 胜利 学军 行知 树人 新华 紫金 文海 钱江 博雅".split()
NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Kind:
    """A kind of grassroots union: how it is named and what its people and money look like."""

    key: str
    weight: float  # share of grassroots units
    org: str  # 组织类型: 1 单独基层工会, 2 联合基层工会
    nature: tuple[str, ...]  # 单位性质 codes, repeats weigh
    names: tuple[str, ...]  # templates over {brand} {trade} {stem} {district} {n}
    trades: tuple[str, ...]
    size: tuple[float, float]  # median and log-sd of 职工人数
    wage: tuple[int, int]  # 元 per person per year
    female: tuple[float, float]  # 女职工 share
    migrant: tuple[float, float] = (0.0, 0.0)  # 农民工 share of members
    gig: tuple[float, float] = (0.0, 0.0)  # 新就业形态 share of members
    large: tuple[str, ...] = ()  # name templates when the unit is one of the city's big employers
    brands: tuple[str, ...] = tuple(BRANDS)  # words for {brand}


KINDS = (
    Kind("制造", 0.20, "1", ("170", "170", "170", "120", "300"), ("示例市{brand}{trade}有限公司工会",),
         ("精密机械", "电子科技", "纺织", "食品", "新材料", "汽车零部件", "医疗器械", "印刷包装", "家具", "服装",
          "五金制品", "塑料制品"), (45, 0.8), (70_000, 110_000), (0.30, 0.50), (0.2, 0.6),
         large=("示例{brand}{trade}股份有限公司工会",)),
    Kind("科技服务", 0.17, "1", ("170",), ("示例{brand}{trade}有限公司工会", "示例市{brand}{trade}有限公司工会"),
         ("软件科技", "网络科技", "信息技术", "文化传媒", "餐饮管理", "物业管理", "建筑工程", "商贸", "咨询服务",
          "广告"), (30, 0.8), (90_000, 200_000), (0.35, 0.60), (0.0, 0.15)),
    Kind("物流", 0.07, "1", ("170",), ("示例市{brand}{trade}有限公司工会",),
         ("物流", "快递服务", "供应链管理", "网约车服务", "同城配送", "货运"), (40, 0.9), (60_000, 95_000),
         (0.30, 0.38), (0.3, 0.7), (0.3, 0.8), large=("示例{brand}{trade}集团有限公司工会",)),
    Kind("国企", 0.04, "1", ("110",), ("示例市{trade}有限公司工会",),
         ("能源集团", "水务集团", "燃气集团", "公交集团", "城建集团", "交通投资集团", "旅游集团", "粮食收储",
          "地铁集团", "环境集团", "国有资本投资"), (150, 0.9), (110_000, 180_000), (0.30, 0.45), (0.0, 0.2),
         large=("示例市{trade}有限公司工会",)),
    Kind("学校", 0.12, "1", ("400",), ("{stem}{trade}工会", "示例市{brand}{trade}工会"),
         ("小学", "中学", "幼儿园", "实验学校", "第二小学", "中心小学", "初级中学"), (60, 0.45),
         (120_000, 170_000), (0.50, 0.60), brands=tuple(SCHOOL_WORDS)),
    Kind("医疗", 0.06, "1", ("400",), ("{stem}社区卫生服务中心工会", "{stem}{trade}工会"),
         ("卫生院", "门诊部", "康复医院"), (50, 0.4), (140_000, 220_000), (0.50, 0.60),
         large=("示例市第{n}人民医院工会", "示例市{trade}工会")),
    Kind("机关", 0.05, "1", ("500",), ("{district}区{trade}机关工会",),
         ("市场监督管理局", "司法局", "民政局", "人力资源和社会保障局", "住房和城乡建设局", "城市管理局", "教育局",
          "卫生健康局", "财政局", "统计局", "商务局"), (45, 0.5), (130_000, 170_000), (0.35, 0.55)),
    Kind("民非", 0.05, "1", ("700",), ("示例市{brand}{trade}工会",),
         ("养老服务中心", "培训学校", "康复中心", "社会工作服务中心", "文化艺术中心"), (20, 0.6),
         (50_000, 80_000), (0.45, 0.60), (0.0, 0.3)),
    Kind("外资", 0.04, "1", ("300", "200"), ("{brand}{trade}（示例）有限公司工会",),
         ("电子", "精密", "汽车部件", "食品", "化工", "光电"), (200, 0.8), (90_000, 160_000), (0.30, 0.55),
         (0.1, 0.5), large=("{brand}{trade}（示例）有限公司工会",)),
    Kind("联合", 0.20, "2", ("170", "900"), ("{stem}{trade}联合工会",),
         ("商圈", "小微企业", "楼宇", "社区", "市场", "餐饮行业", "快递行业", "物流园区", "科技园", "商会"),
         (10, 0.6), (55_000, 85_000), (0.30, 0.55), (0.2, 0.6), (0.0, 0.3)),
)
HOSPITALS = ("中医院", "妇幼保健院", "儿童医院", "肿瘤医院", "口腔医院", "第一医院")


# --- the result --------------------------------------------------------------------------------


@dataclass
class City:
    """What `make_city` wrote.

    seeded:  file name → the rule ids that must report it (every other workbook has no issue at all).
    missing: codes of expected units left without a workbook.
    values:  unit code → indicator → the value meant (before any seeded mistake): int counts, 元 amounts, 是/否.
    With previous=True:
    previous_period, previous: last period and the folder of its summary workbooks (<code>_<period>_汇总.xlsx).
    previous_values: last period's values, like `values` (last period has no mistakes).
    seeded_rollup: file name → the rule ids that rollup with --previous must report (validate finds nothing).
    """

    registry: Path
    folder: Path
    period: str
    seeded: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    values: dict[str, dict[str, int | float | str]] = field(default_factory=dict)
    previous_period: str = ""
    previous: Path | None = None
    previous_values: dict[str, dict[str, int | float | str]] = field(default_factory=dict)
    seeded_rollup: dict[str, list[str]] = field(default_factory=dict)

    def previous_summary(self, unit: str = CITY_CODE) -> Path | None:
        """Last period's summary workbook of `unit` (the 市 by default), if it was made."""
        if self.previous is None:
            return None
        path = self.previous / f"{unit}_{self.previous_period}_汇总.xlsx"
        return path if path.is_file() else None


@dataclass
class _Unit:
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


@dataclass
class _Job:
    """One workbook to write: the unit's template, filled with `cells` and `cover`, in `folder`."""

    unit: str
    row: dict[str, str]  # what its template shows of the registry: 单位代码, 单位名称, 上级代码, 组织类型, 区划代码
    folder: Path
    name: str
    cells: dict[str, object]  # indicator → what is typed (None: left empty)
    cover: dict[str, object]
    copies: list[tuple[str, dict]] = field(default_factory=list)  # further files: name, cover changes


class _Dice:
    """The one random stream, with the few shapes of draw the city needs."""

    def __init__(self, seed: int | list[int]) -> None:
        self.rng = np.random.default_rng(seed)

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def between(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def int(self, lo: int, hi: int) -> int:
        """lo..hi inclusive."""
        return int(self.rng.integers(lo, hi + 1))

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def shuffled(self, items: list) -> list:
        return [items[i] for i in self.rng.permutation(len(items))]

    def cents(self, lo: float, hi: float) -> int:
        """An amount in 分 between lo and hi 元."""
        return round(self.between(lo, hi) * 100)

    def round_yuan(self, lo: float, hi: float, step: int) -> int:
        """A round amount in 分, a multiple of `step` 元: grants and gifts come in round numbers."""
        return max(1, round(self.between(lo, hi) / step)) * step * 100

    def lognormal(self, median: float, sigma: float) -> float:
        return float(self.rng.lognormal(math.log(median), sigma))

    def split(self, total: int, weights: list[float]) -> list[int]:
        """`total` in integer parts proportional to `weights`; the first part takes the rounding."""
        s = sum(weights) or 1.0
        parts = [math.floor(total * w / s) for w in weights]
        parts[0] += total - sum(parts)
        return parts

    def person(self) -> str:
        return self.pick(SURNAMES) + "".join(self.pick(GIVEN) for _ in range(self.int(1, 2)))

    def phone(self) -> str:
        if self.chance(0.5):
            return f"0571-8{self.int(0, 9_999_999):07d}"
        return f"1{self.pick('35789')}{self.int(0, 999_999_999):09d}"


# --- the public function -----------------------------------------------------------------------


def make_city(
    out: Path,
    units: int = 120,
    seed: int = 2025,
    period: str = "2025",
    mistakes: float = 0.1,
    districts: int | None = None,
    streets: int | None = None,
    *,
    previous: bool = False,
    force: bool = False,
    workers: int = 1,
) -> City:
    """Write a fictional city under `out`: registry.csv and `<period>/` with every workbook; return what was made.

    `previous` also makes last period's city and keeps its summary workbooks in `<last period>/汇总/`.
    `force` replaces an earlier `<period>/` (and `<last period>/`) folder; without it a folder that holds files
    is an error. `workers` > 1 writes big cities in worker processes (the files are the same); the caller's
    script then needs the usual `if __name__ == "__main__":` guard, so the library default stays 1."""
    period_text = period
    period = normalize_period(str(period)) or ""
    districts = max(1, round(units / 40)) if districts is None else districts
    streets = max(districts, min(max(units, 1), round(units / 15))) if streets is None else streets
    _check_options(units, mistakes, districts, streets, period, period_text)
    out = Path(out)
    folder = out / period
    last = previous_period(period) if previous else ""
    folders = [folder, out / last] if previous else [folder]
    for f in folders:
        if f.exists() and any(f.iterdir()) and not force:
            raise TongjiError("samples-exists", path=f)
    for f in folders:
        if f.exists():
            shutil.rmtree(f)
    spec = load_spec()
    ratio = spec.params.get("留成比例", 0.6)
    dice = _Dice(seed)
    tree = _tree(dice, units, districts, streets)
    registry = _write_registry(ensure_dir(out) / "registry.csv", tree)
    city = City(out / "registry.csv", folder, period)
    values = _draw_values(dice, tree, period, ratio)
    jobs = _jobs(dice, tree, values, folder, period, spec)
    _seed_mistakes(dice, jobs, tree, values, mistakes, city)
    if previous:  # a stream of its own: this period's draws, and so its files, stay as they are without it
        past = _Dice([seed, 1])
        before = _past_values(past, tree, values, period, ratio)
        if mistakes > 0:
            _seed_cross_period(past, jobs, tree, values, city)
    for unit in tree:
        if unit.code in values:
            city.values[unit.code] = {c: _typed(c, v, spec) for c, v in values[unit.code].items()}
    _write_all(jobs, period, spec, workers)
    if previous:
        city.previous_period, city.previous = last, out / last / SUMMARY_FOLDER
        city.previous_values = {code: {c: _typed(c, v, spec) for c, v in before[code].items()} for code in before}
        _write_previous(past, tree, before, out, last, registry, spec, workers)
    _write_answers(out / ANSWERS, city)
    return city


def previous_period(period: str) -> str:
    """The same period a year before: 2025 → 2024, 2025Q2 → 2024Q2, 2025-06 → 2024-06."""
    canonical = normalize_period(str(period))
    if not canonical:
        raise TongjiError("samples-bad-option", detail=f"period={period}，应为 2025、2025Q2 或 2025-06")
    return f"{int(canonical[:4]) - 1}{canonical[4:]}"


def _check_options(units: int, mistakes: float, districts: int, streets: int, period: str, text: str) -> None:
    problems = [
        (units < 1, f"units={units}，基层工会数至少为 1"),
        (not 0 <= mistakes <= 1, f"mistakes={mistakes}，应在 0 到 1 之间"),
        (districts < 1, f"districts={districts}，区至少 1 个"),
        (streets < districts, f"streets={streets}，街道数不能少于区数 {districts}"),
        (districts > 99 or streets > 999 * districts, "区或街道太多，区划代码放不下"),
        (not period, f"period={text}，应为 2025、2025Q2 或 2025-06"),
    ]
    for bad, detail in problems:
        if bad:
            raise TongjiError("samples-bad-option", detail=detail)


# --- the tree ----------------------------------------------------------------------------------


def _tree(dice: _Dice, units: int, districts: int, streets: int) -> list[_Unit]:
    """Every unit in registry order: 市, 区, 街道, then grassroots (and a couple revoked) 街道 by 街道."""
    city = _Unit(CITY_CODE, CITY_NAME, "", "市", "9", CITY_AREA)
    pool = dice.shuffled(DISTRICTS)
    taken = {c for c, _ in DISTRICTS}
    spare = [f"{i:02d}" for i in range(1, 100) if f"{i:02d}" not in taken]
    chosen = pool[:districts] + [(spare[i], f"第{i + 1}") for i in range(max(0, districts - len(pool)))]
    dist = sorted((_Unit(f"3301{c}", f"{n}区总工会", CITY_CODE, "区", "9", f"3301{c}000000", stem=n)
                   for c, n in chosen), key=lambda u: u.code)
    stems = dice.shuffled(STREETS)
    stems += [f"第{i + 1}" for i in range(max(0, streets - len(stems)))]
    per_district = _spread(dice, streets, districts)
    street_units, k = [], 0
    for d, n in zip(dist, per_district, strict=True):
        for j in range(1, n + 1):
            code = f"{d.code}{j:03d}"
            street_units.append(_Unit(code, f"{stems[k]}街道总工会", d.code, "街道", "9", f"{code}000", stem=stems[k]))
            k += 1
    return [city, *dist, *street_units, *_grassroots(dice, units, street_units, dist)]


def _spread(dice: _Dice, total: int, bins: int) -> list[int]:
    """`total` items into `bins`, each at least one when there are enough, unevenly as in real places."""
    base = 1 if total >= bins else 0
    weights = dice.rng.dirichlet(np.full(bins, 4.0))
    extra = dice.rng.multinomial(total - base * bins, weights)
    return [base + int(e) for e in extra]


def _grassroots(dice: _Dice, units: int, streets: list[_Unit], dist: list[_Unit]) -> list[_Unit]:
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
            name = _name(dice, kind, big, street.stem, district[street.parent].stem, names)
            code = _uscc(dice, street.parent, codes)
            area = f"{street.code}{dice.int(1, 40):03d}"  # the 社区 or 村 inside the 街道
            out.append(_Unit(code, name, street.code, "基层", kind.org, area, kind=kind, large=big,
                             nature=dice.pick(kind.nature)))
            i += 1
    small = [j for j, u in enumerate(out) if not u.large]  # a big employer closing would be news, not a sample
    for j in dice.rng.choice(len(small), size=revoked, replace=False).tolist():  # len(small) >= revoked
        out[small[j]].state = "撤销"
    return out


def _pick_kind(dice: _Dice, large: bool) -> Kind:
    kinds = [k for k in KINDS if k.large] if large else list(KINDS)
    weights = np.array([k.weight for k in kinds])
    return kinds[int(dice.rng.choice(len(kinds), p=weights / weights.sum()))]


def _name(dice: _Dice, kind: Kind, large: bool, stem: str, district: str, taken: set[str]) -> str:
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


def _uscc(dice: _Dice, district: str, taken: set[str]) -> str:
    """81 (工会, 社团法人) + the 区's 6-digit code + a 9-character organisation code + check character."""
    letters = USCC_CHARS[10:]
    while True:
        body = f"81{district}M{dice.pick(letters)}{dice.int(0, 9_999_999):07d}"
        code = body + uscc_check_char(body)
        if code not in taken:
            taken.add(code)
            return code


def _write_registry(path: Path, tree: list[_Unit]) -> Registry:
    rows = [REGISTRY_COLUMNS] + [f"{u.code},{u.name},{u.parent},{u.level},{u.org},{u.area},{u.state}" for u in tree]
    # utf-8 with BOM: Excel on Windows opens it with the Chinese intact
    path.write_bytes(("\n".join(rows) + "\n").encode("utf-8-sig"))
    return load_registry(path)


# --- values: grassroots ------------------------------------------------------------------------


def _draw_values(dice: _Dice, tree: list[_Unit], period: str, ratio: float) -> dict[str, dict[str, int]]:
    """unit code → indicator → int (people, units, 0/1 flags, money in 分), for every active unit."""
    frac = _months(period) / 12  # 经费 and 帮扶 money is 本年累计
    return _up_the_tree(tree, lambda u: _grassroots_values(dice, u, frac, ratio),
                        lambda u, below, direct: _benji_values(dice, u, below, direct, frac, ratio))


def _up_the_tree(tree: list[_Unit], grassroots: Callable, benji: Callable) -> dict[str, dict[str, int]]:
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


def _months(period: str) -> int:
    if "Q" in period:
        return 3 * int(period[-1])
    if "-" in period:
        return int(period[-2:])
    return 12


def _grassroots_values(dice: _Dice, unit: _Unit, frac: float, ratio: float) -> dict[str, int]:
    v = _members(dice, unit, unit.kind)
    v |= _organising(dice, unit.kind, v)
    v |= _assistance(dice, v, frac)
    v |= _funds(dice, unit, v, frac, ratio)
    return v


def _headcount(dice: _Dice, unit: _Unit, kind: Kind) -> tuple[int, int]:
    """职工人数 and 覆盖单位数: skewed, many small units, a few big employers of 1,000–20,000."""
    if unit.large:
        return min(20_000, max(1_000, round(dice.lognormal(2_500, 0.7)))), 1
    if kind.org == "2":  # a 联合基层工会 covers several small workplaces
        covered = dice.int(2, 30)
        return sum(max(3, round(dice.lognormal(*kind.size))) for _ in range(covered)), covered
    return min(900, max(8, round(dice.lognormal(*kind.size)))), 1


def _members(dice: _Dice, unit: _Unit, kind: Kind) -> dict[str, int]:
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


def _organising(dice: _Dice, kind: Kind, v: dict[str, int]) -> dict[str, int]:
    hy01, jh01 = v["HY01"], v["JH01"]
    jh02 = int(dice.rng.binomial(jh01, 0.15)) if kind.org == "2" else int(hy01 > 25)
    flags = {code: int(dice.chance(odds[hy01 >= 100])) for code, odds in FLAG_ODDS.items()}
    if flags["JH05"] and not flags["JH04"] and dice.chance(0.7):
        flags["JH05"] = 0  # 厂务公开 mostly goes with a 职代会
    jh11 = min(hy01, max(3, round(3 * math.sqrt(hy01) * dice.between(0.8, 1.2)))) if flags["JH04"] else 0
    jh12 = min(jh11, round(jh11 * v["HY02"] / hy01 * dice.between(0.85, 1.1)))
    return {"JH02": jh02, **flags, "JH11": jh11, "JH12": jh12}


def _assistance(dice: _Dice, members: dict[str, int], frac: float) -> dict[str, int]:
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
    v |= _pair("BF11", "BF12", visits, lambda: dice.pick([200, 300, 500, 800, 1000]) * 100 * frac)
    v |= _pair("BF13", "BF14", dice.int(1, 3) if dice.chance(0.12) else 0,
               lambda: dice.pick([1000, 2000, 3000, 5000]) * 100)
    v |= _pair("BF15", "BF16", max(1, round(hy01 * dice.between(0.3, 1.0))) if dice.chance(0.45) else 0,
               lambda: dice.cents(30, 80))
    v |= _pair("BF17", "BF18", dice.int(1, 3) if dice.chance(0.08) else 0, lambda: dice.cents(2_000, 20_000))
    bf19 = min(hy01, round(hy03 * dice.between(0.5, 1.0))) if dice.chance(0.6) else 0
    v |= {"BF19": bf19, "BF20": round(bf19 * dice.cents(5, 60) * frac) if bf19 and dice.chance(0.4) else 0}
    return v


def _pair(count: str, amount: str, n: int, each: Callable[[], float]) -> dict[str, int]:
    """人次 and 金额 together: the amount is positive exactly when there were people."""
    return {count: n, amount: max(100, round(n * each())) if n else 0}


def _funds(dice: _Dice, unit: _Unit, v: dict[str, int], frac: float, ratio: float) -> dict[str, int]:
    """经费 in 分: 拨缴 from the payroll, spending within income and balance, every identity exact."""
    hy01 = v["HY01"]
    jf22 = _whole_yuan(round(hy01 * dice.between(*unit.kind.wage) * 100 * frac))
    income = _income(dice, unit, v, jf22, ratio)
    jf20 = round((income["JF02"] + income["JF03"]) / frac * dice.between(0.1, 0.9))
    income["JF09"] = round(jf20 * dice.between(0.001, 0.004)) if dice.chance(0.6) else 0
    jf01 = sum(income.values())
    room = jf01 + jf20
    jf13 = min(v["BF08"], round(room * 0.3)) if v["BF07"] else 0
    jf14 = min(round(v["BF12"] * dice.between(0.5, 1.0)), round(room * 0.2)) if v["BF11"] else 0
    jf12 = jf13 + jf14 + round(jf01 * dice.between(0.03, 0.12))
    spend = min(room, max(round(jf01 * dice.between(0.75, 1.1)), jf12))
    rest = _rest(dice, spend - jf12)
    out = {"JF01": jf01, **income, "JF11": rest[0], "JF12": jf12, "JF13": jf13, "JF14": jf14, "JF15": rest[1],
           "JF16": rest[2], "JF17": 0, "JF18": 0, "JF19": rest[3], "JF20": jf20, "JF22": jf22}
    return _close_books(out)


def _rest(dice: _Dice, amount: int) -> list[int]:
    """What a grassroots union spends beyond 维权: JF11 职工活动, JF15 业务, JF16 资本性 (now and then), JF19 其他."""
    return dice.split(amount, [dice.between(0.45, 0.65), dice.between(0.15, 0.3),
                               dice.between(0.02, 0.1) if dice.chance(0.15) else 0.0, dice.between(0, 0.05)])


def _whole_yuan(amount: int) -> int:
    return round(amount, -2) if amount >= WHOLE_YUAN else amount


def _income(dice: _Dice, unit: _Unit, v: dict[str, int], jf22: int, ratio: float) -> dict[str, int]:
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


def _close_books(v: dict[str, int]) -> dict[str, int]:
    v["JF10"] = sum(v[c] for c in ("JF11", "JF12", "JF15", "JF16", "JF17", "JF18", "JF19"))
    v["JF21"] = v["JF20"] + v["JF01"] - v["JF10"]
    return v


# --- values: 本级 -------------------------------------------------------------------------------


def _benji_values(dice: _Dice, unit: _Unit, below: list[dict], direct: list[dict], frac: float,
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
    return _close_books(v)


def _denominators(dice: _Dice, unit: _Unit, below: list[dict]) -> dict[str, int]:
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


# --- last period -------------------------------------------------------------------------------


def _past_values(dice: _Dice, tree: list[_Unit], now: dict, period: str, ratio: float) -> dict[str, dict[str, int]]:
    """Last period's values for every active unit, worked back from this period's so that they flow into it."""
    frac = _months(period) / 12
    return _up_the_tree(tree, lambda u: _past_grassroots(dice, u, now[u.code], frac, ratio),
                        lambda u, below, direct: _past_benji(dice, u, now[u.code], below, direct, frac, ratio))


def _past_grassroots(dice: _Dice, unit: _Unit, v: dict[str, int], frac: float, ratio: float) -> dict[str, int]:
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


def _past_organising(dice: _Dice, unit: _Unit, v: dict[str, int], p: dict[str, int]) -> dict[str, int]:
    """建会 a year earlier: a 联合 union covered a unit or two fewer; now and then a system came only this year."""
    hy01 = p["HY01"]
    jh01 = max(2, v["JH01"] - dice.int(0, 2)) if unit.org == "2" else v["JH01"]
    jh02 = min(jh01, v["JH02"]) if unit.org == "2" else int(hy01 > 25)
    flags = {code: int(v[code] and not dice.chance(0.05)) for code in FLAG_ODDS}
    jh11 = min(hy01, max(3, round(v["JH11"] * dice.between(0.9, 1.05)))) if flags["JH04"] and v["JH11"] else 0
    jh12 = min(jh11, round(jh11 * v["JH12"] / v["JH11"])) if jh11 else 0
    return {"JH01": jh01, "JH02": jh02, **flags, "JH11": jh11, "JH12": jh12}


def _past_assistance(dice: _Dice, v: dict[str, int], p: dict[str, int], size: float, frac: float) -> dict[str, int]:
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
    out |= _pair("BF13", "BF14", dice.int(1, 3) if dice.chance(0.12) else 0,
                 lambda: dice.pick([1000, 2000, 3000, 5000]) * 100)
    out |= again("BF15", "BF16")
    out |= _pair("BF17", "BF18", dice.int(1, 3) if dice.chance(0.08) else 0, lambda: dice.cents(2_000, 20_000))
    bf19 = min(p["HY01"], round(v["BF19"] * size * dice.between(0.95, 1.02)))
    out |= {"BF19": bf19, "BF20": round(v["BF20"] * dice.between(0.7, 1.3)) if bf19 else 0}
    return out


def _past_funds(dice: _Dice, unit: _Unit, v: dict[str, int], p: dict[str, int], size: float,
                ratio: float) -> dict[str, int]:
    """经费 a year earlier, closing on this year's 年初结余: JF21 = this year's JF20, every identity exact."""
    jf22 = _whole_yuan(round(v["JF22"] * p["HY01"] / v["HY01"] * dice.between(0.95, 1.0)))
    income = _income(dice, unit, p, jf22, ratio)
    income["JF09"] = round(v["JF20"] * dice.between(0.001, 0.004)) if dice.chance(0.6) else 0
    jf01 = sum(income.values())
    room = jf01 + v["JF20"]
    jf13 = min(p["BF08"], round(room * 0.3)) if p["BF07"] else 0
    jf14 = min(round(p["BF12"] * dice.between(0.5, 1.0)), round(room * 0.2)) if p["BF11"] else 0
    jf12 = jf13 + jf14 + round(jf01 * dice.between(0.03, 0.12))
    # whatever was not spent is this year's opening balance; last year opened with a little at least
    spend = max(round(jf01 * dice.between(0.75, 1.1)), jf12, jf01 - v["JF20"] + round(jf01 * dice.between(0.02, 0.1)))
    rest = _rest(dice, spend - jf12)
    out = {"JF01": jf01, **income, "JF11": rest[0], "JF12": jf12, "JF13": jf13, "JF14": jf14, "JF15": rest[1],
           "JF16": rest[2], "JF17": 0, "JF18": 0, "JF19": rest[3], "JF20": v["JF20"] - jf01 + spend, "JF22": jf22}
    return _close_books(out)


def _past_benji(dice: _Dice, unit: _Unit, v: dict[str, int], below: list[dict], direct: list[dict], frac: float,
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
    return _close_books(p)


def _past_denominators(dice: _Dice, unit: _Unit, v: dict[str, int], below: list[dict]) -> dict[str, int]:
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


def _seed_cross_period(dice: _Dice, jobs: list[_Job], tree: list[_Unit], values: dict, city: City) -> None:
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


def _write_previous(dice: _Dice, tree: list[_Unit], values: dict, out: Path, period: str, registry: Registry,
                    spec: Spec, workers: int) -> None:
    """Last period's workbooks, rolled up; only the summary workbooks stay, in out/<period>/汇总/."""
    from tongji.engine.rollup import rollup_all
    from tongji.output.summary import write_summary

    folder = out / period
    jobs = _jobs(dice, tree, values, folder, period, spec)
    _write_all(jobs, period, spec, workers)
    summaries = rollup_all(folder, registry, period, spec=spec)
    target = folder / SUMMARY_FOLDER
    for summary in summaries.values():
        if not summary.issues.is_empty():  # a bug of the generator: last period has no mistakes
            raise RuntimeError(f"{summary.unit} {period}: {summary.issues['rule'].to_list()}")
        for name in ("units", "issues", "inputs"):  # name files relative to `out`: the same bytes anywhere
            df = getattr(summary, name)
            setattr(summary, name, df.with_columns(df["file"].map_elements(
                lambda f: Path(os.path.relpath(f, out)).as_posix() if f else f, return_dtype=df["file"].dtype)))
        for path in write_summary(summary, target, spec, ("xlsx",)):
            if path.suffix != ".xlsx":
                path.unlink()  # parquet and manifest name workbooks that are not kept
    for child in folder.iterdir():
        if child != target:
            shutil.rmtree(child)


# --- workbooks ---------------------------------------------------------------------------------


def _jobs(dice: _Dice, tree: list[_Unit], values: dict, root: Path, period: str, spec: Spec) -> list[_Job]:
    streets = {u.code: u.name for u in tree if u.level == "街道"}
    end = _period_end(period)
    jobs = []
    for u in tree:
        if u.state == "撤销":
            continue
        benji = u.level != "基层"
        folder = root / (BENJI_FOLDER if benji else streets[u.parent])
        row = {"单位代码": u.code, "单位名称": u.name, "上级代码": u.parent, "组织类型": BENJI if benji else u.org,
               "所在地区划代码": u.area}
        name = template_name(row, period)
        cells = _cells(dice, values[u.code], spec, benji)
        cover = {
            "FM06": f"{u.nature} {spec.enums['单位性质'][u.nature]}", "FM08": dice.person(), "FM09": dice.phone(),
            "FM10": (end + dt.timedelta(days=dice.int(3, 25))).isoformat(), "FM11": dice.person(),
        }
        jobs.append(_Job(u.code, row, folder, name, cells, cover))
    return jobs


def _period_end(period: str) -> dt.date:
    year, months = int(period[:4]), _months(period)
    return dt.date(year, months, calendar.monthrange(year, months)[1])


def _cells(dice: _Dice, v: dict[str, int], spec: Spec, benji: bool) -> dict[str, object]:
    """What is typed in each value cell; some people leave zero cells empty (read as 0)."""
    sloppy = dice.chance(0.3)
    cells = {}
    for code in _value_codes(spec, benji):
        value = v.get(code, 0)
        empty = value == 0 and sloppy and dice.chance(0.5)
        cells[code] = None if empty else _typed(code, value, spec)
    return cells


def _value_codes(spec: Spec, benji: bool) -> list[str]:
    """The value cells a unit types in: JH00 is computed; 本级 lines are locked in a grassroots template."""
    return [row.code for row in spec.numeric_rows() if row.filled and (benji or row.level != "本级")]


def _typed(code: str, value: int, spec: Spec) -> int | float | str:
    row = spec.rows[code]
    if row.kind == "flag":
        return "是" if value else "否"
    if row.kind == "amount":
        return value // 100 if value % 100 == 0 else value / 100
    return value


# --- seeded mistakes ---------------------------------------------------------------------------

MISTAKE_KINDS = ("jf01", "hy04", "text", "nan", "required", "parent", "missing", "duplicate")


def _seed_mistakes(dice: _Dice, jobs: list[_Job], tree: list[_Unit], values: dict, share: float, city: City) -> None:
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


def _jf01_off(dice: _Dice, job: _Job, v: dict[str, int]) -> list[str]:
    """收入合计 off by 100 元, and the closing balance worked out from the wrong total."""
    delta = dice.pick([100_00, -100_00])
    job.cells["JF01"] = (v["JF01"] + delta) / 100
    job.cells["JF21"] = (v["JF21"] + delta) / 100
    return ["jf01-sum"]


def _female_over_members(dice: _Dice, job: _Job, v: dict[str, int]) -> list[str]:
    hy04 = v["HY03"] + dice.int(1, max(1, v["HY03"] // 10))
    job.cells["HY04"] = hy04
    return ["hy04-le-hy03"] + (["hy04-le-hy02"] if hy04 > v["HY02"] else [])


def _text_number(dice: _Dice, job: _Job, v: dict[str, int]) -> list[str]:
    """A number typed as text with thousands separators: read as the number, with a notice."""
    counts = [c for c in ("HY01", "HY03", "HY02", "BF15", "BF19") if v[c] >= 1_000]
    if counts and dice.chance(0.5):
        code = dice.pick(counts)
        job.cells[code] = f"{v[code]:,}"
    else:
        code = dice.pick(["JF22", "JF03", "JF11"] if v["JF11"] >= 100_000 else ["JF22", "JF03"])
        job.cells[code] = f"{v[code] // 100:,}.{v[code] % 100:02d}"
    return ["text-number"]


def _not_a_number(dice: _Dice, job: _Job, v: dict[str, int]) -> list[str]:
    """职工人数 given as an estimate ("约300"): unreadable, so it is an error and no rule uses it."""
    rough = int(float(format(v["HY01"], ".1g")))
    job.cells["HY01"] = f"约{rough}"
    return ["not-a-number"]


def _required_empty(dice: _Dice, job: _Job, v: dict[str, int]) -> list[str]:
    job.cover[dice.pick(["FM08", "FM10"])] = None
    return ["required"]


def _wrong_parent(dice: _Dice, job: _Job, unit: _Unit, streets: list[_Unit], city: City) -> list[str]:
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


VALIDATE, ROLLUP, ROLLUP_PREVIOUS = "tongji validate", "tongji rollup", "tongji rollup --previous"


def _write_answers(path: Path, city: City) -> None:
    """The answer key: file, rule ids (、-separated), the command that finds them."""
    lines = ["文件,审核规则,检出命令"]
    lines += [f"{name},{'、'.join(rules)},{VALIDATE}" for name, rules in sorted(city.seeded.items())]
    lines += [f"{name},{'、'.join(rules)},{ROLLUP_PREVIOUS}" for name, rules in sorted(city.seeded_rollup.items())]
    lines += [f"{code}（缺报，无工作簿）,missing-unit,{ROLLUP}" for code in city.missing]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))


# --- writing -----------------------------------------------------------------------------------


def _write_all(jobs: list[_Job], period: str, spec: Spec, n: int) -> None:
    """Write every job; many are shared among worker processes (each file depends on its job alone)."""
    shapes = {job.row["组织类型"] == BENJI for job in jobs}
    stamps = {benji: Stamp.build(spec, period, benji, set(_value_codes(spec, benji))) for benji in shapes}
    if n <= 1 or len(jobs) < PARALLEL_MIN:
        _write_chunk(jobs, stamps)
        return
    # spawn, not fork: a forked child of a process whose polars thread pool is running can deadlock
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_write_chunk, jobs[i::n], stamps) for i in range(n)]
        for future in futures:
            future.result()


def _write_chunk(jobs: list[_Job], stamps: dict[bool, Stamp]) -> None:
    for job in jobs:
        stamp = stamps[job.row["组织类型"] == BENJI]
        write_bytes(job.folder / job.name, stamp.workbook(job.row, job.cover, job.cells))
        for name, changes in job.copies:
            write_bytes(job.folder / name, stamp.workbook(job.row, job.cover | changes, job.cells))
