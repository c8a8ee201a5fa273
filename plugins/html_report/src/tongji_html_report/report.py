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

KEY_FIGURES = (("JH00", ("基层工会数", "Grassroots unions")), ("HY01", ("职工人数", "Employees")),
               ("HY03", ("会员人数", "Members")), ("入会率", ("职工入会率", "Membership rate")),
               ("JF01", ("经费收入", "Fund income")), ("JF10", ("经费支出", "Fund expenditure")))
INCOME = ("JF02", "JF03", "JF04", "JF05", "JF06", "JF07", "JF08", "JF09")  # JF01 = their sum
EXPENSE = ("JF11", "JF12", "JF15", "JF16", "JF17", "JF18", "JF19")  # JF10 = their sum (JF13, JF14 are within JF12)
SEVERITY_RANK = {"错误": 0, "警告": 1, "提示": 2}
SEVERITY_CLASS = {"错误": "error", "警告": "warning", "提示": "notice"}
ACCEPTED, TOTAL_ROW = "采用", "合计"
LATE = "迟报"
COMPLETENESS = (("expected", ("应报", "Expected"), "count"), ("received", ("已报", "Received"), "count"),
                ("accepted", ("采用", "Accepted"), "count"), ("returned", ("退回", "Returned"), "count"),
                ("missing", ("缺报", "Missing"), "count"), ("late", ("迟报", "Late"), "count"),
                ("reported_rate", ("报送率", "Reported"), "%"), ("timely_rate", ("及时率", "On time"), "%"))
# the report's own words, (Chinese, English): the page is in the language the summary is written in (`lang`)
WORDS = {
    "title": ("{name} {period} 工会统计汇总报告", "Trade-union statistics summary: {name}, {period}"),
    "footer": ("由 tongji 汇总生成 · 本报告为自包含文件，不引用任何外部资源",
               "Made by tongji rollup · a self-contained file that refers to nothing outside it"),
    "unit": ("单位代码", "Unit code"), "level": ("层级", "Level"), "period": ("报告期", "Period"),
    "children": ("下级单位", "Children"), "children-n": ("{n} 个", "{n}"), "compare": ("对比", "Comparison"),
    "compare-text": ("含上期数与同比", "with last period and change"),
    "previous": ("上期", "Last period"), "change": ("同比", "change"), "change-head": ("同比", "Change"),
    "key": ("关键数字", "Key figures"), "charts": ("图表", "Charts"),
    "noscript": ("图表需要浏览器启用 JavaScript；同样的数字见下方各表。",
                 "The charts need JavaScript in the browser; the tables below hold the same figures."),
    "chart-members": ("会员人数（按下级单位）", "Members by child unit"),
    "chart-rate": ("职工入会率（按下级单位）", "Membership rate by child unit"),
    "chart-rate-hint": ("HY03 ÷ HY01；虚线为合计", "HY03 ÷ HY01; the dashed line is the total"),
    "chart-income": ("经费收入构成", "Fund income by item"),
    "chart-income-hint": ("JF02–JF09，占收入合计 JF01 的比例", "JF02–JF09, as shares of total income JF01"),
    "chart-expense": ("经费支出构成", "Fund expenditure by item"),
    "chart-expense-hint": ("JF11、JF12、JF15–JF19，占支出合计 JF10 的比例",
                           "JF11, JF12, JF15–JF19, as shares of total expenditure JF10"),
    "transfers": (TRANSFER_NOTE + "（JF04 上级补助收入与 JF17 补助下级支出）。",
                  "A plain sum: transfers between levels (JF04 上级补助收入 and JF17 补助下级支出) are not "
                  "eliminated."),
    "indicators": ("派生指标", "Indicators"), "indicator": ("指标", "Indicator"), "numerator": ("分子", "Numerator"),
    "denominator": ("分母", "Denominator"), "value": ("数值", "Value"), "note": ("说明", "Note"),
    "groups": ("分组", "Grouped breakdown"), "grouping": ("分组", "Grouping"), "group": ("组别", "Group"),
    "completeness": ("完整性", "Completeness"), "child": ("下级单位", "Child"), "name": ("名称", "Name"),
    "total": ("合计", "Total"), "own": ("（本级）", " (本级)"),
    "gaps": ("未采用或迟报的单位", "Units not used or late"), "unit-name": ("单位名称", "Unit name"),
    "belongs": ("所属下级", "Child"), "status": ("状态", "Status"), "reason": ("原因", "Reason"),
    "late": ("{status}（迟报，{date}）", "{status} (late, {date})"),
    "issues": ("问题清单", "Issues"), "count": ("{severity} {n} 条", "{severity} {n}"), "counts-sep": ("，", ", "),
    "no-issues": ("未发现问题（{counts}）。", "No issues found ({counts})."),
    "issue-counts": ("{counts}。", "{counts}."),
    "explained": ("（已说明：{note}）", " (explained: {note})"),
    "severity": ("级别", "Severity"), "issue-unit": ("单位", "Unit"), "cell": ("单元格", "Cell"),
    "rule": ("规则", "Rule"), "issue": ("问题", "Issue"),
    "unassigned": ("其他（未能归属下级）", "Other (no child found)"),
    "no-data": ("无数据", "no data"), "people": (" 人", ""), "total-line": ("合计 ", "Total "),
}

