"""Document pages through Flask's test client: who may see a document, and correcting a letter on its page."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.conftest import PROVINCE_LETTER_TEXT, TEST_PASSWORD, province_letter
from tests.test_web import count, csrf_from, sign_in
from workflow import jobs, operations
from workflow.errors import PermissionDenied
from workflow.models import JOB_DONE, Document, FieldCorrection, ParseJob

DENIED_TH = "ไม่มีสิทธิ์เข้าถึงเอกสารนี้"


@pytest.fixture
def client(app, users):
    return app.test_client()


def store_letter(session, store, user, filename: str, **changes):
    """Store a parsed copy of the Chiang Rai letter uploaded by `user`, with `changes` to its fields."""
    letter = province_letter()
    letter.update(changes)
    data = (PROVINCE_LETTER_TEXT + f"\n{filename}").encode("utf-8")
    ingested = operations.ingest_upload(session, store, data, filename, user, 1024 * 1024)
    operations.add_letters(ingested.document, {"letters": [letter]})
    ingested.job.status = JOB_DONE
    session.commit()
    return ingested.document


@pytest.fixture
def secret_document(session, store, users):
    """A letter marked ลับ, uploaded by the Mae Sai district clerk."""
    return store_letter(session, store, users["clerk"], "ชร-ลับ.txt", secrecy="confidential")


@pytest.fixture
def district_officer(session, users):
    return operations.create_user(session, "wichai", "นายวิชัย ทองดี", TEST_PASSWORD, "DIST-5709", "officer")


def field_id(document, name: str) -> int:
    return next(f.id for f in document.letters[0].fields if f.name == name)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- who may see a document -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/documents/{id}", "/documents/{id}/original"])
def test_other_office_denied_document_page(client, stored_letter, path):
    sign_in(client, username="malee")
    response = client.get(path.format(id=stored_letter.document_id))
    assert response.status_code == 403
    assert DENIED_TH in page_text(response)
    assert "document_access_denied" in page_text(response)


def test_other_office_denied_api_result(client, stored_letter):
    sign_in(client, username="malee")
    response = client.get(f"/api/documents/{stored_letter.document_id}")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "document_access_denied"
    assert "letters" not in response.get_json()


def test_other_office_denied_job_status(client, stored_letter):
    job_id = stored_letter.document.latest_job.id
    sign_in(client, username="malee")
    response = client.get(f"/api/jobs/{job_id}")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "document_access_denied"


def test_office_above_denied_district_document(client, session, stored_letter):
    operations.create_user(session, "kanya", "นางกัญญา สุขใจ", TEST_PASSWORD, "PROV-57", "supervisor")
    sign_in(client, username="kanya")
    response = client.get(f"/documents/{stored_letter.document_id}")
    assert response.status_code == 403
    assert DENIED_TH in page_text(response)


def test_other_office_correction_denied(app, client, stored_letter):
    sign_in(client, username="malee")
    token = csrf_from(client.get("/documents").get_data(as_text=True))
    response = client.post(f"/fields/{field_id(stored_letter.document, 'subject')}/correct",
                           data={"csrf_token": token, "value": "เรื่องอื่น"})
    assert response.status_code == 403
    assert DENIED_TH in page_text(response)
    assert count(app, FieldCorrection) == 0


def test_document_list_shows_only_own_office(client, stored_letter):
    sign_in(client, username="malee")
    page = page_text(client.get("/documents"))
    assert "ชร-ว3200.txt" not in page
    listing = client.get("/api/documents").get_json()
    assert listing["documents"] == []
    assert listing["total"] == 0


def test_secret_letter_denied_to_officer_of_same_office(client, secret_document, district_officer):
    sign_in(client, username="wichai")
    for path in (f"/documents/{secret_document.id}", f"/documents/{secret_document.id}/original"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert DENIED_TH in page_text(response)
    assert client.get(f"/api/documents/{secret_document.id}").status_code == 403


def test_secret_letter_left_out_of_officer_list(client, stored_letter, secret_document, district_officer):
    sign_in(client, username="wichai")
    page = page_text(client.get("/documents"))
    assert "ชร-ว3200.txt" in page
    assert "ชร-ลับ.txt" not in page
    files = [d["file"] for d in client.get("/api/documents").get_json()["documents"]]
    assert files == ["ชร-ว3200.txt"]


@pytest.mark.parametrize("username", ["somsri", "prasert"])
def test_secret_letter_open_to_clerk_and_supervisor(client, secret_document, username):
    sign_in(client, username=username)
    response = client.get(f"/documents/{secret_document.id}")
    assert response.status_code == 200
    assert "ลับ" in page_text(response)
    assert client.get(f"/documents/{secret_document.id}/original").status_code == 200


def test_officer_denied_after_clerk_adds_secret_mark(client, session, store, users, district_officer):
    document = store_letter(session, store, users["clerk"], "ชร-ปกติ.txt", secrecy=None)
    sign_in(client, username="wichai")
    assert client.get(f"/documents/{document.id}").status_code == 200
    operations.correct_field(session, users["clerk"], field_id(document, "secrecy"), "secret")
    assert client.get(f"/documents/{document.id}").status_code == 403


def test_unparsed_upload_hidden_from_officer(app, client, session, store, users, district_officer):
    ingested = operations.ingest_upload(session, store, "ด่วนที่สุด ลับ".encode("utf-8"), "รอ.txt", users["clerk"], 1024)
    sign_in(client, username="wichai")
    assert client.get(f"/documents/{ingested.document.id}").status_code == 403
    sign_in(client, username="somsri")
    assert client.get(f"/documents/{ingested.document.id}").status_code == 200


# --- the document list ------------------------------------------------------------------


def test_document_list_pages_fifty_at_a_time(app, client, session, store, users):
    for number in range(53):
        operations.ingest_upload(session, store, f"หนังสือที่ {number}".encode("utf-8"), f"หนังสือ-{number:02d}.txt",
                                 users["clerk"], 1024)
    sign_in(client)
    first = page_text(client.get("/documents"))
    second = page_text(client.get("/documents?page=2"))
    assert len(re.findall(r"<tr data-document=", first)) == 50
    assert len(re.findall(r"<tr data-document=", second)) == 3
    assert "หน้า 1 จาก 2" in first
    assert "หนังสือ-52.txt" in first
    assert "หนังสือ-00.txt" in second
    assert client.get("/api/documents?page=2").get_json()["pages"] == 2


def test_document_list_marks_circular(client, stored_letter):
    sign_in(client)
    page = page_text(client.get("/documents"))
    assert "หนังสือเวียน" in page


def test_sign_in_redirect_has_no_stray_question_mark(client):
    response = client.get("/documents")
    assert response.headers["Location"].endswith("/login?next=/documents")


def test_favicon_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert client.get(response.headers["Location"]).mimetype == "image/svg+xml"


# --- the letter page --------------------------------------------------------------------


def test_every_field_has_thai_label(client, session, store, users):
    document = store_letter(
        session, store, users["clerk"], "ชร-ครบ.txt",
        copies="สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด",
        undated_requests=[{"text": "โดยด่วน", "action": None}, {"text": "โดยเร็ว", "action": 2}],
        new_parser_key=[{"text": "ค่าใหม่", "score": 3}],
    )
    sign_in(client)
    page = page_text(client.get(f"/documents/{document.id}"))
    headers = re.findall(r'<th scope="row">([^<]*)</th>', page)
    assert "สำเนาส่ง" in headers
    assert "คำขอที่ไม่มีกำหนดวัน" in headers
    assert all(re.search(r"[\u0E00-\u0E7F]", header) for header in headers), headers
    assert "undated_requests" not in headers
    assert "new_parser_key" not in headers
    assert '"action": null' not in page
    assert "โดยเร็ว (ข้อ 2)" in page


def test_working_day_deadline_shown_as_working_days(client, session, store, users):
    deadline = {"kind": "relative", "date": None, "stated": None, "end": None, "days": 7, "working_days": True,
                "counted_from": "receipt", "text": "ภายใน ๗ วันทำการ", "action": 1}
    document = store_letter(session, store, users["clerk"], "ชร-วันทำการ.txt", deadlines=[deadline])
    sign_in(client)
    page = page_text(client.get(f"/documents/{document.id}"))
    assert "ภายใน 7 วันทำการ นับแต่วันที่ได้รับหนังสือ" in page
    assert "นับจากวันรับ 7 วัน" not in page


def test_rejected_date_kept_beside_field(app, client, stored_letter):
    sign_in(client)
    document_page = f"/documents/{stored_letter.document_id}"
    token = csrf_from(client.get(document_page).get_data(as_text=True))
    date_id = field_id(stored_letter.document, "date")
    response = client.post(f"/fields/{date_id}/correct", data={"csrf_token": token, "value": "31 กุมภาพันธ์ 2568"})
    page = page_text(response)
    row = page[page.index(f'id="field-{date_id}"'):]
    row = row[: row.index("</tr>")]
    assert response.status_code == 400
    assert "rejected" in page[page.index(f'id="field-{date_id}"') - 80: page.index(f'id="field-{date_id}"')]
    assert "<details class=\"correct\" open>" in row
    assert "ไม่มีวันที่ “31 กุมภาพันธ์ 2568” ในปฏิทิน" in row
    assert "มี 28 วัน" in row
    assert "<code>date_not_in_calendar</code>" in row
    assert 'value="31 กุมภาพันธ์ 2568"' in row
    assert count(app, FieldCorrection) == 0


def test_unreadable_date_message_names_expected_form(client, stored_letter):
    sign_in(client)
    token = csrf_from(client.get(f"/documents/{stored_letter.document_id}").get_data(as_text=True))
    response = client.post(f"/fields/{field_id(stored_letter.document, 'date')}/correct",
                           data={"csrf_token": token, "value": "สองเมษา"})
    page = page_text(response)
    assert "อ่าน “สองเมษา” เป็นวันที่ไม่ได้ กรุณาพิมพ์วัน เดือน ปี พ.ศ. เช่น 2 เมษายน 2568" in page
    assert "(invalid_value)" not in page


def test_deadline_corrected_through_form_inputs(client, session, stored_letter):
    sign_in(client)
    page = client.get(f"/documents/{stored_letter.document_id}").get_data(as_text=True)
    assert "รูปแบบ JSON" not in page
    deadlines_id = field_id(stored_letter.document, "deadlines")
    response = client.post(f"/fields/{deadlines_id}/correct", data={
        "csrf_token": csrf_from(page),
        "item_count": "1",
        "0.kind": "due", "0.date": "๑๐ เมษายน ๒๕๖๘", "0.text": "ภายในวันที่ ๑๐ เมษายน ๒๕๖๘",
        "new.kind": "relative", "new.days": "7", "new.working_days": "yes", "new.text": "ภายใน ๗ วันทำการ",
    })
    assert response.status_code == 302
    assert f"saved={deadlines_id}" in response.headers["Location"]
    assert "บันทึกการแก้ไขแล้ว" in page_text(client.get(response.headers["Location"]))
    session.expire_all()
    value = next(f for f in stored_letter.fields if f.name == "deadlines").value
    assert value[0]["date"] == "2025-04-10"
    assert value[0]["stated"] == "2025-04-10"
    assert value[0]["action"] == 1
    assert value[1]["days"] == 7
    assert value[1]["working_days"] is True
    assert value[1]["counted_from"] == "receipt"


def test_action_text_corrected_through_form_inputs(client, session, store, users):
    actions = [{"number": 1, "text": "แจ้งองค์กรปกครองส่วนท้องถิ่น", "deadlines": [{"kind": "due", "date": "2025-04-11"}]}]
    document = store_letter(session, store, users["clerk"], "ชร-ข้อ.txt", actions=actions)
    sign_in(client)
    token = csrf_from(client.get(f"/documents/{document.id}").get_data(as_text=True))
    response = client.post(f"/fields/{field_id(document, 'actions')}/correct", data={
        "csrf_token": token, "item_count": "1", "0.number": "๑", "0.text": "แจ้งองค์กรปกครองส่วนท้องถิ่นทุกแห่ง",
    })
    assert response.status_code == 302
    session.expire_all()
    value = next(f for f in document.letters[0].fields if f.name == "actions").value
    assert value == [{"number": 1, "text": "แจ้งองค์กรปกครองส่วนท้องถิ่นทุกแห่ง",
                      "deadlines": [{"kind": "due", "date": "2025-04-11"}]}]


def test_relative_deadline_without_days_rejected(app, client, stored_letter):
    sign_in(client)
    token = csrf_from(client.get(f"/documents/{stored_letter.document_id}").get_data(as_text=True))
    response = client.post(f"/fields/{field_id(stored_letter.document, 'deadlines')}/correct", data={
        "csrf_token": token, "item_count": "1", "0.kind": "relative", "0.days": "", "0.text": "ภายในเจ็ดวัน",
    })
    page = page_text(response)
    assert response.status_code == 400
    assert "รายการที่ 1: กรุณาพิมพ์จำนวนวัน" in page
    assert 'value="ภายในเจ็ดวัน"' in page
    assert count(app, FieldCorrection) == 0


# --- a failed parse and its retry -------------------------------------------------------


def timed_out_document(session, store, user):
    """Upload the Chiang Rai letter and end its parse the way a job over its time limit ends."""

    def parse_past_limit(data, filename, **options):
        raise operations.ParseTimedOut(600)

    data = PROVINCE_LETTER_TEXT.encode("utf-8")
    ingested = operations.ingest_upload(session, store, data, "ชร-ว3200-สแกน.txt", user, 1024 * 1024)
    operations.run_parse(session, store, ingested.job.id, max_bytes=1024 * 1024, parse=parse_past_limit)
    return ingested.document


def job_rows(app, document_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        from workflow.app import new_session

        db = new_session()
        try:
            query = select(ParseJob).where(ParseJob.document_id == document_id).order_by(ParseJob.created_at)
            return [(job.id, job.status) for job in db.scalars(query)]
        finally:
            db.close()


def retry_form_token(client, document_id: int) -> str:
    return csrf_from(client.get(f"/documents/{document_id}").get_data(as_text=True))


def test_timed_out_job_shows_message_and_retry(client, session, store, users):
    document = timed_out_document(session, store, users["clerk"])
    sign_in(client)
    page = page_text(client.get(f"/documents/{document.id}"))
    assert "ใช้เวลาเกิน 10 นาที" in page
    assert "job_timeout" in page
    assert f'action="/documents/{document.id}/retry"' in page
    assert "อ่านเอกสารอีกครั้ง" in page
    listing = page_text(client.get("/documents"))
    assert "อ่านนานเกินกำหนด" in listing
    assert "job_timeout" in listing


def test_retry_queues_new_job_and_parses(app, client, session, store, users):
    document = timed_out_document(session, store, users["clerk"])
    failed_job_id = document.latest_job.id
    sign_in(client)
    response = client.post(f"/documents/{document.id}/retry", data={"csrf_token": retry_form_token(client, document.id)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/documents/{document.id}")
    jobs.thread_worker(app).wait_until_idle()

    rows = job_rows(app, document.id)
    assert len(rows) == 2
    assert rows[0] == (failed_job_id, "failed")
    assert rows[1][1] == "done"
    page = page_text(client.get(f"/documents/{document.id}"))
    assert "พบหนังสือ 1 ฉบับ" in page
    assert "ศาลากลางจังหวัดเชียงราย" in page
    assert store.read(document.sha256) == PROVINCE_LETTER_TEXT.encode("utf-8")


def test_retry_without_csrf_token_changes_nothing(app, client, session, store, users):
    document = timed_out_document(session, store, users["clerk"])
    sign_in(client)
    response = client.post(f"/documents/{document.id}/retry", data={})
    assert response.status_code == 400
    assert "form_expired" in page_text(response)
    assert [status for _, status in job_rows(app, document.id)] == ["failed"]


def test_retry_by_other_office_denied(app, client, session, store, users):
    document = timed_out_document(session, store, users["clerk"])
    sign_in(client, username="malee")
    token = csrf_from(client.get("/documents").get_data(as_text=True))
    response = client.post(f"/documents/{document.id}/retry", data={"csrf_token": token})
    assert response.status_code == 403
    assert DENIED_TH in page_text(response)
    assert [status for _, status in job_rows(app, document.id)] == ["failed"]


def test_retry_of_parsed_document_rejected(app, client, stored_letter):
    document_id = stored_letter.document_id
    sign_in(client)
    response = client.post(f"/documents/{document_id}/retry", data={"csrf_token": retry_form_token(client, document_id)})
    assert response.status_code == 409
    assert "job_not_failed" in page_text(response)
    assert [status for _, status in job_rows(app, document_id)] == ["done"]


def test_retry_limited_to_uploader_clerks_supervisors(session, store, users):
    document = timed_out_document(session, store, users["officer"])
    lao_supervisor = operations.create_user(session, "wanida", "นางวนิดา คำดี", TEST_PASSWORD, "5570903", "supervisor")
    lao_officer = operations.create_user(session, "somchai", "นายสมชาย ดีมาก", TEST_PASSWORD, "5570903", "officer")
    assert operations.may_retry_parse(users["officer"], document)
    assert operations.may_retry_parse(lao_supervisor, document)
    assert not operations.may_retry_parse(lao_officer, document)
    # A file whose parse failed may hold a secret letter, so another officer cannot even open it.
    with pytest.raises(PermissionDenied) as raised:
        operations.retry_parse(session, lao_officer, document.id)
    assert raised.value.code == "document_access_denied"
    session.expire_all()
    assert [job.status for job in session.get(Document, document.id).jobs] == ["failed"]


# --- headers of served files --------------------------------------------------------------


def test_original_pdf_sent_as_attachment(client, session, store, users):
    from tests.pdfmaker import thai_pdf

    data = thai_pdf([["ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐", "เรื่อง การใช้งานระบบบัญชี Carbon Credit"]])
    ingested = operations.ingest_upload(session, store, data, "หนังสือจังหวัด.pdf", users["clerk"], 1024 * 1024)
    sign_in(client)
    response = client.get(f"/documents/{ingested.document.id}/original")
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''%E0%B8%AB" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("หนังสือ.pdf", "<html><body><script>alert('ระบบสารบรรณ')</script></body></html>"),
        ("หนังสือ.html", "<!DOCTYPE html><title>ระบบสารบรรณ</title><img src=x onerror=alert(1)>"),
        ("ภาพ.svg", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
    ],
    ids=["html-named-pdf", "html", "svg"],
)
def test_markup_upload_never_served_as_page(client, session, store, users, filename, content):
    data = content.encode("utf-8")
    ingested = operations.ingest_upload(session, store, data, filename, users["clerk"], 1024 * 1024)
    sign_in(client)
    response = client.get(f"/documents/{ingested.document.id}/original")
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_markup_in_letter_and_name_escaped(app, client, session, store, users):
    markup_subject = "ขอเชิญประชุม <script>alert('สารบรรณ')</script>"
    text = PROVINCE_LETTER_TEXT.replace(
        "เรื่อง การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น", f"เรื่อง {markup_subject}"
    )
    filename = "<img src=x onerror=alert(1)>.txt"
    ingested = operations.ingest_upload(session, store, text.encode("utf-8"), filename, users["clerk"], 1024 * 1024)
    jobs.enqueue_parse(app, ingested.job.id)
    jobs.thread_worker(app).wait_until_idle()
    sign_in(client)

    for path in (f"/documents/{ingested.document.id}", "/documents"):
        raw = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in raw, path
        assert "<img src=x" not in raw, path
        assert "&lt;img src=x onerror=alert(1)&gt;.txt" in raw, path
    page = client.get(f"/documents/{ingested.document.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in page


def test_missing_original_reported_in_thai(client, store, stored_letter):
    path = store.path_for(stored_letter.document.sha256)
    path.chmod(0o600)
    path.unlink()
    sign_in(client)
    response = client.get(f"/documents/{stored_letter.document_id}/original")
    assert response.status_code == 404
    assert "original_missing" in page_text(response)
    assert "ไม่พบไฟล์ต้นฉบับของเอกสารนี้" in page_text(response)
