"""A plugin author's mistakes: each is one clear message naming the plugin (a file's mistake, its file and line),
exit code 2, never tongji's own crash; `tongji plugins` still lists the broken plugin with its error."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from tongji import cli, i18n
from tongji.plugins import host

RULE = '[[rule]]\nid = "r"\nseverity = "错误"\n'
GROUPING = '[[grouping]]\nid = "g"\nfield = "FM05"\n'
CONCORDANCE = '[[concordance]]\nversion = "2024.1"\nnext = "2027.1"\n'


def run(args: list[str]):
    cli._register()
    result = CliRunner().invoke(cli.app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.mark.parametrize("text, line, detail", [
    (RULE + "check = 5\n", 4, "“check”应为文字"),
    ('[[indicator]]\nid = "率"\nnumerator = 5\ndenominator = "HY01"\n', 3, "“numerator”应为文字"),
    (RULE + 'check = "HY02 <= HY01"\ntolerance = "abc"\n', 5, "“tolerance”应为数值"),
    (RULE + 'check = "HY02 <= HY01"\nmessage = 5\n', 5, "“message”应为文字"),
    ('[[extend]]\nform = "JH"\nrows = [{ code = "JH41", kind = "count" }]\n', 3, "缺少“name”"),
    ('[[extend]]\nform = "JH"\nrows = [{ code = 41, name = "甲", kind = "count" }]\n', 3, "“code”应为文字"),
    ('[[form]]\nid = "AA"\nrows = []\n', 2, "缺少“sheet”"),
    ('[[form]]\nsheet = "甲"\nrows = []\n', 1, "缺少“id”"),
    ('\n[rule]\nid = "r"\n', 2, "“rule”应写成 [[rule]]"),
    ('[[extend]]\nform = "JH"\nrows = "JH41"\n', 3, "“rows”应为表的数组"),
    ("\n\nrule = 5\n", 3, "“rule”应写成 [[rule]]"),
    ('[config]\n"留成比例" = "abc"\n', 2, "配置项“留成比例”的值应为数值"),
    (GROUPING + 'groups = "abc"\n', 4, "“groups”应为表的数组"),
    (GROUPING + 'name = 5\nenum = "组织类型"\n', 4, "“name”应为文字"),
    (GROUPING + 'groups = [{ name = "大", values = [true] }]\n', 4, "分组 g 的组“大”：name 和 when 应为文字"),
    (CONCORDANCE + 'renamed = "x"\n', 4, "“renamed”应为文字的表"),
    (CONCORDANCE + 'added = "HY01"\n', 4, "“added”应为文字的数组"),
    (CONCORDANCE + 'split = { HY11 = "HY12" }\n', 4, "“split”应为文字数组的表"),
    (CONCORDANCE + 'enums = { "单位性质" = "190" }\n', 4, "“enums”应为表的表"),
    ('[[concordance]]\nversion = 2024.1\n', 2, "“version”应为文字"),
], ids=["check-5", "numerator-5", "tolerance-text", "message-5", "row-without-name", "code-41", "form-without-sheet",
        "form-without-id", "rule-as-table", "rows-text", "rule-5", "config-text", "groups-text", "grouping-name-5",
        "group-values-true", "renamed-text", "added-text", "split-text", "enums-text", "version-number"])
def test_a_wrong_type_or_missing_key_is_named_with_its_line(tmp_path, template_registry, text, line, detail):
    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "x.toml").write_text(text, encoding="utf-8")
    expected = f"定义文件 x.toml 第 {line} 行有误：{detail}"
    result = run(["--plugins-dir", str(folder), "template", "-r", str(template_registry), "-p", "2025",
                  "-o", str(tmp_path / "模板")])
    assert result.exit_code == 2 and expected in result.output and "内部出错" not in result.output, result.output
    listing = run(["--plugins-dir", str(folder), "plugins"])
    assert listing.exit_code == 1 and expected in listing.output, listing.output
    assert "内置" in listing.output  # the other plugins are still listed


# --- a form's sheet name ------------------------------------------------------------------------------

@pytest.mark.parametrize("sheet, detail", [
    ("会员", "已被表 HY（插件 tongji）使用"),  # a built-in form's: the template would get 会员1
    ("_lists", "已被模板的下拉列表使用"),  # the template's own sheets
    ("填表说明", "已被模板的填表说明使用"),
    ("明细", "已被汇总表的明细表使用"),  # a summary's: its 明细 would be a form, and the form 明细1
    ("问题清单", "已被汇总表的问题清单表使用"),  # an annotated copy's list
    ("明细2", "留给汇总表明细表的续表使用"),  # a 明细 past Excel's last row goes on there
    ("校验12", "留给汇总表校验表的续表使用"),
    ("a/b", "不能用作 Excel 的工作表名"),
    ("x[1]", "不能用作 Excel 的工作表名"),
    ("表" * 32, "不能用作 Excel 的工作表名"),
    ("'引号", "不能用作 Excel 的工作表名"),
], ids=["built-in-form", "lists", "guide", "detail", "issue-list", "continued", "continued-12", "slash", "brackets",
     "too-long", "quote"])
def test_a_forms_sheet_name_must_be_free_and_valid_in_excel(tmp_path, template_registry, sheet, detail):
    folder = tmp_path / "插件"
    folder.mkdir()
    text = f'[[form]]\nid = "QQ"\nsheet = "{sheet}"\nrows = [{{ code = "QQ01", name = "甲", kind = "count" }}]\n'
    (folder / "x.toml").write_text(text, encoding="utf-8")
    result = run(["--plugins-dir", str(folder), "template", "-r", str(template_registry), "-p", "2025",
                  "-o", str(tmp_path / "模板")])
    expected = f"定义文件 x.toml 第 3 行有误：工作表名“{sheet}”{detail}"
    assert result.exit_code == 2 and expected in result.output, result.output
    assert not (tmp_path / "模板").exists()


def test_two_plugin_forms_on_one_sheet_from_python(tmp_path):
    from tongji.errors import TongjiError
    from tongji.plugin import hookimpl
    from tongji.testing import load_plugin

    class Forms:
        @hookimpl
        def register_forms(self, register):
            register({"id": "QA", "sheet": "安康杯", "rows": [{"code": "QA01", "name": "甲", "kind": "count"}]})
            register({"id": "QB", "sheet": "安康杯", "rows": [{"code": "QB01", "name": "乙", "kind": "count"}]})

    host = load_plugin(Forms(), name="twice")
    with pytest.raises(TongjiError, match="工作表名“安康杯”已被表 QA（插件 twice）使用"):
        _ = host.spec
    assert "安康杯" in host.errors["twice"]


# --- a plugin's commands ----------------------------------------------------------------------------

COMMANDS = '''
import typer
from tongji.plugin import hookimpl


@hookimpl
def register_commands(app):
    @app.command("{name}")
    def command(n: int = 1) -> None:
        print("{name} of plugin {plugin}", 1 / (n - 1))

    @app.command()
    def {plugin}_stops() -> None:
        raise typer.Exit(4)
'''


def main(monkeypatch, capsys, folder, *args: str) -> tuple[int, str]:
    """The console entry point, as the user runs it: crashes and plugin errors are handled there."""
    cli._register()
    monkeypatch.setattr(cli.app, "registered_commands", list(cli.app.registered_commands))  # plugins' go
    monkeypatch.setattr("sys.argv", ["tongji", "--plugins-dir", str(folder), *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    out = capsys.readouterr()
    return exc.value.code, out.out + out.err


def commands(tmp_path, **plugins: str):
    folder = tmp_path / "插件"
    folder.mkdir()
    for plugin, name in plugins.items():
        (folder / f"{plugin}.py").write_text(COMMANDS.format(name=name, plugin=plugin), encoding="utf-8")
    return folder


def test_a_plugin_cannot_replace_a_built_in_command(tmp_path, monkeypatch, capsys):
    folder = commands(tmp_path, sly="validate")
    taken = "命令 validate 已由 tongji 提供，插件 sly 不能再注册它"
    code, out = main(monkeypatch, capsys, folder, "validate", str(tmp_path))
    assert code == 2 and taken in out and "validate of plugin sly" not in out, out
    code, out = main(monkeypatch, capsys, folder, "plugins")
    assert code == 1 and taken in out


def test_two_plugins_cannot_register_one_command(tmp_path, monkeypatch, capsys):
    folder = commands(tmp_path, first="hello", second="hello")
    code, out = main(monkeypatch, capsys, folder, "plugins")
    assert code == 1 and "命令 hello 已由 first 提供，插件 second 不能再注册它" in out, out
    code, out = main(monkeypatch, capsys, folder, "hello", "--n", "3")
    assert code == 0 and "hello of plugin first 0.5" in out, out


def test_a_plugin_commands_failure_names_the_plugin(tmp_path, monkeypatch, capsys):
    folder = commands(tmp_path, boomer="boom")
    code, out = main(monkeypatch, capsys, folder, "boom")
    at = folder / "boomer.py"
    said = f"插件 boomer 在 命令 boom 中出错（{at} 第 10 行）：ZeroDivisionError"  # the console may wrap the line
    assert code == 2 and "".join(said.split()) in "".join(out.split()), out
    assert "内部出错" not in out
    monkeypatch.setattr(i18n, "_lang", None)  # restored after the test: main() sets the language of the run
    code, out = main(monkeypatch, capsys, folder, "--lang", "en", "boom")
    said = f"Plugin boomer failed in command boom ({at} line 10): ZeroDivisionError"
    assert code == 2 and "".join(said.split()) in "".join(out.split()), out
    assert main(monkeypatch, capsys, folder, "boomer-stops")[0] == 4  # typer's own exit is the command's to give
    code, out = main(monkeypatch, capsys, folder, "boom", "--n", "x")
    assert code == 2 and "内部出错" not in out  # a usage mistake stays one


# --- an output format's files -------------------------------------------------------------------------

def writer_plugin(returned):
    """A plugin whose format `odd` writes a file and returns `returned(summary, out_dir)`."""
    from tongji.plugin import hookimpl, summary_stem, write_bytes

    class Plugin:
        @hookimpl
        def register_output_formats(self, register):
            def odd(summary, out_dir):
                return returned(out_dir, summary_stem(summary), write_bytes)
            register("odd", odd)
    return Plugin()


@pytest.fixture(scope="module")
def summary_of_a_street(tmp_path_factory):
    from tongji.testing import load_plugin, make_city, rollup

    host = load_plugin()
    city = make_city(tmp_path_factory.mktemp("city"), host, streets=(1,))
    return rollup(host, city)[city.top]


@pytest.mark.parametrize("returned, formats, detail", [
    (lambda out, stem, write: None, ["odd"],
     "应返回它写进输出文件夹 out_dir 的文件的路径（pathlib.Path）列表，而不是 None"),
    (lambda out, stem, write: ["not-a-path", 5], ["odd"], "而不是 ['not-a-path', 5]"),
    (lambda out, stem, write: [write(out.parent / "x.txt", b"x")], ["odd"],
     "x.txt 不是它写进输出文件夹 out_dir 的文件（没有写出，或不在 out_dir 中）"),
    (lambda out, stem, write: [out / "never-written.txt"], ["odd"],
     "插件 odd 的输出格式 odd 返回的 out_dir / 'never-written.txt' 不是它写进输出文件夹 out_dir 的文件"),
    (lambda out, stem, write: [write(out / f"{stem}_汇总.csv", b"odd")], ["csv", "odd"],
     "插件 odd 的输出格式 odd 写出的 {stem}_汇总.csv 与 csv 写出的文件重名"),
    (lambda out, stem, write: [write(out / f"{stem}_汇总.csv", b"odd")], ["odd", "csv"],
     "插件 odd 的输出格式 odd 写出的 {stem}_汇总.csv 与 csv 写出的文件重名"),
    (lambda out, stem, write: [write(out / f"{stem}_manifest.json", b"{}")], ["odd"],
     "插件 odd 的输出格式 odd 写出的 {stem}_manifest.json 与 manifest 写出的文件重名"),
], ids=["none", "not-paths", "outside", "not-written", "after-csv", "before-csv", "manifest"])
def test_a_writer_returning_the_wrong_files_writes_nothing(tmp_path, summary_of_a_street, returned, formats, detail):
    from tongji.errors import TongjiError
    from tongji.testing import load_plugin, write_outputs

    if sys.platform == "win32" and "PosixPath" in detail:
        detail = detail.replace("PosixPath", "WindowsPath")
    host = load_plugin(writer_plugin(returned), name="odd")
    stem = f"{summary_of_a_street.unit}_{summary_of_a_street.period}"
    with pytest.raises(TongjiError) as exc:
        write_outputs(host, summary_of_a_street, tmp_path / "out", formats)
    assert detail.format(stem=stem) in str(exc.value), str(exc.value)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


# --- a new plugin's name ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, detail", [
    ("tongji", "插件名“tongji”是 tongji 内置插件的名字"),  # its own test would fail: the name is taken
    ("samples", "已有名为 tongji_samples 的 Python 包"),  # installed, it would shadow tongji's sample maker
], ids=["builtin", "samples"])
def test_a_new_plugin_may_not_take_a_name_in_use(tmp_path, name, detail):
    result = run(["plugin", "new", name, "-o", str(tmp_path)])
    assert result.exit_code == 2 and detail in result.output, result.output
    assert list(tmp_path.iterdir()) == []


# --- where a mistake is said to be --------------------------------------------------------------------

def test_a_python_plugins_mistake_names_the_plugin_not_a_file():
    from tongji.errors import TongjiError
    from tongji.plugin import hookimpl
    from tongji.testing import load_plugin

    class Rule:
        @hookimpl
        def register_rules(self, register):
            register({"id": "r1", "severity": "错误", "check": "HY99 <= HY01"})

    class Deadline:
        @hookimpl
        def register_config(self, register):
            register("报送截止日期", "明天")

    for plugin, detail in ((Rule(), "未知的指标代码或参数“HY99”"), (Deadline(), "报送截止日期 = 明天：不是日期")):
        host = load_plugin(plugin, name="h5")
        with pytest.raises(TongjiError) as exc:
            _ = host.spec
        assert str(exc.value) == f"插件 h5 注册的内容有误：{detail}"  # not 定义文件 h5 第 0 行, which is nowhere
        assert host.errors["h5"] == str(exc.value)


def test_a_bad_deadline_in_a_file_names_its_line(tmp_path, template_registry):
    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "x.toml").write_text('\n[config]\n"报送截止日期" = "明天"\n', encoding="utf-8")
    result = run(["--plugins-dir", str(folder), "template", "-r", str(template_registry), "-p", "2025",
                  "-o", str(tmp_path / "模板")])
    assert result.exit_code == 2 and "定义文件 x.toml 第 3 行有误：报送截止日期 = 明天" in result.output, result.output


@pytest.mark.parametrize("text, english", [
    (RULE + 'check = "HY99 <= HY01"\n', "Definition file x.toml line 4: unknown code or parameter 'HY99'"),
    (RULE + "check = 5\n", "Definition file x.toml line 4: 'check' should be text, not '5'"),
    ('\n[rule]\nid = "r"\n', "Definition file x.toml line 2: 'rule' should be written as [[rule]] tables"),
    ('[[form]]\nid = "QQ"\nsheet = "会员"\nrows = []\n',
     "Definition file x.toml line 3: the sheet name '会员' is taken by form HY (tongji)"),
    (RULE + 'check = "HY02 <="\n', "line 4: the expression is incomplete: 'HY02 <=' (position 8)"),
    ('[[grouping]]\nid = "g"\nfield = "HY01"\ngroups = [{ name = "大", when = "HY99 > 5" }]\n',
     "line 4: grouping g: 'HY99' in a condition is no numeric indicator code"),
    (CONCORDANCE + 'added = ["HY99"]\n',
     "line 2: HY99 in the concordance of version 2024.1 is no code of the current forms"),
], ids=["unknown-code", "wrong-type", "misshapen", "sheet-taken", "expression", "grouping", "concordance"])
def test_a_definition_mistake_is_said_in_english_in_english(tmp_path, template_registry, text, english):
    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "x.toml").write_text(text, encoding="utf-8")
    result = run(["--lang", "en", "--plugins-dir", str(folder), "template", "-r", str(template_registry),
                  "-p", "2025", "-o", str(tmp_path / "模板")])
    assert result.exit_code == 2 and english in result.output, result.output


def test_a_python_plugins_mistake_in_english():
    from tongji.errors import TongjiError
    from tongji.i18n import set_lang
    from tongji.plugin import hookimpl
    from tongji.testing import load_plugin

    class Rule:
        @hookimpl
        def register_rules(self, register):
            register({"id": "r1", "severity": "错误", "check": "HY99 <= HY01"})

    with pytest.raises(TongjiError) as exc:
        _ = load_plugin(Rule(), name="h5").spec
    set_lang("en")
    assert str(exc.value) == "Plugin h5 registered something wrong: unknown code or parameter 'HY99'"


def test_the_summary_sheets_a_form_may_not_take_are_those_the_summaries_have():
    from tongji.aggregating.completeness import COMPLETENESS_SHEET
    from tongji.aggregating.groups import GROUPS_SHEET
    from tongji.aggregating.notes import NOTES_SHEET
    from tongji.aggregating.summary import DETAIL_SHEET
    from tongji.definitions.forms import CONTINUED_SHEETS, SUMMARY_SHEETS
    from tongji.writing.marks import LIST_SHEET
    from tongji.writing.summary_forms import INDICATORS_SHEET
    from tongji.writing.unit_sheets import ISSUES_SHEET

    assert set(SUMMARY_SHEETS) == {DETAIL_SHEET, NOTES_SHEET, COMPLETENESS_SHEET, ISSUES_SHEET, INDICATORS_SHEET,
                                   GROUPS_SHEET, LIST_SHEET}
    # the tables unit_sheets continues past Excel's last row
    assert set(CONTINUED_SHEETS) == {DETAIL_SHEET, NOTES_SHEET, COMPLETENESS_SHEET, ISSUES_SHEET}


def test_rollup_all_writes_every_summary_or_none_when_a_writer_fails(tmp_path):
    """A writer failing at the 市, the last summary made, leaves no 街道 or 区 of this run in the folder, and the
    last run's summaries as they were: never this run's 街道 beside the last run's 区."""
    from city import build

    city = build(tmp_path / "c", [[2], [1]])
    out = tmp_path / "汇总"
    args = ["rollup", str(city.folder), "-r", str(city.registry), "-p", "2025", "--all", "-o", str(out)]
    assert run(args).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) == 5 * 4  # 市, two 区, a 街道 in each: workbook, two Parquet files and a manifest each
    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "odd.py").write_text(
        "from tongji.plugins.hookspecs import hookimpl\n\n\n@hookimpl\ndef register_output_formats(register):\n"
        "    def odd(summary, out_dir):\n"
        "        if summary.unit == '330100':\n"
        "            raise RuntimeError('the disk went away')\n"
        "        return []\n"
        "    register('odd', odd)\n", encoding="utf-8")
    city.write(city.children["330101"][0], city.units[city.children["330101"][0]]["file"], {"HY01": 999})
    result = run(["--plugins-dir", str(folder), *args, "--format", "xlsx,odd"])
    assert result.exit_code == 2 and "插件 odd" in result.output, result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing new, no staging folder left


