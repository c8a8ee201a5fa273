"""The HTML report: one self-contained file per summary, made from the Summary alone.

Everything the page needs is inside it: report.css and charts.js are inlined and the chart data is a JSON
block the script reads, so the file can be mailed, archived and opened offline. No clock, no randomness and
a fixed order everywhere: the same summary always gives the same bytes.
"""

from __future__ import annotations

import html
import json
import re
from importlib.resources import files
from pathlib import Path

import polars as pl

from tongji.plugin import TRANSFER_NOTE, Spec, Summary, summary_stem, write_bytes

KEY_FIGURES = (("JH00", "基层工会数"), ("HY01", "职工人数"), ("HY03", "会员人数"), ("入会率", "职工入会率"),
               ("JF01", "经费收入"), ("JF10", "经费支出"))
INCOME = ("JF02", "JF03", "JF04", "JF05", "JF06", "JF07", "JF08", "JF09")  # JF01 = their sum
EXPENSE = ("JF11", "JF12", "JF15", "JF16", "JF17", "JF18", "JF19")  # JF10 = their sum (JF13, JF14 are within JF12)
SEVERITY_RANK = {"错误": 0, "警告": 1, "提示": 2}
SEVERITY_CLASS = {"错误": "error", "警告": "warning", "提示": "notice"}
ACCEPTED, TOTAL_ROW = "采用", "合计"
UNASSIGNED = "其他（未能归属下级）"
COMPLETENESS = (("expected", "应报", "count"), ("received", "已报", "count"), ("accepted", "采用", "count"),
                ("returned", "退回", "count"), ("missing", "缺报", "count"), ("late", "迟报", "count"),
                ("reported_rate", "报送率", "%"), ("timely_rate", "及时率", "%"))

e = html.escape


def write_html(summary: Summary, out_dir: Path, spec: Spec) -> list[Path]:
    """Write `{unit}_{period}_报告.html` into `out_dir` (atomically) and return its path."""
    page = render(summary, spec)
    return [write_bytes(Path(out_dir) / f"{summary_stem(summary)}_报告.html", page.encode("utf-8"))]


def render(summary: Summary, spec: Spec) -> str:
    title = f"{summary.name} {period_label(summary.period)} 工会统计汇总报告"
    body = "\n".join([
        _header(summary, title), _key_figures(summary, spec), _charts(), _indicators(summary),
        _groups(summary, spec), _completeness(summary), _issues(summary),
        '<footer>由 tongji 汇总生成 · 本报告为自包含文件，不引用任何外部资源</footer>',
    ])
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>\n{_asset('report.css')}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n"
        f'<script type="application/json" id="report-data">{embed_json(chart_data(summary, spec))}</script>\n'
        f"<script>\n{_asset('charts.js')}</script>\n</body>\n</html>\n"
    )


