"""The ledger screens for releases, bundle sales, deposit splits, cancellations, reversals and buyer registration.

Each flow goes through Flask's test client as the role that acts: the officer prepares, the
executive approves. Rejected forms are checked to change nothing. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import os
import re
import stat
from datetime import date

import pytest
from sqlalchemy import func, select

from workflow.app import create_app
from workflow.ledger import operations, reports
from workflow.ledger.buyers import BuyerDocument, check_buyer_documents
from workflow.ledger.models import Account, Buyer, LedgerEvent, LedgerRequest, LedgerTransaction
from workflow.ledger.testing import issue_and_allocate, key, make_ledger_staff, open_lao_accounts, register_bank
from workflow.ledger.verify import verify
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset
from workflow.storage import OriginalStore, sha256_hex

SELLER = "5570901"
OTHER = "5570902"
# A small but real PDF header and body; the registration checks the leading bytes.
PDF_BYTES = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
             b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
# A valid citizen id (its 13th digit is the mod-11 check digit of the first twelve).
PERSON_ID = "1101700230708"
COMPANY_ID = "0105556176239"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('web_ledger_ops') / 'ledger.db'}")
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
def session(database):
    reset(database)
    session = database.session()
    yield session
    session.close()


@pytest.fixture
def funded(session):
    """Two LAO accounts holding 75 and 25 tCO2e of round 3, and a registered bank."""
    staff = make_ledger_staff(session)
    open_lao_accounts(session, staff)
    issue_and_allocate(session, staff)
    staff.bank = register_bank(session, staff)
    return staff


@pytest.fixture
def app(database, tmp_path):
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
        "SARABAN_STORAGE": str(tmp_path / "storage"),
        "REDIS_URL": None,
        "SECRET_KEY": "web-ledger-operations-test",
    })
    yield application
    application.extensions["saraban.db"].dispose()


def client_for(app, user):
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = user.id
        web_session["csrf_token"] = "token-" + user.username
    client.csrf = "token-" + user.username
    return client


def post(client, path, **fields):
    fields.setdefault("idempotency_key", key("web"))
    return client.post(path, data={"csrf_token": client.csrf, **fields})


def event_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(LedgerEvent))


def latest_request(session) -> LedgerRequest:
    session.expire_all()
    return session.scalar(select(LedgerRequest).order_by(LedgerRequest.id.desc()))


def approve_latest(app, session, executive, page: str) -> LedgerRequest:
    request_id = latest_request(session).id
    response = post(client_for(app, executive), f"/ledger/requests/{request_id}/approve", page=page)
    assert response.status_code == 302
    return latest_request(session)


def reserve(session, funded, code: str, quantity: int, buyer: str | None = None) -> int:
    request = operations.prepare_reservation(session, funded.officers[code], idempotency_key=key(), quantity=quantity,
                                             letter_reference=f"อบต. ที่ ชร {code}/77", buyer_account=buyer)
    operations.approve(session, funded.executives[code], request.id, idempotency_key=key())
    return request.id


def units(session, code: str) -> dict[str, int]:
    from workflow.ledger import queries

    session.expire_all()
    return queries.bucket_totals(session, queries.account_by_code(session, code))


# --- releasing a reservation -------------------------------------------------------------


def test_release_prepared_and_approved(app, session, funded):
    reservation = reserve(session, funded, SELLER, 30)
    page = client_for(app, funded.officers[SELLER]).get("/ledger/lao").get_data(as_text=True)
    assert f'<option value="{reservation}">คำขอ {reservation} คงเหลือ 30 tCO2e' in page

    response = post(client_for(app, funded.officers[SELLER]), "/ledger/lao/release", reservation_id=str(reservation),
                    letter_reference="ทต. ที่ ชร 77901/140")
    request = latest_request(session)
    assert response.status_code == 302
    assert request.kind == "release"
    assert request.status == "pending"
    assert units(session, f"LAO-{SELLER}") == {"available": 45, "reserved": 30}

    pending = client_for(app, funded.executives[SELLER]).get("/ledger/lao").get_data(as_text=True)
    assert f"คืนหน่วยที่กันไว้ตามคำขอเลขที่ {reservation}" in pending
    assert approve_latest(app, session, funded.executives[SELLER], "lao").status == "posted"
    assert units(session, f"LAO-{SELLER}") == {"available": 75, "reserved": 0}


def test_release_of_other_lao_rejected(app, session, funded):
    reservation = reserve(session, funded, OTHER, 10)
    before = event_count(session)
    response = post(client_for(app, funded.officers[SELLER]), "/ledger/lao/release", reservation_id=str(reservation),
                    letter_reference="ทต. ที่ ชร 77901/141")
    assert response.status_code == 400
    assert f"ไม่พบการกันหน่วยเลขที่ {reservation} ของบัญชีนี้" in response.get_data(as_text=True)
    assert event_count(session) == before


# --- bundle sale and deposit split ---------------------------------------------------------


def test_bundle_sale_then_deposit_split(app, session, funded):
    first = reserve(session, funded, SELLER, 40, funded.bank)
    second = reserve(session, funded, OTHER, 20)
    officer = client_for(app, funded.dla_officer)
    desk = officer.get("/ledger/dla").get_data(as_text=True)
    assert f'name="reservation_id" value="{first}"' in desk
    assert f'name="reservation_id" value="{second}"' in desk

    response = officer.post("/ledger/dla/bundle", data={
        "csrf_token": officer.csrf, "idempotency_key": key(), "buyer_account": funded.bank,
        "reservation_id": [str(first), str(second)], "price_baht": "300", "letter_reference": "ธนาคาร ที่ ESG 20/2568",
    })
    bundle = latest_request(session)
    assert response.status_code == 302
    assert bundle.kind == "bundle_sale"
    assert [part["quantity"] for part in bundle.payload["parts"]] == [40, 20]
    head_desk = client_for(app, funded.dla_head).get("/ledger/dla").get_data(as_text=True)
    assert "60 tCO2e จาก อปท. 2 แห่ง" in head_desk
    assert "รวม 18,000.00 บาท" in head_desk

    assert approve_latest(app, session, funded.dla_head, "dla").status == "posted"
    assert reports.money_balance(session, "DEPOSIT") == 60 * 30000
    assert units(session, funded.bank)["available"] == 60

    desk = officer.get("/ledger/dla").get_data(as_text=True)
    assert f'class="action split-form" data-bundle="{bundle.id}"' in desk
    response = post(officer, f"/ledger/dla/bundle/{bundle.id}/split", receipt_number_0="รบ 101/2568",
                    receipt_date_0="5 มิถุนายน 2568", receipt_number_1="รบ 55/2568", receipt_date_1="6/6/2568",
                    letter_reference="มท 0821.2/ว 2201")
    split = latest_request(session)
    assert response.status_code == 302
    assert split.kind == "split_deposit"
    assert split.payload["parts"][1]["receipt_date"] == "2025-06-06"

    assert approve_latest(app, session, funded.dla_head, "dla").status == "posted"
    assert reports.money_balance(session, "DEPOSIT") == 0
    assert reports.money_balance(session, f"LAO-{SELLER}") == 40 * 30000
    assert reports.money_balance(session, f"LAO-{OTHER}") == 20 * 30000
    assert f'data-bundle="{bundle.id}"' not in officer.get("/ledger/dla").get_data(as_text=True)
    assert verify(session)["ok"]


def test_bundle_of_one_lao_rejected(app, session, funded):
    first = reserve(session, funded, SELLER, 10)
    second = reserve(session, funded, SELLER, 5)
    before = event_count(session)
    officer = client_for(app, funded.dla_officer)
    response = officer.post("/ledger/dla/bundle", data={
        "csrf_token": officer.csrf, "idempotency_key": key(), "buyer_account": funded.bank,
        "reservation_id": [str(first), str(second)], "price_baht": "", "letter_reference": "ธนาคาร ที่ ESG 21/2568",
    })
    assert response.status_code == 400
    assert "การขายรวมต้องมีอย่างน้อยสอง อปท." in response.get_data(as_text=True)
    assert event_count(session) == before


def test_bundle_by_lao_officer_rejected(app, session, funded):
    first = reserve(session, funded, SELLER, 10)
    second = reserve(session, funded, OTHER, 5)
    before = event_count(session)
    client = client_for(app, funded.officers[SELLER])
    response = client.post("/ledger/dla/bundle", data={
        "csrf_token": client.csrf, "idempotency_key": key(), "buyer_account": funded.bank,
        "reservation_id": [str(first), str(second)], "letter_reference": "ธนาคาร ที่ ESG 22/2568",
    })
    assert response.status_code == 403
    assert event_count(session) == before


def test_split_without_receipt_rejected(app, session, funded):
    first = reserve(session, funded, SELLER, 10)
    second = reserve(session, funded, OTHER, 5)
    bundle = operations.prepare_bundle_sale(session, funded.dla_officer, idempotency_key=key(),
                                            buyer_account=funded.bank, reservation_ids=[first, second],
                                            letter_reference="ธนาคาร ที่ ESG 23/2568")
    operations.approve(session, funded.dla_head, bundle.id, idempotency_key=key())
    before = event_count(session)
    response = post(client_for(app, funded.dla_officer), f"/ledger/dla/bundle/{bundle.id}/split",
                    receipt_number_0="รบ 102/2568", receipt_date_0="5/6/2568", receipt_number_1=" ",
                    receipt_date_1="5/6/2568", letter_reference="มท 0821.2/ว 2202")
    assert response.status_code == 400
    assert "ต้องระบุเลขที่ใบเสร็จรับเงิน" in response.get_data(as_text=True)
    assert event_count(session) == before
    assert reports.money_balance(session, "DEPOSIT") == 15 * operations.reference_price_satang()


# --- cancellation and reversal -----------------------------------------------------------


def test_cancellation_prepared_and_approved(app, session, funded):
    response = post(client_for(app, funded.dla_officer), "/ledger/dla/cancel", account_code=f"lao-{OTHER}",
                    quantity="5", reason="ถังที่ตรวจนับซ้ำในรอบที่ 3",
                    order_reference="คำสั่งกรมส่งเสริมการปกครองท้องถิ่น ที่ 456/2568",
                    letter_reference="มท 0821.2/ว 2301")
    request = latest_request(session)
    assert response.status_code == 302
    assert request.kind == "cancel"
    assert request.payload["account"] == f"LAO-{OTHER}"
    desk = client_for(app, funded.dla_head).get("/ledger/dla").get_data(as_text=True)
    assert "ตามคำสั่ง คำสั่งกรมส่งเสริมการปกครองท้องถิ่น ที่ 456/2568" in desk

    assert approve_latest(app, session, funded.dla_head, "dla").status == "posted"
    assert units(session, f"LAO-{OTHER}")["available"] == 20
    assert reports.balances(session)["total_cancelled"] == 5
    transaction = session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == request.id))
    assert transaction.order_reference == "คำสั่งกรมส่งเสริมการปกครองท้องถิ่น ที่ 456/2568"
    assert transaction.purpose == "ถังที่ตรวจนับซ้ำในรอบที่ 3"


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"quantity": "500"}, 409, "ไม่พอสำหรับ 500 tCO2e"),
    ({"order_reference": ""}, 400, "ต้องระบุคำสั่งที่ให้ยกเลิก"),
    ({"reason": ""}, 400, "ต้องระบุเหตุผลของการยกเลิก"),
    ({"account_code": "RETIREMENT"}, 400, "บัญชี RETIREMENT ยกเลิกหน่วยไม่ได้"),
    ({"account_code": "LAO-9999999"}, 404, "ไม่พบบัญชีคาร์บอนเครดิต LAO-9999999"),
])
def test_cancellation_bad_form_rejected(app, session, funded, fields, status, message):
    form = {"account_code": f"LAO-{OTHER}", "quantity": "5", "reason": "ถังที่ตรวจนับซ้ำ",
            "order_reference": "คำสั่งกรม ที่ 457/2568", "letter_reference": "มท 0821.2/ว 2302", **fields}
    before = event_count(session)
    response = post(client_for(app, funded.dla_officer), "/ledger/dla/cancel", **form)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert event_count(session) == before


def test_reversal_of_sale_restores_units(app, session, funded):
    sale = operations.prepare_transfer(
        session, funded.officers[SELLER], idempotency_key=key(), buyer_account=funded.bank, quantity=12,
        receipt_number="รบ 90/2568", receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 30/2568")
    operations.approve(session, funded.executives[SELLER], sale.id, idempotency_key=key())
    operations.confirm(session, funded.dla_head, sale.id, idempotency_key=key())
    transaction = session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == sale.id))
    officer = client_for(app, funded.dla_officer)
    assert f'<option value="{transaction.id}"' in officer.get("/ledger/dla").get_data(as_text=True)

    response = post(officer, "/ledger/dla/reverse", transaction_id=str(transaction.id),
                    reason="ผู้ซื้อโอนเงินไม่ครบ", letter_reference="มท 0821.2/ว 2401")
    assert response.status_code == 302
    assert latest_request(session).kind == "reverse"
    assert approve_latest(app, session, funded.dla_head, "dla").status == "posted"
    assert units(session, f"LAO-{SELLER}")["available"] == 75
    assert units(session, funded.bank)["available"] == 0
    assert reports.money_balance(session, f"LAO-{SELLER}") == 0
    assert f'<option value="{transaction.id}"' not in officer.get("/ledger/dla").get_data(as_text=True)
    assert verify(session)["ok"]


def test_reversal_of_retirement_rejected(app, session, funded):
    retirement = operations.prepare_retirement(
        session, funded.officers[SELLER], idempotency_key=key(), account_code=f"LAO-{SELLER}", quantity=3,
        beneficiary="เทศบาลตำบลแม่สาย", purpose="ชดเชยไฟฟ้าสำนักงาน ปี 2567", letter_reference="ทต. ที่ ชร 77901/150")
    operations.approve(session, funded.executives[SELLER], retirement.id, idempotency_key=key())
    operations.confirm(session, funded.dla_head, retirement.id, idempotency_key=key())
    transaction = session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == retirement.id))
    before = event_count(session)
    response = post(client_for(app, funded.dla_officer), "/ledger/dla/reverse", transaction_id=str(transaction.id),
                    reason="บันทึกผิด", letter_reference="มท 0821.2/ว 2402")
    assert response.status_code == 400
    assert "การชดเชยและการยกเลิกเป็นที่สุด" in response.get_data(as_text=True)
    assert event_count(session) == before


# --- buyer registration with identity documents --------------------------------------------


def buyer_form(**overrides):
    fields = {"kind": "company", "name_th": "บริษัท เชียงรายกรีนเอนเนอร์ยี จำกัด", "tax_id": COMPANY_ID,
              "address_th": "99 หมู่ 3 ตำบลเวียงพางคำ อำเภอแม่สาย จังหวัดเชียงราย 57130",
              "contact_name": "นายสมชาย ใจดี", "contact_email": "esg@chiangraigreen.example",
              "letter_reference": "บริษัท ที่ CRG 7/2568"}
    fields.update(overrides)
    return fields


def register(app, user, files: dict[str, tuple[bytes, str]] | None = None, **overrides):
    client = client_for(app, user)
    data = {"csrf_token": client.csrf, "idempotency_key": key(), **buyer_form(**overrides)}
    for name, (content, filename) in (files or {}).items():
        data[name] = (io.BytesIO(content), filename)
    return client.post("/ledger/dla/buyers", data=data, content_type="multipart/form-data")


def stored_files(app) -> list[str]:
    root = app.config["SARABAN_STORAGE"]
    return sorted(name for _folder, _dirs, names in os.walk(root) for name in names)


def test_buyer_registered_with_documents(app, session, funded):
    response = register(app, funded.dla_officer, {"identity_document": (PDF_BYTES, "หนังสือรับรองบริษัท.pdf"),
                                                  "power_of_attorney": (JPEG_BYTES, "มอบอำนาจ.jpg")})
    request = latest_request(session)
    assert response.status_code == 302
    assert request.kind == "register_buyer"
    assert [document["document_kind"] for document in request.payload["documents"]] == [
        "company_certificate", "power_of_attorney"]
    assert request.payload["documents"][0]["sha256"] == sha256_hex(PDF_BYTES)
    assert stored_files(app) == sorted([sha256_hex(PDF_BYTES), sha256_hex(JPEG_BYTES)])
    assert session.scalar(select(Buyer).where(Buyer.tax_id == COMPANY_ID)) is None

    head = client_for(app, funded.dla_head)
    page = head.get("/ledger/dla/buyers").get_data(as_text=True)
    assert f'class="pending-row" data-request="{request.id}"' in page
    download = head.get(f"/ledger/requests/{request.id}/documents/0")
    assert download.status_code == 200
    assert download.data == PDF_BYTES
    assert download.mimetype == "application/pdf"

    response = post(head, f"/ledger/requests/{request.id}/approve", page="buyers")
    assert response.status_code == 302
    assert latest_request(session).status == "posted"
    buyer = session.scalar(select(Buyer).where(Buyer.tax_id == COMPANY_ID))
    account = session.scalar(select(Account).where(Account.buyer_id == buyer.id))
    assert account.opening_request_id == request.id
    assert buyer.contact_email == "esg@chiangraigreen.example"
    documents = session.scalars(select(BuyerDocument).where(BuyerDocument.buyer_id == buyer.id)
                                .order_by(BuyerDocument.id)).all()
    assert [document.filename for document in documents] == ["หนังสือรับรองบริษัท.pdf", "มอบอำนาจ.jpg"]
    assert documents[1].content_type == "image/jpeg"
    page = head.get("/ledger/dla/buyers").get_data(as_text=True)
    assert f'data-account="{account.code}"' in page
    assert sha256_hex(PDF_BYTES) in page
    assert verify(session)["ok"]
    assert check_buyer_documents(session, OriginalStore(app.config["SARABAN_STORAGE"])) == []


def test_person_registration_needs_id_card(app, session, funded):
    response = register(app, funded.dla_officer, {"identity_document": (JPEG_BYTES, "บัตรประชาชน.jpg")},
                        kind="person", name_th="นางสาวมาลี ศรีสุข", tax_id=PERSON_ID)
    assert response.status_code == 302
    assert latest_request(session).payload["documents"][0]["document_kind"] == "id_card"


@pytest.mark.parametrize(("files", "fields", "status", "message"), [
    ({}, {}, 400, "ต้องแนบหนังสือรับรองการจดทะเบียนนิติบุคคลของผู้ซื้อ"),
    ({"identity_document": (b"just text, not a scan", "รับรอง.txt")}, {}, 400, "ต้องเป็น PDF, JPEG หรือ PNG"),
    ({"identity_document": (b"", "ว่าง.pdf")}, {}, 400, "ว่างเปล่า"),
    ({"identity_document": (PDF_BYTES, "รับรอง.pdf")}, {"tax_id": "0105556176238"}, 400, "ไม่ถูกต้อง"),
    ({"identity_document": (PDF_BYTES, "รับรอง.pdf")}, {"kind": "club"}, 400, "ประเภทผู้ซื้อต้องเป็น"),
    ({"identity_document": (PDF_BYTES, "รับรอง.pdf")}, {"contact_email": "esg-at-example"}, 400, "อีเมล"),
    ({"identity_document": (PDF_BYTES, "รับรอง.pdf")}, {"address_th": " "}, 400, "ต้องระบุที่อยู่ผู้ซื้อ"),
])
def test_bad_registration_rejected(app, session, funded, files, fields, status, message):
    before = event_count(session)
    response = register(app, funded.dla_officer, files, **fields)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert event_count(session) == before
    assert stored_files(app) == []


def test_registered_buyer_cannot_register_twice(app, session, funded):
    from workflow.ledger.testing import BANK_TAX_ID

    before = event_count(session)
    response = register(app, funded.dla_officer, {"identity_document": (PDF_BYTES, "รับรอง.pdf")}, tax_id=BANK_TAX_ID)
    assert response.status_code == 409
    assert f"ผู้ซื้อเลขประจำตัว {BANK_TAX_ID} ลงทะเบียนไว้แล้ว" in response.get_data(as_text=True)
    assert event_count(session) == before


def test_second_open_registration_rejected(app, session, funded):
    register(app, funded.dla_officer, {"identity_document": (PDF_BYTES, "รับรอง.pdf")})
    first = latest_request(session)
    response = register(app, funded.dla_officer, {"identity_document": (JPEG_BYTES, "รับรอง.jpg")})
    assert response.status_code == 409
    assert f"มีคำขอลงทะเบียนเลขที่ {first.id} รออนุมัติอยู่แล้ว" in response.get_data(as_text=True)
    assert latest_request(session).id == first.id


def test_lao_staff_cannot_see_buyer_documents(app, session, funded):
    register(app, funded.dla_officer, {"identity_document": (PDF_BYTES, "รับรอง.pdf")})
    request = latest_request(session)
    client = client_for(app, funded.officers[SELLER])
    assert client.get("/ledger/dla/buyers").status_code == 403
    assert client.get(f"/ledger/requests/{request.id}/documents/0").status_code == 403
    assert client_for(app, funded.dla_head).get(f"/ledger/requests/{request.id}/documents/5").status_code == 404


def test_lao_officer_cannot_register_buyer(app, session, funded):
    before = event_count(session)
    response = register(app, funded.officers[SELLER], {"identity_document": (PDF_BYTES, "รับรอง.pdf")})
    assert response.status_code == 403
    assert event_count(session) == before
    assert stored_files(app) == []


def test_changed_document_file_detected(app, session, funded):
    register(app, funded.dla_officer, {"identity_document": (PDF_BYTES, "รับรอง.pdf")})
    approve_latest(app, session, funded.dla_head, "buyers")
    store = OriginalStore(app.config["SARABAN_STORAGE"])
    path = store.path_for(sha256_hex(PDF_BYTES))
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    path.write_bytes(PDF_BYTES.replace(b"/Count 0", b"/Count 1"))
    problems = check_buyer_documents(session, store)
    assert len(problems) == 1
    assert "no longer has that SHA-256" in problems[0]["reason"]


def test_registration_double_submit_prepares_once(app, session, funded):
    client = client_for(app, funded.dla_officer)
    for _ in range(2):
        data = {"csrf_token": client.csrf, "idempotency_key": "web-buyer-once", **buyer_form(),
                "identity_document": (io.BytesIO(PDF_BYTES), "รับรอง.pdf")}
        response = client.post("/ledger/dla/buyers", data=data, content_type="multipart/form-data")
        assert response.status_code == 302
    count = session.scalar(select(func.count()).select_from(LedgerRequest)
                           .where(LedgerRequest.kind == "register_buyer"))
    assert count == 1
    assert re.search(r"ลงทะเบียนผู้ซื้อ", client.get("/ledger/dla").get_data(as_text=True))
