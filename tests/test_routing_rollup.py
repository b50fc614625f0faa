"""Roll-up of a circular by province and district, the scheduled reminder and escalation jobs, and declared holidays."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.test_routing_operations import (
    OFFICER_VALUES,
    chain_to_lao,
    issue_dla,
    lao_receives,
    receive_and_order_forward,
    snapshot,
)
from workflow.models import Organization
from workflow.routing import admin, jobs, operations
from workflow.routing.errors import InvalidValue, NotFound, PermissionDenied, StateConflict
from workflow.routing.models import Notice, RoutingTask, TaskEvent
from workflow.routing.rollup import find_circular, rollup
from workflow.routing.state import load_status
from workflow.routing.testing import (
    make_staff,
    make_user,
    postgres_reachable,
    postgres_schema_url,
    prepare_database,
    reset,
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('rollup') / 'routing.db'}")
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


@pytest.fixture
def staff(session):
    return make_staff(session)


def mae_sai_tasks(session, district_letter):
    return session.scalars(
        select(RoutingTask)
        .join(Organization, Organization.id == RoutingTask.recipient_org_id)
        .where(RoutingTask.letter_id == district_letter.id)
        .order_by(Organization.code)
    ).all()


def answer(session, staff, task, approve=True):
    lao_receives(session, staff, task)
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES)
    if approve:
        operations.approve_confirmation(session, staff.lao_exec, task.id, on_date=date(2025, 4, 9))


# --- roll-up ----------------------------------------------------------------------------


def test_rollup_counts_laos_by_province_and_district(session, staff):
    district, task = chain_to_lao(session, staff)
    answer(session, staff, task)
    result = rollup(session, find_circular(session, "มท ๐๘๒๑.๒/ว ๑๔๔๖"), as_of=date(2025, 4, 10))
    direct = result["recipients"] - 10
    assert result["doc_number"] == "มท 0821.2/ว 1446"
    assert direct > 0
    assert result["confirmed"] == 1
    # Mae Sai's LAOs were due on 9 April; the province's own LAOs are due on 11 April.
    assert result["overdue"] == 9
    assert result["by_district"]["5709"] == {"recipients": 10, "confirmed": 1, "overdue": 9}
    assert result["by_province"] == {"57": {"recipients": 10 + direct, "confirmed": 1, "overdue": 9}}


def test_rollup_overdue_depends_on_date(session, staff):
    chain_to_lao(session, staff)
    dla = find_circular(session, "มท 0821.2/ว 1446")
    assert rollup(session, dla, as_of=date(2025, 4, 9))["overdue"] == 0
    late = rollup(session, dla, as_of=date(2025, 4, 12))
    assert late["overdue"] == late["recipients"]


def test_pending_approval_is_not_confirmed(session, staff):
    _district, task = chain_to_lao(session, staff)
    answer(session, staff, task, approve=False)
    result = rollup(session, find_circular(session, "มท 0821.2/ว 1446"), as_of=date(2025, 4, 9))
    assert result["confirmed"] == 0


def test_rollup_of_lower_circular_covers_its_cascade(session, staff):
    district, _task = chain_to_lao(session, staff)
    province = district.parent
    assert rollup(session, district, as_of=date(2025, 4, 9))["recipients"] == 10
    assert rollup(session, province, as_of=date(2025, 4, 9))["recipients"] == rollup(
        session, find_circular(session, "มท 0821.2/ว 1446"), as_of=date(2025, 4, 9))["recipients"]


def test_lao_reached_twice_counts_once(session, staff):
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    province = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2),
                                           recipient_codes=["DIST-5709", "5570901"]).letter
    receive_and_order_forward(session, staff.ms_clerk, staff.ms_head, province, date(2025, 4, 3))
    operations.forward_circular(session, staff.ms_head, province.id, issued_on=date(2025, 4, 4))
    result = rollup(session, dla, as_of=date(2025, 4, 9))
    assert result["recipients"] == 10
    assert result["by_district"]["5709"]["recipients"] == 10


def test_each_office_sees_only_below_it(session, staff):
    chain_to_lao(session, staff)
    dla = find_circular(session, "มท 0821.2/ว 1446")
    everyone = rollup(session, dla, as_of=date(2025, 4, 9))["recipients"]
    assert rollup(session, dla, as_of=date(2025, 4, 9), viewer=staff.dla_head)["recipients"] == everyone
    assert rollup(session, dla, as_of=date(2025, 4, 9), viewer=staff.cr_head)["recipients"] == everyone
    assert rollup(session, dla, as_of=date(2025, 4, 9), viewer=staff.ms_head)["recipients"] == 10
    assert rollup(session, dla, as_of=date(2025, 4, 9), viewer=staff.pk_head)["recipients"] == 0
    assert rollup(session, dla, as_of=date(2025, 4, 9), viewer=staff.lao_exec)["recipients"] == 1


def test_find_circular_rejects_unknown_number(session, staff):
    with pytest.raises(NotFound) as error:
        find_circular(session, "มท 0821.2/ว 9999")
    assert error.value.code == "letter_not_found"
    with pytest.raises(NotFound) as error:
        find_circular(session, "หนังสือเวียนเรื่องคาร์บอน")
    assert error.value.code == "invalid_doc_number"


def test_office_reports_up_with_counts(session, staff):
    district, task = chain_to_lao(session, staff)
    answer(session, staff, task)
    office_task = session.scalar(select(RoutingTask).where(
        RoutingTask.letter_id == district.parent_letter_id,
        RoutingTask.recipient_org_id == staff.ms_head.organization_id))
    event = operations.report_to_sender(session, staff.ms_head, office_task.id, on_date=date(2025, 4, 10),
                                        note="รวบรวมรายชื่อผู้รับผิดชอบแล้ว ๑ แห่ง")
    assert event.data["counts"] == {"recipients": 10, "confirmed": 1, "overdue": 9}
    assert load_status(session, office_task.id).state == "reported"
    assert jobs.escalate_overdue(session, date(2025, 4, 14)) >= 9
    assert load_status(session, office_task.id).overdue_marked is False


def test_report_refused_before_forwarding(session, staff):
    dla = issue_dla(session, staff)
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == dla.id,
                                                    RoutingTask.recipient_org_id == staff.cr_head.organization_id))
    before = snapshot(session)
    with pytest.raises(StateConflict) as error:
        operations.report_to_sender(session, staff.cr_head, task.id, on_date=date(2025, 4, 2))
    assert error.value.code == "not_forwarded"
    with pytest.raises(PermissionDenied) as error:
        operations.report_to_sender(session, staff.ms_head, task.id, on_date=date(2025, 4, 2))
    assert error.value.code == "other_organization"
    assert snapshot(session) == before


# --- jobs -------------------------------------------------------------------------------


def test_reminders_before_and_on_due_date(session, staff):
    district, task = chain_to_lao(session, staff)
    answer(session, staff, task)
    # From Friday 4 April 2568 to Wednesday 9 April: the weekend and Chakri Day in lieu do not count.
    assert jobs.send_reminders(session, date(2025, 4, 4)) == 9
    assert jobs.send_reminders(session, date(2025, 4, 4)) == 0
    assert jobs.send_reminders(session, date(2025, 4, 8)) == 0
    province_recipients = session.scalar(select(func.count()).select_from(RoutingTask).where(
        RoutingTask.letter_id == district.parent_letter_id))
    # On 9 April Mae Sai's LAOs are due today and the province's recipients (due 11 April) are two days out.
    assert jobs.send_reminders(session, date(2025, 4, 9)) == 9 + province_recipients
    notice = session.scalars(select(Notice).order_by(Notice.id)).first()
    assert notice.kind == "reminder"
    assert notice.working_days_before == 2
    assert notice.message_th == f"หนังสือที่ {district.doc_number} ครบกำหนดส่งอีก 2 วันทำการ (วันที่ 9 เมษายน 2568)"
    assert session.scalar(select(func.count()).select_from(Notice).where(Notice.task_id == task.id)) == 0


def test_reminder_days_follow_sender_settings(session, staff):
    district, _task = chain_to_lao(session, staff)
    admin.set_office_settings(session, None, "DIST-5709", reminder_working_days=[1])
    assert jobs.send_reminders(session, date(2025, 4, 4)) == 0
    assert jobs.send_reminders(session, date(2025, 4, 8)) == 10


def test_escalation_marks_overdue_once_and_notifies_sender(session, staff):
    district, task = chain_to_lao(session, staff)
    answer(session, staff, task)
    assert jobs.escalate_overdue(session, date(2025, 4, 9)) == 0
    assert jobs.escalate_overdue(session, date(2025, 4, 10)) == 9
    assert jobs.escalate_overdue(session, date(2025, 4, 10)) == 0
    notices = session.scalars(select(Notice).where(Notice.kind == "escalation")).all()
    assert {notice.organization_id for notice in notices} == {staff.ms_head.organization_id}
    late = next(item for item in mae_sai_tasks(session, district) if item.id != task.id)
    status = load_status(session, late.id)
    assert status.overdue_marked is True
    assert status.state == "delivered"
    assert load_status(session, task.id).overdue_marked is False


def test_escalation_goes_to_parent_office_of_direct_recipient(session, staff):
    dla = issue_dla(session, staff, recipient_codes=["5570901", "2570101"])
    assert jobs.escalate_overdue(session, date(2025, 4, 21)) == 2
    notified = set(session.scalars(select(Notice.organization_id).where(Notice.kind == "escalation")))
    codes = set(session.scalars(select(Organization.code).where(Organization.id.in_(notified))))
    assert codes == {"DIST-5709", "PROV-57"}
    assert dla.due_effective == date(2025, 4, 18)


def test_overdue_task_can_still_be_answered(session, staff):
    _district, task = chain_to_lao(session, staff)
    jobs.escalate_overdue(session, date(2025, 4, 10))
    answer(session, staff, task)
    assert load_status(session, task.id).state == "reported"
    assert session.scalar(select(func.count()).select_from(TaskEvent).where(
        TaskEvent.task_id == task.id, TaskEvent.kind == "overdue")) == 1


# --- declared holidays ------------------------------------------------------------------


def test_declared_holiday_moves_derived_deadline(session, staff):
    # Suppose the cabinet declares Thursday 17 April 2568 a day off: two working days before
    # 18 April then reach back to 10 April.
    admin.add_declared_holiday(session, staff.admin, date(2025, 4, 17), "วันหยุดราชการเป็นกรณีพิเศษ")
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    letter = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2)).letter
    assert letter.due_nominal == date(2025, 4, 10)


def test_declared_holiday_admin_only_and_once(session, staff):
    admin.add_declared_holiday(session, staff.admin, date(2025, 4, 17), "วันหยุดราชการเป็นกรณีพิเศษ")
    before = snapshot(session)
    with pytest.raises(InvalidValue) as error:
        admin.add_declared_holiday(session, staff.admin, date(2025, 4, 17), "ซ้ำ")
    assert error.value.code == "holiday_exists"
    with pytest.raises(PermissionDenied):
        admin.add_declared_holiday(session, staff.cr_head, date(2025, 4, 18), "วันหยุดพิเศษ")
    with pytest.raises(InvalidValue) as error:
        admin.add_declared_holiday(session, staff.admin, date(2025, 4, 18), " ")
    assert error.value.code == "missing_holiday_name"
    assert snapshot(session) == before


def test_admin_of_province_manages_only_its_area(session, staff):
    province_admin = make_user(session, "t.cr_admin", "PROV-57", "admin")
    admin.set_office_settings(session, province_admin, "DIST-5709", doc_prefix="ชร 0023.20")
    before = snapshot(session)
    with pytest.raises(PermissionDenied) as error:
        admin.set_office_settings(session, province_admin, "DIST-8301", doc_prefix="ภก 0023.1")
    assert error.value.code == "other_organization"
    assert snapshot(session) == before
