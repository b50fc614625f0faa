"""Read-only queries the ledger screens need: requests by state, serial lookup, totals by province, certificate checks.

Nothing here writes; the rules stay in `workflow.ledger.operations`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.ledger.certificates import TITLES, certificate_lines
from workflow.ledger.models import (
    ACCOUNT_BUYER,
    ACCOUNT_CANCELLATION,
    ACCOUNT_DEPOSIT,
    ACCOUNT_DLA,
    ACCOUNT_LAO,
    ACCOUNT_RETIREMENT,
    BUCKET_AVAILABLE,
    BUCKET_RESERVED,
    REQUEST_ALLOCATE,
    REQUEST_BUNDLE_SALE,
    REQUEST_RESERVE,
    REQUEST_SPLIT_DEPOSIT,
    OPEN_STATUSES,
    STATUS_APPROVED,
    STATUS_PENDING,
    STATUS_POSTED,
    Account,
    CertificationRound,
    LedgerEvent,
    LedgerRequest,
    LedgerTransaction,
    SerialBlock,
)
from workflow.models import ORG_PROVINCE_OFFICE, Organization

MAX_REQUESTS_SHOWN = 200
# Characters of the posted event's hash that a certificate's verification URL carries.
HASH_PREFIX_LENGTH = 16


def account_of_organization(session: Session, organization_id: int) -> Account | None:
    return session.scalar(select(Account).where(Account.organization_id == organization_id,
                                                Account.kind == ACCOUNT_LAO))


def bucket_totals(session: Session, account: Account) -> dict[str, int]:
    """Return the account's open units by bucket: {"available": n, "reserved": n}."""
    totals = {BUCKET_AVAILABLE: 0, BUCKET_RESERVED: 0}
    for block in session.scalars(select(SerialBlock).where(SerialBlock.account_id == account.id,
                                                           SerialBlock.closed_by_transaction_id.is_(None))):
        totals[block.bucket] += block.quantity
    return totals


def open_reservations(session: Session, account: Account | None = None) -> list[dict[str, Any]]:
    """Return posted reservations that still hold units, with the units left and the account.

    With `account`, only that account's reservations are returned. Without it, every LAO's are, for a bundle sale.
    """
    query = select(SerialBlock).where(SerialBlock.bucket == BUCKET_RESERVED,
                                      SerialBlock.closed_by_transaction_id.is_(None))
    if account is not None:
        query = query.where(SerialBlock.account_id == account.id)
    left: dict[int, int] = defaultdict(int)
    holders: dict[int, int] = {}
    for block in session.scalars(query):
        left[block.reservation_request_id] += block.quantity
        holders[block.reservation_request_id] = block.account_id
    requests = session.scalars(select(LedgerRequest).where(LedgerRequest.id.in_(list(left)),
                                                           LedgerRequest.kind == REQUEST_RESERVE,
                                                           LedgerRequest.status == STATUS_POSTED)
                               .order_by(LedgerRequest.id))
    return [{"request": request, "quantity": left[request.id], "account": session.get(Account, holders[request.id])}
            for request in requests]


def requests_of_organization(session: Session, organization_id: int) -> list[LedgerRequest]:
    return list(session.scalars(select(LedgerRequest).where(LedgerRequest.organization_id == organization_id)
                                .order_by(LedgerRequest.id.desc()).limit(MAX_REQUESTS_SHOWN)))


def pending_requests(session: Session, organization_id: int) -> list[LedgerRequest]:
    """Return the organization's requests waiting for its executive's approval, oldest first."""
    return list(session.scalars(select(LedgerRequest).where(LedgerRequest.organization_id == organization_id,
                                                            LedgerRequest.status == STATUS_PENDING)
                                .order_by(LedgerRequest.id)))


def awaiting_dla_confirmation(session: Session) -> list[LedgerRequest]:
    """Return LAO sales and retirements that their executives approved and DLA has yet to confirm."""
    return list(session.scalars(select(LedgerRequest).where(LedgerRequest.status == STATUS_APPROVED,
                                                            LedgerRequest.needs_dla_confirmation.is_(True))
                                .order_by(LedgerRequest.id)))


def rounds(session: Session) -> list[CertificationRound]:
    return list(session.scalars(select(CertificationRound).order_by(CertificationRound.round_number)))


