"""Authentication of `/api/v1` requests: an API token in the Authorization header, or a signed-in session."""

from __future__ import annotations

from flask import g, request

from workflow import apitokens
from workflow.app import get_session
from workflow.errors import AuthenticationFailed
from workflow.web.api_v1 import bp

PREFIX = "/api/v1"
# Endpoints anyone may read without a token: the API's own description.
PUBLIC_ENDPOINTS = frozenset({"api_v1.openapi_document"})


def is_token_request() -> bool:
    """Return whether this request is an `/api/v1` call that carries an Authorization header.

    Such a request is authenticated by that header alone, never by the session cookie.
    """
    under_api = request.path == PREFIX or request.path.startswith(PREFIX + "/")
    return under_api and "Authorization" in request.headers


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise apitokens.TokenRejected(
            "invalid_token", "ส่วนหัว Authorization ต้องเป็น “Bearer” ตามด้วยโทเค็น API",
            f"Authorization header with scheme {scheme[:20]!r} is not a bearer token",
        )
    return token


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    if "Authorization" in request.headers:
        record = apitokens.authenticate_token(get_session(), _bearer_token())
        g.user = record.user
        g.api_token = record
        return
    if g.get("user") is None:
        raise AuthenticationFailed(
            "authentication_required",
            "กรุณาส่งโทเค็น API ในส่วนหัว Authorization: Bearer หรือเข้าสู่ระบบก่อน",
            f"{request.method} {request.path} without a bearer token or a signed-in session",
        )


@bp.after_request
def _challenge(response):
    # RFC 6750: a 401 names the scheme the client should use.
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="saraban"'
    return response