INDICATOR = '[[indicator]]\nid = "女会员率"\nnumerator = "HY04"\ndenominator = "HY03"\nfrom = "{level}"\n'


def test_an_indicators_from_must_name_a_level(tmp_path):
    """`from` names the lowest level an indicator means something at; a name that is no level of --levels (nor of
    the default 市/区/街道/基层 the built-in schemas use) is a typo that would blank the rate for every unit."""
    from city import build

    city = build(tmp_path / "c", [[1]])
    text = city.registry.read_text(encoding="utf-8")
    city.registry.write_text(text.replace(",市,", ",县,").replace(",区,", ",乡镇,").replace(",街道,", ",村,"),
                             encoding="utf-8")
    folder = tmp_path / "插件"
    folder.mkdir()
    out = tmp_path / "汇总"
    args = ["--plugins-dir", str(folder), "rollup", str(city.folder), "-r", str(city.registry), "-p", "2025",
            "--all", "--levels", "县,乡镇,村,基层", "-o", str(out)]
    (folder / "x.toml").write_text(INDICATOR.format(level="乡真"), encoding="utf-8")
    result = run(args)
    assert result.exit_code == 2, result.output
    assert ("定义文件 x.toml 第 5 行有误：派生指标“女会员率”的 from = “乡真”不是任何层级的名称"
            "（层级：县、乡镇、村、基层、市、区、街道）") in result.output.replace("\n", "")
    assert not out.exists() or not any(out.iterdir())
    other = tmp_path / "插件2"  # a plugins folder is loaded once per process
    other.mkdir()
    (other / "x.toml").write_text(INDICATOR.format(level="村"), encoding="utf-8")
    result = run(["--plugins-dir", str(other), *args[2:]])
    assert result.exit_code == 0, result.output  # and the built-in 建会率's from = "街道" is a default level's name


