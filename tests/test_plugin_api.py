"""The plugin API as a plugin author meets it: tongji.plugin, tongji.testing and docs/plugins.md."""

from __future__ import annotations

import ast
import importlib
import re
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from tongji import i18n
from tongji.errors import TongjiError
from tongji.testing import load_plugin, make_city, rollup, validate, write_outputs

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "plugins.md"
ALLOWED = {"tongji.plugin", "tongji.testing"}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def import_module_from(folder: Path, name: str, source: str):
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    sys.path.insert(0, str(folder))
    try:
        sys.modules.pop(name, None)
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


# --- Done when: a plugin written from docs/plugins.md alone ---------------------------------------

def test_the_complete_example_in_the_docs_works(tmp_path):
    """The plugin (check, writer using 区划代码, command) and its test, as docs/plugins.md prints them."""
    blocks = [b for b in python_blocks(DOC.read_text(encoding="utf-8")) if b.startswith(("# my_region.py",
                                                                                          "# test_my_region.py"))]
    assert len(blocks) == 2, "docs/plugins.md lost its complete example"
    code = tmp_path / "code"
    code.mkdir()
    import_module_from(code, "my_region", blocks[0])
    test = import_module_from(code, "test_my_region", blocks[1])
    try:
        (tmp_path / "run").mkdir()
        test.test_my_region(tmp_path / "run")
    finally:
        sys.modules.pop("my_region", None)
        sys.modules.pop("test_my_region", None)


def test_the_complete_examples_writer_on_a_level_with_no_accepted_units(tmp_path):
    """Every unit returned: the example's by-area writer gets an empty `units` and writes its file with the header
    only, as docs/plugins.md says, rather than failing the rollup."""
    from tongji.errors import PluginError
    from tongji.testing import run_command

    [example] = [b for b in python_blocks(DOC.read_text(encoding="utf-8")) if b.startswith("# my_region.py")]
    (tmp_path / "code").mkdir()
    try:
        host = load_plugin(import_module_from(tmp_path / "code", "my_region", example))
        city = make_city(tmp_path / "city", host, streets=(1,), values={"HY02": 200})  # HY02 > HY01: 错误 everywhere
        top = rollup(host, city)[city.top]
        assert top.detail.is_empty()
        [path] = [p for p in write_outputs(host, top, tmp_path / "out", ["by-area"]) if p.suffix == ".csv"]
        assert path.read_bytes() == "街道区划,单位数,会员,平均入会率\n".encode()
        with pytest.raises(PluginError, match="区划代码前缀只能是数字"):
            run_command(host, ["areas", "--prefix", "西湖"])
    finally:
        sys.modules.pop("my_region", None)


def example_sources() -> list[tuple[str, str]]:
    found = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
             for folder in (ROOT / "tests" / "plugins", ROOT / "plugins")
             for p in sorted(folder.rglob("*.py"))]
    found += [(f"docs/plugins.md block {i}", b) for i, b in enumerate(python_blocks(DOC.read_text(encoding="utf-8")))]
    from tongji.plugins import scaffold

    found += [(f"scaffold {n}", t.format(name="x", requirement="tongji"))
              for n, t in (("PLUGIN", scaffold.PLUGIN), ("TEST", scaffold.TEST))]
    return found


