"""Build small Thai PDFs with a text layer for tests (reportlab and the Sarabun font)."""
from __future__ import annotations

import io
from pathlib import Path

import fontpkg_sarabun
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

SARABUN = Path(fontpkg_sarabun.__file__).parent / "files" / "Sarabun-Regular.ttf"
_FONT = "Sarabun"


def thai_pdf(pages: list[list[str]]) -> bytes:
    """Return a PDF whose pages hold the given lines, set in Sarabun 14 pt."""
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT, str(SARABUN)))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for lines in pages:
        pdf.setFont(_FONT, 14)
        y = A4[1] - 72
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 22
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def blank_pdf(page_count: int = 1) -> bytes:
    """Return a PDF of empty pages, like a scan with no text layer."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for _ in range(page_count):
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
