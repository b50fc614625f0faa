"""`/api/v1/routing/inbox` a page at a time, and `/api/v1/documents/<id>/retry` of a failed parse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PROVINCE_LETTER_TEXT, TEST_PASSWORD
from workflow import apitokens, jobs, operations
from workflow.models import ParseJob
from workflow.routing import operations as routing
from workflow.routing.calendar import today_in_thailand

SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"


def token_for(session, user) -> str:
    return apitokens.create_token(session, user.username, f"ระบบ e-office ของ{user.display_name}", "test").token


def call(app, token: str, method: str, path: str, **kwargs):
    return app.test_client().open(f"/api/v1{path}", method=method,
                                  headers={"Authorization": f"Bearer {token}"}, **kwargs)


# --- inbox pages ------------------------------------------------------------------------


@pytest.fixture
def province_head(session, users):
    return operations.create_user(session, "thanasak", "นายธนศักดิ์ ใจใส", TEST_PASSWORD, "PROV-57", "supervisor")


def issue_to_mae_sai(session, province_head, count: int) -> None:
    """Issue `count` circulars from Chiang Rai to Mae Sai, numbered in their subjects from 1."""
    for number in range(1, count + 1):
        routing.issue_circular(
            session, province_head, subject=f"{SUBJECT} ครั้งที่ {number}", recipient_codes=["DIST-5709"],
            due_nominal=today_in_thailand() + timedelta(days=30),
        )


def test_inbox_lists_fifty_a_page(app, session, users, province_head):
    issue_to_mae_sai(session, province_head, 52)
    token = token_for(session, users["clerk"])

    first = call(app, token, "GET", "/routing/inbox")
    assert first.status_code == 200, first.json
    assert first.json["page"] == 1
    assert first.json["pages"] == 2
    assert first.json["total"] == 52
    assert len(first.json["tasks"]) == 50
    assert first.json["tasks"][0]["letter"]["subject"] == f"{SUBJECT} ครั้งที่ 52"

    second = call(app, token, "GET", "/routing/inbox?page=2")
    assert second.status_code == 200
    assert second.json["page"] == 2
    assert [task["letter"]["subject"] for task in second.json["tasks"]] == [
        f"{SUBJECT} ครั้งที่ 2", f"{SUBJECT} ครั้งที่ 1",
    ]
    first_ids = {task["task_id"] for task in first.json["tasks"]}
    assert first_ids.isdisjoint(task["task_id"] for task in second.json["tasks"])

    past_end = call(app, token, "GET", "/routing/inbox?page=9")
    assert past_end.status_code == 200
    assert past_end.json["page"] == 2


def test_inbox_task_keeps_receipt_number(app, session, users, province_head):
    issue_to_mae_sai(session, province_head, 1)
    token = token_for(session, users["clerk"])
    task_id = call(app, token, "GET", "/routing/inbox").json["tasks"][0]["task_id"]
    received = call(app, token, "POST", f"/routing/tasks/{task_id}/receive", json={"channel": "paper"})
    assert received.status_code == 201, received.json

    listed = call(app, token, "GET", "/routing/inbox").json["tasks"][0]
    assert listed["state"] == "received"
    assert listed["receipt_number"] == 1
    assert listed["received_on"] == today_in_thailand().isoformat()


@pytest.mark.parametrize("raw", ["0", "-1", "สอง", "1.5", "100001"])
def test_inbox_rejects_invalid_page(app, session, users, raw):
    response = call(app, token_for(session, users["clerk"]), "GET", "/routing/inbox", query_string={"page": raw})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_page"
    assert "เลขหน้า" in response.json["error"]["message"]


def test_inbox_of_other_office_is_empty(app, session, users, province_head):
    issue_to_mae_sai(session, province_head, 3)
    response = call(app, token_for(session, users["other_clerk"]), "GET", "/routing/inbox")
    assert response.status_code == 200
    assert response.json["total"] == 0
    assert response.json["pages"] == 1
    assert response.json["tasks"] == []


# --- retry of a failed parse --------------------------------------------------------------


def timed_out_document(session, store, user):
    """Upload the Chiang Rai letter and end its parse the way a job over its time limit ends."""

    def parse_past_limit(data, filename, **options):
        raise operations.ParseTimedOut(600)

    data = PROVINCE_LETTER_TEXT.encode("utf-8")
    ingested = operations.ingest_upload(session, store, data, "ชร-ว3200-สแกน.txt", user, 1024 * 1024)
    operations.run_parse(session, store, ingested.job.id, max_bytes=1024 * 1024, parse=parse_past_limit)
    return ingested.document


def job_statuses(session, document_id: int) -> list[str]:
    session.expire_all()
    query = select(ParseJob.status).where(ParseJob.document_id == document_id).order_by(ParseJob.created_at)
    return list(session.scalars(query))


def test_retry_requeues_timed_out_parse(app, session, store, users):
    document = timed_out_document(session, store, users["clerk"])
    failed_job_id = document.latest_job.id
    token = token_for(session, users["supervisor"])

    response = call(app, token, "POST", f"/documents/{document.id}/retry")
    assert response.status_code == 202, response.json
    assert response.json["document_id"] == document.id
    assert response.json["job"]["status"] == "queued"
    assert response.json["job"]["job_id"] != failed_job_id
    jobs.thread_worker(app).wait_until_idle()

    assert job_statuses(session, document.id) == ["failed", "done"]
    parsed = call(app, token, "GET", f"/documents/{document.id}")
    assert parsed.json["status"] == "done"
    assert parsed.json["letters"][0]["issuer"] == "ศาลากลางจังหวัดเชียงราย"


def test_retry_of_parsed_document_conflicts(app, session, users, stored_letter):
    document_id = stored_letter.document_id
    response = call(app, token_for(session, users["clerk"]), "POST", f"/documents/{document_id}/retry")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "job_not_failed"
    assert "สั่งอ่านใหม่ไม่ได้" in response.json["error"]["message"]
    assert job_statuses(session, document_id) == ["done"]


def test_retry_by_other_office_denied(app, session, store, users):
    document = timed_out_document(session, store, users["clerk"])
    response = call(app, token_for(session, users["other_clerk"]), "POST", f"/documents/{document.id}/retry")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "document_access_denied"
    assert job_statuses(session, document.id) == ["failed"]


def test_retry_by_officer_of_owner_denied(app, session, store, users):
    document = timed_out_document(session, store, users["clerk"])
    officer = operations.create_user(session, "somchai", "นายสมชาย ดีมาก", TEST_PASSWORD, "DIST-5709", "officer")
    response = call(app, token_for(session, officer), "POST", f"/documents/{document.id}/retry")
    assert response.status_code == 403
    # An unparsed file may hold a secret letter, so the officer cannot even open it.
    assert response.json["error"]["code"] == "document_access_denied"
    assert job_statuses(session, document.id) == ["failed"]


def test_retry_of_missing_document_not_found(app, session, users):
    response = call(app, token_for(session, users["clerk"]), "POST", "/documents/999999/retry")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "document_not_found"


def test_retry_with_session_needs_csrf(app, session, store, users):
    document = timed_out_document(session, store, users["clerk"])
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = users["clerk"].id
        web_session["csrf_token"] = "csrf-of-somsri"

    refused = client.post(f"/api/v1/documents/{document.id}/retry")
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "form_expired"
    assert job_statuses(session, document.id) == ["failed"]

    accepted = client.post(f"/api/v1/documents/{document.id}/retry", headers={"X-CSRF-Token": "csrf-of-somsri"})
    assert accepted.status_code == 202, accepted.json
    jobs.thread_worker(app).wait_until_idle()
    assert job_statuses(session, document.id) == ["failed", "done"]
