"""The roll-up counted in SQL gives what the per-LAO count in Python gave, on SQLite and PostgreSQL.

`reference_rollup` is the earlier implementation: it reads one row per task of the cascade
and folds them per LAO in Python, filtering by `access.is_below`. Each test builds a
cascade and compares the two for several dates and viewers.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.test_routing_operations import (
    OFFICER_VALUES,
    at,
    chain_to_lao,
    issue_dla,
    receive_and_order_forward,
)
from workflow.models import ORG_LAO, Organization
from workflow.routing import jobs, operations
from workflow.routing.access import is_below
from workflow.routing.demo import run_demo
from workflow.routing.models import OfficialLetter, RoutingTask
from workflow.routing.rollup import (
    cascade_letter_ids,
    find_circular,
    recipient_statuses,
    rollup,
)
from workflow.routing.state import ANSWERED_STATES, latest_state_subquery
from workflow.routing.testing import (
    make_staff,
    make_user,
    postgres_reachable,
    postgres_schema_url,
    prepare_database,
    reset,
)

AS_OF_DATES = (date(2025, 4, 1), date(2025, 4, 9), date(2025, 4, 10), date(2025, 4, 12), date(2025, 4, 30))
# LAOs in four districts of Chiang Rai and one of Phuket that DLA writes to directly.
DIRECT_LAOS = ("5570103", "5570201", "5570301", "5571001", "5830103", "2830101")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('rollup_sql') / 'routing.db'}")
        yield db
        db.dispose()
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as url:
        db = prepare_database(url)
        yield db
        db.dispose()


@pytest.fixture
def session(database):
    reset(database)
    session = database.session()
    yield session
    session.close()


def reference_rollup(session, letter, as_of, viewer=None) -> dict:
    """Count the roll-up one LAO at a time in Python, as the roll-up did before it moved to SQL."""
    letter_ids = cascade_letter_ids(session, letter.id)
    states = latest_state_subquery(letter_ids)
    rows = session.execute(
        select(Organization, states.c.state, RoutingTask.due_effective)
        .join(RoutingTask, RoutingTask.recipient_org_id == Organization.id)
        .join(states, states.c.task_id == RoutingTask.id)
        .where(RoutingTask.letter_id.in_(letter_ids), Organization.kind == ORG_LAO)
    ).all()
    laos, confirmed, open_due = {}, {}, {}
    for organization, state, due in rows:
        laos[organization.id] = organization
        confirmed.setdefault(organization.id, False)
        open_due.setdefault(organization.id, None)
        if state in ANSWERED_STATES:
            confirmed[organization.id] = True
        elif due is not None:
            current = open_due[organization.id]
            open_due[organization.id] = due if current is None else min(current, due)
    if viewer is not None:
        office = viewer.organization
        laos = {
            key: org for key, org in laos.items()
            if (org.id == office.id if office.kind == ORG_LAO else is_below(org, office))
        }

    def empty():
        return {"recipients": 0, "confirmed": 0, "overdue": 0}

    total, by_province, by_district = empty(), {}, {}
    for key, org in laos.items():
        late = not confirmed[key] and open_due[key] is not None and open_due[key] < as_of
        for counts in (total, by_province.setdefault(org.province_code or "", empty()),
                       by_district.setdefault(org.district_code or "", empty())):
            counts["recipients"] += 1
            counts["confirmed"] += int(confirmed[key])
            counts["overdue"] += int(late)
    return {"doc_number": letter.doc_number, **total, "by_province": dict(sorted(by_province.items())),
            "by_district": dict(sorted(by_district.items()))}


def mixed_cascade(session, staff) -> OfficialLetter:
    """DLA writes to Chiang Rai and to six LAOs in five districts; Chiang Rai and Mae Sai forward down.

    Mae Sai's LAOs end in every state: approved, confirmed but not approved, sent back,
    closed by the sender, registered only, and untouched. Three direct LAOs answer, one
    of them is also reached through Mae Sai, and the escalation job marks the late ones.
    """
    dla = issue_dla(session, staff, recipient_codes=["PROV-57", "PROV-83", *DIRECT_LAOS, "5570901"])
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    province = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2),
                                           recipient_codes=["DIST-5709", "DIST-5701", "5570902"]).letter
    receive_and_order_forward(session, staff.ms_clerk, staff.ms_head, province, date(2025, 4, 3))
    district = operations.forward_circular(session, staff.ms_head, province.id, issued_on=date(2025, 4, 4)).letter

    tasks = {task.recipient.code: task for task in session.scalars(
        select(RoutingTask).where(RoutingTask.letter_id.in_([dla.id, district.id])).order_by(RoutingTask.id))}
    mae_sai = {task.recipient.code: task for task in session.scalars(
        select(RoutingTask).where(RoutingTask.letter_id == district.id))}

    lao_exec = staff.lao_exec
    # เทศบาลตำบลแม่สาย answers on Mae Sai's letter but not on DLA's direct one.
    operations.register_receipt(session, staff.lao_clerk, channel="system", letter_id=district.id,
                                received_at=at(date(2025, 4, 7)))
    operations.confirm_assignment(session, staff.lao_officer, mae_sai["5570901"].id, OFFICER_VALUES)
    operations.approve_confirmation(session, lao_exec, mae_sai["5570901"].id, on_date=date(2025, 4, 8))

    answered_direct = ["5570103", "5830103"]
    for code in answered_direct + ["5570201"]:
        officer = make_user(session, f"t.officer{code}", code, "officer")
        executive = make_user(session, f"t.exec{code}", code, "supervisor", "นายกองค์การบริหารส่วนตำบล")
        clerk = make_user(session, f"t.clerk{code}", code, "clerk")
        operations.register_receipt(session, clerk, channel="system", letter_id=dla.id,
                                    received_at=at(date(2025, 4, 1)))
        operations.confirm_assignment(session, officer, tasks[code].id, OFFICER_VALUES)
        if code in answered_direct:
            operations.approve_confirmation(session, executive, tasks[code].id, on_date=date(2025, 4, 2))
        else:
            operations.reject_confirmation(session, executive, tasks[code].id, "เบอร์โทรศัพท์ไม่ถูกต้อง",
                                           on_date=date(2025, 4, 2))

    waiting = make_user(session, "t.officer5570904", "5570904", "officer")
    operations.register_receipt(session, make_user(session, "t.clerk5570904", "5570904", "clerk"),
                                channel="system", letter_id=district.id, received_at=at(date(2025, 4, 7)))
    operations.confirm_assignment(session, waiting, mae_sai["5570904"].id, OFFICER_VALUES)
    operations.close_task(session, staff.ms_head, mae_sai["6570905"].id, "อปท. แจ้งทางโทรศัพท์แล้ว")
    jobs.escalate_overdue(session, date(2025, 4, 10))
    return dla


def assert_same_as_reference(session, letter, viewers) -> None:
    for as_of in AS_OF_DATES:
        for viewer in viewers:
            assert rollup(session, letter, as_of, viewer) == reference_rollup(session, letter, as_of, viewer), (
                as_of, viewer.username if viewer else None)


def test_mixed_cascade_matches_reference(session):
    staff = make_staff(session)
    dla = mixed_cascade(session, staff)
    viewers = [None, staff.dla_head, staff.cr_head, staff.ms_head, staff.pk_head, staff.lao_exec]
    assert_same_as_reference(session, dla, viewers)
    result = rollup(session, dla, date(2025, 4, 12))
    assert result["confirmed"] == 4
    assert result["overdue"] > 0
    assert len(result["by_district"]) >= 5


def test_lower_letters_match_reference(session):
    staff = make_staff(session)
    dla = mixed_cascade(session, staff)
    lower = session.scalars(select(OfficialLetter).where(OfficialLetter.parent_letter_id.is_not(None))).all()
    assert lower
    for letter in [dla, *lower]:
        assert_same_as_reference(session, letter, [None, staff.ms_head])


def test_pending_only_lists_unconfirmed(session):
    staff = make_staff(session)
    dla = mixed_cascade(session, staff)
    everyone = recipient_statuses(session, dla, date(2025, 4, 12))
    pending = recipient_statuses(session, dla, date(2025, 4, 12), pending_only=True)
    assert [item.code for item in pending] == [item.code for item in everyone if not item.confirmed]
    assert pending == [item for item in everyone if not item.confirmed]


def test_viewer_filter_matches_is_below(session):
    staff = make_staff(session)
    dla = issue_dla(session, staff, recipient_codes=["PROV-57", "5570901", "5570103", "5570104", "5830103"])
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2))
    for viewer in (staff.dla_head, staff.cr_head, staff.ms_head, staff.pk_head, staff.lao_exec):
        office = viewer.organization
        seen = {item.code for item in recipient_statuses(session, dla, date(2025, 4, 9), viewer)}
        laos = session.scalars(select(Organization).where(
            Organization.id.in_(select(RoutingTask.recipient_org_id).where(
                RoutingTask.letter_id.in_(cascade_letter_ids(session, dla.id)))),
            Organization.kind == ORG_LAO)).all()
        expected = {org.code for org in laos if org.id == office.id or is_below(org, office)}
        assert seen == expected, viewer.username


def test_chain_to_lao_matches_reference(session):
    staff = make_staff(session)
    chain_to_lao(session, staff)
    dla = find_circular(session, "มท 0821.2/ว 1446")
    assert_same_as_reference(session, dla, [None, staff.cr_head, staff.ms_head])


def test_demo_data_matches_reference(session):
    run_demo(session)
    for letter in session.scalars(select(OfficialLetter).where(OfficialLetter.parent_letter_id.is_(None))):
        assert_same_as_reference(session, letter, [None])
    dla = find_circular(session, "มท 0821.2/ว 1446")
    assert rollup(session, dla, date(2025, 4, 10))["by_district"]["5709"] == {
        "recipients": 10, "confirmed": 10, "overdue": 0}
