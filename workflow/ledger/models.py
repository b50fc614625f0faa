"""Tables of the carbon-credit ledger: accounts, certification rounds, serial blocks, approvals,
transactions with their double entries, idempotency keys and the hash-chained event log.

Units of carbon credit are whole tonnes of CO2 equivalent (tCO2e); money is stored in satang
(1/100 baht) so that both are integers. The tables other than `ledger_events` are a projection
of the event log: `workflow.ledger.verify` replays the log and compares it with them.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    desc,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.models import Base, JsonValue, Organization, User, utcnow

def as_utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC datetime; SQLite returns the stored UTC time without its zone."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


# Account kinds.
ACCOUNT_ISSUANCE = "issuance"  # the contra account that certified credits come from
ACCOUNT_DLA = "dla_holding"
ACCOUNT_LAO = "lao"
ACCOUNT_BUYER = "buyer"
ACCOUNT_RETIREMENT = "retirement"
ACCOUNT_CANCELLATION = "cancellation"
ACCOUNT_DEPOSIT = "deposit"  # money of bundle sales, held until it is split among the LAOs
ACCOUNT_KINDS = (
    ACCOUNT_ISSUANCE, ACCOUNT_DLA, ACCOUNT_LAO, ACCOUNT_BUYER, ACCOUNT_RETIREMENT, ACCOUNT_CANCELLATION,
    ACCOUNT_DEPOSIT,
)
# Kinds whose credits count as held in the balance report.
HOLDING_KINDS = (ACCOUNT_DLA, ACCOUNT_LAO, ACCOUNT_BUYER, ACCOUNT_DEPOSIT)

BUYER_COMPANY = "company"
BUYER_AGENCY = "agency"
BUYER_PERSON = "person"
BUYER_KINDS = (BUYER_COMPANY, BUYER_AGENCY, BUYER_PERSON)

UNIT_TCO2E = "tco2e"
UNIT_SATANG = "satang"
BUCKET_AVAILABLE = "available"
BUCKET_RESERVED = "reserved"
SIDE_DEBIT = "debit"
SIDE_CREDIT = "credit"

# Request (approval) kinds.
REQUEST_OPEN_ACCOUNT = "open_account"
REQUEST_ISSUE = "issue"
REQUEST_ALLOCATE = "allocate"
REQUEST_RESERVE = "reserve"
REQUEST_RELEASE = "release"
REQUEST_TRANSFER = "transfer"
REQUEST_BUNDLE_SALE = "bundle_sale"
REQUEST_SPLIT_DEPOSIT = "split_deposit"
REQUEST_RETIRE = "retire"
REQUEST_CANCEL = "cancel"
REQUEST_REVERSE = "reverse"

STATUS_PENDING = "pending"  # prepared, waiting for the executive
STATUS_APPROVED = "approved"  # approved, waiting for DLA to confirm
STATUS_POSTED = "posted"
STATUS_REJECTED = "rejected"
STATUS_EXPIRED = "expired"
OPEN_STATUSES = (STATUS_PENDING, STATUS_APPROVED)
VOID_STATUSES = (STATUS_REJECTED, STATUS_EXPIRED)


class Buyer(Base):
    """A registered buyer of credits: a company, a government agency or a person."""

    __tablename__ = "ledger_buyers"
    __table_args__ = (UniqueConstraint("kind", "tax_id", name="uq_ledger_buyers_kind_tax_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_th: Mapped[str] = mapped_column(String(300))
    # The juristic person number of a company, the citizen id of a person, or an agency's tax id: 13 digits.
    tax_id: Mapped[str] = mapped_column(String(13))
    address_th: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[Optional[str]] = mapped_column(String(200))
    contact_email: Mapped[Optional[str]] = mapped_column(String(200))
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Account(Base):
    """One ledger account. Balances are not stored: they are sums of the account's entries."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "DLA", "ISSUANCE", "RETIREMENT", "CANCELLATION", "DEPOSIT", "LAO-<DLA code>" or "BUYER-<id>".
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name_th: Mapped[str] = mapped_column(String(300))
    organization_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organizations.id"), unique=True)
    buyer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ledger_buyers.id"), unique=True)
    # The approval that opened an LAO's account, and the routing event in which the LAO's
    # executive approved its responsible officer, when the circular went through this service.
    opening_request_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ledger_requests.id"))
    routing_event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("task_events.id"))
    responsible_officer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organization: Mapped[Optional[Organization]] = relationship()
    buyer: Mapped[Optional[Buyer]] = relationship()


