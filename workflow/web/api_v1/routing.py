"""`/api/v1/routing`: the inbox, a task, and the actions of the routing screens on it.

Each action calls the routing operation the task page calls, with the same arguments, so
the roles, offices, states and deadlines it checks are the same.
"""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import select

from workflow.app import get_session
from workflow.errors import NotFound, PermissionDenied
from workflow.models import Organization, User
from workflow.routing import operations
from workflow.routing.errors import StateConflict
from workflow.routing.models import Endorsement, OfficialLetter, Receipt, RoutingTask, TaskEvent
from workflow.routing.rollup import rollup
from workflow.routing.state import TaskStatus, load_statuses
from workflow.web.api_v1 import bp, inputs
from workflow.web.api_v1.inputs import ID
from workflow.web.api_v1.values import day, moment
# The screens' own access rule for a letter's results and their covering-letter step, reused so both stay one rule.
from workflow.web.routing import _require_involved as require_involved
from workflow.web.routing import _write_covering as write_covering


def _organization(organization: Organization | None) -> dict | None:
    if organization is None:
        return None
    return {"code": organization.code, "name_th": organization.name_th, "kind": organization.kind}


def _letter(letter: OfficialLetter) -> dict[str, Any]:
    return {
        "letter_id": letter.id,
        "doc_number": letter.doc_number,
        "is_circular": letter.is_circular,
        "letter_date": day(letter.letter_date),
        "subject": letter.subject,
        "urgency": letter.urgency,
        "issuer_name": letter.issuer_name,
        "issuer": _organization(letter.issuer_org),
        "parent_letter_id": letter.parent_letter_id,
        "due_nominal": day(letter.due_nominal),
        "due_effective": day(letter.due_effective),
        "due_text": letter.due_text,
        "confirmation_form": letter.confirmation_form or [],
    }


def _task(task: RoutingTask, status: TaskStatus) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "letter": _letter(task.letter),
        "sender": _organization(task.sender),
        "recipient": _organization(task.recipient),
        "due_nominal": day(task.due_nominal),
        "due_effective": day(task.due_effective),
        "state": status.state,
        "state_th": status.state_th,
        "overdue_marked": status.overdue_marked,
        "receipt_number": status.receipt_number,
        "received_on": status.received_on,
        "assignee_id": status.assignee_id,
        "confirmation": status.confirmation,
    }


def _receipt(receipt: Receipt) -> dict[str, Any]:
    return {
        "receipt_id": receipt.id,
        "number": receipt.number,
        "number_th": operations.receipt_number_th(receipt),
        "year": receipt.year,
        "received_at": moment(receipt.received_at),
        "channel": receipt.channel,
        "sender_text": receipt.sender_text,
        "remarks": receipt.remarks,
        "warnings": receipt.warnings or [],
    }


def _load_task(task_id: int) -> tuple[RoutingTask, TaskStatus]:
    """Return the task and its status; raises unless the user's office is its recipient, sender or above it."""
    session = get_session()
    status = operations.task_status(session, g.user, task_id)
    return session.get(RoutingTask, task_id), status


def _task_receipt(task: RoutingTask) -> Receipt | None:
    return get_session().scalar(
        select(Receipt).where(Receipt.organization_id == task.recipient_org_id, Receipt.letter_id == task.letter_id)
    )


def _task_response(task_id: int, http_status: int = 200, **extra: Any):
    session = get_session()
    session.expire_all()
    task, status = _load_task(task_id)
    return {"task": _task(task, status), **extra}, http_status


@bp.get("/routing/inbox")
def inbox():
    """List one page of the tasks addressed to the user's office, newest first, as the inbox screen does."""
    session = get_session()
    listing = operations.inbox_page(session, g.user, inputs.page_argument())
    # The page's stored statuses fill the state only; a task here also reports its receipt and assignee.
    statuses = load_statuses(session, [task.id for task, _stored in listing.rows])
    return {
        "page": listing.page,
        "pages": listing.pages,
        "total": listing.total,
        "tasks": [_task(task, statuses[task.id]) for task, _stored in listing.rows],
    }


@bp.get(f"/routing/tasks/<{ID}:task_id>")
def task(task_id: int):
    session = get_session()
    found, status = _load_task(task_id)
    receipt = _task_receipt(found)
    endorsements = session.scalars(
        select(Endorsement).where(Endorsement.receipt_id == receipt.id).order_by(Endorsement.id)
    ).all() if receipt else []
    events = session.scalars(select(TaskEvent).where(TaskEvent.task_id == found.id).order_by(TaskEvent.id)).all()
    return {
        "task": _task(found, status),
        "receipt": _receipt(receipt) if receipt else None,
        "endorsements": [
            {"endorsement_id": item.id, "decisions": item.decisions, "assigned_unit": item.assigned_unit,
             "note": item.note, "capacity": item.capacity, "endorsed_on": item.endorsed_on.isoformat()}
            for item in endorsements
        ],
        "events": [
            {"kind": event.kind, "occurred_at": moment(event.occurred_at), "actor_id": event.actor_id,
             "data": event.data or {}}
            for event in events
        ],
    }


@bp.post(f"/routing/tasks/<{ID}:task_id>/receive")
def receive(task_id: int):
    body = inputs.json_body()
    found, _status = _load_task(task_id)
    result = operations.register_receipt(
        get_session(), g.user, channel=inputs.text(body, "channel", max_length=20) or "system",
        letter_id=found.letter_id, received_at=inputs.iso_datetime(body, "received_at"),
        remarks=inputs.text(body, "remarks"),
    )
    return _task_response(task_id, 201 if result.created else 200, receipt=_receipt(result.receipt),
                          created=result.created)


