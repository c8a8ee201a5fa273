"""The bundled samples: exactly what samples/make_samples.py makes, and every seeded mistake caught by the rule
meant for it (validate for most, rollup --previous for the cross-period one), and nothing else."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import tongji
from tongji.aggregating.rollup import rollup_all
from tongji.definitions.forms import data_dir
from tongji.definitions.registry import load_registry
from tongji_samples import ANSWERS, ROLLUP, ROLLUP_PREVIOUS, SUMMARY_FOLDER, VALIDATE

SAMPLES = data_dir("samples")
PERIOD, LAST = "2025", "2024"
PERIOD_RULES = {"jf20-previous", "hy03-change", "bf01-flow", "count-jump"}


def make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_files(root: Path) -> dict[str, str]:
    """Every data file under root (the script itself aside) → its sha256."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """The sample set made afresh by the script (about half a minute), and the generator's record of it."""
    out = tmp_path_factory.mktemp("samples")
    return out, make_samples().main(out)


@pytest.fixture(scope="module")
def answers() -> dict[str, set]:
    """The answer key beside the registry: command → {(file, rule)}."""
    rows = csv.DictReader((SAMPLES / ANSWERS).read_text(encoding="utf-8-sig").splitlines())
    out: dict[str, set] = {VALIDATE: set(), ROLLUP_PREVIOUS: set(), ROLLUP: set()}
    for row in rows:
        out[row["检出命令"]] |= {(row["文件"], rule) for rule in row["审核规则"].split("、")}
    return out


@pytest.fixture(scope="module")
def report():
    return tongji.validate(SAMPLES / PERIOD, registry=SAMPLES / "registry.csv", period=PERIOD)


def test_the_bundled_samples_are_what_make_samples_makes(rebuilt):
    out, _ = rebuilt
    bundled, fresh = data_files(SAMPLES), data_files(out)
    assert fresh == bundled, "samples/ is stale: run python samples/make_samples.py"
    workbooks = [f for f in bundled if f.startswith(f"{PERIOD}/")]
    summaries = [f for f in bundled if f.startswith(f"{LAST}/")]
    assert len(workbooks) == 131 and {"registry.csv", ANSWERS} < set(bundled)
    # last year: only the summaries, one per node of the tree
    nodes = load_registry(SAMPLES / "registry.csv").nodes_bottom_up()
    assert sorted(summaries) == sorted(f"{LAST}/{SUMMARY_FOLDER}/{n}_{LAST}_汇总.xlsx" for n in nodes)
    assert len(nodes) == 1 + 3 + 8


def test_the_answer_key_is_the_generators_record(rebuilt, answers):
    _, city = rebuilt
    assert answers[VALIDATE] == {(name, rule) for name, rules in city.seeded.items() for rule in rules}
    assert answers[ROLLUP_PREVIOUS] == {(name, rule) for name, rules in city.seeded_rollup.items() for rule in rules}
    assert {code.split("（")[0] for code, _ in answers[ROLLUP]} == set(city.missing)
    grassroots = [code for code in city.values if len(code) == 18]
    assert len(grassroots) == 120 and city.previous_period == LAST


def test_every_seeded_mistake_is_caught_by_its_rule(report, answers):
    found = {(Path(f).name, rule) for f, rule in report.flatten(["file", "rule"])}
    assert found == answers[VALIDATE]
    kinds = {rule for _, rule in found}
    assert {"jf01-sum", "hy04-le-hy03", "required", "wrong-parent", "duplicate-unit"} <= kinds
    assert {"text-number", "not-a-number"} <= kinds


def test_clean_workbooks_have_no_issue(report, answers):
    seeded = {name for name, _ in answers[VALIDATE]}
    books = report.workbooks.with_columns(name=pl.col("file").map_elements(lambda f: Path(f).name,
                                                                           return_dtype=pl.Utf8))
    clean = books.filter(~pl.col("name").is_in(list(seeded)))
    assert clean.height == books.height - len(seeded) >= 115
    assert clean.select("errors", "warnings", "explained", "notices").sum().row(0) == (0, 0, 0, 0)
    assert set(clean["status"]) == {"通过"}
    # the cross-period mistake adds up within its workbook: validate cannot see it
    assert {name for name, _ in answers[ROLLUP_PREVIOUS]} <= set(clean["name"])


def test_rollup_with_last_years_summary_catches_the_cross_period_mistake(answers):
    previous = SAMPLES / LAST / SUMMARY_FOLDER / f"330100_{LAST}_汇总.xlsx"
    top = rollup_all(SAMPLES / PERIOD, registry=SAMPLES / "registry.csv", period=PERIOD, previous=previous)["330100"]
    issues = top.issues.filter(pl.col("rule").is_in(list(PERIOD_RULES)))
    assert {(Path(f).name, r) for f, r in issues.select("file", "rule").iter_rows()} == answers[ROLLUP_PREVIOUS]
    assert len(answers[ROLLUP_PREVIOUS]) == 1
    missing = set(top.units.filter(pl.col("status") == "缺报")["unit"])
    assert missing == {code.split("（")[0] for code, _ in answers[ROLLUP]}
    assert top.has_previous and abs(top.totals.filter(pl.col("code") == "HY03")["change"][0]) < 0.1


def test_last_year_was_clean():
    """Every unit sent last year and every workbook passed: the 市 summary of last year has nothing to report."""
    wb = openpyxl.load_workbook(SAMPLES / LAST / SUMMARY_FOLDER / f"330100_{LAST}_汇总.xlsx")
    assert len(list(wb["校验"].iter_rows(values_only=True))) == 1  # the header alone
    rows = list(wb["完整性"].iter_rows(values_only=True))
    total = next(r for r in rows if r[0] == "合计")
    assert total[2] == total[3] == total[4] == 132 and total[5] == total[6] == 0  # expected = received = accepted


def test_the_samples_stay_small():
    size = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert size < 5_000_000
