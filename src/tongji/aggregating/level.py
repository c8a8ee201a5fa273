"""What the nodes of one level ask together (Context._made). polars costs some 100 µs a query however small the
frame, and a rollup's hundred 街道 have a few dozen rows each: so each question is asked once for all the nodes,
of their frames stacked one under another, and the answers are cut apart by node."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

import polars as pl

from tongji.aggregating.completeness import Received, completeness_frames, dated, received_fates
from tongji.aggregating.groups import groups_frames
from tongji.aggregating.summary import stack
from tongji.definitions import Spec
from tongji.definitions.registry import Registry


@dataclass
class Part:
    """One node's answers: its 分组 sheet and where that does not add up, its units with their 报出日期, its 完整性."""

    groups: pl.DataFrame
    unbalanced: list[tuple]
    units: pl.DataFrame
    completeness: pl.DataFrame


def level_parts(nodes: list[str], details: list[pl.DataFrame], units: list[pl.DataFrame], dates: pl.DataFrame,
                registry: Registry, spec: Spec, deadline: str | None,
                received: dict[str, Received] | None = None) -> list[Part]:
    """Each node's Part, from its 明细 and its units' fates (UNIT_SCHEMA); `dates` (file, date) is every
    workbook's 报出日期; `received`, what the caller knows of units beyond the inputs (completeness.Received)."""
    groups, off = groups_frames(details, spec)
    units = [received_fates(u, received) for u in units]
    stacked = stack(units, "_node", nodes)
    carried = stack([d[["单位代码", "报出日期"]] for d in details], "_node", nodes).rename(
        {"单位代码": "unit", "报出日期": "date"})  # the units' own dates, from children's 明细 too
    # the dates of the nodes' own files only: dated() would otherwise sift every workbook's
    stacked = dated(stacked, carried, dates.filter(pl.col("file").is_in(stacked["file"].implode())), deadline, received)
    done = completeness_frames(nodes, stacked, registry, deadline)
    # dated() keeps the rows in order, so each node's are where they were stacked: cut apart by slices, which
    # copy nothing (a level of 100,000 units)
    stacked, starts = stacked.drop("_node"), [0, *accumulate(u.height for u in units)]
    return [Part(groups[i], off[i], stacked.slice(starts[i], units[i].height), done[i]) for i in range(len(nodes))]

