"""Running a task over a batch of files chunk by chunk: in this process, in local worker processes, or on a Dask
cluster (reading/cluster.py); and the guard for the file that kills a worker.

Nothing here knows a workbook: `task(start, files, *args, tick=None)` handles a run of files numbered from `start`
and returns a dict of polars frames and lists; the results of consecutive runs join. Whatever runs the chunks,
they are the same chunks and join in the same order, so the result does not depend on where they ran.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

PARALLEL_MIN = 1500  # below this, starting worker processes costs more than it saves
CHUNK = 500  # files per chunk: hundreds per check (one pandera call each), few enough to keep a chunk small

Task = Callable[..., dict]  # task(start, files, *args, tick=None) -> {name: DataFrame or list}
Tick = Callable[[], None]


class Executor(Protocol):
    """Where chunks run. `chunk` is the number of files per chunk; `spread(n)` says whether a batch of n files
    goes to workers at all; `run` yields (start, result) as chunks finish, and (start, None) for a chunk whose
    worker died, which is then read again by the guard below, in local processes."""

    chunk: int

    def spread(self, n: int) -> bool: ...

    def run(self, task: Task, chunks: list[tuple[int, list[Path]]], args: tuple) -> Iterator[tuple[int, dict | None]]:
        ...


@dataclass(frozen=True)
class Processes:
    """Worker processes on this machine (the default; `workers` 1 runs every chunk in this process). A batch
    smaller than `least` files stays in this process: starting workers would cost more than it saves."""

    workers: int = 1
    size: int | None = None  # files per chunk; CHUNK when not given
    least: int | None = None  # the fewest files worth starting workers for; PARALLEL_MIN when not given

    @property
    def chunk(self) -> int:
        return self.size or CHUNK

    def spread(self, n: int) -> bool:
        return self.workers > 1 and n >= (self.least or PARALLEL_MIN)

    def run(self, task: Task, chunks: list[tuple[int, list[Path]]], args: tuple) -> Iterator[tuple[int, dict | None]]:
        with _pool(self.workers, args) as pool:
            futures = {pool.submit(_with_kept, task, start, chunk): start for start, chunk in chunks}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except BrokenProcessPool:  # a worker died (an abort the screen did not foresee): see the guard
                    yield futures[future], None


@dataclass(frozen=True)
class Sent:
    """A file's bytes, sent to a worker that cannot see its path: read like a Path (`read_bytes`, `name`,
    `suffix`). A file this process could not read is sent with the reason, and the worker reports it unreadable."""

    path: Path
    data: bytes = b""
    error: str = ""

    @classmethod
    def of(cls, path: Path) -> Sent:
        try:
            return cls(path, path.read_bytes())
        except OSError as exc:
            return cls(path, error=str(exc))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def suffix(self) -> str:
        return self.path.suffix

    def read_bytes(self) -> bytes:
        if self.error:
            raise OSError(self.error)
        return self.data


def run_in_chunks(task: Task, files: list[Path], args: tuple, tick: Tick | None = None, *,
                  workers: int | Executor = 1, died: Callable[[int, Path], dict]) -> dict:
    """`task` over all files, chunk by chunk, in this process unless asked otherwise.

    `workers` is a number of local processes or an Executor. With more than one local process a big batch
    (PARALLEL_MIN files or more) is spread over them (the caller's script then needs the usual
    `if __name__ == "__main__":` guard). A chunk whose worker died is read again in processes of its own; the one
    file that kills its process gets `died(file_id, path)`."""
    executor = Processes(workers) if isinstance(workers, int) else workers
    chunks = [(start, files[start:start + executor.chunk]) for start in range(0, len(files), executor.chunk)]
    if not executor.spread(len(files)):
        return _joined([task(start, chunk, *args, tick=tick) for start, chunk in chunks] or [task(0, [], *args)])
    results: dict[int, dict] = {}
    sizes = dict((start, len(chunk)) for start, chunk in chunks)
    for start, result in executor.run(task, chunks, args):
        if result is not None:
            results[start] = result
            for _ in range(sizes[start] if tick else 0):
                tick()
    for start, chunk in chunks:  # every chunk a dead worker left unread is read again, guarded
        if start not in results:
            results[start] = _read_guarded(task, start, chunk, args, died)
            for _ in range(len(chunk) if tick else 0):
                tick()
    return _joined([results[start] for start, _ in chunks])


def _pool(n_workers: int, args: tuple = ()) -> ProcessPoolExecutor:
    """Worker processes, each given the tasks' shared arguments once (_with_kept), not with every chunk: a spec
    sent with each chunk arrived as a new object, and made its derived values again (60 ms a chunk)."""
    # spawn, not fork: a forked child of a process whose polars thread pool is running can deadlock
    return ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn"), initializer=_keep,
                               initargs=(args,))


_KEPT: tuple = ()  # in a worker process: the arguments its pool was made with


def _keep(args: tuple) -> None:
    global _KEPT
    _KEPT = args


def _with_kept(task: Task, start: int, files: list[Path]) -> dict:
    return task(start, files, *_KEPT)


def _read_guarded(task: Task, start: int, files: list[Path], args: tuple, died: Callable[[int, Path], dict]) -> dict:
    """Read files in a process of their own; if it dies, halve them until the one that kills it is found, and
    give `died` for that file. A file costs a dozen process starts this way, and only when one has died."""
    try:
        with _pool(1, args) as pool:
            return pool.submit(_with_kept, task, start, files).result()
    except BrokenProcessPool:
        if len(files) == 1:
            return died(start, files[0])
    half = len(files) // 2
    return _joined([_read_guarded(task, start, files[:half], args, died),
                    _read_guarded(task, start + half, files[half:], args, died)])


def _joined(parts: list[dict]) -> dict:
    """Results of consecutive runs of files as one: frames stacked, lists joined."""
    if len(parts) == 1:
        return parts[0]
    return {key: pl.concat([p[key] for p in parts], how="vertical_relaxed", rechunk=False)
            if isinstance(value, pl.DataFrame) else
            [x for p in parts for x in p[key]] for key, value in parts[0].items()}
