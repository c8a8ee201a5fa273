"""A declarative plugin: TOML files in the format of schemas/, registered through the same hooks as Python."""

from __future__ import annotations

from pathlib import Path

from tongji.definitions import declarative
from tongji.plugins.hookspecs import hookimpl


class DeclarativePlugin:
    """A .toml file as a plugin: the same format and loader as the built-in schemas/."""

    def __init__(self, *paths: Path):
        self.paths = [Path(p) for p in paths]
        self.data = [declarative.read(p) for p in self.paths]

    @hookimpl
    def register_forms(self, register):
        for d in self.data:
            for form in d["form"]:
                register(form)
            for ext in d["extend"]:
                register(dict(ext, extend=ext.get("form", "")))
            for old in d["concordance"]:  # an older template version, read through its concordance
                register(dict(old, concordance=str(old.get("version", ""))))

    @hookimpl
    def register_rules(self, register):
        for d in self.data:
            for rule in d["rule"]:
                register(rule)

    @hookimpl
    def register_indicators(self, register):
        for d in self.data:
            for ind in d["indicator"]:
                register(ind)

    @hookimpl
    def register_groupings(self, register):
        for d in self.data:
            for grouping in d["grouping"]:
                register(grouping)

    @hookimpl
    def register_peer_ratios(self, register):
        for d in self.data:
            for ratio in d["peer_ratio"]:
                register(ratio)

    @hookimpl
    def register_config(self, register):
        for d in self.data:
            for name, value, _ in d["config"]:
                register(name, value)

    def meta(self) -> dict:
        return {k: v for d in self.data for k, v in d["meta"].items()}