def test_a_plugins_command_is_gone_in_the_next_run_without_it(tmp_path, monkeypatch, capsys):
    """main() twice in one process (a script, the tests): a command a plugin folder added in the first run is gone in
    a second run with another folder; it stayed as if built in, and a plugin of that name was refused as taking
    tongji's own command."""
    cli._register()
    monkeypatch.setattr(cli.app, "registered_commands", list(cli.app.registered_commands))
    folder, other = commands(tmp_path, first="hello"), tmp_path / "别的插件"
    other.mkdir()
    for plugins, code in ((folder, 0), (other, 2)):
        monkeypatch.setattr("sys.argv", ["tongji", "--plugins-dir", str(plugins), "hello", "--n", "3"])
        with pytest.raises(SystemExit) as exc:
            cli.main()
        out = capsys.readouterr()
        assert exc.value.code == code, out
    assert "hello" in out.err and "hello of plugin" not in out.out


def test_an_installed_plugins_source_is_said_in_the_users_language(tmp_path, monkeypatch, capsys):
    import importlib.metadata

    (tmp_path / "ep_region.py").write_text("from tongji.plugin import hookimpl\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = [importlib.metadata.EntryPoint("ep_region", "ep_region", "tongji")]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: installed if group == "tongji" else [])
    monkeypatch.setenv("TONGJI_ENTRY_POINTS", "1")
    (tmp_path / "空").mkdir()
    code, out = main(monkeypatch, capsys, tmp_path / "空", "plugins")
    assert code == 0 and "入口点 ep_region" in out and "entry point" not in out, out
    code, out = main(monkeypatch, capsys, tmp_path / "空", "--lang", "en", "plugins")
    assert code == 0 and "entry point ep_region" in out, out


def test_a_plugin_importing_a_missing_module_says_so_with_its_line(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "插件"
    folder.mkdir()
    plugin = folder / "needs.py"
    plugin.write_text("from tongji.plugin import hookimpl\nimport tongji_no_such_module\n", encoding="utf-8")
    said = f"导入的模块 tongji_no_such_module 没有安装（{plugin} 第 2 行）：请在运行 tongji 的同一环境中安装它"
    code, out = main(monkeypatch, capsys, folder, "validate", str(tmp_path))
    flat = "".join(out.split())  # the console may wrap the line
    assert code == 2 and "".join(f"错误：插件 needs 无法加载：{said}".split()) in flat, out
    assert "ModuleNotFoundError" not in out
    code, out = main(monkeypatch, capsys, folder, "--lang", "en", "validate", str(tmp_path))
    assert code == 2 and "Themoduletongji_no_such_moduleitimportsisnotinstalled(" in "".join(out.split()), out


def test_a_plugin_with_a_syntax_error_says_its_file_line_and_text(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "插件"
    folder.mkdir()
    plugin = folder / "typo.py"
    plugin.write_text("from tongji.plugin import hookimpl\n\n\ndef register_rules(register:\n    pass\n",
                      encoding="utf-8")
    said = f"插件 typo 无法加载：{plugin} 第 4 行有语法错误：“def register_rules(register:”"
    for args in (("plugins",), ("validate", str(tmp_path))):
        code, out = main(monkeypatch, capsys, folder, *args)
        assert code == {"plugins": 1}.get(args[0], 2) and "".join(said.split()) in "".join(out.split()), out
        assert "SyntaxError" not in out and "invalid syntax" not in out
    code, out = main(monkeypatch, capsys, folder, "--lang", "en", "validate", str(tmp_path))
    said = f"Plugin typo cannot be loaded: {plugin} line 4 has a syntax error: 'def register_rules(register:'"
    assert code == 2 and "".join(said.split()) in "".join(out.split()), out
    from tongji.plugins.loading import load_error

    i18n.set_lang(None)
    assert load_error(SyntaxError("invalid syntax", (str(plugin), 7, 1, None))) == f"{plugin} 第 7 行有语法错误"


def test_a_hookwrapper_raising_in_its_teardown_is_said_once(tmp_path, monkeypatch, capsys):
    """pluggy also warns about an old-style hookwrapper's exception after its `yield`: the user saw that warning
    (Python's English) and then the same failure as 错误."""
    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "wrap.py").write_text("from tongji.plugin import hookimpl\n\n\n@hookimpl(hookwrapper=True)\n"
                                    "def register_rules(register):\n    yield\n    raise RuntimeError('包装器坏了')\n",
                                    encoding="utf-8")
    code, out = main(monkeypatch, capsys, folder, "validate", str(tmp_path))
    assert code == 2 and "Warning" not in out, out
    [line] = out.splitlines()
    assert line.startswith("错误：插件 wrap 在 register_rules 中出错"), out
    assert line.endswith("RuntimeError: 包装器坏了"), out


@pytest.mark.parametrize("hook, kind", [("register_rules", "@hookimpl"), ("register_output_formats", "@hookimpl"),
                                        ("register_rules", "@hookimpl(wrapper=True)")])
def test_a_hook_raising_names_the_plugins_own_line(tmp_path, monkeypatch, capsys, hook, kind):
    """Not the line of tongji's own code that called the hook."""
    folder = tmp_path / "插件"
    folder.mkdir()
    plugin = folder / "raiser.py"
    body = "    yield\n" if "wrapper" in kind else ""
    plugin.write_text(f"from tongji.plugin import hookimpl\n\n\n{kind}\ndef {hook}(register):\n{body}"
                      "    raise RuntimeError('配置文件找不到')\n", encoding="utf-8")
    code, out = main(monkeypatch, capsys, folder, "validate", str(tmp_path))
    line = 7 if body else 6
    said = f"错误：插件 raiser 在 {hook} 中出错（{plugin} 第 {line} 行）：RuntimeError: 配置文件找不到"
    assert code == 2 and out.splitlines() == [said], out


def test_an_entry_point_naming_a_missing_module_says_so_without_importlibs_line(tmp_path, monkeypatch, capsys):
    """An installed plugin whose module is gone (or misspelt in its entry point) fails in importlib: its lines are
    no place of the user's."""
    import importlib.metadata

    installed = [importlib.metadata.EntryPoint("gone", "tongji_gone_region", "tongji")]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: installed if group == "tongji" else [])
    monkeypatch.setenv("TONGJI_ENTRY_POINTS", "1")
    (tmp_path / "空").mkdir()
    code, out = main(monkeypatch, capsys, tmp_path / "空", "validate", str(tmp_path))
    said = "错误：插件 gone 无法加载：导入的模块 tongji_gone_region 没有安装：请在运行 tongji 的同一环境中安装它"
    assert code == 2 and "".join(said.split()) in "".join(out.split()) and "importlib" not in out, out


def test_an_entry_point_naming_a_missing_attribute_says_which_in_chinese(tmp_path, monkeypatch, capsys):
    """`module:name` whose name is misspelt: said in the user's language, not as Python's AttributeError."""
    import importlib.metadata

    installed = [importlib.metadata.EntryPoint("typo", "json:plugn", "tongji")]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: installed if group == "tongji" else [])
    monkeypatch.setenv("TONGJI_ENTRY_POINTS", "1")
    (tmp_path / "空").mkdir()
    code, out = main(monkeypatch, capsys, tmp_path / "空", "validate", str(tmp_path))
    said = "错误：插件 typo 无法加载：模块 json 中没有 plugn：请核对插件入口点写的名称"
    assert code == 2 and "".join(said.split()) in "".join(out.split()) and "AttributeError" not in out, out


