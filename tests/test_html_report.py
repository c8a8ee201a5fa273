"""The example Python plugin plugins/html_report, loaded as a user loads it: its report as text, through the
command line, and drawn by a real browser (skipped where chromium is not installed; .ci/run installs it)."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from city import build
from tongji import cli, plugins
from tongji.aggregating.rollup import rollup, rollup_all
from tongji.plugins import load_spec
from tongji.writing.summary_files import write_summary

PLUGIN = Path(__file__).resolve().parent.parent / "plugins" / "html_report"
SHAPE = [[2, 1], [1, 2]]  # 2 区; 街道 with 2, 1, 1 and 2 grassroots units
TOP, DISTRICTS = "330100", ["330101", "330102"]
REPORT = f"{TOP}_2025_报告.html"
CHARTS = ("chart-members", "chart-rate", "chart-income", "chart-expense")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--virtual-time-budget=5000"]


@pytest.fixture
def plugin_dir(tmp_path):
    """A plugins folder holding only a copy of html_report (the other examples in plugins/ stay out)."""
    folder = tmp_path / "插件"
    shutil.copytree(PLUGIN, folder / "html_report", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    yield folder
    plugins._host = None


@pytest.fixture
def host(plugin_dir):
    host = plugins.configure(plugins_dir=plugin_dir)
    assert host.errors == {}
    assert host.writers["html"].plugin == "html_report"
    return host


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return build(tmp_path_factory.mktemp("city"), SHAPE)


def top_summary(city):
    return rollup_all(city.folder, registry=city.registry, period="2025")[TOP]


def card(page: str, code: str) -> str:
    """The big number on the key-figure card of `code`."""
    return re.search(rf'data-code="{code}".*?class="value">([^<]*)<', page).group(1)


def chart_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page).group(1))


# --- the report as text --------------------------------------------------------------------------------


def test_report_written_by_the_plugin(host, city, tmp_path):
    summary = top_summary(city)
    paths = write_summary(summary, tmp_path / "out", load_spec(), ("xlsx", "html"))
    page_path = tmp_path / "out" / REPORT
    assert page_path in paths and (tmp_path / "out" / f"{TOP}_2025_汇总.xlsx") in paths
    page = page_path.read_text(encoding="utf-8")
    assert "<title>示例市总工会 2025年 工会统计汇总报告</title>" in page
    for code in ("JH00", "HY01", "HY03"):
        assert card(page, code) == f"{round(summary.total(code)):,}", code
    for code in ("JF01", "JF10"):
        assert card(page, code) == f"{summary.total(code):,.2f}", code
    assert card(page, "入会率") == f"{summary.rate('入会率'):.2%}" == "90.00%"
    # completeness: one row per child and one for the node's own 本级, then the 合计 row in <tfoot>
    assert re.findall(r'<tr data-child="([^"]+)"', page) == [*DISTRICTS, TOP]
    assert re.search(r"<tfoot><tr><td colspan=\"2\">合计</td>", page)
    assert re.findall(r'data-indicator="([^"]+)"', page) == summary.indicators["id"].to_list()
    assert "上期" not in page and "未发现问题" in page
    # self-contained: no file, stylesheet, script or image is fetched from anywhere
    assert not re.search(r"\b(src|href)\s*=|@import|url\(", page)
    assert "data-rendered" not in page  # only the script sets it: the browser test relies on that
    assert set(re.findall(r"https?://[^\s\"']+", page)) == {"http://www.w3.org/2000/svg"}  # a namespace name


def test_report_in_english_is_in_english(host, city, tmp_path):
    """Written with lang "en" (tongji --lang en rollup … --format html), the report's own words are English, as
    the messages, reasons and group names it shows already are; the names of units and indicators stay as
    written. In Chinese nothing changes."""
    summary = top_summary(city)
    write_summary(summary, tmp_path / "en", load_spec(), ("html",), "en")
    page = (tmp_path / "en" / REPORT).read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "<title>Trade-union statistics summary: 示例市总工会, 2025</title>" in page
    for heading in ("Key figures", "Charts", "Indicators", "Grouped breakdown", "Completeness", "Issues"):
        assert f"<h2>{heading}</h2>" in page, heading
    assert re.search(r'<tfoot><tr><td colspan="2">Total</td>', page) and "（本级）" not in page
    assert f"<td>{summary.name} (本级)</td>" in page
    assert "No issues found (error 0, warning 0, notice 0)." in page
    assert chart_data(page)["words"] == {"no-data": "no data", "people": "", "total-line": "Total "}
    visible = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", page, flags=re.S)
    for word in ("关键数字", "图表", "派生指标", "完整性", "问题清单", "合计", "上期", "同比", "下级单位",
                 "工会统计汇总报告"):
        assert word not in visible, word
    write_summary(summary, tmp_path / "zh", load_spec(), ("html",))
    chinese = (tmp_path / "zh" / REPORT).read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in chinese and "<h2>关键数字</h2>" in chinese


def test_report_shows_the_groups_sheet(host, city, tmp_path):
    """分组 as the workbook has it: a row per grouping and group, whose 会员 add up, grouping by grouping, to the
    总计 at the table's foot and to the summary's total."""
    summary, spec = top_summary(city), load_spec()
    write_summary(summary, tmp_path, spec, ("html",))
    page = (tmp_path / REPORT).read_text(encoding="utf-8")
    assert page.index('<section id="groups">') < page.index('<section id="completeness">')
    section = re.search(r'<section id="groups">(.*?)</section>', page, re.S).group(1)
    members = [c.name for c in spec.group_columns].index(next(c.name for c in spec.group_columns if c.key == "HY03"))
    foot = re.search(r'<tfoot><tr><td colspan="2">总计</td>(.*?)</tr>', section).group(1)
    total = int(re.findall(r'<td class="num">([^<]*)</td>', foot)[members].replace(",", ""))
    assert total == summary.total("HY03") == city.expected(TOP)["HY03"]
    sums: dict[str, int] = {}
    for grouping, cells in re.findall(r'<tr data-grouping="([^"]+)"><td>[^<]*</td><td>[^<]*</td>(.*?)</tr>', section):
        value = re.findall(r'<td class="num">([^<]*)</td>', cells)[members]
        sums[grouping] = sums.get(grouping, 0) + int(value.replace(",", ""))
    assert sums and set(sums) == set(summary.groups["grouping"].unique().to_list()) - {""}
    assert set(sums.values()) == {total}


def test_rerun_writes_identical_bytes(host, city, tmp_path):
    spec = load_spec()
    write_summary(top_summary(city), tmp_path / "a", spec, ("html",))
    write_summary(top_summary(city), tmp_path / "b", spec, ("html",))
    first = (tmp_path / "a" / REPORT).read_bytes()
    assert first == (tmp_path / "b" / REPORT).read_bytes()
    write_summary(top_summary(city), tmp_path / "a", spec, ("html",))  # over the old file
    assert (tmp_path / "a" / REPORT).read_bytes() == first


def test_per_child_chart_data_adds_up_by_plain_python(host, city, tmp_path):
    summary = top_summary(city)
    write_summary(summary, tmp_path, load_spec(), ("html",))
    data = chart_data((tmp_path / REPORT).read_text(encoding="utf-8"))
    members = {c["code"]: c["members"] for c in data["children"]}
    expected = {d: city.expected(d)["HY03"] for d in DISTRICTS} | {TOP: city.units[TOP]["values"]["HY03"]}
    assert members == expected
    assert sum(members.values()) == summary.total("HY03")
    for c in data["children"]:
        staff = city.expected(c["code"])["HY01"] if c["code"] != TOP else city.units[TOP]["values"]["HY01"]
        assert c["rate"] == pytest.approx(c["members"] / staff)
    assert [i["code"] for i in data["income"]] == ["JF02", "JF03", "JF04", "JF05", "JF06", "JF07", "JF08", "JF09"]
    assert [i["code"] for i in data["expense"]] == ["JF11", "JF12", "JF15", "JF16", "JF17", "JF18", "JF19"]
    assert sum(i["value"] for i in data["income"]) == pytest.approx(summary.total("JF01"))
    assert sum(i["value"] for i in data["expense"]) == pytest.approx(summary.total("JF10"))
    assert data["income"][6]["value"] < 0  # 投资收益 may be negative: drawn left of the zero line


def test_street_level_charts_show_grassroots_units(host, city, tmp_path):
    street = "330101001"
    summary = rollup_all(city.folder, registry=city.registry, period="2025")[street]
    write_summary(summary, tmp_path, load_spec(), ("html",))
    data = chart_data((tmp_path / f"{street}_2025_报告.html").read_text(encoding="utf-8"))
    assert [c["code"] for c in data["children"]] == [*city.children[street], street]
    assert [c["members"] for c in data["children"]] == [city.units[c]["values"]["HY03"]
                                                       for c in [*city.children[street], street]]


def test_text_is_escaped_and_json_cannot_close_its_script(host, city, tmp_path):
    from tongji_html_report import write_html

    summary = top_summary(city)
    evil = "甲</script><script>alert(1)</script>&amp;"
    completeness = summary.completeness.with_columns(
        summary.completeness["child_name"].replace({"第1区总工会": evil}))
    summary = dataclasses.replace(summary, name=evil, completeness=completeness)
    [path] = write_html(summary, tmp_path, load_spec())
    page = path.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and page.count("</script>") == 2  # the data block's and the code's
    assert "甲&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;" in page
    assert chart_data(page)["children"][0]["name"] == evil


def test_previous_period_adds_previous_and_change(host, tmp_path):
    last = build(tmp_path / "last", [[1]], period="2024")
    write_summary(rollup(last.folder, registry=last.registry, unit=TOP, period="2024"), tmp_path / "上期", load_spec())

    def grown(i, benji):  # this year: opening balance = last closing balance, and more members
        v = last.units[list(last.units)[i]]["values"]
        return v | {"JF20": v["JF21"], "JF21": v["JF21"] + v["JF01"] - v["JF10"],
                    "HY01": v["HY01"] + 10, "HY03": v["HY03"] + 9}

    now = build(tmp_path / "now", [[1]], values=grown)
    summary = rollup(now.folder, registry=now.registry, unit=TOP, period="2025",
                     previous=tmp_path / "上期" / f"{TOP}_2024_汇总.xlsx")
    assert summary.has_previous and not summary.has_errors, summary.issues
    write_summary(summary, tmp_path / "out", load_spec(), ("html",))
    page = (tmp_path / "out" / REPORT).read_text(encoding="utf-8")
    assert "<th class=\"num\">上期</th><th class=\"num\">同比</th>" in page
    hy03 = summary.totals.filter(summary.totals["code"] == "HY03").row(0, named=True)
    assert f"上期 {round(hy03['previous']):,} · 同比 " in page
    assert f"{hy03['change']:+.1%}" in page


# --- the command -------------------------------------------------------------------------------------------


def invoke(plugin_dir: Path, *args):
    cli._register()
    return CliRunner().invoke(cli.app, ["--plugins-dir", str(plugin_dir), *[str(a) for a in args]])


def test_rollup_format_html_from_the_command_line(plugin_dir, city, tmp_path):
    out = tmp_path / "汇总"
    result = invoke(plugin_dir, "rollup", city.folder, "-r", city.registry, "-p", "2025", "-o", out, "--all",
                    "--format", "html")
    assert result.exit_code == 0, result.output
    nodes = [c for c, u in city.units.items() if u["层级"] != "基层"]
    assert sorted(p.name for p in out.glob("*_报告.html")) == sorted(f"{n}_2025_报告.html" for n in nodes)
    assert not list(out.glob("*.xlsx"))  # only the formats asked for (and the parquet tables, always)


def test_unknown_format_lists_the_available_ones(plugin_dir, city, tmp_path):
    out = tmp_path / "汇总"
    result = invoke(plugin_dir, "rollup", city.folder, "-r", city.registry, "-p", "2025", "-o", out, "--all",
                    "--format", "pdf")
    assert result.exit_code == 2, result.output
    assert "pdf" in result.output and "Traceback" not in result.output
    available = re.search(r"可用：([^）]*)）", result.output).group(1)
    assert {"html", "xlsx", "csv", "json", "parquet"} <= set(available.split("、"))


# --- a real browser ----------------------------------------------------------------------------------------


@pytest.fixture
def chromium(tmp_path):
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs it): the charts are not drawn by a browser here")
    runs = iter(range(100))

    def run(*args: str) -> subprocess.CompletedProcess:
        profile = tmp_path / f"chromium-profile-{next(runs)}"  # a fresh profile for every run
        return subprocess.run([exe, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, timeout=60, check=False)

    return run


def test_browser_runs_the_script_and_draws_the_charts(chromium, host, city, tmp_path):
    summary = top_summary(city)
    write_summary(summary, tmp_path / "out", load_spec(), ("html",))
    url = (tmp_path / "out" / REPORT).as_uri()

    dumped = chromium("--dump-dom", url)
    dom = dumped.stdout.decode("utf-8")
    assert dumped.returncode == 0 and "<body" in dom, dumped.stderr.decode("utf-8", "replace")[-2000:]
    assert 'data-rendered="1"' in re.search(r"<body\b[^>]*>", dom).group(0)  # the first <body: the real one
    svgs = {i: re.search(rf'<svg id="{i}"[^>]*>(.*?)</svg>', dom, re.S).group(1) for i in CHARTS}
    bars = {i: len(re.findall(r"<rect\b", svg)) for i, svg in svgs.items()}
    assert bars == {"chart-members": 3, "chart-rate": 3, "chart-income": 8, "chart-expense": 7}
    for name in ("第1区总工会", "第2区总工会", "示例市总工会（本级）"):
        assert name in svgs["chart-members"] and name in svgs["chart-rate"]
    assert "会费收入" in svgs["chart-income"] and "职工活动支出" in svgs["chart-expense"]
    assert f"{summary.total('JF03'):,.2f}" in svgs["chart-income"]

    shot = tmp_path / "report.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1280,2400", url)
    assert result.returncode == 0 and shot.is_file(), result.stderr.decode("utf-8", "replace")[-2000:]
    assert shot.stat().st_size > 50_000
    width, height, pixels = read_png(shot)
    assert (width, height) == (1280, 2400)
    # every colour the script gave a visible bar is on the screen, over many pixels: the charts were painted
    fills = {fill for w, fill in re.findall(r'<rect[^>]*width="([\d.]+)"[^>]*fill="#([0-9a-f]{6})"', dom)
             if float(w) > 20}
    assert len(fills) >= 4
    counts = count_colours(pixels, {bytes.fromhex(f) for f in fills})
    assert all(n > 200 for n in counts.values()), counts


# --- PNG reading with the standard library only -----------------------------------------------------------


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB or RGBA PNG, unfiltered (PNG spec §9)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, head = 8, [], None
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
    width, height, depth, colour, _, _, interlace = head
    assert depth == 8 and colour in (2, 6) and interlace == 0, head
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), prev, bpp)
        rows.append(bytes(line) if bpp == 3 else b"".join(line[i:i + 3] for i in range(0, stride, 4)))
        prev = line
    return width, height, rows


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> bytearray:
    if kind == 1:  # Sub
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif kind == 2:  # Up
        line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
    elif kind == 3:  # Average
        for i in range(len(line)):
            line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
    elif kind == 4:  # Paeth
        for i in range(len(line)):
            a, b, c = (line[i - bpp], prev[i], prev[i - bpp]) if i >= bpp else (0, prev[i], 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return line


def count_colours(rows: list[bytes], colours: set[bytes]) -> dict[str, int]:
    counts = dict.fromkeys(colours, 0)
    for row in rows:
        for i in range(0, len(row), 3):
            pixel = row[i:i + 3]
            if pixel in counts:
                counts[pixel] += 1
    return {c.hex(): n for c, n in counts.items()}


def test_report_shows_late_units_and_rates(host, tmp_path):
    """With a deadline, 完整性 in the report has 迟报, 报送率 and 及时率, and names each late unit with its date."""
    late_city = build(tmp_path / "late", [[2]])
    street = late_city.children["330101"][0]
    unit = late_city.children[street][1]
    late_city.write(unit, late_city.units[unit]["file"], FM10="2026-02-03")
    summary = rollup(late_city.folder, registry=late_city.registry, unit=street, period="2025", deadline="2026-01-20")
    write_summary(summary, tmp_path / "out", load_spec(), ("html",))
    page = (tmp_path / "out" / f"{street}_2025_报告.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="completeness">'):]
    assert all(h in section for h in ("<th class=\"num\">迟报</th>", "报送率", "及时率"))
    assert "66.67%" in section  # 及时率: 2 of 3 (two grassroots units and the 街道's own) on time
    assert "采用（迟报，2026-02-03）" in section and unit in section
    without = rollup(late_city.folder, registry=late_city.registry, unit=street, period="2025")
    write_summary(without, tmp_path / "plain", load_spec(), ("html",))
    plain = (tmp_path / "plain" / f"{street}_2025_报告.html").read_text(encoding="utf-8")
    assert "及时率" not in plain and "报送率" in plain
