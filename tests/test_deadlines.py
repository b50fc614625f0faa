"""Deadline phrases of Thai official letters and the dates they stand for."""
import datetime

import pytest

from parsers.deadlines import find_asap, find_deadlines, thai_number

LETTER_DATE = datetime.date(2025, 4, 2)


def only(text, letter_date=LETTER_DATE):
    found = find_deadlines(text, letter_date)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("text, date", [
    ("รายงานรายชื่อภายในวันที่ ๙ เมษายน ๒๕๖๘", "2025-04-09"),
    ("ให้ส่งภายใน ๙ เม.ย. ๖๘", "2025-04-09"),
    ("ส่งไม่เกินวันที่ 4 กรกฎาคม 2568", "2025-07-04"),
    ("ภายในวันศุกร์ที่ ๑๑ เมษายน ๒๕๖๘", "2025-04-11"),
    ("ให้แล้วเสร็จภายในวันที่ ๓๐ เมษายน", "2025-04-30"),
])
def test_due_dates(text, date):
    item = only(text)
    assert item["kind"] == "due"
    assert item["date"] == date
    assert item["stated"] == date


def test_before_date_is_due_the_day_before():
    item = only("ส่งถึงสำนักงานก่อนวันที่ ๒๐ สิงหาคม ๒๕๖๘")
    assert item["kind"] == "due"
    assert item["date"] == "2025-08-19"
    assert item["stated"] == "2025-08-20"


def test_start_date():
    item = only("เริ่มใช้งานได้ตั้งแต่วันที่ ๓๑ มีนาคม ๒๕๖๘ เป็นต้นไป")
    assert item["kind"] == "start"
    assert item["date"] == "2025-03-31"
    assert item["text"] == "ตั้งแต่วันที่ ๓๑ มีนาคม ๒๕๖๘ เป็นต้นไป"


def test_event_window_is_not_due():
    item = only("จะจัดการประชุมตั้งแต่วันที่ ๗ กรกฎาคม ๒๕๖๘ ถึงวันที่ ๙ กรกฎาคม ๒๕๖๘ ณ โรงแรม")
    assert item["kind"] == "window"
    assert item["date"] == "2025-07-07"
    assert item["end"] == "2025-07-09"


def test_reporting_window_is_due_at_its_end():
    item = only("๒. รายงานผลตามแบบในสิ่งที่ส่งมาด้วย\n๒ เป็นรายวัน ตั้งแต่วันที่ ๒๗ พฤศจิกายน ๒๕๖๘ "
                "ถึงวันที่ ๑๒ ธันวาคม ๒๕๖๘")
    assert item["kind"] == "due"
    assert item["date"] == "2025-12-12"


def test_within_month_is_its_last_day():
    item = only("เบิกจ่ายให้แล้วเสร็จภายในเดือนกันยายน ๒๕๖๘")
    assert item["date"] == "2025-09-30"


def test_within_month_without_year_uses_the_letter_year():
    item = only("ให้รายงานภายในเดือนกุมภาพันธ์", datetime.date(2024, 1, 15))
    assert item["date"] == "2024-02-29"


def test_within_fiscal_year_is_30_september():
    item = only("ดำเนินการให้แล้วเสร็จภายในปีงบประมาณ พ.ศ. ๒๕๖๙")
    assert item["kind"] == "due"
    assert item["date"] == "2026-09-30"


def test_relative_days_from_receipt():
    item = only("รายงานภายใน ๑๕ วัน นับแต่วันที่ได้รับหนังสือฉบับนี้")
    assert item["kind"] == "relative"
    assert item["days"] == 15
    assert item["working_days"] is False
    assert item["counted_from"] == "receipt"
    assert item["date"] is None


def test_relative_working_days():
    item = only("ให้ส่งภายใน 7 วันทำการ นับแต่วันที่ได้รับหนังสือ")
    assert item["days"] == 7
    assert item["working_days"] is True
    assert item["counted_from"] == "receipt"


def test_relative_days_in_words_without_a_starting_point():
    item = only("ให้แจ้งผลภายในสิบห้าวัน")
    assert item["days"] == 15
    assert item["counted_from"] is None


def test_several_deadlines_in_order():
    text = ("แจ้งรายชื่อภายในวันที่ ๑๘ กรกฎาคม ๒๕๖๘ และรายงานจำนวนถังขยะ"
            "ภายในวันที่ ๓๑ กรกฎาคม ๒๕๖๘")
    assert [d["date"] for d in find_deadlines(text, LETTER_DATE)] == ["2025-07-18", "2025-07-31"]


def test_date_as_of_is_not_a_deadline():
    assert find_deadlines("ข้อมูล ณ วันที่ ๓๐ มิถุนายน ๒๕๖๘", LETTER_DATE) == []


def test_asap_phrases_have_no_date():
    assert find_deadlines("ให้ความช่วยเหลือโดยด่วน", LETTER_DATE) == []
    assert [p for _, _, p in find_asap("ให้ความช่วยเหลือโดยด่วน และรายงานทันที")] == ["โดยด่วน", "ทันที"]


def test_urgency_class_is_not_an_asap_request():
    assert find_asap("หนังสือจังหวัด ด่วนที่สุด") == []


@pytest.mark.parametrize("words, value", [
    ("๑๕", 15), ("7", 7), ("สิบ", 10), ("สิบห้า", 15), ("ยี่สิบเอ็ด", 21), ("สามสิบ", 30), ("ห้า", 5),
])
def test_thai_number(words, value):
    assert thai_number(words) == value


def test_due_on_saturday_is_effective_on_monday():
    item = only("ส่งภายในวันที่ ๑๔ มิถุนายน ๒๕๖๘")
    assert item["date"] == "2025-06-14"
    assert item["effective"] == "2025-06-16"
    assert item["holiday_shift"] is True


def test_due_in_songkran_moves_past_the_holidays():
    item = only("ส่งภายในวันที่ ๑๓ เมษายน ๒๕๖๘")
    assert item["effective"] == "2025-04-17"


def test_due_on_working_day_is_not_moved():
    item = only("ส่งภายในวันที่ ๙ เมษายน ๒๕๖๘")
    assert item["effective"] == "2025-04-09"
    assert item["holiday_shift"] is False


def test_before_date_is_never_moved_forward():
    item = only("ส่งก่อนวันที่ ๑๖ มิถุนายน ๒๕๖๘")
    assert item["date"] == "2025-06-15"
    assert item["effective"] == "2025-06-15"


def test_rule_names_the_phrase_kind():
    assert only("ภายในเดือนกันยายน ๒๕๖๘")["rule"] == "month_end"
    assert only("ภายในปีงบประมาณ พ.ศ. ๒๕๖๙")["rule"] == "fiscal_year_end"
    assert only("ก่อนวันที่ ๒๐ สิงหาคม ๒๕๖๘")["rule"] == "day_before"


def test_window_from_now_until_a_date():
    item = only("ให้ส่งแบบรายงานตั้งแต่บัดนี้ถึงวันที่ ๓๐ มิถุนายน ๒๕๖๘")
    assert item["kind"] == "due"
    assert item["date"] == "2025-06-30"


def test_relative_days_after_receipt():
    item = only("ให้แจ้งผลภายใน ๗ วัน หลังจากได้รับหนังสือ")
    assert item["days"] == 7
    assert item["counted_from"] == "receipt"
