"""Helpers for testing a tongji plugin: load it (without entry points), make a small city of filled templates,
validate, roll up, write outputs and run a command, all in-process.

    from tongji.testing import load_plugin, make_city, validate, rollup

    def test_my_check(tmp_path):
        host = load_plugin(my_plugin)
        city = make_city(tmp_path, host, values={"HY03": 95})
        report = validate(host, city)
        assert report.flatten(["rule"]) == [...]

Nothing here reads the environment: TONGJI_PLUGINS_DIR, TONGJI_LOAD_PLUGINS and installed entry points are
ignored, so a plugin's test passes the same on every machine. pytest is not needed to import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from tongji.aggregating.summary import Summary
from tongji.definitions.codes import uscc_check_char
from tongji.issues.report import ValidationReport
from tongji.plugins import Host

__all__ = ["BENJI_VALUES", "GOOD_VALUES", "City", "fill_template", "load_plugin", "make_city", "rollup",
           "run_command", "validate", "write_outputs"]

GOOD_VALUES: dict[str, float | str] = {
    "HY01": 100, "HY02": 40, "HY03": 90, "HY04": 35, "HY05": 10, "HY06": 8, "HY07": 1, "HY08": 2,
    "HY09": 2, "HY10": 2, "HY11": 5, "HY12": 80, "HY13": 1, "HY14": 3,
    "JH01": 1, "JH02": 1, "JH03": "是", "JH04": "是", "JH05": "是", "JH06": "是", "JH07": "否",
    "JH08": "是", "JH09": "是", "JH10": "否", "JH11": 20, "JH12": 8,
    "BF01": 3, "BF02": 1, "BF03": 1, "BF04": 0, "BF05": 1, "BF06": 1, "BF07": 6000, "BF08": 3000,
    "BF09": 2000, "BF10": 1000, "BF11": 3, "BF12": 1500, "BF13": 1, "BF14": 1000, "BF15": 10, "BF16": 500,
    "BF17": 0, "BF18": 0, "BF19": 80, "BF20": 2000,
    "JF01": 135799.5, "JF02": 5000, "JF03": 120000, "JF04": 10000, "JF05": 0, "JF06": 0, "JF07": 0,
    "JF08": -200.5, "JF09": 1000, "JF10": 117000, "JF11": 60000, "JF12": 20000, "JF13": 5000, "JF14": 1500,
    "JF15": 30000, "JF16": 5000, "JF17": 0, "JF18": 0, "JF19": 2000, "JF20": 50000, "JF21": 68799.5,
    "JF22": 10000000,
}
"""A grassroots workbook's values that pass every built-in rule."""

BENJI_VALUES: dict[str, float | str] = GOOD_VALUES | {"JH21": 40, "JH22": 12, "JH23": 3000, "JH24": 1}
"""A 本级 workbook's values (the rows only 本级 fills, too)."""

FILLED_COVER = {"FM06": "170", "FM08": "张三", "FM09": "0571-88880000", "FM10": "2026-01-15", "FM11": "李四",
                "FM15": "C", "FM16": "王五"}


def load_plugin(*plugins, name: str | None = None, builtins_only: bool = False) -> Host:
    """A plugin host with the built-in forms and the given plugins: module or object with hooks, or the path
    of a .toml file, a .py file, a package folder or a project folder. Entry points are not loaded.
    Check `host.errors` (empty when every plugin loaded); `host.spec` is what validate and rollup use."""
    host = Host(entry_points=False, environment=False)
    for i, plugin in enumerate(() if builtins_only else plugins):
        if isinstance(plugin, str | Path):
            host.add_path(Path(plugin))
        else:
            label = name if name and len(plugins) == 1 else getattr(plugin, "__name__", f"plugin{i + 1}")
            host.add(label.rsplit(".", 1)[-1], plugin)
    return host


@dataclass
class City:
    """A small city: 市 → 区 → 街道 → 基层. `units` maps each unit code to its registry row."""

    root: Path
    registry: Path
    folder: Path  # the filled workbooks, one per unit (本级 for 市, 区 and 街道)
    period: str
    units: dict[str, dict] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def top(self) -> str:
        return next(c for c, u in self.units.items() if not u["上级代码"])

    def grassroots(self) -> list[str]:
        return [c for c, u in self.units.items() if u["层级"] == "基层"]

    def streets(self) -> list[str]:
        return [c for c, u in self.units.items() if u["层级"] == "街道"]