e = html.escape


def w(key: str, lang: str, **kw: object) -> str:
    """One of the report's WORDS in `lang`."""
    return WORDS[key][lang == "en"].format(**kw)


def write_html(summary: Summary, out_dir: Path, spec: Spec, lang: str = "zh") -> list[Path]:
    """Write `{unit}_{period}_报告.html` into `out_dir` (atomically) and return its path. Its words are in `lang`,
    the language the summary is written in (its messages, reasons and group names already are)."""
    page = render(summary, spec, lang)
    return [write_bytes(Path(out_dir) / f"{summary_stem(summary)}_报告.html", page.encode("utf-8"))]


def render(summary: Summary, spec: Spec, lang: str = "zh") -> str:
    title = w("title", lang, name=summary.name, period=period_label(summary.period, lang))
    body = "\n".join([
        _header(summary, title, lang), _key_figures(summary, spec, lang), _charts(lang), _indicators(summary, lang),
        _groups(summary, spec, lang), _completeness(summary, lang), _issues(summary, lang),
        f"<footer>{e(w('footer', lang))}</footer>",
    ])
    return (
        f'<!DOCTYPE html>\n<html lang="{"en" if lang == "en" else "zh-CN"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>\n{_asset('report.css')}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n"
        f'<script type="application/json" id="report-data">{embed_json(chart_data(summary, spec, lang))}</script>\n'
        f"<script>\n{_asset('charts.js')}</script>\n</body>\n</html>\n"
    )


