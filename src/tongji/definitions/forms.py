"""Forms and rules loaded from the TOML files in `schemas/`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from tongji.definitions import concordance
from tongji.definitions.expr import Expr
from tongji.definitions.groupings import GROUPING_KEYS, GroupColumn, Grouping
from tongji.definitions.registry import DEFAULT_LEVELS
from tongji.errors import TongjiError

SEVERITIES = ("错误", "警告", "提示")
SCOPES = ("全部", "基层", "本级", "汇总")  # which workbooks a rule or check applies to, by 组织类型
# which last period a cross-period rule compares with (codes.period_span): any given one, the end of the year
# before, or an earlier period of the same year
SPANS = ("任意", "上年末", "本年")
# the keys each declarative item may have: a misspelt one (servity) is refused, not silently ignored
KEYS = {
    "form": {"id", "sheet", "title", "table_no", "unit", "rows", "basis"},
    "extend": {"form", "rows"},
    "row": {"code", "name", "kind", "unit", "level", "signed", "filled", "required", "enum", "hint", "yes_no"},
    "rule": {"id", "severity", "check", "when", "scope", "tolerance", "message", "message_en", "previous"},
    "indicator": {"id", "name", "numerator", "denominator", "unit", "from"},
    "concordance": concordance.KEYS,
    "grouping": GROUPING_KEYS,
    "peer_ratio": {"id", "name", "name_en", "numerator", "denominator", "unit"},
}
MESSAGE_WORDS = ("左边", "右边", "差额", "left", "right", "diff")  # placeholders of a rule message beside codes
PREVIOUS_WORD = "上期"  # {上期JF21} in a message: last period's value of JF21
BENJI_HINT = "本级填报"  # what a template prints in 说明 beside a line only 本级 fills: a hint, not an explanation
DEADLINE = "报送截止日期"  # the one configuration value that is a date (domain.md §5, timeliness)
# a template's own sheets besides the forms': a form may not take their names (writing/template.py makes them)
GUIDE_SHEET = "填表说明"
LISTS_SHEET = "_lists"
# a summary's own sheets beside the forms', and an annotated copy's list (aggregating/, writing/ name them too)
SUMMARY_SHEETS = ("明细", "说明", "完整性", "校验", "指标", "分组", "问题清单")
# the tables that go on past Excel's last row in further sheets: 明细2, 校验3 … (aggregating/summary.continuation)
CONTINUED_SHEETS = ("明细", "说明", "完整性", "校验")
SHEET_NAME_MAX = 31  # Excel's limit on a sheet's name
SHEET_NAME_BANNED = "[]:*?/\\"  # characters Excel refuses in a sheet's name


def parse_deadline(value: object) -> str | None:
    """A deadline as YYYY-MM-DD: a TOML date, or text like 2026-01-20 or 2026年1月20日; None if it is not one."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    found = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", str(value))
    try:
        return date(*map(int, found.groups())).isoformat() if found else None
    except ValueError:  # 2026-02-30
        return None


def data_dir(name: str) -> Path:
    """`schemas/` or `samples/`: beside src/ in a checkout, inside the package in a wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_data" / name, here.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(name)


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    kind: str
    form: str
    sheet: str
    unit: str = ""
    level: str = ""  # "本级": only 本级 workbooks fill it
    signed: bool = False
    filled: bool = True
    required: bool = False
    enum: str = ""
    hint: str = ""
    yes_no: bool = False  # a count of units that a one-unit union may answer 是/否 (read as 1/0)


@dataclass(frozen=True)
class Form:
    id: str
    sheet: str
    title: str
    table_no: str
    rows: tuple[Row, ...]
    basis: str = ""  # what the lines follow, such as the accounting edition of 经费 (工会会计制度 收入支出表)

    @property
    def is_cover(self) -> bool:
        return self.id == "FM"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    check: Expr
    message: str
    message_en: str = ""
    when: Expr | None = None
    scope: str = "全部"
    tolerance: float = 0.0
    source: str = ""
    previous: str = "任意"  # SPANS: the last period this rule compares with; another one leaves it unjudged

    @property
    def cross_period(self) -> bool:
        """A rule reading last period's values (prev(JF21)): run by rollup when the previous period is given."""
        return bool(self.check.previous or (self.when and self.when.previous))


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    numerator: Expr
    denominator: Expr
    unit: str = "%"
    level: str = "基层"  # `from`: the lowest level where it means something (a level's name, checked by rollup)
    source: str = ""  # where `from` is written: "file.toml:12", or "plugin:0" for a Python plugin's registration
    plugin: str = ""


