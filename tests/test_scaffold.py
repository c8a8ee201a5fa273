"""`tongji plugin new` makes a project that installs with pip in a clean virtual environment and passes its own test.

The scaffold's other tests (in-process in test_plugin_api.py, `pip install --no-deps --target` in test_plugins.py)
run in this environment, which has everything: they cannot see a dependency the project forgot. Here the project
goes into a fresh venv without system site packages, tongji comes in through the project's own requirement
(`tongji @ file:///…` for a tongji installed from a folder, as in CI), the rest from the package index.
35 s to a minute with a reachable index; skipped when the index cannot be reached.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def clean_env() -> dict[str, str]:
    """This process's environment without what would leak into the new venv: the active venv, Python paths,
    pytest's and tongji's own variables (conftest.py turns entry points off)."""
    drop = ("PYTHON", "PYTEST", "TONGJI_", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)} | {"COLUMNS": "200"}


def run(args: list, cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout)


def index_url(cwd: Path) -> str:
    """The index pip installs from: its configuration (files or PIP_INDEX_URL), else pypi.org."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    listed = run([sys.executable, "-m", "pip", "config", "list"], cwd, 60).stdout
    found = re.search(r"^[^.\s]*\.index-url='([^']+)'", listed, flags=re.M)  # not extra-index-url
    return found.group(1) if found else "https://pypi.org/simple"


def unreachable(url: str) -> str | None:
    """Why the index cannot be reached within a few seconds, or None when it answers."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/pytest/", timeout=5):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure to reach it is a reason to skip, named
        return f"{type(exc).__name__}: {exc}"


def test_the_scaffold_installs_in_a_clean_venv_and_its_test_passes(tmp_path):
    tongji = Path(sysconfig.get_path("scripts")) / ("tongji.exe" if os.name == "nt" else "tongji")
    made = run([tongji, "plugin", "new", "demo_region", "--out", tmp_path], tmp_path, 120)
    assert made.returncode == 0, made.stdout + made.stderr
    project = tmp_path / "tongji-demo_region"
    requirement = re.search(r'dependencies = \["(.*)"\]', (project / "pyproject.toml").read_text(encoding="utf-8"))
    assert requirement, "the scaffold's pyproject lost its dependency on tongji"

    why = unreachable(url := index_url(tmp_path))
    if why:
        pytest.skip(f"the package index {url} cannot be reached ({why}); the scaffold's clean venv installs from it")

    venv = tmp_path / "venv"
    created = run([sys.executable, "-m", "venv", venv], tmp_path, 300)  # no --system-site-packages: nothing leaks in
    assert created.returncode == 0, created.stdout + created.stderr
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--timeout", "30", "--retries", "2"]
    installed = run([*pip, "-e", project, "pytest"], tmp_path, 900)
    assert installed.returncode == 0, f"{requirement.group(1)}\n{installed.stdout}\n{installed.stderr}"
    where = run([python, "-c", "import tongji, tongji_demo_region; print(tongji.__file__)"], tmp_path, 60)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve())  # the venv's own copy of tongji

    tested = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, 600)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout, tested.stdout

    # installed, the plugin is found through its entry point
    listed = run([venv / ("Scripts/tongji.exe" if os.name == "nt" else "bin/tongji"), "plugins"], tmp_path, 120)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "demo_region" in listed.stdout, listed.stdout
