"""Tests for parsers.textrepair: every fault kind of broken Thai text layers.

Excerpts marked "pypdf" are pypdf's output for a Ministry of Interior regulation exported
from Word through Acrobat Distiller (2005). Their private-use code points are written as
escapes.
"""

import re
import unicodedata
from pathlib import Path

import pytest

from parsers.textrepair import PRIVATE_USE_TABLE, repair_text

# A two-page district circular with its provincial enclosure, as plain text.
DISTRICT_LETTER = Path(__file__).resolve().parent.parent / "samples" / "000_6094e22fb7add413.txt"

# pypdf: the first lines of the regulation, with the Windows private-use glyphs it returns.
REGULATION_PYPDF = (
    "ระเบียบกระทรวงมหาดไทย \n"
    "ว\uf70aาด\uf70bวยการบริหารกิจการและการบํารุงรักษาระบบประปาหมู\uf70aบ\uf70bาน \n"
    "พ.ศ. 2548 \n"
    "---------------------------------------------- \n"
    "      เพื่อให\uf70bการบริหารกิจการและการบํารุงรักษาระบบประปาหมู\uf70aบ\uf70bานที่เป\uf712น"
    "ทรัพย\uf70eสินขององค\uf70eกร \n"
    "ปกครองส\uf70aวนท\uf70bองถิ่น  สามารถให\uf70bบริการขั้นพื้นฐานที่จําเป\uf712นต\uf70aอการดํารงชีพ"
    "และเพิ่มคุณภาพชีวิตของประชาชนใน\n"
    "พื้นที่องค\uf70eกรปกครองส\uf70aวนท\uf70bองถิ่นได\uf70bอย\uf70aางมีประสิทธิภาพ   และเพื่อเป\uf712นการ"
    "ส\uf70aงเสริมให\uf70bประชาชน    ร\uf70aวมรับผิดชอบ\n"
    "บริหารกิจการและบํารุงรักษาประปาหมู\uf70aบ\uf70bานในเชิงธุรกิจด\uf70bวยตนเอง \n"
)
REGULATION_REPAIRED = (
    "ระเบียบกระทรวงมหาดไทย \n"
    "ว่าด้วยการบริหารกิจการและการบำรุงรักษาระบบประปาหมู่บ้าน \n"
    "พ.ศ. 2548 \n"
    "---------------------------------------------- \n"
    "      เพื่อให้การบริหารกิจการและการบำรุงรักษาระบบประปาหมู่บ้านที่เป็น"
    "ทรัพย์สินขององค์กรปกครองส่วนท้องถิ่น  สามารถให้บริการขั้นพื้นฐานที่จำเป็นต่อการดำรงชีพ"
    "และเพิ่มคุณภาพชีวิตของประชาชนใน\n"
    "พื้นที่องค์กรปกครองส่วนท้องถิ่นได้อย่างมีประสิทธิภาพ   และเพื่อเป็นการ"
    "ส่งเสริมให้ประชาชน    ร่วมรับผิดชอบ\n"
    "บริหารกิจการและบำรุงรักษาประปาหมู่บ้านในเชิงธุรกิจด้วยตนเอง \n"
)


def codes(warnings):
    return [warning["code"] for warning in warnings]


def messages(warnings, code="corrected_text"):
    return [warning["message"] for warning in warnings if warning["code"] == code]


def lossy(text):
    """The same text as an extractor gives it when it drops the private-use glyphs."""
    return re.sub("[\uf700-\uf71a]", "", text)


# ---------------------------------------------------------------- real PDF text


def test_regulation_excerpt_is_repaired_exactly():
    repaired, _ = repair_text(REGULATION_PYPDF)
    assert repaired == REGULATION_REPAIRED


def test_regulation_excerpt_reports_only_the_joined_line():
    _, warnings = repair_text(REGULATION_PYPDF)
    assert codes(warnings) == ["corrected_text"]
    assert "องค์กรปกครองส่วนท้องถิ่น" in warnings[0]["message"]


