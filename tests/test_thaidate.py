"""Thai dates: digits of both scripts, full and short month names, BE years, checks."""
import datetime

import pytest

from parsers.thaidate import (
    fiscal_year_end, find_dates, last_day_of_month, month_number, parse_thai_date, parse_time,
)


@pytest.mark.parametrize("text, expected", [
    ("๒ เมษายน ๒๕๖๘", datetime.date(2025, 4, 2)),
    ("13 เมษายน 2568", datetime.date(2025, 4, 13)),
    ("๑๐ เม.ย. ๒๕๖๘", datetime.date(2025, 4, 10)),
    ("๓๑ มี.ค. ๖๘", datetime.date(2025, 3, 31)),
    ("5  ตุลาคม  2550", datetime.date(2007, 10, 5)),
    ("๒๘ มีนาคม พ.ศ. ๒๕๖๘", datetime.date(2025, 3, 28)),
    ("๒๘ มีนาคม พ.ศ.๒๕๖๘", datetime.date(2025, 3, 28)),
    ("1 ก.พ. 2569", datetime.date(2026, 2, 1)),
    ("๑ ก. พ. ๖๙", datetime.date(2026, 2, 1)),
    ("ลงวันที่ ๒๑ พฤศจิกายน ๒๕๖๗", datetime.date(2024, 11, 21)),
    ("๙ ธ.ค. ๒๕๖๘", datetime.date(2025, 12, 9)),
])
def test_parse_thai_date(text, expected):
    assert parse_thai_date(text) == expected


@pytest.mark.parametrize("text", [
    "๓๑ กุมภาพันธ์ ๒๕๖๘",       # no such day
    "๒๙ กุมภาพันธ์ ๒๕๖๘",       # 2025 is not a leap year
    "๓๒ มกราคม ๒๕๖๘",
    "๑๒ มีนาคม ๑๒๓๔",           # not a Buddhist-era year of a letter
    "สำนักงาน ก.พ. ๒๕๖๘",       # the civil service agency, not February
])
def test_impossible_or_absent_dates_are_rejected(text):
    assert parse_thai_date(text) is None


def test_leap_day_is_accepted():
    assert parse_thai_date("๒๙ กุมภาพันธ์ ๒๕๖๗") == datetime.date(2024, 2, 29)


def test_month_inside_longer_word_rejected():
    assert parse_thai_date("๕ มีนาคมมม ๒๕๖๘") is None


def test_find_dates_returns_offsets():
    text = "ตั้งแต่วันที่ ๓๑ มีนาคม ๒๕๖๘ ถึงวันที่ ๙ เม.ย. ๖๘"
    found = list(find_dates(text))
    assert [d for _, _, d in found] == [datetime.date(2025, 3, 31), datetime.date(2025, 4, 9)]
    start, end, _ = found[0]
    assert text[start:end] == "๓๑ มีนาคม ๒๕๖๘"


@pytest.mark.parametrize("name, number", [
    ("มกราคม", 1), ("ก.พ.", 2), ("มี.ค.", 3), ("เม.ย.", 4), ("มิ.ย.", 6), ("ธันวาคม", 12),
    ("กรกฎาคม", 7), ("พ.ย.", 11),
])
def test_month_number(name, number):
    assert month_number(name) == number


@pytest.mark.parametrize("text, expected", [
    ("๑๐.๐๐ น.", "10:00"), ("9.30 น.", "09:30"), ("๑๔:๔๕", "14:45"), ("๒๕.๐๐ น.", None),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_last_day_of_month_handles_february():
    assert last_day_of_month(2024, 2) == datetime.date(2024, 2, 29)
    assert last_day_of_month(2025, 9) == datetime.date(2025, 9, 30)


def test_fiscal_year_ends_in_september():
    assert fiscal_year_end(2568) == datetime.date(2025, 9, 30)
