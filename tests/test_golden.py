"""The bundled samples give the same outputs, byte for byte, as recorded in tests/golden/samples.sha256.

A refactoring must not change a byte of what tongji writes. When a change of output is meant (a new rule, a new
column), record the new hashes and say why in the commit:

    python tests/test_golden.py --update
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "samples.sha256"
# relative paths from a fixed folder, so that no absolute path of this machine reaches the outputs
COMMANDS = [
    ["validate", "samples/2025", "--registry", "samples/registry.csv", "--period", "2025",
     "--report", "out/问题清单.xlsx", "--annotate", "out/退回工作簿"],
    ["validate", "samples/2025", "--registry", "samples/registry.csv", "--period", "2025",
     "--report", "out/问题清单.csv"],
    ["validate", "samples/2025", "--registry", "samples/registry.csv", "--period", "2025",
     "--report", "out/问题清单.json"],
    ["rollup", "samples/2025", "-r", "samples/registry.csv", "-p", "2025", "-o", "out/汇总", "--all",
     "--previous", "samples/2024/汇总/330100_2024_汇总.xlsx", "--format", "xlsx,csv,json,parquet"],
]


def hashes(work: Path) -> dict[str, str]:
    """Run the commands on a copy of the samples in `work`; the SHA-256 of every file they wrote."""
    from tongji import cli

    cli._register()
    shutil.copytree(ROOT / "samples", work / "samples")
    before = Path.cwd()
    os.chdir(work)
    try:
        for args in COMMANDS:
            result = CliRunner().invoke(cli.app, args)
            assert result.exit_code in (0, 1), (args, result.output)
    finally:
        os.chdir(before)
    out = work / "out"
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def read_golden() -> dict[str, str]:
    lines = GOLDEN.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}


def test_outputs_on_the_bundled_samples_are_unchanged(tmp_path):
    found, golden = hashes(tmp_path), read_golden()
    assert sorted(found) == sorted(golden), "files written differ from tests/golden/samples.sha256"
    changed = [name for name in golden if found[name] != golden[name]]
    assert not changed, f"outputs changed (if meant: python tests/test_golden.py --update): {changed[:10]}"


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        found = hashes(Path(tmp))
    GOLDEN.write_text("".join(f"{digest}  {name}\n" for name, digest in found.items()), encoding="utf-8")
    print(f"recorded {len(found)} files in {GOLDEN}")
