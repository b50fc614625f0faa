"""Screens for routing circulars: the inbox, a task and its actions, the confirmation form, the roll-up.

Each POST view parses the form, calls one routing operation and redirects to the task. An
operation rejects a wrong role, a wrong office, a wrong state or bad input with a
`WorkflowError`. The view then shows the task page again with the Thai message and the
error's HTTP status. The database is unchanged, because the operation rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import contains_eager

from workflow import operations as document_operations
from workflow.app import get_session
from workflow.documents.exports import CARBON_CREDIT_OFFICER_COLUMNS, FORMATS, MEDIA_TYPES, export_answers
from workflow.errors import InvalidValue, NotFound, PermissionDenied, WorkflowError
from workflow.models import (
    ORG_DISTRICT_OFFICE,
    ORG_LAO,
    ORG_PROVINCE_OFFICE,
    ROLE_OFFICER,
    ROLE_SUPERVISOR,
    Document,
    Letter,
    Organization,
    User,
)
from workflow.routing import covering, operations
from workflow.routing.access import ROLE_NAMES_TH, is_below, require_sees, valid_delegations
from workflow.routing.admin import office_settings
from workflow.routing.errors import StateConflict
from workflow.routing.calendar import BANGKOK, load_calendar, today_in_thailand
from workflow.routing.models import (
    CAPACITY_ACTING,
    CAPACITY_ON_BEHALF,
    CAPACITY_SELF,
    EVENT_ASSIGNED,
    EVENT_CLOSED,
    EVENT_CONFIRMED,
    EVENT_DELIVERED,
    EVENT_ENDORSED,
    EVENT_FORWARDED,
    EVENT_OVERDUE,
    EVENT_RECEIVED,
    EVENT_REJECTED,
    EVENT_REPORTED,
    Endorsement,
    Notice,
    OfficialLetter,
    Receipt,
    RoutingTask,
    TaskEvent,
)
from workflow.routing.rollup import cascade_letter_ids, recipient_statuses, rollup
from workflow.routing.dashboard import dashboard
from workflow.routing.state import ALLOWED_AFTER, ANSWERED_STATES, STATE_NAMES_TH, TaskStatus
from workflow.thaidate import format_be_date, parse_thai_date
from workflow.web.auth import login_required

log = logging.getLogger(__name__)

bp = Blueprint("routing", __name__, url_prefix="/routing")

URGENCY_NAMES_TH = {"most_urgent": "ด่วนที่สุด", "very_urgent": "ด่วนมาก", "urgent": "ด่วน"}
CHANNEL_NAMES_TH = {
    "system": "ผ่านระบบสารบรรณ",
    "e_office": "ระบบ e-office",
    "ecms": "ระบบ e-CMS",
    "email": "อีเมล",
    "paper": "หนังสือฉบับจริง",
}
# Thai labels of the events in a task's history list.
EVENT_NAMES_TH = {
    EVENT_DELIVERED: "ส่งถึงหน่วยงาน",
    EVENT_RECEIVED: "ลงรับหนังสือ",
    EVENT_ENDORSED: "เกษียนสั่งการ",
    EVENT_ASSIGNED: "มอบหมายผู้รับผิดชอบ",
    EVENT_FORWARDED: "แจ้งเวียนต่อหน่วยงานในสังกัด",
    EVENT_CONFIRMED: "กรอกแบบยืนยัน",
    EVENT_REPORTED: "อนุมัติและรายงานผล",
    EVENT_REJECTED: "ส่งกลับให้แก้ไข",
    EVENT_OVERDUE: "เกินกำหนดส่ง แจ้งหน่วยงานต้นสังกัดแล้ว",
    EVENT_CLOSED: "ปิดเรื่อง",
}
CAPACITY_NAMES_TH = {
    CAPACITY_SELF: "ในฐานะของตนเอง",
    CAPACITY_ON_BEHALF: "ปฏิบัติราชการแทน",
    CAPACITY_ACTING: "รักษาราชการแทน",
}
# Endorsement decisions offered as checkboxes. `มอบ` takes the unit from a field of its own.
ENDORSE_DECISIONS = ("ทราบ", "ดำเนินการ", "ถือปฏิบัติ", "แจ้งเวียน", "มอบ")
DONE_STATES = ANSWERED_STATES | {EVENT_CLOSED}
OFFICE_NAME_PREFIX = "สำนักงานส่งเสริมการปกครองท้องถิ่น"
MAX_NOTICES_SHOWN = 20
ISSUED_PER_PAGE = 50


def _today() -> date:
    return today_in_thailand()


def _short_office_name(name: str | None) -> str:
    """Return `จังหวัดเชียงราย` for `สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดเชียงราย`, and any other name unchanged."""
    return (name or "").removeprefix(OFFICE_NAME_PREFIX) or (name or "")


def _is_overdue(task: RoutingTask, status: TaskStatus, today: date) -> bool:
    if status.state in DONE_STATES:
        return False
    return status.overdue_marked or (task.due_effective is not None and task.due_effective < today)


def _signing_roles_or_delegation(session, user: User, today: date) -> bool:
    return user.role == ROLE_SUPERVISOR or bool(valid_delegations(session, user, today))


# --- inbox ------------------------------------------------------------------------------


@dataclass
class IssuedPage:
    """One page of the circulars an office issued, newest first, with their recipients' counts."""

    rows: list[tuple[OfficialLetter, dict[str, int]]]
    page: int
    pages: int
    total: int


