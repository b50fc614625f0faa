"""Rebuild the stored task states and counts from the task events, and check them against the events.

`RoutingTask.state`, `RoutingTask.overdue_marked` and `TaskStateCount` are copies of the
state folded from the events, kept up to date by `workflow.routing.state`. A row written by other means
(a bulk import, a manual fix in SQL) can leave them behind. `find_differences` lists where
they disagree with a replay of the events, and `rebuild` rewrites them from the events in
one transaction.

Usage: python -m workflow.routing.stored_state [--check] (on the database named by DATABASE_URL)
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, delete, exists, func, insert, literal_column, select, text, update
from sqlalchemy.orm import Session

from workflow.models import Organization
from workflow.routing.models import EVENT_DELIVERED, EVENT_OVERDUE, NO_DUE_DATE, RoutingTask, TaskEvent, TaskStateCount
from workflow.routing.numbering import write_transaction
from workflow.routing.state import latest_state_subquery

log = logging.getLogger(__name__)

# Differences listed per kind; the totals are always exact.
MAX_LISTED = 20

CountKey = tuple[int, str, str, date]


@dataclass
class Differences:
    """Disagreements of the stored state with the events: totals, and the first MAX_LISTED of each kind."""

    states: int = 0
    marks: int = 0
    counts: int = 0
    # (task id, stored state, replayed state)
    state_examples: list[tuple[int, str, str]] = field(default_factory=list)
    # (task id, stored mark, replayed mark)
    mark_examples: list[tuple[int, bool, bool]] = field(default_factory=list)
    # ((root letter id, recipient kind, state, due date), stored count, counted from the tasks)
    count_examples: list[tuple[CountKey, int, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.states + self.marks + self.counts


def _replayed_state():
    """Return the state `derive_status` folds for each task as a SQL expression, and the subquery it reads."""
    replayed = latest_state_subquery()
    # A task without events other than `overdue` is `delivered`, as `derive_status` starts.
    return func.coalesce(replayed.c.state, EVENT_DELIVERED), replayed


def _replayed_mark():
    return exists().where(TaskEvent.task_id == RoutingTask.id, TaskEvent.kind == EVENT_OVERDUE)


def _counted_from_tasks():
    """Return a SELECT of (root letter id, recipient kind, state, due date, tasks), grouped over the stored task rows."""
    # A literal in the SQL text, not a parameter, so that PostgreSQL sees the same expression in GROUP BY.
    due_on = func.coalesce(RoutingTask.due_effective, literal_column(f"'{NO_DUE_DATE.isoformat()}'"))
    return (
        select(RoutingTask.root_letter_id, Organization.kind, RoutingTask.state, due_on, func.count())
        .join(Organization, Organization.id == RoutingTask.recipient_org_id)
        .group_by(RoutingTask.root_letter_id, Organization.kind, RoutingTask.state, due_on)
    )


def _as_date(value) -> date:
    # SQLite returns the COALESCE of a date column as its ISO text.
    return value if isinstance(value, date) else date.fromisoformat(value)


def find_differences(session: Session) -> Differences:
    """Compare the stored states, marks and counts with a replay of the events; change nothing."""
    found = Differences()
    state, replayed = _replayed_state()
    wrong_state = session.execute(
        select(RoutingTask.id, RoutingTask.state, state)
        .outerjoin(replayed, replayed.c.task_id == RoutingTask.id)
        .where(RoutingTask.state != state)
        .order_by(RoutingTask.id)
    ).all()
    found.states = len(wrong_state)
    found.state_examples = [tuple(row) for row in wrong_state[:MAX_LISTED]]

    mark = _replayed_mark()
    wrong_mark = session.execute(
        select(RoutingTask.id, RoutingTask.overdue_marked, mark)
        .where(RoutingTask.overdue_marked != mark)
        .order_by(RoutingTask.id)
    ).all()
    found.marks = len(wrong_mark)
    found.mark_examples = [(row[0], bool(row[1]), bool(row[2])) for row in wrong_mark[:MAX_LISTED]]

    # The counts are compared with the stored task states, which the first check compared with the events.
    expected = {
        (root, kind, state_, _as_date(due)): tasks
        for root, kind, state_, due, tasks in session.execute(_counted_from_tasks())
    }
    stored = {
        (row.root_letter_id, row.recipient_kind, row.state, row.due_on): row.tasks
        for row in session.execute(select(TaskStateCount).where(TaskStateCount.tasks != 0)).scalars()
    }
    wrong_counts = sorted(
        (key, stored.get(key, 0), expected.get(key, 0))
        for key in set(expected) | set(stored)
        if stored.get(key, 0) != expected.get(key, 0)
    )
    found.counts = len(wrong_counts)
    found.count_examples = wrong_counts[:MAX_LISTED]
    session.rollback()
    return found


@dataclass
class RebuildResult:
    """Rows `rebuild` changed."""

    states: int
    marks: int
    count_rows: int


def rebuild(session: Session) -> RebuildResult:
    """Rewrite every task's stored state and overdue mark, and every count, from the events, in one transaction.

    On PostgreSQL the transaction first locks the events, tasks and counts against writes,
    so no routing operation can append an event in between. Reading stays possible.
    """
    with write_transaction(session):
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("LOCK TABLE task_events, routing_tasks, routing_state_counts IN EXCLUSIVE MODE"))
        replayed = latest_state_subquery()
        states = session.execute(
            update(RoutingTask)
            .where(RoutingTask.id == replayed.c.task_id, RoutingTask.state != replayed.c.state)
            .values(state=replayed.c.state)
            .execution_options(synchronize_session=False)
        ).rowcount
        states += session.execute(
            update(RoutingTask)
            .where(
                RoutingTask.state != EVENT_DELIVERED,
                ~exists().where(TaskEvent.task_id == RoutingTask.id, TaskEvent.kind != EVENT_OVERDUE),
            )
            .values(state=EVENT_DELIVERED)
            .execution_options(synchronize_session=False)
        ).rowcount
        mark = _replayed_mark()
        marks = session.execute(
            update(RoutingTask)
            .where(RoutingTask.overdue_marked != mark)
            .values(overdue_marked=case((mark, True), else_=False))
            .execution_options(synchronize_session=False)
        ).rowcount
        session.execute(delete(TaskStateCount))
        columns = ["root_letter_id", "recipient_kind", "state", "due_on", "tasks"]
        session.execute(insert(TaskStateCount).from_select(columns, _counted_from_tasks()))
        count_rows = session.scalar(select(func.count()).select_from(TaskStateCount))
    session.expire_all()
    log.info("stored task state rebuilt: %d states and %d overdue marks changed, %d count rows", states, marks,
             count_rows)
    return RebuildResult(states, marks, count_rows)


def main(argv: list[str] | None = None) -> int:
    from workflow.routing.commands import rebuild_state_command

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare the stored state with the events; exit with 1 when they differ")
    args = parser.parse_args(argv)
    return rebuild_state_command(check_only=args.check)


if __name__ == "__main__":
    raise SystemExit(main())
