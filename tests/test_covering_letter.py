"""The covering letter อำเภอแม่สาย issues to its 10 LAOs when it forwards Chiang Rai's carbon-credit letter."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

import docx
import pypdf
import pytest

from workflow.documents.covering_letter import (
    ActionList,
    Contact,
    CoveringLetter,
    Enclosure,
    Signatory,
    letter_parts,
    letter_text,
    render_covering_letter,
)
from workflow.errors import InvalidValue

CONFIRM_URL = "https://saraban.example/confirm/5709/ว1523"
SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"


def mae_sai_letter(**changes) -> CoveringLetter:
    letter = CoveringLetter(
        doc_number="ชร 0023.20/ว 1523",
        issuer_name="ที่ว่าการอำเภอแม่สาย",
        issuer_address=("ถนนพหลโยธิน ชร ๕๗๑๓๐",),
        date=date(2025, 4, 13),
        urgency="most_urgent",
        subject=SUBJECT,
        addressee="นายกเทศมนตรีตำบล และนายกองค์การบริหารส่วนตำบล ทุกแห่ง",
        references=(
            "หนังสืออำเภอแม่สาย ด่วนที่สุด ที่ ชร ๐๐๒๓.๒๐/ว ๔๙๔๗ ลงวันที่ ๒๑ พฤศจิกายน ๒๕๖๗",
            "หนังสืออำเภอแม่สาย ด่วนที่สุด ที่ ชร ๐๐๒๓.๒๐/ว ๑๐๖๐ ลงวันที่ ๑๗ มีนาคม ๒๕๖๘",
        ),
        enclosures=(
            Enclosure("สำเนาหนังสือจังหวัดเชียงราย ด่วนที่สุด ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐ ลงวันที่ ๒ เมษายน ๒๕๖๘"),
        ),
        body=(
            "ตามที่ อำเภอแม่สายได้แจ้งว่ากรมส่งเสริมการปกครองท้องถิ่นได้ดำเนินโครงการจ้างพัฒนาระบบบัญชี "
            "Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น เพื่อปรับปรุงระบบสารสนเทศด้านการจัดการขยะมูลฝอย"
            "ขององค์กรปกครองส่วนท้องถิ่น ให้สามารถบริหารจัดการ Carbon Credit จากโครงการถังขยะเปียก "
            "ลดโลกร้อน ได้ด้วยตนเอง นั้น",
            "อำเภอแม่สายได้รับแจ้งจากจังหวัดเชียงรายว่า กรมส่งเสริมการปกครองท้องถิ่นขอให้"
            "องค์กรปกครองส่วนท้องถิ่นพิจารณาดำเนินการ ดังนี้",
            ActionList((
                "เริ่มใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่นได้ตั้งแต่วันที่ ๓๑ มีนาคม ๒๕๖๘ "
                "พร้อมทั้งมอบหมายเจ้าหน้าที่ผู้รับผิดชอบการใช้งานระบบดังกล่าว และแจ้งรายชื่อผ่าน QR Code "
                "ท้ายหนังสือนี้ ภายในวันที่ ๙ เมษายน ๒๕๖๘",
                "ศึกษาคู่มือการใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น และประชาสัมพันธ์ระบบ"
                "ให้แก่ผู้ประกอบการ หน่วยงานของรัฐ เอกชน และผู้ที่สนใจในพื้นที่",
                "กรณีมีความประสงค์จะซื้อขายคาร์บอนเครดิต ให้ดำเนินการผ่านระบบบัญชี Carbon Credit "
                "ขององค์กรปกครองส่วนท้องถิ่น รายละเอียดตามสิ่งที่ส่งมาด้วย",
            )),
        ),
        closing_request="จึงเรียนมาเพื่อทราบและพิจารณาดำเนินการต่อไป",
        signatory=Signatory("นายธีรพงษ์ คำแสน", ("ปลัดอำเภอ",), capacity="on_behalf",
                            on_behalf_of="นายอำเภอแม่สาย"),
        contact=Contact(
            ("สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย",),
            phone="0 5373 1273", fax="0 5373 1273",
            email="maesai.local@example.go.th",
            coordinator="นางสาวพิมพ์ชนก แสงคำ",
        ),
        confirmation_url=CONFIRM_URL,
        copies=("สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดเชียงราย",),
    )
    return dataclasses.replace(letter, **changes)


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def rendered() -> tuple[bytes, bytes]:
    return render_covering_letter(mae_sai_letter())


def test_pdf_text_layer_has_number_subject_date(rendered):
    text = "\n".join(pdf_text(rendered[0]))
    assert "ที่ ชร ๐๐๒๓.๒๐/ว ๑๕๒๓" in text
    assert SUBJECT in text
    assert "๑๓ เมษายน ๒๕๖๘" in text


def test_pdf_text_layer_has_clean_thai(rendered):
    text = "\n".join(pdf_text(rendered[0]))
    assert not [char for char in text if 0xE000 <= ord(char) <= 0xF8FF], "private-use code points"
    assert "\u0e4d" not in text, "sara am split into nikhahit and sara aa"
    assert "ส่วนท้องถิ่น" in text
    assert "ดำเนินการ" in text
    assert "สิ่งที่ส่งมาด้วย" in text
    assert "คู่มือ" in text


def test_pdf_parts_in_regulation_order(rendered):
    text = "\n".join(pdf_text(rendered[0]))
    markers = [
        "ด่วนที่สุด", "ที่ ชร", "ที่ว่าการอำเภอแม่สาย", "๑๓ เมษายน ๒๕๖๘", "เรื่อง", "เรียน นายกเทศมนตรีตำบล",
        "อ้างถึง", "สิ่งที่ส่งมาด้วย", "ตามที่ อำเภอแม่สาย", "๑. เริ่มใช้งาน", "๓. กรณีมีความประสงค์",
        "จึงเรียนมาเพื่อทราบ", "ขอแสดงความนับถือ", "(นายธีรพงษ์ คำแสน)", "ปลัดอำเภอ ปฏิบัติราชการแทน",
        "นายอำเภอแม่สาย", "โทร./โทรสาร ๐ ๕๓๗๓ ๑๒๗๓", "maesai.local@example.go.th",
        "ผู้ประสานงาน นางสาวพิมพ์ชนก แสงคำ", "สำเนาส่ง",
    ]
    positions = [text.find(marker) for marker in markers]
    missing = [marker for marker, position in zip(markers, positions) if position < 0]
    assert missing == []
    assert positions == sorted(positions)


def test_pdf_pages_are_a4(rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered[0]))
    for page in reader.pages:
        assert round(float(page.mediabox.width)) == 595
        assert round(float(page.mediabox.height)) == 842


def test_pdf_metadata_names_letter(rendered):
    metadata = pypdf.PdfReader(io.BytesIO(rendered[0])).metadata
    assert metadata.title == SUBJECT
    assert metadata.author == "ที่ว่าการอำเภอแม่สาย"


def test_pdf_shows_qr_caption(rendered):
    text = "\n".join(pdf_text(rendered[0]))
    assert "สแกนเพื่อยืนยันการรับทราบ" in text


def test_pdf_custom_qr_caption():
    pdf, _ = render_covering_letter(mae_sai_letter(qr_caption="สแกนเพื่อแจ้งชื่อเจ้าหน้าที่ผู้รับผิดชอบ"))
    text = "\n".join(pdf_text(pdf))
    assert "สแกนเพื่อแจ้งชื่อเจ้าหน้าที่" in text
    assert "สแกนเพื่อยืนยันการรับทราบ" not in text


def test_pdf_without_url_has_no_qr():
    pdf, docx_bytes = render_covering_letter(mae_sai_letter(confirmation_url=None))
    assert "สแกนเพื่อ" not in "\n".join(pdf_text(pdf))
    assert len(docx.Document(io.BytesIO(docx_bytes)).inline_shapes) == 0


def test_pdf_is_reproducible():
    first, _ = render_covering_letter(mae_sai_letter())
    second, _ = render_covering_letter(mae_sai_letter())
    assert first == second


def test_arabic_digits_option():
    pdf, docx_bytes = render_covering_letter(mae_sai_letter(digits="arabic"))
    text = "\n".join(pdf_text(pdf))
    assert "ที่ ชร 0023.20/ว 1523" in text
    assert "13 เมษายน 2568" in text
    assert "โทร./โทรสาร 0 5373 1273" in text
    paragraphs = [paragraph.text for paragraph in docx.Document(io.BytesIO(docx_bytes)).paragraphs]
    assert "13 เมษายน 2568" in paragraphs


def test_thai_digits_leave_email_alone():
    letter = mae_sai_letter(contact=Contact(("กองช่าง",), phone="053-731-273", email="lao5709@example.go.th"))
    text = "\n".join(pdf_text(render_covering_letter(letter)[0]))
    assert "lao5709@example.go.th" in text
    assert "โทร. ๐๕๓-๗๓๑-๒๗๓" in text


def test_long_letter_continues_on_page_two():
    paragraph = "องค์กรปกครองส่วนท้องถิ่นต้องมอบหมายเจ้าหน้าที่ผู้รับผิดชอบการใช้งานระบบบัญชี Carbon Credit " * 6
    pages = pdf_text(render_covering_letter(mae_sai_letter(body=(paragraph,) * 6))[0])
    assert len(pages) >= 2
    assert "/" in pages[0].strip().splitlines()[-1]
    assert pages[0].strip().endswith("...")
    assert pages[1].lstrip().startswith("- ๒ -")
    assert "ขอแสดงความนับถือ" in pages[-1]
    assert "ขอแสดงความนับถือ" not in pages[0]


def test_signature_never_alone_on_page():
    # Enough body to push the closing block over the page end, whatever the exact line count.
    for count in range(3, 9):
        body = ("อำเภอแม่สายขอให้องค์กรปกครองส่วนท้องถิ่นทุกแห่งรายงานรายชื่อเจ้าหน้าที่ผู้รับผิดชอบ"
                "ผ่านทาง QR Code ภายในวันที่ ๙ เมษายน ๒๕๖๘ เพื่อรวบรวมรายงานจังหวัดเชียงราย",) * count
        pages = pdf_text(render_covering_letter(mae_sai_letter(body=body))[0])
        closing_page = next(page for page in pages if "ขอแสดงความนับถือ" in page)
        before_closing = closing_page[:closing_page.find("จึงเรียนมาเพื่อ")].splitlines()
        body_lines = [line for line in before_closing if line.strip() and not line.startswith("- ")]
        assert len(body_lines) >= 2, f"{count} paragraphs"


def test_secret_letter_stamped_on_every_page():
    paragraph = "ข้อมูลบุคคลของเจ้าหน้าที่ผู้รับผิดชอบระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น " * 6
    pdf, docx_bytes = render_covering_letter(mae_sai_letter(secrecy="secret", body=(paragraph,) * 6))
    pages = pdf_text(pdf)
    assert len(pages) >= 2
    for page in pages:
        assert page.count("ลับมาก") == 2
    document = docx.Document(io.BytesIO(docx_bytes))
    assert document.sections[0].header.paragraphs[0].text == "ลับมาก"
    assert document.sections[0].footer.paragraphs[0].text == "ลับมาก"


def test_acting_signatory_lines():
    letter = mae_sai_letter(signatory=Signatory("นายสมพงษ์ ใจมั่น", ("ปลัดอำเภอ",), capacity="acting",
                                                on_behalf_of="นายอำเภอแม่สาย"))
    signature = next(part for part in letter_parts(letter) if part.kind == "signature")
    assert signature.lines == ("(นายสมพงษ์ ใจมั่น)", "ปลัดอำเภอ รักษาราชการแทน", "นายอำเภอแม่สาย")


def test_signatory_in_own_name():
    letter = mae_sai_letter(signatory=Signatory("นายธนากร ศรีวงศ์", ("นายอำเภอแม่สาย",)))
    signature = next(part for part in letter_parts(letter) if part.kind == "signature")
    assert signature.lines == ("(นายธนากร ศรีวงศ์)", "นายอำเภอแม่สาย")


def test_enclosure_quantity_and_unit():
    letter = mae_sai_letter(enclosures=(
        Enclosure("สำเนาหนังสือจังหวัดเชียงราย ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐ ลงวันที่ ๒ เมษายน ๒๕๖๘"),
        Enclosure("แบบฟอร์มรายชื่อเจ้าหน้าที่ผู้รับผิดชอบ", 1, "ชุด"),
        Enclosure("คู่มือการใช้งานระบบ", None, None),
    ))
    enclosures = next(part for part in letter_parts(letter) if part.kind == "enclosures")
    assert enclosures.lines[1] == "๒. แบบฟอร์มรายชื่อเจ้าหน้าที่ผู้รับผิดชอบ"
    assert enclosures.trailing == ("จำนวน ๑ ฉบับ", "จำนวน ๑ ชุด", "")
    text = "\n".join(pdf_text(render_covering_letter(letter)[0]))
    assert "จำนวน ๑ ชุด" in text


def test_docx_parts_in_order(rendered):
    document = docx.Document(io.BytesIO(rendered[1]))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    markers = [
        "ด่วนที่สุด", "ที่ ชร ๐๐๒๓.๒๐/ว ๑๕๒๓\tที่ว่าการอำเภอแม่สาย", "\tถนนพหลโยธิน ชร ๕๗๑๓๐",
        "๑๓ เมษายน ๒๕๖๘", f"เรื่อง\t{SUBJECT}", "เรียน\tนายกเทศมนตรีตำบล", "อ้างถึง\t๑. หนังสืออำเภอแม่สาย",
        "\t๒. หนังสืออำเภอแม่สาย", "สิ่งที่ส่งมาด้วย\tสำเนาหนังสือจังหวัดเชียงราย", "\tจำนวน ๑ ฉบับ",
        "ตามที่ อำเภอแม่สาย", "๑. เริ่มใช้งาน", "๒. ศึกษาคู่มือ", "๓. กรณีมีความประสงค์", "จึงเรียนมาเพื่อทราบ",
        "ขอแสดงความนับถือ", "(นายธีรพงษ์ คำแสน)", "ปลัดอำเภอ ปฏิบัติราชการแทน", "นายอำเภอแม่สาย",
        "สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย", "ผู้ประสานงาน", "สำเนาส่ง",
        "สแกนเพื่อยืนยันการรับทราบและแจ้งรายชื่อผู้รับผิดชอบ",
    ]
    positions = [text.find(marker) for marker in markers]
    missing = [marker for marker, position in zip(markers, positions) if position < 0]
    assert missing == []
    assert positions == sorted(positions)


def test_docx_page_and_thai_font(rendered):
    document = docx.Document(io.BytesIO(rendered[1]))
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0
    assert round(section.page_height.cm, 1) == 29.7
    assert round(section.left_margin.cm, 1) == 3.0
    normal = document.styles["Normal"]
    fonts = normal.element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}cs") == "TH SarabunPSK"
    assert normal.font.size.pt == 16


def test_docx_has_qr_picture_and_title(rendered):
    document = docx.Document(io.BytesIO(rendered[1]))
    assert len(document.inline_shapes) == 1
    assert document.core_properties.title == SUBJECT


def test_docx_body_indented_thai_justified(rendered):
    document = docx.Document(io.BytesIO(rendered[1]))
    body = next(paragraph for paragraph in document.paragraphs if paragraph.text.startswith("ตามที่"))
    assert round(body.paragraph_format.first_line_indent.cm, 1) == 2.5
    assert body.alignment is docx.enum.text.WD_ALIGN_PARAGRAPH.THAI_JUSTIFY


def test_letter_text_matches_parts_order():
    text = letter_text(mae_sai_letter())
    lines = text.splitlines()
    assert lines[0] == "ด่วนที่สุด"
    assert lines[1] == "ที่ ชร ๐๐๒๓.๒๐/ว ๑๕๒๓"
    assert "เรื่อง  " + SUBJECT in lines
    assert text.index("จึงเรียนมาเพื่อ") < text.index("ขอแสดงความนับถือ") < text.index("(นายธีรพงษ์ คำแสน)")
    assert text.rstrip().endswith(CONFIRM_URL)


@pytest.mark.parametrize("changes, code", [
    ({"subject": "  "}, "missing_letter_field"),
    ({"doc_number": ""}, "missing_letter_field"),
    ({"body": ()}, "missing_letter_field"),
    ({"urgency": "ด่วนมาก"}, "invalid_urgency"),
    ({"secrecy": "internal"}, "invalid_secrecy"),
    ({"digits": "roman"}, "invalid_digits"),
    ({"confirmation_url": "javascript:alert(1)"}, "invalid_confirmation_url"),
    ({"confirmation_url": "https://saraban.example/" + "a" * 600}, "invalid_confirmation_url"),
    ({"signatory": Signatory("นายสมพงษ์ ใจมั่น", ("ปลัดอำเภอ",), capacity="acting")}, "missing_letter_field"),
    ({"signatory": Signatory("นายสมพงษ์ ใจมั่น", ("ปลัดอำเภอ",), capacity="deputy")}, "invalid_capacity"),
])
def test_invalid_letter_rejected(changes, code):
    with pytest.raises(InvalidValue) as raised:
        render_covering_letter(mae_sai_letter(**changes))
    assert raised.value.code == code
    assert raised.value.message_th


def test_page_number_follows_digits():
    paragraph = "องค์กรปกครองส่วนท้องถิ่นต้องมอบหมายเจ้าหน้าที่ผู้รับผิดชอบการใช้งานระบบบัญชี Carbon Credit " * 6
    pages = pdf_text(render_covering_letter(mae_sai_letter(digits="arabic", body=(paragraph,) * 6))[0])
    assert pages[1].lstrip().startswith("- 2 -")


def test_deliver_by_stamp_in_thai_time():
    from datetime import datetime, timezone

    letter = mae_sai_letter(deliver_by=datetime(2025, 4, 10, 3, 0, tzinfo=timezone.utc))
    urgency = next(part for part in letter_parts(letter) if part.kind == "urgency")
    assert urgency.lines == ("ด่วนภายใน ๑๐ เมษายน ๒๕๖๘ เวลา ๑๐.๐๐ น.",)
    text = "\n".join(pdf_text(render_covering_letter(letter)[0]))
    assert "ด่วนภายใน ๑๐ เมษายน ๒๕๖๘" in text
    assert "เวลา ๑๐.๐๐ น." in text


def test_blank_position_lines_dropped():
    letter = mae_sai_letter(signatory=Signatory("นายสมพงษ์ ใจมั่น", ("",), capacity="acting",
                                                on_behalf_of="นายอำเภอแม่สาย"))
    signature = next(part for part in letter_parts(letter) if part.kind == "signature")
    assert signature.lines == ("(นายสมพงษ์ ใจมั่น)", "รักษาราชการแทน", "นายอำเภอแม่สาย")
