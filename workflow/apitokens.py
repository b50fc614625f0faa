"""API tokens: per-organization bearer tokens for `/api/v1`, each acting as one user of that organization.

A token is 32 random bytes, shown once when it is created. The database keeps only its
SHA-256 digest and a short prefix that identifies it in listings. A plain digest, not a
slow password hash, is enough here because the token is random and long, so it cannot be
guessed from a dictionary.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from workflow.db import transaction
from workflow.errors import AuthenticationFailed, InvalidValue, NotFound, PermissionDenied
from workflow.models import ROLE_ADMIN, Base, Organization, User, utcnow

log = logging.getLogger(__name__)

TOKEN_PREFIX = "srb_"
# Characters of the token, after TOKEN_PREFIX, that a listing shows to tell tokens apart.
SHOWN_PREFIX_LENGTH = 8
MAX_NAME_LENGTH = 100
# token_urlsafe(32) gives 43 characters; a longer header value cannot be a token of ours.
MAX_TOKEN_LENGTH = 100


class ApiToken(Base):
    """A bearer token of one organization; requests that carry it act as `user`."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    # The first characters of the token after TOKEN_PREFIX, kept in clear for listings.
    shown_prefix: Mapped[str] = mapped_column(String(16))
    # Hex SHA-256 of the whole token as sent in the Authorization header.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship()


@dataclass
class CreatedToken:
    """A new token record and the token itself, which is never stored and cannot be shown again."""

    record: ApiToken
    token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def managed_organization_ids(session: Session, admin: User) -> list[int]:
    """Return the ids of the admin's office and of the offices directly under it, whose tokens the admin manages."""
    children = session.scalars(select(Organization.id).where(Organization.parent_id == admin.organization_id))
    return [admin.organization_id, *children]


def _require_manager(session: Session, admin: User, organization_id: int) -> None:
    if admin.role != ROLE_ADMIN:
        raise PermissionDenied(
            "admin_only", "เฉพาะผู้ดูแลระบบของหน่วยงานจัดการโทเค็น API ได้",
            f"user {admin.username} has role {admin.role}, not admin",
        )
    if organization_id not in managed_organization_ids(session, admin):
        raise PermissionDenied(
            "other_organization", "ท่านจัดการโทเค็นได้เฉพาะของหน่วยงานของท่านและหน่วยงานในสังกัดโดยตรง",
            f"admin {admin.username} (org {admin.organization_id}) does not manage org {organization_id}",
        )


def create_token(session: Session, username: str, name: str, created_by: str,
                 admin: User | None = None) -> CreatedToken:
    """Create a token that acts as `username` for that user's organization; return it once, in clear.

    With `admin` (the admin page), the user must belong to an office that admin manages. The
    command line passes no admin, because whoever runs it already controls the server.
    """
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidValue(
            "invalid_token_name",
            f"ชื่อโทเค็นต้องมี 1 ถึง {MAX_NAME_LENGTH} ตัวอักษร เช่น “ระบบ e-office ของอำเภอ”",
            f"token name {name!r} must be 1 to {MAX_NAME_LENGTH} characters",
        )
    with transaction(session):
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound("user_not_found", f"ไม่พบผู้ใช้ “{username}”", f"no user {username!r}")
        if admin is not None:
            _require_manager(session, admin, user.organization_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = ApiToken(
            organization_id=user.organization_id,
            user_id=user.id,
            name=name,
            shown_prefix=token[len(TOKEN_PREFIX):len(TOKEN_PREFIX) + SHOWN_PREFIX_LENGTH],
            token_sha256=token_digest(token),
            created_by=created_by,
        )
        session.add(record)
    log.info("API token %d (%s) created for user %s of org %s by %s",
             record.id, record.shown_prefix, user.username, user.organization_id, created_by)
    return CreatedToken(record, token)


def list_tokens(session: Session, organization_code: str | None = None) -> list[ApiToken]:
    """Return the tokens, oldest first, of one organization (by its code) or of all of them."""
    query = select(ApiToken).order_by(ApiToken.id)
    if organization_code is not None:
        query = query.join(Organization, Organization.id == ApiToken.organization_id).where(
            Organization.code == organization_code
        )
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, admin: User | None = None) -> ApiToken:
    """Mark a token revoked from now on; revoking it again keeps the first revocation time.

    With `admin`, the token must be of an office that admin manages.
    """
    with transaction(session):
        record = session.get(ApiToken, token_id)
        if record is None:
            raise NotFound("token_not_found", f"ไม่พบโทเค็นหมายเลข {token_id}", f"no API token {token_id}")
        if admin is not None:
            _require_manager(session, admin, record.organization_id)
        if record.revoked_at is None:
            record.revoked_at = utcnow()
    log.info("API token %d (%s) revoked", record.id, record.shown_prefix)
    return record


