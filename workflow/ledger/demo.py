"""Demo data for the ledger: a certification round for Chiang Rai's LAOs, one sale and one retirement.

`load` expects the routing demo to have run (`workflow.routing.demo.run_demo`), so that Mae
Sai's LAOs have approved responsible officers; their accounts link those approvals. Other
Chiang Rai LAOs get a demo officer and executive and open their accounts without a routing
event. The round, its registry reference, the bin counts, the bank and all people are made
up; the price is DLA's reference price. Every call uses fixed idempotency keys, so running
`load` again adds nothing.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.ledger import operations, reports
from workflow.ledger.accounts import lao_account_code
from workflow.ledger.models import Account, CertificationRound, LedgerRequest
from workflow.models import ORG_LAO, ROLE_OFFICER, ROLE_SUPERVISOR, Organization, User
from workflow.routing import admin
from workflow.routing.calendar import BANGKOK
from workflow.routing.demo import DEMO_PASSWORD, _demo_password_hash

PROVINCE = "57"
ROUND_NUMBER = 5
SERIAL_START = 1_000_001
SELLER = "5570901"
SALE_TONNES = 20
RETIRED_TONNES = 10
BANK_TAX_ID = "0107536000315"
# When each step happens (Bangkok time): accounts after the LAOs named their officers, the
# round after TGO certified it, then the sale and the retirement.
OPENED_AT = datetime(2025, 4, 10, 10, tzinfo=BANGKOK)
ISSUED_AT = datetime(2025, 8, 20, 10, tzinfo=BANGKOK)
SOLD_AT = datetime(2025, 9, 1, 14, tzinfo=BANGKOK)
RETIRED_AT = datetime(2025, 9, 15, 11, tzinfo=BANGKOK)


def _user(session: Session, username: str, name: str, organization: Organization, role: str,
          position: str | None) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = admin.create_staff_user(session, None, username, name, DEMO_PASSWORD, organization.code, role,
                                       position, password_hash=_demo_password_hash())
    return user


def _lao_staff(session: Session, lao: Organization) -> tuple[User, User]:
    base = f"demo.lao{lao.code}"
    officer = _user(session, f"{base}.officer", f"นักวิชาการสิ่งแวดล้อม {lao.name_th}", lao, ROLE_OFFICER,
                    "นักวิชาการสิ่งแวดล้อม")
    executive = _user(session, f"{base}.executive", f"ผู้บริหาร {lao.name_th}", lao, ROLE_SUPERVISOR,
                      f"ผู้บริหาร{lao.name_th}")
    return officer, executive


def demo_bins(lao_code: str) -> int:
    """Return a made-up, repeatable count of verified bins (1,000-3,999) for an LAO."""
    return 1000 + int(hashlib.sha256(lao_code.encode()).hexdigest()[:6], 16) % 3000


def _open_accounts(session: Session, laos: list[Organization]) -> dict[str, tuple[User, User]]:
    staff = {}
    for lao in laos:
        officer, executive = _lao_staff(session, lao)
        staff[lao.code] = (officer, executive)
        if session.scalar(select(Account.id).where(Account.code == lao_account_code(lao))):
            continue
        request = operations.prepare_account_opening(session, officer, idempotency_key=f"demo-open-{lao.code}",
                                                     letter_reference="มท 0821.2/ว 1446", now=OPENED_AT)
        operations.approve(session, executive, request.id, idempotency_key=f"demo-open-approve-{lao.code}",
                           now=OPENED_AT)
    return staff


def _round(session: Session, dla_officer: User, dla_head: User, laos: list[Organization]) -> None:
    bins = {lao.code: demo_bins(lao.code) for lao in laos}
    # About 0.045 tCO2e per bin per year, over the six months of the monitoring period.
    quantity = round(sum(bins.values()) * 0.045 / 2)
    if session.scalar(select(CertificationRound.id).where(CertificationRound.round_number == ROUND_NUMBER)) is None:
        request = operations.prepare_issue(
            session, dla_officer, idempotency_key="demo-issue", round_number=ROUND_NUMBER,
            monitoring_start=date(2024, 10, 1), monitoring_end=date(2025, 3, 31), certified_on=date(2025, 8, 15),
            quantity=quantity, registry_reference="T-VER-DEMO-2025-05", serial_start=SERIAL_START,
            serial_end=SERIAL_START + quantity - 1, letter_reference="อบก. (ตัวอย่าง) ที่ 0123/2568", now=ISSUED_AT,
        )
        operations.approve(session, dla_head, request.id, idempotency_key="demo-issue-approve", now=ISSUED_AT)
    if session.scalar(select(LedgerRequest.id).where(LedgerRequest.kind == "allocate")) is None:
        request = operations.prepare_allocation(
            session, dla_officer, idempotency_key="demo-allocate", round_number=ROUND_NUMBER, bins=bins,
            letter_reference="มท 0821.2/ว 2050 (ตัวอย่าง)", now=ISSUED_AT,
        )
        operations.approve(session, dla_head, request.id, idempotency_key="demo-allocate-approve", now=ISSUED_AT)


def load(session: Session) -> str:
    """Add the demo round, allocation, sale and retirement; return a Thai summary line."""
    dla = session.scalar(select(Organization).where(Organization.code == "DLA"))
    dla_officer = _user(session, "demo.dla.carbon", "นางสาวสุภาวดี แสงทอง", dla, ROLE_OFFICER,
                        "นักวิชาการสิ่งแวดล้อมชำนาญการ")
    dla_head = session.scalar(select(User).where(User.username == "demo.dla.director"))
    laos = list(session.scalars(select(Organization).where(Organization.kind == ORG_LAO,
                                                           Organization.province_code == PROVINCE)
                                .order_by(Organization.code)))
    staff = _open_accounts(session, laos)
    _round(session, dla_officer, dla_head, laos)

    bank = operations.register_buyer(
        session, dla_officer, idempotency_key="demo-buyer", kind="company", name_th="ธนาคารตัวอย่าง จำกัด (มหาชน)",
        tax_id=BANK_TAX_ID, address_th="99 ถนนพหลโยธิน แขวงสามเสนใน เขตพญาไท กรุงเทพมหานคร 10400",
        contact_name="นายธนพล รักษ์โลก", contact_email="esg@bank.example", now=SOLD_AT,
    )
    officer, executive = staff[SELLER]
    sale = operations.prepare_transfer(
        session, officer, idempotency_key="demo-sale", buyer_account=bank.code, quantity=SALE_TONNES,
        receipt_number="รบ 0042/2568", receipt_date=date(2025, 9, 1),
        letter_reference="ธนาคารตัวอย่าง ที่ ESG 015/2568", now=SOLD_AT,
    )
    operations.approve(session, executive, sale.id, idempotency_key="demo-sale-approve", now=SOLD_AT)
    operations.confirm(session, dla_head, sale.id, idempotency_key="demo-sale-confirm", now=SOLD_AT)
    retirement = operations.prepare_retirement(
        session, dla_officer, idempotency_key="demo-retire", account_code=bank.code, quantity=RETIRED_TONNES,
        beneficiary="ธนาคารตัวอย่าง จำกัด (มหาชน)",
        purpose="ชดเชยการปล่อยก๊าซเรือนกระจกจากการใช้ไฟฟ้าของสำนักงานใหญ่ ปี 2567",
        letter_reference="ธนาคารตัวอย่าง ที่ ESG 021/2568", now=RETIRED_AT,
    )
    operations.approve(session, dla_head, retirement.id, idempotency_key="demo-retire-approve", now=RETIRED_AT)
    totals = reports.balances(session)
    return (f"บัญชีคาร์บอนเครดิต: อปท. เชียงราย {len(laos)} แห่ง ออกหน่วย {totals['total_issued']:,} tCO2e"
            f" ขาย {SALE_TONNES} tCO2e ชดเชย {totals['total_retired']:,} tCO2e")
