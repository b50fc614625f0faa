"""Generate national-scale routing and ledger data over the real directory, for benchmarks.

Usage: .venv/bin/python bench/generate.py --circulars N --database URL [--seed S]
       [--provinces 57,50] [--ledger-sales M] [--ledger-laos K] [--fresh]

Routing: each circular cascades DLA → provincial offices → district offices → LAOs, every
office forwarding to its direct subordinates in the directory (so a province's PAO gets the
provincial office's letter). Letters, tasks with their stored state, the state counts,
receipts, endorsements and task events are written with COPY through psycopg, because the ORM would take hours at 9 million tasks. The
rows match what `workflow.routing.operations` writes: an intermediate office's task goes
delivered → received → endorsed (แจ้งเวียน) → forwarded, then reported once the circular is past
due. An LAO's task stops at a random state (delivered, received, endorsed, confirmed or
reported), drawn from a mix that depends on whether the due date has passed on `AS_OF`, and an
unanswered past-due task gets an `overdue` mark as the daily job would add.

Ledger: accounts, a certification round, an allocation, sales and retirements go through
`workflow.ledger.operations` with their approvals, because every posted event extends a hash
chain that `saraban ledger verify` checks.

Only PostgreSQL is supported, and the routing tables must be empty (pass --fresh to drop and
create the database first). The same seed and options give the same data.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflow.db import Database, upgrade_to_head  # noqa: E402
from workflow.directory import load_directory  # noqa: E402
from workflow.ledger import models as _ledger_models  # noqa: E402,F401  (registers the ledger tables)
from workflow.ledger import operations as ledger  # noqa: E402
from workflow.models import (  # noqa: E402
    ORG_DEPARTMENT,
    ORG_LAO,
    ROLE_CLERK,
    ROLE_OFFICER,
    ROLE_SUPERVISOR,
    Organization,
    User,
)
from workflow.routing.admin import default_doc_prefix  # noqa: E402
from workflow.routing.calendar import BANGKOK  # noqa: E402
from workflow.routing.models import (  # noqa: E402
    EVENT_CONFIRMED,
    EVENT_DELIVERED,
    EVENT_ENDORSED,
    EVENT_FORWARDED,
    EVENT_OVERDUE,
    EVENT_RECEIVED,
    EVENT_REPORTED,
    NO_DUE_DATE,
    REGISTER_CIRCULAR,
    REGISTER_RECEIPT,
)

log = logging.getLogger("bench.generate")

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/saraban_bench"
# Sign-in password of every generated user; the inbox benchmark signs in with it.
PASSWORD = "รหัสทดสอบ-2568"
# Circulars are issued on working days from this date, one or more a day; the roll-ups are read on AS_OF.
FIRST_ISSUED_ON = date(2023, 1, 4)
DUE_AFTER_DAYS = 21
CIRCULARS_PER_COMMIT = 20
CONFIRMATION_FORM = [
    {"name": "officer_name", "label_th": "ชื่อผู้รับผิดชอบ", "kind": "text", "required": True},
    {"name": "phone", "label_th": "โทรศัพท์", "kind": "text", "required": True},
]
SUBJECTS = (
    "การคัดแยกขยะมูลฝอยในครัวเรือน",
    "การจัดทำถังขยะเปียกลดโลกร้อน",
    "การป้องกันและควบคุมโรคไข้เลือดออก",
    "การเตรียมความพร้อมรับมือสาธารณภัยช่วงฤดูฝน",
    "การรายงานผลการเบิกจ่ายเงินอุดหนุนทั่วไป",
    "การจัดเก็บภาษีที่ดินและสิ่งปลูกสร้าง",
    "การส่งเสริมการมีส่วนร่วมของประชาชนในการเลือกตั้งท้องถิ่น",
    "การสำรวจข้อมูลผู้สูงอายุและผู้พิการ",
)
# State an LAO's task stops at, with weights, before and after its due date has passed.
MIX_OPEN = ((EVENT_DELIVERED, 15), (EVENT_RECEIVED, 20), (EVENT_ENDORSED, 20), (EVENT_CONFIRMED, 15), (EVENT_REPORTED, 30))
MIX_PAST_DUE = ((EVENT_DELIVERED, 3), (EVENT_RECEIVED, 4), (EVENT_ENDORSED, 5), (EVENT_CONFIRMED, 3), (EVENT_REPORTED, 85))
LAO_STEPS = (EVENT_DELIVERED, EVENT_RECEIVED, EVENT_ENDORSED, EVENT_CONFIRMED, EVENT_REPORTED)


@dataclass
class Office:
    id: int
    code: str
    kind: str
    name_th: str
    prefix: str
    children: list[int] = field(default_factory=list)
    clerk_id: int = 0
    head_id: int = 0


@dataclass
class CircularCounts:
    """What the generator wrote for one DLA circular, for checking the roll-up against."""

    doc_number: str
    letter_id: int
    due_effective: date
    lao_states: dict[str, int]
    recipients: int
    confirmed: int
    overdue: int


@dataclass
class Summary:
    circulars: list[CircularCounts] = field(default_factory=list)
    letters: int = 0
    tasks: int = 0
    events: int = 0
    seconds: float = 0.0
    ledger_events: int = 0
    ledger_postings: int = 0
    ledger_seconds: float = 0.0


def as_of(circulars: int) -> date:
    """Return the day the generated data describes: two weeks after the last circular was issued."""
    return _issue_day(circulars - 1) + timedelta(days=14)


def _issue_day(index: int) -> date:
    # Two circulars a working day; weekends skipped, holidays ignored.
    day, left = FIRST_ISSUED_ON, index // 2
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def _due_day(issued_on: date) -> date:
    due = issued_on + timedelta(days=DUE_AFTER_DAYS)
    while due.weekday() >= 5:
        due += timedelta(days=1)
    return due


def _stamp(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock(hour, minute), BANGKOK).astimezone(timezone.utc)


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def recreate_database(url: str) -> None:
    """Drop and create the database named in `url`, connecting to `postgres` on the same server."""
    parsed = make_url(url)
    admin = _psycopg_dsn(parsed.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


# --- directory and users ------------------------------------------------------------------


def _load_offices(session, provinces: set[str] | None) -> tuple[Office, dict[int, Office]]:
    rows = session.execute(select(Organization)).scalars().all()
    offices: dict[int, Office] = {}
    for org in rows:
        if provinces and org.kind != ORG_DEPARTMENT and org.province_code not in provinces:
            continue
        offices[org.id] = Office(org.id, org.code, org.kind, org.name_th, default_doc_prefix(org))
    for org in rows:
        if org.id in offices and org.parent_id in offices:
            offices[org.parent_id].children.append(org.id)
    for office in offices.values():
        office.children.sort(key=lambda org_id: offices[org_id].code)
    dla = next(office for office in offices.values() if office.kind == ORG_DEPARTMENT)
    return dla, offices


def _add_users(conn: psycopg.Connection, offices: dict[int, Office]) -> None:
    """Insert a clerk (`gen.<code>.clerk`) and a supervisor (`gen.<code>.head`) for every office with COPY."""
    password_hash = generate_password_hash(PASSWORD)
    now = datetime.now(timezone.utc)
    with conn.cursor() as cur:
        with cur.copy("COPY users (username, display_name, password_hash, organization_id, role, created_at) FROM STDIN") as copy:
            for office in offices.values():
                copy.write_row((f"gen.{office.code}.clerk", f"เจ้าหน้าที่สารบรรณ {office.name_th}", password_hash,
                                office.id, ROLE_CLERK, now))
                copy.write_row((f"gen.{office.code}.head", f"หัวหน้า {office.name_th}", password_hash,
                                office.id, ROLE_SUPERVISOR, now))
        cur.execute("SELECT id, username FROM users WHERE username LIKE 'gen.%'")
        by_name = dict((username, user_id) for user_id, username in cur.fetchall())
        with cur.copy("COPY staff_positions (user_id, position_th) FROM STDIN") as copy:
            for office in offices.values():
                office.clerk_id = by_name[f"gen.{office.code}.clerk"]
                office.head_id = by_name[f"gen.{office.code}.head"]
                copy.write_row((office.head_id, f"หัวหน้า{office.name_th}"))


# --- routing ------------------------------------------------------------------------------


class _Ids:
    """The next id of each table, handed out here so that rows can reference each other before COPY."""

    def __init__(self, conn: psycopg.Connection, tables: tuple[str, ...]):
        self.next = {}
        for table in tables:
            self.next[table] = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


_COLUMNS = {
    "official_letters": (
        "id", "doc_number", "is_circular", "serial", "letter_date", "subject", "urgency", "issuer_name",
        "issuer_org_id", "parent_letter_id", "root_letter_id", "due_nominal", "due_effective", "due_rule",
        "relative_working_days", "confirmation_form", "signed_by_id", "signed_capacity", "covering_files",
        "warnings", "created_by_id", "created_at",
    ),
    "letter_citations": ("letter_id", "role", "text", "cited_number", "cited_date", "cited_letter_id", "matched_by"),
    "routing_tasks": ("id", "letter_id", "root_letter_id", "sender_org_id", "recipient_org_id", "due_nominal",
                      "due_effective", "created_at", "state", "overdue_marked"),
    "routing_state_counts": ("root_letter_id", "recipient_kind", "state", "due_on", "tasks"),
    "receipts": ("id", "organization_id", "letter_id", "year", "number", "received_at", "entered_at",
                 "entered_by_id", "channel", "sender_text", "warnings"),
    "receipt_arrivals": ("receipt_id", "channel", "arrived_at", "entered_by_id", "entered_at"),
    "endorsements": ("id", "receipt_id", "organization_id", "endorsed_by_id", "decisions", "assigned_unit",
                     "capacity", "endorsed_on", "created_at"),
    "task_events": ("task_id", "kind", "occurred_at", "actor_id", "data"),
}
_ID_TABLES = ("official_letters", "routing_tasks", "receipts", "endorsements")
_TASK_ROOT = _COLUMNS["routing_tasks"].index("root_letter_id")
_TASK_DUE_EFFECTIVE = _COLUMNS["routing_tasks"].index("due_effective")
_TASK_STATE = _COLUMNS["routing_tasks"].index("state")
_TASK_OVERDUE_MARKED = _COLUMNS["routing_tasks"].index("overdue_marked")


class _Batch:
    """Rows of a few circulars, per table, waiting for one COPY each.

    A task's row keeps changing until the batch is copied: each event sets its stored state
    or overdue mark as `workflow.routing.state.record_state_change` does. The counts of
    `routing_state_counts` are then counted from those rows. A batch holds whole cascades, so
    every count row is new.
    """

    def __init__(self):
        self.rows: dict[str, list[tuple]] = {table: [] for table in _COLUMNS}
        # Task id → [row values in _COLUMNS order, recipient kind].
        self.tasks: dict[int, list[Any]] = {}

    def add(self, table: str, *values: Any) -> None:
        self.rows[table].append(values)

    def add_task(self, recipient_kind: str, *values: Any) -> None:
        self.tasks[values[0]] = [list(values) + [EVENT_DELIVERED, False], recipient_kind]

    def record_event(self, task_id: int, kind: str) -> None:
        row = self.tasks[task_id][0]
        if kind == EVENT_OVERDUE:
            row[_TASK_OVERDUE_MARKED] = True
        else:
            row[_TASK_STATE] = kind

    def _finish_tasks(self) -> None:
        counts: dict[tuple, int] = {}
        for row, recipient_kind in self.tasks.values():
            self.rows["routing_tasks"].append(tuple(row))
            due = row[_TASK_DUE_EFFECTIVE] or NO_DUE_DATE
            key = (row[_TASK_ROOT], recipient_kind, row[_TASK_STATE], due)
            counts[key] = counts.get(key, 0) + 1
        self.rows["routing_state_counts"] = [(*key, tasks) for key, tasks in counts.items()]
        self.tasks = {}

    def copy_into(self, conn: psycopg.Connection) -> int:
        self._finish_tasks()
        written = 0
        with conn.cursor() as cur:
            for table, rows in self.rows.items():
                if not rows:
                    continue
                columns = ", ".join(_COLUMNS[table])
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                written += len(rows)
        return written


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class RoutingGenerator:
    """Writes circulars cascading through `offices`, keeping each office's register numbers."""

    def __init__(self, conn: psycopg.Connection, dla: Office, offices: dict[int, Office], rng: random.Random,
                 total_circulars: int):
        self.conn = conn
        self.dla = dla
        self.offices = offices
        self.rng = rng
        self.as_of = as_of(total_circulars)
        self.ids = _Ids(conn, _ID_TABLES)
        # (org id, register, year) → last number taken.
        self.counters: dict[tuple[int, str, int], int] = {}

    def _number(self, org_id: int, register: str, year: int) -> int:
        key = (org_id, register, year)
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def circular(self, batch: _Batch, index: int, summary: Summary) -> CircularCounts:
        issued_on = _issue_day(index)
        due = _due_day(issued_on)
        subject = f"{SUBJECTS[index % len(SUBJECTS)]} (ฉบับที่ {index + 1})"
        root = self._letter(batch, self.dla, None, None, subject, issued_on, due)
        counts = CircularCounts(root[1], root[0], due, {step: 0 for step in LAO_STEPS}, 0, 0, 0)
        self._send(batch, self.dla, root, root[0], subject, issued_on, due, counts, summary)
        summary.letters += 1
        return counts

    def _letter(self, batch: _Batch, office: Office, parent: tuple | None, root_id: int | None, subject: str,
                issued_on: date, due: date) -> tuple[int, str, date]:
        letter_id = self.ids.take("official_letters")
        serial = self._number(office.id, REGISTER_CIRCULAR, issued_on.year)
        doc_number = f"{office.prefix}/ว {serial}"
        batch.add(
            "official_letters", letter_id, doc_number, True, serial, issued_on, subject, None, office.name_th,
            office.id, parent[0] if parent else None, root_id or letter_id, due, due, "stated", False,
            _json(CONFIRMATION_FORM), office.head_id, "self", "{}", "[]", office.clerk_id, _stamp(issued_on, 9),
        )
        if parent is not None:
            batch.add("letter_citations", letter_id, "enclosure", f"สำเนาหนังสือ ที่ {parent[1]}", parent[1],
                      parent[2], parent[0], "number_date")
        return letter_id, doc_number, issued_on

    def _send(self, batch: _Batch, sender: Office, letter: tuple, root_id: int, subject: str, issued_on: date,
              due: date, counts: CircularCounts, summary: Summary) -> None:
        """Write `letter`'s task for each child of `sender`, and the cascade below each child that forwards."""
        for child_id in sender.children:
            child = self.offices[child_id]
            task_id = self.ids.take("routing_tasks")
            batch.add_task(child.kind, task_id, letter[0], root_id, sender.id, child.id, due, due,
                           _stamp(issued_on, 9, 30))
            summary.tasks += 1
            self._event(batch, task_id, EVENT_DELIVERED, _stamp(issued_on, 9, 30), sender.clerk_id,
                        {"letter_id": letter[0]}, summary)
            if child.children:
                self._forward(batch, child, sender, letter, task_id, root_id, subject, issued_on, due, counts, summary)
            else:
                self._lao_task(batch, child, sender, letter, task_id, issued_on, due, counts, summary)

    def _forward(self, batch: _Batch, office: Office, sender: Office, letter: tuple, task_id: int, root_id: int,
                 subject: str, issued_on: date, due: date, counts: CircularCounts, summary: Summary) -> None:
        # An office re-issues on the day it receives, two working days before the parent's due date.
        self._receive_and_endorse(batch, office, sender, letter, task_id, issued_on, ["แจ้งเวียน"], summary)
        own_due = due - timedelta(days=2)
        own = self._letter(batch, office, letter, root_id, subject, issued_on, own_due)
        summary.letters += 1
        before = counts.recipients, counts.confirmed, counts.overdue
        self._send(batch, office, own, root_id, subject, issued_on, own_due, counts, summary)
        self._event(batch, task_id, EVENT_FORWARDED, _stamp(issued_on, 14), office.clerk_id,
                    {"letter_id": own[0], "doc_number": own[1], "recipients": len(office.children)}, summary)
        if due < self.as_of:
            self._event(batch, task_id, EVENT_REPORTED, _stamp(due, 16), office.head_id, {
                "reported_on": due.isoformat(), "note": None,
                "counts": {"recipients": counts.recipients - before[0], "confirmed": counts.confirmed - before[1],
                           "overdue": counts.overdue - before[2]},
                "capacity": "self", "delegation_id": None,
            }, summary)

    def _receive_and_endorse(self, batch: _Batch, office: Office, sender: Office, letter: tuple, task_id: int,
                             day: date, decisions: list[str], summary: Summary, endorse: bool = True) -> None:
        receipt_id = self.ids.take("receipts")
        number = self._number(office.id, REGISTER_RECEIPT, day.year)
        received_at = _stamp(day, 10)
        batch.add("receipts", receipt_id, office.id, letter[0], day.year, number, received_at, received_at,
                  office.clerk_id, "system", sender.name_th, "[]")
        batch.add("receipt_arrivals", receipt_id, "system", received_at, office.clerk_id, received_at)
        self._event(batch, task_id, EVENT_RECEIVED, received_at, office.clerk_id, {
            "receipt_id": receipt_id, "receipt_number": number, "year": day.year, "received_on": day.isoformat(),
        }, summary)
        if not endorse:
            return
        endorsement_id = self.ids.take("endorsements")
        batch.add("endorsements", endorsement_id, receipt_id, office.id, office.head_id, _json(decisions), None,
                  "self", day, _stamp(day, 11))
        self._event(batch, task_id, EVENT_ENDORSED, _stamp(day, 11), office.head_id, {
            "endorsement_id": endorsement_id, "decisions": decisions, "assigned_unit": None,
            "capacity": "self", "delegation_id": None,
        }, summary)

    def _lao_task(self, batch: _Batch, lao: Office, sender: Office, letter: tuple, task_id: int, issued_on: date,
                  due: date, counts: CircularCounts, summary: Summary) -> None:
        past_due = due < self.as_of
        mix = MIX_PAST_DUE if past_due else MIX_OPEN
        final = self.rng.choices([state for state, _w in mix], weights=[w for _s, w in mix])[0]
        counts.lao_states[final] += 1
        counts.recipients += 1
        reached = LAO_STEPS.index(final)
        day = issued_on + timedelta(days=1)
        if reached >= 1:
            self._receive_and_endorse(batch, lao, sender, letter, task_id, day, ["ทราบ", "ดำเนินการ"], summary,
                                      endorse=reached >= 2)
        if reached >= 3:
            self._event(batch, task_id, EVENT_CONFIRMED, _stamp(day, 15), lao.clerk_id, {
                "values": {"officer_name": f"ผู้รับผิดชอบ {lao.name_th}", "phone": "053 731 234"},
                "confirmed_by": lao.clerk_id,
            }, summary)
        if reached >= 4:
            counts.confirmed += 1
            self._event(batch, task_id, EVENT_REPORTED, _stamp(day, 16), lao.head_id, {
                "approved_on": day.isoformat(), "note": None, "capacity": "self", "delegation_id": None,
            }, summary)
        elif past_due:
            counts.overdue += 1
            self._event(batch, task_id, EVENT_OVERDUE, _stamp(due + timedelta(days=1), 6), None,
                        {"due_effective": due.isoformat(), "escalated_to": sender.id}, summary)

    def _event(self, batch: _Batch, task_id: int, kind: str, at: datetime, actor_id: int | None, data: dict,
               summary: Summary) -> None:
        batch.add("task_events", task_id, kind, at, actor_id, _json(data))
        batch.record_event(task_id, kind)
        summary.events += 1

    def finish(self) -> None:
        """Store the register counters and move each id sequence past the ids handed out."""
        with self.conn.cursor() as cur:
            with cur.copy("COPY register_counters (organization_id, register, year, next_number) FROM STDIN") as copy:
                for (org_id, register, year), last in self.counters.items():
                    copy.write_row((org_id, register, year, last + 1))
            for table in (*_ID_TABLES, "letter_citations", "receipt_arrivals", "task_events"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")


def generate_routing(url: str, circulars: int, seed: int, provinces: set[str] | None = None,
                     time_limit_s: float | None = None) -> Summary:
    """Write `circulars` DLA circulars and their cascades; stop early after `time_limit_s` seconds.

    Returns a Summary whose `circulars` lists what was written for each circular.
    """
    database = Database(url)
    session = database.session()
    try:
        if session.execute(text("SELECT count(*) FROM organizations")).scalar() == 0:
            load_directory(session)
            session.commit()
        if session.execute(text("SELECT count(*) FROM official_letters")).scalar():
            raise SystemExit("official_letters already has rows; pass --fresh to start from an empty database")
        dla, offices = _load_offices(session, provinces)
    finally:
        session.close()
        database.dispose()

    summary = Summary()
    rng = random.Random(seed)
    started = time.perf_counter()
    with psycopg.connect(_psycopg_dsn(url)) as conn:
        _skip_foreign_key_triggers(conn)
        _add_users(conn, offices)
        generator = RoutingGenerator(conn, dla, offices, rng, circulars)
        conn.commit()
        index = 0
        while index < circulars:
            batch = _Batch()
            for _ in range(min(CIRCULARS_PER_COMMIT, circulars - index)):
                summary.circulars.append(generator.circular(batch, index, summary))
                index += 1
            batch.copy_into(conn)
            generator_commit(conn, generator)
            log.info("%d circulars, %d tasks, %d events in %.0f s", index, summary.tasks, summary.events,
                     time.perf_counter() - started)
            if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
                log.warning("stopped after %d of %d circulars: time limit of %.0f s reached", index, circulars,
                            time_limit_s)
                break
        conn.execute("ANALYZE")
        conn.commit()
    summary.seconds = time.perf_counter() - started
    return summary


def _skip_foreign_key_triggers(conn: psycopg.Connection) -> None:
    """Skip the foreign-key triggers on this connection when the role is a superuser.

    The generator hands out every id itself, so the references hold by construction, and
    tests/test_generate.py checks them. Skipping them cut 20 circulars from 47 s to 15 s on
    a 2-CPU machine. Without superuser rights the triggers run as usual.
    """
    superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    if superuser:
        conn.execute("SET session_replication_role = replica")
    conn.execute("SET synchronous_commit = off")


def generator_commit(conn: psycopg.Connection, generator: RoutingGenerator) -> None:
    """Commit a batch with the counters and sequences consistent with it, so a stopped run is usable."""
    conn.execute("DELETE FROM register_counters WHERE register IN (%s, %s)", (REGISTER_RECEIPT, REGISTER_CIRCULAR))
    generator.finish()
    conn.commit()


# --- ledger -------------------------------------------------------------------------------


BANK_TAX_ID = "0107536000315"


def _staff(session, username: str, organization_id: int, role: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=username, password_hash="!", organization_id=organization_id,
                    role=role)
        session.add(user)
        session.commit()
    return user


def generate_ledger(url: str, seed: int, laos: int, sales: int, provinces: set[str] | None = None) -> Summary:
    """Open `laos` LAO accounts, record and allocate a round, then post `sales` sales, each followed by a retirement.

    Every step is a real prepare-and-approve of `workflow.ledger.operations`; a sale is
    approved by the LAO's executive and confirmed by DLA. Returns a Summary with the counts.
    """
    rng = random.Random(seed)
    summary = Summary()
    started = time.perf_counter()
    database = Database(url)
    session = database.session()
    try:
        if session.execute(text("SELECT count(*) FROM organizations")).scalar() == 0:
            load_directory(session)
            session.commit()
        query = select(Organization).where(Organization.kind == ORG_LAO).order_by(Organization.code)
        if provinces:
            query = query.where(Organization.province_code.in_(sorted(provinces)))
        chosen = list(session.scalars(query.limit(laos)))
        dla = session.scalar(select(Organization).where(Organization.kind == ORG_DEPARTMENT))
        dla_officer = _staff(session, "gen.ledger.dla.officer", dla.id, ROLE_OFFICER)
        dla_head = _staff(session, "gen.ledger.dla.head", dla.id, ROLE_SUPERVISOR)
        staff = {}
        moment = datetime(2025, 4, 10, 10, tzinfo=BANGKOK)
        for lao in chosen:
            officer = _staff(session, f"gen.ledger.{lao.code}.officer", lao.id, ROLE_OFFICER)
            executive = _staff(session, f"gen.ledger.{lao.code}.executive", lao.id, ROLE_SUPERVISOR)
            staff[lao.code] = (officer, executive)
            request = ledger.prepare_account_opening(session, officer, idempotency_key=f"gen-open-{lao.code}",
                                                     letter_reference="มท 0821.2/ว 1446", now=moment)
            ledger.approve(session, executive, request.id, idempotency_key=f"gen-open-ok-{lao.code}", now=moment)
            summary.ledger_postings += 1
        bins = {lao.code: rng.randint(1000, 3999) for lao in chosen}
        quantity = sum(bins.values())
        moment = datetime(2025, 8, 20, 10, tzinfo=BANGKOK)
        request = ledger.prepare_issue(
            session, dla_officer, idempotency_key="gen-issue", round_number=1, monitoring_start=date(2024, 10, 1),
            monitoring_end=date(2025, 3, 31), certified_on=date(2025, 8, 15), quantity=quantity,
            registry_reference="T-VER-GEN-2025-01", serial_start=1, serial_end=quantity,
            letter_reference="อบก. ที่ 0123/2568", now=moment,
        )
        ledger.approve(session, dla_head, request.id, idempotency_key="gen-issue-ok", now=moment)
        request = ledger.prepare_allocation(session, dla_officer, idempotency_key="gen-allocate", round_number=1,
                                            bins=bins, letter_reference="มท 0821.2/ว 2050", now=moment)
        ledger.approve(session, dla_head, request.id, idempotency_key="gen-allocate-ok", now=moment)
        summary.ledger_postings += 2
        bank = ledger.register_buyer(
            session, dla_officer, idempotency_key="gen-buyer", kind="company", name_th="ธนาคารตัวอย่าง จำกัด (มหาชน)",
            tax_id=BANK_TAX_ID, address_th="99 ถนนพหลโยธิน แขวงสามเสนใน เขตพญาไท กรุงเทพมหานคร 10400",
            contact_name="นายธนพล รักษ์โลก", contact_email="esg@bank.example", now=moment,
        )
        for number in range(sales):
            summary.ledger_postings += _sale_and_retirement(session, rng, staff, chosen, bank.code, dla_officer,
                                                            dla_head, number)
        summary.ledger_events = session.execute(text("SELECT count(*) FROM ledger_events")).scalar()
    finally:
        session.close()
        database.dispose()
    summary.ledger_seconds = time.perf_counter() - started
    return summary


def _sale_and_retirement(session, rng: random.Random, staff: dict, laos: list[Organization], bank: str,
                         dla_officer: User, dla_head: User, number: int) -> int:
    """Sell one to three tonnes from a random LAO to the bank and retire them; return the postings made."""
    lao = rng.choice(laos)
    officer, executive = staff[lao.code]
    tonnes = rng.randint(1, 3)
    moment = datetime(2025, 9, 1, 9, tzinfo=BANGKOK) + timedelta(minutes=number)
    sale = ledger.prepare_transfer(
        session, officer, idempotency_key=f"gen-sale-{number}", buyer_account=bank, quantity=tonnes,
        receipt_number=f"รบ {number + 1:04d}/2568", receipt_date=moment.date(),
        letter_reference=f"ธนาคารตัวอย่าง ที่ ESG {number + 1}/2568", now=moment,
    )
    ledger.approve(session, executive, sale.id, idempotency_key=f"gen-sale-ok-{number}", now=moment)
    ledger.confirm(session, dla_head, sale.id, idempotency_key=f"gen-sale-confirm-{number}", now=moment)
    retirement = ledger.prepare_retirement(
        session, dla_officer, idempotency_key=f"gen-retire-{number}", account_code=bank, quantity=tonnes,
        beneficiary="ธนาคารตัวอย่าง จำกัด (มหาชน)", purpose="ชดเชยการปล่อยก๊าซเรือนกระจกจากการใช้ไฟฟ้า ปี 2567",
        letter_reference=f"ธนาคารตัวอย่าง ที่ ESG {number + 1}/2568", now=moment,
    )
    ledger.approve(session, dla_head, retirement.id, idempotency_key=f"gen-retire-ok-{number}", now=moment)
    return 2


# --- command line -------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--circulars", type=int, default=10, help="DLA circulars to cascade (default 10)")
    parser.add_argument("--database", default=DEFAULT_URL, help=f"SQLAlchemy URL of a PostgreSQL database (default {DEFAULT_URL})")
    parser.add_argument("--seed", type=int, default=2568, help="random seed (default 2568)")
    parser.add_argument("--provinces", default="", help="comma-separated DOPA province codes to limit the directory to (default: all)")
    parser.add_argument("--ledger-laos", type=int, default=50, help="LAOs that open ledger accounts (default 50)")
    parser.add_argument("--ledger-sales", type=int, default=0, help="sales, each with a retirement, to post (default 0)")
    parser.add_argument("--time-limit", type=float, default=None, help="stop adding circulars after this many seconds")
    parser.add_argument("--fresh", action="store_true", help="drop and create the database first")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = _parse_args(argv)
    if make_url(args.database).get_backend_name() != "postgresql":
        raise SystemExit("bench/generate.py writes with COPY and needs a PostgreSQL URL")
    if args.fresh:
        recreate_database(args.database)
    upgrade_to_head(args.database)
    provinces = {code.strip() for code in args.provinces.split(",") if code.strip()} or None
    routing = generate_routing(args.database, args.circulars, args.seed, provinces, args.time_limit)
    result = {"circulars": len(routing.circulars), "letters": routing.letters, "tasks": routing.tasks,
              "events": routing.events, "routing_seconds": round(routing.seconds, 1)}
    if args.ledger_sales or args.ledger_laos:
        books = generate_ledger(args.database, args.seed, args.ledger_laos, args.ledger_sales, provinces)
        result.update(ledger_events=books.ledger_events, ledger_postings=books.ledger_postings,
                      ledger_seconds=round(books.ledger_seconds, 1))
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(json.dumps(main(), ensure_ascii=False, indent=1))
