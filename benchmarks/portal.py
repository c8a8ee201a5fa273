"""Many units uploading at once to one portal on localhost: verdict latency, uploads per second, nothing lost,
and the memory of the server's processes.

    python benchmarks/portal.py [--units 200] [--concurrency 20] [--uploads N]
    python benchmarks/portal.py --processes 2 --units 2000 --uploads 10000 [--database URL]

A city of `--units` grassroots units is made with tongji.testing (every workbook valid but one in ten, which has an
error); the portal runs in its own process under uvicorn, as `tongji serve` runs it (checking in a process of its
own, or with `--in-thread` in a thread of the server). With `--processes N` it runs N uvicorn worker processes on
one PostgreSQL database and one data folder: `--database URL`, or a throwaway PostgreSQL server started in a
temporary folder (as tests/conftest.py starts one). `--concurrency` clients sign in, then all upload, each waiting
for its verdict page; every unit uploads again, round after round, until `--uploads` uploads are done (by default
one round). Printed: the verdict latency (from sending the file to reading the verdict) p50/p95/max, uploads per
second, how many uploads are not in the database exactly as sent (lost), and the resident memory (RSS) of the
server's processes (uvicorn, its workers, their checking processes) after start, after the first round and at the
end. Stops by itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2

PASSWORD = "bench-password-1"
SERVER = """
import os, sys, uvicorn
from tongji.portal import create_app
from tongji.portal.accounts import create_accounts
from tongji.testing import load_plugin

def app():
    spec = load_plugin(builtins_only=True).spec
    return create_app(os.environ["BENCH_REGISTRY"], "2025", data=os.environ["BENCH_DATA"], spec=spec,
                      database=os.environ.get("BENCH_DATABASE") or None,
                      check_process=os.environ["BENCH_PROCESS"] == "1")

if __name__ == "__main__":
    made = app()
    with made.state.portal.db() as db:
        create_accounts(db, made.state.portal.registry, password=os.environ["BENCH_PASSWORD"])
    made.state.portal.checker.close()
    workers = int(os.environ["BENCH_WORKERS"])
    if workers > 1:
        sys.path.insert(0, os.path.dirname(__file__))
        uvicorn.run("bench_server:app", factory=True, workers=workers, host="127.0.0.1",
                    port=int(os.environ["BENCH_PORT"]), log_level="warning")
    else:
        uvicorn.run(made, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_level="warning")
"""


def make_city(root: Path, units: int):
    from tongji.testing import fill_template, load_plugin, make_city

    streets = [100] * (units // 100) + ([units % 100] if units % 100 else [])
    city = make_city(root, load_plugin(builtins_only=True), streets=streets)
    for n, code in enumerate(city.grassroots()):
        if n % 10 == 9:  # one in ten has an error: 女会员 more than 会员
            fill_template(city.files[code], {"HY04": 9999})
    return city


def serve(city, data: Path, process: bool, workers: int, database: str | None) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = data.parent / "bench_server.py"
    script.write_text(SERVER, encoding="utf-8")
    env = {**os.environ, "BENCH_REGISTRY": str(city.registry), "BENCH_DATA": str(data), "BENCH_PORT": str(port),
           "BENCH_PASSWORD": PASSWORD, "BENCH_PROCESS": "1" if process else "0", "BENCH_WORKERS": str(workers),
           "BENCH_DATABASE": database or ""}
    server = subprocess.Popen([sys.executable, str(script)], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(1800):
        try:
            httpx2.get(url + "/login", timeout=1)
            return server, url
        except httpx2.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the portal did not start")


def rss_mib(pid: int) -> float:
    """The resident memory of a process and all its descendants, in MiB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        one = todo.pop()
        todo += children.get(one, [])
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(found.group(1)) if found else 0
    return total / 1024


def signed_in(url: str, login: str) -> httpx2.Client:
    client = httpx2.Client(base_url=url, follow_redirects=True, timeout=300)
    client.get("/login")
    client.post("/login", data={"csrf": client.cookies["tongji_login_csrf"], "login": login, "password": PASSWORD})
    return client


