"""SpecBuilder: what every plugin registers (the built-in schemas too), checked and built into one Spec. A mistake
or a clash is reported with the file, the line and the plugin that made it."""

from __future__ import annotations

import re
from datetime import date

from tongji.definitions import concordance
from tongji.definitions.expr import CODE, Expr, ExprError, parse
from tongji.definitions.forms import (
    CONTINUED_SHEETS,
    DEADLINE,
    GUIDE_SHEET,
    KEYS,
    LISTS_SHEET,
    MESSAGE_WORDS,
    PREVIOUS_WORD,
    SCOPES,
    SEVERITIES,
    SHEET_NAME_BANNED,
    SHEET_NAME_MAX,
    SPANS,
    SUMMARY_SHEETS,
    Check,
    Form,
    Indicator,
    PeerRatio,
    Row,
    Rule,
    Spec,
    parse_deadline,
)
from tongji.definitions.groupings import GroupingError, make_columns, make_grouping
from tongji.errors import TongjiError
from tongji.issues.catalog import BUILTIN as ISSUE_TYPES


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
        self.peer_ratios: list[dict] = []
        self.checks: list[Check] = []
        self.concordances: list[dict] = []  # [[concordance]] items: template versions older than the current
        self.groupings: list[dict] = []
        self.config: dict[str, tuple[float | str, str, str]] = {}  # name → (value, plugin, where)

    def add_config(self, name: str, value: float | date | str, plugin: str, where: str = "") -> None:
        """Plugins may change a built-in default (a province's 留成比例), but two plugins may not clash.
        Every value is a number but 报送截止日期, a date (`2026-01-20` in TOML, or that text)."""
        if name in self.config and self.config[name][1] not in (BUILTIN, plugin):
            raise _conflict(name, self.config[name][1], plugin)
        item = {"_where": where or f"{plugin}:0", "_plugin": plugin}
        if name == DEADLINE:
            day = parse_deadline(value)
            if day is None:
                raise _invalid(item, (f"{name} = {value}：不是日期", f"{name} = {value}: not a date"))
            self.config[name] = (day, plugin, where)
            return
        if not _is(value, NUMBER):
            raise _invalid(item, (f"配置项“{name}”的值应为数值，而不是“{value}”",
                                 f"the value of {name} should be a number, not '{value}'"))
        self.config[name] = (float(value), plugin, where)

    def build(self) -> Spec:
        forms = self._forms()
        params = {k: v[0] for k, v in self.config.items() if k != DEADLINE}
        accepted = self.meta["accepted_versions"] or [self.meta["version"]]
        indicators = self._indicators(forms)
        enums = {k: dict(v) for k, v in self.meta["enums"].items()}
        groupings, columns = self._groupings(forms, enums, indicators)
        return Spec(
            version=self.meta["version"], accepted_versions=list(accepted),
            marks=dict(self.meta["marks"]), enums=enums,
            forms=forms, rules=self._rules(forms, params), params=params, indicators=indicators,
            checks=self._checks(), groupings=groupings, group_columns=columns,
            versions=self._versions(forms), deadline=self.config.get(DEADLINE, (None,))[0],
            peer_ratios=self._peer_ratios(forms),
        )

    def _versions(self, forms: list[Form]) -> dict[str, concordance.Concordance]:
        """Each older version's concordance, composed into one step to the current version and checked against
        the current forms: a code or an enum value it names must exist."""
        current, seen = self.meta["version"], {}
        for item in self.concordances:
            _known_keys(item, "concordance")
            version = str(item.get("version", ""))
            if version in seen:
                raise _conflict(f"模板版本 {version}", seen[version], item["_plugin"])
            if not version or version == current:
                raise _invalid(item, (f"对照关系的版本“{version}”应为当前版本 {current} 以前的一个版本",
                                     f"the concordance's version '{version}' should be one before {current}"),
                               "version")
            seen[version] = item["_plugin"]
        items = {str(i["version"]): i for i in self.concordances}
        steps = concordance.chain([concordance.parse(i) for i in self.concordances], current)
        codes = {r.code for f in forms for r in f.rows}
        for version, step in steps.items():
            found = concordance.problems(step, current, codes, self.meta["enums"])
            if found:
                raise _invalid(items[version], found[0])
        return steps

    def _groupings(self, forms: list[Form], enums: dict, indicators: list[Indicator]) -> tuple[list, list]:
        """The 分组 sheet's groupings (any plugin's) and columns (the built-in file's [[breakdown]])."""
        rows = {r.code: r for f in forms for r in f.rows}
        numeric = {r.code for f in forms if not f.is_cover for r in f.rows}
        out, seen = [], {}
        for g in self.groupings:
            if g.get("id") in seen:
                raise _conflict(f"分组 {g['id']}", seen[g["id"]], g["_plugin"])
            seen[g.get("id")] = g["_plugin"]
            _known_keys(g, "grouping")
            try:
                out.append(make_grouping(g, rows, enums, numeric))
            except GroupingError as exc:
                raise _invalid(g, (str(exc), exc.en), exc.key) from None
        try:
            columns = make_columns(self.meta.get("breakdown", []), numeric, {i.id: i for i in indicators})
        except GroupingError as exc:
            raise _invalid({"_where": "groupings.toml:?", "_plugin": BUILTIN}, (str(exc), exc.en)) from None
        return out, columns

    def _forms(self) -> list[Form]:
        owner: dict[str, str] = {}  # code → plugin, to name both sides of a clash
        forms: dict[str, Form] = {}
        form_owner: dict[str, str] = {}
        sheets = {GUIDE_SHEET.casefold(): (f"模板的{GUIDE_SHEET}", "the template's guide"),
                  LISTS_SHEET.casefold(): ("模板的下拉列表", "the template's dropdown lists"),
                  **{name: (f"汇总表的{name}表", f"the summary's sheet {name}") for name in SUMMARY_SHEETS}}
        for f in self.forms:
            _known_keys(f, "form")
            if f["id"] in forms:
                first = form_owner[f["id"]]
                raise _conflict(f"表 {f['id']}", first, f["_plugin"])
            form_owner[f["id"]] = f["_plugin"]
            _sheet_name(f, sheets)
            sheets[f["sheet"].casefold()] = (f"表 {f['id']}（插件 {f['_plugin']}）", f"form {f['id']} ({f['_plugin']})")
            rows = tuple(self._row(r, f, owner) for r in f.get("rows", []))
            forms[f["id"]] = Form(f["id"], f["sheet"], f.get("title", f["sheet"]), f.get("table_no", ""), rows,
                                  f.get("basis", ""))
        for ext in self.extends:
            _known_keys(ext, "extend")
            base = forms.get(ext.get("form", ""))
            if base is None:
                raise _invalid(ext, (f"表“{ext.get('form', '')}”不存在，无法添加指标行（已有：{'、'.join(forms)}）",
                                    f"no form '{ext.get('form', '')}' to add rows to (forms: {', '.join(forms)})"))
            info = {"id": base.id, "sheet": base.sheet, "_where": ext["_where"], "_plugin": ext["_plugin"]}
            added = tuple(self._row(r, info, owner) for r in ext.get("rows", []))
            forms[base.id] = Form(base.id, base.sheet, base.title, base.table_no, base.rows + added, base.basis)
        return list(forms.values())

    @staticmethod
    def _row(r: dict, form: dict, owner: dict[str, str]) -> Row:
        code = r.get("code", "")
        where = {"_where": r.get("_where", form["_where"]), "_plugin": form["_plugin"]}
        _known_keys(dict(r, **where), "row")
        if not CODE.match(code):
            raise _invalid(where, (f"指标代码“{code}”应为两个大写字母加两位数字",
                                   f"the code '{code}' should be two capital letters and two digits"))
        if code in owner:
            if owner[code] != form["_plugin"]:
                raise _conflict(code, owner[code], form["_plugin"])
            raise _invalid(where, (f"指标代码 {code} 重复", f"the code {code} is there twice"))
        if r.get("kind") not in KINDS:
            raise _invalid(where, (f"指标 {code} 的类型“{r.get('kind')}”应为 {'、'.join(KINDS)} 之一",
                                   f"the kind '{r.get('kind')}' of {code} should be one of {', '.join(KINDS)}"))
        owner[code] = form["_plugin"]
        extra = {k: v for k, v in r.items() if k not in ("code", "name", "kind") and not k.startswith("_")}
        extra.setdefault("unit", form.get("unit", ""))
        return Row(code=code, name=r["name"], kind=r["kind"], form=form["id"], sheet=form["sheet"], **extra)

    def _rules(self, forms: list[Form], params: dict[str, float]) -> list[Rule]:
        numeric = {r.code for f in forms if not f.is_cover for r in f.rows}
        text = {r.code for f in forms if f.is_cover for r in f.rows}
        rules, seen = [], {}
        for r in self.rules:
            _known_keys(r, "rule")
            rid = r.get("id", "")
            if rid in seen:
                raise _conflict(rid, seen[rid], r["_plugin"])
            seen[rid] = r["_plugin"]
            if rid in ISSUE_TYPES:  # a rule is an issue type: its id must not take a built-in code's place
                raise _clash(r["_plugin"], rid, r["_where"])
            check, when = _parse_rule(r)
            for key, expr in (("check", check), ("when", when)):
                for name in expr.previous if expr else []:
                    if name not in numeric:
                        raise _invalid(r, (f"prev({name}) 中的“{name}”不是数值指标代码",
                                           f"'{name}' in prev({name}) is not a numeric code"), key)
                for name in expr.names if expr else []:
                    if name in text:
                        raise _invalid(r, (f"“{name}”是封面上的文字，审核关系只能比较数值指标"
                                        "（检查文字请用 Python 插件的 register_checks）",
                                        f"'{name}' is text on the cover: a rule compares numeric codes only"
                                        " (check text with a Python plugin's register_checks)"), key)
                    if name not in numeric and name not in params:
                        raise _invalid(r, (f"未知的指标代码或参数“{name}”", f"unknown code or parameter '{name}'"), key)
            if r.get("severity") not in SEVERITIES:
                raise _invalid(r, (f"严重程度应为 {'/'.join(SEVERITIES)}",
                                   f"severity should be {'/'.join(SEVERITIES)}"), "severity")
            if r.get("scope", "全部") not in SCOPES:
                raise _invalid(r, (f"范围（scope）应为 {'/'.join(SCOPES)}", f"scope should be {'/'.join(SCOPES)}"),
                               "scope")
            reads_prev = bool(check.previous or (when and when.previous))
            if r.get("previous", "任意") not in SPANS or ("previous" in r and not reads_prev):
                raise _invalid(r, (f"previous 应为 {'/'.join(SPANS)}，且只用于读取 prev( ) 的审核关系",
                                   f"previous should be {'/'.join(SPANS)}, in a rule that reads prev( )"), "previous")
            for key in ("message", "message_en"):
                for name in re.findall(r"\{([^{}]*)\}", r.get(key, "")):
                    if name.startswith(PREVIOUS_WORD) and name[len(PREVIOUS_WORD):] in numeric:
                        continue  # {上期JF21}: last period's value, in a rule that reads it
                    if name not in numeric and name not in text and name not in MESSAGE_WORDS:
                        words = "、".join(MESSAGE_WORDS[:3])
                        raise _invalid(r, (f"说明中的“{{{name}}}”既不是指标代码，也不是 {words}",
                                           f"'{{{name}}}' in the message is neither a code nor one of "
                                           f"{', '.join(MESSAGE_WORDS)}"), key)
            rules.append(Rule(
                id=rid, severity=r["severity"], check=check, when=when, message=r.get("message", rid),
                message_en=r.get("message_en", ""), scope=r.get("scope", "全部"),
                tolerance=float(r.get("tolerance", 0.0)), source=r["_where"], previous=r.get("previous", "任意"),
            ))
        return rules

    def _indicators(self, forms: list[Form]) -> list[Indicator]:
        return [Indicator(d["id"], d.get("name", d["id"]), num, den, d.get("unit", "%"), d.get("from", "基层"),
                          d.get("_lines", {}).get("from") or d["_where"], d["_plugin"])
                for d, num, den in _ratios(self.indicators, forms, "indicator", "派生指标")]

    def _peer_ratios(self, forms: list[Form]) -> list[PeerRatio]:
        return [PeerRatio(d["id"], d.get("name", d["id"]), num, den, d.get("unit", "%"), d.get("name_en", ""))
                for d, num, den in _ratios(self.peer_ratios, forms, "peer_ratio", "同类比较的比率")]

    def _checks(self) -> list[Check]:
        """Python checks: ids unique among checks and rules, severity and scope known."""
        seen = {r.get("id", ""): r["_plugin"] for r in self.rules}
        for c in self.checks:
            if c.id in seen:
                raise _conflict(c.id, seen[c.id], c.plugin)
            seen[c.id] = c.plugin
            where = {"_where": f"{c.plugin}:0", "_plugin": c.plugin}
            if c.id in ISSUE_TYPES:  # a check is an issue type too
                raise _clash(c.plugin, c.id, "")
            if not callable(c.function):
                raise _invalid(where, (f"检查 {c.id} 的第二个参数应为函数",
                                       f"the second argument of check {c.id} should be a function"))
            if c.severity not in SEVERITIES:
                raise _invalid(where, (f"检查 {c.id} 的严重程度应为 {'/'.join(SEVERITIES)}",
                                       f"the severity of check {c.id} should be {'/'.join(SEVERITIES)}"))
            if c.scope not in SCOPES:
                raise _invalid(where, (f"检查 {c.id} 的范围应为 {'/'.join(SCOPES)}",
                                       f"the scope of check {c.id} should be {'/'.join(SCOPES)}"))
        return list(self.checks)


