"""The ledger under faults: eight processes posting at once, rq workers killed mid-posting, rows edited behind its back.

After each fault the ledger must still add up: issued = held + retired + cancelled, no
account or bucket below zero, every serial of a round in exactly one open block, each
account's entries equal to its open blocks, and `saraban ledger verify` clean. The
figures of these runs are in docs/reliability.md.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.ledger_fault_workers import (
    LAO_CODES,
    OPERATIONS,
    PAUSE_AFTER_COMMIT,
    PAUSE_BEFORE_COMMIT,
    ROUND_SIZE,
    approve_request,
    run_worker,
    setup_ledger,
)
from workflow.ledger import operations, reports
from workflow.ledger.models import (
    ACCOUNT_ISSUANCE,
    UNIT_TCO2E,
    Account,
    CertificationRound,
    LedgerEntry,
    LedgerEvent,
    LedgerRequest,
    LedgerTransaction,
    SerialBlock,
)
from workflow.models import User
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORKERS = 8
# Operations per worker: a fixed count, so that every run does the same amount of work.
OPERATIONS_PER_WORKER = {"sqlite": 15, "postgresql": 50}
SEED = 2568
ROUNDS = 2
WAIT_S = 120


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('ledger_faults') / 'ledger.db'}")
        yield db
        db.dispose()
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as url:
        db = prepare_database(url)
        yield db
        db.dispose()


@pytest.fixture
def cast(database):
    reset(database)
    return setup_ledger(database)


def database_url(database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


def run_cli_verify(database) -> tuple[int, dict]:
    """Run `saraban ledger verify --json` in a process of its own. Return its exit status and its JSON."""
    environment = {**os.environ, "DATABASE_URL": database_url(database)}
    completed = subprocess.run(
        [sys.executable, "-m", "workflow.cli", "ledger", "verify", "--json"], cwd=PROJECT_ROOT, env=environment,
        capture_output=True, text=True, timeout=WAIT_S,
    )
    assert "Traceback" not in completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def ledger_problems(database) -> list[str]:
    """Check the sums, the balances and the serial blocks. Return what is wrong, or an empty list."""
    problems = []
    with database.session() as session:
        totals = reports.balances(session)
        if totals["total_issued"] != ROUNDS * ROUND_SIZE:
            problems.append(f"issued {totals['total_issued']}, certified {ROUNDS * ROUND_SIZE}")
        if totals["total_issued"] != totals["total_held"] + totals["total_retired"] + totals["total_cancelled"]:
            problems.append(f"sums not conserved: {totals}")

        kinds = dict(session.execute(select(Account.id, Account.kind)).all())
        by_bucket = session.execute(
            select(LedgerEntry.account_id, LedgerEntry.bucket, func.sum(reports.SIGNED_AMOUNT)).where(LedgerEntry.unit == UNIT_TCO2E)
            .group_by(LedgerEntry.account_id, LedgerEntry.bucket)
        ).all()
        for account_id, bucket, balance in by_bucket:
            if kinds[account_id] != ACCOUNT_ISSUANCE and balance < 0:
                problems.append(f"account {account_id} has {balance} tCO2e in {bucket}")

        blocks = session.scalars(select(SerialBlock).where(SerialBlock.closed_by_transaction_id.is_(None))
                                 .order_by(SerialBlock.round_id, SerialBlock.serial_start)).all()
        held_in_blocks: dict[int, int] = defaultdict(int)
        by_round: dict[int, list[SerialBlock]] = defaultdict(list)
        for block in blocks:
            held_in_blocks[block.account_id] += block.serial_end - block.serial_start + 1
            by_round[block.round_id].append(block)
        for certification in session.scalars(select(CertificationRound)):
            expected_start = certification.serial_start
            for block in by_round[certification.id]:
                if block.serial_start != expected_start:
                    problems.append(f"round {certification.round_number}: block {block.id} starts at "
                                    f"{block.serial_start}, expected {expected_start} (a gap or a serial held twice)")
                expected_start = block.serial_end + 1
            if expected_start != certification.serial_end + 1:
                problems.append(f"round {certification.round_number}: open blocks end at {expected_start - 1}, "
                                f"not {certification.serial_end}")
        for account_id, balance in reports.entry_balances(session).items():
            if kinds[account_id] != ACCOUNT_ISSUANCE and balance != held_in_blocks.get(account_id, 0):
                problems.append(f"account {account_id}: entries say {balance} tCO2e, open blocks "
                                f"{held_in_blocks.get(account_id, 0)}")
    return problems


# --- eight concurrent workers ----------------------------------------------------------------


def run_workers(database, cast) -> list[dict]:
    count = OPERATIONS_PER_WORKER[database.engine.dialect.name]
    # spawn, not fork: each worker opens its own connections instead of sharing the test's.
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        return pool.starmap(run_worker, [(database_url(database), cast, index, count, SEED)
                                         for index in range(WORKERS)])


@dataclass
class ConcurrentRun:
    posted: dict[str, int]
    rejected: dict[str, int]
    codes: dict[str, int]
    errors: list[str]


@pytest.fixture(scope="module")
def concurrent_run(database) -> ConcurrentRun:
    """Eight workers' random operations on a freshly funded ledger, run once for the tests that check it."""
    reset(database)
    results = run_workers(database, setup_ledger(database))
    codes: dict[str, int] = defaultdict(int)
    for result in results:
        for code, times in result["codes"].items():
            codes[code] += times
    run = ConcurrentRun(
        posted={name: sum(result["posted"][name] for result in results) for name in OPERATIONS},
        rejected={name: sum(result["rejected"][name] for result in results) for name in OPERATIONS},
        codes=dict(codes),
        errors=[error for result in results for error in result["errors"]],
    )
    kinds = defaultdict(int)
    for error in run.errors:
        last_line = error.strip().splitlines()[-1]
        kinds[f"{error.split(':', 1)[0]}: {last_line[:80]}"] += 1
    print(f"\n{database.engine.dialect.name}: posted {run.posted}, rejected {run.rejected}, codes {run.codes}, "
          f"other errors {dict(kinds)}")
    return run


