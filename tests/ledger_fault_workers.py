"""Worker processes and rq jobs for the ledger fault tests.

`setup_ledger` funds eight LAOs of Mae Sai from two certified rounds. `run_worker` is the
body of one of the concurrent processes: it prepares and approves random ledger requests
and counts what posted and what the ledger rejected. `approve_request` is an rq job that can
stop itself in the middle of posting (or just after its commit) until it is killed, so that
the test can kill its process at that point.
"""

from __future__ import annotations

import os
import random
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from workflow.db import Database
from workflow.errors import WorkflowError
from workflow.ledger import operations
from workflow.ledger import posting
from workflow.ledger.models import LedgerRequest, LedgerTransaction
from workflow.models import User
from workflow.routing.testing import make_user

LAO_CODES = ("5570901", "5570902", "5570903", "5570904", "6570905", "6570906", "6570907", "6570908")
ROUND_SIZE = 2000
# Units of round 1 allocated before the workers start. The rest, and all of round 2, stay with DLA.
FIRST_ALLOCATION = 1200
OPERATIONS = ("allocate", "reserve", "sale", "retire", "cancel", "reverse")
# How long a paused job waits for the test to kill it before giving up.
PAUSE_LIMIT_S = 120


@dataclass
class LedgerCast:
    """User ids of the people who act on the ledger, by LAO code, and the buyer's account code."""

    dla_officer: int
    dla_head: int
    officers: dict[str, int] = field(default_factory=dict)
    executives: dict[str, int] = field(default_factory=dict)
    buyer: str = ""


def _issue_round(session, cast_users, round_number: int, key_prefix: str) -> None:
    start = (round_number - 1) * ROUND_SIZE + 1
    request = operations.prepare_issue(
        session, cast_users["dla_officer"], idempotency_key=f"{key_prefix}-issue-{round_number}",
        round_number=round_number, monitoring_start=date(2023, 4, 1), monitoring_end=date(2023, 9, 30),
        certified_on=date(2024, 3, 15), quantity=ROUND_SIZE, registry_reference=f"T-VER-P-0001-R{round_number}",
        serial_start=start, serial_end=start + ROUND_SIZE - 1, letter_reference="อบก. ที่ 0001/2567",
    )
    operations.approve(session, cast_users["dla_head"], request.id, idempotency_key=f"{key_prefix}-approve-{round_number}")


def setup_ledger(database: Database) -> LedgerCast:
    """Open the eight LAOs' accounts, certify two rounds, allocate part of round 1, register a buyer."""
    session = database.session()
    try:
        users = {"dla_officer": make_user(session, "f.dla.officer", "DLA", "officer"),
                 "dla_head": make_user(session, "f.dla.head", "DLA", "supervisor",
                                       "ผู้อำนวยการกองส่งเสริมและพัฒนาการจัดการสิ่งแวดล้อมท้องถิ่น")}
        cast = LedgerCast(dla_officer=users["dla_officer"].id, dla_head=users["dla_head"].id)
        for code in LAO_CODES:
            officer = make_user(session, f"f.{code}.officer", code, "officer")
            executive = make_user(session, f"f.{code}.exec", code, "supervisor")
            cast.officers[code], cast.executives[code] = officer.id, executive.id
            request = operations.prepare_account_opening(session, officer, idempotency_key=f"setup-open-{code}",
                                                         letter_reference="มท 0821.2/ว 1446")
            operations.approve(session, executive, request.id, idempotency_key=f"setup-open-approve-{code}")
        for round_number in (1, 2):
            _issue_round(session, users, round_number, "setup")
        request = operations.prepare_allocation(
            session, users["dla_officer"], idempotency_key="setup-allocate", round_number=1,
            bins={code: 10 for code in LAO_CODES}, quantity=FIRST_ALLOCATION, letter_reference="มท 0821.2/ว 2001",
        )
        operations.approve(session, users["dla_head"], request.id, idempotency_key="setup-allocate-approve")
        cast.buyer = operations.register_buyer(
            session, users["dla_officer"], idempotency_key="setup-buyer", kind="company",
            name_th="ธนาคารกรุงไทย จำกัด (มหาชน)", tax_id="0107536000315",
            address_th="35 ถนนสุขุมวิท แขวงคลองเตยเหนือ เขตวัฒนา กรุงเทพมหานคร 10110",
            contact_name="นางสาวณัฐธิดา วงศ์ใหญ่", contact_email="esg@example.co.th",
        ).code
        return cast
    finally:
        session.close()


# --- the concurrent workers ------------------------------------------------------------------


