"""The built-in plugin `tongji`: the standard forms, rules and indicators of schemas/, and the writers.

It registers through the same hooks as any outside plugin (datasette's DEFAULT_PLUGINS idea), first
(tryfirst), so that plugins extend what it declared."""

from __future__ import annotations

import functools

from tongji.definitions.forms import data_dir
from tongji.plugins.hookspecs import hookimpl
from tongji.plugins.toml_plugin import DeclarativePlugin

SCHEMAS = ("forms.toml", "rules.toml", "indicators.toml", "groupings.toml", "peers.toml")


class Builtin:
    def __init__(self) -> None:
        folder = data_dir("schemas")
        # older template versions and their concordance to the current one: one file each
        olds = sorted((folder / "versions").glob("*.toml"))
        self.schemas = DeclarativePlugin(*[folder / name for name in SCHEMAS], *olds)

    def meta(self) -> dict:
        return self.schemas.meta()

    @hookimpl(tryfirst=True)  # the built-in forms come first: plugins extend them
    def register_forms(self, register):
        self.schemas.register_forms(register)

    @hookimpl(tryfirst=True)
    def register_rules(self, register):
        self.schemas.register_rules(register)

    @hookimpl(tryfirst=True)
    def register_indicators(self, register):
        self.schemas.register_indicators(register)

    @hookimpl(tryfirst=True)
    def register_groupings(self, register):
        self.schemas.register_groupings(register)

    @hookimpl(tryfirst=True)
    def register_peer_ratios(self, register):
        self.schemas.register_peer_ratios(register)

    @hookimpl(tryfirst=True)
    def register_config(self, register):
        self.schemas.register_config(register)

    @hookimpl(tryfirst=True)
    def register_output_formats(self, register):
        register("xlsx", write_xlsx, "标准汇总工作簿（可作为上一级的输入）")
        register("parquet", write_parquet, "明细与合计 Parquet（总会写出）")
        register("csv", write_csv, "合计与明细 CSV（UTF-8）")
        register("json", write_json, "合计、指标、完整性与校验 JSON")


# The writers of writing/summary_files.py, imported when one writes: every spec is built with its writers, and a
# validation, which writes no summary, need not import openpyxl (and numpy) for them (a fifth of a second).
# Each takes the arguments its writer names (plugins.Writer passes only those).

def write_xlsx(summary, out_dir, spec, lang):
    from tongji.writing import summary_files

    return summary_files.write_xlsx(summary, out_dir, spec, lang)


def write_parquet(summary, out_dir, spec):
    from tongji.writing import summary_files

    return summary_files.write_parquet(summary, out_dir, spec)


def write_csv(summary, out_dir, spec):
    from tongji.writing import summary_files

    return summary_files.write_csv(summary, out_dir, spec)


def write_json(summary, out_dir, spec):
    from tongji.writing import summary_files

    return summary_files.write_json(summary, out_dir, spec)


@functools.cache
def plugin() -> Builtin:
    return Builtin()
