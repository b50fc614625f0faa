"""Read an uploaded file's bytes into page texts, judging the file by its content.

Plain text may be UTF-8, UTF-16 with a byte-order mark, or TIS-620 (read as its
superset cp874). PDFs are read through pypdf. A page without a text layer and an image file (PNG,
JPEG, TIFF including multi-page, GIF) are read by OCR (`parsers.ocr`). Where
Tesseract cannot run, such a page stays empty and the file gets an
`ocr_unavailable` warning.
"""
from __future__ import annotations

import io
import logging
import re
import zlib
from dataclasses import dataclass, field
from typing import Callable

import pypdf
from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

from parsers import ocr
from parsers.errors import InputError
from parsers.ocr.images import ImageUnreadable, PdfRenderer, count_frames, image_pages

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# Limits checked after the PDF's page tree is read and before any page is extracted or OCR'd,
# so that a hostile or broken file fails fast instead of filling memory.
MAX_PDF_PAGES = 500
# Sum over all pages of the decompressed size of their content streams.
MAX_CONTENT_BYTES = 64 * 1024 * 1024
# Pixels of one image XObject, which pdfium decodes whole when it renders a page for OCR.
# The value is Pillow's default decompression-bomb threshold; an A4 page scanned at 600 dpi
# has about 35 million.
MAX_IMAGE_PIXELS = 89_478_485
# Form and image XObjects looked at per file; a file with more is not refused, only not checked further.
MAX_XOBJECTS_CHECKED = 10_000
_INFLATE_CHUNK = 1024 * 1024

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
    ocr_settings: ocr.OcrSettings | None = None,
) -> ReadResult:
    """Return the pages of `data`, or raise InputError when it cannot be read at all.

    `ocr_settings` defaults to `OcrSettings.from_environment()`.
    """
    settings = ocr_settings or ocr.OcrSettings.from_environment()
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
        return _read_pdf(data, progress, settings)
    image_kind = _image_kind(head)
    if image_kind:
        return _read_image(data, image_kind, progress, settings)
    _reject_binary_kinds(head)
    return _read_plain(data, progress)


def _image_kind(head: bytes) -> str | None:
    for magic, kind in _IMAGE_MAGICS.items():
        if head.startswith(magic):
            return kind
    return None


