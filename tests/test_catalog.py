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


# --- a plugin rule cannot take a built-in issue code ------------------------------------------------


def test_a_declarative_rule_with_a_built_in_issue_code_is_refused(tmp_path):
    from typer.testing import CliRunner

    from tongji import cli

    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "杭州.toml").write_text('[[rule]]\nid = "negative"\nseverity = "警告"\ncheck = "HY02 <= HY01"\n'
                                      'message = "女职工多于职工"\n', encoding="utf-8")
    make_workbook(tmp_path / "in" / "unit.xlsx")
    cli._register()
    result = CliRunner().invoke(cli.app, ["--plugins-dir", str(folder), "validate", str(tmp_path / "in")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "错误：插件 杭州 的审核关系 id“negative”与内置问题代码重名（杭州.toml:2），请给这条审核关系另起一个 id")
    assert "Traceback" not in result.output


def test_a_python_plugin_rule_with_a_built_in_issue_code_is_refused(tmp_path):
    from tongji import plugins
    from tongji.errors import TongjiError

    folder = tmp_path / "插件"
    folder.mkdir()
    (folder / "my_checks.py").write_text(
        "from tongji.hookspecs import hookimpl\n\n\n@hookimpl\ndef register_rules(register):\n"
        "    register({'id': 'missing-unit', 'severity': '错误', 'check': 'HY03 <= HY01', 'message': '会员多'})\n",
        encoding="utf-8")
    with pytest.raises(TongjiError) as exc:
        _ = plugins.configure(folder, entry_points=False).spec
    assert exc.value.exit_code == 2
    assert "插件 my_checks 的审核关系 id“missing-unit”与内置问题代码重名" in str(exc.value)
