"""Scheduled routing jobs: reminders before due dates and escalation of overdue recipients.

Each job is one transaction and can run again on the same day without repeating itself:
a notice is unique per task, kind, due date and day count, and a task is marked overdue
once. They take the date to act for, so a scheduler (or a test) decides what "today" is.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from workflow.models import Organization, utcnow
from workflow.routing.calendar import load_calendar, today_in_thailand
from workflow.routing.models import (
    EVENT_CLOSED,
    EVENT_OVERDUE,
    NOTICE_ESCALATION,
    NOTICE_REMINDER,
    Notice,
    OfficeSettings,
    OfficialLetter,
    RoutingTask,
    TaskEvent,
)
from workflow.routing.numbering import write_transaction
from workflow.routing.state import ANSWERED_STATES
from workflow.thaidate import format_be_date

log = logging.getLogger(__name__)

DEFAULT_REMINDER_WORKING_DAYS = (2, 0)
# Reminders look this far ahead; no office sets a reminder further than 30 working days out.
REMINDER_HORIZON_DAYS = 60
DONE_STATES = ANSWERED_STATES | {EVENT_CLOSED}


def _open_tasks(session: Session, due_from: date | None, due_until: date):
    """Return (task, letter doc number) of unanswered tasks whose effective due date is in range, by stored state."""
    query = (
        select(RoutingTask, OfficialLetter.doc_number)
        .join(OfficialLetter, OfficialLetter.id == RoutingTask.letter_id)
        .where(RoutingTask.state.not_in(sorted(DONE_STATES)), RoutingTask.due_effective <= due_until)
    )
    if due_from is not None:
        query = query.where(RoutingTask.due_effective >= due_from)
    # Read the stored state and mark again, even for tasks this session loaded before.
    return session.execute(query.execution_options(populate_existing=True)).all()


def _existing_notices(session: Session, kind: str, task_ids: list[int]) -> set[tuple[int, date, int]]:
    if not task_ids:
        return set()
    rows = session.execute(
        select(Notice.task_id, Notice.due_date, Notice.working_days_before).where(
            Notice.kind == kind, Notice.task_id.in_(task_ids)
        )
    )
    return {(row.task_id, row.due_date, row.working_days_before) for row in rows}


def send_reminders(session: Session, today: date | None = None) -> int:
    """Create a reminder for every unanswered task whose due date is one of its sender's reminder days away.

    The sender's office settings list the working days before a due date on which to remind
    (default 2 and 0). Returns how many reminders were created.
    """
    today = today or today_in_thailand()
    with write_transaction(session):
        calendar = load_calendar(session)
        reminder_days = {
            row.organization_id: row.reminder_working_days
            for row in session.scalars(select(OfficeSettings))
        }
        open_tasks = _open_tasks(session, today, today + timedelta(days=REMINDER_HORIZON_DAYS))
        seen = _existing_notices(session, NOTICE_REMINDER, [task.id for task, _number in open_tasks])
        rows = []
        for task, doc_number in open_tasks:
            days_left = calendar.working_days_between(today, task.due_effective)
            sender_days = reminder_days.get(task.sender_org_id) or DEFAULT_REMINDER_WORKING_DAYS
            if days_left not in sender_days or (task.id, task.due_effective, days_left) in seen:
                continue
            when = "วันนี้" if days_left == 0 else f"อีก {days_left} วันทำการ"
            rows.append({
                "organization_id": task.recipient_org_id,
                "task_id": task.id,
                "kind": NOTICE_REMINDER,
                "due_date": task.due_effective,
                "working_days_before": days_left,
                "message_th": f"หนังสือที่ {doc_number} ครบกำหนดส่ง{when} (วันที่ {format_be_date(task.due_effective)})",
                "created_at": utcnow(),
            })
        if rows:
            session.execute(insert(Notice), rows)
    log.info("reminders for %s: %d created", today, len(rows))
    return len(rows)


def escalate_overdue(session: Session, today: date | None = None) -> int:
    """Mark every unconfirmed task past its effective due date as overdue and notify the recipient's parent office.

    In the usual cascade the parent office is the one that sent the task. When an office
    sent to organizations further down (DLA straight to LAOs), the recipient's own district
    or provincial office gets the notice, because it is the one that follows the LAO up. A task is
    marked once: one `overdue` event and one escalation notice per due date. Returns how
    many tasks were escalated.
    """
    today = today or today_in_thailand()
    with write_transaction(session):
        overdue = _open_tasks(session, None, today - timedelta(days=1))
        already = {task.id for task, _number in overdue if task.overdue_marked}
        recipients = {
            row.id: row
            for row in session.execute(
                select(Organization.id, Organization.name_th, Organization.parent_id).where(
                    Organization.id.in_({task.recipient_org_id for task, _number in overdue})
                )
            )
        } if overdue else {}
        now = utcnow()
        events, notices = [], []
        for task, doc_number in overdue:
            if task.id in already:
                continue
            recipient = recipients[task.recipient_org_id]
            parent_office_id = recipient.parent_id or task.sender_org_id
            events.append({
                "task_id": task.id,
                "kind": EVENT_OVERDUE,
                "occurred_at": now,
                "actor_id": None,
                "data": {"due_effective": task.due_effective.isoformat(), "escalated_to": parent_office_id},
            })
            notices.append({
                "organization_id": parent_office_id,
                "task_id": task.id,
                "kind": NOTICE_ESCALATION,
                "due_date": task.due_effective,
                "working_days_before": 0,
                "message_th": f"{recipient.name_th} ยังไม่รายงานตามหนังสือที่ {doc_number} "
                              f"ซึ่งครบกำหนดวันที่ {format_be_date(task.due_effective)}",
                "created_at": now,
            })
        if events:
            session.execute(insert(TaskEvent), events)
            # `overdue` changes no state, so only the mark is stored; the counts stay as they are.
            marked = [row["task_id"] for row in events]
            session.execute(update(RoutingTask).where(RoutingTask.id.in_(marked)).values(overdue_marked=True))
            session.execute(insert(Notice), notices)
    log.info("overdue escalation for %s: %d tasks", today, len(events))
    return len(events)
