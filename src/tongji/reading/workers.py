"""Reading a big batch in worker processes, and the guard for the file that kills one.

Nothing here knows a workbook: `read(start, files, spec)` reads a run of files numbered from `start` and returns
a dict of polars frames and lists (reading/workbooks.py's chunk reader); the results of consecutive runs join.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import polars as pl

from tongji.definitions import Spec

PARALLEL_MIN = 1500  # below this, starting worker processes costs more than it saves
CHUNK = 500

Read = Callable[..., dict]  # read(start, files, spec, tick=None) -> {name: DataFrame or list}


def read_in_chunks(read: Read, files: list[Path], spec: Spec, tick: Callable[[], None] | None = None, *,
                   workers: int = 1, died: Callable[[int], dict]) -> dict:
    """`read` over all files, in this process unless asked otherwise.

    With `workers` > 1 a big batch (PARALLEL_MIN files or more) is read in chunks of CHUNK files by that many
    worker processes (the caller's script then needs the usual `if __name__ == "__main__":` guard). A chunk whose
    worker died is read again in processes of its own; the one file that kills its process gets `died(file_id)`."""
    if workers <= 1 or len(files) < PARALLEL_MIN:
        return read(0, files, spec, tick)
    chunks = [(start, files[start:start + CHUNK]) for start in range(0, len(files), CHUNK)]
    results = {}
    with _pool(workers) as pool:
        futures = {pool.submit(read, start, chunk, spec): start for start, chunk in chunks}
        for future in as_completed(futures):
            try:
                results[futures[future]] = future.result()
            except BrokenProcessPool:  # a worker died (an abort the screen did not foresee): see below
                continue
            for _ in range(len(dict(chunks)[futures[future]]) if tick else 0):
                tick()
    for start, chunk in chunks:  # every chunk the dead worker's pool left unread is read again, guarded
        if start not in results:
            results[start] = _read_guarded(read, start, chunk, spec, died)
            for _ in range(len(chunk) if tick else 0):
                tick()
    return _joined([results[start] for start, _ in chunks])


def _pool(n_workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: a forked child of a process whose polars thread pool is running can deadlock
    return ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn"))


def _read_guarded(read: Read, start: int, files: list[Path], spec: Spec, died: Callable[[int], dict]) -> dict:
    """Read files in a process of their own; if it dies, halve them until the one that kills it is found, and
    give `died` for that file. A file costs a dozen process starts this way, and only when one has died."""
    try:
        with _pool(1) as pool:
            return pool.submit(read, start, files, spec).result()
    except BrokenProcessPool:
        if len(files) == 1:
            return died(start)
    half = len(files) // 2
    return _joined([_read_guarded(read, start, files[:half], spec, died),
                    _read_guarded(read, start + half, files[half:], spec, died)])


def _joined(parts: list[dict]) -> dict:
    """Results of consecutive runs of files as one: frames stacked, lists joined."""
    return {key: pl.concat([p[key] for p in parts]) if isinstance(value, pl.DataFrame) else
            [x for p in parts for x in p[key]] for key, value in parts[0].items()}