def test_plugin_examples_import_only_the_public_modules():
    bad = []
    for where, source in example_sources():
        for node in ast.walk(ast.parse(textwrap.dedent(source))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            bad += [(where, n) for n in names if (n == "tongji" or n.startswith("tongji.")) and n not in ALLOWED]
    assert bad == []


def test_every_public_name_is_documented():
    import tongji.plugin

    doc = DOC.read_text(encoding="utf-8")
    for name in ("Spec", "Summary", "Registry", "ValidationReport", "PluginError", "write_bytes", "save_workbook",
                 "summary_stem", "HOOK_API_VERSION"):
        assert name in tongji.plugin.__all__ and f"`{name}" in doc, name
    for field in tongji.plugin.ISSUE_FIELDS:
        assert f"`{field}`" in doc, field
    for field in tongji.plugin.CHECK_RETURNS:
        assert f"`{field}`" in doc, field


# --- pluggy calling ---------------------------------------------------------------------------------

class NoArguments:
    """An implementation may take fewer arguments than the hook offers: pluggy passes what it names."""

    def __init__(self):
        self.called = False

    from tongji.plugin import hookimpl

    @hookimpl
    def register_forms(self):
        self.called = True


def test_an_implementation_may_take_a_subset_of_the_arguments():
    plugin = NoArguments()
    host = load_plugin(plugin, name="subset")
    assert host.errors == {}
    _ = host.spec
    assert plugin.called


def test_tryfirst_and_trylast_order_the_plugins():
    from tongji.plugin import hookimpl

    order = []

    def make(tag, **opts):
        class P:
            @hookimpl(**opts)
            def register_config(self, register):
                order.append(tag)
        return P()

    host = load_plugin(builtins_only=True)
    for tag, opts in (("a", {}), ("last", {"trylast": True}), ("b", {}), ("first", {"tryfirst": True})):
        host.add(tag, make(tag, **opts))
    _ = host.spec
    assert order == ["first", "a", "b", "last"]


# --- the check hook ---------------------------------------------------------------------------------

class Checks:
    from tongji.plugin import hookimpl

    def __init__(self, check, severity="错误", scope="全部"):
        self.check, self.severity, self.scope = check, severity, scope

    @hookimpl
    def register_checks(self, register):
        register("members-round", self.check, self.severity, "会员人数 {HY03} 不是 10 的倍数", scope=self.scope)


def test_a_check_returns_a_workbook_and_marks_its_cell(tmp_path):
    def members_round(table):
        return table.filter(pl.col("HY03") % 10 != 0).select("file", pl.lit("HY03").alias("code"))

    host = load_plugin(Checks(members_round), name="round")
    city = make_city(tmp_path, host, streets=(2,), values=lambda code, u: {"HY03": 85} if u["层级"] == "基层"
                     and code.endswith("G") else {})
    report = validate(host, city)
    failing = report.issues.filter(pl.col("rule") == "members-round")
    assert failing.height == 1 and failing["message"][0] == "会员人数 85 不是 10 的倍数"
    assert failing["cells"][0].to_list() == [failing["cell"][0]] and failing["cell"][0].startswith("会员!D")
    assert report.workbooks.filter(pl.col("status") == "退回").height == 1
    top = rollup(host, city)[city.top]
    assert top.detail.filter(pl.col("类型") == "基层").height == 1  # the returned workbook is not summed


def test_a_checks_messages_are_kept_in_both_languages(tmp_path):
    """The check writes both; the report keeps both (as params) and is written in either, in one process."""
    from tongji.plugin import hookimpl

    def members_round(table):
        odd = table.filter(pl.col("HY03") % 10 != 0)
        return [{"file": f, "code": "HY03", "message": "会员数有零头", "message_en": "Members are not rounded"}
                for f in odd["file"]] + odd.select("file", pl.lit("HY01").alias("code")).to_dicts()

    class Bilingual:
        @hookimpl
        def register_checks(self, register):
            register("members-round", members_round, "警告", "会员人数 {HY03} 不是 10 的倍数",
                     "{HY03} members: not a multiple of 10")

    host = load_plugin(Bilingual(), name="two")
    city = make_city(tmp_path, host, streets=(1,), values=lambda code, u: {"HY03": 85} if u["层级"] == "基层" else {})
    report = validate(host, city)
    mine = report.issues.filter(pl.col("rule") == "members-round").sort("code", descending=True)
    assert mine["message"].to_list() == ["会员数有零头", "会员人数 85 不是 10 的倍数"]
    english = report.issues_in("en").filter(pl.col("rule") == "members-round").sort("code", descending=True)
    assert english["message"].to_list() == ["Members are not rounded", "85 members: not a multiple of 10"]
    assert report.issues_in("zh")["message"].equals(report.issues["message"])


def test_a_check_asks_for_the_registry_and_the_period(tmp_path):
    seen = {}

    def check(table, registry, period):
        seen.update(registry=registry is not None, period=period, columns=table.columns[:3])

    host = load_plugin(Checks(check), name="asks")
    validate(host, make_city(tmp_path, host, streets=(1,)))
    assert seen == {"registry": True, "period": "2025", "columns": ["file", "类型", "FM01"]}


def test_a_check_scoped_to_benji_sees_only_benji_workbooks(tmp_path):
    kinds = set()
    host = load_plugin(Checks(lambda table: kinds.update(table["类型"].to_list()), scope="本级"), name="benji")
    validate(host, make_city(tmp_path, host, streets=(1,)))
    assert kinds == {"本级"}


@pytest.mark.parametrize("returned, detail, detail_en", [
    ([{"fiel": "x"}], "未知的字段 fiel（可用：file、", "unknown fields fiel (known: file, "),
    ([{"code": "HY03"}], "缺少 file", "no file"),
    ([{"file": "nowhere.xlsx"}], "不是本次审核的工作簿", "is not a workbook of this validation"),
    ("oops", "应返回 polars DataFrame", "it should return a polars DataFrame"),
])
def test_a_check_returning_nonsense_is_one_line(tmp_path, monkeypatch, returned, detail, detail_en):
    host = load_plugin(Checks(lambda table: returned), name="bad")
    city = make_city(tmp_path, host, streets=(1,))
    with pytest.raises(TongjiError) as exc:
        validate(host, city)
    assert str(exc.value).startswith("插件 bad 的检查 members-round 返回的问题有误") and detail in str(exc.value)
    monkeypatch.setattr(i18n, "_lang", "en")  # said in English in English, not half in Chinese
    assert str(exc.value).startswith("Check members-round of plugin bad returned a bad issue: ")
    assert detail_en in str(exc.value)


def test_plugin_error_and_a_plugins_bug_are_one_line(tmp_path, monkeypatch):
    from tongji.plugin import PluginError

    def refuses(table):
        raise PluginError("区划代码表缺少 330106", "The area table lacks 330106")

    def crashes(table):
        return 1 / 0

    file, line = __file__, crashes.__code__.co_firstlineno + 1  # the line of the plugin's code that raised
    for check, expected in ((refuses, "插件 say：区划代码表缺少 330106"),
                            (crashes, f"插件 say 在 检查 members-round 中出错（{file} 第 {line} 行）："
                                      "ZeroDivisionError: division by zero")):
        host = load_plugin(Checks(check), name="say")
        with pytest.raises(TongjiError) as exc:
            validate(host, make_city(tmp_path / check.__name__, host, streets=(1,)))
        assert str(exc.value) == expected
    monkeypatch.setattr(i18n, "_lang", "en")
    assert str(exc.value) == (f"Plugin say failed in check members-round ({file} line {line}): "
                              "ZeroDivisionError: division by zero")


def test_a_writer_gets_the_units_with_their_area_and_rates(tmp_path):
    from tongji.plugin import hookimpl, write_bytes

    got = {}

    class Writer:
        @hookimpl
        def register_output_formats(self, register):
            def write(summary, out_dir, units, registry):
                got.update(units=units, registry=registry)
                return [write_bytes(out_dir / "x.txt", b"x")]
            register("x", write)

    host = load_plugin(Writer(), name="w")
    city = make_city(tmp_path, host, streets=(2,))
    top = rollup(host, city)[city.top]
    write_outputs(host, top, tmp_path / "out", ["x"])
    units = got["units"]
    assert units.height == top.detail.height and got["registry"] is not None
    row = units.filter(pl.col("类型") == "基层").row(0, named=True)
    assert row["所在地区划代码"].startswith("330106001") and row["FM06"] == "170"
    assert row["入会率"] == pytest.approx(90 / 100)
    # 建会率 (from 街道) needs the whole 辖区: a 本级 row's own JH01 over the 辖区's JH21 is not it, so it is blank
    office = units.filter(pl.col("类型") == "本级").row(0, named=True)
    assert (office["建会率"], office["辖区职工入会率"], office["入会率"]) == (None, None, pytest.approx(0.9))


def test_a_writer_that_asks_for_lang_gets_the_language_written_in(tmp_path):
    """One writer names `lang`, one does not (pluggy-style: each gets what it names); both write in one process."""
    from tongji.plugin import hookimpl, write_bytes

    got = []

    class Writers:
        @hookimpl
        def register_output_formats(self, register):
            def titled(summary, out_dir, lang):
                reasons = summary.units.filter(pl.col("status") == "缺报")["reason"].to_list()
                got.append((lang, reasons[0]))
                return [write_bytes(out_dir / f"{summary.unit}.{lang}.txt", lang.encode())]

            def plain(summary, out_dir):
                return [write_bytes(out_dir / f"{summary.unit}.txt", summary.name.encode())]
            register("titled", titled)
            register("plain", plain)

    host = load_plugin(Writers(), name="langs")
    city = make_city(tmp_path, host, streets=(2,))
    files = [f for unit, f in city.files.items() if unit != city.grassroots()[0]]  # one unit sent nothing
    top = rollup(host, files, registry=city.registry, period=city.period)[city.top]
    english = write_outputs(host, top, tmp_path / "en", ["titled", "plain"], lang="en")
    chinese = write_outputs(host, top, tmp_path / "zh", ["titled", "plain"])
    assert got == [("en", "not received"), ("zh", "未报送")]
    assert {p.name for p in english} >= {f"{city.top}.en.txt", f"{city.top}.txt"}
    assert {p.name for p in chinese} >= {f"{city.top}.zh.txt", f"{city.top}.txt"}


# --- declarative files ------------------------------------------------------------------------------

def broken(tmp_path, text: str):
    path = tmp_path / "region.toml"
    path.write_text(text, encoding="utf-8")
    host = load_plugin(path)
    with pytest.raises(TongjiError) as exc:
        _ = host.spec
    return str(exc.value), host


@pytest.mark.parametrize("body, line, detail", [
    ('id = "r"\nservity = "错误"\ncheck = "HY02 <= HY01"\n', 4, "未知的键“servity”"),
    ('id = "r"\nseverity = "严重"\ncheck = "HY02 <= HY01"\n', 4, "严重程度应为"),
    ('id = "r"\nseverity = "错误"\ncheck = "HY02 <= HY01"\nmessage = "{HY99} 太多"\n', 6, "“{HY99}”"),
    ('id = "r"\nseverity = "错误"\ncheck = "HY02 <= HY01 +"\n', 5, "表达式不完整：“HY02 <= HY01 +”（第 15 个字符）"),
    ('id = "r"\nseverity = "错误"\ncheck = "FM07 >= 330100"\n', 5, "“FM07”是封面上的文字"),
    ('id = "r"\nseverity = "错误"\nscope = "街道"\ncheck = "HY02 <= HY01"\n', 5, "范围（scope）"),
])
def test_a_declarative_mistake_names_its_exact_line(tmp_path, body, line, detail):
    message, host = broken(tmp_path, "# 本地规则\n[[rule]]\n" + body)  # the body starts on line 3
    assert message.startswith(f"定义文件 region.toml 第 {line} 行有误") and detail in message, message
    assert host.infos["region"].error == message  # `tongji plugins` shows the plugin as failed


def test_plugins_command_shows_the_failed_plugin(tmp_path):
    from typer.testing import CliRunner

    from tongji import cli

    folder = tmp_path / "插件"
    folder.mkdir()
    typo = '[[rule]]\nid = "r"\nseverity = "错误"\nchek = "HY02 <= HY01"\n'
    (folder / "typo.toml").write_text(typo, encoding="utf-8")
    cli._register()
    result = CliRunner().invoke(cli.app, ["--plugins-dir", str(folder), "plugins"])
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "typo" in x)
    assert "正常" not in line


