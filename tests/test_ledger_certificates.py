"""Sale and retirement certificates: Thai text, Buddhist-era date, serial range and the verification URL."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader

from workflow.ledger import operations, reports
from workflow.ledger.certificates import certificate_lines, certificate_pdf, verification_url
from workflow.ledger.testing import issue_and_allocate, key, make_ledger_staff, open_lao_accounts, register_bank
from workflow.routing.testing import prepare_database

POSTED = datetime(2025, 6, 2, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def session(tmp_path):
    database = prepare_database(f"sqlite:///{tmp_path / 'certificates.db'}")
    session = database.session()
    yield session
    session.close()
    database.dispose()


@pytest.fixture
def retirement(session):
    staff = make_ledger_staff(session)
    open_lao_accounts(session, staff)
    issue_and_allocate(session, staff)
    bank = register_bank(session, staff)
    sale = operations.prepare_transfer(
        session, staff.officers["5570901"], idempotency_key=key(), buyer_account=bank, quantity=30,
        receipt_number="รบ 15/2568", receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 12/2568",
        now=POSTED,
    )
    operations.approve(session, staff.executives["5570901"], sale.id, idempotency_key=key(), now=POSTED)
    operations.confirm(session, staff.dla_head, sale.id, idempotency_key=key(), now=POSTED)
    retire = operations.prepare_retirement(
        session, staff.dla_officer, idempotency_key=key(), account_code=bank, quantity=12,
        beneficiary="ธนาคารกรุงไทย จำกัด (มหาชน)", purpose="ชดเชยการปล่อยก๊าซเรือนกระจกของสำนักงานใหญ่ ปี 2567",
        letter_reference="ธนาคาร ที่ ESG 20/2568", now=POSTED,
    )
    operations.approve(session, staff.dla_head, retire.id, idempotency_key=key(), now=POSTED)
    return reports.transaction_of(session, sale.id), reports.transaction_of(session, retire.id)


def test_sale_certificate_lines(session, retirement):
    sale, _ = retirement
    lines = certificate_lines(session, sale)
    assert "ลงวันที่ 2 มิถุนายน 2568" in lines[0]
    assert "ผู้ซื้อ: ธนาคารกรุงไทย จำกัด (มหาชน)" in lines
    assert "หมายเลข 1 ถึง 30 (30 หน่วย)" in lines
    assert "จำนวน 30 ตันคาร์บอนไดออกไซด์เทียบเท่า (tCO2e)" in lines
    assert "ราคาตันละ 260.00 บาท" in lines


def test_retirement_certificate_pdf_text(session, retirement, monkeypatch):
    _, retired = retirement
    monkeypatch.setenv("SARABAN_PUBLIC_URL", "https://saraban.example.go.th")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(certificate_pdf(session, retired.id))).pages)
    assert "หนังสือรับรองการชดเชย" in text
    assert "จำนวน 12 ตัน" in text
    assert "ผู้ใช้สิทธิชดเชย" in text
    assert "2568" in text
    assert verification_url(session, retired).startswith(f"https://saraban.example.go.th/ledger/verify/{retired.id}/")


def test_verification_url_uses_serving_address(session, retirement, monkeypatch):
    _, retired = retirement
    monkeypatch.delenv("SARABAN_PUBLIC_URL", raising=False)
    url = verification_url(session, retired, "http://127.0.0.1:5077/")
    assert url.startswith(f"http://127.0.0.1:5077/ledger/verify/{retired.id}/")

    monkeypatch.setenv("SARABAN_PUBLIC_URL", "https://saraban.example.go.th")
    assert verification_url(session, retired, "http://127.0.0.1:5077/").startswith("https://saraban.example.go.th/")


def test_retirement_certificate_leaves_out_remainder(session, retirement):
    _, retired = retirement
    lines = certificate_lines(session, retired)
    assert "หมายเลข 1 ถึง 12 (12 หน่วย)" in lines
    assert not any(line.startswith("หมายเลข 13") for line in lines)
