"""The routing screens through Flask's test client: each action, and refusals that show Thai and change nothing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from workflow.app import create_app
from workflow.routing import admin, covering, operations
from workflow.routing.calendar import today_in_thailand
from workflow.routing.models import Base, OfficialLetter, RegisterCounter, RoutingTask
from workflow.routing.state import load_status
from workflow.thaidate import MONTHS_TH
from workflow.routing.testing import make_staff, postgres_reachable, postgres_schema_url, prepare_database, reset

SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
OFFICER_FORM = {
    "officer_name": "นายอนุชา แสงทอง",
    "position": "นักวิชาการสิ่งแวดล้อม",
    "phone": "053-731-234",
    "email": "anucha@maesai.go.th",
}
TODAY = today_in_thailand()
BE_YEAR = TODAY.year + 543


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('web_routing') / 'routing.db'}")
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


@pytest.fixture
def app(database, session, tmp_path):
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
        "SARABAN_STORAGE": str(tmp_path / "storage"),
        "REDIS_URL": None,
        "SECRET_KEY": "web-routing-test",
    })
    yield application
    application.extensions["saraban.db"].dispose()


def client_for(app, user):
    """Return a test client signed in as `user`, with its CSRF token at `client.csrf`."""
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = user.id
        web_session["csrf_token"] = "token-" + user.username
    client.csrf = "token-" + user.username
    return client


def post(client, url, **form):
    return client.post(url, data={"csrf_token": client.csrf, **form})


def snapshot(session) -> dict:
    """Row counts of every table and the register counters, to compare before and after a refusal."""
    session.rollback()
    counts = {table.name: session.scalar(select(func.count()).select_from(table)) for table in Base.metadata.sorted_tables}
    counts["counters"] = sorted(session.execute(select(RegisterCounter.organization_id, RegisterCounter.register,
                                                       RegisterCounter.next_number)).all())
    session.rollback()
    return counts


def issue_dla(session, staff) -> OfficialLetter:
    """DLA's circular to every province, dated five days ago and due in four weeks."""
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")
    return operations.issue_circular(
        session, staff.dla_head, subject=SUBJECT, issued_on=TODAY - timedelta(days=5),
        due_nominal=TODAY + timedelta(days=28), confirmation_form=operations.CARBON_CREDIT_CONFIRMATION_FORM,
    ).letter


def task_of(session, letter, user) -> RoutingTask:
    return session.scalar(select(RoutingTask).where(RoutingTask.letter_id == letter.id,
                                                    RoutingTask.recipient_org_id == user.organization_id))


