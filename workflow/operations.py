"""Business rules. Views, jobs and the command line all call these functions.

Each operation runs in one transaction: it commits when it succeeds and rolls back
everything when it raises, so a rejected request leaves the database as it was.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from werkzeug.security import check_password_hash, generate_password_hash

from parsers.errors import InputError
from parsers.pipeline import parse_document
from workflow import fields as letter_fields
from workflow.db import transaction
from workflow.errors import (
    AuthenticationFailed,
    InvalidValue,
    JobStateError,
    NotFound,
    PermissionDenied,
    UploadRejected,
)
from workflow.models import (
    JOB_DONE,
    JOB_FAILED,
    JOB_QUEUED,
    JOB_RUNNING,
    ROLE_CLERK,
    ROLE_SUPERVISOR,
    ROLES,
    Document,
    FieldCorrection,
    Letter,
    LetterField,
    Organization,
    ParseJob,
    User,
    utcnow,
)
from workflow.storage import OriginalStore, sha256_hex

log = logging.getLogger(__name__)

CORRECTING_ROLES = frozenset({ROLE_CLERK, ROLE_SUPERVISOR})
# werkzeug's default (scrypt). Tests lower the cost, because hashing takes about 0.3 s.
PASSWORD_HASH_METHOD = "scrypt"
MAX_FILENAME_LENGTH = 255

ParseFunction = Callable[..., dict]


# --- users ------------------------------------------------------------------------------


def create_user(
    session: Session, username: str, display_name: str, password: str, organization_code: str, role: str
) -> User:
    """Create a user account with a werkzeug password hash; raises InvalidValue or NotFound."""
    with transaction(session):
        if role not in ROLES:
            raise InvalidValue("invalid_role", f"ไม่มีบทบาท “{role}” ในระบบ", f"unknown role {role!r}")
        if not username.strip() or not password:
            raise InvalidValue(
                "missing_credentials", "ต้องระบุชื่อผู้ใช้และรหัสผ่าน", "username and password are required"
            )
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise InvalidValue(
                "username_taken", f"ชื่อผู้ใช้ “{username}” มีอยู่แล้ว", f"username {username!r} already exists"
            )
        organization = session.scalar(select(Organization).where(Organization.code == organization_code))
        if organization is None:
            raise NotFound(
                "organization_not_found",
                f"ไม่พบหน่วยงานรหัส {organization_code} ในทะเบียนหน่วยงาน",
                f"no organization with code {organization_code!r}; load the directory first",
            )
        user = User(
            username=username,
            display_name=display_name,
            password_hash=generate_password_hash(password, method=PASSWORD_HASH_METHOD),
            organization=organization,
            role=role,
        )
        session.add(user)
    log.info("created user %s (org %s, role %s)", username, organization_code, role)
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """Return the user whose name and password match; raises AuthenticationFailed otherwise."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not check_password_hash(user.password_hash, password):
        log.info("sign-in failed for username %r", username)
        raise AuthenticationFailed(
            "sign_in_failed", "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", f"wrong username or password for {username!r}"
        )
    return user


# --- upload -----------------------------------------------------------------------------


@dataclass
class IngestResult:
    document: Document
    job: ParseJob | None
    # False when the same bytes were uploaded before and the existing record is returned.
    created: bool


# C0 controls and DEL (PostgreSQL text cannot hold NUL), and the Unicode direction controls that
# could make a screen show a false extension (U+200E/F, U+202A-202E, U+2066-2069).
_UNSAFE_NAME_CHARACTERS = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _clean_filename(filename: str) -> str:
    name = _UNSAFE_NAME_CHARACTERS.sub("", filename or "")
    name = os.path.basename(name.replace("\\", "/")).strip()
    return (name or "ไม่มีชื่อ")[:MAX_FILENAME_LENGTH]


def format_size(size: int) -> str:
    """Format a byte count for the screen: `50 MB`, `1.5 MB` or `512 KB`."""
    if size >= 1024 * 1024:
        return f"{round(size / 1048576, 1):g} MB"
    return f"{max(1, round(size / 1024))} KB"


