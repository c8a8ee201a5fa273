"""The statistician's guide cannot drift from the product: its pictures exist, its commands parse.

Every `tongji ...` line in a ```bash block of docs/guide.md and docs/guide.en.md is split like a shell would,
walked down the command tree, and each option it uses must be one the command really has (and shows in its
--help); every picture the guides show is a PNG in docs/img. The rule ids the guides name must exist.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tongji import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDES = [DOCS / "guide.md", DOCS / "guide.en.md"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 300_000
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def commands():
    cli._register()


def text(guide: Path) -> str:
    return guide.read_text(encoding="utf-8")


def images(guide: Path) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text(guide))


def bash_blocks(guide: Path) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text(guide), flags=re.S | re.M)


def tongji_commands(guide: Path) -> list[list[str]]:
    """Each `tongji` command line of the bash blocks, as argv after `tongji` (continuations joined)."""
    found = []
    for block in bash_blocks(guide):
        for line in block.replace("\\\n", " ").splitlines():
            for part in re.split(r"&&|\|\||;|\|", line):
                words = shlex.split(part, comments=True)
                while words and ENV_ASSIGNMENT.match(words[0]):
                    words = words[1:]
                if words and words[0] == "tongji":
                    found.append(words[1:])
    return found


# typer vendors its own click: its classes are not the installed click's, so they are told apart by duck typing.


@cache
def root_command():
    return typer.main.get_command(cli.app)


def is_group(command) -> bool:
    return hasattr(command, "commands")


def is_argument(param) -> bool:
    return param.param_type_name == "argument"


def options_of(command) -> dict:
    return {opt: p for p in command.params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("-")}


def walk(argv: list[str]) -> tuple[list[str], object, list[str]]:
    """Split argv into the global options, the command path, and the command's own arguments."""
    group = root_command()
    path: list[str] = []
    rest = list(argv)
    while rest:
        word = rest[0]
        if word.startswith("-"):
            if path:  # an option of the subcommand: the path is complete
                break
            param = options_of(group).get(word.split("=", 1)[0])
            assert param is not None, f"`tongji {word}` is not a global option"
            rest = rest[1:] if "=" in word or param.is_flag else rest[2:]
            continue
        if is_group(group) and word in group.commands:
            group = group.commands[word]
            path.append(word)
            rest = rest[1:]
            continue
        break
    return path, group, rest


def used_options(command, args: list[str]) -> list[tuple[str, str | None]]:
    """(option, value) for every option in args; the value is None for a flag."""
    known = options_of(command)
    used = []
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("-") and word != "-":
            name, _, inline = word.partition("=")
            param = known.get(name)
            if param is None or is_argument(param) or param.is_flag:
                used.append((name, None))
                i += 1
                continue
            value = inline or (args[i + 1] if i + 1 < len(args) else "")
            used.append((name, value))
            i += 1 if inline else 2
            continue
        i += 1
    return used


@cache
def help_text(path: tuple[str, ...]) -> str:
    result = runner.invoke(cli.app, [*path, "--help"], env={"COLUMNS": "200", "TONGJI_LANG": "zh"})
    assert result.exit_code == 0, f"`tongji {' '.join(path)} --help` failed:\n{result.output}"
    return result.output


@cache
def output_formats() -> set[str]:
    """Built-in formats and those of the example plugins the guides load (html)."""
    from tongji.plugins import Host

    return set(Host(ROOT / "plugins", entry_points=False).writers)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_picture_is_a_png_in_docs_img(guide):
    shown = images(guide)
    assert len(shown) >= 5, f"{guide.name} shows only {len(shown)} pictures"
    for ref in shown:
        assert ref.startswith("img/") and ref.endswith(".png"), f"{guide.name}: {ref} is not docs/img/*.png"
        png = DOCS / ref
        assert png.is_file(), f"{guide.name} shows {ref}, which is missing: run python docs/make_screenshots.py"
        data = png.read_bytes()
        assert data[:8] == PNG_MAGIC, f"{ref} is not a PNG"
        assert len(data) < MAX_PNG_BYTES, f"{ref} is {len(data) // 1024} KB"