def _asset(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def embed_json(data: dict) -> str:
    """JSON that cannot end its <script> element early: <, > and & become \\u escapes (still valid JSON)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- numbers ---------------------------------------------------------------------------------------


def period_label(period: str) -> str:
    if m := re.fullmatch(r"(\d{4})Q([1-4])", period):
        return f"{m[1]}年第{m[2]}季度"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", period):
        return f"{m[1]}年{int(m[2])}月"
    return f"{period}年" if re.fullmatch(r"\d{4}", period) else period


def kind_of(code: str, spec: Spec) -> str:
    row = spec.rows.get(code)
    return "amount" if row is not None and row.kind == "amount" else "count"  # flags add up to counts


def fmt(value: float | None, kind: str) -> str:
    """Counts whole with thousands separators, amounts to the cent, rates as percentages; — for no value."""
    if value is None:
        return "—"
    if kind == "%":
        return f"{value:.2%}"
    if kind == "amount":
        return f"{round(value, 2) + 0.0:,.2f}"  # + 0.0: no "-0.00"
    return f"{round(value):,}"


def fmt_plain(value: float | None) -> str:
    """A numerator or denominator whose kind is not known: whole numbers without decimals."""
    if value is None:
        return "—"
    return fmt(value, "count" if abs(value - round(value)) < 1e-9 else "amount")


def fmt_change(change: float | None) -> str:
    return "—" if change is None else f"{change:+.1%}"


def _change_class(change: float | None) -> str:
    return "" if not change else (" up" if change > 0 else " down")


# --- chart data --------------------------------------------------------------------------------------


def by_child(summary: Summary) -> list[dict]:
    """职工 (HY01) and 会员 (HY03) per row of the completeness table: each child, then the node's own 本级.

    Each detail row is given to the child that rollup itself credited it to: `summary.units` has one row per
    unit with the child it was counted under, and exactly the accepted (采用) units are the detail rows. That is
    the attribution the completeness table counts, so the chart and the table always agree. Walking up 上级代码
    inside the detail alone would break wherever an intermediate node (a 街道 whose 本级 workbook is missing)
    has no detail row. A detail row that no child owns (which a consistent rollup never produces) is shown as
    its own bar rather than guessed, so the bars always add up to the totals.
    """
    owner = dict(summary.units.filter(pl.col("status") == ACCEPTED).select("unit", "child").iter_rows())
    rows = [r for r in summary.completeness.iter_rows(named=True) if r["child"] != TOTAL_ROW]
    names = {r["child"]: r["child_name"] for r in rows}
    sums: dict[str, list[float]] = {r["child"]: [0.0, 0.0] for r in rows}
    for unit, staff, members in summary.detail.select("单位代码", "HY01", "HY03").iter_rows():
        key = owner.get(unit, "")
        key = key if key in names else ""
        pair = sums.setdefault(key, [0.0, 0.0])
        pair[0] += staff or 0.0
        pair[1] += members or 0.0
    out = []
    for key, (staff, members) in sums.items():
        if key == summary.unit and not staff and not members:
            continue  # a 本级 office with no members of its own is not worth a bar
        out.append({"code": key, "name": names.get(key, UNASSIGNED), "staff": staff, "members": members,
                    "rate": members / staff if staff else None})
    return out


def chart_data(summary: Summary, spec: Spec) -> dict:
    children = [
        {"code": c["code"], "name": c["name"], "members": c["members"], "members_text": fmt(c["members"], "count"),
         "rate": c["rate"], "rate_text": fmt(c["rate"], "%"), "staff_text": fmt(c["staff"], "count")}
        for c in by_child(summary)
    ]
    return {
        "children": children,
        "overall_rate": summary.rate("入会率"), "overall_rate_text": fmt(summary.rate("入会率"), "%"),
        "income": _fund_items(summary, spec, INCOME, "JF01"),
        "expense": _fund_items(summary, spec, EXPENSE, "JF10"),
    }


def _fund_items(summary: Summary, spec: Spec, codes: tuple[str, ...], total_code: str) -> list[dict]:
    names = dict(summary.totals.select("code", "name").iter_rows())
    total = summary.total(total_code) or 0.0
    items = []
    for code in codes:
        value = summary.total(code) or 0.0
        share = f"{value / total:.1%}" if total else ""
        items.append({"code": code, "name": names.get(code, code), "value": value,
                      "text": fmt(value, "amount"), "share": share})
    return items


# --- sections -------------------------------------------------------------------------------------------


def _header(summary: Summary, title: str) -> str:
    facts = [("单位代码", summary.unit), ("层级", summary.level), ("报告期", period_label(summary.period)),
             ("下级单位", f"{len(summary.children)} 个")]
    if summary.has_previous:
        facts.append(("对比", "含上期数与同比"))
    items = "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in facts)
    return f'<header>\n<h1>{e(title)}</h1>\n<dl class="facts">{items}</dl>\n</header>'


def _key_figures(summary: Summary, spec: Spec) -> str:
    totals = {r["code"]: r for r in summary.totals.iter_rows(named=True)}
    indicators = {r["id"]: r for r in summary.indicators.iter_rows(named=True)}
    cards = []
    for code, label in KEY_FIGURES:
        row = indicators.get(code) if code in indicators else totals.get(code, {})
        kind = "%" if code in indicators else kind_of(code, spec)
        unit = "" if kind == "%" else (row.get("unit") or "")
        value = fmt(row.get("value"), kind)
        extra = ""
        if summary.has_previous:
            change = row.get("change")
            extra = (f'<div class="prev">上期 {e(fmt(row.get("previous"), kind))} · '
                     f'同比 <span class="change{_change_class(change)}">{e(fmt_change(change))}</span></div>')
        cards.append(f'<div class="card" data-code="{e(code)}"><div class="label">{e(label)}</div>'
                     f'<div class="value">{e(value)}<small>{e(unit)}</small></div>{extra}</div>')
    return f'<section id="key">\n<h2>关键数字</h2>\n<div class="cards">{"".join(cards)}</div>\n</section>'


def _charts() -> str:
    def figure(chart_id: str, caption: str, hint: str) -> str:
        return (f'<figure><figcaption>{e(caption)}<span>{e(hint)}</span></figcaption>'
                f'<svg id="{chart_id}" class="chart" role="img" aria-label="{e(caption)}"></svg></figure>')

    return (
        '<section id="charts">\n<h2>图表</h2>\n'
        '<noscript><p class="note">图表需要浏览器启用 JavaScript；同样的数字见下方各表。</p></noscript>\n'
        '<div class="grid">'
        + figure("chart-members", "会员人数（按下级单位）", "HY03")
        + figure("chart-rate", "职工入会率（按下级单位）", "HY03 ÷ HY01；虚线为合计")
        + figure("chart-income", "经费收入构成", "JF02–JF09，占收入合计 JF01 的比例")
        + figure("chart-expense", "经费支出构成", "JF11、JF12、JF15–JF19，占支出合计 JF10 的比例")
        + f'</div>\n<p class="note">{e(TRANSFER_NOTE)}（JF04 上级补助收入与 JF17 补助下级支出）。</p>\n</section>'
    )


def _table(headers: list[tuple[str, str]], rows: list[str], foot: str = "", cls: str = "") -> str:
    head = "".join(f'<th class="{c}">{e(h)}</th>' if c else f"<th>{e(h)}</th>" for h, c in headers)
    foot = f"<tfoot>{foot}</tfoot>" if foot else ""
    return (f'<table class="{cls}"><thead><tr>{head}</tr></thead>'
            f'<tbody>\n{chr(10).join(rows)}\n</tbody>{foot}</table>')


def _indicators(summary: Summary) -> str:
    headers = [("指标", ""), ("分子", "num"), ("分母", "num"), ("数值", "num")]
    if summary.has_previous:
        headers += [("上期", "num"), ("同比", "num")]
    headers.append(("说明", ""))
    rows = []
    for r in summary.indicators.iter_rows(named=True):
        kind = "%" if r["unit"] == "%" else "amount"
        cells = [f"<td>{e(r['name'])}</td>", f'<td class="num">{e(fmt_plain(r["numerator"]))}</td>',
                 f'<td class="num">{e(fmt_plain(r["denominator"]))}</td>',
                 f'<td class="num strong">{e(fmt(r["value"], kind))}</td>']
        if summary.has_previous:
            change = r.get("change")
            cells += [f'<td class="num">{e(fmt(r.get("previous"), kind))}</td>',
                      f'<td class="num change{_change_class(change)}">{e(fmt_change(change))}</td>']
        cells.append(f'<td class="muted">{e(r["note"] or "")}</td>')
        rows.append(f'<tr data-indicator="{e(r["id"])}">{"".join(cells)}</tr>')
    return f'<section id="indicators">\n<h2>派生指标</h2>\n{_table(headers, rows)}\n</section>'


def _groups(summary: Summary, spec: Spec) -> str:
    """The 分组 sheet's table: each grouping's groups, the 总计 (its first row) at the foot, as 完整性's 合计;
    nothing for a summary without one."""
    if summary.groups is None or not summary.groups.height:
        return ""
    columns = [c for c in spec.group_columns if c.key in summary.groups.columns]
    kinds = {c.key: "%" if c.rate else kind_of(c.key, spec) for c in columns}
    body, foot, last = [], "", None
    for r in summary.groups.iter_rows(named=True):
        nums = "".join(f'<td class="num">{e(fmt(r[c.key], kinds[c.key]))}</td>' for c in columns)
        if r["grouping"] == "":
            foot = f'<tr><td colspan="2">{e(r["grouping_name"])}</td>{nums}</tr>'
            continue
        name = r["grouping_name"] if r["grouping"] != last else ""  # named on its first group only
        last = r["grouping"]
        body.append(f'<tr data-grouping="{e(r["grouping"])}"><td>{e(name)}</td>'
                    f'<td>{e(r["group_name"] or "")}</td>{nums}</tr>')
    headers = [("分组", ""), ("组别", "")] + [(c.name, "num") for c in columns]
    return f'<section id="groups">\n<h2>分组</h2>\n{_table(headers, body, foot)}\n</section>'


def _completeness(summary: Summary) -> str:
    table = summary.completeness
    # 迟报 and 及时率 only when the rollup had a deadline; a summary of an older tongji has no rates at all
    shown = [c for c in COMPLETENESS if c[0] in table.columns and table[c[0]].null_count() < table.height]
    headers = [("下级单位", ""), ("名称", "")] + [(label, "num") for _, label, _ in shown]
    body, foot = [], ""
    for r in table.iter_rows(named=True):
        bad = {key for key in ("returned", "missing", "late") if r[key]}  # a gap stands out in red
        nums = "".join(f'<td class="num{" bad" if key in bad else ""}">{e(fmt(r[key], kind))}</td>'
                       for key, _, kind in shown)
        if r["child"] == TOTAL_ROW:
            foot = f'<tr><td colspan="2">{e(TOTAL_ROW)}</td>{nums}</tr>'
        else:
            body.append(f'<tr data-child="{e(r["child"])}"><td class="code">{e(r["child"])}</td>'
                        f'<td>{e(r["child_name"])}</td>{nums}</tr>')
    parts = [f'<section id="completeness">\n<h2>完整性</h2>\n{_table(headers, body, foot)}']
    late = pl.col("late") == "迟报" if "late" in summary.units.columns else pl.lit(False)
    gaps = summary.units.filter((pl.col("status") != ACCEPTED) | late).sort("child", "status", "unit", "file")
    if gaps.height:
        rows = [f'<tr><td class="code">{e(u["unit"])}</td><td>{e(u["name"] or "")}</td>'
                f'<td class="code">{e(u["child"] or "—")}</td><td>{e(_status(u))}</td>'
                f'<td class="muted">{e(u["reason"] or "")}</td></tr>' for u in gaps.iter_rows(named=True)]
        parts.append("<h3>未采用或迟报的单位</h3>\n" + _table(
            [("单位代码", ""), ("单位名称", ""), ("所属下级", ""), ("状态", ""), ("原因", "")], rows))
    return "\n".join(parts) + "\n</section>"


def _status(unit: dict) -> str:
    late = unit.get("late") == "迟报"
    return f'{unit["status"]}（迟报，{unit["date"]}）' if late else unit["status"]


def _issues(summary: Summary) -> str:
    issues = summary.issues.with_columns(
        pl.col("severity").replace_strict(SEVERITY_RANK, default=9, return_dtype=pl.Int64).alias("_rank"),
    ).sort("_rank", "unit", "file", "cell", "rule", "message", nulls_last=True)
    counts = "，".join(f"{s} {int((issues['severity'] == s).sum())} 条" for s in SEVERITY_RANK)
    if not issues.height:
        return f'<section id="issues">\n<h2>问题清单</h2>\n<p class="ok">未发现问题（{counts}）。</p>\n</section>'
    rows = []
    for r in issues.iter_rows(named=True):
        unit = " ".join(x for x in (r["unit"], r["unit_name"]) if x)
        message = r["message"] or ""
        if r["explained"]:
            message += f"（已说明：{r['explained']}）"
        cls = SEVERITY_CLASS.get(r["severity"], "notice")
        rows.append(f'<tr><td><span class="badge {cls}">{e(r["severity"])}</span></td><td>{e(unit or "—")}</td>'
                    f'<td class="code">{e(r["cell"] or "—")}</td><td class="code">{e(r["rule"])}</td>'
                    f"<td>{e(message)}</td></tr>")
    table = _table([("级别", ""), ("单位", ""), ("单元格", ""), ("规则", ""), ("问题", "")], rows, cls="issues")
    return f'<section id="issues">\n<h2>问题清单</h2>\n<p>{counts}。</p>\n{table}\n</section>'
