"""API tokens of `/api/v1`: stored hashed, created, listed and revoked from the command line, and refused
when wrong, revoked or used on another organization's records."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from workflow import apitokens
from workflow.apitokens import ApiToken
from workflow.cli import main
from workflow.models import FieldCorrection


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(session, users):
    return {
        key: apitokens.create_token(session, user.username, f"ระบบ e-office ของ{user.display_name}", "test").token
        for key, user in users.items()
    }


def _subject_field(letter):
    return next(field for field in letter.fields if field.name == "subject")


def test_token_is_stored_hashed(session, users):
    created = apitokens.create_token(session, "somsri", "ระบบ e-office อำเภอแม่สาย", "test")
    row = session.get(ApiToken, created.record.id)
    assert created.token.startswith("srb_")
    assert row.token_sha256 == apitokens.token_digest(created.token)
    assert created.token not in (row.token_sha256, row.shown_prefix, row.name)
    assert row.organization_id == users["clerk"].organization_id
    assert row.user_id == users["clerk"].id


def test_token_reads_own_documents(app, tokens, stored_letter):
    response = app.test_client().get("/api/v1/documents", headers=bearer(tokens["clerk"]))
    assert response.status_code == 200
    assert [row["document_id"] for row in response.json["documents"]] == [stored_letter.document_id]
    shown = app.test_client().get(f"/api/v1/documents/{stored_letter.document_id}", headers=bearer(tokens["clerk"]))
    assert shown.status_code == 200
    assert shown.json["letters"][0]["doc_number"]["text"] == "ชร 0023.6/ว 3200"


@pytest.mark.parametrize("header, code", [
    (None, "authentication_required"),
    ("Bearer srb_not-a-real-token-at-all-0000000000000000000", "invalid_token"),
    ("Bearer some-other-token", "invalid_token"),
    ("Basic c29tc3JpOnBhc3N3b3Jk", "invalid_token"),
    ("Bearer ", "invalid_token"),
])
def test_missing_or_wrong_token_is_401(app, users, header, code):
    headers = {"Authorization": header} if header is not None else {}
    response = app.test_client().get("/api/v1/documents", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == code
    assert "โทเค็น" in response.json["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401_and_changes_nothing(app, session, tokens, stored_letter):
    record = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == apitokens.token_digest(tokens["clerk"])))
    apitokens.revoke_token(session, record.id)
    field = _subject_field(stored_letter)
    response = app.test_client().post(f"/api/v1/fields/{field.id}/correction", headers=bearer(tokens["clerk"]),
                                      json={"value": "เรื่องที่แก้แล้วโดยโทเค็นที่ยกเลิก"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_revoked"
    assert "ยกเลิก" in response.json["error"]["message"]
    assert session.scalar(select(func.count()).select_from(FieldCorrection)) == 0


def test_token_post_needs_no_csrf_token(app, session, tokens, stored_letter):
    field = _subject_field(stored_letter)
    response = app.test_client().post(f"/api/v1/fields/{field.id}/correction", headers=bearer(tokens["clerk"]),
                                      json={"value": "การใช้งานระบบบัญชีคาร์บอนเครดิตขององค์กรปกครองส่วนท้องถิ่น"})
    assert response.status_code == 200, response.json
    assert response.json["corrected_by"] == "somsri"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(FieldCorrection)) == 1


def test_document_result_gives_field_ids_to_correct(app, session, tokens, stored_letter):
    client = app.test_client()
    result = client.get(f"/api/v1/documents/{stored_letter.document_id}", headers=bearer(tokens["clerk"]))
    assert result.status_code == 200
    letter = result.json["letters"][0]
    assert letter["letter_id"] == stored_letter.id
    subject_id = letter["field_ids"]["subject"]
    assert subject_id == _subject_field(stored_letter).id

    corrected = client.post(f"/api/v1/fields/{subject_id}/correction", headers=bearer(tokens["clerk"]),
                            json={"value": "การใช้งานระบบบัญชีคาร์บอนเครดิตของ อปท."})
    assert corrected.status_code == 200
    again = client.get(f"/api/v1/documents/{stored_letter.document_id}", headers=bearer(tokens["clerk"]))
    assert again.json["letters"][0]["subject"] == "การใช้งานระบบบัญชีคาร์บอนเครดิตของ อปท."


def test_session_post_keeps_csrf_check(app, session, users, stored_letter):
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = users["clerk"].id
        web_session["csrf_token"] = "csrf-of-somsri"
    field = _subject_field(stored_letter)
    refused = client.post(f"/api/v1/fields/{field.id}/correction", json={"value": "เรื่องใหม่ไม่มี CSRF"})
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "form_expired"
    assert session.scalar(select(func.count()).select_from(FieldCorrection)) == 0
    accepted = client.post(f"/api/v1/fields/{field.id}/correction", json={"value": "เรื่องใหม่พร้อม CSRF"},
                           headers={"X-CSRF-Token": "csrf-of-somsri"})
    assert accepted.status_code == 200, accepted.json


def test_token_ignores_session_cookie(app, session, users, tokens, stored_letter):
    """A request with an Authorization header acts as the token's user, never as the signed-in one."""
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = users["clerk"].id
    response = client.get(f"/api/v1/documents/{stored_letter.document_id}", headers=bearer(tokens["other_clerk"]))
    assert response.status_code in (403, 404)


