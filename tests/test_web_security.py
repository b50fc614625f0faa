"""Browser protections as tables: CSRF on every POST route, the session cookie, page headers, served originals.

The POST routes come from ``app.url_map``, so a new form route is checked without an edit
here. Each is sent the form its permission-table row uses, by a role that row allows, so
that only the CSRF token is missing or wrong.
"""

from __future__ import annotations

import io
import re

import pytest

from tests.test_permissions_table import (
    ROLE_KEYS,
    SCOPES,
    TABLE,
    Environment,
    client_for,
    database_fingerprint,
    route_keys,
)
from workflow import operations
from workflow.app import create_app
from workflow.routing.testing import prepare_database

FORM_EXPIRED_TH = "แบบฟอร์มนี้หมดอายุหรือไม่ได้ส่งมาจากหน้านี้"
PASSWORD = "รหัสผ่าน-แม่สาย-2568"
# A text upload that a browser would render as a page if it were served as HTML.
HTML_LIKE_LETTER = (
    "<html><body><script>document.location='http://127.0.0.1:9/'</script>"
    "ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐ เรื่อง การใช้งานระบบบัญชี Carbon Credit</body></html>"
).encode("utf-8")
SIGNED_IN_PAGES = (
    ("/documents", "lao_clerk"),
    ("/upload", "lao_clerk"),
    ("/routing/", "district_head"),
    ("/ledger/lao", "lao_officer"),
    ("/ledger/dla", "dla_director"),
    ("/admin/staff", "admin"),
    ("/api/documents", "lao_clerk"),
    ("/login", "anonymous"),
    ("/ledger/public", "anonymous"),
)
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One scenario for the module: every request here is refused or reads, so it changes nothing."""
    folder = tmp_path_factory.mktemp("web_security")
    database = prepare_database(f"sqlite:///{folder / 'security.db'}")
    environment = Environment(database, folder)
    environment.rebuild()
    yield environment
    environment.close()
    database.dispose()


def post_routes() -> list[str]:
    app = create_app({"DATABASE_URL": "sqlite://", "SARABAN_STORAGE": "/nonexistent", "REDIS_URL": None,
                      "SECRET_KEY": "routes"})
    keys = sorted(key for key in route_keys(app) if key.endswith(" POST"))
    app.extensions["saraban.db"].dispose()
    return keys


def allowed_case(route_key: str) -> tuple[str, str]:
    """Return a (role, scope) the permission table allows on the route, or the LAO clerk's own case."""
    outcomes = TABLE[route_key].outcomes
    for role in ROLE_KEYS:
        for index, scope in enumerate(SCOPES):
            if outcomes[role][index] == "ok":
                return role, scope
    return "lao_clerk", "own"


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["missing", "other_session"])
@pytest.mark.parametrize("route_key", post_routes())
def test_post_without_valid_csrf_token_is_rejected(env, route_key, token):
    assert route_key in TABLE, f"{route_key} has no row in the permission table"
    role, scope = allowed_case(route_key)
    route = TABLE[route_key]
    client = client_for(env.app, env.scenario, role)
    payload = route.form(env.scenario, role, scope) if route.form else {}
    wrong = "token-from-another-browser"
    headers = {"X-CSRF-Token": wrong} if token == "other_session" else {}
    url = route.url(env.scenario, role, scope)
    before = database_fingerprint(env.database)

    if route.body == "json":
        response = client.post(url, json=payload, headers=headers)
    elif route.body == "xml":
        response = client.post(url, data=payload, content_type="application/xml", headers=headers)
    else:
        if token == "other_session":
            payload["csrf_token"] = wrong
        response = client.post(url, data=payload)

    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "form_expired"
    else:
        assert FORM_EXPIRED_TH in response.get_data(as_text=True)
    assert database_fingerprint(env.database) == before


