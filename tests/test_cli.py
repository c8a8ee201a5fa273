"""The validate and demo commands as a statistician uses them: output, files written, exit codes."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import terminal
from tongji import cli
from tongji.errors import TongjiError
from tongji.i18n import t
from workbooks import cell_of, cover, make_workbook

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def commands():
    cli._register()


def invoke(*args, env=None):
    return runner.invoke(cli.app, [str(a) for a in args], env=env)


@pytest.fixture
def batch(tmp_path):
    folder = tmp_path / "收到的报表"
    make_workbook(folder / "good.xlsx")
    make_workbook(folder / "bad.xlsx", {"HY02": 101}, cover_values=None)
    return folder


def test_clean_batch_exits_0(tmp_path):
    make_workbook(tmp_path / "good.xlsx")
    result = invoke("validate", tmp_path, "--period", "2025")
    assert result.exit_code == 0, result.output
    assert "共 1 份工作簿：通过 1，有警告 0，退回 0" in result.output


def test_errors_exit_1_with_cell_and_message(batch):
    # two workbooks of one unit: both returned, and the bad one says why
    result = invoke("validate", batch, "--period", "2025")
    assert result.exit_code == 1
    assert "退回" in result.output
    assert cell_of("HY02") in result.output
    assert "女职工人数（101）大于职工人数（100）" in result.output
    assert "\x1b[" not in result.output  # not a terminal: plain text


def test_report_formats(batch, tmp_path):
    for suffix in ("json", "csv", "xlsx"):
        result = invoke("validate", batch, "--report", tmp_path / f"r.{suffix}")
        assert result.exit_code == 1
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "tongji.issues/1"
    rows = doc["issues"]
    mine = [r for r in rows if r["rule"] == "hy02-le-hy01"]
    assert {k: mine[0][k] for k in ("sheet", "cell", "code", "severity")} == {
        "sheet": "会员", "cell": cell_of("HY02"), "code": "HY02", "severity": "错误"}
    assert {"file", "unit", "severity", "rule", "sheet", "cell", "code", "message", "params"} <= set(rows[0])
    assert mine[0]["params"] == {"HY02": "101", "HY01": "100"}
    csv = pl.read_csv(tmp_path / "r.csv")
    assert "hy02-le-hy01" in csv["规则"].to_list()
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["问题清单", "工作簿"]
    assert wb["问题清单"]["A1"].value == "文件"


def test_reports_are_byte_identical_on_rerun(batch, tmp_path):
    for n in (1, 2):
        invoke("validate", batch, "--report", tmp_path / f"{n}.xlsx", "--annotate", tmp_path / f"a{n}")
    assert (tmp_path / "1.xlsx").read_bytes() == (tmp_path / "2.xlsx").read_bytes()
    assert (tmp_path / "a1" / "bad.xlsx").read_bytes() == (tmp_path / "a2" / "bad.xlsx").read_bytes()


def test_annotate_writes_copies_and_leaves_inputs(batch, tmp_path):
    before = (batch / "bad.xlsx").read_bytes()
    result = invoke("validate", batch, "--annotate", tmp_path / "退回")
    assert "已为 2 份工作簿写出标注副本" in result.output
    copy = openpyxl.load_workbook(tmp_path / "退回" / "bad.xlsx")
    assert copy.sheetnames[0] == "问题清单"
    sheet, ref = cell_of("HY02").split("!")
    assert "hy02-le-hy01" in copy[sheet][ref].comment.text
    assert (batch / "bad.xlsx").read_bytes() == before


def test_annotated_copies_show_progress_on_a_terminal_only(tmp_path, monkeypatch):
    """Writing the annotated copies takes a tenth of a second or more each: on a terminal it gets its own bar."""
    import tongji.cli.validate_command as command

    folder = tmp_path / "收到的报表"
    for n in range(5):
        make_workbook(folder / f"bad{n}.xlsx", {"HY02": 101}, cover_values=None)
    screen = terminal(monkeypatch, command)
    assert invoke("validate", folder, "--annotate", tmp_path / "tty").exit_code == 1
    assert screen.getvalue().count("写出标注副本") > 1  # the bar's label, and the last line
    monkeypatch.undo()
    piped = invoke("validate", folder, "--annotate", tmp_path / "piped")
    assert piped.exit_code == 1 and piped.output.count("写出标注副本") == 1  # in the last line only: no bar
    assert "已为 5 份工作簿写出标注副本" in piped.output


def test_an_annotated_copy_never_lands_on_another_input(tmp_path):
    folder = tmp_path / "in"
    make_workbook(folder / "a.xlsx")  # a clean workbook: no annotated copy of its own
    (folder / "a.xls").write_bytes(b"not a workbook")  # returned: its copy would be a.xlsx
    before = (folder / "a.xlsx").read_bytes()
    result = invoke("validate", folder / "a.xls", folder / "a.xlsx", "--annotate", folder)
    assert result.exit_code == 2 and "a.xlsx" in result.output and "不能覆盖原文件" in result.output
    assert (folder / "a.xlsx").read_bytes() == before and sorted(p.name for p in folder.iterdir()) == ["a.xls",
                                                                                                       "a.xlsx"]


@pytest.mark.parametrize("args", [("--lang", "en"), ()])
def test_english(batch, args):
    env = {"TONGJI_LANG": "en"} if not args else None
    result = invoke(*args, "validate", batch, env=env)
    assert "2 workbooks: 0 passed, 0 with warnings, 2 returned" in result.output
    assert "Female employees (101) exceed employees (100)" in result.output


@pytest.mark.parametrize(("lang", "mark"), [("en", "warning (explained)"), ("zh", "警告（已说明）")])
def test_an_explained_warning_is_marked_in_the_language_of_the_run(tmp_path, lang, mark):
    make_workbook(tmp_path / "a.xlsx", {"HY04": 45}, notes={"HY04": "含退休女职工"})  # 45 女会员 > 40 女职工
    result = invoke("--lang", lang, "validate", tmp_path)
    assert result.exit_code == 0, result.output
    assert mark in result.output
    assert "（Explained）" not in result.output


def test_usage_and_setup_errors_exit_2(batch, tmp_path):
    cases = [
        (("validate", tmp_path / "nowhere"), "路径不存在"),
        (("validate", batch, "--period", "2025年第五季度"), "报告期“2025年第五季度”格式不对"),
        (("validate", batch, "--registry", tmp_path / "none.csv"), "名册文件不存在"),
        (("validate", batch, "--report", tmp_path / "r.pdf"), "报告格式只支持"),
        (("validate", tmp_path / "empty"), "路径不存在"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    (tmp_path / "empty").mkdir()
    result = invoke("validate", tmp_path / "empty")
    assert result.exit_code == 2 and "没有找到任何工作簿" in result.output


def test_lists_in_setup_errors_are_joined_in_english_in_english(tmp_path):
    registry = tmp_path / "名册.csv"
    registry.write_text("单位代码,单位名称,上级代码,层级\n1,市总,,市\n2,区总,1,区\n3,街道,2,街道\n4,工会,3,基层\n",
                        encoding="utf-8")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    result = invoke("--lang", "en", "rollup", tmp_path / "a", "-r", registry, "-p", "2025", "-o", tmp_path / "out",
                    "--unit", "1", "-f", "html,pdf")
    assert result.exit_code == 2
    assert "Error: No output format named html, pdf (available: csv, json, parquet, xlsx)" in result.output
    result = invoke("--lang", "en", "validate", tmp_path / "a", tmp_path / "b")
    assert result.exit_code == 2
    assert f"Error: No workbooks found in: {tmp_path / 'a'}, {tmp_path / 'b'}" in " ".join(result.output.split())


@pytest.mark.parametrize("command", ["validate", "rollup"])
def test_a_folder_of_wps_files_only_says_they_are_there_and_what_to_do(tmp_path, command):
    """"No workbooks found" alone sends the statistician to look for workbooks that are there, saved by WPS."""
    folder = tmp_path / "收回"
    folder.mkdir()
    (folder / "甲工会.et").write_bytes(b"x")
    (folder / "乙工会.csv").write_bytes(b"x")
    registry = tmp_path / "名册.csv"
    registry.write_text("单位代码,单位名称,上级代码,层级\n1,市总,,市\n2,区总,1,区\n3,街道,2,街道\n4,工会,3,基层\n",
                        encoding="utf-8")
    args = [command, folder, *(["-r", registry, "-p", "2025", "-o", tmp_path / "out", "--unit", "1"]
                               if command == "rollup" else [])]
    said = {"zh": f"错误：没有找到任何工作簿：{folder}；其中有 2 个文件是 tongji 不能读的格式："
                  f"{folder / '乙工会.csv'}、{folder / '甲工会.et'}（请另存为 .xlsx 后再试）",
            "en": f"Error: No workbooks found in: {folder}; 2 files in a format tongji does not read: "
                  f"{folder / '乙工会.csv'}, {folder / '甲工会.et'} (save them as .xlsx and try again)"}
    for lang in ("zh", "en"):
        result = invoke("--lang", lang, *args)
        assert result.exit_code == 2, result.output
        assert " ".join(result.output.split()) == said[lang]

def test_malformed_levels_are_refused_without_a_registry_too(batch):
    """Without --registry validate has no use for --levels, but a mistyped one is still the statistician's
    mistake to hear about, not to find out at the next run with a registry."""
    result = invoke("validate", batch, "--levels", "基层")
    assert result.exit_code == 2
    assert result.output.strip() == "错误：层级设置“基层”无效：至少两级、名称不重复，如 县,乡镇,基层"

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_file_output_that_is_a_folder_is_said_in_the_users_language(batch, tmp_path, lang):
    """`--report 问题清单.xlsx` where a folder has that name, or `serve accounts -o 门户` (the data folder): the
    system's reason was shown by its code, EISDIR, and only after every workbook had been read."""
    folder = tmp_path / "问题清单.xlsx"
    folder.mkdir()
    said = {"zh": f"错误：无法写入 {folder}：那里是一个文件夹，请给出文件名",
            "en": f"Error: Cannot write {folder}: it is a folder; give a file name"}[lang]
    result = invoke("--lang", lang, "validate", batch, "--report", folder)
    assert (result.exit_code, result.output.strip()) == (2, said)
    from tongji.writing.files import write_bytes

    with pytest.raises(TongjiError) as exc:
        write_bytes(folder, b"x")
    assert t("error-prefix", lang=lang) + t(exc.value.key, lang=lang, **exc.value.kw) == said