def _requested_page(name: str) -> int:
    """Return the query argument `name` as a page number, or 1 when it is missing or not a whole number."""
    return request.args.get(name, 1, type=int) or 1


@bp.get("/")
@login_required
def inbox():
    """List the office's tasks and the circulars it issued, a page of each, with a constant number of queries."""
    session = get_session()
    user = g.user
    today = _today()
    tasks = operations.inbox_page(session, user, _requested_page("page"))
    rows = [
        {"task": task, "status": status, "overdue": _is_overdue(task, status, today)}
        for task, status in tasks.rows
    ]
    issued = _issued_page(session, user.organization_id, today, _requested_page("issued_page"))
    notices = session.scalars(
        select(Notice)
        .where(Notice.organization_id == user.organization_id)
        .order_by(Notice.id.desc())
        .limit(MAX_NOTICES_SHOWN)
    ).all()
    return render_template(
        "routing/inbox.html",
        rows=rows,
        tasks=tasks,
        issued=issued,
        notices=notices,
        today=today,
    )


def _issued_page(session, organization_id: int, today: date, page: int) -> IssuedPage:
    """Return one page of the office's issued circulars, newest first; a page past the end returns the last."""
    query = select(OfficialLetter).where(OfficialLetter.issuer_org_id == organization_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // ISSUED_PER_PAGE))
    page = min(max(1, page), pages)
    letters = session.scalars(
        query.order_by(OfficialLetter.id.desc()).offset((page - 1) * ISSUED_PER_PAGE).limit(ISSUED_PER_PAGE)
    ).all()
    counts = _issued_counts(session, organization_id, today, [letter.id for letter in letters]) if letters else {}
    empty = {"recipients": 0, "answered": 0, "overdue": 0}
    return IssuedPage([(letter, counts.get(letter.id, empty)) for letter in letters], page, pages, total)


def _issued_counts(
    session, organization_id: int, today: date, letter_ids: list[int] | None = None
) -> dict[int, dict[str, int]]:
    """Count the recipient tasks of each circular the office issued: all, reported or closed, and overdue.

    One grouped query over the stored states of the tasks, limited to `letter_ids` when
    given. A task is overdue as in `_is_overdue`: not done, and either marked overdue by the
    daily job or past its effective due date.
    """
    issued_ids = select(OfficialLetter.id).where(OfficialLetter.issuer_org_id == organization_id)
    if letter_ids is not None:
        issued_ids = issued_ids.where(OfficialLetter.id.in_(letter_ids))
    done = RoutingTask.state.in_(sorted(DONE_STATES))
    overdue = and_(~done, or_(RoutingTask.overdue_marked, RoutingTask.due_effective < today))
    rows = session.execute(
        select(
            RoutingTask.letter_id,
            func.count().label("recipients"),
            func.sum(case((done, 1), else_=0)).label("answered"),
            func.sum(case((overdue, 1), else_=0)).label("overdue"),
        )
        .where(RoutingTask.letter_id.in_(issued_ids))
        .group_by(RoutingTask.letter_id)
    )
    return {
        row.letter_id: {"recipients": int(row.recipients), "answered": int(row.answered or 0),
                        "overdue": int(row.overdue or 0)}
        for row in rows
    }


@bp.get("/dashboard")
@login_required
def dashboard_page():
    """Show the counts of the LAO tasks below every circular the user's office issued or forwarded."""
    board = dashboard(get_session(), g.user.organization_id, _today())
    return render_template("routing/dashboard.html", board=board, state_names=STATE_NAMES_TH)


# --- task page --------------------------------------------------------------------------


def _load_task(task_id: int) -> tuple[RoutingTask, TaskStatus]:
    """Return the task and its status, or raise: the user's office must be its recipient, sender or above it."""
    session = get_session()
    status = operations.task_status(session, g.user, task_id)
    return session.get(RoutingTask, task_id), status


def _receipt_of(session, task: RoutingTask) -> Receipt | None:
    return session.scalar(
        select(Receipt).where(Receipt.organization_id == task.recipient_org_id, Receipt.letter_id == task.letter_id)
    )


def _history(session, task: RoutingTask) -> list[dict[str, Any]]:
    events = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)).all()
    actors = {
        user.id: user
        for user in session.scalars(select(User).where(User.id.in_({e.actor_id for e in events if e.actor_id})))
    }
    return [
        {"event": event, "name_th": EVENT_NAMES_TH.get(event.kind, event.kind), "actor": actors.get(event.actor_id)}
        for event in events
    ]