def test_csrf_header_is_accepted_for_json_clients(env):
    client = client_for(env.app, env.scenario, "lao_clerk")
    response = client.post("/api/documents", headers={"X-CSRF-Token": client.csrf},
                           data={"files": (io.BytesIO("หนังสือทดสอบ ที่ ชร ๐๐๒๓.๖/ว ๑".encode()), "หนังสือ.txt")})
    assert response.status_code == 202


# --- session cookie ---------------------------------------------------------------------------


def sign_in(app, username: str):
    """Sign in through the form, as a browser does. Return the response to the POST."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD, "next": ""})


@pytest.fixture(scope="module")
def signed_up(env):
    session = env.database.session()
    try:
        operations.create_user(session, "somchai.maesai", "นายสมชาย ใจงาม", PASSWORD, "5570901", "clerk")
    finally:
        session.close()
    return "somchai.maesai"


def session_cookie(response) -> str:
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert len(cookies) == 1
    return cookies[0]


def cookie_attributes(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_session_cookie_is_httponly_and_samesite(env, signed_up):
    response = sign_in(env.app, signed_up)
    cookie = session_cookie(response)
    assert response.status_code == 302
    assert "httponly" in cookie_attributes(cookie)
    assert "SameSite=Lax" in cookie
    # Plain HTTP on a developer's machine: a Secure cookie would never be sent back.
    assert "secure" not in cookie_attributes(cookie)


def test_session_cookie_secure_behind_https(env, signed_up, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": env.database.engine.url.render_as_string(hide_password=False),
                      "SARABAN_STORAGE": str(tmp_path), "REDIS_URL": None, "SECRET_KEY": "https-test",
                      "SARABAN_HTTPS": True})
    try:
        response = sign_in(app, signed_up)
        cookie = session_cookie(response)
        assert response.status_code == 302
        assert "secure" in cookie_attributes(cookie)
        assert "httponly" in cookie_attributes(cookie)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        app.extensions["saraban.db"].dispose()


def test_wrong_password_sets_no_session(env, signed_up):
    client = env.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": signed_up, "password": "ผิด", "next": ""})
    assert response.status_code == 401
    with client.session_transaction() as web_session:
        assert "user_id" not in web_session


# --- page headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("page", "role"), SIGNED_IN_PAGES)
def test_pages_carry_security_headers(env, page, role):
    response = client_for(env.app, env.scenario, role).get(page)
    assert response.status_code == 200
    for name, value in PAGE_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")


def test_error_pages_carry_security_headers(env):
    response = client_for(env.app, env.scenario, "lao_clerk").get("/admin/staff")
    assert response.status_code == 403
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


# --- originals --------------------------------------------------------------------------------


def upload_original(env, data: bytes, filename: str) -> int:
    client = client_for(env.app, env.scenario, "lao_clerk")
    response = client.post("/upload", data={"csrf_token": client.csrf, "files": (io.BytesIO(data), filename)})
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.mark.parametrize(("data", "filename"), [
    (HTML_LIKE_LETTER, "หนังสือ.txt"),
    ("ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐ เรื่อง การใช้งานระบบบัญชี Carbon Credit".encode("utf-8"), "หนังสือ.txt"),
])
def test_original_is_a_download_never_a_page(env, data, filename):
    document_id = upload_original(env, data, filename)
    response = client_for(env.app, env.scenario, "lao_clerk").get(f"/documents/{document_id}/original")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "html" not in response.headers["Content-Type"]
    policy = response.headers.get("Content-Security-Policy", "")
    assert "sandbox" in policy
    assert "default-src 'none'" in policy


def test_pdf_original_is_served_inline_without_scripts(env):
    from tests.pdfmaker import thai_pdf

    data = thai_pdf([["ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐", "เรื่อง การใช้งานระบบบัญชี Carbon Credit"]])
    document_id = upload_original(env, data, "หนังสือ.pdf")
    response = client_for(env.app, env.scenario, "lao_clerk").get(f"/documents/{document_id}/original")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers.get("Content-Security-Policy", "")
