"""Records for the permission table: users of every role, and documents, circulars and ledger requests of many offices.

Each signed-in role of the table belongs to one office: an LAO (เทศบาลตำบลแม่สาย), its
district office (แม่สาย), its provincial office (เชียงราย) or DLA. Every record type exists
for the role's own office and for another office of the same level outside the role's
area: a second LAO (ห้วยไคร้), a second district (แม่จัน), a second province (ภูเก็ต).

Circulars are built once per (state, level), so that every action route finds a task of the
role's office in the state the action needs. Helper users of each office drive those
chains, so the users under test have done nothing before the request.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import province_letter
from tests.pdfmaker import thai_pdf
from workflow import apitokens
from workflow import operations as document_operations
from workflow.ledger import operations as ledger
from workflow.ledger.buyers import DOCUMENT_ID_CARD, UploadedDocument
from workflow.ledger.models import LedgerEvent, LedgerTransaction
from workflow.ledger.queries import HASH_PREFIX_LENGTH
from workflow.models import JOB_DONE, JOB_FAILED, LetterField, User
from workflow.routing import admin, covering
from workflow.routing import operations as routing
from workflow.routing.calendar import today_in_thailand
from workflow.routing.models import OfficialLetter, RoutingTask
from workflow.routing.testing import make_user
from workflow.storage import OriginalStore

LAO, OTHER_LAO = "5570901", "5570902"
DISTRICT, OTHER_DISTRICT = "DIST-5709", "DIST-5707"
PROVINCE, OTHER_PROVINCE = "PROV-57", "PROV-83"
DLA = "DLA"
# Offices that receive a forward from the other district and the other province, so both issue letters.
OTHER_DISTRICT_LAO = "5570701"
OTHER_PROVINCE_DISTRICT = "DIST-8301"

# The signed-in roles of the table: key, office, role.
ROLES = (
    ("lao_clerk", LAO, "clerk"),
    ("lao_officer", LAO, "officer"),
    ("lao_exec", LAO, "supervisor"),
    ("district_clerk", DISTRICT, "clerk"),
    ("district_head", DISTRICT, "supervisor"),
    ("province_clerk", PROVINCE, "clerk"),
    ("province_head", PROVINCE, "supervisor"),
    ("dla_officer", DLA, "officer"),
    ("dla_director", DLA, "supervisor"),
    ("admin", DLA, "admin"),
)
ROLE_OFFICE = {key: office for key, office, _role in ROLES}
# The office whose record is "another office's" for each role's office.
OTHER_OFFICE = {LAO: OTHER_LAO, DISTRICT: OTHER_DISTRICT, PROVINCE: OTHER_PROVINCE, DLA: OTHER_PROVINCE}

DOC_PREFIXES = {DLA: "มท 0821.2", PROVINCE: "ชร 0023.6", OTHER_PROVINCE: "ภก 0023.3", DISTRICT: "ชร 0023.20",
                OTHER_DISTRICT: "ชร 0023.17"}
SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
CONFIRMATION = {
    "officer_name": "นายอนุชา แสงทอง",
    "position": "นักวิชาการสิ่งแวดล้อม",
    "phone": "053-731-234",
    "email": "anucha@maesai.go.th",
}
LETTER_LINES = ["ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐", "ศาลากลางจังหวัดเชียงราย", "๒ เมษายน ๒๕๖๘",
                "เรื่อง การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น", "เรียน นายอำเภอ ทุกอำเภอ"]
# An OCR warning whose box a crop of page 1 can show, as the OCR step records it.
CROP_WARNING = {"code": "low_confidence", "message": "อ่านชื่อเรื่องจากภาพสแกน โปรดตรวจทาน", "field": "subject",
                "page": 1, "box": [90, 230, 900, 290], "image_size": [1240, 1754], "text": "เรื่อง การใช้งานระบบบัญชี"}
# A person's 13-digit id with a valid check digit, for a buyer registration awaiting approval.
PERSON_ID = "1101700230708"

# Task states the action routes need: delivered (receive), working (received, endorsed with
# แจ้งเวียน and ดำเนินการ, assigned: endorse, assign, forward, confirm), confirmed (approve,
# reject) and forwarded (report).
DELIVERED, WORKING, CONFIRMED, FORWARDED = "delivered", "working", "confirmed", "forwarded"
LEVELS = ("province", "district", "lao")
LEVEL_OFFICES = {"province": (PROVINCE, OTHER_PROVINCE), "district": (DISTRICT, OTHER_DISTRICT),
                 "lao": (LAO, OTHER_LAO)}
LEVEL_ISSUER = {"province": DLA, "district": PROVINCE, "lao": DISTRICT}

_keys = itertools.count(1)


def _key(prefix: str) -> str:
    return f"perm-{prefix}-{next(_keys)}"


@dataclass
class Scenario:
    """Ids of the records each route's URL is built from, by office code.

    `users` and `helpers` hold User objects while the scenario is built and user ids after.
    """

    users: dict[str, Any]
    helpers: dict[tuple[str, str], Any]
    documents: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, str] = field(default_factory=dict)
    fields: dict[str, int] = field(default_factory=dict)
    parsed_letters: dict[str, int] = field(default_factory=dict)
    failed_documents: dict[str, int] = field(default_factory=dict)
    # tasks[state][office code] -> task id
    tasks: dict[str, dict[str, int]] = field(default_factory=dict)
    # letters[office code] -> id of a circular that office issued
    letters: dict[str, int] = field(default_factory=dict)
    pending_requests: dict[str, int] = field(default_factory=dict)
    approved_requests: dict[str, int] = field(default_factory=dict)
    transactions: dict[str, int] = field(default_factory=dict)
    # Posted reservations: for a release, and for the buyer to be sold in a bundle.
    reservations: dict[str, int] = field(default_factory=dict)
    bundle_reservations: dict[str, int] = field(default_factory=dict)
    bundle_sale: int = 0
    buyer_registration: int = 0
    # API token ids: "own" for a DLA officer, "other" for a clerk of a district DLA's admin does not manage.
    api_tokens: dict[str, int] = field(default_factory=dict)
    # A bearer token of each role of the table, in clear, for the /api/v1 cases sent with a token.
    role_tokens: dict[str, str] = field(default_factory=dict)
    certificate_hash: str = ""
    bank_account: str = ""


def _helper(session: Session, helpers: dict, office: str, role: str) -> User:
    if (office, role) not in helpers:
        helpers[office, role] = make_user(session, f"h.{office}.{role}", office, role,
                                          display_name=f"ผู้ช่วยทดสอบ {office} {role}")
    return helpers[office, role]


def _users(session: Session) -> tuple[dict[str, User], dict]:
    users = {key: make_user(session, f"p.{key}", office, role, display_name=f"ผู้ทดสอบ {key}")
             for key, office, role in ROLES}
    return users, {}


# --- documents --------------------------------------------------------------------------


def _documents(session: Session, store: OriginalStore, scenario: Scenario) -> None:
    """Store a parsed scanned letter and a document whose parse failed for every office, uploaded by its clerk."""
    for office in (LAO, OTHER_LAO, DISTRICT, OTHER_DISTRICT, PROVINCE, OTHER_PROVINCE, DLA):
        clerk = _helper(session, scenario.helpers, office, "clerk")
        data = thai_pdf([[*LETTER_LINES, f"สำเนาส่ง {office}"]])
        ingested = document_operations.ingest_upload(session, store, data, f"หนังสือ-{office}.pdf", clerk, 1024 * 1024)
        letter = province_letter()
        letter["warnings"] = [dict(CROP_WARNING)]
        document_operations.add_letters(ingested.document, {"letters": [letter]})
        ingested.document.warnings = [dict(CROP_WARNING)]
        ingested.job.status = JOB_DONE
        session.commit()
        scenario.documents[office] = ingested.document.id
        scenario.jobs[office] = ingested.job.id
        scenario.parsed_letters[office] = ingested.document.letters[0].id
        scenario.fields[office] = session.scalar(
            select(LetterField.id).where(LetterField.letter_id == ingested.document.letters[0].id,
                                         LetterField.name == "subject"))

        failed = document_operations.ingest_upload(session, store, f"หนังสือที่อ่านไม่ได้ {office}".encode("utf-8"),
                                                   f"อ่านไม่ได้-{office}.txt", clerk, 1024 * 1024)
        failed.job.status = JOB_FAILED
        failed.job.error_code = "parse_failed"
        failed.job.error_message_th = "อ่านเอกสารไม่สำเร็จ"
        session.commit()
        scenario.failed_documents[office] = failed.document.id


# --- circulars --------------------------------------------------------------------------


def _issue(session: Session, scenario: Scenario, issuer: str, recipients: list[str]) -> OfficialLetter:
    today = today_in_thailand()
    head = _helper(session, scenario.helpers, issuer, "supervisor")
    return routing.issue_circular(
        session, head, subject=SUBJECT, issued_on=today - timedelta(days=2), due_nominal=today + timedelta(days=30),
        recipient_codes=recipients, confirmation_form=routing.CARBON_CREDIT_CONFIRMATION_FORM,
    ).letter


def _task(session: Session, letter_id: int, office: str) -> RoutingTask:
    return session.scalar(select(RoutingTask).join(RoutingTask.recipient).where(
        RoutingTask.letter_id == letter_id, RoutingTask.recipient.has(code=office)))


def _advance(session: Session, scenario: Scenario, letter: OfficialLetter, office: str, state: str,
             officer: User | None = None) -> RoutingTask:
    """Bring `office`'s task of `letter` to `state` with the office's helper users."""
    task = _task(session, letter.id, office)
    if state == DELIVERED:
        return task
    clerk = _helper(session, scenario.helpers, office, "clerk")
    head = _helper(session, scenario.helpers, office, "supervisor")
    officer = officer or _helper(session, scenario.helpers, office, "officer")
    receipt = routing.register_receipt(session, clerk, channel="system", letter_id=letter.id).receipt
    routing.endorse(session, head, receipt.id, ["ทราบ", "แจ้งเวียน", "ดำเนินการ"], "ดำเนินการตามหนังสือ")
    if state == FORWARDED:
        return task
    routing.assign_task(session, head, task.id, officer, "ดำเนินการและรายงานภายในกำหนด")
    if state == CONFIRMED:
        routing.confirm_assignment(session, officer, task.id, CONFIRMATION)
    return task


def _forward(session: Session, scenario: Scenario, letter: OfficialLetter, office: str, recipient: str) -> OfficialLetter:
    head = _helper(session, scenario.helpers, office, "supervisor")
    return routing.forward_circular(session, head, letter.id, recipient_codes=[recipient]).letter


def _circulars(session: Session, storage: Path, scenario: Scenario) -> None:
    for office, prefix in DOC_PREFIXES.items():
        admin.set_office_settings(session, None, office, doc_prefix=prefix)
    lao_officer = scenario.users["lao_officer"]
    for state in (DELIVERED, WORKING, CONFIRMED):
        scenario.tasks[state] = {}
        for level in LEVELS:
            own, other = LEVEL_OFFICES[level]
            letter = _issue(session, scenario, LEVEL_ISSUER[level], [own, other])
            for office in (own, other):
                officer = lao_officer if office == LAO else None
                scenario.tasks[state][office] = _advance(session, scenario, letter, office, state, officer).id
            if state == WORKING:
                scenario.letters[LEVEL_ISSUER[level]] = letter.id
    # Forwarded tasks at the province and district levels. The forwards are the other offices' letters.
    scenario.tasks[FORWARDED] = {}
    for level, recipients in (("province", {PROVINCE: "DIST-5701", OTHER_PROVINCE: OTHER_PROVINCE_DISTRICT}),
                              ("district", {DISTRICT: "5570903", OTHER_DISTRICT: OTHER_DISTRICT_LAO})):
        letter = _issue(session, scenario, LEVEL_ISSUER[level], list(recipients))
        for office, recipient in recipients.items():
            scenario.tasks[FORWARDED][office] = _advance(session, scenario, letter, office, FORWARDED).id
            forwarded = _forward(session, scenario, letter, office, recipient)
            if office in (OTHER_PROVINCE, OTHER_DISTRICT):
                scenario.letters[office] = forwarded.id
    for letter_id in scenario.letters.values():
        try:
            covering.write_covering_files(session, letter_id, storage, None)
        except ImportError:
            # Without the document generator there are no files, and the covering routes answer 404.
            break


# --- ledger -----------------------------------------------------------------------------


def _ledger(session: Session, store: OriginalStore, scenario: Scenario) -> None:
    """Open both LAOs' accounts, issue and allocate a round, and leave requests in every state."""
    dla_officer = _helper(session, scenario.helpers, DLA, "officer")
    dla_head = _helper(session, scenario.helpers, DLA, "supervisor")
    officers = {code: _helper(session, scenario.helpers, code, "officer") for code in (LAO, OTHER_LAO)}
    executives = {code: _helper(session, scenario.helpers, code, "supervisor") for code in (LAO, OTHER_LAO)}
    for code in (LAO, OTHER_LAO):
        request = ledger.prepare_account_opening(session, officers[code], idempotency_key=_key("open"),
                                                 letter_reference="มท 0821.2/ว 1446")
        ledger.approve(session, executives[code], request.id, idempotency_key=_key("approve"))
    request = ledger.prepare_issue(
        session, dla_officer, idempotency_key=_key("issue"), round_number=3, monitoring_start=date(2023, 4, 1),
        monitoring_end=date(2023, 9, 30), certified_on=date(2024, 3, 15), quantity=100,
        registry_reference="T-VER-P-0001-R3", serial_start=1, serial_end=100, letter_reference="อบก. ที่ 0001/2567",
    )
    ledger.approve(session, dla_head, request.id, idempotency_key=_key("approve"))
    request = ledger.prepare_allocation(session, dla_officer, idempotency_key=_key("allocate"), round_number=3,
                                        bins={LAO: 1, OTHER_LAO: 1}, quantity=60,
                                        letter_reference="มท 0821.2/ว 2001")
    ledger.approve(session, dla_head, request.id, idempotency_key=_key("approve"))
    scenario.bank_account = ledger.register_buyer(
        session, dla_officer, idempotency_key=_key("buyer"), kind="company", name_th="ธนาคารกรุงไทย จำกัด (มหาชน)",
        tax_id="0107536000315", address_th="35 ถนนสุขุมวิท แขวงคลองเตยเหนือ เขตวัฒนา กรุงเทพมหานคร 10110",
        contact_name="นางสาวณัฐธิดา วงศ์ใหญ่", contact_email="esg@example.co.th",
    ).code

    def sale(code: str, quantity: int):
        return ledger.prepare_transfer(
            session, officers[code], idempotency_key=_key("sale"), buyer_account=scenario.bank_account,
            quantity=quantity, receipt_number=f"รบ {quantity}/2568", receipt_date=date(2025, 6, 2),
            letter_reference="ธนาคารกรุงไทย ที่ ESG 12/2568",
        )

    def reserve(code: str, quantity: int, buyer: str | None = None) -> int:
        request = ledger.prepare_reservation(session, officers[code], idempotency_key=_key("reserve"),
                                             quantity=quantity, buyer_account=buyer,
                                             letter_reference="บันทึกข้อความ ที่ 6/2568")
        ledger.approve(session, executives[code], request.id, idempotency_key=_key("approve"))
        return request.id

    sold_together = {code: reserve(code, 2, scenario.bank_account) for code in (LAO, OTHER_LAO)}
    bundle = ledger.prepare_bundle_sale(session, dla_officer, idempotency_key=_key("bundle"),
                                        buyer_account=scenario.bank_account, reservation_ids=list(sold_together.values()),
                                        letter_reference="ธนาคารกรุงไทย ที่ ESG 14/2568")
    ledger.approve(session, dla_head, bundle.id, idempotency_key=_key("approve"))
    scenario.bundle_sale = bundle.id
    for code in (LAO, OTHER_LAO):
        scenario.reservations[code] = reserve(code, 2)
        scenario.bundle_reservations[code] = reserve(code, 2, scenario.bank_account)
    scenario.buyer_registration = ledger.prepare_buyer_registration(
        session, dla_officer, store, idempotency_key=_key("register"), kind="person", name_th="นางสาวมาลี ศรีสุข",
        tax_id=PERSON_ID, address_th="12 หมู่ 1 ตำบลเวียงพางคำ อำเภอแม่สาย จังหวัดเชียงราย 57130",
        documents=[UploadedDocument(DOCUMENT_ID_CARD, "บัตรประชาชน.pdf", thai_pdf([["สำเนาบัตรประจำตัวประชาชน"]]))],
        letter_reference="คำขอลงทะเบียน ที่ 3/2568", max_document_bytes=1024 * 1024,
    ).id

    for code in (LAO, OTHER_LAO):
        posted = sale(code, 5)
        ledger.approve(session, executives[code], posted.id, idempotency_key=_key("approve"))
        ledger.confirm(session, dla_head, posted.id, idempotency_key=_key("confirm"))
        transaction = session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == posted.id))
        scenario.transactions[code] = transaction.id
        approved = sale(code, 4)
        ledger.approve(session, executives[code], approved.id, idempotency_key=_key("approve"))
        scenario.approved_requests[code] = approved.id
        pending = ledger.prepare_reservation(session, officers[code], idempotency_key=_key("reserve"), quantity=3,
                                             letter_reference="บันทึกข้อความ ที่ 7/2568")
        scenario.pending_requests[code] = pending.id
    posted_event = session.scalar(select(LedgerEvent).where(LedgerEvent.transaction_id == scenario.transactions[LAO],
                                                            LedgerEvent.kind == "posted"))
    scenario.certificate_hash = posted_event.hash[:HASH_PREFIX_LENGTH]
    request = ledger.prepare_issue(
        session, dla_officer, idempotency_key=_key("issue"), round_number=4, monitoring_start=date(2023, 10, 1),
        monitoring_end=date(2024, 3, 31), certified_on=date(2024, 9, 15), quantity=50,
        registry_reference="T-VER-P-0001-R4", serial_start=101, serial_end=150, letter_reference="อบก. ที่ 0002/2567",
    )
    scenario.pending_requests[DLA] = request.id


def build(session: Session, store: OriginalStore, storage: Path) -> Scenario:
    """Create the users and every record the routes of the table are called on."""
    users, helpers = _users(session)
    scenario = Scenario(users=users, helpers=helpers)
    _documents(session, store, scenario)
    _circulars(session, storage, scenario)
    _ledger(session, store, scenario)
    for scope, user in (("own", _helper(session, scenario.helpers, DLA, "officer")),
                        ("other", _helper(session, scenario.helpers, OTHER_DISTRICT, "clerk"))):
        created = apitokens.create_token(session, user.username, f"ระบบ e-office ทดสอบ {scope}", created_by="setup")
        scenario.api_tokens[scope] = created.record.id
    for key, user in scenario.users.items():
        scenario.role_tokens[key] = apitokens.create_token(session, user.username, f"โทเค็นทดสอบ {key}",
                                                           created_by="setup").token
    # Ids only: the session that loaded the users is closed before the requests.
    scenario.users = {key: user.id for key, user in scenario.users.items()}
    scenario.helpers = {key: user.id for key, user in scenario.helpers.items()}
    return scenario

