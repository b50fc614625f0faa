"""The Flask application factory and the per-request database session."""

from __future__ import annotations

import functools
import json
import logging
import secrets
from typing import Any, Callable

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from workflow import fields as letter_fields
from workflow.config import config_from_env
from workflow.db import Database
from workflow.errors import RequestTooLarge, WorkflowError
from workflow.operations import format_size
from workflow.storage import OriginalStore
from workflow.thaidate import format_be_date, format_be_datetime

log = logging.getLogger(__name__)

DB_EXTENSION = "saraban.db"
STORE_EXTENSION = "saraban.store"
# One request may carry this many files at the per-file size limit.
MAX_FILES_PER_REQUEST = 20


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the web application: settings from the environment, then `config` on top."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.update(config_from_env())
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        # Sign-ins then last only as long as this process.
        log.warning("SECRET_KEY is not set; using a random key for this process")
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = app.config["SARABAN_MAX_UPLOAD_BYTES"] * MAX_FILES_PER_REQUEST

    app.extensions[DB_EXTENSION] = Database(app.config["DATABASE_URL"])
    app.extensions[STORE_EXTENSION] = OriginalStore(app.config["SARABAN_STORAGE"])
    app.teardown_appcontext(_close_session)

    from workflow.web import admin, api, api_v1, auth, documents, fonts, ledger, routing

    app.register_blueprint(auth.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(api_v1.admin_page.bp)
    app.register_blueprint(fonts.bp)
    app.register_blueprint(routing.bp)
    app.register_blueprint(ledger.bp)
    app.register_blueprint(admin.bp)
    _register_template_helpers(app)
    _register_error_handlers(app)
    _exempt_token_requests_from_session(app, auth._load_user_and_check_csrf, api_v1.is_token_request)
    return app


def _exempt_token_requests_from_session(app: Flask, session_hook: Callable, is_token_request: Callable[[], bool]) -> None:
    """Skip the cookie-session hook (signed-in user and CSRF check) for API requests that carry a token.

    Those requests are authenticated by their Authorization header alone (see
    `workflow.web.api_v1.auth`), so the session cookie a browser adds on its own neither
    signs them in nor needs a CSRF token. A request without the header keeps both.
    """
    hooks = app.before_request_funcs.get(None, [])
    if session_hook not in hooks:
        raise RuntimeError("the sign-in and CSRF hook of workflow.web.auth is not registered on the app")

    @functools.wraps(session_hook)
    def session_hook_unless_token():
        if is_token_request():
            g.user = None
            return None
        return session_hook()

    hooks[hooks.index(session_hook)] = session_hook_unless_token


def get_database() -> Database:
    return current_app.extensions[DB_EXTENSION]


def get_store() -> OriginalStore:
    return current_app.extensions[STORE_EXTENSION]


def new_session() -> Session:
    """Open a session the caller closes; background tasks use one each."""
    return get_database().session()


def get_session() -> Session:
    """Return this application context's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def _close_session(_error: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["be_date"] = format_be_date
    app.jinja_env.filters["be_datetime"] = format_be_datetime
    app.jinja_env.globals.update(
        field_spec=letter_fields.spec_for,
        path_label=letter_fields.path_label,
        format_size=format_size,
        display_lines=letter_fields.display_lines,
        form_text=letter_fields.form_text,
        CAPACITY=letter_fields.CAPACITY,
    )


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(WorkflowError)
    def _workflow_error(error: WorkflowError):
        log.info("request %s %s rejected: %s", request.method, request.path, error.message_en)
        if wants_json():
            return {"error": {"code": error.code, "message": error.message_th}}, error.http_status
        return render_template("error.html", error=error), error.http_status

    @app.errorhandler(413)
    def _too_large(_error):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        error = RequestTooLarge(
            "file_too_large",
            f"ไฟล์ที่ส่งมารวมกันมีขนาดเกิน {format_size(limit)} ระบบจึงไม่รับ กรุณาแบ่งส่งทีละน้อยลง",
            f"request body over MAX_CONTENT_LENGTH ({limit} bytes)",
        )
        return _workflow_error(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        # JSON clients get the error object; pages keep Werkzeug's own response.
        if not wants_json():
            return error
        messages_th = {
            405: "ไม่รองรับคำขอแบบ {method} ที่ที่อยู่นี้".format(method=request.method),
            415: "ไม่รองรับชนิดข้อมูลที่ส่งมา",
        }
        message_th = messages_th.get(error.code, "คำขอไม่ถูกต้อง")
        code = (error.name or "http_error").lower().replace(" ", "_")
        response = error.get_response()
        response.set_data(json.dumps({"error": {"code": code, "message": message_th}}, ensure_ascii=False))
        response.mimetype = "application/json"
        return response

    @app.errorhandler(500)
    def _server_error(_error):
        error = WorkflowError("internal_error", "ระบบขัดข้อง กรุณาลองใหม่อีกครั้ง หากยังไม่ได้ กรุณาแจ้งผู้ดูแลระบบ",
                              f"unhandled error on {request.method} {request.path}")
        if wants_json():
            return {"error": {"code": error.code, "message": error.message_th}}, 500
        return render_template("error.html", error=error), 500

    @app.errorhandler(404)
    def _not_found(_error):
        error = WorkflowError("not_found", "ไม่พบหน้าที่ต้องการ", f"no route for {request.path}")
        if wants_json():
            return {"error": {"code": error.code, "message": error.message_th}}, 404
        return render_template("error.html", error=error), 404