def _sheet_name(form: dict, taken: dict[str, tuple[str, str]]) -> None:
    """A form's sheet name as Excel takes it, and its own: Excel compares sheet names ignoring case."""
    name = form["sheet"]
    if name.casefold() in taken:
        zh, en = taken[name.casefold()]
        raise _invalid(form, (f"工作表名“{name}”已被{zh}使用", f"the sheet name '{name}' is taken by {en}"), "sheet")
    table = re.fullmatch(f"({'|'.join(CONTINUED_SHEETS)})[0-9]+", name)
    if table:
        raise _invalid(form, (f"工作表名“{name}”留给汇总表{table[1]}表的续表使用",
                              f"the sheet name '{name}' is kept for the continuation of the summary's sheet "
                              f"{table[1]}"), "sheet")
    bad = [c for c in SHEET_NAME_BANNED if c in name]
    if not name.strip() or len(name) > SHEET_NAME_MAX or bad or name.startswith("'") or name.endswith("'"):
        raise _invalid(form, (f"工作表名“{name}”不能用作 Excel 的工作表名：应为 1 到 {SHEET_NAME_MAX} 个字，"
                              f"不含 {' '.join(SHEET_NAME_BANNED)}，首尾不是单引号",
                              f"Excel takes no sheet named '{name}': 1 to {SHEET_NAME_MAX} characters, none of "
                              f"{' '.join(SHEET_NAME_BANNED)}, no quote first or last"), "sheet")