def test_both_guides_show_the_same_pictures_and_commands():
    zh, en = GUIDES
    assert images(zh) == images(en)
    assert tongji_commands(zh) == tongji_commands(en)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_command_line_parses(guide):
    commands = tongji_commands(guide)
    assert len(commands) >= 10, f"only {len(commands)} tongji commands found in {guide.name}"
    for argv in commands:
        line = "tongji " + " ".join(argv)
        path, command, args = walk(argv)
        assert path, f"`{line}`: no subcommand"
        runs_alone = getattr(command, "invoke_without_command", False)  # `tongji serve` runs; `serve accounts` too
        assert not is_group(command) or runs_alone, f"`{line}`: `{' '.join(path)}` needs a subcommand"
        shown = help_text(tuple(path))
        known = options_of(command)
        for option, value in used_options(command, args):
            assert option in known, f"`{line}`: `tongji {' '.join(path)}` has no option {option}"
            assert option in shown, f"`{line}`: {option} is not in `tongji {' '.join(path)} --help`"
            if option in ("--format", "-f"):
                unknown = {f.strip() for f in value.split(",")} - output_formats()
                assert not unknown, f"`{line}`: unknown output format {unknown}"
            if option in ("--period", "-p"):
                assert re.fullmatch(r"\d{4}(Q[1-4]|-\d{2})?", value), f"`{line}`: period {value!r}"
        positional = [a for a in args if not a.startswith("-")]
        needs_input = [p for p in command.params if is_argument(p) and p.required]
        assert positional or not needs_input, f"`{line}`: missing {needs_input[0].name}"


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_rule_ids_named_in_the_guide_exist(guide):
    from tongji.issues.catalog import BUILTIN
    from tongji.plugins import load_spec

    known = set(BUILTIN) | {r.id for r in load_spec().rules}
    named = set(re.findall(r"`([a-z][a-z0-9]*(?:-[a-z0-9]+)+)`", text(guide)))
    assert named <= known, f"{guide.name} names unknown rule ids: {sorted(named - known)}"


def sample_street(root: Path) -> Path:
    """The folders of section 2 for 翠苑街道 (330106004), from the bundled sample city; returns 2025年报."""
    import shutil

    from tongji.definitions.forms import data_dir

    samples = data_dir("samples")
    folder = root / "2025年报"
    (folder / "本级").mkdir(parents=True)
    shutil.copy(samples / "registry.csv", folder / "名册.csv")
    shutil.copytree(samples / "2025" / "翠苑街道总工会", folder / "收回")
    shutil.copy(samples / "2025" / "本级" / "330106004_翠苑街道总工会本级_2025.xlsx", folder / "本级")
    (root / "2024年报" / "汇总").mkdir(parents=True)
    shutil.copy(samples / "2024" / "汇总" / "330106004_2024_汇总.xlsx", root / "2024年报" / "汇总")
    return folder


def guide_command(guide: Path, verb: str, *must: str) -> list[str]:
    for argv in tongji_commands(guide):
        if argv[0] == verb and all(m in argv for m in must):
            return argv
    raise AssertionError(f"{guide.name} has no `tongji {verb}` command with {must}")


@pytest.mark.parametrize(("guide", "lang"), [(GUIDES[0], "zh"), (GUIDES[1], "en")], ids=["guide.md", "guide.en.md"])
def test_quoted_output_is_what_the_commands_print(guide, lang, tmp_path, monkeypatch):
    """The template, validate and 街道 rollup runs of the guide, on the sample city: every line they print is quoted."""
    monkeypatch.chdir(sample_street(tmp_path))
    # 132 templates take seconds to write; what the command prints does not depend on their content
    monkeypatch.setattr("tongji.writing.template.write_template", lambda path, *args: path)
    quoted = {line.rstrip() for line in text(guide).splitlines()}
    for argv in (guide_command(guide, "template", "--registry"),
                 guide_command(guide, "validate", "--annotate"),
                 guide_command(guide, "rollup", "330106004", "--previous")):
        result = runner.invoke(cli.app, ["--lang", lang, *argv])
        assert result.exit_code in (0, 1), result.output
        for line in result.output.splitlines():
            assert not line.strip() or line.rstrip() in quoted, (
                f"`tongji {' '.join(argv)}` printed a line {guide.name} does not quote:\n{line}")


