"""Whoever reads and checks the workbooks (this process, worker processes, a Dask cluster) and however the batch
is cut into chunks, the report and every file written from it are the same, byte for byte; and the cells the
checks across workbooks name are exact even where a workbook's layout differs from its chunk's."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import tongji
from tongji.aggregating.rollup import rollup_all
from tongji.definitions.forms import data_dir
from tongji.reading import workers as reading_workers
from tongji.reading.workers import Processes
from tongji.writing.issue_report import write_report
from tongji.writing.summary_files import write_summary
from workbooks import cell_of, cover, make_workbook

SAMPLES = data_dir("samples")
PERIOD = "2025"


def synthetic(folder: Path) -> Path:
    """Forty workbooks with what the checks across workbooks look at: two of one unit (one of them with its cover
    moved two rows down), one copied from another, heaped figures, an explained peer outlier, a row left out,
    a file that is no workbook."""
    for i in range(40):
        values = {"HY01": 200 + 3 * i, "HY03": 180 + 2 * i, "HY04": 60 + i, "HY02": 70 + i}
        if i == 7:  # far below its peers' 入会率, and explained
            values = {"HY01": 300, "HY03": 30, "HY04": 10, "HY02": 100, "HY12": 20}
        make_workbook(folder / f"{i:02}.xlsx", values, cover(FM02=f"U{i:03}"),
                      notes={"HY03": "大部分为劳务派遣人员"} if i == 7 else None, drop=("BF20",) if i == 9 else ())
    make_workbook(folder / "40.xlsx", {"HY01": 203, "HY03": 182, "HY04": 61, "HY02": 71}, cover(FM02="U001"))
    make_workbook(folder / "41.xlsx", {"HY01": 1000, "HY02": 400, "HY03": 900, "HY04": 300, "HY12": 800},
                  cover(FM02="U041"))
    wb = openpyxl.load_workbook(folder / "40.xlsx")
    wb["封面"].insert_rows(1, 2)  # its cover two rows lower than every other workbook's
    wb.save(folder / "40.xlsx")
    (folder / "42.xlsx").write_text("not a workbook")
    return folder


def outputs(report, folder: Path) -> dict[str, str]:
    folder.mkdir()
    for suffix in (".xlsx", ".csv", ".json"):
        write_report(report, folder / f"问题清单{suffix}")
    return hashes(folder)


def hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def same(a, b) -> None:
    assert a.issues.equals(b.issues)
    assert a.workbooks.equals(b.workbooks)
    assert a.values.equals(b.values)
    assert a.notes.equals(b.notes)
    assert a.sha256 == b.sha256


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    return synthetic(tmp_path_factory.mktemp("batch"))


def test_chunks_in_worker_processes_give_the_same_report_and_files(batch, tmp_path, monkeypatch):
    one = tongji.validate(batch)
    monkeypatch.setattr(reading_workers, "PARALLEL_MIN", 2)
    many = tongji.validate(batch, workers=Processes(2, size=6))  # eight chunks, the last of one file
    same(one, many)
    assert outputs(one, tmp_path / "1") == outputs(many, tmp_path / "n")


def test_the_samples_in_worker_processes_give_the_same_report_and_summaries(tmp_path, monkeypatch):
    registry = SAMPLES / "registry.csv"
    one = tongji.validate(SAMPLES / PERIOD, registry=registry, period=PERIOD)
    monkeypatch.setattr(reading_workers, "PARALLEL_MIN", 2)
    many = tongji.validate(SAMPLES / PERIOD, registry=registry, period=PERIOD, workers=Processes(2, size=40))
    same(one, many)
    assert outputs(one, tmp_path / "1") == outputs(many, tmp_path / "n")
    local = rolled_up(tmp_path / "local", 1)
    assert local and rolled_up(tmp_path / "processes", Processes(2, size=40)) == local


def test_the_checks_across_workbooks_name_the_exact_cells(batch):
    report = tongji.validate(batch)
    usual = cell_of("FM02")
    moved = f"封面!C{int(usual.split('!C')[1]) + 2}"
    dup = report.issues.filter(pl.col("rule") == "duplicate-unit").select("file", "cell").rows()
    assert sorted((Path(f).name, c) for f, c in dup) == [("01.xlsx", usual), ("40.xlsx", moved)]
    outlier = report.issues.filter(pl.col("rule").str.starts_with("peer-outlier"))
    assert [(Path(f).name, c, e) for f, c, e in outlier.select("file", "cell", "explained").rows()] == [
        ("07.xlsx", cell_of("HY03"), "大部分为劳务派遣人员"),  # 入会率: the 说明 beside HY03 explains it
        ("07.xlsx", cell_of("JF01"), "大部分为劳务派遣人员")]  # 经费 per member: over HY03 too
    assert report.flatten(["rule", "cell"], "错误").count(["missing-row", ""]) == 1
    heaped = report.issues.filter(pl.col("rule") == "heaped-figures")
    assert [Path(f).name for f in heaped["file"]] == ["41.xlsx"] and heaped["cell"][0] == cell_of("HY01")
    assert ["not-workbook"] in report.flatten(["rule"])


def test_a_chunk_sends_back_workbooks_not_cells(batch):
    """What leaves a worker: one row per workbook, and of the cells only those off the chunk's common layout."""
    from tongji.checking.workbook_checks import check_chunk
    from tongji.plugins import load_spec
    from tongji.reading.discover import discover

    files = discover([batch])
    out = check_chunk(0, files, load_spec(), None)
    assert "cells" not in out and out["wide"].height == 42  # 43 files, one no workbook
    names = {i: f.name for i, f in enumerate(files)}
    moved = out["moved"].with_columns(pl.col("file_id").replace_strict(names, return_dtype=pl.Utf8).alias("file"))
    cover_codes = [r.code for r in load_spec().cover.rows]
    assert sorted(moved.filter(pl.col("file") == "40.xlsx")["code"]) == sorted(cover_codes)  # its cover, 2 rows down
    assert moved.filter(pl.col("file") == "09.xlsx").rows() == [(9, "BF20", None, None, "09.xlsx")]  # left out
    assert set(moved["file"]) == {"40.xlsx", "09.xlsx"}