def test_rules_scoped_to_benji_and_summary(tmp_path):
    rules = "".join(f'[[rule]]\nid = "{sid}"\nseverity = "提示"\nscope = "{scope}"\ncheck = "HY03 >= 0"\n'
                    for sid, scope in (("only-benji", "本级"), ("only-summary", "汇总"), ("only-base", "基层")))
    path = tmp_path / "scoped.toml"
    path.write_text(rules, encoding="utf-8")
    host = load_plugin(path)
    city = make_city(tmp_path / "c", host, streets=(1,))
    assert validate(host, city).issues.height == 0  # HY03 >= 0 holds in every workbook
    # the same rules, made to fire: each on its own kind of workbook only
    path.write_text(rules.replace("HY03 >= 0", "HY03 < 0"), encoding="utf-8")
    host = load_plugin(path)
    report = validate(host, city)
    kinds = dict(report.workbooks.select("file", "org_type").iter_rows())
    fired = {(r, kinds[f]) for r, f in report.issues.select("rule", "file").iter_rows()}
    assert fired == {("only-benji", "9"), ("only-base", "1")}
    summaries = rollup(host, city)
    assert set(summaries[city.top].issues.filter(pl.col("rule") == "only-summary")["unit"].to_list()) == {
        c for c in summaries if c != city.top}


