"""Routing operations on SQLite and PostgreSQL: each rule, and refusals that change nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from workflow.models import Organization
from workflow.routing import admin, operations
from workflow.routing.calendar import BANGKOK
from workflow.routing.errors import InvalidValue, NotFound, PermissionDenied, StateConflict
from workflow.routing.models import (
    CAPACITY_ACTING,
    CAPACITY_ON_BEHALF,
    CAPACITY_SELF,
    REGISTER_CIRCULAR,
    Base,
    LetterCitation,
    OfficialLetter,
    RegisterCounter,
    RoutingTask,
    TaskEvent,
)
from workflow.routing.numbering import peek_number
from workflow.routing.state import load_status
from workflow.routing.testing import (
    make_staff,
    postgres_reachable,
    postgres_schema_url,
    prepare_database,
    reset,
)

SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
DLA_DATE = date(2025, 3, 28)
DLA_DUE = date(2025, 4, 18)


def at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BANGKOK)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('routing') / 'routing.db'}")
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


def snapshot(session) -> dict:
    """Row counts of every table and the counters' values, to compare before and after a refusal."""
    session.rollback()
    counts = {table.name: session.scalar(select(func.count()).select_from(table)) for table in Base.metadata.sorted_tables}
    counts["counters"] = sorted(
        session.execute(select(RegisterCounter.organization_id, RegisterCounter.register, RegisterCounter.year,
                               RegisterCounter.next_number)).all()
    )
    session.rollback()
    return counts


def issue_dla(session, staff, **options):
    """Issue DLA's circular under its real book code, numbered from ว 1446 in 2568."""
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")
    if peek_number(session, staff.dla_head.organization_id, REGISTER_CIRCULAR, 2025) == 1:
        admin.open_register(session, None, "DLA", REGISTER_CIRCULAR, 2025, 1446)
    options.setdefault("issued_on", DLA_DATE)
    options.setdefault("due_nominal", DLA_DUE)
    options.setdefault("confirmation_form", operations.CARBON_CREDIT_CONFIRMATION_FORM)
    return operations.issue_circular(session, staff.dla_head, subject=SUBJECT, **options).letter


def receive_and_order_forward(session, clerk, head, letter, day):
    receipt = operations.register_receipt(session, clerk, channel="system", letter_id=letter.id,
                                          received_at=at(day)).receipt
    operations.endorse(session, head, receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้งเวียนหน่วยงานในสังกัด", on_date=day)
    return receipt


def chain_to_lao(session, staff):
    """DLA -> Chiang Rai -> Mae Sai -> the LAOs; return Mae Sai's circular and the task of เทศบาลตำบลแม่สาย."""
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    province = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2)).letter
    receive_and_order_forward(session, staff.ms_clerk, staff.ms_head, province, date(2025, 4, 3))
    district = operations.forward_circular(session, staff.ms_head, province.id, issued_on=date(2025, 4, 4)).letter
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == district.id,
                                                    RoutingTask.recipient_org_id == staff.lao_clerk.organization_id))
    return district, task


def lao_receives(session, staff, task, day=date(2025, 4, 8)):
    return operations.register_receipt(session, staff.lao_clerk, channel="system", letter_id=task.letter_id,
                                       received_at=at(day)).receipt


OFFICER_VALUES = {
    "officer_name": "นายอนุชา แสงทอง",
    "position": "นักวิชาการสิ่งแวดล้อม",
    "phone": "053-731-234",
    "email": "anucha@maesai.go.th",
}


def external_letter(number="ชร ๐๐๒๓.๖/ว ๓๒๐๐", letter_date="2025-04-02", **extra):
    return {"doc_number": {"text": number} if number else None, "date": letter_date, "subject": SUBJECT,
            "issuer": "ศาลากลางจังหวัดเชียงราย", **extra}


# --- receive ----------------------------------------------------------------------------


def test_receipt_numbers_run_per_office_and_year(session, staff):
    first = operations.register_receipt(session, staff.cr_clerk, channel="paper",
                                        letter_data=external_letter("ชร 0023.6/ว 1"), received_at=at(date(2025, 4, 2)))
    second = operations.register_receipt(session, staff.cr_clerk, channel="paper",
                                         letter_data=external_letter("ชร 0023.6/ว 2"), received_at=at(date(2025, 4, 2)))
    other_office = operations.register_receipt(session, staff.pk_clerk, channel="paper",
                                               letter_data=external_letter("ชร 0023.6/ว 1"),
                                               received_at=at(date(2025, 4, 3)))
    next_year = operations.register_receipt(session, staff.cr_clerk, channel="paper",
                                            letter_data=external_letter("ชร 0023.6/ว 3", "2025-12-30"),
                                            received_at=at(date(2026, 1, 2)))
    assert (first.receipt.number, first.receipt.year) == (1, 2025)
    assert (second.receipt.number, second.receipt.year) == (2, 2025)
    assert other_office.receipt.number == 1
    assert other_office.letter.id == first.letter.id
    assert (next_year.receipt.number, next_year.receipt.year) == (1, 2026)
    assert operations.receipt_number_th(second.receipt) == "2/2568"


