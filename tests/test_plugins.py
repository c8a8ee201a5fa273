"""Plugins: the example plugins end to end, and every way a plugin can be wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tongji import cli, plugins
from tongji.errors import TongjiError
from tongji.plugins import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES, FIXTURES = ROOT / "plugins", Path(__file__).resolve().parent / "plugins"


def folder_with(tmp_path, *sources: Path) -> Path:
    folder = tmp_path / "插件"
    folder.mkdir(exist_ok=True)
    for src in sources:
        (shutil.copytree if src.is_dir() else shutil.copy)(src, folder / src.name)
    return folder


def use(tmp_path, *sources: Path):
    return plugins.configure(folder_with(tmp_path, *sources), entry_points=False)


# --- the example plugins ------------------------------------------------------------------------

def test_hangzhou_rows_rule_and_indicator_everywhere(tmp_path):
    from city import build, values_for
    from tongji.aggregating.rollup import rollup_all
    from tongji.definitions.registry import load_registry
    from tongji.writing.template import make_templates
    from workbooks import cell_of, make_workbook

    use(tmp_path, EXAMPLES / "hangzhou_internet.toml")
    spec = load_spec()
    assert [r.code for r in spec.rows.values() if r.form == "JH"][-2:] == ["JH31", "JH32"]
    city = build(tmp_path / "city", [[2], [1]],
                 values=lambda i, benji: values_for(1 + i % 3, benji) | {"JH31": 4 + i, "JH32": 3})
    # template: the new rows are on 建会
    written = make_templates(load_registry(city.registry), "2025", tmp_path / "模板")
    ws = openpyxl.load_workbook(written[-1])["建会"]
    assert {"JH31", "JH32"} <= {c.value for c in ws["B"]}
    # validate: the new rule
    import tongji

    make_workbook(tmp_path / "bad" / "x.xlsx", {"JH31": 2, "JH32": 5})
    report = tongji.validate(tmp_path / "bad")
    assert [cell_of("JH32"), "hz-jh32-le-jh31"] in report.flatten(["cell", "rule"])
    # rollup: the new indicator at every level, from summed numerator and denominator
    for node, summary in rollup_all(city.folder, registry=city.registry, period="2025").items():
        num = sum(city.units[u]["values"]["JH32"] for u in city.subtree(node))
        den = sum(city.units[u]["values"]["JH31"] for u in city.subtree(node))
        assert summary.rate("互联网企业建会率") == pytest.approx(num / den), node


def test_transport_new_form_sheet(tmp_path):
    import tongji
    from workbooks import cell_of, make_workbook

    use(tmp_path, EXAMPLES / "transport_ankang.toml")
    assert [f.sheet for f in load_spec().forms][-1] == "安康杯"
    make_workbook(tmp_path / "in" / "a.xlsx", {"AK01": 10, "AK02": 12, "AK03": 50, "AK04": 1})
    report = tongji.validate(tmp_path / "in")
    assert report.flatten(["cell", "rule"]) == [[cell_of("AK02"), "ak02-le-ak01"]]
    assert cell_of("AK02").startswith("安康杯!")


def test_province_share_changes_the_allocation_check(tmp_path):
    import tongji
    from workbooks import make_workbook

    # JF22 = 10,000,000: 2% × 50% = 100,000. GOOD has JF03 = 120,000 (the 60% default), within 20% of it
    values = {"JF03": 80000, "JF01": 95799.5, "JF21": 28799.5}
    make_workbook(tmp_path / "in" / "a.xlsx", values)
    assert "jf03-allocation" in tongji.validate(tmp_path / "in").issues["rule"].to_list()
    use(tmp_path, EXAMPLES / "province_share.toml")
    assert load_spec().params["留成比例"] == 0.5
    assert tongji.validate(tmp_path / "in").issues.height == 0


def test_plugins_command_lists_what_each_registered(tmp_path):
    folder = folder_with(tmp_path, *[EXAMPLES / f for f in ("hangzhou_internet.toml", "province_share.toml")])
    cli._register()
    result = CliRunner().invoke(cli.app, ["--plugins-dir", str(folder), "plugins"])
    assert result.exit_code == 0, result.output
    assert "hangzhou_internet" in result.output and "指标行：JH.JH31、JH.JH32" in result.output
    assert "配置：留成比例=0.5" in result.output
    english = CliRunner().invoke(cli.app, ["--lang", "en", "--plugins-dir", str(folder), "plugins"])
    assert english.exit_code == 0, english.output
    text = " ".join(english.output.split())
    assert "rows: JH.JH31, JH.JH32; rules: hz-jh32-le-jh31, hz-jh31-le-jh01" in text
    assert "configuration: 留成比例=0.5" in text and "built-in" in text
    assert not [w for w in ("、", "；", "：", "内置", "审核关系", "等共") if w in text]


def test_only_the_plugins_asked_for(tmp_path, monkeypatch):
    folder = folder_with(tmp_path, EXAMPLES / "hangzhou_internet.toml", EXAMPLES / "province_share.toml")
    monkeypatch.setenv("TONGJI_LOAD_PLUGINS", "province_share")
    host = plugins.configure(folder, entry_points=False)
    assert set(host.infos) == {"tongji", "province_share"}



def test_a_plugin_asked_for_that_is_not_there_is_an_error(tmp_path, monkeypatch):
    """TONGJI_LOAD_PLUGINS=hangzhou_internt (misspelt): the workbooks were checked without the local rules, and
    nothing said so. A plugin asked for and not found is a plugin that failed to load."""
    folder = folder_with(tmp_path, EXAMPLES / "hangzhou_internet.toml", EXAMPLES / "province_share.toml")
    monkeypatch.setenv("TONGJI_LOAD_PLUGINS", "hangzhou_internt,province_share")
    host = plugins.configure(folder, entry_points=False)
    said = "TONGJI_LOAD_PLUGINS 中的插件 hangzhou_internt 没有找到：已安装的插件和插件文件夹中都没有这个名字"
    assert host.errors == {"hangzhou_internt": said}
    cli._register()
    result = CliRunner().invoke(cli.app, ["--plugins-dir", str(folder), "validate", str(tmp_path)])
    assert result.exit_code == 2 and f"插件 hangzhou_internt 无法加载：{said}" in result.output

# --- what can go wrong ---------------------------------------------------------------------------

def write(tmp_path, name: str, text: str) -> Path:
    folder = tmp_path / "插件"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_two_plugins_registering_the_same_code(tmp_path):
    row = '[[extend]]\nform = "{form}"\nrows = [{{ code = "JH31", name = "{name}", kind = "count" }}]\n'
    write(tmp_path, "a.toml", row.format(form="JH", name="甲"))
    folder = write(tmp_path, "b.toml", row.format(form="HY", name="乙"))
    with pytest.raises(TongjiError) as exc:
        _ = plugins.configure(folder, entry_points=False).spec
    assert str(exc.value) == "“JH31”被两个插件重复注册：a 和 b"


def test_row_for_a_form_that_does_not_exist(tmp_path):
    folder = write(tmp_path, "x.toml", '# 注释\n\n[[extend]]\nform = "ZZ"\nrows = []\n')
    with pytest.raises(TongjiError) as exc:
        _ = plugins.configure(folder, entry_points=False).spec
    assert str(exc.value).startswith("定义文件 x.toml 第 4 行有误：表“ZZ”不存在")


def test_rule_naming_an_unknown_code(tmp_path):
    folder = write(tmp_path, "r.toml", '[[rule]]\nid = "r1"\nseverity = "错误"\ncheck = "HY01 <= QQ99"\n')
    with pytest.raises(TongjiError) as exc:
        _ = plugins.configure(folder, entry_points=False).spec
    assert str(exc.value) == "定义文件 r.toml 第 4 行有误：未知的指标代码或参数“QQ99”"  # the line of `check`


def test_bad_expression_is_reported_with_file_and_line(tmp_path):
    folder = write(tmp_path, "e.toml", '\n[[indicator]]\nid = "率"\nnumerator = "HY03 )"\ndenominator = "HY01"\n')
    with pytest.raises(TongjiError, match="定义文件 e.toml 第 4 行有误：多余的内容"):
        _ = plugins.configure(folder, entry_points=False).spec


def test_a_division_by_zero_in_a_plugins_expression_is_no_value_not_infinity(tmp_path):
    """A rule is not judged on a workbook where its divisor is 0, and a rate is blank: before, the rule returned
    every workbook with "m inf", and the summary's JSON held NaN and Infinity, which no JSON reader accepts."""
    import json

    import tongji
    from tongji.testing import load_plugin, make_city
    from tongji.writing.summary_files import write_summary

    plugin = write(tmp_path, "z.toml", '[[rule]]\nid = "by-zero"\nseverity = "错误"\n'
                   'check = "HY03 / (HY01 - HY01) <= 100"\nmessage = "m"\n\n'
                   '[[indicator]]\nid = "零率"\nname = "零率"\nnumerator = "HY03 / (HY02 - HY02)"\n'
                   'denominator = "HY01"\nunit = "%"\nfrom = "基层"\n') / "z.toml"
    host = load_plugin(plugin)
    assert host.errors == {}
    city = make_city(tmp_path / "c", host, streets=(2,))
    report = tongji.validate(city.folder, registry=city.registry, period="2025", spec=host.spec)
    assert "by-zero" not in report.issues["rule"].to_list() and report.exit_code == 0
    summary = tongji.rollup(city.folder, registry=city.registry, unit="330106001", period="2025", spec=host.spec)
    path = next(p for p in write_summary(summary, tmp_path / "out", host.spec, ("json",)) if p.suffix == ".json")
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    rate = next(i for i in json.loads(text)["indicators"] if i["id"] == "零率")
    assert rate["numerator"] is None and rate["value"] is None
    assert rate["note"] == "HY03 / (HY02 - HY02) 中的除数为 0，不计算"