def test_unwritable_output_is_a_setup_error(batch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("validate", batch, "--report", blocker / "r.json")
    assert result.exit_code == 2
    assert "无法写入" in result.output


@pytest.mark.parametrize(("code", "zh", "en"), [
    ("EACCES", "没有写权限", "no permission to write there"),
    ("EROFS", "那里是只读的（如写保护的U盘或光盘），请换一个位置",
     "it is read-only (a write-protected drive, say); choose another place"),
    ("EIO", "系统拒绝写入（EIO）", "Input/output error"),
])
def test_an_output_the_system_refuses_is_said_in_the_users_language(batch, tmp_path, monkeypatch, code, zh, en):
    """The system words its reason in English whatever --lang says: "Permission denied" inside a Chinese line.
    (Tests run as root, for whom no folder is closed: the system's refusal is made here.)"""
    import errno
    from pathlib import Path

    number, made = getattr(errno, code), tmp_path / "问题" / "清单"

    def refuse(self, *args, **kwargs):
        raise OSError(number, os.strerror(number), str(self))
    monkeypatch.setattr(Path, "mkdir", refuse)
    for lang, said in (("zh", f"错误：无法写入 {made}：{zh}"), ("en", f"Error: Cannot write {made}: {en}")):
        result = invoke("--lang", lang, "validate", batch, "--report", made / "r.xlsx")
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines()[-1] == said

@pytest.mark.parametrize("option", ["--report", "--annotate"])
def test_an_output_that_cannot_be_written_is_said_before_any_workbook_is_read(batch, tmp_path, monkeypatch, option):
    """Ten thousand workbooks read for ten minutes, and only then "cannot write the report": said first, in one
    line, and nothing made on the way."""
    blocker = tmp_path / "名册.csv"
    blocker.write_text("x")
    target = {"--report": blocker / "清单" / "问题清单.xlsx", "--annotate": blocker / "退回"}[option]
    result = invoke("validate", batch, option, target)
    assert result.exit_code == 2
    assert result.output.strip() == f"错误：无法写入 {blocker}：那里已有一个同名的文件，不能当作文件夹，请换一个名字"
    closed = tmp_path / "只读"
    closed.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: path != closed and real(path, mode, **kw))
    target = {"--report": closed / "清单" / "问题清单.xlsx", "--annotate": closed / "退回"}[option]
    result = invoke("validate", batch, option, target)
    assert result.exit_code == 2
    assert result.output.strip() == f"错误：无法写入 {closed}：没有写权限"
    assert list(closed.iterdir()) == []

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_output_folder_that_is_a_file_is_said_in_the_users_language(batch, tmp_path, lang):
    """`-o 名册.csv`, or a report inside it: the system's reason (File exists) is English whatever --lang says,
    and does not say what is wrong; the message names the file in the way."""
    registry = tmp_path / "名册.csv"
    registry.write_text("x")
    said = {"zh": f"错误：无法写入 {registry}：那里已有一个同名的文件，不能当作文件夹，请换一个名字",
            "en": f"Error: Cannot write {registry}: a file of that name is in the way where a folder is needed; "
                  "choose another name"}[lang]
    for args in (["--report", registry / "问题清单.xlsx"], ["--annotate", registry]):
        result = invoke("--lang", lang, "validate", batch, *args)
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines()[-1] == said


