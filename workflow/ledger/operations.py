"""Ledger operations: prepare a request, approve it, confirm it at DLA, reject it, expire it; register buyers.

Every operation is one transaction under a client-chosen idempotency key. A prepared request
is pending until the executive of its organization approves it. Transfers and retirements
prepared by an LAO then wait for DLA to confirm; everything else posts on approval (see
docs/decisions/0004-ledger-approvals.md). A rejected or expired request is void. A refused
call raises a `WorkflowError` and changes nothing.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.ledger import accounts as ledger_accounts
from workflow.ledger.accounts import dla_organization, get_account, lao_account_code
from workflow.ledger.allocation import largest_remainder
from workflow.ledger.buyers import (
    REQUEST_REGISTER_BUYER,
    UploadedDocument,
    check_contact_email,
    check_documents,
    store_documents,
)
from workflow.ledger.chain import append_event, lock_head, lock_now
from workflow.ledger.errors import InsufficientCredits, InvalidValue, NotFound, PermissionDenied, RequestStateError
from workflow.ledger.handlers import HANDLERS, ROUND_FIELDS, check_reversible, check_round_is_new
from workflow.ledger.idempotency import run_idempotent
from workflow.ledger.models import (
    ACCOUNT_BUYER,
    ACCOUNT_DLA,
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
    STATUS_APPROVED,
    STATUS_EXPIRED,
    STATUS_PENDING,
    STATUS_POSTED,
    STATUS_REJECTED,
    OPEN_STATUSES,
    Account,
    Buyer,
    LedgerRequest,
    LedgerTransaction,
    SerialBlock,
    as_utc,
    utcnow,
)
from workflow.models import ORG_LAO, ROLE_OFFICER, ROLE_SUPERVISOR, Organization, User
from workflow.routing.models import EVENT_REPORTED, OfficialLetter, RoutingTask, TaskEvent
from workflow.storage import OriginalStore

log = logging.getLogger(__name__)

# DLA's reference price per tonne, in baht; SARABAN_LEDGER_PRICE_BAHT overrides it.
DEFAULT_PRICE_BAHT = 260
REQUEST_VALID_DAYS = 30
MAX_TEXT = 300
# LAO requests that DLA confirms after the LAO's executive approves.
DLA_CONFIRMS = (REQUEST_TRANSFER, REQUEST_RETIRE)


def reference_price_satang() -> int:
    """DLA's reference price per tonne in satang, from SARABAN_LEDGER_PRICE_BAHT (baht, default 260)."""
    raw = os.environ.get("SARABAN_LEDGER_PRICE_BAHT", str(DEFAULT_PRICE_BAHT))
    return round(float(raw) * 100)


# --- checks ------------------------------------------------------------------------------


