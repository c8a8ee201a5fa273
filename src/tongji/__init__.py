"""tongji 统计: validate and roll up trade-union statistical workbooks, level by level."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tongji")
except PackageNotFoundError:  # running from a checkout without install
    __version__ = "0.0.0"


def validate(paths, registry=None, period=None, **kw):
    """Validate workbooks (files or folders) and return a ValidationReport. See tongji.engine.validate."""
    from tongji.engine.validate import validate as _validate

    return _validate(paths, registry=registry, period=period, **kw)


def rollup(inputs, registry, unit, period, **kw):
    """Summarise node `unit` from its children's workbooks; returns a Summary. See tongji.engine.rollup."""
    from tongji.engine.rollup import rollup as _rollup

    return _rollup(inputs, registry, unit, period, **kw)


__all__ = ["__version__", "rollup", "validate"]