@bp.post("/routing/receipts")
def register_external():
    """Register a letter that came from outside the service, given as a LETTER of the parse contract."""
    body = inputs.json_body()
    letter_data = inputs.mapping(body, "letter", required=True)
    result = operations.register_receipt(
        get_session(), g.user, channel=inputs.text(body, "channel", required=True, max_length=20),
        letter_data=letter_data, received_at=inputs.iso_datetime(body, "received_at"),
        sender_text=inputs.text(body, "sender_text", max_length=300), remarks=inputs.text(body, "remarks"),
    )
    return {
        "receipt": _receipt(result.receipt),
        "letter": _letter(result.letter),
        "created": result.created,
        "task_id": result.task.id if result.task is not None else None,
    }, 201 if result.created else 200


@bp.post(f"/routing/tasks/<{ID}:task_id>/endorse")
def endorse(task_id: int):
    body = inputs.json_body()
    found, _status = _load_task(task_id)
    decisions = inputs.text_list(body, "decisions", required=True)
    receipt = _task_receipt(found)
    if receipt is None:
        raise StateConflict("not_received", "ต้องลงรับหนังสือก่อนเกษียนสั่งการ", f"task {task_id} has no receipt")
    operations.endorse(
        get_session(), g.user, receipt.id, decisions, note=inputs.text(body, "note"),
        assigned_unit=inputs.text(body, "assigned_unit", max_length=200) or None,
        delegation_id=inputs.whole(body, "delegation_id", required=False),
    )
    return _task_response(task_id)


@bp.post(f"/routing/tasks/<{ID}:task_id>/assign")
def assign(task_id: int):
    body = inputs.json_body()
    _load_task(task_id)
    assignee_id = inputs.whole(body, "assignee_id")
    assignee = get_session().get(User, assignee_id)
    if assignee is None:
        raise NotFound("assignee_not_found", "ไม่พบเจ้าหน้าที่ผู้รับผิดชอบที่ระบุ", f"no user {assignee_id}")
    operations.assign_task(get_session(), g.user, task_id, assignee, inputs.text(body, "note"),
                           delegation_id=inputs.whole(body, "delegation_id", required=False))
    return _task_response(task_id)


@bp.post(f"/routing/tasks/<{ID}:task_id>/forward")
def forward(task_id: int):
    """Forward (แจ้งเวียน) the task's letter to offices below; options as in `forward_circular`."""
    body = inputs.json_body()
    found, _status = _load_task(task_id)
    if found.recipient_org_id != g.user.organization_id:
        raise PermissionDenied(
            "other_organization", "ท่านแจ้งเวียนได้เฉพาะหนังสือที่ส่งถึงหน่วยงานของท่านเอง",
            f"user {g.user.username} may not forward task {task_id} of org {found.recipient_org_id}",
        )
    options = {
        "subject": inputs.text(body, "subject", max_length=500),
        "due_nominal": inputs.iso_date(body, "due"),
        "relative_days": inputs.whole(body, "relative_days", required=False, maximum=operations.MAX_RELATIVE_DAYS),
        "relative_working_days": inputs.flag(body, "relative_working_days"),
        "due_text": inputs.text(body, "due_text", max_length=500),
        "recipient_codes": inputs.text_list(body, "recipient_codes"),
        "confirmation_form": inputs.object_list(body, "confirmation_form"),
        "urgency": inputs.text(body, "urgency", max_length=20),
        "delegation_id": inputs.whole(body, "delegation_id", required=False),
    }
    # Unset options keep the operation's defaults (the parent's subject, form and urgency, the derived due date).
    options = {name: value for name, value in options.items() if value is not None}
    result = operations.forward_circular(get_session(), g.user, found.letter_id, **options)
    covering_note = write_covering(result.letter)
    return _task_response(task_id, 201, issued_letter=_letter(result.letter), task_count=result.task_count,
                          covering_letter_written=not covering_note)


@bp.post(f"/routing/tasks/<{ID}:task_id>/confirm")
def confirm(task_id: int):
    body = inputs.json_body()
    values = inputs.mapping(body, "values", required=True)
    operations.confirm_assignment(get_session(), g.user, task_id, values)
    return _task_response(task_id)


@bp.post(f"/routing/tasks/<{ID}:task_id>/approve")
def approve(task_id: int):
    body = inputs.json_body()
    operations.approve_confirmation(get_session(), g.user, task_id,
                                    delegation_id=inputs.whole(body, "delegation_id", required=False),
                                    note=inputs.text(body, "note"))
    return _task_response(task_id)


@bp.post(f"/routing/tasks/<{ID}:task_id>/reject")
def reject(task_id: int):
    body = inputs.json_body()
    operations.reject_confirmation(get_session(), g.user, task_id, inputs.text(body, "reason") or "",
                                   delegation_id=inputs.whole(body, "delegation_id", required=False))
    return _task_response(task_id)


@bp.post(f"/routing/tasks/<{ID}:task_id>/report")
def report(task_id: int):
    body = inputs.json_body()
    event = operations.report_to_sender(get_session(), g.user, task_id,
                                        delegation_id=inputs.whole(body, "delegation_id", required=False),
                                        note=inputs.text(body, "note"))
    return _task_response(task_id, counts=event.data["counts"])


@bp.get(f"/routing/letters/<{ID}:letter_id>/rollup")
def letter_rollup(letter_id: int):
    letter = get_session().get(OfficialLetter, letter_id)
    if letter is None:
        raise NotFound("letter_not_found", f"ไม่พบหนังสือเลขที่ {letter_id}", f"no letter {letter_id}")
    require_involved(letter)
    return rollup(get_session(), letter, viewer=g.user)
