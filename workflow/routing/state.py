"""A task's state, derived from its append-only events.

The state is the kind of the latest event, except `overdue`, which marks the task without
changing what the recipient may do next. Nothing stores the state itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from workflow.routing.models import (
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
    RoutingTask,
    TaskEvent,
)

# Events that change the state; `overdue` only marks the task.
STATE_EVENTS = (
    EVENT_DELIVERED,
    EVENT_RECEIVED,
    EVENT_ENDORSED,
    EVENT_ASSIGNED,
    EVENT_FORWARDED,
    EVENT_CONFIRMED,
    EVENT_REPORTED,
    EVENT_REJECTED,
    EVENT_CLOSED,
)

# Allowed states before each event kind.
ALLOWED_AFTER: dict[str, frozenset[str]] = {
    EVENT_RECEIVED: frozenset({EVENT_DELIVERED}),
    EVENT_ENDORSED: frozenset({EVENT_RECEIVED, EVENT_ENDORSED, EVENT_ASSIGNED, EVENT_REJECTED}),
    EVENT_ASSIGNED: frozenset({EVENT_RECEIVED, EVENT_ENDORSED, EVENT_ASSIGNED, EVENT_REJECTED}),
    EVENT_FORWARDED: frozenset({EVENT_RECEIVED, EVENT_ENDORSED, EVENT_ASSIGNED, EVENT_FORWARDED}),
    EVENT_CONFIRMED: frozenset({EVENT_RECEIVED, EVENT_ENDORSED, EVENT_ASSIGNED, EVENT_REJECTED}),
    # An LAO reports when its supervisor approves its confirmation; an office after forwarding.
    EVENT_REPORTED: frozenset({EVENT_CONFIRMED, EVENT_FORWARDED}),
    EVENT_REJECTED: frozenset({EVENT_CONFIRMED}),
    EVENT_CLOSED: frozenset(set(STATE_EVENTS) - {EVENT_CLOSED}),
}

# States in which the recipient's confirmation is approved; the roll-up counts them as confirmed.
ANSWERED_STATES = frozenset({EVENT_REPORTED, EVENT_CLOSED})

STATE_NAMES_TH = {
    EVENT_DELIVERED: "ส่งถึงแล้ว รอลงรับ",
    EVENT_RECEIVED: "ลงรับแล้ว",
    EVENT_ENDORSED: "เกษียนสั่งการแล้ว",
    EVENT_ASSIGNED: "มอบหมายผู้รับผิดชอบแล้ว",
    EVENT_FORWARDED: "แจ้งเวียนต่อแล้ว",
    EVENT_CONFIRMED: "ยืนยันแล้ว รอผู้บังคับบัญชาอนุมัติ",
    EVENT_REPORTED: "รายงานแล้ว",
    EVENT_REJECTED: "ถูกส่งกลับให้แก้ไข",
    EVENT_CLOSED: "ปิดเรื่องแล้ว",
}


@dataclass
class TaskStatus:
    """Status of one task, folded from its events."""

    state: str
    overdue_marked: bool = False
    receipt_number: int | None = None
    # ISO date of the recipient's receipt stamp.
    received_on: str | None = None
    assignee_id: int | None = None
    # The form values of the latest confirmation, approved or not.
    confirmation: dict[str, Any] | None = None
    last_event_at: datetime | None = None
    history: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.state in ANSWERED_STATES

    @property
    def state_th(self) -> str:
        return STATE_NAMES_TH.get(self.state, self.state)


def derive_status(events: Iterable[TaskEvent]) -> TaskStatus:
    """Fold a task's events, oldest first, into its status."""
    status = TaskStatus(state=EVENT_DELIVERED)
    for event in events:
        status.history.append(event.kind)
        status.last_event_at = event.occurred_at
        if event.kind == EVENT_OVERDUE:
            status.overdue_marked = True
            continue
        status.state = event.kind
        data = event.data or {}
        if event.kind == EVENT_RECEIVED:
            status.receipt_number = data.get("receipt_number")
            status.received_on = data.get("received_on")
        elif event.kind == EVENT_ASSIGNED:
            status.assignee_id = data.get("assignee_id")
        elif event.kind == EVENT_CONFIRMED:
            status.confirmation = data.get("values")
    return status


def load_status(session: Session, task_id: int) -> TaskStatus:
    events = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id))
    return derive_status(events)


def latest_state_subquery(letter_ids: Iterable[int] | Select | None = None):
    """Return a subquery of (task_id, state): the kind of each task's latest state-changing event.

    With `letter_ids` (a list of ids, or a SELECT of them), only the tasks of those letters
    are aggregated, so a roll-up reads the events of one cascade instead of every event in
    the database.
    """
    latest = select(TaskEvent.task_id, func.max(TaskEvent.id).label("event_id")).where(
        TaskEvent.kind.in_(STATE_EVENTS)
    )
    if letter_ids is not None:
        latest = latest.join(RoutingTask, RoutingTask.id == TaskEvent.task_id).where(
            RoutingTask.letter_id.in_(_ids_or_select(letter_ids))
        )
    latest = latest.group_by(TaskEvent.task_id).subquery()
    return (
        select(TaskEvent.task_id, TaskEvent.kind.label("state"))
        .join(latest, TaskEvent.id == latest.c.event_id)
        .subquery()
    )


def task_answers_subquery(letter_ids: Iterable[int] | Select):
    """Return a subquery of (task_id, recipient_org_id, due_effective, answered) for the tasks of those letters.

    `answered` is 1 when the task's latest state-changing event is in ANSWERED_STATES, else 0.
    It compares two maxima of one pass over the events, so the database does not look up
    the latest event row again by its id, which halves the work of a roll-up over thousands
    of tasks.
    """
    latest = func.max(TaskEvent.id)
    latest_answer = func.max(case((TaskEvent.kind.in_(sorted(ANSWERED_STATES)), TaskEvent.id)))
    return (
        select(
            RoutingTask.id.label("task_id"),
            RoutingTask.recipient_org_id,
            RoutingTask.due_effective,
            case((latest_answer == latest, 1), else_=0).label("answered"),
        )
        .join(TaskEvent, TaskEvent.task_id == RoutingTask.id)
        .where(RoutingTask.letter_id.in_(_ids_or_select(letter_ids)), TaskEvent.kind.in_(STATE_EVENTS))
        .group_by(RoutingTask.id, RoutingTask.recipient_org_id, RoutingTask.due_effective)
        .subquery()
    )


def overdue_marked_subquery(letter_ids: Iterable[int] | Select):
    """Return a subquery of the task ids of those letters that have an `overdue` event (`TaskStatus.overdue_marked`)."""
    return (
        select(TaskEvent.task_id)
        .join(RoutingTask, RoutingTask.id == TaskEvent.task_id)
        .where(TaskEvent.kind == EVENT_OVERDUE, RoutingTask.letter_id.in_(_ids_or_select(letter_ids)))
        .distinct()
        .subquery()
    )


def _ids_or_select(letter_ids: Iterable[int] | Select):
    return letter_ids if isinstance(letter_ids, Select) else list(letter_ids)