def _child_letters(session, task: RoutingTask) -> list[OfficialLetter]:
    """Return the circulars the task's office issued from the task's letter (its แจ้งเวียน)."""
    return session.scalars(
        select(OfficialLetter)
        .where(OfficialLetter.parent_letter_id == task.letter_id, OfficialLetter.issuer_org_id == task.recipient_org_id)
        .order_by(OfficialLetter.id)
    ).all()


def _recipient_rows(session, letter: OfficialLetter, today: date) -> list[dict[str, Any]]:
    """Return a row per recipient of the letter with its stored status and receipt number, in two queries."""
    tasks = session.scalars(
        select(RoutingTask)
        .join(Organization, Organization.id == RoutingTask.recipient_org_id)
        .options(contains_eager(RoutingTask.recipient))
        .where(RoutingTask.letter_id == letter.id)
        .order_by(Organization.code)
    ).all()
    # A task is received once, so its `received` event is the one `derive_status` reads.
    receipts = {
        task_id: data or {}
        for task_id, data in session.execute(
            select(TaskEvent.task_id, TaskEvent.data)
            .join(RoutingTask, RoutingTask.id == TaskEvent.task_id)
            .where(RoutingTask.letter_id == letter.id, TaskEvent.kind == EVENT_RECEIVED)
            .order_by(TaskEvent.id)
        )
    }
    rows = []
    for task in tasks:
        status = TaskStatus.from_stored(task)
        receipt = receipts.get(task.id, {})
        status.receipt_number = receipt.get("receipt_number")
        status.received_on = receipt.get("received_on")
        rows.append({"task": task, "status": status, "overdue": _is_overdue(task, status, today)})
    return rows


def _proposed_due(session, task: RoutingTask, organization: Organization) -> date | None:
    """Return the due date `forward_circular` derives when none is given: the parent's less the office's lead time.

    NOTE: this repeats the operation's rule for the preview only. When the clerk keeps this
    date, the form sends none, so the operation derives and stores its own.
    """
    parent_due = task.due_effective or task.letter.due_effective
    if parent_due is None:
        return None
    calendar = load_calendar(session)
    lead = office_settings(session, organization).internal_due_working_days
    return calendar.add_working_days(calendar.effective_due(parent_due), -lead)


def _subordinates(session, organization: Organization) -> list[Organization]:
    return session.scalars(
        select(Organization).where(Organization.parent_id == organization.id).order_by(Organization.code)
    ).all()


def _allowed_actions(task: RoutingTask, status: TaskStatus, receipt: Receipt | None, forward_ordered: bool,
                     remaining: list[Organization]) -> dict[str, bool]:
    """Decide which action forms the page shows. The operations check each action again when it is sent."""
    session = get_session()
    user = g.user
    own = task.recipient_org_id == user.organization_id
    is_lao = task.recipient.kind == ORG_LAO
    may_sign = _signing_roles_or_delegation(session, user, _today())
    state = status.state
    return {
        "receive": own and state == EVENT_DELIVERED and user.role in operations.RECEIVING_ROLES,
        "endorse": own and receipt is not None and may_sign and state in ALLOWED_AFTER[EVENT_ENDORSED],
        "assign": own and is_lao and receipt is not None and may_sign and state in ALLOWED_AFTER[EVENT_ASSIGNED],
        "forward": own and not is_lao and forward_ordered and may_sign and bool(remaining)
        and state in ALLOWED_AFTER[EVENT_FORWARDED],
        "confirm": own and is_lao and bool(task.letter.confirmation_form)
        and user.role in operations.CONFIRMING_ROLES and state in ALLOWED_AFTER[EVENT_CONFIRMED],
        "review": own and may_sign and state == EVENT_CONFIRMED,
        "report": own and may_sign and state == EVENT_FORWARDED,
    }


def _task_context(task: RoutingTask, status: TaskStatus) -> dict[str, Any]:
    session = get_session()
    user = g.user
    today = _today()
    own = task.recipient_org_id == user.organization_id
    organization = task.recipient
    receipt = _receipt_of(session, task)
    endorsements = (
        session.scalars(select(Endorsement).where(Endorsement.receipt_id == receipt.id).order_by(Endorsement.id)).all()
        if receipt else []
    )
    forward_ordered = any(operations.DECISION_FORWARD in (item.decisions or []) for item in endorsements)

    children = [(child, _recipient_rows(session, child, today)) for child in _child_letters(session, task)]
    # `forward_circular` rejects offices that already got this letter from this office, so they are not offered.
    already = {row["task"].recipient_org_id for _child, rows in children for row in rows}
    remaining = []
    if organization.kind != ORG_LAO:
        remaining = [org for org in _subordinates(session, organization) if org.id not in already]
    may = _allowed_actions(task, status, receipt, forward_ordered, remaining)
    source = operations.source_document(session, task.letter)

    context = {
        "task": task,
        "letter": task.letter,
        "status": status,
        "own": own,
        "overdue": _is_overdue(task, status, today),
        "receipt": receipt,
        "receipt_number": operations.receipt_number_th(receipt) if receipt else None,
        "endorsements": endorsements,
        "endorsers": _users_by_id(session, [item.endorsed_by_id for item in endorsements]),
        "history": _history(session, task),
        "children": children,
        "delegations": valid_delegations(session, user, today) if own else [],
        "confirmation": _confirmation_context(session, task, status),
        # The uploaded file the letter was registered from, linked only for a viewer who may open it.
        "source_document": source if source is not None and document_operations.may_see_document(user, source) else None,
        "today": today,
        "may": may,
    }
    if may["forward"]:
        context["forward"] = {
            "subordinates": remaining,
            "already": bool(already),
            "proposed_due": _proposed_due(session, task, organization),
            "form_fields": task.letter.confirmation_form or list(operations.CARBON_CREDIT_CONFIRMATION_FORM),
            "form_inherited": bool(task.letter.confirmation_form),
        }
    if may["assign"]:
        context["officers"] = session.scalars(
            select(User).where(User.organization_id == organization.id, User.role == ROLE_OFFICER).order_by(User.id)
        ).all()
    return context