def test_demo_runs_on_the_bundled_samples(tmp_path, monkeypatch):
    import contextlib

    from tongji.cli import demo_command

    told = {"totals": [], "ticks": 0}

    @contextlib.contextmanager
    def recorded(console, label):
        yield told["totals"].append, lambda: told.update(ticks=told["ticks"] + 1)

    monkeypatch.setattr(demo_command, "progress", recorded)
    result = invoke("demo", tmp_path / "out")
    assert result.exit_code == 0, result.output
    # one bar for the whole demo, not only its reading: 131 workbooks, 10 copies, 12 summaries
    assert told == {"totals": [131, 10, 12], "ticks": 153}
    assert "共 131 份工作簿：通过 121，有警告 3，退回 7" in result.output  # 有警告: the copied pair, the far aid
    assert (tmp_path / "out" / "问题清单.xlsx").exists()
    copies = sorted(p.name for p in (tmp_path / "out" / "退回工作簿").rglob("*.xlsx"))
    assert len(copies) == 10  # 7 returned, 3 with warnings
    summaries = sorted(p.name for p in (tmp_path / "out" / "汇总").glob("*_汇总.xlsx"))
    nodes = ["330100", "330106", "330108", "330115", *[f"330106{i:03d}" for i in (1, 2, 3, 4)],
             "330108001", "330108002", "330115001", "330115002"]
    assert summaries == sorted(f"{c}_2025_汇总.xlsx" for c in nodes)
    # every level against its own summary of last year (samples/2024/汇总): 同比 on every line
    assert result.output.count("（同比 ") == len(nodes)
    # 及时率 against the samples' deadline: units on time (报出日期 ≤ 2026-01-20) over units expected
    assert "市汇总 示例市总工会：采用 123/132 份，及时率 75.0%，基层工会 111 个，会员 25300 人（同比 +0.5%）" \
        in result.output
    assert "街道汇总 翠苑街道总工会：采用 14/16 份，及时率 81.2%，基层工会 13 个，会员 598 人（同比 -2.0%）" \
        in result.output
    # the cross-period mistake (年初结余 ≠ last year's 年末结余) is caught at its 街道 and returned
    checks = openpyxl.load_workbook(tmp_path / "out" / "汇总" / "330106004_2025_汇总.xlsx")["校验"]
    rules = [row[4] for row in checks.iter_rows(min_row=2, values_only=True)]
    assert "jf20-previous" in rules
    members = openpyxl.load_workbook(tmp_path / "out" / "汇总" / "330100_2025_汇总.xlsx")["会员"]
    header = next(r for r in members.iter_rows(values_only=True) if r[0] == "指标名称")
    assert header[5:7] == ("上期数", "同比")