def test_receipt_year_follows_bangkok_date(session, staff):
    # 31 December 2025 23:30 UTC is already 1 January 2026 in Thailand.
    late = datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)
    result = operations.register_receipt(session, staff.cr_clerk, channel="email",
                                         letter_data=external_letter(letter_date="2025-12-30"), received_at=late,
                                         now=late + timedelta(hours=1))
    assert result.receipt.year == 2026


def test_receipt_keeps_received_at_apart_from_entered_at(session, staff):
    stamped = at(date(2025, 4, 3), 10, 15)
    result = operations.register_receipt(session, staff.cr_clerk, channel="paper",
                                         letter_data=external_letter(), received_at=stamped)
    session.expire_all()
    receipt = session.get(type(result.receipt), result.receipt.id)
    assert receipt.received_at.replace(tzinfo=receipt.received_at.tzinfo or timezone.utc) == stamped
    assert receipt.entered_at.date() > date(2025, 4, 3)


def test_same_letter_by_two_channels_is_one_receipt(session, staff):
    by_e_office = operations.register_receipt(session, staff.cr_clerk, channel="e_office",
                                              letter_data=external_letter("ชร 0023.6/ว 3200"),
                                              received_at=at(date(2025, 4, 2), 11))
    by_paper = operations.register_receipt(session, staff.cr_clerk, channel="paper",
                                           letter_data=external_letter("ชร ๐๐๒๓.๖/ว๓๒๐๐"),
                                           received_at=at(date(2025, 4, 3), 9))
    assert by_paper.created is False
    assert by_paper.receipt.id == by_e_office.receipt.id
    assert by_paper.letter.id == by_e_office.letter.id
    assert snapshot(session)["receipts"] == 1
    assert snapshot(session)["receipt_arrivals"] == 2
    nxt = operations.register_receipt(session, staff.cr_clerk, channel="paper",
                                      letter_data=external_letter("ชร 0023.6/ว 3201"), received_at=at(date(2025, 4, 3)))
    assert nxt.receipt.number == 2


def test_incoming_letter_links_cited_letters(session, staff):
    dla = issue_dla(session, staff)
    data = external_letter(
        "ชร 0023.20/ว 1061", "2025-04-04",
        issuer="ที่ว่าการอำเภอแม่สาย",
        enclosures=[
            {"text": "สำเนาหนังสือกรมส่งเสริมการปกครองท้องถิ่น ที่ มท ๐๘๒๑.๒/ว ๑๔๔๖",
             "doc_number": {"text": "มท 0821.2/ว 1446"}, "date": "2025-03-28"},
        ],
        references=[
            {"text": "หนังสืออำเภอแม่สาย ที่ ชร ๐๐๒๓.๒๐/ว ๔๙๔๗", "doc_number": {"text": "ชร 0023.20/ว 4947"},
             "date": "2024-11-21"},
        ],
    )
    letter = operations.register_receipt(session, staff.lao_clerk, channel="e_office", letter_data=data,
                                         received_at=at(date(2025, 4, 8))).letter
    citations = session.scalars(select(LetterCitation).where(LetterCitation.letter_id == letter.id)
                                .order_by(LetterCitation.role)).all()
    enclosure = next(item for item in citations if item.role == "enclosure")
    reference = next(item for item in citations if item.role == "reference")
    assert enclosure.cited_letter_id == dla.id
    assert enclosure.matched_by == "number_date"
    assert reference.cited_letter_id is None
    assert letter.parent_letter_id == dla.id
    assert letter.root_letter_id == dla.id


def test_mistyped_enclosure_number_links_by_date_and_subject(session, staff):
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    province = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2)).letter
    data = external_letter("ชร 0023.20/ว 1061", "2025-04-04", issuer="ที่ว่าการอำเภอแม่สาย", enclosures=[
        {"text": "สำเนาหนังสือจังหวัดเชียงราย ที่ ชร ๐๐๒๓.๖/ว ๙๒๐๑", "doc_number": {"text": "ชร 0023.6/ว 9201"},
         "date": "2025-04-02"},
    ])
    letter = operations.register_receipt(session, staff.lao_clerk, channel="paper", letter_data=data,
                                         received_at=at(date(2025, 4, 8))).letter
    enclosure = session.scalar(select(LetterCitation).where(LetterCitation.letter_id == letter.id))
    assert enclosure.cited_letter_id == province.id
    assert enclosure.matched_by == "date_subject"