@pytest.mark.parametrize("chunk", [1, 5, 500])
def test_the_samples_checked_in_chunks_of_any_size_give_the_same_report(chunk, monkeypatch):
    registry = SAMPLES / "registry.csv"
    one = tongji.validate(SAMPLES / PERIOD, registry=registry, period=PERIOD)
    monkeypatch.setattr(reading_workers, "CHUNK", chunk)
    same(one, tongji.validate(SAMPLES / PERIOD, registry=registry, period=PERIOD))


# --- a Dask cluster -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    # the scheduler's HTTP server on any free port: 8787 may be another cluster's
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as c:
        yield c.scheduler_address


def rolled_up(tmp_path: Path, workers) -> dict[str, str]:
    summaries = rollup_all(SAMPLES / PERIOD, registry=SAMPLES / "registry.csv", period=PERIOD, workers=workers)
    spec = tongji.plugins.load_spec()
    for s in summaries.values():
        write_summary(s, tmp_path, spec, ("xlsx", "csv", "parquet"))
    return hashes(tmp_path)


@pytest.mark.parametrize("send_bytes", [False, True], ids=["shared-path", "bytes-sent"])
def test_a_dask_cluster_gives_the_same_report_and_files(cluster, batch, tmp_path, send_bytes):
    from tongji.reading.cluster import Dask

    dask = Dask(cluster, send_bytes=send_bytes, size=7)
    same(tongji.validate(batch), tongji.validate(batch, workers=dask))
    local = rolled_up(tmp_path / "local", 1)
    assert local and rolled_up(tmp_path / "dask", dask) == local


