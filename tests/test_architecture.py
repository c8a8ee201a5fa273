"""docs/architecture.md names the modules of each stage: a test fails when one of them disappears."""

from __future__ import annotations

import re

from test_repo import ROOT


def test_every_module_the_architecture_page_names_exists():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = []
    for folder, body in re.findall(r"\*\*`(src/[a-z_/]+)`\*\* — (.*?)(?=\n\n|\Z)", text, re.S):
        assert (ROOT / folder).exists(), folder
        for name in re.findall(r"`([a-z_/]+(?:\.py|/))`", body):
            path = ROOT / name if name.startswith("src/") else ROOT / folder / name
            named.append(path)
    assert len(named) > 30
    missing = [str(p.relative_to(ROOT)) for p in named if not p.exists()]
    assert not missing, missing


def test_no_private_name_is_imported_from_another_module():
    """A name with a leading underscore is its module's own business: share it under a public name instead."""
    import ast

    src = ROOT / "src"
    modules = {".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__"): p
               for p in src.rglob("*.py")}
    found = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in modules and node.module != name:
                found += [f"{name} ← {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert found == []


def test_no_import_cycles_not_even_inside_functions():
    """Every import counts, at the top of a module or inside a function; only `if TYPE_CHECKING:` (for type hints)
    and `if __name__ == "__main__":` (a script's own run) are left out."""
    import ast

    src = ROOT / "src"
    modules = {".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__"): p
               for p in src.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in list(ast.walk(tree)):
            test = ast.dump(node.test) if isinstance(node, ast.If) else ""
            if "TYPE_CHECKING" in test or "__main__" in test:
                node.body = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    target = f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    if target in modules and target != name:
                        graph[name].add(target)
            elif isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in modules and a.name != name}

    def path_back(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return trail + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
        return None

    cycles = [c for c in map(path_back, sorted(graph)) if c]
    assert cycles == [], " → ".join(cycles[0])


MAX_LINES = 420  # "about 400": a module past it holds two things; split it along its seam


def test_no_module_is_longer_than_a_reader_can_hold():
    src = ROOT / "src" / "tongji"
    lengths = {str(p.relative_to(src)): len(p.read_text(encoding="utf-8").splitlines()) for p in src.rglob("*.py")}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_no_two_modules_share_a_name():
    """`validate.py` in two stages reads as one thing in two places: each module's name says which it is."""
    names: dict[str, list[str]] = {}
    package = ROOT / "src" / "tongji"
    for path in sorted(package.rglob("*.py")):
        if path.name != "__init__.py":
            names.setdefault(path.stem, []).append(str(path.relative_to(package)))
    assert not {n: where for n, where in names.items() if len(where) > 1}