def test_repair_is_idempotent_on_regulation():
    once, _ = repair_text(REGULATION_PYPDF)
    twice, warnings = repair_text(once)
    assert twice == once
    assert warnings == []


def test_warning_dicts_have_contract_keys():
    _, warnings = repair_text(REGULATION_PYPDF)
    for warning in warnings:
        assert set(warning) == {"code", "message", "field"}
        assert warning["field"] is None
        assert re.search("[\u0e01-\u0e2e]", warning["message"])


# ---------------------------------------------------------------- district letter


def test_district_letter_changes_two_places():
    letter = DISTRICT_LETTER.read_text(encoding="utf-8")
    expected = letter.replace("คู่่มือ", "คู่มือ").replace("/๓. กรณีองค์กร...\n\n", "")
    repaired, _ = repair_text(letter)
    assert repaired == expected


def test_district_letter_doubled_mark_warning():
    repaired, warnings = repair_text(DISTRICT_LETTER.read_text(encoding="utf-8"))
    assert codes(warnings) == ["corrected_text"]
    assert '"คู่่มือ"' in warnings[0]["message"]
    assert '"คู่มือ"' in warnings[0]["message"]


def test_district_letter_keeps_word_slips():
    repaired, _ = repair_text(DISTRICT_LETTER.read_text(encoding="utf-8"))
    assert "โครงการถึงขยะเปียก" in repaired
    assert "ที่ ขร ๐๐๒๓.๖/ว ๓๒๐๐" in repaired
    assert "กราบ ดำเนินการ\n ทือปฏิบัติ แจ้งเวียน" in repaired
    assert "พิจารณาคำเนินการ" in repaired


# ---------------------------------------------------------------- 1. sara am


def test_split_sara_am_is_composed():
    repaired, warnings = repair_text("จํานวน ๑ ฉบับ")
    assert repaired == "จำนวน ๑ ฉบับ"
    assert warnings == []


@pytest.mark.parametrize(
    "broken",
    [
        "น\u0e49\u0e4d\u0e32ประปา",  # tone, nikhahit, sara aa
        "น\u0e4d\u0e49\u0e32ประปา",  # nikhahit, tone, sara aa
        "น\u0e33\u0e49ประปา",  # sara am before the tone mark
    ],
)
def test_sara_am_with_tone_mark_in_any_order(broken):
    repaired, warnings = repair_text(broken)
    assert repaired == "น\u0e49\u0e33ประปา"
    assert warnings == []


def test_sara_am_followed_by_extra_sara_aa():
    repaired, _ = repair_text("สรุปจำานวนครัวเรือน ประจำาปี ๒๕๖๙")
    assert repaired == "สรุปจำนวนครัวเรือน ประจำปี ๒๕๖๙"


# Paragraphs of the district letter as a text layer that lost the nikhahit of every ำ.
AM_LETTER = (
    "อำเภอแม่สาย ได้รับแจ้งจากจังหวัดเชียงรายว่า กรมส่งเสริมการปกครองท้องถิ่นแจ้งว่า "
    "เพื่อให้การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่นเป็นไปด้วยความเรียบร้อย "
    "จึงขอแจ้งให้องค์กรปกครองส่วนท้องถิ่นพิจารณาดำเนินการ ดังนี้\n"
    "สิ่งที่ส่งมาด้วย สำเนาหนังสือจังหวัดเชียงราย จำนวน ๑ ชุด\n"
    "๑. เริ่มใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่นได้ตั้งแต่วันที่ ๓๑ มีนาคม ๒๕๖๘ "
    "พร้อมทั้งมอบหมายเจ้าหน้าที่ผู้รับผิดชอบการใช้งานระบบดังกล่าว และรายงานรายชื่อให้สำนักงาน"
    "ส่งเสริมการปกครองท้องถิ่นอำเภอตามแบบฟอร์มที่กำหนดผ่านทางระบบสำนักงานอิเล็กทรอนิกส์ (E-office) "
    "ภายในวันที่ ๙ เมษายน ๒๕๖๘\n"
)


