"""Property: for random trees and values, every total is the plain sum and every rate is
summed numerator / summed denominator (never an average of children's rates)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from city import build
from tongji.aggregating.rollup import rollup_all
from tongji.plugins import load_spec

SPEC = load_spec()
CODES = [r for r in SPEC.numeric_rows() if r.filled]


def value(row):
    if row.kind == "flag":
        return st.sampled_from(["是", "否"])
    if row.kind == "count":
        return st.integers(0, 10**6)
    low = -(10**9) if row.signed else 0
    return st.integers(low, 10**9).map(lambda cents: cents / 100)


UNIT = st.fixed_dictionaries({r.code: value(r) for r in CODES})
SHAPES = st.lists(st.lists(st.integers(1, 3), min_size=1, max_size=2), min_size=1, max_size=2)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(shape=SHAPES, data=st.data())
def test_totals_are_sums_and_rates_are_ratios_of_sums(shape, data):
    drawn: dict[int, dict] = {}

    def values(i: int, benji: bool) -> dict:
        drawn[i] = data.draw(UNIT)
        return drawn[i]

    with tempfile.TemporaryDirectory() as tmp:
        city = build(Path(tmp), shape, values=values)
        summaries = rollup_all(city.folder, registry=city.registry, period="2025", include_errors=True)
        for node, summary in summaries.items():
            expected = city.expected(node)
            for row in CODES:
                assert abs(summary.total(row.code) - round(expected[row.code], 2)) < 0.006, (node, row.code)
            assert summary.total("JH00") == expected["JH00"]
            for ind in SPEC.indicators:
                num = _plain(ind.numerator.text, expected)
                den = _plain(ind.denominator.text, expected)
                got = summary.rate(ind.id)
                if den == 0:
                    assert got is None
                else:
                    assert abs(got - num / den) <= 1e-9 * max(1.0, abs(num / den)), (node, ind.id)


def _plain(text: str, totals: dict) -> float:
    """The indicator formulas are a code or a sum of two codes: add them up in plain Python."""
    return sum(totals[t.strip()] for t in text.split("+"))
