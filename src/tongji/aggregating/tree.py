"""The walk up the registry tree (Context): grassroots and 本级 workbooks and child summaries → each node's Summary.

Every input is validated once (one stacked table). Each node's detail is the rows of the units it includes,
its own grassroots children's workbooks, its own 本级 workbook, and the detail carried up in child summaries
(or, where a child's summary is not among the inputs, that child summarised here from deeper workbooks).
Totals are the column sums of the detail in unit-code order, so level-by-level and `--all` agree exactly.
Which workbooks count is acceptance.py's; the inputs each summary lists, manifest.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import groupby
from pathlib import Path

import polars as pl

from tongji.aggregating.acceptance import accept, fates
from tongji.aggregating.completeness import (
    ACCEPTED,
    MISSING,
    RETURNED,
    UNIT_SCHEMA,
    covered_files,
    listed_fates,
    missing_issues,
    strays_apart,
    subtree_fates,
    told_below,
    unit_row,
    unused_fates,
)
from tongji.aggregating.groups import balance_issues
from tongji.aggregating.indicators import indicators_frame, totals_frame
from tongji.aggregating.level import Part, level_parts
from tongji.aggregating.manifest import Manifest
from tongji.aggregating.notes import carried as carried_notes
from tongji.aggregating.previous import add_previous, read_previous
from tongji.aggregating.summary import (
    KIND_BENJI,
    KIND_GRASSROOTS,
    EachSummary,
    Summary,
    column_sums,
    detail_rows,
    empty_detail,
    read_detail,
    read_notes,
    rows_at,
    workbook_name,
)
from tongji.checking.totals import summary_issues
from tongji.checking.validate import validate
from tongji.definitions import Spec
from tongji.definitions.codes import SUMMARY, canonical_period
from tongji.definitions.forms import parse_deadline
from tongji.definitions.registry import Registry, load_registry
from tongji.errors import TongjiError
from tongji.issues.report import ISSUE_COLUMNS, ValidationReport, issue_row, with_names
from tongji.plugins import load_spec
from tongji.reading.discover import path_of
from tongji.reading.workers import Executor


@dataclass
class Context:
    """Everything read once and shared by every node's summary."""

    spec: Spec
    registry: Registry
    period: str
    report: ValidationReport
    books: pl.DataFrame  # one row per readable workbook (acceptance.accept): file, unit, kind, ok, numeric codes
    include_errors: bool
    prefer_latest: bool
    memo: dict[str, Summary] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)  # file → node whose summary took it
    details: dict[str, pl.DataFrame] = field(default_factory=dict)  # summary file → its 明细
    extra_issues: list[dict] = field(default_factory=list)
    previous: pl.DataFrame | None = None  # last period's 明细, when given
    previous_notes: list[dict] = field(default_factory=list)  # said of last period's summary (an older version)
    incomparable: tuple[str, ...] = ()  # lines whose meaning changed since last period's summary: no 同比
    edited: set[str] = field(default_factory=set)  # summaries whose totals differ from their own 明细
    checked: dict[str, pl.DataFrame] = field(default_factory=dict)  # node made here for its parent → its issues
    deadline: str | None = None  # 报送截止日期 (YYYY-MM-DD): a unit's workbook dated after it is 迟报
    received: dict | None = None  # unit → completeness.Received: what the caller (the portal) knows beyond the inputs

    @classmethod
    def build(
        cls,
        inputs: Iterable[str | Path] | str | Path,
        *,
        registry: str | Path | Registry,
        period: str,
        include_errors: bool = False,
        prefer_latest: bool = False,
        previous: str | Path | None = None,
        spec: Spec | None = None,
        workers: int | Executor = 1,
        tick: Callable[[], None] | None = None,
        on_files: Callable[[int], None] | None = None,
        deadline: str | date | None = None, unit: str | None = None,  # unit: the node asked for, if one
    ) -> Context:
        """Read and validate every input once (the arguments are rollup_all's)."""
        spec = spec or load_spec()
        day = parse_deadline(deadline) if deadline is not None else spec.deadline
        if deadline is not None and day is None:
            raise TongjiError("bad-deadline", value=deadline)
        registry = registry if isinstance(registry, Registry) else load_registry(registry)
        spec.check_levels(registry.levels)
        period = canonical_period(period)
        last = read_previous(previous, spec, period, registry, unit) if previous is not None else None
        prev = last.detail if last else None
        report = validate(inputs, registry=registry, period=period, spec=spec, workers=workers, tick=tick,
                          on_files=on_files)
        books, found = accept(report, spec, include_errors=include_errors, prefer_latest=prefer_latest, previous=prev,
                              registry=registry, span=last.span if last else None)
        # the values as read are in `books` now, and the checksums go into the manifest lines: the report keeps
        # only what the nodes look up (at 100,000 units the values alone are 90 MB)
        workbooks = report.workbooks.select("file", "unit", "unit_name", "status")
        sha256, report = report.sha256, replace(report, values=pl.DataFrame(), sha256={}, workbooks=workbooks)
        ctx = cls(spec, registry, period, report, books, include_errors, prefer_latest, extra_issues=found,
                  previous=prev, previous_notes=last.notes if last else [],
                  incomparable=last.incomparable if last else (), deadline=day)
        ctx.edited = set(report.issues.filter(pl.col("rule") == "summary-edited")["file"].to_list())
        ctx.details = dict(report.details)  # read once: a national 明细 takes minutes
        ctx._index(sha256)
        return ctx

    def _index(self, sha256: dict[str, str]) -> None:
        """What every node looks up, built once: a node never scans every workbook. Each workbook's fate and
        each input's manifest line are made here for all of them at once; a node picks its own rows.

        Only the few workbooks looked up one by one (child summaries, and the set-aside of --prefer-latest) are
        Python dicts; a grassroots or 本级 workbook is a row of the frames, its detail row found by position."""
        keys = ["file", "unit", "kind", "ok", "superseded", "errors", "FM10", "FM12"]
        few = self.books.filter((pl.col("kind") == "汇总") | pl.col("superseded")).select(keys)
        self.by_file = {r["file"]: r for r in few.iter_rows(named=True)}
        self.by_unit: dict[str, list[dict]] = {}  # unit → its summary workbooks, by file
        for r in sorted((r for r in self.by_file.values() if r["kind"] == "汇总"), key=lambda r: r["file"]):
            self.by_unit.setdefault(r["unit"], []).append(r)
        rows = detail_rows(self.books.filter(pl.col("ok") & (pl.col("kind") != "汇总")), self.spec,
                           self.registry.parents())
        at = rows.select("file", pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"))
        self.rows = rows.drop("file")
        self.used_by: dict[str, list[str]] = {}  # node → files it took itself
        # grassroots workbooks go by their unit's registry parent (the node that takes them), 本级 by kind (a
        # registry unit's kind is its place there, not its 组织类型: acceptance.accept)
        fate = fates(self.books, self.registry).with_columns(
            pl.col("unit").replace_strict(self.registry.parents(), default=None).alias("_at")).join(
            at, on="file", how="left", maintain_order="left")  # an accepted workbook's row in self.rows
        self.by_parent = {k: df.drop("_at", "kind") for (k,), df in
                          fate.filter(pl.col("kind") == KIND_GRASSROOTS).partition_by("_at", as_dict=True).items()}
        self.by_kind = {k: df.drop("_at", "kind") for (k,), df in
                        fate.filter(pl.col("kind") == KIND_BENJI).partition_by("kind", as_dict=True).items()}
        self.manifest = Manifest(self.books, sha256)
        self.dates = self.books.select("unit", "file", pl.col("FM10").fill_null("").alias("date"))
        own = self.books.filter(pl.col("kind") != "汇总").select("file", 单位代码="unit", 类型="kind")
        self.own_notes = self.report.notes.join(own, on="file").select(
            "file", "单位代码", "类型", pl.col("code").alias("代码"), pl.col("note").alias("说明"))
        self.carried_notes: list[pl.DataFrame] = []  # the 说明 sheets of the child summaries taken
        accepted = self.books.filter(pl.col("ok") & (pl.col("kind") != "汇总"))  # a unit's own workbook, for writers
        self.covers = accepted.select(pl.col("unit").alias("单位代码"), pl.col("kind").alias("类型"), *[
            r.code for r in self.spec.cover.rows]).unique(["单位代码", "类型"], keep="first", maintain_order=True)
        # every node now takes its rows from the frames above: the wide table of values is not needed again
        self.books = self.books.select(keys)

    def summaries_of(self, unit: str) -> list[dict]:
        """The unit's summary workbooks among the inputs (file, unit, kind, ok, errors, FM12 …), by file."""
        return self.by_unit.get(unit, [])

    def _take_files(self, node: str, files: list[str]) -> None:
        self.used_by.setdefault(node, []).extend(files)
        for f in files:
            self.used[f] = node

    def summarize_all(self, unit: str | None = None) -> dict[str, Summary]:
        """Every node of the tree bottom-up, or of `unit`'s subtree, all kept: rollup_all's dict."""
        return dict(self._each(unit, keep=True))

    def each_summary(self, unit: str | None = None) -> EachSummary:
        """Every node's summary as soon as it is final (its 校验 complete), deepest first, as summarize_all makes
        them. What a parent needs of its children is let go once the parent is made, so a caller that writes each
        summary and drops it holds about one level of summaries at a time, not the whole tree (`rollup --all`:
        a 市 of 100,000 units holds some 300,000 rows of 明细 in its summaries, the 区's and 街道's included)."""
        nodes = self.nodes(unit)
        return EachSummary(nodes, (s for _, s in self._each(unit, keep=False)))

    def nodes(self, unit: str | None = None) -> list[str]:
        """The nodes summarised for `unit`'s subtree (or the whole tree), deepest first; not one whose summary is
        among the inputs, nor any beneath it: its parent takes it as it is (made here, it would be all zero)."""
        if unit is not None and unit not in self.registry:
            raise TongjiError("unit-not-in-registry", unit=unit)
        below = set(self.registry.subtree(unit)) if unit else None
        order = [n for n in self.registry.nodes_bottom_up() if below is None or n in below]
        tops, parents, given = {unit} if unit else set(self.registry.roots()), self.registry.parents(), set()
        for n in reversed(order):  # parents first
            if n not in tops and (self.summaries_of(n) or parents.get(n) in given):
                given.add(n)
        return [n for n in order if n not in given]

    def _each(self, unit: str | None, keep: bool) -> Iterator[tuple[str, Summary]]:
        tops = {unit} if unit else set(self.registry.roots())
        # the collector is left alone: at 10,000 units it ran once (1 ms) while summarising, the work being polars'
        for run in self._runs(self.nodes(unit), tops):
            top = run[0] in tops
            wanted = [n for n in run if top or n not in self.memo]
            if wanted:
                self._made(wanted, top)
            for node in run:
                summary = self.memo[node]
                # the checks on the summaries made beneath it are all known once a node is made
                self.add_totals_checks({node: summary})
                if not keep:  # its children are never asked for again
                    for child in self.registry.children(node):
                        self.memo.pop(child, None)
                        self.manifest.below.pop(child, None)
                yield node, summary
                if not keep and node in self.memo:  # written: its parent takes its 明细, units, totals and cover,
                    self.memo[node] = replace(summary, inputs=summary.inputs.clear())  # not its manifest's lines

    def _runs(self, nodes: list[str], tops: set[str]) -> Iterator[list[str]]:
        """The nodes in runs of one level, made together; a top node alone (it takes what no other node took)."""
        for _, run in groupby(nodes, key=lambda n: n if n in tops else self.registry.get(n)["层级"]):
            yield list(run)

    def add_totals_checks(self, summaries: dict[str, Summary]) -> None:
        """Each summary's 校验 gets the checks on the summaries made here beneath it, as it would have had from
        validating their workbooks level by level."""
        for node, summary in summaries.items():
            parts = [self.checked[c] for c in self._made_below(node) if self.checked[c].height]
            if parts:
                summary.issues = pl.concat([summary.issues, *parts])

    def _made_below(self, node: str) -> list[str]:
        """Nodes beneath `node` whose summaries were made here (not read from a child's summary workbook)."""
        out, stack = [], [c for c in self.registry.children(node) if c in self.checked]
        while stack:
            child = stack.pop()
            out.append(child)
            stack.extend(c for c in self.registry.children(child) if c in self.checked)
        return sorted(out)

    def _check(self, nodes: list[str]) -> None:
        """Run on the summaries of `nodes`, made here for their parent, the checks their workbooks would get
        from the parent (rules, and checks written in Python), all at once; each node's issues are kept."""
        nodes = [n for n in nodes if n not in self.checked]
        if not nodes:
            return
        found = summary_issues([self.memo[n] for n in nodes], self.spec, self.registry, self.period)
        by_unit = {k: df for (k,), df in found.partition_by("unit", as_dict=True).items()}
        for node in nodes:
            self.checked[node] = by_unit.get(node, found.clear())

    # --- one node -------------------------------------------------------------------------------

    def summarize(self, node: str, top: bool = False) -> Summary:
        if node in self.memo and not top:
            return self.memo[node]
        return self._made([node], top)[0]

    def _made(self, nodes: list[str], top: bool = False) -> list[Summary]:
        """The summaries of `nodes`, of one level, made together: their 分组, 报出日期 and 完整性 are each a few
        polars queries for all of them, not for each (a query costs some 100 µs however small the frame)."""
        gathered = [self._gather(node, top) for node in nodes]
        parts = level_parts(nodes, [g[0] for g in gathered], [g[1] for g in gathered], self.dates, self.registry,
                            self.spec, self.deadline, self.received)
        taken = self.own_notes  # most batches write no 说明: then no Series of every file used so far
        if taken.height:  # a unit's own workbooks are taken by its parent alone: one filter for the level
            taken = taken.filter(pl.col("file").is_in(pl.Series(list(self.used), dtype=pl.Utf8).implode()))
        for node, (detail, _, inputs, notes_known), part in zip(nodes, gathered, parts, strict=True):
            notes = pl.concat([taken.drop("file"), *self.carried_notes[:notes_known]], how="diagonal")
            self.memo[node] = self._summary(node, detail, part, inputs, notes)
        return [self.memo[node] for node in nodes]

    def _gather(self, node: str, top: bool) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, int]:
        """What the node's summary is made of: its 明细, what happened to each unit, its manifest's lines, and how
        many of the child summaries' 说明 sheets read so far are its own."""
        parts, rows, units = [], [], []
        children = self.registry.children(node)
        leaves = {c for c in children if self.registry.is_leaf(c)}
        if leaves:  # grassroots children: thousands under one 街道, taken together
            taken, child_units = self._take([c for c in children if c in leaves], node, KIND_GRASSROOTS)
            rows.extend(taken)
            units.append(child_units)
        # the children summarised here are checked together, before their parent takes them
        self._check([c for c in children if c not in leaves and c in self.memo and not self.summaries_of(c)])
        for child in children:
            if child not in leaves:
                detail, child_units = self._child(node, child)
                parts.append(detail)
                units.append(child_units)
        taken, own_units = self._take([node], node, KIND_BENJI)
        rows.extend(taken)
        units.append(own_units)
        mine = rows_at(self.rows, rows)
        # the children's rows are not copied: a 市's 明细 shares the memory of its 区's, as theirs their 街道's
        detail = pl.concat([p for p in [mine, *parts] if p.height] or [empty_detail(self.spec)], rechunk=False)
        if not detail["单位代码"].is_sorted():
            detail = detail.sort("单位代码", maintain_order=True)
        units_df = pl.concat([u.select(list(UNIT_SCHEMA)) for u in units])
        inputs = self.manifest.under(node, self.registry, self.used_by)
        if top:
            left = self.report.workbooks.filter(
                ~pl.col("file").is_in(pl.Series(list(self.used), dtype=pl.Utf8).implode()))
            missing = units_df.filter(pl.col("status") == MISSING)["unit"].to_list()
            unused, elsewhere = unused_fates(left, self.registry, node, self.by_unit, missing)
            self.extra_issues.extend(elsewhere)
            units_df = pl.concat([units_df, told_below(unused, units_df)])
            # their line says what became of them here (not used, and why), not what validation made of them
            fates = unused.select("file", "status", "reason", "reason_code", "reason_params")
            lines = self.manifest.of(set(fates["file"].to_list())).update(fates, on="file")
            inputs = pl.concat([inputs, lines]).sort("file")
        return detail, units_df, inputs, len(self.carried_notes)

    def _child(self, node: str, child: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The rows a child node contributes to `node`, and what happened to its units."""
        given = self.summaries_of(child)
        if given:
            return self._from_child_summary(node, child, given)
        inner = self.summarize(child)  # no summary given: summarise the child here from deeper workbooks
        units = inner.units.with_columns(pl.lit(child).alias("child"))
        self._check([child])
        errors = int((self.checked[child]["severity"] == "错误").sum())
        if errors and not self.include_errors:  # returned, as its workbook would be level by level
            returned = pl.col("status") == ACCEPTED
            return empty_detail(self.spec), units.with_columns(
                pl.when(returned).then(pl.lit(RETURNED)).otherwise("status").alias("status"),
                pl.when(returned).then(pl.lit(workbook_name(inner))).otherwise("file").alias("file"),
                *[pl.when(returned).then(pl.lit(value)).otherwise(column).alias(column) for column, value in
                  unit_row("", "", "", "", "", "reason-errors", n=errors).items() if column.startswith("reason")])
        return inner.detail, units

    def _take(self, units: list[str], node: str, kind: str) -> tuple[list[int], pl.DataFrame]:
        """The units' own workbooks (grassroots or 本级): the rows of self.rows taken (accepted), and each unit's
        fate; each unit is its own "child" in the completeness count (a 本级 workbook is the node's own)."""
        mine = self.by_parent.get(node) if kind == KIND_GRASSROOTS else self.by_kind.get(kind)
        none = pl.DataFrame(schema=UNIT_SCHEMA | {"ok": pl.Boolean, "row": pl.UInt32})
        # not a revoked unit's workbook: the top node lists it as 已撤销
        books = none if mine is None else mine.filter(pl.col("unit").is_in(units))
        self._take_files(node, books["file"].to_list())
        sent = set(books["unit"].to_list())
        gone = [unit_row(u, self.registry.get(u)["单位名称"], u, "缺报", "", "reason-missing") for u in units
                if u not in sent]
        fates = pl.concat([books.drop("ok", "row"), pl.DataFrame(gone, schema=UNIT_SCHEMA)]).sort("unit", "file")
        return books.filter("ok")["row"].to_list(), fates

    def _from_child_summary(self, node: str, child: str, given: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Take the child's summary (the first acceptable one). A returned summary returns the units in it;
        validation has already compared its totals with its own 明细 (summary-edited)."""
        self._take_files(node, [b["file"] for b in given])
        chosen = next((b for b in given if b["ok"]), None)
        book = chosen or given[0]
        if chosen is not None:
            status, reason, n = ACCEPTED, "reason-summary", {}
        elif book["file"] in self.edited:
            status, reason, n = RETURNED, "reason-edited", {}
        else:
            status, reason, n = RETURNED, "reason-errors", {"n": book["errors"]}
        units, file = self.registry.subtree(child), book["file"]
        detail = strays_apart(self.detail_of(file), units, file, child, self.registry, self.extra_issues)
        if chosen is not None:
            self.carried_notes.append(read_notes(path_of(book["file"]), self.spec))
        inside = set(detail["单位代码"].to_list())
        # a unit not in its 明细 was returned or missing down there: its 完整性 says which (read only then)
        listed = listed_fates(path_of(book["file"]), self.spec) if any(u not in inside for u in units) else None
        taken = unit_row("", "", child, status, book["file"], reason, **n)
        fates, dates = subtree_fates(units, self.registry.names(units), inside, taken, child, listed)
        if dates.height:  # the 报出日期 of a unit returned down there counts as its workbook's would
            self.dates = pl.concat([self.dates, dates])
        return (detail if chosen is not None else empty_detail(self.spec)), fates

    def detail_of(self, file: str) -> pl.DataFrame:
        """A summary workbook's 明细 sheet as a detail frame."""
        if file not in self.details:
            self.details[file] = read_detail(path_of(file), self.spec, self.by_file.get(file, {}).get("FM12"))
        return self.details[file]

    # --- the summary ----------------------------------------------------------------------------

    def _summary(self, node: str, detail: pl.DataFrame, part: Part, inputs: pl.DataFrame, notes: pl.DataFrame
                 ) -> Summary:
        """The node's summary; `notes` are the 说明 its units may have written (those of its 明细 are kept)."""
        reg = self.registry.get(node)
        totals = totals_frame(detail, self.spec)
        own = missing_issues(part.units, self.registry, node)
        own += balance_issues(node, reg["单位名称"], part.unbalanced, self.spec)
        used = inputs["file"].filter(~inputs["file"].is_in(covered_files(inputs)))  # listed, not theirs to judge
        all_issues = self._issues(used, own + self.previous_notes)
        # the newest 报出日期 among the inputs: a date that depends on the inputs alone, never on the clock
        cover = {"FM01": reg["单位名称"], "FM02": node, "FM03": reg["上级代码"], "FM04": self.period, "FM05": SUMMARY,
                 "FM07": reg["所在地区划代码"], "FM08": "tongji", "FM10": inputs["FM10"].max() or "",
                 "FM12": self.spec.version}
        summary = Summary(unit=node, name=reg["单位名称"], period=self.period, level=reg["层级"], cover=cover,
                          totals=totals, detail=detail, indicators=indicators_frame(totals, self.spec),
                          completeness=part.completeness, units=part.units, issues=all_issues,
                          inputs=inputs.drop("FM10"), children=self.registry.children(node), registry=self.registry,
                          notes=carried_notes(notes, detail), covers=self.covers, groups=part.groups)
        if self.previous is not None:
            below = self.previous.filter(pl.col("单位代码").is_in(self.registry.subtree(node)))
            add_previous(summary, column_sums(below, self.spec), self.spec, self.incomparable)
        return summary

    def _issues(self, listed: pl.Series, extra: list[dict]) -> pl.DataFrame:
        base = self.report.issues.filter(pl.col("file").is_in(listed.implode()))
        files = set(listed.to_list()) if self.prefer_latest or self.extra_issues else set()
        if self.prefer_latest:  # the conflict was resolved as asked: say which file was set aside, no error
            superseded = [f for f, b in self.by_file.items() if b["superseded"] and f in files]
            resolved = [b["unit"] for b in self.by_file.values() if b["superseded"]]  # not a tie of dates
            base = base.filter((pl.col("rule") != "duplicate-unit") | ~pl.col("unit").is_in(resolved))
            extra = extra + [issue_row(f, self.by_file[f]["unit"], "superseded") for f in sorted(superseded)]
        rows = with_names(extra + [i for i in self.extra_issues if i["file"] in files], self.registry)
        return pl.concat([base, pl.DataFrame(rows, schema=ISSUE_COLUMNS)]) if rows else base