def province_ready_to_forward(session, staff) -> RoutingTask:
    """Chiang Rai registered DLA's circular and its head ordered แจ้งเวียน; return Chiang Rai's task."""
    letter = issue_dla(session, staff)
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=letter.id).receipt
    operations.endorse(session, staff.cr_head, receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้งอำเภอในสังกัด")
    return task_of(session, letter, staff.cr_head)


def lao_task(session, staff) -> RoutingTask:
    """DLA -> Chiang Rai -> Mae Sai -> its LAOs; return the registered task of เทศบาลตำบลแม่สาย."""
    province_task = province_ready_to_forward(session, staff)
    province = operations.forward_circular(session, staff.cr_head, province_task.letter_id).letter
    receipt = operations.register_receipt(session, staff.ms_clerk, channel="system", letter_id=province.id).receipt
    operations.endorse(session, staff.ms_head, receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้ง ทต. และ อบต.")
    district = operations.forward_circular(session, staff.ms_head, province.id).letter
    operations.register_receipt(session, staff.lao_clerk, channel="system", letter_id=district.id)
    return task_of(session, district, staff.lao_clerk)


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- inbox ------------------------------------------------------------------------------


def test_inbox_lists_own_tasks_in_thai(app, session, staff):
    letter = issue_dla(session, staff)
    page = text_of(client_for(app, staff.cr_clerk).get("/routing/"))
    assert letter.doc_number in page
    assert "ส่งถึงแล้ว รอลงรับ" in page
    due_be = f"{letter.due_effective.day} {MONTHS_TH[letter.due_effective.month - 1]} {letter.due_effective.year + 543}"
    assert due_be in page


def test_inbox_hides_other_offices_tasks(app, session, staff):
    issue_dla(session, staff)
    page = text_of(client_for(app, staff.lao_clerk).get("/routing/"))
    assert "มท 0821.2/ว" not in page
    assert "ยังไม่มีหนังสือเวียนส่งถึงหน่วยงานของท่าน" in page


def test_inbox_marks_overdue_task(app, session, staff):
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")
    operations.issue_circular(session, staff.dla_head, subject=SUBJECT, issued_on=TODAY - timedelta(days=40),
                              due_nominal=TODAY - timedelta(days=20), recipient_codes=["PROV-57"])
    page = text_of(client_for(app, staff.cr_clerk).get("/routing/"))
    assert 'class="task-row overdue"' in page
    assert "เกินกำหนด" in page


# --- receive and endorse ----------------------------------------------------------------


def test_receive_shows_receipt_number(app, session, staff):
    task = task_of(session, issue_dla(session, staff), staff.cr_clerk)
    client = client_for(app, staff.cr_clerk)
    response = post(client, f"/routing/tasks/{task.id}/receive", received_on="", received_time="")
    assert response.status_code == 302
    page = text_of(client.get(f"/routing/tasks/{task.id}"))
    assert f'id="receipt-number">1/{BE_YEAR}<' in page
    assert load_status(session, task.id).state == "received"


def test_receive_keeps_stamp_date_and_time(app, session, staff):
    task = task_of(session, issue_dla(session, staff), staff.cr_clerk)
    stamp_day = TODAY - timedelta(days=2)
    client = client_for(app, staff.cr_clerk)
    response = post(client, f"/routing/tasks/{task.id}/receive",
                    received_on=f"{stamp_day.day}/{stamp_day.month}/{stamp_day.year + 543}", received_time="14.05")
    assert response.status_code == 302
    page = text_of(client.get(f"/routing/tasks/{task.id}"))
    assert f"ลงรับเมื่อ {stamp_day.day} {MONTHS_TH[stamp_day.month - 1]} {stamp_day.year + 543} เวลา 14:05 น." in page


def test_receive_past_day_without_time_is_refused(app, session, staff):
    task = task_of(session, issue_dla(session, staff), staff.cr_clerk)
    stamp_day = TODAY - timedelta(days=2)
    before = snapshot(session)
    response = post(client_for(app, staff.cr_clerk), f"/routing/tasks/{task.id}/receive",
                    received_on=f"{stamp_day.day}/{stamp_day.month}/{stamp_day.year + 543}", received_time="")
    assert response.status_code == 400
    assert "กรุณาระบุเวลาลงรับตามตราลงรับ" in text_of(response)
    assert snapshot(session) == before


def test_receive_by_other_office_is_refused(app, session, staff):
    task = task_of(session, issue_dla(session, staff), staff.cr_clerk)
    before = snapshot(session)
    response = post(client_for(app, staff.pk_clerk), f"/routing/tasks/{task.id}/receive")
    assert response.status_code == 403
    assert "ท่านดูสถานะได้เฉพาะหน่วยงานของท่านและหน่วยงานในสังกัด" in text_of(response)
    assert snapshot(session) == before


def test_endorse_records_decisions_and_unit(app, session, staff):
    task = task_of(session, issue_dla(session, staff), staff.cr_clerk)
    operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=task.letter_id)
    client = client_for(app, staff.cr_head)
    response = client.post(f"/routing/tasks/{task.id}/endorse", data={
        "csrf_token": client.csrf, "decisions": ["ทราบ", "มอบ"], "assigned_unit": "กลุ่มงานส่งเสริมฯ",
        "note": "มอบกลุ่มงานดำเนินการ",
    })
    assert response.status_code == 302
    page = text_of(client.get(f"/routing/tasks/{task.id}"))
    assert "มอบ กลุ่มงานส่งเสริมฯ ดำเนินการ" in page
    assert load_status(session, task.id).state == "endorsed"


def test_endorse_by_clerk_is_refused(app, session, staff):
    task = task_of(session, issue_dla(session, staff), staff.cr_clerk)
    operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=task.letter_id)
    before = snapshot(session)
    response = post(client_for(app, staff.cr_clerk), f"/routing/tasks/{task.id}/endorse", decisions="ทราบ")
    assert response.status_code == 403
    assert "ท่านไม่มีอำนาจเกษียนสั่งการ" in text_of(response)
    assert snapshot(session) == before


def test_endorse_needs_unit_for_assign(app, session, staff):
    task = task_of(session, issue_dla(session, staff), staff.cr_clerk)
    operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=task.letter_id)
    before = snapshot(session)
    response = post(client_for(app, staff.cr_head), f"/routing/tasks/{task.id}/endorse", decisions="มอบ")
    assert response.status_code == 400
    assert "ต้องระบุกองหรือผู้รับมอบ" in text_of(response)
    assert snapshot(session) == before


# --- forward ----------------------------------------------------------------------------


def test_forward_form_proposes_derived_deadline(app, session, staff):
    task = province_ready_to_forward(session, staff)
    page = text_of(client_for(app, staff.cr_head).get(f"/routing/tasks/{task.id}"))
    assert 'id="forward"' in page
    assert 'id="proposed-due"' in page
    assert "ชื่อ-สกุล เจ้าหน้าที่ผู้รับผิดชอบ" in page
    assert 'value="DIST-5709" checked' in page


