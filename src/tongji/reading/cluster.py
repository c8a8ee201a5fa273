"""Chunks on a Dask cluster (`--dask tcp://scheduler:8786`, or TONGJI_DASK): for batches bigger than one machine.

The workers read the files from the same absolute paths as this process (a shared folder mounted alike
everywhere; a worker's working folder is its own, so a relative path is made absolute here), or,
with `send_bytes`, are sent each file's bytes by this process. Only a few chunks are in flight at a time, so this
process never holds more than those. A chunk whose worker died (a file that aborts calamine kills the worker
process; Dask retries it on others, then gives up) is read again here by the guard of reading/workers.py, in local
processes, which finds the file. docs/scale.md says how to start a cluster and what each way costs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tongji.errors import TongjiError
from tongji.reading import workers
from tongji.reading.workers import Sent, Task

ENV = "TONGJI_DASK"
IN_FLIGHT = 2  # chunks per worker thread queued at once: enough to keep every worker busy
CONNECT_SECONDS = 20
# what a scheduler listens on: a scheme of distributed's own, or none (tcp), then host:port. A malformed address
# leaves distributed a half-made Client whose __del__ then holds the exit for 40 s and prints a traceback
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$")


@dataclass(frozen=True)
class Dask:
    """An Executor (reading/workers.py) on the Dask scheduler at `address`. Every batch goes to the cluster,
    however small: whoever names a cluster wants it used."""

    address: str
    send_bytes: bool = False
    size: int | None = None  # files per chunk; reading/workers.CHUNK when not given

    def __post_init__(self) -> None:
        form = _ADDRESS.match(self.address)
        if not form or not 0 < int(form.group(1)) < 65536:
            raise TongjiError("dask-address", address=self.address)

    @property
    def chunk(self) -> int:
        return self.size or workers.CHUNK

    def spread(self, n: int) -> bool:
        return True

    def run(self, task: Task, chunks: list[tuple[int, list[Path]]], args: tuple) -> Iterator[tuple[int, dict | None]]:
        distributed = _distributed()
        try:
            client = distributed.Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise TongjiError("dask-unreachable", address=self.address, detail=str(exc).splitlines()[0]) from None
        with client:
            shared = [client.scatter(a, broadcast=True, hash=False) for a in args]  # the Spec goes once to each
            threads = sum(client.nthreads().values()) or 1
            queue, running = iter(chunks), distributed.as_completed(loop=client.loop)
            starts = {}

            def submit() -> None:
                for start, files in queue:
                    sent = [Sent.of(f) for f in files] if self.send_bytes else [f.absolute() for f in files]
                    future = client.submit(task, start, sent, *shared, pure=False)
                    starts[future.key] = start
                    running.add(future)
                    return

            for _ in range(IN_FLIGHT * threads):
                submit()
            for future in running:
                try:
                    result = future.result()
                except distributed.KilledWorker:  # the guard reads it again, here
                    result = None
                start = starts.pop(future.key)
                future.release()
                submit()
                yield start, result


def _distributed():
    try:
        import distributed
    except ImportError:
        raise TongjiError("dask-missing") from None
    return distributed


def from_env(address: str | None, send_bytes: bool = False) -> Dask | None:
    """The cluster a command was pointed at: `--dask`, else TONGJI_DASK; None for local processes."""
    address = address or os.environ.get(ENV, "").strip() or None
    return Dask(address, send_bytes) if address else None
