"""Measure DLA's national dashboard over generated national-scale data on PostgreSQL.

Usage: .venv/bin/python bench/dashboard_bench.py [--circulars 1000] [--time-limit 600] [--database URL] [--reuse]
       [--provinces 57]

The dashboard is two reads. The first is the roll-up of DLA's latest circular
(`workflow.routing.rollup.rollup`, LAO counts by province and district, from the tasks'
stored states). The second is `workflow.routing.dashboard.dashboard`: the LAO tasks of all
DLA's circulars by state and past due date, summed from the per-circular counts table.
`dashboard_p95_ms` is the 95th percentile of the two together (the maximum when time
allowed fewer than 20 runs); each part is printed beside it.

The data comes from `bench/generate.py`, which recreates the database and stops adding
circulars after `--time-limit` seconds. When it stops short of `--circulars`, the printed
`dashboard_p95_ms_estimate_at_target` scales the counts part linearly with the number of
circulars, because it reads a few rows per circular; it is an estimate, not a measurement.
With `--provinces`, every circular cascades to those provinces only: there are as many
circulars and count rows per circular, but far fewer tasks, so the counts part can be
measured at 1,000 circulars in a minute while the roll-up covers a much smaller cascade.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate  # noqa: E402
from workflow.db import Database, upgrade_to_head  # noqa: E402
from workflow.models import ORG_DEPARTMENT, Organization  # noqa: E402
from workflow.routing import rollup  # noqa: E402
from workflow.routing.dashboard import dashboard  # noqa: E402
from workflow.routing.models import OfficialLetter, RoutingTask  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/saraban_bench_national"
RUNS = 20
# Measuring stops after this many seconds once MIN_RUNS runs are done; at full scale one run takes seconds.
MEASURE_LIMIT_S = 120
MIN_RUNS = 3


def _p95(samples: list[float]) -> float:
    """Return the 95th percentile, or the maximum when there are too few samples for one."""
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= RUNS else max(samples)


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
        dashboard(session, dla.id, as_of)
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
    parser.add_argument("--provinces", default="",
                        help="comma-separated DOPA province codes to limit the directory to (default: all)")
    args = parser.parse_args(argv)
    generated_s = None
    if not args.reuse:
        generate.recreate_database(args.database)
        upgrade_to_head(args.database)
        provinces = {code.strip() for code in args.provinces.split(",") if code.strip()} or None
        summary = generate.generate_routing(args.database, args.circulars, seed=2568, provinces=provinces,
                                            time_limit_s=args.time_limit)
        generated_s = round(summary.seconds, 1)
    result = measure(args.database)
    if result["circulars"] < args.circulars:
        # NOTE: an estimate, linear in circulars, because the counts part reads a few rows per circular.
        scale = args.circulars / result["circulars"]
        result["dashboard_p95_ms_estimate_at_target"] = result["rollup_latest_p95_ms"] + result["counts_by_state_p95_ms"] * scale
    result = {key: round(value, 1) if isinstance(value, float) else value for key, value in result.items()}
    result["generated_s"] = generated_s
    result["target_circulars"] = args.circulars
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