def test_a_pip_package_ships_its_toml_in_a_data_folder(tmp_path):
    project = tmp_path / "插件" / "tongji-hz"
    data = project / "src" / "tongji_hz" / "schemas"
    data.mkdir(parents=True)
    (project / "src" / "tongji_hz" / "__init__.py").write_text("", encoding="utf-8")
    (data / "rows.toml").write_text((ROOT / "plugins" / "hangzhou_internet.toml").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "tongji-hz"\nversion = "0.1"\n[project.entry-points.tongji]\nhz = "tongji_hz.schemas"\n',
        encoding="utf-8")
    try:
        host = load_plugin(project)
        assert host.errors == {}
        assert {"JH31", "JH32"} <= set(host.spec.rows)
        assert host.infos["hz"].registered["审核关系"] == ["hz-jh32-le-jh31", "hz-jh31-le-jh01"]
    finally:
        for name in [m for m in sys.modules if m.startswith("tongji_hz")]:
            sys.modules.pop(name)
        sys.path[:] = [p for p in sys.path if "tongji-hz" not in p]


BOTH_HOOK = '''import polars as pl

from tongji.plugin import hookimpl


def members_round(table):
    return table.filter(pl.col("类型") == "基层", pl.col("HY03") % 10 != 0).select("file", pl.lit("HY03").alias("code"))


@hookimpl
def register_checks(register):
    register("both-members-round", members_round, "警告", "会员人数 {HY03} 不是 10 的倍数")


@hookimpl
def register_rules(register):  # the .toml file implements this hook too
    register({"id": "both-hy05-le-hy03", "severity": "警告", "check": "HY05 <= HY03"})
'''
BOTH_RULE = '[[rule]]\nid = "both-hy04-le-half"\nseverity = "警告"\ncheck = "HY04 * 2 <= HY03"\n'


