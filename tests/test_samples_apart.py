"""The sample generator is a package of its own (tongji_samples, the `samples` extra with numpy): tongji runs
without numpy, the demo on the bundled samples too, and the commands that need the generator say how to get it."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib

from test_repo import ROOT

# numpy as if it were not installed (pandas too, which cannot be installed without it), then the command line
WITHOUT_NUMPY = """
import importlib.abc, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("numpy", "pandas"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Absent())
sys.argv = ["tongji", *sys.argv[1:]]
from tongji.cli import main
main()
"""
EXTRA = 'pip install "tongji[samples]"'


def without_numpy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_NUMPY, *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


def test_the_demo_on_the_bundled_samples_needs_no_numpy(tmp_path):
    run = without_numpy("demo", str(tmp_path / "out"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "市汇总 示例市总工会" in run.stdout
    assert (tmp_path / "out" / "汇总" / "330100_2025_汇总.xlsx").is_file()


def test_making_a_city_without_numpy_says_how_to_get_it(tmp_path):
    for args in (("samples", "make", str(tmp_path / "city")), ("demo", str(tmp_path / "demo"), "--units", "5")):
        run = without_numpy(*args)
        assert run.returncode == 2, run.stdout + run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误：") and EXTRA in lines[0], run.stderr
    assert not (tmp_path / "city").exists() and not (tmp_path / "demo").exists()


def test_numpy_is_the_samples_extra_and_the_wheel_carries_the_generator():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = project["project"]["dependencies"]
    extras = project["project"]["optional-dependencies"]
    assert not any(d.startswith("numpy") for d in deps)
    assert any(d.startswith("numpy") for d in extras["samples"]) and "tongji[samples]" in extras["test"]
    assert "src/tongji_samples" in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]


def test_the_generator_is_split_by_job():
    """No module over about 400 lines, and no private name imported from another module."""
    for path in sorted((ROOT / "src" / "tongji_samples").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tongji"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