def _text(value: str | None, field_th: str, field_en: str, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidValue(f"missing_{field_en.replace(' ', '_')}", f"ต้องระบุ{field_th}", f"{field_en} is missing")
        return None
    if len(value) > MAX_TEXT:
        raise InvalidValue("text_too_long", f"{field_th}ยาวเกิน {MAX_TEXT} ตัวอักษร",
                           f"{field_en} is longer than {MAX_TEXT} characters")
    return value


def _quantity(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidValue("invalid_quantity", f"จำนวน “{value}” ต้องเป็นจำนวนเต็มบวก (ตันคาร์บอนไดออกไซด์เทียบเท่า)",
                           f"quantity {value!r} is not a positive whole number of tCO2e")
    return value


def _require(user: User, role: str, organization_id: int, action_th: str, action_en: str) -> None:
    if user.role != role or user.organization_id != organization_id:
        who_th = "เจ้าหน้าที่ผู้ปฏิบัติ" if role == ROLE_OFFICER else "ผู้บริหาร"
        raise PermissionDenied(
            "not_allowed",
            f"ท่านไม่มีสิทธิ์{action_th} (ต้องเป็น{who_th}ของหน่วยงานเจ้าของรายการ)",
            f"user {user.username} (role {user.role}, org {user.organization_id}) may not {action_en};"
            f" needs role {role} in org {organization_id}",
        )


def _available(session: Session, account: Account, bucket: str = BUCKET_AVAILABLE,
               reservation_id: int | None = None, round_id: int | None = None) -> int:
    query = select(SerialBlock).where(SerialBlock.account_id == account.id, SerialBlock.bucket == bucket,
                                      SerialBlock.closed_by_transaction_id.is_(None))
    if reservation_id is not None:
        query = query.where(SerialBlock.reservation_request_id == reservation_id)
    if round_id is not None:
        query = query.where(SerialBlock.round_id == round_id)
    return sum(block.quantity for block in session.scalars(query))


def _check_enough(session: Session, account: Account, quantity: int, **filters: Any) -> None:
    held = _available(session, account, **filters)
    if held < quantity:
        raise InsufficientCredits(
            "insufficient_credits",
            f"บัญชี {account.name_th} มีคาร์บอนเครดิตที่ใช้ได้ {held:,} tCO2e ไม่พอสำหรับ {quantity:,} tCO2e",
            f"account {account.code} holds {held} tCO2e usable, {quantity} requested",
        )


def _owner_organization_id(session: Session, account: Account) -> int:
    """Return the organization that prepares and approves operations on `account`: the LAO, or DLA otherwise."""
    if account.kind == ACCOUNT_LAO:
        return account.organization_id
    return dla_organization(session).id


# --- the request lifecycle ---------------------------------------------------------------


def _request_record(request: LedgerRequest) -> dict[str, Any]:
    return {
        "kind": request.kind,
        "organization": request.organization_id,
        "needs_dla_confirmation": request.needs_dla_confirmation,
        "letter_reference": request.letter_reference,
        "letter": request.letter_id,
        "payload": request.payload,
        "expires_at": request.expires_at,
    }


def _prepare(session: Session, user: User, key: str, kind: str, organization_id: int, payload: dict[str, Any],
             letter_reference: str, letter_id: int | None, now: datetime | None,
             check: Callable[[], None] | None = None) -> LedgerRequest:
    letter_reference = _text(letter_reference, "เลขที่หนังสือหรือคำขอที่เป็นเหตุของรายการ", "letter reference")
    _require(user, ROLE_OFFICER, organization_id, "จัดทำรายการ", "prepare ledger requests")
    if letter_id is not None and session.get(OfficialLetter, letter_id) is None:
        raise NotFound("letter_not_found", "ไม่พบหนังสือที่อ้างถึง", f"official letter {letter_id} not found")

    def work() -> LedgerRequest:
        moment = as_utc(now) if now is not None else utcnow()
        head = lock_head(session)
        ledger_accounts.ensure_system_accounts(session, head)
        if check is not None:
            # The checks (no open registration of this buyer, no such account, a new round) are
            # covered by no row lock, so two requests are checked one after the other.
            lock_now(session)
            check()
        request = LedgerRequest(
            kind=kind, status=STATUS_PENDING, organization_id=organization_id,
            needs_dla_confirmation=kind in DLA_CONFIRMS and organization_id != dla_organization(session).id,
            letter_reference=letter_reference, letter_id=letter_id, payload=payload, prepared_by_id=user.id,
            prepared_at=moment, expires_at=moment + timedelta(days=REQUEST_VALID_DAYS),
        )
        session.add(request)
        session.flush()
        append_event(session, head, "prepared", moment, _request_record(request), actor_id=user.id,
                     request_id=request.id)
        log.info("ledger request %s (%s) prepared by %s", request.id, kind, user.username)
        return request

    request_data = {"kind": kind, "organization": organization_id, "payload": payload,
                    "letter_reference": letter_reference, "letter": letter_id}
    return run_idempotent(session, key, f"prepare_{kind}", user.id, request_data, work)


def _load_request(session: Session, request_id: int) -> LedgerRequest:
    request = session.scalar(select(LedgerRequest).where(LedgerRequest.id == request_id).with_for_update()
                             .execution_options(populate_existing=True))
    if request is None:
        raise NotFound("request_not_found", f"ไม่พบคำขอเลขที่ {request_id}", f"ledger request {request_id} not found")
    return request


def _require_status(request: LedgerRequest, status: str, now: datetime) -> None:
    if request.status != status:
        raise RequestStateError(
            "request_not_" + status,
            f"คำขอเลขที่ {request.id} อยู่ในสถานะ {STATUS_NAMES_TH.get(request.status, request.status)}"
            f" ดำเนินการนี้ไม่ได้",
            f"ledger request {request.id} is {request.status}, expected {status}",
        )
    if now >= as_utc(request.expires_at):
        raise RequestStateError("request_expired", f"คำขอเลขที่ {request.id} หมดอายุแล้ว กรุณาจัดทำใหม่",
                                f"ledger request {request.id} expired at {request.expires_at.isoformat()}")


def _post(session: Session, head, request: LedgerRequest, now: datetime, actor: User) -> None:
    kind, record = HANDLERS[request.kind](session, request, now)
    transaction_id = record["id"] if kind == "posted" else None
    request.status = STATUS_POSTED
    session.flush()
    append_event(session, head, kind, now, record, actor_id=actor.id, request_id=request.id,
                 transaction_id=transaction_id)
    log.info("ledger request %s (%s) posted as transaction %s", request.id, request.kind, transaction_id)


def _decide(session: Session, user: User, key: str, request_id: int, operation: str, now: datetime | None,
            step: Callable[[Any, LedgerRequest, datetime], None], extra: dict | None = None) -> LedgerRequest:
    def work() -> LedgerRequest:
        moment = as_utc(now) if now is not None else utcnow()
        head = lock_head(session)
        request = _load_request(session, request_id)
        step(head, request, moment)
        return request

    return run_idempotent(session, key, operation, user.id, {"request": request_id, **(extra or {})}, work)


def approve(session: Session, user: User, request_id: int, *, idempotency_key: str,
            now: datetime | None = None) -> LedgerRequest:
    """Approve a pending request as its organization's executive; post it unless DLA must confirm."""
    def step(head, request: LedgerRequest, moment: datetime) -> None:
        _require_status(request, STATUS_PENDING, moment)
        _require(user, ROLE_SUPERVISOR, request.organization_id, "อนุมัติรายการ", "approve ledger requests")
        if request.prepared_by_id == user.id:
            raise PermissionDenied("own_request", "ผู้จัดทำรายการอนุมัติรายการของตนเองไม่ได้",
                                   f"user {user.username} prepared request {request.id}")
        request.status = STATUS_APPROVED
        request.approved_by_id = user.id
        request.approved_at = moment
        session.flush()
        append_event(session, head, "approved", moment, {"status": STATUS_APPROVED}, actor_id=user.id,
                     request_id=request.id)
        if not request.needs_dla_confirmation:
            _post(session, head, request, moment, user)

    return _decide(session, user, idempotency_key, request_id, "approve", now, step)


def confirm(session: Session, user: User, request_id: int, *, idempotency_key: str,
            now: datetime | None = None) -> LedgerRequest:
    """Confirm an approved LAO transfer or retirement as a DLA executive, which posts it."""
    def step(head, request: LedgerRequest, moment: datetime) -> None:
        _require_status(request, STATUS_APPROVED, moment)
        _require(user, ROLE_SUPERVISOR, dla_organization(session).id, "ยืนยันรายการในนามกรมส่งเสริมการปกครองท้องถิ่น",
                 "confirm ledger requests for DLA")
        request.confirmed_by_id = user.id
        request.confirmed_at = moment
        session.flush()
        append_event(session, head, "confirmed", moment, {"status": STATUS_APPROVED}, actor_id=user.id,
                     request_id=request.id)
        _post(session, head, request, moment, user)

    return _decide(session, user, idempotency_key, request_id, "confirm", now, step)


def reject(session: Session, user: User, request_id: int, reason: str, *, idempotency_key: str,
           now: datetime | None = None) -> LedgerRequest:
    """Void a pending request (its executive) or an approved one awaiting DLA (a DLA executive)."""
    reason = _text(reason, "เหตุผลที่ไม่อนุมัติ", "reason")

    def step(head, request: LedgerRequest, moment: datetime) -> None:
        if request.status == STATUS_APPROVED and request.needs_dla_confirmation:
            _require(user, ROLE_SUPERVISOR, dla_organization(session).id, "ไม่ยืนยันรายการ", "decline ledger requests")
        else:
            _require_status(request, STATUS_PENDING, moment)
            _require(user, ROLE_SUPERVISOR, request.organization_id, "ไม่อนุมัติรายการ", "reject ledger requests")
        _void(session, head, request, STATUS_REJECTED, moment, user, reason)

    return _decide(session, user, idempotency_key, request_id, "reject", now, step, {"reason": reason})


def _void(session: Session, head, request: LedgerRequest, status: str, moment: datetime, user: User | None,
          reason: str) -> None:
    request.status = status
    request.voided_by_id = user.id if user else None
    request.voided_at = moment
    request.void_reason = reason
    session.flush()
    append_event(session, head, status, moment, {"status": status, "reason": reason},
                 actor_id=user.id if user else None, request_id=request.id)
    log.info("ledger request %s %s: %s", request.id, status, reason)


def expire_requests(session: Session, now: datetime | None = None) -> int:
    """Void every pending or approved request past its expiry time; return how many. Safe to run repeatedly."""
    from workflow.routing.numbering import write_transaction

    moment = as_utc(now) if now is not None else utcnow()
    with write_transaction(session):
        head = lock_head(session)
        due = list(session.scalars(
            select(LedgerRequest).where(LedgerRequest.status.in_((STATUS_PENDING, STATUS_APPROVED)),
                                        LedgerRequest.expires_at <= moment)
            .order_by(LedgerRequest.id).with_for_update()
        ))
        for request in due:
            _void(session, head, request, STATUS_EXPIRED, moment, None, "หมดอายุก่อนได้รับอนุมัติ")
    return len(due)


STATUS_NAMES_TH = {
    STATUS_PENDING: "รออนุมัติ",
    STATUS_APPROVED: "อนุมัติแล้ว รอกรมส่งเสริมการปกครองท้องถิ่นยืนยัน",
    STATUS_POSTED: "บันทึกบัญชีแล้ว",
    STATUS_REJECTED: "ไม่อนุมัติ",
    STATUS_EXPIRED: "หมดอายุ",
}


# --- accounts ----------------------------------------------------------------------------


def officer_approval_event(session: Session, organization_id: int) -> TaskEvent | None:
    """Return the latest routing event in which the LAO's executive approved its responsible officer.

    That is the approval (`reported`) of a confirmation whose form names an officer
    (`officer_name`), as the carbon-credit circular's form does.
    """
    candidates = session.execute(
        select(TaskEvent, OfficialLetter)
        .join(RoutingTask, RoutingTask.id == TaskEvent.task_id)
        .join(OfficialLetter, OfficialLetter.id == RoutingTask.letter_id)
        .where(RoutingTask.recipient_org_id == organization_id, TaskEvent.kind == EVENT_REPORTED)
        .order_by(TaskEvent.id.desc())
    ).all()
    for event, letter in candidates:
        if any(field.get("name") == "officer_name" for field in letter.confirmation_form or []):
            return event
    return None


def prepare_account_opening(session: Session, officer: User, *, idempotency_key: str,
                            letter_reference: str | None = None, now: datetime | None = None) -> LedgerRequest:
    """Prepare the opening of the officer's LAO account, naming the officer as responsible.

    When the carbon-credit circular went through this service, the request links the routing
    event in which the LAO's executive approved the officer, and follows that circular.
    """
    organization = session.get(Organization, officer.organization_id)
    if organization.kind != ORG_LAO:
        raise InvalidValue("not_an_lao", "เปิดบัญชีได้เฉพาะองค์กรปกครองส่วนท้องถิ่น",
                           f"organization {organization.code} is not an LAO")
    event = officer_approval_event(session, organization.id)
    letter = session.get(RoutingTask, event.task_id).letter if event is not None else None
    reference = letter_reference or (letter.doc_number if letter is not None else None)
    payload = {"account": lao_account_code(organization), "responsible_officer": officer.id,
               "routing_event": event.id if event is not None else None}

    def check() -> None:
        if session.scalar(select(Account.id).where(Account.organization_id == organization.id)):
            raise RequestStateError("account_exists", f"{organization.name_th} มีบัญชีคาร์บอนเครดิตอยู่แล้ว",
                                    f"organization {organization.code} already has an account")

    return _prepare(session, officer, idempotency_key, REQUEST_OPEN_ACCOUNT, organization.id, payload,
                    reference, letter.id if letter is not None else None, now, check)


def register_buyer(session: Session, user: User, *, idempotency_key: str, kind: str, name_th: str, tax_id: str,
                   address_th: str, contact_name: str | None = None, contact_email: str | None = None,
                   now: datetime | None = None) -> Account:
    """Register a buyer (company, agency or person) and open its account at once, as DLA staff.

    NOTE: this path takes no approval and no identity documents. The screens use
    `prepare_buyer_registration`; this one remains for the demo and the test helpers.
    """
    ledger_accounts.check_buyer_fields(kind, name_th, tax_id, address_th)
    dla = dla_organization(session)
    if user.organization_id != dla.id or user.role not in (ROLE_OFFICER, ROLE_SUPERVISOR):
        raise PermissionDenied("not_allowed", "เฉพาะเจ้าหน้าที่กรมส่งเสริมการปกครองท้องถิ่นลงทะเบียนผู้ซื้อได้",
                               f"user {user.username} may not register buyers")
    fields = {"kind": kind, "name_th": name_th.strip(), "tax_id": tax_id, "address_th": address_th.strip(),
              "contact_name": contact_name, "contact_email": contact_email}

    def work() -> Account:
        moment = as_utc(now) if now is not None else utcnow()
        head = lock_head(session)
        ledger_accounts.ensure_system_accounts(session, head)
        if ledger_accounts.buyer_by_tax_id(session, kind, tax_id) is not None:
            raise RequestStateError("buyer_exists", f"ผู้ซื้อเลขประจำตัว {tax_id} ลงทะเบียนไว้แล้ว",
                                    f"a {kind} buyer with id {tax_id} is already registered")
        buyer = Buyer(registered_by_id=user.id, registered_at=moment, **fields)
        session.add(buyer)
        session.flush()
        account = Account(code=f"BUYER-{buyer.id}", kind=ACCOUNT_BUYER, name_th=buyer.name_th, buyer_id=buyer.id,
                          opened_at=moment)
        session.add(account)
        session.flush()
        append_event(session, head, "account_opened", moment, {**ledger_accounts.account_record(account),
                                                                "buyer_fields": fields}, actor_id=user.id)
        log.info("buyer %s registered as %s by %s", buyer.id, account.code, user.username)
        return account

    return run_idempotent(session, idempotency_key, "register_buyer", user.id, fields, work)


def _open_buyer_registration(session: Session, kind: str, tax_id: str) -> LedgerRequest | None:
    """Return a pending or approved registration of the same buyer, if there is one."""
    candidates = session.scalars(select(LedgerRequest).where(LedgerRequest.kind == REQUEST_REGISTER_BUYER,
                                                             LedgerRequest.status.in_(OPEN_STATUSES)))
    return next((item for item in candidates
                 if item.payload.get("kind") == kind and item.payload.get("tax_id") == tax_id), None)


def check_buyer_is_new(session: Session, kind: str, tax_id: str, request_id: int | None = None) -> None:
    """Reject a buyer that is registered already or whose registration another request is preparing."""
    if ledger_accounts.buyer_by_tax_id(session, kind, tax_id) is not None:
        raise RequestStateError("buyer_exists", f"ผู้ซื้อเลขประจำตัว {tax_id} ลงทะเบียนไว้แล้ว",
                                f"a {kind} buyer with id {tax_id} is already registered")
    other = _open_buyer_registration(session, kind, tax_id)
    if other is not None and other.id != request_id:
        raise RequestStateError("buyer_registration_open",
                                f"ผู้ซื้อเลขประจำตัว {tax_id} มีคำขอลงทะเบียนเลขที่ {other.id} รออนุมัติอยู่แล้ว",
                                f"request {other.id} already registers the {kind} buyer {tax_id}")


def prepare_buyer_registration(session: Session, officer: User, store: OriginalStore, *, idempotency_key: str,
                               kind: str, name_th: str, tax_id: str, address_th: str,
                               documents: list[UploadedDocument], letter_reference: str, max_document_bytes: int,
                               contact_name: str | None = None, contact_email: str | None = None,
                               now: datetime | None = None) -> LedgerRequest:
    """Prepare a buyer's registration with its identity documents (DLA officer), whose approval opens its account.

    The files are stored by SHA-256 only after every check has passed, so a rejected call
    stores nothing. A registration the executive later rejects leaves its files in the store,
    unreferenced by any buyer.
    """
    tax_id = (tax_id or "").strip()
    ledger_accounts.check_buyer_fields(kind, name_th, tax_id, address_th)
    records = check_documents(kind, documents, max_document_bytes)
    payload = {"kind": kind, "name_th": name_th.strip(), "tax_id": tax_id, "address_th": address_th.strip(),
               "contact_name": _text(contact_name, "ชื่อผู้ติดต่อ", "contact name", required=False),
               "contact_email": check_contact_email(contact_email), "documents": records}

    def check() -> None:
        check_buyer_is_new(session, kind, tax_id)
        store_documents(store, documents)

    return _prepare(session, officer, idempotency_key, REQUEST_REGISTER_BUYER, dla_organization(session).id,
                    payload, letter_reference, None, now, check)


# --- issuance and allocation -------------------------------------------------------------


def prepare_issue(session: Session, officer: User, *, idempotency_key: str, round_number: int,
                  monitoring_start: date, monitoring_end: date, certified_on: date, quantity: int,
                  registry_reference: str, serial_start: int, serial_end: int, letter_reference: str,
                  now: datetime | None = None) -> LedgerRequest:
    """Prepare the recording of a certification round into DLA's holding account (DLA officer)."""
    quantity = _quantity(quantity)
    if monitoring_end < monitoring_start or certified_on < monitoring_end:
        raise InvalidValue("invalid_round_dates", "วันสิ้นสุดการติดตามผลต้องไม่ก่อนวันเริ่ม และวันรับรองต้องไม่ก่อนวันสิ้นสุด",
                           f"monitoring {monitoring_start}..{monitoring_end} certified {certified_on} is out of order")
    if not isinstance(serial_start, int) or serial_start < 1 or serial_end - serial_start + 1 != quantity:
        raise InvalidValue("invalid_serial_block",
                           f"ช่วงหมายเลข {serial_start}-{serial_end} ไม่ตรงกับจำนวน {quantity:,} tCO2e",
                           f"serial block {serial_start}-{serial_end} does not hold {quantity} units")
    payload = {
        "round_number": round_number, "monitoring_start": monitoring_start.isoformat(),
        "monitoring_end": monitoring_end.isoformat(), "certified_on": certified_on.isoformat(),
        "quantity": quantity, "registry_reference": _text(registry_reference, "เลขที่อ้างอิงทะเบียน", "registry reference"),
        "serial_start": serial_start, "serial_end": serial_end,
    }
    assert set(payload) == set(ROUND_FIELDS)
    return _prepare(session, officer, idempotency_key, REQUEST_ISSUE, dla_organization(session).id, payload,
                    letter_reference, None, now, lambda: check_round_is_new(session, payload))


def prepare_allocation(session: Session, officer: User, *, idempotency_key: str, round_number: int,
                       bins: dict[str, int], letter_reference: str, quantity: int | None = None,
                       now: datetime | None = None) -> LedgerRequest:
    """Prepare the allocation of a round's units in DLA's account to LAO accounts by verified bins.

    `quantity` defaults to all of the round's units DLA still holds. The shares are computed
    here, by the largest-remainder method, so the request shows the approver the exact tonnes per LAO.
    """
    from workflow.ledger.models import CertificationRound

    certification = session.scalar(select(CertificationRound).where(CertificationRound.round_number == round_number))
    if certification is None:
        raise NotFound("round_not_found", f"ไม่พบรอบการรับรองที่ {round_number}", f"round {round_number} not found")
    dla_account = get_account(session, "DLA")
    held = _available(session, dla_account, round_id=certification.id)
    quantity = held if quantity is None else _quantity(quantity)
    _quantity(quantity)
    shares = largest_remainder(quantity, bins)
    codes = [f"LAO-{share.lao_code}" for share in shares]
    opened = set(session.scalars(select(Account.code).where(Account.code.in_(codes))))
    missing = [code.removeprefix("LAO-") for code in codes if code not in opened]
    if missing:
        raise InvalidValue("lao_account_missing",
                           f"อปท. ต่อไปนี้ยังไม่ได้เปิดบัญชีคาร์บอนเครดิต: {', '.join(missing[:20])}",
                           f"LAOs without a ledger account: {', '.join(missing)}")
    payload = {"round_id": certification.id, "round_number": round_number, "quantity": quantity,
               "shares": [{"account": f"LAO-{share.lao_code}", "bins": share.bins, "quantity": share.quantity}
                          for share in shares]}
    return _prepare(session, officer, idempotency_key, REQUEST_ALLOCATE, dla_organization(session).id, payload,
                    letter_reference, None, now,
                    lambda: _check_enough(session, dla_account, quantity, round_id=certification.id))


# --- reservation, sale, retirement, cancellation, reversal --------------------------------


def _own_account(session: Session, officer: User) -> Account:
    account = session.scalar(select(Account).where(Account.organization_id == officer.organization_id,
                                                   Account.kind == ACCOUNT_LAO))
    if account is None:
        raise NotFound("account_not_found", "หน่วยงานของท่านยังไม่ได้เปิดบัญชีคาร์บอนเครดิต",
                       f"org {officer.organization_id} has no LAO ledger account")
    return account


def _buyer_account(session: Session, code: str) -> Account:
    account = get_account(session, code)
    if account.kind != ACCOUNT_BUYER:
        raise InvalidValue("not_a_buyer", f"บัญชี {code} ไม่ใช่บัญชีผู้ซื้อ", f"account {code} is not a buyer account")
    return account


def _reservation(session: Session, reservation_id: int, account: Account) -> LedgerRequest:
    request = session.get(LedgerRequest, reservation_id)
    if request is None or request.kind != REQUEST_RESERVE or request.payload.get("account") != account.code \
            or request.status != STATUS_POSTED:
        raise InvalidValue("reservation_not_found", f"ไม่พบการกันหน่วยเลขที่ {reservation_id} ของบัญชีนี้",
                           f"no posted reservation {reservation_id} on account {account.code}")
    return request


def _check_reserved_for(reservation: LedgerRequest, buyer: Account) -> None:
    intended = reservation.payload.get("buyer_account")
    if intended is not None and intended != buyer.code:
        raise InvalidValue("reserved_for_other_buyer",
                           f"การกันหน่วยเลขที่ {reservation.id} กันไว้ให้ผู้ซื้อรายอื่น ({intended})",
                           f"reservation {reservation.id} is for {intended}, not {buyer.code}")


def prepare_reservation(session: Session, officer: User, *, idempotency_key: str, quantity: int,
                        letter_reference: str, buyer_account: str | None = None,
                        now: datetime | None = None) -> LedgerRequest:
    """Prepare to set units of the officer's LAO aside for a pending sale."""
    account = _own_account(session, officer)
    payload = {"account": account.code, "quantity": _quantity(quantity),
               "buyer_account": _buyer_account(session, buyer_account).code if buyer_account else None}
    return _prepare(session, officer, idempotency_key, REQUEST_RESERVE, account.organization_id, payload,
                    letter_reference, None, now, lambda: _check_enough(session, account, quantity))


def prepare_release(session: Session, officer: User, *, idempotency_key: str, reservation_id: int,
                    letter_reference: str, now: datetime | None = None) -> LedgerRequest:
    """Prepare to return what is left of a reservation to the LAO's available units."""
    account = _own_account(session, officer)
    _reservation(session, reservation_id, account)
    payload = {"account": account.code, "reservation": reservation_id}
    return _prepare(session, officer, idempotency_key, REQUEST_RELEASE, account.organization_id, payload,
                    letter_reference, None, now)


def prepare_transfer(session: Session, officer: User, *, idempotency_key: str, buyer_account: str, quantity: int,
                     receipt_number: str, receipt_date: date, letter_reference: str,
                     reservation_id: int | None = None, price_baht: float | None = None,
                     now: datetime | None = None) -> LedgerRequest:
    """Prepare the sale of units of the officer's LAO to a buyer, at DLA's reference price unless given.

    The money is the LAO's income, recorded with the LAO's receipt number and date.
    """
    account = _own_account(session, officer)
    buyer = _buyer_account(session, buyer_account)
    quantity = _quantity(quantity)
    if reservation_id is not None:
        _check_reserved_for(_reservation(session, reservation_id, account), buyer)
    price = reference_price_satang() if price_baht is None else round(price_baht * 100)
    if price <= 0:
        raise InvalidValue("invalid_price", "ราคาต่อตันต้องมากกว่าศูนย์", f"price {price_baht!r} is not positive")
    payload = {"account": account.code, "buyer_account": buyer.code, "quantity": quantity,
               "reservation": reservation_id, "price_satang": price,
               "receipt_number": _text(receipt_number, "เลขที่ใบเสร็จรับเงิน", "receipt number"),
               "receipt_date": receipt_date.isoformat()}
    bucket = BUCKET_RESERVED if reservation_id else BUCKET_AVAILABLE
    return _prepare(session, officer, idempotency_key, REQUEST_TRANSFER, account.organization_id, payload,
                    letter_reference, None, now,
                    lambda: _check_enough(session, account, quantity, bucket=bucket, reservation_id=reservation_id))


def prepare_bundle_sale(session: Session, officer: User, *, idempotency_key: str, buyer_account: str,
                        reservation_ids: list[int], letter_reference: str, price_baht: float | None = None,
                        now: datetime | None = None) -> LedgerRequest:
    """Prepare a sale of several LAOs' reserved units to one buyer (DLA officer); the money goes to the deposit account.

    Each LAO consented through its own approved reservation. `prepare_deposit_split` later
    moves each LAO's share of the money from the deposit into its income.
    """
    buyer = _buyer_account(session, buyer_account)
    parts = []
    for reservation_id in reservation_ids:
        request = session.get(LedgerRequest, reservation_id)
        if request is None or request.kind != REQUEST_RESERVE or request.status != STATUS_POSTED:
            raise InvalidValue("reservation_not_found", f"ไม่พบการกันหน่วยเลขที่ {reservation_id}",
                               f"no posted reservation {reservation_id}")
        _check_reserved_for(request, buyer)
        account = get_account(session, request.payload["account"])
        reserved = _available(session, account, bucket=BUCKET_RESERVED, reservation_id=reservation_id)
        if reserved == 0:
            raise InsufficientCredits("reservation_empty", f"การกันหน่วยเลขที่ {reservation_id} ไม่มีหน่วยคงเหลือ",
                                      f"reservation {reservation_id} holds no units")
        parts.append({"account": account.code, "reservation": reservation_id, "quantity": reserved})
    if len({part["account"] for part in parts}) < 2:
        raise InvalidValue("bundle_too_small", "การขายรวมต้องมีอย่างน้อยสอง อปท.", "a bundle sale needs two or more LAOs")
    price = reference_price_satang() if price_baht is None else round(price_baht * 100)
    payload = {"buyer_account": buyer.code, "parts": parts, "price_satang": price}
    return _prepare(session, officer, idempotency_key, REQUEST_BUNDLE_SALE, dla_organization(session).id, payload,
                    letter_reference, None, now)


def prepare_deposit_split(session: Session, officer: User, *, idempotency_key: str, bundle_request_id: int,
                          receipts: dict[str, tuple[str, date]], letter_reference: str,
                          now: datetime | None = None) -> LedgerRequest:
    """Prepare moving a posted bundle sale's money from the deposit account to each LAO's income.

    `receipts` maps each LAO account code of the bundle to its receipt number and date.
    """
    bundle = session.get(LedgerRequest, bundle_request_id)
    if bundle is None or bundle.kind != REQUEST_BUNDLE_SALE or bundle.status != STATUS_POSTED:
        raise InvalidValue("bundle_not_found", f"ไม่พบการขายรวมเลขที่ {bundle_request_id}",
                           f"no posted bundle sale {bundle_request_id}")
    done = session.scalar(select(LedgerRequest.id).where(
        LedgerRequest.kind == REQUEST_SPLIT_DEPOSIT, LedgerRequest.status.in_((STATUS_PENDING, STATUS_APPROVED,
                                                                               STATUS_POSTED)),
        LedgerRequest.payload["bundle"].as_integer() == bundle_request_id,
    ))
    if done:
        raise RequestStateError("deposit_already_split", "เงินรับฝากของการขายรวมนี้มีคำขอแบ่งแล้ว",
                                f"bundle sale {bundle_request_id} already has split request {done}")
    parts = []
    for part in bundle.payload["parts"]:
        if part["account"] not in receipts:
            raise InvalidValue("missing_receipt", f"ต้องระบุใบเสร็จรับเงินของบัญชี {part['account']}",
                               f"no receipt for {part['account']}")
        number, day = receipts[part["account"]]
        parts.append({"account": part["account"], "satang": part["quantity"] * bundle.payload["price_satang"],
                      "receipt_number": _text(number, "เลขที่ใบเสร็จรับเงิน", "receipt number"),
                      "receipt_date": day.isoformat()})
    payload = {"bundle": bundle_request_id, "price_satang": bundle.payload["price_satang"], "parts": parts}
    return _prepare(session, officer, idempotency_key, REQUEST_SPLIT_DEPOSIT, dla_organization(session).id, payload,
                    letter_reference, None, now)


def prepare_retirement(session: Session, officer: User, *, idempotency_key: str, account_code: str, quantity: int,
                       beneficiary: str, purpose: str, letter_reference: str, reservation_id: int | None = None,
                       now: datetime | None = None) -> LedgerRequest:
    """Prepare retiring units on a buyer's behalf (final): from a buyer's account (DLA officer) or the officer's LAO."""
    account = get_account(session, account_code)
    if account.kind not in (ACCOUNT_BUYER, ACCOUNT_LAO, ACCOUNT_DLA):
        raise InvalidValue("not_retirable", f"บัญชี {account_code} ใช้ชดเชยไม่ได้",
                           f"units of account {account_code} cannot be retired")
    if reservation_id is not None:
        _reservation(session, reservation_id, account)
    quantity = _quantity(quantity)
    payload = {"account": account.code, "quantity": quantity, "reservation": reservation_id,
               "beneficiary": _text(beneficiary, "ชื่อผู้ใช้สิทธิชดเชย", "beneficiary"),
               "purpose": _text(purpose, "วัตถุประสงค์ของการชดเชย", "purpose")}
    bucket = BUCKET_RESERVED if reservation_id else BUCKET_AVAILABLE
    return _prepare(session, officer, idempotency_key, REQUEST_RETIRE, _owner_organization_id(session, account),
                    payload, letter_reference, None, now,
                    lambda: _check_enough(session, account, quantity, bucket=bucket, reservation_id=reservation_id))


def prepare_cancellation(session: Session, officer: User, *, idempotency_key: str, account_code: str, quantity: int,
                         reason: str, order_reference: str, letter_reference: str,
                         now: datetime | None = None) -> LedgerRequest:
    """Prepare an administrative cancellation (final) of available units, with its reason and order (DLA officer)."""
    account = get_account(session, account_code)
    if account.kind not in (ACCOUNT_DLA, ACCOUNT_LAO, ACCOUNT_BUYER):
        raise InvalidValue("not_cancellable", f"บัญชี {account_code} ยกเลิกหน่วยไม่ได้",
                           f"units of account {account_code} cannot be cancelled")
    quantity = _quantity(quantity)
    payload = {"account": account.code, "quantity": quantity, "reason": _text(reason, "เหตุผลของการยกเลิก", "reason"),
               "order_reference": _text(order_reference, "คำสั่งที่ให้ยกเลิก", "order reference")}
    return _prepare(session, officer, idempotency_key, REQUEST_CANCEL, dla_organization(session).id, payload,
                    letter_reference, None, now, lambda: _check_enough(session, account, quantity))


def prepare_reversal(session: Session, officer: User, *, idempotency_key: str, transaction_id: int, reason: str,
                     letter_reference: str, now: datetime | None = None) -> LedgerRequest:
    """Prepare the reversal of a posted issuance, allocation or sale whose units have not moved on (DLA officer)."""
    original = session.get(LedgerTransaction, transaction_id)
    check_reversible(session, original)
    payload = {"transaction": transaction_id, "reason": _text(reason, "เหตุผลของการกลับรายการ", "reason")}
    return _prepare(session, officer, idempotency_key, REQUEST_REVERSE, dla_organization(session).id, payload,
                    letter_reference, None, now, lambda: check_reversible(session, original))