def _ratios(items: list[dict], forms: list[Form], kind: str, what: str) -> list[tuple[dict, Expr, Expr]]:
    """Each item of a numerator over a denominator (an indicator, a peer ratio), checked: id unique, keys known,
    both sides expressions over numeric codes without a comparison."""
    numeric = {r.code for f in forms if not f.is_cover for r in f.rows}
    out, seen = [], {}
    for d in items:
        _known_keys(d, kind)
        if d.get("id") in seen:
            raise _conflict(d["id"], seen[d["id"]], d["_plugin"])
        seen[d.get("id")] = d["_plugin"]
        num, den = (_parse_side(d, key) for key in ("numerator", "denominator"))
        for key, expr in (("numerator", num), ("denominator", den)):
            for name in expr.names:
                if name not in numeric:
                    raise _invalid(d, (f"未知的指标代码“{name}”", f"unknown code '{name}'"), key)
        if num.cmp or den.cmp:
            raise _invalid(d, (f"{what}的分子、分母不能含比较符号",
                               "a ratio's numerator and denominator cannot hold a comparison"))
        out.append((d, num, den))
    return out


def _parse_side(d: dict, key: str) -> Expr:
    if key not in d:
        raise _invalid(d, (f"派生指标 {d.get('id', '')} 缺少 {key}", f"{d.get('id', '')} has no {key}"))
    try:
        return parse(d[key])
    except ExprError as exc:
        raise _invalid(d, (str(exc), exc.en), key) from None