def _users_by_id(session, ids: list[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(set(ids))))}


def _confirmation_context(session, task: RoutingTask, status: TaskStatus) -> dict[str, Any] | None:
    """Return the latest confirmation with who filled it in and the latest send-back reason, if any."""
    latest = session.scalar(
        select(TaskEvent)
        .where(TaskEvent.task_id == task.id, TaskEvent.kind.in_((EVENT_CONFIRMED, EVENT_REJECTED)))
        .order_by(TaskEvent.id.desc())
        .limit(1)
    )
    if latest is None:
        return None
    confirmed = session.scalar(
        select(TaskEvent)
        .where(TaskEvent.task_id == task.id, TaskEvent.kind == EVENT_CONFIRMED)
        .order_by(TaskEvent.id.desc())
        .limit(1)
    )
    return {
        "values": status.confirmation or {},
        "by": session.get(User, confirmed.actor_id) if confirmed and confirmed.actor_id else None,
        "at": confirmed.occurred_at if confirmed else None,
        "rejected_reason": latest.data.get("reason") if latest.kind == EVENT_REJECTED else None,
    }


def _render_task(task_id: int, http_status: int = 200, form: dict | None = None):
    task, status = _load_task(task_id)
    return render_template(
        "routing/task.html", **_task_context(task, status), form=form or {}
    ), http_status


@bp.get("/tasks/<int:task_id>")
@login_required
def task_page(task_id: int):
    return _render_task(task_id)


def _refused(task_id: int, error: WorkflowError, form: dict | None = None):
    """Show the task page again with the operation's Thai message; the operation changed nothing."""
    log.info("user %s: action on task %s rejected: %s", g.user.username, task_id, error.message_en)
    flash(error.message_th, "error")
    return _render_task(task_id, error.http_status, form)


def _done(task_id: int, message_th: str, anchor: str | None = None):
    flash(message_th, "success")
    return redirect(url_for("routing.task_page", task_id=task_id, _anchor=anchor))


def _delegation_id() -> int | None:
    raw = request.form.get("delegation_id", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidValue("invalid_delegation", "คำสั่งมอบอำนาจที่เลือกไม่ถูกต้อง", f"delegation_id {raw!r} is not a number")
    return int(raw)


def _parse_date(name: str, label_th: str) -> date | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_thai_date(raw)
    except ValueError:
        raise InvalidValue(
            "invalid_date",
            f"อ่าน{label_th} “{raw}” ไม่ได้ กรุณาพิมพ์ เช่น 11 เมษายน 2568 หรือ 11/4/2568",
            f"cannot read {name} {raw!r}",
        ) from None


def _parse_received_at() -> datetime | None:
    """Return the receipt stamp's moment from the form, or None (now) for today's date without a time."""
    day = _parse_date("received_on", "วันที่ลงรับ") or _today()
    clock = request.form.get("received_time", "").strip()
    if not clock:
        if day == _today():
            return None
        raise InvalidValue(
            "missing_time", "กรุณาระบุเวลาลงรับตามตราลงรับ เช่น 09:30", f"received_on {day} was given without a time"
        )
    try:
        hour, minute = (int(part) for part in clock.replace(".", ":").split(":"))
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BANGKOK)
    except ValueError:
        raise InvalidValue(
            "invalid_time", f"อ่านเวลาลงรับ “{clock}” ไม่ได้ กรุณาพิมพ์ เช่น 09:30", f"cannot read time {clock!r}"
        ) from None


@bp.post("/tasks/<int:task_id>/receive")
@login_required
def receive(task_id: int):
    task, _status = _load_task(task_id)
    try:
        result = operations.register_receipt(
            get_session(), g.user, channel=request.form.get("channel", "system"), letter_id=task.letter_id,
            received_at=_parse_received_at(), remarks=request.form.get("remarks"),
        )
    except WorkflowError as error:
        return _refused(task_id, error)
    return _done(task_id, f"ลงรับหนังสือแล้ว เลขรับ {operations.receipt_number_th(result.receipt)}")


# --- registering a letter from an uploaded file --------------------------------------------

UPLOADED_LETTERS_SHOWN = 50
# Channels a letter from outside the service arrives by; `system` is for tasks only.
OUTSIDE_CHANNELS = ("paper", "email", "e_office", "ecms")