def test_external_letter_deadline_drives_forward(session, staff):
    data = external_letter("มท 0821.2/ว 1446", "2025-03-28", issuer="กรมส่งเสริมการปกครองท้องถิ่น", deadlines=[
        {"kind": "start", "date": "2025-03-31", "text": "ตั้งแต่วันที่ ๓๑ มีนาคม ๒๕๖๘"},
        {"kind": "due", "date": "2025-04-18", "stated": "2025-04-18", "text": "ภายในวันที่ ๑๘ เมษายน ๒๕๖๘"},
    ])
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="ecms", letter_data=data,
                                          received_at=at(date(2025, 3, 31))).receipt
    assert receipt.letter.due_nominal == date(2025, 4, 18)
    assert receipt.letter.due_text == "ภายในวันที่ ๑๘ เมษายน ๒๕๖๘"
    operations.endorse(session, staff.cr_head, receipt.id, ["ทราบ", "แจ้งเวียน"], on_date=date(2025, 3, 31))
    letter = operations.forward_circular(session, staff.cr_head, receipt.letter_id, issued_on=date(2025, 4, 2)).letter
    assert letter.due_nominal == date(2025, 4, 11)
    assert letter.parent_letter_id == receipt.letter_id


def test_external_relative_deadline_is_kept(session, staff):
    data = external_letter(deadlines=[{"kind": "relative", "days": 7, "working_days": True, "counted_from": "receipt",
                                       "text": "ภายใน ๗ วันทำการนับแต่วันที่ได้รับหนังสือ"}])
    letter = operations.register_receipt(session, staff.ms_clerk, channel="paper", letter_data=data,
                                         received_at=at(date(2025, 4, 3))).letter
    assert letter.relative_days == 7
    assert letter.relative_working_days is True
    assert letter.due_nominal is None


def test_receipt_before_letter_date_is_flagged(session, staff):
    result = operations.register_receipt(session, staff.lao_clerk, channel="paper",
                                         letter_data=external_letter("ชร 0023.20/ว 1062", "2025-04-13"),
                                         received_at=at(date(2025, 4, 10)))
    codes = [warning["code"] for warning in result.receipt.warnings]
    assert codes == ["receipt_before_letter_date"]


def test_failed_receipt_burns_no_number(session, staff):
    before = snapshot(session)
    with pytest.raises(InvalidValue) as error:
        operations.register_receipt(session, staff.cr_clerk, channel="paper", letter_data=external_letter(),
                                    received_at=at(date(2025, 4, 2)), remarks="ก" * 5000)
    assert error.value.code == "note_too_long"
    assert snapshot(session) == before
    result = operations.register_receipt(session, staff.cr_clerk, channel="paper", letter_data=external_letter(),
                                         received_at=at(date(2025, 4, 2)))
    assert result.receipt.number == 1


@pytest.mark.parametrize("kwargs, error_type, code", [
    ({"channel": "pigeon"}, InvalidValue, "invalid_channel"),
    ({"received_at": datetime(2025, 4, 2, 9, 0)}, InvalidValue, "naive_datetime"),
    ({"received_at": datetime.now(timezone.utc) + timedelta(days=2)}, InvalidValue, "received_in_future"),
    ({"letter_data": external_letter() | {"subject": "  "}}, InvalidValue, "missing_subject"),
    ({"letter_data": external_letter("ที่ไม่มีเลข")}, InvalidValue, "invalid_doc_number"),
    ({"letter_data": external_letter(letter_date="2 เมษายน 2568")}, InvalidValue, "invalid_date"),
    ({"letter_id": 1}, InvalidValue, "letter_missing"),
])
def test_receipt_rejects_bad_input(session, staff, kwargs, error_type, code):
    arguments = {"channel": "paper", "letter_data": external_letter(), "received_at": at(date(2025, 4, 2))} | kwargs
    before = snapshot(session)
    with pytest.raises(error_type) as error:
        operations.register_receipt(session, staff.cr_clerk, **arguments)
    assert error.value.code == code
    assert error.value.message_th
    assert snapshot(session) == before


def test_receipt_rejects_officer_role(session, staff):
    before = snapshot(session)
    with pytest.raises(PermissionDenied) as error:
        operations.register_receipt(session, staff.cr_officer, channel="paper", letter_data=external_letter(),
                                    received_at=at(date(2025, 4, 2)))
    assert error.value.code == "role_not_allowed"
    assert snapshot(session) == before


def test_receipt_rejects_letter_sent_elsewhere(session, staff):
    dla = issue_dla(session, staff)
    before = snapshot(session)
    with pytest.raises(PermissionDenied) as error:
        operations.register_receipt(session, staff.ms_clerk, channel="system", letter_id=dla.id,
                                    received_at=at(date(2025, 3, 31)))
    assert error.value.code == "letter_not_addressed"
    assert snapshot(session) == before


def test_receipt_of_delivered_letter_records_received_event(session, staff):
    dla = issue_dla(session, staff)
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=dla.id,
                                          received_at=at(date(2025, 3, 31))).receipt
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == dla.id,
                                                    RoutingTask.recipient_org_id == staff.cr_clerk.organization_id))
    status = load_status(session, task.id)
    assert status.state == "received"
    assert status.receipt_number == receipt.number
    assert status.received_on == "2025-03-31"