def package_with_hooks_and_toml(tmp_path: Path, rule: str) -> Path:
    """A pip-style project whose entry point names a package holding both hooks and a .toml file."""
    project = tmp_path / "插件" / "tongji-both"
    package = project / "src" / "tongji_both"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(BOTH_HOOK, encoding="utf-8")
    (package / "rules.toml").write_text(rule, encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "tongji-both"\nversion = "0.1"\n[project.entry-points.tongji]\nboth = "tongji_both"\n',
        encoding="utf-8")
    return project


@pytest.fixture
def forget_tongji_both():
    yield
    for name in [m for m in sys.modules if m.startswith("tongji_both")]:
        sys.modules.pop(name)
    sys.path[:] = [p for p in sys.path if "tongji-both" not in p]


def test_a_package_with_hooks_and_toml_loads_both(tmp_path, forget_tongji_both):
    host = load_plugin(package_with_hooks_and_toml(tmp_path, BOTH_RULE))
    assert host.errors == {}
    _ = host.spec  # what each plugin registered is recorded as the spec is built
    assert host.infos["both"].registered == {"审核关系": ["both-hy04-le-half", "both-hy05-le-hy03"],
                                             "检查": ["both-members-round"]}
    assert list(host.infos) == ["tongji", "both"]  # one plugin, not one per part
    city = make_city(tmp_path / "city", host, streets=(1,),
                     values=lambda code, u: {"HY03": 85, "HY04": 50} if u["层级"] == "基层" else {})
    report = validate(host, city)
    fired = report.issues.filter(pl.col("rule").str.starts_with("both-")).select("unit", "rule", "cell")
    grassroots = sorted(c for c, u in city.units.items() if u["层级"] == "基层")
    assert sorted(fired.rows()) == sorted([(u, "both-hy04-le-half", "会员!D11") for u in grassroots]
                                          + [(u, "both-members-round", "会员!D10") for u in grassroots])


@pytest.mark.parametrize("rule, line, detail", [
    (BOTH_RULE.replace("severity", "servity"), 3, "未知的键“servity”"),  # found when the spec is built
    (BOTH_RULE.replace('check = "', 'check = '), 4, ""),  # TOML syntax: found when the package is loaded
], ids=["unknown-key", "toml-syntax"])
def test_a_mistake_in_a_packages_toml_names_its_line_and_fails_the_plugin(tmp_path, forget_tongji_both, rule,
                                                                          line, detail):
    host = load_plugin(package_with_hooks_and_toml(tmp_path, rule))
    with pytest.raises(TongjiError) as exc:
        _ = host.spec
    error = host.errors["both"]  # `tongji plugins` shows it as failed, with this message
    assert error.startswith(f"定义文件 rules.toml 第 {line} 行有误") and detail in error, error
    assert error in str(exc.value)


