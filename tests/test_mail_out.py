"""Mail out: reminders, escalations and assignments sent in Thai through an aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from workflow.integration.mail import MailConfigError, MailSettings, send_pending_notices
from workflow.models import Organization
from workflow.routing.models import Notice, OfficialLetter, RoutingTask, TaskEvent

SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"


class Recorder:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


@pytest.fixture
def mail_settings(smtp_server, tmp_path):
    controller, _recorder = smtp_server
    return MailSettings(
        smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False,
        smtp_from="saraban@maesai.example", state_file=str(tmp_path / "mail-state.json"), timeout=10,
        addresses={
            "organizations": {"5570903": ["saraban@wiangphangkham.example"], "DIST-5709": ["saraban@maesai.example"]},
            "users": {"anucha": "anucha@wiangphangkham.example"},
        },
    )


@pytest.fixture
def task(session, users):
    mae_sai = session.scalar(select(Organization).where(Organization.code == "DIST-5709"))
    lao = session.scalar(select(Organization).where(Organization.code == "5570903"))
    letter = OfficialLetter(doc_number="ชร 0023.6/ว 3200", letter_date=date(2025, 4, 2), subject=SUBJECT)
    session.add(letter)
    session.flush()
    routing_task = RoutingTask(letter_id=letter.id, root_letter_id=letter.id, sender_org_id=mae_sai.id,
                               recipient_org_id=lao.id, due_nominal=date(2025, 4, 9), due_effective=date(2025, 4, 9))
    session.add(routing_task)
    session.commit()
    return routing_task


def add_notice(session, task, kind: str, organization_code: str, message: str) -> Notice:
    organization = session.scalar(select(Organization).where(Organization.code == organization_code))
    notice = Notice(organization_id=organization.id, task_id=task.id, kind=kind, due_date=date(2025, 4, 9),
                    working_days_before=2, message_th=message)
    session.add(notice)
    session.commit()
    return notice


def received(recorder) -> list:
    return [message_from_bytes(envelope.content, policy=default_policy) for envelope in recorder.envelopes]


def test_reminder_sent_with_thai_subject_and_body(app, session, task, smtp_server, mail_settings):
    _controller, recorder = smtp_server
    add_notice(session, task, "reminder", "5570903", "หนังสือที่ ชร 0023.6/ว 3200 ครบกำหนดส่งอีก 2 วันทำการ (วันที่ 9 เมษายน 2568)")

    sent = send_pending_notices(app, mail_settings)

    messages = received(recorder)
    assert sent == 1
    assert recorder.envelopes[0].rcpt_tos == ["saraban@wiangphangkham.example"]
    assert messages[0]["Subject"] == "[สารบรรณ] แจ้งเตือนกำหนดส่ง: หนังสือที่ ชร 0023.6/ว 3200"
    body = messages[0].get_content()
    assert "ครบกำหนดส่งอีก 2 วันทำการ" in body
    assert "เรียน เทศบาลตำบลเวียงพางคำ" in body
    assert "กำหนดส่ง 9 เมษายน 2568" in body


def test_escalation_goes_to_parent_office(app, session, task, smtp_server, mail_settings):
    _controller, recorder = smtp_server
    add_notice(session, task, "escalation", "DIST-5709", "เทศบาลตำบลเวียงพางคำ ยังไม่ยืนยันหนังสือที่ ชร 0023.6/ว 3200")

    send_pending_notices(app, mail_settings)

    messages = received(recorder)
    assert recorder.envelopes[0].rcpt_tos == ["saraban@maesai.example"]
    assert messages[0]["Subject"].startswith("[สารบรรณ] เร่งรัดงานที่เกินกำหนด")
    assert "เรียน สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย" in messages[0].get_content()


def test_assignment_sent_to_officer(app, session, users, task, smtp_server, mail_settings):
    _controller, recorder = smtp_server
    session.add(TaskEvent(task_id=task.id, kind="assigned", actor_id=users["supervisor"].id, data={
        "assignee_id": users["officer"].id, "assignee_name": "นายอนุชา แสงทอง", "note": "โปรดรายงานภายในกำหนด"}))
    session.commit()

    sent = send_pending_notices(app, mail_settings)

    messages = received(recorder)
    assert sent == 1
    assert recorder.envelopes[0].rcpt_tos == ["anucha@wiangphangkham.example"]
    assert messages[0]["Subject"] == "[สารบรรณ] มอบหมายงาน: หนังสือที่ ชร 0023.6/ว 3200"
    body = messages[0].get_content()
    assert "เรียน นายอนุชา แสงทอง" in body
    assert "ข้อสั่งการ: โปรดรายงานภายในกำหนด" in body
    assert SUBJECT in body


def test_each_notice_sent_once(app, session, task, smtp_server, mail_settings):
    _controller, recorder = smtp_server
    add_notice(session, task, "reminder", "5570903", "หนังสือที่ ชร 0023.6/ว 3200 ครบกำหนดส่งวันนี้")

    first = send_pending_notices(app, mail_settings)
    second = send_pending_notices(app, mail_settings)

    assert first == 1
    assert second == 0
    assert len(recorder.envelopes) == 1
    assert json.loads(open(mail_settings.state_file, encoding="utf-8").read())["notice_id"] >= 1


def test_office_without_address_skipped(app, session, task, smtp_server, mail_settings):
    _controller, recorder = smtp_server
    mail_settings.addresses["organizations"].pop("5570903")
    add_notice(session, task, "reminder", "5570903", "หนังสือที่ ชร 0023.6/ว 3200 ครบกำหนดส่งวันนี้")

    sent = send_pending_notices(app, mail_settings)

    assert sent == 0
    assert recorder.envelopes == []


def test_missing_smtp_host_rejected(app, session, task, tmp_path):
    add_notice(session, task, "reminder", "5570903", "หนังสือที่ ชร 0023.6/ว 3200 ครบกำหนดส่งวันนี้")
    settings = MailSettings(smtp_from="saraban@maesai.example", state_file=str(tmp_path / "state.json"))

    with pytest.raises(MailConfigError, match="SARABAN_SMTP_HOST"):
        send_pending_notices(app, settings)

    assert not (tmp_path / "state.json").exists()


def test_settings_read_from_environment(tmp_path):
    addresses = tmp_path / "addresses.json"
    addresses.write_text(json.dumps({"organizations": {"DIST-5709": ["saraban@maesai.example"]}}), encoding="utf-8")

    settings = MailSettings.from_env({
        "SARABAN_SMTP_HOST": "127.0.0.1", "SARABAN_SMTP_PORT": "2525", "SARABAN_SMTP_STARTTLS": "0",
        "SARABAN_SMTP_FROM": "saraban@maesai.example", "SARABAN_MAIL_ADDRESSES": str(addresses),
    })

    assert settings.smtp_port == 2525
    assert settings.smtp_starttls is False
    assert settings.addresses["organizations"]["DIST-5709"] == ["saraban@maesai.example"]
    assert settings.imap_host is None