# --- endorse ----------------------------------------------------------------------------


def test_supervisor_endorses_in_own_capacity(session, staff):
    dla = issue_dla(session, staff)
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=dla.id,
                                          received_at=at(date(2025, 3, 31))).receipt
    endorsement = operations.endorse(session, staff.cr_head, receipt.id, ["ทราบ", "แจ้งเวียน"],
                                     "แจ้งอำเภอทุกอำเภอ", on_date=date(2025, 3, 31))
    assert endorsement.capacity == CAPACITY_SELF
    assert endorsement.decisions == ["ทราบ", "แจ้งเวียน"]
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == dla.id,
                                                    RoutingTask.recipient_org_id == staff.cr_head.organization_id))
    assert load_status(session, task.id).state == "endorsed"


def test_endorse_assign_needs_unit(session, staff):
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="paper", letter_data=external_letter(),
                                          received_at=at(date(2025, 4, 2))).receipt
    endorsement = operations.endorse(session, staff.cr_head, receipt.id, ["มอบ"], None,
                                     assigned_unit="กลุ่มงานบริการสาธารณะท้องถิ่น", on_date=date(2025, 4, 2))
    assert endorsement.assigned_unit == "กลุ่มงานบริการสาธารณะท้องถิ่น"
    before = snapshot(session)
    with pytest.raises(InvalidValue) as error:
        operations.endorse(session, staff.cr_head, receipt.id, ["มอบ"], on_date=date(2025, 4, 2))
    assert error.value.code == "assign_needs_unit"
    assert snapshot(session) == before


def test_clerk_endorses_under_valid_delegation(session, staff):
    delegation = admin.grant_delegation(session, staff.cr_head, staff.cr_clerk, CAPACITY_ACTING,
                                        "ท้องถิ่นจังหวัดเชียงราย", date(2025, 4, 1), date(2025, 4, 30),
                                        "คำสั่งสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดเชียงราย ที่ 12/2568")
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="paper", letter_data=external_letter(),
                                          received_at=at(date(2025, 4, 2))).receipt
    endorsement = operations.endorse(session, staff.cr_clerk, receipt.id, ["ทราบ"], on_date=date(2025, 4, 2))
    assert endorsement.capacity == CAPACITY_ACTING
    assert endorsement.delegation_id == delegation.id


def test_endorse_rejects_expired_delegation(session, staff):
    admin.grant_delegation(session, staff.cr_head, staff.cr_clerk, CAPACITY_ON_BEHALF, "ท้องถิ่นจังหวัดเชียงราย",
                           date(2025, 3, 1), date(2025, 3, 31), "คำสั่งจังหวัดเชียงราย ที่ 5/2568")
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="paper", letter_data=external_letter(),
                                          received_at=at(date(2025, 4, 2))).receipt
    before = snapshot(session)
    with pytest.raises(PermissionDenied) as error:
        operations.endorse(session, staff.cr_clerk, receipt.id, ["ทราบ"], on_date=date(2025, 4, 2))
    assert error.value.code == "no_signing_authority"
    assert snapshot(session) == before


@pytest.mark.parametrize("user_key, decisions, on_date, error_type, code", [
    ("pk_head", ["ทราบ"], date(2025, 4, 2), PermissionDenied, "other_organization"),
    ("cr_head", ["กราบ"], date(2025, 4, 2), InvalidValue, "invalid_decision"),
    ("cr_head", [], date(2025, 4, 2), InvalidValue, "missing_decision"),
    ("cr_head", ["ทราบ", "ทราบ"], date(2025, 4, 2), InvalidValue, "repeated_decision"),
    ("cr_head", ["ทราบ"], date(2025, 4, 1), InvalidValue, "endorsed_before_receipt"),
])
def test_endorse_refusals_change_nothing(session, staff, user_key, decisions, on_date, error_type, code):
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="paper", letter_data=external_letter(),
                                          received_at=at(date(2025, 4, 2))).receipt
    before = snapshot(session)
    with pytest.raises(error_type) as error:
        operations.endorse(session, staff[user_key], receipt.id, decisions, on_date=on_date)
    assert error.value.code == code
    assert snapshot(session) == before


def test_delegation_rejects_empty_range_and_other_org(session, staff):
    before = snapshot(session)
    with pytest.raises(InvalidValue) as error:
        admin.grant_delegation(session, staff.cr_head, staff.cr_clerk, CAPACITY_ACTING, "ท้องถิ่นจังหวัดเชียงราย",
                               date(2025, 4, 30), date(2025, 4, 1), "คำสั่งที่ 1/2568")
    assert error.value.code == "invalid_date_range"
    with pytest.raises(PermissionDenied) as error:
        admin.grant_delegation(session, staff.pk_head, staff.cr_clerk, CAPACITY_ACTING, "ท้องถิ่นจังหวัดเชียงราย",
                               date(2025, 4, 1), date(2025, 4, 30), "คำสั่งที่ 1/2568")
    assert error.value.code == "other_organization"
    with pytest.raises(PermissionDenied) as error:
        admin.grant_delegation(session, staff.cr_clerk, staff.cr_officer, CAPACITY_ACTING, "ท้องถิ่นจังหวัดเชียงราย",
                               date(2025, 4, 1), date(2025, 4, 30), "คำสั่งที่ 1/2568")
    assert error.value.code == "role_not_allowed"
    assert snapshot(session) == before


