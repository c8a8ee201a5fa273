"""docs/checks.md, made from the catalog (issues/catalog.py) and the spec's rules: every issue type, its variants,
and the JSON issue report's format. `python -m tongji.issues.checks_page > docs/checks.md` writes it; a test keeps it
current."""

from __future__ import annotations

from tongji.issues.catalog import REPORT_SCHEMA, Catalog
from tongji.issues.issue_type import CHECK_CATEGORY, RULE_CATEGORY


def markdown(catalog: Catalog) -> str:
    """docs/checks.md: every issue type, its variants, and the JSON report's format."""
    rows = [t for t in catalog.types.values() if t.category not in (RULE_CATEGORY, CHECK_CATEGORY)]
    rules = [t for t in catalog.types.values() if t.category == RULE_CATEGORY]
    lines = [
        "# 审核规则与问题代码 (checks and issue codes)",
        "",
        "本页由 `python -m tongji.issues.checks_page > docs/checks.md` 从代码（`src/tongji/issues/catalog.py`）与"
        " `schemas/rules.toml` 生成，请勿手改。",
        "错误 blocks acceptance (退回); 警告 must be explained in 说明 (then 已说明); 提示 is for information.",
        "Each issue keeps its code (`rule`) and its parameters (`params`); its message is written in the reader's"
        " language (`--lang`).",
        "", "## 内置检查 (built-in)", "", "A code with several messages has variants (↳), named by `params.variant`.", "",
        "| 代码 code | 严重程度 | 类别 | 参数 params | 说明 (zh) | message (en) |", "|---|---|---|---|---|---|",
    ]
    for t in rows:
        lines.append(f"| `{t.code}` | {t.severity} | {t.category} | {_names(t.params)} | {t.zh} | {t.en} |")
        lines += [f"| ↳ `{name}` | | | | {zh} | {en} |" for name, (zh, en) in t.variants.items()]
    lines += ["", "## 审核关系 (rules in schemas/rules.toml)", "",
              "A rule's params are the indicator codes its messages quote, and 左边/右边/差额 (left, right, diff).", "",
              "| 代码 code | 严重程度 | 关系 | 条件 | 范围 | 说明 (zh) | message (en) |", "|---|---|---|---|---|---|---|"]
    for t in rules:
        r = t.rule
        when = r.when.text if r is not None and r.when else ""
        check, scope = (f"`{r.check.text}`", r.scope) if r is not None else ("", "")
        lines.append(f"| `{t.code}` | {t.severity} | {check} | {when} | {scope} | {t.zh} | {t.en} |")
    text = "\n".join(lines).replace("{", "`{").replace("}", "}`")
    return text + "\n" + JSON_REPORT


def _names(params: tuple[str, ...]) -> str:
    return ", ".join(f"`{p}`" for p in params)


JSON_REPORT = f"""
## 问题清单 JSON (the issue report as JSON)

`--report 问题清单.json` 写出一个对象：`"schema": "{REPORT_SCHEMA}"` 标明格式版本，`"issues"` 是问题清单，每条问题除各列外还有
`params`（问题说明的参数）。

`tongji validate --report 问题清单.json` writes one object: `"schema": "{REPORT_SCHEMA}"` names this format (a
change of its fields changes the number), and `"issues"` lists every issue with the columns of the other report
formats (`file`, `unit`, `unit_name`, `severity`, `rule`, `sheet`, `cell`, `cells`, `code`, `name`, `value`,
`message`, `diff`, `explained`) and `params`, the parameters of its message as an object (`variant` names which
message of a code with several). `rule` is the issue code above; `message` is written in the language asked for.
"""


if __name__ == "__main__":
    # run as a script only: the plugins, which build the spec, import the catalog
    from tongji.plugins import load_spec

    print(markdown(Catalog.of(load_spec())), end="")
