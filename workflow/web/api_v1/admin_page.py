"""The admin page of API tokens (`/admin/api-tokens`): list, create and revoke the tokens of the offices an admin manages.

An admin manages their own office and the offices directly under it, as on the staff page.
A new token is shown once, on the page that answers the create form; only its SHA-256 is kept.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from workflow import apitokens
from workflow.app import get_session
from workflow.errors import WorkflowError
from workflow.models import ROLE_ADMIN, Organization, User
from workflow.routing.access import require_role
from workflow.web.api_v1.inputs import ID
from workflow.web.auth import login_required

log = logging.getLogger(__name__)

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")


@bp.before_request
@login_required
def _require_admin():
    require_role(g.user, (ROLE_ADMIN,), "จัดการโทเค็น API", "manage API tokens")


def _render(http_status: int = 200, created: apitokens.CreatedToken | None = None, form: dict | None = None):
    session = get_session()
    organization_ids = apitokens.managed_organization_ids(session, g.user)
    tokens = session.scalars(
        select(apitokens.ApiToken).where(apitokens.ApiToken.organization_id.in_(organization_ids))
        .order_by(apitokens.ApiToken.id)
    ).all()
    users = session.scalars(
        select(User).join(Organization, Organization.id == User.organization_id)
        .where(User.organization_id.in_(organization_ids)).order_by(Organization.code, User.username)
    ).all()
    # The admin's own office comes first, so that the preselected user is one of its staff.
    users = sorted(users, key=lambda user: user.organization_id != g.user.organization_id)
    return render_template("api_v1/tokens.html", tokens=tokens, users=users, created=created,
                           token_prefix=apitokens.TOKEN_PREFIX, form=form or {}), http_status


@bp.get("/")
def tokens_page():
    return _render()


@bp.post("/")
def create_token():
    try:
        created = apitokens.create_token(get_session(), request.form.get("username", ""),
                                         request.form.get("name", ""), created_by=g.user.username, admin=g.user)
    except WorkflowError as error:
        log.info("user %s: API token not created: %s", g.user.username, error.message_en)
        flash(error.message_th, "error")
        return _render(error.http_status, form=request.form.to_dict())
    return _render(201, created=created)


@bp.post(f"/<{ID}:token_id>/revoke")
def revoke_token(token_id: int):
    try:
        record = apitokens.revoke_token(get_session(), token_id, admin=g.user)
    except WorkflowError as error:
        log.info("user %s: API token %s not revoked: %s", g.user.username, token_id, error.message_en)
        flash(error.message_th, "error")
        return _render(error.http_status)
    flash(f"ยกเลิกโทเค็น “{record.name}” แล้ว คำขอที่ใช้โทเค็นนี้จะถูกปฏิเสธตั้งแต่นี้ไป", "success")
    return redirect(url_for("api_tokens.tokens_page"))