# --- forward ----------------------------------------------------------------------------


def test_dla_circular_reaches_every_province(session, staff):
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")
    admin.open_register(session, None, "DLA", REGISTER_CIRCULAR, 2025, 1446)
    result = operations.issue_circular(session, staff.dla_head, subject=SUBJECT, issued_on=DLA_DATE,
                                       due_nominal=DLA_DUE)
    assert result.letter.doc_number == "มท 0821.2/ว 1446"
    assert result.task_count == 76
    assert result.letter.root_letter_id == result.letter.id
    assert session.scalar(select(func.count()).select_from(TaskEvent).where(TaskEvent.kind == "delivered")) == 76


def test_province_forwards_to_districts_and_its_own_laos(session, staff):
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    admin.set_office_settings(session, None, "PROV-57", doc_prefix="ชร 0023.6")
    admin.open_register(session, None, "PROV-57", REGISTER_CIRCULAR, 2025, 3200)
    result = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2))
    letter = result.letter
    recipients = session.execute(
        select(Organization.kind, Organization.lao_type)
        .join(RoutingTask, RoutingTask.recipient_org_id == Organization.id)
        .where(RoutingTask.letter_id == letter.id)
    ).all()
    districts = [row for row in recipients if row.kind == "district_office"]
    laos = [row for row in recipients if row.kind == "lao"]
    assert letter.doc_number == "ชร 0023.6/ว 3200"
    assert letter.letter_date == date(2025, 4, 2)
    assert len(districts) == 18
    assert laos
    assert {row.lao_type for row in laos} <= {"provincial_admin_org", "city_municipality", "town_municipality"}
    assert result.task_count == len(recipients)

    # 18 April 2568 less two working days skips Songkran (13-16 April) and the weekend.
    assert letter.due_nominal == date(2025, 4, 11)
    assert letter.due_rule == "parent_minus_working_days"
    assert letter.parent_letter_id == dla.id
    assert letter.root_letter_id == dla.id
    assert letter.confirmation_form == operations.CARBON_CREDIT_CONFIRMATION_FORM

    enclosure = session.scalar(select(LetterCitation).where(LetterCitation.letter_id == letter.id))
    assert enclosure.cited_letter_id == dla.id
    assert enclosure.text == "สำเนาหนังสือกรมส่งเสริมการปกครองท้องถิ่น ที่ มท 0821.2/ว 1446 ลงวันที่ 28 มีนาคม 2568"
    own_task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == dla.id,
                                                        RoutingTask.recipient_org_id == staff.cr_head.organization_id))
    assert load_status(session, own_task.id).state == "forwarded"


def test_district_forward_reaches_ten_laos(session, staff):
    district, task = chain_to_lao(session, staff)
    count = session.scalar(select(func.count()).select_from(RoutingTask).where(RoutingTask.letter_id == district.id))
    assert count == 10
    assert district.due_nominal == date(2025, 4, 9)
    assert task.due_effective == date(2025, 4, 9)


def test_office_lead_time_is_configurable(session, staff):
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    admin.set_office_settings(session, None, "PROV-57", internal_due_working_days=4)
    letter = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2)).letter
    # 17, 11, 10, 9 April are the four working days before 18 April 2568.
    assert letter.due_nominal == date(2025, 4, 9)


def test_forward_to_chosen_subset(session, staff):
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    result = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2),
                                         recipient_codes=["DIST-5709", "5570901", "5570901"])
    assert result.task_count == 2
    before = snapshot(session)
    with pytest.raises(InvalidValue) as error:
        operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 3),
                                    recipient_codes=["DIST-5709"])
    assert error.value.code == "already_forwarded"
    assert snapshot(session) == before


@pytest.mark.parametrize("codes, error_type, code", [
    (["DIST-8301"], PermissionDenied, "recipient_not_subordinate"),
    (["PROV-57"], PermissionDenied, "recipient_not_subordinate"),
    (["DIST-9999"], NotFound, "recipient_not_found"),
    ([" "], InvalidValue, "no_recipients"),
])
def test_forward_rejects_bad_recipients(session, staff, codes, error_type, code):
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    before = snapshot(session)
    with pytest.raises(error_type) as error:
        operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2), recipient_codes=codes)
    assert error.value.code == code
    assert snapshot(session) == before


