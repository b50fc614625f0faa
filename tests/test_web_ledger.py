"""The ledger screens through Flask's test client: each role's action, double submits, and refusals that change nothing."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from workflow.app import create_app
from workflow.ledger import operations, reports
from workflow.ledger.models import LedgerEvent, LedgerRequest, LedgerTransaction
from workflow.ledger.testing import issue_and_allocate, key, make_ledger_staff, open_lao_accounts, register_bank
from workflow.routing.testing import make_user, prepare_database, reset

SELLER = "5570901"
OTHER = "5570902"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('web_ledger') / 'ledger.db'}")
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
        "SECRET_KEY": "web-ledger-test",
    })
    yield application
    application.extensions["saraban.db"].dispose()


def client_for(app, user):
    """Return a test client signed in as `user`, with its CSRF token at `client.csrf`."""
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


def sale_fields(**overrides):
    fields = {"buyer_account": "BUYER-1", "quantity": "30", "price_baht": "260.00", "receipt_number": "รบ 15/2568",
              "receipt_date": "2 มิถุนายน 2568", "letter_reference": "ธนาคารกรุงไทย ที่ ESG 12/2568"}
    fields.update(overrides)
    return fields


def latest_request(session) -> LedgerRequest:
    session.expire_all()
    return session.scalar(select(LedgerRequest).order_by(LedgerRequest.id.desc()))


def test_lao_page_shows_balance_and_blocks(app, session, funded):
    page = client_for(app, funded.officers[SELLER]).get("/ledger/lao")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'id="available">75<', html)
    assert re.search(r'id="reserved">0<', html)
    assert "จัดสรรตามจำนวนถังขยะเปียก" in html
    assert "ตันละ 260.00 บาท" in html


def test_lao_page_form_keys_differ_per_render(app, session, funded):
    client = client_for(app, funded.officers[SELLER])
    first = re.findall(r'name="idempotency_key" value="([^"]+)"', client.get("/ledger/lao").get_data(as_text=True))
    second = re.findall(r'name="idempotency_key" value="([^"]+)"', client.get("/ledger/lao").get_data(as_text=True))
    assert len(first) == 4
    assert not set(first) & set(second)


def test_officer_prepares_sale(app, session, funded):
    response = post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request = latest_request(session)
    assert response.status_code == 302
    assert request.kind == "transfer"
    assert request.status == "pending"
    assert request.payload["price_satang"] == 26000
    assert request.payload["receipt_date"] == "2025-06-02"


def test_sale_price_defaults_to_reference(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields(price_baht=""))
    assert latest_request(session).payload["price_satang"] == operations.reference_price_satang()


def test_double_submit_prepares_once(app, session, funded):
    client = client_for(app, funded.officers[SELLER])
    post(client, "/ledger/lao/sale", idempotency_key="web-double", **sale_fields())
    before = event_count(session)
    again = post(client, "/ledger/lao/sale", idempotency_key="web-double", **sale_fields())
    assert again.status_code == 302
    assert event_count(session) == before
    assert session.scalar(select(func.count()).select_from(LedgerRequest).where(LedgerRequest.kind == "transfer")) == 1


def test_sale_over_balance_refused_in_thai(app, session, funded):
    before = event_count(session)
    response = post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields(quantity="500"))
    assert response.status_code == 409
    assert "ไม่พอสำหรับ 500 tCO2e" in response.get_data(as_text=True)
    assert event_count(session) == before


def test_unreadable_receipt_date_refused(app, session, funded):
    before = event_count(session)
    response = post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale",
                    **sale_fields(receipt_date="วันจันทร์"))
    assert response.status_code == 400
    assert "อ่านวันที่ใบเสร็จรับเงิน" in response.get_data(as_text=True)
    assert event_count(session) == before


def test_executive_cannot_prepare_sale(app, session, funded):
    before = event_count(session)
    response = post(client_for(app, funded.executives[SELLER]), "/ledger/lao/sale", **sale_fields())
    assert response.status_code == 403
    assert "ท่านไม่มีสิทธิ์จัดทำรายการ" in response.get_data(as_text=True)
    assert event_count(session) == before


def test_officer_prepares_reservation_and_retirement(app, session, funded):
    client = client_for(app, funded.officers[SELLER])
    post(client, "/ledger/lao/reserve", quantity="10", buyer_account="", letter_reference="อบต. ที่ ชร 77901/123")
    assert latest_request(session).kind == "reserve"
    post(client, "/ledger/lao/retire", quantity="5", beneficiary="เทศบาลตำบลแม่สาย",
         purpose="ชดเชยการใช้ไฟฟ้าของสำนักงาน ปี 2567", letter_reference="ทต. ที่ ชร 77901/124")
    request = latest_request(session)
    assert request.kind == "retire"
    assert request.payload["account"] == f"LAO-{SELLER}"
    assert request.needs_dla_confirmation is True


def test_executive_approves_then_dla_confirms(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    pending = client_for(app, funded.executives[SELLER]).get("/ledger/lao").get_data(as_text=True)
    assert f'data-request="{request_id}"' in pending
    post(client_for(app, funded.executives[SELLER]), f"/ledger/requests/{request_id}/approve", page="lao")
    assert latest_request(session).status == "approved"
    desk = client_for(app, funded.dla_head).get("/ledger/dla").get_data(as_text=True)
    assert f'class="confirm-row" data-request="{request_id}"' in desk
    response = post(client_for(app, funded.dla_head), f"/ledger/requests/{request_id}/confirm")
    assert response.status_code == 302
    assert latest_request(session).status == "posted"
    assert reports.money_balance(session, f"LAO-{SELLER}") == 30 * 26000


def test_preparer_cannot_approve_own_request(app, session, funded):
    officer = funded.officers[SELLER]
    post(client_for(app, officer), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    # The officer who prepared the sale is then made the LAO's acting executive.
    officer.role = "supervisor"
    session.commit()
    before = event_count(session)
    response = post(client_for(app, officer), f"/ledger/requests/{request_id}/approve", page="lao")
    assert response.status_code == 403
    assert "ผู้จัดทำรายการอนุมัติรายการของตนเองไม่ได้" in response.get_data(as_text=True)
    assert event_count(session) == before
    assert latest_request(session).status == "pending"


def test_other_lao_executive_cannot_approve(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    before = event_count(session)
    response = post(client_for(app, funded.executives[OTHER]), f"/ledger/requests/{request_id}/approve", page="lao")
    assert response.status_code == 403
    assert "ท่านไม่มีสิทธิ์อนุมัติรายการ" in response.get_data(as_text=True)
    assert event_count(session) == before
    assert latest_request(session).status == "pending"


def test_executive_rejects_with_reason(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    post(client_for(app, funded.executives[SELLER]), f"/ledger/requests/{request_id}/reject", page="lao",
         reason="ราคาต่ำกว่าที่สภาเห็นชอบ")
    request = latest_request(session)
    assert request.status == "rejected"
    assert request.void_reason == "ราคาต่ำกว่าที่สภาเห็นชอบ"


def test_reject_without_reason_refused(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    response = post(client_for(app, funded.executives[SELLER]), f"/ledger/requests/{request_id}/reject", page="lao",
                    reason=" ")
    assert response.status_code == 400
    assert "ต้องระบุเหตุผลที่ไม่อนุมัติ" in response.get_data(as_text=True)
    assert latest_request(session).status == "pending"


def test_lao_executive_cannot_confirm_for_dla(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    post(client_for(app, funded.executives[SELLER]), f"/ledger/requests/{request_id}/approve", page="lao")
    before = event_count(session)
    response = post(client_for(app, funded.executives[SELLER]), f"/ledger/requests/{request_id}/confirm")
    assert response.status_code == 403
    assert event_count(session) == before
    assert latest_request(session).status == "approved"


def test_lao_staff_cannot_open_dla_desk(app, session, funded):
    response = client_for(app, funded.officers[SELLER]).get("/ledger/dla")
    assert response.status_code == 403
    assert "สำหรับเจ้าหน้าที่กรมส่งเสริมการปกครองท้องถิ่นเท่านั้น" in response.get_data(as_text=True)


def test_user_without_account_sees_thai_message(app, session, funded):
    clerk = make_user(session, "l.5570903.officer", "5570903", "officer")
    response = client_for(app, clerk).get("/ledger/lao")
    assert response.status_code == 404
    assert "ยังไม่ได้เปิดบัญชีคาร์บอนเครดิต" in response.get_data(as_text=True)


def test_dla_records_round_and_head_approves(app, session, funded):
    post(client_for(app, funded.dla_officer), "/ledger/dla/rounds", round_number="4", quantity="40",
         serial_start="101", monitoring_start="1 ตุลาคม 2566", monitoring_end="31 มีนาคม 2567",
         certified_on="15 สิงหาคม 2567", registry_reference="T-VER-P-0001-R4", letter_reference="อบก. ที่ 0002/2567")
    request = latest_request(session)
    assert request.kind == "issue"
    assert request.payload["serial_end"] == 140
    post(client_for(app, funded.dla_head), f"/ledger/requests/{request.id}/approve", page="dla")
    assert latest_request(session).status == "posted"
    assert "T-VER-P-0001-R4" in client_for(app, funded.dla_officer).get("/ledger/dla").get_data(as_text=True)


def test_allocation_preview_then_confirm(app, session, funded):
    post(client_for(app, funded.dla_officer), "/ledger/dla/rounds", round_number="4", quantity="10",
         serial_start="101", monitoring_start="1/10/2566", monitoring_end="31/3/2567", certified_on="15/8/2567",
         registry_reference="T-VER-P-0001-R4", letter_reference="อบก. ที่ 0002/2567")
    post(client_for(app, funded.dla_head), f"/ledger/requests/{latest_request(session).id}/approve", page="dla")
    client = client_for(app, funded.dla_officer)
    csv_bytes = "\ufefflao_code,verified_bins\n5570901,2\n5570902,1\n".encode("utf-8")
    preview = client.post("/ledger/dla/allocation/preview", data={
        "csrf_token": client.csrf, "round_number": "4", "quantity": "", "letter_reference": "มท 0821.2/ว 2002",
        "bins_csv": (io.BytesIO(csv_bytes), "bins.csv"),
    }, content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert re.search(r'data-lao="5570901">.*?<td class="num">7</td>', html, re.S)
    assert re.search(r'data-lao="5570902">.*?<td class="num">3</td>', html, re.S)
    assert session.scalar(select(func.count()).select_from(LedgerRequest).where(LedgerRequest.kind == "allocate")) == 1
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    fields["bins_json"] = fields["bins_json"].replace("&#34;", '"')
    client.post("/ledger/dla/allocation", data=fields)
    request = latest_request(session)
    assert request.kind == "allocate"
    assert [share["quantity"] for share in request.payload["shares"]] == [7, 3]


def test_allocation_preview_rejects_bad_csv(app, session, funded):
    client = client_for(app, funded.dla_officer)
    response = client.post("/ledger/dla/allocation/preview", data={
        "csrf_token": client.csrf, "round_number": "3", "letter_reference": "มท 0821.2/ว 2002",
        "bins_csv": (io.BytesIO("lao_code,bins\n5570901,2\n".encode()), "bins.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "ไม่มีคอลัมน์ verified_bins" in response.get_data(as_text=True)


def test_dla_desk_lists_balances_by_district(app, session, funded):
    html = client_for(app, funded.dla_officer).get("/ledger/dla?level=district").get_data(as_text=True)
    assert 'data-area="5709"' in html
    assert "แม่สาย" in html


def test_public_totals_need_no_sign_in(app, session, funded):
    response = app.test_client().get("/ledger/public")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-province="57"' in html
    assert re.search(r'id="total-issued">100<', html)


def test_public_serial_lookup_finds_holder(app, session, funded):
    html = app.test_client().get("/ledger/public?serial=80").get_data(as_text=True)
    assert "LAO-5570902" in html


def test_public_serial_lookup_unknown_serial(app, session, funded):
    html = app.test_client().get("/ledger/public?serial=999999").get_data(as_text=True)
    assert "ไม่พบหมายเลข 999999" in html


def test_public_serial_lookup_shows_beneficiary(app, session, funded):
    request = operations.prepare_retirement(
        session, funded.officers[SELLER], idempotency_key=key(), account_code=f"LAO-{SELLER}", quantity=5,
        beneficiary="บริษัท ลดโลกร้อน จำกัด", purpose="ชดเชยการเดินทางของพนักงาน ปี 2567",
        letter_reference="ทต. ที่ ชร 77901/130")
    operations.approve(session, funded.executives[SELLER], request.id, idempotency_key=key())
    operations.confirm(session, funded.dla_head, request.id, idempotency_key=key())
    html = app.test_client().get("/ledger/public?serial=1").get_data(as_text=True)
    assert "ชดเชยแล้ว" in html
    assert "บริษัท ลดโลกร้อน จำกัด" in html


def test_verify_page_shows_certificate(app, session, funded):
    request = operations.prepare_transfer(
        session, funded.officers[SELLER], idempotency_key=key(), buyer_account=funded.bank, quantity=12,
        receipt_number="รบ 77/2568", receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 12/2568")
    operations.approve(session, funded.executives[SELLER], request.id, idempotency_key=key())
    operations.confirm(session, funded.dla_head, request.id, idempotency_key=key())
    transaction = session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == request.id))
    event = session.scalar(select(LedgerEvent).where(LedgerEvent.transaction_id == transaction.id,
                                                     LedgerEvent.kind == "posted"))
    response = app.test_client().get(f"/ledger/verify/{transaction.id}/{event.hash[:16]}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ใบรับรองนี้ถูกต้อง" in html
    assert "ใบเสร็จรับเงินเลขที่ รบ 77/2568" in html


def test_verify_page_wrong_hash_not_found(app, session, funded):
    response = app.test_client().get("/ledger/verify/3/0000000000000000")
    assert response.status_code == 404
    assert "ไม่พบใบรับรองนี้" in response.get_data(as_text=True)


def test_reconcile_page_lists_differences(app, session, funded):
    client = client_for(app, funded.dla_officer)
    registry = "account_code,serial_start,serial_end,status\nLAO-5570901,1,75,active\nLAO-5570901,76,100,active\n"
    response = client.post("/ledger/dla/reconcile", data={
        "csrf_token": client.csrf, "registry_csv": (io.BytesIO(registry.encode()), "registry.csv"),
    }, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-kind="holder"' in html
    assert "บัญชีผู้ถือไม่ตรงกัน" in html


def test_reconcile_page_for_dla_only(app, session, funded):
    response = client_for(app, funded.officers[SELLER]).get("/ledger/dla/reconcile")
    assert response.status_code == 403


def test_public_totals_follow_sold_and_retired_serials(app, session, funded):
    sale = operations.prepare_transfer(
        session, funded.officers[SELLER], idempotency_key=key(), buyer_account=funded.bank, quantity=20,
        receipt_number="รบ 78/2568", receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 14/2568")
    operations.approve(session, funded.executives[SELLER], sale.id, idempotency_key=key())
    operations.confirm(session, funded.dla_head, sale.id, idempotency_key=key())
    retirement = operations.prepare_retirement(
        session, funded.dla_officer, idempotency_key=key(), account_code=funded.bank, quantity=5,
        beneficiary="ธนาคารกรุงไทย จำกัด (มหาชน)", purpose="ชดเชยการใช้ไฟฟ้า ปี 2567",
        letter_reference="ธนาคาร ที่ ESG 15/2568")
    operations.approve(session, funded.dla_head, retirement.id, idempotency_key=key())
    html = app.test_client().get("/ledger/public").get_data(as_text=True)
    row = re.search(r'<tr data-province="57">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'class="num issued">100<', row)
    assert re.search(r'class="num held-lao">80<', row)
    assert re.search(r'class="num held-buyer">15<', row)
    assert re.search(r'class="num retired">5<', row)


def test_dla_officer_sees_no_confirm_button(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    post(client_for(app, funded.executives[SELLER]), f"/ledger/requests/{request_id}/approve", page="lao")
    html = client_for(app, funded.dla_officer).get("/ledger/dla").get_data(as_text=True)
    assert f'data-request="{request_id}"' in html
    assert f"/ledger/requests/{request_id}/confirm" not in html


def test_posted_sale_links_certificate_pdf(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    post(client_for(app, funded.executives[SELLER]), f"/ledger/requests/{request_id}/approve", page="lao")
    post(client_for(app, funded.dla_head), f"/ledger/requests/{request_id}/confirm")
    client = client_for(app, funded.officers[SELLER])
    link = re.search(r'class="certificate-link" href="([^"]+)"', client.get("/ledger/lao").get_data(as_text=True))
    assert link is not None
    pdf = client.get(link.group(1))
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")


def test_approve_twice_same_key_posts_once(app, session, funded):
    post(client_for(app, funded.officers[SELLER]), "/ledger/lao/sale", **sale_fields())
    request_id = latest_request(session).id
    client = client_for(app, funded.executives[SELLER])
    first = post(client, f"/ledger/requests/{request_id}/approve", page="lao", idempotency_key="web-approve-once")
    before = event_count(session)
    second = post(client, f"/ledger/requests/{request_id}/approve", page="lao", idempotency_key="web-approve-once")
    assert first.status_code == 302
    assert second.status_code == 302
    assert event_count(session) == before
    assert latest_request(session).status == "approved"


@pytest.mark.parametrize(("org_code", "expected"), [
    ("DIST-5709", "/ledger/public"),
    ("PROV-57", "/ledger/public"),
    (SELLER, "/ledger/lao"),
    ("DLA", "/ledger/dla"),
])
def test_ledger_menu_leads_by_office_kind(app, session, funded, org_code, expected):
    user = make_user(session, f"menu.{org_code.lower()}", org_code, "supervisor")
    response = client_for(app, user).get("/ledger/")
    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0].endswith(expected)