def test_concurrent_workers_keep_ledger_sound(database, concurrent_run):
    count = OPERATIONS_PER_WORKER[database.engine.dialect.name]
    attempted = sum(concurrent_run.posted.values()) + sum(concurrent_run.rejected.values()) + len(concurrent_run.errors)
    assert attempted == WORKERS * count
    for name in ("allocate", "reserve", "sale", "retire", "cancel"):
        assert concurrent_run.posted[name] > 0, f"no {name} posted: the run did not exercise it"
    assert ledger_problems(database) == []
    status, result = run_cli_verify(database)
    assert status == 0
    assert result["ok"] is True
    assert result["first_break"] is None


def test_concurrent_workers_meet_no_database_error(database, concurrent_run):
    """No operation ends in a database error: a deadlock PostgreSQL detects must be retried, not returned."""
    assert concurrent_run.errors == [], concurrent_run.errors[0] if concurrent_run.errors else ""


def test_verify_names_edited_rows_after_concurrent_run(database, concurrent_run):
    """A transaction's letter reference, then a request's quantity, edited in SQL in a ledger built by eight workers."""
    with database.session() as session:
        transaction_ids = session.scalars(select(LedgerTransaction.id).order_by(LedgerTransaction.id)).all()
        middle = transaction_ids[len(transaction_ids) // 2]
        original_reference = session.get(LedgerTransaction, middle).letter_reference
        posted_request = session.scalar(select(LedgerRequest).where(LedgerRequest.kind == "reserve",
                                                                    LedgerRequest.status == "posted")
                                        .order_by(LedgerRequest.id))
        request_id = posted_request.id
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_transactions SET letter_reference = :value WHERE id = :id"),
                           {"value": "มท 0821.2/ว 9999", "id": middle})
    status, result = run_cli_verify(database)
    assert status == 1
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_transactions"
    assert result["first_break"]["row"] == middle

    with database.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_transactions SET letter_reference = :value WHERE id = :id"),
                           {"value": original_reference, "id": middle})
    assert run_cli_verify(database)[0] == 0
    with database.session() as session:
        request = session.get(LedgerRequest, request_id)
        request.payload = {**request.payload, "quantity": request.payload["quantity"] + 1}
        session.commit()
    status, result = run_cli_verify(database)
    assert status == 1
    assert result["first_break"]["table"] == "ledger_requests"
    assert result["first_break"]["row"] == request_id


# --- an rq worker killed in the middle of a job that posts -------------------------------------


@pytest.fixture
def queue(redis_url):
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(redis_url)
    work_queue = Queue(f"saraban-ledger-faults-{uuid.uuid4().hex[:8]}", connection=connection)
    yield work_queue
    work_queue.delete(delete_jobs=True)
    connection.close()


