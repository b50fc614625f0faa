"""The web screens through Flask's test client: sign-in, upload, the document page, the API."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_PASSWORD, sample_bytes
from workflow import jobs
from workflow.models import Document, FieldCorrection

SAMPLE = "003_chum_phae_reminder_arabic.txt"


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def client(app, users):
    return app.test_client()


def sign_in(client, username="somsri", password=TEST_PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def upload(client, *files):
    token = csrf_from(client.get("/upload").get_data(as_text=True))
    data = {"csrf_token": token, "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/upload", data=data, content_type="multipart/form-data")


def count(app, model) -> int:
    with app.app_context():
        from workflow.app import new_session

        session = new_session()
        try:
            return session.scalar(select(func.count()).select_from(model))
        finally:
            session.close()


def test_pages_require_sign_in(client):
    response = client.get("/documents")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_api_requires_sign_in(client):
    response = client.get("/api/documents")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "sign_in_required"


def test_sign_in_with_wrong_password_shows_thai_message(client):
    response = sign_in(client, password="ผิด")
    assert response.status_code == 401
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in response.get_data(as_text=True)


def test_sign_in_shows_user_and_office(client):
    response = sign_in(client)
    assert response.status_code == 302
    page = client.get("/documents").get_data(as_text=True)
    assert "นางสาวสมศรี ใจดี" in page
    assert "สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย" in page


def test_post_without_csrf_token_rejected(client):
    sign_in(client)
    response = client.post("/upload", data={"files": [(io.BytesIO(b"x"), "a.txt")]}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "form_expired" in response.get_data(as_text=True)
    assert count(client.application, Document) == 0


def test_request_over_body_limit_shows_thai_message(app, client):
    sign_in(client)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = upload(client, ("หนังสือ.txt", "ด่วนที่สุด ".encode("utf-8") * 1000))
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "file_too_large" in page
    assert "ระบบจึงไม่รับ" in page
    assert count(app, Document) == 0


def test_upload_parses_and_shows_document(app, client):
    sign_in(client)
    response = upload(client, (SAMPLE, sample_bytes(SAMPLE)))
    assert response.status_code == 302
    jobs.thread_worker(app).wait_until_idle()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert SAMPLE in page
    assert "เปิดไฟล์ต้นฉบับ" in page
    assert "รหัสข้อผิดพลาด" not in page


def test_original_file_served_unchanged(app, client):
    sign_in(client)
    location = upload(client, (SAMPLE, sample_bytes(SAMPLE))).headers["Location"]
    response = client.get(f"{location}/original")
    assert response.status_code == 200
    assert response.data == sample_bytes(SAMPLE)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("หนังสือว่าง.pdf", b"", "empty_file"),
        ("หนังสือใหญ่.pdf", b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024), "file_too_large"),
    ],
    ids=["empty", "too-large"],
)
def test_rejected_upload_shows_thai_message_and_code(client, name, content, code):
    sign_in(client)
    response = upload(client, (name, content))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert code in page
    assert name in page
    assert count(client.application, Document) == 0


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("หนังสือ.pdf", "<!DOCTYPE html><html><body>เข้าสู่ระบบ</body></html>".encode("utf-8"), "unsupported_type"),
        ("หนังสือ.pdf", b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 100, "unsupported_type"),
        ("หนังสือ.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<", "corrupt_pdf"),
    ],
    ids=["html", "zip", "truncated-pdf"],
)
def test_unreadable_upload_shows_thai_message_and_code(app, client, name, content, code):
    sign_in(client)
    location = upload(client, (name, content)).headers["Location"]
    jobs.thread_worker(app).wait_until_idle()
    page = client.get(location).get_data(as_text=True)
    assert "รหัสข้อผิดพลาด" in page
    assert f"<code>{code}</code>" in page
    assert re.search(r'class="error-message">[^<]*[\u0E00-\u0E7F]', page)


def test_upload_many_files_lists_each_outcome(app, client):
    sign_in(client)
    response = upload(
        client,
        (SAMPLE, sample_bytes(SAMPLE)),
        ("ว่าง.txt", b""),
        ("001.txt", sample_bytes("001_dla_circular_bin_count.txt")),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("รับเข้าระบบแล้ว") == 2
    assert "empty_file" in page
    assert count(app, Document) == 2


def test_same_file_twice_opens_existing_document(app, client):
    sign_in(client)
    first = upload(client, (SAMPLE, sample_bytes(SAMPLE))).headers["Location"]
    second = upload(client, ("สำเนา.txt", sample_bytes(SAMPLE))).headers["Location"]
    assert first == second
    assert count(app, Document) == 1


def test_api_returns_parse_result(app, client):
    sign_in(client)
    location = upload(client, (SAMPLE, sample_bytes(SAMPLE))).headers["Location"]
    jobs.thread_worker(app).wait_until_idle()
    result = client.get("/api" + location).get_json()
    assert result["schema"] == "saraban.parse/1"
    assert result["file"] == SAMPLE
    assert result["status"] == "done"
    assert isinstance(result["letters"], list)


def test_api_upload_reports_error_code(client):
    sign_in(client)
    token = csrf_from(client.get("/upload").get_data(as_text=True))
    response = client.post(
        "/api/documents",
        data={"files": [(io.BytesIO(b""), "ว่าง.pdf")]},
        headers={"X-CSRF-Token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response.get_json()["results"][0]["error"]["code"] == "empty_file"


def test_correction_form_changes_shown_value(app, client, stored_letter):
    sign_in(client)
    document_page = f"/documents/{stored_letter.document_id}"
    page = client.get(document_page).get_data(as_text=True)
    field_id = next(f.id for f in stored_letter.fields if f.name == "subject")
    response = client.post(
        f"/fields/{field_id}/correct",
        data={"csrf_token": csrf_from(page), "value": "การใช้งานระบบบัญชีคาร์บอนเครดิต"},
    )
    assert response.status_code == 302
    page = client.get(document_page).get_data(as_text=True)
    assert "การใช้งานระบบบัญชีคาร์บอนเครดิต" in page
    assert "แก้ไขโดย นางสาวสมศรี ใจดี" in page
    assert count(app, FieldCorrection) == 1


def test_correction_by_officer_rejected_on_page(app, client, session, stored_letter):
    from workflow import operations

    operations.create_user(session, "wichai", "นายวิชัย ทองดี", TEST_PASSWORD, "DIST-5709", "officer")
    sign_in(client, username="wichai")
    page = client.get(f"/documents/{stored_letter.document_id}").get_data(as_text=True)
    assert "บันทึกการแก้ไข" not in page
    field_id = next(f.id for f in stored_letter.fields if f.name == "subject")
    response = client.post(f"/fields/{field_id}/correct", data={"csrf_token": csrf_from(page), "value": "เรื่องอื่น"})
    assert response.status_code == 403
    assert "role_cannot_correct" in response.get_data(as_text=True)
    assert count(app, FieldCorrection) == 0


def test_document_page_marks_field_spans(client, stored_letter):
    sign_in(client)
    page = client.get(f"/documents/{stored_letter.document_id}").get_data(as_text=True)
    assert '<mark class="span" data-spans="subject">การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น</mark>' in page
    assert "อ่านชื่อผู้ลงนามจากภาพสแกน โปรดตรวจทาน" in page
    assert "2 เมษายน 2568" in page


def test_job_api_reports_page_progress(app, client):
    sign_in(client)
    location = upload(client, (SAMPLE, sample_bytes(SAMPLE))).headers["Location"]
    jobs.thread_worker(app).wait_until_idle()
    document = client.get("/api" + location).get_json()
    page = client.get(location).get_data(as_text=True)
    assert 'id="job-panel"' not in page
    with app.app_context():
        from workflow.app import new_session
        from workflow.models import ParseJob

        session = new_session()
        job_id = session.scalar(select(ParseJob.id).where(ParseJob.document_id == document["document_id"]))
        session.close()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["status"] == "done"
    assert status["pages_total"] == document["pages"]
    assert status["pages_done"] == status["pages_total"]


def test_queued_document_shows_progress_panel(app, client, session, store, users):
    from workflow import operations

    ingested = operations.ingest_upload(
        session, store, sample_bytes(SAMPLE), SAMPLE, users["clerk"], app.config["SARABAN_MAX_UPLOAD_BYTES"]
    )
    sign_in(client)
    page = client.get(f"/documents/{ingested.document.id}").get_data(as_text=True)
    assert 'data-status="queued"' in page
    assert "รอคิวอ่านเอกสาร" in page
    assert f"/api/jobs/{ingested.job.id}" in page
