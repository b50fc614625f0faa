"""A task's state, derived from its append-only events, and the stored copies of it.

The state is the kind of the latest event, except `overdue`, which marks the task without
changing what the recipient may do next. The events are the source of truth. For reading
many tasks at once, `RoutingTask.state` and `RoutingTask.overdue_marked` store the folded
state, and `TaskStateCount` stores counts per circular, recipient kind, state and due date.
`record_state_change` and `change_due_date` keep both up to date, in the transaction that
appends the event or changes the date. `workflow.routing.stored_state` rebuilds them from
the events and checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import Select, case, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    NO_DUE_DATE,
    RoutingTask,
    TaskEvent,
    TaskStateCount,
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

    @classmethod
    def from_stored(cls, task: RoutingTask) -> "TaskStatus":
        """Build a status from the task's stored state and overdue mark, without reading its events.

        Only `state` and `overdue_marked` are filled; the other fields keep their defaults.
        """
        return cls(state=task.state, overdue_marked=task.overdue_marked)

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


def load_statuses(session: Session, task_ids: list[int]) -> dict[int, TaskStatus]:
    """Fold the events of several tasks into their statuses with one query; returns them by task id."""
    if not task_ids:
        return {}
    events: dict[int, list[TaskEvent]] = {task_id: [] for task_id in task_ids}
    for event in session.scalars(
        select(TaskEvent).where(TaskEvent.task_id.in_(task_ids)).order_by(TaskEvent.task_id, TaskEvent.id)
    ):
        events[event.task_id].append(event)
    return {task_id: derive_status(task_events) for task_id, task_events in events.items()}


# --- stored state ---------------------------------------------------------------------------


def record_state_change(session: Session, task: RoutingTask, kind: str) -> None:
    """Update the task's stored state and its circular's counts for a newly appended event of `kind`.

    Call it in the transaction that appends the event, after `task` is locked, so that
    concurrent events of one task are stored in the order of their ids.
    """
    if kind == EVENT_OVERDUE:
        task.overdue_marked = True
        return
    if kind == task.state:
        return
    add_counts(session, [
        (task.root_letter_id, task.recipient.kind, task.state, task.due_effective, -1),
        (task.root_letter_id, task.recipient.kind, kind, task.due_effective, 1),
    ])
    task.state = kind


def change_due_date(session: Session, task: RoutingTask, nominal: date | None, effective: date | None) -> None:
    """Set the task's due dates and move it to the count of its new effective due date."""
    if effective != task.due_effective:
        add_counts(session, [
            (task.root_letter_id, task.recipient.kind, task.state, task.due_effective, -1),
            (task.root_letter_id, task.recipient.kind, task.state, effective, 1),
        ])
    task.due_nominal = nominal
    task.due_effective = effective


def add_counts(session: Session, changes: Iterable[tuple[int, str, str, date | None, int]]) -> None:
    """Add each (root letter id, recipient kind, state, due date, delta) to `TaskStateCount`.

    The rows are written in key order, so two transactions take the locks of shared count
    rows in the same order and do not deadlock on them.
    """
    totals: dict[tuple[int, str, str, date], int] = {}
    for root_letter_id, recipient_kind, state, due, delta in changes:
        key = (root_letter_id, recipient_kind, state, due or NO_DUE_DATE)
        totals[key] = totals.get(key, 0) + delta
    rows = [
        {"root_letter_id": key[0], "recipient_kind": key[1], "state": key[2], "due_on": key[3], "tasks": delta}
        for key, delta in sorted(totals.items())
        if delta != 0
    ]
    if not rows:
        return
    statement = upsert_counts(session, rows)
    session.execute(statement)


def upsert_counts(session: Session, values):
    """Build an INSERT of `values` (rows, or a SELECT) into `TaskStateCount` that adds to existing counts."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    columns = ["root_letter_id", "recipient_kind", "state", "due_on", "tasks"]
    statement = insert(TaskStateCount)
    statement = statement.from_select(columns, values) if isinstance(values, Select) else statement.values(values)
    return statement.on_conflict_do_update(
        index_elements=columns[:4],
        set_={"tasks": TaskStateCount.tasks + statement.excluded.tasks},
    )


# --- replaying the events in SQL -------------------------------------------------------------


def latest_state_subquery(letter_ids: Iterable[int] | Select | None = None):
    """Return a subquery of (task_id, state): the kind of each task's latest state-changing event.

    This replays the events. Readers use the stored `RoutingTask.state`, and
    `workflow.routing.stored_state` rebuilds and checks that column against this query.

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


def _ids_or_select(letter_ids: Iterable[int] | Select):
    return letter_ids if isinstance(letter_ids, Select) else list(letter_ids)
