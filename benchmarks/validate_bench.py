"""Benchmark: raw fastexcel parsing vs `tongji validate` on N generated workbooks.

    python benchmarks/validate_bench.py --n 10000

Prints both times, their ratio and each run's peak memory (each phase runs in its own process,
so peak RSS is that phase's alone). Workbooks are cached in benchmarks/.cache/N/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def generate(n: int, folder: Path) -> Path:
    """N workbooks in the template layout: GOOD scaled by a per-unit factor, so every rule holds."""
    import openpyxl
    from workbooks import GOOD, HEADER_ROW, cover, uscc

    from tongji.spec import load_spec

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
            ws.append(["项目", "代码", "内容", "说明"] if form.is_cover else ["指标名称", "代码", "计量单位", "本期数", "说明"])
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


def phase(name: str, folder: Path) -> dict:
    """Run one phase in a fresh process; return its wall time and peak RSS."""
    code = (
        "import resource, sys, time, json; sys.path.insert(0, %r); import validate_bench as b;"
        "t = time.perf_counter(); b.%s(%r); dt = time.perf_counter() - t;"
        "print(json.dumps({'seconds': dt, 'peak_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    ) % (str(HERE), name, str(folder))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args()
    folder = generate(args.n, HERE / ".cache" / f"validate-{args.n}")
    phase("raw_parse", folder)  # warm the page cache so both phases read from memory
    raw, ours = phase("raw_parse", folder), phase("tongji_validate", folder)
    print(f"workbooks           {args.n}")
    print(f"raw fastexcel       {raw['seconds']:8.2f} s   peak {raw['peak_mib']:7.0f} MiB")
    print(f"tongji validate     {ours['seconds']:8.2f} s   peak {ours['peak_mib']:7.0f} MiB")
    print(f"ratio               {ours['seconds'] / raw['seconds']:8.2f}")
    print(f"per workbook        {ours['seconds'] / args.n * 1000:8.2f} ms (raw {raw['seconds'] / args.n * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
