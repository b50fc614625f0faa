"""The dashboard of an office's circulars: how many tasks below them are in each state, and how many are past due.

An office's circulars are its own letters: those it issued first (a cascade's root) and
those it forwarded down a cascade that another office started. Below a root, the counts
come from `TaskStateCount`, which has one row per circular, recipient kind, state and due
date, so the cost grows with the number of circulars, not with the millions of tasks
below them. Below a forwarded letter, the stored states of the tasks (`RoutingTask.state`)
are counted directly, because the counts table is kept per root only. Those tasks are
few: one per office or LAO that the forwarding office's letter reached, and their own
letters below.

The counts are of tasks: an LAO that got two letters of one cascade counts twice here,
once in the roll-up (`workflow.routing.rollup`). Past due follows the roll-up's overdue:
a task that is not answered (not in DONE_STATES) and whose effective due date is before
the dashboard's day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Date, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from workflow.models import ORG_LAO, Organization
from workflow.routing.models import NO_DUE_DATE, OfficialLetter, RoutingTask, TaskStateCount
from workflow.routing.state import ANSWERED_STATES

# Answered states: the roll-up counts an LAO in them as confirmed, and never as overdue.
DONE_STATES = ANSWERED_STATES
LATEST_CIRCULARS_SHOWN = 20


@dataclass
class CircularCounts:
    """Counts of the tasks below one of the office's circulars."""

    letter_id: int
    doc_number: str | None
    subject: str
    # The letter's own effective due date, and its deadline as written ("ภายใน 7 วันทำการ ...").
    due_effective: date | None
    due_text: str | None
    tasks: int
    answered: int
    # Not answered, and the effective due date is before the dashboard's day.
    past_due: int
    # Earliest and latest effective due dates of the tasks below the letter, of any recipient kind.
    first_due: date | None = None
    last_due: date | None = None
    forwarded: bool = False


@dataclass
class Dashboard:
    """Counts over all the circulars an office issued or forwarded, and the latest circulars one by one."""

    as_of: date
    recipient_kind: str
    circulars: int = 0
    tasks: int = 0
    answered: int = 0
    past_due: int = 0
    # State → {"tasks": n, "past_due": n}. `past_due` is 0 for the states in DONE_STATES.
    by_state: dict[str, dict[str, int]] = field(default_factory=dict)
    latest: list[CircularCounts] = field(default_factory=list)


def dashboard(
    session: Session,
    issuer_org_id: int,
    as_of: date,
    recipient_kind: str = ORG_LAO,
    latest: int = LATEST_CIRCULARS_SHOWN,
) -> Dashboard:
    """Count the tasks of `recipient_kind` below every circular the office issued or forwarded.

    A task is past due on `as_of` when it is not in DONE_STATES and its effective due date
    is before that day. Tasks without a due date never are.
    """
    own = _own_letters(issuer_org_id)
    counts = _task_counts(own, recipient_kind).subquery()
    past_due = counts.c.due_on < as_of
    rows = session.execute(
        select(counts.c.state, past_due.label("past_due"), func.sum(counts.c.tasks).label("tasks"))
        .group_by(counts.c.state, past_due)
    ).all()

    result = Dashboard(as_of=as_of, recipient_kind=recipient_kind)
    result.circulars = session.scalar(select(func.count()).select_from(own.subquery())) or 0
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
        elif row.past_due:
            entry["past_due"] += tasks
            result.past_due += tasks
    result.by_state = dict(sorted(result.by_state.items()))
    result.latest = _latest_circulars(session, own, as_of, recipient_kind, latest) if latest else []
    return result


def _own_letters(issuer_org_id: int):
    """Select the ids of the office's circulars: the roots it issued, and the letters it forwarded in other cascades.

    A forwarded letter below one of the office's own roots is left out, because the root's
    counts already contain its tasks.
    """
    issued = select(OfficialLetter.id).where(OfficialLetter.issuer_org_id == issuer_org_id)
    roots = issued.where(OfficialLetter.parent_letter_id.is_(None))
    forwarded = issued.where(
        OfficialLetter.parent_letter_id.is_not(None), OfficialLetter.root_letter_id.not_in(roots)
    )
    return union_all(roots, forwarded)