def test_a_plugin_row_name_that_looks_like_a_formula_stays_text(tmp_path):
    """A row's name is the plugin's text: in the template and in a summary it is a string, never a live formula."""
    import tongji
    from tongji.testing import load_plugin, make_city
    from tongji.writing.summary_files import write_summary

    name = '=HYPERLINK("http://example.com","点")'
    host = load_plugin(write(tmp_path, "f.toml", f'[[extend]]\nform = "JH"\nrows = [{{ code = "JH41", name = '
                                                   f"'{name}', unit = '{name}', kind = \"count\" }}]\n") / "f.toml")
    assert host.errors == {}
    city = make_city(tmp_path / "c", host, streets=(1,))
    summary = tongji.rollup(city.folder, registry=city.registry, unit="330106001", period="2025", spec=host.spec)
    book = next(p for p in write_summary(summary, tmp_path / "out", host.spec) if p.suffix == ".xlsx")
    for path in (next((tmp_path / "c" / "模板").glob("*.xlsx")), book):  # its name, and its unit (计量单位)
        cells = [c for row in openpyxl.load_workbook(path)["建会"].iter_rows() for c in row if c.value == name]
        assert len(cells) == 2 and {c.data_type for c in cells} == {"s"}, path
    # 明细's second row names each column: the plugin's name there is text too
    cells = [(ws.title, c.coordinate, c.data_type) for ws in openpyxl.load_workbook(book) for row in ws.iter_rows()
             for c in row if c.value == name]
    assert ("明细", "AN2", "s") in cells and all(kind == "s" for *_, kind in cells), cells