def check_upload_size(data: bytes, filename: str, max_bytes: int) -> None:
    """Raise UploadRejected for a file that is not kept at all: empty, or over `max_bytes`."""
    if not data:
        raise UploadRejected(
            "empty_file",
            f"ไฟล์ “{filename}” ว่างเปล่า ไม่มีข้อมูลให้อ่าน กรุณาตรวจสอบไฟล์แล้วอัปโหลดใหม่",
            f"{filename}: the file is empty",
        )
    if len(data) > max_bytes:
        # Callers read at most max_bytes + 1 bytes, so the file's real size is not known here.
        raise UploadRejected(
            "file_too_large",
            f"ไฟล์ “{filename}” มีขนาดเกิน {format_size(max_bytes)} ซึ่งเป็นขนาดสูงสุดที่ระบบรับได้ "
            "กรุณาลดขนาดไฟล์ หรือแยกเป็นหลายไฟล์",
            f"{filename}: over the limit of {max_bytes} bytes",
        )


def ingest_upload(
    session: Session, store: OriginalStore, data: bytes, filename: str, user: User | None, max_bytes: int
) -> IngestResult:
    """Store an uploaded file and create its document record and parse job.

    Bytes that were uploaded before return the existing document and its latest job with
    `created` False. Raises UploadRejected (and stores nothing) for an empty file or one
    over `max_bytes`. The caller enqueues the returned job after this function returns,
    so that the worker finds it committed.
    """
    filename = _clean_filename(filename)
    check_upload_size(data, filename, max_bytes)
    digest = sha256_hex(data)
    existing = _existing_upload(session, digest, filename)
    if existing is not None:
        return existing
    try:
        with transaction(session):
            store.put(data)
            document = Document(
                sha256=digest,
                filename=filename,
                size=len(data),
                uploaded_by=user,
                organization_id=user.organization_id if user is not None else None,
                warnings=[],
            )
            job = ParseJob(id=uuid.uuid4().hex, document=document, status=JOB_QUEUED)
            session.add_all([document, job])
    except IntegrityError:
        # A concurrent upload of the same bytes committed first; return its record.
        existing = _existing_upload(session, digest, filename)
        if existing is None:
            raise
        return existing
    log.info("document %d stored from %s (%s), job %s queued", document.id, filename, digest[:12], job.id)
    return IngestResult(document, job, created=True)


def _existing_upload(session: Session, digest: str, filename: str) -> IngestResult | None:
    with transaction(session):
        existing = session.scalar(select(Document).where(Document.sha256 == digest))
    if existing is None:
        return None
    log.info("upload of %s matches document %d (%s)", filename, existing.id, digest[:12])
    return IngestResult(existing, existing.latest_job, created=False)


# --- parse ------------------------------------------------------------------------------


def _start_job(session: Session, job_id: str) -> ParseJob:
    with transaction(session):
        job = session.get(ParseJob, job_id)
        if job is None:
            raise NotFound("job_not_found", "ไม่พบงานอ่านเอกสารนี้", f"no parse job {job_id}")
        if job.status != JOB_QUEUED:
            raise JobStateError(
                "job_not_queued",
                "งานอ่านเอกสารนี้ทำไปแล้วหรือกำลังทำอยู่",
                f"job {job_id} is {job.status}, not queued",
            )
        job.status = JOB_RUNNING
        job.started_at = utcnow()
    return job


def _progress_writer(session: Session, job_id: str) -> Callable[[int, int], None]:
    def record_progress(done_pages: int, total_pages: int) -> None:
        session.execute(
            update(ParseJob)
            .where(ParseJob.id == job_id)
            .values(pages_done=done_pages, pages_total=total_pages)
        )
        session.commit()
        log.debug("job %s: page %d of %d read", job_id, done_pages, total_pages)

    return record_progress