def _uploaded_letters(session, user: User) -> list[Letter]:
    """Return the newest letters read from the office's uploads that the user may see and no registration links yet."""
    linked = select(OfficialLetter.source_letter_id).where(OfficialLetter.source_letter_id.is_not(None))
    letters = session.scalars(
        select(Letter)
        .join(Document, Letter.document_id == Document.id)
        .where(Document.organization_id == user.organization_id, Letter.id.not_in(linked))
        .order_by(Document.uploaded_at.desc(), Document.id.desc(), Letter.position)
        .limit(UPLOADED_LETTERS_SHOWN)
    ).all()
    return [letter for letter in letters if document_operations.may_see_document(user, letter.document)]


def _letter_summary(letter: Letter) -> dict[str, Any]:
    """Return the parsed (or corrected) fields of an uploaded letter that the register screen shows."""
    data = document_operations.letter_result(letter)
    number = data.get("doc_number")
    try:
        letter_date = date.fromisoformat(data["date"]) if data.get("date") else None
    except (TypeError, ValueError):
        letter_date = None
    return {
        "letter": letter,
        "data": data,
        "doc_number": number.get("text") if isinstance(number, dict) else number,
        "letter_date": letter_date,
        "subject": data.get("subject"),
        "issuer": data.get("issuer"),
        "urgency": data.get("urgency"),
    }


def _picked_letter(session, raw: str | None) -> Letter | None:
    """Return the uploaded letter named by the form or query value `raw`, checked as `check_source_letter` checks it."""
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise InvalidValue("invalid_source_letter", "กรุณาเลือกหนังสือจากรายการเอกสารที่อัปโหลด",
                           f"source letter {raw[:20]!r} is not an id")
    letter_id = int(raw)
    operations.check_source_letter(session, g.user, letter_id)
    return session.get(Letter, letter_id)


def _render_register(picked: Letter | None, form: dict | None = None, error: WorkflowError | None = None,
                     http_status: int = 200):
    session = get_session()
    uploaded = _uploaded_letters(session, g.user)
    if picked is not None and picked not in uploaded:
        uploaded.insert(0, picked)
    return render_template(
        "routing/register.html",
        uploaded=[_letter_summary(letter) for letter in uploaded],
        picked=_letter_summary(picked) if picked is not None else None,
        channels=OUTSIDE_CHANNELS,
        may_register=g.user.role in operations.RECEIVING_ROLES,
        form=form or {},
        error=error,
        today=_today(),
    ), http_status


@bp.get("/receive")
@login_required
def register_page():
    """Show the form that registers a letter read from one of the office's uploaded files (`?letter=<id>` picks it)."""
    session = get_session()
    try:
        picked = _picked_letter(session, request.args.get("letter"))
    except WorkflowError as error:
        return _render_register(None, error=error, http_status=error.http_status)
    return _render_register(picked)


@bp.post("/receive")
@login_required
def register_uploaded():
    """Register the picked uploaded letter in the office's receipt register, linked to its file."""
    session = get_session()
    form = request.form.to_dict()
    picked = None
    try:
        picked = _picked_letter(session, form.get("letter"))
        if picked is None:
            raise InvalidValue("missing_source_letter", "กรุณาเลือกหนังสือจากเอกสารที่อัปโหลดก่อนลงรับ",
                               "no uploaded letter was picked")
        channel = form.get("channel", "")
        if channel not in OUTSIDE_CHANNELS:
            raise InvalidValue("invalid_channel", f"ไม่รู้จักช่องทางรับหนังสือ “{channel[:40]}”",
                               f"channel {channel[:40]!r} is not one for letters from outside")
        letter_data = {**document_operations.letter_result(picked), "source_letter_id": picked.id}
        result = operations.register_receipt(
            session, g.user, channel=channel, letter_data=letter_data, received_at=_parse_received_at(),
            sender_text=(form.get("sender_text") or "").strip()[:300] or None, remarks=form.get("remarks"),
        )
    except WorkflowError as error:
        log.info("user %s: registering uploaded letter %s rejected: %s",
                 g.user.username, form.get("letter"), error.message_en)
        session.rollback()
        return _render_register(picked, form=form, error=error, http_status=error.http_status)

    number = operations.receipt_number_th(result.receipt)
    if not result.created:
        flash(f"หนังสือฉบับนี้ลงรับไว้แล้ว เลขรับ {number} ระบบบันทึกการได้รับซ้ำไว้โดยไม่ออกเลขใหม่", "success")
    else:
        flash(f"ลงรับหนังสือแล้ว เลขรับ {number}", "success")
    if result.letter.source_letter_id != picked.id:
        # find_or_create_letter links a file only to a letter it creates: another file, or none, stays linked.
        flash("หนังสือฉบับนี้มีในระบบอยู่ก่อนแล้ว จึงไม่ได้ผูกกับไฟล์ที่เลือก หน่วยงานที่ได้รับการแจ้งเวียนจะไม่เห็นไฟล์นี้", "error")
    if result.task is not None:
        return redirect(url_for("routing.task_page", task_id=result.task.id))
    return redirect(url_for("routing.register_page"))


