"""Measure the routing inbox page (`/routing/`) under 50 concurrent users, served by gunicorn on loopback.

Usage: .venv/bin/python bench/inbox_bench.py [--circulars 100] [--users 50] [--requests 20] [--database URL]

`bench/generate.py` recreates the database with `--circulars` DLA circulars cascaded to every
office. At two a working day, 100 circulars are some ten weeks of DLA's letters. Each LAO
then has one task per circular, and each district or provincial office also has the letters
it issued. The inbox shows the first page of each list: 50 tasks and 50 issued letters. The users are clerks of 40 LAOs, 8 district offices and 2 provincial offices,
drawn with a fixed seed. gunicorn serves `workflow.wsgi:app` on 127.0.0.1 with
2 × CPUs + 1 sync workers. Each of `--users` threads signs in, then requests the inbox
`--requests` times (urllib, one connection per request).

`inbox_p95_ms_50_users` is the 95th percentile latency under that load;
`inbox_p95_ms_one_user` is the baseline from the same users one request at a time.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402
from workflow.db import Database, upgrade_to_head  # noqa: E402
from workflow.models import ORG_DISTRICT_OFFICE, ORG_LAO, ORG_PROVINCE_OFFICE, Organization  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/saraban_bench_inbox"
USERS_BY_KIND = ((ORG_LAO, 40), (ORG_DISTRICT_OFFICE, 8), (ORG_PROVINCE_OFFICE, 2))
REQUEST_TIMEOUT_S = 120
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _usernames(url: str, count: int) -> list[str]:
    database = Database(url)
    session = database.session()
    rng = random.Random(2568)
    names = []
    for kind, share in USERS_BY_KIND:
        codes = sorted(session.scalars(select(Organization.code).where(Organization.kind == kind)))
        names += [f"gen.{code}.clerk" for code in rng.sample(codes, round(share * count / 50))]
    session.close()
    database.dispose()
    return names[:count]


class Client:
    """One signed-in browser: a cookie jar and an opener bound to the local server."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(f"{base}/login", timeout=REQUEST_TIMEOUT_S).read().decode()
        form = urllib.parse.urlencode({"csrf_token": CSRF.search(page).group(1), "username": username,
                                       "password": generate.PASSWORD, "next": "/routing/"}).encode()
        response = self.opener.open(f"{base}/login", data=form, timeout=REQUEST_TIMEOUT_S)
        assert response.geturl().endswith("/routing/"), f"sign-in failed for {username}: {response.geturl()}"

    def inbox_ms(self) -> float:
        started = time.perf_counter()
        with self.opener.open(f"{self.base}/routing/", timeout=REQUEST_TIMEOUT_S) as response:
            response.read()
            assert response.status == 200, f"inbox returned HTTP {response.status}"
        return (time.perf_counter() - started) * 1000


def _wait_until_serving(base: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {server.returncode}")
        try:
            urllib.request.urlopen(f"{base}/login", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not respond on /login within 60 s; see its log above")


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def measure(url: str, users: int, requests_each: int) -> dict:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    workers = 2 * (os.cpu_count() or 1) + 1
    storage = tempfile.mkdtemp(prefix="saraban-inbox-bench-")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "inbox-bench-secret", "SARABAN_STORAGE": storage}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", str(REQUEST_TIMEOUT_S), "--log-level", "warning", "workflow.wsgi:app"],
        cwd=ROOT, env=env,
    )
    try:
        _wait_until_serving(base, server)
        names = _usernames(url, users)
        clients = [Client(base, name) for name in names]
        for client in clients:  # warm-up: every worker's engine and template cache
            client.inbox_ms()
        alone = [client.inbox_ms() for client in clients]

        def run(client: Client) -> list[float]:
            return [client.inbox_ms() for _ in range(requests_each)]

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            loaded = [sample for samples in pool.map(run, clients) for sample in samples]
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "inbox_p95_ms_50_users" if users == 50 else f"inbox_p95_ms_{users}_users": round(_p95(loaded), 1),
        "inbox_p95_ms_one_user": round(_p95(alone), 1),
        "inbox_median_ms_50_users" if users == 50 else f"inbox_median_ms_{users}_users": round(statistics.median(loaded), 1),
        "inbox_requests_per_s": round(len(loaded) / wall, 1),
        "requests": len(loaded),
        "gunicorn_workers": workers,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--circulars", type=int, default=100, help="DLA circulars to generate (default 100)")
    parser.add_argument("--users", type=int, default=50, help="concurrent signed-in users (default 50)")
    parser.add_argument("--requests", type=int, default=20, help="inbox requests per user (default 20)")
    parser.add_argument("--database", default=DEFAULT_URL, help="PostgreSQL URL, recreated first")
    parser.add_argument("--reuse", action="store_true", help="use the data already in --database")
    args = parser.parse_args(argv)
    if not args.reuse:
        generate.recreate_database(args.database)
        upgrade_to_head(args.database)
        generate.generate_routing(args.database, args.circulars, seed=2568)
    result = measure(args.database, args.users, args.requests)
    result["circulars"] = args.circulars
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
