"""OCR of scanned pages and image files through Tesseract's Thai model."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import fontpkg_sarabun
import pytest
from PIL import Image, ImageDraw, ImageFont

from parsers.ocr import OcrSettings
from parsers.reader import read_document

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs the tesseract command")

SARABUN = Path(fontpkg_sarabun.__file__).parent / "files" / "Sarabun-Regular.ttf"
DPI = 300
LETTER = [
    ("ด่วนที่สุด", 150),
    ("ที่ มท 0808.2/ว 1352", 150),
    ("17 สิงหาคม 2549", 1000),
    ("เรื่อง ระเบียบกระทรวงมหาดไทยว่าด้วยการเงิน การคลัง และการพัสดุ", 150),
    ("เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด", 150),
    ("อ้างถึง หนังสือกรมส่งเสริมการปกครองท้องถิ่น ที่ มท 0808.2/ว 1082 ลงวันที่ 29 มิถุนายน 2549", 150),
    ("จึงเรียนมาเพื่อโปรดทราบ", 500),
]
ISSUER = "กรมส่งเสริมการปกครองท้องถิ่น"


def letter_page(lines=LETTER, issuer: str | None = ISSUER, size_pt: float = 16) -> Image.Image:
    """Return an A4 page at 300 dpi with the lines set in Sarabun, the issuer beside the number."""
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(SARABUN), round(size_pt * DPI / 72))
    y = 300
    for text, x in lines:
        draw.text((x, y), text, font=font, fill=0)
        if issuer and text.startswith("ที่"):
            draw.text((1500, y), issuer, font=font, fill=0)
        y += 120
    return page


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def read_letter():
    return read_document(png_bytes(letter_page()))


def test_png_letter_is_read_by_ocr(read_letter):
    assert read_letter.text_source == "ocr"
    assert len(read_letter.pages) == 1


def test_ocr_reads_subject_and_salutation(read_letter):
    lines = read_letter.pages[0].splitlines()
    assert "เรื่อง ระเบียบกระทรวงมหาดไทยว่าด้วยการเงิน การคลัง และการพัสดุ" in lines
    assert "เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด" in lines


def test_number_and_issuer_come_out_as_separate_lines(read_letter):
    lines = read_letter.pages[0].splitlines()
    assert "ที่ มท 0808.2/ว 1352" in lines
    assert ISSUER in lines


def test_ocr_reads_the_letter_date(read_letter):
    assert "17 สิงหาคม 2549" in read_letter.pages[0].splitlines()


def test_ocr_keeps_sara_am_whole(read_letter):
    text = read_letter.pages[0]
    assert "\u0e4d\u0e32" not in text


def test_multipage_tiff_gives_one_page_per_frame():
    first = letter_page(LETTER[:3])
    second = letter_page([("เรื่อง ขอเชิญประชุมคณะกรรมการ", 150)], issuer=None)
    buffer = io.BytesIO()
    first.save(buffer, format="TIFF", save_all=True, append_images=[second], dpi=(DPI, DPI))
    result = read_document(buffer.getvalue())
    assert len(result.pages) == 2
    assert "ที่ มท 0808.2/ว 1352" in result.pages[0]
    assert "ขอเชิญประชุม" in result.pages[1]


def test_progress_is_reported_per_image_page():
    buffer = io.BytesIO()
    blank = Image.new("L", (1240, 1754), 255)
    blank.save(buffer, format="TIFF", save_all=True, append_images=[blank.copy()], dpi=(150, 150))
    seen = []
    read_document(buffer.getvalue(), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


def test_page_over_the_time_limit_gets_a_warning():
    settings = OcrSettings(page_timeout_seconds=0.01)
    result = read_document(png_bytes(letter_page()), ocr_settings=settings)
    timeouts = [w for w in result.warnings if w["code"] == "ocr_timeout"]
    assert len(timeouts) == 1
    assert timeouts[0]["page"] == 1
    assert result.pages == [""]


def test_scanned_pdf_page_is_read_by_ocr():
    buffer = io.BytesIO()
    letter_page().convert("RGB").save(buffer, format="PDF", resolution=DPI)
    result = read_document(buffer.getvalue())
    assert result.text_source == "ocr"
    assert "เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด" in result.pages[0]


def test_red_stamp_is_dropped_before_ocr():
    page = letter_page().convert("RGB")
    draw = ImageDraw.Draw(page)
    draw.ellipse((1400, 250, 2300, 700), outline=(200, 30, 30), width=12)
    draw.text((1550, 420), "รับที่ 1234", font=ImageFont.truetype(str(SARABUN), 80), fill=(200, 30, 30))
    result = read_document(png_bytes(page))
    assert "1234" not in result.pages[0]
    assert "เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด" in result.pages[0].splitlines()


def test_thai_digits_of_the_date_are_read_again():
    lines = [
        ("ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐", 150),
        ("๒๗ เมษายน ๒๕๖๘", 1000),
        ("เรื่อง การใช้งานระบบบัญชี Carbon Credit", 150),
    ]
    result = read_document(png_bytes(letter_page(lines, issuer="ศาลากลางจังหวัดเชียงราย")))
    page_lines = result.pages[0].splitlines()
    number_line = next(line for line in page_lines if line.startswith("ที่ ชร"))
    assert "๒๗ เมษายน ๒๕๖๘" in page_lines
    assert number_line.endswith("/ว ๓๒๐๐")


@pytest.mark.parametrize("speed", ["ด่วนที่สุด", "ด่วนมาก"])
def test_large_speed_stamp_is_read(speed):
    page = letter_page(LETTER[1:])
    bold = ImageFont.truetype(str(SARABUN.with_name("Sarabun-Bold.ttf")), 140)
    ImageDraw.Draw(page).text((150, 60), speed, font=bold, fill=0)
    result = read_document(png_bytes(page))
    assert result.pages[0].splitlines()[0] == speed


def test_deadline_and_phone_digits_reread():
    lines = [
        ("ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐", 150),
        ("๒ เมษายน ๒๕๖๘", 1000),
        ("ให้รายงานภายในวันที่ ๙ เมษายน ๒๕๖๘", 150),
        ("โทร. ๐ ๕๓๑๕ ๐๑๖๕", 150),
    ]
    result = read_document(png_bytes(letter_page(lines, issuer="ศาลากลางจังหวัดเชียงราย")))
    page_lines = result.pages[0].splitlines()
    assert "ให้รายงานภายในวันที่ ๙ เมษายน ๒๕๖๘" in page_lines
    assert "โทร. ๐ ๕๓๑๕ ๐๑๖๕" in page_lines


def test_pdf_with_text_and_scanned_pages_is_mixed():
    import pypdf

    from tests.pdfmaker import thai_pdf

    text_page = pypdf.PdfReader(io.BytesIO(thai_pdf([["สิ่งที่ส่งมาด้วย สำเนาหนังสือจังหวัด จำนวน ๑ ชุด"]]))).pages[0]
    scan = io.BytesIO()
    letter_page().convert("RGB").save(scan, format="PDF", resolution=DPI)
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(scan).pages[0])
    writer.add_page(text_page)
    buffer = io.BytesIO()
    writer.write(buffer)
    seen = []
    result = read_document(buffer.getvalue(), progress=lambda done, total: seen.append((done, total)))
    assert result.text_source == "mixed"
    assert "เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด" in result.pages[0]
    assert "สิ่งที่ส่งมาด้วย" in result.pages[1]
    assert seen == [(1, 2), (2, 2)]


def test_red_speed_stamp_is_read_from_colour_ink():
    page = letter_page(LETTER[1:]).convert("RGB")
    bold = ImageFont.truetype(str(SARABUN.with_name("Sarabun-Bold.ttf")), 140)
    draw = ImageDraw.Draw(page)
    draw.text((150, 60), "ด่วนที่สุด", font=bold, fill=(210, 20, 20))
    draw.text((1600, 900), "เลขรับ 4321", font=ImageFont.truetype(str(SARABUN), 70), fill=(30, 40, 200))
    result = read_document(png_bytes(page))
    lines = result.pages[0].splitlines()
    assert lines[0] == "ด่วนที่สุด"
    assert "4321" not in result.pages[0]
