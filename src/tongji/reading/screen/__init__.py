"""Measure a workbook's bytes before calamine sees them, in bounded time and memory.

calamine gives every sheet one slot per cell of its bounding box: a single value at XFD1048576 (or at
row 65536, column 65536 of a damaged .xls) asks for hundreds of GiB, and the process aborts — no Python
`except` can catch that. A zip whose sheet inflates to gigabytes is read whole. So each workbook is
measured here first: the package's true unpacked size (inflated with a cap, whatever its headers
claim) and, per sheet, the furthest cell holding a value. Only what fits the limits is handed on.

Cells without a value (a border, a colour) are skipped, as calamine skips them. A sheet's declared
`<dimension>` is not trusted either way: the calamine fastexcel ships sizes its grid from the cells it
reads, not from that declaration (tests/test_hostile_files.py holds it to that).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tongji.reading.screen.biff import screen_xls
from tongji.reading.screen.limits import LIMIT_KEYS, Limits, Over, Verdict, mb, quiet_stderr
from tongji.reading.screen.package import screen_zip

__all__ = ["LIMIT_KEYS", "Limits", "Verdict", "quiet_stderr", "screen"]


def screen(data: bytes, limits: Limits, wanted: Callable[[str], bool] = lambda sheet: True,
           every_part: bool = False) -> Verdict:
    """Measure `data` (an xlsx/xlsm/ods zip or an xls compound file). Never raises for bad input.

    Only the sheets `wanted` says will be read are measured, and counted against the size limit with the
    parts calamine reads on opening any workbook (workbook, styles, shared strings); pictures and sheets
    that are never read cost nothing, however large. With `every_part`, every sheet and every other part
    (drawings, charts, pictures) is measured: what openpyxl loads to make an annotated copy."""
    deadline = time.monotonic() + limits.seconds
    try:
        if data.startswith(b"PK"):
            return screen_zip(data, limits, deadline, wanted, every_part)
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            if len(data) > limits.bytes:
                raise Over("too-large")
            return screen_xls(data, limits, deadline)
    except Over as over:
        return Verdict(whole=(over.key, over.kw if over.kw else {"limit": mb(limits)}))
    return Verdict()
