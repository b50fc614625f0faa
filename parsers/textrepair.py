"""Repair the Thai text layer of PDFs and OCR output before any field is parsed.

STUB: replaced by the full module.
"""


def repair_text(text: str) -> tuple[str, list[dict]]:
    """Return the repaired text and WARNING dicts (letter-json.md) about what was repaired."""
    return text, []