def test_the_error_a_correction_uncovers_is_quoted_as_validate_says_it(tmp_path):
    """Section 7: 云帆 corrects 收入合计 to 13715.60 and its 年末结余, made to fit the wrong total, is reported. The
    guides quote that message (and the English guide its English) as validate prints it."""
    import openpyxl

    import tongji

    folder = sample_street(tmp_path)
    book = next((folder / "收回").glob("81330106ME0351201G_*.xlsx"))
    wb = openpyxl.load_workbook(book)
    wb["经费"]["D8"] = 13715.60  # JF01, as the union would correct it in Excel
    wb.save(book)
    report = tongji.validate([book], registry=folder / "名册.csv", period="2025")
    assert report.flatten(["cell", "rule"]) == [["经费!D29", "jf21-balance"]]
    for guide, lang in ((GUIDES[0], "zh"), (GUIDES[1], "en"), (GUIDES[1], "zh")):
        message = report.issues_in(lang)["message"][0]
        assert f"`{message}`" in text(guide), f"{guide.name} does not quote `{message}`"


def test_the_reason_a_superseded_workbook_is_listed_with_is_quoted_as_written():
    """--prefer-latest on 龙坞街道 of the sample city, which has two workbooks of one unit: the reason the older one
    is listed with in 完整性 is the one the guides quote."""
    import json

    import tongji
    from tongji.definitions.forms import data_dir
    from tongji.i18n import render

    samples = data_dir("samples")
    summary = tongji.rollup([samples / "2025" / "龙坞街道总工会", *(samples / "2025" / "本级").glob("330108001_*")],
                            registry=samples / "registry.csv", unit="330108001", period="2025", prefer_latest=True)
    (code, params), = summary.units.filter(summary.units["status"] == "未采用").select(
        "reason_code", "reason_params").rows()
    for guide, lang in ((GUIDES[0], "zh"), (GUIDES[1], "en"), (GUIDES[1], "zh")):
        reason = render(code, lang, json.loads(params))
        assert f"`{reason}`" in text(guide), f"{guide.name} does not quote `{reason}`"


def test_a_summary_edited_by_hand_is_found_by_validate_as_quoted(tmp_path):
    """Section 10: 翠苑街道's summary with its 会员人数 (598) typed over as 608. `tongji validate`, which the section
    suggests before sending, finds it as the guides quote it (they once said only the 区's rollup would)."""
    import openpyxl

    import tongji
    from tongji.definitions.forms import data_dir
    from tongji.plugins import load_spec
    from tongji.writing.summary_files import write_summary

    samples = data_dir("samples")
    street = tongji.rollup([samples / "2025" / "翠苑街道总工会", *(samples / "2025" / "本级").glob("330106004_*")],
                           registry=samples / "registry.csv", unit="330106004", period="2025",
                           previous=samples / "2024" / "汇总" / "330106004_2024_汇总.xlsx")  # as in section 8
    book = next(p for p in write_summary(street, tmp_path, load_spec()) if p.suffix == ".xlsx")
    wb = openpyxl.load_workbook(book)
    wb["会员"]["D10"] = 608  # HY03, 598 by its 明细
    wb.save(book)
    report = tongji.validate([book], period="2025")
    assert report.flatten(["cell", "rule"]) == [["会员!D10", "summary-edited"]]
    for guide in GUIDES:
        assert f"`{report.issues['message'][0]}`" in text(guide)
        assert "`tongji validate` 不做这项核对" not in text(guide) and "does not make this check" not in text(guide)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_contents_list_every_section(guide):
    """The contents at the top name every numbered section (section 13, the portal, was missing)."""
    sections = re.findall(r"^## (\d+)\. ", text(guide), flags=re.M)
    listed = re.findall(r"^(\d+)\. \[[^\]]+\]\(#\1-", text(guide), flags=re.M)
    assert listed == sections