@bp.post("/tasks/<int:task_id>/endorse")
@login_required
def endorse(task_id: int):
    task, _status = _load_task(task_id)
    session = get_session()
    receipt = _receipt_of(session, task)
    try:
        if receipt is None:
            raise StateConflict("not_received", "ต้องลงรับหนังสือก่อนเกษียนสั่งการ", f"task {task_id} has no receipt")
        operations.endorse(
            session, g.user, receipt.id, request.form.getlist("decisions"), note=request.form.get("note"),
            assigned_unit=request.form.get("assigned_unit") or None, delegation_id=_delegation_id(),
        )
    except WorkflowError as error:
        return _refused(task_id, error, request.form.to_dict())
    return _done(task_id, "บันทึกการเกษียนสั่งการแล้ว")


@bp.post("/tasks/<int:task_id>/assign")
@login_required
def assign(task_id: int):
    session = get_session()
    try:
        raw = request.form.get("assignee_id", "")
        assignee = session.get(User, int(raw)) if raw.isdigit() else None
        if assignee is None:
            raise NotFound("assignee_not_found", "กรุณาเลือกเจ้าหน้าที่ผู้รับผิดชอบ", f"no user {raw!r}")
        operations.assign_task(session, g.user, task_id, assignee, request.form.get("note"),
                               delegation_id=_delegation_id())
    except WorkflowError as error:
        return _refused(task_id, error)
    return _done(task_id, f"มอบหมายให้ {assignee.display_name} แล้ว")


def _forward_options(task: RoutingTask) -> dict[str, Any]:
    """Read the forward form into the options of `forward_circular`."""
    session = get_session()
    chosen = request.form.getlist("recipients")
    all_codes = [org.code for org in _subordinates(session, g.user.organization)]
    proposed = _proposed_due(session, task, g.user.organization)
    due = _parse_date("due", "กำหนดส่ง")
    fields = [field for field in (task.letter.confirmation_form or operations.CARBON_CREDIT_CONFIRMATION_FORM)
              if field["name"] in request.form.getlist("form_fields")]
    return {
        # All subordinates is the default list; a subset names its recipients.
        "recipient_codes": None if sorted(chosen) == sorted(all_codes) else chosen,
        # The derived date is left to the operation, so it stores how the date was found.
        "due_nominal": None if due == proposed else due,
        "confirmation_form": fields,
        "delegation_id": _delegation_id(),
    }


@bp.post("/tasks/<int:task_id>/forward")
@login_required
def forward(task_id: int):
    task, _status = _load_task(task_id)
    session = get_session()
    try:
        if task.recipient_org_id != g.user.organization_id:
            raise PermissionDenied(
                "other_organization", "ท่านแจ้งเวียนได้เฉพาะหนังสือที่ส่งถึงหน่วยงานของท่านเอง",
                f"user {g.user.username} may not forward task {task_id} of org {task.recipient_org_id}",
            )
        result = operations.forward_circular(session, g.user, task.letter_id, **_forward_options(task))
    except WorkflowError as error:
        return _refused(task_id, error, request.form.to_dict())
    message = f"ออกหนังสือเวียนที่ {result.letter.doc_number} ถึงหน่วยงานในสังกัด {result.task_count} แห่งแล้ว"
    message += _write_covering(result.letter)
    return _done(task_id, message, anchor="below")


def _write_covering(letter: OfficialLetter) -> str:
    """Render the covering letter with a QR code of the confirmation link; return a note when that failed."""
    url = url_for("routing.confirm_letter", letter_id=letter.id, _external=True) if letter.confirmation_form else None
    try:
        covering.write_covering_files(get_session(), letter.id, Path(current_app.config["SARABAN_STORAGE"]), url)
    except (ImportError, WorkflowError) as error:
        log.warning("letter %s: covering letter not rendered: %s", letter.id, error)
        return " แต่ยังสร้างไฟล์หนังสือนำส่งไม่ได้"
    return ""


def _confirm_values(task: RoutingTask) -> dict[str, str]:
    return {field["name"]: request.form.get(field["name"], "") for field in task.letter.confirmation_form or []}


@bp.route("/tasks/<int:task_id>/confirm", methods=["GET", "POST"])
@login_required
def confirm(task_id: int):
    if request.method == "GET":
        return redirect(url_for("routing.task_page", task_id=task_id, _anchor="confirm"))
    task, _status = _load_task(task_id)
    values = _confirm_values(task)
    try:
        operations.confirm_assignment(get_session(), g.user, task_id, values)
    except WorkflowError as error:
        return _refused(task_id, error, values)
    return _done(task_id, "ส่งแบบยืนยันแล้ว รอผู้บังคับบัญชาอนุมัติ")


@bp.post("/tasks/<int:task_id>/approve")
@login_required
def approve(task_id: int):
    try:
        operations.approve_confirmation(get_session(), g.user, task_id, delegation_id=_delegation_id(),
                                        note=request.form.get("note"))
    except WorkflowError as error:
        return _refused(task_id, error)
    return _done(task_id, "อนุมัติการยืนยันและรายงานหน่วยงานต้นเรื่องแล้ว")