def _asset(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def embed_json(data: dict) -> str:
    """JSON that cannot end its <script> element early: <, > and & become \\u escapes (still valid JSON)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- numbers ---------------------------------------------------------------------------------------


def period_label(period: str, lang: str = "zh") -> str:
    if lang == "en":
        return period  # 2025, 2025Q2, 2025-06 read as they are
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


def by_child(summary: Summary, lang: str = "zh") -> list[dict]:
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
        name = _own(names[key], lang) if key in names else w("unassigned", lang)
        out.append({"code": key, "name": name, "staff": staff, "members": members,
                    "rate": members / staff if staff else None})
    return out


def chart_data(summary: Summary, spec: Spec, lang: str = "zh") -> dict:
    children = [
        {"code": c["code"], "name": c["name"], "members": c["members"], "members_text": fmt(c["members"], "count"),
         "rate": c["rate"], "rate_text": fmt(c["rate"], "%"), "staff_text": fmt(c["staff"], "count")}
        for c in by_child(summary, lang)
    ]
    return {
        "children": children, "words": {k: w(k, lang) for k in ("no-data", "people", "total-line")},
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


def _header(summary: Summary, title: str, lang: str) -> str:
    facts = [(w("unit", lang), summary.unit), (w("level", lang), summary.level),
             (w("period", lang), period_label(summary.period, lang)),
             (w("children", lang), w("children-n", lang, n=len(summary.children)))]
    if summary.has_previous:
        facts.append((w("compare", lang), w("compare-text", lang)))
    items = "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in facts)
    return f'<header>\n<h1>{e(title)}</h1>\n<dl class="facts">{items}</dl>\n</header>'


def _key_figures(summary: Summary, spec: Spec, lang: str) -> str:
    totals = {r["code"]: r for r in summary.totals.iter_rows(named=True)}
    indicators = {r["id"]: r for r in summary.indicators.iter_rows(named=True)}
    cards = []
    for code, labels in KEY_FIGURES:
        label = labels[lang == "en"]
        row = indicators.get(code) if code in indicators else totals.get(code, {})
        kind = "%" if code in indicators else kind_of(code, spec)
        unit = "" if kind == "%" or lang == "en" else (row.get("unit") or "")  # 人, 元: as the terminal, none
        value = fmt(row.get("value"), kind)
        extra = ""
        if summary.has_previous:
            change = row.get("change")
            extra = (f'<div class="prev">{e(w("previous", lang))} {e(fmt(row.get("previous"), kind))} · '
                     f'{e(w("change", lang))} '
                     f'<span class="change{_change_class(change)}">{e(fmt_change(change))}</span></div>')
        cards.append(f'<div class="card" data-code="{e(code)}"><div class="label">{e(label)}</div>'
                     f'<div class="value">{e(value)}<small>{e(unit)}</small></div>{extra}</div>')
    return f'<section id="key">\n<h2>{e(w("key", lang))}</h2>\n<div class="cards">{"".join(cards)}</div>\n</section>'


def _charts(lang: str) -> str:
    def figure(chart_id: str, caption: str, hint: str) -> str:
        return (f'<figure><figcaption>{e(caption)}<span>{e(hint)}</span></figcaption>'
                f'<svg id="{chart_id}" class="chart" role="img" aria-label="{e(caption)}"></svg></figure>')

    return (
        f'<section id="charts">\n<h2>{e(w("charts", lang))}</h2>\n'
        f'<noscript><p class="note">{e(w("noscript", lang))}</p></noscript>\n'
        '<div class="grid">'
        + figure("chart-members", w("chart-members", lang), "HY03")
        + figure("chart-rate", w("chart-rate", lang), w("chart-rate-hint", lang))
        + figure("chart-income", w("chart-income", lang), w("chart-income-hint", lang))
        + figure("chart-expense", w("chart-expense", lang), w("chart-expense-hint", lang))
        + f'</div>\n<p class="note">{e(w("transfers", lang))}</p>\n</section>'
    )


def _table(headers: list[tuple[str, str]], rows: list[str], foot: str = "", cls: str = "") -> str:
    head = "".join(f'<th class="{c}">{e(h)}</th>' if c else f"<th>{e(h)}</th>" for h, c in headers)
    foot = f"<tfoot>{foot}</tfoot>" if foot else ""
    return (f'<table class="{cls}"><thead><tr>{head}</tr></thead>'
            f'<tbody>\n{chr(10).join(rows)}\n</tbody>{foot}</table>')


def _indicators(summary: Summary, lang: str) -> str:
    headers = [(w("indicator", lang), ""), (w("numerator", lang), "num"), (w("denominator", lang), "num"),
               (w("value", lang), "num")]
    if summary.has_previous:
        headers += [(w("previous", lang), "num"), (w("change-head", lang), "num")]
    headers.append((w("note", lang), ""))
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
    return f'<section id="indicators">\n<h2>{e(w("indicators", lang))}</h2>\n{_table(headers, rows)}\n</section>'


def _groups(summary: Summary, spec: Spec, lang: str) -> str:
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
    headers = [(w("grouping", lang), ""), (w("group", lang), "")] + [
        (c.name_en if lang == "en" else c.name, "num") for c in columns]
    return f'<section id="groups">\n<h2>{e(w("groups", lang))}</h2>\n{_table(headers, body, foot)}\n</section>'


def _completeness(summary: Summary, lang: str) -> str:
    table = summary.completeness
    # 迟报 and 及时率 only when the rollup had a deadline; a summary of an older tongji has no rates at all
    shown = [c for c in COMPLETENESS if c[0] in table.columns and table[c[0]].null_count() < table.height]
    headers = [(w("child", lang), ""), (w("name", lang), "")] + [(labels[lang == "en"], "num")
                                                                  for _, labels, _ in shown]
    body, foot = [], ""
    for r in table.iter_rows(named=True):
        bad = {key for key in ("returned", "missing", "late") if r[key]}  # a gap stands out in red
        nums = "".join(f'<td class="num{" bad" if key in bad else ""}">{e(fmt(r[key], kind))}</td>'
                       for key, _, kind in shown)
        if r["child"] == TOTAL_ROW:
            foot = f'<tr><td colspan="2">{e(w("total", lang))}</td>{nums}</tr>'
        else:
            body.append(f'<tr data-child="{e(r["child"])}"><td class="code">{e(r["child"])}</td>'
                        f'<td>{e(_own(r["child_name"], lang))}</td>{nums}</tr>')
    parts = [f'<section id="completeness">\n<h2>{e(w("completeness", lang))}</h2>\n{_table(headers, body, foot)}']
    late = pl.col("late") == LATE if "late" in summary.units.columns else pl.lit(False)
    gaps = summary.units.filter((pl.col("status") != ACCEPTED) | late).sort("child", "status", "unit", "file")
    if gaps.height:
        rows = [f'<tr><td class="code">{e(u["unit"])}</td><td>{e(u["name"] or "")}</td>'
                f'<td class="code">{e(u["child"] or "—")}</td><td>{e(_status(u, lang))}</td>'
                f'<td class="muted">{e(u["reason"] or "")}</td></tr>' for u in gaps.iter_rows(named=True)]
        parts.append(f"<h3>{e(w('gaps', lang))}</h3>\n" + _table(
            [(w(k, lang), "") for k in ("unit", "unit-name", "belongs", "status", "reason")], rows))
    return "\n".join(parts) + "\n</section>"


def _status(unit: dict, lang: str = "zh") -> str:
    late = unit.get("late") == LATE
    return w("late", lang, status=unit["status"], date=unit["date"]) if late else unit["status"]


def _own(name: str, lang: str) -> str:
    """A node's own row, 名称（本级）, as the completeness sheet of a summary in `lang` shows it."""
    own = WORDS["own"][0]
    return name[:-len(own)] + w("own", lang) if lang == "en" and name.endswith(own) else name


def _issues(summary: Summary, lang: str) -> str:
    issues = summary.issues.with_columns(
        pl.col("severity").replace_strict(SEVERITY_RANK, default=9, return_dtype=pl.Int64).alias("_rank"),
    ).sort("_rank", "unit", "file", "cell", "rule", "message", nulls_last=True)
    counts = w("counts-sep", lang).join(w("count", lang, severity=_severity(s, lang), n=int((issues["severity"] == s)
                                                                                       .sum())) for s in SEVERITY_RANK)
    heading = f'<section id="issues">\n<h2>{e(w("issues", lang))}</h2>\n'
    if not issues.height:
        return f'{heading}<p class="ok">{e(w("no-issues", lang, counts=counts))}</p>\n</section>'
    rows = []
    for r in issues.iter_rows(named=True):
        unit = " ".join(x for x in (r["unit"], r["unit_name"]) if x)
        message = r["message"] or ""
        if r["explained"]:
            message += w("explained", lang, note=r["explained"])
        cls = SEVERITY_CLASS.get(r["severity"], "notice")
        rows.append(f'<tr><td><span class="badge {cls}">{e(_severity(r["severity"], lang))}</span></td>'
                    f'<td>{e(unit or "—")}</td>'
                    f'<td class="code">{e(r["cell"] or "—")}</td><td class="code">{e(r["rule"])}</td>'
                    f"<td>{e(message)}</td></tr>")
    table = _table([(w(k, lang), "") for k in ("severity", "issue-unit", "cell", "rule", "issue")], rows,
                   cls="issues")
    return f'{heading}<p>{e(w("issue-counts", lang, counts=counts))}</p>\n{table}\n</section>'


def _severity(name: str, lang: str) -> str:
    return SEVERITY_CLASS.get(name, name) if lang == "en" else name  # the class names are the English words
