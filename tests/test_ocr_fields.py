"""Plausibility checks and label repair for numbers and dates read by OCR."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from parsers.ocr.digits import MODEL_PATH, DigitRecognizer
from parsers.ocr.engine import Char, Word
from parsers.ocr.fields import (
    FieldReader,
    check_cited_date,
    check_letter_date,
    is_real_date,
    month_number,
    repair_labels,
    skeleton,
)
from parsers.ocr.layout import TextLine, join_sara_am

THIS_YEAR_BE = 2569


@pytest.mark.parametrize("day, month, year", [
    (31, 4, 2568),   # April has 30 days
    (29, 2, 2566),   # 2023 is not a leap year
    (0, 10, 2550),
    (32, 1, 2551),
    (15, 13, 2550),
])
def test_impossible_dates_are_rejected(day, month, year):
    assert not is_real_date(day, month, year)
    assert check_letter_date(day, month, year, THIS_YEAR_BE) is not None


def test_leap_day_is_a_real_date():
    assert is_real_date(29, 2, 2567)


def test_letter_date_of_2549_is_plausible():
    assert check_letter_date(17, 8, 2549, THIS_YEAR_BE) is None


@pytest.mark.parametrize("year", [2449, 2551 + 100, 551])
def test_letter_year_far_from_present_is_rejected(year):
    problem = check_letter_date(7, 1, year, THIS_YEAR_BE)
    assert problem is not None
    assert str(year) in problem


def test_cited_date_decades_from_the_letter_is_rejected():
    assert check_cited_date(30, 1, 2450, letter_year_be=2550) is not None


def test_cited_date_of_the_letter_year_is_plausible():
    assert check_cited_date(30, 1, 2550, letter_year_be=2550) is None


@pytest.mark.parametrize("text, month", [
    ("ตุลาคม", 10),
    ("ดุลาคม", 10),      # OCR confuses ต and ด
    ("กุมภาพนธ", 2),     # marks dropped
    ("มิถุนายน", 6),
    ("เมษายน", 4),
])
def test_month_names_read_by_ocr(text, month):
    assert month_number(text) == month


def test_unknown_word_is_no_month():
    assert month_number("ประธาน") is None


def line(text: str) -> TextLine:
    return TextLine(text=text, box=(0, 0, 10, 10), words=[],
                    char_boxes=[None if ch == " " else (i, 0, i + 1, 10) for i, ch in enumerate(text)])


@pytest.mark.parametrize("read, repaired", [
    ("เรือง ประกาศกำหนดหลักเกณฑ์", "เรื่อง ประกาศกำหนดหลักเกณฑ์"),
    ("อางถง หนังสือสำนักงาน ก.ท.", "อ้างถึง หนังสือสำนักงาน ก.ท."),
    ("สิงทีส่งมาด้วย ประกาศคณะกรรมการ", "สิ่งที่ส่งมาด้วย ประกาศคณะกรรมการ"),
    ("ที มท 0809.3/ว 159", "ที่ มท 0809.3/ว 159"),
    ("ที่มท 0808.2/ว 1352", "ที่ มท 0808.2/ว 1352"),
    ("อ้างถึง หนังสือสำนักงาน ก.ท. ที มท 0809.2/ว 51 ลงวันท 8 เมษายน 2551",
     "อ้างถึง หนังสือสำนักงาน ก.ท. ที่ มท 0809.2/ว 51 ลงวันที่ 8 เมษายน 2551"),
    ("ฉบับลงวันที 28 เมษายน 2551", "ฉบับลงวันที่ 28 เมษายน 2551"),
])
def test_labels_read_without_marks_are_repaired(read, repaired):
    found = line(read)
    repair_labels(found)
    assert found.text == repaired
    assert len(found.char_boxes) == len(found.text)


@pytest.mark.parametrize("text", [
    "เรียนรู้การใช้งานระบบ",
    "ที่ประชุมมีมติ 3 ข้อ",
    "ลงวันที่ 8 เมษายน 2551",
])
def test_text_without_slips_is_left_alone(text):
    found = line(text)
    repair_labels(found)
    assert found.text == text


def test_split_sara_am_is_joined():
    assert join_sara_am("สํานักงาน ดําเนินการ น้ําตก") == "สำนักงาน ดำเนินการ น้ำตก"


def test_skeleton_drops_marks():
    assert skeleton("เรื่อง") == "เรอง"


LAKSAMAN = Path("/usr/share/fonts/truetype/tlwg/Laksaman.ttf")
needs_laksaman = pytest.mark.skipif(not LAKSAMAN.exists(), reason="needs Debian's fonts-tlwg-laksaman-ttf")


def scanned_date_line(read: str, inked: str) -> tuple[TextLine, np.ndarray]:
    """Return a date line as Tesseract read it, with full confidence, and the page ink it came from.

    `read` and `inked` are the same date with different day digits: the ink has
    `inked`'s digits, typed in Laksaman, a face the digit recognizer was not trained
    on. The month name is given text boxes but no ink, because only digits are read again.
    """
    font = ImageFont.truetype(str(LAKSAMAN), 48)
    image = Image.new("L", (1400, 120), 255)
    draw = ImageDraw.Draw(image)
    boxes: list[tuple[int, int, int, int] | None] = []
    x = 40
    for position, (shown, drawn) in enumerate(zip(read, inked)):
        if shown == " ":
            boxes.append(None)
            x += 24
            continue
        if drawn.isdigit():
            draw.text((x, 30), drawn, font=font, fill=0)
            left, top, right, bottom = draw.textbbox((x, 30), drawn, font=font)
            boxes.append((left, top, right, bottom))
            x = right + 4
        else:
            boxes.append((x, 40, x + 20, 80))
            x += 22
    chars = [Char(text=ch, box=box, confidence=96.0) for ch, box in zip(read, boxes) if box is not None]
    line_box = (40, 30, x, 90)
    line = TextLine(text=read, box=line_box, words=[Word(text=read, box=line_box, confidence=96.0, chars=chars)],
                    char_boxes=boxes)
    return line, np.asarray(image) < 128


@needs_laksaman
def test_impossible_typed_day_is_read_again():
    # Tesseract reads a typed 2 as 9 with full confidence; 98 February is no date,
    # so the day is taken from the digit recognizer and flagged for the clerk.
    line, ink = scanned_date_line("98 กุมภาพันธ์ 2551", "28 กุมภาพันธ์ 2551")
    reader = FieldReader(ink, DigitRecognizer(MODEL_PATH), 1, image_size=(ink.shape[1], ink.shape[0]),
                         current_year_be=THIS_YEAR_BE)
    reader.read([line])
    assert line.text == "28 กุมภาพันธ์ 2551"
    assert [w["field"] for w in reader.warnings] == ["date"]
    assert reader.warnings[0]["code"] == "low_confidence"
    assert reader.letter_year_be == 2551


@needs_laksaman
def test_possible_typed_day_is_kept():
    line, ink = scanned_date_line("28 กุมภาพันธ์ 2551", "28 กุมภาพันธ์ 2551")
    reader = FieldReader(ink, DigitRecognizer(MODEL_PATH), 1, image_size=(ink.shape[1], ink.shape[0]),
                         current_year_be=THIS_YEAR_BE)
    reader.read([line])
    assert line.text == "28 กุมภาพันธ์ 2551"
    assert reader.warnings == []
