"""`saraban ledger verify` also checks buyers' identity documents against their registration and the stored bytes."""

from __future__ import annotations

import json
import os
import stat

import pytest

from workflow.ledger import operations
from workflow.ledger.buyers import UploadedDocument
from workflow.ledger.commands import verify_command
from workflow.ledger.testing import key, make_ledger_staff
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset
from workflow.storage import OriginalStore, sha256_hex

CERTIFICATE_PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('verify_documents') / 'ledger.db'}")
        yield db
        db.dispose()
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as url:
        db = prepare_database(url)
        yield db
        db.dispose()


@pytest.fixture
def store(database, tmp_path, monkeypatch):
    """Register a company with its certificate, with DATABASE_URL and SARABAN_STORAGE set to the test's copies."""
    reset(database)
    monkeypatch.setenv("DATABASE_URL", database.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SARABAN_STORAGE", str(tmp_path / "storage"))
    store = OriginalStore(tmp_path / "storage")
    session = database.session()
    try:
        staff = make_ledger_staff(session)
        request = operations.prepare_buyer_registration(
            session, staff.dla_officer, store, idempotency_key=key(), kind="company",
            name_th="บริษัท เชียงรายกรีนเอนเนอร์ยี จำกัด", tax_id="0105556176239",
            address_th="99 หมู่ 3 ตำบลเวียงพางคำ อำเภอแม่สาย จังหวัดเชียงราย 57130",
            documents=[UploadedDocument("company_certificate", "หนังสือรับรอง.pdf", CERTIFICATE_PDF)],
            letter_reference="บริษัท ที่ CRG 7/2568", max_document_bytes=1024 * 1024)
        operations.approve(session, staff.dla_head, request.id, idempotency_key=key())
    finally:
        session.close()
    return store


def test_verify_passes_with_documents(store, capsys):
    assert verify_command(as_json=True) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is True
    assert result["problems"] == []


def test_verify_reports_changed_document(store, capsys):
    path = store.path_for(sha256_hex(CERTIFICATE_PDF))
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    path.write_bytes(CERTIFICATE_PDF + b"% appended\n")
    assert verify_command(as_json=True) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_buyer_documents"
    assert "no longer has that SHA-256" in result["first_break"]["reason"]


def test_verify_reports_missing_document(store, capsys):
    path = store.path_for(sha256_hex(CERTIFICATE_PDF))
    path.unlink()
    assert verify_command(as_json=False) == 1
    output = capsys.readouterr().out
    assert "บัญชีไม่ถูกต้อง พบปัญหา 1 รายการ" in output
    assert "ตาราง ledger_buyer_documents" in output
    assert "missing from the originals store" in output