def test_forward_needs_receipt_and_forward_order(session, staff):
    dla = issue_dla(session, staff)
    before = snapshot(session)
    with pytest.raises(StateConflict) as error:
        operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2))
    assert error.value.code == "parent_not_received"
    assert snapshot(session) == before

    receipt = operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=dla.id,
                                          received_at=at(date(2025, 3, 31))).receipt
    operations.endorse(session, staff.cr_head, receipt.id, ["ทราบ"], on_date=date(2025, 3, 31))
    before = snapshot(session)
    with pytest.raises(StateConflict) as error:
        operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2))
    assert error.value.code == "forward_not_ordered"
    assert snapshot(session) == before


@pytest.mark.parametrize("user_key, options, error_type, code", [
    ("cr_clerk", {}, PermissionDenied, "no_signing_authority"),
    ("lao_exec", {}, PermissionDenied, "lao_cannot_forward"),
    ("cr_head", {"due_nominal": date(2025, 4, 1)}, InvalidValue, "deadline_before_letter_date"),
    ("cr_head", {"issued_on": date(2025, 3, 20)}, InvalidValue, "issued_before_parent"),
    ("cr_head", {"urgency": "ด่วนจี๋"}, InvalidValue, "invalid_urgency"),
    ("cr_head", {"relative_days": 0}, InvalidValue, "invalid_relative_days"),
    ("cr_head", {"relative_days": 5, "due_nominal": date(2025, 4, 10)}, InvalidValue, "two_deadlines"),
    ("cr_head", {"confirmation_form": [{"name": "ชื่อ", "label_th": "ชื่อ"}]}, InvalidValue, "invalid_form"),
])
def test_forward_refusals_change_nothing(session, staff, user_key, options, error_type, code):
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    options = {"issued_on": date(2025, 4, 2)} | options
    before = snapshot(session)
    with pytest.raises(error_type) as error:
        operations.forward_circular(session, staff[user_key], dla.id, **options)
    assert error.value.code == code
    assert snapshot(session) == before


def test_late_derived_deadline_is_rejected(session, staff):
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    before = snapshot(session)
    with pytest.raises(InvalidValue) as error:
        operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 17))
    assert error.value.code == "deadline_before_letter_date"
    assert snapshot(session) == before
    letter = operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 17),
                                         due_nominal=date(2025, 4, 17)).letter
    assert letter.due_rule == "stated"


def test_relative_deadline_counts_from_each_receipt(session, staff):
    dla = issue_dla(session, staff, due_nominal=None, relative_days=5, relative_working_days=True)
    tasks = {task.recipient_org_id: task for task in session.scalars(select(RoutingTask))}
    assert tasks[staff.cr_clerk.organization_id].due_nominal is None
    operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=dla.id,
                                received_at=at(date(2025, 3, 31)))
    operations.register_receipt(session, staff.pk_clerk, channel="system", letter_id=dla.id,
                                received_at=at(date(2025, 4, 4)))
    session.expire_all()
    # Receipt day not counted: 1, 2, 3, 4 April and 8 April (7 April is Chakri Day in lieu).
    assert session.get(RoutingTask, tasks[staff.cr_clerk.organization_id].id).due_effective == date(2025, 4, 7 + 1)
    # From 4 April: 8, 9, 10, 11 and 17 April (Songkran 14-16 April).
    assert session.get(RoutingTask, tasks[staff.pk_clerk.organization_id].id).due_effective == date(2025, 4, 17)


def test_calendar_day_relative_deadline_moves_off_holiday(session, staff):
    dla = issue_dla(session, staff, due_nominal=None, relative_days=7)
    operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=dla.id,
                                received_at=at(date(2025, 4, 6)))
    task = session.scalar(select(RoutingTask).where(RoutingTask.recipient_org_id == staff.cr_clerk.organization_id))
    assert task.due_nominal == date(2025, 4, 13)
    assert task.due_effective == date(2025, 4, 17)


# --- assign, confirm, approve -----------------------------------------------------------


def test_lao_confirms_and_executive_approves(session, staff):
    _district, task = chain_to_lao(session, staff)
    receipt = lao_receives(session, staff, task)
    operations.endorse(session, staff.lao_exec, receipt.id, ["ทราบ", "มอบ"], assigned_unit="สำนักปลัด",
                       on_date=date(2025, 4, 8))
    operations.assign_task(session, staff.lao_exec, task.id, staff.lao_officer, on_date=date(2025, 4, 8))
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES)
    pending = load_status(session, task.id)
    assert pending.state == "confirmed"
    assert pending.answered is False
    operations.approve_confirmation(session, staff.lao_exec, task.id, on_date=date(2025, 4, 9))
    status = load_status(session, task.id)
    assert status.state == "reported"
    assert status.answered is True
    assert status.confirmation["phone"] == "053731234"
    assert status.history == ["delivered", "received", "endorsed", "assigned", "confirmed", "reported"]


