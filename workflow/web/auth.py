"""Sign-in and sign-out, the signed-in user, the CSRF token every form carries, and browser protections.

Every response gets headers that forbid framing and MIME sniffing (a view may set stricter
ones first, as the original-file download does). The session cookie is HttpOnly and
SameSite=Lax, and Secure when the site is served over HTTPS (`SARABAN_HTTPS`).
"""

from __future__ import annotations

import functools
import hmac
import secrets

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from workflow import operations
from workflow.app import get_session, wants_json
from workflow.errors import AuthenticationFailed, WorkflowError
from workflow.models import User

bp = Blueprint("auth", __name__)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Set on every response unless the view set the header itself. The policy leaves scripts and
# styles alone, because the pages have inline ones, and only forbids framing, plugins,
# a foreign <base> and forms posting to other sites.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
}
HSTS_HEADER = "max-age=31536000"


@bp.record_once
def _configure_session_cookie(state) -> None:
    """Make the session cookie HttpOnly, SameSite=Lax unless the config sets another, and Secure under HTTPS."""
    config = state.app.config
    https = bool(config.get("SARABAN_HTTPS"))
    config["SESSION_COOKIE_HTTPONLY"] = True
    if config.get("SESSION_COOKIE_SAMESITE") is None:
        config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if https:
        config["SESSION_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"


@bp.after_app_request
def _set_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SARABAN_HTTPS"):
        response.headers.setdefault("Strict-Transport-Security", HSTS_HEADER)
    return response


def csrf_token() -> str:
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


@bp.app_context_processor
def _inject_helpers():
    return {"csrf_token": csrf_token, "current_user": g.get("user")}


@bp.before_app_request
def _load_user_and_check_csrf():
    user_id = session.get("user_id")
    g.user = get_session().get(User, user_id) if user_id is not None else None
    if request.method == "POST":
        sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        expected = session.get(CSRF_FIELD) or ""
        if not expected or not hmac.compare_digest(sent, expected):
            raise WorkflowError(
                "form_expired",
                "แบบฟอร์มนี้หมดอายุหรือไม่ได้ส่งมาจากหน้านี้ กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง",
                f"missing or invalid CSRF token on {request.method} {request.path}",
            )


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            if wants_json():
                return {"error": {"code": "sign_in_required", "message": "กรุณาเข้าสู่ระบบก่อน"}}, 401
            # full_path ends in a bare "?" when there is no query string.
            target = request.full_path if request.query_string else request.path
            return redirect(url_for("auth.login", next=target))
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    # Only paths on this site, so a crafted link cannot send the user elsewhere after sign-in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("documents.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    try:
        user = operations.authenticate(get_session(), username, request.form.get("password", ""))
    except AuthenticationFailed as error:
        flash(error.message_th, "error")
        return render_template("login.html", next=request.form.get("next", ""), username=username), 401
    session.clear()
    session["user_id"] = user.id
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
