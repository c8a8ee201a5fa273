"""Rebuild the bundled sample city: `python samples/make_samples.py` (or give another folder to write to).

It is the sample generator's 示例市 (`tongji_samples.make_city`) with fixed arguments, so every machine makes
the same files byte for byte: 120 grassroots unions under 3 区 and 8 街道, one in ten with a seeded mistake (the
answers are in 埋设问题.csv), and last year's summary workbooks in 2024/汇总/ for 同比 and the cross-period
checks (last year's grassroots workbooks are not kept). tests/test_samples.py checks that the files here are
exactly what this script makes: after a change to the forms or the generator, run it again.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tongji_samples import make_city

HERE = Path(__file__).resolve().parent
ARGS = {"units": 120, "seed": 2025, "period": "2025", "mistakes": 0.1, "districts": 3, "streets": 8,
        "previous": True}


def main(out: Path = HERE, workers: int = 1):
    return make_city(out, **ARGS, force=True, workers=workers)


if __name__ == "__main__":
    from tongji.cli.common import workers

    city = main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE, workers())
    print(f"{city.registry.parent}: {len(city.values)} units, {len(city.seeded)} + {len(city.seeded_rollup)} "
          f"seeded files, {len(city.missing)} missing")
