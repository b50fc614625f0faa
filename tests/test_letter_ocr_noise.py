"""OCR noise in scanned letters: ต/ด slips, lost upper marks, specks, page-level warnings."""
from parsers import slips
from parsers.letter import attach_page_warnings, parse_letters


def _corrected(text: str) -> str:
    return slips.correct_words(text)[0]


def test_hook_slip_in_non_word_corrected():
    assert _corrected("เรื่อง การปรับโครงสร้างอัดราเงินเดือนพนักงานครู") == \
        "เรื่อง การปรับโครงสร้างอัตราเงินเดือนพนักงานครู"
    assert _corrected("เงินดอบแทนรายเดือนสำหรับผู้ปฏิบัติงาน") == "เงินตอบแทนรายเดือนสำหรับผู้ปฏิบัติงาน"
    assert _corrected("พนักงานครูขององค์การบริหารส่วนตำบลโตยอนุโลม") == \
        "พนักงานครูขององค์การบริหารส่วนตำบลโดยอนุโลม"


def test_hook_slip_of_rare_word_corrected_by_frequency():
    # ดาม and ดำ are words, but ตาม and ตำบล are far more frequent in running text.
    assert _corrected("ดามนัยมติคณะรัฐมนตรีเมื่อวันที่ 5 มิถุนายน 2550") == \
        "ตามนัยมติคณะรัฐมนตรีเมื่อวันที่ 5 มิถุนายน 2550"
    assert _corrected("ที่ทำการองค์การบริหารส่วนดำบลหนองบัว") == "ที่ทำการองค์การบริหารส่วนตำบลหนองบัว"


def test_hook_slip_reported_with_both_forms():
    _, corrections = slips.correct_words("สำหรับรายละเอียดดามสิ่งที่ส่งมาด้วย")
    assert {"from": "ดาม", "to": "ตาม"} in [{k: c[k] for k in ("from", "to")} for c in corrections]


def test_correct_hook_letters_unchanged():
    text = "ตามที่ได้ตรวจสอบแล้วปรากฏว่าได้ดำเนินการตามระเบียบ ดังนั้น จึงขอให้ตำบลดอนตาลรายงาน"
    assert _corrected(text) == text


def test_part_labels_without_upper_marks():
    fixed = _corrected("เรอง ระเบียบกระทรวงมหาดไทยว่าด้วยการเงิน\nเรยน ผู้ว่าราชการจังหวัด ทุกจังหวัด")
    assert fixed.startswith("เรื่อง ระเบียบ")
    assert "\nเรียน ผู้ว่าราชการจังหวัด" in fixed


def test_class_line_without_upper_marks():
    assert _corrected("ดวนทสุด\nที่ มท 0808.2/ว 1352").startswith("ด่วนที่สุด\n")
    assert _corrected("ดวนมาก\nที่ มท 0808.2/ว 1352").startswith("ด่วนมาก\n")


SPECKED = """ที่ มท 0808.2/ว 1352                     กรมส่งเสริมการปกครองท้องถิ่น
                                        ถนนนครราชสีมา กทม. 10300
                    17 สิงหาคม 2549
เรื่อง ระเบียบกระทรวงมหาดไทยว่าด้วยการเงิน การคลัง การงบประมาณ และการพัสดุของ
ง
สถานศึกษาขององค์กรปกครองส่วนท้องถิ่น (ฉบับที่ 2) พ.ศ. 2549
ปั
เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด
ด้วยกระทรวงมหาดไทยได้ออกระเบียบดังกล่าว จึงขอให้จังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่นทราบ
จึงเรียนมาเพื่อโปรดพิจารณา
ขอแสดงความนับถือ
"""


def test_speck_line_does_not_break_subject():
    (letter,) = parse_letters(SPECKED)
    assert letter["subject"] == ("ระเบียบกระทรวงมหาดไทยว่าด้วยการเงิน การคลัง การงบประมาณ และการพัสดุของ"
                                 "สถานศึกษาขององค์กรปกครองส่วนท้องถิ่น (ฉบับที่ 2) พ.ศ. 2549")
    assert letter["addressee"] == "ผู้ว่าราชการจังหวัด ทุกจังหวัด"


def test_page_warning_moves_to_its_letter():
    letters = [{"pages": [1, 2], "warnings": []}, {"pages": [3, 7], "warnings": []}]
    ocr_field = {"code": "low_confidence", "message": "หน้า 3: วันที่ของหนังสืออ่านจากภาพไม่ชัด",
                 "field": "date", "page": 3, "box": [1745, 333, 2175, 399],
                 "image_size": [2500, 3515], "text": "๒๘ ธันวาคม ๒๕๕๐"}
    engine = {"code": "ocr_unavailable", "message": "ไม่พบโปรแกรม OCR", "field": None}
    remaining = attach_page_warnings(letters, [ocr_field, engine])
    assert remaining == [engine]
    assert letters[0]["warnings"] == []
    assert letters[1]["warnings"] == [ocr_field]
    assert letters[1]["warnings"][0]["box"] == [1745, 333, 2175, 399]


def test_page_warning_outside_letters_stays():
    letters = [{"pages": [1, 1], "warnings": []}]
    stray = {"code": "low_confidence", "message": "หน้า 4: อ่านไม่ชัด", "field": None, "page": 4}
    assert attach_page_warnings(letters, [stray]) == [stray]
    assert letters[0]["warnings"] == []


def test_circular_mark_read_as_digits():
    (letter,) = parse_letters(SPECKED.replace("ที่ มท 0808.2/ว 1352", "ที่ มท 0808.222 1352"))
    assert letter["doc_number"]["text"] == "มท 0808.2/ว 1352"
    assert letter["doc_number"]["circular"] is True
    assert "doc_number" in [w["field"] for w in letter["warnings"] if w["code"] == "low_confidence"]


def test_province_office_keeps_two_digit_unit():
    from parsers.docnum import misread_number

    _, number = misread_number("ที่ ขก 0023.1522 1952")
    assert number["text"] == "ขก 0023.15/ว 1952"
    assert misread_number("ที่ ขก 0023.15 1952") is None
