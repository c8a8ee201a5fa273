"""Forms and rules loaded from the TOML files in `schemas/`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tongji.engine.catalog import BUILTIN as ISSUE_TYPES
from tongji.errors import TongjiError
from tongji.spec.expr import CODE, Expr, ExprError, parse

NUMERIC_BUILTIN = "tongji"  # the plugin name of the built-in forms, rules, indicators and writers
KINDS = ("count", "amount", "flag")
SEVERITIES = ("错误", "警告", "提示")


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


@dataclass(frozen=True)
class Form:
    id: str
    sheet: str
    title: str
    table_no: str
    rows: tuple[Row, ...]

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


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    numerator: Expr
    denominator: Expr
    unit: str = "%"
    level: str = "基层"


@dataclass(eq=False)  # identity hash: caches key on the loaded spec
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

    def __post_init__(self) -> None:
        self.rows = {r.code: r for f in self.forms for r in f.rows}

    @property
    def cover(self) -> Form:
        return next(f for f in self.forms if f.is_cover)

    @property
    def data_forms(self) -> list[Form]:
        return [f for f in self.forms if not f.is_cover]

    def numeric_rows(self) -> list[Row]:
        return [r for f in self.data_forms for r in f.rows]


class SpecBuilder:
    """Collects what plugins register (the built-in forms too) and builds one checked Spec.

    Every item is a dict as written in a declarative file, with `_where` ("file.toml:12") and `_plugin`,
    so that a mistake or a clash is reported with the file, the line and the plugin that made it."""

    def __init__(self) -> None:
        self.meta: dict = {"version": "0", "accepted_versions": [], "marks": {}, "enums": {}}
        self.forms: list[dict] = []
        self.extends: list[dict] = []
        self.rules: list[dict] = []
        self.indicators: list[dict] = []
        self.config: dict[str, tuple[float, str, str]] = {}  # name → (value, plugin, where)

    def add_config(self, name: str, value: float, plugin: str, where: str = "") -> None:
        """Plugins may change a built-in default (a province's 留成比例), but two plugins may not clash."""
        if name in self.config and self.config[name][1] not in (BUILTIN, plugin):
            raise TongjiError("plugin-conflict", what=name, first=self.config[name][1], second=plugin)
        self.config[name] = (float(value), plugin, where)

    def build(self) -> Spec:
        forms = self._forms()
        codes = {r.code for f in forms for r in f.rows}
        params = {k: v[0] for k, v in self.config.items()}
        accepted = self.meta["accepted_versions"] or [self.meta["version"]]
        return Spec(
            version=self.meta["version"], accepted_versions=list(accepted),
            marks=dict(self.meta["marks"]), enums={k: dict(v) for k, v in self.meta["enums"].items()},
            forms=forms, rules=self._rules(codes, params), params=params, indicators=self._indicators(codes),
        )

    def _forms(self) -> list[Form]:
        owner: dict[str, str] = {}  # code → plugin, to name both sides of a clash
        forms: dict[str, Form] = {}
        form_owner: dict[str, str] = {}
        for f in self.forms:
            if f["id"] in forms:
                first = form_owner[f["id"]]
                raise TongjiError("plugin-conflict", what=f"表 {f['id']}", first=first, second=f["_plugin"])
            form_owner[f["id"]] = f["_plugin"]
            rows = tuple(self._row(r, f, owner) for r in f.get("rows", []))
            forms[f["id"]] = Form(f["id"], f["sheet"], f.get("title", f["sheet"]), f.get("table_no", ""), rows)
        for ext in self.extends:
            base = forms.get(ext.get("form", ""))
            if base is None:
                raise _invalid(ext, f"表“{ext.get('form', '')}”不存在，无法添加指标行（已有：{'、'.join(forms)}）")
            info = {"id": base.id, "sheet": base.sheet, "_where": ext["_where"], "_plugin": ext["_plugin"]}
            added = tuple(self._row(r, info, owner) for r in ext.get("rows", []))
            forms[base.id] = Form(base.id, base.sheet, base.title, base.table_no, base.rows + added)
        return list(forms.values())

    @staticmethod
    def _row(r: dict, form: dict, owner: dict[str, str]) -> Row:
        code = r.get("code", "")
        where = {"_where": r.get("_where", form["_where"])}
        if not CODE.match(code):
            raise _invalid(where, f"指标代码“{code}”应为两个大写字母加两位数字")
        if code in owner:
            if owner[code] != form["_plugin"]:
                raise TongjiError("plugin-conflict", what=code, first=owner[code], second=form["_plugin"])
            raise _invalid(where, f"指标代码 {code} 重复")
        if r.get("kind") not in KINDS:
            raise _invalid(where, f"指标 {code} 的类型“{r.get('kind')}”应为 {'、'.join(KINDS)} 之一")
        owner[code] = form["_plugin"]
        extra = {k: v for k, v in r.items() if k not in ("code", "name", "kind") and not k.startswith("_")}
        extra.setdefault("unit", form.get("unit", ""))
        return Row(code=code, name=r["name"], kind=r["kind"], form=form["id"], sheet=form["sheet"], **extra)

    def _rules(self, codes: set[str], params: dict[str, float]) -> list[Rule]:
        rules, seen = [], {}
        for r in self.rules:
            rid = r.get("id", "")
            if rid in seen:
                raise TongjiError("plugin-conflict", what=rid, first=seen[rid], second=r["_plugin"])
            seen[rid] = r["_plugin"]
            if rid in ISSUE_TYPES:  # a rule is an issue type: its id must not take a built-in code's place
                raise TongjiError("plugin-rule-clash", plugin=r["_plugin"], code=rid, where=r["_where"])
            try:
                check = parse(r["check"])
                when = parse(r["when"]) if r.get("when") else None
            except ExprError as exc:
                raise _invalid(r, str(exc)) from None
            except KeyError:
                raise _invalid(r, f"审核关系 {rid} 缺少 check") from None
            if check.cmp is None:
                raise _invalid(r, "审核关系需要比较符号（<=、>=、=、≈ 等）")
            for name in check.names + (when.names if when else []):
                if name not in codes and name not in params:
                    raise _invalid(r, f"未知的指标代码或参数“{name}”")
            if r.get("severity") not in SEVERITIES:
                raise _invalid(r, f"严重程度应为 {'/'.join(SEVERITIES)}")
            rules.append(Rule(
                id=rid, severity=r["severity"], check=check, when=when, message=r.get("message", rid),
                message_en=r.get("message_en", ""), scope=r.get("scope", "全部"),
                tolerance=float(r.get("tolerance", 0.0)), source=r["_where"],
            ))
        return rules

    def _indicators(self, codes: set[str]) -> list[Indicator]:
        out, seen = [], {}
        for d in self.indicators:
            if d.get("id") in seen:
                raise TongjiError("plugin-conflict", what=d["id"], first=seen[d["id"]], second=d["_plugin"])
            seen[d.get("id")] = d["_plugin"]
            try:
                num, den = parse(d["numerator"]), parse(d["denominator"])
            except (ExprError, KeyError) as exc:
                raise _invalid(d, str(exc)) from None
            for name in num.names + den.names:
                if name not in codes:
                    raise _invalid(d, f"未知的指标代码“{name}”")
            if num.cmp or den.cmp:
                raise _invalid(d, "派生指标的分子、分母不能含比较符号")
            out.append(Indicator(d["id"], d.get("name", d["id"]), num, den, d.get("unit", "%"), d.get("from", "基层")))
        return out


BUILTIN = "tongji"  # the plugin name of the built-in forms, rules, indicators and writers
KINDS = ("count", "amount", "flag", "text", "date", "period", "enum", "unitcode", "area", "version")


def _invalid(item: dict, detail: str) -> TongjiError:
    file, _, line = item.get("_where", "?:?").rpartition(":")
    return TongjiError("spec-invalid", file=file or "?", line=line or "?", detail=detail)


def load_spec() -> Spec:
    """The forms, rules and indicators of the built-in schemas and every loaded plugin."""
    from tongji.plugins import host

    return host().spec
