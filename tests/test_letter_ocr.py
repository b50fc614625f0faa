"""A scanned circular as OCR reads it: lost tone marks and first letters, Arabic digits."""
import pytest

from parsers.letter import parse_letters

OCR_CIRCULAR = """ด่วนทีสุด
ที มท 0809.3/ว 159                     สำนักงาน ก.จ., ก.ท. และ ก.อบต.
                                       ถนนนครราชสีมา กทม. 10300
                   5 ตุลาคม 2550
รือง เงินตอบแทนรายเดือนสำหรับผู้ปฏิบัติงานในพื้นทีจังหวัดชายแดนภาคใต้
เรียน ประธาน ก.จ.จ., ก.ท.จ. และ ก.อบต.จังหวัด ยะลา ปัตตานี นราธิวาส และสงขลา
อ้างถึง หนังสือสำนักงาน ก.จ., ก.ท. และ ก.อบต. ที มท 0809.3/ว 12 ลงวันที 30 มกราคม 2550
สิงทีส่งมาด้วย สำเนาหนังสือกระทรวงการคลัง ด่วนทีสุด ที กค 0409.5/ว 64 ลงวันที 25 กันยายน 2550
ตามทีสำนักงาน ก.จ., ก.ท. และ ก.อบต. ได้แจ้งหลักเกณฑ์ ... นั้น
จึงเรียนมาเพือโปรดพิจารณาดำเนินการต่อไป
ขอแสดงความนับถือ
(นายวสันต์ วรรณวโรทร)
รองอธิบดีกรมส่งเสริมการปกครองท้องถิ่น
เลขานุการ ก.จ., ก.ท. และ ก.อบต.
สำนักพัฒนาระบบบริหารงานบุคคลส่วนท้องถิ่น
ส่วนส่งเสริมการบริหารงานบุคคลส่วนท้องถิ่น
โทร. 0-2241-9000 ต่อ 3242 โทรสาร 0-2243-8990"""


@pytest.fixture(scope="module")
def letter():
    (found,) = parse_letters(OCR_CIRCULAR)
    return found


def test_urgency_without_tone_mark(letter):
    assert letter["urgency"] == "most_urgent"


def test_number_after_ti_without_tone_mark(letter):
    assert letter["doc_number"]["text"] == "มท 0809.3/ว 159"


def test_issuer_with_agency_abbreviations(letter):
    assert letter["issuer"] == "สำนักงาน ก.จ., ก.ท. และ ก.อบต."
    assert letter["issuer_address"] == "ถนนนครราชสีมา กทม. 10300"
    assert letter["date"] == "2007-10-05"


def test_subject_keyword_missing_first_letter(letter):
    assert letter["subject"].startswith("เงินตอบแทนรายเดือน")


def test_addressee_with_abbreviations(letter):
    assert letter["addressee"] == "ประธาน ก.จ.จ., ก.ท.จ. และ ก.อบต.จังหวัด ยะลา ปัตตานี นราธิวาส และสงขลา"


def test_reference_issuer_stops_at_number(letter):
    (reference,) = letter["references"]
    assert reference["issuer"] == "สำนักงาน ก.จ., ก.ท. และ ก.อบต."
    assert reference["date"] == "2007-01-30"


def test_enclosure_keyword_without_tone_marks(letter):
    (enclosure,) = letter["enclosures"]
    assert enclosure["doc_number"]["text"] == "กค 0409.5/ว 64"
    assert enclosure["urgency"] == "most_urgent"
    assert enclosure["date"] == "2007-09-25"


def test_closing_request_repaired(letter):
    assert letter["closing_request"] == "จึงเรียนมาเพื่อโปรดพิจารณาดำเนินการต่อไป"


def test_self_signed_position_on_two_lines(letter):
    assert letter["signatory"]["name"] == "นายวสันต์ วรรณวโรทร"
    assert letter["signatory"]["capacity"] == "self"
    assert letter["signatory"]["position"] == ("รองอธิบดีกรมส่งเสริมการปกครองท้องถิ่น "
                                               "เลขานุการ ก.จ., ก.ท. และ ก.อบต.")


def test_phone_extension_and_fax_on_one_line(letter):
    contact = letter["contact"]
    assert (contact["phone"], contact["extension"], contact["fax"]) == ("0-2241-9000", "3242", "0-2243-8990")


def test_corrections_are_reported(letter):
    messages = [w["message"] for w in letter["warnings"] if w["code"] == "corrected_text"]
    assert any("\"ด่วนทีสุด\"" in m for m in messages)
    assert any("\"สิงทีส่งมาด้วย\"" in m for m in messages)


SCAN_HEAD = """ดวนท สุด
ที่ มท 0809.3/ว. | 59
สำนักงาน ก.ท.
ถนนนครราชสีมา เขตดุสิต กทม. 10300
29 เมษายน 2551
เรื่อง ประกาศกำหนดหลักเกณฑ์การสอบแข่งขัน
เรียน ประธาน ก.ท.จ.กาญจนบุรี
1
อ้างถึง หนังสือสำนักงาน ก.ท. ที่ มท 0809.2/ว 51 ลงวันที่ 8 เมษายน 2551
=
ตามที่ ก.ท. ได้มีมติ นั้น
จึงเรียนมาเพื่อโปรดพิจารณา
ขอแสดงความนับถือ
"""


@pytest.fixture(scope="module")
def scan():
    (found,) = parse_letters(SCAN_HEAD)
    return found


def test_misread_urgency_stamp_line(scan):
    assert scan["urgency"] == "most_urgent"
    assert scan["text"].startswith("ด่วนที่สุด\n")


def test_bar_read_for_handwritten_one(scan):
    assert scan["doc_number"]["text"] == "มท 0809.3/ว 159"


def test_noise_lines_are_skipped(scan):
    assert scan["addressee"] == "ประธาน ก.ท.จ.กาญจนบุรี"
    assert [r["doc_number"]["text"] for r in scan["references"]] == ["มท 0809.2/ว 51"]


def test_urgency_stamp_with_specks_after_it():
    (found,) = parse_letters("ด่วนที่สุด ) - '\n" + SCAN_HEAD.split("\n", 1)[1])
    assert found["urgency"] == "most_urgent"


def test_guessed_serial_digit_is_flagged(scan):
    flagged = [w for w in scan["warnings"] if w["code"] == "low_confidence"]
    assert [w["field"] for w in flagged] == ["doc_number"]
    assert not any(key.startswith("_") for key in scan)


def test_subject_with_bracketed_edition_is_not_cut():
    text = ("ที่ มท 0808.2/ว 1352\nกรมส่งเสริมการปกครองท้องถิ่น\nถนนราชสีมา กทม. 10300\n17 สิงหาคม 2549\n"
            "เรื่อง ระเบียบกระทรวงมหาดไทยว่าด้วยการเงิน การคลัง และการพัสดุของสถานศึกษา\n"
            "ขององค์กรปกครองส่วนท้องถิน (ฉบับที 2) พ.ศ. 2549\nเรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด\n")
    (letter,) = parse_letters(text)
    assert letter["subject"] == ("ระเบียบกระทรวงมหาดไทยว่าด้วยการเงิน การคลัง และการพัสดุของสถานศึกษา"
                                 "ขององค์กรปกครองส่วนท้องถิ่น (ฉบับที่ 2) พ.ศ. 2549")
