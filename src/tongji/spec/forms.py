"""Forms and rules loaded from the TOML files in `schemas/`."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tongji.errors import TongjiError
from tongji.spec.expr import CODE, Expr, ExprError, parse

NUMERIC_KINDS = ("count", "amount", "flag")
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


def _line_of(text: str, needle: str) -> int:
    idx = text.find(needle)
    return text.count("\n", 0, idx) + 1 if idx >= 0 else 0


def _invalid(path: Path, text: str, needle: str, detail: str) -> TongjiError:
    return TongjiError("spec-invalid", file=path.name, line=_line_of(text, needle), detail=detail)


def _load_toml(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise TongjiError("spec-invalid", file=path.name, line="?", detail=str(exc)) from None


def _forms(data: dict, path: Path, text: str) -> list[Form]:
    forms, seen = [], set()
    for f in data.get("form", []):
        rows = []
        for r in f["rows"]:
            code = r.get("code", "")
            if not CODE.match(code):
                raise _invalid(path, text, code or "code", f"指标代码“{code}”应为两个大写字母加两位数字")
            if code in seen:
                raise _invalid(path, text, code, f"指标代码 {code} 重复")
            seen.add(code)
            extra = {k: v for k, v in r.items() if k not in ("code", "name", "kind")}
            extra.setdefault("unit", f.get("unit", ""))
            rows.append(Row(code=code, name=r["name"], kind=r["kind"], form=f["id"], sheet=f["sheet"], **extra))
        forms.append(Form(f["id"], f["sheet"], f.get("title", f["sheet"]), f.get("table_no", ""), tuple(rows)))
    return forms


def _rules(data: dict, path: Path, text: str, codes: set[str], params: dict[str, float]) -> list[Rule]:
    rules = []
    for r in data.get("rule", []):
        rid = r.get("id", "")
        anchor = f'id = "{rid}"'
        try:
            check = parse(r["check"])
            when = parse(r["when"]) if r.get("when") else None
        except ExprError as exc:
            raise _invalid(path, text, anchor, str(exc)) from None
        if check.cmp is None:
            raise _invalid(path, text, r["check"], "审核关系需要比较符号（<=、>=、=、≈ 等）")
        for name in check.names + (when.names if when else []):
            if name not in codes and name not in params:
                raise _invalid(path, text, r["check"], f"未知的指标代码或参数“{name}”")
        if r.get("severity") not in SEVERITIES:
            raise _invalid(path, text, anchor, f"严重程度应为 {'/'.join(SEVERITIES)}")
        rules.append(Rule(
            id=rid, severity=r["severity"], check=check, when=when, message=r["message"],
            message_en=r.get("message_en", ""), scope=r.get("scope", "全部"),
            tolerance=float(r.get("tolerance", 0.0)), source=f"{path.name}:{_line_of(text, anchor)}",
        ))
    return rules


def _indicators(data: dict, path: Path, text: str, codes: set[str]) -> list[Indicator]:
    out = []
    for d in data.get("indicator", []):
        anchor = f'id = "{d.get("id", "")}"'
        try:
            num, den = parse(d["numerator"]), parse(d["denominator"])
        except (ExprError, KeyError) as exc:
            raise _invalid(path, text, anchor, str(exc)) from None
        for name in num.names + den.names:
            if name not in codes:
                raise _invalid(path, text, anchor, f"未知的指标代码“{name}”")
        if num.cmp or den.cmp:
            raise _invalid(path, text, anchor, "派生指标的分子、分母不能含比较符号")
        out.append(Indicator(d["id"], d.get("name", d["id"]), num, den, d.get("unit", "%"), d.get("from", "基层")))
    return out


@functools.cache
def load_spec(schemas: Path | None = None) -> Spec:
    """Load the forms and rules. Plugins add to these later through the same loader."""
    folder = schemas or data_dir("schemas")
    forms_path, rules_path = folder / "forms.toml", folder / "rules.toml"
    fdata, ftext = _load_toml(forms_path)
    rdata, rtext = _load_toml(rules_path)
    ipath = folder / "indicators.toml"
    idata, itext = _load_toml(ipath) if ipath.exists() else ({}, "")
    forms = _forms(fdata, forms_path, ftext)
    params = {k: float(v) for k, v in rdata.get("params", {}).items()}
    codes = {r.code for f in forms for r in f.rows}
    return Spec(
        version=fdata["version"],
        accepted_versions=list(fdata.get("accepted_versions", [fdata["version"]])),
        marks=dict(fdata.get("marks", {})),
        enums={k: dict(v) for k, v in fdata.get("enums", {}).items()},
        forms=forms,
        rules=_rules(rdata, rules_path, rtext, codes, params),
        params=params,
        indicators=_indicators(idata, ipath, itext, codes),
    )