def test_the_commands_take_a_cluster(cluster, batch, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tongji import cli

    cli._register()
    runner = CliRunner()
    monkeypatch.chdir(batch.parent)  # a path relative to here, not to the workers' own working folder
    local = runner.invoke(cli.app, ["validate", batch.name, "--report", str(tmp_path / "a.csv")])
    remote = runner.invoke(cli.app, ["validate", batch.name, "--report", str(tmp_path / "b.csv"), "--dask", cluster,
                                     "--dask-send-bytes"])
    assert local.exit_code == remote.exit_code == 1
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    monkeypatch.setenv("TONGJI_DASK", cluster)
    by_env = runner.invoke(cli.app, ["validate", batch.name, "--report", str(tmp_path / "c.csv")])
    assert by_env.exit_code == 1 and (tmp_path / "c.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()
    assert "unreadable" not in (tmp_path / "c.csv").read_text(encoding="utf-8-sig")


def test_a_cluster_out_of_reach_or_half_asked_for_is_one_line(batch, monkeypatch):
    from typer.testing import CliRunner

    from tongji import cli
    from tongji.reading import cluster

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)  # the 20 s a real run gives a far scheduler to answer

    cli._register()
    runner = CliRunner()
    alone = runner.invoke(cli.app, ["validate", str(batch), "--dask-send-bytes"], env={"TONGJI_DASK": ""})
    assert alone.exit_code == 2 and "--dask-send-bytes 需要同时给出 --dask 地址" in alone.output
    pytest.importorskip("distributed")
    gone = runner.invoke(cli.app, ["validate", str(batch), "--dask", "tcp://127.0.0.1:9"], env={"TONGJI_DASK": ""})
    assert gone.exit_code == 2 and "连接不上 Dask 调度器 tcp://127.0.0.1:9" in gone.output
    assert "Traceback" not in gone.output
    # the library's English reason is marked as the technical detail, after what to check
    said = "错误：连接不上 Dask 调度器 tcp://127.0.0.1:9：请确认调度器已启动、地址和端口无误（技术细节："
    assert " ".join(gone.output.split()).startswith(said), gone.output


@pytest.mark.parametrize("how", ["option", "env"])
def test_a_malformed_dask_address_is_one_line_at_once(batch, how):
    """`--dask foo` (no port) is said before distributed is asked: it would leave a half-made Client that holds
    the exit for 40 s and prints a traceback from its __del__."""
    code = "import sys; from tongji.cli import main; sys.argv[0] = 'tongji'; main()"
    args, env = (["--dask", "foo"], {}) if how == "option" else ([], {"TONGJI_DASK": "foo"})
    run = subprocess.run([sys.executable, "-c", code, "validate", str(batch), *args], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "TONGJI_LANG": "zh", **env}, timeout=20)
    assert run.returncode == 2
    assert run.stderr.strip() == "错误：Dask 调度器地址“foo”格式不对：应为 tcp://主机:端口 或 主机:端口，如 tcp://10.0.0.5:8786"


def test_a_file_that_kills_a_dask_worker_is_found_and_the_rest_read(tmp_path):
    """A workbook aborting calamine kills the Dask worker reading it; Dask gives the chunk up (KilledWorker) and
    the local guard reads it again, finding the file, as with local worker processes (test_reader_guard.py)."""
    distributed = pytest.importorskip("distributed")

    from hostile import MEMBER_PART, far_cell, rezip, unit
    from tongji import plugins
    from tongji.reading.cluster import Dask

    folder = tmp_path / "插件"
    folder.mkdir()  # limits so lax that the screen lets the far cell through: calamine aborts on it
    (folder / "lax.toml").write_text('[config]\n"工作表行数上限" = 2000000\n"工作表列数上限" = 20000\n',
                                     encoding="utf-8")
    plugins.configure(folder, entry_points=False)
    books = tmp_path / "books"
    for n in range(6):
        unit(books / f"{n}.xlsx", n)
    rezip(unit(books / "3.xlsx", 3), MEMBER_PART, far_cell("XFD1048576", 1048576))
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  scheduler_kwargs={"allowed_failures": 0}) as c:  # no retries: each kills one
        report = tongji.validate(books, workers=Dask(c.scheduler_address, size=4))
    status = dict(report.workbooks.select(pl.col("file").str.extract(r"(\d)\.xlsx$"), "status").iter_rows())
    assert status == {"0": "通过", "1": "通过", "2": "通过", "3": "退回", "4": "通过", "5": "通过"}
    crash = report.for_file("3.xlsx").issues
    assert crash.select("rule", "severity").rows() == [("unreadable", "错误")]


