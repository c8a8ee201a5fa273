"""Reading: the stacked table keeps file, sheet and Excel row; parallel reading changes nothing."""

from __future__ import annotations

from pathlib import Path

import tongji
from tongji.plugins import load_spec
from tongji.reading import workers as reading_workers
from tongji.reading.discover import discover
from tongji.reading.workbooks import col_letter, read_workbooks
from workbooks import cell_of, make_workbook


def test_col_letters():
    assert [col_letter(i) for i in (0, 3, 25, 26, 27, 701, 702)] == ["A", "D", "Z", "AA", "AB", "ZZ", "AAA"]


def test_stack_keeps_source_positions(tmp_path):
    make_workbook(tmp_path / "a.xlsx", {"HY01": "1,234"})
    stack = read_workbooks(discover([tmp_path]), load_spec())
    row = stack.cells.filter(stack.cells["code"] == "HY01").row(0, named=True)
    assert (row["sheet"], f"{row['col']}{row['row']}", row["raw"]) == ("会员", cell_of("HY01").split("!")[1], "1,234")


def test_header_found_wherever_it_is(tmp_path):
    import openpyxl

    path = make_workbook(tmp_path / "a.xlsx", {"HY02": 101})
    wb = openpyxl.load_workbook(path)
    wb["会员"].insert_rows(1, 3)  # the header moves down three rows
    wb["会员"].insert_cols(1)  # and one column right
    wb.save(path)
    report = tongji.validate(tmp_path)
    assert report.flatten(["cell", "rule"]) == [["会员!E10", "hy02-le-hy01"]]


def test_parallel_reading_gives_the_same_report(tmp_path, monkeypatch):
    for i in range(7):
        make_workbook(tmp_path / f"{i}.xlsx", {"HY02": 100 + i}, )
    (tmp_path / "bad.xlsx").write_text("garbage")
    serial = tongji.validate(tmp_path)
    monkeypatch.setattr(reading_workers, "PARALLEL_MIN", 2)
    monkeypatch.setattr(reading_workers, "CHUNK", 3)
    parallel = tongji.validate(tmp_path, workers=2)
    assert parallel.issues.equals(serial.issues)
    assert parallel.workbooks.equals(serial.workbooks)
    assert ["not-workbook"] in parallel.flatten(["rule"])


def test_the_library_starts_no_process_unless_asked(tmp_path, monkeypatch):
    """A user's script without an `if __name__ == "__main__":` guard must work: however big the batch, and
    whatever TONGJI_WORKERS says (the commands read it, the library does not), reading stays in this process."""
    for i in range(3):
        make_workbook(tmp_path / f"{i}.xlsx", {"HY02": 100 + i})
    pools = []
    real_pool = reading_workers._pool

    def counted(n, args=()):
        pools.append(n)
        return real_pool(n, args)

    monkeypatch.setattr(reading_workers, "_pool", counted)
    monkeypatch.setattr(reading_workers, "PARALLEL_MIN", 2)  # as if the batch were 2,000 files
    monkeypatch.setenv("TONGJI_WORKERS", "4")
    one = tongji.validate(tmp_path)
    assert pools == [] and one.workbooks.height == 3
    assert tongji.rollup_all.__kwdefaults__["workers"] == tongji.rollup.__kwdefaults__["workers"] == 1
    two = tongji.validate(tmp_path, workers=2)
    assert pools == [2] and two.workbooks.equals(one.workbooks)


def test_the_commands_choose_the_workers(monkeypatch):
    from tongji.cli.common import MAX_WORKERS, workers

    monkeypatch.setenv("TONGJI_WORKERS", "3")
    assert workers() == 3
    monkeypatch.setenv("TONGJI_WORKERS", "")
    assert 1 <= workers() <= MAX_WORKERS