def test_main_turns_usage_errors_into_exit_2(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["tongji", "validate", "--bogus"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    assert "用法错误" in capsys.readouterr().err


def test_big_batches_list_only_workbooks_needing_attention(tmp_path, monkeypatch):
    from tongji.cli import validate_command as command

    monkeypatch.setattr(command, "ALL_BOOKS_UP_TO", 1)
    make_workbook(tmp_path / "a.xlsx")
    make_workbook(tmp_path / "b.xlsx", {"HY02": 101}, cover_values=cover("330106009"))
    result = invoke("validate", tmp_path)
    assert "b.xlsx" in result.output and "a.xlsx" not in result.output
    assert "另有 1 份工作簿通过，未逐一列出" in result.output


def test_outputs_are_ordinary_files(tmp_path):
    import os
    import stat

    from tongji.writing import files
    from tongji.writing.files import write_bytes

    old = os.umask(0o022)
    files._umask.cache_clear()
    try:
        path = write_bytes(tmp_path / "x.json", b"{}")
    finally:
        os.umask(old)
        files._umask.cache_clear()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_writing_files_reads_the_umask_once_not_per_file(tmp_path, monkeypatch):
    """Reading the umask means setting it: done per file, a file another thread (a portal request, rollup's
    writer) made at that moment would have no mask."""
    import os

    from tongji.writing import files

    calls = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real(mask))
    files._umask.cache_clear()
    for i in range(3):
        files.write_bytes(tmp_path / f"{i}.json", b"{}")
    files._umask.cache_clear()
    assert len(calls) == 2 and calls[0] == 0o077  # read once; meanwhile a new file is private, not open to all


def test_demo_on_a_fresh_generated_city(tmp_path):
    result = invoke("demo", tmp_path / "out", "--units", "12", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "示例市" / "registry.csv").exists()
    assert "市汇总 示例市总工会" in result.output and "（同比 " in result.output
    assert (tmp_path / "out" / "示例市" / "2024" / "汇总" / "330100_2024_汇总.xlsx").exists()
    reports = sorted((tmp_path / "out" / "汇总").glob("*_报告.html"))
    assert reports and all(p.stat().st_size > 1000 for p in reports)


def test_demo_with_no_units_is_refused_not_run_on_the_bundled_city(tmp_path):
    """--units 0 ran the bundled samples as if no --units were given; the sample generator refuses it."""
    result = invoke("demo", tmp_path / "out", "--units", "0")
    assert result.exit_code == 2
    assert result.output.strip() == "错误：示例数据参数有误：--units 0，基层工会数至少为 1"
    assert not (tmp_path / "out").exists()

def test_help_starts_none_of_the_engine():
    """`tongji --help` lists the commands without importing the engine (polars, pandera, openpyxl) or starting
    the plugin host where no plugin could add a command: it answers at once."""
    import os
    import subprocess
    import sys

    code = ("import sys\nsys.argv = ['tongji', '--help']\nfrom tongji.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('polars', 'pandera', 'openpyxl', 'fastexcel', 'tongji.plugins') "
            "if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if k != "TONGJI_PLUGINS_DIR"} | {"TONGJI_ENTRY_POINTS": "0"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "validate" in done.stdout and "rollup" in done.stdout  # the commands are listed
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-300:]


def test_python_dash_m_tongji_is_the_command(tmp_path):
    """`python -m tongji` runs the command where the `tongji` script is not on PATH (a Windows office PC): it
    said "No module named tongji.__main__". A module spawned again under another name (a worker process) does
    not run the command a second time."""
    import runpy
    import subprocess

    samples = Path(__file__).parent.parent / "samples"
    done = subprocess.run([sys.executable, "-m", "tongji", "--lang", "en", "validate",
                           str(samples / "2025" / "望江街道总工会"), "-r", str(samples / "registry.csv"),
                           "-p", "2025", "--report", str(tmp_path / "r.csv")],
                          capture_output=True, text=True, timeout=120, env=os.environ | {"TONGJI_ENTRY_POINTS": "0"})
    said = done.stdout + done.stderr
    assert done.returncode == 1 and said.startswith("20 workbooks: 17 passed, 2 with warnings, 1 returned"), said
    assert (tmp_path / "r.csv").exists()
    assert "main" not in runpy.run_module("tongji.__main__", run_name="__mp_main__")


def test_the_command_has_polars_give_back_freed_memory_at_once_unless_told_otherwise(monkeypatch, capsys):
    """rollup's steps follow each other faster than jemalloc's default ten seconds of keeping freed pages."""
    monkeypatch.delenv("_RJEM_MALLOC_CONF", raising=False)
    monkeypatch.setattr(sys, "argv", ["tongji", "--help"])
    with pytest.raises(SystemExit):
        cli.main()
    assert os.environ["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:0,muzzy_decay_ms:0"
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "narenas:2")
    with pytest.raises(SystemExit):
        cli.main()
    assert os.environ["_RJEM_MALLOC_CONF"] == "narenas:2"


def test_rollup_writes_each_summary_beside_the_next_in_order_holding_few():
    from tongji.cli.rollup_command import written_beside

    made = []

    def summaries():
        for i in range(6):
            made.append(i)
            yield i

    out = []
    for summary, files in written_beside(summaries(), lambda s: [f"{s}.xlsx"]):
        out.append((summary, files, len(made)))
    # in order; the first is handed back once the third is made: at most three summaries are held
    assert out == [(0, ["0.xlsx"], 3), (1, ["1.xlsx"], 4), (2, ["2.xlsx"], 5), (3, ["3.xlsx"], 6),
                   (4, ["4.xlsx"], 6), (5, ["5.xlsx"], 6)]

    # with two writers two are written at once: each write waits for the other's start (one would wait alone)
    both = threading.Barrier(2, timeout=10)
    assert [f for _, f in written_beside(iter(range(4)), lambda s: [both.wait() >= 0], 2)] == [[True]] * 4
    made.clear()
    assert [len(made) for _ in written_beside(summaries(), lambda s: [], 2)] == [4, 5, 6, 6, 6, 6]

    def failing(s):
        if s == 2:
            raise OSError("disk full")
        return [s]

    with pytest.raises(OSError, match="disk full"):
        list(written_beside(iter(range(6)), failing))


def test_an_annotated_copy_named_like_the_report_does_not_replace_it(batch, tmp_path):
    """--report 退回/bad.xlsx --annotate 退回: the copy of bad.xlsx is bad_2.xlsx; the report stays the report."""
    out = tmp_path / "退回"
    result = invoke("validate", batch, "--report", out / "bad.xlsx", "--annotate", out)
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir()) == ["bad.xlsx", "bad_2.xlsx", "good.xlsx"]
    assert openpyxl.load_workbook(out / "bad.xlsx").sheetnames == ["问题清单", "工作簿"]
    assert openpyxl.load_workbook(out / "bad_2.xlsx")["问题清单"]["A1"].value == "序号"


