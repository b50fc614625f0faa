"""Letters in other layouts: number and issuer on one line, memos, covers with endorsements."""
import pytest

from parsers.letter import parse_letters

DLA_SECRET = """ลับมาก
ด่วนภายใน ๑๕ ม.ค. ๒๕๖๙ เวลา ๑๔.๓๐ น.
ที่ มท ๐๘๑๖.๒/ว ๑๒๓                          กรมส่งเสริมการปกครองท้องถิ่น
                                             ถนนนครราชสีมา เขตดุสิต กทม. ๑๐๓๐๐
                     ๑๒  มกราคม  ๒๕๖๙
เรื่อง  ขอความร่วมมือสำรวจข้อมูลถังขยะเปียกและการจัดทำบัญชีคาร์บอนเครดิต
       ขององค์กรปกครองส่วนท้องถิ่น
เรียน  ผู้ว่าราชการจังหวัด ทุกจังหวัด
อ้างถึง  หนังสือกรมส่งเสริมการปกครองท้องถิ่น ที่ มท ๐๘๑๖.๒/ว ๔๕ ลงวันที่ ๕ มกราคม ๒๕๖๙
สิ่งที่ส่งมาด้วย  ๑. แบบสำรวจข้อมูล                      จำนวน ๑ ชุด
               ๒. คู่มือการบันทึกข้อมูล                  จำนวน ๑ เล่ม
ด้วยกรมส่งเสริมการปกครองท้องถิ่นได้รับแจ้งจากองค์การบริหารจัดการก๊าซเรือนกระจก (องค์การมหาชน) ว่า จะมีการทวนสอบ
ข้อมูลโครงการ ในการนี้ จึงขอความร่วมมือจังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่นสำรวจข้อมูลตามแบบสำรวจ และรายงานผลให้กรมส่งเสริมการปกครองท้องถิ่นทราบภายใน ๑๐ วันทำการ นับแต่วันที่ได้รับหนังสือ ทางไปรษณีย์อิเล็กทรอนิกส์
จึงเรียนมาเพื่อโปรดพิจารณา
ขอแสดงความนับถือ
(นายสมชาย ใจดี)
รองอธิบดี รักษาราชการแทน
อธิบดีกรมส่งเสริมการปกครองท้องถิ่น
สำนักบริหารการคลังท้องถิ่น
ส่วนพัฒนาระบบบัญชี
โทร. ๐-๒๒๔๑-๙๐๐๐ ต่อ ๔๑๑๒
โทรสาร ๐-๒๒๔๑-๒๐๖๖
E-mail: saraban@dla.go.th
ผู้ประสานงาน นางสาวมาลี ดีงาม โทร. ๐๘ ๑๒๓๔ ๕๖๗๘
สำเนาส่ง สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด ทุกจังหวัด
ลับมาก"""

