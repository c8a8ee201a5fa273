"""`tongji serve --workers N`: the portal in N server processes (uvicorn's workers) on one PostgreSQL and one data
folder. Everything two processes could both change is settled in the database — the unit's row lock for versions,
reviews and rollups, one UPDATE for each try at a password — so no process keeps state another needs.

uvicorn starts each worker by importing an app factory, so the options go to the workers in the environment."""

from __future__ import annotations

import json
import os

from tongji.errors import TongjiError

OPTIONS = "TONGJI_SERVE_OPTIONS"


def check_workers(workers: int, url: str) -> None:
    """Several processes need PostgreSQL: SQLite lets one writer at a time wait on a file lock, so N processes would
    queue behind each other (or give up with "database is locked") at the busy hour they are meant for."""
    if workers < 1:
        raise TongjiError("serve-workers-bad", n=workers)
    if workers > 1 and url.startswith("sqlite"):
        raise TongjiError("serve-workers-sqlite", n=workers)


def serve(options: dict, workers: int, host: str, port: int) -> None:
    """Run uvicorn with `workers` processes, each making the app from `options` (create_app's arguments)."""
    import uvicorn

    os.environ[OPTIONS] = json.dumps(options, ensure_ascii=False)
    uvicorn.run("tongji.portal.processes:app_from_environment", factory=True, workers=workers, host=host,
                port=port, log_level="warning")


def app_from_environment():
    """The app in a worker process. Uploads are checked in the worker itself: the workers already share the cores.
    A worker uvicorn restarts after a crash keeps the period and deadline the administrator may have changed."""
    from tongji.portal import create_app

    options = json.loads(os.environ[OPTIONS])
    return create_app(options.pop("registry"), options.pop("period"), check_process=False, settled=True, **options)