def test_half_lost_sara_am_is_guessed_with_warning():
    repaired, warnings = repair_text(AM_LETTER.replace("ำ", "า"))
    assert repaired == AM_LETTER
    assert any('"จานวน"' in message and '"จำนวน"' in message for message in messages(warnings))


def test_half_lost_sara_am_reported_once_per_word():
    _, warnings = repair_text(AM_LETTER.replace("ำ", "า") + "รวมจานวน ๒ ชุด\n")
    assert sum('"จานวน"' in message for message in messages(warnings)) == 1


def test_half_lost_sara_am_needs_lossy_page():
    # `จาน` + `วน` are words and the page has ำ elsewhere, so nothing is lost.
    text = AM_LETTER + "ล้างจานวนไป\n"
    repaired, _ = repair_text(text)
    assert repaired == text


def test_sara_aa_in_word_kept():
    text = "ผู้ว่าราชการจังหวัดเชียงราย"
    repaired, warnings = repair_text(text)
    assert repaired == text
    assert warnings == []


def test_result_keeps_sara_am_composed():
    repaired, _ = repair_text("ดําเนินการ")
    assert "\u0e33" in repaired
    assert unicodedata.is_normalized("NFC", repaired)


# ---------------------------------------------------------------- 2. private use area


def test_windows_private_use_glyphs_are_mapped():
    repaired, warnings = repair_text("ระเบียบกระทรวงมหาดไทยว\uf70aาด\uf70bวยการบริหาร")
    assert repaired == "ระเบียบกระทรวงมหาดไทยว่าด้วยการบริหาร"
    assert warnings == []


def test_mac_private_use_glyphs_are_mapped():
    repaired, _ = repair_text("ว\uf88bาด\uf88eวย ทรัพย\uf897สิน เป\uf889น ป\uf886")
    assert repaired == "ว่าด้วย ทรัพย์สิน เป็น ปี"


def test_shifted_left_and_down_left_forms():
    # ป with a shifted-left sara ii and a down-left mai ek: ปี่; ฝ with shifted-left mai tho: ฝ้าย.
    repaired, _ = repair_text("ป\uf702\uf705 ฝ\uf714าย")
    assert repaired == "ปี่ ฝ้าย"


def test_consonants_without_descender_are_mapped():
    repaired, _ = repair_text("กต\uf700\uf718 ก\uf70f\uf719")
    assert repaired == "กตฐุ กญู"


@pytest.mark.parametrize("codepoint", sorted(PRIVATE_USE_TABLE))
def test_every_table_entry_maps_to_thai(codepoint):
    assert len(PRIVATE_USE_TABLE) == 54
    target = PRIVATE_USE_TABLE[codepoint]
    assert "\u0e01" <= target <= "\u0e4e"
    assert 0xF700 <= codepoint <= 0xF71A or 0xF884 <= codepoint <= 0xF89E


def test_unknown_private_use_glyph_is_kept_and_reported():
    repaired, warnings = repair_text("กรม\uf8a0ส่งเสริม\uf8a0การปกครองท้องถิ่น")
    assert repaired.count("\uf8a0") == 2
    assert codes(warnings) == ["unmapped_glyph"]
    assert "U+F8A0" in warnings[0]["message"]
    assert "2" in warnings[0]["message"]


# ---------------------------------------------------------------- 3. mark order


@pytest.mark.parametrize(
    "broken, fixed",
    [
        ("ท\u0e48\u0e35", "ที่"),  # mai ek before sara ii
        ("ผ\u0e49\u0e39", "ผู้"),  # mai tho before sara uu
        ("ก\u0e49\u0e31น", "กั้น"),  # mai tho before mai han-akat
        ("ส\u0e48\u0e34ง", "สิ่ง"),  # mai ek before sara i
        ("ค\u0e48\u0e38ม", "คุ่ม"),  # mai ek before sara u
    ],
)
def test_tone_mark_before_vowel_is_reordered(broken, fixed):
    repaired, warnings = repair_text(broken)
    assert repaired == fixed
    assert warnings == []