@bp.post("/tasks/<int:task_id>/reject")
@login_required
def reject(task_id: int):
    try:
        operations.reject_confirmation(get_session(), g.user, task_id, request.form.get("reason", ""),
                                       delegation_id=_delegation_id())
    except WorkflowError as error:
        return _refused(task_id, error, {"reason": request.form.get("reason", "")})
    return _done(task_id, "ส่งแบบยืนยันกลับให้แก้ไขแล้ว")


@bp.post("/tasks/<int:task_id>/report")
@login_required
def report(task_id: int):
    try:
        event = operations.report_to_sender(get_session(), g.user, task_id, delegation_id=_delegation_id(),
                                            note=request.form.get("note"))
    except WorkflowError as error:
        return _refused(task_id, error)
    counts = event.data["counts"]
    return _done(task_id, f"รายงานผลแล้ว: ยืนยันแล้ว {counts['confirmed']} จาก {counts['recipients']} แห่ง")


# --- letters: QR landing, covering letter files, recipients, roll-up ------------------------


def _get_letter(letter_id: int) -> OfficialLetter:
    letter = get_session().get(OfficialLetter, letter_id)
    if letter is None:
        raise NotFound("letter_not_found", f"ไม่พบหนังสือเลขที่ {letter_id}", f"no letter {letter_id}")
    return letter


def _require_involved(letter: OfficialLetter) -> None:
    """Raise PermissionDenied unless the user's office issued a letter of the cascade, got one, or is above the issuer."""
    session = get_session()
    user = g.user
    letter_ids = cascade_letter_ids(session, letter.id)
    issued = session.scalar(
        select(OfficialLetter.id).where(OfficialLetter.id.in_(letter_ids),
                                        OfficialLetter.issuer_org_id == user.organization_id).limit(1)
    )
    received = session.scalar(
        select(RoutingTask.id).where(RoutingTask.letter_id.in_(letter_ids),
                                     RoutingTask.recipient_org_id == user.organization_id).limit(1)
    )
    above = letter.issuer_org is not None and is_below(letter.issuer_org, user.organization)
    if issued is None and received is None and not above:
        raise PermissionDenied(
            "letter_not_visible",
            "หนังสือนี้ไม่ได้ส่งถึงหน่วยงานของท่านหรือหน่วยงานในสังกัด จึงดูผลไม่ได้",
            f"user {user.username} (org {user.organization_id}) is not in the cascade of letter {letter.id}",
        )


@bp.get("/letters/<int:letter_id>/confirm")
@login_required
def confirm_letter(letter_id: int):
    """Open the confirmation form of the signed-in user's office for this letter (the QR code's link)."""
    session = get_session()
    letter = _get_letter(letter_id)
    task = session.scalar(
        select(RoutingTask).where(RoutingTask.letter_id == letter.id,
                                  RoutingTask.recipient_org_id == g.user.organization_id)
    )
    if task is None:
        raise PermissionDenied(
            "letter_not_addressed",
            f"หนังสือที่ {letter.doc_number} ไม่ได้ส่งถึง{g.user.organization.name_th} กรุณาเข้าสู่ระบบด้วยบัญชีของหน่วยงานผู้รับ",
            f"letter {letter.id} has no task for org {g.user.organization_id}",
        )
    return redirect(url_for("routing.task_page", task_id=task.id, _anchor="confirm"))


@bp.get("/letters/<int:letter_id>/covering.<fmt>")
@login_required
def covering_file(letter_id: int, fmt: str):
    letter = _get_letter(letter_id)
    _require_involved(letter)
    path = (letter.covering_files or {}).get(fmt)
    if fmt not in ("pdf", "docx") or not path or not Path(path).is_file():
        raise NotFound("covering_not_found", "ยังไม่มีไฟล์หนังสือนำส่งฉบับนี้", f"letter {letter_id} has no {fmt} file")
    name = f"หนังสือนำส่ง {letter.doc_number.replace('/', '-')}.{fmt}"
    return send_file(path, as_attachment=fmt == "docx", download_name=name)


@bp.get("/letters/<int:letter_id>")
@login_required
def letter_page(letter_id: int):
    """Show the recipients of a circular, with their status, to its issuing office and the offices above it."""
    letter = _get_letter(letter_id)
    if letter.issuer_org is None:
        raise NotFound("letter_not_issued", "หนังสือนี้ไม่ได้ออกจากระบบนี้", f"letter {letter_id} has no issuer office")
    require_sees(g.user, letter.issuer_org)
    return render_template(
        "routing/letter.html", letter=letter, rows=_recipient_rows(get_session(), letter, _today()), today=_today()
    )


def _area_names(session, statuses) -> tuple[dict[str, str], dict[str, str]]:
    """Return Thai names of the provinces and districts of `statuses`, by DOPA code."""
    provinces = {s.province_code for s in statuses if s.province_code}
    districts = {s.district_code for s in statuses if s.district_code}
    return _area_names_of(session, provinces, districts)


