"""Routing operations: receive, endorse, forward, assign, confirm, approve, reject and close.

Each operation is one function and one transaction (`write_transaction`): it commits when it
succeeds and rolls back everything, counters included, when it raises. Every operation
checks the user's role and organization first and raises a `WorkflowError` subclass with a
Thai message for the screen and an English one for the log.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, any_, cast, func, insert, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, joinedload

from workflow.models import (
    ORG_LAO,
    ROLE_CLERK,
    ROLE_OFFICER,
    ROLE_SUPERVISOR,
    JsonValue,
    Organization,
    User,
    utcnow,
)
from workflow.routing.access import (
    Authority,
    is_below,
    require_own_organization,
    require_role,
    require_sees,
    signing_authority,
)
from workflow.routing.admin import default_doc_prefix, office_settings
from workflow.routing.calendar import BANGKOK, WorkingCalendar, load_calendar, today_in_thailand
from workflow.routing.errors import InvalidValue, NotFound, PermissionDenied, StateConflict
from workflow.routing.incoming import URGENCIES, find_or_create_letter
from workflow.routing.models import (
    EVENT_ASSIGNED,
    EVENT_CLOSED,
    EVENT_CONFIRMED,
    EVENT_DELIVERED,
    EVENT_ENDORSED,
    EVENT_FORWARDED,
    EVENT_RECEIVED,
    EVENT_REJECTED,
    EVENT_REPORTED,
    NO_DUE_DATE,
    REGISTER_CIRCULAR,
    REGISTER_RECEIPT,
    Endorsement,
    LetterCitation,
    OfficialLetter,
    Receipt,
    ReceiptArrival,
    RoutingTask,
    TaskEvent,
)
from workflow.routing.numbering import lock_register, take_number, write_transaction
from workflow.routing.rollup import rollup
from workflow.routing.state import (
    ALLOWED_AFTER,
    STATE_NAMES_TH,
    TaskStatus,
    add_counts,
    change_due_date,
    load_status,
    load_statuses,
    record_state_change,
    upsert_counts,
)
from workflow.thaidate import format_be_date

log = logging.getLogger(__name__)

# Decision words of an endorsement (เกษียนหนังสือ); `มอบ` is written `มอบ <กอง> ดำเนินการ`.
DECISION_WORDS = ("ทราบ", "ดำเนินการ", "ถือปฏิบัติ", "แจ้งเวียน", "มอบ", "เห็นชอบ", "อนุมัติ")
DECISION_ASSIGN = "มอบ"
DECISION_FORWARD = "แจ้งเวียน"

# Channels a letter reaches an office through. `system` is a delivery through this service.
CHANNELS = ("system", "e_office", "ecms", "email", "paper")
RECEIVING_ROLES = (ROLE_CLERK, ROLE_SUPERVISOR)
CONFIRMING_ROLES = (ROLE_OFFICER, ROLE_CLERK)
# A receipt stamp may be typed in a little after the moment it records, never before.
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_NOTE_LENGTH = 2000
MAX_RELATIVE_DAYS = 365
TASKS_PER_PAGE = 50

FORM_FIELD_KINDS = ("text", "phone", "email")
FORM_FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PHONE_RE = re.compile(r"^0\d{8,9}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FORM_VALUE_LENGTH = 200
# SQLite before 3.32 accepts at most 999 parameters in one statement; PostgreSQL gets one array.
SQLITE_IDS_PER_STATEMENT = 900

# Form of the carbon-credit circular: each LAO's responsible officer and how to reach them.
CARBON_CREDIT_CONFIRMATION_FORM = [
    {"name": "officer_name", "label_th": "ชื่อ-สกุล เจ้าหน้าที่ผู้รับผิดชอบ", "kind": "text", "required": True},
    {"name": "position", "label_th": "ตำแหน่ง", "kind": "text", "required": True},
    {"name": "phone", "label_th": "หมายเลขโทรศัพท์", "kind": "phone", "required": True},
    {"name": "email", "label_th": "อีเมล", "kind": "email", "required": True},
]


@dataclass
class ReceiptResult:
    receipt: Receipt
    letter: OfficialLetter
    # False when the letter was already in this office's register and only a new arrival was noted.
    created: bool
    task: RoutingTask | None


@dataclass
class ForwardResult:
    letter: OfficialLetter
    task_count: int


# --- helpers ----------------------------------------------------------------------------


def _get_task(session: Session, task_id: int, lock: bool = True) -> RoutingTask:
    """Return the task, locked on PostgreSQL so that two reviewers cannot both act on one state.

    A locked task is read again from the database, so that its stored state is the one
    committed before the lock, not a copy the session loaded earlier.
    """
    task = session.get(RoutingTask, task_id, with_for_update=lock or None, populate_existing=lock)
    if task is None:
        raise NotFound("task_not_found", f"ไม่พบงานเลขที่ {task_id}", f"no task {task_id}")
    return task


def _task_for(session: Session, letter_id: int, organization_id: int) -> RoutingTask | None:
    """Return the office's task for the letter, locked and read again as in `_get_task`."""
    return session.scalar(
        select(RoutingTask)
        .where(RoutingTask.letter_id == letter_id, RoutingTask.recipient_org_id == organization_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _require_transition(status: TaskStatus, kind: str, task: RoutingTask) -> None:
    if status.state in ALLOWED_AFTER[kind]:
        return
    raise StateConflict(
        "invalid_task_state",
        f"ทำรายการนี้ไม่ได้ เพราะงานอยู่ในสถานะ “{status.state_th}”",
        f"task {task.id}: cannot record {kind} in state {status.state}",
    )


def _append_event(
    session: Session, task: RoutingTask, kind: str, actor: User | None, data: dict[str, Any]
) -> TaskEvent:
    """Check that `kind` may follow the task's state, append it and update the stored state.

    The check folds the task's events, which are the source of truth, not the stored state.
    """
    _require_transition(load_status(session, task.id), kind, task)
    event = TaskEvent(task_id=task.id, kind=kind, actor_id=actor.id if actor else None, data=data, occurred_at=utcnow())
    session.add(event)
    record_state_change(session, task, kind)
    session.flush()
    return event


def _check_note(note: str | None) -> str | None:
    if note is None:
        return None
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidValue(
            "note_too_long",
            f"ข้อความยาวเกิน {MAX_NOTE_LENGTH} ตัวอักษร",
            f"note is {len(note)} characters, over {MAX_NOTE_LENGTH}",
        )
    return note or None


def _authority_data(authority: Authority) -> dict[str, Any]:
    return {
        "capacity": authority.capacity,
        "delegation_id": authority.delegation.id if authority.delegation else None,
    }


# --- receive ----------------------------------------------------------------------------


def _check_received_at(received_at: datetime | None, now: datetime) -> datetime:
    if received_at is None:
        return now
    if received_at.tzinfo is None:
        raise InvalidValue(
            "naive_datetime",
            "เวลาลงรับต้องระบุเขตเวลา",
            "received_at must be timezone-aware",
        )
    if received_at > now + MAX_CLOCK_SKEW:
        raise InvalidValue(
            "received_in_future",
            "เวลาลงรับอยู่ในอนาคต กรุณาตรวจสอบวันที่และเวลาบนตราลงรับ",
            f"received_at {received_at.isoformat()} is after now {now.isoformat()}",
        )
    # Stored in UTC: SQLite keeps no offset and reads every timestamp back as UTC.
    return received_at.astimezone(timezone.utc)


def _receipt_warnings(letter: OfficialLetter, task: RoutingTask | None, received_on: date) -> list[dict]:
    warnings = []
    if letter.letter_date and received_on < letter.letter_date:
        warnings.append({
            "code": "receipt_before_letter_date",
            "message": f"วันที่ลงรับ {format_be_date(received_on)} อยู่ก่อนวันที่ของหนังสือ {format_be_date(letter.letter_date)}",
            "field": "received_at",
        })
    due = task.due_effective if task is not None else letter.due_effective
    if due and received_on > due:
        warnings.append({
            "code": "deadline_passed_on_receipt",
            "message": f"ได้รับหนังสือหลังกำหนดส่ง {format_be_date(due)} แล้ว",
            "field": "due",
        })
    return warnings


def register_receipt(
    session: Session,
    user: User,
    *,
    channel: str,
    letter_id: int | None = None,
    letter_data: dict | None = None,
    received_at: datetime | None = None,
    sender_text: str | None = None,
    remarks: str | None = None,
    now: datetime | None = None,
) -> ReceiptResult:
    """Register a letter in the user's office's receipt register under the next number of the year.

    Pass `letter_id` for a letter delivered through this service, or `letter_data` (a LETTER
    of the parse contract) for one that came from outside. A letter from outside gets the
    office's task here, so it can be endorsed and forwarded like one delivered through this
    service. A letter already in this office's register, through any channel, keeps its
    receipt: the repeat arrival is noted and no number is taken. `received_at` is the stamp's moment (default: now);
    `entered_at` is always now. Returns a ReceiptResult.
    """
    with write_transaction(session):
        require_role(user, RECEIVING_ROLES, "ลงรับหนังสือ", "register receipts")
        if channel not in CHANNELS:
            raise InvalidValue("invalid_channel", f"ไม่รู้จักช่องทางรับหนังสือ “{channel}”", f"unknown channel {channel!r}")
        if (letter_id is None) == (letter_data is None):
            raise InvalidValue(
                "letter_missing",
                "ต้องระบุหนังสือที่จะลงรับอย่างใดอย่างหนึ่ง: หนังสือในระบบ หรือข้อมูลหนังสือจากภายนอก",
                "pass exactly one of letter_id and letter_data",
            )
        now = now or utcnow()
        received_at = _check_received_at(received_at, now)
        received_on = received_at.astimezone(BANGKOK).date()
        organization_id = user.organization_id
        lock_register(session, organization_id, REGISTER_RECEIPT, received_on.year)

        if letter_id is not None:
            letter = session.get(OfficialLetter, letter_id)
            if letter is None:
                raise NotFound("letter_not_found", f"ไม่พบหนังสือเลขที่ {letter_id}", f"no letter {letter_id}")
            if _task_for(session, letter.id, organization_id) is None:
                raise PermissionDenied(
                    "letter_not_addressed",
                    "หนังสือนี้ไม่ได้ส่งถึงหน่วยงานของท่าน",
                    f"letter {letter.id} was not sent to org {organization_id}",
                )
        else:
            if letter_data.get("source_letter_id") is not None:
                check_source_letter(session, user, letter_data["source_letter_id"])
            letter, _created = find_or_create_letter(session, letter_data, user.id)
        task = _task_for(session, letter.id, organization_id)

        existing = session.scalar(
            select(Receipt).where(Receipt.organization_id == organization_id, Receipt.letter_id == letter.id)
        )
        if existing is not None:
            # NOTE: a letter an earlier version registered from outside has no task, and gets none here.
            session.add(ReceiptArrival(
                receipt_id=existing.id, channel=channel, arrived_at=received_at, entered_by_id=user.id
            ))
            log.info("letter %s arrived again at org %s by %s; receipt %s kept", letter.id, organization_id, channel, existing.number)
            return ReceiptResult(existing, letter, False, task)

        number = take_number(session, organization_id, REGISTER_RECEIPT, received_on.year)
        if task is None:
            task = _create_own_task(session, letter, user, channel)
        _set_relative_due(session, task, letter, received_on)
        receipt = Receipt(
            organization_id=organization_id,
            letter_id=letter.id,
            year=received_on.year,
            number=number,
            received_at=received_at,
            entered_at=now,
            entered_by_id=user.id,
            channel=channel,
            sender_text=sender_text or letter.issuer_name,
            remarks=_check_note(remarks),
            warnings=_receipt_warnings(letter, task, received_on),
        )
        session.add(receipt)
        session.flush()
        session.add(ReceiptArrival(receipt_id=receipt.id, channel=channel, arrived_at=received_at, entered_by_id=user.id))
        _append_event(session, task, EVENT_RECEIVED, user, {
            "receipt_id": receipt.id,
            "receipt_number": number,
            "year": received_on.year,
            "received_on": received_on.isoformat(),
        })
    log.info("org %s registered letter %s as receipt %s/%s", organization_id, letter.id, number, received_on.year)
    return ReceiptResult(receipt, letter, True, task)


def _create_own_task(session: Session, letter: OfficialLetter, user: User, channel: str) -> RoutingTask:
    """Create the user's office's task on a letter that came from outside, in state `delivered`.

    The office is the task's sender as well as its recipient, because no office in this
    service sent the letter, so only the office and the offices above it see the task.
    The task gets the `delivered` event and count that `_create_tasks` gives a task sent
    through this service, and the caller appends `received`.
    """
    # NOTE: a letter that encloses a circular of this service shares that circular's root, so
    # its roll-up counts this task too, twice for an office that also got the circular itself.
    task = RoutingTask(
        letter_id=letter.id,
        root_letter_id=letter.root_letter_id or letter.id,
        sender_org_id=user.organization_id,
        recipient_org_id=user.organization_id,
        due_nominal=letter.due_nominal,
        due_effective=letter.due_effective,
        state=EVENT_DELIVERED,
        created_at=utcnow(),
    )
    session.add(task)
    session.flush()
    session.add(TaskEvent(
        task_id=task.id, kind=EVENT_DELIVERED, actor_id=user.id, occurred_at=task.created_at,
        data={"letter_id": letter.id, "channel": channel},
    ))
    add_counts(session, [(task.root_letter_id, user.organization.kind, EVENT_DELIVERED, task.due_effective, 1)])
    session.flush()
    return task


def check_source_letter(session: Session, user: User, source_letter_id: Any) -> None:
    """Check that `source_letter_id` names a letter of a document the user's office uploaded and the user may see.

    The link opens that document to every office routing sends the letter to (decision 0005,
    rule 1a), so an office may link only its own files.
    """
    from workflow.models import Letter
    from workflow.operations import require_document_access

    if isinstance(source_letter_id, bool) or not isinstance(source_letter_id, int) or not 1 <= source_letter_id < 2**31:
        raise InvalidValue(
            "invalid_source_letter",
            f"เลขที่หนังสือในเอกสารที่อัปโหลด “{source_letter_id}” ไม่ถูกต้อง ต้องเป็นเลขที่จากรายการหนังสือในเอกสาร",
            f"source_letter_id {source_letter_id!r} is not a letter id (an integer from 1 to 2**31 - 1)",
        )
    source = session.get(Letter, source_letter_id)
    if source is None:
        raise NotFound(
            "source_letter_not_found",
            f"ไม่พบหนังสือเลขที่ {source_letter_id} ในเอกสารที่อัปโหลด",
            f"no uploaded letter {source_letter_id}",
        )
    document = source.document
    if document.organization_id != user.organization_id:
        raise PermissionDenied(
            "source_letter_other_office",
            "ลงรับจากเอกสารได้เฉพาะเอกสารที่หน่วยงานของท่านอัปโหลดเอง",
            f"letter {source_letter_id} is in document {document.id} of org {document.organization_id}, "
            f"not org {user.organization_id}",
        )
    require_document_access(user, document)


def source_document(session: Session, letter: OfficialLetter):
    """Return the uploaded document the letter, or the nearest letter it forwards, was registered from, or None.

    Follows `parent_letter_id` upwards as far as `routed_organization_ids` follows it down,
    so a task's link and the access it relies on cover the same letters.
    """
    from workflow.models import Letter
    from workflow.operations import MAX_FORWARD_DEPTH

    current: OfficialLetter | None = letter
    for _ in range(MAX_FORWARD_DEPTH + 1):
        if current is None:
            return None
        if current.source_letter_id is not None:
            source = session.get(Letter, current.source_letter_id)
            return source.document if source is not None else None
        current = session.get(OfficialLetter, current.parent_letter_id) if current.parent_letter_id else None
    return None


def _set_relative_due(session: Session, task: RoutingTask, letter: OfficialLetter, received_on: date) -> None:
    """Fix the due date of a `ภายใน N วัน นับแต่วันที่ได้รับหนังสือ` task from this recipient's receipt."""
    if letter.relative_days is None:
        return
    calendar = load_calendar(session)
    nominal = calendar.due_after_receipt(received_on, letter.relative_days, letter.relative_working_days)
    change_due_date(session, task, nominal, calendar.effective_due(nominal))


# --- endorse ----------------------------------------------------------------------------


def _check_decisions(decisions: list[str], assigned_unit: str | None) -> list[str]:
    if not decisions:
        raise InvalidValue("missing_decision", "ต้องเลือกคำสั่งการอย่างน้อยหนึ่งข้อ", "no decision words given")
    unknown = [word for word in decisions if word not in DECISION_WORDS]
    if unknown:
        raise InvalidValue(
            "invalid_decision",
            f"ไม่รู้จักคำสั่งการ “{unknown[0]}” ใช้ได้: {' '.join(DECISION_WORDS)}",
            f"unknown decision words {unknown}",
        )
    if len(set(decisions)) != len(decisions):
        raise InvalidValue("repeated_decision", "เลือกคำสั่งการซ้ำกัน", f"repeated decision words in {decisions}")
    has_unit = bool((assigned_unit or "").strip())
    if (DECISION_ASSIGN in decisions) != has_unit:
        raise InvalidValue(
            "assign_needs_unit",
            "คำสั่ง “มอบ … ดำเนินการ” ต้องระบุกองหรือผู้รับมอบ และระบุผู้รับมอบได้เฉพาะเมื่อสั่งมอบ",
            "the decision มอบ and assigned_unit must be given together",
        )
    return list(decisions)


def endorse(
    session: Session,
    user: User,
    receipt_id: int,
    decisions: list[str],
    note: str | None = None,
    assigned_unit: str | None = None,
    on_date: date | None = None,
    delegation_id: int | None = None,
) -> Endorsement:
    """Record a supervisor's endorsement of a received letter with its decision words and note.

    The user endorses in their own capacity as a supervisor, or under a delegation of their
    organization valid on `on_date` (default: today in Thailand). Returns the Endorsement.
    """
    with write_transaction(session):
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            raise NotFound("receipt_not_found", f"ไม่พบรายการลงรับเลขที่ {receipt_id}", f"no receipt {receipt_id}")
        require_own_organization(user, receipt.organization_id, "เกษียนหนังสือ", "endorse letters")
        on_date = on_date or today_in_thailand()
        authority = signing_authority(session, user, on_date, delegation_id, "เกษียนสั่งการ", "endorse")
        decisions = _check_decisions(decisions, assigned_unit)
        note = _check_note(note)
        received_on = receipt.received_at.replace(tzinfo=receipt.received_at.tzinfo or timezone.utc).astimezone(BANGKOK).date()
        if on_date < received_on:
            raise InvalidValue(
                "endorsed_before_receipt",
                f"วันที่เกษียน {format_be_date(on_date)} อยู่ก่อนวันที่ลงรับ {format_be_date(received_on)}",
                f"endorsement date {on_date} is before the receipt date {received_on}",
            )
        endorsement = Endorsement(
            receipt_id=receipt.id,
            organization_id=receipt.organization_id,
            endorsed_by_id=user.id,
            decisions=decisions,
            assigned_unit=(assigned_unit or "").strip() or None,
            note=note,
            capacity=authority.capacity,
            delegation_id=authority.delegation.id if authority.delegation else None,
            endorsed_on=on_date,
        )
        session.add(endorsement)
        session.flush()
        task = _task_for(session, receipt.letter_id, receipt.organization_id)
        if task is not None:
            _append_event(session, task, EVENT_ENDORSED, user, {
                "endorsement_id": endorsement.id,
                "decisions": decisions,
                "assigned_unit": endorsement.assigned_unit,
                **_authority_data(authority),
            })
    log.info("receipt %s endorsed by %s (%s): %s", receipt_id, user.username, authority.capacity, " ".join(decisions))
    return endorsement


# --- forward ----------------------------------------------------------------------------


def validate_confirmation_form(form: list[dict]) -> list[dict]:
    """Return a clean copy of a confirmation form spec, or raise InvalidValue."""
    if not isinstance(form, list):
        raise InvalidValue("invalid_form", "แบบฟอร์มยืนยันไม่ถูกต้อง", "confirmation_form must be a list")
    cleaned, names = [], set()
    for item in form:
        name = item.get("name") if isinstance(item, dict) else None
        label = (item.get("label_th") or "").strip() if isinstance(item, dict) else ""
        kind = item.get("kind", "text") if isinstance(item, dict) else None
        if not name or not FORM_FIELD_NAME_RE.match(name) or not label or kind not in FORM_FIELD_KINDS or name in names:
            raise InvalidValue(
                "invalid_form",
                f"ช่องในแบบฟอร์มยืนยันไม่ถูกต้อง: {item!r}",
                f"form field {item!r} needs a unique snake_case name, a Thai label and a kind in {FORM_FIELD_KINDS}",
            )
        names.add(name)
        cleaned.append({"name": name, "label_th": label, "kind": kind, "required": bool(item.get("required", True))})
    return cleaned


def _resolve_recipients(
    session: Session, sender: Organization, recipient_codes: list[str] | None
) -> list[tuple[int, str]]:
    """Return (id, code) of the recipients: the sender's direct subordinates, or the chosen ones below it."""
    if recipient_codes is None:
        rows = session.execute(
            select(Organization.id, Organization.code).where(Organization.parent_id == sender.id).order_by(Organization.code)
        ).all()
        if not rows:
            raise InvalidValue(
                "no_recipients",
                "หน่วยงานของท่านไม่มีหน่วยงานในสังกัดให้แจ้งเวียน",
                f"org {sender.code} has no subordinate organizations",
            )
        return [(row.id, row.code) for row in rows]

    codes = list(dict.fromkeys(code.strip() for code in recipient_codes if code and code.strip()))
    if not codes:
        raise InvalidValue("no_recipients", "ต้องเลือกผู้รับอย่างน้อยหนึ่งหน่วยงาน", "the recipient list is empty")
    found = {}
    for chunk in _chunks(session, codes):
        query = select(
            Organization.id, Organization.code, Organization.kind, Organization.province_code, Organization.parent_id
        ).where(_id_in(session, Organization.code, chunk))
        found.update({row.code: row for row in session.execute(query)})
    missing = [code for code in codes if code not in found]
    if missing:
        raise NotFound(
            "recipient_not_found",
            f"ไม่พบหน่วยงานผู้รับรหัส {', '.join(missing[:5])}",
            f"{len(missing)} recipient codes not found, e.g. {missing[:5]}",
        )
    outside = [code for code in codes if not is_below(found[code], sender)]
    if outside:
        raise PermissionDenied(
            "recipient_not_subordinate",
            f"แจ้งเวียนได้เฉพาะหน่วยงานในสังกัด หน่วยงานรหัส {', '.join(outside[:5])} ไม่อยู่ในสังกัดของท่าน",
            f"{len(outside)} recipients are not below org {sender.code}, e.g. {outside[:5]}",
        )
    return [(found[code].id, code) for code in codes]


@dataclass
class _Deadline:
    nominal: date | None = None
    effective: date | None = None
    rule: str | None = None
    text: str | None = None
    relative_days: int | None = None
    relative_working_days: bool = False


def _derive_deadline(
    calendar: WorkingCalendar,
    lead_working_days: int,
    parent_due: date | None,
    due_nominal: date | None,
    relative_days: int | None,
    relative_working_days: bool,
    due_text: str | None,
) -> _Deadline:
    """Choose the circular's deadline: the one given, a relative one, or the parent's less the lead time."""
    if due_nominal is not None and relative_days is not None:
        raise InvalidValue(
            "two_deadlines",
            "ระบุได้อย่างใดอย่างหนึ่ง: วันที่กำหนดส่ง หรือจำนวนวันนับแต่วันที่ได้รับหนังสือ",
            "pass due_nominal or relative_days, not both",
        )
    if due_nominal is not None:
        return _Deadline(due_nominal, calendar.effective_due(due_nominal), "stated", due_text)
    if relative_days is not None:
        if not 0 < relative_days <= MAX_RELATIVE_DAYS:
            raise InvalidValue(
                "invalid_relative_days",
                f"จำนวนวันต้องอยู่ระหว่าง 1 ถึง {MAX_RELATIVE_DAYS} วัน",
                f"relative_days {relative_days} is outside 1..{MAX_RELATIVE_DAYS}",
            )
        unit = "วันทำการ" if relative_working_days else "วัน"
        text = due_text or f"ภายใน {relative_days} {unit} นับแต่วันที่ได้รับหนังสือ"
        return _Deadline(rule="relative", text=text, relative_days=relative_days, relative_working_days=relative_working_days)
    if parent_due is not None:
        internal = calendar.add_working_days(calendar.effective_due(parent_due), -lead_working_days)
        return _Deadline(internal, internal, "parent_minus_working_days", due_text or f"ภายในวันที่ {format_be_date(internal)}")
    return _Deadline()


def _forwarding_preconditions(session: Session, organization: Organization, parent: OfficialLetter) -> RoutingTask | None:
    """Check that the office received the parent and a supervisor ordered แจ้งเวียน; return the office's own task."""
    receipt = session.scalar(
        select(Receipt).where(Receipt.organization_id == organization.id, Receipt.letter_id == parent.id)
    )
    if receipt is None:
        raise StateConflict(
            "parent_not_received",
            "ต้องลงรับหนังสือต้นเรื่องก่อนแจ้งเวียน",
            f"org {organization.code} has not registered letter {parent.id}",
        )
    ordered = any(
        DECISION_FORWARD in (row.decisions or [])
        for row in session.scalars(select(Endorsement).where(Endorsement.receipt_id == receipt.id))
    )
    if not ordered:
        raise StateConflict(
            "forward_not_ordered",
            "ผู้บังคับบัญชายังไม่ได้เกษียนสั่งการให้แจ้งเวียนหนังสือนี้",
            f"receipt {receipt.id} has no endorsement ordering แจ้งเวียน",
        )
    task = _task_for(session, parent.id, organization.id)
    if task is not None:
        _require_transition(load_status(session, task.id), EVENT_FORWARDED, task)
    return task


def _reject_repeat_recipients(
    session: Session, organization: Organization, parent: OfficialLetter, recipients: list[tuple[int, str]]
) -> None:
    """Refuse recipients this office already sent the same parent letter to."""
    earlier = select(OfficialLetter.id).where(
        OfficialLetter.parent_letter_id == parent.id, OfficialLetter.issuer_org_id == organization.id
    )
    already = set(
        session.scalars(
            select(RoutingTask.recipient_org_id).where(RoutingTask.letter_id.in_(earlier))
        )
    )
    repeats = [code for org_id, code in recipients if org_id in already]
    if repeats:
        raise InvalidValue(
            "already_forwarded",
            f"หน่วยงาน {', '.join(repeats[:5])} ได้รับหนังสือแจ้งเวียนเรื่องนี้จากหน่วยงานของท่านแล้ว",
            f"{len(repeats)} recipients already have a task for letter {parent.id} from org {organization.code}",
        )


def issue_circular(session: Session, user: User, *, subject: str, **options: Any) -> ForwardResult:
    """Issue a circular that starts a cascade (no upper-level letter), e.g. DLA's own.

    Takes the same options as `forward_circular`; `subject` is required.
    """
    return _issue(session, user, None, subject=subject, **options)


def forward_circular(session: Session, user: User, parent_letter_id: int, **options: Any) -> ForwardResult:
    """Re-issue (แจ้งเวียน) a received letter to the offices below as this office's own circular.

    Options and their defaults:
    - `subject`: the parent's. `issued_on`: today in Thailand. `urgency`: the parent's.
    - `due_nominal`: the parent's due date less the office's lead time in working days.
    - `relative_days`, `relative_working_days`: a deadline counted from each recipient's receipt.
    - `recipient_codes`: the office's direct subordinates. `confirmation_form`: the parent's.
    - `due_text`, `delegation_id`.
    The office must have registered the parent and have an endorsement ordering
    แจ้งเวียน. Returns a ForwardResult with the new letter and the number of tasks created.
    """
    return _issue(session, user, parent_letter_id, **options)


def _issue(
    session: Session,
    user: User,
    parent_letter_id: int | None,
    *,
    subject: str | None = None,
    issued_on: date | None = None,
    due_nominal: date | None = None,
    relative_days: int | None = None,
    relative_working_days: bool = False,
    due_text: str | None = None,
    recipient_codes: list[str] | None = None,
    confirmation_form: list[dict] | None = None,
    urgency: str | None = None,
    delegation_id: int | None = None,
) -> ForwardResult:
    with write_transaction(session):
        organization = user.organization
        if organization.kind == ORG_LAO:
            raise PermissionDenied(
                "lao_cannot_forward",
                "องค์กรปกครองส่วนท้องถิ่นไม่มีหน่วยงานในสังกัดให้แจ้งเวียน",
                f"org {organization.code} is an LAO and has no subordinates",
            )
        issued_on = issued_on or today_in_thailand()
        authority = signing_authority(session, user, issued_on, delegation_id, "ลงนามหนังสือเวียน", "sign circulars")
        parent, parent_task = None, None
        if parent_letter_id is not None:
            parent = session.get(OfficialLetter, parent_letter_id)
            if parent is None:
                raise NotFound("letter_not_found", f"ไม่พบหนังสือเลขที่ {parent_letter_id}", f"no letter {parent_letter_id}")
            parent_task = _forwarding_preconditions(session, organization, parent)
        subject = (subject or (parent.subject if parent else "") or "").strip()
        if not subject:
            raise InvalidValue("missing_subject", "หนังสือเวียนต้องมีเรื่อง", "the circular has no subject")
        if urgency is not None and urgency not in URGENCIES:
            raise InvalidValue("invalid_urgency", f"ไม่รู้จักชั้นความเร็ว “{urgency}”", f"unknown urgency {urgency!r}")
        if parent is not None and parent.letter_date and issued_on < parent.letter_date:
            raise InvalidValue(
                "issued_before_parent",
                f"วันที่หนังสือ {format_be_date(issued_on)} อยู่ก่อนวันที่ของหนังสือต้นเรื่อง {format_be_date(parent.letter_date)}",
                f"issued_on {issued_on} is before the parent's date {parent.letter_date}",
            )
        if confirmation_form is None:
            confirmation_form = parent.confirmation_form if parent else []
        form = validate_confirmation_form(confirmation_form)
        if urgency is None and parent is not None:
            urgency = parent.urgency

        calendar = load_calendar(session)
        settings = office_settings(session, organization)
        parent_due = None
        if parent is not None:
            parent_due = parent_task.due_effective if parent_task is not None else parent.due_effective
        inherit_relative = (
            parent is not None and due_nominal is None and relative_days is None and parent_due is None
            and parent.relative_days is not None
        )
        if inherit_relative:
            relative_days, relative_working_days = parent.relative_days, parent.relative_working_days
        deadline = _derive_deadline(
            calendar, settings.internal_due_working_days, parent_due, due_nominal, relative_days,
            relative_working_days, due_text,
        )
        warnings = _deadline_warnings(deadline, issued_on, parent_due)

        recipients = _resolve_recipients(session, organization, recipient_codes)
        if parent is not None:
            _reject_repeat_recipients(session, organization, parent, recipients)

        serial = take_number(session, organization.id, REGISTER_CIRCULAR, issued_on.year)
        prefix = settings.doc_prefix or default_doc_prefix(organization)
        letter = OfficialLetter(
            doc_number=f"{prefix}/ว {serial}",
            is_circular=True,
            serial=serial,
            letter_date=issued_on,
            subject=subject,
            urgency=urgency,
            issuer_name=organization.name_th,
            issuer_org_id=organization.id,
            parent_letter_id=parent.id if parent else None,
            due_nominal=deadline.nominal,
            due_effective=deadline.effective,
            due_rule=deadline.rule,
            due_text=deadline.text,
            relative_days=deadline.relative_days,
            relative_working_days=deadline.relative_working_days,
            confirmation_form=form,
            signed_by_id=user.id,
            signed_capacity=authority.capacity,
            delegation_id=authority.delegation.id if authority.delegation else None,
            covering_files={},
            warnings=warnings,
            created_by_id=user.id,
        )
        session.add(letter)
        session.flush()
        letter.root_letter_id = (parent.root_letter_id or parent.id) if parent else letter.id
        if parent is not None:
            session.add(LetterCitation(
                letter_id=letter.id,
                role="enclosure",
                text=f"สำเนาหนังสือ{parent.issuer_name or ''} ที่ {parent.doc_number or '-'} ลงวันที่ {format_be_date(parent.letter_date)}",
                cited_number=parent.doc_number,
                cited_date=parent.letter_date,
                cited_letter_id=parent.id,
                matched_by="number_date",
            ))
        task_count = _create_tasks(session, letter, organization, recipients, deadline, user)
        if parent_task is not None:
            _append_event(session, parent_task, EVENT_FORWARDED, user, {
                "letter_id": letter.id, "doc_number": letter.doc_number, "recipients": task_count,
            })
    log.info("org %s issued %s (letter %s) to %d recipients", organization.code, letter.doc_number, letter.id, task_count)
    return ForwardResult(letter, task_count)


def _deadline_warnings(deadline: _Deadline, issued_on: date, parent_due: date | None) -> list[dict]:
    if deadline.nominal is not None and deadline.nominal < issued_on:
        raise InvalidValue(
            "deadline_before_letter_date",
            f"กำหนดส่ง {format_be_date(deadline.nominal)} อยู่ก่อนวันที่ของหนังสือ {format_be_date(issued_on)} "
            "กรุณาระบุกำหนดส่งใหม่",
            f"due date {deadline.nominal} is before the letter date {issued_on}; pass due_nominal",
        )
    if deadline.effective and parent_due and deadline.effective > parent_due:
        return [{
            "code": "deadline_after_parent",
            "message": f"กำหนดส่ง {format_be_date(deadline.effective)} อยู่หลังกำหนดของหนังสือต้นเรื่อง {format_be_date(parent_due)}",
            "field": "due",
        }]
    return []


def _typed_value(session: Session, value: Any, type_: Any):
    """Return a bind value for the select list of an INSERT ... SELECT.

    PostgreSQL needs a cast to know the parameter's type there; SQLite must not get one,
    because its CAST(... AS DATE) turns '2025-04-11' into the number 2025.
    """
    if session.get_bind().dialect.name == "postgresql":
        return cast(literal(value, type_), type_)
    return literal(value, type_)


def _create_tasks(
    session: Session,
    letter: OfficialLetter,
    sender: Organization,
    recipients: list[tuple[int, str]],
    deadline: _Deadline,
    user: User,
) -> int:
    """Insert one task and one `delivered` event per recipient with INSERT ... SELECT statements.

    The rows are built by the database, so a fan-out to every LAO sends a few statements
    instead of thousands of parameter sets.
    """
    now = utcnow()
    recipient_ids = [org_id for org_id, _code in recipients]
    task_columns = ["letter_id", "root_letter_id", "sender_org_id", "recipient_org_id",
                    "due_nominal", "due_effective", "created_at"]
    for chunk in _chunks(session, recipient_ids):
        rows = select(
            _typed_value(session, letter.id, Integer()),
            _typed_value(session, letter.root_letter_id, Integer()),
            _typed_value(session, sender.id, Integer()),
            Organization.id,
            _typed_value(session, deadline.nominal, Date()),
            _typed_value(session, deadline.effective, Date()),
            _typed_value(session, now, DateTime(timezone=True)),
        ).where(_id_in(session, Organization.id, chunk))
        session.execute(insert(RoutingTask).from_select(task_columns, rows))
    events = select(
        RoutingTask.id,
        _typed_value(session, EVENT_DELIVERED, String(16)),
        _typed_value(session, now, DateTime(timezone=True)),
        _typed_value(session, user.id, Integer()),
        _typed_value(session, {"letter_id": letter.id}, JsonValue),
    ).where(RoutingTask.letter_id == letter.id)
    session.execute(
        insert(TaskEvent).from_select(["task_id", "kind", "occurred_at", "actor_id", "data"], events)
    )
    # The new tasks start in state `delivered`, the column default, so they are counted under it per recipient kind.
    counts = (
        select(
            _typed_value(session, letter.root_letter_id, Integer()),
            Organization.kind,
            _typed_value(session, EVENT_DELIVERED, String(16)),
            _typed_value(session, deadline.effective or NO_DUE_DATE, Date()),
            func.count(),
        )
        .join(RoutingTask, RoutingTask.recipient_org_id == Organization.id)
        .where(RoutingTask.letter_id == letter.id)
        .group_by(Organization.kind)
    )
    session.execute(upsert_counts(session, counts))
    return len(recipient_ids)


def _chunks(session: Session, values: list[Any]) -> list[list[Any]]:
    """Split `values` into lists that fit one statement's parameters."""
    if session.get_bind().dialect.name == "postgresql":
        return [values]
    size = SQLITE_IDS_PER_STATEMENT
    return [values[start:start + size] for start in range(0, len(values), size)]


def _id_in(session: Session, column: Any, values: list[Any]):
    """`column IN values`, sent as one array parameter on PostgreSQL instead of one parameter per value."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)


# --- assign, confirm, approve, reject, close ----------------------------------------------


def assign_task(
    session: Session,
    user: User,
    task_id: int,
    assignee: User,
    note: str | None = None,
    on_date: date | None = None,
    delegation_id: int | None = None,
) -> TaskEvent:
    """Assign the office's task to one of its officers (มอบหมายผู้รับผิดชอบ)."""
    with write_transaction(session):
        task = _get_task(session, task_id)
        require_own_organization(user, task.recipient_org_id, "มอบหมายงาน", "assign tasks")
        authority = signing_authority(
            session, user, on_date or today_in_thailand(), delegation_id, "มอบหมายงาน", "assign tasks"
        )
        if assignee.organization_id != task.recipient_org_id:
            raise InvalidValue(
                "assignee_other_organization",
                f"{assignee.display_name} ไม่ได้สังกัดหน่วยงานนี้ มอบหมายงานไม่ได้",
                f"assignee {assignee.username} is not in org {task.recipient_org_id}",
            )
        event = _append_event(session, task, EVENT_ASSIGNED, user, {
            "assignee_id": assignee.id,
            "assignee_name": assignee.display_name,
            "note": _check_note(note),
            **_authority_data(authority),
        })
    log.info("task %s assigned to %s by %s", task_id, assignee.username, user.username)
    return event


def _check_form_values(form: list[dict], values: dict[str, Any]) -> dict[str, str]:
    known = {field["name"] for field in form}
    extra = sorted(set(values) - known)
    if extra:
        raise InvalidValue("unknown_form_field", f"แบบฟอร์มไม่มีช่อง {', '.join(extra)}", f"unknown form fields {extra}")
    cleaned: dict[str, str] = {}
    for field in form:
        raw = values.get(field["name"])
        value = " ".join(str(raw).split()) if raw is not None else ""
        if not value:
            if field["required"]:
                raise InvalidValue(
                    "missing_form_value", f"กรุณากรอกช่อง “{field['label_th']}”", f"form field {field['name']} is required"
                )
            continue
        if len(value) > MAX_FORM_VALUE_LENGTH:
            raise InvalidValue(
                "form_value_too_long",
                f"ช่อง “{field['label_th']}” ยาวเกิน {MAX_FORM_VALUE_LENGTH} ตัวอักษร",
                f"form field {field['name']} is over {MAX_FORM_VALUE_LENGTH} characters",
            )
        if field["kind"] == "phone":
            value = re.sub(r"[\s\-]", "", value)
            if not PHONE_RE.match(value):
                raise InvalidValue(
                    "invalid_phone",
                    f"หมายเลขโทรศัพท์ “{raw}” ไม่ถูกต้อง ต้องเป็นตัวเลข 9 หรือ 10 หลักขึ้นต้นด้วย 0",
                    f"phone {raw!r} is not 9 or 10 digits starting with 0",
                )
        elif field["kind"] == "email" and not EMAIL_RE.match(value):
            raise InvalidValue("invalid_email", f"อีเมล “{raw}” ไม่ถูกต้อง", f"e-mail {raw!r} is not valid")
        cleaned[field["name"]] = value
    return cleaned


def confirm_assignment(session: Session, user: User, task_id: int, values: dict[str, Any]) -> TaskEvent:
    """Fill the confirmation form the forwarding office set up; the LAO's supervisor approves it next."""
    with write_transaction(session):
        task = _get_task(session, task_id)
        require_own_organization(user, task.recipient_org_id, "ยืนยันการมอบหมาย", "confirm assignments")
        require_role(user, CONFIRMING_ROLES, "ยืนยันการมอบหมาย", "confirm assignments")
        status = load_status(session, task.id)
        if status.assignee_id is not None and user.role == ROLE_OFFICER and status.assignee_id != user.id:
            raise PermissionDenied(
                "not_assignee",
                "งานนี้มอบหมายให้เจ้าหน้าที่คนอื่น",
                f"task {task.id} is assigned to user {status.assignee_id}, not {user.username}",
            )
        form = task.letter.confirmation_form or []
        if not form:
            raise StateConflict(
                "no_confirmation_form",
                "หนังสือนี้ไม่ได้กำหนดแบบฟอร์มให้ยืนยัน",
                f"letter {task.letter_id} has no confirmation form",
            )
        cleaned = _check_form_values(form, values)
        event = _append_event(session, task, EVENT_CONFIRMED, user, {"values": cleaned, "confirmed_by": user.id})
    log.info("task %s confirmed by %s", task_id, user.username)
    return event


def _latest_confirmer(session: Session, task_id: int) -> int | None:
    return session.scalar(
        select(TaskEvent.actor_id)
        .where(TaskEvent.task_id == task_id, TaskEvent.kind == EVENT_CONFIRMED)
        .order_by(TaskEvent.id.desc())
        .limit(1)
    )


def _review_confirmation(
    session: Session, user: User, task_id: int, on_date: date | None, delegation_id: int | None, kind: str
) -> tuple[RoutingTask, Authority]:
    task = _get_task(session, task_id)
    require_own_organization(user, task.recipient_org_id, "พิจารณาการยืนยัน", "review confirmations")
    authority = signing_authority(
        session, user, on_date or today_in_thailand(), delegation_id, "อนุมัติการยืนยัน", "approve confirmations"
    )
    _require_transition(load_status(session, task.id), kind, task)
    if _latest_confirmer(session, task.id) == user.id:
        raise PermissionDenied(
            "own_confirmation",
            "ผู้กรอกแบบยืนยันพิจารณาอนุมัติของตนเองไม่ได้",
            f"user {user.username} confirmed task {task.id} and may not review it",
        )
    return task, authority


def approve_confirmation(
    session: Session,
    user: User,
    task_id: int,
    on_date: date | None = None,
    delegation_id: int | None = None,
    note: str | None = None,
) -> TaskEvent:
    """Approve the LAO's confirmation, which reports it to the forwarding office."""
    with write_transaction(session):
        task, authority = _review_confirmation(session, user, task_id, on_date, delegation_id, EVENT_REPORTED)
        event = _append_event(session, task, EVENT_REPORTED, user, {
            "approved_on": (on_date or today_in_thailand()).isoformat(),
            "note": _check_note(note),
            **_authority_data(authority),
        })
    log.info("task %s confirmation approved by %s (%s)", task_id, user.username, authority.capacity)
    return event


def reject_confirmation(
    session: Session,
    user: User,
    task_id: int,
    reason: str,
    on_date: date | None = None,
    delegation_id: int | None = None,
) -> TaskEvent:
    """Send the confirmation back to be corrected; `reason` is required."""
    with write_transaction(session):
        reason = _check_note(reason)
        if not reason:
            raise InvalidValue("missing_reason", "ต้องระบุเหตุผลที่ส่งกลับ", "a rejection needs a reason")
        task, authority = _review_confirmation(session, user, task_id, on_date, delegation_id, EVENT_REJECTED)
        event = _append_event(session, task, EVENT_REJECTED, user, {"reason": reason, **_authority_data(authority)})
    log.info("task %s confirmation rejected by %s", task_id, user.username)
    return event


def report_to_sender(
    session: Session,
    user: User,
    task_id: int,
    on_date: date | None = None,
    delegation_id: int | None = None,
    note: str | None = None,
) -> TaskEvent:
    """Report a forwarded task back to the office that sent it, with the counts of the LAOs below.

    A provincial or district office completes its task by forwarding the letter and then
    collecting the replies. The event keeps the roll-up of this office's area at that moment.
    """
    with write_transaction(session):
        task = _get_task(session, task_id)
        require_own_organization(user, task.recipient_org_id, "รายงานผล", "report tasks")
        on_date = on_date or today_in_thailand()
        authority = signing_authority(session, user, on_date, delegation_id, "รายงานผล", "report tasks")
        status = load_status(session, task.id)
        if status.state != EVENT_FORWARDED:
            raise StateConflict(
                "not_forwarded",
                "รายงานผลได้หลังจากแจ้งเวียนหนังสือนี้ต่อแล้วเท่านั้น",
                f"task {task.id} is in state {status.state}; an office reports after forwarding",
            )
        counts = rollup(session, task.letter, on_date, viewer=user)
        event = _append_event(session, task, EVENT_REPORTED, user, {
            "reported_on": on_date.isoformat(),
            "note": _check_note(note),
            "counts": {key: counts[key] for key in ("recipients", "confirmed", "overdue")},
            **_authority_data(authority),
        })
    log.info("task %s reported by %s: %s", task_id, user.username, event.data["counts"])
    return event


def close_task(session: Session, user: User, task_id: int, note: str | None = None) -> TaskEvent:
    """Close a task the user's office sent, e.g. when the matter is settled another way."""
    with write_transaction(session):
        task = _get_task(session, task_id)
        require_own_organization(user, task.sender_org_id, "ปิดเรื่อง", "close tasks")
        require_role(user, (ROLE_SUPERVISOR, ROLE_CLERK), "ปิดเรื่อง", "close tasks")
        event = _append_event(session, task, EVENT_CLOSED, user, {"note": _check_note(note)})
    log.info("task %s closed by %s", task_id, user.username)
    return event


# --- reading ----------------------------------------------------------------------------


def task_status(session: Session, user: User, task_id: int) -> TaskStatus:
    """Return a task's derived status; the user's office must be its recipient, its sender or above the recipient."""
    task = _get_task(session, task_id, lock=False)
    if task.sender_org_id != user.organization_id:
        require_sees(user, task.recipient)
    return load_status(session, task.id)


def tasks_of_organization(session: Session, user: User) -> list[tuple[RoutingTask, TaskStatus]]:
    """Return all the tasks addressed to the user's office, newest first, with their derived status.

    Two queries however many tasks: the tasks joined with their letters, senders and
    recipients, and the events of all of them. The inbox screen lists a page at a time with `inbox_page`.
    """
    tasks = session.scalars(
        select(RoutingTask)
        .where(RoutingTask.recipient_org_id == user.organization_id)
        .options(joinedload(RoutingTask.letter), joinedload(RoutingTask.sender), joinedload(RoutingTask.recipient))
        .order_by(RoutingTask.id.desc())
    ).all()
    statuses = load_statuses(session, [task.id for task in tasks])
    return [(task, statuses[task.id]) for task in tasks]


@dataclass
class TaskPage:
    """One page of an office's tasks, newest first, each with its stored status."""

    rows: list[tuple[RoutingTask, TaskStatus]]
    page: int
    pages: int
    total: int


def inbox_page(session: Session, user: User, page: int = 1, per_page: int = TASKS_PER_PAGE) -> TaskPage:
    """Return one page of the tasks addressed to the user's office, newest first; pages start at 1.

    A page number past the end returns the last page. The page takes two queries however
    many tasks it lists: the count, and the tasks with their letters and senders. Each
    status is `TaskStatus.from_stored`, which fills the state and the overdue mark only.
    """
    total = session.scalar(
        select(func.count()).select_from(RoutingTask).where(RoutingTask.recipient_org_id == user.organization_id)
    ) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    tasks = session.scalars(
        select(RoutingTask)
        .where(RoutingTask.recipient_org_id == user.organization_id)
        .options(joinedload(RoutingTask.letter), joinedload(RoutingTask.sender))
        .order_by(RoutingTask.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return TaskPage([(task, TaskStatus.from_stored(task)) for task in tasks], page, pages, total)


def receipt_number_th(receipt: Receipt) -> str:
    """Return the receipt number as a clerk writes it: number / Buddhist-era year, e.g. `125/2568`."""
    return f"{receipt.number}/{receipt.year + 543}"


def state_name_th(state: str) -> str:
    return STATE_NAMES_TH.get(state, state)
