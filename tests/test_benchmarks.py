"""benchmarks/run.py still runs end to end: a small city made by the sample generator, measured phase by phase."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = 60


def test_run_prints_a_row_for_the_city(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--units", str(UNITS), "--cache", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split()[:3] == ["units", "run", "procs"]
    found = {}
    for line in rows:
        m = re.match(rf"\s*{UNITS}\s+(1 process|2 processes|dask 2 workers)\s+(\d+)((?:\s+[\d.]+){{8}})$", line)
        if m:
            found[m.group(1)] = (int(m.group(2)), [float(x) for x in m.group(3).split()])
    # a city this small is read in one process on both sides (tongji starts workers from 1,500 workbooks)
    assert found["1 process"][0] == found["2 processes"][0] == 1
    assert all(x > 0 for _, numbers in found.values() for x in numbers), rows
    if importlib.util.find_spec("distributed"):  # the Dask row: a LocalCluster of two workers, two raw processes
        assert found["dask 2 workers"][0] == 2
    assert (tmp_path / f"city-{UNITS}" / ".complete").is_file()
    assert (tmp_path / f"city-{UNITS}" / "registry.csv").is_file()


def test_repeated_phases_give_their_medians(tmp_path, monkeypatch):
    """--repeat N: a row is the median of N runs of each phase (one slow run moves nothing), memory the largest."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import run

    runs = [{"seconds": s, "tree_mib": m, "tree_pss_mib": m / 2} for s, m in ((9.4, 450), (13.0, 470), (9.7, 455))]
    assert run._median(runs) == {"seconds": 9.7, "tree_mib": 470, "tree_pss_mib": 235}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--units", str(UNITS), "--cache", str(tmp_path),
           "--no-dask", "--no-single", "--repeat", "2"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "each phase run 2 times in turn" in done.stderr
    assert re.match(rf"\s*{UNITS}\s+2 processes\s+1(\s+[\d.]+){{8}}$", done.stdout.splitlines()[-1])
