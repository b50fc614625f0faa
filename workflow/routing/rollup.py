"""Roll-up of a circular: which LAOs below it have confirmed, which have not, which are overdue.

An LAO counts once per circular however many letters of the cascade reached it. It counts
as confirmed when one of its tasks has an approved confirmation (state `reported`, or
`closed`), and as overdue when it has not and the effective due date of one of its tasks
has passed. A task with a relative deadline that the LAO has not registered yet has no due
date, so it cannot be overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import ORG_LAO, Organization, User
from workflow.routing.access import is_below
from workflow.routing.calendar import today_in_thailand
from workflow.routing.errors import NotFound
from workflow.routing.incoming import normalize_doc_number
from workflow.routing.models import OfficialLetter, RoutingTask
from workflow.routing.state import ANSWERED_STATES, latest_state_subquery

# Letters per level are few (department, province, district), so the walk down is short.
MAX_CASCADE_DEPTH = 10


@dataclass
class RecipientStatus:
    """One LAO's status for a circular."""

    organization_id: int
    code: str
    name_th: str
    province_code: str | None
    district_code: str | None
    confirmed: bool
    overdue: bool
    due_effective: date | None


def find_circular(session: Session, doc_number: str) -> OfficialLetter:
    """Return the letter with this number as written (Thai or Arabic digits); the latest one if the number repeats."""
    docnum = normalize_doc_number(doc_number)
    if docnum is None:
        raise NotFound(
            "invalid_doc_number",
            f"อ่านเลขที่หนังสือ “{doc_number}” ไม่ได้ ตัวอย่าง: มท 0821.2/ว 1446",
            f"cannot read document number {doc_number!r}",
        )
    letter = session.scalar(
        select(OfficialLetter)
        .where(OfficialLetter.doc_number == docnum["text"])
        .order_by(OfficialLetter.letter_date.desc(), OfficialLetter.id.desc())
        .limit(1)
    )
    if letter is None:
        raise NotFound(
            "letter_not_found",
            f"ไม่พบหนังสือเลขที่ {docnum['text']} ในระบบ",
            f"no letter numbered {docnum['text']!r}",
        )
    return letter


def cascade_letter_ids(session: Session, letter_id: int) -> list[int]:
    """Return the letter and every letter re-issued below it, level by level."""
    found = [letter_id]
    frontier = [letter_id]
    for _level in range(MAX_CASCADE_DEPTH):
        frontier = list(
            session.scalars(select(OfficialLetter.id).where(OfficialLetter.parent_letter_id.in_(frontier)))
        )
        if not frontier:
            break
        found.extend(frontier)
    return found


def recipient_statuses(
    session: Session, letter: OfficialLetter, as_of: date, viewer: User | None = None
) -> list[RecipientStatus]:
    """Return every LAO given a task anywhere below `letter`, with whether it confirmed or is overdue.

    With a `viewer`, only the LAOs at or below the viewer's office are returned.
    """
    letter_ids = cascade_letter_ids(session, letter.id)
    states = latest_state_subquery(letter_ids)
    rows = session.execute(
        select(
            Organization.id,
            Organization.code,
            Organization.name_th,
            Organization.province_code,
            Organization.district_code,
            Organization.parent_id,
            states.c.state,
            RoutingTask.due_effective,
        )
        .join(RoutingTask, RoutingTask.recipient_org_id == Organization.id)
        .join(states, states.c.task_id == RoutingTask.id)
        .where(RoutingTask.letter_id.in_(letter_ids), Organization.kind == ORG_LAO)
    ).all()

    by_lao: dict[int, RecipientStatus] = {}
    earliest_open_due: dict[int, date | None] = {}
    for row in rows:
        status = by_lao.get(row.id)
        if status is None:
            status = RecipientStatus(
                row.id, row.code, row.name_th, row.province_code, row.district_code, False, False, None
            )
            by_lao[row.id] = status
            earliest_open_due[row.id] = None
        if row.state in ANSWERED_STATES:
            status.confirmed = True
        elif row.due_effective is not None:
            current = earliest_open_due[row.id]
            earliest_open_due[row.id] = row.due_effective if current is None else min(current, row.due_effective)
    for lao_id, status in by_lao.items():
        due = earliest_open_due[lao_id]
        status.due_effective = due
        status.overdue = not status.confirmed and due is not None and due < as_of

    result = list(by_lao.values())
    if viewer is not None:
        result = _visible_to(session, viewer, result)
    return sorted(result, key=lambda item: item.code)


def _visible_to(session: Session, viewer: User, statuses: list[RecipientStatus]) -> list[RecipientStatus]:
    office = viewer.organization
    if office.kind == ORG_LAO:
        return [item for item in statuses if item.organization_id == office.id]
    organizations = {
        org.id: org
        for org in session.scalars(
            select(Organization).where(Organization.id.in_([item.organization_id for item in statuses]))
        )
    }
    return [item for item in statuses if is_below(organizations[item.organization_id], office)]


def _empty_counts() -> dict[str, int]:
    return {"recipients": 0, "confirmed": 0, "overdue": 0}


def _add(counts: dict[str, int], status: RecipientStatus) -> None:
    counts["recipients"] += 1
    counts["confirmed"] += int(status.confirmed)
    counts["overdue"] += int(status.overdue)


def rollup(session: Session, letter: OfficialLetter, as_of: date | None = None, viewer: User | None = None) -> dict:
    """Count the LAOs below `letter`, in total, by DOPA province code and by DOPA district code.

    Returns `{"doc_number", "recipients", "confirmed", "overdue", "by_province": {code:
    counts}, "by_district": {code: counts}}`. `as_of` defaults to today in Thailand.
    """
    as_of = as_of or today_in_thailand()
    statuses = recipient_statuses(session, letter, as_of, viewer)
    total = _empty_counts()
    by_province: dict[str, dict[str, int]] = {}
    by_district: dict[str, dict[str, int]] = {}
    for status in statuses:
        _add(total, status)
        _add(by_province.setdefault(status.province_code or "", _empty_counts()), status)
        _add(by_district.setdefault(status.district_code or "", _empty_counts()), status)
    return {
        "doc_number": letter.doc_number,
        **total,
        "by_province": dict(sorted(by_province.items())),
        "by_district": dict(sorted(by_district.items())),
    }