# ---------------------------------------------------------------- 4. doubled marks


def test_doubled_tone_mark_is_removed_with_one_warning():
    text = "๒. ดำเนินการศึกษาคู่่มือการใช้งาน และส่งคู่่มือให้อำเภอ"
    repaired, warnings = repair_text(text)
    assert repaired == "๒. ดำเนินการศึกษาคู่มือการใช้งาน และส่งคู่มือให้อำเภอ"
    assert len(warnings) == 1
    assert '"คู่่มือ"' in warnings[0]["message"]
    assert '"คู่มือ"' in warnings[0]["message"]


def test_doubled_sara_e_becomes_sara_ae():
    repaired, _ = repair_text("เเละ")
    assert repaired == "และ"


# ---------------------------------------------------------------- 5. lost and wrong marks


def test_lost_upper_marks_are_restored_on_lossy_page():
    repaired, warnings = repair_text(lossy(REGULATION_PYPDF))
    for word in ["ว่าด้วย", "หมู่บ้าน", "ทรัพย์สิน", "องค์กรปกครองส่วนท้องถิ่น", "เป็นการส่งเสริมให้", "ด้วยตนเอง"]:
        assert word in repaired
    assert "วาดวย" not in repaired
    assert any('"วาดวย"' in message and '"ว่าด้วย"' in message for message in messages(warnings))


def test_lost_marks_on_words_kept():
    # ตอ, ได and รวม are dictionary words, so they are not guessed into ต่อ, ได้, ร่วม.
    repaired, _ = repair_text(lossy(REGULATION_PYPDF))
    assert "จำเป็นตอการ" in repaired
    assert "ไดอย่าง" in repaired
    assert "รวมรับผิดชอบ" in repaired


def test_lossy_page_keeps_abbreviations():
    repaired, _ = repair_text(lossy(REGULATION_PYPDF))
    assert "พ.ศ. 2548" in repaired


def test_lossy_page_keeps_intact_thanthakhat():
    # A thanthakhat over sara i is drawn with its ordinary glyph, so สิทธิ lost nothing.
    text = lossy(REGULATION_PYPDF) + "ที่ปรึกษามีสิทธิเขารวมประชุม\n"
    repaired, _ = repair_text(text)
    assert "มีสิทธิเข้าร่วมประชุม" in repaired


def test_clause_number_word_is_restored_on_lossy_page():
    text = lossy(REGULATION_PYPDF) + "  ขอ  5  ใหปลัดกระทรวงมหาดไทยรักษาการตามระเบียบนี้ ตามขอ 23\n"
    repaired, _ = repair_text(text)
    assert "ข้อ  5  ให้ปลัดกระทรวงมหาดไทยรักษาการ" in repaired
    assert "ตามข้อ 23" in repaired


def test_marks_are_not_guessed_on_intact_page():
    text = "เรียน นายอำเภอ ทุกอำเภอ\nกราบ ดำเนินการ\n ทือปฏิบัติ แจ้งเวียน\n"
    repaired, warnings = repair_text(text)
    assert repaired == text
    assert warnings == []


def test_wrong_tone_mark_is_corrected_with_warning():
    repaired, warnings = repair_text("เทศบาลตำบลได่รับหนังสือแล้ว")
    assert repaired == "เทศบาลตำบลได้รับหนังสือแล้ว"
    assert '"ได่รับ"' in messages(warnings)[0]
    assert '"ได้รับ"' in messages(warnings)[0]


def test_unknown_name_is_not_respelled():
    text = "ผู้ประสานงาน : นางสาวพิมพ์กานต์ จันแสง"
    repaired, warnings = repair_text(text)
    assert repaired == text
    assert warnings == []


# ---------------------------------------------------------------- 6. spaces


