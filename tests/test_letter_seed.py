"""The seed file: a Mae Sai district letter with the Chiang Rai province letter it encloses."""
from pathlib import Path

import pytest

from parsers.letter import parse_letters
from parsers.textrepair import repair_text

SEED = Path(__file__).resolve().parent.parent / "samples" / "000_6094e22fb7add413.txt"


@pytest.fixture(scope="module")
def letters():
    text, _ = repair_text(SEED.read_text(encoding="utf-8"))
    return parse_letters(text)


@pytest.fixture(scope="module")
def district(letters):
    return letters[0]


@pytest.fixture(scope="module")
def province(letters):
    return letters[1]


def codes(letter):
    return [w["code"] for w in letter["warnings"]]


def test_seed_has_two_letters(letters):
    assert len(letters) == 2


def test_district_letter_head(district):
    assert district["doc_number"] is None
    assert district["issuer"] == "ที่ว่าการอำเภอแม่สาย"
    assert district["issuer_address"] == "ถนนพหลโยธิน ชร ๕๗๑๓๐"
    assert district["date"] == "2025-04-13"
    assert district["urgency"] == "most_urgent"
    assert district["secrecy"] is None
    assert district["kind"] == "external"


def test_district_subject_and_addressee(district):
    assert district["subject"] == "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
    assert district["salutation"] == "เรียน"
    assert district["addressee"] == "นายกเทศมนตรีตำบล และนายกองค์การบริหารส่วนตำบล ทุกแห่ง"


def test_district_references(district):
    refs = district["references"]
    assert [r["doc_number"]["text"] for r in refs] == ["ชร 0023.20/ว 4947", "ชร 0023.20/ว 1060"]
    assert [r["date"] for r in refs] == ["2024-11-21", "2025-03-17"]
    assert refs[0]["issuer"] == "อำเภอแม่สาย"
    assert refs[0]["urgency"] == "most_urgent"


def test_district_enclosure(district):
    (enclosure,) = district["enclosures"]
    assert enclosure["doc_number"]["text"] == "ชร 0023.6/ว 9201"
    assert enclosure["date"] == "2025-04-02"
    assert enclosure["quantity"] == 1
    assert enclosure["unit"] == "ฉบับ"
    assert enclosure["issuer"] == "จังหวัดเชียงราย"


def test_district_deadlines(district):
    kinds = [(d["kind"], d["date"], d["action"]) for d in district["deadlines"]]
    assert kinds == [("start", "2025-03-31", 1), ("due", "2025-04-09", 1)]


def test_district_actions(district):
    assert [a["number"] for a in district["actions"]] == [1, 2, 3]
    assert len(district["actions"][0]["deadlines"]) == 2
    assert district["actions"][2]["text"].endswith("รายละเอียดตามสิ่งที่ส่งมาด้วย")


def test_district_assignment(district):
    (assignment,) = district["assignments"]
    assert assignment["actor"] == "องค์กรปกครองส่วนท้องถิ่น"
    assert assignment["action"].startswith("มอบหมายเจ้าหน้าที่ผู้รับผิดชอบ")
    assert assignment["requested"] == ["รายชื่อ"]
    assert assignment["channel"] == "E-office"
    assert assignment["due"] == "2025-04-09"


def test_district_receipt_stamps(district):
    stamps = district["receipt_stamps"]
    assert len(stamps) == 2
    assert {s["date"] for s in stamps} == {"2025-04-10"}
    assert {s["time"] for s in stamps} == {"10:00"}
    assert stamps[1]["organization"] == "สำนักงานเทศบาลตำบลเชียงคาน"
    assert stamps[0]["number"] == "๑๐๒๓.๒๐/ว ๒๕๖๘"


def test_district_contact_fills_phone_and_fax(district):
    assert district["contact"]["phone"] == "0-5373-2273"
    assert district["contact"]["fax"] == "0-5373-2273"
    assert district["contact"]["unit"] == "สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอ"


def test_district_endorsement(district):
    (endorsement,) = district["endorsements"]
    assert endorsement["decisions"] == ["ทราบ", "ดำเนินการ", "ถือปฏิบัติ", "แจ้งเวียน"]
    assert endorsement["capacity"] == "performing_duties"
    assert endorsement["position"] == "ปลัดเทศบาล"
    assert endorsement["on_behalf_of"] == "นายกเทศมนตรีตำบลเวียงพางคำ"
    assert endorsement["name"].startswith("พ.จ.อ. ")


def test_district_warnings(district):
    found = codes(district)
    for code in ("deadline_before_letter_date", "receipt_before_letter_date",
                 "deadline_passed_on_receipt", "citation_number_mismatch", "mixed_script",
                 "corrected_text", "low_confidence"):
        assert code in found, code