def start_worker(queue, redis_url: str, log_path: Path) -> subprocess.Popen:
    """Start `rq worker --burst` in a process of its own. The worker forks a work horse for each job."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "rq"), "worker", "--burst", "--url", redis_url,
             "--path", str(PROJECT_ROOT), queue.name],
            cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )


def wait_for(path: Path, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return int(path.read_text())
        if process.poll() is not None:
            raise AssertionError(f"the rq worker exited with {process.returncode} before the job paused")
        time.sleep(0.1)
    raise AssertionError(f"the job did not pause within {WAIT_S} s")


def pending_reservation(database, cast, quantity: int = 25) -> int:
    with database.session() as session:
        officer = session.get(User, cast.officers[LAO_CODES[0]])
        request = operations.prepare_reservation(session, officer, idempotency_key=f"kill-{uuid.uuid4().hex}",
                                                 quantity=quantity, letter_reference="บันทึกข้อความ ที่ 11/2568")
        return request.id


def postings_of(database, request_id: int) -> tuple[str, int, int]:
    """Return the request's status, its number of transactions and its number of posted events."""
    with database.session() as session:
        status = session.get(LedgerRequest, request_id).status
        transactions = session.scalar(select(func.count()).select_from(LedgerTransaction)
                                      .where(LedgerTransaction.request_id == request_id))
        events = session.scalar(select(func.count()).select_from(LedgerEvent)
                                .where(LedgerEvent.request_id == request_id, LedgerEvent.kind == "posted"))
    return status, transactions, events


def enqueue_approval(queue, database, cast, request_id: int, markers: Path, pause: str):
    from rq import Retry

    return queue.enqueue(
        approve_request, database_url(database), cast.executives[LAO_CODES[0]], request_id,
        f"kill-approve-{request_id}", str(markers), pause, retry=Retry(max=2), job_timeout=300,
    )


@pytest.mark.redis
@pytest.mark.parametrize("pause", [PAUSE_BEFORE_COMMIT, PAUSE_AFTER_COMMIT])
def test_killed_horse_job_posts_once(database, cast, queue, redis_url, tmp_path, pause):
    request_id = pending_reservation(database, cast)
    markers = tmp_path / "markers"
    markers.mkdir()
    job = enqueue_approval(queue, database, cast, request_id, markers, pause)
    worker = start_worker(queue, redis_url, tmp_path / "worker.log")
    try:
        horse = wait_for(markers / "paused", worker)
        assert horse != worker.pid
        if pause == PAUSE_BEFORE_COMMIT:
            # Every row is flushed inside the horse's open transaction, and none is visible.
            assert postings_of(database, request_id) == ("pending", 0, 0)
        else:
            assert postings_of(database, request_id) == ("posted", 1, 1)
        os.kill(horse, signal.SIGKILL)
        worker.wait(timeout=WAIT_S)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    log = (tmp_path / "worker.log").read_text(errors="replace")

    job.refresh()
    assert job.get_status() == "finished", log
    assert job.retries_left == 1
    assert len((markers / "attempts").read_text().split()) == 2
    assert postings_of(database, request_id) == ("posted", 1, 1)
    assert ledger_problems(database) == []
    status, result = run_cli_verify(database)
    assert (status, result["ok"]) == (0, True)


@pytest.mark.redis
def test_killed_worker_job_retried_after_cleanup(database, cast, queue, redis_url, tmp_path):
    """The worker and its horse both killed: rq's registry cleanup finds the abandoned job and retries it."""
    from rq.registry import StartedJobRegistry

    request_id = pending_reservation(database, cast)
    markers = tmp_path / "markers"
    markers.mkdir()
    job = enqueue_approval(queue, database, cast, request_id, markers, PAUSE_BEFORE_COMMIT)
    worker = start_worker(queue, redis_url, tmp_path / "worker.log")
    try:
        horse = wait_for(markers / "paused", worker)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=WAIT_S)
        os.kill(horse, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert postings_of(database, request_id) == ("pending", 0, 0)

    registry = StartedJobRegistry(queue=queue)
    # Act as if the job's heartbeat had long expired, as it has once the worker is gone.
    registry.cleanup(timestamp=time.time() + 3600)
    assert queue.count == 1
    second = start_worker(queue, redis_url, tmp_path / "worker.log")
    second.wait(timeout=WAIT_S)

    job.refresh()
    assert job.get_status() == "finished", (tmp_path / "worker.log").read_text(errors="replace")
    assert len((markers / "attempts").read_text().split()) == 2
    assert postings_of(database, request_id) == ("posted", 1, 1)
    assert ledger_problems(database) == []
    assert run_cli_verify(database)[0] == 0