@pytest.mark.parametrize(
    "broken, fixed",
    [
        ("ที ่ว่าการอำเภอ", "ที่ว่าการอำเภอ"),
        ("เ ป็นไปด้วยความเรียบร้อย", "เป็นไปด้วยความเรียบร้อย"),
        ("ดำเนินก าร", "ดำเนินการ"),
        ("ท ํางาน", "ทำงาน"),
    ],
)
def test_space_inside_cluster_is_removed(broken, fixed):
    repaired, warnings = repair_text(broken)
    assert repaired == fixed
    assert warnings == []


def test_space_inside_word_is_removed_with_warning():
    repaired, warnings = repair_text("จึงขอให้อำเภอพิจารณาดำเนิ นการตามระเบียบ")
    assert repaired == "จึงขอให้อำเภอพิจารณาดำเนินการตามระเบียบ"
    assert len(messages(warnings)) == 1
    assert 'ดำเนิ นการ"' in messages(warnings)[0]


def test_space_between_two_words_of_compound_is_kept():
    # Both sides are words, so the space may be the writer's: only a fragment is joined.
    text = "จึงขอให้อำเภอแจ้งองค์กรปกครองส่วนท้อง ถิ่นทราบ"
    repaired, _ = repair_text(text)
    assert repaired == text


def test_letter_spaced_line_is_joined_with_warning():
    # pypdf: a justified enclosure line of a LibreOffice PDF.
    text = "๒ .  แ บ บ ส ำา ร ว จ ก า ร ข ย า ย ผ ล โ ค ร ง ก า ร\nจำนวน ๒ ฉบับ"
    repaired, warnings = repair_text(text)
    assert repaired == "๒ .  แบบสำรวจการขยายผลโครงการ\nจำนวน ๒ ฉบับ"
    assert len(messages(warnings)) == 1
    assert '"แบบสำรวจการขยายผลโครงการ"' in messages(warnings)[0]


def test_short_spaced_letters_are_kept():
    text = "ตามแบบ ก ข ค ที่แนบ"
    repaired, _ = repair_text(text)
    assert repaired == text


def test_space_between_whole_words_is_kept():
    text = "จากโครงการถังขยะเปียก ลดโลกร้อน ให้แก่ ผู้ประกอบการ หน่วยงานของรัฐ"
    repaired, warnings = repair_text(text)
    assert repaired == text
    assert warnings == []


# ---------------------------------------------------------------- 7. line breaks


def test_line_break_inside_word_is_joined_with_warning():
    text = "อ้างถึง หนังสืออำเภอเกาะคา ด่วนที่สุด ที่ ลป ๐๐๒๓.๑๓/ว ๘๔๕ ลงวัน\nที่ ๓ เมษายน ๒๕๖๘"
    repaired, warnings = repair_text(text)
    assert repaired == "อ้างถึง หนังสืออำเภอเกาะคา ด่วนที่สุด ที่ ลป ๐๐๒๓.๑๓/ว ๘๔๕ ลงวันที่ ๓ เมษายน ๒๕๖๘"
    assert len(messages(warnings)) == 1
    assert '"ลงวัน"' in messages(warnings)[0]
    assert '"ลงวันที่"' in messages(warnings)[0]


def test_line_break_with_trailing_spaces_inside_compound():
    repaired, _ = repair_text("ที่เป็นทรัพย์สินขององค์กร \nปกครองส่วนท้องถิ่น  สามารถ")
    assert repaired == "ที่เป็นทรัพย์สินขององค์กรปกครองส่วนท้องถิ่น  สามารถ"


