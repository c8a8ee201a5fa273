"""tongji 统计: validate and roll up trade-union statistical workbooks, level by level.

The library calls are `tongji.validate`, `tongji.rollup` and `tongji.rollup_all` (see their docstrings). They
are imported on first use, so that `import tongji` (and `tongji --help`) stays quick.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    __version__ = version("tongji")
except PackageNotFoundError:  # running from a checkout without install
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from tongji.aggregating.rollup import rollup, rollup_all
    from tongji.checking.validate import validate

_LAZY = {"validate": "tongji.checking.validate", "rollup": "tongji.aggregating.rollup",
         "rollup_all": "tongji.aggregating.rollup"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tongji' has no attribute {name!r}")


__all__ = ["__version__", "rollup", "rollup_all", "validate"]
