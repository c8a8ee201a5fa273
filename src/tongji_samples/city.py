"""What `make_city` wrote: the record tests and the answer key are made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tongji_samples.tree import CITY_CODE


@dataclass
class City:
    """What `make_city` wrote.

    seeded:  file name → the rule ids that must report it (every other workbook has no issue at all).
    missing: codes of expected units left without a workbook.
    values:  unit code → indicator → the value meant (before any seeded mistake): int counts, 元 amounts, 是/否.
    With previous=True:
    previous_period, previous: last period and the folder of its summary workbooks (<code>_<period>_汇总.xlsx).
    previous_values: last period's values, like `values` (last period has no mistakes).
    seeded_rollup: file name → the rule ids that rollup with --previous must report (validate finds nothing).
    """

    registry: Path
    folder: Path
    period: str
    seeded: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    values: dict[str, dict[str, int | float | str]] = field(default_factory=dict)
    previous_period: str = ""
    previous: Path | None = None
    previous_values: dict[str, dict[str, int | float | str]] = field(default_factory=dict)
    seeded_rollup: dict[str, list[str]] = field(default_factory=dict)

    def previous_summary(self, unit: str = CITY_CODE) -> Path | None:
        """Last period's summary workbook of `unit` (the 市 by default), if it was made."""
        if self.previous is None:
            return None
        path = self.previous / f"{unit}_{self.previous_period}_汇总.xlsx"
        return path if path.is_file() else None
