"""Every module tongji imports is a declared dependency, and every declared dependency is used.

A package that only happens to be on the developer's machine (numpy once was) must fail here, not on a user's."""

from __future__ import annotations

import subprocess
import sys

from test_repo import ROOT


def deptry(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deptry", *args], cwd=ROOT, capture_output=True, text=True)


def test_the_package_imports_only_runtime_dependencies():
    # the test extra counts as development-only here: the package itself must not need pytest or hypothesis
    run = deptry("src", "--optional-dependencies-dev-groups", "test")
    assert run.returncode == 0, run.stdout + run.stderr


def test_tongji_itself_runs_without_the_samples_extra():
    # numpy belongs to the sample generator (tongji_samples); with the extra counted as development-only, an
    # import of numpy in tongji itself is reported (DEP004)
    run = deptry("src/tongji", "--optional-dependencies-dev-groups", "test,samples")
    assert run.returncode == 0, run.stdout + run.stderr


def test_tests_and_benchmarks_import_only_declared_dependencies():
    # tests use the test extra as well; a runtime dependency unused by the tests is fine here
    run = deptry("tests", "benchmarks", "--exclude", "venv|build", "--ignore", "DEP002")
    assert run.returncode == 0, run.stdout + run.stderr