# --- the scaffold ---------------------------------------------------------------------------------

def test_the_scaffold_depends_on_this_tongji_and_its_test_passes(tmp_path):
    from tongji.plugins.scaffold import scaffold

    project = scaffold("my_region", tmp_path)
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    requirement = re.search(r'dependencies = \["(.*)"\]', pyproject).group(1)
    assert requirement.startswith("tongji @ file://") or requirement.startswith("tongji>=")
    if requirement.startswith("tongji @ file://"):
        source = Path(requirement.removeprefix("tongji @ file://"))
        assert 'name = "tongji"' in (source / "pyproject.toml").read_text(encoding="utf-8")
    run_the_scaffolds_tests(project, tmp_path / "run")
    # the scaffold's example hook: HY14 / (HY13 + HY14) of every unit's good values, from the summed parts
    sys.path.insert(0, str(project / "src"))
    try:
        host = load_plugin(importlib.import_module("tongji_my_region.plugin"), name="my_region")
        city = make_city(tmp_path / "city", host)
        assert rollup(host, city)[city.top].rate("my_region_兼职工作人员占比") == 3 / 4
    finally:
        sys.path.remove(str(project / "src"))
        for name in [m for m in sys.modules if m.startswith("tongji_my_region")]:
            sys.modules.pop(name)


def run_the_scaffolds_tests(project: Path, run: Path) -> None:
    """Every test function of the project's tests/test_plugin.py, in-process, each in a folder of its own."""
    sys.path.insert(0, str(project / "src"))
    try:
        source = (project / "tests" / "test_plugin.py").read_text(encoding="utf-8")
        test = import_module_from(project / "tests", "test_plugin", source)
        tests = [name for name in vars(test) if name.startswith("test_")]
        assert tests, "the scaffold has no test"
        for name in tests:
            (run / name).mkdir(parents=True)
            getattr(test, name)(run / name)
    finally:
        sys.path.remove(str(project / "src"))
        for name in [m for m in sys.modules if m.startswith(("tongji_my_region", "test_plugin"))]:
            sys.modules.pop(name)


def test_the_complete_example_in_a_scaffold_passes_the_scaffolds_test(tmp_path):
    """docs/plugins.md says the complete example may be written into a scaffold's plugin.py: the scaffold's own
    test still passes then."""
    from tongji.plugins.scaffold import scaffold

    [example] = [b for b in python_blocks(DOC.read_text(encoding="utf-8")) if b.startswith("# my_region.py")]
    assert "src/tongji_my_region/plugin.py" in DOC.read_text(encoding="utf-8")
    project = scaffold("my_region", tmp_path)
    (project / "src" / "tongji_my_region" / "plugin.py").write_text(example, encoding="utf-8")
    run_the_scaffolds_tests(project, tmp_path / "run")


# --- no host singleton inside library calls -------------------------------------------------------

def test_library_modules_do_not_read_the_plugin_host():
    """Writers and checks come with the spec passed in; only `load_spec()`, the documented default for a call
    given no spec, asks the configured host (and the CLI, which configures it)."""
    library = [p for p in (ROOT / "src" / "tongji").rglob("*.py")
               if "cli" not in p.parts and p.relative_to(ROOT / "src" / "tongji").as_posix()
               not in ("plugins/__init__.py", "demo.py", "testing.py")]
    readers = [str(p.relative_to(ROOT)) for p in library
               if len(re.findall(r"\bhost\(\)", p.read_text(encoding="utf-8"))) > (p.name == "forms.py")]
    assert readers == []


def test_a_spec_passed_in_brings_its_own_writers(tmp_path):
    """Two hosts side by side: writing with one host's spec uses that host's output formats, not the default's."""
    from tongji.plugin import hookimpl, write_bytes

    class Txt:
        @hookimpl
        def register_output_formats(self, register):
            register("txt", lambda summary, out_dir: [write_bytes(out_dir / "a.txt", b"a")])

    mine = load_plugin(Txt(), name="txt")
    city = make_city(tmp_path, mine, streets=(1,))
    top = rollup(mine, city)[city.top]
    assert any(p.name == "a.txt" for p in write_outputs(mine, top, tmp_path / "out", ["txt"]))
    with pytest.raises(TongjiError, match="没有名为 txt 的输出格式"):
        write_outputs(load_plugin(), top, tmp_path / "out2", ["txt"])
