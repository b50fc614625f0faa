"""Import e-CMS messages as documents and receipts, export stored letters as messages, build notifiers.

These are operations in the sense of `workflow.operations`: the command line and jobs call
them with a session and the original store.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from parsers.pipeline import parse_document
from workflow import operations
from workflow.errors import NotFound
from workflow.integration import ecms
from workflow.integration.ecms_codes import CodeTable
from workflow.models import JOB_FAILED, Letter, User
from workflow.storage import OriginalStore

log = logging.getLogger(__name__)

MIME_SUFFIXES = {"application/pdf": ".pdf", "text/plain": ".txt", "image/png": ".png", "image/jpeg": ".jpg",
                 "image/tiff": ".tif"}
SUFFIX_MIMES = {suffix: mime for mime, suffix in MIME_SUFFIXES.items()}


@dataclass
class ImportResult:
    """The outcome of an import: the parse result of the contract, its first letter, and the receipt number if one was registered."""

    result: dict
    letter: dict
    created: bool
    receipt_number: str | None
    notifier: bytes


def _filename(message: ecms.GovernmentDocument) -> str:
    stem = re.sub(r"[^\w.\u0E00-\u0E7F-]+", "_", message.id).strip("_") or "ecms"
    return f"ecms-{stem}{MIME_SUFFIXES.get(message.main_letter_mime, '.pdf')}"


def _overlaying_parse(stated: dict, parse):
    """Wrap `parse` so that the first letter of its result carries the message's fields."""

    def parse_and_overlay(data: bytes, filename: str, progress=None, max_bytes: int = 0) -> dict:
        result = parse(data, filename, progress=progress, max_bytes=max_bytes)
        letters = list(result.get("letters") or [])
        letters[:1] = [ecms.overlay_letter(letters[0] if letters else None, stated)]
        result["letters"] = letters
        return result

    return parse_and_overlay


def import_message(
    session: Session,
    store: OriginalStore,
    data: bytes,
    codes: CodeTable,
    max_bytes: int,
    user: User | None = None,
    parse=parse_document,
) -> ImportResult:
    """Store a message's letter file and enclosures, parse the letter, and register it when `user` is given.

    The file goes through `operations.ingest_upload`, so the same bytes stored twice are one
    document. The parse result's first letter carries the message's own fields, which
    overrule the parser. With `user`, the letter is registered in that office's receipt
    register (channel `ecms`), so the returned notifier is an AcceptLetterNotifier with the
    receipt number. Without `user` it is a ReceiveLetterNotifier. Raises EcmsError, before
    anything is stored, for a message that cannot be read.
    """
    message = ecms.read_message(data, max_bytes)
    stated = ecms.letter_fields(message, codes)
    operations.check_upload_size(message.main_letter, _filename(message), max_bytes)
    for attachment in message.attachments:
        operations.check_upload_size(attachment.data, attachment.filename or "แนบ", max_bytes)

    for attachment in message.attachments:
        digest = store.put(attachment.data)
        stated["ecms"]["attachments"].append(
            {"filename": attachment.filename or None, "mime_code": attachment.mime_code, "sha256": digest}
        )
    ingested = operations.ingest_upload(session, store, message.main_letter, _filename(message), user, max_bytes)
    if ingested.created:
        operations.run_parse(session, store, ingested.job.id, max_bytes, parse=_overlaying_parse(stated, parse))
    session.expire_all()
    document = operations.get_document(session, ingested.document.id)
    result = operations.document_result(document)
    letter = (result.get("letters") or [None])[0]
    if letter is None or not ingested.created:
        # The file was stored before, or could not be parsed: show the message's fields over what is stored.
        letter = ecms.overlay_letter(letter, stated)
        if document.latest_job is not None and document.latest_job.status == JOB_FAILED:
            letter["warnings"].append({
                "code": "ecms_letter_file_unreadable",
                "message": "อ่านไฟล์หนังสือจาก e-CMS ไม่ได้ ข้อมูลหนังสือมาจากข้อความ e-CMS เท่านั้น",
                "field": None,
            })
        result["letters"] = [letter, *result.get("letters", [])[1:]]

    receipt_number = None
    notifier_kind = ecms.RECEIVE_NOTIFIER
    if user is not None:
        from workflow.routing.operations import receipt_number_th, register_receipt

        letter_data = letter
        if ingested.created and document.letters:
            # Link the registered letter to the file this import stored, so that routing opens the
            # file to the offices below. A file stored before may belong to another office.
            letter_data = {**letter, "source_letter_id": document.letters[0].id}
        registered = register_receipt(
            session, user, channel="ecms", letter_data=letter_data,
            sender_text=message.sender.job_title or message.sender.full_name or None,
        )
        receipt_number = receipt_number_th(registered.receipt)
        notifier_kind = ecms.ACCEPT_NOTIFIER
    log.info("e-CMS letter %s imported as document %d (new: %s, receipt %s)",
             message.id, document.id, ingested.created, receipt_number)
    notifier = ecms.write_notifier(
        notifier_kind, uuid.uuid4().hex, message.id, message.correspondence_date, message.subject,
        accept_id=receipt_number,
    )
    return ImportResult(result, letter, ingested.created, receipt_number, notifier)


