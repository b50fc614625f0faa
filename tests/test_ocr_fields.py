"""Plausibility checks and label repair for numbers and dates read by OCR."""
from __future__ import annotations

import pytest

from parsers.ocr.fields import (
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
