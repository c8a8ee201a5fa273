"""Every built-in issue code with its severity. Declarative rules add theirs from schemas/rules.toml.

`python -m tongji.engine.catalog > docs/checks.md` writes the list the docs show; a test keeps it current.
"""

from __future__ import annotations

from tongji.i18n import MESSAGES
from tongji.spec import Spec, load_spec

# code → (severity, what it is about)
BUILTIN: dict[str, tuple[str, str]] = {
    "file-empty": ("错误", "文件"), "not-workbook": ("错误", "文件"), "encrypted": ("错误", "文件"),
    "unreadable": ("错误", "文件"), "too-large": ("错误", "文件"),
    "missing-sheet": ("错误", "表式"), "near-duplicate-sheet": ("警告", "表式"), "header-not-found": ("错误", "表式"),
    "missing-row": ("错误", "表式"), "extra-row": ("警告", "表式"), "extra-rows-more": ("警告", "表式"),
    "duplicate-row": ("错误", "表式"),
    "not-a-number": ("错误", "单元格"), "text-number": ("提示", "单元格"), "negative": ("错误", "单元格"),
    "not-whole": ("错误", "单元格"), "too-many-decimals": ("提示", "单元格"), "bad-flag": ("错误", "单元格"),
    "cell-error": ("错误", "单元格"), "formula-no-value": ("错误", "单元格"), "merged-cell": ("错误", "单元格"),
    "benji-in-grassroots": ("错误", "单元格"), "implausible-number": ("错误", "单元格"),
    "required": ("错误", "封面"), "bad-enum": ("错误", "封面"), "bad-uscc": ("错误", "封面"),
    "bad-period": ("错误", "封面"), "wrong-period": ("错误", "封面"), "bad-date": ("错误", "封面"),
    "bad-area": ("警告", "封面"), "unknown-version": ("警告", "封面"), "old-version": ("警告", "封面"),
    "unknown-unit": ("错误", "名册"), "revoked-unit": ("警告", "名册"), "wrong-parent": ("错误", "名册"),
    "area-outside-parent": ("警告", "名册"), "duplicate-unit": ("错误", "名册"),
    "missing-unit": ("警告", "汇总"), "superseded": ("提示", "汇总"), "summary-edited": ("错误", "汇总"),
    "not-under-node": ("警告", "汇总"),
    "jf20-previous": ("错误", "跨期"), "hy03-change": ("警告", "跨期"), "count-jump": ("警告", "跨期"),
    "bf01-flow": ("警告", "跨期"),
}


def severity(code: str) -> str:
    return BUILTIN[code][0]


def markdown(spec: Spec | None = None) -> str:
    spec = spec or load_spec()
    lines = [
        "# 审核规则与问题代码 (checks and issue codes)",
        "",
        "本页由 `python -m tongji.engine.catalog > docs/checks.md` 从代码与 `schemas/rules.toml` 生成，请勿手改。",
        "错误 blocks acceptance (退回); 警告 must be explained in 说明 (then 已说明); 提示 is for information.",
        "",
        "## 内置检查 (built-in)",
        "",
        "| 代码 code | 严重程度 | 类别 | 说明 (zh) | message (en) |",
        "|---|---|---|---|---|",
    ]
    for code, (sev, area) in BUILTIN.items():
        zh, en = MESSAGES[code]
        lines.append(f"| `{code}` | {sev} | {area} | {zh} | {en} |")
    lines += ["", "## 审核关系 (rules in schemas/rules.toml)", "",
              "| 代码 code | 严重程度 | 关系 | 条件 | 范围 | 说明 |", "|---|---|---|---|---|---|"]
    for r in spec.rules:
        when = r.when.text if r.when else ""
        lines.append(f"| `{r.id}` | {r.severity} | `{r.check.text}` | {when} | {r.scope} | {r.message} |")
    return "\n".join(lines).replace("{", "`{").replace("}", "}`") + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