def test_forward_to_all_subordinates_with_derived_deadline(app, session, staff, monkeypatch):
    task = province_ready_to_forward(session, staff)
    confirmation_urls = []
    render = covering.write_covering_files

    def record_url(session_, letter_id, folder, confirmation_url=None):
        confirmation_urls.append(confirmation_url)
        return render(session_, letter_id, folder, confirmation_url)

    monkeypatch.setattr(covering, "write_covering_files", record_url)
    client = client_for(app, staff.cr_head)
    page = text_of(client.get(f"/routing/tasks/{task.id}"))
    codes = [line.split('value="')[1].split('"')[0] for line in page.splitlines() if 'name="recipients"' in line]
    proposed = page.split('name="due" value="')[1].split('"')[0]
    response = client.post(f"/routing/tasks/{task.id}/forward", data={
        "csrf_token": client.csrf, "recipients": codes, "due": proposed,
        "form_fields": ["officer_name", "position", "phone", "email"],
    })
    assert response.status_code == 302
    session.expire_all()
    letter = session.scalar(select(OfficialLetter).where(OfficialLetter.parent_letter_id == task.letter_id))
    assert letter.due_rule == "parent_minus_working_days"
    assert session.scalar(select(func.count()).where(RoutingTask.letter_id == letter.id)) == len(codes)
    assert [field["name"] for field in letter.confirmation_form] == ["officer_name", "position", "phone", "email"]
    assert letter.covering_files.get("pdf", "").endswith("covering.pdf")
    assert confirmation_urls == [f"http://localhost/routing/letters/{letter.id}/confirm"]
    assert load_status(session, task.id).state == "forwarded"


def test_forward_to_chosen_offices_with_edited_deadline(app, session, staff):
    task = province_ready_to_forward(session, staff)
    due = TODAY + timedelta(days=14)
    client = client_for(app, staff.cr_head)
    response = client.post(f"/routing/tasks/{task.id}/forward", data={
        "csrf_token": client.csrf, "recipients": ["DIST-5709", "DIST-5707"],
        "due": f"{due.day}/{due.month}/{due.year + 543}", "form_fields": ["officer_name", "phone"],
    })
    assert response.status_code == 302
    session.expire_all()
    letter = session.scalar(select(OfficialLetter).where(OfficialLetter.parent_letter_id == task.letter_id))
    assert letter.due_nominal == due
    assert letter.due_rule == "stated"
    assert session.scalar(select(func.count()).where(RoutingTask.letter_id == letter.id)) == 2


def test_forward_by_other_province_is_refused(app, session, staff):
    task = province_ready_to_forward(session, staff)
    before = snapshot(session)
    response = post(client_for(app, staff.pk_head), f"/routing/tasks/{task.id}/forward", recipients="DIST-5709")
    assert response.status_code == 403
    assert "ท่านดูสถานะได้เฉพาะหน่วยงานของท่าน" in text_of(response)
    assert snapshot(session) == before


def test_forward_by_clerk_without_delegation_is_refused(app, session, staff):
    task = province_ready_to_forward(session, staff)
    before = snapshot(session)
    response = post(client_for(app, staff.cr_clerk), f"/routing/tasks/{task.id}/forward", recipients="DIST-5709")
    assert response.status_code == 403
    assert "ท่านไม่มีอำนาจลงนามหนังสือเวียน" in text_of(response)
    assert snapshot(session) == before


def test_forward_with_unreadable_deadline_is_refused(app, session, staff):
    task = province_ready_to_forward(session, staff)
    before = snapshot(session)
    response = post(client_for(app, staff.cr_head), f"/routing/tasks/{task.id}/forward", recipients="DIST-5709",
                    due="สามสิบกุมภา")
    assert response.status_code == 400
    assert "อ่านกำหนดส่ง “สามสิบกุมภา” ไม่ได้" in text_of(response)
    assert snapshot(session) == before


# --- confirm, approve, send back ------------------------------------------------------------


def test_qr_link_opens_confirmation_form(app, session, staff):
    task = lao_task(session, staff)
    response = client_for(app, staff.lao_officer).get(f"/routing/letters/{task.letter_id}/confirm")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/routing/tasks/{task.id}#confirm")


def test_qr_link_refused_for_other_lao(app, session, staff):
    task = lao_task(session, staff)
    response = client_for(app, staff.pk_clerk).get(f"/routing/letters/{task.letter_id}/confirm")
    assert response.status_code == 403
    assert "ไม่ได้ส่งถึง" in text_of(response)


