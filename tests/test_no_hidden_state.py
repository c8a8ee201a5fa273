"""Library calls keep no state of their own between calls: what is derived from the forms belongs to the spec
it was derived from (no module-level cache keyed on a spec's identity)."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import tongji
from tongji.checking.schema import workbook_schema
from tongji.definitions import Spec
from tongji.plugins import load_spec
from tongji.reading.labels import name_index


def test_derived_values_are_made_once_per_spec_and_kept_with_it():
    spec = load_spec()
    assert workbook_schema(spec) is workbook_schema(spec)
    assert name_index(spec) is name_index(spec)
    again = pickle.loads(pickle.dumps(spec))  # as a worker process gets it: without the derived values
    assert again.derive(lambda s: len(s.rows)) == len(spec.rows)
    assert workbook_schema(again) is not workbook_schema(spec)
    assert name_index(again) == name_index(spec)


def test_no_module_caches_a_function_of_the_spec():
    """functools caches on a function taking the spec would keep every spec ever loaded, keyed on identity."""
    cached = []
    for info in pkgutil.walk_packages(tongji.__path__, "tongji."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if hasattr(obj, "cache_info") and getattr(obj, "__module__", "") == info.name:
                params = inspect.signature(obj).parameters.values()
                if any(p.annotation in (Spec, "Spec") for p in params):
                    cached.append(f"{info.name}.{name}")
    assert cached == []
