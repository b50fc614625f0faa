"""What posting each kind of approved request does to the accounts and serial blocks.

Each handler runs inside the approving user's transaction and returns the posted
transaction's event record (or the opened account's, for an account).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.ledger.accounts import account_record, buyer_by_tax_id, get_account
from workflow.ledger.buyers import REQUEST_REGISTER_BUYER, add_document_rows
from workflow.ledger.errors import InvalidValue, RequestStateError
from workflow.ledger.models import (
    ACCOUNT_BUYER,
    ACCOUNT_LAO,
    BUCKET_AVAILABLE,
    BUCKET_RESERVED,
    REQUEST_ALLOCATE,
    REQUEST_BUNDLE_SALE,
    REQUEST_CANCEL,
    REQUEST_ISSUE,
    REQUEST_OPEN_ACCOUNT,
    REQUEST_RELEASE,
    REQUEST_RESERVE,
    REQUEST_RETIRE,
    REQUEST_REVERSE,
    REQUEST_SPLIT_DEPOSIT,
    REQUEST_TRANSFER,
    SIDE_CREDIT,
    SIDE_DEBIT,
    UNIT_TCO2E,
    Account,
    Buyer,
    CertificationRound,
    LedgerEntry,
    LedgerRequest,
    LedgerTransaction,
    SerialBlock,
)
from workflow.ledger.posting import Posting
from workflow.models import Organization


def _lock_accounts(session: Session, codes: list[str]) -> dict[str, Account]:
    """Lock the named accounts in code order, so that two postings never wait on each other in a cycle."""
    return {code: get_account(session, code, lock=True) for code in sorted(set(codes))}


def post_open_account(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    organization = session.get(Organization, request.organization_id)
    existing = session.scalar(select(Account).where(Account.organization_id == organization.id))
    if existing is not None:
        raise RequestStateError("account_exists", f"{organization.name_th} มีบัญชีคาร์บอนเครดิตอยู่แล้ว",
                                f"organization {organization.code} already has account {existing.code}")
    account = Account(
        code=payload["account"], kind=ACCOUNT_LAO, name_th=organization.name_th, organization_id=organization.id,
        opening_request_id=request.id, routing_event_id=payload.get("routing_event"),
        responsible_officer_id=payload["responsible_officer"], opened_at=now,
    )
    session.add(account)
    session.flush()
    return "account_opened", account_record(account)


# The buyer's fields that the account_opened event records and verification compares with the row.
BUYER_FIELDS = ("kind", "name_th", "tax_id", "address_th", "contact_name", "contact_email")


def post_register_buyer(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    """Register the buyer, open its account and record its identity documents."""
    payload = request.payload
    if buyer_by_tax_id(session, payload["kind"], payload["tax_id"]) is not None:
        raise RequestStateError("buyer_exists", f"ผู้ซื้อเลขประจำตัว {payload['tax_id']} ลงทะเบียนไว้แล้ว",
                                f"a {payload['kind']} buyer with id {payload['tax_id']} is already registered")
    fields = {key: payload[key] for key in BUYER_FIELDS}
    buyer = Buyer(registered_by_id=request.prepared_by_id, registered_at=now, **fields)
    session.add(buyer)
    session.flush()
    account = Account(code=f"BUYER-{buyer.id}", kind=ACCOUNT_BUYER, name_th=buyer.name_th, buyer_id=buyer.id,
                      opening_request_id=request.id, opened_at=now)
    session.add(account)
    session.flush()
    add_document_rows(session, request, buyer.id)
    return "account_opened", {**account_record(account), "buyer_fields": fields}


def post_issue(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    accounts = _lock_accounts(session, ["DLA", "ISSUANCE"])
    check_round_is_new(session, payload)
    posting = Posting(session, request, REQUEST_ISSUE, now)
    certification = CertificationRound(
        round_number=payload["round_number"],
        monitoring_start=date.fromisoformat(payload["monitoring_start"]),
        monitoring_end=date.fromisoformat(payload["monitoring_end"]),
        certified_on=date.fromisoformat(payload["certified_on"]),
        quantity=payload["quantity"], registry_reference=payload["registry_reference"],
        serial_start=payload["serial_start"], serial_end=payload["serial_end"], request_id=request.id,
    )
    session.add(certification)
    session.flush()
    posting.open_block(accounts["DLA"], certification.id, BUCKET_AVAILABLE, certification.serial_start,
                       certification.serial_end)
    posting.transfer(accounts["DLA"], accounts["ISSUANCE"], UNIT_TCO2E, certification.quantity)
    record = posting.finish()
    record["round"] = {"id": certification.id, **{key: payload[key] for key in ROUND_FIELDS}}
    return "posted", record


ROUND_FIELDS = ("round_number", "monitoring_start", "monitoring_end", "certified_on", "quantity",
                "registry_reference", "serial_start", "serial_end")


def check_round_is_new(session: Session, payload: dict[str, Any]) -> None:
    """Reject a round whose number or registry reference is taken or whose serials overlap another round."""
    clash = session.scalar(select(CertificationRound).where(
        (CertificationRound.round_number == payload["round_number"])
        | (CertificationRound.registry_reference == payload["registry_reference"])
        | ((CertificationRound.serial_start <= payload["serial_end"])
           & (CertificationRound.serial_end >= payload["serial_start"]))
    ))
    if clash is not None:
        raise InvalidValue(
            "round_conflict",
            f"รอบการรับรองนี้ซ้ำกับรอบที่ {clash.round_number} (เลขที่อ้างอิง {clash.registry_reference}"
            f" หมายเลข {clash.serial_start:,}-{clash.serial_end:,})",
            f"round {payload['round_number']} clashes with round {clash.round_number} by number, reference or serials",
        )


def post_allocate(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    codes = [share["account"] for share in payload["shares"]]
    accounts = _lock_accounts(session, ["DLA", *codes])
    posting = Posting(session, request, REQUEST_ALLOCATE, now)
    for share in payload["shares"]:
        if share["quantity"] > 0:
            posting.move_units(accounts["DLA"], accounts[share["account"]], share["quantity"],
                               round_id=payload["round_id"])
    return "posted", posting.finish()


def post_reserve(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    account = _lock_accounts(session, [payload["account"]])[payload["account"]]
    posting = Posting(session, request, REQUEST_RESERVE, now)
    posting.move_units(account, account, payload["quantity"], target_bucket=BUCKET_RESERVED,
                       target_reservation_id=request.id)
    return "posted", posting.finish()


def _reserved_quantity(session: Session, reservation_id: int) -> int:
    blocks = session.scalars(select(SerialBlock).where(
        SerialBlock.reservation_request_id == reservation_id, SerialBlock.bucket == BUCKET_RESERVED,
        SerialBlock.closed_by_transaction_id.is_(None),
    ))
    return sum(block.quantity for block in blocks)


def post_release(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    account = _lock_accounts(session, [payload["account"]])[payload["account"]]
    quantity = _reserved_quantity(session, payload["reservation"])
    if quantity == 0:
        raise RequestStateError("reservation_empty", "การกันหน่วยนี้ไม่มีหน่วยคงเหลือให้ยกเลิก",
                                f"reservation {payload['reservation']} holds no units")
    posting = Posting(session, request, REQUEST_RELEASE, now)
    posting.move_units(account, account, quantity, source_bucket=BUCKET_RESERVED,
                       reservation_id=payload["reservation"])
    return "posted", posting.finish()


def _sale_amount(quantity: int, price_satang: int) -> int:
    return quantity * price_satang


def post_transfer(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    accounts = _lock_accounts(session, [payload["account"], payload["buyer_account"]])
    source, buyer = accounts[payload["account"]], accounts[payload["buyer_account"]]
    posting = Posting(
        session, request, REQUEST_TRANSFER, now, price_satang=payload["price_satang"],
        receipt_number=payload["receipt_number"], receipt_date=date.fromisoformat(payload["receipt_date"]),
    )
    reservation = payload.get("reservation")
    posting.move_units(source, buyer, payload["quantity"],
                       source_bucket=BUCKET_RESERVED if reservation else BUCKET_AVAILABLE,
                       reservation_id=reservation)
    posting.money(source, buyer, _sale_amount(payload["quantity"], payload["price_satang"]))
    return "posted", posting.finish()


def post_bundle_sale(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    codes = [part["account"] for part in payload["parts"]]
    accounts = _lock_accounts(session, [payload["buyer_account"], "DEPOSIT", *codes])
    buyer = accounts[payload["buyer_account"]]
    posting = Posting(session, request, REQUEST_BUNDLE_SALE, now, price_satang=payload["price_satang"])
    total = 0
    for part in payload["parts"]:
        posting.move_units(accounts[part["account"]], buyer, part["quantity"], source_bucket=BUCKET_RESERVED,
                           reservation_id=part["reservation"])
        total += part["quantity"]
    posting.money(accounts["DEPOSIT"], buyer, _sale_amount(total, payload["price_satang"]))
    return "posted", posting.finish()


def post_split_deposit(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    accounts = _lock_accounts(session, ["DEPOSIT", *[part["account"] for part in payload["parts"]]])
    posting = Posting(session, request, REQUEST_SPLIT_DEPOSIT, now, price_satang=payload["price_satang"])
    for part in payload["parts"]:
        posting.money(accounts[part["account"]], accounts["DEPOSIT"], part["satang"])
    record = posting.finish()
    record["receipts"] = [[part["account"], part["receipt_number"], part["receipt_date"]] for part in payload["parts"]]
    return "posted", record


def post_retire(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    accounts = _lock_accounts(session, [payload["account"], "RETIREMENT"])
    posting = Posting(session, request, REQUEST_RETIRE, now, beneficiary=payload["beneficiary"],
                      purpose=payload["purpose"])
    reservation = payload.get("reservation")
    posting.move_units(accounts[payload["account"]], accounts["RETIREMENT"], payload["quantity"],
                       source_bucket=BUCKET_RESERVED if reservation else BUCKET_AVAILABLE, reservation_id=reservation)
    return "posted", posting.finish()


def post_cancel(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    payload = request.payload
    accounts = _lock_accounts(session, [payload["account"], "CANCELLATION"])
    posting = Posting(session, request, REQUEST_CANCEL, now, purpose=payload["reason"],
                      order_reference=payload["order_reference"])
    posting.move_units(accounts[payload["account"]], accounts["CANCELLATION"], payload["quantity"])
    return "posted", posting.finish()


REVERSIBLE_KINDS = (REQUEST_ISSUE, REQUEST_ALLOCATE, REQUEST_TRANSFER)


def post_reverse(session: Session, request: LedgerRequest, now: datetime) -> tuple[str, dict]:
    """Return every block the original transaction moved to where it came from, and flip its entries.

    Only a transaction whose moved blocks are all still where it put them can be reversed.
    """
    payload = request.payload
    original = session.get(LedgerTransaction, payload["transaction"])
    entries = [] if original is None else list(session.scalars(
        select(LedgerEntry).where(LedgerEntry.transaction_id == original.id).order_by(LedgerEntry.id)))
    # Accounts are locked before serial blocks, in code order, as in every other posting, so that
    # concurrent postings wait for each other instead of deadlocking.
    accounts = {account.id: account for account in (
        get_account(session, code, lock=True)
        for code in sorted({session.get(Account, entry.account_id).code for entry in entries})
    )}
    check_reversible(session, original)
    closed = list(session.scalars(select(SerialBlock).where(SerialBlock.closed_by_transaction_id == original.id)))
    posting = Posting(session, request, REQUEST_REVERSE, now, reverses_id=original.id, purpose=payload["reason"])
    for block in _moved_blocks(session, original):
        posting.close_block(block)
        origin = _origin_of(block, closed)
        if origin is None:
            # Issuance: the block came from no account, so it is only closed.
            continue
        posting.open_block(accounts[origin.account_id], block.round_id, origin.bucket, block.serial_start,
                           block.serial_end, origin.reservation_request_id)
    for entry in entries:
        side = SIDE_CREDIT if entry.side == SIDE_DEBIT else SIDE_DEBIT
        posting.entry(accounts[entry.account_id], entry.unit, entry.bucket, side, entry.amount)
    return "posted", posting.finish()


def _origin_of(block: SerialBlock, closed: list[SerialBlock]) -> SerialBlock | None:
    for origin in closed:
        if origin.round_id == block.round_id and origin.serial_start <= block.serial_start <= origin.serial_end:
            return origin
    return None


def _moved_blocks(session: Session, original: LedgerTransaction) -> list[SerialBlock]:
    """The blocks the transaction opened in another account than the one they came from (not remainders)."""
    closed = list(session.scalars(select(SerialBlock).where(SerialBlock.closed_by_transaction_id == original.id)))
    opened = session.scalars(select(SerialBlock).where(SerialBlock.opened_by_transaction_id == original.id)
                             .order_by(SerialBlock.id).with_for_update())
    moved = []
    for block in opened:
        origin = _origin_of(block, closed)
        if origin is not None and origin.account_id == block.account_id and origin.bucket == block.bucket:
            continue
        moved.append(block)
    return moved


def check_reversible(session: Session, original: LedgerTransaction | None) -> None:
    if original is None:
        raise InvalidValue("transaction_not_found", "ไม่พบรายการที่จะกลับรายการ", "the transaction to reverse was not found")
    if original.kind not in REVERSIBLE_KINDS:
        raise InvalidValue(
            "not_reversible",
            "รายการประเภทนี้กลับรายการไม่ได้ (การชดเชยและการยกเลิกเป็นที่สุด)",
            f"transaction {original.id} of kind {original.kind} cannot be reversed",
        )
    if session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == original.id)):
        raise RequestStateError("already_reversed", "รายการนี้ถูกกลับรายการไปแล้ว",
                                f"transaction {original.id} is already reversed")
    for block in _moved_blocks(session, original):
        if block.closed_by_transaction_id is not None:
            raise RequestStateError(
                "units_moved_on",
                "หน่วยคาร์บอนเครดิตของรายการนี้ถูกใช้หรือโอนต่อแล้ว จึงกลับรายการไม่ได้",
                f"block {block.id} of transaction {original.id} was moved on by transaction"
                f" {block.closed_by_transaction_id}",
            )


HANDLERS: dict[str, Callable[[Session, LedgerRequest, datetime], tuple[str, dict]]] = {
    REQUEST_OPEN_ACCOUNT: post_open_account,
    REQUEST_REGISTER_BUYER: post_register_buyer,
    REQUEST_ISSUE: post_issue,
    REQUEST_ALLOCATE: post_allocate,
    REQUEST_RESERVE: post_reserve,
    REQUEST_RELEASE: post_release,
    REQUEST_TRANSFER: post_transfer,
    REQUEST_BUNDLE_SALE: post_bundle_sale,
    REQUEST_SPLIT_DEPOSIT: post_split_deposit,
    REQUEST_RETIRE: post_retire,
    REQUEST_CANCEL: post_cancel,
    REQUEST_REVERSE: post_reverse,
}
