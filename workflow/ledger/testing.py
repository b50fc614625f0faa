"""Helpers for the ledger tests: staff of DLA and two Mae Sai LAOs, opened accounts, a buyer and a round."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

# Importing the ledger models registers their tables, which `workflow.routing.testing.reset` empties.
from workflow.ledger import models as _ledger_models  # noqa: F401
from workflow.ledger import operations
from workflow.models import User
from workflow.routing.testing import make_user

LAO_CODES = ("5570901", "5570902")
# A valid 13-digit juristic person number for the test bank (its check digit is correct).
BANK_TAX_ID = "0107536000315"
_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    """Return a fresh idempotency key."""
    return f"{prefix}-{next(_keys)}"


@dataclass
class LedgerStaff:
    dla_officer: User
    dla_head: User
    dla_deputy: User
    officers: dict[str, User] = field(default_factory=dict)
    executives: dict[str, User] = field(default_factory=dict)


def make_ledger_staff(session: Session) -> LedgerStaff:
    staff = LedgerStaff(
        dla_officer=make_user(session, "l.dla.officer", "DLA", "officer"),
        dla_head=make_user(session, "l.dla.head", "DLA", "supervisor", "ผู้อำนวยการกองส่งเสริมและพัฒนาการจัดการสิ่งแวดล้อมท้องถิ่น"),
        dla_deputy=make_user(session, "l.dla.deputy", "DLA", "supervisor", "รองอธิบดีกรมส่งเสริมการปกครองท้องถิ่น"),
    )
    for code in LAO_CODES:
        staff.officers[code] = make_user(session, f"l.{code}.officer", code, "officer")
        staff.executives[code] = make_user(session, f"l.{code}.exec", code, "supervisor")
    return staff


def open_lao_accounts(session: Session, staff: LedgerStaff) -> None:
    for code in LAO_CODES:
        request = operations.prepare_account_opening(session, staff.officers[code], idempotency_key=key("open"),
                                                     letter_reference="มท 0821.2/ว 1446")
        operations.approve(session, staff.executives[code], request.id, idempotency_key=key("approve"))


def register_bank(session: Session, staff: LedgerStaff) -> str:
    account = operations.register_buyer(
        session, staff.dla_officer, idempotency_key=key("buyer"), kind="company",
        name_th="ธนาคารกรุงไทย จำกัด (มหาชน)", tax_id=BANK_TAX_ID,
        address_th="35 ถนนสุขุมวิท แขวงคลองเตยเหนือ เขตวัฒนา กรุงเทพมหานคร 10110",
        contact_name="นางสาวณัฐธิดา วงศ์ใหญ่", contact_email="esg@example.co.th",
    )
    return account.code


def issue_and_allocate(session: Session, staff: LedgerStaff, quantity: int = 100,
                       bins: dict[str, int] | None = None, round_number: int = 3, serial_start: int = 1) -> None:
    request = operations.prepare_issue(
        session, staff.dla_officer, idempotency_key=key("issue"), round_number=round_number,
        monitoring_start=date(2023, 4, 1), monitoring_end=date(2023, 9, 30), certified_on=date(2024, 3, 15),
        quantity=quantity, registry_reference=f"T-VER-P-0001-R{round_number}", serial_start=serial_start,
        serial_end=serial_start + quantity - 1, letter_reference="อบก. ที่ 0001/2567",
    )
    operations.approve(session, staff.dla_head, request.id, idempotency_key=key("approve"))
    request = operations.prepare_allocation(
        session, staff.dla_officer, idempotency_key=key("allocate"), round_number=round_number,
        bins=bins or {"5570901": 3, "5570902": 1}, letter_reference="มท 0821.2/ว 2001",
    )
    operations.approve(session, staff.dla_head, request.id, idempotency_key=key("approve"))