@pytest.mark.parametrize(
    "text",
    [
        "ที่ว่าการอำเภอแม่สาย\nถนนพหลโยธิน ชร ๕๗๑๓๐",
        "เรื่อง การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น\nเรียน นายอำเภอ ทุกอำเภอ",
        "(นายปลัดเทศบาล) ปลัดเทศบาล\nปลัดเทศบาล (นายปลัด)",
        "ที่ ชร ๐๐๒๓.๖/ว ๙๒๐๑\nลงวันที่ ๒ เมษายน ๒๕๖๘",
        "ใช้งานระบบบัญชี Carbon\nCredit ขององค์กรปกครองส่วนท้องถิ่น",
        "ขอแสดงความนับถือ\n\nสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด",
        "จึงเรียนมาเพื่อทราบ\n  ขอแสดงความนับถือ",
    ],
)
def test_line_structure_of_letter_is_kept(text):
    repaired, warnings = repair_text(text)
    assert repaired == text
    assert warnings == []


def test_line_break_before_abbreviation_is_kept():
    text = "แห่งพระราชบัญญัติเทศบาล\nพ.ศ. ๒๔๙๖"
    repaired, _ = repair_text(text)
    assert repaired == text


# ---------------------------------------------------------------- 8. page furniture


@pytest.mark.parametrize("number_line", ["- ๒ -", "-2-", "หน้า ๒", "   - 2 -   ", "หน้า 2/3"])
def test_page_number_line_is_removed(number_line):
    text = f"ขอแสดงความนับถือ\n\f{number_line}\nสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด"
    repaired, _ = repair_text(text)
    assert repaired == "ขอแสดงความนับถือ\n\fสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด"


def test_bare_page_number_removed():
    text = "ตามข้อ 23 \n \n\f 2\n \n   “คณะกรรมการ” หมายความว่า"
    repaired, _ = repair_text(text)
    assert repaired == "ตามข้อ 23 \n \n\f \n   “คณะกรรมการ” หมายความว่า"


def test_bare_number_in_body_is_kept():
    text = "จำนวนครัวเรือน\n2\nครัวเรือน\f- ๒ -\nต่อ"
    repaired, _ = repair_text(text)
    assert repaired == "จำนวนครัวเรือน\n2\nครัวเรือน\fต่อ"


def test_form_feeds_are_kept():
    text = "หน้าแรก\fหน้าที่สอง\fหน้าที่สาม"
    repaired, _ = repair_text(text)
    assert repaired.count("\f") == 2


def test_continuation_line_at_page_end_is_removed():
    text = "๔. รายงานผลภายในวันที่ ๙ เมษายน ๒๕๖๘\n/ข้อ ๕...\n\f- ๒ -\nข้อ ๕ ให้อำเภอรวบรวม"
    repaired, _ = repair_text(text)
    assert repaired == "๔. รายงานผลภายในวันที่ ๙ เมษายน ๒๕๖๘\n\fข้อ ๕ ให้อำเภอรวบรวม"


def test_continuation_line_without_form_feed():
    text = "ลดโลกร้อน\n\n/๓. กรณีองค์กร...\n\n๓. กรณีองค์กรปกครองส่วนท้องถิ่น มีความประสงค์"
    repaired, _ = repair_text(text)
    assert repaired == "ลดโลกร้อน\n\n๓. กรณีองค์กรปกครองส่วนท้องถิ่น มีความประสงค์"


def test_catchword_repeating_next_page_is_removed():
    text = "โดยให้ดำเนินการ ดังนี้\n๒. การรายงาน\f- ๒ -\n๒. การรายงานผลให้ส่งภายในวันที่ ๑๑ เมษายน ๒๕๖๘"
    repaired, _ = repair_text(text)
    assert repaired == "โดยให้ดำเนินการ ดังนี้\f๒. การรายงานผลให้ส่งภายในวันที่ ๑๑ เมษายน ๒๕๖๘"


def test_catchword_before_short_first_line_is_removed():
    text = "ขอแสดงความนับถือ\nสำนักงาน\f- ๒ -\nสำนักงานส่งเสริม\nโทร. ๐ ๕๓๑๕ ๐๑๖๕"
    repaired, _ = repair_text(text)
    assert repaired == "ขอแสดงความนับถือ\fสำนักงานส่งเสริม\nโทร. ๐ ๕๓๑๕ ๐๑๖๕"


