"""Ledger accounts: the system accounts, buyers, and lookups by code."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.ledger.chain import PendingEvents, append_event, lock_now
from workflow.ledger.errors import InvalidValue, NotFound
from workflow.ledger.models import (
    ACCOUNT_CANCELLATION,
    ACCOUNT_DEPOSIT,
    ACCOUNT_DLA,
    ACCOUNT_ISSUANCE,
    ACCOUNT_RETIREMENT,
    BUYER_KINDS,
    Account,
    Buyer,
    utcnow,
)
from workflow.models import Organization

DLA_CODE = "DLA"
# code, kind, Thai name
SYSTEM_ACCOUNTS = (
    ("ISSUANCE", ACCOUNT_ISSUANCE, "บัญชีรับรองคาร์บอนเครดิต (ต้นทางของการออกหน่วย)"),
    ("DLA", ACCOUNT_DLA, "บัญชีพักของกรมส่งเสริมการปกครองท้องถิ่น"),
    ("RETIREMENT", ACCOUNT_RETIREMENT, "บัญชีชดเชยการปล่อยก๊าซเรือนกระจก (ใช้แล้ว)"),
    ("CANCELLATION", ACCOUNT_CANCELLATION, "บัญชียกเลิกคาร์บอนเครดิต"),
    ("DEPOSIT", ACCOUNT_DEPOSIT, "บัญชีเงินรับฝากจากการขายรวมหลาย อปท."),
)
TAX_ID_RE = re.compile(r"^\d{13}$")


def lao_account_code(organization: Organization) -> str:
    return f"LAO-{organization.code}"


def dla_organization(session: Session) -> Organization:
    organization = session.scalar(select(Organization).where(Organization.code == DLA_CODE))
    if organization is None:
        raise NotFound("dla_missing", "ไม่พบกรมส่งเสริมการปกครองท้องถิ่นในทะเบียนหน่วยงาน",
                       "organization DLA is not in the directory; run saraban load-directory")
    return organization


def ensure_system_accounts(session: Session, head: PendingEvents) -> None:
    """Open the system accounts that are missing, each with an event.

    When any is missing, the chain head is locked before they are read again, so that two
    callers cannot both open them.
    """
    codes = [row[0] for row in SYSTEM_ACCOUNTS]
    existing = set(session.scalars(select(Account.code).where(Account.code.in_(codes))))
    if len(existing) == len(codes):
        return
    lock_now(session)
    existing = set(session.scalars(select(Account.code).where(Account.code.in_(codes))))
    organization = dla_organization(session)
    for code, kind, name in SYSTEM_ACCOUNTS:
        if code in existing:
            continue
        account = Account(code=code, kind=kind, name_th=name,
                          organization_id=organization.id if kind == ACCOUNT_DLA else None, opened_at=utcnow())
        session.add(account)
        session.flush()
        append_event(session, head, "account_opened", account.opened_at, account_record(account))


def account_record(account: Account) -> dict:
    return {
        "id": account.id,
        "code": account.code,
        "kind": account.kind,
        "name_th": account.name_th,
        "organization": account.organization_id,
        "buyer": account.buyer_id,
        "opening_request": account.opening_request_id,
        "routing_event": account.routing_event_id,
        "responsible_officer": account.responsible_officer_id,
    }


def get_account(session: Session, code: str, lock: bool = False) -> Account:
    query = select(Account).where(Account.code == code)
    if lock:
        query = query.with_for_update()
    account = session.scalar(query)
    if account is None:
        raise NotFound("account_not_found", f"ไม่พบบัญชีคาร์บอนเครดิต {code}", f"ledger account {code!r} not found")
    return account


def check_buyer_fields(kind: str, name_th: str, tax_id: str, address_th: str) -> None:
    if kind not in BUYER_KINDS:
        raise InvalidValue("invalid_buyer_kind", "ประเภทผู้ซื้อต้องเป็นบริษัท หน่วยงาน หรือบุคคล",
                           f"buyer kind {kind!r} is not one of {', '.join(BUYER_KINDS)}")
    if not (name_th or "").strip():
        raise InvalidValue("missing_buyer_name", "ต้องระบุชื่อผู้ซื้อ", "the buyer's name is missing")
    if not TAX_ID_RE.match(tax_id or "") or not tax_id_checksum_ok(tax_id):
        raise InvalidValue("invalid_tax_id", f"เลขประจำตัว “{tax_id}” ไม่ถูกต้อง (ต้องเป็นตัวเลข 13 หลักที่ถูกต้อง)",
                           f"tax or citizen id {tax_id!r} is not 13 digits with a valid check digit")
    if not (address_th or "").strip():
        raise InvalidValue("missing_buyer_address", "ต้องระบุที่อยู่ผู้ซื้อ", "the buyer's address is missing")


def tax_id_checksum_ok(tax_id: str) -> bool:
    """Check the 13th digit of a Thai citizen id or juristic person number (mod-11 check digit)."""
    total = sum(int(digit) * (13 - index) for index, digit in enumerate(tax_id[:12]))
    return (11 - total % 11) % 10 == int(tax_id[12])


def buyer_by_tax_id(session: Session, kind: str, tax_id: str) -> Buyer | None:
    return session.scalar(select(Buyer).where(Buyer.kind == kind, Buyer.tax_id == tax_id))
