"""The issue catalog (engine/catalog.py): every issue type declared once, rendered in the reader's language."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
import pytest

import tongji
from tongji.engine import schema
from tongji.spec import load_spec
from workbooks import make_workbook

# --- a pandera failure is never dropped -------------------------------------------------------------


def test_a_pandera_check_without_an_issue_type_is_raised(monkeypatch):
    bad = pa.DataFrameSchema({"HY01": pa.Column(pl.Float64, checks=[pa.Check.ge(0, error="no-such-issue")])})
    monkeypatch.setattr(schema, "workbook_schema", lambda spec: bad)
    with pytest.raises(schema.UnmappedCheck, match="'no-such-issue' on column 'HY01'"):
        schema.schema_failures(pl.DataFrame({"HY01": [-1.0, 2.0]}), load_spec())


def test_a_failure_of_a_whole_column_is_raised_not_filtered_out():
    wide = pl.DataFrame({"HY01": ["12"]})  # text where the schema wants numbers: no row to report it on
    with pytest.raises(schema.UnmappedCheck, match="HY01"):
        schema.schema_failures(wide, load_spec())


def test_validate_stops_on_an_unmapped_failure_instead_of_passing_the_workbook(tmp_path, monkeypatch):
    make_workbook(tmp_path / "unit.xlsx", {"HY01": 100})
    real = schema.workbook_schema(load_spec())
    extra = pa.Column(pl.Float64, checks=[pa.Check.le(10, error="no-such-issue")], nullable=True, required=False)
    monkeypatch.setattr(schema, "workbook_schema", lambda spec: real.update_column("HY01", checks=extra.checks))
    with pytest.raises(schema.UnmappedCheck):
        tongji.validate(tmp_path)