class CertificationRound(Base):
    """One certification round (one monitoring period) as TGO certified it, with its serial block."""

    __tablename__ = "ledger_rounds"
    __table_args__ = (
        CheckConstraint("serial_end - serial_start + 1 = quantity", name="ck_ledger_rounds_serial_quantity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_number: Mapped[int] = mapped_column(Integer, unique=True)
    monitoring_start: Mapped[date] = mapped_column(Date)
    monitoring_end: Mapped[date] = mapped_column(Date)
    certified_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(BigInteger)
    # TGO registry's reference of the certification.
    registry_reference: Mapped[str] = mapped_column(String(100), unique=True)
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    request_id: Mapped[int] = mapped_column(ForeignKey("ledger_requests.id"))


class LedgerRequest(Base):
    """An approval: an operation prepared by one user, pending until approved, then posted or voided."""

    __tablename__ = "ledger_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Whose executive approves: the LAO for its own operations, DLA for issuance and administration.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    needs_dla_confirmation: Mapped[bool] = mapped_column(default=False)
    # The letter or written request the operation follows, as written (required).
    letter_reference: Mapped[str] = mapped_column(String(300))
    letter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official_letters.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonValue)
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    prepared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    confirmed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    voided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[Optional[str]] = mapped_column(Text)

    organization: Mapped[Organization] = relationship()
    prepared_by: Mapped[User] = relationship(foreign_keys=[prepared_by_id])


class LedgerTransaction(Base):
    """One posted transaction: its entries balance (debits equal credits) for each unit."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[int] = mapped_column(ForeignKey("ledger_requests.id"), unique=True)
    letter_reference: Mapped[str] = mapped_column(String(300))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The transaction this one reverses, for a reversal.
    reverses_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    # Sale details: the price per tonne in satang, and the LAO's receipt (ใบเสร็จรับเงิน).
    price_satang: Mapped[Optional[int]] = mapped_column(BigInteger)
    receipt_number: Mapped[Optional[str]] = mapped_column(String(60))
    receipt_date: Mapped[Optional[date]] = mapped_column(Date)
    # Retirement: on whose behalf and for what; cancellation: the reason and the order behind it.
    beneficiary: Mapped[Optional[str]] = mapped_column(String(300))
    purpose: Mapped[Optional[str]] = mapped_column(Text)
    order_reference: Mapped[Optional[str]] = mapped_column(String(300))

    request: Mapped[LedgerRequest] = relationship()
    entries: Mapped[list["LedgerEntry"]] = relationship(order_by="LedgerEntry.id", viewonly=True)


class LedgerEntry(Base):
    """One side of a transaction. An account's balance is its debits minus its credits."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_ledger_entries_amount_positive"),
        Index("ix_ledger_entries_account_unit", "account_id", "unit", "bucket"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    unit: Mapped[str] = mapped_column(String(8))
    bucket: Mapped[str] = mapped_column(String(12))
    side: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)

    account: Mapped[Account] = relationship()


class SerialBlock(Base):
    """A range of serials [serial_start, serial_end] held in one account.

    Blocks are never changed except to close them: a transfer closes the source block and
    opens new ones (the moved part and the remainder), so history stays readable.
    """

    __tablename__ = "ledger_blocks"
    __table_args__ = (
        CheckConstraint("serial_end >= serial_start", name="ck_ledger_blocks_range"),
        Index("ix_ledger_blocks_open", "account_id", "closed_by_transaction_id"),
        Index("ix_ledger_blocks_opened_by", "opened_by_transaction_id"),
        Index("ix_ledger_blocks_closed_by", "closed_by_transaction_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("ledger_rounds.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    bucket: Mapped[str] = mapped_column(String(12))
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    # The request that reserved it, for a block in the reserved bucket.
    reservation_request_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ledger_requests.id"))
    opened_by_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    closed_by_transaction_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ledger_transactions.id"))

    @property
    def quantity(self) -> int:
        return self.serial_end - self.serial_start + 1


class IdempotencyKey(Base):
    """A client-chosen key of one operation call, with the SHA-256 of its request and its result."""

    __tablename__ = "ledger_idempotency_keys"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    request_hash: Mapped[str] = mapped_column(String(64))
    # What the first call returned: {"type": "request" or "account", "id": ...}.
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JsonValue, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChainHead(Base):
    """The single row that every writer locks while it appends its events to the log, at commit."""

    __tablename__ = "ledger_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class LedgerEvent(Base):
    """One append-only event: `hash` is SHA-256 of `previous_hash` followed by `body`.

    `body` is the event's canonical JSON (sorted keys, no spaces, UTF-8), kept as text so
    that the hash can be recomputed byte for byte.
    """

    __tablename__ = "ledger_events"
    __table_args__ = (
        Index("ix_ledger_events_transaction_id", "transaction_id"),
        # A request's last event first; on PostgreSQL its kind is read from the index alone.
        Index("ix_ledger_events_request_last", "request_id", desc("id"), postgresql_include=["kind"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ledger_requests.id"), index=True)
    transaction_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ledger_transactions.id"))
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
