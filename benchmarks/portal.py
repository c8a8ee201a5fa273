"""Many units uploading at once to one portal on localhost: verdict latency, uploads per second, nothing lost.

    python benchmarks/portal.py [--units 200] [--concurrency 20]

A city of `--units` grassroots units is made with tongji.testing (every workbook valid but one in ten, which has an
error); the portal runs in its own process under uvicorn, as `tongji serve` runs it (checking in a process of its
own, or with `--in-thread` in a thread of the server); `--concurrency` clients sign in,
then all upload at once, each waiting for its verdict page. Printed: the verdict latency (from sending the file to
reading the verdict) p50/p95/max, uploads per second, and whether the database holds exactly one submission per
unit with the verdict the checker gives. Stops by itself.
"""

from __future__ import annotations

import argparse
import re
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
import sys, uvicorn
from tongji.portal import create_app
from tongji.portal.accounts import create_accounts
from tongji.testing import load_plugin
spec = load_plugin(builtins_only=True).spec
app = create_app(sys.argv[1], "2025", data=sys.argv[2], spec=spec, check_process=sys.argv[5] == "1")
with app.state.portal.db() as db:
    create_accounts(db, app.state.portal.registry, password=sys.argv[4])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""


def make_city(root: Path, units: int):
    from tongji.testing import fill_template, load_plugin, make_city

    streets = [100] * (units // 100) + ([units % 100] if units % 100 else [])
    city = make_city(root, load_plugin(builtins_only=True), streets=streets)
    for n, code in enumerate(city.grassroots()):
        if n % 10 == 9:  # one in ten has an error: 女会员 more than 会员
            fill_template(city.files[code], {"HY04": 9999})
    return city


def serve(city, data: Path, process: bool) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(city.registry), str(data), str(port), PASSWORD,
                                "1" if process else "0"])
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx2.get(url + "/login", timeout=1)
            return process, url
        except httpx2.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the portal did not start")


def signed_in(url: str, login: str) -> httpx2.Client:
    client = httpx2.Client(base_url=url, follow_redirects=True, timeout=120)
    client.get("/login")
    client.post("/login", data={"csrf": client.cookies["tongji_login_csrf"], "login": login, "password": PASSWORD})
    return client


def upload(client: httpx2.Client, code: str, data: bytes) -> tuple[float, str]:
    page = client.get(f"/units/{code}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    start = time.perf_counter()
    verdict = client.post(f"/units/{code}/upload", data={"csrf": token}, files={"file": ("报表.xlsx", data)})
    took = time.perf_counter() - start
    found = re.search(r'id="verdict">([^<]+)<', verdict.text)
    return took, found.group(1) if found else f"HTTP {verdict.status_code}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--in-thread", action="store_true",
                        help="check in a thread of the server (as on one core), not in a process of its own")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        city = make_city(Path(tmp) / "city", args.units)
        codes = city.grassroots()
        files = {c: city.files[c].read_bytes() for c in codes}
        process, url = serve(city, Path(tmp) / "data", not args.in_thread)
        try:
            with ThreadPoolExecutor(args.concurrency) as pool:
                clients = dict(zip(codes, pool.map(lambda c: signed_in(url, c), codes), strict=True))
                start = time.perf_counter()
                results = list(pool.map(lambda c: upload(clients[c], c, files[c]), codes))
                wall = time.perf_counter() - start
            for client in clients.values():
                client.close()
        finally:
            process.terminate()
            process.wait(30)
        lost = _check_database(Path(tmp) / "data", codes)
    times = sorted(t for t, _ in results)
    verdicts = [v for _, v in results]
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print("checking", "thread" if args.in_thread else "process")
    print("units concurrency p50_s p95_s max_s uploads_per_s passed returned other lost")
    print(f"{len(codes)} {args.concurrency} {statistics.median(times):.3f} {p95:.3f} {times[-1]:.3f} "
          f"{len(codes) / wall:.1f} {verdicts.count('通过')} {verdicts.count('退回')} "
          f"{len(verdicts) - verdicts.count('通过') - verdicts.count('退回')} {lost}")


def _check_database(data: Path, codes: list[str]) -> int:
    """Units without exactly one stored submission whose file is in the store with its hash."""
    from sqlalchemy import create_engine, text

    from tongji.portal.store import Store

    store = Store(data)
    engine = create_engine(f"sqlite:///{data / 'portal.db'}")
    with engine.connect() as db:
        rows = db.execute(text("select unit, sha256, suffix from submission")).all()
    engine.dispose()
    per_unit = {c: [r for r in rows if r.unit == c] for c in codes}
    return sum(1 for c in codes if len(per_unit[c]) != 1 or not store.check(per_unit[c][0].sha256, ".xlsx"))


if __name__ == "__main__":
    main()
