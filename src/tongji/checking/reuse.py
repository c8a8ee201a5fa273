"""Each workbook's own checks kept for a run that validates the same workbooks in several batches (`tongji demo`:
the whole city, then each 街道 from its units' workbooks, each 区 and the 市 with their 本级 workbooks). What a
chunk of workbooks gives (checking/workbook_checks.py: its row of the wide table, its issues, notes and cells) does
not depend on the other workbooks of the chunk, so a workbook met again, with the same bytes, is neither read nor
checked again: its part of the earlier result is taken, numbered as the new batch numbers it. The checks that need
the whole batch (duplicates, the registry, peers, summaries) still run on every batch, over its own workbooks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tongji.reading.workers import Executor, Processes, Task

Part = tuple[dict, int, int]  # (a chunk's result, the number of its first file, the file's number in it)


class Remembered:
    """An Executor (reading/workers.py) for a task shaped like `check_chunk`: the files it has not seen (by path and
    SHA-256) are checked by `workers` (a number of local processes or another Executor), the others are taken from
    what it kept. Results are kept per task arguments (the spec and period), for as long as this object lives."""

    def __init__(self, workers: int | Executor = 1):
        self.inner = Processes(workers) if isinstance(workers, int) else workers
        self.kept: dict[tuple, dict[tuple[str, str], Part]] = {}  # args (text, or identity) → (path, sha256) → part
        self.args: list[tuple] = []  # keeps the arguments alive, so their identities stay theirs

    @property
    def chunk(self) -> int:
        return self.inner.chunk

    def spread(self, n: int) -> bool:
        return True  # every batch comes here, to be looked up

    def run(self, task: Task, chunks: list[tuple[int, list[Path]]], args: tuple) -> Iterator[tuple[int, dict | None]]:
        if not any(a is args for a in self.args):
            self.args.append(args)
        kept = self.kept.setdefault(tuple(a if isinstance(a, str | None) else id(a) for a in args), {})
        keys = {f: _key(f) for _, files in chunks for f in files}
        new = [f for f, key in keys.items() if key is None or key not in kept]
        found: dict[Path, Part] = {f: kept[key] for f, key in keys.items() if key is not None and key in kept}
        fresh = [(start, new[start:start + self.chunk]) for start in range(0, len(new), self.chunk)]
        ran = self.inner.run(task, fresh, args) if self.inner.spread(len(new)) else (
            (start, task(start, files, *args)) for start, files in fresh)
        sizes = dict(fresh)
        for start, result in ran:
            if result is None:  # its worker died: those files are read again, guarded, by run_in_chunks
                continue
            for i, f in enumerate(sizes[start]):
                found[f] = (result, start, start + i)
                if keys[f] is not None:
                    kept[keys[f]] = found[f]
        for start, files in chunks:
            yield start, (joined(start, [found[f] for f in files]) if all(f in found for f in files) else None)


def _key(path: Path) -> tuple[str, str] | None:
    try:
        return str(path), hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:  # not readable now: checked afresh, and never kept
        return None


def joined(start: int, parts: list[Part]) -> dict:
    """One chunk's result from the kept parts of its files, numbered from `start` in the order given."""
    runs: list[list[Part]] = []
    for part in parts:
        if runs and runs[-1][0][0] is part[0]:
            runs[-1].append(part)
        else:
            runs.append([part])
    pieces, first = [], start
    for run in runs:
        pieces.append(_piece(run, first))
        first += len(run)
    if len(pieces) == 1:
        return pieces[0]
    return {key: pl.concat([p[key] for p in pieces], how="vertical_relaxed") if isinstance(value, pl.DataFrame)
            else [x for p in pieces for x in p[key]] for key, value in pieces[0].items()}


def _piece(run: list[Part], first: int) -> dict:
    """The parts of files from one result, renumbered from `first`: rows of their files (by file_id, in the order
    they were, as a chunk of its own would hold them), the layout (by `first`), the lists by position."""
    result, base = run[0][0], run[0][1]
    old = [i for _, _, i in run]
    new = list(range(first, first + len(run)))
    if old == new and len(run) == _files(result):
        return result
    out = {}
    for key, value in result.items():
        if not isinstance(value, pl.DataFrame):
            out[key] = [value[i - base] for i in old]
        elif "file_id" in value.columns:
            mine = value.filter(pl.col("file_id").is_in(old))
            out[key] = mine.with_columns(pl.col("file_id").replace_strict(old, new, return_dtype=pl.Int32)).sort(
                "file_id", maintain_order=True)
        elif "first" in value.columns:  # a chunk's common layout: the same for any of its files
            out[key] = value.with_columns(pl.lit(first, pl.Int32).alias("first"))
        else:
            out[key] = value
    return out


def _files(result: dict) -> int:
    return len(result["readable"])
