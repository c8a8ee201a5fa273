"""The unit registry (名册): the tree of units and who is expected to report."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from tongji.definitions.codes import uscc_valid
from tongji.errors import TongjiError
from tongji.i18n import Items

COLUMNS = ["单位代码", "单位名称", "上级代码", "层级", "组织类型", "所在地区划代码", "状态"]
REQUIRED = ["单位代码", "单位名称", "上级代码", "层级"]
CONTACTS = ["联系人", "联系电话"]  # optional: kept when the registry has them (the portal's 催报名单 lists them)
DEFAULT_LEVELS = ("市", "区", "街道", "基层")
STATES = ("正常", "撤销")  # 状态; blank reads 正常
ORG_TYPES = {"1": "单独基层工会", "2": "联合基层工会", "3": "基层工会联合会", "9": "本级"}  # 组织类型 (FM05), or blank


def _few(items: list, n: int = 5) -> Items:
    """The first `n` of `items` for a message, then how many in all: joined in the language it is read in."""
    return Items(items, few=n)


def _with(code: str, note: str) -> tuple[str, str]:
    """`code` and a note on it, as one item of a list (Items) in Chinese and in English."""
    return f"{code}（{note}）", f"{code} ({note})"


@dataclass
class Registry:
    frame: pl.DataFrame  # one row per unit, all columns as text
    levels: tuple[str, ...] = DEFAULT_LEVELS
    path: Path | None = None

    def __post_init__(self) -> None:
        # one Python list per column, not a dict per unit (100,000 dicts took some 70 MB); a unit's repeated
        # values (上级代码, 层级, 组织类型, 所在地区划代码, 状态) are one string shared by all its siblings
        own = ("单位代码", "单位名称", *CONTACTS)
        self._columns = tuple(self.frame.columns)
        self._values: dict[str, list] = {}
        for column in self._columns:
            values, shared = self.frame[column].to_list(), {}
            self._values[column] = values if column in own else [shared.setdefault(v, v) for v in values]
        codes, level, state = (self._values[c] for c in ("单位代码", "层级", "状态"))
        self._row = {code: i for i, code in enumerate(codes)}  # a code listed twice: its last row, as before
        self._children: dict[str, list[str]] = {}
        self._leaves = {c for c, i in self._row.items() if level[i] == self.levels[-1]}
        self._sizes: dict[str, int] = dict.fromkeys(self._leaves, 1)  # a grassroots unit is a subtree of one
        parents = self._values["上级代码"]
        for code in sorted(self._row):
            i = self._row[code]
            if parents[i] and state[i] != "撤销":
                self._children.setdefault(parents[i], []).append(code)

    def _field(self, column: str, code: str):
        return self._values[column][self._row[code]]

    def children(self, code: str) -> list[str]:
        """Active units directly below `code`, in code order."""
        return self._children.get(code, [])

    def parents(self) -> dict[str, str]:
        """Every unit's 上级代码, by 单位代码 (from the lists kept: a third of the time rows of the frame take)."""
        return dict(zip(self._values["单位代码"], self._values["上级代码"], strict=True))

    def grassroots(self) -> pl.Series:
        """The codes of the units of the last level (基层), active or not."""
        return self.frame.filter(pl.col("层级") == self.levels[-1])["单位代码"]

    def parent(self, code: str) -> str:
        """The unit's 上级代码 ("" for the top)."""
        return self._field("上级代码", code)

    def is_leaf(self, code: str) -> bool:
        return code in self._leaves

    def subtree(self, code: str) -> list[str]:
        """`code` and every active unit beneath it, parents before children."""
        out, stack = [], [code]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(self.children(node)))
        return out

    def size(self, code: str) -> int:
        """How many active units `code`'s subtree holds, itself included (counted once, then remembered)."""
        if code not in self._sizes:
            self._sizes[code] = 1 + sum(self.size(c) for c in self.children(code))
        return self._sizes[code]

    def names(self, codes: list[str]) -> list[str]:
        """Each unit's 单位名称, for many units at once (a 街道 may have thousands)."""
        row, names = self._row, self._values["单位名称"]
        return [names[row[c]] for c in codes]

    def sizes(self, codes: list[str]) -> list[int]:
        """`size` of each unit: one for a grassroots unit, looked up without a call."""
        known = self._sizes
        return [known[c] if c in known else self.size(c) for c in codes]

    def nodes_bottom_up(self) -> list[str]:
        """Every active unit above the last level, deepest first: the order `rollup --all` works in."""
        nodes = [c for c in self._row if self._field("状态", c) != "撤销" and not self.is_leaf(c)]
        return sorted(nodes, key=lambda c: (-self.levels.index(self._field("层级", c)), c))

    def roots(self) -> list[str]:
        return sorted(c for c in self._row if not self._field("上级代码", c) and self._field("状态", c) != "撤销")

    def get(self, code: str) -> dict | None:
        """The unit's row as a dict of its columns (a new dict each time), or None."""
        i = self._row.get(code)
        return None if i is None else {c: self._values[c][i] for c in self._columns}

    def __contains__(self, code: str) -> bool:
        return code in self._row

    def expected(self) -> pl.DataFrame:
        """Units that must send a workbook: every active unit below the top level."""
        f = self.frame.filter(pl.col("状态") != "撤销")
        return f.filter(pl.col("层级") != self.levels[0])


