"""The admin screens through Flask's test client: holidays, delegations, staff and office settings.

Every refusal is checked for its Thai message, its HTTP status and an unchanged database.
Each test runs on SQLite and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from tests.conftest import TEST_PASSWORD
from workflow.models import User
from workflow.routing import admin
from workflow.routing.calendar import today_in_thailand
from workflow.routing.models import DeclaredHoliday, Delegation, OfficeSettings, StaffPosition
from workflow.routing.numbering import peek_number

ORDER = "คำสั่งสำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย ที่ 12/2570"


@pytest.fixture
def admins(session, users):
    """An admin of the Mae Sai district office and one of the Chiang Saen district office."""
    # A cheap hash, like the one `cheap_password_hashes` gives the other users. Tests sign these admins in by session.
    password_hash = generate_password_hash(TEST_PASSWORD, "pbkdf2:sha256:1000")
    return {
        "maesai": admin.create_staff_user(
            session, None, "wanphen", "นางวันเพ็ญ ศรีสุวรรณ", TEST_PASSWORD, "DIST-5709", "admin",
            password_hash=password_hash,
        ),
        "chiangsaen": admin.create_staff_user(
            session, None, "kittipong", "นายกิตติพงษ์ บุญมา", TEST_PASSWORD, "DIST-5707", "admin",
            password_hash=password_hash,
        ),
    }


def client_for(app, user):
    """Return a test client signed in as `user`, with its CSRF token at `client.csrf`."""
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = user.id
        web_session["csrf_token"] = "token-" + user.username
    client.csrf = "token-" + user.username
    return client


def post(client, path, **form):
    return client.post(path, data={"csrf_token": client.csrf, **form})


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


# --- access -----------------------------------------------------------------------------


def test_pages_redirect_anonymous_to_sign_in(app):
    response = app.test_client().get("/admin/holidays")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/admin/holidays", "/admin/delegations", "/admin/staff", "/admin/settings"])
@pytest.mark.parametrize("role", ["clerk", "supervisor", "officer"])
def test_pages_reject_non_admin_in_thai(app, users, path, role):
    response = client_for(app, users[role]).get(path)

    assert response.status_code == 403
    assert "ผู้ดูแลระบบ" in response.get_data(as_text=True)


def test_admin_link_shown_only_to_admins(app, users, admins):
    admin_page = client_for(app, admins["maesai"]).get("/routing/").get_data(as_text=True)
    clerk_page = client_for(app, users["clerk"]).get("/routing/").get_data(as_text=True)

    assert 'href="/admin/holidays"' in admin_page
    assert 'href="/admin/holidays"' not in clerk_page


# --- holidays ---------------------------------------------------------------------------


def test_holidays_lists_official_days_of_year(app, admins):
    page = client_for(app, admins["maesai"]).get("/admin/holidays?year=2570").get_data(as_text=True)

    assert "วันหยุดราชการ ปี พ.ศ. 2570" in page
    assert "13 เมษายน 2570" in page
    assert "วันสงกรานต์" in page
    assert "ชดเชยวันปิยมหาราช" in page


def test_add_holiday_from_thai_date(app, session, admins):
    client = client_for(app, admins["maesai"])

    response = post(client, "/admin/holidays", day="9 มี.ค. 2570", name_th="วันหยุดราชการเพิ่มเป็นกรณีพิเศษ")

    assert response.status_code == 302
    holiday = session.get(DeclaredHoliday, date(2027, 3, 9))
    assert holiday is not None
    assert holiday.name_th == "วันหยุดราชการเพิ่มเป็นกรณีพิเศษ"
    assert holiday.added_by_id == admins["maesai"].id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "เพิ่มวันหยุด “วันหยุดราชการเพิ่มเป็นกรณีพิเศษ” วันที่ 9 มีนาคม 2570 แล้ว" in page


def test_holiday_shows_effect_on_sample_deadline(app, session, admins):
    client = client_for(app, admins["maesai"])
    post(client, "/admin/holidays", day="9/3/2570", name_th="วันหยุดราชการเพิ่มเป็นกรณีพิเศษ")

    page = client.get("/admin/holidays?year=2570").get_data(as_text=True)

    # Two working days back from Wednesday 10 March skip the declared Tuesday.
    assert "กำหนด 2 วันทำการก่อนวันที่ 10 มีนาคม 2570 จะเป็นวันที่ 5 มีนาคม 2570" in page
    assert "ถ้าไม่มีวันหยุดนี้ จะเป็นวันที่ 8 มีนาคม 2570" in page


def test_holiday_sample_uses_office_lead_time(app, session, admins):
    admin.set_office_settings(session, None, "DIST-5709", internal_due_working_days=3)

    page = client_for(app, admins["maesai"]).get("/admin/holidays?year=2570").get_data(as_text=True)

    # Songkran is 13–15 April 2027, so the parent's due date is Friday 16 April.
    assert "กำหนด 3 วันทำการก่อนวันที่ 16 เมษายน 2570 จะเป็นวันที่ 8 เมษายน 2570" in page


def test_add_holiday_rejects_impossible_date(app, session, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/holidays", day="31 กุมภาพันธ์ 2570", name_th="วันหยุดพิเศษ")

    assert response.status_code == 400
    assert "อ่านวันที่หยุด “31 กุมภาพันธ์ 2570” ไม่ได้" in response.get_data(as_text=True)
    assert count(session, DeclaredHoliday) == 0


def test_add_holiday_rejects_missing_name(app, session, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/holidays", day="9 มีนาคม 2570", name_th="  ")

    assert response.status_code == 400
    assert "ต้องระบุชื่อวันหยุด" in response.get_data(as_text=True)
    assert count(session, DeclaredHoliday) == 0


def test_add_holiday_rejects_repeat(app, session, admins):
    client = client_for(app, admins["maesai"])
    post(client, "/admin/holidays", day="9 มีนาคม 2570", name_th="วันหยุดพิเศษ")

    response = post(client, "/admin/holidays", day="9/3/2570", name_th="วันหยุดพิเศษอีกครั้ง")

    assert response.status_code == 400
    assert "เป็นวันหยุดในระบบอยู่แล้ว" in response.get_data(as_text=True)
    assert count(session, DeclaredHoliday) == 1
    assert session.get(DeclaredHoliday, date(2027, 3, 9)).name_th == "วันหยุดพิเศษ"


def test_add_holiday_rejects_supervisor(app, session, users):
    response = post(client_for(app, users["supervisor"]), "/admin/holidays", day="9 มีนาคม 2570", name_th="วันหยุดพิเศษ")

    assert response.status_code == 403
    assert "บทบาทของท่านไม่มีสิทธิ์" in response.get_data(as_text=True)
    assert count(session, DeclaredHoliday) == 0


def test_add_holiday_keeps_form_after_refusal(app, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/holidays", day="32/3/2570", name_th="วันหยุดพิเศษ")

    page = response.get_data(as_text=True)
    assert 'value="32/3/2570"' in page
    assert 'value="วันหยุดพิเศษ"' in page


# --- delegations ------------------------------------------------------------------------


def delegation_form(delegate: User, **changes) -> dict:
    form = {
        "delegate_id": str(delegate.id),
        "capacity": "acting",
        "principal_position_th": "ท้องถิ่นอำเภอแม่สาย",
        "valid_from": "8 มีนาคม 2570",
        "valid_until": "12 มี.ค. 2570",
        "order_reference": ORDER,
    }
    form.update(changes)
    return form


def test_grant_delegation_records_order(app, session, users, admins):
    client = client_for(app, admins["maesai"])

    response = post(client, "/admin/delegations", **delegation_form(users["clerk"]))

    assert response.status_code == 302
    delegation = session.scalar(select(Delegation))
    assert delegation.delegate_id == users["clerk"].id
    assert delegation.capacity == "acting"
    assert delegation.principal_position_th == "ท้องถิ่นอำเภอแม่สาย"
    assert delegation.valid_from == date(2027, 3, 8)
    assert delegation.valid_until == date(2027, 3, 12)
    assert delegation.order_reference == ORDER
    assert delegation.granted_by_id == admins["maesai"].id


def test_delegations_list_shows_grant(app, session, users, admins):
    client = client_for(app, admins["maesai"])
    post(client, "/admin/delegations", **delegation_form(users["clerk"], capacity="on_behalf"))

    page = client.get("/admin/delegations").get_data(as_text=True)

    assert "นางสาวสมศรี ใจดี" in page
    assert "ปฏิบัติราชการแทน<br>ท้องถิ่นอำเภอแม่สาย" in page
    assert "8 มีนาคม 2570" in page
    assert "12 มีนาคม 2570" in page
    assert ORDER in page
    assert "ยังไม่ถึงวันเริ่ม" in page


def test_grant_delegation_rejects_end_before_start(app, session, users, admins):
    form = delegation_form(users["clerk"], valid_from="12 มีนาคม 2570", valid_until="8 มีนาคม 2570")

    response = post(client_for(app, admins["maesai"]), "/admin/delegations", **form)

    assert response.status_code == 400
    assert "วันสิ้นสุดการมอบอำนาจต้องไม่ก่อนวันเริ่มต้น" in response.get_data(as_text=True)
    assert count(session, Delegation) == 0


def test_grant_delegation_rejects_impossible_date(app, session, users, admins):
    form = delegation_form(users["clerk"], valid_until="30 กุมภาพันธ์ 2570")

    response = post(client_for(app, admins["maesai"]), "/admin/delegations", **form)

    assert response.status_code == 400
    assert "อ่านวันสิ้นสุด “30 กุมภาพันธ์ 2570” ไม่ได้" in response.get_data(as_text=True)
    assert count(session, Delegation) == 0


def test_grant_delegation_rejects_missing_order(app, session, users, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/delegations",
                    **delegation_form(users["clerk"], order_reference=""))

    assert response.status_code == 400
    assert "ต้องระบุตำแหน่งที่ปฏิบัติแทนและคำสั่งที่มอบอำนาจ" in response.get_data(as_text=True)
    assert count(session, Delegation) == 0


def test_grant_delegation_rejects_unknown_capacity(app, session, users, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/delegations",
                    **delegation_form(users["clerk"], capacity="self"))

    assert response.status_code == 400
    assert count(session, Delegation) == 0


def test_grant_delegation_rejects_user_of_other_office(app, session, users, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/delegations", **delegation_form(users["other_clerk"]))

    assert response.status_code == 403
    assert "มอบอำนาจได้เฉพาะผู้ใช้ในหน่วยงานของท่านเอง" in response.get_data(as_text=True)
    assert count(session, Delegation) == 0


def test_grant_delegation_rejects_clerk(app, session, users):
    response = post(client_for(app, users["clerk"]), "/admin/delegations", **delegation_form(users["clerk"]))

    assert response.status_code == 403
    assert count(session, Delegation) == 0


def test_delegations_list_hides_other_office(app, session, users, admins):
    post(client_for(app, admins["chiangsaen"]), "/admin/delegations",
         **delegation_form(users["other_clerk"], principal_position_th="ท้องถิ่นอำเภอเชียงแสน"))

    page = client_for(app, admins["maesai"]).get("/admin/delegations").get_data(as_text=True)

    assert count(session, Delegation) == 1
    assert "ท้องถิ่นอำเภอเชียงแสน" not in page
    assert "ยังไม่มีคำสั่งมอบอำนาจในหน่วยงานนี้" in page


# --- staff ------------------------------------------------------------------------------


def staff_form(**changes) -> dict:
    form = {
        "organization_code": "DIST-5709",
        "username": "kanokwan",
        "display_name": "นางสาวกนกวรรณ คำแก้ว",
        "role": "supervisor",
        "position_th": "ท้องถิ่นอำเภอแม่สาย",
        "password": "เริ่มต้น-2570",
    }
    form.update(changes)
    return form


def user_named(session, username: str) -> User | None:
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def test_staff_lists_users_with_roles_and_positions(app, session, users, admins):
    session.add(StaffPosition(user_id=users["supervisor"].id, position_th="ท้องถิ่นอำเภอแม่สาย"))
    session.commit()

    page = client_for(app, admins["maesai"]).get("/admin/staff").get_data(as_text=True)

    assert "นายประเสริฐ วงศ์คำ" in page
    assert "ท้องถิ่นอำเภอแม่สาย" in page
    assert "ผู้บังคับบัญชา" in page
    assert "นายอนุชา แสงทอง" in page  # an officer of a municipality under Mae Sai
    assert "นางมาลี ศรีสุข" not in page  # a clerk of Chiang Saen


def test_create_staff_with_position(app, session, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/staff", **staff_form())

    assert response.status_code == 302
    user = user_named(session, "kanokwan")
    assert user.display_name == "นางสาวกนกวรรณ คำแก้ว"
    assert user.role == "supervisor"
    assert user.organization.code == "DIST-5709"
    assert admin.position_of(session, user) == "ท้องถิ่นอำเภอแม่สาย"


def test_created_staff_signs_in_with_initial_password(app, session, admins):
    post(client_for(app, admins["maesai"]), "/admin/staff", **staff_form())

    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as web_session:
        token = web_session["csrf_token"]
    response = client.post("/login", data={"username": "kanokwan", "password": "เริ่มต้น-2570", "csrf_token": token})

    assert response.status_code == 302


def test_create_staff_in_subordinate_office(app, session, admins):
    form = staff_form(organization_code="5570903", role="clerk", position_th="", username="wiang.clerk")

    response = post(client_for(app, admins["maesai"]), "/admin/staff", **form)

    assert response.status_code == 302
    assert user_named(session, "wiang.clerk").organization.code == "5570903"


def test_create_staff_rejects_other_office(app, session, admins):
    before = count(session, User)

    response = post(client_for(app, admins["maesai"]), "/admin/staff", **staff_form(organization_code="DIST-5707"))

    assert response.status_code == 403
    assert "ได้เฉพาะหน่วยงานของตนและหน่วยงานในสังกัด" in response.get_data(as_text=True)
    assert count(session, User) == before
    assert user_named(session, "kanokwan") is None


def test_create_staff_rejects_supervisor_without_position(app, session, admins):
    before = count(session, User)

    response = post(client_for(app, admins["maesai"]), "/admin/staff", **staff_form(position_th=""))

    assert response.status_code == 400
    assert "ผู้บังคับบัญชาต้องมีตำแหน่ง" in response.get_data(as_text=True)
    assert count(session, User) == before


def test_create_staff_rejects_taken_username(app, session, users, admins):
    before = count(session, User)

    response = post(client_for(app, admins["maesai"]), "/admin/staff", **staff_form(username="somsri"))

    assert response.status_code == 400
    assert "ชื่อผู้ใช้ “somsri” มีอยู่แล้ว" in response.get_data(as_text=True)
    assert count(session, User) == before
    assert user_named(session, "somsri").display_name == "นางสาวสมศรี ใจดี"


def test_create_staff_rejects_supervisor_actor(app, session, users):
    before = count(session, User)

    response = post(client_for(app, users["supervisor"]), "/admin/staff", **staff_form())

    assert response.status_code == 403
    assert count(session, User) == before


# --- office settings and registers --------------------------------------------------------


def test_settings_save_doc_prefix_and_days(app, session, admins):
    client = client_for(app, admins["maesai"])

    response = post(client, "/admin/settings?org=DIST-5709", doc_prefix="ชร 0023.20",
                    internal_due_working_days="๓", reminder_working_days="3, 1, 0")

    assert response.status_code == 302
    session.expire_all()
    settings = session.get(OfficeSettings, admins["maesai"].organization_id)
    assert settings.doc_prefix == "ชร 0023.20"
    assert settings.internal_due_working_days == 3
    assert settings.reminder_working_days == [3, 1, 0]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="ชร 0023.20"' in page


def test_settings_rejects_bad_doc_prefix(app, session, admins):
    admin.set_office_settings(session, None, "DIST-5709", doc_prefix="ชร 0023.20")

    response = post(client_for(app, admins["maesai"]), "/admin/settings", doc_prefix="ชร0023/20",
                    internal_due_working_days="5")

    assert response.status_code == 400
    assert "รหัสหนังสือ “ชร0023/20” ไม่ถูกรูปแบบ" in response.get_data(as_text=True)
    session.expire_all()
    settings = session.get(OfficeSettings, admins["maesai"].organization_id)
    assert settings.doc_prefix == "ชร 0023.20"
    assert settings.internal_due_working_days == 2


def test_settings_rejects_lead_time_over_limit(app, session, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/settings", internal_due_working_days="45")

    assert response.status_code == 400
    assert "ต้องอยู่ระหว่าง 0 ถึง 30 วัน" in response.get_data(as_text=True)
    assert count(session, OfficeSettings) == 0


def test_settings_rejects_unreadable_reminder_days(app, session, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/settings", reminder_working_days="สองวัน")

    assert response.status_code == 400
    assert "วันแจ้งเตือนต้องเป็นตัวเลขคั่นด้วยจุลภาค" in response.get_data(as_text=True)
    assert count(session, OfficeSettings) == 0


def test_settings_rejects_office_outside_admin_area(app, session, admins):
    client = client_for(app, admins["maesai"])

    page_response = client.get("/admin/settings?org=DIST-5707")
    response = post(client, "/admin/settings?org=DIST-5707", doc_prefix="ชร 0023.18")

    assert page_response.status_code == 404
    assert response.status_code == 404
    assert "ไม่พบหน่วยงานรหัส DIST-5707 ในหน่วยงานที่ท่านดูแล" in response.get_data(as_text=True)
    assert count(session, OfficeSettings) == 0


def test_open_register_mid_year(app, session, admins):
    client = client_for(app, admins["maesai"])
    organization_id = admins["maesai"].organization_id

    response = post(client, "/admin/settings/register", register="receipt", next_number="1245")

    assert response.status_code == 302
    year = today_in_thailand().year
    session.expire_all()
    assert peek_number(session, organization_id, "receipt", year) == 1245
    assert peek_number(session, organization_id, "circular", year) == 1


def test_open_register_rejects_zero(app, session, admins):
    response = post(client_for(app, admins["maesai"]), "/admin/settings/register", register="receipt",
                    next_number="0")

    assert response.status_code == 400
    assert "เลขเริ่มต้นต้องมากกว่า 0" in response.get_data(as_text=True)


def test_open_register_rejects_register_in_use(app, session, admins):
    client = client_for(app, admins["maesai"])
    post(client, "/admin/settings/register", register="circular", next_number="40")

    response = post(client, "/admin/settings/register", register="circular", next_number="4")

    assert response.status_code == 409
    assert "ตั้งเลขเริ่มต้นใหม่ไม่ได้" in response.get_data(as_text=True)
    session.expire_all()
    assert peek_number(session, admins["maesai"].organization_id, "circular", today_in_thailand().year) == 40


def test_open_register_rejects_clerk(app, session, users):
    response = post(client_for(app, users["other_clerk"]), "/admin/settings/register", register="receipt",
                    next_number="100")

    assert response.status_code == 403
    assert peek_number(session, users["other_clerk"].organization_id, "receipt", today_in_thailand().year) == 1