def _parse_rule(r: dict) -> tuple[Expr, Expr | None]:
    try:
        check = parse(r["check"])
    except KeyError:
        raise _invalid(r, (f"审核关系 {r.get('id', '')} 缺少 check", f"rule {r.get('id', '')} has no check")) from None
    except ExprError as exc:
        raise _invalid(r, (str(exc), exc.en), "check") from None
    try:
        when = parse(r["when"]) if r.get("when") else None
    except ExprError as exc:
        raise _invalid(r, (str(exc), exc.en), "when") from None
    if check.cmp is None:
        raise _invalid(r, ("审核关系需要比较符号（<=、>=、=、≈ 等）", "a rule needs a comparison (<=, >=, =, ≈ …)"),
                       "check")
    return check, when


BUILTIN = "tongji"  # the plugin name of the built-in forms, rules, indicators and writers
KINDS = ("count", "amount", "flag", "text", "date", "period", "enum", "unitcode", "area", "version", "uscc",
         "industry")


def _invalid(item: dict, detail: str | tuple[str, str], key: str | None = None) -> TongjiError:
    """A mistake in one item, at the line of `key` when the item came from a file (else the item's line). The
    detail is Chinese and English, or one text for both (an expression's own message)."""
    zh, en = detail if isinstance(detail, tuple) else (detail, detail)
    where = item.get("_lines", {}).get(key) or item.get("_where", "?:?")
    file, _, line = where.rpartition(":")
    if item.get("_plugin") and not file.endswith(".toml"):  # a Python plugin's registration: no file to name
        error = TongjiError("plugin-invalid", name=item["_plugin"], detail=zh, detail_en=en)
    else:
        error = TongjiError("spec-invalid", file=file or "?", line=line or "?", detail=zh, detail_en=en)
    error.plugin = item.get("_plugin")  # `tongji plugins` shows that plugin as failed
    return error