class TokenRejected(AuthenticationFailed):
    """A bearer token that is unknown, malformed or revoked."""


def authenticate_token(session: Session, token: str) -> ApiToken:
    """Return the live token record for `token`, or raise TokenRejected. Writes nothing."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRejected(
            "invalid_token", "โทเค็น API ไม่ถูกต้อง กรุณาตรวจสอบค่าในส่วนหัว Authorization",
            "bearer value is not a Saraban API token",
        )
    digest = token_digest(token)
    record = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest))
    if record is None:
        raise TokenRejected(
            "invalid_token", "โทเค็น API ไม่ถูกต้อง กรุณาตรวจสอบค่าในส่วนหัว Authorization",
            "no API token has this digest",
        )
    if record.revoked_at is not None:
        raise TokenRejected(
            "token_revoked", "โทเค็น API นี้ถูกยกเลิกแล้ว กรุณาขอโทเค็นใหม่จากผู้ดูแลระบบ",
            f"API token {record.id} was revoked at {record.revoked_at.isoformat()}",
        )
    if record.user.organization_id != record.organization_id:
        # The user moved to another office after the token was made; the token stays with the old one.
        raise TokenRejected(
            "token_organization_changed",
            "ผู้ใช้ของโทเค็นนี้ย้ายไปหน่วยงานอื่นแล้ว โทเค็นจึงใช้ไม่ได้ กรุณาขอโทเค็นใหม่จากผู้ดูแลระบบ",
            f"API token {record.id} is for org {record.organization_id} but user {record.user_id} "
            f"is now in org {record.user.organization_id}",
        )
    return record


# --- `saraban api-token` -------------------------------------------------------------------


def _token_row(record: ApiToken) -> dict:
    return {
        "id": record.id,
        "name": record.name,
        "prefix": TOKEN_PREFIX + record.shown_prefix,
        "organization": record.organization.code,
        "user": record.user.username,
        "role": record.user.role,
        "created_at": record.created_at.isoformat(),
        "created_by": record.created_by,
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
    }


def token_command(action: str, *, username: str | None = None, name: str | None = None,
                  organization_code: str | None = None, token_id: int | None = None, as_json: bool = False) -> int:
    """Run `saraban api-token create|list|revoke` on the configured database; return the exit status."""
    import getpass
    import json
    import sys

    from workflow.app import create_app, new_session
    from workflow.thaidate import format_be_datetime

    app = create_app()
    with app.app_context():
        session = new_session()
        try:
            if action == "create":
                created = create_token(session, username or "", name or "", created_by=getpass.getuser()[:64])
                row = {**_token_row(created.record), "token": created.token}
                if as_json:
                    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                else:
                    sys.stdout.write(
                        f"สร้างโทเค็นหมายเลข {row['id']} ของ {row['organization']} ทำงานในนามผู้ใช้ {row['user']} แล้ว\n"
                        f"{created.token}\n"
                        "เก็บโทเค็นนี้ไว้ในที่ปลอดภัย ระบบจะไม่แสดงอีก\n"
                    )
            elif action == "list":
                rows = [_token_row(record) for record in list_tokens(session, organization_code)]
                if as_json:
                    sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
                for row in rows if not as_json else []:
                    record_state = "ยกเลิกแล้ว" if row["revoked_at"] else "ใช้งานได้"
                    sys.stdout.write(f"{row['id']}\t{row['prefix']}…\t{row['organization']}\t{row['user']}\t"
                                     f"{row['name']}\t{record_state}\n")
            else:
                record = revoke_token(session, token_id)
                sys.stdout.write(f"ยกเลิกโทเค็นหมายเลข {record.id} ({record.name}) แล้ว เมื่อ "
                                 f"{format_be_datetime(record.revoked_at)}\n")
        except (NotFound, InvalidValue) as error:
            sys.stderr.write(f"{error.message_th} / {error.message_en} [{error.code}]\n")
            return 1
        finally:
            session.close()
    return 0
