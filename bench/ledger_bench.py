"""Measure ledger postings per second from 8 concurrent workers, and `saraban ledger verify`, on PostgreSQL.

Usage: .venv/bin/python bench/ledger_bench.py [--workers 8] [--seconds 30] [--verify-events 1000000]
       [--database URL]

Setup: `bench/generate.py` opens LAO accounts, records and allocates a round and posts sales
with retirements, all through `workflow.ledger.operations`. Each measured posting is one
reservation of one tonne: `prepare_reservation` by the LAO's officer, then `approve` by its
executive, which posts it. Each worker is a process with its own session and its own LAO.
`ledger_postings_per_s_pg` counts posted reservations over the wall time of 8 workers;
`ledger_postings_per_s_one_worker` is the baseline from one worker in this process.

Every ledger transaction appends its events to the one hash chain at commit: one statement
locks the chain head row, inserts the events and advances the head, and the commit follows
(`workflow.ledger.chain.write_pending`). `head_held_ms_per_commit_one_worker` is the mean time
from the start of that statement to the end of the commit with one worker, where nothing
waits: the part of each transaction that runs one at a time, so 1000 / that figure bounds the
ledger transactions per second (two per posting). `append_and_commit_ms_8_workers` is the same
interval with 8 workers, waiting for the head row included.

Then the log is filled to `--verify-events` events by bulk inserts (`bulk_fill`) that write
reserve and release postings of one tonne, row for row as the operations write them, with
their events chained after the existing ones. Then `saraban ledger verify --json` runs as a
command over the whole log. `ledger_verify_s_per_million` scales its time to one million
events (exact when the log holds one million). `verify_ok` must be true, which also checks
that the bulk rows match their events. `verify_cpu_s` and `verify_peak_rss_mb` are the verify
process's own CPU time and peak memory.
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event, insert, select, text, update
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402
from workflow.db import Database, upgrade_to_head  # noqa: E402
from workflow.ledger import chain  # noqa: E402
from workflow.ledger import operations as ledger  # noqa: E402
from workflow.ledger.models import (  # noqa: E402
    BUCKET_AVAILABLE,
    BUCKET_RESERVED,
    REQUEST_RELEASE,
    REQUEST_RESERVE,
    SIDE_CREDIT,
    SIDE_DEBIT,
    STATUS_POSTED,
    UNIT_TCO2E,
    Account,
    ChainHead,
    LedgerEntry,
    LedgerEvent,
    LedgerRequest,
    LedgerTransaction,
    SerialBlock,
)
from workflow.ledger.posting import transaction_record  # noqa: E402
from workflow.models import User  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/saraban_bench_ledger"
SETUP_SALES = 200
# Seconds the spawned workers may take to import the project and sign their users in before the common start.
WORKER_START_S = 120
LETTER_REFERENCE = "บันทึกข้อความ กองสิ่งแวดล้อม (ทดสอบ)"
# Reserve-and-release pairs written per bulk insert.
BULK_BATCH_PAIRS = 4000


def _lao_codes(session, count: int) -> list[str]:
    names = session.scalars(select(User.username).where(User.username.like("gen.ledger.%.officer"))
                            .order_by(User.username)).all()
    codes = [name.split(".")[2] for name in names if name.split(".")[2] != "dla"]
    return codes[:count]


class AppendTimer:
    """Sum the time from the start of the chain append to the end of the commit, over one process's commits.

    On PostgreSQL the append is one statement that waits for the chain head row, locks it,
    inserts the events and advances the head (`workflow.ledger.chain._append_postgresql`).
    With one worker nothing waits, so the figure is how long a commit holds the head.
    """

    def __init__(self) -> None:
        self.total_s = 0.0
        self.commits = 0
        self._started_at: float | None = None
        self._append = chain._append_postgresql

    def install(self) -> None:
        def timed_append(session, events):
            self._started_at = time.perf_counter()
            return self._append(session, events)

        chain._append_postgresql = timed_append
        event.listen(Session, "after_commit", self._committed)
        event.listen(Session, "after_rollback", self._rolled_back)

    def reset(self) -> None:
        self.total_s, self.commits = 0.0, 0

    def _committed(self, _session) -> None:
        if self._started_at is not None:
            self.total_s += time.perf_counter() - self._started_at
            self.commits += 1
            self._started_at = None

    def _rolled_back(self, _session) -> None:
        self._started_at = None


def post_reservations(url: str, lao_code: str, label: str, seconds: float, ready=None) -> tuple[int, float, int]:
    """Prepare and approve one-tonne reservations for `lao_code` for `seconds`; return the counts.

    Returns how many were posted, the seconds from the start of each chain append to the end
    of its commit, summed, and the number of those commits. With `ready` (a multiprocessing barrier), the clock starts when
    every worker has imported the project and signed in, so start-up is not measured.
    """
    timer = AppendTimer()
    timer.install()
    database = Database(url)
    session = database.session()
    officer = session.scalar(select(User).where(User.username == f"gen.ledger.{lao_code}.officer"))
    executive = session.scalar(select(User).where(User.username == f"gen.ledger.{lao_code}.executive"))
    session.commit()
    posted = 0
    if ready is not None:
        ready.wait()
    deadline = time.time() + seconds
    timer.reset()
    try:
        while time.time() < deadline:
            request = ledger.prepare_reservation(session, officer, idempotency_key=f"bench-{label}-{posted}-prepare",
                                                 quantity=1, letter_reference=LETTER_REFERENCE)
            ledger.approve(session, executive, request.id, idempotency_key=f"bench-{label}-{posted}-approve")
            posted += 1
    finally:
        session.close()
        database.dispose()
    return posted, timer.total_s, timer.commits


def _worker(url: str, lao_code: str, label: str, seconds: float, ready, results) -> None:
    results.put(post_reservations(url, lao_code, label, seconds, ready))


def _concurrent(url: str, codes: list[str], label: str, seconds: float) -> tuple[int, float, int]:
    """Run one worker process per LAO for `seconds` after a common start; return the sums of their results."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(len(codes), timeout=WORKER_START_S)
    results = context.Queue()
    workers = [context.Process(target=_worker, args=(url, code, f"{label}-{code}", seconds, ready, results))
               for code in codes]
    for worker in workers:
        worker.start()
    counts = [results.get(timeout=WORKER_START_S + seconds + 120) for _ in workers]
    for worker in workers:
        worker.join()
    return sum(item[0] for item in counts), sum(item[1] for item in counts), sum(item[2] for item in counts)


