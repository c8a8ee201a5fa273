"""Usage mistakes are one Chinese line on stderr with exit code 2 (English with --lang en), never click's English."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tongji.cli.usage import chinese


def tongji(*args: str, lang: str = "zh") -> subprocess.CompletedProcess:
    code = "import sys; from tongji.cli import main; sys.argv[0] = 'tongji'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "TONGJI_LANG": lang})


@pytest.mark.parametrize(("args", "line"), [
    # an argument is named by what it is, not by the Python parameter (缺少参数 paths)
    (["validate"], "用法错误：缺少参数：工作簿文件或文件夹（递归查找 .xlsx/.xls）（用 --help 查看用法）"),
    (["serve", "backup"], "用法错误：缺少参数：备份文件（.zip）（用 --help 查看用法）"),
    (["validate", "x", "--registy", "r"],
     "用法错误：没有选项 --registy（是否想用 --registry？）（用 --help 查看用法）"),
    (["validatee"], "用法错误：没有命令 validatee（是否想用 validate？）（用 --help 查看用法）"),
    (["rollup", "x", "-p", "2025"], "用法错误：缺少选项 --registry / -r（用 --help 查看用法）"),
    (["validate", "x", "--report"], "用法错误：选项 --report 后面需要一个值（用 --help 查看用法）"),
    (["demo", "--units", "abc"], "用法错误：--units 的值不对：应为整数（用 --help 查看用法）"),
    (["rollup", "x", "--all=yes"], "用法错误：选项 --all 是开关，后面不写值：写上 --all 即可（用 --help 查看用法）"),
    (["--lang", "en", "validate"],
     "Usage error: Missing argument: Workbook files or folders (searched for .xlsx/.xls, subfolders too) (see --help)"),
    # a path with a space, not quoted as the guide says: typer's click words it "argument(s)"
    (["template", "-r", "名册.csv", "-p", "2025", "-o", "2025", "年报/模板"],
     "用法错误：多余的参数：年报/模板（路径里有空格时，要用英文引号括起来）（用 --help 查看用法）"),
    # a global option and no command, as `tongji --plugins-dir 插件` without the `plugins` of guide section 11
    (["--plugins-dir", "."], "用法错误：缺少命令（用 --help 查看用法）"),
    (["--lang", "zh"], "用法错误：缺少命令（用 --help 查看用法）"),
    (["--lang", "fr", "validate", "x"], "错误：界面语言只能是 zh（中文）或 en（英文），不是 fr"),
])
def test_usage_mistakes_are_one_line_in_the_users_language(args, line):
    run = tongji(*args)
    assert run.returncode == 2
    assert run.stderr.strip() == line


@pytest.mark.parametrize(("args", "lang", "first"), [
    ([], "zh", "用法：tongji [选项] 命令 [参数]..."), (["samples"], "zh", "用法：tongji samples [选项] 命令 [参数]..."),
    ([], "en", "Usage: tongji [OPTIONS] COMMAND [ARGS]...")])
def test_a_bare_command_shows_its_help_not_a_usage_error(args, lang, first):
    """`tongji` alone shows its help page (exit code 2, as click gives it); it read 用法错误：Usage: …, a mistake
    said of what is the first thing a newcomer types."""
    run = tongji(*args, lang=lang)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines()[0] == first and "用法错误" not in run.stderr and "Usage error" not in run.stderr


def test_an_unknown_language_in_tongji_lang_is_refused_as_the_option_is():
    run = tongji("validate", "x", lang="fr")
    assert run.returncode == 2
    assert run.stderr.strip() == "错误：环境变量 TONGJI_LANG 只能是 zh（中文）或 en（英文），不是 fr"
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert tongji("--lang", "en", "validate", "x", lang="fr").stderr.strip() == "Error: Path does not exist: x"
    assert tongji("validate", "x", lang="en_US.UTF-8").stderr.strip() == "Error: Path does not exist: x"


@pytest.mark.parametrize("value", ["abc", "-2", "2.5"])
def test_a_number_of_processes_that_is_none_is_refused_not_ignored(value, tmp_path):
    """TONGJI_WORKERS=abc (or -2) read the workbooks with the default number of processes, without a word."""
    samples = Path(__file__).parent.parent / "samples"
    run = subprocess.run([sys.executable, "-m", "tongji", "validate", str(samples / "2025" / "崇贤街道总工会"), "-r",
                          str(samples / "registry.csv"), "-p", "2025"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "TONGJI_WORKERS": value}, cwd=tmp_path)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.strip() == (f"错误：环境变量 TONGJI_WORKERS 应为读取工作簿的进程数（正整数，1 为不另起进程），"
                                  f"不是 {value}")


def test_path_messages_in_chinese():
    assert chinese("Invalid value for 'PATHS...': Path '收回/a.xlsx' is not readable.") == (
        "PATHS... 的值不对：路径 收回/a.xlsx 无法读取")
    assert chinese("Something click says that we do not know.") == "Something click says that we do not know."


@pytest.mark.parametrize(("args", "lang"), [(["--lang", "en", "validate", "--help"], "zh"),
                                            (["validate", "--help"], "en")])
def test_help_is_in_english_with_lang_en(args, lang):
    run = subprocess.run([sys.executable, "-c", "import sys; from tongji.cli import main; sys.argv[0] = 'tongji'; "
                          "main()", *args], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "TONGJI_LANG": lang, "COLUMNS": "200"})
    assert run.returncode == 0, run.stderr
    text = " ".join(run.stdout.replace("│", " ").split())
    assert "Check workbooks. Exit code 0: no errors; 1: workbooks to return; 2: a usage or setup mistake." in text
    assert "-r, --registry <path> Registry of units (xlsx or csv)" in text
    assert "--help Show this message and exit." in text and "<bool>" not in text  # a flag asks for no value
    # a value named as a user names it, not as Python does: {paths}, <list[Path]>, <str>
    assert text.startswith("Usage: tongji validate [OPTIONS] <paths>...") and "paths... <path> Workbook files" in text
    assert "--report <path>" in text and "--levels <text>" in text and "{" not in text and "list[" not in text
    assert not re.findall(r"[\u4e00-\u9fff]+", text.replace("市,区,街道,基层", "")), text  # the level names as typed
    assert "审核工作簿" in tongji("validate", "--help").stdout


def help_page(*args: str) -> str:
    run = subprocess.run([sys.executable, "-c", "import sys; from tongji.cli import main; sys.argv[0] = 'tongji'; "
                          "main()", *args], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "TONGJI_LANG": "zh", "COLUMNS": "100"})
    assert run.returncode == 0, run.stderr
    return run.stdout


def help_columns(page: str, section: str) -> set[int]:
    """Where on screen each row's help text begins in a section of a help page (a Chinese character two columns)."""
    from tongji.cli.help_zh import width

    rows = page.split(section + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return {width(m.group(1)) for line in rows if (m := re.match(r"^(  \S.*?\S {2,})\S", line))}


def test_help_is_framed_in_chinese_and_its_columns_line_up():
    """click and typer frame the help page in English (Usage, Options, [required], [default: …], <str>): in Chinese
    it is 用法, 选项, [必填], [默认：…], <文本>, and the help texts still begin in one column on screen although a
    Chinese label is wider than the English one (--plugins-dir <文本>, the root page's widest option)."""
    page = help_page("rollup", "--help")
    # an argument is named in Chinese, not by typer's `{inputs}...`, the Python parameter
    assert page.startswith("用法：tongji rollup [选项] <工作簿>...\n")
    assert "\n参数：\n" in page and "\n选项：\n" in page and "  --help                    显示本帮助并退出" in page
    assert "-r, --registry <路径>     单位名册（xlsx 或 csv）  [必填]" in page and "[默认：xlsx]" in page
    assert "-p, --period <文本>       报告期" in page and "  工作簿 <路径>" in page
    for english in ("Usage", "Options", "Arguments", "Show this", "[required]", "[default", "<str>", "<path>", "<list"):
        assert english not in page
    assert len(help_columns(page, "选项：")) == 1 and len(help_columns(page, "参数：")) == 1
    root = help_page("--help")
    assert root.startswith("用法：tongji [选项] 命令 [参数]...\n") and "\n命令：\n" in root
    assert help_columns(root, "选项：") == {24} and "  --plugins-dir <文本>  插件文件夹" in root
    demo = help_page("demo", "--help")
    assert demo.startswith("用法：tongji demo [选项] [输出文件夹]\n") and "  输出文件夹 <路径>  输出文件夹" in demo
    assert "--units <整数>" in demo and "[默认：tongji-demo]" in demo and len(help_columns(demo, "选项：")) == 1


def every_command() -> list:
    """tongji's click commands, the root and every subcommand."""
    import typer.main

    from tongji import cli

    cli._register()
    found, commands = [], [typer.main.get_command(cli.app)]
    while commands:
        found.append(command := commands.pop())
        commands += getattr(command, "commands", {}).values()
    return found


def test_every_help_text_has_its_english():
    from tongji.cli.help_en import ENGLISH

    texts = {text for command in every_command()
             for text in (command.help, command.short_help, *(getattr(p, "help", None) for p in command.params))}
    texts -= {None, "Show this message and exit."}
    assert texts - set(ENGLISH) == set()
    assert set(ENGLISH) - texts == set()  # none left over from a help text since changed


def test_every_argument_has_a_chinese_name():
    from tongji.cli.help_zh import NAMES

    helps = {p.help for command in every_command() for p in command.params if p.param_type_name == "argument"}
    assert helps == set(NAMES)


@pytest.mark.parametrize(("args", "line"), [
    (["validate"],
     "Usage error: Missing argument: Workbook files or folders (searched for .xlsx/.xls, subfolders too) (see --help)"),
    (["validate", "x", "--bogus"], "Usage error: No such option: --bogus (see --help)"),
    (["validate", "x", "--report"], "Usage error: Option '--report' requires an argument. (see --help)"),
    (["--lang", "zh", "validate"],  # the option before the setting
     "用法错误：缺少参数：工作簿文件或文件夹（递归查找 .xlsx/.xls）（用 --help 查看用法）"),
])
def test_usage_mistakes_follow_tongji_lang(args, line):
    run = tongji(*args, lang="en")
    assert (run.returncode, run.stderr.strip()) == (2, line)


@pytest.mark.parametrize(("args", "line"), [
    (["validate", "收回", "--lang", "en"], "Usage error: --lang goes before the command: tongji --lang en validate … "
                                          "(see --help)"),
    (["validate", "收回", "--lang=zh"],
     "用法错误：--lang 要写在命令名之前：tongji --lang zh validate …（用 --help 查看用法）"),
    (["serve", "backup", "备份.zip", "--plugins-dir", "{tmp}"],
     "用法错误：--plugins-dir 要写在命令名之前：tongji --plugins-dir {tmp} serve backup …（用 --help 查看用法）"),
])
def test_a_top_level_option_after_the_command_is_said_to_go_before_it(args, line, tmp_path):
    """`tongji validate 收回 --lang en`, as one adds an option at the end: click says only "No such option: --lang",
    and said it in Chinese to someone who asked for English."""
    run = tongji(*[a.format(tmp=tmp_path) for a in args])
    assert (run.returncode, run.stderr.strip()) == (2, line.format(tmp=tmp_path))
