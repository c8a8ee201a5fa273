"""One kind of issue (IssueType): its code, severity, category, Chinese and English templates, parameters and
variants, and how its messages are made, one at a time or column-wise, and rendered again from `params` in the
reader's language. Declarative rules and plugins' Python checks become issue types too (rule_type, check_type).

Which issue types there are is issues/catalog.py's table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from tongji.i18n import MESSAGE_LANG, MESSAGES

if TYPE_CHECKING:  # the spec's builder refuses rule ids that clash with the catalog's codes, so it imports this
    from tongji.definitions import Rule
    from tongji.definitions.forms import Check

ERROR, WARNING, NOTICE = "错误", "警告", "提示"
SEVERITIES = (ERROR, WARNING, NOTICE)
RULE_CATEGORY = "审核关系"
CHECK_CATEGORY = "检查"  # a plugin's Python check
VARIANT = "variant"  # the params key naming which of a type's messages an issue has
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
RULE_TERMS = ("左边", "右边", "差额", "left", "right", "diff")  # a rule message may quote its two sides


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


@dataclass(frozen=True, eq=False)
class IssueType:
    """One kind of issue. `params` are the names its templates use ({name}); a placeholder that is not a
    param stays as written. `variants` maps a variant's name to its (Chinese, English) templates. A param in
    `blank` reads （空）/(blank) when empty."""

    code: str
    severity: str
    category: str
    params: tuple[str, ...]
    zh: str
    en: str
    variants: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    blank: tuple[str, ...] = ()
    source: str = "tongji"
    rule: Rule | None = None  # the declarative rule this type was made from, if any (its check is documented)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.code}: severity {self.severity!r}")

    def template(self, lang: str, variant: str | None = None) -> str:
        zh, en = self.variants.get(variant or "", (self.zh, self.en))
        return en if lang == "en" and en else zh

    def text(self, lang: str, variant: str | None = None, **params: object) -> str:
        """The message of one issue (for issues found one at a time; frames use `expr` or `render`)."""
        blank = MESSAGES["blank"][1 if lang == "en" else 0]

        def value(name: str) -> str:
            v = params.get(name)
            if name in self.blank and (v is None or v == ""):
                return blank
            return "" if v is None else str(v)

        return "".join(value(p) if i % 2 and p in self.params else (f"{{{p}}}" if i % 2 else p)
                       for i, p in enumerate(_PLACEHOLDER.split(self.template(lang, variant))))

    def expr(self, lang: str, variant: str | None = None, **params: pl.Expr) -> pl.Expr:
        """The message built column-wise from one expression per param, so a million notices cost no Python loop."""
        blank = pl.lit(MESSAGES["blank"][1 if lang == "en" else 0])
        parts = []
        for i, p in enumerate(_PLACEHOLDER.split(self.template(lang, variant))):
            if i % 2 == 0:
                parts.append(pl.lit(p))
            elif p in self.params and p in params:
                col = params[p].cast(pl.Utf8)
                empty = col.is_null() | (col == "")
                parts.append(pl.when(empty).then(blank).otherwise(col) if p in self.blank else col.fill_null(""))
            elif p in self.params:
                parts.append(blank if p in self.blank else pl.lit(""))
            else:
                parts.append(pl.lit(f"{{{p}}}"))
        return pl.concat_str(parts)

    def params_json(self, variant: str | None = None, **params: object) -> str:
        """The `params` cell of one issue: its declared params (as text) and its variant, if any."""
        out = {k: None if v is None else str(v) for k, v in params.items() if k in self.params}
        if variant:
            out[VARIANT] = variant
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))

    def params_expr(self, **params: pl.Expr) -> pl.Expr:
        """The `params` column of issues found column-wise."""
        mine = [v.cast(pl.Utf8).alias(k) for k, v in params.items() if k in self.params]
        return pl.struct(mine).struct.json_encode() if mine else pl.lit("{}")

    def columns(self, **params: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """The `message` (in MESSAGE_LANG) and `params` columns of issues of this type found column-wise, from one
        expression per param: a million notices, no Python loop."""
        return self.expr(MESSAGE_LANG, **params).alias("message"), self.params_expr(**params).alias("params")

    def render(self, params: pl.Expr, lang: str) -> pl.Expr:
        """Messages from a `params` column of this type's issues."""
        if not self.params and not self.variants:
            return pl.lit(self.template(lang))
        names = [*self.params, *([VARIANT] if self.variants else [])]
        decoded = params.str.json_decode(pl.Struct({n: pl.Utf8 for n in names}))
        fields = {p: decoded.struct.field(p) for p in self.params}
        for p in self.params:  # an issue kept from before its type had `files_en` reads `files` there
            if p.endswith("_en") and p[:-3] in fields:
                fields[p] = pl.coalesce(fields[p], fields[p[:-3]])
        message = self.expr(lang, **fields)
        for name in self.variants:
            message = pl.when(decoded.struct.field(VARIANT) == name).then(self.expr(lang, name, **fields)) \
                .otherwise(message)
        return message


def rule_type(rule: Rule, codes: Iterable[str] = (), source: str = "") -> IssueType:
    """A declarative rule as an issue type; its params are the indicator codes and sides its messages quote."""
    codes = set(codes)
    known = codes | set(RULE_TERMS) | {f"上期{c}" for c in codes}  # {上期JF21}: last period's value
    quoted = placeholders(rule.message) + placeholders(rule.message_en)
    return IssueType(rule.id, rule.severity, RULE_CATEGORY, tuple(dict.fromkeys(p for p in quoted if p in known)),
                     rule.message, rule.message_en or rule.message, source=source or rule.source, rule=rule)


def check_type(check: Check) -> IssueType:
    """A plugin's Python check as an issue type. The check writes each issue's message itself (its own, or the
    check's with the workbook's values put in), in Chinese and in English: the two are the params."""
    return IssueType(check.id, check.severity, CHECK_CATEGORY, ("message", "message_en"), "{message}",
                     "{message_en}", source=check.plugin)