def upload(client: httpx2.Client, code: str, data: bytes) -> tuple[float, str]:
    try:
        page = client.get(f"/units/{code}")
    except httpx2.TransportError:  # a kept-alive connection the server closed while this client waited: once more
        page = client.get(f"/units/{code}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    start = time.perf_counter()
    verdict = client.post(f"/units/{code}/upload", data={"csrf": token}, files={"file": ("报表.xlsx", data)})
    took = time.perf_counter() - start
    found = re.search(r'id="verdict">([^<]+)<', verdict.text)
    return took, found.group(1) if found else f"HTTP {verdict.status_code}"


def postgres(folder: Path) -> tuple[str, callable]:
    """A throwaway PostgreSQL server on a unix socket in `folder` (run as the postgres user when root):
    its URL and the function that stops it."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    binaries = Path(shutil.which("pg_ctl")).parent if shutil.which("pg_ctl") else found[-1].parent if found else None
    if binaries is None:
        raise SystemExit("--processes needs PostgreSQL: give --database URL, or install postgresql")
    as_user = []
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "pg"
    subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E",
                    "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    options = f"-k {folder} -c listen_addresses='' -c max_connections=200"
    subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                    "-w", "start"], check=True, capture_output=True)

    def stop():
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)

    return f"postgresql+psycopg://postgres@/postgres?host={folder}", stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=0, help="uploads in all, every unit again and again "
                                                               "(default: each unit once)")
    parser.add_argument("--processes", type=int, default=1, help="uvicorn worker processes (2 or more need "
                                                                 "PostgreSQL)")
    parser.add_argument("--database", help="a PostgreSQL URL (default with --processes: a throwaway server)")
    parser.add_argument("--in-thread", action="store_true",
                        help="check in a thread of the server (as on one core), not in a process of its own")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        stop, database = None, args.database
        if args.processes > 1 and not database:
            folder = Path(tempfile.mkdtemp(prefix="tongji-bench-pg-"))  # not inside tmp: the server's user reads it
            database, stop = postgres(folder)
        try:
            run(args, tmp, database)
        finally:
            if stop:
                stop()
                shutil.rmtree(folder, ignore_errors=True)


def run(args, tmp: Path, database: str | None) -> None:
    city = make_city(tmp / "city", args.units)
    codes = city.grassroots()
    files = {c: city.files[c].read_bytes() for c in codes}
    rounds = max(1, -(-args.uploads // len(codes))) if args.uploads else 1
    todo = [c for _ in range(rounds) for c in codes][:args.uploads or len(codes)]
    process, url = serve(city, tmp / "data", not args.in_thread, args.processes, database)
    memory = {"started": rss_mib(process.pid)}
    results = []
    try:
        with ThreadPoolExecutor(args.concurrency) as pool:
            clients = dict(zip(codes, pool.map(lambda c: signed_in(url, c), codes), strict=True))
            start = time.perf_counter()
            for n in range(0, len(todo), len(codes)):
                results += pool.map(lambda c: upload(clients[c], c, files[c]), todo[n:n + len(codes)])
                memory.setdefault("first round", rss_mib(process.pid))
            wall = time.perf_counter() - start
        memory["end"] = rss_mib(process.pid)
        for client in clients.values():
            client.close()
    finally:
        process.terminate()
        process.wait(60)
    lost = _check_database(tmp / "data", database, todo)
    times = sorted(t for t, _ in results)
    verdicts = [v for _, v in results]
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print("checking", "thread" if args.in_thread else "process", "· server processes", args.processes,
          "· database", "PostgreSQL" if database else "SQLite")
    print("units uploads concurrency p50_s p95_s max_s uploads_per_s passed returned other lost")
    print(f"{len(codes)} {len(todo)} {args.concurrency} {statistics.median(times):.3f} {p95:.3f} {times[-1]:.3f} "
          f"{len(todo) / wall:.1f} {verdicts.count('通过')} {verdicts.count('退回')} "
          f"{len(verdicts) - verdicts.count('通过') - verdicts.count('退回')} {lost}")
    print("server RSS MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))


def _check_database(data: Path, database: str | None, todo: list[str]) -> int:
    """Uploads not in the database: per unit, the versions 1..n it uploaded, each file in the store with its hash."""
    from collections import Counter

    from sqlalchemy import create_engine, text

    from tongji.portal.store import Store

    store = Store(data)
    engine = create_engine(database or f"sqlite:///{data / 'portal.db'}")
    with engine.connect() as db:
        rows = db.execute(text("select unit, version, sha256 from submission")).all()
    engine.dispose()
    sent, kept = Counter(todo), {}
    for row in rows:
        kept.setdefault(row.unit, []).append(row)
    hashes = {r.sha256 for r in rows}
    good = {h for h in hashes if store.check(h, ".xlsx")}
    return sum(max(0, n - sum(1 for r in kept.get(unit, []) if r.sha256 in good)) for unit, n in sent.items()) + \
        sum(1 for unit, found in kept.items() if sorted(r.version for r in found) != list(range(1, sent[unit] + 1)))


if __name__ == "__main__":
    main()
