"""e-CMS GovernmentDocument messages: import, export, round trip, notifiers and refusals."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.pdfmaker import thai_pdf
from workflow.integration import ecms
from workflow.integration.ecms_codes import DEFAULT_CODES, load_code_table
from workflow.integration.ecms_exchange import export_letter, import_message, notifier_for_event
from workflow.models import Document, Letter

FIXTURES = Path(__file__).parent / "fixtures" / "ecms"
MAX_BYTES = 2 * 1024 * 1024

LETTER_LINES = [
    "ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐",
    "ศาลากลางจังหวัดเชียงราย",
    "ถนนแม่ฟ้าหลวง ชร ๕๗๑๐๐",
    "๒ เมษายน ๒๕๖๘",
    "เรื่อง การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น",
    "เรียน นายอำเภอ ทุกอำเภอ",
    "อ้างถึง หนังสือกรมส่งเสริมการปกครองท้องถิ่น ด่วนที่สุด ที่ มท ๐๘๒๑.๒/ว ๑๔๔๖ ลงวันที่ ๒๘ มีนาคม ๒๕๖๘",
    "จังหวัดเชียงรายขอให้อำเภอแจ้งองค์กรปกครองส่วนท้องถิ่นมอบหมายเจ้าหน้าที่ผู้รับผิดชอบ",
    "และรายงานรายชื่อผ่านทาง QR Code ภายในวันที่ ๑๑ เมษายน ๒๕๖๘",
    "จึงเรียนมาเพื่อพิจารณาดำเนินการ",
    "ขอแสดงความนับถือ",
    "(นายธนศักดิ์ ใจใส)",
    "รองผู้ว่าราชการจังหวัด ปฏิบัติราชการแทน",
    "ผู้ว่าราชการจังหวัดเชียงราย",
]
ENCLOSED_TEXT = "ที่ มท ๐๘๒๑.๒/ว ๑๔๔๖ เรื่อง การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น\n"
# The fields a message states, compared after a round trip.
MAPPED_FIELDS = ("doc_number", "date", "subject", "urgency", "secrecy", "addressee")


@pytest.fixture(scope="module")
def letter_pdf() -> bytes:
    return thai_pdf([LETTER_LINES])


@pytest.fixture
def codes():
    return load_code_table()


def fixture_message(name: str, pdf: bytes, attachment: bytes = ENCLOSED_TEXT.encode("utf-8")) -> bytes:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    text = text.replace("@@MAIN_LETTER_BASE64@@", base64.b64encode(pdf).decode("ascii"))
    text = text.replace("@@ATTACHMENT_BASE64@@", base64.b64encode(attachment).decode("ascii"))
    return text.encode("utf-8")


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_import_thegif_message_overlays_fields(session, store, users, letter_pdf, codes):
    data = fixture_message("government_document_thegif.xml", letter_pdf)

    imported = import_message(session, store, data, codes, MAX_BYTES)

    letter = imported.letter
    assert letter["doc_number"]["text"] == "ชร 0023.6/ว 3200"
    assert letter["date"] == "2025-04-02"
    assert letter["urgency"] == "very_urgent"
    assert letter["secrecy"] is None
    assert letter["addressee"] == "นายอำเภอแม่สาย"
    assert letter["signatory"]["name"] == "นายธนศักดิ์ ใจใส"
    assert letter["signatory"]["position"] == "รองผู้ว่าราชการจังหวัดเชียงราย"
    assert [item["doc_number"]["text"] for item in letter["references"]] == ["มท 0821.2/ว 1446"]
    assert letter["references"][0]["date"] == "2025-03-28"
    assert letter["enclosures"][0]["text"].startswith("สำเนาหนังสือกรมส่งเสริมการปกครองท้องถิ่น")
    assert letter["ecms"]["sender"]["department_id"] == "1500800057"
    assert letter["ecms"]["attachments"][0]["filename"] == "มท0821.2-ว1446.txt"


def test_import_stores_pdf_by_sha256(session, store, users, letter_pdf, codes):
    data = fixture_message("government_document_thegif.xml", letter_pdf)

    imported = import_message(session, store, data, codes, MAX_BYTES)

    assert imported.created is True
    assert imported.result["sha256"] == ecms_sha(letter_pdf)
    assert store.read(imported.result["sha256"]) == letter_pdf
    attachment_digest = imported.letter["ecms"]["attachments"][0]["sha256"]
    assert store.read(attachment_digest) == ENCLOSED_TEXT.encode("utf-8")


def ecms_sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_import_stores_parsed_letter_with_message_fields(session, store, users, letter_pdf, codes):
    data = fixture_message("government_document_thegif.xml", letter_pdf)

    imported = import_message(session, store, data, codes, MAX_BYTES)

    stored = session.scalars(select(Letter).where(Letter.document_id == imported.result["document_id"])).first()
    values = {field.name: field.value for field in stored.fields}
    assert values["urgency"] == "very_urgent"
    assert values["addressee"] == "นายอำเภอแม่สาย"
    assert "การใช้งานระบบบัญชี" in stored.text


@pytest.mark.parametrize("name", [
    "government_document_thegif.xml",
    "government_document_thegif_misspelled.xml",
    "government_document_uncefact.xml",
    "government_document_uncefact_draft.xml",
])
def test_import_accepts_each_ram_spelling(session, store, users, letter_pdf, codes, name):
    imported = import_message(session, store, fixture_message(name, letter_pdf), codes, MAX_BYTES)

    assert imported.letter["subject"] == "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
    assert imported.letter["date"] == "2025-04-02"
    assert store.read(imported.result["sha256"]) == letter_pdf


def test_import_reads_buddhist_era_date_and_secrecy(session, store, users, letter_pdf, codes):
    data = fixture_message("government_document_uncefact_draft.xml", letter_pdf)

    letter = import_message(session, store, data, codes, MAX_BYTES).letter

    assert letter["date"] == "2025-04-02"
    assert letter["secrecy"] == "confidential"
    assert letter["urgency"] == "most_urgent"
    assert letter["enclosures"] == []


def test_same_message_twice_is_one_document(session, store, users, letter_pdf, codes):
    data = fixture_message("government_document_thegif.xml", letter_pdf)

    first = import_message(session, store, data, codes, MAX_BYTES)
    second = import_message(session, store, data, codes, MAX_BYTES)

    assert second.created is False
    assert second.result["document_id"] == first.result["document_id"]
    assert count(session, Document) == 1
    assert second.letter["urgency"] == "very_urgent"


def test_import_with_user_registers_receipt(session, store, users, letter_pdf, codes):
    data = fixture_message("government_document_thegif.xml", letter_pdf)

    imported = import_message(session, store, data, codes, MAX_BYTES, user=users["clerk"])

    from workflow.routing.calendar import today_in_thailand

    assert imported.receipt_number == f"1/{today_in_thailand().year + 543}"
    notifier = ecms.read_notifier(imported.notifier)
    assert notifier["kind"] == "AcceptLetterNotifier"
    assert notifier["accept_id"] == imported.receipt_number
    assert notifier["letter_id"] == "ชร 0023.6/ว 3200"


def test_import_links_receipt_to_stored_file(session, store, users, letter_pdf, codes):
    from workflow.routing.models import OfficialLetter

    data = fixture_message("government_document_thegif.xml", letter_pdf)
    imported = import_message(session, store, data, codes, MAX_BYTES, user=users["clerk"])

    source_ids = session.scalars(select(Letter.id).where(Letter.document_id == imported.result["document_id"])).all()
    registered = session.scalar(select(OfficialLetter).where(OfficialLetter.doc_number == "ชร 0023.6/ว 3200"))
    assert registered is not None
    assert registered.source_letter_id == source_ids[0]


def test_import_without_user_answers_receive_notifier(session, store, users, letter_pdf, codes):
    data = fixture_message("government_document_thegif.xml", letter_pdf)

    imported = import_message(session, store, data, codes, MAX_BYTES)

    notifier = ecms.read_notifier(imported.notifier)
    assert notifier["kind"] == "ReceiveLetterNotifier"
    assert notifier["accept_id"] is None
    assert notifier["correspondence_date"] == "2025-04-02"


def test_export_then_import_keeps_fields_and_pdf(app, session, store, users, letter_pdf, codes, tmp_path):
    original = import_message(session, store, fixture_message("government_document_thegif.xml", letter_pdf),
                              codes, MAX_BYTES)
    letter_id = session.scalars(select(Letter.id).where(Letter.document_id == original.result["document_id"])).first()

    exported = export_letter(session, store, letter_id, codes)

    from workflow.app import create_app
    from workflow.db import upgrade_to_head

    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade_to_head(other_url)
    other = create_app({"TESTING": True, "DATABASE_URL": other_url, "SARABAN_STORAGE": str(tmp_path / "other"),
                        "REDIS_URL": None, "SECRET_KEY": "test"})
    other_session = other.extensions["saraban.db"].session()
    other_store = other.extensions["saraban.store"]
    try:
        again = import_message(other_session, other_store, exported, codes, MAX_BYTES)
    finally:
        other_session.close()
        other.extensions["saraban.db"].dispose()

    for name in MAPPED_FIELDS:
        assert again.letter[name] == original.letter[name], name
    assert again.letter["signatory"]["name"] == original.letter["signatory"]["name"]
    assert again.letter["signatory"]["position"] == original.letter["signatory"]["position"]
    assert again.letter["references"] == original.letter["references"]
    assert [e["text"] for e in again.letter["enclosures"]] == [e["text"] for e in original.letter["enclosures"]]
    assert again.letter["ecms"]["sender"] == original.letter["ecms"]["sender"]
    assert again.letter["ecms"]["receiver"] == original.letter["ecms"]["receiver"]
    assert again.letter["ecms"]["description"] == original.letter["ecms"]["description"]
    assert again.letter["ecms"]["send_date"] == original.letter["ecms"]["send_date"]
    assert again.result["sha256"] == original.result["sha256"]
    assert other_store.read(again.result["sha256"]) == letter_pdf
    assert [a["sha256"] for a in again.letter["ecms"]["attachments"]] == \
        [a["sha256"] for a in original.letter["ecms"]["attachments"]]


def test_export_writes_codes_from_table(session, store, users, letter_pdf, codes):
    original = import_message(session, store, fixture_message("government_document_uncefact.xml", letter_pdf),
                              codes, MAX_BYTES)
    letter_id = session.scalars(select(Letter.id).where(Letter.document_id == original.result["document_id"])).first()

    message = ecms.read_message(export_letter(session, store, letter_id, codes), MAX_BYTES)

    assert message.speed_code == "003"
    assert message.secret_code == "001"
    assert message.ram_namespace == ecms.RAM_NAMESPACE
    assert message.main_letter == letter_pdf


def test_export_unknown_letter_is_not_found(session, store, users, codes):
    from workflow.errors import NotFound

    with pytest.raises(NotFound) as raised:
        export_letter(session, store, 999, codes)

    assert raised.value.code == "letter_not_found"


BROKEN_MESSAGES = {
    "ecms_malformed_xml": b"<rsm:GovernmentDocument xmlns:rsm='urn:th:gov:egif:data:standard:GovernmentDocument:1.0'>",
    "ecms_forbidden_xml": (
        b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x 'xx'>]>"
        b"<rsm:GovernmentDocument xmlns:rsm='urn:th:gov:egif:data:standard:GovernmentDocument:1.0'>&x;"
        b"</rsm:GovernmentDocument>"
    ),
    "ecms_not_government_document": b"<Invoice xmlns='urn:example:invoice'><ID>1</ID></Invoice>",
}


@pytest.mark.parametrize("code", sorted(BROKEN_MESSAGES))
def test_broken_xml_rejected_and_nothing_stored(session, store, users, codes, code):
    with pytest.raises(ecms.EcmsError) as raised:
        import_message(session, store, BROKEN_MESSAGES[code], codes, MAX_BYTES)

    assert raised.value.code == code
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in raised.value.message_th)
    assert count(session, Document) == 0
    assert not store.root.exists() or not any(store.root.rglob("*"))


def _edited(pdf: bytes, old: str, new: str) -> bytes:
    return fixture_message("government_document_thegif.xml", pdf).decode("utf-8").replace(old, new, 1).encode("utf-8")


def test_missing_pdf_rejected_and_nothing_stored(session, store, users, letter_pdf, codes):
    main = base64.b64encode(letter_pdf).decode("ascii")
    data = _edited(letter_pdf, f'<ram:MainLetterBinaryObject mimeCode="application/pdf">{main}</ram:MainLetterBinaryObject>', "")

    with pytest.raises(ecms.EcmsError) as raised:
        import_message(session, store, data, codes, MAX_BYTES)

    assert raised.value.code == "ecms_missing_letter_file"
    assert "ไม่มีไฟล์หนังสือ" in raised.value.message_th
    assert count(session, Document) == 0
    assert not store.root.exists() or not any(store.root.rglob("*"))


def test_bad_base64_rejected_and_nothing_stored(session, store, users, letter_pdf, codes):
    main = base64.b64encode(letter_pdf).decode("ascii")
    data = _edited(letter_pdf, main, "JVBERi0xLjQK***ไม่ใช่base64***")

    with pytest.raises(ecms.EcmsError) as raised:
        import_message(session, store, data, codes, MAX_BYTES)

    assert raised.value.code == "ecms_invalid_base64"
    assert "base64" in raised.value.message_th
    assert count(session, Document) == 0
    assert not store.root.exists() or not any(store.root.rglob("*"))


def test_unknown_ram_namespace_rejected(session, store, users, letter_pdf, codes):
    data = _edited(letter_pdf, "urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1",
                   "urn:example:other:1")

    with pytest.raises(ecms.EcmsError) as raised:
        import_message(session, store, data, codes, MAX_BYTES)

    assert raised.value.code == "ecms_unknown_namespace"
    assert count(session, Document) == 0


def test_unknown_speed_code_rejected(session, store, users, letter_pdf, codes):
    data = _edited(letter_pdf, "<ram:SpeedCode>002</ram:SpeedCode>", "<ram:SpeedCode>009</ram:SpeedCode>")

    with pytest.raises(ecms.EcmsError) as raised:
        import_message(session, store, data, codes, MAX_BYTES)

    assert raised.value.code == "ecms_unknown_code"
    assert "SARABAN_ECMS_CODES" in raised.value.message_th
    assert count(session, Document) == 0


def test_code_table_file_overrides_default(tmp_path, letter_pdf):
    table = {"speed": {"0": None, "1": "urgent", "2": "very_urgent", "3": "most_urgent"},
             "secrecy": {"0": None, "1": "confidential", "2": "secret", "3": "top_secret"}}
    path = tmp_path / "codes.json"
    path.write_text(json.dumps(table), encoding="utf-8")

    codes = load_code_table(path)

    assert codes.urgency_for("3") == "most_urgent"
    assert codes.speed_code("urgent") == "1"
    assert codes.secret_code(None) == "0"


def test_code_table_file_with_unknown_value_rejected(tmp_path):
    path = tmp_path / "codes.json"
    path.write_text(json.dumps({"speed": {"0": None, "1": "ด่วน"}, "secrecy": DEFAULT_CODES["secrecy"]}),
                    encoding="utf-8")

    with pytest.raises(ValueError, match="ด่วน"):
        load_code_table(path)


def test_reject_notifier_from_rejected_event(session, users):
    from datetime import date

    from workflow.routing.models import OfficialLetter, RoutingTask, TaskEvent
    from workflow.models import Organization

    mae_sai = session.scalar(select(Organization).where(Organization.code == "DIST-5709"))
    lao = session.scalar(select(Organization).where(Organization.code == "5570903"))
    letter = OfficialLetter(doc_number="ชร 0023.6/ว 3200", letter_date=date(2025, 4, 2),
                            subject="การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น")
    session.add(letter)
    session.flush()
    task = RoutingTask(letter_id=letter.id, root_letter_id=letter.id, sender_org_id=mae_sai.id, recipient_org_id=lao.id)
    session.add(task)
    session.flush()
    event = TaskEvent(task_id=task.id, kind="rejected", data={"reason": "เบอร์โทรศัพท์ไม่ครบ"})
    received = TaskEvent(task_id=task.id, kind="received", data={"receipt_number": 17, "year": 2025})
    session.add_all([event, received])
    session.commit()

    rejected = ecms.read_notifier(notifier_for_event(session, event))
    accepted = ecms.read_notifier(notifier_for_event(session, received))

    assert rejected["kind"] == "RejectLetterNotifier"
    assert rejected["reason"] == "เบอร์โทรศัพท์ไม่ครบ"
    assert accepted["kind"] == "AcceptLetterNotifier"
    assert accepted["accept_id"] == "17/2568"


def test_differing_signatory_adds_warning(session, store, users, codes):
    pdf = thai_pdf([[line.replace("นายธนศักดิ์ ใจใส", "นายสมชาย มั่นคง") for line in LETTER_LINES]])

    letter = import_message(session, store, fixture_message("government_document_thegif.xml", pdf),
                            codes, MAX_BYTES).letter

    warning = next(w for w in letter["warnings"] if w["code"] == "ecms_signatory_differs")
    assert letter["signatory"]["name"] == "นายธนศักดิ์ ใจใส"
    assert "นายสมชาย มั่นคง" in warning["message"]
    assert warning["field"] == "signatory"


def test_matching_signatory_has_no_warning(session, store, users, letter_pdf, codes):
    letter = import_message(session, store, fixture_message("government_document_thegif.xml", letter_pdf),
                            codes, MAX_BYTES).letter

    assert [w for w in letter["warnings"] if w["code"] == "ecms_signatory_differs"] == []
    assert letter["signatory"]["capacity"] == "on_behalf"