def test_last_line_unlike_next_page_is_kept():
    text = "ขอแสดงความนับถือ\f- ๒ -\nสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด"
    repaired, _ = repair_text(text)
    assert repaired == "ขอแสดงความนับถือ\fสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด"


def test_slash_line_that_is_content_is_kept():
    text = "ที่ มท ๐๘๒๑.๒/ว ๑๔๔๖\n/ว ๑๔๔๗ ลงวันที่ ๒๘ มีนาคม ๒๕๖๘\nเรื่อง การใช้งานระบบ"
    repaired, _ = repair_text(text)
    assert repaired == text


# ---------------------------------------------------------------- fonts that misread glyphs

# pypdf: a LibreOffice PDF set in Laksaman whose ู reads as ้ (`ผ้้` for `ผู้`).
UU_AS_MAI_THO = (
    "เรียน ผ้้ว่าราชการจังหวัด ทุกจังหวัด\n"
    "๒. ค่้มือการบันทึกข้อม้ลถังขยะเปียกในระบบบัญชี Carbon\n"
    "กรมส่งเสริมการปกครองท้องถิ่นในฐานะผ้้พัฒนาโครงการ อย่้\n"
)


def test_tone_stack_read_as_sara_uu():
    repaired, _ = repair_text(UU_AS_MAI_THO)
    assert "เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด" in repaired
    assert "๒. คู่มือการบันทึก" in repaired
    assert "ในฐานะผู้พัฒนาโครงการ อยู่\n" in repaired


def test_single_mai_tho_read_as_uu():
    repaired, warnings = repair_text(UU_AS_MAI_THO)
    assert "การบันทึกข้อมูลถังขยะเปียก" in repaired
    assert any('"ข้อม้ล"' in message and '"ข้อมูล"' in message for message in messages(warnings))


def test_single_mai_tho_kept_without_stack():
    text = "การบันทึกข้อม้ลถังขยะเปียก"
    repaired, _ = repair_text(text)
    assert repaired == text


def test_doubled_mai_tho_typo_removed():
    repaired, warnings = repair_text("เทศบาลตำบลได้้รับหนังสือแล้ว")
    assert repaired == "เทศบาลตำบลได้รับหนังสือแล้ว"
    assert "เพราะมีสระหรือวรรณยุกต์ซ้ำกัน" in messages(warnings)[0]


# pypdf: a LibreOffice PDF set in Laksaman whose every า reads as U+0010.
AA_AS_CONTROL = (
    "ที่ ลป ๕๒๓๐๒/๑๔๓๒ สำ\x10นักง\x10นเทศบ\x10ลตำ\x10บลเก\x10ะค\x10\n"
    "อำ\x10เภอเก\x10ะค\x10 จังหวัดลำ\x10ป\x10ง\n"
    "๘ เมษ\x10ยน ๒๕๖๘\n"
    "เรียน น\x10ยอำ\x10เภอเก\x10ะค\x10\n"
)


def test_control_character_read_as_thai_letter():
    repaired, warnings = repair_text(AA_AS_CONTROL)
    assert repaired == (
        "ที่ ลป ๕๒๓๐๒/๑๔๓๒ สำนักงานเทศบาลตำบลเกาะคา\n"
        "อำเภอเกาะคา จังหวัดลำปาง\n"
        "๘ เมษายน ๒๕๖๘\n"
        "เรียน นายอำเภอเกาะคา\n"
    )
    assert codes(warnings) == ["corrected_text"]
    assert "U+0010" in warnings[0]["message"]
    assert '"า"' in warnings[0]["message"]


def test_unresolved_control_character_is_kept_and_reported():
    text = "ระเบียบ\x11ว่าด้วย\x11งานสารบรรณ\x11พ.ศ. ๒๕๒๖"
    repaired, warnings = repair_text(text)
    assert repaired.count("\x11") == 3
    assert codes(warnings) == ["unmapped_glyph"]
    assert "U+0011" in warnings[0]["message"]
