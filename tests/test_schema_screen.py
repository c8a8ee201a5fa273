"""The quick screen in checking/schema.py hands pandera only the rows that may fail it. It must never hide a
failure: on random batches with random bad cells, the failures found are exactly pandera's on the whole batch."""

from __future__ import annotations

import random

import polars as pl
import pytest

from tongji.checking import schema
from tongji.plugins import load_spec

BAD = {  # values each kind of cell must refuse, as they reach the wide table
    pl.Float64: [-1.0, 2.5, 0.001, float("nan")],
    "enum": ["8", "汇总表", ""], "unitcode": ["91330106MA0000101Y"], "uscc": ["12345", "91330106MA0000101Y"],
    "industry": ["Z", "制造"], "period": ["2025Q5", "25"], "date": ["2026-13-01", "下周"], "area": ["3301"],
}
GOOD = {"enum": None, "unitcode": "330106001", "uscc": "91330106MA1B2C3D83", "industry": "C13",
        "period": "2025", "date": "2026-01-15", "area": "330106001001", "text": "示例"}


def _frame(spec, rng: random.Random, rows: int, bad_share: float) -> pl.DataFrame:
    data = {}
    for row in [r for f in spec.forms for r in f.rows]:
        numeric = row.kind in ("count", "amount", "flag")
        good = (lambda: float(rng.randint(0, 500))) if numeric else (
            lambda row=row: sorted(spec.enums[row.enum])[0] if row.kind == "enum" else GOOD.get(row.kind, "示例"))
        bad = BAD[pl.Float64] if numeric else BAD.get(row.kind, [])
        column = []
        for _ in range(rows):
            pick = rng.random()
            if pick < bad_share and bad:
                column.append(rng.choice(bad))
            elif pick < bad_share * 1.5:
                column.append(None)  # empty: an error where the cell is required
            else:
                column.append(good())
        data[row.code] = pl.Series(column, dtype=pl.Float64 if numeric else pl.Utf8)
    return pl.DataFrame(data)


def _sorted(df: pl.DataFrame) -> list[tuple]:
    return sorted(df.select("pos", "code", "rule").rows())


@pytest.mark.parametrize("seed", range(12))
def test_screen_finds_what_pandera_finds(seed):
    spec = load_spec()
    rng = random.Random(seed)
    wide = _frame(spec, rng, rows=rng.choice([1, 5, 40]), bad_share=rng.choice([0.0, 0.002, 0.02, 0.1]))
    whole = schema._pandera_failures(wide, spec)
    assert _sorted(schema.schema_failures(wide, spec)) == _sorted(whole)


def test_a_clean_batch_never_reaches_pandera(monkeypatch):
    spec = load_spec()
    wide = _frame(spec, random.Random(1), rows=30, bad_share=0.0)
    monkeypatch.setattr(schema, "_pandera_failures", lambda *a: pytest.fail("pandera called on a clean batch"))
    assert schema.schema_failures(wide, spec).height == 0


def test_only_suspect_rows_reach_pandera(monkeypatch):
    spec = load_spec()
    wide = _frame(spec, random.Random(2), rows=30, bad_share=0.0).with_columns(
        pl.when(pl.int_range(pl.len()) == 17).then(-3.0).otherwise(pl.col("HY03")).alias("HY03"))
    seen = []
    real = schema._pandera_failures
    monkeypatch.setattr(schema, "_pandera_failures", lambda df, s: seen.append(df.height) or real(df, s))
    assert schema.schema_failures(wide, spec).rows() == [(17, "HY03", "negative")]
    assert seen == [1]


def test_a_column_of_the_wrong_type_goes_to_pandera_whole(monkeypatch):
    spec = load_spec()
    wide = _frame(spec, random.Random(3), rows=4, bad_share=0.0).with_columns(pl.col("HY01").cast(pl.Utf8))
    seen = []
    monkeypatch.setattr(schema, "_pandera_failures", lambda df, s: seen.append(df.height) or pl.DataFrame(
        schema={"pos": pl.Int64, "code": pl.Utf8, "rule": pl.Utf8}))
    schema.schema_failures(wide, spec)
    assert seen == [4]