def test_officer_confirms_and_executive_approves(app, session, staff):
    task = lao_task(session, staff)
    officer = client_for(app, staff.lao_officer)
    assert post(officer, f"/routing/tasks/{task.id}/confirm", **OFFICER_FORM).status_code == 302
    assert load_status(session, task.id).state == "confirmed"
    executive = client_for(app, staff.lao_exec)
    page = text_of(executive.get(f"/routing/tasks/{task.id}"))
    assert "นายอนุชา แสงทอง" in page
    assert 'id="review"' in page
    assert post(executive, f"/routing/tasks/{task.id}/approve", note="").status_code == 302
    session.expire_all()
    assert load_status(session, task.id).state == "reported"


def test_confirm_with_bad_phone_is_refused(app, session, staff):
    task = lao_task(session, staff)
    before = snapshot(session)
    response = post(client_for(app, staff.lao_officer), f"/routing/tasks/{task.id}/confirm",
                    **{**OFFICER_FORM, "phone": "12345"})
    assert response.status_code == 400
    page = text_of(response)
    assert "หมายเลขโทรศัพท์ “12345” ไม่ถูกต้อง" in page
    assert 'value="นายอนุชา แสงทอง"' in page
    assert snapshot(session) == before


def test_officer_cannot_approve(app, session, staff):
    task = lao_task(session, staff)
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_FORM)
    before = snapshot(session)
    response = post(client_for(app, staff.lao_officer2), f"/routing/tasks/{task.id}/approve")
    assert response.status_code == 403
    assert "ท่านไม่มีอำนาจอนุมัติการยืนยัน" in text_of(response)
    assert snapshot(session) == before


def test_executive_sends_back_with_reason(app, session, staff):
    task = lao_task(session, staff)
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_FORM)
    executive = client_for(app, staff.lao_exec)
    assert post(executive, f"/routing/tasks/{task.id}/reject", reason="กรุณาระบุตำแหน่งให้ครบ").status_code == 302
    session.expire_all()
    assert load_status(session, task.id).state == "rejected"
    page = text_of(client_for(app, staff.lao_officer).get(f"/routing/tasks/{task.id}"))
    assert "ส่งกลับให้แก้ไข: กรุณาระบุตำแหน่งให้ครบ" in page


# --- status below, roll-up, exports ------------------------------------------------------


def test_district_reads_lao_status_but_lao_not_district(app, session, staff):
    task = lao_task(session, staff)
    district_page = client_for(app, staff.ms_head).get(f"/routing/tasks/{task.id}")
    assert district_page.status_code == 200
    assert "ลงรับแล้ว" in text_of(district_page)
    district_task = task_of(session, session.get(OfficialLetter, task.letter_id).parent, staff.ms_head)
    response = client_for(app, staff.lao_officer).get(f"/routing/tasks/{district_task.id}")
    assert response.status_code == 403


def test_rollup_counts_confirmed_and_exports(app, session, staff):
    task = lao_task(session, staff)
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_FORM)
    operations.approve_confirmation(session, staff.lao_exec, task.id)
    recipients = session.scalar(select(func.count()).where(RoutingTask.letter_id == task.letter_id))
    client = client_for(app, staff.ms_head)
    page = text_of(client.get(f"/routing/letters/{task.letter_id}/rollup"))
    assert f'id="count-confirmed">1/{recipients}<' in page
    assert "อำเภอแม่สาย" in page
    assert "เทศบาลตำบลห้วยไคร้" in page  # not confirmed yet

    sheet = load_workbook(io.BytesIO(client.get(f"/routing/letters/{task.letter_id}/answers.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("จังหวัด", "อำเภอ", "รหัส อปท.", "ชื่อ อปท.")
    assert len(rows) == recipients + 1
    confirmed = [row for row in rows if row[2] == "5570901"][0]
    assert confirmed[4] == "นายอนุชา แสงทอง"
    assert confirmed[6] == "053731234"
    assert confirmed[9] == "ยืนยันแล้ว"

    response = client.get(f"/routing/letters/{task.letter_id}/answers.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0][-1] == "สถานะ"
    assert len(lines) == recipients + 1


def test_rollup_refused_for_unrelated_office(app, session, staff):
    task = lao_task(session, staff)
    response = client_for(app, staff.pk_clerk).get(f"/routing/letters/{task.letter_id}/rollup")
    assert response.status_code == 403
    assert "จึงดูผลไม่ได้" in text_of(response)


def test_export_rejects_unknown_format(app, session, staff):
    task = lao_task(session, staff)
    response = client_for(app, staff.ms_head).get(f"/routing/letters/{task.letter_id}/answers.pdf")
    assert response.status_code == 400
    assert "ไม่รองรับรูปแบบไฟล์ pdf" in text_of(response)
