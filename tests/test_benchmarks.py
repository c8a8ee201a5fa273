"""benchmarks/run.py still runs end to end: a small city made by the sample generator, measured phase by phase."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = 60


def test_run_prints_a_row_for_the_city(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--units", str(UNITS), "--cache", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split()[:2] == ["units", "raw"]
    (row,) = [r.split() for r in rows if r.split()[:1] == [str(UNITS)]]
    numbers = [float(x) for x in row[1:]]
    assert len(numbers) == 7 and all(x > 0 for x in numbers), row
    assert (tmp_path / f"city-{UNITS}" / ".complete").is_file()
    assert (tmp_path / f"city-{UNITS}" / "registry.csv").is_file()
