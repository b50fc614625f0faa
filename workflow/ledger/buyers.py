"""Identity documents of registered buyers, kept by SHA-256 in the originals store and never changed.

A DLA officer prepares a buyer's registration with its identity fields and scanned documents.
The files go to `workflow.storage.OriginalStore` under their SHA-256, and the request's payload
lists each file's hash, so the hash-chained `prepared` event fixes which bytes the executive
approved. Posting the request opens the buyer's account and adds one `BuyerDocument` row per
file. The code only inserts these rows, and `check_buyer_documents` compares them with the
request payload and with the stored bytes.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from workflow.ledger.errors import InvalidValue
from workflow.ledger.models import BUYER_AGENCY, BUYER_COMPANY, BUYER_PERSON, LedgerRequest
from workflow.models import Base
from workflow.storage import OriginalStore, sha256_hex

# Request kind of a buyer's registration, whose posting opens the buyer's account.
REQUEST_REGISTER_BUYER = "register_buyer"

DOCUMENT_COMPANY_CERTIFICATE = "company_certificate"
DOCUMENT_AGENCY_LETTER = "agency_letter"
DOCUMENT_ID_CARD = "id_card"
DOCUMENT_POWER_OF_ATTORNEY = "power_of_attorney"
DOCUMENT_OTHER = "other"
DOCUMENT_KIND_NAMES_TH = {
    DOCUMENT_COMPANY_CERTIFICATE: "หนังสือรับรองการจดทะเบียนนิติบุคคล",
    DOCUMENT_AGENCY_LETTER: "หนังสือของหน่วยงานแจ้งความประสงค์ซื้อ",
    DOCUMENT_ID_CARD: "สำเนาบัตรประจำตัวประชาชน",
    DOCUMENT_POWER_OF_ATTORNEY: "หนังสือมอบอำนาจ",
    DOCUMENT_OTHER: "เอกสารอื่น",
}
# The document that proves the identity of each kind of buyer, which a registration must include.
# NOTE: this choice of documents is an assumption; no DLA rule that lists them was available.
REQUIRED_DOCUMENT = {
    BUYER_COMPANY: DOCUMENT_COMPANY_CERTIFICATE,
    BUYER_AGENCY: DOCUMENT_AGENCY_LETTER,
    BUYER_PERSON: DOCUMENT_ID_CARD,
}
BUYER_KIND_NAMES_TH = {
    BUYER_COMPANY: "บริษัทหรือนิติบุคคล",
    BUYER_AGENCY: "หน่วยงานของรัฐ",
    BUYER_PERSON: "บุคคลธรรมดา",
}

MAX_DOCUMENTS = 10
MAX_FILENAME_LENGTH = 200
# Accepted files, recognized by their first bytes rather than by the name the browser sent.
SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
# The fields of a document that the request payload records and each row repeats.
DOCUMENT_FIELDS = ("document_kind", "filename", "sha256", "content_type", "size")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BuyerDocument(Base):
    """One identity document of a registered buyer: the file's SHA-256 in the originals store and its name."""

    __tablename__ = "ledger_buyer_documents"
    __table_args__ = (UniqueConstraint("buyer_id", "sha256", name="uq_ledger_buyer_documents_buyer_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("ledger_buyers.id"), index=True)
    # The registration request whose payload lists this file.
    request_id: Mapped[int] = mapped_column(ForeignKey("ledger_requests.id"))
    document_kind: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(MAX_FILENAME_LENGTH))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class UploadedDocument:
    """A file as the form sent it, before it is checked and stored."""

    document_kind: str
    filename: str
    data: bytes


def clean_filename(filename: str) -> str:
    """Drop the folder part and control or direction characters from an uploaded file's name."""
    name = "".join(char for char in filename or "" if unicodedata.category(char) not in ("Cc", "Cf"))
    name = os.path.basename(name.replace("\\", "/")).strip()
    return (name or "ไม่มีชื่อ")[:MAX_FILENAME_LENGTH]


def content_type_of(data: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None


def check_documents(buyer_kind: str, documents: list[UploadedDocument], max_bytes: int) -> list[dict[str, Any]]:
    """Check the uploaded files and return their payload records, without storing anything.

    Each file must be a PDF, JPEG or PNG of at most `max_bytes`, and the files must include
    the identity document that `REQUIRED_DOCUMENT` names for the buyer's kind.
    """
    if len(documents) > MAX_DOCUMENTS:
        raise InvalidValue("too_many_documents", f"แนบเอกสารได้ไม่เกิน {MAX_DOCUMENTS} ไฟล์",
                           f"{len(documents)} documents, at most {MAX_DOCUMENTS}")
    records = []
    for document in documents:
        filename = clean_filename(document.filename)
        if document.document_kind not in DOCUMENT_KIND_NAMES_TH:
            raise InvalidValue("invalid_document_kind", f"ไม่รู้จักประเภทเอกสาร “{document.document_kind}”",
                               f"document kind {document.document_kind!r} is not one of"
                               f" {', '.join(DOCUMENT_KIND_NAMES_TH)}")
        if not document.data:
            raise InvalidValue("empty_file", f"ไฟล์ “{filename}” ว่างเปล่า กรุณาเลือกไฟล์ใหม่", f"{filename} is empty")
        if len(document.data) > max_bytes:
            raise InvalidValue("file_too_large",
                               f"ไฟล์ “{filename}” ใหญ่เกิน {max_bytes // (1024 * 1024)} MB",
                               f"{filename} is over {max_bytes} bytes")
        content_type = content_type_of(document.data)
        if content_type is None:
            raise InvalidValue("invalid_document_type", f"ไฟล์ “{filename}” ต้องเป็น PDF, JPEG หรือ PNG",
                               f"{filename} is not a PDF, JPEG or PNG file")
        records.append({"document_kind": document.document_kind, "filename": filename,
                        "sha256": sha256_hex(document.data), "content_type": content_type,
                        "size": len(document.data)})
    required = REQUIRED_DOCUMENT.get(buyer_kind)
    if required and required not in {record["document_kind"] for record in records}:
        raise InvalidValue("missing_identity_document",
                           f"ต้องแนบ{DOCUMENT_KIND_NAMES_TH[required]}ของผู้ซื้อ",
                           f"a {buyer_kind} buyer needs a {required} document")
    if len({record["sha256"] for record in records}) < len(records):
        raise InvalidValue("duplicate_document", "แนบไฟล์เดียวกันซ้ำ กรุณาแนบแต่ละไฟล์ครั้งเดียว",
                           "the same file is attached twice")
    return records


def check_contact_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email:
        return None
    if not EMAIL_RE.match(email) or len(email) > 200:
        raise InvalidValue("invalid_email", f"อีเมล “{email}” ไม่ถูกต้อง", f"contact email {email!r} is not valid")
    return email


def store_documents(store: OriginalStore, documents: list[UploadedDocument]) -> None:
    """Put each file in the originals store, leaving a file that is already there as it is."""
    for document in documents:
        store.put(document.data)


def add_document_rows(session: Session, request: LedgerRequest, buyer_id: int) -> list[BuyerDocument]:
    """Insert one row per document the registration request lists, as the posting of that request."""
    rows = [
        BuyerDocument(buyer_id=buyer_id, request_id=request.id, uploaded_by_id=request.prepared_by_id,
                      uploaded_at=request.prepared_at, **{key: record[key] for key in DOCUMENT_FIELDS})
        for record in request.payload.get("documents", [])
    ]
    session.add_all(rows)
    session.flush()
    return rows


def check_buyer_documents(session: Session, store: OriginalStore) -> list[dict[str, Any]]:
    """Return a problem for each document row that its request does not list or whose stored bytes differ.

    `workflow.ledger.verify` checks the payload against its hash-chained event, and this
    check ties each row and each stored file to that payload.
    """
    problems = []
    requests: dict[int, LedgerRequest] = {}
    for row in session.scalars(select(BuyerDocument).order_by(BuyerDocument.id)):
        request = requests.get(row.request_id) or session.get(LedgerRequest, row.request_id)
        requests[row.request_id] = request
        listed = [{key: record.get(key) for key in DOCUMENT_FIELDS} for record in request.payload.get("documents", [])]
        if {key: getattr(row, key) for key in DOCUMENT_FIELDS} not in listed:
            problems.append({"row": row.id, "reason": f"document {row.id} is not listed in request {request.id}"})
            continue
        if not store.exists(row.sha256):
            problems.append({"row": row.id, "reason": f"file {row.sha256} is missing from the originals store"})
        elif sha256_hex(store.read(row.sha256)) != row.sha256:
            problems.append({"row": row.id, "reason": f"file {row.sha256} no longer has that SHA-256"})
    return problems
