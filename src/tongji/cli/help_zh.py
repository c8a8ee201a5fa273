"""`--help` in Chinese: the commands' help is written in Chinese, but click and typer frame the page in English
(Usage, Options, [required], [default: …], <str>); a statistician reads Chinese. The page is made as click makes
it, then these words are put in Chinese, each value's label padded so the help beside it stays in line."""

from __future__ import annotations

import re
from unicodedata import east_asian_width

# typer's braces around a required argument in the usage line ({paths}...), in either language
BRACES = (re.compile(r"(?<= )\{([^}\s]+)\}(?=[. ]|$)", re.M), r"<\1>")
# the page's English, line by line: headings, the usage line's parts, what typer adds after a help text
FRAME = [
    (re.compile(r"^Usage: ", re.M), "用法："),
    (re.compile(r"^Arguments:$", re.M), "参数："),
    (re.compile(r"^Options:$", re.M), "选项："),
    (re.compile(r"^Commands:$", re.M), "命令："),
    (re.compile(r" \[OPTIONS\]"), " [选项]"),
    (re.compile(r" COMMAND \[ARGS\]\.\.\."), " 命令 [参数]..."),
    BRACES,
    (re.compile(r"Show this message and exit\."), "显示本帮助并退出"),
    (re.compile(r"\[required\]"), "[必填]"),
    (re.compile(r"\[default: ([^\]]*)\]"), r"[默认：\1]"),
]
# a value's label (typer names its Python type)
LABELS = {"<path>": "<路径>", "<list[Path]>": "<路径>", "<str>": "<文本>", "<list[str]>": "<文本>",
          "<int>": "<整数>", "<float>": "<数字>"}
# an argument's name, keyed by its help text: the usage line said `{paths}...`, the Python parameter
NAMES = {"工作簿文件或文件夹（递归查找 .xlsx/.xls）": "工作簿",
         "基层、本级工作簿和下级汇总表（文件或文件夹）": "工作簿",
         "输出文件夹（默认 ./tongji-demo）": "输出文件夹",
         "输出目录：写入 registry.csv 和 <报告期>/ 下的工作簿": "输出目录",
         "备份文件（.zip）": "备份文件", "tongji serve backup 写出的备份文件": "备份文件",
         "插件名（字母、数字、下划线），如 my_region": "插件名"}
# a row of a list (arguments, options, commands): its name, the gap, its help; the help's further lines are
# indented to where its first began
_ROW = re.compile(r"^  (\S(?:.*?\S)?)( {2,})(\S.*)$")


def in_chinese(command) -> None:
    """The help page of a click command and of its subcommands framed in Chinese."""
    original = command.get_help
    for param in command.params:
        if param.param_type_name == "argument" and param.help in NAMES:
            param.metavar = NAMES[param.help]
    command.get_help = lambda ctx: reframed(original(ctx), FRAME, LABELS)
    for sub in getattr(command, "commands", {}).values():
        in_chinese(sub)


def reframed(page: str, frame: list, labels: dict[str, str]) -> str:
    """`page` with each of `frame`'s patterns replaced, and the values' labels named as `labels` says."""
    for pattern, zh in frame:
        page = pattern.sub(zh, page)
    out: list[str] = []
    block: list[str] = []
    for line in [*page.split("\n"), ""]:
        if line.startswith("  "):
            block.append(line)
            continue
        out += _lined_up(block, labels)
        block = []
        out.append(line)
    return "\n".join(out[:-1])


def _lined_up(block: list[str], labels: dict[str, str]) -> list[str]:
    """A list's rows with their labels renamed, the help texts moved right as far as the widest name now needs
    (a Chinese character takes two columns on screen; click lined them up by the English)."""
    label = re.compile("|".join(re.escape(k) for k in labels))
    rows = [_ROW.match(line) for line in block]
    column = next((2 + len(m.group(1)) + len(m.group(2)) for m in rows if m), 0)
    names = {i: label.sub(lambda m: labels[m.group()], m.group(1)) for i, m in enumerate(rows) if m}
    moved = max([column, *(4 + width(name) for name in names.values())])
    out = []
    for i, line in enumerate(block):
        if i in names:
            out.append(f"  {names[i]}{' ' * (moved - 2 - width(names[i]))}{rows[i].group(3)}")
        elif column and line.startswith(" " * column):
            out.append(" " * (moved - column) + line)
        else:
            out.append(label.sub(lambda m: labels[m.group()], line))
    return out


def width(text: str) -> int:
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)