DISTRICT_COVER = """องค์การบริหารส่วนตำบลบ้านดู่
เลขรับ ๑๕๓
วันที่ ๒๐ ม.ค. ๖๙
เวลา ๑๔.๑๕ น.
ที่ ชร ๐๐๒๓.๑/ว ๒๒๒                                   ที่ว่าการอำเภอเมืองเชียงราย
                                                      ถนนสิงหไคล ชร ๕๗๐๐๐
                               ๑๖ มกราคม ๒๕๖๙
เรื่อง การรายงานข้อมูลถังขยะเปียก
เรียน นายกองค์การบริหารส่วนตำบล ทุกแห่ง
สิ่งที่ส่งมาด้วย สำเนาหนังสือจังหวัดเชียงราย ที่ ชร ๐๐๒๓.๓/ว ๑๑๑ ลงวันที่ ๑๔ มกราคม ๒๕๖๙ จำนวน ๑ ฉบับ
ด้วยจังหวัดเชียงรายแจ้งว่า ขอให้องค์กรปกครองส่วนท้องถิ่นรายงานข้อมูลถังขยะเปียก ภายในวันที่ ๒๓ มกราคม ๒๕๖๙ รายละเอียดปรากฏตามสิ่งที่ส่งมาด้วย
อำเภอเมืองเชียงรายจึงขอให้องค์การบริหารส่วนตำบลรายงานข้อมูลถังขยะเปียกตามแบบที่กำหนด ส่งให้อำเภอภายในวันที่ ๒๒ มกราคม ๒๕๖๙
จึงเรียนมาเพื่อทราบและดำเนินการ
ขอแสดงความนับถือ
(นายวิชัย สุขใจ)
นายอำเภอเมืองเชียงราย
ที่ทำการปกครองอำเภอ
โทร. ๐ ๕๓๗๑ ๑๓๙๗
- ทราบ
- มอบกองสาธารณสุขดำเนินการ
(นายสมศักดิ์ ปลัด)
ปลัด อบต.บ้านดู่
๒๑ ม.ค. ๖๙
ที่ ชร ๐๐๒๓.๓/ว ๑๑๑                                   ศาลากลางจังหวัดเชียงราย
                                                      ถนนแม่ฟ้าหลวง ชร ๕๗๑๐๐
                               ๑๔ มกราคม ๒๕๖๙
เรื่อง การรายงานข้อมูลถังขยะเปียก
เรียน นายอำเภอ ทุกอำเภอ
ด้วยกรมส่งเสริมการปกครองท้องถิ่นขอให้จังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่นรายงานข้อมูลถังขยะเปียก ภายในวันที่ ๒๓ มกราคม ๒๕๖๙
จึงเรียนมาเพื่อโปรดทราบและแจ้งองค์กรปกครองส่วนท้องถิ่นดำเนินการ
ขอแสดงความนับถือ
(นายประเสริฐ มั่นคง)
รองผู้ว่าราชการจังหวัด ปฏิบัติราชการแทน
ผู้ว่าราชการจังหวัดเชียงราย
สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด
โทร./โทรสาร ๐ ๕๓๑๕ ๐๑๖๕"""


@pytest.fixture(scope="module")
def secret():
    (letter,) = parse_letters(DLA_SECRET)
    return letter


@pytest.fixture(scope="module")
def cover():
    return parse_letters(DISTRICT_COVER)


def test_secrecy_and_delivery_time(secret):
    assert secret["secrecy"] == "secret"
    assert secret["deliver_by"] == "2026-01-15T14:30:00"
    assert secret["urgency"] is None


def test_number_and_issuer_on_one_line(secret):
    assert secret["doc_number"]["text"] == "มท 0816.2/ว 123"
    assert secret["issuer"] == "กรมส่งเสริมการปกครองท้องถิ่น"
    assert secret["issuer_address"] == "ถนนนครราชสีมา เขตดุสิต กทม. ๑๐๓๐๐"


def test_date_with_double_spaces(secret):
    assert secret["date"] == "2026-01-12"


def test_subject_wrapped_onto_two_lines(secret):
    assert secret["subject"] == ("ขอความร่วมมือสำรวจข้อมูลถังขยะเปียกและการจัดทำบัญชีคาร์บอนเครดิต"
                                 "ขององค์กรปกครองส่วนท้องถิ่น")


def test_numbered_enclosures_without_numbers_of_their_own(secret):
    assert [(e["quantity"], e["unit"]) for e in secret["enclosures"]] == [(1, "ชุด"), (1, "เล่ม")]
    assert all(e["doc_number"] is None for e in secret["enclosures"])


def test_relative_working_days_deadline(secret):
    (deadline,) = secret["deadlines"]
    assert deadline["kind"] == "relative"
    assert deadline["days"] == 10
    assert deadline["working_days"] is True
    assert deadline["counted_from"] == "receipt"


def test_unnumbered_request_is_one_action(secret):
    (action,) = secret["actions"]
    assert action["number"] is None
    assert action["deadlines"][0]["days"] == 10


def test_assignment_actor_and_channel(secret):
    (assignment,) = secret["assignments"]
    assert assignment["actor"] == "จังหวัด"
    assert assignment["channel"] == "E-mail"


