"""Functions behind `saraban ecms`, `saraban watch` and `saraban mail`."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from workflow.app import create_app, get_store, new_session
from workflow.errors import WorkflowError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_UNREADABLE = 2


def _print_error(path: str, error: WorkflowError, as_json: bool) -> None:
    sys.stderr.write(f"{path}: {error.message_th} / {error.message_en} [{error.code}]\n")
    if as_json:
        sys.stdout.write(json.dumps({"file": path, "error": error.as_dict()}, ensure_ascii=False) + "\n")


def _user(session, username: str | None):
    if username is None:
        return None
    from sqlalchemy import select

    from workflow.errors import NotFound
    from workflow.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", f"ไม่พบผู้ใช้ “{username}”", f"no user {username!r}")
    return user


def ecms_import_command(path: str, as_json: bool, username: str | None, notifier_path: str | None) -> int:
    """Import one e-CMS message file; print the parse result (JSON) or a Thai summary."""
    from workflow.integration.ecms_codes import load_code_table
    from workflow.integration.ecms_exchange import import_message

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        _print_error(path, WorkflowError("file_unreadable", "เปิดไฟล์นี้ไม่ได้", str(error)), as_json)
        return EXIT_UNREADABLE
    app = create_app()
    with app.app_context():
        session = new_session()
        try:
            imported = import_message(
                session, get_store(), data, load_code_table(), app.config["SARABAN_MAX_UPLOAD_BYTES"],
                user=_user(session, username),
            )
        except WorkflowError as error:
            _print_error(path, error, as_json)
            return EXIT_UNREADABLE
        finally:
            session.close()
    result = {**imported.result, "file": path, "receipt_number": imported.receipt_number}
    if notifier_path:
        Path(notifier_path).write_bytes(imported.notifier)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
    else:
        letter = imported.letter
        number = (letter.get("doc_number") or {}).get("text") or "(ไม่มีเลขที่)"
        receipt = f" เลขรับ {imported.receipt_number}" if imported.receipt_number else ""
        sys.stdout.write(f"{path}: รับหนังสือ {number} เรื่อง {letter.get('subject')}{receipt}\n")
    return EXIT_OK


def ecms_export_command(letter_id: int, output: str | None) -> int:
    """Write the e-CMS message of a stored letter to `output`, or to standard output."""
    from workflow.integration.ecms_codes import load_code_table
    from workflow.integration.ecms_exchange import export_letter

    app = create_app()
    with app.app_context():
        session = new_session()
        try:
            data = export_letter(session, get_store(), letter_id, load_code_table())
        except WorkflowError as error:
            _print_error(str(letter_id), error, False)
            return EXIT_ERROR
        finally:
            session.close()
    if output:
        Path(output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return EXIT_OK


def _log_progress() -> None:
    # The command line logs warnings only; a long-running watcher or fetch also reports each file.
    logging.getLogger("workflow.integration").setLevel(logging.INFO)


def watch_command(folder: str | None, interval: float, once: bool) -> int:
    """Watch a folder (default `SARABAN_WATCH_DIR`) and ingest each file once its size is stable.

    `SARABAN_WATCH_USER` names the clerk whose office receives the documents.
    """
    import os

    _log_progress()
    from workflow.integration.watchfolder import WatchFolder

    folder = folder or os.environ.get("SARABAN_WATCH_DIR")
    if not folder:
        sys.stderr.write("ไม่ได้ระบุโฟลเดอร์ที่จะเฝ้าดู / no folder given and SARABAN_WATCH_DIR is not set\n")
        return EXIT_ERROR
    watcher = WatchFolder(create_app(), folder, os.environ.get("SARABAN_WATCH_USER"))
    log.info("watching %s every %.1f s", folder, interval)
    while True:
        try:
            outcomes = watcher.scan()
        except (FileNotFoundError, LookupError) as error:
            sys.stderr.write(f"เฝ้าดูโฟลเดอร์ไม่ได้ / {error}\n")
            return EXIT_ERROR
        for outcome in outcomes:
            sys.stdout.write(json.dumps(outcome, ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()
        if once and not watcher.pending:
            return EXIT_OK
        time.sleep(interval)


def mail_fetch_command() -> int:
    """Ingest the letters attached to unseen messages of the configured IMAP mailbox."""
    from workflow.integration.mail import MailSettings, fetch_mail

    from workflow.integration.mail import MailConfigError

    _log_progress()
    try:
        outcomes = fetch_mail(create_app(), MailSettings.from_env())
    except MailConfigError as error:
        sys.stderr.write(f"ตั้งค่าการรับอีเมลไม่ครบหรือไม่ถูกต้อง / {error}\n")
        return EXIT_ERROR
    for outcome in outcomes:
        sys.stdout.write(json.dumps(outcome, ensure_ascii=False, default=str) + "\n")
    return EXIT_OK


def mail_send_notices_command() -> int:
    """Send new reminders, escalations and assignments by e-mail through the configured SMTP server."""
    from workflow.integration.mail import MailSettings, send_pending_notices

    from workflow.integration.mail import MailConfigError

    _log_progress()
    try:
        sent = send_pending_notices(create_app(), MailSettings.from_env())
    except MailConfigError as error:
        sys.stderr.write(f"ตั้งค่าการส่งอีเมลไม่ครบหรือไม่ถูกต้อง / {error}\n")
        return EXIT_ERROR
    sys.stdout.write(json.dumps({"sent": sent}) + "\n")
    return EXIT_OK