class _Worker:
    def __init__(self, session, cast: LedgerCast, index: int, seed: int):
        self.session = session
        self.cast = cast
        self.index = index
        self.random = random.Random(seed * 1000 + index)
        self.keys = 0

    def key(self, step: str) -> str:
        self.keys += 1
        return f"w{self.index}-{self.keys}-{step}"

    def user(self, user_id: int) -> User:
        return self.session.get(User, user_id)

    def decide(self, request: LedgerRequest, executive_id: int) -> None:
        """Approve as the owner's executive, then confirm as DLA when DLA must confirm."""
        request = operations.approve(self.session, self.user(executive_id), request.id, idempotency_key=self.key("approve"))
        if request.status == "approved":
            operations.confirm(self.session, self.user(self.cast.dla_head), request.id, idempotency_key=self.key("confirm"))

    def lao(self) -> str:
        return self.random.choice(LAO_CODES)

    def quantity(self) -> int:
        return self.random.randint(1, 40)

    def allocate(self) -> None:
        chosen = self.random.sample(LAO_CODES, 3)
        request = operations.prepare_allocation(
            self.session, self.user(self.cast.dla_officer), idempotency_key=self.key("allocate"),
            round_number=self.random.choice((1, 2)), bins={code: self.random.randint(1, 20) for code in chosen},
            quantity=self.random.randint(10, 120), letter_reference="มท 0821.2/ว 2002",
        )
        self.decide(request, self.cast.dla_head)

    def reserve(self) -> None:
        code = self.lao()
        request = operations.prepare_reservation(
            self.session, self.user(self.cast.officers[code]), idempotency_key=self.key("reserve"),
            quantity=self.quantity(), letter_reference="บันทึกข้อความ ที่ 7/2568",
        )
        self.decide(request, self.cast.executives[code])

    def sale(self) -> None:
        code = self.lao()
        request = operations.prepare_transfer(
            self.session, self.user(self.cast.officers[code]), idempotency_key=self.key("sale"),
            buyer_account=self.cast.buyer, quantity=self.quantity(), receipt_number=f"รบ {self.keys}/2568",
            receipt_date=date(2025, 6, 2), letter_reference="ธนาคารกรุงไทย ที่ ESG 12/2568",
        )
        self.decide(request, self.cast.executives[code])

    def retire(self) -> None:
        code = self.lao()
        request = operations.prepare_retirement(
            self.session, self.user(self.cast.officers[code]), idempotency_key=self.key("retire"),
            account_code=f"LAO-{code}", quantity=self.quantity(), beneficiary="บริษัท ปูนซิเมนต์ไทย จำกัด (มหาชน)",
            purpose="ชดเชยการปล่อยก๊าซเรือนกระจกปี 2567", letter_reference="บันทึกข้อความ ที่ 8/2568",
        )
        self.decide(request, self.cast.executives[code])

    def cancel(self) -> None:
        request = operations.prepare_cancellation(
            self.session, self.user(self.cast.dla_officer), idempotency_key=self.key("cancel"),
            account_code=f"LAO-{self.lao()}", quantity=self.random.randint(1, 10),
            reason="หน่วยซ้ำกับทะเบียนกลาง", order_reference="คำสั่งกรม ที่ 55/2568",
            letter_reference="มท 0821.2/ว 3001",
        )
        self.decide(request, self.cast.dla_head)

    def reverse(self) -> None:
        recent = self.session.scalars(
            select(LedgerTransaction.id).where(LedgerTransaction.kind.in_(("allocate", "transfer")))
            .order_by(LedgerTransaction.id.desc()).limit(10)
        ).all()
        if not recent:
            raise LookupError("no transaction to reverse yet")
        request = operations.prepare_reversal(
            self.session, self.user(self.cast.dla_officer), idempotency_key=self.key("reverse"),
            transaction_id=self.random.choice(recent), reason="บันทึกผิดบัญชี",
            letter_reference="มท 0821.2/ว 3002",
        )
        self.decide(request, self.cast.dla_head)


def run_worker(database_url: str, cast: LedgerCast, index: int, count: int, seed: int) -> dict:
    """Run `count` random operations. Return the posted and rejected counts by operation and any other error."""
    database = Database(database_url)
    session = database.session()
    worker = _Worker(session, cast, index, seed)
    result = {"posted": dict.fromkeys(OPERATIONS, 0), "rejected": dict.fromkeys(OPERATIONS, 0),
              "codes": {}, "errors": []}
    try:
        for _ in range(count):
            name = worker.random.choice(OPERATIONS)
            try:
                getattr(worker, name)()
                result["posted"][name] += 1
            except (WorkflowError, LookupError) as error:
                session.rollback()
                result["rejected"][name] += 1
                code = getattr(error, "code", "nothing_to_reverse")
                result["codes"][code] = result["codes"].get(code, 0) + 1
            except Exception:  # reported to the test, which fails on any
                session.rollback()
                result["errors"].append(f"{name}: {traceback.format_exc()}")
    finally:
        session.close()
        database.dispose()
    return result


# --- the rq job that is killed ---------------------------------------------------------------

# Where the job stops on its first attempt: before the posting's commit, or after it.
PAUSE_BEFORE_COMMIT = "before_commit"
PAUSE_AFTER_COMMIT = "after_commit"


def _pause(marker: Path) -> None:
    """Tell the test this process's id, then wait to be killed."""
    marker.write_text(str(os.getpid()))
    deadline = time.monotonic() + PAUSE_LIMIT_S
    while time.monotonic() < deadline:
        time.sleep(0.2)
    raise TimeoutError(f"job was not killed within {PAUSE_LIMIT_S} s")


def approve_request(database_url: str, executive_id: int, request_id: int, idempotency_key: str,
                    marker_folder: str, pause: str) -> int:
    """Approve a ledger request. On the first attempt, stop at `pause` until the process is killed.

    Returns the request id. The marker file `paused` holds the id of the process that stopped.
    """
    marker = Path(marker_folder) / "paused"
    first_attempt = not marker.exists()
    if first_attempt and pause == PAUSE_BEFORE_COMMIT:
        finish = posting.Posting.finish

        def finish_then_pause(self):
            record = finish(self)
            # Every row of the transaction is flushed and still uncommitted.
            _pause(marker)
            return record

        posting.Posting.finish = finish_then_pause
    database = Database(database_url)
    session = database.session()
    try:
        with (Path(marker_folder) / "attempts").open("a") as attempts:
            attempts.write(f"{os.getpid()}\n")
        request = operations.approve(session, session.get(User, executive_id), request_id,
                                     idempotency_key=idempotency_key)
        if first_attempt and pause == PAUSE_AFTER_COMMIT:
            _pause(marker)
        return request.id
    finally:
        session.close()
        database.dispose()
