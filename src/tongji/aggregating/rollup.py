"""`rollup`, `rollup_all` and `rollup_each`: the library calls that sum a node, or every node, of the registry tree.

The work is done by aggregating/tree.py (the Context: inputs read once, the walk up the tree).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path

from tongji.aggregating.completeness import Received
from tongji.aggregating.summary import EachSummary, Summary
from tongji.aggregating.tree import Context
from tongji.definitions import Spec
from tongji.definitions.registry import Registry, load_registry
from tongji.errors import TongjiError
from tongji.reading.workers import Executor


def rollup(
    inputs: Iterable[str | Path] | str | Path,
    *,
    registry: str | Path | Registry,
    unit: str,
    period: str,
    include_errors: bool = False,
    prefer_latest: bool = False,
    previous: str | Path | None = None,
    spec: Spec | None = None,
    workers: int | Executor = 1,
    tick: Callable[[], None] | None = None,
    on_files: Callable[[int], None] | None = None,
    deadline: str | date | None = None,
    received: Mapping[str, Received] | None = None,
) -> Summary:
    """Summarise one node of the registry tree from its children's workbooks and summaries.

    Args:
        inputs: Grassroots and 本级 workbooks and child summary workbooks (files or folders).
        registry: The 单位名册 (a path, or a loaded Registry).
        unit: The 单位代码 of the node to summarise.
        period: The reporting period (2025, 2025Q2, 2025-06).
        include_errors: Take workbooks with errors too (by default they are returned, not summed).
        prefer_latest: Of two workbooks of one unit, take the one with the latest 报出日期.
        previous: The node's own summary workbook of last period: 上期数, 同比 and the cross-period checks.
        spec: Forms, rules and indicators; by default those of the built-in schemas and loaded plugins.
        workers: Processes reading and checking the workbooks, or an Executor such as a Dask cluster (see
            `validate`); 1, the default, works in this process.
        tick: Called once for every workbook read (a progress bar).
        on_files: Called once, with the number of workbooks found, before reading starts.
        deadline: 报送截止日期 (2026-01-20, or a date): a unit whose 报出日期 is later is 迟报, and 完整性 gives
            及时率; by default the configured 报送截止日期, if any.
        received: What a caller that keeps the units' uploads (the portal) knows beyond the inputs, by 单位代码
            (completeness.Received): a unit whose workbook is not among them is returned or waiting for review
            (待审) as it says, not missing; and a unit's 迟报 is what it says. Given, the deadline is `deadline`
            alone: None is none, not the configured one, since the caller judged lateness.

    Returns:
        The node's Summary: totals, indicators, 明细, completeness, issues and the inputs' manifest.

    Raises:
        TongjiError: A setup problem (a unit not in the registry, a bad period, no inputs), said in Chinese.
    """
    ctx = Context.build(inputs, registry=_registry(registry, unit), period=period, include_errors=include_errors,
                        prefer_latest=prefer_latest, previous=previous, spec=spec, workers=workers, tick=tick,
                        on_files=on_files, deadline=deadline, unit=unit)
    if received is not None:
        ctx.received = dict(received)
        if deadline is None:  # the caller judged lateness: its having no deadline is none, not the configured one
            ctx.deadline = None
    summary = ctx.summarize(unit, top=True)
    ctx.add_totals_checks({unit: summary})
    return summary


def rollup_all(
    inputs: Iterable[str | Path] | str | Path,
    *,
    registry: str | Path | Registry,
    period: str,
    unit: str | None = None,
    include_errors: bool = False,
    prefer_latest: bool = False,
    previous: str | Path | None = None,
    spec: Spec | None = None,
    workers: int | Executor = 1,
    tick: Callable[[], None] | None = None,
    on_files: Callable[[int], None] | None = None,
    deadline: str | date | None = None,
) -> dict[str, Summary]:
    """Summarise every node of the registry tree bottom-up from one set of workbooks.

    Args:
        inputs: Grassroots and 本级 workbooks, and any child summary workbooks to take as they are (files or
            folders); a node whose summary is not among them is summarised from the workbooks beneath it.
        registry: The 单位名册 (a path, or a loaded Registry).
        period: The reporting period (2025, 2025Q2, 2025-06).
        unit: Summarise only this node's subtree; by default the whole tree.
        include_errors: Take workbooks with errors too (by default they are returned, not summed).
        prefer_latest: Of two workbooks of one unit, take the one with the latest 报出日期.
        previous: The top node's summary workbook of last period: every node gets its 上期数 from its 明细.
        spec: Forms, rules and indicators; by default those of the built-in schemas and loaded plugins.
        workers: Processes reading and checking the workbooks, or an Executor such as a Dask cluster (see
            `validate`); 1, the default, works in this process.
        tick: Called once for every workbook read (a progress bar).
        on_files: Called once, with the number of workbooks found, before reading starts.
        deadline: 报送截止日期 (2026-01-20, or a date): a unit whose 报出日期 is later is 迟报, and 完整性 gives
            及时率; by default the configured 报送截止日期, if any.

    Returns:
        Every node's Summary by 单位代码, children before their parents.

    Raises:
        TongjiError: A setup problem (a unit not in the registry, a bad period, no inputs), said in Chinese.
    """
    ctx = Context.build(inputs, registry=_registry(registry, unit), period=period, include_errors=include_errors,
                        prefer_latest=prefer_latest, previous=previous, spec=spec, workers=workers, tick=tick,
                        on_files=on_files, deadline=deadline, unit=unit)
    return ctx.summarize_all(unit)


def rollup_each(
    inputs: Iterable[str | Path] | str | Path,
    *,
    registry: str | Path | Registry,
    period: str,
    unit: str | None = None,
    include_errors: bool = False,
    prefer_latest: bool = False,
    previous: str | Path | None = None,
    spec: Spec | None = None,
    workers: int | Executor = 1,
    tick: Callable[[], None] | None = None,
    on_files: Callable[[int], None] | None = None,
    deadline: str | date | None = None,
) -> EachSummary:
    """rollup_all's summaries one at a time, for a caller that writes each and lets it go (`rollup --all`).

    The inputs are read and validated when it is called; iterating then gives every node's Summary as soon as it
    is final, children before their parents, the same as rollup_all's. A child's summary is let go once its
    parent is made, so memory holds about one level of the tree at a time instead of every node's 明细.
    The arguments are rollup_all's.

    Returns:
        The summaries to iterate once; `len()` says how many there will be.

    Raises:
        TongjiError: A setup problem (a unit not in the registry, a bad period, no inputs), said in Chinese.
    """
    ctx = Context.build(inputs, registry=_registry(registry, unit), period=period, include_errors=include_errors,
                        prefer_latest=prefer_latest, previous=previous, spec=spec, workers=workers, tick=tick,
                        on_files=on_files, deadline=deadline, unit=unit)
    return ctx.each_summary(unit)


def _registry(registry: str | Path | Registry, unit: str | None) -> Registry:
    """The registry, with the unit asked for looked up before any workbook is read (that can take minutes)."""
    registry = registry if isinstance(registry, Registry) else load_registry(registry)
    if unit is None:
        return registry
    row = registry.get(unit)
    if row is None:
        raise TongjiError("unit-not-in-registry", unit=unit)
    if row["状态"] == "撤销":  # as for a template: almost surely a typo, and --all would make no summary
        raise TongjiError("unit-revoked", unit=unit)
    if registry.is_leaf(unit):  # its summary would be its own workbook alone, and --all would make none
        raise TongjiError("unit-is-grassroots", unit=unit, name=row["单位名称"])
    return registry
