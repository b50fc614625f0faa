"""correct_field: the clerk's correction is shown, the parsed value is kept, rejections change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflow import fields, operations
from workflow.errors import InvalidValue, NotFound, PermissionDenied
from workflow.models import FieldCorrection


def field_named(letter, name):
    return next(f for f in letter.fields if f.name == name)


def corrections(session) -> int:
    return session.scalar(select(func.count()).select_from(FieldCorrection))


def test_correction_becomes_shown_value(session, users, stored_letter):
    subject = field_named(stored_letter, "subject")
    new_subject = "การใช้งานระบบบัญชีคาร์บอนเครดิตขององค์กรปกครองส่วนท้องถิ่น"
    correction = operations.correct_field(session, users["clerk"], subject.id, new_subject)
    session.expire_all()
    subject = field_named(stored_letter, "subject")
    assert subject.value == new_subject
    assert subject.parsed_value == "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
    assert correction.corrected_by_id == users["clerk"].id
    assert correction.corrected_at is not None
    assert correction.parsed_value == subject.parsed_value
    assert correction.new_value == new_subject


def test_second_correction_keeps_history(session, users, stored_letter):
    issuer = field_named(stored_letter, "issuer")
    operations.correct_field(session, users["clerk"], issuer.id, "ศาลากลางจังหวัดเชียงใหม่")
    operations.correct_field(session, users["supervisor"], issuer.id, "ศาลากลางจังหวัดเชียงราย ถนนแม่ฟ้าหลวง")
    session.expire_all()
    issuer = field_named(stored_letter, "issuer")
    assert [c.new_value for c in issuer.corrections] == ["ศาลากลางจังหวัดเชียงใหม่", "ศาลากลางจังหวัดเชียงราย ถนนแม่ฟ้าหลวง"]
    assert issuer.corrections[1].previous_value == "ศาลากลางจังหวัดเชียงใหม่"
    assert issuer.corrections[1].parsed_value == "ศาลากลางจังหวัดเชียงราย"
    assert issuer.value == "ศาลากลางจังหวัดเชียงราย ถนนแม่ฟ้าหลวง"


def test_correction_shows_in_api_result(session, users, stored_letter):
    date_field = field_named(stored_letter, "date")
    operations.correct_field(session, users["clerk"], date_field.id, "2025-04-03")
    session.expire_all()
    letter = operations.document_result(stored_letter.document)["letters"][0]
    assert letter["date"] == "2025-04-03"
    assert letter["corrected_fields"] == ["date"]


def test_field_can_be_cleared(session, users, stored_letter):
    signatory = field_named(stored_letter, "signatory")
    operations.correct_field(session, users["clerk"], signatory.id, None)
    session.expire_all()
    assert field_named(stored_letter, "signatory").value is None


def assert_unchanged(session, letter, name, value):
    session.expire_all()
    assert field_named(letter, name).value == value
    assert corrections(session) == 0


def test_officer_role_may_not_correct(session, users, stored_letter):
    subject = field_named(stored_letter, "subject")
    with pytest.raises(PermissionDenied) as raised:
        operations.correct_field(session, users["officer"], subject.id, "เรื่องอื่น")
    assert raised.value.code == "role_cannot_correct"
    assert_unchanged(session, stored_letter, "subject", subject.parsed_value)


def test_clerk_of_other_office_may_not_correct(session, users, stored_letter):
    subject = field_named(stored_letter, "subject")
    with pytest.raises(PermissionDenied) as raised:
        operations.correct_field(session, users["other_clerk"], subject.id, "เรื่องอื่น")
    assert raised.value.code == "other_organization"
    assert_unchanged(session, stored_letter, "subject", subject.parsed_value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("urgency", "very_fast"),
        ("date", "2 เมษายน 2568"),
        ("subject", "   "),
        ("deadlines", {"kind": "due"}),
        ("signatory", {"rank": "พ.จ.อ."}),
    ],
    ids=["unknown-urgency", "date-not-iso", "blank-subject", "deadlines-not-list", "signatory-unknown-key"],
)
def test_value_of_wrong_shape_rejected(session, users, stored_letter, name, value):
    target = field_named(stored_letter, name)
    before = target.value
    with pytest.raises(InvalidValue):
        operations.correct_field(session, users["clerk"], target.id, value)
    assert_unchanged(session, stored_letter, name, before)


def test_unchanged_value_rejected(session, users, stored_letter):
    issuer = field_named(stored_letter, "issuer")
    with pytest.raises(InvalidValue) as raised:
        operations.correct_field(session, users["clerk"], issuer.id, "ศาลากลางจังหวัดเชียงราย")
    assert raised.value.code == "no_change"
    assert_unchanged(session, stored_letter, "issuer", "ศาลากลางจังหวัดเชียงราย")


def test_unknown_field_not_found(session, users, stored_letter):
    with pytest.raises(NotFound):
        operations.correct_field(session, users["clerk"], 987654, "ค่าใหม่")
    assert corrections(session) == 0


# --- reading the correction form --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "form", "expected"),
    [
        ("date", {"value": "๓ เมษายน ๒๕๖๘"}, "2025-04-03"),
        ("date", {"value": "3/4/2568"}, "2025-04-03"),
        ("deliver_by", {"value": "9 เม.ย. 2568 16.30 น."}, "2025-04-09T16:30"),
        ("doc_number", {"value": "ที่ ชร ๐๐๒๓.๖/ว๓๒๐๐"},
         {"text": "ชร 0023.6/ว 3200", "prefix": "ชร", "office": "0023.6", "circular": True, "serial": 3200}),
        ("subject", {"value": "  การใช้งาน   ระบบบัญชี  "}, "การใช้งาน ระบบบัญชี"),
        ("urgency", {"value": ""}, None),
        ("references", {"value": ""}, []),
        ("signatory", {"value.name": "นายธนศักดิ์ ใจใส", "value.capacity": "acting"},
         {"name": "นายธนศักดิ์ ใจใส", "position": None, "capacity": "acting", "on_behalf_of": None}),
    ],
)
def test_form_input_read_into_contract_shape(name, form, expected):
    assert fields.value_from_form(name, form) == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [("date", "31 กุมภาพันธ์ 2568"), ("doc_number", "หนังสือจังหวัด"), ("references", "[ไม่ใช่ JSON")],
)
def test_unreadable_form_input_rejected(name, text):
    with pytest.raises(InvalidValue):
        fields.value_from_form(name, {"value": text})


@pytest.mark.parametrize("name", ["date", "doc_number", "deliver_by", "subject", "deadlines"])
def test_form_text_reads_back_to_same_value(stored_letter, name):
    from tests.conftest import province_letter

    value = province_letter().get(name) if name != "deliver_by" else "2025-04-09T16:30"
    assert fields.value_from_form(name, {"value": fields.form_text(name, value)}) == value