def test_a_plugin_form_title_that_looks_like_a_formula_stays_text(tmp_path):
    """A new form's title heads its sheet (A1) in the template and, with （汇总）, in a summary: text, never a live
    formula (in a summary it was not even a valid one, and Excel offered to repair the file)."""
    import tongji
    from tongji.testing import load_plugin, make_city
    from tongji.writing.summary_files import write_summary_workbook

    title = '=HYPERLINK("http://example.com","点")'
    form = (f"[[form]]\nid = \"AK\"\nsheet = \"安康杯\"\ntitle = '{title}'\n"
            'rows = [{ code = "AK01", name = "班组数", kind = "count" }]\n')
    host = load_plugin(write(tmp_path, "f.toml", form) / "f.toml")
    assert host.errors == {}
    city = make_city(tmp_path / "c", host, streets=(1,))
    summary = tongji.rollup(city.folder, registry=city.registry, unit="330106001", period="2025", spec=host.spec)
    books = [write_summary_workbook(summary, tmp_path / f"{stamped}.xlsx", host.spec, stamped=stamped)
             for stamped in (True, False)]
    template = next((tmp_path / "c" / "模板").glob("*.xlsx"))
    for path, text in ((template, title), *((book, f"{title}（汇总）") for book in books)):
        cell = openpyxl.load_workbook(path)["安康杯"]["A1"]
        assert (cell.value, cell.data_type) == (text, "s"), path


