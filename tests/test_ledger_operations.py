"""Ledger operations: accounts, issuance, allocation, sale, retirement, cancellation, reversal and approvals."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from workflow.ledger import operations, reports
from workflow.ledger.errors import (
    IdempotencyConflict,
    InsufficientCredits,
    InvalidValue,
    PermissionDenied,
    RequestStateError,
)
from workflow.ledger.models import LedgerEntry, LedgerEvent, LedgerRequest, SerialBlock
from workflow.ledger.testing import (
    issue_and_allocate,
    key,
    make_ledger_staff,
    open_lao_accounts,
    register_bank,
)
from workflow.ledger.verify import verify
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}")
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
def staff(session):
    return make_ledger_staff(session)


@pytest.fixture
def funded(session, staff):
    """Two open LAO accounts holding 75 and 25 tCO2e of round 3, and a registered bank."""
    open_lao_accounts(session, staff)
    issue_and_allocate(session, staff)
    staff.bank = register_bank(session, staff)
    return staff


def balance_of(session, code):
    return next(row["balance"] for row in reports.balances(session)["accounts"] if row["account"] == code)


def counts(session):
    return (session.scalar(select(func.count()).select_from(LedgerEvent)),
            session.scalar(select(func.count()).select_from(LedgerEntry)),
            session.scalar(select(func.count()).select_from(SerialBlock)))


def sell(session, staff, lao, quantity, receipt="รบ 001/2568"):
    request = operations.prepare_transfer(
        session, staff.officers[lao], idempotency_key=key("sale"), buyer_account=staff.bank, quantity=quantity,
        receipt_number=receipt, receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 12/2568",
    )
    operations.approve(session, staff.executives[lao], request.id, idempotency_key=key("approve"))
    return operations.confirm(session, staff.dla_head, request.id, idempotency_key=key("confirm"))


def test_allocation_follows_bins(session, funded):
    assert balance_of(session, "LAO-5570901") == 75
    assert balance_of(session, "LAO-5570902") == 25
    assert balance_of(session, "DLA") == 0


def test_account_opening_needs_executive(session, staff):
    request = operations.prepare_account_opening(session, staff.officers["5570901"], idempotency_key=key(),
                                                 letter_reference="มท 0821.2/ว 1446")
    assert request.status == "pending"
    before = counts(session)
    with pytest.raises(PermissionDenied):
        operations.approve(session, staff.officers["5570901"], request.id, idempotency_key=key())
    with pytest.raises(PermissionDenied):
        operations.approve(session, staff.executives["5570902"], request.id, idempotency_key=key())
    assert counts(session) == before
    assert session.get(LedgerRequest, request.id).status == "pending"
    posted = operations.approve(session, staff.executives["5570901"], request.id, idempotency_key=key())
    assert posted.status == "posted"


def test_sale_waits_for_dla_confirmation(session, funded):
    request = operations.prepare_transfer(
        session, funded.officers["5570901"], idempotency_key=key(), buyer_account=funded.bank, quantity=30,
        receipt_number="รบ 15/2568", receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 12/2568",
    )
    approved = operations.approve(session, funded.executives["5570901"], request.id, idempotency_key=key())
    assert approved.status == "approved"
    assert balance_of(session, "LAO-5570901") == 75
    posted = operations.confirm(session, funded.dla_head, request.id, idempotency_key=key())
    assert posted.status == "posted"
    assert balance_of(session, "LAO-5570901") == 45
    assert balance_of(session, funded.bank) == 30
    income = reports.money_balance(session, "LAO-5570901")
    assert income == 30 * 260 * 100


def test_partial_sale_splits_block(session, funded):
    sell(session, funded, "5570901", 30)
    lao_blocks = reports.open_blocks(session, "LAO-5570901")
    bank_blocks = reports.open_blocks(session, funded.bank)
    assert [(b.serial_start, b.serial_end) for b in bank_blocks] == [(1, 30)]
    assert [(b.serial_start, b.serial_end) for b in lao_blocks] == [(31, 75)]


def test_overdraw_is_rejected_and_changes_nothing(session, funded):
    before = counts(session)
    with pytest.raises(InsufficientCredits):
        operations.prepare_transfer(
            session, funded.officers["5570902"], idempotency_key=key(), buyer_account=funded.bank, quantity=26,
            receipt_number="รบ 2/2568", receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 13/2568",
        )
    assert counts(session) == before


def test_overdraw_at_posting_changes_nothing(session, funded):
    first = operations.prepare_reservation(session, funded.officers["5570902"], idempotency_key=key(), quantity=20,
                                           letter_reference="บันทึกข้อความ ที่ 1/2568")
    second = operations.prepare_reservation(session, funded.officers["5570902"], idempotency_key=key(), quantity=20,
                                            letter_reference="บันทึกข้อความ ที่ 2/2568")
    operations.approve(session, funded.executives["5570902"], first.id, idempotency_key=key())
    before = counts(session)
    with pytest.raises(InsufficientCredits):
        operations.approve(session, funded.executives["5570902"], second.id, idempotency_key=key())
    assert counts(session) == before
    assert session.get(LedgerRequest, second.id).status == "pending"


def test_retirement_is_final(session, funded):
    sell(session, funded, "5570901", 30)
    request = operations.prepare_retirement(
        session, funded.dla_officer, idempotency_key=key(), account_code=funded.bank, quantity=10,
        beneficiary="ธนาคารกรุงไทย จำกัด (มหาชน)", purpose="ชดเชยการปล่อยก๊าซเรือนกระจกของสำนักงานใหญ่ ปี 2567",
        letter_reference="ธนาคาร ที่ ESG 20/2568",
    )
    operations.approve(session, funded.dla_head, request.id, idempotency_key=key())
    assert reports.balances(session)["total_retired"] == 10
    assert balance_of(session, funded.bank) == 20
    sale = session.scalar(select(LedgerRequest).where(LedgerRequest.kind == "transfer"))
    transaction_id = session.scalar(select(LedgerEntry.transaction_id).join(LedgerEntry.account)
                                    .where(LedgerEntry.unit == "tco2e").order_by(LedgerEntry.id.desc()))
    del sale
    with pytest.raises(InvalidValue):
        operations.prepare_reversal(session, funded.dla_officer, idempotency_key=key(), transaction_id=transaction_id,
                                    reason="บันทึกผิด", letter_reference="คำสั่ง ที่ 9/2568")


def test_sale_cannot_be_reversed_after_retirement(session, funded):
    posted = sell(session, funded, "5570901", 30)
    sale_tx = reports.transaction_of(session, posted.id)
    request = operations.prepare_retirement(
        session, funded.dla_officer, idempotency_key=key(), account_code=funded.bank, quantity=30,
        beneficiary="ธนาคารกรุงไทย จำกัด (มหาชน)", purpose="ชดเชยการเดินทางของพนักงาน", letter_reference="ESG 21/2568",
    )
    operations.approve(session, funded.dla_head, request.id, idempotency_key=key())
    with pytest.raises(RequestStateError):
        operations.prepare_reversal(session, funded.dla_officer, idempotency_key=key(), transaction_id=sale_tx.id,
                                    reason="ขายผิดบัญชี", letter_reference="คำสั่ง ที่ 10/2568")


def test_reversal_returns_serials_and_money(session, funded):
    posted = sell(session, funded, "5570901", 30)
    sale_tx = reports.transaction_of(session, posted.id)
    request = operations.prepare_reversal(session, funded.dla_officer, idempotency_key=key(),
                                          transaction_id=sale_tx.id, reason="ผู้ซื้อยกเลิกสัญญา",
                                          letter_reference="คำสั่งกรมส่งเสริมการปกครองท้องถิ่น ที่ 11/2568")
    operations.approve(session, funded.dla_head, request.id, idempotency_key=key())
    assert balance_of(session, "LAO-5570901") == 75
    assert balance_of(session, funded.bank) == 0
    assert reports.money_balance(session, "LAO-5570901") == 0
    assert verify(session)["ok"] is True


def test_cancellation_records_reason_and_order(session, funded):
    request = operations.prepare_cancellation(
        session, funded.dla_officer, idempotency_key=key(), account_code="LAO-5570902", quantity=5,
        reason="ถังขยะเปียกที่ตรวจนับซ้ำซ้อน", order_reference="คำสั่งกรมส่งเสริมการปกครองท้องถิ่น ที่ 120/2568",
        letter_reference="มท 0821.2/3001",
    )
    operations.approve(session, funded.dla_head, request.id, idempotency_key=key())
    totals = reports.balances(session)
    assert totals["total_cancelled"] == 5
    assert totals["total_issued"] == totals["total_held"] + totals["total_retired"] + totals["total_cancelled"]


def test_rejected_request_is_void(session, funded):
    request = operations.prepare_reservation(session, funded.officers["5570901"], idempotency_key=key(), quantity=10,
                                             letter_reference="บันทึกข้อความ ที่ 3/2568")
    rejected = operations.reject(session, funded.executives["5570901"], request.id, "ยังไม่มีผู้ซื้อ",
                                 idempotency_key=key())
    assert rejected.status == "rejected"
    with pytest.raises(RequestStateError):
        operations.approve(session, funded.executives["5570901"], request.id, idempotency_key=key())


def test_expired_request_cannot_be_approved(session, funded):
    prepared_at = datetime(2025, 5, 1, 3, tzinfo=timezone.utc)
    request = operations.prepare_reservation(session, funded.officers["5570901"], idempotency_key=key(), quantity=10,
                                             letter_reference="บันทึกข้อความ ที่ 4/2568", now=prepared_at)
    late = prepared_at + timedelta(days=31)
    with pytest.raises(RequestStateError):
        operations.approve(session, funded.executives["5570901"], request.id, idempotency_key=key(), now=late)
    assert operations.expire_requests(session, now=late) == 1
    assert session.get(LedgerRequest, request.id).status == "expired"


def test_retry_with_same_key_posts_once(session, funded):
    request = operations.prepare_reservation(session, funded.officers["5570901"], idempotency_key="r-1", quantity=10,
                                             letter_reference="บันทึกข้อความ ที่ 5/2568")
    again = operations.prepare_reservation(session, funded.officers["5570901"], idempotency_key="r-1", quantity=10,
                                           letter_reference="บันทึกข้อความ ที่ 5/2568")
    assert again.id == request.id
    operations.approve(session, funded.executives["5570901"], request.id, idempotency_key="a-1")
    before = counts(session)
    operations.approve(session, funded.executives["5570901"], request.id, idempotency_key="a-1")
    assert counts(session) == before


def test_same_key_different_request_rejected(session, funded):
    operations.prepare_reservation(session, funded.officers["5570901"], idempotency_key="r-2", quantity=10,
                                   letter_reference="บันทึกข้อความ ที่ 6/2568")
    with pytest.raises(IdempotencyConflict):
        operations.prepare_reservation(session, funded.officers["5570901"], idempotency_key="r-2", quantity=11,
                                       letter_reference="บันทึกข้อความ ที่ 6/2568")


def test_bundle_sale_goes_through_deposit(session, funded):
    reservations = []
    for lao, quantity in (("5570901", 40), ("5570902", 20)):
        request = operations.prepare_reservation(session, funded.officers[lao], idempotency_key=key(),
                                                 quantity=quantity, buyer_account=funded.bank,
                                                 letter_reference="ธนาคาร ที่ ESG 30/2568")
        operations.approve(session, funded.executives[lao], request.id, idempotency_key=key())
        reservations.append(request.id)
    bundle = operations.prepare_bundle_sale(session, funded.dla_officer, idempotency_key=key(),
                                            buyer_account=funded.bank, reservation_ids=reservations,
                                            letter_reference="ธนาคาร ที่ ESG 30/2568")
    operations.approve(session, funded.dla_head, bundle.id, idempotency_key=key())
    assert reports.money_balance(session, "DEPOSIT") == 60 * 26000
    split = operations.prepare_deposit_split(
        session, funded.dla_officer, idempotency_key=key(), bundle_request_id=bundle.id,
        receipts={"LAO-5570901": ("รบ 7/2568", date(2025, 7, 1)), "LAO-5570902": ("001/2568", date(2025, 7, 2))},
        letter_reference="มท 0821.2/3100",
    )
    operations.approve(session, funded.dla_head, split.id, idempotency_key=key())
    assert reports.money_balance(session, "DEPOSIT") == 0
    assert reports.money_balance(session, "LAO-5570901") == 40 * 26000
    assert reports.money_balance(session, "LAO-5570902") == 20 * 26000
    assert balance_of(session, funded.bank) == 60


def test_balances_by_district_and_province(session, funded):
    sell(session, funded, "5570902", 5)
    district = reports.balances_by_area(session, "district")
    province = reports.balances_by_area(session, "province")
    assert district == [{"area": "5709", "accounts": 2, "balance": 95, "income_satang": 5 * 26000}]
    assert province == [{"area": "57", "accounts": 2, "balance": 95, "income_satang": 5 * 26000}]


def test_statement_keeps_running_balance(session, funded):
    sell(session, funded, "5570901", 30)
    credits = [line for line in reports.statement(session, "LAO-5570901") if line["unit"] == "tco2e"]
    assert [line["amount"] for line in credits] == [75, -30]
    assert [line["balance"] for line in credits] == [75, 45]
    assert credits[-1]["letter_reference"] == "ธนาคาร ที่ ESG 12/2568"


def test_bundle_rejects_reservation_for_other_buyer(session, funded):
    other = operations.register_buyer(
        session, funded.dla_officer, idempotency_key=key(), kind="agency", name_th="การไฟฟ้าส่วนภูมิภาค",
        tax_id="0994000165218", address_th="200 ถนนงามวงศ์วาน แขวงลาดยาว เขตจตุจักร กรุงเทพมหานคร 10900",
    )
    reservations = []
    for lao in ("5570901", "5570902"):
        request = operations.prepare_reservation(session, funded.officers[lao], idempotency_key=key(), quantity=10,
                                                 buyer_account=funded.bank, letter_reference="ธนาคาร ที่ ESG 31/2568")
        operations.approve(session, funded.executives[lao], request.id, idempotency_key=key())
        reservations.append(request.id)
    with pytest.raises(InvalidValue):
        operations.prepare_bundle_sale(session, funded.dla_officer, idempotency_key=key(), buyer_account=other.code,
                                       reservation_ids=reservations, letter_reference="กฟภ. ที่ 1/2568")


def test_buyer_needs_valid_tax_id(session, staff):
    with pytest.raises(InvalidValue):
        operations.register_buyer(session, staff.dla_officer, idempotency_key=key(), kind="person",
                                  name_th="นายสมชาย ใจดี", tax_id="1234567890123",
                                  address_th="12 หมู่ 3 ตำบลเวียง อำเภอเมืองเชียงราย จังหวัดเชียงราย 57000")


def reverse(session, staff, transaction_id, reason="บันทึกผิดพลาด"):
    request = operations.prepare_reversal(session, staff.dla_officer, idempotency_key=key(),
                                          transaction_id=transaction_id, reason=reason,
                                          letter_reference="คำสั่งกรมส่งเสริมการปกครองท้องถิ่น ที่ 12/2568")
    return operations.approve(session, staff.dla_head, request.id, idempotency_key=key())


def test_allocation_reversal_returns_units_to_dla(session, funded):
    allocation = session.scalar(select(LedgerRequest).where(LedgerRequest.kind == "allocate"))
    reverse(session, funded, reports.transaction_of(session, allocation.id).id)
    assert balance_of(session, "DLA") == 100
    assert balance_of(session, "LAO-5570901") == 0
    assert [(b.serial_start, b.serial_end) for b in reports.open_blocks(session, "DLA")] == [(1, 75), (76, 100)]
    assert verify(session)["ok"] is True


def test_issue_reversal_after_allocation_rejected(session, funded):
    issue = session.scalar(select(LedgerRequest).where(LedgerRequest.kind == "issue"))
    with pytest.raises(RequestStateError):
        reverse(session, funded, reports.transaction_of(session, issue.id).id)


def test_reversal_only_once(session, funded):
    posted = sell(session, funded, "5570901", 10)
    sale_tx = reports.transaction_of(session, posted.id)
    reverse(session, funded, sale_tx.id)
    with pytest.raises(RequestStateError):
        reverse(session, funded, sale_tx.id)


def test_dla_declines_approved_sale(session, funded):
    request = operations.prepare_transfer(
        session, funded.officers["5570901"], idempotency_key=key(), buyer_account=funded.bank, quantity=10,
        receipt_number="รบ 16/2568", receipt_date=date(2025, 6, 3), letter_reference="ธนาคาร ที่ ESG 14/2568",
    )
    operations.approve(session, funded.executives["5570901"], request.id, idempotency_key=key())
    with pytest.raises(PermissionDenied):
        operations.reject(session, funded.executives["5570901"], request.id, "เปลี่ยนใจ", idempotency_key=key())
    declined = operations.reject(session, funded.dla_head, request.id, "ผู้ซื้อยังไม่ได้ลงนามสัญญา",
                                 idempotency_key=key())
    assert declined.status == "rejected"
    assert balance_of(session, "LAO-5570901") == 75
    with pytest.raises(RequestStateError):
        operations.confirm(session, funded.dla_head, request.id, idempotency_key=key())