def test_rejected_confirmation_can_be_corrected(session, staff):
    _district, task = chain_to_lao(session, staff)
    lao_receives(session, staff, task)
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES | {"position": "พนักงานจ้าง"})
    operations.reject_confirmation(session, staff.lao_exec, task.id, "ผู้รับผิดชอบต้องเป็นข้าราชการ",
                                   on_date=date(2025, 4, 8))
    assert load_status(session, task.id).state == "rejected"
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES)
    operations.approve_confirmation(session, staff.lao_exec, task.id, on_date=date(2025, 4, 9))
    status = load_status(session, task.id)
    assert status.state == "reported"
    assert status.confirmation["position"] == "นักวิชาการสิ่งแวดล้อม"


@pytest.mark.parametrize("user_key, values, error_type, code", [
    ("lao_exec", OFFICER_VALUES, PermissionDenied, "role_not_allowed"),
    ("other_lao_officer", OFFICER_VALUES, PermissionDenied, "other_organization"),
    ("lao_officer", OFFICER_VALUES | {"phone": "53-731"}, InvalidValue, "invalid_phone"),
    ("lao_officer", OFFICER_VALUES | {"email": "anucha.maesai.go.th"}, InvalidValue, "invalid_email"),
    ("lao_officer", OFFICER_VALUES | {"officer_name": " "}, InvalidValue, "missing_form_value"),
    ("lao_officer", OFFICER_VALUES | {"line_id": "anucha"}, InvalidValue, "unknown_form_field"),
])
def test_confirm_refusals_change_nothing(session, staff, user_key, values, error_type, code):
    _district, task = chain_to_lao(session, staff)
    lao_receives(session, staff, task)
    before = snapshot(session)
    with pytest.raises(error_type) as error:
        operations.confirm_assignment(session, staff[user_key], task.id, values)
    assert error.value.code == code
    assert snapshot(session) == before


def test_confirm_before_receipt_is_refused(session, staff):
    _district, task = chain_to_lao(session, staff)
    before = snapshot(session)
    with pytest.raises(StateConflict) as error:
        operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES)
    assert error.value.code == "invalid_task_state"
    assert snapshot(session) == before


def test_only_the_assignee_officer_confirms(session, staff):
    _district, task = chain_to_lao(session, staff)
    lao_receives(session, staff, task)
    operations.assign_task(session, staff.lao_exec, task.id, staff.lao_officer, on_date=date(2025, 4, 8))
    before = snapshot(session)
    with pytest.raises(PermissionDenied) as error:
        operations.confirm_assignment(session, staff.lao_officer2, task.id, OFFICER_VALUES)
    assert error.value.code == "not_assignee"
    assert snapshot(session) == before


def test_assign_rejects_officer_of_other_lao(session, staff):
    _district, task = chain_to_lao(session, staff)
    lao_receives(session, staff, task)
    before = snapshot(session)
    with pytest.raises(InvalidValue) as error:
        operations.assign_task(session, staff.lao_exec, task.id, staff.other_lao_officer, on_date=date(2025, 4, 8))
    assert error.value.code == "assignee_other_organization"
    assert snapshot(session) == before


def test_approve_refusals_change_nothing(session, staff):
    _district, task = chain_to_lao(session, staff)
    lao_receives(session, staff, task)
    before = snapshot(session)
    with pytest.raises(StateConflict) as error:
        operations.approve_confirmation(session, staff.lao_exec, task.id, on_date=date(2025, 4, 9))
    assert error.value.code == "invalid_task_state"
    assert snapshot(session) == before

    operations.confirm_assignment(session, staff.lao_clerk, task.id, OFFICER_VALUES)
    admin.grant_delegation(session, staff.lao_exec, staff.lao_clerk, CAPACITY_ON_BEHALF, "นายกเทศมนตรีตำบลแม่สาย",
                           date(2025, 4, 1), date(2025, 4, 30), "คำสั่งเทศบาลตำบลแม่สาย ที่ 45/2568")
    before = snapshot(session)
    with pytest.raises(PermissionDenied) as error:
        operations.approve_confirmation(session, staff.lao_clerk, task.id, on_date=date(2025, 4, 9))
    assert error.value.code == "own_confirmation"
    with pytest.raises(PermissionDenied) as error:
        operations.approve_confirmation(session, staff.lao_officer, task.id, on_date=date(2025, 4, 9))
    assert error.value.code == "no_signing_authority"
    with pytest.raises(PermissionDenied) as error:
        operations.approve_confirmation(session, staff.ms_head, task.id, on_date=date(2025, 4, 9))
    assert error.value.code == "other_organization"
    with pytest.raises(InvalidValue) as error:
        operations.reject_confirmation(session, staff.lao_exec, task.id, "  ", on_date=date(2025, 4, 9))
    assert error.value.code == "missing_reason"
    assert snapshot(session) == before

    operations.approve_confirmation(session, staff.lao_exec, task.id, on_date=date(2025, 4, 9))
    before = snapshot(session)
    with pytest.raises(StateConflict):
        operations.approve_confirmation(session, staff.lao_exec, task.id, on_date=date(2025, 4, 9))
    assert snapshot(session) == before