def test_a_file_name_that_is_not_utf8_is_read_and_shown_with_its_bad_bytes_replaced(tmp_path):
    """A zip unpacked from a GBK system gives names whose bytes are not UTF-8 (北干市场 in GBK here): the batch goes
    on, and the terminal, the reports and the annotated copy show those bytes as U+FFFD."""
    folder = tmp_path / "in"
    gbk = os.fsdecode(b"\xb1\xb1\xb8\xc9\xca\xd0\xb3\xa1.xlsx")
    make_workbook(folder / gbk)
    make_workbook(folder / "good.xlsx")  # the same unit twice: each message names the other file
    shown = "\ufffd" * 5 + "г\ufffd.xlsx"
    result = invoke("validate", folder, "--report", tmp_path / "r.csv", "--annotate", tmp_path / "copies")
    assert result.exit_code == 1, result.output
    assert shown in result.output and "内部出错" not in result.output
    csv = pl.read_csv(tmp_path / "r.csv")
    assert sorted(csv["文件"].to_list()) == [str(folder / "good.xlsx"), str(folder / shown)]
    assert all(shown in m for m in csv["问题说明"].to_list())
    assert sorted(p.name for p in (tmp_path / "copies").iterdir()) == ["good.xlsx", shown]
    assert invoke("validate", folder, "--report", tmp_path / "r.xlsx").exit_code == 1
    books = openpyxl.load_workbook(tmp_path / "r.xlsx")["工作簿"]
    assert str(folder / shown) in [c.value for c in books["A"]]