def _reject_binary_kinds(head: bytes) -> None:
    if head.startswith(_ZIP_MAGICS):
        raise InputError(
            "unsupported_type",
            "ไฟล์นี้เป็นไฟล์บีบอัด (ZIP) ไม่ใช่ PDF หรือข้อความ กรุณาแตกไฟล์แล้วส่งทีละไฟล์",
            "the file is a ZIP archive, not a PDF or text",
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


def _read_pdf(data: bytes, progress: ProgressCallback | None, settings: ocr.OcrSettings) -> ReadResult:
    pypdf_log = logging.getLogger("pypdf")
    notes = _PypdfNotes()
    pypdf_log.addHandler(notes)
    propagate, pypdf_log.propagate = pypdf_log.propagate, False
    try:
        result = _extract_pages(data, progress, settings)
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


def _extract_pages(data: bytes, progress: ProgressCallback | None, settings: ocr.OcrSettings) -> ReadResult:
    reader = _open_pdf(data)
    total = len(reader.pages)
    _check_pdf_limits(reader, total)
    pages: list[str] = []
    warnings: list[dict] = []
    scans = _ScanReader(data, settings)
    try:
        for number, page in enumerate(reader.pages, start=1):
            text, page_warnings = _page_text(page, number)
            if not text.strip() and not page_warnings:
                text, page_warnings = scans.read(number)
            warnings.extend(page_warnings)
            pages.append(text)
            if progress:
                progress(number, total)
    finally:
        scans.close()
    if not any(p.strip() for p in pages):
        log.info("PDF of %s pages has no text", total)
    return ReadResult(pages=pages, text_source=scans.text_source(total), warnings=scans.file_warnings + warnings)


def _check_pdf_limits(reader: pypdf.PdfReader, total: int) -> None:
    """Raise InputError for a PDF over MAX_PDF_PAGES, MAX_CONTENT_BYTES or MAX_IMAGE_PIXELS.

    Page content streams and form XObjects count towards MAX_CONTENT_BYTES, each XObject
    once per file however many pages use it.
    """
    if total > MAX_PDF_PAGES:
        raise InputError(
            "too_many_pages",
            f"ไฟล์ PDF นี้มี {total} หน้า เกิน {MAX_PDF_PAGES} หน้าที่ระบบอ่านได้ในไฟล์เดียว กรุณาแยกเป็นหลายไฟล์",
            f"the PDF has {total} pages, over the limit of {MAX_PDF_PAGES}",
        )
    content_bytes = 0
    seen_xobjects: set[int] = set()
    for number, page in enumerate(reader.pages, start=1):
        try:
            streams = _content_streams(page) + _xobject_streams(page.get("/Resources"), seen_xobjects)
        except Exception as exc:  # noqa: BLE001 - a damaged page is reported when it is extracted
            log.info("page %s: content streams unreadable: %s: %s", number, type(exc).__name__, exc)
            continue
        for stream in streams:
            if stream.get("/Subtype") == "/Image":
                _check_image_size(stream, number)
                continue
            content_bytes += _inflated_size(stream, MAX_CONTENT_BYTES - content_bytes)
            if content_bytes > MAX_CONTENT_BYTES:
                raise InputError(
                    "content_too_large",
                    f"เนื้อหาของไฟล์ PDF นี้เมื่อคลายการบีบอัดแล้วใหญ่เกิน {MAX_CONTENT_BYTES // 1048576} MB "
                    "ระบบจึงไม่อ่าน กรุณาขอไฟล์ใหม่จากผู้ส่ง",
                    f"page {number}: decompressed page content over the limit of {MAX_CONTENT_BYTES} bytes",
                )


def _check_image_size(image, number: int) -> None:
    try:
        pixels = int(image.get("/Width", 0)) * int(image.get("/Height", 0))
    except (TypeError, ValueError):
        return
    if pixels > MAX_IMAGE_PIXELS:
        raise InputError(
            "image_too_large",
            f"ภาพในหน้า {number} ของไฟล์ PDF นี้ใหญ่เกินกว่าที่ระบบอ่านได้ ({pixels:,} จุดภาพ) กรุณาขอไฟล์ใหม่จากผู้ส่ง",
            f"page {number}: an image of {pixels} pixels, over the limit of {MAX_IMAGE_PIXELS}",
        )


def _xobject_streams(resources, seen: set[int]) -> list:
    """Return the form and image XObjects under `resources`, nested forms included, not yet in `seen`."""
    found = []
    pending = [resources]
    while pending and len(seen) < MAX_XOBJECTS_CHECKED:
        current = pending.pop()
        current = current.get_object() if current is not None else None
        if not isinstance(current, pypdf.generic.DictionaryObject):
            continue
        xobjects = current.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not isinstance(xobjects, pypdf.generic.DictionaryObject):
            continue
        for reference in xobjects.values():
            key = reference.idnum if isinstance(reference, pypdf.generic.IndirectObject) else id(reference)
            if key in seen:
                continue
            seen.add(key)
            stream = reference.get_object()
            if isinstance(stream, pypdf.generic.StreamObject):
                found.append(stream)
                pending.append(stream.get("/Resources"))
    return found


def _content_streams(page: pypdf.PageObject) -> list:
    contents = page.get("/Contents")
    if contents is None:
        return []
    contents = contents.get_object()
    if isinstance(contents, pypdf.generic.ArrayObject):
        return [item.get_object() for item in contents]
    return [contents]


def _inflated_size(stream, limit: int) -> int:
    """Return the decoded size of a content stream, or a number over `limit` once it passes it.

    Only plain and FlateDecode streams are measured here, in chunks, so a zip bomb is never
    held in memory. NOTE: other filters are counted by their encoded size and left to
    pypdf's own per-stream limits (75 MB by default in pypdf 7).
    """
    raw = getattr(stream, "_data", b"")
    filters = stream.get("/Filter")
    if isinstance(filters, pypdf.generic.ArrayObject) and len(filters) == 1:
        filters = filters[0]
    if filters != "/FlateDecode":
        return len(raw)
    inflater = zlib.decompressobj()
    size = 0
    pending = raw
    try:
        while pending and size <= limit:
            size += len(inflater.decompress(pending, _INFLATE_CHUNK))
            pending = inflater.unconsumed_tail
    except zlib.error:
        # A damaged stream is reported when the page is extracted.
        return size
    return size


def _page_text(page: pypdf.PageObject, number: int) -> tuple[str, list[dict]]:
    try:
        return page.extract_text() or "", []
    except Exception as exc:  # noqa: BLE001 - pypdf can raise anything on one bad page
        log.warning("page %s unreadable: %s: %s", number, type(exc).__name__, exc)
        return "", [{
            "code": "unreadable_page",
            "message": f"อ่านข้อความหน้า {number} ไม่ได้ เพราะข้อมูลในหน้านั้นเสียหาย",
            "field": None,
            "page": number,
        }]


def _page_without_text(number: int) -> dict:
    return {
        "code": "page_without_text",
        "message": f"หน้า {number} ไม่มีชั้นข้อความ (อาจเป็นภาพสแกน) ระบบยังไม่ได้อ่านหน้านี้",
        "field": None,
        "page": number,
    }


def _blank_after_ocr(number: int) -> dict:
    return {
        "code": "page_without_text",
        "message": f"หน้า {number} ไม่มีชั้นข้อความ และอ่านด้วย OCR แล้วไม่พบข้อความ (อาจเป็นหน้าว่าง) กรุณาตรวจหน้านี้",
        "field": None,
        "page": number,
    }


class _ScanReader:
    """OCR of the PDF pages that have no text layer, checking for Tesseract once per file."""

    def __init__(self, data: bytes, settings: ocr.OcrSettings):
        self._data = data
        self._settings = settings
        self._renderer: PdfRenderer | None = None
        self._available: bool | None = None
        self.file_warnings: list[dict] = []
        self.ocr_pages = 0

    def read(self, number: int) -> tuple[str, list[dict]]:
        if not self._engine_ready():
            return "", [_page_without_text(number)]
        if self._renderer is None:
            self._renderer = PdfRenderer(self._data)
        try:
            result = ocr.ocr_page(self._renderer.render(number - 1, self._settings.dpi), number, self._settings)
        except ocr.OcrUnavailable as exc:
            self._available = False
            self.file_warnings.append(ocr.unavailable_warning(str(exc)))
            return "", [_page_without_text(number)]
        self.ocr_pages += 1
        if not result.text.strip() and not result.warnings:
            return "", [_blank_after_ocr(number)]
        return result.text, result.warnings

    def text_source(self, total: int) -> str:
        if self.ocr_pages == 0:
            return "pdf-text"
        return "ocr" if self.ocr_pages == total else "mixed"

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()

    def _engine_ready(self) -> bool:
        if self._available is None:
            try:
                ocr.check_engine(self._settings.engine())
                self._available = True
            except ocr.OcrUnavailable as exc:
                self._available = False
                self.file_warnings.append(ocr.unavailable_warning(str(exc)))
        return self._available


def _read_image(data: bytes, kind: str, progress: ProgressCallback | None, settings: ocr.OcrSettings) -> ReadResult:
    try:
        total = count_frames(data)
        try:
            ocr.check_engine(settings.engine())
        except ocr.OcrUnavailable as exc:
            if progress:
                progress(total, total)
            return ReadResult(pages=[""] * total, text_source="ocr", warnings=[ocr.unavailable_warning(str(exc))])
        pages: list[str] = []
        warnings: list[dict] = []
        for number, page in enumerate(image_pages(data), start=1):
            result = ocr.ocr_page(page, number, settings)
            pages.append(result.text)
            warnings.extend(result.warnings)
            if progress:
                progress(number, total)
    except ImageUnreadable as exc:
        raise InputError(
            "corrupt_image",
            f"ไฟล์ภาพ ({kind}) เสียหายหรือไม่ครบ อ่านไม่ได้ กรุณาขอไฟล์ใหม่จากผู้ส่ง",
            f"the {kind} image cannot be decoded: {exc}",
        ) from exc
    except ocr.OcrUnavailable as exc:
        return ReadResult(pages=[""] * total, text_source="ocr", warnings=[ocr.unavailable_warning(str(exc))])
    return ReadResult(pages=pages, text_source="ocr", warnings=warnings)