def _uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def make_city(root: str | Path, host: Host, streets: Iterable[int] = (2, 1), period: str = "2025",
              values: dict | Callable[[str, dict], dict] | None = None,
              cover: dict | Callable[[str, dict], dict] | None = None) -> City:
    """Write a registry and one filled template per unit under `root`: one 市 (330100), one 区 (330106) and a
    街道 per entry of `streets`, holding that many grassroots units. Every unit gets GOOD_VALUES (BENJI_VALUES for
    本级), the grassroots ones each with a 互助保障给付金额 (BF20) 1 元 apart, so that no two are copies of one
    another (copied-workbook); `values` and `cover` change them: a dict for every unit, or a function (code,
    registry row) → dict."""
    from tongji.definitions.registry import load_registry
    from tongji.writing.template import make_templates

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    city = City(root, root / "名册.csv", root / "收到", period)
    lines = ["单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态"]

    def add(code: str, name: str, parent: str, level: str, org: str, area: str) -> None:
        city.units[code] = {"单位代码": code, "单位名称": name, "上级代码": parent, "层级": level,
                            "组织类型": org, "所在地区划代码": area, "状态": "正常"}
        lines.append(f"{code},{name},{parent},{level},{org},{area},正常")

    add("330100", "示例市总工会", "", "市", "", "330100000000")
    add("330106", "示例区总工会", "330100", "区", "", "330106000000")
    for s, n in enumerate(streets, start=1):
        street = f"330106{s:03d}"
        add(street, f"第{s}街道总工会", "330106", "街道", "", f"{street}000")
        for g in range(1, n + 1):
            add(_uscc(f"81{street}M{g:05d}"), f"第{s}街道第{g}工会", street, "基层", "1", f"{street}{g:03d}")
    city.registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = host.spec
    templates = make_templates(load_registry(city.registry), period, root / "模板", spec=spec, overwrite=True)
    grassroots = [c for c, u in city.units.items() if u["层级"] == "基层"]
    for path in templates:
        code = path.name.split("_", 1)[0]
        unit = city.units[code]
        own = _pick(values, code, unit)
        base = GOOD_VALUES if unit["层级"] == "基层" else BENJI_VALUES
        if unit["层级"] == "基层":
            base = base | {"BF20": base["BF20"] + grassroots.index(code)}
        target = city.folder / (unit["上级代码"] or "top") / path.name
        city.files[code] = fill_template(path, {**base, **own}, {**FILLED_COVER, **_pick(cover, code, unit)}, target)
    return city


def _pick(given, code: str, unit: dict) -> dict:
    if given is None:
        return {}
    return dict(given(code, unit) if callable(given) else given)


def fill_template(template: str | Path, values: dict | None = None, cover: dict | None = None,
                  out: str | Path | None = None) -> Path:
    """Fill a template written by `tongji template` as a unit would: `values` by code in column D of the form
    sheets, `cover` (FM06, FM08, FM10 …) in column C of 封面. None leaves a cell empty. Saved to `out`
    (default: over the template)."""
    values, cover = dict(values or {}), dict(cover or {})
    wb = openpyxl.load_workbook(template)
    for ws in wb.worksheets:
        for (code,) in ws.iter_rows(min_col=2, max_col=2):
            key = code.value
            if not isinstance(key, str):
                continue
            if key in cover and key.startswith("FM"):
                ws.cell(code.row, 3, cover[key])
            elif key in values and not key.startswith("FM"):
                ws.cell(code.row, 4, values[key])
    target = Path(out or template)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def _inputs(where) -> list[Path]:
    if isinstance(where, City):
        return [where.folder]
    if isinstance(where, str | Path):
        return [Path(where)]
    return [Path(p) for p in where]


def validate(host: Host, inputs, registry: str | Path | None = None, period: str | None = None) -> ValidationReport:
    """Validate a City (its registry and period too) or files and folders, with the host's forms, rules and
    checks."""
    from tongji.checking.validate import validate as run

    if isinstance(inputs, City):
        registry, period = registry or inputs.registry, period or inputs.period
    return run(_inputs(inputs), registry=registry, period=period, spec=host.spec)


def rollup(host: Host, inputs, registry: str | Path | None = None, period: str | None = None,
           unit: str | None = None, previous: str | Path | None = None) -> dict[str, Summary]:
    """Roll up every node of a City (or of `unit`'s subtree), bottom-up: {unit code: Summary}. `previous`, the
    top node's summary workbook of last period, adds 同比 and runs the cross-period rules (those using prev())."""
    from tongji.aggregating.rollup import rollup_all

    if isinstance(inputs, City):
        registry, period = registry or inputs.registry, period or inputs.period
    return rollup_all(_inputs(inputs), registry=registry, period=period, spec=host.spec, unit=unit,
                      previous=previous)


def write_outputs(host: Host, summary: Summary, out_dir: str | Path, formats: Iterable[str] = ("xlsx",),
                  lang: str = "zh") -> list[Path]:
    """Write one summary in these output formats (the plugin's own among them) in `lang` ("zh" or "en"); returns
    the paths written."""
    from tongji.writing.summary_files import write_summary

    return write_summary(summary, Path(out_dir), host.spec, tuple(formats), lang)


def run_command(host: Host, args: list[str]) -> tuple[int, str]:
    """Run a command a plugin added (register_commands): (exit code, what it printed)."""
    import typer
    from typer.testing import CliRunner

    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:  # with a callback, the command name is the first argument even for one command
        pass

    host.add_commands(app)
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output
