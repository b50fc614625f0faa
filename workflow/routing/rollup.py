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

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.orm import Session

from workflow.models import ORG_DEPARTMENT, ORG_DISTRICT_OFFICE, ORG_LAO, ORG_PROVINCE_OFFICE, Organization, User
from workflow.routing.calendar import today_in_thailand
from workflow.routing.errors import NotFound
from workflow.routing.incoming import normalize_doc_number
from workflow.routing.models import OfficialLetter, RoutingTask
from workflow.routing.state import ANSWERED_STATES

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
    """Return the letter and every letter re-issued below it.

    Below a letter without a parent, every letter shares its `root_letter_id`, so one
    indexed query finds them. Below any other letter, the walk goes down level by level.
    """
    if session.scalar(select(OfficialLetter.parent_letter_id).where(OfficialLetter.id == letter_id)) is None:
        below = session.scalars(
            select(OfficialLetter.id).where(OfficialLetter.root_letter_id == letter_id, OfficialLetter.id != letter_id)
        )
        return [letter_id, *sorted(below)]
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
    session: Session,
    letter: OfficialLetter,
    as_of: date,
    viewer: User | None = None,
    pending_only: bool = False,
) -> list[RecipientStatus]:
    """Return every LAO given a task anywhere below `letter`, with whether it confirmed or is overdue.

    With a `viewer`, only the LAOs at or below the viewer's office are returned. With
    `pending_only`, only those that have not confirmed, which is the list a roll-up page shows.
    """
    query = _per_lao_query(cascade_letter_ids(session, letter.id), viewer, with_names=True, pending_only=pending_only)
    result = []
    for row in session.execute(query):
        confirmed = bool(row.confirmed)
        due = row.due_effective
        overdue = not confirmed and due is not None and due < as_of
        result.append(RecipientStatus(
            row.organization_id, row.code, row.name_th, row.province_code, row.district_code, confirmed, overdue, due,
        ))
    return sorted(result, key=lambda item: item.code)


def _viewer_condition(viewer: User):
    """Return a SQL condition on Organization that keeps the LAOs at or below the viewer's office.

    It is `access.is_below` written in SQL (plus an LAO viewer's own row), so that the roll-up
    filters before it groups. The tests compare the two over the whole directory.
    """
    office = viewer.organization
    if office.kind == ORG_LAO:
        return Organization.id == office.id
    if office.kind == ORG_DEPARTMENT:
        return Organization.kind != ORG_DEPARTMENT
    if office.kind == ORG_PROVINCE_OFFICE:
        if office.province_code is None:
            return Organization.province_code.is_(None)
        return Organization.province_code == office.province_code
    if office.kind == ORG_DISTRICT_OFFICE:
        return Organization.parent_id == office.id
    return false()


def _per_lao_query(letter_ids: list[int], viewer: User | None, with_names: bool = False, pending_only: bool = False):
    """Build one row per LAO with a task in the cascade: whether it confirmed and its earliest open due date.

    An LAO has confirmed when any of its tasks is in ANSWERED_STATES. A task in any other
    state is open, and only open tasks give a due date, so a confirmed LAO may still have one.
    The states are the ones stored on the tasks, so no event is read.
    """
    tasks = (
        select(
            RoutingTask.recipient_org_id,
            RoutingTask.due_effective,
            case((RoutingTask.state.in_(sorted(ANSWERED_STATES)), 1), else_=0).label("answered"),
        )
        .where(RoutingTask.letter_id.in_(letter_ids))
        .subquery()
    )
    areas = [Organization.id.label("organization_id"), Organization.province_code, Organization.district_code]
    if with_names:
        areas += [Organization.code, Organization.name_th]
    confirmed = func.max(tasks.c.answered)
    query = (
        select(
            *areas,
            confirmed.label("confirmed"),
            func.min(case((tasks.c.answered == 0, tasks.c.due_effective))).label("due_effective"),
        )
        .join(tasks, tasks.c.recipient_org_id == Organization.id)
        .where(Organization.kind == ORG_LAO)
        .group_by(*areas)
    )
    if viewer is not None:
        query = query.where(_viewer_condition(viewer))
    if pending_only:
        query = query.having(confirmed == 0)
    return query


def _empty_counts() -> dict[str, int]:
    return {"recipients": 0, "confirmed": 0, "overdue": 0}


def _add(counts: dict[str, int], row) -> None:
    counts["recipients"] += int(row.recipients)
    counts["confirmed"] += int(row.confirmed or 0)
    counts["overdue"] += int(row.overdue or 0)


def rollup(session: Session, letter: OfficialLetter, as_of: date | None = None, viewer: User | None = None) -> dict:
    """Count the LAOs below `letter`, in total, by DOPA province code and by DOPA district code.

    Returns `{"doc_number", "recipients", "confirmed", "overdue", "by_province": {code:
    counts}, "by_district": {code: counts}}`. `as_of` defaults to today in Thailand. An LAO
    is overdue when it has not confirmed and its earliest open due date is before `as_of`.
    The database counts per (province, district) pair, so no row per LAO reaches Python.
    """
    as_of = as_of or today_in_thailand()
    per_lao = _per_lao_query(cascade_letter_ids(session, letter.id), viewer).subquery()
    overdue = and_(per_lao.c.confirmed == 0, per_lao.c.due_effective.is_not(None), per_lao.c.due_effective < as_of)
    rows = session.execute(
        select(
            per_lao.c.province_code,
            per_lao.c.district_code,
            func.count().label("recipients"),
            func.sum(per_lao.c.confirmed).label("confirmed"),
            func.sum(case((overdue, 1), else_=0)).label("overdue"),
        ).group_by(per_lao.c.province_code, per_lao.c.district_code)
    ).all()

    total = _empty_counts()
    by_province: dict[str, dict[str, int]] = {}
    by_district: dict[str, dict[str, int]] = {}
    for row in rows:
        _add(total, row)
        _add(by_province.setdefault(row.province_code or "", _empty_counts()), row)
        _add(by_district.setdefault(row.district_code or "", _empty_counts()), row)
    return {
        "doc_number": letter.doc_number,
        **total,
        "by_province": dict(sorted(by_province.items())),
        "by_district": dict(sorted(by_district.items())),
    }