def _clash(plugin: str, rid: str, where: str) -> TongjiError:
    """A rule or check taking a built-in issue code's id; `where` is its file and line, when it came from a file."""
    at = where if where.split(":")[0].endswith(".toml") else ""  # a Python plugin's registration has no line
    return TongjiError("plugin-rule-clash", plugin=plugin, code=rid, where=f"（{at}）" if at else "",
                       where_en=f" ({at})" if at else "")


def _conflict(what: str, first: str, second: str) -> TongjiError:
    error = TongjiError("plugin-conflict", what=what, first=first, second=second)
    error.plugin = second
    return error


def _known_keys(item: dict, kind: str) -> None:
    """Every key known, of the right type, and the keys the item cannot do without present."""
    for key in item:
        if not key.startswith("_") and key not in KEYS[kind]:
            raise _invalid(item, (f"未知的键“{key}”（可用：{'、'.join(sorted(KEYS[kind]))}）",
                                  f"unknown key '{key}' (known: {', '.join(sorted(KEYS[kind]))})"), key)
    for key in REQUIRED.get(kind, ()):
        if key not in item:
            raise _invalid(item, (f"缺少“{key}”", f"'{key}' is missing"))
    for key, value in item.items():
        wanted = TYPES.get(key)
        if wanted and not _is(value, wanted):
            raise _invalid(item, (f"“{key}”应为{wanted[0]}，而不是“{value}”",
                                  f"'{key}' should be {wanted[1]}, not '{value}'"), key)


TEXT, NUMBER, FLAG = ("文字", "text"), ("数值", "a number"), (" true 或 false", "true or false")
TABLES = ("表的数组（[{ code = …, … }, …]）", "an array of tables ([{ code = …, … }, …])")
TYPES = dict.fromkeys(("id", "sheet", "title", "table_no", "unit", "basis", "form", "code", "name", "kind", "level",
                       "enum", "hint", "severity", "check", "when", "scope", "message", "message_en", "numerator",
                       "denominator", "from", "name_en", "previous"), TEXT)
TEXTS = ("文字的数组（[\"…\", …]）", "an array of text ([\"…\", …])")
TEXT_TABLE = ("文字的表（{ 键 = \"…\", … }）", "a table of text ({ key = \"…\", … })")
TEXTS_TABLE = ("文字数组的表（{ 键 = [\"…\", …], … }）", "a table of arrays of text ({ key = [\"…\", …], … })")
TABLE_TABLE = ("表的表（{ 键 = { 键 = \"…\" }, … }）", "a table of tables ({ key = { key = \"…\" }, … })")
TYPES |= dict.fromkeys(("signed", "filled", "required", "yes_no"), FLAG) | {"tolerance": NUMBER, "rows": TABLES}
# a grouping's and a concordance's (the enums' and mark's keys are quoted in TOML, so their values are text too)
TYPES |= dict.fromkeys(("field", "version", "next", "concordance"), TEXT) | {"groups": TABLES, "split": TEXTS_TABLE}
TYPES |= dict.fromkeys(("added", "dropped", "flags"), TEXTS) | {"enums": TABLE_TABLE}
TYPES |= dict.fromkeys(("renamed", "names", "marks", "names_en"), TEXT_TABLE)
REQUIRED = {"form": ("id", "sheet"), "extend": (), "row": ("code", "name", "kind"), "rule": ("id",),
            "indicator": ("id",), "peer_ratio": ("id",)}


def _is(value: object, wanted: tuple[str, str]) -> bool:
    inner = {TABLES: (list, dict), TEXTS: (list, str), TEXT_TABLE: (dict, str), TEXTS_TABLE: (dict, TEXTS),
             TABLE_TABLE: (dict, TEXT_TABLE)}.get(wanted)
    if inner:
        outer, each = inner
        values = value.values() if isinstance(value, dict) else value
        return isinstance(value, outer) and all(_is(v, each) if isinstance(each, tuple) else isinstance(v, each)
                                                for v in values)
    if wanted == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, bool if wanted == FLAG else str)
