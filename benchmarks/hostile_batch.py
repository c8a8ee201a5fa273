"""A thousand good workbooks mixed with fifty damaged, hostile or foreign ones: every good verdict unchanged,
every bad file reported, no traceback, bounded memory and time.

    python benchmarks/hostile_batch.py --n 1000 [--foreign DIR]

The good ones are the sample generator's city (benchmarks/common.py). The bad ones are made by tests/hostile.py:
far cells that made calamine abort, zip bombs, a panicking .xls, XML errors, a million pasted rows, files that
are not workbooks; `--foreign DIR` adds every workbook under DIR (other programs' files, other forms). Each
batch is validated in its own process; the mixed one is also timed and its peak memory printed beside the good one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import common

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".ods")
KINDS = ("far-cell", "bomb", "lying-bomb", "panic-xls", "far-xls", "entity", "million-rows", "not-a-workbook",
         "empty", "truncated")


def make_hostile(folder: Path, count: int) -> list[Path]:
    """`count` bad files, the kinds in turn, each of its own unit."""
    import xlwt

    from hostile import MEMBER_PART, before_end, bomb, far_cell, make_xls, patch_record, rezip, unit

    folder.mkdir(parents=True)
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        path = folder / f"{i:03d}_{kind}.xlsx"
        if kind == "far-cell":
            rezip(unit(path, 9000 + i), MEMBER_PART, far_cell("XFD1048576", 1048576))
        elif kind in ("bomb", "lying-bomb"):
            bomb(path, 1, declared=20_000 if kind == "lying-bomb" else None)
        elif kind == "panic-xls":
            path = make_xls(path.with_suffix(".xls"), lambda s: s["会员"].write(40, 3, xlwt.Formula("1+2")))
            patch_record(path, 0x0006, 40, 3, lambda d, at: struct.pack_into("<H", d, at + 4 + 20, 200))
        elif kind == "far-xls":
            path = make_xls(path.with_suffix(".xls"), lambda s: s["会员"].write(65535, 255, 1))
        elif kind == "entity":
            rezip(unit(path, 9000 + i), MEMBER_PART, lambda xml: xml.replace(b"<t>", b"<t>&bogus;", 1))
        elif kind == "million-rows":
            rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(100, 1_000_100))
            rezip(unit(path, 9000 + i), MEMBER_PART, before_end(rows))
        elif kind == "not-a-workbook":
            path.write_text("这不是工作簿", encoding="utf-8")
        elif kind == "empty":
            path.write_bytes(b"")
        else:
            data = unit(path, 9000 + i).read_bytes()
            path.write_bytes(data[: len(data) // 2])
        out.append(path)
    return out


def verdicts(books: str, registry: str, out: str) -> dict:
    """Validate `books` against `registry`; write file name → (status, rules) to `out`."""
    import tongji
    from tongji.cli.common import workers

    report = tongji.validate(books, registry=registry, period=common.PERIOD, workers=workers())
    result = {}
    for row in report.workbooks.iter_rows(named=True):
        rules = sorted(report.for_file(Path(row["file"]).name).issues["rule"].to_list())
        result[Path(row["file"]).name] = [row["status"], rules]
    Path(out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return {"files": len(result)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="grassroots units of the good city")
    ap.add_argument("--bad", type=int, default=50, help="hostile files made")
    ap.add_argument("--foreign", type=Path, help="a folder of other programs' workbooks, added as they are")
    args = ap.parse_args()
    folder, _ = common.city(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        mixed = Path(tmp) / "mixed"
        shutil.copytree(common.books(folder), mixed)
        bad = make_hostile(mixed / "坏文件", args.bad)
        if args.foreign:
            shutil.copytree(args.foreign, mixed / "外来文件")
            bad += sorted(p for p in (mixed / "外来文件").rglob("*") if p.suffix.lower() in WORKBOOKS)
        good_out, mixed_out = Path(tmp) / "good.json", Path(tmp) / "mixed.json"
        registry = str(common.registry(folder))
        good = common.phase("hostile_batch", "verdicts", str(common.books(folder)), registry, str(good_out))
        both = common.phase("hostile_batch", "verdicts", str(mixed), registry, str(mixed_out))
        alone, together = (json.loads(p.read_text(encoding="utf-8")) for p in (good_out, mixed_out))
    changed = [name for name, verdict in alone.items() if together.get(name) != verdict]
    unreported = [p.name for p in bad if together.get(p.name, ["", []])[0] != "退回"]
    print(f"{'':34}{'files':>7}{'seconds':>9}{'peak MiB':>10}{'tree MiB':>10}")
    for label, run in (("good workbooks alone", good), ("good mixed with bad ones", both)):
        print(f"{label:34}{run['files']:>7}{run['seconds']:>9.1f}{run['peak_mib']:>10.0f}{run['tree_mib']:>10.0f}")
    print(f"good verdicts changed by the bad files: {len(changed)} {changed[:5]}")
    print(f"bad files not returned: {len(unreported)} of {len(bad)} {unreported[:5]}")
    if changed or unreported:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
