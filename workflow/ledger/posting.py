"""Posting: turn an approved request into a transaction whose entries balance and whose serial blocks move.

A move takes the lowest serials first (by round, then serial). It locks the source blocks
with SELECT ... FOR UPDATE and closes each with an UPDATE that requires it to be still open,
so a block can be spent once even if two postings race past the chain lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.ledger.errors import InsufficientCredits, RequestStateError
from workflow.ledger.models import (
    ACCOUNT_CANCELLATION,
    ACCOUNT_ISSUANCE,
    ACCOUNT_RETIREMENT,
    BUCKET_AVAILABLE,
    SIDE_CREDIT,
    SIDE_DEBIT,
    UNIT_SATANG,
    UNIT_TCO2E,
    Account,
    LedgerEntry,
    LedgerRequest,
    LedgerTransaction,
    SerialBlock,
    as_utc,
)

# Accounts whose serials never move again.
FINAL_KINDS = (ACCOUNT_RETIREMENT, ACCOUNT_CANCELLATION)


def block_record(block: SerialBlock, account_code: str) -> list[Any]:
    return [block.id, account_code, block.round_id, block.bucket, block.serial_start, block.serial_end,
            block.reservation_request_id]


def transaction_record(
    transaction: LedgerTransaction,
    entries: list[list[Any]],
    opened: list[list[Any]],
    closed: list[int],
) -> dict[str, Any]:
    """Return the transaction as the posted event records it; `verify` rebuilds the same from the tables."""
    return {
        "id": transaction.id,
        "kind": transaction.kind,
        "request": transaction.request_id,
        "letter_reference": transaction.letter_reference,
        "posted_at": as_utc(transaction.posted_at),
        "reverses": transaction.reverses_id,
        "price_satang": transaction.price_satang,
        "receipt_number": transaction.receipt_number,
        "receipt_date": transaction.receipt_date,
        "beneficiary": transaction.beneficiary,
        "purpose": transaction.purpose,
        "order_reference": transaction.order_reference,
        "entries": entries,
        "blocks_opened": opened,
        "blocks_closed": sorted(closed),
    }


class Posting:
    """One transaction being built: entries, and the serial blocks it opens and closes."""

    def __init__(self, session: Session, request: LedgerRequest, kind: str, now: datetime, **fields: Any):
        self.session = session
        self.transaction = LedgerTransaction(
            kind=kind, request_id=request.id, letter_reference=request.letter_reference, posted_at=now, **fields
        )
        session.add(self.transaction)
        session.flush()
        self.entries: list[LedgerEntry] = []
        self.opened: list[tuple[SerialBlock, str]] = []
        self.closed: list[int] = []

    def entry(self, account: Account, unit: str, bucket: str, side: str, amount: int) -> None:
        entry = LedgerEntry(transaction_id=self.transaction.id, account_id=account.id, unit=unit, bucket=bucket,
                            side=side, amount=amount)
        self.session.add(entry)
        self.entries.append((entry, account.code))

    def transfer(self, debit: Account, credit: Account, unit: str, amount: int,
                 debit_bucket: str = BUCKET_AVAILABLE, credit_bucket: str = BUCKET_AVAILABLE) -> None:
        """Add a balanced pair of entries: `debit` gains `amount`, `credit` loses it."""
        self.entry(debit, unit, debit_bucket, SIDE_DEBIT, amount)
        self.entry(credit, unit, credit_bucket, SIDE_CREDIT, amount)

    def money(self, debit: Account, credit: Account, satang: int) -> None:
        if satang > 0:
            self.transfer(debit, credit, UNIT_SATANG, satang)

    def open_block(self, account: Account, round_id: int, bucket: str, start: int, end: int,
                   reservation_id: int | None = None) -> SerialBlock:
        block = SerialBlock(round_id=round_id, account_id=account.id, bucket=bucket, serial_start=start,
                            serial_end=end, reservation_request_id=reservation_id,
                            opened_by_transaction_id=self.transaction.id)
        self.session.add(block)
        self.opened.append((block, account.code))
        return block

    def close_block(self, block: SerialBlock) -> None:
        result = self.session.execute(
            update(SerialBlock)
            .where(SerialBlock.id == block.id, SerialBlock.closed_by_transaction_id.is_(None))
            .values(closed_by_transaction_id=self.transaction.id)
        )
        if result.rowcount != 1:
            raise RequestStateError(
                "serials_already_moved",
                "หน่วยคาร์บอนเครดิตบางส่วนถูกโอนไปแล้วระหว่างทำรายการ กรุณาลองใหม่",
                f"serial block {block.id} was closed by another transaction",
            )
        self.closed.append(block.id)

    def open_blocks(self, account: Account, bucket: str, reservation_id: int | None = None,
                    round_id: int | None = None) -> list[SerialBlock]:
        """Lock and return the open blocks of `account` in `bucket`, lowest serials first."""
        query = (
            select(SerialBlock)
            .where(SerialBlock.account_id == account.id, SerialBlock.bucket == bucket,
                   SerialBlock.closed_by_transaction_id.is_(None))
            .order_by(SerialBlock.round_id, SerialBlock.serial_start)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if reservation_id is not None:
            query = query.where(SerialBlock.reservation_request_id == reservation_id)
        if round_id is not None:
            query = query.where(SerialBlock.round_id == round_id)
        return list(self.session.scalars(query))

    def move_units(self, source: Account, target: Account, quantity: int, *,
                   source_bucket: str = BUCKET_AVAILABLE, target_bucket: str = BUCKET_AVAILABLE,
                   reservation_id: int | None = None, target_reservation_id: int | None = None,
                   round_id: int | None = None) -> list[SerialBlock]:
        """Move `quantity` units from the lowest serials of `source` to `target`, splitting the last block."""
        assert source.kind not in FINAL_KINDS + (ACCOUNT_ISSUANCE,), f"units never leave {source.code}"
        assert quantity > 0
        blocks = self.open_blocks(source, source_bucket, reservation_id, round_id)
        held = sum(block.quantity for block in blocks)
        if held < quantity:
            raise InsufficientCredits(
                "insufficient_credits",
                f"บัญชี {source.name_th} มีคาร์บอนเครดิตที่ใช้ได้ {held:,} tCO2e ไม่พอสำหรับ {quantity:,} tCO2e",
                f"account {source.code} holds {held} tCO2e in {source_bucket}, {quantity} requested",
            )
        moved: list[SerialBlock] = []
        needed = quantity
        for block in blocks:
            if needed == 0:
                break
            take = min(needed, block.quantity)
            self.close_block(block)
            moved.append(self.open_block(target, block.round_id, target_bucket, block.serial_start,
                                         block.serial_start + take - 1, target_reservation_id))
            if take < block.quantity:
                self.open_block(source, block.round_id, block.bucket, block.serial_start + take, block.serial_end,
                                block.reservation_request_id)
            needed -= take
        self.transfer(target, source, UNIT_TCO2E, quantity, target_bucket, source_bucket)
        return moved

    def finish(self) -> dict[str, Any]:
        """Flush the rows, check that debits equal credits per unit, and return the event record."""
        self.session.flush()
        totals: dict[str, int] = {}
        for entry, _code in self.entries:
            totals[entry.unit] = totals.get(entry.unit, 0) + (entry.amount if entry.side == SIDE_DEBIT else -entry.amount)
        assert all(value == 0 for value in totals.values()), f"unbalanced transaction: {totals}"
        return transaction_record(
            self.transaction,
            [[entry.id, code, entry.unit, entry.bucket, entry.side, entry.amount] for entry, code in self.entries],
            [block_record(block, code) for block, code in self.opened],
            self.closed,
        )
