"""The result of validation: issues and per-workbook status as polars DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from tongji.i18n import MESSAGE_LANG, render
from tongji.issues.catalog import BUILTIN, Catalog
from tongji.issues.issue_type import IssueType

# `rule` is the issue code (issues/catalog.py), `params` its message's parameters as a JSON object, `message`
# the Chinese rendering; writers render the message in the reader's language from code and params.
ISSUE_COLUMNS = {
    "file": pl.Utf8, "unit": pl.Utf8, "unit_name": pl.Utf8, "severity": pl.Utf8, "rule": pl.Utf8,
    "sheet": pl.Utf8, "cell": pl.Utf8, "cells": pl.List(pl.Utf8), "code": pl.Utf8, "name": pl.Utf8,
    "value": pl.Utf8, "message": pl.Utf8, "params": pl.Utf8, "diff": pl.Float64, "explained": pl.Utf8,
}
SEVERITY_ORDER = {"错误": 0, "警告": 1, "提示": 2}
NOTE_COLUMNS = {"file": pl.Utf8, "code": pl.Utf8, "note": pl.Utf8}


def issue_row(file: str, unit: str, rule: str, params: dict | None = None, *, variant: str | None = None,
              code: str = "", cell: str = "", value: str | None = None, diff: float | None = None,
              name: str = "", kind: IssueType | None = None) -> dict:
    """One issue found one at a time (rollup's own), as a row of ISSUE_COLUMNS: of a built-in type, or of `kind`
    (a declarative rule's, such as a cross-period rule)."""
    kind, params = kind or BUILTIN[rule], params or {}
    return {"file": file, "unit": unit, "unit_name": "", "severity": kind.severity, "rule": rule,
            "sheet": cell.split("!")[0] if cell else "", "cell": cell, "cells": [cell] if cell else [],
            "code": code, "name": name, "value": value, "message": kind.text(MESSAGE_LANG, variant, **params),
            "params": kind.params_json(variant, **params), "diff": diff, "explained": None}


def with_names(rows: list[dict], registry) -> list[dict]:
    """`rows` (issue_row's) with their unit's 单位名称 from `registry` where they have none: the issues a rollup
    finds itself (a cross-period error, a unit that sent nothing) name their unit as a workbook's issues do."""
    return [r | {"unit_name": r.get("unit_name") or (registry.get(r["unit"]) or {}).get("单位名称", "")} for r in rows]


@dataclass
class ValidationReport:
    """`issues`: one row per problem (columns ISSUE_COLUMNS). `workbooks`: one row per file with
    unit, status (通过 / 有警告 / 退回) and counts. `skipped`: checks not run, as keys of i18n.MESSAGES
    (needs-registry, needs-period; `skipped_in` says why in either language).
    `values`: one row per readable workbook, its cover (FM01…FM12) and every numeric cell as read.
    `sha256`: file → SHA-256 of the bytes that were read (rollup's manifests list it).
    `catalog`: the issue types the issues are of, to render them in either language (`issues_in`).
    `notes`: file, code, note: every 说明 written beside a value (rollup carries them up).
    `details`: summary file → its 明细 (all its sheets) as read to compare with its totals; rollup reuses it."""

    issues: pl.DataFrame
    workbooks: pl.DataFrame
    skipped: list[str] = field(default_factory=list)
    values: pl.DataFrame = field(default_factory=pl.DataFrame)
    sha256: dict[str, str] = field(default_factory=dict)
    catalog: Catalog = field(default_factory=Catalog.of)
    notes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=NOTE_COLUMNS))
    details: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)  # summary file → its 明细 as read

    @property
    def has_errors(self) -> bool:
        return bool((self.workbooks["status"] == "退回").any())

    @property
    def exit_code(self) -> int:
        return 1 if self.has_errors else 0

    def issues_in(self, lang: str) -> pl.DataFrame:
        """The issues with their messages in `lang` ("zh" or "en"): one report, written in either language."""
        return self.catalog.render(self.issues, lang)

    def skipped_in(self, lang: str) -> list[str]:
        """Why checks were skipped, in `lang` ("zh" or "en")."""
        return [render(key, lang) for key in self.skipped]

    def flatten(self, fields: list[str], severity: str | None = None) -> list[list]:
        """Issues as plain lists for one-line assertions: report.flatten(["cell", "rule"])."""
        df = self.issues if severity is None else self.issues.filter(pl.col("severity") == severity)
        return [list(r) for r in df.select(fields).iter_rows()]

    def for_file(self, name: str) -> ValidationReport:
        """This report narrowed to the files whose path ends with `name`."""
        keep = pl.col("file").str.ends_with(name)
        return ValidationReport(self.issues.filter(keep), self.workbooks.filter(keep), self.skipped,
                                self.values.filter(keep) if "file" in self.values.columns else self.values,
                                {f: h for f, h in self.sha256.items() if f.endswith(name)}, self.catalog,
                                self.notes.filter(keep))
