"""e-CMS exchange through `/api/v1`: import a GovernmentDocument message into the token's office, export it."""

from __future__ import annotations

from sqlalchemy import func, select

from workflow import apitokens
from workflow.integration import ecms
from workflow.models import Document

from tests.test_ecms import fixture_message, letter_pdf  # noqa: F401 (letter_pdf is a fixture)

XML = {"Content-Type": "application/xml"}


def headers_for(session, user) -> dict[str, str]:
    token = apitokens.create_token(session, user.username, "ระบบ e-CMS ของหน่วยงาน", "test").token
    return {"Authorization": f"Bearer {token}"}


def documents(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Document))


def test_import_registers_and_exports(app, session, users, letter_pdf):  # noqa: F811
    client = app.test_client()
    clerk = headers_for(session, users["clerk"])
    message = fixture_message("government_document_thegif.xml", letter_pdf)

    imported = client.post("/api/v1/ecms/messages", data=message, headers={**clerk, **XML})
    assert imported.status_code == 201, imported.json
    assert imported.json["letter"]["doc_number"]["text"] == "ชร 0023.6/ว 3200"
    assert imported.json["receipt_number"].startswith("1/")
    notifier = ecms.read_notifier(imported.json["notifier"].encode("utf-8"))
    assert notifier["kind"] == ecms.ACCEPT_NOTIFIER
    assert notifier["accept_id"] == imported.json["receipt_number"]

    document_id = imported.json["result"]["document_id"]
    shown = client.get(f"/api/v1/documents/{document_id}", headers=clerk)
    assert shown.status_code == 200
    letter_id = session.get(Document, document_id).letters[0].id
    exported = client.get(f"/api/v1/ecms/letters/{letter_id}", headers=clerk)
    assert exported.status_code == 200
    assert exported.mimetype == "application/xml"
    assert ecms.read_message(exported.data, 2 * 1024 * 1024).subject == imported.json["letter"]["subject"]

    other = headers_for(session, users["other_clerk"])
    assert client.get(f"/api/v1/ecms/letters/{letter_id}", headers=other).status_code in (403, 404)


def test_refused_import_stores_nothing(app, session, users, letter_pdf):  # noqa: F811
    client = app.test_client()
    message = fixture_message("government_document_thegif.xml", letter_pdf)

    officer = client.post("/api/v1/ecms/messages", data=message, headers={**headers_for(session, users["officer"]), **XML})
    assert officer.status_code == 403
    assert officer.json["error"]["message"]

    clerk = headers_for(session, users["clerk"])
    broken = client.post("/api/v1/ecms/messages", data=b"<GovernmentDocument><Subject>", headers={**clerk, **XML})
    assert broken.status_code == 400
    assert broken.json["error"]["message"]
    wrong_type = client.post("/api/v1/ecms/messages", data=message,
                             headers={**clerk, "Content-Type": "application/octet-stream"})
    assert wrong_type.status_code == 400
    assert wrong_type.json["error"]["code"] == "unsupported_media_type"
    assert documents(session) == 0