def buyer_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.kind == ACCOUNT_BUYER).order_by(Account.name_th)))


def transaction_of_request(session: Session, request_id: int) -> LedgerTransaction | None:
    return session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == request_id))


@dataclass(frozen=True)
class SerialHolder:
    serial: int
    block: SerialBlock
    account: Account
    round: CertificationRound
    # The retirement that put the serial in the retirement account, for a retired serial.
    retirement: LedgerTransaction | None


def find_serial(session: Session, serial: int) -> SerialHolder | None:
    """Return the open block that contains `serial`, with its account, or None if no open block does."""
    block = session.scalar(select(SerialBlock).where(SerialBlock.serial_start <= serial,
                                                     SerialBlock.serial_end >= serial,
                                                     SerialBlock.closed_by_transaction_id.is_(None)))
    if block is None:
        return None
    account = session.get(Account, block.account_id)
    retirement = None
    if account.kind == ACCOUNT_RETIREMENT:
        retirement = session.get(LedgerTransaction, block.opened_by_transaction_id)
    return SerialHolder(serial, block, account, session.get(CertificationRound, block.round_id), retirement)


def _allocated_ranges(session: Session) -> tuple[list[int], list[tuple[int, int, str]]]:
    """Return the serial ranges each allocation gave to an LAO, as (start, end, province code), sorted."""
    reversed_ids = set(session.scalars(select(LedgerTransaction.reverses_id)
                                       .where(LedgerTransaction.reverses_id.is_not(None))))
    rows = session.execute(
        select(SerialBlock.serial_start, SerialBlock.serial_end, Organization.province_code, LedgerTransaction.id)
        .join(LedgerTransaction, LedgerTransaction.id == SerialBlock.opened_by_transaction_id)
        .join(Account, Account.id == SerialBlock.account_id)
        .join(Organization, Organization.id == Account.organization_id)
        .where(LedgerTransaction.kind == REQUEST_ALLOCATE, Account.kind == ACCOUNT_LAO)
        .order_by(SerialBlock.serial_start)
    )
    ranges = [(start, end, province) for start, end, province, transaction_id in rows
              if transaction_id not in reversed_ids]
    return [start for start, _, _ in ranges], ranges


def _split_by_province(block_start: int, block_end: int, starts: list[int],
                       ranges: list[tuple[int, int, str]]) -> dict[str, int]:
    """Count the serials of [block_start, block_end] that each province's allocations cover."""
    counts: dict[str, int] = defaultdict(int)
    index = max(bisect.bisect_right(starts, block_start) - 1, 0)
    while index < len(ranges) and ranges[index][0] <= block_end:
        start, end, province = ranges[index]
        overlap = min(end, block_end) - max(start, block_start) + 1
        if overlap > 0:
            counts[province] += overlap
        index += 1
    return counts


def province_totals(session: Session) -> list[dict[str, Any]]:
    """Return, per province, the units allocated to its LAOs and where those serials are now.

    A serial belongs to the province of the LAO that an allocation gave it to, so units an LAO
    sold and the buyer later retired still count for that province. Columns: `issued` (allocated
    to the province's LAOs), `held_lao`, `held_buyer` (buyers and the deposit account),
    `retired` and `cancelled`. Units DLA has not allocated appear in no province.
    """
    starts, ranges = _allocated_ranges(session)
    kinds = {ACCOUNT_LAO: "held_lao", ACCOUNT_BUYER: "held_buyer", ACCOUNT_DEPOSIT: "held_buyer",
             ACCOUNT_RETIREMENT: "retired", ACCOUNT_CANCELLATION: "cancelled", ACCOUNT_DLA: "held_dla"}
    totals: dict[str, dict[str, int]] = defaultdict(
        lambda: {"issued": 0, "held_lao": 0, "held_buyer": 0, "held_dla": 0, "retired": 0, "cancelled": 0})
    for start, end, province in ranges:
        totals[province]["issued"] += end - start + 1
    rows = session.execute(select(SerialBlock.serial_start, SerialBlock.serial_end, Account.kind)
                           .join(Account, Account.id == SerialBlock.account_id)
                           .where(SerialBlock.closed_by_transaction_id.is_(None)))
    for start, end, kind in rows:
        if kind not in kinds:
            continue
        for province, count in _split_by_province(start, end, starts, ranges).items():
            totals[province][kinds[kind]] += count
    names = {office.province_code: office.name_th.removeprefix("สำนักงานส่งเสริมการปกครองท้องถิ่น")
             for office in session.scalars(select(Organization).where(Organization.kind == ORG_PROVINCE_OFFICE,
                                                                      Organization.province_code.in_(list(totals))))}
    return [{"province": code, "name": names.get(code, code), **values} for code, values in sorted(totals.items())]