def test_acting_signatory_stops_before_unit(secret):
    assert secret["signatory"] == {"name": "นายสมชาย ใจดี", "position": "รองอธิบดี",
                                   "capacity": "acting",
                                   "on_behalf_of": "อธิบดีกรมส่งเสริมการปกครองท้องถิ่น"}


def test_contact_lines(secret):
    contact = secret["contact"]
    assert contact["unit"] == "สำนักบริหารการคลังท้องถิ่น ส่วนพัฒนาระบบบัญชี"
    assert contact["phone"] == "0-2241-9000"
    assert contact["extension"] == "4112"
    assert contact["fax"] == "0-2241-2066"
    assert contact["email"] == "saraban@dla.go.th"
    assert contact["coordinator"] == "นางสาวมาลี ดีงาม"


def test_cover_and_enclosed_letter_are_split(cover):
    assert [letter["doc_number"]["text"] for letter in cover] == ["ชร 0023.1/ว 222", "ชร 0023.3/ว 111"]


def test_endorsement_date_stays_with_cover(cover):
    assert cover[1]["date"] == "2026-01-14"
    assert cover[0]["endorsements"][0]["date"] == "2026-01-21"
    assert not cover[1]["text"].startswith("๒๑ ม.ค.")


def test_stamp_above_number_line(cover):
    (stamp,) = cover[0]["receipt_stamps"]
    assert stamp == {"organization": "องค์การบริหารส่วนตำบลบ้านดู่", "number": "๑๕๓",
                     "date": "2026-01-20", "time": "14:15"}


def test_endorsement_hands_letter_to_a_division(cover):
    (endorsement,) = cover[0]["endorsements"]
    assert endorsement["decisions"] == ["ทราบ", "มอบ", "ดำเนินการ"]
    assert endorsement["assigned_to"] == "กองสาธารณสุข"
    assert endorsement["name"] == "นายสมศักดิ์ ปลัด"
    assert "low_confidence" not in [w["code"] for w in cover[0]["warnings"]]


def test_district_chief_signs_in_own_name(cover):
    assert cover[0]["signatory"]["position"] == "นายอำเภอเมืองเชียงราย"
    assert cover[0]["signatory"]["capacity"] == "self"
    assert cover[0]["contact"]["unit"] == "ที่ทำการปกครองอำเภอ"


def test_matching_enclosure_raises_no_mismatch(cover):
    assert cover[0]["enclosures"][0]["letter_index"] == 1
    assert "citation_number_mismatch" not in [w["code"] for w in cover[0]["warnings"]]


def test_letters_share_no_text(cover):
    assert cover[0]["text"] + cover[1]["text"] == DISTRICT_COVER


def test_pages_follow_form_feeds():
    letters = parse_letters(DISTRICT_COVER.replace("\nที่ ชร ๐๐๒๓.๓", "\fที่ ชร ๐๐๒๓.๓"))
    assert [letter["pages"] for letter in letters] == [[1, 1], [2, 2]]


def test_empty_text_has_no_letters():
    assert parse_letters("  \n\f ") == []


MEMO = """บันทึกข้อความ
ส่วนราชการ กองสาธารณสุขและสิ่งแวดล้อม เทศบาลตำบลเกาะคา โทร. ๐ ๕๔๒๘ ๑๑๒๓
ที่ ลป ๕๒๓๐๒/๑๕๐                         วันที่ ๒๒ เมษายน ๒๕๖๘
เรื่อง รายงานผลการบันทึกข้อมูลถังขยะเปียก
เรียน นายกเทศมนตรีตำบลเกาะคา
ตามที่ได้รับมอบหมายให้บันทึกข้อมูลถังขยะเปียกในระบบบัญชี Carbon Credit บัดนี้ได้ดำเนินการเรียบร้อยแล้ว
จึงเรียนมาเพื่อโปรดทราบ
(นางสาวรัชนีกร ปัญญาวงค์)
นักวิชาการสุขาภิบาลปฏิบัติการ"""


@pytest.fixture(scope="module")
def memo():
    (letter,) = parse_letters(MEMO)
    return letter


def test_memo_is_internal(memo):
    assert memo["kind"] == "internal"