def _task_counts(letter_ids, recipient_kind: str | None):
    """Select (letter_id, state, due_on, tasks) rows for the tasks below each of `letter_ids`.

    `letter_id` is the office's circular the task is below. `due_on` is NO_DUE_DATE for a
    task without a due date. With `recipient_kind` None, tasks of every kind are counted.
    """
    letters_subquery = letter_ids.subquery()
    stored = select(
        TaskStateCount.root_letter_id.label("letter_id"),
        TaskStateCount.state,
        TaskStateCount.due_on,
        TaskStateCount.tasks,
    ).join(letters_subquery, letters_subquery.c.id == TaskStateCount.root_letter_id)
    if recipient_kind is not None:
        stored = stored.where(TaskStateCount.recipient_kind == recipient_kind)

    cascade = _cascades_below_forwarded(letters_subquery)
    counted = (
        select(
            cascade.c.top_id.label("letter_id"),
            RoutingTask.state,
            func.coalesce(RoutingTask.due_effective, literal(NO_DUE_DATE, Date)).label("due_on"),
            literal(1).label("tasks"),
        )
        .join(cascade, cascade.c.letter_id == RoutingTask.letter_id)
    )
    if recipient_kind is not None:
        counted = counted.join(Organization, Organization.id == RoutingTask.recipient_org_id).where(
            Organization.kind == recipient_kind
        )
    return union_all(stored, counted)


def _cascades_below_forwarded(letters_subquery):
    """Build a recursive CTE of (letter_id, top_id): every letter at or below each forwarded letter in the subquery."""
    top = (
        select(OfficialLetter.id.label("letter_id"), OfficialLetter.id.label("top_id"))
        .join(letters_subquery, letters_subquery.c.id == OfficialLetter.id)
        .where(OfficialLetter.parent_letter_id.is_not(None))
        .cte("forwarded_cascade", recursive=True)
    )
    below = select(OfficialLetter.id, top.c.top_id).join(top, OfficialLetter.parent_letter_id == top.c.letter_id)
    return top.union_all(below)


def _latest_circulars(session: Session, own, as_of: date, recipient_kind: str, limit: int) -> list[CircularCounts]:
    mine = own.subquery()
    newest = select(mine.c.id).order_by(mine.c.id.desc()).limit(limit)
    letters = session.scalars(select(OfficialLetter).where(OfficialLetter.id.in_(newest))).all()
    if not letters:
        return []

    counts = _task_counts(newest, recipient_kind).subquery()
    done = counts.c.state.in_(sorted(DONE_STATES))
    late = (~done) & (counts.c.due_on < as_of)
    rows = session.execute(
        select(
            counts.c.letter_id,
            func.sum(counts.c.tasks).label("tasks"),
            func.sum(case((done, counts.c.tasks), else_=0)).label("answered"),
            func.sum(case((late, counts.c.tasks), else_=0)).label("past_due"),
        ).group_by(counts.c.letter_id)
    ).all()
    by_letter = {row.letter_id: row for row in rows}

    # The due dates come from the tasks of every kind, so a circular not yet forwarded to LAOs shows them too.
    all_kinds = _task_counts(newest, None).subquery()
    dated = (all_kinds.c.due_on != NO_DUE_DATE) & (all_kinds.c.tasks > 0)
    due_rows = session.execute(
        select(
            all_kinds.c.letter_id,
            func.min(case((dated, all_kinds.c.due_on))).label("first_due"),
            func.max(case((dated, all_kinds.c.due_on))).label("last_due"),
        ).group_by(all_kinds.c.letter_id)
    ).all()
    due_by_letter = {row.letter_id: row for row in due_rows}

    result = []
    for letter in sorted(letters, key=lambda item: item.id, reverse=True):
        row = by_letter.get(letter.id)
        due = due_by_letter.get(letter.id)
        result.append(CircularCounts(
            letter_id=letter.id,
            doc_number=letter.doc_number,
            subject=letter.subject,
            due_effective=letter.due_effective,
            due_text=letter.due_text,
            tasks=int(row.tasks or 0) if row else 0,
            answered=int(row.answered or 0) if row else 0,
            past_due=int(row.past_due or 0) if row else 0,
            first_due=due.first_due if due else None,
            last_due=due.last_due if due else None,
            forwarded=letter.parent_letter_id is not None,
        ))
    return result