def test_a_full_width_period_is_the_same_period(tmp_path):
    """-p ２０２５ typed with a Chinese input method is 2025: the workbooks of 2025 are not returned for it."""
    make_workbook(tmp_path / "in" / "good.xlsx")
    for typed in ("２０２５", "2025年", "2025年报", "2025年度"):
        result = invoke("validate", tmp_path / "in", "--period", typed, "--report", tmp_path / "r.csv")
        assert result.exit_code == 0, (typed, result.output)
        assert "共 1 份工作簿：通过 1，有警告 0，退回 0" in result.output
        assert pl.read_csv(tmp_path / "r.csv").height == 0
    result = invoke("validate", tmp_path / "in", "--period", "٢٠٢٥")  # digits, but not of a period
    assert result.exit_code == 2 and "报告期“٢٠٢٥”格式不对" in result.output


def test_a_full_disk_is_a_setup_error(batch, tmp_path, monkeypatch):
    """No space (or no inode) left for the temporary file an output is written to: exit 2 and 无法写入, as for any
    output that cannot be written, not an internal error."""
    import errno
    import tempfile

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tempfile, "mkstemp", full)
    result = invoke("validate", batch, "--report", tmp_path / "r.csv")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == f"错误：无法写入 {tmp_path / 'r.csv'}：磁盘已满"
    assert "Traceback" not in result.output


