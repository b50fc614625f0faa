"""Turn a file's bytes into the parse result of the letter-json contract.

Steps, in this order: read the pages (`parsers.reader`), repair the Thai text
(`parsers.textrepair`), then split and parse the letters (`parsers.letter`).
"""
from __future__ import annotations

import hashlib
import logging

from parsers.letter import attach_page_warnings, parse_letters
from parsers.reader import DEFAULT_MAX_BYTES, ProgressCallback, read_document
from parsers.textrepair import repair_text

log = logging.getLogger(__name__)

SCHEMA = "saraban.parse/1"
PAGE_BREAK = "\f"


# OCR warnings about one field of a page (a handwritten serial, an unchecked date) belong to the
# letter on that page. Page-wide faults (no text layer, OCR timed out) stay file-level.
LETTER_PAGE_WARNINGS = frozenset({"low_confidence"})


def _file_warnings(letters: list[dict], warnings: list[dict]) -> list[dict]:
    """Move field-level OCR warnings onto their letters; return the warnings that stay file-level."""
    per_letter = [w for w in warnings if w.get("code") in LETTER_PAGE_WARNINGS]
    file_level = [w for w in warnings if w.get("code") not in LETTER_PAGE_WARNINGS]
    return file_level + attach_page_warnings(letters, per_letter)


def parse_document(
    data: bytes,
    filename: str,
    progress: ProgressCallback | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict:
    """Return the parse result of one file.

    Raises `parsers.errors.InputError` when the file cannot be read at all (empty,
    not a PDF or text, damaged, encrypted, over `max_bytes`).
    """
    sha256 = hashlib.sha256(data).hexdigest()
    read = read_document(data, max_bytes=max_bytes, progress=progress)
    text, repair_warnings = repair_text(PAGE_BREAK.join(read.pages))
    letters = parse_letters(text) if text.strip() else []
    log.debug("parsed %s (%s): %d pages, %d letters", filename, sha256[:12], len(read.pages), len(letters))
    return {
        "schema": SCHEMA,
        "file": filename,
        "sha256": sha256,
        "pages": len(read.pages),
        "text_source": read.text_source,
        "letters": letters,
        "warnings": _file_warnings(letters, read.warnings) + repair_warnings,
    }