class ParseTimedOut(Exception):
    """A parse that ran past the job time limit and was stopped."""

    def __init__(self, limit_s: float):
        super().__init__(f"the parse ran past the job time limit of {limit_s:g} s and was stopped")
        self.limit_s = limit_s


JOB_TIMEOUT_CODE = "job_timeout"


def format_duration_th(seconds: float) -> str:
    """Format a time limit for a Thai message: `45 วินาที`, `10 นาที` or `1 ชั่วโมง 30 นาที`."""
    whole = max(1, round(seconds))
    if whole < 60 or whole % 60:
        return f"{whole:,} วินาที"
    hours, minutes = divmod(whole // 60, 60)
    parts = []
    if hours:
        parts.append(f"{hours:,} ชั่วโมง")
    if minutes:
        parts.append(f"{minutes} นาที")
    return " ".join(parts)


def _fail_job(session: Session, job: ParseJob, code: str, message_th: str, message_en: str) -> None:
    with transaction(session):
        job.status = JOB_FAILED
        job.error_code = code
        job.error_message_th = message_th
        job.error_message_en = message_en
        job.finished_at = utcnow()


def add_letters(document: Document, result: dict) -> None:
    """Add a Letter, with one LetterField per field, for each LETTER of a parse result."""
    for position, letter_data in enumerate(result.get("letters") or []):
        pages = letter_data.get("pages") or [None, None]
        spans = letter_data.get("spans") or {}
        letter = Letter(
            position=position,
            first_page=pages[0],
            last_page=pages[-1],
            text=letter_data.get("text") or "",
            spans=spans,
            warnings=letter_data.get("warnings") or [],
        )
        names = [name for name in letter_data if name not in letter_fields.NON_FIELD_KEYS]
        for index, name in enumerate(sorted(names, key=letter_fields.field_order)):
            span = spans.get(name) or [None, None]
            letter.fields.append(
                LetterField(
                    name=name,
                    position=index,
                    parsed_value=letter_data[name],
                    span_start=span[0],
                    span_end=span[1],
                )
            )
        document.letters.append(letter)


def run_parse(
    session: Session,
    store: OriginalStore,
    job_id: str,
    max_bytes: int,
    parse: ParseFunction = parse_document,
) -> ParseJob:
    """Parse a queued job's document and store its letters, fields and file-level results.

    Page progress is committed as it comes, so that a page can poll it. A file that cannot
    be read (parsers.errors.InputError) ends the job as failed with the parser's code and
    messages. A `parse` that raises ParseTimedOut ends it as failed with code `job_timeout`.
    Any other exception also ends the job as failed, with code `parse_failed`, and is
    re-raised. Raises NotFound for an unknown job and JobStateError for a job that
    is not queued.
    """
    job = _start_job(session, job_id)
    document = job.document
    log.info("job %s: parsing document %d (%s)", job_id, document.id, document.filename)
    try:
        data = store.read(document.sha256)
        result = parse(data, document.filename, progress=_progress_writer(session, job_id), max_bytes=max_bytes)
    except InputError as error:
        log.warning("job %s: document %d cannot be read: %s", job_id, document.id, error.message_en)
        _fail_job(session, job, error.code, error.message_th, error.message_en)
        return job
    except ParseTimedOut as error:
        log.warning("job %s: document %d: %s", job_id, document.id, error)
        session.rollback()
        _fail_job(
            session,
            job,
            JOB_TIMEOUT_CODE,
            f"การอ่านเอกสารนี้ใช้เวลาเกิน {format_duration_th(error.limit_s)} ซึ่งเป็นเวลาสูงสุดที่ระบบกำหนด "
            "ระบบจึงหยุดอ่าน ไฟล์ต้นฉบับยังเก็บไว้ครบ กดปุ่ม “อ่านเอกสารอีกครั้ง” ที่หน้าเอกสารเพื่อลองใหม่ "
            "หากยังไม่สำเร็จ กรุณาแจ้งผู้ดูแลระบบให้เพิ่มเวลาสูงสุด (SARABAN_JOB_TIMEOUT)",
            str(error),
        )
        return job
    except Exception as error:
        log.exception("job %s: parser failed on document %d", job_id, document.id)
        _fail_job(
            session,
            job,
            "parse_failed",
            "ระบบอ่านไฟล์นี้ไม่สำเร็จเพราะเกิดข้อผิดพลาดภายใน กรุณาแจ้งผู้ดูแลระบบ",
            f"{type(error).__name__}: {error}",
        )
        raise
    with transaction(session):
        document.pages = result.get("pages")
        document.text_source = result.get("text_source")
        document.schema = result.get("schema")
        document.warnings = result.get("warnings") or []
        add_letters(document, result)
        job.status = JOB_DONE
        job.pages_total = result.get("pages")
        job.pages_done = result.get("pages") or 0
        job.finished_at = utcnow()
    log.info("job %s: document %d parsed, %d letters", job_id, document.id, len(document.letters))
    return job


# --- corrections ------------------------------------------------------------------------


def correct_field(session: Session, user: User, field_id: int, new_value: Any) -> FieldCorrection:
    """Record a clerk's correction of one field; the corrected value is the one shown from now on.

    Keeps who corrected, when, the parsed value, the value shown before and the new value.
    Raises NotFound for an unknown field. Raises PermissionDenied for a role that may not
    correct, and for a user outside the organization that received the document. Raises
    InvalidValue for a value that does not fit the field or does not change it.
    """
    with transaction(session):
        letter_field = session.get(LetterField, field_id)
        if letter_field is None:
            raise NotFound("field_not_found", "ไม่พบช่องข้อมูลนี้", f"no letter field {field_id}")
        document = letter_field.letter.document
        if user.role not in CORRECTING_ROLES:
            raise PermissionDenied(
                "role_cannot_correct",
                "บทบาทของท่านแก้ไขข้อมูลหนังสือไม่ได้ ต้องเป็นเจ้าหน้าที่สารบรรณหรือหัวหน้างาน",
                f"user {user.username} has role {user.role}, which may not correct fields",
            )
        if document.organization_id is not None and document.organization_id != user.organization_id:
            raise PermissionDenied(
                "other_organization",
                "เอกสารนี้เป็นของหน่วยงานอื่น ท่านแก้ไขไม่ได้",
                f"user {user.username} (org {user.organization_id}) may not correct document "
                f"{document.id} of org {document.organization_id}",
            )
        letter_fields.validate_value(letter_field.name, new_value)
        previous = letter_field.value
        if new_value == previous:
            raise InvalidValue(
                "no_change",
                f"ค่าใหม่ของช่อง “{letter_fields.spec_for(letter_field.name).label}” เหมือนค่าเดิม ไม่มีอะไรเปลี่ยน",
                f"field {field_id}: the new value equals the shown value",
            )
        correction = FieldCorrection(
            field=letter_field,
            corrected_by=user,
            parsed_value=letter_field.parsed_value,
            previous_value=previous,
            new_value=new_value,
        )
        session.add(correction)
    log.info(
        "field %d (%s) of letter %d corrected by %s",
        field_id,
        letter_field.name,
        letter_field.letter_id,
        user.username,
    )
    return correction


# --- reading ----------------------------------------------------------------------------


def get_document(session: Session, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("document_not_found", "ไม่พบเอกสารนี้", f"no document {document_id}")
    return document


# --- document visibility ----------------------------------------------------------------
# The rule is written out in docs/decisions/0005-document-visibility.md.

# Roles that may read a letter with a secrecy mark, in the organization that owns it.
SECRET_READING_ROLES = frozenset({ROLE_CLERK, ROLE_SUPERVISOR})
DOCUMENTS_PER_PAGE = 50
# Secrecy marks from the strictest down. `unknown` is the mark of a file whose parse has not succeeded.
SECRECY_ORDER = ("top_secret", "secret", "confidential")
SECRECY_UNKNOWN = "unknown"


def document_secrecy(document: Document) -> str | None:
    """Return the strictest secrecy mark among the document's letters, `unknown`, or None.

    `unknown` means the parse has not succeeded, so the file may still contain a letter
    with a secrecy mark.
    """
    job = document.latest_job
    if job is None or job.status != JOB_DONE:
        return SECRECY_UNKNOWN
    marks = [
        letter_field.value
        for letter in document.letters
        for letter_field in letter.fields
        if letter_field.name == "secrecy" and letter_field.value
    ]
    for mark in SECRECY_ORDER:
        if mark in marks:
            return mark
    return marks[0] if marks else None



def may_see_document(user: User, document: Document) -> bool:
    """Return whether `user` may open the document, its parse result and its original file.

    Staff of the organization that owns the document see it, and so do staff of an
    organization that routing sent one of its letters to (see `routed_organization_ids`).
    A secret document, or one not parsed yet, is open only to clerks and supervisors of
    those organizations, and to the user who uploaded it.
    """
    if document.organization_id is None:
        return False
    if document.organization_id == user.organization_id:
        if document.uploaded_by_id == user.id:
            return True
    else:
        session = object_session(document)
        if session is None or user.organization_id not in routed_organization_ids(session, document):
            return False
    if user.role in SECRET_READING_ROLES:
        return True
    return document_secrecy(document) is None


# Levels of forwarding followed from a letter to the letters that enclose it: DLA, the
# province, the district and the LAO make three forwards.
MAX_FORWARD_DEPTH = 6


def routed_organization_ids(session: Session, document: Document) -> set[int]:
    """Return the organizations that received, through routing, a letter read from this document.

    A routing task on an official letter whose `source_letter_id` is one of the document's
    letters gives its recipient the file. So does a task on a letter that forwards such a
    letter (its `parent_letter_id`, followed down the chain), because a forwarded circular
    encloses its parent.
    """
    from workflow.routing.models import OfficialLetter, RoutingTask

    letter_ids = select(Letter.id).where(Letter.document_id == document.id)
    official_ids = set(session.scalars(select(OfficialLetter.id).where(OfficialLetter.source_letter_id.in_(letter_ids))))
    frontier = set(official_ids)
    for _ in range(MAX_FORWARD_DEPTH):
        if not frontier:
            break
        children = set(session.scalars(select(OfficialLetter.id).where(OfficialLetter.parent_letter_id.in_(frontier))))
        frontier = children - official_ids
        official_ids |= frontier
    if not official_ids:
        return set()
    recipients = set(session.scalars(select(RoutingTask.recipient_org_id).where(RoutingTask.letter_id.in_(official_ids))))
    # The office that registered the letter from this file has a task on it too, but it owns the file.
    recipients.discard(document.organization_id)
    return recipients


def routed_document_ids(session: Session, organization_id: int) -> set[int]:
    """Return the documents that routing gives `organization_id` access to, the inverse of `routed_organization_ids`."""
    from workflow.routing.models import OfficialLetter, RoutingTask

    letter_ids = set(session.scalars(select(RoutingTask.letter_id).where(RoutingTask.recipient_org_id == organization_id)))
    seen = set(letter_ids)
    source_letter_ids: set[int] = set()
    frontier = letter_ids
    for _ in range(MAX_FORWARD_DEPTH + 1):
        if not frontier:
            break
        rows = session.execute(
            select(OfficialLetter.parent_letter_id, OfficialLetter.source_letter_id).where(OfficialLetter.id.in_(frontier))
        ).all()
        source_letter_ids |= {source for _, source in rows if source is not None}
        frontier = {parent for parent, _ in rows if parent is not None} - seen
        seen |= frontier
    if not source_letter_ids:
        return set()
    return set(session.scalars(select(Letter.document_id).where(Letter.id.in_(source_letter_ids))))


def require_document_access(user: User, document: Document) -> None:
    """Raise PermissionDenied unless `user` may see `document`."""
    if may_see_document(user, document):
        return
    log.info(
        "user %s (org %s, role %s) denied document %d of org %s",
        user.username, user.organization_id, user.role, document.id, document.organization_id,
    )
    raise PermissionDenied(
        "document_access_denied",
        "ไม่มีสิทธิ์เข้าถึงเอกสารนี้ เอกสารเปิดได้เฉพาะหน่วยงานที่รับหรืออัปโหลดเอกสาร "
        "และหนังสือที่มีชั้นความลับเปิดได้เฉพาะเจ้าหน้าที่สารบรรณและหัวหน้างานของหน่วยงานนั้น",
        f"user {user.username} (org {user.organization_id}, role {user.role}) may not see document "
        f"{document.id} of org {document.organization_id}",
    )


def get_visible_document(session: Session, user: User, document_id: int) -> Document:
    """Return the document if `user` may see it; raises NotFound or PermissionDenied."""
    document = get_document(session, document_id)
    require_document_access(user, document)
    return document


def _restricted_document_ids(session: Session, user: User, routed_ids: set[int]) -> list[int]:
    # Documents of the user's organization, or routed to it, that this user may not see
    # because of secrecy.
    # NOTE: this loads every such document with its letters and fields, one query each, because
    # the shown secrecy mark may come from a correction. A stored flag would scale better.
    own = (Document.organization_id == user.organization_id) & (
        (Document.uploaded_by_id != user.id) | Document.uploaded_by_id.is_(None)
    )
    routed = (Document.organization_id != user.organization_id) & Document.id.in_(routed_ids)
    candidates = session.scalars(select(Document).where(own | routed if routed_ids else own))
    return [document.id for document in candidates if document_secrecy(document) is not None]


@dataclass
class DocumentPage:
    documents: list[Document]
    page: int
    pages: int
    total: int


def list_documents(session: Session, user: User, page: int = 1, per_page: int = DOCUMENTS_PER_PAGE) -> DocumentPage:
    """Return one page of the documents `user` may see, newest first; page numbers start at 1.

    A page number past the end returns the last page.
    """
    routed_ids = routed_document_ids(session, user.organization_id)
    visible = Document.organization_id == user.organization_id
    if routed_ids:
        visible = visible | (Document.id.in_(routed_ids) & Document.organization_id.is_not(None))
    query = select(Document).where(visible)
    if user.role not in SECRET_READING_ROLES:
        hidden = _restricted_document_ids(session, user, routed_ids)
        if hidden:
            query = query.where(Document.id.not_in(hidden))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ordered = query.order_by(Document.uploaded_at.desc(), Document.id.desc())
    documents = list(session.scalars(ordered.offset((page - 1) * per_page).limit(per_page)))
    return DocumentPage(documents, page, pages, total)


def letter_result(letter: Letter) -> dict:
    """Return one LETTER of the parse result, with each field's shown (corrected) value."""
    result: dict[str, Any] = {"pages": [letter.first_page, letter.last_page]}
    for letter_field in letter.fields:
        result[letter_field.name] = letter_field.value
    result["warnings"] = letter.warnings
    result["spans"] = letter.spans
    result["text"] = letter.text
    result["corrected_fields"] = [f.name for f in letter.fields if f.corrections]
    return result


def document_result(document: Document) -> dict:
    """Return the parse result object of the contract, built from what is stored.

    Adds `document_id` and `status`, and for a failed parse an `error` object instead of
    the letters, as the command line does for a file that cannot be read.
    """
    job = document.latest_job
    result: dict[str, Any] = {
        "schema": document.schema or "saraban.parse/1",
        "file": document.filename,
        "sha256": document.sha256,
        "document_id": document.id,
        "status": job.status if job else None,
    }
    if job is not None and job.status == JOB_FAILED:
        result["error"] = {"code": job.error_code, "message": job.error_message_th}
        return result
    result.update(
        pages=document.pages,
        text_source=document.text_source,
        letters=[letter_result(letter) for letter in document.letters],
        warnings=document.warnings,
    )
    return result


def get_letter_field(session: Session, field_id: int) -> LetterField:
    letter_field = session.get(LetterField, field_id)
    if letter_field is None:
        raise NotFound("field_not_found", "ไม่พบช่องข้อมูลนี้", f"no letter field {field_id}")
    return letter_field


def requeue_interrupted_job(session: Session, job_id: str) -> bool:
    """Set a job left running by a worker that died back to queued; return whether it was reset.

    Only for a retry of the same job id, which rq runs once the first attempt is gone. A job
    that finished, failed on its input or is still queued is left as it is.
    """
    with transaction(session):
        job = session.get(ParseJob, job_id, with_for_update=True)
        if job is None or job.status != JOB_RUNNING:
            return False
        log.warning("job %s: retried after its worker stopped mid-job; queued again", job_id)
        job.status = JOB_QUEUED
        job.pages_done = 0
        job.started_at = None
    return True


def requeue_unfinished_jobs(session: Session) -> list[str]:
    """Set jobs that were queued or running when their process stopped back to queued; return their ids.

    Only for the in-process worker, whose queue dies with the process: with rq the
    jobs are still in Redis.
    """
    with transaction(session):
        unfinished = list(
            session.scalars(select(ParseJob).where(ParseJob.status.in_([JOB_QUEUED, JOB_RUNNING])).order_by(ParseJob.created_at))
        )
        for job in unfinished:
            if job.status == JOB_RUNNING:
                log.warning("job %s: was running when the server stopped; queued again", job.id)
            job.status = JOB_QUEUED
            job.pages_done = 0
            job.started_at = None
    return [job.id for job in unfinished]


def may_retry_parse(user: User, document: Document) -> bool:
    """Return whether `user` may queue a new parse of the document: its office's clerks and supervisors, or its uploader."""
    if document.uploaded_by_id is not None and document.uploaded_by_id == user.id:
        return True
    return user.role in CORRECTING_ROLES and document.organization_id == user.organization_id


def retry_parse(session: Session, user: User, document_id: int) -> ParseJob:
    """Queue a new parse job for a document whose latest job failed, and return it.

    The failed job stays as the record of the failure, and the stored original is read
    again. The caller enqueues the returned job after this function returns. Raises
    NotFound or PermissionDenied as the document page does, PermissionDenied for a user
    who may see the document but not retry it, and JobStateError when the latest job has
    not failed (so two clicks queue one job).
    """
    with transaction(session):
        document = session.get(Document, document_id, with_for_update=True)
        if document is None:
            raise NotFound("document_not_found", "ไม่พบเอกสารนี้", f"no document {document_id}")
        require_document_access(user, document)
        if not may_retry_parse(user, document):
            raise PermissionDenied(
                "role_cannot_retry",
                "บทบาทของท่านสั่งอ่านเอกสารใหม่ไม่ได้ ต้องเป็นผู้อัปโหลด หรือเจ้าหน้าที่สารบรรณหรือหัวหน้างานของหน่วยงานที่รับเอกสาร",
                f"user {user.username} (org {user.organization_id}, role {user.role}) may not retry the parse "
                f"of document {document_id}",
            )
        latest = document.latest_job
        if latest is None or latest.status != JOB_FAILED:
            status = latest.status if latest is not None else "no job"
            raise JobStateError(
                "job_not_failed",
                "งานอ่านเอกสารนี้ไม่ได้อยู่ในสถานะอ่านไม่สำเร็จ จึงสั่งอ่านใหม่ไม่ได้ กรุณาโหลดหน้านี้ใหม่",
                f"document {document_id}: latest parse job is {status}, not failed",
            )
        job = ParseJob(id=uuid.uuid4().hex, document=document, status=JOB_QUEUED)
        session.add(job)
    log.info(
        "document %d: parse queued again as job %s by %s after job %s failed with %s",
        document_id, job.id, user.username, latest.id, latest.error_code,
    )
    return job