def test_a_folder_without_write_permission_is_said_in_english_in_english(batch, tmp_path, monkeypatch):
    from tongji.writing import files

    readable = os.access  # as root, a read-only folder is writable: the check is told it is not
    monkeypatch.setattr(files.os, "access", lambda path, mode: mode != os.W_OK and readable(path, mode))
    result = invoke("--lang", "en", "validate", batch, "--report", tmp_path / "out" / "r.csv")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (  # out is not there yet: the folder it would be made in
        f"Error: Cannot write {tmp_path}: no permission to write there")


def test_a_table_saved_in_a_format_tongji_does_not_read_is_said_not_just_missing(tmp_path):
    """A unit that saved its workbook in WPS's own format (.et) or as CSV: the folder is read without it, and the
    statistician is told which files were not read, rather than finding that unit only among the missing."""
    folder = tmp_path / "收到的报表"
    make_workbook(folder / "good.xlsx")
    (folder / "北山").mkdir()
    make_workbook(folder / "北山" / "wps.et")
    (folder / "北山" / "导出.csv").write_text("a,b\n", encoding="utf-8")
    (folder / "说明.docx").write_bytes(b"")  # not a table: no word of it
    (folder / "~$good.csv").write_bytes(b"")  # a lock file: no word of it
    result = invoke("validate", folder, "--period", "2025")
    assert result.exit_code == 0, result.output
    said = f"提示：输入文件夹中有 2 个文件不是 tongji 能读的工作簿格式，未读取：{folder / '北山' / 'wps.et'}、"
    assert said + f"{folder / '北山' / '导出.csv'}（请另存为 .xlsx 后再审核）" in result.output.replace("\n", "")
    result = invoke("--lang", "en", "validate", folder / "good.xlsx", "--period", "2025")
    assert "not read" not in result.output  # a file named is read, whatever its name; nothing passed over
    result = invoke("--lang", "en", "validate", folder, "--period", "2025")
    assert f"not read: {folder / '北山' / 'wps.et'}, " in result.output.replace("\n", "")


