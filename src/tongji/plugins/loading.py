"""Loading a plugin: a file, a package, a pip-style project or an entry point made into what pluggy registers, and a
plugin's failure to load said as the user can act on it (its file and line, a module it needs)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tomllib
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from tongji.i18n import t
from tongji.plugins.toml_plugin import DeclarativePlugin

GROUP = "tongji"  # the entry-point group, and the name of pluggy's hooks (tongji_impl)


class Loader:
    """Marks a function that imports a plugin, as opposed to a plugin object."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def __call__(self):
        return self.fn()


def import_file(path: Path, name: str | None = None):
    name = f"tongji_plugin_{name or path.stem}"
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Parts:
    """One plugin made of several objects registered with pluggy: a package's .toml files and its hooks."""

    parts: list


def as_plugin(obj):
    """What an entry point names, as a plugin: a module or object with hooks, a package folder of declarative
    .toml files (a pip package shipping its forms and rules as data), or a package with both: its .toml files
    are registered first (in file-name order), then its hooks, all under the plugin's one name."""
    folders = [Path(p) for p in getattr(obj, "__path__", [])]
    tomls = sorted(f for folder in folders if folder.is_dir() for f in folder.glob("*.toml"))
    if not tomls:
        return obj
    has_hooks = any(hasattr(getattr(obj, n, None), f"{GROUP}_impl") for n in dir(obj))
    return Parts([DeclarativePlugin(*tomls), obj]) if has_hooks else DeclarativePlugin(*tomls)


def project_entry_points(folder: Path) -> list[tuple[str, str]]:
    data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    return sorted(data.get("project", {}).get("entry-points", {}).get(GROUP, {}).items())


def import_from_project(folder: Path, value: str):
    """A pip-style project in the plugins folder works without installing it: import from its source."""
    for root in (folder / "src", folder):
        if root.is_dir() and str(root) not in sys.path:
            sys.path.insert(0, str(root))
    module_name, _, attr = value.partition(":")
    module = importlib.import_module(module_name)
    return as_plugin(getattr(module, attr) if attr else module)


def load_error(exc: Exception) -> str:
    """A plugin's own exception while loading, with the file and line of its code where it was raised: a module
    it imports that is not installed is said as such, a syntax error with its file, line and that line's text."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:  # raised by the parser, not by a frame of code
        text = (exc.text or "").strip()
        key = "plugin-syntax-error" if text else "plugin-syntax-error-at"
        return t(key, file=exc.filename, line=exc.lineno, text=text)
    # neither tongji's lines nor importlib's (an entry point naming a module that is not there fails in it)
    machinery = (Path(__file__).parents[1], Path(importlib.__file__).parent)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and not any(Path(f.filename).is_relative_to(m) for m in machinery)]
    where = t("plugin-where", file=frames[-1].filename, line=frames[-1].lineno) if frames else ""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return t("plugin-missing-module" if where else "plugin-missing-module-named", module=exc.name, where=where)
    if isinstance(exc, AttributeError) and not where and isinstance(exc.obj, ModuleType):  # its entry point's name
        return t("plugin-missing-name", module=exc.obj.__name__, name=exc.name)
    error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return t("plugin-load-failed", error=error, where=where) if where else error
