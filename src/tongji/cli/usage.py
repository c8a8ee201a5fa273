"""Command-line usage mistakes in Chinese: click words them in English, and a statistician reads Chinese; a
top-level option written after the command is said to go before it."""

from __future__ import annotations

import re

from tongji.i18n import t

ROOT_OPTIONS = ("--lang", "--plugins-dir")  # tongji's own, before any command

# (click's English, the Chinese); a message matching none stays as click wrote it, inside the Chinese frame
_MESSAGES = [
    (r"Missing argument '(?P<a>.+?)'\.", "缺少参数 {a}"),
    (r"Missing option '(?P<a>.+?)'\.", "缺少选项 {a}"),
    (r"No such option: (?P<a>\S+)(?: \(Possible options: (?P<b>.+)\)| Did you mean (?P<c>\S+)\?)?", "没有选项 {a}"),
    (r"No such command '(?P<a>.+?)'\.(?: Did you mean '(?P<c>.+?)'\?)?", "没有命令 {a}"),
    (r"Missing command\.", "缺少命令"),
    (r"Option '(?P<a>.+?)' requires an argument\.", "选项 {a} 后面需要一个值"),
    (r"Option '(?P<a>.+?)' does not take a value\.", "选项 {a} 是开关，后面不写值：写上 {a} 即可"),
    # typer's own click says "argument(s)"; the usual cause is a path with a space, not quoted
    (r"Got unexpected extra argument(?:s|\(s\))? \((?P<a>.+)\)",
     "多余的参数：{a}（路径里有空格时，要用英文引号括起来）"),
    (r"Invalid value for '(?P<a>.+?)': (?P<v>.+)", "{a} 的值不对：{v}"),
]
_VALUES = [
    (r"Path '(?P<a>.+)' is not readable\.", "路径 {a} 无法读取"),
    (r"Path '(?P<a>.+)' does not exist\.", "路径 {a} 不存在"),
    (r"Input should be a valid integer.*", "应为整数"),
    (r"Input should be a valid number.*", "应为数字"),
    (r"'(?P<a>.+?)' is not one of (?P<b>.+)\.", "“{a}”不在可选值 {b} 之中"),
]


def chinese(message: str) -> str:
    """click's usage message in Chinese, where we know its wording."""
    for pattern, zh in _MESSAGES:
        m = re.fullmatch(pattern, message.strip(), re.S)
        if m:
            parts = {k: (v or "").replace("' / '", " / ") for k, v in m.groupdict().items()}
            if "v" in parts:
                parts["v"] = _translate(_VALUES, parts["v"])
            hint = parts.get("c") or parts.get("b")
            return zh.format(**parts) + (f"（是否想用 {hint}？）" if hint else "")
    return message


def _translate(table: list[tuple[str, str]], text: str) -> str:
    for pattern, zh in table:
        m = re.fullmatch(pattern, text.strip(), re.S)
        if m:
            return zh.format(**m.groupdict())
    return text


def missing_argument(exc: Exception) -> str | None:
    """A missing argument named by what it is, its help text in the language of the run (click names it by the
    Python parameter: 缺少参数 paths, out, inputs, which a statistician cannot know)."""
    param = getattr(exc, "param", None)
    if type(exc).__name__ != "MissingParameter" or getattr(param, "param_type_name", "") != "argument":
        return None
    return t("usage-missing-argument", what=param.help) if getattr(param, "help", None) else None


def misplaced(exc: Exception, argv: list[str]) -> str | None:
    """A top-level option written after the command (`tongji validate 收回 --lang en`, as one adds an option at
    the end): click says only that the command has no such option; this says where it goes."""
    name = getattr(exc, "option_name", None)
    if type(exc).__name__ != "NoSuchOption" or name not in ROOT_OPTIONS or exc.ctx is None:
        return None
    value = option_from(argv, name) or "…"
    return t("usage-root-option", option=name, value=value, command=" ".join(exc.ctx.command_path.split()[1:]))


def option_from(argv: list[str], name: str) -> str | None:
    """A top-level option needed before commands are added: --plugins-dir (plugins may add commands), --lang."""
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None
