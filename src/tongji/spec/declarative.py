"""Declarative files: the built-in schemas/*.toml and a region's plugin .toml share one format.

    [meta]            version, accepted_versions, marks, enums (the built-in forms file only)
    [[form]]          a new form sheet: id, sheet, title, table_no, unit, rows = [{code, name, kind, ...}]
    [[extend]]        rows added to an existing form: form = "JH", rows = [...]
    [[rule]]          id, severity, check, when, scope, tolerance, message, message_en
    [[indicator]]     id, name, numerator, denominator, unit, from
    [config]          defaults such as "留成比例" = 0.6   ([params] is read the same way)

Each item comes back with `_where` ("file.toml:12") so mistakes are reported with their line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tongji.errors import TongjiError

SECTIONS = ("form", "extend", "rule", "indicator")


def read(path: Path) -> dict:
    """Parse one file; nothing is checked here but TOML syntax (the builder checks meaning)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = found.group(1) if found else "?"
        raise TongjiError("spec-invalid", file=path.name, line=line, detail=str(exc)) from None
    except OSError as exc:
        raise TongjiError("spec-invalid", file=path.name, line="?", detail=exc.strerror or str(exc)) from None
    out: dict = {"meta": {k: data[k] for k in ("version", "accepted_versions", "marks", "enums") if k in data}}
    out["meta"] |= data.get("meta", {})
    out["plugin"] = data.get("plugin", {})
    for section in SECTIONS:
        out[section] = [_located(item, path, text) for item in data.get(section, [])]
    config = data.get("config", {}) | data.get("params", {})
    out["config"] = [(k, v, f"{path.name}:{_line(text, k)}") for k, v in config.items()]
    return out


def _located(item: dict, path: Path, text: str) -> dict:
    anchor = item.get("id") or item.get("form") or ""
    item = dict(item, _where=f"{path.name}:{_line(text, anchor)}")
    if "rows" in item:
        item["rows"] = [dict(r, _where=f"{path.name}:{_line(text, r.get('code', ''))}") for r in item["rows"]]
    return item


def _line(text: str, anchor: str) -> int:
    """The line where `anchor` first appears quoted (an id, a code) or as a key; 0 when not found."""
    for needle in (f'"{anchor}"', f"{anchor} ="):
        idx = text.find(needle) if anchor else -1
        if idx >= 0:
            return text.count("\n", 0, idx) + 1
    return 0