def test_other_organization_cannot_see_or_correct(app, session, tokens, stored_letter):
    client = app.test_client()
    headers = bearer(tokens["other_clerk"])
    listing = client.get("/api/v1/documents", headers=headers)
    assert listing.status_code == 200
    assert listing.json["documents"] == []
    shown = client.get(f"/api/v1/documents/{stored_letter.document_id}", headers=headers)
    assert shown.status_code in (403, 404)
    assert shown.json["error"]["message"]
    job_id = stored_letter.document.latest_job.id
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).status_code in (403, 404)
    field = _subject_field(stored_letter)
    changed = client.post(f"/api/v1/fields/{field.id}/correction", headers=headers,
                          json={"value": "เรื่องที่หน่วยงานอื่นพยายามแก้"})
    assert changed.status_code in (403, 404)
    assert changed.json["error"]["code"] in ("document_access_denied", "other_organization")
    exported = client.get(f"/api/v1/ecms/letters/{stored_letter.id}", headers=headers)
    assert exported.status_code in (403, 404)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(FieldCorrection)) == 0


def test_bad_json_is_400_in_thai(app, tokens, stored_letter):
    field = _subject_field(stored_letter)
    client = app.test_client()
    cases = [
        ({"data": "{not json", "content_type": "application/json"}, "invalid_json"),
        ({"data": "[1, 2]", "content_type": "application/json"}, "invalid_json"),
        ({"data": "value=x", "content_type": "application/x-www-form-urlencoded"}, "unsupported_media_type"),
        ({"json": {"value": "เรื่อง\u0000ที่มี NUL"}}, "invalid_text"),
        ({"json": {}}, "missing_value"),
    ]
    for request_arguments, code in cases:
        response = client.post(f"/api/v1/fields/{field.id}/correction", headers=bearer(tokens["clerk"]),
                               **request_arguments)
        assert response.status_code == 400, (request_arguments, response.json)
        assert response.json["error"]["code"] == code
        assert response.json["error"]["message"]


def test_unknown_route_and_method_are_json(app, tokens):
    client = app.test_client()
    missing = client.get("/api/v1/no-such-thing", headers=bearer(tokens["clerk"]))
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/documents", headers=bearer(tokens["clerk"]))
    assert wrong_method.status_code == 405
    assert wrong_method.json["error"]["message"].startswith("ไม่รองรับ")
    huge_id = client.get("/api/v1/documents/99999999999999999999", headers=bearer(tokens["clerk"]))
    assert huge_id.status_code == 404


def test_cli_creates_lists_and_revokes(app, session, users, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("SARABAN_STORAGE", str(tmp_path / "cli-originals"))
    monkeypatch.setenv("SECRET_KEY", "cli-test")

    assert main(["api-token", "create", "--user", "prasert", "--name", "ระบบ e-office แม่สาย", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["organization"] == "DIST-5709"
    assert created["user"] == "prasert"
    assert created["role"] == "supervisor"
    token = created["token"]
    assert app.test_client().get("/api/v1/routing/inbox", headers=bearer(token)).status_code == 200

    assert main(["api-token", "list", "--organization", "DIST-5709", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in listed] == [created["id"]]
    assert token not in json.dumps(listed)
    assert listed[0]["revoked_at"] is None

    assert main(["api-token", "revoke", str(created["id"])]) == 0
    assert "ยกเลิกโทเค็น" in capsys.readouterr().out
    refused = app.test_client().get("/api/v1/routing/inbox", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "token_revoked"

    assert main(["api-token", "create", "--user", "nobody", "--name", "ระบบทดสอบ"]) == 1
    assert "ไม่พบผู้ใช้" in capsys.readouterr().err
    assert main(["api-token", "revoke", "999"]) == 1
    assert "ไม่พบโทเค็น" in capsys.readouterr().err