def parse_levels(text: str | None) -> tuple[str, ...]:
    """Level names top to bottom: `--levels 县,乡镇,基层`, else TONGJI_LEVELS, else 市,区,街道,基层."""
    text = text or os.environ.get("TONGJI_LEVELS", "")
    names = tuple(n.strip() for n in re.split(r"[,，、/\s]+", text) if n.strip())
    if not names:
        return DEFAULT_LEVELS
    if len(names) < 2 or len(set(names)) != len(names):
        raise TongjiError("levels-invalid", levels=text)
    return names


def load_registry(path: str | Path, levels: tuple[str, ...] | str | None = None) -> Registry:
    """Load and check a registry (xlsx or csv). Any problem is a TongjiError naming the units involved."""
    levels = levels if isinstance(levels, tuple) else parse_levels(levels)
    path = Path(path)
    if path.is_dir():  # it exists: "not found" would send the user looking for it
        raise TongjiError("registry-folder", path=path)
    if not path.is_file():
        raise TongjiError("registry-missing", path=path)
    frame = _read(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _refuse_formulas(path)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise TongjiError("registry-columns", columns=Items(missing))
    for col in COLUMNS:
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit("").alias(col))
    frame = frame.select(COLUMNS + [c for c in CONTACTS if c in frame.columns]).with_columns(
        pl.all().fill_null("").str.strip_chars())
    _check_types(frame, path)  # before the rows without a code go: a row's number is still the file's
    frame = frame.filter(pl.col("单位代码") != "").with_columns(pl.col("状态").replace("", "正常"))
    if not frame.height:
        raise TongjiError("registry-empty", path=path)
    _check(frame, levels)
    return Registry(frame, levels, path)


def _read(path: Path) -> pl.DataFrame:
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            try:
                sheet = fastexcel.read_excel(path).load_sheet(0, dtypes="string")
            except Exception:  # noqa: BLE001 - the library's reason is English and names no cause a user knows
                raise TongjiError("registry-not-excel", path=path) from None
            return sheet.to_polars()
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise UnicodeError  # neither UTF-8 nor GBK
        if not text.strip():  # polars would say `empty CSV`, in English whatever --lang says
            raise TongjiError("registry-blank", path=path)
        _check_csv(text, path)
        return pl.read_csv(text.encode(), infer_schema=False)
    except TongjiError:
        raise
    except UnicodeError:
        raise TongjiError("registry-encoding", path=path) from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is one setup message
        raise TongjiError("registry-unreadable", path=path, detail=str(exc).splitlines()[0][:200]) from None


def _check_csv(text: str, path: Path) -> None:
    """The line of a CSV row polars would refuse, saying only that one is wrong, in English: more fields than the
    header (a name with a comma, not quoted), or a double quote without its pair (then the row runs to the end)."""
    rows = csv.reader(io.StringIO(text), strict=True)
    try:
        width = len(next(rows))
        while True:
            line = rows.line_num + 1  # where the next row starts
            row = next(rows)
            if len(row) > width:
                raise TongjiError("registry-csv-fields", path=path, line=line)
    except StopIteration:
        return
    except csv.Error:
        raise TongjiError("registry-csv-quotes", path=path, line=line) from None


_FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>/]*>(?:(?!</c>).)*?<f[ >/]', re.S)


