"""Read an uploaded file's bytes into page texts, judging the file by its content.

Plain text may be UTF-8, UTF-16 with a byte-order mark, or TIS-620 (read as its
superset cp874). PDFs are read through pypdf. A page without a text layer is
reported, not guessed at.
"""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from typing import Callable

import pypdf
from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

from parsers.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

# Bytes a file starts with, for the kinds the reader can name.
_PDF_MAGIC = b"%PDF-"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_IMAGE_MAGICS = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"GIF8": "GIF",
}
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<\?xml)", re.IGNORECASE)
# C0 control characters that never occur in a text letter (tab, newline, form feed
# and carriage return do).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")

ProgressCallback = Callable[[int, int], None]


@dataclass
class ReadResult:
    """Text of each page, where it came from, and file-level warnings."""

    pages: list[str]
    text_source: str
    warnings: list[dict] = field(default_factory=list)


def read_document(
    data: bytes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: ProgressCallback | None = None,
) -> ReadResult:
    """Return the pages of `data`, or raise InputError when it cannot be read at all."""
    if not data:
        raise InputError("empty_file", "ไฟล์ว่างเปล่า ไม่มีข้อมูลให้อ่าน", "the file is empty")
    if len(data) > max_bytes:
        raise InputError(
            "file_too_large",
            f"ไฟล์มีขนาด {len(data) / 1048576:.1f} MB เกินขนาดที่รับได้ {max_bytes / 1048576:.0f} MB",
            f"the file is {len(data)} bytes, over the limit of {max_bytes}",
        )
    head = data[:1024]
    if _PDF_MAGIC in head:
        return _read_pdf(data, progress)
    _reject_binary_kinds(head)
    return _read_plain(data, progress)


def _reject_binary_kinds(head: bytes) -> None:
    if head.startswith(_ZIP_MAGICS):
        raise InputError(
            "unsupported_type",
            "ไฟล์นี้เป็นไฟล์บีบอัด (ZIP) ไม่ใช่ PDF หรือข้อความ กรุณาแตกไฟล์แล้วส่งทีละไฟล์",
            "the file is a ZIP archive, not a PDF or text",
        )
    for magic, kind in _IMAGE_MAGICS.items():
        if head.startswith(magic):
            raise InputError(
                "ocr_unavailable",
                f"ไฟล์นี้เป็นภาพ ({kind}) ต้องอ่านด้วย OCR ซึ่งยังไม่เปิดใช้ในระบบนี้",
                f"the file is a {kind} image and OCR is not available",
            )
    if _HTML_START.match(head):
        raise InputError(
            "unsupported_type",
            "ไฟล์นี้เป็นหน้าเว็บ (HTML) ไม่ใช่หนังสือราชการในรูปแบบ PDF หรือข้อความ",
            "the file is HTML, not a PDF or text",
        )


def _decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # TIS-620 is a subset of cp874, so a byte undefined in cp874 means it is neither.
    return data.decode("cp874")


def _read_plain(data: bytes, progress: ProgressCallback | None) -> ReadResult:
    try:
        text = _decode_text(data)
    except UnicodeError as exc:
        raise InputError(
            "unsupported_type",
            "อ่านไฟล์นี้ไม่ได้ ไม่ใช่ PDF และไม่ใช่ข้อความภาษาไทยที่เข้ารหัสแบบ UTF-8, UTF-16 หรือ TIS-620",
            f"the file is neither a PDF nor text in UTF-8, UTF-16 or TIS-620: {exc}",
        ) from exc
    sample = text[:4096]
    if _CONTROL.search(sample):
        raise InputError(
            "unsupported_type",
            "ไฟล์นี้ไม่ใช่ PDF และไม่ใช่ข้อความที่อ่านได้",
            "the file holds control bytes or no readable text",
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pages = text.split("\f")
    if progress:
        progress(len(pages), len(pages))
    return ReadResult(pages=pages, text_source="plain")


def _open_pdf(data: bytes) -> pypdf.PdfReader:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(
                "encrypted_pdf",
                "ไฟล์ PDF นี้ถูกเข้ารหัสด้วยรหัสผ่าน กรุณาขอฉบับที่ไม่เข้ารหัสจากผู้ส่ง",
                "the PDF is encrypted with a user password",
            )
        count = len(reader.pages)
    except InputError:
        raise
    except FileNotDecryptedError as exc:
        raise InputError(
            "encrypted_pdf",
            "ไฟล์ PDF นี้ถูกเข้ารหัสด้วยรหัสผ่าน กรุณาขอฉบับที่ไม่เข้ารหัสจากผู้ส่ง",
            f"the PDF is encrypted: {exc}",
        ) from exc
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # pypdf raises several exception types on damaged files, and all mean the same here.
        raise InputError(
            "corrupt_pdf",
            "ไฟล์ PDF เสียหายหรือไม่ครบ อ่านไม่ได้ กรุณาขอไฟล์ใหม่จากผู้ส่ง",
            f"the PDF is damaged or truncated: {type(exc).__name__}: {exc}",
        ) from exc
    if count == 0:
        raise InputError(
            "corrupt_pdf",
            "ไฟล์ PDF เสียหายหรือไม่ครบ ไม่พบหน้าเอกสาร",
            "the PDF has no readable pages",
        )
    return reader


class _PypdfNotes(logging.Handler):
    """Collects what pypdf logs while it reads, to tell whether it had to repair the file."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _read_pdf(data: bytes, progress: ProgressCallback | None) -> ReadResult:
    pypdf_log = logging.getLogger("pypdf")
    notes = _PypdfNotes()
    pypdf_log.addHandler(notes)
    propagate, pypdf_log.propagate = pypdf_log.propagate, False
    try:
        result = _extract_pages(data, progress)
    finally:
        pypdf_log.removeHandler(notes)
        pypdf_log.propagate = propagate
    if notes.messages:
        log.info("pypdf repaired the file while reading: %s", "; ".join(notes.messages[:5]))
        result.warnings.insert(0, {
            "code": "pdf_repaired",
            "message": "ไฟล์ PDF มีโครงสร้างเสียหายบางส่วน ระบบซ่อมและอ่านได้ กรุณาตรวจว่าข้อความครบทุกหน้า",
            "field": None,
        })
    return result


def _extract_pages(data: bytes, progress: ProgressCallback | None) -> ReadResult:
    reader = _open_pdf(data)
    total = len(reader.pages)
    pages: list[str] = []
    warnings: list[dict] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - pypdf can raise anything on one bad page
            log.warning("page %s unreadable: %s: %s", number, type(exc).__name__, exc)
            warnings.append({
                "code": "unreadable_page",
                "message": f"อ่านข้อความหน้า {number} ไม่ได้ เพราะข้อมูลในหน้านั้นเสียหาย",
                "field": None,
                "page": number,
            })
            text = ""
        else:
            if not text.strip():
                warnings.append({
                    "code": "page_without_text",
                    "message": f"หน้า {number} ไม่มีชั้นข้อความ (อาจเป็นภาพสแกน) ระบบยังไม่ได้อ่านหน้านี้",
                    "field": None,
                    "page": number,
                })
        pages.append(text)
        if progress:
            progress(number, total)
    if not any(p.strip() for p in pages):
        log.info("PDF of %s pages has no text layer", total)
    return ReadResult(pages=pages, text_source="pdf-text", warnings=warnings)
