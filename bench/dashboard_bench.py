"""Measure DLA's national dashboard over generated national-scale data on PostgreSQL.

Usage: .venv/bin/python bench/dashboard_bench.py [--circulars 1000] [--time-limit 600] [--database URL]

There is no dashboard function in the project yet, so this measures what one would read.
The first part is the roll-up of DLA's latest circular (`workflow.routing.rollup.rollup`, LAO
counts by province and district). The second counts the LAO tasks of all DLA's circulars by
derived state and by past due date, in one SQL query over `latest_state_subquery`. `dashboard_p95_ms` is the 95th
percentile of the two together (the maximum when time allowed fewer than 20 runs); the roll-up alone is printed beside it as the baseline.

The data comes from `bench/generate.py`, which recreates the database and stops adding
circulars after `--time-limit` seconds. When it stops short of `--circulars`, the printed
`dashboard_p95_ms_estimate_at_target` scales the counting query linearly with the number of
tasks; it is an estimate, not a measurement.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import case, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate  # noqa: E402
from workflow.db import Database, upgrade_to_head  # noqa: E402
from workflow.models import ORG_DEPARTMENT, ORG_LAO, Organization  # noqa: E402
from workflow.routing import rollup  # noqa: E402
from workflow.routing.models import OfficialLetter, RoutingTask  # noqa: E402
from workflow.routing.state import latest_state_subquery  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/saraban_bench_national"
RUNS = 20
# Measuring stops after this many seconds once MIN_RUNS runs are done; at full scale one run takes seconds.
MEASURE_LIMIT_S = 120
MIN_RUNS = 3


def _p95(samples: list[float]) -> float:
    """Return the 95th percentile, or the maximum when there are too few samples for one."""
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= RUNS else max(samples)


def counts_by_state(session, dla_id: int, as_of) -> dict[str, dict[str, int]]:
    """Count the LAO tasks of every circular DLA started, by derived state and whether they are past due."""
    roots = select(OfficialLetter.id).where(OfficialLetter.issuer_org_id == dla_id,
                                            OfficialLetter.parent_letter_id.is_(None))
    states = latest_state_subquery()
    past_due = case((RoutingTask.due_effective < as_of, True), else_=False)
    rows = session.execute(
        select(states.c.state, past_due.label("past_due"), func.count())
        .join(RoutingTask, RoutingTask.id == states.c.task_id)
        .join(Organization, Organization.id == RoutingTask.recipient_org_id)
        .where(RoutingTask.root_letter_id.in_(roots), Organization.kind == ORG_LAO)
        .group_by(states.c.state, past_due)
    ).all()
    result: dict[str, dict[str, int]] = {}
    for state, is_past_due, count in rows:
        entry = result.setdefault(state, {"tasks": 0, "past_due": 0})
        entry["tasks"] += count
        entry["past_due"] += count if is_past_due else 0
    return result


def measure(url: str) -> dict:
    database = Database(url)
    session = database.session()
    dla = session.scalar(select(Organization).where(Organization.kind == ORG_DEPARTMENT))
    circulars = session.scalar(select(func.count()).select_from(OfficialLetter).where(
        OfficialLetter.issuer_org_id == dla.id, OfficialLetter.parent_letter_id.is_(None)))
    tasks = session.scalar(select(func.count()).select_from(RoutingTask))
    latest = session.scalar(select(OfficialLetter).where(OfficialLetter.issuer_org_id == dla.id)
                            .order_by(OfficialLetter.id.desc()).limit(1))
    as_of = generate.as_of(circulars)
    rollup_ms, counts_ms, both_ms = [], [], []
    measuring = time.perf_counter()
    for run in range(RUNS):
        if run >= MIN_RUNS and time.perf_counter() - measuring > MEASURE_LIMIT_S:
            break
        started = time.perf_counter()
        rollup.rollup(session, latest, as_of=as_of)
        middle = time.perf_counter()
        counts_by_state(session, dla.id, as_of)
        ended = time.perf_counter()
        session.rollback()
        rollup_ms.append((middle - started) * 1000)
        counts_ms.append((ended - middle) * 1000)
        both_ms.append((ended - started) * 1000)
    session.close()
    database.dispose()
    return {"circulars": circulars, "tasks": tasks, "runs": len(both_ms), "dashboard_p95_ms": _p95(both_ms),
            "rollup_latest_p95_ms": _p95(rollup_ms), "counts_by_state_p95_ms": _p95(counts_ms)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--circulars", type=int, default=1000, help="DLA circulars to generate (default 1000)")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds after which generation stops (default 600)")
    parser.add_argument("--database", default=DEFAULT_URL, help="PostgreSQL URL, recreated first")
    parser.add_argument("--reuse", action="store_true", help="measure the data already in --database")
    args = parser.parse_args(argv)
    generated_s = None
    if not args.reuse:
        generate.recreate_database(args.database)
        upgrade_to_head(args.database)
        summary = generate.generate_routing(args.database, args.circulars, seed=2568, time_limit_s=args.time_limit)
        generated_s = round(summary.seconds, 1)
    result = measure(args.database)
    if result["circulars"] < args.circulars:
        # NOTE: linear in tasks, because the counting query reads every task's events; an estimate.
        scale = args.circulars / result["circulars"]
        result["dashboard_p95_ms_estimate_at_target"] = result["rollup_latest_p95_ms"] + result["counts_by_state_p95_ms"] * scale
    result = {key: round(value, 1) if isinstance(value, float) else value for key, value in result.items()}
    result["generated_s"] = generated_s
    result["target_circulars"] = args.circulars
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
