"""Thai text on the covering letter: shaping, the text layer, line breaks, digits and dates."""

from __future__ import annotations

import io
import itertools
import unicodedata
from datetime import date

import pypdf
import pypdfium2
import pytest
from PIL import Image
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from workflow.documents.fonts import BOLD, REGULAR, register_fonts, shaping_available
from workflow.documents.pdf_letter import draw_qr, draw_text
from workflow.documents.qr import QUIET_ZONE, qr_matrix, qr_png
from workflow.documents.thaitext import break_lines, clusters, letter_date, split_words, to_thai_digits

# Words where a mark must be moved: tone marks over upper vowels (ที่ ปี่), marks beside the tall
# consonants ป ฝ ฟ, ฐ and ญ without their lower tails, ำ with and without a tone mark, and a
# Latin ligature.
HARD_WORDS = "ที่ ปี่ ปั้น ฝ้าย ฟ้า ผู้ที่ ส่วนท้องถิ่น ฐานข้อมูล ญี่ปุ่น ฎีกา จำนวน น้ำ ค่ำ กำหนด Office"


def single_line_pdf(text: str, font: str = REGULAR, size: float = 16) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    draw_text(canvas, 50, 700, text, font, size)
    canvas.save()
    return buffer.getvalue()


def test_shaping_available():
    assert shaping_available()


@pytest.mark.parametrize("font", [REGULAR, BOLD])
def test_hard_words_extract_unchanged_with_pypdf(font):
    pdf = single_line_pdf(HARD_WORDS, font)
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().strip()
    assert text == HARD_WORDS


def test_hard_words_extract_unchanged_with_pdfium():
    pdf = single_line_pdf(HARD_WORDS)
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range().strip()
    assert unicodedata.normalize("NFC", text) == HARD_WORDS


def test_tone_mark_sits_above_upper_vowel():
    pdf = single_line_pdf("ที่", size=24)
    page = pypdfium2.PdfDocument(pdf)[0].get_textpage()
    boxes = {page.get_text_range(index, 1): page.get_charbox(index) for index in range(page.count_chars())}
    vowel_top = boxes["\u0e35"][3]
    tone_bottom = boxes["\u0e48"][1]
    assert tone_bottom >= vowel_top


def test_break_lines_fit_width():
    text = ("อำเภอแม่สายได้รับแจ้งจากจังหวัดเชียงรายว่า กรมส่งเสริมการปกครองท้องถิ่นขอให้องค์กรปกครอง"
            "ส่วนท้องถิ่นเริ่มใช้งานระบบบัญชี Carbon Credit ได้ตั้งแต่วันที่ ๓๑ มีนาคม ๒๕๖๘")
    width = 200.0

    def measure(line: str) -> float:
        return stringWidth(line, "Helvetica", 12)

    lines = break_lines(text, width, measure)
    assert len(lines) > 1
    for line in lines:
        assert measure(line) <= width
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_break_lines_cut_at_thai_words():
    text = "องค์กรปกครองส่วนท้องถิ่นมอบหมายเจ้าหน้าที่ผู้รับผิดชอบการใช้งานระบบบัญชีคาร์บอนเครดิต"
    lines = break_lines(text, 30, len)
    word_ends = set(itertools.accumulate(len(word) for word in split_words(text)))
    assert len(lines) > 1
    position = 0
    for line in lines:
        position += len(line)
        assert position in word_ends, line


def test_break_lines_cut_long_word_between_clusters():
    lines = break_lines("ผู้รับผิดชอบ", 3, len)
    assert "".join(lines) == "ผู้รับผิดชอบ"
    for line in lines:
        assert unicodedata.category(line[0]) != "Mn"


def test_clusters_keep_marks_with_base():
    assert clusters("ที่น้ำ") == ["ที่", "น้ำ"]


def test_split_words_keeps_email_whole():
    pieces = split_words("ติดต่อ maesai.local@example.go.th โทร. 0 5373 1273")
    assert "maesai.local@example.go.th" in pieces
    assert "".join(pieces) == "ติดต่อ maesai.local@example.go.th โทร. 0 5373 1273"


def test_letter_date_thai_digits():
    assert letter_date(date(2025, 4, 13)) == "๑๓ เมษายน ๒๕๖๘"


def test_letter_date_arabic_digits():
    assert letter_date(date(2025, 4, 13), "arabic") == "13 เมษายน 2568"


def test_letter_date_unknown_digit_style():
    with pytest.raises(ValueError):
        letter_date(date(2025, 4, 13), "roman")


def test_to_thai_digits():
    assert to_thai_digits("ชร 0023.20/ว 1523") == "ชร ๐๐๒๓.๒๐/ว ๑๕๒๓"


def sample_modules(image, left: float, top: float, module: float, count: int) -> list[list[bool]]:
    """Read a QR grid back from an image by the darkness at each module's centre."""
    gray = image.convert("L")
    return [
        [gray.getpixel((int(left + (column + 0.5) * module), int(top + (row + 0.5) * module))) < 128
         for column in range(count)]
        for row in range(count)
    ]


def test_pdf_qr_matches_url_matrix():
    url = "https://saraban.example/confirm/5709/ว1523"
    matrix = qr_matrix(url)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(200, 200))
    draw_qr(canvas, 20, 20, 160, url)
    canvas.save()
    image = pypdfium2.PdfDocument(buffer.getvalue())[0].render(scale=2).to_pil()
    # PDF y grows upwards: the code's top edge is 200 - 180 = 20 points below the page top.
    assert sample_modules(image, 40, 40, 320 / len(matrix), len(matrix)) == matrix


def test_docx_qr_png_matches_url_matrix():
    url = "https://saraban.example/confirm/5709/ว1523"
    matrix = qr_matrix(url)
    image = Image.open(io.BytesIO(qr_png(url, box_size=10)))
    assert image.size[0] == (len(matrix) + 2 * QUIET_ZONE) * 10
    assert sample_modules(image, QUIET_ZONE * 10, QUIET_ZONE * 10, 10, len(matrix)) == matrix
