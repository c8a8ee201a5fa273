"""A real `tongji serve` process (or several, with --workers) on a test's world, and clients signed in to it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from portal_kit import PASSWORD, World


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`tongji serve` in a process group of its own, so the test can stop (or kill -9) it and every worker."""

    def __init__(self, world: World, log: Path, workers: int = 1):
        self.world, self.log, self.workers = world, log, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.clients: list[httpx2.Client] = []  # closed with the server

    def start(self) -> Server:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from tongji.cli import main; main()", "serve", "-r",
                 str(self.world.city.registry), "-p", "2025", *self.world.options(), "--port", str(self.port),
                 "--workers", str(self.workers)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx2.get(self.url + "/login", timeout=2).status_code == 200:
                    return self
            except httpx2.TransportError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(self.log.read_text(encoding="utf-8"))
            time.sleep(0.2)
        raise AssertionError("the server did not answer: " + self.log.read_text(encoding="utf-8"))

    def kill(self) -> None:
        """kill -9 the server and every process it started: nothing is shut down cleanly."""
        self.stop(signal.SIGKILL)

    def stop(self, how: int = signal.SIGTERM) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, how)
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        except ProcessLookupError:
            pass
        try:  # workers or a checking process still in the group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process = None

    def client(self, login: str, url: str | None = None, **options) -> httpx2.Client:
        """A client signed in as `login` (its one-time password changed once, as a user would); `url`: through
        a proxy in front of the server, `options` for httpx2.Client (verify=False for a self-signed certificate)."""
        client = httpx2.Client(base_url=url or self.url, follow_redirects=True, timeout=120, **options)
        self.clients.append(client)
        client.get("/login")
        page = client.post("/login", data={"csrf": client.cookies["tongji_login_csrf"], "login": login,
                                           "password": self.world.passwords[login]})
        if page.url.path == "/password":
            client.post("/password", data={"csrf": csrf(page.text), "password": PASSWORD, "again": PASSWORD})
            self.world.passwords[login] = PASSWORD
        return client


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)
