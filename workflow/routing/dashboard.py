"""The dashboard of an office's circulars: how many tasks below them are in each state, and how many are past due.

It reads `TaskStateCount`, which has one row per circular, recipient kind, state and due
date, so the cost grows with the number of circulars, not with the millions of tasks below
them. The counts are of tasks: an LAO that got two letters of one cascade counts twice here,
once in the roll-up (`workflow.routing.rollup`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from workflow.models import ORG_LAO
from workflow.routing.models import EVENT_CLOSED, OfficialLetter, TaskStateCount
from workflow.routing.state import ANSWERED_STATES

DONE_STATES = ANSWERED_STATES | {EVENT_CLOSED}
LATEST_CIRCULARS_SHOWN = 20


@dataclass
class CircularCounts:
    """Counts of the tasks below one circular."""

    letter_id: int
    doc_number: str | None
    subject: str
    due_effective: date | None
    tasks: int
    answered: int
    # Not answered, and the effective due date is before the dashboard's day.
    past_due: int


@dataclass
class Dashboard:
    """Counts over all the circulars an office started, and the latest circulars one by one."""

    as_of: date
    recipient_kind: str
    circulars: int = 0
    tasks: int = 0
    answered: int = 0
    past_due: int = 0
    # State → {"tasks": n, "past_due": n}; `past_due` counts tasks of that state whose due date passed.
    by_state: dict[str, dict[str, int]] = field(default_factory=dict)
    latest: list[CircularCounts] = field(default_factory=list)


def dashboard(
    session: Session,
    issuer_org_id: int,
    as_of: date,
    recipient_kind: str = ORG_LAO,
    latest: int = LATEST_CIRCULARS_SHOWN,
) -> Dashboard:
    """Count the tasks of `recipient_kind` below every circular the office started (not re-issued), in three queries.

    A task is past due on `as_of` when its effective due date is before that day; tasks
    without a due date never are. `answered` and the `past_due` totals leave out tasks in
    DONE_STATES.
    """
    roots = select(OfficialLetter.id).where(
        OfficialLetter.issuer_org_id == issuer_org_id, OfficialLetter.parent_letter_id.is_(None)
    )
    past_due = TaskStateCount.due_on < as_of
    rows = session.execute(
        select(
            TaskStateCount.state,
            past_due.label("past_due"),
            func.sum(TaskStateCount.tasks).label("tasks"),
        )
        .where(TaskStateCount.root_letter_id.in_(roots), TaskStateCount.recipient_kind == recipient_kind)
        .group_by(TaskStateCount.state, past_due)
    ).all()

    result = Dashboard(as_of=as_of, recipient_kind=recipient_kind)
    result.circulars = session.scalar(select(func.count()).select_from(roots.subquery())) or 0
    for row in rows:
        tasks = int(row.tasks or 0)
        if tasks == 0:
            # A count row stays at 0 after its last task moved on.
            continue
        entry = result.by_state.setdefault(row.state, {"tasks": 0, "past_due": 0})
        entry["tasks"] += tasks
        result.tasks += tasks
        if row.state in DONE_STATES:
            result.answered += tasks
        if row.past_due:
            entry["past_due"] += tasks
            if row.state not in DONE_STATES:
                result.past_due += tasks
    result.by_state = dict(sorted(result.by_state.items()))
    result.latest = _latest_circulars(session, roots, as_of, recipient_kind, latest) if latest else []
    return result


def _latest_circulars(session: Session, roots, as_of: date, recipient_kind: str, limit: int) -> list[CircularCounts]:
    newest = roots.order_by(OfficialLetter.id.desc()).limit(limit).subquery()
    done = TaskStateCount.state.in_(sorted(DONE_STATES))
    rows = session.execute(
        select(
            OfficialLetter.id,
            OfficialLetter.doc_number,
            OfficialLetter.subject,
            OfficialLetter.due_effective,
            func.coalesce(func.sum(TaskStateCount.tasks), 0).label("tasks"),
            func.coalesce(func.sum(case((done, TaskStateCount.tasks), else_=0)), 0).label("answered"),
            func.coalesce(
                func.sum(case(((~done) & (TaskStateCount.due_on < as_of), TaskStateCount.tasks), else_=0)), 0
            ).label("past_due"),
        )
        .join(newest, newest.c.id == OfficialLetter.id)
        .outerjoin(
            TaskStateCount,
            (TaskStateCount.root_letter_id == OfficialLetter.id) & (TaskStateCount.recipient_kind == recipient_kind),
        )
        .group_by(OfficialLetter.id, OfficialLetter.doc_number, OfficialLetter.subject, OfficialLetter.due_effective)
        .order_by(OfficialLetter.id.desc())
    ).all()
    return [
        CircularCounts(row.id, row.doc_number, row.subject, row.due_effective, int(row.tasks), int(row.answered),
                       int(row.past_due))
        for row in rows
    ]