def test_register_commands_raising_names_its_line_in_tongji_plugins(tmp_path, monkeypatch, capsys):
    """Said in full below the table, with the plugin's own line, and not sending the user to this very command."""
    folder = tmp_path / "插件"
    folder.mkdir()
    plugin = folder / "cmdraise.py"
    plugin.write_text("from tongji.plugin import hookimpl\n\n\n@hookimpl\ndef register_commands(app):\n"
                      "    raise RuntimeError('配置文件找不到')\n", encoding="utf-8")
    code, out = main(monkeypatch, capsys, folder, "plugins")
    said = f"插件 cmdraise 无法加载：RuntimeError: 配置文件找不到（{plugin} 第 6 行）"
    assert code == 1 and out.splitlines()[-1] == said, out



@pytest.mark.parametrize("broken, said", [
    ("raise RuntimeError('区划表缺失')\n", "插件 bad 无法加载：RuntimeError: 区划表缺失（{path} 第 1 行）"),
    ("from tongji.plugin import hookimpl\n\n\n@hookimpl\ndef register_rules(register):\n"
     "    raise ValueError('区划表缺失')\n",
     "插件 bad 在 register_rules 中出错（{path} 第 6 行）：ValueError: 区划表缺失"),
], ids=["import", "hook"])
def test_one_broken_plugin_leaves_the_others_listed(tmp_path, monkeypatch, capsys, broken, said):
    """The built-in forms and rules and a healthy plugin's registrations are still listed, the broken plugin named
    with its error below the table, exit code 1 as for any plugin that failed."""
    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "bad.py").write_text(broken, encoding="utf-8")
    (folder / "good.py").write_text("from tongji.plugin import hookimpl\n\n\n@hookimpl\ndef register_config("
                                    "register):\n    register('留成比例', 0.5)\n\n\n@hookimpl\ndef register_output_"
                                    "formats(register):\n    register('区划表', lambda summary: [])\n",
                                    encoding="utf-8")
    code, out = main(monkeypatch, capsys, folder, "plugins")
    assert code == 1 and out.splitlines()[-1] == said.format(path=folder / "bad.py"), out
    listed = {name: {kind: len(items) for kind, items in info.registered.items()}
              for name, info in host().infos.items()}
    assert listed["tongji"] == {"表": 5, "模板版本": 1, "审核关系": 42, "派生指标": 13, "分组": 4, "同类比较": 5,
                                "配置": 13, "输出格式": 4}
    assert host().infos["good"].registered == {"配置": ["留成比例=0.5"], "输出格式": ["区划表"]}
    assert "配置：留成比例=0.5；输出格式：区划表" in out and "表：FM 封面" in out, out
    code, out = main(monkeypatch, capsys, folder, "--lang", "en", "plugins")
    assert code == 1 and "configuration: 留成比例=0.5; output formats: 区划表" in out and "forms: FM 封面" in out, out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_plugin_file_given_as_the_plugins_folder_is_said_so(tmp_path, monkeypatch, capsys, lang):
    """`--plugins-dir 本地规则.toml`: the file is there, "not found" would be wrong; it belongs in a folder."""
    plugin = tmp_path / "本地规则.toml"
    plugin.write_text(RULE + 'check = "HY02 <= HY01"\n', encoding="utf-8")
    code, out = main(monkeypatch, capsys, plugin, "--lang", lang, "plugins")
    said = {"zh": f"错误：插件文件夹 {plugin} 是一个文件：请把插件文件放进一个文件夹，"
                  "再用 --plugins-dir（或 TONGJI_PLUGINS_DIR）指向该文件夹",
            "en": f"Error: The plugins folder {plugin} is a file: put the plugin file in a folder and give that "
                  "folder to --plugins-dir (or TONGJI_PLUGINS_DIR)"}[lang]
    assert (code, out.strip()) == (2, said)
    code, out = main(monkeypatch, capsys, tmp_path / "没有", "--lang", lang, "plugins")
    assert code == 2 and out.strip() == {"zh": f"错误：插件文件夹不存在：{tmp_path / '没有'}",
                                         "en": f"Error: Plugins folder not found: {tmp_path / '没有'}"}[lang]


def test_plugin_new_into_a_file_is_one_line_not_a_crash(tmp_path, monkeypatch, capsys):
    """`tongji plugin new my_region -o 名册.xlsx`: tongji's crash (exit code 3) for a mistyped folder."""
    blocker = tmp_path / "名册.xlsx"
    blocker.write_text("x")
    (tmp_path / "插件").mkdir()
    code, out = main(monkeypatch, capsys, tmp_path / "插件", "plugin", "new", "my_region", "-o", str(blocker))
    assert (code, out.strip()) == (2, f"错误：无法写入 {blocker}：那里已有一个同名的文件，不能当作文件夹，请换一个名字")