# --- bulk fill ------------------------------------------------------------------------------


class _Lao:
    """One LAO's account, staff and the open available block its next reservation takes."""

    def __init__(self, account: Account, officer_id: int, executive_id: int, block: SerialBlock):
        self.account = account
        self.officer_id = officer_id
        self.executive_id = executive_id
        self.block = (block.id, block.round_id, block.serial_start, block.serial_end)


class _BulkWriter:
    """Build the rows of reserve and release postings exactly as `operations` and `posting` write them."""

    def __init__(self, session: Session, laos: list[_Lao]):
        self.session = session
        self.laos = laos

        def next_id(model) -> int:
            return (session.scalar(select(text("max(id)")).select_from(model.__table__)) or 0) + 1

        self.ids = {model: next_id(model) for model in (LedgerRequest, LedgerTransaction, LedgerEntry, SerialBlock)}
        head = session.get(ChainHead, chain.HEAD_ROW_ID)
        self.sequence, self.last_hash = head.last_event_id, head.last_hash
        self.moment = datetime.now(timezone.utc)
        self.rows: dict[type, list[dict]] = {}
        # The blocks of this batch by id, and blocks inserted before it that this batch closes.
        self.new_blocks: dict[int, dict] = {}
        self.closed_earlier: list[tuple[int, int]] = []

    def _take_id(self, model) -> int:
        value = self.ids[model]
        self.ids[model] += 1
        return value

    def _add(self, model, **values) -> dict:
        self.rows.setdefault(model, []).append(values)
        if model is SerialBlock:
            self.new_blocks[values["id"]] = values
        return values

    def _event(self, kind: str, at: datetime, actor: int, request: int, data: dict, transaction: int | None) -> None:
        self.sequence += 1
        body = chain.canonical_json({"sequence": self.sequence, "kind": kind, "at": at, "actor": actor,
                                     "request": request, "transaction": transaction, "data": data})
        self.last_hash, previous = chain.event_hash(self.last_hash, body), self.last_hash
        self._add(LedgerEvent, kind=kind, request_id=request, transaction_id=transaction, actor_id=actor,
                  occurred_at=at, body=body, previous_hash=previous, hash=self.last_hash)

    def posting(self, lao: _Lao, kind: str, reservation: int | None) -> int:
        """Write one prepared, approved and posted request of `kind` for one tonne; return the request id."""
        self.moment += timedelta(milliseconds=10)
        at = self.moment
        code = lao.account.code
        payload = ({"account": code, "quantity": 1, "buyer_account": None} if kind == REQUEST_RESERVE
                   else {"account": code, "reservation": reservation})
        request = LedgerRequest(
            id=self._take_id(LedgerRequest), kind=kind, status=STATUS_POSTED,
            organization_id=lao.account.organization_id, needs_dla_confirmation=False,
            letter_reference=LETTER_REFERENCE, letter_id=None, payload=payload, prepared_by_id=lao.officer_id,
            prepared_at=at, expires_at=at + timedelta(days=ledger.REQUEST_VALID_DAYS),
            approved_by_id=lao.executive_id, approved_at=at,
        )
        self._add(LedgerRequest, **{column.key: getattr(request, column.key)
                                    for column in LedgerRequest.__table__.columns})
        # NOTE: `_request_record` is private to operations; using it keeps the prepared event's shape exact.
        self._event("prepared", at, lao.officer_id, request.id, ledger._request_record(request), None)
        self._event("approved", at, lao.executive_id, request.id, {"status": "approved"}, None)

        transaction = LedgerTransaction(id=self._take_id(LedgerTransaction), kind=kind, request_id=request.id,
                                        letter_reference=LETTER_REFERENCE, posted_at=at)
        self._add(LedgerTransaction, id=transaction.id, kind=kind, request_id=request.id,
                  letter_reference=LETTER_REFERENCE, posted_at=at)
        source_id, round_id, start, end = lao.block
        source_bucket, target_bucket = ((BUCKET_AVAILABLE, BUCKET_RESERVED) if kind == REQUEST_RESERVE
                                        else (BUCKET_RESERVED, BUCKET_AVAILABLE))
        self._close(source_id, transaction.id)
        moved_id = self._take_id(SerialBlock)
        opened = [[moved_id, code, round_id, target_bucket, start, start,
                   request.id if kind == REQUEST_RESERVE else None]]
        self._add(SerialBlock, id=moved_id, round_id=round_id, account_id=lao.account.id, bucket=target_bucket,
                  serial_start=start, serial_end=start, reservation_request_id=opened[0][6],
                  opened_by_transaction_id=transaction.id, closed_by_transaction_id=None)
        if end > start:
            # The first reservation splits the LAO's block; every later posting moves the same one serial.
            remainder_id = self._take_id(SerialBlock)
            opened.append([remainder_id, code, round_id, source_bucket, start + 1, end, None])
            self._add(SerialBlock, id=remainder_id, round_id=round_id, account_id=lao.account.id,
                      bucket=source_bucket, serial_start=start + 1, serial_end=end, reservation_request_id=None,
                      opened_by_transaction_id=transaction.id, closed_by_transaction_id=None)
        lao.block = (moved_id, round_id, start, start)
        entries = []
        for bucket, side in ((target_bucket, SIDE_DEBIT), (source_bucket, SIDE_CREDIT)):
            entry_id = self._take_id(LedgerEntry)
            self._add(LedgerEntry, id=entry_id, transaction_id=transaction.id, account_id=lao.account.id,
                      unit=UNIT_TCO2E, bucket=bucket, side=side, amount=1)
            entries.append([entry_id, code, UNIT_TCO2E, bucket, side, 1])
        record = transaction_record(transaction, entries, opened, [source_id])
        self._event("posted", at, lao.executive_id, request.id, record, transaction.id)
        return request.id

    def _close(self, block_id: int, transaction_id: int) -> None:
        row = self.new_blocks.get(block_id)
        if row is not None:
            row["closed_by_transaction_id"] = transaction_id
        else:
            self.closed_earlier.append((block_id, transaction_id))

    def flush(self) -> None:
        """Insert the rows built so far, close the earlier blocks and advance the chain head, in one commit."""
        for model in (LedgerRequest, LedgerTransaction, SerialBlock, LedgerEntry, LedgerEvent):
            if self.rows.get(model):
                self.session.execute(insert(model.__table__), self.rows[model])
        for block_id, transaction_id in self.closed_earlier:
            self.session.execute(update(SerialBlock).where(SerialBlock.id == block_id)
                                 .values(closed_by_transaction_id=transaction_id))
        self.session.execute(update(ChainHead).where(ChainHead.id == chain.HEAD_ROW_ID)
                             .values(last_event_id=self.sequence, last_hash=self.last_hash))
        self.session.commit()
        self.rows, self.new_blocks, self.closed_earlier = {}, {}, []


