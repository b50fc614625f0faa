"""A circular from Chiang Rai through Mae Sai to an LAO, driven only through `/api/v1` with API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workflow import apitokens, operations
from workflow.routing import operations as routing
from workflow.routing.calendar import today_in_thailand
from workflow.routing.models import Endorsement, Receipt

from tests.conftest import TEST_PASSWORD

SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
OFFICER_FORM = {
    "officer_name": "นายอนุชา แสงทอง",
    "position": "นักวิชาการสิ่งแวดล้อม",
    "phone": "0537312345",
    "email": "anucha@wiangphangkham.go.th",
}


@pytest.fixture
def chain(session, users):
    """Users of the chain, a token for each, and the Chiang Rai circular delivered to Mae Sai."""
    people = dict(users)
    people["province_head"] = operations.create_user(session, "thanasak", "นายธนศักดิ์ ใจใส", TEST_PASSWORD,
                                                     "PROV-57", "supervisor")
    people["lao_clerk"] = operations.create_user(session, "kanya", "นางสาวกัญญา ดวงดี", TEST_PASSWORD,
                                                 "5570903", "clerk")
    people["lao_head"] = operations.create_user(session, "wichai", "นายวิชัย คำมา", TEST_PASSWORD,
                                                "5570903", "supervisor")
    issued = routing.issue_circular(
        session, people["province_head"], subject=SUBJECT, recipient_codes=["DIST-5709"],
        due_nominal=today_in_thailand() + timedelta(days=30),
        confirmation_form=list(routing.CARBON_CREDIT_CONFIRMATION_FORM),
    )
    tokens = {
        key: apitokens.create_token(session, user.username, f"ระบบ e-office ของ{user.display_name}", "test").token
        for key, user in people.items()
    }
    return {"users": people, "tokens": tokens, "letter_id": issued.letter.id}


def call(app, chain, who: str, method: str, path: str, **kwargs):
    headers = {"Authorization": f"Bearer {chain['tokens'][who]}"}
    return app.test_client().open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_circular_through_api(app, session, chain):
    inbox = call(app, chain, "clerk", "GET", "/routing/inbox")
    assert inbox.status_code == 200
    assert len(inbox.json["tasks"]) == 1
    task = inbox.json["tasks"][0]
    assert task["letter"]["subject"] == SUBJECT
    assert task["state"] == "delivered"
    task_id = task["task_id"]

    received = call(app, chain, "clerk", "POST", f"/routing/tasks/{task_id}/receive", json={"channel": "system"})
    assert received.status_code == 201, received.json
    assert received.json["task"]["state"] == "received"
    assert received.json["receipt"]["number_th"] == f"1/{today_in_thailand().year + 543}"
    again = call(app, chain, "clerk", "POST", f"/routing/tasks/{task_id}/receive", json={})
    assert again.status_code == 200
    assert again.json["created"] is False
    assert again.json["receipt"]["number"] == 1

    endorsed = call(app, chain, "supervisor", "POST", f"/routing/tasks/{task_id}/endorse",
                    json={"decisions": ["ทราบ", "แจ้งเวียน"], "note": "แจ้ง อปท. ในสังกัดทราบและดำเนินการ"})
    assert endorsed.status_code == 200, endorsed.json
    assert endorsed.json["task"]["state"] == "endorsed"

    forwarded = call(app, chain, "supervisor", "POST", f"/routing/tasks/{task_id}/forward",
                     json={"recipient_codes": ["5570903"]})
    assert forwarded.status_code == 201, forwarded.json
    assert forwarded.json["task_count"] == 1
    assert forwarded.json["task"]["state"] == "forwarded"
    child_letter = forwarded.json["issued_letter"]
    assert child_letter["parent_letter_id"] == chain["letter_id"]

    lao_inbox = call(app, chain, "lao_clerk", "GET", "/routing/inbox")
    lao_task_id = lao_inbox.json["tasks"][0]["task_id"]
    assert call(app, chain, "lao_clerk", "POST", f"/routing/tasks/{lao_task_id}/receive").status_code == 201
    assigned = call(app, chain, "lao_head", "POST", f"/routing/tasks/{lao_task_id}/assign",
                    json={"assignee_id": chain["users"]["officer"].id, "note": "มอบผู้รับผิดชอบบัญชีคาร์บอนเครดิต"})
    assert assigned.status_code == 200, assigned.json
    assert assigned.json["task"]["assignee_id"] == chain["users"]["officer"].id
    confirmed = call(app, chain, "officer", "POST", f"/routing/tasks/{lao_task_id}/confirm",
                     json={"values": OFFICER_FORM})
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["task"]["confirmation"] == OFFICER_FORM
    approved = call(app, chain, "lao_head", "POST", f"/routing/tasks/{lao_task_id}/approve", json={})
    assert approved.status_code == 200, approved.json
    assert approved.json["task"]["state"] == "reported"

    rollup = call(app, chain, "province_head", "GET", f"/routing/letters/{chain['letter_id']}/rollup")
    assert rollup.status_code == 200, rollup.json
    assert rollup.json["recipients"] == 1
    assert rollup.json["confirmed"] == 1

    detail = call(app, chain, "supervisor", "GET", f"/routing/tasks/{task_id}")
    assert detail.status_code == 200
    assert [event["kind"] for event in detail.json["events"]] == ["delivered", "received", "endorsed", "forwarded"]
    assert detail.json["endorsements"][0]["decisions"] == ["ทราบ", "แจ้งเวียน"]


def test_other_office_cannot_act_on_task(app, session, chain):
    task_id = call(app, chain, "clerk", "GET", "/routing/inbox").json["tasks"][0]["task_id"]
    receipts_before = count(session, Receipt)

    for path in (f"/routing/tasks/{task_id}", f"/routing/letters/{chain['letter_id']}/rollup"):
        response = call(app, chain, "other_clerk", "GET", path)
        assert response.status_code in (403, 404), path
    received = call(app, chain, "other_clerk", "POST", f"/routing/tasks/{task_id}/receive", json={})
    assert received.status_code in (403, 404)
    assert received.json["error"]["message"]
    assert count(session, Receipt) == receipts_before
    assert call(app, chain, "other_clerk", "GET", "/routing/inbox").json["tasks"] == []


def test_refused_action_changes_nothing(app, session, chain):
    task_id = call(app, chain, "clerk", "GET", "/routing/inbox").json["tasks"][0]["task_id"]
    call(app, chain, "clerk", "POST", f"/routing/tasks/{task_id}/receive", json={})

    by_clerk = call(app, chain, "clerk", "POST", f"/routing/tasks/{task_id}/endorse", json={"decisions": ["ทราบ"]})
    assert by_clerk.status_code == 403
    assert by_clerk.json["error"]["message"]
    unknown_word = call(app, chain, "supervisor", "POST", f"/routing/tasks/{task_id}/endorse",
                        json={"decisions": ["ลุยเลย"]})
    assert unknown_word.status_code == 400
    assert unknown_word.json["error"]["code"] == "invalid_decision"
    not_a_list = call(app, chain, "supervisor", "POST", f"/routing/tasks/{task_id}/endorse",
                      json={"decisions": "ทราบ"})
    assert not_a_list.status_code == 400
    assert not_a_list.json["error"]["code"] == "invalid_value"
    bad_moment = call(app, chain, "clerk", "POST", f"/routing/tasks/{task_id}/receive",
                      json={"received_at": "3 เมษายน 2568"})
    assert bad_moment.status_code == 400
    assert count(session, Endorsement) == 0
    assert count(session, Receipt) == 1