def test_a_unit_code_pasted_with_spaces_and_a_format_in_capitals_are_what_they_say(tmp_path):
    """`--unit " 330106001"` copied from a sheet with its space was "名册中没有单位  330106001", and `-f XLSX` "没有名为
    XLSX 的输出格式": both name what they plainly mean."""
    samples = Path(__file__).parent.parent / "samples"
    result = invoke("rollup", samples / "2025" / "北干街道总工会", "-r", samples / "registry.csv", "-p", "2025",
                    "--unit", " 330106001 ", "-f", "XLSX,Csv", "-o", tmp_path / "out")
    assert result.exit_code in (0, 1), result.output
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"330106001_2025_汇总.csv", "330106001_2025_汇总.xlsx"} <= written
    assert not any(name.endswith(".json") and "manifest" not in name for name in written)  # json was not asked for


def test_a_reader_that_stops_reading_neither_changes_the_exit_code_nor_cuts_the_work(tmp_path):
    """`tongji validate … | head -1` exited 1 on a clean batch (click's code for a broken pipe is our code for data
    errors), and a rollup stopped where the pipe broke. Here the reader has gone before the first line."""
    import subprocess

    samples = Path(__file__).parent.parent / "samples"

    def closed(*args) -> tuple[int, str]:
        run = subprocess.Popen([sys.executable, "-m", "tongji", *map(str, args)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        run.stdout.close()
        with run.stderr:
            err = run.stderr.read().decode()
        return run.wait(timeout=120), err

    clean = samples / "2025" / "崇贤街道总工会"
    assert closed("validate", clean, "-r", samples / "registry.csv", "-p", "2025") == (0, "")
    if os.name == "posix":  # no standard output at all (closed here; pythonw under a scheduled task has none): the same
        none = subprocess.run(["sh", "-c", 'exec "$0" "$@" >&-', sys.executable, "-m", "tongji", "validate", str(clean),
                               "-r", str(samples / "registry.csv"), "-p", "2025"], capture_output=True, text=True,
                              timeout=120)
        assert (none.returncode, none.stderr) == (0, "")
    street = ["rollup", samples / "2025" / "北干街道总工会", "-r", samples / "registry.csv", "-p", "2025",
              "--unit", "330106001"]
    expected = invoke(*street, "-o", tmp_path / "a").exit_code
    assert closed(*street, "-o", tmp_path / "b") == (expected, "")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(p.name for p in (tmp_path / "a").iterdir())


def test_a_bar_takes_work_in_stages(monkeypatch):
    """on_total adds to the bar's steps, so the demo's checking, copies and summaries fill one bar; a bar starts
    once there are PROGRESS_MIN steps, counting the ones already done."""
    import io

    from rich.console import Console

    from tongji.cli.common import progress

    shown = []
    monkeypatch.setattr("rich.progress.Progress.add_task", lambda self, label, total, completed: shown.append(
        (label, total, completed)) or 0)
    monkeypatch.setattr("rich.progress.Progress.update", lambda self, task, total: shown.append(("total", total)))
    monkeypatch.setattr("rich.progress.Progress.advance", lambda self, task: shown.append("tick"))
    with progress(Console(file=io.StringIO(), force_terminal=True), "演示") as (on_total, tick):
        on_total(3)
        tick()
        on_total(4)
        tick()
        on_total(2)
    assert shown == [("演示", 7, 1), "tick", ("total", 9)]