def _split_name(name: str | None) -> tuple[str, str]:
    # A Thai name is written `<title><given name> <family name>`; the family name is the last word.
    parts = (name or "").split()
    if len(parts) < 2:
        return (parts[0] if parts else ""), ""
    return " ".join(parts[:-1]), parts[-1]


def _iso_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def message_for_letter(letter: Letter, store: OriginalStore, codes: CodeTable) -> ecms.GovernmentDocument:
    """Build the message of a stored letter from its shown (corrected) fields and its original file."""
    fields = operations.letter_result(letter)
    stored = fields.get("ecms") or {}

    signatory = fields.get("signatory") or {}
    sender = ecms.Party.from_dict(stored.get("sender"))
    given, family = _split_name(signatory.get("name"))
    sender.given_name, sender.family_name = given or sender.given_name, family or sender.family_name
    sender.job_title = signatory.get("position") or sender.job_title
    receiver = ecms.Party.from_dict(stored.get("receiver"))
    receiver.job_title = fields.get("addressee") or receiver.job_title

    document = letter.document
    mime = stored.get("main_letter_mime") or SUFFIX_MIMES.get(
        "." + document.filename.rsplit(".", 1)[-1].lower(), ecms.PDF_MIME
    )
    attachments = [
        ecms.Attachment(store.read(item["sha256"]), item.get("mime_code") or "application/octet-stream",
                        item.get("filename") or "")
        for item in stored.get("attachments") or []
    ]

    return ecms.GovernmentDocument(
        id=(fields.get("doc_number") or {}).get("text") or stored.get("id") or "",
        correspondence_date=_iso_date(fields.get("date")),
        subject=fields.get("subject") or "",
        secret_code=codes.secret_code(fields.get("secrecy")),
        speed_code=codes.speed_code(fields.get("urgency")),
        sender=sender,
        receiver=receiver,
        references=[
            ecms.Reference(
                id=(item.get("doc_number") or {}).get("text") or "",
                correspondence_date=_iso_date(item.get("date")),
                subject=item.get("text") or "",
            )
            for item in fields.get("references") or []
        ],
        attachment_descriptions=[item.get("text") or "" for item in fields.get("enclosures") or []],
        send_date=stored.get("send_date") or "",
        description=stored.get("description") or "",
        main_letter=store.read(document.sha256),
        main_letter_mime=mime,
        attachments=attachments,
    )


def export_letter(session: Session, store: OriginalStore, letter_id: int, codes: CodeTable) -> bytes:
    """Return the e-CMS message of a stored letter; raises NotFound for an unknown letter id."""
    letter = session.get(Letter, letter_id)
    if letter is None:
        raise NotFound("letter_not_found", f"ไม่พบหนังสือเลขที่ {letter_id}", f"no letter {letter_id}")
    message = message_for_letter(letter, store, codes)
    log.info("letter %d exported as e-CMS message %s", letter_id, message.id)
    return ecms.write_message(message, uuid.uuid4().hex)


def notifier_for_event(session: Session, event) -> bytes | None:
    """Return the notifier a routing event sends to the letter's sender, or None for other events.

    `delivered` gives a ReceiveLetterNotifier, `received` (our receipt) an AcceptLetterNotifier
    whose AcceptID is the receipt number as a clerk writes it (`125/2568`), and `rejected` a
    RejectLetterNotifier carrying the reason.
    """
    from workflow.routing.models import EVENT_DELIVERED, EVENT_RECEIVED, EVENT_REJECTED, RoutingTask

    kinds = {EVENT_DELIVERED: ecms.RECEIVE_NOTIFIER, EVENT_RECEIVED: ecms.ACCEPT_NOTIFIER,
             EVENT_REJECTED: ecms.REJECT_NOTIFIER}
    if event.kind not in kinds:
        return None
    letter = session.get(RoutingTask, event.task_id).letter
    data = event.data or {}
    accept_id = None
    if event.kind == EVENT_RECEIVED:
        accept_id = f"{data['receipt_number']}/{int(data['year']) + 543}"
    return ecms.write_notifier(
        kinds[event.kind], uuid.uuid4().hex, letter.doc_number or str(letter.id), letter.letter_date,
        letter.subject, accept_id=accept_id, reason=data.get("reason"),
    )