def test_memo_number_line_carries_date(memo):
    assert memo["doc_number"]["text"] == "ลป 52302/150"
    assert memo["date"] == "2025-04-22"


def test_memo_unit_and_telephone(memo):
    assert memo["issuer"] == "กองสาธารณสุขและสิ่งแวดล้อม เทศบาลตำบลเกาะคา"
    assert memo["contact"]["phone"] == "0 5428 1123"


def test_memo_closing_stops_at_signature(memo):
    assert memo["closing_request"] == "จึงเรียนมาเพื่อโปรดทราบ"
    assert memo["signatory"]["name"] == "นางสาวรัชนีกร ปัญญาวงค์"


def test_copies_line_stops_at_secrecy_stamp(secret):
    assert secret["copies"] == "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด ทุกจังหวัด"


@pytest.mark.parametrize("text", [DLA_SECRET, DISTRICT_COVER, MEMO])
def test_every_span_lies_inside_text(text):
    for letter in parse_letters(text):
        for field, (start, end) in letter["spans"].items():
            assert 0 <= start <= end <= len(letter["text"]), field


def test_letter_without_subject_line_is_still_split():
    text = DISTRICT_COVER.replace("เรื่อง การรายงานข้อมูลถังขยะเปียก\nเรียน นายอำเภอ", "เรียน นายอำเภอ")
    letters = parse_letters(text)
    assert [letter["doc_number"]["text"] for letter in letters] == ["ชร 0023.1/ว 222", "ชร 0023.3/ว 111"]
    assert letters[1]["subject"] is None
    assert letters[1]["addressee"] == "นายอำเภอ ทุกอำเภอ"


def test_staff_note_below_signature_is_not_a_letter():
    text = DISTRICT_COVER.replace("- ทราบ\n", "เรียน นายก อบต.บ้านดู่\n- ทราบ\n")
    assert len(parse_letters(text)) == 2


def test_delivery_time_wrapped_onto_next_line():
    (letter,) = parse_letters(DLA_SECRET.replace("เวลา ๑๔.๓๐ น.", "เวลา\n๑๔.๓๐ น."))
    assert letter["deliver_by"] == "2026-01-15T14:30:00"


def test_urgency_on_the_number_line():
    text = DISTRICT_COVER.replace("ที่ ชร ๐๐๒๓.๑/ว ๒๒๒", "ด่วนที่สุด   ที่ ชร ๐๐๒๓.๑/ว ๒๒๒")
    letters = parse_letters(text)
    assert letters[0]["urgency"] == "most_urgent"
    assert letters[0]["doc_number"]["text"] == "ชร 0023.1/ว 222"


def test_quantity_in_brackets():
    text = DLA_SECRET.replace("จำนวน ๑ เล่ม", "(๒ เล่ม)")
    (letter,) = parse_letters(text)
    assert (letter["enclosures"][1]["quantity"], letter["enclosures"][1]["unit"]) == (2, "เล่ม")


def test_order_is_dated_where_it_is_signed():
    text = ("คำสั่งเทศบาลตำบลเกาะคา\nที่ ๑๒๓/๒๕๖๘\nเรื่อง แต่งตั้งเจ้าหน้าที่ผู้รับผิดชอบระบบบัญชี Carbon Credit\n"
            "เพื่อให้การใช้งานระบบเป็นไปด้วยความเรียบร้อย จึงแต่งตั้งผู้รับผิดชอบ ดังนี้\n"
            "สั่ง ณ วันที่ ๒๑ เมษายน พ.ศ. ๒๕๖๘\n(นายณรงค์ฤทธิ์ อินต๊ะวงศ์)\nนายกเทศมนตรีตำบลเกาะคา\n")
    (letter,) = parse_letters(text)
    assert letter["kind"] == "order"
    assert letter["date"] == "2025-04-21"
    assert letter["subject"] == "แต่งตั้งเจ้าหน้าที่ผู้รับผิดชอบระบบบัญชี Carbon Credit"


