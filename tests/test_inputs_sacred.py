"""Inputs are sacred: an output over or among the inputs is refused before anything is read (exit 2)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tongji import cli
from workbooks import make_workbook

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def commands():
    cli._register()


@pytest.fixture
def batch(tmp_path):
    folder = tmp_path / "收回"
    make_workbook(folder / "某单位.xlsx", {"HY02": 101})
    return folder


def _refused(args, batch):
    before = {p: p.read_bytes() for p in batch.rglob("*")}
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "输出位置" in result.output and "在输入" in result.output and "Traceback" not in result.output
    assert {p: p.read_bytes() for p in batch.rglob("*")} == before  # nothing overwritten, nothing added


@pytest.mark.parametrize("where", ["某单位.xlsx", "问题清单.xlsx", "sub/问题清单.csv"])
def test_a_report_inside_the_input_folder_is_refused(batch, where):
    _refused(["validate", batch, "--report", batch / where], batch)


def test_a_report_that_is_an_input_file_is_refused(batch):
    unit = batch / "某单位.xlsx"
    _refused(["validate", unit, "--report", batch.parent / "收回" / ".." / "收回" / "某单位.xlsx"], batch)


def test_annotated_copies_inside_the_input_folder_are_refused(batch):
    _refused(["validate", batch, "--annotate", batch / "退回"], batch)


def test_a_summary_folder_inside_the_inputs_is_refused(batch, tmp_path):
    registry = tmp_path / "名册.csv"
    registry.write_text("单位代码,单位名称,上级代码,层级\nS,街道,,街道\n", encoding="utf-8")
    _refused(["rollup", batch, "-r", registry, "-p", "2025", "--unit", "S", "-o", batch], batch)


def test_outputs_beside_the_inputs_are_fine(batch, tmp_path):
    result = runner.invoke(cli.app, ["validate", str(batch), "--report", str(tmp_path / "问题清单.xlsx"),
                                     "--annotate", str(tmp_path / "退回")])
    assert result.exit_code == 1, result.output
    assert (tmp_path / "问题清单.xlsx").is_file() and list((tmp_path / "退回").glob("*.xlsx"))


@pytest.mark.parametrize("failure", [RuntimeError("boom"), BaseException("panicked at calamine")])
def test_a_crash_exits_3_with_one_line_and_a_log(batch, monkeypatch, capsys, failure):
    import sys

    import tongji.checking.validate as checking

    def crash(*args, **kwargs):
        raise failure

    monkeypatch.setattr(checking, "validate", crash)  # the command imports it when it runs
    monkeypatch.setattr(sys, "argv", ["tongji", "validate", str(batch)])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 3  # not 1, which says "workbooks to return"
    err = capsys.readouterr().err
    assert "tongji 内部出错" in err and "Traceback" not in err
    log = err.split("请把日志 ")[1].split(" 交给")[0]
    with open(log, encoding="utf-8") as f:
        assert "Traceback" in f.read() and str(failure) in err


@pytest.mark.parametrize("command", ["validate", "accounts"])
def test_an_output_over_the_registry_is_refused(batch, tmp_path, command):
    """The registry is read as surely as the workbooks: a report or an account list named like it would replace
    the unit list with a table of issues or passwords."""
    registry = tmp_path / "名册.csv"
    registry.write_text("单位代码,单位名称,上级代码,层级\nS,街道,,街道\n", encoding="utf-8")
    before = registry.read_bytes()
    args = (["validate", batch, "-r", registry, "-p", "2025", "--report", tmp_path / "." / "名册.csv"]
            if command == "validate" else
            ["serve", "accounts", "-r", registry, "-p", "2025", "-o", registry, "--data", tmp_path / "data"])
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "输出位置" in result.output and "名册.csv" in result.output and "Traceback" not in result.output
    assert registry.read_bytes() == before
    assert not (tmp_path / "data").exists()  # refused before anything was made