def test_sender_closes_task_and_others_cannot(session, staff):
    _district, task = chain_to_lao(session, staff)
    before = snapshot(session)
    with pytest.raises(PermissionDenied) as error:
        operations.close_task(session, staff.lao_exec, task.id, "ไม่เกี่ยวข้อง")
    assert error.value.code == "other_organization"
    assert snapshot(session) == before
    operations.close_task(session, staff.ms_head, task.id, "อปท. แจ้งรายชื่อทางโทรศัพท์แล้ว")
    assert load_status(session, task.id).state == "closed"


def test_task_status_visible_above_not_beside(session, staff):
    _district, task = chain_to_lao(session, staff)
    assert operations.task_status(session, staff.cr_head, task.id).state == "delivered"
    assert operations.task_status(session, staff.ms_clerk, task.id).state == "delivered"
    with pytest.raises(PermissionDenied):
        operations.task_status(session, staff.pk_head, task.id)
    with pytest.raises(PermissionDenied):
        operations.task_status(session, staff.other_lao_officer, task.id)


def test_task_events_are_only_appended(session, staff):
    _district, task = chain_to_lao(session, staff)
    lao_receives(session, staff, task)
    first_ids = session.scalars(select(TaskEvent.id).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)).all()
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES)
    later_ids = session.scalars(select(TaskEvent.id).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)).all()
    assert later_ids[: len(first_ids)] == first_ids
    assert len(later_ids) == len(first_ids) + 1


# --- admin ------------------------------------------------------------------------------


def test_open_register_only_before_first_number(session, staff):
    admin.open_register(session, staff.cr_head, "PROV-57", REGISTER_CIRCULAR, 2025, 3200)
    dla = issue_dla(session, staff)
    receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31))
    operations.forward_circular(session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2))
    before = snapshot(session)
    with pytest.raises(StateConflict) as error:
        admin.open_register(session, staff.cr_head, "PROV-57", REGISTER_CIRCULAR, 2025, 1)
    assert error.value.code == "register_in_use"
    with pytest.raises(PermissionDenied) as error:
        admin.open_register(session, staff.cr_head, "PROV-83", REGISTER_CIRCULAR, 2025, 10)
    assert error.value.code == "other_organization"
    assert snapshot(session) == before


def test_office_settings_admin_only_and_validated(session, staff):
    before = snapshot(session)
    with pytest.raises(PermissionDenied):
        admin.set_office_settings(session, staff.cr_head, "PROV-57", doc_prefix="ชร 0023.6")
    with pytest.raises(InvalidValue) as error:
        admin.set_office_settings(session, staff.admin, "PROV-57", doc_prefix="ชร0023.6")
    assert error.value.code == "invalid_doc_prefix"
    with pytest.raises(InvalidValue) as error:
        admin.set_office_settings(session, staff.admin, "PROV-57", internal_due_working_days=-1)
    assert error.value.code == "invalid_lead_time"
    assert snapshot(session) == before
    settings = admin.set_office_settings(session, staff.admin, "PROV-57", doc_prefix="ชร 0023.6",
                                         reminder_working_days=[0, 3])
    assert settings.reminder_working_days == [3, 0]


def test_create_staff_user_with_position(session, staff):
    user = admin.create_staff_user(session, staff.admin, "maesai.exec", "นายสมบัติ ดีงาม", "รหัสผ่าน-ทดสอบ",
                                   "5570901", "supervisor", "นายกเทศมนตรีตำบลแม่สาย")
    assert admin.position_of(session, user) == "นายกเทศมนตรีตำบลแม่สาย"
    before = snapshot(session)
    with pytest.raises(InvalidValue) as error:
        admin.create_staff_user(session, staff.admin, "maesai.exec2", "นายสมบัติ ดีงาม", "x", "5570901", "supervisor")
    assert error.value.code == "missing_position"
    with pytest.raises(InvalidValue) as error:
        admin.create_staff_user(session, staff.admin, "maesai.exec", "ซ้ำ", "x", "5570901", "clerk")
    assert error.value.code == "username_taken"
    with pytest.raises(PermissionDenied):
        admin.create_staff_user(session, staff.cr_head, "cr.new", "ใหม่", "x", "PROV-57", "clerk")
    assert snapshot(session) == before


def test_circular_issue_takes_gapless_numbers(session, staff):
    first = issue_dla(session, staff)
    with pytest.raises(InvalidValue):
        issue_dla(session, staff, due_nominal=date(2025, 3, 1))
    second = issue_dla(session, staff, issued_on=date(2025, 3, 29), due_nominal=DLA_DUE)
    assert first.serial == 1446
    assert second.serial == 1447
    assert session.scalar(select(func.count()).select_from(OfficialLetter)) == 2
