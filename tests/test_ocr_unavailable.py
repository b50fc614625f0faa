"""A machine without Tesseract: scanned pages get a warning, never a crash."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from parsers.ocr import OcrSettings
from parsers.reader import read_document
from tests.pdfmaker import SARABUN, blank_pdf

MISSING = OcrSettings(command="/nonexistent/bin/tesseract")


def scanned_letter_png() -> bytes:
    page = Image.new("L", (1240, 1754), 255)
    font = ImageFont.truetype(str(SARABUN), 33)
    ImageDraw.Draw(page).text((75, 150), "เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด", font=font, fill=0)
    buffer = io.BytesIO()
    page.save(buffer, format="PNG", dpi=(150, 150))
    return buffer.getvalue()


def test_missing_tesseract_warns_for_images():
    result = read_document(scanned_letter_png(), ocr_settings=MISSING)
    codes = [w["code"] for w in result.warnings]
    assert codes == ["ocr_unavailable"]
    assert "OCR" in result.warnings[0]["message"]
    assert result.pages == [""]
    assert result.text_source == "ocr"


def test_missing_tesseract_warns_for_scanned_pdf():
    result = read_document(blank_pdf(2), ocr_settings=MISSING)
    codes = [w["code"] for w in result.warnings]
    assert codes == ["ocr_unavailable", "page_without_text", "page_without_text"]
    assert result.text_source == "pdf-text"


def test_missing_tesseract_reports_progress():
    seen = []
    read_document(scanned_letter_png(), ocr_settings=MISSING, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 1)]
