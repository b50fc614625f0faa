"""E-mail in and out: letters attached to messages in an IMAP mailbox, and notices sent through SMTP.

Mail in: `fetch_mail` reads the unseen messages of one mailbox, ingests each attached PDF,
text or image file as an upload, and marks the message seen once its attachments have
been handled. Other attachments are skipped with a log line.

Mail out: `send_pending_notices` sends the reminders and escalations of the routing jobs to
the addresses of the office they are for, and each assignment to the assigned officer. The
ids already sent are kept in a small JSON state file, so each notice goes out once.
Addresses come from a JSON file (`SARABAN_MAIL_ADDRESSES`), because the directory contains none.

Nothing connects anywhere unless its host is set: there is no default server.
"""

from __future__ import annotations

import email
import imaplib
import json
import logging
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from workflow import operations
from workflow.config import PROJECT_ROOT
from workflow.errors import WorkflowError
from workflow.models import JOB_FAILED, Organization, User
from workflow.thaidate import format_be_date

log = logging.getLogger(__name__)

# Attachment types taken as letters; a generic type is judged by the file name's suffix.
LETTER_TYPES = frozenset({"application/pdf", "text/plain", "image/png", "image/jpeg", "image/tiff"})
GENERIC_TYPES = frozenset({"application/octet-stream", "application/x-pdf", "binary/octet-stream"})
LETTER_SUFFIXES = (".pdf", ".txt", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
DEFAULT_TIMEOUT_SECONDS = 30
# One fetch handles at most this many messages; the rest wait for the next run.
MAX_MESSAGES_PER_FETCH = 200


class MailConfigError(ValueError):
    """A mail setting that is missing or invalid; the message names the variable."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class MailSettings:
    """IMAP and SMTP settings, from the `SARABAN_IMAP_*`, `SARABAN_SMTP_*` and `SARABAN_MAIL_*` variables."""

    imap_host: str | None = None
    imap_port: int | None = None
    imap_user: str | None = None
    imap_password: str | None = None
    imap_ssl: bool = True
    imap_mailbox: str = "INBOX"
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_ssl: bool = False
    smtp_starttls: bool = True
    smtp_from: str | None = None
    # The clerk whose office receives the documents that arrive by mail.
    mail_user: str | None = None
    addresses_file: str | None = None
    state_file: str = str(PROJECT_ROOT / "var" / "mail-state.json")
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    addresses: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "MailSettings":
        env = os.environ if environ is None else environ
        settings = cls(
            imap_host=env.get("SARABAN_IMAP_HOST") or None,
            imap_port=int(env["SARABAN_IMAP_PORT"]) if env.get("SARABAN_IMAP_PORT") else None,
            imap_user=env.get("SARABAN_IMAP_USER") or None,
            imap_password=env.get("SARABAN_IMAP_PASSWORD") or None,
            imap_ssl=_flag(env.get("SARABAN_IMAP_SSL"), True),
            imap_mailbox=env.get("SARABAN_IMAP_MAILBOX") or "INBOX",
            smtp_host=env.get("SARABAN_SMTP_HOST") or None,
            smtp_port=int(env["SARABAN_SMTP_PORT"]) if env.get("SARABAN_SMTP_PORT") else None,
            smtp_user=env.get("SARABAN_SMTP_USER") or None,
            smtp_password=env.get("SARABAN_SMTP_PASSWORD") or None,
            smtp_ssl=_flag(env.get("SARABAN_SMTP_SSL"), False),
            smtp_starttls=_flag(env.get("SARABAN_SMTP_STARTTLS"), True),
            smtp_from=env.get("SARABAN_SMTP_FROM") or None,
            mail_user=env.get("SARABAN_MAIL_USER") or None,
            addresses_file=env.get("SARABAN_MAIL_ADDRESSES") or None,
            state_file=env.get("SARABAN_MAIL_STATE") or str(PROJECT_ROOT / "var" / "mail-state.json"),
            timeout=float(env.get("SARABAN_MAIL_TIMEOUT") or DEFAULT_TIMEOUT_SECONDS),
        )
        if settings.addresses_file:
            settings.addresses = load_addresses(settings.addresses_file)
        return settings


def load_addresses(path: str | os.PathLike) -> dict:
    """Read `{"organizations": {code: [address]}, "users": {username: address}}`. Raises MailConfigError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise MailConfigError(f"SARABAN_MAIL_ADDRESSES file {path}: {error}") from error
    if not isinstance(data, dict):
        raise MailConfigError(f"SARABAN_MAIL_ADDRESSES file {path}: expected an object")
    return {"organizations": dict(data.get("organizations") or {}), "users": dict(data.get("users") or {})}


# --- mail in ----------------------------------------------------------------------------


def _letter_parts(message: Message) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Return the letter attachments as (filename, bytes) and a description of each skipped attachment."""
    letters, skipped = [], []
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if filename is None and disposition != "attachment":
            continue  # the message body, not an attachment
        filename = filename or f"attachment-{index}"
        content_type = part.get_content_type()
        suffix_ok = filename.lower().endswith(LETTER_SUFFIXES)
        if content_type in LETTER_TYPES or (content_type in GENERIC_TYPES and suffix_ok):
            letters.append((filename, part.get_payload(decode=True) or b""))
        else:
            skipped.append(f"{filename} ({content_type})")
    return letters, skipped


def _connect_imap(settings: MailSettings) -> imaplib.IMAP4:
    if not settings.imap_host:
        raise MailConfigError("SARABAN_IMAP_HOST is not set; no mailbox to read")
    if settings.imap_ssl:
        return imaplib.IMAP4_SSL(settings.imap_host, settings.imap_port or 993,
                                 ssl_context=ssl.create_default_context(), timeout=settings.timeout)
    return imaplib.IMAP4(settings.imap_host, settings.imap_port or 143, timeout=settings.timeout)


def _ingest_attachment(app: Flask, session, store, user: User | None, filename: str, data: bytes) -> dict:
    max_bytes = app.config["SARABAN_MAX_UPLOAD_BYTES"]
    outcome: dict = {"file": filename, "document_id": None, "created": False, "error": None}
    try:
        ingested = operations.ingest_upload(session, store, data[: max_bytes + 1], filename, user, max_bytes)
        outcome.update(document_id=ingested.document.id, created=ingested.created)
        if ingested.created:
            job = operations.run_parse(session, store, ingested.job.id, max_bytes)
            if job.status == JOB_FAILED:
                outcome["error"] = {"code": job.error_code, "message": job.error_message_th}
    except WorkflowError as error:
        outcome["error"] = {"code": error.code, "message": error.message_th}
    except Exception as error:  # noqa: BLE001 - one bad attachment must not block the mailbox
        log.exception("mail: ingest of attachment %s failed", filename)
        outcome["error"] = {"code": "parse_failed", "message": f"{type(error).__name__}: {error}"}
    return outcome


def fetch_mail(app: Flask, settings: MailSettings) -> list[dict]:
    """Ingest the letter attachments of every unseen message and mark each message seen.

    Returns one outcome per attachment: `{"message", "file", "document_id", "created",
    "error"}`. A message is marked seen after all its attachments were handled, whether or
    not they could be read. Raises MailConfigError without SARABAN_IMAP_HOST, and
    imaplib's errors when the server refuses the login or the mailbox.
    """
    outcomes: list[dict] = []
    client = _connect_imap(settings)
    try:
        client.login(settings.imap_user or "", settings.imap_password or "")
        status, _ = client.select(settings.imap_mailbox)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select mailbox {settings.imap_mailbox!r}")
        _status, found = client.search(None, "UNSEEN")
        numbers = (found[0] or b"").split()[:MAX_MESSAGES_PER_FETCH]
        log.info("mail: %d unseen messages in %s", len(numbers), settings.imap_mailbox)
        with app.app_context():
            from workflow.app import get_store, new_session

            session = new_session()
            try:
                user = _mail_user(session, settings.mail_user)
                for number in numbers:
                    outcomes.extend(_process_message(app, client, session, get_store(), user, number))
            finally:
                session.close()
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError) as error:
            log.warning("mail: logout failed: %s", error)
    return outcomes


def _mail_user(session, username: str | None) -> User | None:
    if not username:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise MailConfigError(f"SARABAN_MAIL_USER {username!r} is not a user")
    return user


def _process_message(app: Flask, client: imaplib.IMAP4, session, store, user, number: bytes) -> list[dict]:
    # BODY.PEEK[] leaves the message unseen; RFC822 would mark it seen on the server at once, and
    # a crash before the ingest below would then lose the message for good.
    _status, parts = client.fetch(number, "(BODY.PEEK[])")
    raw = next((item[1] for item in parts if isinstance(item, tuple)), b"")
    message = email.message_from_bytes(raw, policy=default_policy)
    message_id = str(message.get("Message-ID") or number.decode())
    letters, skipped = _letter_parts(message)
    for description in skipped:
        log.info("mail: message %s: skipped attachment %s, not a letter type", message_id, description)
    outcomes = []
    for filename, data in letters:
        outcome = _ingest_attachment(app, session, store, user, filename, data)
        log.info("mail: message %s: %s -> document %s (error %s)", message_id, filename,
                 outcome["document_id"], (outcome["error"] or {}).get("code"))
        outcomes.append({"message": message_id, **outcome})
    client.store(number, "+FLAGS", "(\\Seen)")
    return outcomes


# --- mail out ---------------------------------------------------------------------------


def _read_state(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as error:
        raise MailConfigError(f"mail state file {path} is damaged: {error}") from error


def _write_state(path: str, state: dict) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    temporary.replace(target)


def _connect_smtp(settings: MailSettings) -> smtplib.SMTP:
    if not settings.smtp_host:
        raise MailConfigError("SARABAN_SMTP_HOST is not set; no server to send through")
    if not settings.smtp_from:
        raise MailConfigError("SARABAN_SMTP_FROM is not set; notices need a sender address")
    context = ssl.create_default_context()
    if settings.smtp_ssl:
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port or 465, timeout=settings.timeout,
                                  context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port or 587, timeout=settings.timeout)
        if settings.smtp_starttls:
            client.starttls(context=context)
    if settings.smtp_user:
        client.login(settings.smtp_user, settings.smtp_password or "")
    return client


def compose(settings: MailSettings, to: list[str], subject: str, body: str) -> EmailMessage:
    """Build a UTF-8 message; the Thai subject is encoded as RFC 2047 words by the email package."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    return message


SIGNATURE = "\n\nข้อความนี้ส่งโดยอัตโนมัติจากระบบสารบรรณ กรุณาเข้าสู่ระบบเพื่อดูรายละเอียด ไม่ต้องตอบกลับอีเมลนี้\n"


def _letter_label(letter) -> str:
    return f"หนังสือที่ {letter.doc_number}" if letter.doc_number else f"หนังสือเรื่อง {letter.subject}"


def notice_mail(notice, task, organization) -> tuple[str, str]:
    """Return the Thai subject and body of a reminder or an escalation for `organization`."""
    from workflow.routing.models import NOTICE_ESCALATION

    letter = task.letter
    heading = "เร่งรัดงานที่เกินกำหนด" if notice.kind == NOTICE_ESCALATION else "แจ้งเตือนกำหนดส่ง"
    subject = f"[สารบรรณ] {heading}: {_letter_label(letter)}"
    body = (
        f"เรียน {organization.name_th}\n\n"
        f"{notice.message_th}\n\n"
        f"เรื่อง {letter.subject}\n"
        f"หน่วยงานผู้รับ {task.recipient.name_th}\n"
        f"กำหนดส่ง {format_be_date(notice.due_date)}"
        + SIGNATURE
    )
    return subject, body


def assignment_mail(event, task) -> tuple[str, str]:
    """Return the Thai subject and body telling an officer of an assignment."""
    letter = task.letter
    data = event.data or {}
    due = f"\nกำหนดส่ง {format_be_date(task.due_effective)}" if task.due_effective else ""
    note = f"\nข้อสั่งการ: {data['note']}" if data.get("note") else ""
    subject = f"[สารบรรณ] มอบหมายงาน: {_letter_label(letter)}"
    body = (
        f"เรียน {data.get('assignee_name') or 'ผู้รับผิดชอบ'}\n\n"
        f"ท่านได้รับมอบหมายให้ดำเนินการตาม{_letter_label(letter)}\n"
        f"เรื่อง {letter.subject}{due}{note}"
        + SIGNATURE
    )
    return subject, body


def send_pending_notices(app: Flask, settings: MailSettings) -> int:
    """Send every notice and assignment not sent before; return how many messages were sent.

    A notice for an office with no address, or an assignment to a user with none, is
    skipped with a log line and not retried. Raises MailConfigError for missing settings
    and smtplib's errors when the server refuses; what was sent before the error stays
    recorded in the state file.
    """
    from workflow.routing.models import EVENT_ASSIGNED, Notice, RoutingTask, TaskEvent

    state = _read_state(settings.state_file)
    organization_addresses = settings.addresses.get("organizations", {})
    user_addresses = settings.addresses.get("users", {})
    sent = 0
    with app.app_context():
        from workflow.app import new_session

        session = new_session()
        client = None
        try:
            notices = list(session.scalars(
                select(Notice).where(Notice.id > state.get("notice_id", 0)).order_by(Notice.id)
            ))
            events = list(session.scalars(
                select(TaskEvent).where(TaskEvent.kind == EVENT_ASSIGNED, TaskEvent.id > state.get("event_id", 0))
                .order_by(TaskEvent.id)
            ))
            if not notices and not events:
                return 0
            client = _connect_smtp(settings)
            for notice in notices:
                task = session.get(RoutingTask, notice.task_id)
                organization = session.get(Organization, notice.organization_id)
                to = list(organization_addresses.get(organization.code) or [])
                if to:
                    client.send_message(compose(settings, to, *notice_mail(notice, task, organization)))
                    sent += 1
                    log.info("mail: notice %d (%s) sent to org %s", notice.id, notice.kind, organization.code)
                else:
                    log.warning("mail: notice %d skipped: no address for org %s", notice.id, organization.code)
                state["notice_id"] = notice.id
                _write_state(settings.state_file, state)
            for event in events:
                task = session.get(RoutingTask, event.task_id)
                assignee = session.get(User, (event.data or {}).get("assignee_id"))
                to = [user_addresses[assignee.username]] if assignee and assignee.username in user_addresses else []
                if to:
                    client.send_message(compose(settings, to, *assignment_mail(event, task)))
                    sent += 1
                    log.info("mail: assignment event %d sent to user %s", event.id, assignee.username)
                else:
                    log.warning("mail: assignment event %d skipped: no address for its assignee", event.id)
                state["event_id"] = event.id
                _write_state(settings.state_file, state)
        finally:
            if client is not None:
                client.quit()
            session.close()
    return sent
