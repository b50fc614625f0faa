"""The admin page of API tokens: an admin creates a token shown once, revokes it, and manages no other office's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from workflow import apitokens, operations
from workflow.apitokens import ApiToken

from tests.conftest import TEST_PASSWORD

TOKEN_RE = re.compile(r"srb_[A-Za-z0-9_-]{43}")


@pytest.fixture
def admins(session, users):
    return {
        "maesai": operations.create_user(session, "maesai.admin", "นายสมชาย ดูแลระบบ", TEST_PASSWORD,
                                         "DIST-5709", "admin"),
        "chiangsaen": operations.create_user(session, "chiangsaen.admin", "นางสาวมณี ดูแลระบบ", TEST_PASSWORD,
                                             "DIST-5707", "admin"),
    }


def signed_in(app, user):
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = user.id
        web_session["csrf_token"] = "csrf-" + user.username
    client.csrf = "csrf-" + user.username
    return client


def test_admin_creates_and_revokes_token(app, session, users, admins):
    client = signed_in(app, admins["maesai"])
    page = client.get("/admin/api-tokens/")
    assert page.status_code == 200
    assert "ยังไม่มีโทเค็น" in page.get_data(as_text=True)
    # The LAO below Mae Sai is offered too, since its admin is the district's.
    assert "anucha" in page.get_data(as_text=True)
    # The office's own staff come first, so the preselected user is one of them, and the admin
    # menu leads to the page.
    options = re.findall(r'<option value="([^"]+)"', page.get_data(as_text=True))
    assert options.index("somsri") < options.index("anucha")
    assert 'href="/admin/api-tokens/"' in client.get("/admin/holidays").get_data(as_text=True)

    created = client.post("/admin/api-tokens/", data={"csrf_token": client.csrf, "username": "somsri",
                                                      "name": "ระบบ e-office อำเภอแม่สาย"})
    assert created.status_code == 201
    tokens = TOKEN_RE.findall(created.get_data(as_text=True))
    assert len(tokens) == 1
    token = tokens[0]
    record = session.scalar(select(ApiToken))
    assert record.token_sha256 == apitokens.token_digest(token)
    assert record.created_by == "maesai.admin"
    api = app.test_client().get("/api/v1/routing/inbox", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200

    listing = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert token not in listing
    assert "ระบบ e-office อำเภอแม่สาย" in listing

    revoked = client.post(f"/admin/api-tokens/{record.id}/revoke", data={"csrf_token": client.csrf})
    assert revoked.status_code == 302
    refused = app.test_client().get("/api/v1/routing/inbox", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "token_revoked"


def test_other_office_admin_cannot_manage(app, session, users, admins):
    created = apitokens.create_token(session, "somsri", "ระบบ e-office อำเภอแม่สาย", "test")
    client = signed_in(app, admins["chiangsaen"])

    assert created.record.name not in client.get("/admin/api-tokens/").get_data(as_text=True)
    revoked = client.post(f"/admin/api-tokens/{created.record.id}/revoke", data={"csrf_token": client.csrf})
    assert revoked.status_code == 403
    assert "หน่วยงานของท่าน" in revoked.get_data(as_text=True)
    made = client.post("/admin/api-tokens/", data={"csrf_token": client.csrf, "username": "somsri",
                                                   "name": "โทเค็นข้ามหน่วยงาน"})
    assert made.status_code == 403
    session.expire_all()
    assert session.get(ApiToken, created.record.id).revoked_at is None
    assert session.scalar(select(ApiToken).where(ApiToken.name == "โทเค็นข้ามหน่วยงาน")) is None


def test_non_admin_and_missing_csrf_refused(app, session, users, admins):
    clerk = signed_in(app, users["clerk"])
    assert clerk.get("/admin/api-tokens/").status_code == 403
    admin = signed_in(app, admins["maesai"])
    no_csrf = admin.post("/admin/api-tokens/", data={"username": "somsri", "name": "ไม่มี CSRF"})
    assert no_csrf.status_code == 400
    blank_name = admin.post("/admin/api-tokens/", data={"csrf_token": admin.csrf, "username": "somsri", "name": " "})
    assert blank_name.status_code == 400
    assert "ชื่อโทเค็น" in blank_name.get_data(as_text=True)
    assert session.scalar(select(ApiToken)) is None
