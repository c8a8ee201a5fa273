"""Benchmark: raw fastexcel parsing vs `tongji validate` on N generated workbooks.

    python benchmarks/validate_bench.py --n 10000

Prints both times, their ratio and each run's peak memory (each phase runs in its own process,
so peak RSS is that phase's alone). Workbooks are cached in benchmarks/.cache/N/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


COVER_HEADER = ["项目", "代码", "内容", "说明"]
FORM_HEADER = ["指标名称", "代码", "计量单位", "本期数", "说明"]


def generate(n: int, folder: Path) -> Path:
    """N workbooks in the template layout: GOOD scaled by a per-unit factor, so every rule holds."""
    import openpyxl

    from tongji.spec import load_spec
    from workbooks import GOOD, HEADER_ROW, cover, uscc

    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    spec = load_spec()
    for i in range(n):
        k = 1 + i % 37
        values = {c: (v * k if isinstance(v, int | float) else v) for c, v in GOOD.items()}
        cov = cover(uscc(f"81330106MC{i:07d}"), FM01=f"示例单位{i:05d}工会")
        wb = openpyxl.Workbook(write_only=True)
        for form in spec.forms:
            ws = wb.create_sheet(form.sheet)
            ws.append([form.title])
            for _ in range(HEADER_ROW - 2):
                ws.append([])
            ws.append(COVER_HEADER if form.is_cover else FORM_HEADER)
            for row in form.rows:
                if not row.filled:
                    continue
                if form.is_cover:
                    ws.append([row.name, row.code, cov.get(row.code)])
                else:
                    ws.append([row.name, row.code, row.unit, values.get(row.code)])
            ws.append([])
            ws.append(["单位负责人：        统计负责人：        填表人：        报出日期："])
        wb.save(folder / f"{i:05d}_示例单位.xlsx")
    done.touch()
    return folder


def raw_parse(folder: str) -> None:
    import fastexcel

    for f in sorted(Path(folder).glob("*.xlsx")):
        reader = fastexcel.read_excel(f)
        for name in reader.sheet_names:
            reader.load_sheet(name).to_polars()


def tongji_validate(folder: str) -> None:
    import tongji

    report = tongji.validate(folder, period="2025")
    assert report.workbooks.height > 0


def phase(name: str, folder: Path, workers: str = "") -> dict:
    """Run one phase in a fresh process; return its wall time and peak RSS (workers' peaks included)."""
    code = (
        f"import resource, sys, time, json; sys.path.insert(0, {str(HERE)!r}); import validate_bench as b;"
        f"t = time.perf_counter(); b.{name}({str(folder)!r}); dt = time.perf_counter() - t;"
        "peak = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN));"
        "print(json.dumps({'seconds': dt, 'peak_mib': peak / 1024}))"
    )
    env = dict(os.environ, TONGJI_WORKERS=workers) if workers else None
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args()
    folder = generate(args.n, HERE / ".cache" / f"validate-{args.n}")
    phase("raw_parse", folder)  # warm the page cache so both phases read from memory
    raw = phase("raw_parse", folder)
    runs = {"tongji validate (1 process)": phase("tongji_validate", folder, "1"),
            "tongji validate (default)": phase("tongji_validate", folder)}
    print(f"workbooks {args.n}, {os.cpu_count()} cores; raw = fastexcel load_sheet().to_polars() of every sheet")
    print(f"{'':30}{'seconds':>9}{'ratio':>8}{'ms/book':>9}{'peak MiB':>10}")
    for label, r in {"raw fastexcel (1 process)": raw, **runs}.items():
        print(f"{label:30}{r['seconds']:9.2f}{r['seconds'] / raw['seconds']:8.2f}"
              f"{r['seconds'] / args.n * 1000:9.2f}{r['peak_mib']:10.0f}")


if __name__ == "__main__":
    main()