@dataclass(frozen=True)
class PeerRatio:
    """A ratio each grassroots unit is compared on with its peers (domain.md §10): numerator / denominator."""

    id: str
    name: str
    numerator: Expr
    denominator: Expr
    unit: str = "%"
    name_en: str = ""


@dataclass(frozen=True)
class Check:
    """A check written in Python (hook register_checks): `function(table, ...)` returns issues."""

    id: str
    function: Callable
    severity: str = "错误"
    message: str = ""
    message_en: str = ""
    scope: str = "全部"
    plugin: str = ""


T = TypeVar("T")


@dataclass(eq=False)  # two loads of the same files are two specs, each with its own derived values
class Spec:
    version: str
    accepted_versions: list[str]
    marks: dict[str, str]
    enums: dict[str, dict[str, str]]
    forms: list[Form]
    rules: list[Rule]
    params: dict[str, float]
    indicators: list[Indicator] = field(default_factory=list)
    rows: dict[str, Row] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    writers: dict[str, Any] = field(default_factory=dict)  # output format → plugins.Writer
    deadline: str | None = None  # 报送截止日期 as YYYY-MM-DD, from configuration; a run may give its own
    # older template versions known by their concordance, each composed into one step to `version`
    versions: dict[str, concordance.Concordance] = field(default_factory=dict)
    groupings: list[Grouping] = field(default_factory=list)  # the 分组 sheet's groupings (groupings.py)
    group_columns: list[GroupColumn] = field(default_factory=list)  # and its columns
    peer_ratios: list[PeerRatio] = field(default_factory=list)
    _derived: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.rows = {r.code: r for f in self.forms for r in f.rows}

    def derive(self, build: Callable[[Spec], T]) -> T:
        """`build(self)`, made once and kept with this spec (the pandera schema, the indicators' expressions, the
        row-name index): what the engine derives from the forms lives and dies with them, in no module global."""
        if build not in self._derived:
            self._derived[build] = build(self)
        return self._derived[build]

    def __getstate__(self) -> dict:
        """A worker process gets the spec without its derived values (it makes those it needs itself) and without
        the plugins' Python checks and writers: it only reads, and a function from a plugins folder cannot be
        imported there by name."""
        return self.__dict__ | {"_derived": {}, "checks": [], "writers": {}}

    def check_levels(self, levels: tuple[str, ...]) -> None:
        """Every indicator's `from` names a level: one of `levels` (the registry's: --levels, TONGJI_LEVELS) or of
        the default 市/区/街道/基层 the built-in schemas are written in. A misspelt one would silently leave its rate
        blank for every unit, so it is refused (exit code 2) with its file and line, before anything is read."""
        known = (*levels, *(v for v in DEFAULT_LEVELS if v not in levels))
        for ind in self.indicators:
            if ind.level in known:
                continue
            zh = f"派生指标“{ind.id}”的 from = “{ind.level}”不是任何层级的名称（层级：{'、'.join(known)}）"
            en = f"indicator {ind.id}: from = '{ind.level}' names no level (levels: {', '.join(known)})"
            file, _, line = ind.source.rpartition(":")
            if file.endswith(".toml"):
                raise TongjiError("spec-invalid", file=file, line=line, detail=zh, detail_en=en)
            raise TongjiError("plugin-invalid", name=ind.plugin, detail=zh, detail_en=en)

    @property
    def cover(self) -> Form:
        return next(f for f in self.forms if f.is_cover)

    @property
    def data_forms(self) -> list[Form]:
        return [f for f in self.forms if not f.is_cover]

    def numeric_rows(self) -> list[Row]:
        return [r for f in self.data_forms for r in f.rows]