def _area_names_of(session, provinces: set[str], districts: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Return Thai names of these provinces and districts, by DOPA code."""
    offices = session.scalars(
        select(Organization).where(
            or_(
                and_(Organization.kind == ORG_PROVINCE_OFFICE, Organization.province_code.in_(provinces)),
                and_(Organization.kind == ORG_DISTRICT_OFFICE, Organization.district_code.in_(districts)),
            )
        )
    ).all()
    province_names = {o.province_code: _short_office_name(o.name_th) for o in offices if o.kind == ORG_PROVINCE_OFFICE}
    district_names = {o.district_code: _short_office_name(o.name_th) for o in offices if o.kind == ORG_DISTRICT_OFFICE}
    return province_names, district_names


@bp.get("/letters/<int:letter_id>/rollup")
@login_required
def rollup_page(letter_id: int):
    session = get_session()
    letter = _get_letter(letter_id)
    _require_involved(letter)
    today = _today()
    counts = rollup(session, letter, today, viewer=g.user)
    pending = recipient_statuses(session, letter, today, viewer=g.user, pending_only=True)
    province_names, district_names = _area_names_of(
        session, set(counts["by_province"]) - {""}, set(counts["by_district"]) - {""}
    )
    return render_template(
        "routing/rollup.html",
        letter=letter,
        counts=counts,
        pending=pending,
        province_names=province_names,
        district_names=district_names,
        today=today,
        may_export=_may_export_answers(letter),
    )


def _may_export_answers(letter: OfficialLetter) -> bool:
    # The answers name every recipient's officer with a phone and e-mail, so only the issuing
    # office and the offices above it download them.
    return letter.issuer_org is not None and (
        letter.issuer_org_id == g.user.organization_id or is_below(letter.issuer_org, g.user.organization)
    )


def _answer_rows(session, letter: OfficialLetter, today: date) -> list[dict[str, Any]]:
    """Build one export row per LAO the user may see: its area, its latest confirmation and its status."""
    statuses = recipient_statuses(session, letter, today, viewer=g.user)
    province_names, district_names = _area_names(session, statuses)
    events = session.execute(
        select(RoutingTask.recipient_org_id, TaskEvent.kind, TaskEvent.data, TaskEvent.occurred_at)
        .join(RoutingTask, RoutingTask.id == TaskEvent.task_id)
        .where(
            RoutingTask.letter_id.in_(cascade_letter_ids(session, letter.id)),
            RoutingTask.recipient_org_id.in_([item.organization_id for item in statuses]),
            TaskEvent.kind.in_((EVENT_CONFIRMED, EVENT_REJECTED)),
        )
        .order_by(TaskEvent.id)
    ).all()
    latest: dict[int, Any] = {}
    confirmed: dict[int, Any] = {}
    for row in events:
        latest[row.recipient_org_id] = row
        if row.kind == EVENT_CONFIRMED:
            confirmed[row.recipient_org_id] = row
    rows = []
    for item in statuses:
        answer = confirmed.get(item.organization_id)
        values = (answer.data or {}).get("values", {}) if answer else {}
        if item.confirmed:
            state = "confirmed"
        elif item.overdue:
            state = "overdue"
        elif item.organization_id in latest and latest[item.organization_id].kind == EVENT_REJECTED:
            state = "returned"
        else:
            state = "pending"
        rows.append({
            "province": province_names.get(item.province_code, item.province_code),
            "district": district_names.get(item.district_code, item.district_code),
            "lao_code": item.code,
            "lao_name": item.name_th,
            "officer_name": values.get("officer_name"),
            "officer_position": values.get("position"),
            "phone": values.get("phone"),
            "email": values.get("email"),
            "confirmed_at": answer.occurred_at if answer else None,
            "status": state,
        })
    return rows


@bp.get("/letters/<int:letter_id>/answers.<fmt>")
@login_required
def answers(letter_id: int, fmt: str):
    session = get_session()
    letter = _get_letter(letter_id)
    if letter.issuer_org is None:
        raise NotFound("letter_not_issued", "หนังสือนี้ไม่ได้ออกจากระบบนี้", f"letter {letter_id} has no issuer office")
    require_sees(g.user, letter.issuer_org)
    data = export_answers(CARBON_CREDIT_OFFICER_COLUMNS, _answer_rows(session, letter, _today()), fmt,
                          sheet_title="ผู้รับผิดชอบ")
    name = f"ผลการยืนยัน {letter.doc_number.replace('/', '-')}.{fmt}" if fmt in FORMATS else "answers"
    response = Response(data, mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = _attachment_header(name)
    return response


def _attachment_header(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = "answers" + Path(filename).suffix
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@bp.app_context_processor
def _routing_helpers():
    return {
        "urgency_th": URGENCY_NAMES_TH,
        "channel_th": CHANNEL_NAMES_TH,
        "capacity_th": CAPACITY_NAMES_TH,
        "role_th": ROLE_NAMES_TH,
        "endorse_decisions": ENDORSE_DECISIONS,
        "short_office_name": _short_office_name,
        "be": format_be_date,
    }

