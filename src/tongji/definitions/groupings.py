"""Groupings of the 分组 sheet (甲栏分组, domain.md §9): which units fall in which group, and which columns a
group shows. Declared in schemas/groupings.toml; a plugin adds a grouping the same way ([[grouping]] or the
hook register_groupings). Built here from the declared dicts; forms.py's SpecBuilder reports the mistakes.

A grouping reads one field of each grassroots unit in 明细: a cover field (FM06 单位性质, FM15 所在单位行业) or a
numeric code (HY01). A group is either a list of the field's `values` (after keeping its first `prefix`
characters: the 门类 letter of a deeper 行业 code) or a condition `when` in the rule grammar (HY01 < 25). The first
group that takes a unit keeps it; a unit no group takes is 未分类, so the groups always add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongji.definitions.expr import Expr, ExprError, parse

GROUPING_KEYS = {"id", "name", "name_en", "field", "enum", "prefix", "groups", "names_en"}
GROUP_KEYS = {"name", "name_en", "values", "when"}
COLUMN_KEYS = {"code", "indicator", "name", "name_en"}


class GroupingError(ValueError):
    """A mistake in one declared grouping; `key` is the key it is in (for the line number)."""

    def __init__(self, detail: tuple[str, str], key: str | None = None):
        super().__init__(detail[0])
        self.en = detail[1]
        self.key = key


@dataclass(frozen=True)
class Group:
    name: str
    name_en: str
    values: tuple[str, ...] = ()
    when: Expr | None = None


@dataclass(frozen=True)
class Grouping:
    id: str
    name: str
    name_en: str
    field: str  # a cover code or a numeric code
    column: str  # the 明细 column holding it: a cover field under its name (单位性质), a code under the code
    groups: tuple[Group, ...]
    prefix: int = 0
    cover: bool = False
    plugin: str = ""


@dataclass(frozen=True)
class GroupColumn:
    """A column of the 分组 sheet: the sum of a numeric code, or a derived indicator from the summed terms."""

    key: str  # the code (HY03) or the indicator's id (入会率)
    name: str
    name_en: str
    rate: bool = False


def make_grouping(item: dict, rows: dict, enums: dict[str, dict[str, str]], numeric: set[str]) -> Grouping:
    """One declared grouping, checked: `rows` is every Row by code, `numeric` the numeric codes."""
    gid, field = item.get("id", ""), item.get("field", "")
    if not gid:
        raise GroupingError(("分组缺少 id", "a grouping has no id"), "id")
    if field not in rows:
        raise GroupingError((f"分组 {gid} 的字段“{field}”不是封面项目或指标代码",
                             f"grouping {gid}: its field '{field}' is no cover item or indicator code"), "field")
    cover = field not in numeric
    groups = [_group(g, gid, numeric, cover) for g in item.get("groups", [])]
    if item.get("enum"):
        enum = enums.get(item["enum"])
        if enum is None:
            raise GroupingError((f"分组 {gid} 的代码表“{item['enum']}”不存在",
                                 f"grouping {gid}: there is no code list '{item['enum']}'"), "enum")
        names_en = item.get("names_en", {})
        groups += [Group(name, names_en.get(code, name), (code,)) for code, name in enum.items()]
    if not groups:
        raise GroupingError((f"分组 {gid} 没有组（groups 或 enum）", f"grouping {gid} has no groups (groups or enum)"),
                            "groups")
    prefix = item.get("prefix", 0)
    if not isinstance(prefix, int) or prefix < 0:
        raise GroupingError((f"分组 {gid} 的 prefix 应为非负整数",
                             f"grouping {gid}: prefix should be a whole number, 0 or more"), "prefix")
    name = item.get("name", gid)
    return Grouping(gid, name, item.get("name_en", name), field, rows[field].name if cover else field,
                    tuple(groups), prefix, cover, item.get("_plugin", ""))


def _group(g: dict, gid: str, numeric: set[str], cover: bool) -> Group:
    unknown = sorted(k for k in g if k not in GROUP_KEYS and not k.startswith("_"))
    if unknown:
        raise GroupingError((f"分组 {gid} 的组有未知的键“{unknown[0]}”（可用：{'、'.join(sorted(GROUP_KEYS))}）",
                             f"grouping {gid}: a group has an unknown key '{unknown[0]}' (known: "
                             f"{', '.join(sorted(GROUP_KEYS))})"), "groups")
    name = g.get("name", "")
    values, when = g.get("values", []), g.get("when", "")
    if not isinstance(name, str) or not isinstance(when, str) or not isinstance(values, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        raise GroupingError((f"分组 {gid} 的组“{name}”：name 和 when 应为文字，values 应为文字或整数的数组",
                             f"grouping {gid}: in the group '{name}', name and when should be text and values an "
                             "array of text or whole numbers"), "groups")
    if not name or ("values" in g) == ("when" in g):
        raise GroupingError((f"分组 {gid} 的组“{name}”应有名称，并有 values 或 when 之一",
                             f"grouping {gid}: the group '{name}' needs a name and one of values or when"), "groups")
    if "values" in g:
        if not cover:
            raise GroupingError((f"分组 {gid} 按数值分组，组“{name}”应写 when 条件",
                                 f"grouping {gid} groups by a number: the group '{name}' needs a when condition"),
                                "groups")
        return Group(name, g.get("name_en", name), tuple(str(v) for v in g["values"]))
    try:
        when = parse(g["when"])
    except ExprError as exc:
        raise GroupingError((str(exc), exc.en), "groups") from None
    if when.cmp is None or when.previous:
        raise GroupingError((f"分组 {gid} 的组“{name}”的条件需要比较符号，且不能用 prev()",
                             f"grouping {gid}: the condition of group '{name}' needs a comparison and no prev()"),
                            "groups")
    for code in when.names:
        if code not in numeric:
            raise GroupingError((f"分组 {gid} 的条件中“{code}”不是数值指标代码",
                                 f"grouping {gid}: '{code}' in a condition is no numeric indicator code"), "groups")
    return Group(name, g.get("name_en", name), when=when)


def make_columns(items: list[dict], numeric: set[str], indicators: dict) -> list[GroupColumn]:
    """The columns of the 分组 sheet ([[breakdown]] of the built-in groupings file), checked."""
    out = []
    for c in items:
        unknown = sorted(k for k in c if k not in COLUMN_KEYS and not k.startswith("_"))
        if unknown:
            raise GroupingError((f"分组的列有未知的键“{unknown[0]}”（可用：{'、'.join(sorted(COLUMN_KEYS))}）",
                                 f"a column of the 分组 sheet has an unknown key '{unknown[0]}' (known: "
                                 f"{', '.join(sorted(COLUMN_KEYS))})"))
        if "indicator" in c:
            ind = indicators.get(c["indicator"])
            if ind is None:
                raise GroupingError((f"分组的列：派生指标“{c['indicator']}”不存在",
                                     f"a column of the 分组 sheet: there is no indicator '{c['indicator']}'"))
            name = c.get("name", ind.name)
            out.append(GroupColumn(ind.id, name, c.get("name_en", name), rate=True))
        elif c.get("code") in numeric:
            name = c.get("name", c["code"])
            out.append(GroupColumn(c["code"], name, c.get("name_en", name)))
        else:
            raise GroupingError((f"分组的列“{c.get('code', '')}”不是数值指标代码",
                                 f"the column '{c.get('code', '')}' of the 分组 sheet is no numeric indicator code"))
    return out