ONE_LINE_STAMP = """เทศบาลตำบลบ้านดู่ รับที่ ๑๒๓๔ วันที่ ๕ พ.ค. ๖๘ เวลา ๑๓.๓๐ น.
ด่วนมาก
ที่ ชร ๐๐๒๓.๓/ว ๔๕๖๗                                   ศาลากลางจังหวัดเชียงราย
                                                    ถนนแม่ฟ้าหลวง ชร ๕๗๑๐๐
                              ๒  พฤษภาคม  ๒๕๖๘
เรื่อง  การประชาสัมพันธ์โครงการถังขยะเปียก ลดโลกร้อน
เรียน  นายอำเภอ ทุกอำเภอ
          ๑. ประชุมชี้แจงในวันที่ ๙ พฤษภาคม ๒๕๖๘
เวลา ๑๓.๓๐ น. ณ ห้องประชุมศาลากลางจังหวัด
จึงเรียนมาเพื่อโปรดพิจารณา
"""


def test_stamp_on_one_line():
    (letter,) = parse_letters(ONE_LINE_STAMP)
    assert letter["receipt_stamps"] == [{"organization": "เทศบาลตำบลบ้านดู่", "number": "๑๒๓๔",
                                         "date": "2025-05-05", "time": "13:30"}]
    assert letter["date"] == "2025-05-02"


def test_meeting_time_in_body_is_not_a_stamp():
    text = ONE_LINE_STAMP.replace("๑. ประชุมชี้แจงในวันที่", "\nวันที่").replace(" ณ ห้องประชุมศาลากลางจังหวัด", "")
    (letter,) = parse_letters(text)
    assert len(letter["receipt_stamps"]) == 1


def test_enclosed_letter_opening_with_issuer_line():
    text = DISTRICT_COVER.replace(
        "ที่ ชร ๐๐๒๓.๓/ว ๑๑๑                                   ศาลากลางจังหวัดเชียงราย\n"
        "                                                      ถนนแม่ฟ้าหลวง ชร ๕๗๑๐๐",
        "ศาลากลางจังหวัดเชียงราย\nที่ ชร ๐๐๒๓.๓/ว ๑๑๑")
    letters = parse_letters(text)
    assert letters[1]["issuer"] == "ศาลากลางจังหวัดเชียงราย"
    assert letters[1]["text"].startswith("ศาลากลางจังหวัดเชียงราย\n")
    assert letters[0]["endorsements"][0]["date"] == "2026-01-21"


def test_signatory_typed_without_brackets():
    text = DISTRICT_COVER.replace("(นายประเสริฐ มั่นคง)", "นายประเสริฐ มั่นคง")
    letters = parse_letters(text)
    assert letters[1]["signatory"]["name"] == "นายประเสริฐ มั่นคง"
    assert letters[1]["signatory"]["capacity"] == "on_behalf"


def test_staff_note_and_decision_are_two_endorsements():
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "samples" / "004_warin_cover_budget.txt"
    cover = parse_letters(sample.read_text(encoding="utf-8"))[0]
    note, decision = cover["endorsements"]
    assert note["decisions"] == []
    assert note["position"] == "ปลัดองค์การบริหารส่วนตำบลโนนผึ้ง"
    assert note["date"] == "2025-07-22"
    assert decision["decisions"] == ["ทราบ", "มอบ", "ดำเนินการ"]
    assert decision["assigned_to"] == "กองคลัง"
    assert decision["name"] == "นายสมหมาย คำภู"


def test_request_paragraph_is_the_last_asking_one(cover):
    (action,) = cover[0]["actions"]
    assert action["text"].startswith("อำเภอเมืองเชียงรายจึงขอให้")
    assert cover[0]["assignments"][0]["due"] == "2026-01-22"
    assert cover[0]["assignments"][0]["actor"] == "องค์การบริหารส่วนตำบล"


def test_endorsement_date_without_year_takes_receipt_year():
    letters = parse_letters(DISTRICT_COVER.replace("๒๑ ม.ค. ๖๙\n", "๒๑ ม.ค.\n"))
    assert letters[0]["endorsements"][0]["date"] == "2026-01-21"
