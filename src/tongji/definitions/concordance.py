"""Template versions and their concordance (domain.md §11): how an older template's rows and codes become the
current ones, declared as data (schemas/versions/*.toml, or a plugin's `[[concordance]]`).

Each concordance leads from one version to the next; a chain of them is composed here into one step from every
known old version to the current one, which the reader (reading/workbooks.py), the checks of a workbook
(checking/versions.py) and last period's 明细 (aggregating/summary.py) read through.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from tongji.definitions.expr import CODE

if TYPE_CHECKING:
    from tongji.definitions.forms import Form, Spec

KEYS = {"concordance", "version", "next", "title", "added", "renamed", "split", "dropped", "names", "flags",
        "enums", "marks"}


@dataclass(frozen=True)
class Concordance:
    """From template `version` to `next`.

    added:   codes of `next` the old form lacked: read as 0 (a number) or blank (a cover field), never missing.
    renamed: old code → its code in `next`; the value is carried over.
    split:   old code → codes of `next` it became; the old value is read into the first, the others read 0.
    dropped: old codes with no line in `next`: read and set aside, without a word.
    names:   old wording of rows whose name changed (a workbook whose code cells are blank is read by name).
    flags:   codes that were 是/否 of the union itself and now count covered units: 是 reads 1, 否 reads 0, and a
             union covering several units is not asked how many (the old form could not say).
    enums:   enumeration → {old code → code in `next`} (the old private 单位性质 list to 登记注册类型).
    marks:   the statistical-form mark the old template printed (for writing a workbook in its layout).
    """

    version: str
    next: str
    title: str = ""
    added: tuple[str, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)
    split: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    enums: dict[str, dict[str, str]] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def code_map(self) -> dict[str, str | None]:
        """Old code → current code (None: dropped), for every old code that is not read as itself."""
        out: dict[str, str | None] = dict(self.renamed)
        out |= {old: new[0] for old, new in self.split.items()}
        return out | dict.fromkeys(self.dropped)

    def read_as_zero(self) -> tuple[str, ...]:
        """Current codes this version has no row for: the added ones and the later parts of a split."""
        return self.added + tuple(c for new in self.split.values() for c in new[1:])

    def parts(self, old: str) -> tuple[str, ...]:
        """The codes of `next` an old code's value goes to: itself, its new name, its parts, or none."""
        if old in self.split:
            return self.split[old]
        if old in self.renamed:
            return (self.renamed[old],)
        return () if old in self.dropped else (old,)

    def then(self, later: Concordance) -> Concordance:
        """This step followed by `later` (whose `version` is this one's `next`): one step to `later.next`."""
        olds = dict.fromkeys([*self.code_map(), *(c for c in later.code_map() if c not in self.added)])
        renamed, split, dropped = {}, {}, []
        for old in olds:
            parts = tuple(p for mid in self.parts(old) for p in later.parts(mid))
            if not parts:
                dropped.append(old)
            elif len(parts) > 1:
                split[old] = parts
            elif parts[0] != old:
                renamed[old] = parts[0]
        added = (*later.added, *(p for a in self.added for p in later.parts(a)))
        flags = (*(p for f in self.flags for p in later.parts(f)), *later.flags)
        enums = {name: {old: later.enums.get(name, {}).get(mid, mid) for old, mid in m.items()}
                 for name, m in self.enums.items()}
        for name, m in later.enums.items():
            enums[name] = m | enums.get(name, {})
        # a line this version printed as the next one did keeps the wording the next one has for it
        names = {c: n for c, n in later.names.items() if c not in self.added and self.parts(c) == (c,)} | self.names
        return replace(self, next=later.next, added=tuple(dict.fromkeys(added)), renamed=renamed, split=split,
                       dropped=tuple(dropped), flags=tuple(dict.fromkeys(flags)), enums=enums, names=names)


def parse(item: dict) -> Concordance:
    """A registered `[[concordance]]` item as a Concordance (its keys are checked by the builder, its codes by
    `problems`)."""
    return Concordance(
        version=str(item.get("version", "")), next=str(item.get("next", "")), title=item.get("title", ""),
        added=tuple(item.get("added", [])), renamed=dict(item.get("renamed", {})),
        split={k: tuple(v) for k, v in item.get("split", {}).items()}, dropped=tuple(item.get("dropped", [])),
        names=dict(item.get("names", {})), flags=tuple(item.get("flags", [])),
        enums={k: {str(a): str(b) for a, b in v.items()} for k, v in item.get("enums", {}).items()},
        marks=dict(item.get("marks", {})), source=item.get("_where", ""),
    )


def problems(c: Concordance, version: str, codes: set[str],
             enums: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """What is wrong with a concordance composed to the current `version` (whose codes are `codes`), in Chinese
    and English."""
    out = []
    if c.next != version:
        out.append((f"版本 {c.version} 的对照关系通向 {c.next}，接不到当前版本 {version}",
                    f"the concordance of version {c.version} leads to {c.next}, not on to the current {version}"))
    for code in (*c.added, *c.renamed.values(), *(p for parts in c.split.values() for p in parts), *c.flags):
        if code not in codes:
            out.append((f"版本 {c.version} 的对照关系中的 {code} 不是当前表式的指标代码",
                        f"{code} in the concordance of version {c.version} is no code of the current forms"))
    for code in (*c.renamed, *c.split, *c.dropped):
        if not CODE.match(code):
            out.append((f"版本 {c.version} 的旧代码“{code}”应为两个大写字母加两位数字",
                        f"the old code '{code}' of version {c.version} should be two capital letters and two digits"))
    for name, mapping in c.enums.items():
        bad = [new for new in mapping.values() if new not in enums.get(name, {})]
        if bad:
            out.append((f"版本 {c.version} 的 {name} 对照到当前代码表中没有的 {'、'.join(bad)}",
                        f"version {c.version} maps {name} to {', '.join(bad)}, not in the current code list"))
    return out


def chain(items: list[Concordance], current: str) -> dict[str, Concordance]:
    """Every known version composed into one step to `current`; a version is known once, a chain never loops."""
    by_version = {c.version: c for c in items}
    out = {}
    for c in items:
        step, seen = c, {c.version}
        while step.next != current and step.next in by_version and step.next not in seen:
            seen.add(step.next)
            step = step.then(by_version[step.next])
        out[c.version] = step
    return out


def layout_of(spec: Spec, version: str) -> Spec:
    """The spec laid out as template `version` was: its rows, codes, names and marks, for writing a workbook or a
    summary in that layout (last year's samples, tests). Rules and indicators stay the current ones. Made once per
    spec and version: what is derived from it (a summary workbook's skeleton, 0.14 s) is kept with it."""
    layouts = spec.derive(_no_layouts)
    if version not in layouts:
        layouts[version] = _layout(spec, version)
    return layouts[version]


def _no_layouts(spec: Spec) -> dict[str, Spec]:
    return {}


def _layout(spec: Spec, version: str) -> Spec:
    c = spec.versions[version]
    back = {new: old for old, new in c.renamed.items()} | {parts[0]: old for old, parts in c.split.items()}
    gone = set(c.read_as_zero())

    def old(form: Form) -> Form:
        rows = tuple(replace(r, code=back.get(r.code, r.code), name=c.names.get(back.get(r.code, r.code), r.name),
                             kind="flag" if r.code in c.flags else r.kind, unit="" if r.code in c.flags else r.unit)
                     for r in form.rows if r.code not in gone)
        return replace(form, rows=rows)

    return replace(spec, version=version, accepted_versions=[version], marks=c.marks or spec.marks,
                   forms=[old(f) for f in spec.forms], versions={})