def bulk_fill(url: str, codes: list[str], target_events: int) -> int:
    """Add reserve-and-release postings round-robin over the LAOs until the log holds `target_events`; return how many."""
    database = Database(url)
    session = database.session()
    try:
        laos = []
        for code in codes:
            officer = session.scalar(select(User).where(User.username == f"gen.ledger.{code}.officer"))
            executive = session.scalar(select(User).where(User.username == f"gen.ledger.{code}.executive"))
            account = session.scalar(select(Account).where(Account.organization_id == officer.organization_id))
            block = session.scalars(select(SerialBlock).where(
                SerialBlock.account_id == account.id, SerialBlock.bucket == BUCKET_AVAILABLE,
                SerialBlock.closed_by_transaction_id.is_(None)).order_by(SerialBlock.round_id, SerialBlock.serial_start)
            ).first()
            laos.append(_Lao(account, officer.id, executive.id, block))
        writer = _BulkWriter(session, laos)
        session.execute(select(ChainHead).with_for_update())
        posted = 0
        while writer.sequence + 6 <= target_events:
            for _ in range(BULK_BATCH_PAIRS):
                if writer.sequence + 6 > target_events:
                    break
                lao = laos[posted // 2 % len(laos)]
                reservation = writer.posting(lao, REQUEST_RESERVE, None)
                writer.posting(lao, REQUEST_RELEASE, reservation)
                posted += 2
            writer.flush()
            session.execute(select(ChainHead).with_for_update())
        for model in (LedgerRequest, LedgerTransaction, LedgerEntry, SerialBlock, LedgerEvent):
            table = model.__table__.name
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        session.commit()
        return posted
    finally:
        session.close()
        database.dispose()


# --- verify ---------------------------------------------------------------------------------

# Runs the command in a child and prints its peak resident memory and CPU seconds on stderr. The
# peak is VmHWM from /proc (Linux), because ru_maxrss keeps the parent's peak across exec.
VERIFY_CHILD = (
    "import resource, sys\n"
    "from workflow.cli import main\n"
    "code = main(['ledger', 'verify', '--json'])\n"
    "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "peak = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')]\n"
    "sys.stderr.write(f'peak_rss_kb={peak[0]}\\ncpu_s={usage.ru_utime + usage.ru_stime}\\n')\n"
    "sys.exit(code)\n"
)


def _verify_command(url: str) -> tuple[float, dict, dict[str, float]]:
    """Run the verify command; return its wall time, its JSON output and {"peak_rss_kb", "cpu_s"} of the child."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", VERIFY_CHILD], cwd=ROOT,
                          env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - started
    output = proc.stdout[proc.stdout.index("{"):] if "{" in proc.stdout else "{}"
    usage = {name: float(value) for name, value in
             (line.split("=", 1) for line in proc.stderr.splitlines() if line.startswith(("peak_rss_kb=", "cpu_s=")))}
    return elapsed, json.loads(output), usage


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=8, help="concurrent worker processes (default 8)")
    parser.add_argument("--seconds", type=float, default=30, help="seconds each posting measurement runs (default 30)")
    parser.add_argument("--verify-events", type=int, default=1_000_000,
                        help="events the log holds when verify runs, reached by bulk inserts (default 1000000)")
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

    single, single_append_s, single_commits = post_reservations(args.database, codes[0], "single", args.seconds)
    many, append_s, commits = _concurrent(args.database, codes, "many", args.seconds)
    fill_started = time.perf_counter()
    bulk = bulk_fill(args.database, codes, args.verify_events)
    fill_s = time.perf_counter() - fill_started
    verify_s, verified, verify_usage = _verify_command(args.database)
    events = verified.get("events") or 0

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "ledger_postings_per_s_pg": round(many / args.seconds, 1),
        "ledger_postings_per_s_one_worker": round(single / args.seconds, 1),
        "head_held_ms_per_commit_one_worker": round(1000 * single_append_s / single_commits, 2) if single_commits else None,
        "append_and_commit_ms_8_workers": round(1000 * append_s / commits, 2) if commits else None,
        "workers": args.workers,
        "setup_postings": setup.ledger_postings,
        "bulk_postings": bulk,
        "bulk_fill_s": round(fill_s, 1),
        "ledger_verify_s_per_million": round(verify_s * 1_000_000 / events, 1) if events else None,
        "verify_s": round(verify_s, 2),
        "verify_ok": verified.get("ok"),
        "verified_events": events,
        "verify_cpu_s": round(verify_usage["cpu_s"], 2) if "cpu_s" in verify_usage else None,
        "verify_peak_rss_mb": round(verify_usage["peak_rss_kb"] / 1024, 1) if "peak_rss_kb" in verify_usage else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_worker_mb": round(children, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