def test_district_corrections_name_both_forms(district):
    messages = [w["message"] for w in district["warnings"] if w["code"] == "corrected_text"]
    assert any("\"กราบ\"" in m and "\"ทราบ\"" in m for m in messages)
    assert any("\"ทือปฏิบัติ\"" in m and "\"ถือปฏิบัติ\"" in m for m in messages)
    assert any("\"ถึงขยะ\"" in m and "\"ถังขยะ\"" in m for m in messages)


def test_district_text_carries_corrections(district):
    assert "ถึงขยะ" not in district["text"]
    assert "กราบ ดำเนินการ" not in district["text"]


def test_mixed_script_points_at_endorsement_name(district):
    (mixed,) = [w for w in district["warnings"] if w["code"] == "mixed_script"]
    assert mixed["field"] == "endorsements.0.name"


def test_province_letter_number_corrected(province):
    assert province["doc_number"] == {"text": "ชร 0023.6/ว 3200", "prefix": "ชร", "office": "0023.6",
                                      "circular": True, "serial": 3200}
    assert province["issuer_address"] == "ถนนแม่ฟ้าหลวง ชร ๕๗๑๐๐"
    assert "ขร" not in province["text"]


def test_province_letter_head(province):
    assert province["issuer"] == "ศาลากลางจังหวัดเชียงราย"
    assert province["date"] == "2025-04-02"
    assert province["urgency"] is None
    assert province["addressee"] == "นายอำเภอ ทุกอำเภอ"


def test_province_references_and_enclosure(province):
    assert [r["doc_number"]["text"] for r in province["references"]] == [
        "ชร 0023.6/ว 2702", "ชร 0023.6/ว 28615"]
    assert [r["date"] for r in province["references"]] == ["2025-03-10", "2024-11-13"]
    (enclosure,) = province["enclosures"]
    assert enclosure["doc_number"]["text"] == "มท 0821.2/ว 1446"
    assert (enclosure["date"], enclosure["quantity"], enclosure["unit"]) == ("2025-03-28", 1, "ชุด")


def test_province_deadlines(province):
    kinds = [(d["kind"], d["date"]) for d in province["deadlines"]]
    assert kinds == [("start", "2025-03-31"), ("due", "2025-04-11")]


def test_province_page_continuation_is_not_an_action(province):
    assert [a["number"] for a in province["actions"]] == [1, 2, 3]
    assert "/๓." not in province["actions"][1]["text"]


def test_province_assignment_channel(province):
    assert province["assignments"][0]["channel"] == "QR Code"
    assert province["assignments"][0]["due"] == "2025-04-11"


def test_province_signatory(province):
    assert province["signatory"] == {"name": "นายธนศักดิ์ ใจใส",
                                     "position": "รองผู้ว่าราชการจังหวัด ภูเก็ต",
                                     "capacity": "on_behalf",
                                     "on_behalf_of": "ผู้ว่าราชการจังหวัดภูเก็ต"}


def test_province_contact(province):
    contact = province["contact"]
    assert contact["phone"] == "0 5315 0165"
    assert contact["fax"] == "0 5315 0165"
    assert contact["extension"] == "14"
    assert contact["coordinator"] == "นางสาวพิมพ์กานต์ จันแสง"
    assert contact["unit"] == "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด กลุ่มงานบริการสาธารณะท้องถิ่นฯ"


def test_province_closing_request_corrected(province):
    assert province["closing_request"] == "จึงเรียนมาเพื่อพิจารณาดำเนินการ"


def test_province_warnings(province):
    found = codes(province)
    assert "signatory_issuer_mismatch" in found
    assert "corrected_text" in found
    assert "citation_number_mismatch" not in found


def test_province_code_correction_message(province):
    messages = [w["message"] for w in province["warnings"] if w["code"] == "corrected_text"]
    assert any("\"ขร\"" in m and "\"ชร\"" in m for m in messages)


def test_pages_are_counted(letters):
    assert letters[0]["pages"] == [1, 1]
    assert letters[1]["pages"] == [1, 1]


@pytest.mark.parametrize("index", [0, 1])
def test_spans_point_at_values(letters, index):
    letter = letters[index]
    text, spans = letter["text"], letter["spans"]
    start, end = spans["subject"]
    assert text[start:end] == letter["subject"]
    start, end = spans["date"]
    assert "๒๕๖๘" in text[start:end]
    start, end = spans["addressee"]
    assert text[start:end] == letter["addressee"]
    for n, reference in enumerate(letter["references"]):
        start, end = spans[f"references.{n}.doc_number"]
        assert text[start:end].startswith(reference["doc_number"]["prefix"])


def test_signatory_spans(province):
    start, end = province["spans"]["signatory.name"]
    assert province["text"][start:end] == "นายธนศักดิ์ ใจใส"
    start, end = province["spans"]["contact.phone"]
    assert province["text"][start:end] == "๐ ๕๓๑๕ ๐๑๖๕"