def verified_certificate(session: Session, transaction_id: int, hash_prefix: str) -> dict[str, Any] | None:
    """Return the certificate's title and lines if `hash_prefix` matches its posted event, else None."""
    transaction = session.get(LedgerTransaction, transaction_id)
    if transaction is None or transaction.kind not in TITLES:
        return None
    event = session.scalar(select(LedgerEvent).where(LedgerEvent.transaction_id == transaction.id,
                                                     LedgerEvent.kind == "posted"))
    prefix = hash_prefix.lower()
    if event is None or len(prefix) != HASH_PREFIX_LENGTH or not event.hash.startswith(prefix):
        return None
    return {"transaction": transaction, "title": TITLES[transaction.kind],
            "lines": certificate_lines(session, transaction), "hash": event.hash}


def units_held_by_dla(session: Session, round_id: int) -> int:
    """Return the round's units in DLA's holding account, available to allocate."""
    blocks = session.scalars(
        select(SerialBlock).join(Account, Account.id == SerialBlock.account_id)
        .where(Account.kind == ACCOUNT_DLA, SerialBlock.round_id == round_id, SerialBlock.bucket == BUCKET_AVAILABLE,
               SerialBlock.closed_by_transaction_id.is_(None))
    )
    return sum(block.quantity for block in blocks)


def organization_names(session: Session, codes: list[str]) -> dict[str, str]:
    """Return {organization code: Thai name} for the given codes."""
    rows = session.execute(select(Organization.code, Organization.name_th).where(Organization.code.in_(codes)))
    return dict(rows.all())


def account_by_code(session: Session, code: str) -> Account | None:
    return session.scalar(select(Account).where(Account.code == code))


def bundles_awaiting_split(session: Session) -> list[LedgerRequest]:
    """Return posted bundle sales whose deposit no pending, approved or posted split request covers yet."""
    split = {item.payload.get("bundle") for item in session.scalars(
        select(LedgerRequest).where(LedgerRequest.kind == REQUEST_SPLIT_DEPOSIT,
                                    LedgerRequest.status.in_((*OPEN_STATUSES, STATUS_POSTED))))}
    bundles = session.scalars(select(LedgerRequest).where(LedgerRequest.kind == REQUEST_BUNDLE_SALE,
                                                          LedgerRequest.status == STATUS_POSTED)
                              .order_by(LedgerRequest.id))
    return [bundle for bundle in bundles if bundle.id not in split]


def reversal_candidates(session: Session, limit: int = 20) -> list[LedgerTransaction]:
    """Return the latest posted issuances, allocations and sales that no reversal has reversed yet.

    The list does not check whether their units have moved on. Preparing the reversal checks that.
    """
    from workflow.ledger.handlers import REVERSIBLE_KINDS

    reversed_ids = select(LedgerTransaction.reverses_id).where(LedgerTransaction.reverses_id.is_not(None))
    return list(session.scalars(select(LedgerTransaction).where(LedgerTransaction.kind.in_(REVERSIBLE_KINDS),
                                                                LedgerTransaction.id.not_in(reversed_ids))
                                .order_by(LedgerTransaction.id.desc()).limit(limit)))


def registered_buyers(session: Session) -> list[dict[str, Any]]:
    """Return each buyer account with its buyer row and identity documents, by Thai name."""
    from workflow.ledger.buyers import BuyerDocument

    documents: dict[int, list] = defaultdict(list)
    for document in session.scalars(select(BuyerDocument).order_by(BuyerDocument.id)):
        documents[document.buyer_id].append(document)
    return [{"account": account, "buyer": account.buyer, "documents": documents[account.buyer_id]}
            for account in buyer_accounts(session)]


def request_by_id(session: Session, request_id: int) -> LedgerRequest | None:
    return session.get(LedgerRequest, request_id)
