"""OCR and typing slips: corrected by kind and context, never as fixed string pairs."""
import pytest

from parsers import codes
from parsers.slips import correct_codes, correct_decision_words, correct_words, find_mixed_script


def corrected(text):
    fixed, corrections = correct_words(text)
    return fixed, [(c["from"], c["to"]) for c in corrections]


@pytest.mark.parametrize("slip, right", [
    ("จึงเรียนมาเพื่อพิจารณาคำเนินการ", "จึงเรียนมาเพื่อพิจารณาดำเนินการ"),
    ("โครงการถึงขยะเปียก ลดโลกร้อน", "โครงการถังขยะเปียก ลดโลกร้อน"),
    ("โครงการดึงขยะเปียก ลดโลกร้อน", "โครงการถังขยะเปียก ลดโลกร้อน"),
    ("ศึกษาคู่่มือการใช้งาน", "ศึกษาคู่มือการใช้งาน"),
    ("ขอให้ถือปฏิบัติโดยเคร่งครัด องค์กรปกครองส่วนท้องถิ่น", "ขอให้ถือปฏิบัติโดยเคร่งครัด องค์กรปกครองส่วนท้องถิ่น"),
    ("ให้ทุกแห่งทือปฏิบัติ", "ให้ทุกแห่งถือปฏิบัติ"),
    ("ตามหนังสือลงวันที่ ๙ เมษายห ๒๕๖๘", "ตามหนังสือลงวันที่ ๙ เมษายน ๒๕๖๘"),
])
def test_word_slips(slip, right):
    assert corrected(slip)[0] == right


def test_correction_names_both_forms():
    _, found = corrected("ผู้รับผิดชอบคำเนินการต่อไป")
    assert found == [("คำเนินการ", "ดำเนินการ")]


@pytest.mark.parametrize("line, right", [
    ("รื่อง การใช้งานระบบ", "เรื่อง การใช้งานระบบ"),
    ("รียน นายอำเภอ ทุกอำเภอ", "เรียน นายอำเภอ ทุกอำเภอ"),
    ("จานวน ๑ ชุด", "จำนวน ๑ ชุด"),
    ("ขอแสดงความนับถอ", "ขอแสดงความนับถือ"),
    ("จึงเรียนมาเพือโปรดทราบ", "จึงเรียนมาเพื่อโปรดทราบ"),
])
def test_line_keyword_slips(line, right):
    assert corrected(line)[0] == right


@pytest.mark.parametrize("text", [
    "ส่งถึงสำนักงานส่งเสริมการปกครองท้องถิ่น",
    "คำแนะนำการใช้งาน",
    "เรือน ๒ หลัง",
    "กราบเรียน ผู้ว่าราชการจังหวัด",
    "ข้อมูล ณ วันที่ ๓๐ มิถุนายน ๒๕๖๘",
])
def test_correct_text_is_left_alone(text):
    assert corrected(text) == (text, [])


def test_province_code_follows_issuer_province():
    head = "ศาลากลางจังหวัดเชียงราย\nถนนแม่ฟ้าหลวง ขร ๕๗๑๐๐\n"
    fixed, found = correct_codes("ที่ ขร ๐๐๒๓.๖/ว ๓๒๐๐\n" + head, head)
    assert fixed.startswith("ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐")
    assert "ถนนแม่ฟ้าหลวง ชร ๕๗๑๐๐" in fixed
    assert {(c["from"], c["to"]) for c in found} == {("ขร", "ชร")}


def test_province_code_follows_postcode():
    fixed, _ = correct_codes("ถนนศูนย์ราชการ ขข ๔๐๐๐๐", "")
    assert fixed == "ถนนศูนย์ราชการ ขก ๔๐๐๐๐"


def test_context_picks_among_several_candidates():
    head = "ศาลากลางจังหวัดภูเก็ต"
    fixed, _ = correct_codes("ที่ ภค ๐๐๒๓.๓/ว ๑๒", head)
    assert fixed == "ที่ ภก ๐๐๒๓.๓/ว ๑๒"


def test_known_code_is_never_changed():
    head = "ศาลากลางจังหวัดเชียงราย"
    text = "อ้างถึง หนังสือจังหวัดขอนแก่น ที่ ขก ๐๐๒๓.๓/ว ๕๖๗๘"
    assert correct_codes(text, head) == (text, [])


def test_code_tables_are_complete():
    assert len(codes.PROVINCE_BY_CODE) == 77
    assert codes.is_known_code("มท")
    assert codes.is_known_code("กค")
    assert codes.is_known_code("ศธ")
    assert codes.CODE_BY_PROVINCE["เชียงราย"] == "ชร"


def test_decision_words_in_an_endorsement_line():
    fixed, replacements, count = correct_decision_words("กราบ ดำเนินการ")
    assert fixed == "ทราบ ดำเนินการ"
    assert count == 2
    assert replacements == [(0, 4, "ทราบ")]


def test_other_words_are_not_decisions():
    _, replacements, count = correct_decision_words("ปลัดเทศบาล ปฏิบัติหน้าที่")
    assert replacements == []
    assert count == 0


def test_mixed_script_inside_a_thai_name():
    found = list(find_mixed_script("(ภูमिरพี ทวีกลีกรรม)"))
    assert [token for _, _, token in found] == ["ภูमिरพี"]


def test_latin_inside_a_thai_word():
    assert [t for _, _, t in find_mixed_script("สำนักoงานเทศบาล")] == ["สำนักoงานเทศบาล"]


def test_latin_words_beside_thai_are_normal():
    assert list(find_mixed_script("ระบบบัญชี Carbon Credit ขององค์กร (E-office) QR Code")) == []


def test_latin_letter_stuck_to_thai_name():
    assert [t for _, _, t in find_mixed_script("(นายสมชาย ใจดl)")] == ["ใจดl"]


def test_cyrillic_lookalike_inside_thai_word():
    assert [t for _, _, t in find_mixed_script("เทศบาลตำบลเกาะคа")] == ["เทศบาลตำบลเกาะคа"]


def test_province_abbreviated_after_cho_dot():
    assert codes.provinces_named("อำเภอเมือง จ.เชียงราย") == ["เชียงราย"]