def test_plugin_that_raises_on_import(tmp_path):
    folder = folder_with(tmp_path, FIXTURES / "broken_import.py")
    host = plugins.configure(folder, entry_points=False)
    said = f"RuntimeError: 数据库连不上（{folder / 'broken_import.py'} 第 3 行）"  # where the plugin's code raised
    assert host.errors == {"broken_import": said}
    cli._register()
    runner = CliRunner()
    listing = runner.invoke(cli.app, ["--plugins-dir", str(folder), "plugins"])
    assert listing.exit_code == 1 and "数据库连不上" in listing.output
    result = runner.invoke(cli.app, ["--plugins-dir", str(folder), "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert f"插件 broken_import 无法加载：{said}" in result.output
    assert runner.invoke(cli.app, ["--plugins-dir", str(folder), "--help"]).exit_code == 0


def test_misspelt_hook_fails_loudly(tmp_path):
    host = use(tmp_path, FIXTURES / "misspelt.py")
    assert "register_froms" in host.errors["misspelt"]
    with pytest.raises(TongjiError, match="插件 misspelt 无法加载：未知的钩子"):
        _ = host.spec


def test_unknown_output_format_and_plugin_format(tmp_path):
    from city import build
    from tongji.aggregating.rollup import rollup
    from tongji.writing.summary_files import write_summary

    host = use(tmp_path, FIXTURES / "command.py")
    assert set(host.writers) == {"xlsx", "parquet", "csv", "json", "txt"}
    city = build(tmp_path / "c", [[1]])
    street = next(c for c, u in city.units.items() if u["层级"] == "街道")
    summary = rollup(city.folder, registry=city.registry, unit=street, period="2025")
    paths = write_summary(summary, tmp_path / "out", load_spec(), ("txt", "csv", "json"))
    assert {p.suffix for p in paths} == {".txt", ".csv", ".json", ".parquet"}
    with pytest.raises(TongjiError) as exc:
        write_summary(summary, tmp_path / "out", load_spec(), ("pdf",))
    assert str(exc.value) == "没有名为 pdf 的输出格式（可用：csv、json、parquet、txt、xlsx）"


def test_two_summary_writers_only_for_a_small_city_in_our_own_formats(tmp_path):
    from tongji.cli.rollup_command import SMALL_CITY, writer_threads

    use(tmp_path, FIXTURES / "command.py")
    spec = load_spec()
    assert writer_threads(1_000, spec, ["xlsx", "csv", "json"]) == 2
    assert writer_threads(SMALL_CITY + 1, spec, ["xlsx"]) == 1  # two big summaries would be held at once
    assert writer_threads(1_000, spec, ["xlsx", "txt"]) == 1  # a plugin's writer may not expect company


def test_plugin_commands_reach_the_cli(tmp_path, monkeypatch, capsys):
    folder = folder_with(tmp_path, FIXTURES / "command.py")
    monkeypatch.setattr("sys.argv", ["tongji", "--plugins-dir", str(folder), "hello", "--name", "北山"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 0
    assert "你好，北山" in capsys.readouterr().out


def test_the_scaffold_readme_keeps_an_installed_tongji(tmp_path):
    """The project depends on `tongji @ file://…`: installed with plain `pip install -e .` beside a tongji installed
    with `pip install -e`, pip replaces that tongji with a copy that is not editable. The README says how not to."""
    from tongji.plugins.scaffold import scaffold

    readme = (scaffold("my_region", tmp_path) / "README.md").read_text(encoding="utf-8")
    assert "pip install --no-deps -e ." in readme
    cli._register()
    said = CliRunner().invoke(cli.app, ["plugin", "new", "other_region", "-o", str(tmp_path)]).output
    assert f"pip install --no-deps -e {tmp_path / 'tongji-other_region'}" in " ".join(said.split())


def test_scaffolded_plugin_installs_and_passes_its_test(tmp_path):
    import subprocess
    import sys

    cli._register()
    result = CliRunner().invoke(cli.app, ["plugin", "new", "my_region", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    project = tmp_path / "tongji-my_region"
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
           "--target", str(target), str(project)]
    assert subprocess.run(pip, capture_output=True, text=True, timeout=300).returncode == 0
    env = {"PYTHONPATH": str(target), "TONGJI_ENTRY_POINTS": "1", "PATH": __import__("os").environ["PATH"]}
    found = subprocess.run([sys.executable, "-c", (
        "from tongji.plugins import Host; h = Host(); "
        "print(sorted(h.infos), [i.id for i in h.spec.indicators][-1])")],
        capture_output=True, text=True, env=env, timeout=120)
    assert "my_region" in found.stdout and "my_region_兼职工作人员占比" in found.stdout, found.stderr
    test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project / "tests")],
                          capture_output=True, text=True, env=env, timeout=120, cwd=project)
    assert test.returncode == 0, test.stdout + test.stderr
    again = CliRunner().invoke(cli.app, ["plugin", "new", "my_region", "-o", str(tmp_path)])
    assert again.exit_code == 2 and "已存在" in again.output


def test_every_hook_is_documented():
    """Walk the plugin manager's hooks: each has a section with its signature and an example in docs/plugins.md."""
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    hooks = [name for name in dir(plugins.host().pm.hook) if name.startswith("register_")]
    assert len(hooks) == 9
    for name in hooks:
        section = doc.split(f"### {name}\n", 1)
        assert len(section) == 2, f"docs/plugins.md has no section for {name}"
        body = section[1].split("\n### ", 1)[0]
        assert f"{name}(" in body and "@hookimpl" in body, name
        assert "```" in body, f"{name} has no example"
        from tongji.plugins import hookspecs

        assert getattr(hookspecs, name).__doc__, f"{name} has no docstring"