def test_folders_are_walked_in_the_order_and_reach_of_sorted_rglob(tmp_path):
    """discover walks folders with os.scandir, not Path.rglob: the same files in the same order — nested folders,
    names that sort differently as paths and as text, linked files taken, linked folders not entered, a folder
    named like a workbook passed over; and, unlike rglob, a dangling link taken (to be said unreadable)."""
    from tongji.reading.discover import EXCEL_SUFFIXES

    root = tmp_path / "收到"
    for name in ("b/2.xlsx", "b-c/1.xlsx", "b/a/9.XLSX", "a.xlsx", "B.ods", "b/x.txt", "z/z/z/z.xls", "~$a.xlsx"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    (root / "d.xlsx").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "far.xlsx").write_bytes(b"x")
    (root / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (root / "near.xlsx").symlink_to(tmp_path / "elsewhere" / "far.xlsx")
    (root / "gone.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    rglob = [p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix.lower() in EXCEL_SUFFIXES
             and not p.name.startswith(("~$", "._"))]
    found = discover([root])
    assert found == sorted([*rglob, root / "gone.xlsx"])
    assert [p.relative_to(root).as_posix() for p in found] == [
        "B.ods", "a.xlsx", "b/2.xlsx", "b/a/9.XLSX", "b-c/1.xlsx", "gone.xlsx", "near.xlsx", "z/z/z/z.xls"]
    assert discover([root, root / "a.xlsx", str(root / "b" / "2.xlsx")]) == found  # named twice, listed once


def test_a_workbook_reached_through_a_link_and_directly_is_read_once(tmp_path):
    """A file linked from another folder, or a folder given again through a link, is the same workbook: listed
    once under its shortest spelling, not returned twice as two workbooks of one unit."""
    (tmp_path / "收回").mkdir()
    (tmp_path / "收回" / "a.xlsx").write_bytes(b"x")
    (tmp_path / "转来").mkdir()
    (tmp_path / "转来" / "b.xlsx").symlink_to(tmp_path / "收回" / "a.xlsx")
    (tmp_path / "收回的链接").symlink_to(tmp_path / "收回", target_is_directory=True)
    direct = [tmp_path / "收回" / "a.xlsx"]
    assert discover([tmp_path / "收回", tmp_path / "转来"]) == direct
    assert discover([tmp_path / "收回", tmp_path / "收回的链接"]) == direct
    assert discover([tmp_path / "收回", tmp_path / "收回的链接" / "a.xlsx"]) == direct
    assert discover([tmp_path / "转来"]) == [tmp_path / "转来" / "b.xlsx"]  # alone, a linked file is still read


def test_the_order_files_and_folders_are_given_in_changes_nothing_written(tmp_path):
    """Workbooks are taken by path, not in the order of the arguments: the issue report of two folders and a file
    given one way round is the same bytes as given the other way round."""
    from tongji.writing.issue_report import write_report

    samples = Path(__file__).parent.parent / "samples" / "2025"
    given = [samples / "望江街道总工会", samples / "本级" / "330106_西湖区总工会本级_2025.xlsx",
             samples / "北干街道总工会"]
    assert discover(given[::-1]) == discover(given) == sorted(discover(given))
    registry = samples.parent / "registry.csv"
    one, two = (tongji.validate(paths, registry=registry, period="2025") for paths in (given, given[::-1]))
    assert one.issues["file"].n_unique() > 1
    assert write_report(one, tmp_path / "1.json").read_bytes() == write_report(two, tmp_path / "2.json").read_bytes()


def test_a_workbook_named_again_by_another_spelling_is_read_once(tmp_path, monkeypatch):
    """A folder given as 收回 and one of its files by its full path (or through ..) is one workbook, not two
    workbooks of one unit returned as a conflict; it keeps its shortest spelling whatever the arguments' order."""
    make_workbook(tmp_path / "收回" / "a.xlsx", {"HY01": 10})
    make_workbook(tmp_path / "收回" / "b.xlsx", {"HY01": 10})
    monkeypatch.chdir(tmp_path)
    spellings = ["收回", str(tmp_path / "收回" / "a.xlsx"), "收回/../收回/b.xlsx"]
    assert discover(spellings) == discover(spellings[::-1]) == [Path("收回/a.xlsx"), Path("收回/b.xlsx")]
    assert tongji.validate(spellings).workbooks.height == 2


def test_what_an_interrupted_run_left_in_a_folder_is_not_read(tmp_path):
    """A run killed while writing leaves its temporary file (.tongji-….xlsx) or a summary's staging folder: in a
    folder read later they were second copies of units' summaries, and every one was returned as a duplicate.
    Named on purpose, such a file is still read; a file someone saved with a leading dot is read as ever."""
    from tongji.writing.files import atomic_path

    folder = tmp_path / "汇总"
    for name in ("a.xlsx", ".报表.xlsx", ".tongji-k3j2.xlsx", ".tongji-stage-x1/0/b.xlsx"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")
    assert [p.name for p in discover([folder])] == [".报表.xlsx", "a.xlsx"]
    assert discover([folder / ".tongji-k3j2.xlsx"]) == [folder / ".tongji-k3j2.xlsx"]
    with atomic_path(folder / "c.xlsx") as partial:  # the name tongji writes under is the one passed over
        assert partial.is_file() and [p.name for p in discover([folder])] == [".报表.xlsx", "a.xlsx"]