def _refuse_formulas(path: Path) -> None:
    """A formula in the registry is a value nobody can vouch for: uncalculated, it reads as blank, and a blank
    上级代码 silently makes a unit a root. The registry must hold typed values (粘贴为数值)."""
    try:
        with zipfile.ZipFile(path) as z:
            for name in sorted(n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")):
                xml = z.read(name)
                found = b"<f" in xml and _FORMULA_CELL.search(xml.decode("utf-8", "replace"))
                if found:
                    raise TongjiError("registry-formula", path=path, cell=found.group(1))
    except (zipfile.BadZipFile, OSError):
        return  # _read has already said what is wrong with an unreadable file


def _check_types(frame: pl.DataFrame, path: Path) -> None:
    """Any other 组织类型 (a 5, a 0) was read as 1 单独基层工会: prefilled so on its template and grouped so. It is
    taken as the template takes it: a code, its name, or a code then its name ("2 联合基层工会")."""
    value = pl.col("组织类型")
    known = (value == "") | value.is_in(list(ORG_TYPES.values())) | value.str.split(" ").list.first().is_in(
        list(ORG_TYPES))
    bad = frame.with_row_index("row", offset=2).filter(~known & (pl.col("单位代码") != ""))  # the header is row 1
    if bad.height:
        found = bad.select("row", "单位代码", "组织类型").iter_rows()
        rows = [(f"第 {r} 行 {c}：“{v}”", f"row {r} {c}: '{v}'") for r, c, v in found]
        raise TongjiError("registry-bad-type", path=path, items=_few(rows))


def _check(frame: pl.DataFrame, levels: tuple[str, ...]) -> None:
    counts = Counter(frame["单位代码"].to_list())
    dup = sorted(c for c, n in counts.items() if n > 1)
    if dup:
        raise TongjiError("registry-duplicate", codes=_few(dup))
    # an 18-character code is a 统一社会信用代码, checked as one on every cover (bad-uscc): a wrong one here would
    # return each workbook carrying it, and its unit could never put it right
    bad_uscc = sorted(c for c in counts if len(c) == 18 and not uscc_valid(c))
    if bad_uscc:
        raise TongjiError("registry-bad-uscc", codes=_few(bad_uscc))
    bad_level = sorted(set(frame["层级"].to_list()) - set(levels))
    if bad_level:
        raise TongjiError("registry-bad-level", items=_few(bad_level), levels=Items(levels))
    # any other 状态 (撤消, 注销, 停用) would read as 正常: a unit closed down expected and counted missing
    bad_state = [_with(c, s) for c, s in frame.select("单位代码", "状态").iter_rows() if s not in STATES]
    if bad_state:
        raise TongjiError("registry-bad-state", items=_few(bad_state))
    # two dicts of the units' parents and levels, not a dict per unit: 100,000 of those took 80 MB at their peak
    parent = dict(zip(frame["单位代码"].to_list(), frame["上级代码"].to_list(), strict=True))
    level = dict(zip(frame["单位代码"].to_list(), frame["层级"].to_list(), strict=True))
    top = min(levels.index(v) for v in level.values())
    orphans = [_with(c, level[c]) for c, p in parent.items() if not p and levels.index(level[c]) > top]
    if orphans:
        raise TongjiError("registry-no-parent", items=_few(orphans))
    unknown = [f"{c}→{p}" for c, p in parent.items() if p and p not in parent]
    if unknown:
        raise TongjiError("registry-unknown-parent", items=_few(unknown))
    for code in parent:
        seen, node = [code], parent[code]
        while node:
            if node in seen:
                raise TongjiError("registry-cycle", items="→".join(seen[seen.index(node):] + [node]))
            seen.append(node)
            node = parent[node]
    leaf = levels[-1]
    parents = set(parent.values())
    with_children = [c for c, v in level.items() if v == leaf and c in parents]
    if with_children:
        raise TongjiError("registry-leaf-children", items=_few(with_children))
    skipped = [
        tuple(f"{a}→{b}" for a, b in zip(_with(c, level[c]), _with(p, level[p]), strict=True))
        for c, p in parent.items()
        if p and levels.index(level[c]) != levels.index(level[p]) + 1
    ]
    if skipped:
        raise TongjiError("registry-level-skip", items=_few(skipped))
    # a revoked unit has no children in the tree: an active unit under it would be expected by nobody, its
    # workbook said to belong elsewhere and its figures left out of every total
    state = dict(zip(frame["单位代码"].to_list(), frame["状态"].to_list(), strict=True))
    stranded = [f"{c}→{p}" for c, p in parent.items() if p and state[p] == "撤销" and state[c] != "撤销"]
    if stranded:
        raise TongjiError("registry-revoked-parent", items=_few(stranded))
