"""Measure forwarding one circular to every office of a level, and its roll-up, on PostgreSQL.

Usage: .venv/bin/python bench/fanout_bench.py [DATABASE_URL]
Default database: `saraban_bench` on 127.0.0.1:5432 as root, created when missing and
emptied first. Prints a JSON object with `fanout_lao_level_s_pg` (target at most 1 s),
`fanout_province_level_s_pg`, `fanout_district_level_s_pg` and `rollup_p95_ms` (target at
most 200 ms), each the best or the 95th percentile of several runs.
"""
from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from datetime import date

import psycopg
from sqlalchemy import select, text

from workflow.db import Database, upgrade_to_head
from workflow.directory import load_directory
from workflow.models import ORG_DISTRICT_OFFICE, ORG_LAO, ORG_PROVINCE_OFFICE, ROLE_SUPERVISOR, Organization, User
from workflow.routing import admin, operations, rollup

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/saraban_bench"
RUNS = 5
ROLLUP_RUNS = 40


def _fresh_database(url: str) -> None:
    """Drop and create the benchmark database, so every run starts from the same state."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 port=5432 user=root dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _codes(session, kind: str) -> list[str]:
    return list(session.scalars(select(Organization.code).where(Organization.kind == kind).order_by(Organization.code)))


def _time_fanout(session, director: User, codes: list[str], label: str) -> float:
    best = float("inf")
    for run in range(RUNS):
        started = time.perf_counter()
        operations.issue_circular(
            session, director, subject=f"ทดสอบการแจ้งเวียน {label} ครั้งที่ {run + 1}",
            issued_on=date(2025, 3, 28), due_nominal=date(2025, 4, 18), recipient_codes=codes,
        )
        best = min(best, time.perf_counter() - started)
    return best


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def main(url: str) -> dict:
    if url == DEFAULT_URL:
        _fresh_database(url)
    upgrade_to_head(url)
    database = Database(url)
    session = database.session()
    load_directory(session)
    director = admin.create_staff_user(
        session, None, "bench.dla.director", "ผู้อำนวยการ (ทดสอบสมรรถนะ)", "bench-password", "DLA",
        ROLE_SUPERVISOR, "ผู้อำนวยการกอง",
    )
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")

    results = {
        "fanout_province_level_s_pg": _time_fanout(session, director, _codes(session, ORG_PROVINCE_OFFICE), "จังหวัด"),
        "fanout_district_level_s_pg": _time_fanout(session, director, _codes(session, ORG_DISTRICT_OFFICE), "อำเภอ"),
        "fanout_lao_level_s_pg": _time_fanout(session, director, _codes(session, ORG_LAO), "อปท."),
    }
    # Statistics as autovacuum would have them after bulk inserts of this size.
    session.execute(text("ANALYZE"))
    session.commit()
    last = operations.issue_circular(
        session, director, subject="ทดสอบการสรุปผล", issued_on=date(2025, 3, 28),
        due_nominal=date(2025, 4, 18), recipient_codes=_codes(session, ORG_LAO),
    ).letter
    samples = []
    for _ in range(ROLLUP_RUNS):
        started = time.perf_counter()
        rollup.rollup(session, rollup.find_circular(session, last.doc_number), as_of=date(2025, 4, 20))
        samples.append((time.perf_counter() - started) * 1000)
    results["rollup_p95_ms"] = _p95(samples)
    session.close()
    database.dispose()
    results = {key: round(value, 3) for key, value in results.items()}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL), indent=1))
