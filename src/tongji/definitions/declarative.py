"""Declarative files: the built-in schemas/*.toml and a region's plugin .toml share one format.

    [meta]            version, accepted_versions, marks, enums (the built-in forms file only)
    [[form]]          a new form sheet: id, sheet, title, table_no, unit, basis, rows = [{code, name, kind, ...}]
    [[extend]]        rows added to an existing form: form = "JH", rows = [...]
    [[rule]]          id, severity, check, when, scope, tolerance, message, message_en
    [[indicator]]     id, name, numerator, denominator, unit, from
    [[concordance]]   an older template version: version, next, added, renamed, split, dropped, names, flags,
                      enums, marks (definitions/concordance.py)
    [[grouping]]      a grouping of the 分组 sheet: id, name, name_en, field, enum, prefix, names_en, groups
    [[breakdown]]     the 分组 sheet's columns: code or indicator, name, name_en (the built-in file only)
    [[peer_ratio]]    id, name, name_en, numerator, denominator, unit: a ratio compared across peer units
    [config]          defaults such as "留成比例" = 0.6   ([params] is read the same way)

Each item comes back with `_where` ("file.toml:12") so mistakes are reported with their line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tongji.definitions.forms import DEADLINE, parse_deadline
from tongji.errors import TongjiError

SECTIONS = ("form", "extend", "rule", "indicator", "concordance", "grouping", "peer_ratio")


def read(path: Path) -> dict:
    """Parse one file; nothing is checked here but TOML syntax (the builder checks meaning)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = found.group(1) if found else "?"
        raise TongjiError("spec-invalid", file=path.name, line=line, detail=str(exc), detail_en=str(exc)) from None
    except OSError as exc:
        detail = exc.strerror or str(exc)
        raise TongjiError("spec-invalid", file=path.name, line="?", detail=detail, detail_en=detail) from None
    out: dict = {"meta": {k: data[k] for k in ("version", "accepted_versions", "marks", "enums", "breakdown")
                   if k in data}}
    out["meta"] |= data.get("meta", {})
    out["plugin"] = data.get("plugin", {})
    for section in SECTIONS:
        items = data.get(section, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _misshapen(path, text, section, (f"“{section}”应写成 [[{section}]] 的表",
                                                   f"'{section}' should be written as [[{section}]] tables"))
        out[section] = [_located(item, path, text, section, i) for i, item in enumerate(items)]
    config = {}
    for section in ("config", "params"):
        if not isinstance(data.get(section, {}), dict):
            raise _misshapen(path, text, section, (f"“{section}”应写成 [{section}] 下的“名称 = 数值”",
                                                   f"'{section}' should be a [{section}] table of name = number"))
        config |= data.get(section, {})
    out["config"] = [(k, v, f"{path.name}:{_line(text, k)}") for k, v in config.items()]
    for name, value, where in out["config"]:
        if name == DEADLINE and parse_deadline(value) is None:
            zh, en = f"{name} = {value}：不是日期", f"{name} = {value}: not a date"
        elif name != DEADLINE and (isinstance(value, bool) or not isinstance(value, int | float)):
            zh = f"配置项“{name}”的值应为数值，而不是“{value}”"
            en = f"the value of {name} should be a number, not '{value}'"
        else:
            continue
        raise TongjiError("spec-invalid", file=path.name, line=where.rpartition(":")[2], detail=zh, detail_en=en)
    return out


def _misshapen(path: Path, text: str, section: str, detail: tuple[str, str]) -> TongjiError:
    """A section written in the wrong shape ([rule] for [[rule]], `rule = 5`), at the line that wrote it."""
    found = re.search(rf"^[ \t]*(\[+\s*{section}\s*\]|{section}\s*=)", text, re.MULTILINE)
    line = text.count("\n", 0, found.start()) + 1 if found else "?"
    return TongjiError("spec-invalid", file=path.name, line=line, detail=detail[0], detail_en=detail[1])


def _located(item: dict, path: Path, text: str, section: str, index: int) -> dict:
    """The item with `_where` (its id's line) and `_lines` (the line of each of its keys), found in its own
    block: the index-th `[[section]]` header down to the next header."""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    mine = [i for i in headers if re.match(rf"^\s*\[\[\s*{section}\s*\]\]", lines[i])]
    start = mine[index] if index < len(mine) else 0
    end = next((i for i in headers if i > start), len(lines))
    keys = {}
    for i in range(start + 1 if mine else 0, end):
        found = _KEY.match(lines[i])
        if found and found.group(1).strip('"') not in keys:
            keys[found.group(1).strip('"')] = i + 1
    anchor = next((k for k in ("id", "form", "version") if k in item), "form")
    at = keys.get(anchor) or (start + 1 if mine else _line(text, item.get(anchor, "")))
    item = dict(item, _where=f"{path.name}:{at}", _lines={k: f"{path.name}:{n}" for k, n in keys.items()})
    if isinstance(item.get("rows"), list):  # the builder says what is wrong with rows of another shape
        rows_at = keys.get("rows") or at
        item["rows"] = [dict(r, _where=f"{path.name}:{_line(text, str(r.get('code', '')), start) or rows_at}")
                        if isinstance(r, dict) else r for r in item["rows"]]
    return item


_HEADER = re.compile(r"^\s*\[")
_KEY = re.compile(r'^\s*("[^"]+"|[A-Za-z_][\w-]*)\s*=')


def _line(text: str, anchor: str, after: int = 0) -> int:
    """The line where `anchor` first appears quoted (an id, a code) or as a key, from line `after` on;
    0 when not found."""
    offset = sum(len(line) + 1 for line in text.split("\n")[:after])
    for needle in (f'"{anchor}"', f"{anchor} ="):
        idx = text.find(needle, offset) if anchor else -1
        if idx >= 0:
            return text.count("\n", 0, idx) + 1
    return 0