class Flags:
    """A plugin's check that names cells by code, without a value: the issue quotes each cell's text as read."""

    from tongji.plugin import hookimpl

    @hookimpl
    def register_checks(self, register):
        def every(table):
            return [{"file": f, "code": c} for f in table["file"] for c in ("HY01", "HY02", "JH03", "HY11")]

        register("look-here", every, "提示", "看一看")


def test_a_plugins_issue_quotes_the_cells_text_as_read(tmp_path):
    from tongji.testing import load_plugin, validate

    make_workbook(tmp_path / "a.xlsx", {"HY01": "1,234", "HY02": 40, "HY11": 2.5})
    report = validate(load_plugin(Flags(), name="flags"), tmp_path)
    quoted = report.issues.filter(pl.col("rule") == "look-here").select("cell", "value").rows()
    assert quoted == [(cell_of("HY01"), "1,234"), (cell_of("HY02"), "40"), (cell_of("HY11"), "2.5"),
                      (cell_of("JH03"), "是")]


def test_worker_processes_are_given_the_shared_arguments_once_not_with_every_chunk(monkeypatch, tmp_path):
    from workbooks import count_calls

    monkeypatch.setattr(reading_workers, "PARALLEL_MIN", 1)
    files = [tmp_path / f"{i}.xlsx" for i in range(12)]
    found = reading_workers.run_in_chunks(count_calls, files, ([],), workers=Processes(2, size=2),
                                          died=lambda *a: {"calls": [0]})
    # six chunks on two workers, each keeping one copy of the arguments: one of them has seen three or more
    assert len(found["calls"]) == 6 and max(found["calls"]) >= 3


def test_a_chunk_sends_only_the_cover_text_its_values_do_not_say(tmp_path):
    """Of the cover a chunk sends back only the cells whose text as typed is not their value in the table of
    workbooks (FM06's code with its label): at 100,000 units the whole cover is 1.6 million rows. The cells are
    still quoted as typed, and a cell a workbook lacks is still no text."""
    from tongji.checking.where import Where
    from tongji.checking.workbook_checks import check_chunk
    from tongji.plugins import load_spec
    from tongji.reading.discover import discover

    spec = load_spec()
    make_workbook(tmp_path / "a.xlsx", cover_values=cover(FM02="U001", FM06="170 私营"))
    make_workbook(tmp_path / "b.xlsx", cover_values=cover(FM02="U001"), drop=("FM09",))
    out = check_chunk(0, discover([tmp_path]), spec, None)
    assert out["cover"].select("file_id", "code", "raw").rows() == [(0, "FM06", "170 私营")]
    assert out["wide"]["FM06"].to_list() == ["170", "170"]
    asked = pl.DataFrame({"file_id": [0, 0, 1, 1, 1], "code": ["FM06", "FM02", "FM06", "FM09", "HY01"]},
                         schema={"file_id": pl.Int32, "code": pl.Utf8})
    assert Where.of(out, spec).join(asked)["raw"].to_list() == ["170 私营", "U001", "170", None, None]
    twice = tongji.validate(tmp_path).issues.filter(pl.col("rule") == "duplicate-unit")
    assert twice.select("code", "value").rows() == [("FM02", "U001"), ("FM02", "U001")]
