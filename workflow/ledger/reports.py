"""Read-only reports: balances, balances by area, account statements and serial holdings.

Balances are sums of entries (debits minus credits); nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from workflow.ledger.accounts import get_account
from workflow.ledger.models import (
    ACCOUNT_CANCELLATION,
    ACCOUNT_ISSUANCE,
    ACCOUNT_RETIREMENT,
    HOLDING_KINDS,
    SIDE_DEBIT,
    UNIT_SATANG,
    UNIT_TCO2E,
    Account,
    LedgerEntry,
    LedgerTransaction,
    SerialBlock,
)
from workflow.models import Organization

# Thai names of transaction kinds and buckets, for statements.
KIND_NAMES_TH = {
    "issue": "รับรองและออกหน่วย",
    "allocate": "จัดสรรตามจำนวนถังขยะเปียก",
    "reserve": "กันหน่วยไว้ขาย",
    "release": "ยกเลิกการกันหน่วย",
    "transfer": "ขายและโอนให้ผู้ซื้อ",
    "bundle_sale": "ขายรวมหลาย อปท.",
    "split_deposit": "แบ่งเงินรับฝากเป็นรายได้ อปท.",
    "retire": "ชดเชยการปล่อยก๊าซเรือนกระจก",
    "cancel": "ยกเลิกหน่วย",
    "reverse": "กลับรายการ",
}
BUCKET_NAMES_TH = {"available": "ใช้ได้", "reserved": "กันไว้"}
SIGNED_AMOUNT = case((LedgerEntry.side == SIDE_DEBIT, LedgerEntry.amount), else_=-LedgerEntry.amount)


def entry_balances(session: Session, unit: str = UNIT_TCO2E) -> dict[int, int]:
    """Return {account id: debits minus credits} in `unit`, over both buckets."""
    rows = session.execute(
        select(LedgerEntry.account_id, func.sum(SIGNED_AMOUNT)).where(LedgerEntry.unit == unit)
        .group_by(LedgerEntry.account_id)
    )
    return {account_id: int(total) for account_id, total in rows}


def _owner(account: Account) -> str:
    if account.buyer is not None:
        return account.buyer.name_th
    if account.organization is not None:
        return account.organization.name_th
    return "กรมส่งเสริมการปกครองท้องถิ่น"


def balances(session: Session) -> dict[str, Any]:
    """Return the totals and every holding account's balance in tCO2e, reserved units included.

    `accounts` lists the DLA, LAO, buyer and deposit accounts, so their balances add up to
    `total_held`; issued equals held plus retired plus cancelled.
    """
    totals = entry_balances(session)
    accounts = list(session.scalars(select(Account).order_by(Account.id)))
    by_kind: dict[str, int] = defaultdict(int)
    for account in accounts:
        by_kind[account.kind] += totals.get(account.id, 0)
    return {
        "total_issued": -by_kind[ACCOUNT_ISSUANCE],
        "total_held": sum(by_kind[kind] for kind in HOLDING_KINDS),
        "total_retired": by_kind[ACCOUNT_RETIREMENT],
        "total_cancelled": by_kind[ACCOUNT_CANCELLATION],
        "accounts": [
            {"account": account.code, "owner": _owner(account), "balance": totals.get(account.id, 0)}
            for account in accounts if account.kind in HOLDING_KINDS
        ],
    }


def money_balance(session: Session, code: str) -> int:
    """Return the account's money in satang: an LAO's sale income, the deposit's undistributed money."""
    account = get_account(session, code)
    return entry_balances(session, UNIT_SATANG).get(account.id, 0)


def open_blocks(session: Session, code: str) -> list[SerialBlock]:
    account = get_account(session, code)
    return list(session.scalars(
        select(SerialBlock).where(SerialBlock.account_id == account.id, SerialBlock.closed_by_transaction_id.is_(None))
        .order_by(SerialBlock.round_id, SerialBlock.serial_start)
    ))


def transaction_of(session: Session, request_id: int) -> LedgerTransaction | None:
    return session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == request_id))


def balances_by_area(session: Session, level: str) -> list[dict[str, Any]]:
    """Sum LAO balances (tCO2e) and income (satang) by `level`: "lao", "district" or "province"."""
    column = {"lao": Organization.code, "district": Organization.district_code,
              "province": Organization.province_code}[level]
    credits = entry_balances(session)
    money = entry_balances(session, UNIT_SATANG)
    rows = session.execute(select(Account.id, column).join(Organization, Organization.id == Account.organization_id)
                           .where(Account.kind == "lao"))
    grouped: dict[str, dict[str, int]] = defaultdict(lambda: {"accounts": 0, "balance": 0, "income_satang": 0})
    for account_id, area in rows:
        grouped[area]["accounts"] += 1
        grouped[area]["balance"] += credits.get(account_id, 0)
        grouped[area]["income_satang"] += money.get(account_id, 0)
    return [{"area": area, **values} for area, values in sorted(grouped.items())]


def statement(session: Session, code: str) -> list[dict[str, Any]]:
    """Return the account's entries in posting order with a running balance per unit."""
    account = get_account(session, code)
    rows = session.execute(
        select(LedgerEntry, LedgerTransaction).join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account_id == account.id).order_by(LedgerEntry.id)
    )
    running: dict[str, int] = defaultdict(int)
    lines = []
    for entry, transaction in rows:
        signed = entry.amount if entry.side == SIDE_DEBIT else -entry.amount
        running[entry.unit] += signed
        lines.append({
            "transaction": transaction.id, "kind": transaction.kind, "posted_at": transaction.posted_at.isoformat(),
            "letter_reference": transaction.letter_reference, "unit": entry.unit, "bucket": entry.bucket,
            "amount": signed, "balance": running[entry.unit],
        })
    return lines
