"""A realistic fictional city: a registry and filled workbooks for demos, tests and load trials.

`make_city(out, units=120, seed=2025)` writes `out/registry.csv` (市 → 区 → 街道 → 基层) and one workbook per
expected unit under `out/<period>/`: grassroots workbooks in a folder per 街道, every 本级 workbook in `本级/`.
Workbooks are real templates (`write_template`) filled in, as a union would fill them with Excel; they are
written by `tongji_samples.fastfill` (one template saved per shape, copied with each unit's cells spliced in), a few
milliseconds each, so that benchmarks can make cities of 100,000 units with the same generator.

Everything is drawn from `numpy.random.default_rng(seed)` in one fixed order, so a seed gives the same files
byte for byte. Money is drawn in integer 分 (cents) so that every identity of 经费 holds exactly.
A share `mistakes` of grassroots units carries one seeded mistake; `City.seeded` names the rules that must
catch each file, `City.missing` the units left without a workbook. Clean workbooks pass every rule. A few more
units stand out only beside their peers (domain.md §10: a copied workbook and its source, head counts rounded to
hundreds, aid typed in 分): drawn on a stream of their own after everything else, and in `City.seeded` too.

With `previous=True` the same tree is also filled for last period (the year before, or the same quarter or
month a year before), with values that flow into this period's: last year's 年末结余 is this year's 年初结余,
this year's 困难职工 = last year's + 新建档 − 脱困, head counts a few percent apart. Last period is clean, is
rolled up, and only its summary workbooks are kept, in `out/<last period>/汇总/`: what a statistician has from
last year, and what `rollup --previous` needs for 上期数, 同比 and the cross-period checks. Last period's values
come from a random stream of their own, so this period's workbooks are the same with or without it, but for
one seeded cross-period mistake (`City.seeded_rollup`: caught by rollup with --previous, not by validate).

This package is the `samples` extra of tongji (`pip install "tongji[samples]"`, which brings numpy); tongji itself
never imports it but for `tongji samples make` and `tongji demo --units N`. Its modules, by job: `names` (words
and kinds of union), `dice` (the random stream), `tree` (the registry), `values` (this period's values),
`last_period`, `mistakes` (seeded mistakes and the answer key), `jobs` (the workbooks to write), `fastfill`
(writing them fast) and `make` (`make_city`, which runs them in order).
"""

from tongji.definitions.codes import previous_period
from tongji.demo import SUMMARY_FOLDER
from tongji_samples.city import City
from tongji_samples.jobs import BENJI_FOLDER
from tongji_samples.make import make_city
from tongji_samples.mistakes import ANSWERS, ROLLUP, ROLLUP_PREVIOUS, VALIDATE
from tongji_samples.tree import CITY_CODE

__all__ = ["ANSWERS", "BENJI_FOLDER", "CITY_CODE", "ROLLUP", "ROLLUP_PREVIOUS", "SUMMARY_FOLDER", "VALIDATE", "City",
           "make_city", "previous_period"]
