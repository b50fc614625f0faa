"""Registering a letter from an uploaded file on the routing screens, and who may open that file afterwards.

The Mae Sai district office uploads the Chiang Rai circular, registers it from the parsed
letter on `/routing/receive`, and forwards it to its LAO. The LAO's staff may then open the
district's file from their task; an LAO under another district may not.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PROVINCE_LETTER_TEXT, TEST_PASSWORD, province_letter
from tests.test_web import csrf_from, sign_in
from workflow import apitokens, operations
from workflow.models import JOB_DONE, ORG_LAO, Organization
from workflow.routing import operations as routing
from workflow.routing.calendar import today_in_thailand
from workflow.routing.models import (
    EVENT_DELIVERED,
    EVENT_ENDORSED,
    EVENT_FORWARDED,
    EVENT_RECEIVED,
    OfficialLetter,
    Receipt,
    RoutingTask,
    TaskEvent,
)
from workflow.routing.stored_state import find_differences
from workflow.thaidate import format_be_date

SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
DENIED_TH = "ไม่มีสิทธิ์เข้าถึงเอกสารนี้"
# The receipt stamp of the forwarding tests, the day after the letter's date.
STAMP = {"received_on": "3 เม.ย. 2568", "received_time": "09:30"}


@pytest.fixture
def client(app, users):
    return app.test_client()


@pytest.fixture
def lao_clerks(session, users):
    """A clerk of Wiang Phang Kham (under Mae Sai) and one of an LAO under Chiang Saen."""
    chiang_saen = session.scalar(select(Organization).where(Organization.code == "DIST-5707"))
    session.add(Organization(code="5570701", kind=ORG_LAO, lao_type="subdistrict_municipality", province_code="57",
                             district_code="5707", name_th="เทศบาลตำบลเวียงเชียงแสน", parent=chiang_saen))
    session.commit()
    return {
        "below": operations.create_user(session, "kanya", "นางสาวกัญญา ดวงดี", TEST_PASSWORD, "5570903", "clerk"),
        "elsewhere": operations.create_user(session, "pranee", "นางปราณี แก้วใส", TEST_PASSWORD, "5570701", "clerk"),
    }


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def page_text(response) -> str:
    return response.get_data(as_text=True)


def register(client, letter_id: int, **fields):
    token = csrf_from(page_text(client.get(f"/routing/receive?letter={letter_id}")))
    data = {"csrf_token": token, "letter": str(letter_id), "channel": "paper", "remarks": "รับทางไปรษณีย์"}
    data.update(fields)
    return client.post("/routing/receive", data=data)


def registered_letter(session, source_letter_id: int) -> OfficialLetter | None:
    session.expire_all()
    return session.scalar(select(OfficialLetter).where(OfficialLetter.source_letter_id == source_letter_id))


def test_register_page_lists_uploaded_letter(client, stored_letter):
    sign_in(client)
    listing = page_text(client.get("/routing/"))
    assert 'href="/routing/receive"' in listing

    page = page_text(client.get("/routing/receive"))
    assert "ชร 0023.6/ว 3200" in page
    assert SUBJECT in page
    assert f"/routing/receive?letter={stored_letter.id}" in page

    picked = page_text(client.get(f"/routing/receive?letter={stored_letter.id}"))
    assert 'name="letter" value="%d"' % stored_letter.id in picked
    assert "ศาลากลางจังหวัดเชียงราย" in picked
    assert "2 เมษายน 2568" in picked


def test_register_sets_source_letter(client, session, stored_letter):
    sign_in(client)
    response = register(client, stored_letter.id)
    assert response.status_code == 302, page_text(response)

    letter = registered_letter(session, stored_letter.id)
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == letter.id))
    assert response.headers["Location"].endswith(f"/routing/tasks/{task.id}")
    assert letter is not None
    assert letter.doc_number == "ชร 0023.6/ว 3200"
    assert letter.subject == SUBJECT
    assert letter.letter_date == date(2025, 4, 2)
    receipt = session.scalar(select(Receipt).where(Receipt.letter_id == letter.id))
    assert receipt.channel == "paper"
    assert receipt.sender_text == "ศาลากลางจังหวัดเชียงราย"
    assert receipt.remarks == "รับทางไปรษณีย์"
    assert receipt.number == 1

    followed = page_text(client.get("/routing/receive"))
    assert "ลงรับหนังสือแล้ว เลขรับ 1/" in followed
    # A registered letter leaves the list of letters waiting for registration.
    assert f"/routing/receive?letter={stored_letter.id}" not in followed


def test_register_twice_keeps_number(client, session, stored_letter):
    sign_in(client)
    assert register(client, stored_letter.id).status_code == 302
    again = register(client, stored_letter.id, channel="email")
    assert again.status_code == 302
    assert count(session, Receipt) == 1
    assert count(session, OfficialLetter) == 1
    assert "ลงรับไว้แล้ว เลขรับ 1/" in page_text(client.get("/routing/receive"))


def test_forwarded_file_opens_below_only(client, session, users, lao_clerks, stored_letter):
    sign_in(client)
    assert register(client, stored_letter.id, **STAMP).status_code == 302
    letter = registered_letter(session, stored_letter.id)
    receipt = session.scalar(select(Receipt).where(Receipt.letter_id == letter.id))
    routing.endorse(session, users["supervisor"], receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้ง อปท. ในสังกัดดำเนินการ",
                    on_date=date(2025, 4, 3))
    forwarded = routing.forward_circular(session, users["supervisor"], letter.id, issued_on=date(2025, 4, 4))
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == forwarded.letter.id))
    document_id = stored_letter.document_id

    below = client.application.test_client()
    sign_in(below, username="kanya")
    task_page = page_text(below.get(f"/routing/tasks/{task.id}"))
    assert f'href="/documents/{document_id}"' in task_page
    assert "ชร-ว3200.txt" in task_page
    assert "สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย" in task_page
    opened = below.get(f"/documents/{document_id}")
    assert opened.status_code == 200
    assert SUBJECT in page_text(opened)
    assert below.get(f"/documents/{document_id}/original").status_code == 200

    elsewhere = client.application.test_client()
    sign_in(elsewhere, username="pranee")
    refused = elsewhere.get(f"/documents/{document_id}")
    assert refused.status_code == 403
    assert DENIED_TH in page_text(refused)
    assert elsewhere.get(f"/documents/{document_id}/original").status_code == 403


@pytest.fixture
def secret_letter(session, store, users):
    """The Chiang Rai letter marked `ลับ`, uploaded by the Mae Sai clerk and parsed."""
    letter = province_letter()
    letter["secrecy"] = "secret"
    ingested = operations.ingest_upload(session, store, PROVINCE_LETTER_TEXT.encode("utf-8"), "ชร-ว3200-ลับ.txt",
                                        users["clerk"], 1024 * 1024)
    operations.add_letters(ingested.document, {"letters": [letter]})
    ingested.job.status = JOB_DONE
    session.commit()
    return ingested.document.letters[0]


def test_secret_file_link_only_for_clerks(client, session, users, lao_clerks, secret_letter):
    stored_letter = secret_letter
    sign_in(client)
    assert register(client, stored_letter.id, **STAMP).status_code == 302
    letter = registered_letter(session, stored_letter.id)
    receipt = session.scalar(select(Receipt).where(Receipt.letter_id == letter.id))
    routing.endorse(session, users["supervisor"], receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้ง อปท. ในสังกัด",
                    on_date=date(2025, 4, 3))
    forwarded = routing.forward_circular(session, users["supervisor"], letter.id, issued_on=date(2025, 4, 4))
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == forwarded.letter.id))

    officer = client.application.test_client()
    sign_in(officer, username="anucha")
    task_page = page_text(officer.get(f"/routing/tasks/{task.id}"))
    assert f'href="/documents/{stored_letter.document_id}"' not in task_page
    assert officer.get(f"/documents/{stored_letter.document_id}").status_code == 403

    clerk_below = client.application.test_client()
    sign_in(clerk_below, username="kanya")
    assert f'href="/documents/{stored_letter.document_id}"' in page_text(clerk_below.get(f"/routing/tasks/{task.id}"))


def test_other_office_cannot_register_file(client, session, users, stored_letter):
    sign_in(client, username="malee")
    page = client.get(f"/routing/receive?letter={stored_letter.id}")
    assert page.status_code == 403
    assert "source_letter_other_office" in page_text(page)
    assert SUBJECT not in page_text(page)

    token = csrf_from(page_text(client.get("/routing/receive")))
    response = client.post("/routing/receive", data={"csrf_token": token, "letter": str(stored_letter.id),
                                                     "channel": "paper"})
    assert response.status_code == 403
    assert "ลงรับจากเอกสารได้เฉพาะเอกสารที่หน่วยงานของท่านอัปโหลดเอง" in page_text(response)
    assert count(session, Receipt) == 0
    assert count(session, OfficialLetter) == 0


def test_document_page_links_register_for_clerks(client, session, stored_letter):
    link = f'href="/routing/receive?letter={stored_letter.id}"'
    sign_in(client)
    assert link in page_text(client.get(f"/documents/{stored_letter.document_id}"))

    operations.create_user(session, "somchai", "นายสมชาย ดีมาก", TEST_PASSWORD, "DIST-5709", "officer")
    client.post("/logout", data={"csrf_token": csrf_from(page_text(client.get("/documents")))})
    sign_in(client, username="somchai")
    officer_page = client.get(f"/documents/{stored_letter.document_id}")
    assert officer_page.status_code == 200
    assert link not in page_text(officer_page)


def test_officer_cannot_register(client, session, stored_letter):
    operations.create_user(session, "somchai", "นายสมชาย ดีมาก", TEST_PASSWORD, "DIST-5709", "officer")
    sign_in(client, username="somchai")
    page = page_text(client.get(f"/routing/receive?letter={stored_letter.id}"))
    assert "ลงรับหนังสือได้เฉพาะเจ้าหน้าที่สารบรรณและหัวหน้างาน" in page
    token = csrf_from(page_text(client.get("/routing/receive")))
    response = client.post("/routing/receive", data={"csrf_token": token, "letter": str(stored_letter.id),
                                                     "channel": "paper"})
    assert response.status_code == 403
    assert count(session, Receipt) == 0
    assert count(session, OfficialLetter) == 0


@pytest.mark.parametrize(("fields", "code"), [
    ({"channel": "system"}, "invalid_channel"),
    ({"letter": ""}, "missing_source_letter"),
    ({"letter": "๑๒"}, "invalid_source_letter"),
    ({"letter": "999999"}, "source_letter_not_found"),
    ({"received_on": "31 ก.พ. 2568"}, "invalid_date"),
])
def test_register_rejects_bad_input(client, session, stored_letter, fields, code):
    sign_in(client)
    response = register(client, stored_letter.id, **fields)
    assert response.status_code in (400, 404)
    assert code in page_text(response)
    assert count(session, Receipt) == 0
    assert count(session, OfficialLetter) == 0


def test_api_rejects_source_of_other_office(app, session, users, stored_letter):
    token = apitokens.create_token(session, "malee", "ระบบ e-office อำเภอเชียงแสน", "test").token
    letter = operations.letter_result(stored_letter)
    letter["source_letter_id"] = stored_letter.id
    response = app.test_client().post("/api/v1/routing/receipts", headers={"Authorization": f"Bearer {token}"},
                                      json={"channel": "paper", "letter": letter})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "source_letter_other_office"
    assert count(session, Receipt) == 0
    assert count(session, OfficialLetter) == 0


def test_api_links_own_source_letter(app, session, users, stored_letter):
    token = apitokens.create_token(session, "somsri", "ระบบ e-office อำเภอแม่สาย", "test").token
    client = app.test_client()
    result = client.get(f"/api/v1/documents/{stored_letter.document_id}", headers={"Authorization": f"Bearer {token}"})
    letter = result.json["letters"][0]
    assert letter["letter_id"] == stored_letter.id
    letter["source_letter_id"] = letter["letter_id"]
    response = client.post("/api/v1/routing/receipts", headers={"Authorization": f"Bearer {token}"},
                           json={"channel": "email", "letter": letter})
    assert response.status_code == 201, response.json
    assert registered_letter(session, stored_letter.id).id == response.json["letter"]["letter_id"]
    task = session.get(RoutingTask, response.json["task_id"])
    assert task.letter_id == response.json["letter"]["letter_id"]
    assert task.recipient_org_id == users["clerk"].organization_id
    assert task.state == EVENT_RECEIVED


@pytest.mark.parametrize("value", ["12", True, 0, 2**31])
def test_api_rejects_invalid_source_letter(app, session, users, stored_letter, value):
    token = apitokens.create_token(session, "somsri", "ระบบ e-office อำเภอแม่สาย", "test").token
    letter = operations.letter_result(stored_letter)
    letter["source_letter_id"] = value
    response = app.test_client().post("/api/v1/routing/receipts", headers={"Authorization": f"Bearer {token}"},
                                      json={"channel": "paper", "letter": letter})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_source_letter"
    assert count(session, Receipt) == 0


def event_kinds(session, task_id: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(TaskEvent.kind).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)))


def test_registered_letter_endorsed_and_forwarded(client, session, users, lao_clerks, stored_letter):
    sign_in(client)
    response = register(client, stored_letter.id, **STAMP)
    assert response.status_code == 302, page_text(response)
    letter = registered_letter(session, stored_letter.id)
    office_id = users["clerk"].organization_id
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == letter.id))
    assert task is not None
    assert task.recipient_org_id == office_id
    assert task.sender_org_id == office_id
    assert task.state == EVENT_RECEIVED
    assert event_kinds(session, task.id) == [EVENT_DELIVERED, EVENT_RECEIVED]
    assert response.headers["Location"].endswith(f"/routing/tasks/{task.id}")
    task_page = page_text(client.get(f"/routing/tasks/{task.id}"))
    assert SUBJECT in task_page
    assert "ลงรับแล้ว" in task_page

    head = client.application.test_client()
    sign_in(head, username="prasert")
    token = csrf_from(page_text(head.get(f"/routing/tasks/{task.id}")))
    endorsed = head.post(f"/routing/tasks/{task.id}/endorse", data={
        "csrf_token": token, "decisions": ["ทราบ", "แจ้งเวียน"], "note": "แจ้ง อปท. ในสังกัดดำเนินการ",
    })
    assert endorsed.status_code == 302, page_text(endorsed)
    assert event_kinds(session, task.id)[-1] == EVENT_ENDORSED

    # The letter's own deadline has passed by the time the test runs, so the form gives one ahead.
    due = today_in_thailand() + timedelta(days=30)
    forward_page = page_text(head.get(f"/routing/tasks/{task.id}"))
    assert 'name="recipients" value="5570903"' in forward_page
    forwarded = head.post(f"/routing/tasks/{task.id}/forward", data={
        "csrf_token": csrf_from(forward_page), "recipients": ["5570903"], "due": format_be_date(due),
    })
    assert forwarded.status_code == 302, page_text(forwarded)
    assert event_kinds(session, task.id)[-1] == EVENT_FORWARDED

    circular = session.scalar(select(OfficialLetter).where(OfficialLetter.parent_letter_id == letter.id))
    assert circular is not None
    assert circular.issuer_org_id == office_id
    lao_task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == circular.id))
    assert lao_task.recipient_org_id == lao_clerks["below"].organization_id
    assert lao_task.state == EVENT_DELIVERED
    assert lao_task.due_effective is not None

    below = client.application.test_client()
    sign_in(below, username="kanya")
    lao_page = below.get(f"/routing/tasks/{lao_task.id}")
    assert lao_page.status_code == 200
    assert SUBJECT in page_text(lao_page)

    differences = find_differences(session)
    assert differences.states == 0
    assert differences.marks == 0
    assert differences.counts == 0


def test_repeat_registration_adds_no_task(client, session, stored_letter):
    sign_in(client)
    first = register(client, stored_letter.id)
    again = register(client, stored_letter.id, channel="email")
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert count(session, RoutingTask) == 1
    assert find_differences(session).counts == 0
