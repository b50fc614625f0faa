"""Assignments: who must do what, read from the request clause of the sample letters."""
from pathlib import Path

import pytest

from parsers.letter import parse_letters

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _assignments(name: str, letter: int = 0) -> list[dict]:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    return parse_letters(text)[letter]["assignments"]


def test_reminder_takes_request_not_background():
    (assignment,) = _assignments("003_chum_phae_reminder_arabic.txt")
    assert assignment["actor"] == "องค์การบริหารส่วนตำบลโนนอุดม"
    assert assignment["action"].startswith("ตรวจสอบและปรับปรุงข้อมูลจำนวนถังขยะเปียกในระบบให้เป็นปัจจุบัน")
    assert "และรายงานตามแบบ ถข.1" in assignment["action"]
    assert "ปรากฏว่า" not in assignment["action"]
    assert assignment["requested"] == ["แบบ ถข.1"]
    assert assignment["channel"] is None
    assert assignment["due"] is None


def test_number_with_thousands_comma_never_split():
    body = ("ปรากฏว่าระบบยังแสดงจำนวนถังขยะเปียก 1,245 ใบ จึงขอให้องค์การบริหารส่วนตำบลโนนอุดม"
            "รายงานข้อมูลจำนวนถังขยะเปียก 1,245 ใบ ให้อำเภอทราบ")
    text = ("ที่ ขก 0023.15/1952\nที่ว่าการอำเภอชุมแพ\n\n7 กรกฎาคม 2568\n\n"
            "เรื่อง ขอให้รายงานจำนวนถังขยะเปียก\n\nเรียน นายกองค์การบริหารส่วนตำบลโนนอุดม\n\n"
            f"{body}\n\nจึงเรียนมาเพื่อโปรดดำเนินการ\n\nขอแสดงความนับถือ\n")
    (assignment,) = parse_letters(text)[0]["assignments"]
    assert assignment["requested"] == ["ข้อมูลจำนวนถังขยะเปียก 1,245 ใบ"]


def test_reply_reporting_done_work_has_no_assignment():
    assert _assignments("008_kokha_officer_names_performing_duties.txt") == []


def test_listed_documents_are_requested():
    (assignment,) = _assignments("005_nan_secret_personnel.txt")
    assert assignment["actor"] == "องค์การบริหารส่วนตำบลสกาด"
    assert assignment["action"] == "จัดส่งเอกสาร"
    assert len(assignment["requested"]) == 3
    assert assignment["requested"][1] == "สำเนาเอกสารการจัดซื้อจัดจ้างทั้งหมดที่เกี่ยวข้อง พร้อมหลักฐานการเบิกจ่ายเงิน"
    assert assignment["requested"][2] == "ข้อมูลประวัติและตำแหน่งของพนักงานส่วนตำบลผู้ถูกร้องเรียน"
    assert assignment["due"] == "2025-08-19"


def test_names_with_position_and_phone_are_three_items():
    (assignment,) = _assignments("010_wang_thong_training_late_deadline.txt")
    assert assignment["actor"] == "เทศบาลตำบลวังทองและองค์การบริหารส่วนตำบลทุกแห่ง"
    assert assignment["requested"] == ["รายชื่อพนักงานส่วนท้องถิ่นที่ได้รับการคัดเลือก", "ตำแหน่ง",
                                       "หมายเลขโทรศัพท์"]
    assert assignment["channel"] == "E-office"
    assert assignment["due"] == "2026-02-13"


@pytest.mark.parametrize(("name", "actor", "requested", "due"), [
    ("001_dla_circular_bin_count.txt", "องค์กรปกครองส่วนท้องถิ่น", ["แบบ ถข.๑"], "2025-07-18"),
    ("002_khon_kaen_forward_bin_count.txt", "อำเภอ", ["แบบ ถข.๑"], "2025-07-04"),
    ("004_warin_cover_budget.txt", "เทศบาลตำบลและองค์การบริหารส่วนตำบล", ["ผลการเบิกจ่ายงบประมาณ"],
     "2025-08-01"),
    ("009_phitsanulok_bin_expansion_mixed_digits.txt", "อำเภอ", ["แบบสำรวจ"], "2026-03-31"),
])
def test_first_assignment_of_sample(name, actor, requested, due):
    first = _assignments(name)[0]
    assert first["actor"] == actor
    assert first["requested"] == requested
    assert first["due"] == due


def test_numbered_items_take_actor_relayed_in_intro():
    # `จึงขอให้จังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่นดำเนินการ ดังนี้`: the local governments act.
    staff = _assignments("001_dla_circular_bin_count.txt")[1]
    assert staff["actor"] == "องค์กรปกครองส่วนท้องถิ่น"
    assert staff["action"] == "มอบหมายเจ้าหน้าที่ผู้รับผิดชอบเข้าร่วมการประชุมชี้แจงการบันทึกข้อมูลผ่านระบบออนไลน์ (Zoom Meeting)"


def test_action_naming_its_own_actor():
    office = _assignments("001_dla_circular_bin_count.txt")[2]
    assert office["actor"] == "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด"
    assert office["requested"] == ["ผล"]
    assert office["due"] == "2025-07-31"


def test_report_form_item_stops_at_attachment_reference():
    report = _assignments("007_nakhon_si_thammarat_flood_relief.txt")[0]
    assert report["requested"] == ["ผลการให้ความช่วยเหลือ"]
    assert report["due"] == "2025-12-12"
