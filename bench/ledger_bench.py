"""Measure ledger postings per second from 8 concurrent workers, and `saraban ledger verify`, on PostgreSQL.

Usage: .venv/bin/python bench/ledger_bench.py [--workers 8] [--seconds 30] [--verify-events 30000] [--database URL]

Setup: `bench/generate.py` opens LAO accounts, records and allocates a round and posts sales
with retirements, all through `workflow.ledger.operations`. Each measured posting is one
reservation of one tonne: `prepare_reservation` by the LAO's officer, then `approve` by its
executive, which posts it. Each worker is a process with its own session and its own LAO.
`ledger_postings_per_s_pg` counts posted reservations over the wall time of 8 workers;
`ledger_postings_per_s_one_worker` is the baseline from one worker in this process.

Every ledger write locks the one head row of the hash chain (`workflow.ledger.chain.lock_head`)
until it commits, so postings are serialized however many workers run; the figure is bounded
by 1 / (time the head row is held per posting).

Then more postings run until the log holds `--verify-events` events or `--verify-fill-s` seconds
pass, and `saraban ledger verify --json` runs as a command. `ledger_verify_s_per_million`
scales its time linearly to one million events: an estimate, since only the printed number
of events was measured.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402
from workflow.db import Database, upgrade_to_head  # noqa: E402
from workflow.ledger import operations as ledger  # noqa: E402
from workflow.models import User  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/saraban_bench_ledger"
SETUP_SALES = 200
# Time given to the spawned workers to import the project and sign their users in before the common start.
WORKER_START_S = 15


def _lao_codes(session, count: int) -> list[str]:
    names = session.scalars(select(User.username).where(User.username.like("gen.ledger.%.officer"))
                            .order_by(User.username)).all()
    codes = [name.split(".")[2] for name in names if name.split(".")[2] != "dla"]
    return codes[:count]


def post_reservations(url: str, lao_code: str, label: str, start_at: float, seconds: float,
                      stop_at_events: int | None = None) -> int:
    """Prepare and approve one-tonne reservations for `lao_code` from `start_at` (epoch seconds) for `seconds`.

    Returns how many were posted. Every worker gets the same `start_at`, so process start-up
    is not counted in the measured interval.
    """
    database = Database(url)
    session = database.session()
    officer = session.scalar(select(User).where(User.username == f"gen.ledger.{lao_code}.officer"))
    executive = session.scalar(select(User).where(User.username == f"gen.ledger.{lao_code}.executive"))
    session.commit()
    posted = 0
    time.sleep(max(0.0, start_at - time.time()))
    deadline = start_at + seconds
    try:
        while time.time() < deadline:
            request = ledger.prepare_reservation(session, officer, idempotency_key=f"bench-{label}-{posted}-prepare",
                                                 quantity=1, letter_reference="บันทึกข้อความ กองสิ่งแวดล้อม (ทดสอบ)")
            ledger.approve(session, executive, request.id, idempotency_key=f"bench-{label}-{posted}-approve")
            posted += 1
            if stop_at_events is not None and posted % 50 == 0:
                if session.execute(text("SELECT count(*) FROM ledger_events")).scalar() >= stop_at_events:
                    break
    finally:
        session.close()
        database.dispose()
    return posted


def _worker(args: tuple) -> int:
    return post_reservations(*args)


def _concurrent(url: str, codes: list[str], label: str, seconds: float, stop_at_events: int | None = None) -> int:
    """Run one worker process per LAO for `seconds` after a common start; return the postings of all of them."""
    with multiprocessing.get_context("spawn").Pool(len(codes)) as pool:
        start_at = time.time() + WORKER_START_S
        counts = pool.map(_worker, [(url, code, f"{label}-{code}", start_at, seconds, stop_at_events) for code in codes])
    return sum(counts)


def _verify_command(url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "saraban"), "ledger", "verify", "--json"],
                          env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - started
    output = proc.stdout[proc.stdout.index("{"):] if "{" in proc.stdout else "{}"
    return elapsed, json.loads(output)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=8, help="concurrent worker processes (default 8)")
    parser.add_argument("--seconds", type=float, default=30, help="seconds each measurement runs (default 30)")
    parser.add_argument("--verify-events", type=int, default=30000, help="ledger events to reach before verifying (default 30000)")
    parser.add_argument("--verify-fill-s", type=float, default=180, help="at most this many seconds of extra postings (default 180)")
    parser.add_argument("--database", default=DEFAULT_URL, help="PostgreSQL URL, recreated first")
    args = parser.parse_args(argv)

    generate.recreate_database(args.database)
    upgrade_to_head(args.database)
    setup = generate.generate_ledger(args.database, seed=2568, laos=args.workers, sales=SETUP_SALES)

    database = Database(args.database)
    session = database.session()
    codes = _lao_codes(session, args.workers)
    session.close()
    database.dispose()
    assert len(codes) == args.workers, f"expected {args.workers} LAO accounts, found {len(codes)}"

    single = post_reservations(args.database, codes[0], "single", time.time(), args.seconds)
    many = _concurrent(args.database, codes, "many", args.seconds)
    _concurrent(args.database, codes, "fill", args.verify_fill_s, stop_at_events=args.verify_events)
    verify_s, verified = _verify_command(args.database)
    events = verified.get("events") or 0

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "ledger_postings_per_s_pg": round(many / args.seconds, 1),
        "ledger_postings_per_s_one_worker": round(single / args.seconds, 1),
        "workers": args.workers,
        "setup_postings": setup.ledger_postings,
        "ledger_verify_s_per_million": round(verify_s * 1_000_000 / events, 1) if events else None,
        "verify_s": round(verify_s, 2),
        "verify_ok": verified.get("ok"),
        "verified_events": events,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_worker_mb": round(children, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
