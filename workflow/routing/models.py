"""Tables for routing circulars down the chain: registers, letters, endorsements, tasks and their events.

A task's append-only `TaskEvent` rows are the source of truth for its state. The task row
also stores the current state, and `TaskStateCount` stores counts of tasks per circular and
state. Both are updated in the same transaction as each appended event
(see `workflow.routing.state`), and `workflow.routing.stored_state` rebuilds them from the events.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.models import ROLE_ADMIN, Base, JsonValue, Organization, User, utcnow

# Registers with a running number that restarts every calendar year.
REGISTER_RECEIPT = "receipt"
REGISTER_CIRCULAR = "circular"
REGISTERS = (REGISTER_RECEIPT, REGISTER_CIRCULAR)

CAPACITY_SELF = "self"
CAPACITY_ON_BEHALF = "on_behalf"  # ปฏิบัติราชการแทน
CAPACITY_ACTING = "acting"  # รักษาราชการแทน
DELEGATION_CAPACITIES = (CAPACITY_ON_BEHALF, CAPACITY_ACTING)

# Task events, in the order they usually happen.
EVENT_DELIVERED = "delivered"
EVENT_RECEIVED = "received"
EVENT_ENDORSED = "endorsed"
EVENT_ASSIGNED = "assigned"
EVENT_FORWARDED = "forwarded"
EVENT_CONFIRMED = "confirmed"
EVENT_REPORTED = "reported"
EVENT_REJECTED = "rejected"
EVENT_OVERDUE = "overdue"
EVENT_CLOSED = "closed"
EVENT_KINDS = (
    EVENT_DELIVERED,
    EVENT_RECEIVED,
    EVENT_ENDORSED,
    EVENT_ASSIGNED,
    EVENT_FORWARDED,
    EVENT_CONFIRMED,
    EVENT_REPORTED,
    EVENT_REJECTED,
    EVENT_OVERDUE,
    EVENT_CLOSED,
)

# `TaskStateCount.due_on` of tasks that have no due date.
NO_DUE_DATE = date(9999, 12, 31)

NOTICE_REMINDER = "reminder"
NOTICE_ESCALATION = "escalation"


class StaffPosition(Base):
    """The official position a user signs with, e.g. `ท้องถิ่นอำเภอแม่สาย`."""

    __tablename__ = "staff_positions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    position_th: Mapped[str] = mapped_column(String(200))


class Delegation(Base):
    """Authority granted to a user by an order: on behalf of (ปฏิบัติราชการแทน) or acting for (รักษาราชการแทน)."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    capacity: Mapped[str] = mapped_column(String(16))
    # The position whose authority is exercised, e.g. `นายกเทศมนตรีตำบลแม่สาย`.
    principal_position_th: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    # The order that granted it, as written: `คำสั่งเทศบาลตำบลแม่สาย ที่ 45/2568`.
    order_reference: Mapped[str] = mapped_column(String(300))
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id])


class OfficeSettings(Base):
    """Per-office settings for issuing letters; an office without a row uses the defaults."""

    __tablename__ = "office_settings"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    # The book code in front of the office's letter numbers, e.g. `ชร 0023.6`.
    doc_prefix: Mapped[Optional[str]] = mapped_column(String(40))
    # Working days between this office's own due date and the parent letter's due date.
    internal_due_working_days: Mapped[int] = mapped_column(Integer, default=2)
    # Working days before a due date on which recipients get a reminder.
    reminder_working_days: Mapped[list[int]] = mapped_column(JsonValue, default=lambda: [2, 0])


class RegisterCounter(Base):
    """The next number of one office's register for one calendar year (CE)."""

    __tablename__ = "register_counters"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    register: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)


class DeclaredHoliday(Base):
    """A day off the cabinet declares on top of the official calendar."""

    __tablename__ = "declared_holidays"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name_th: Mapped[str] = mapped_column(String(200))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OfficialLetter(Base):
    """One official letter in the workflow, received from outside or issued by an office here.

    The same letter reaching an office through two channels is one row, found by its
    number and date.
    """

    __tablename__ = "official_letters"
    __table_args__ = (
        UniqueConstraint("doc_number", "letter_date", name="uq_official_letters_number_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Normalized as in the parse contract: `มท 0821.2/ว 1446`.
    doc_number: Mapped[Optional[str]] = mapped_column(String(60), index=True)
    is_circular: Mapped[bool] = mapped_column(Boolean, default=False)
    serial: Mapped[Optional[int]] = mapped_column(Integer)
    letter_date: Mapped[Optional[date]] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Optional[str]] = mapped_column(String(20))
    issuer_name: Mapped[Optional[str]] = mapped_column(String(300))
    # Set when an office in the directory issued the letter through this service.
    issuer_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organizations.id"), index=True)
    # The upper-level letter this one encloses and re-issues.
    parent_letter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official_letters.id"), index=True)
    # The top of the cascade (itself for a letter with no parent), so that a roll-up is one query.
    root_letter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official_letters.id"), index=True)
    # The parsed letter it was read from, when it came in as a file.
    source_letter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("letters.id"))
    due_nominal: Mapped[Optional[date]] = mapped_column(Date)
    due_effective: Mapped[Optional[date]] = mapped_column(Date)
    # How the due date was found: `stated`, `parent_minus_working_days`, `relative` ...
    due_rule: Mapped[Optional[str]] = mapped_column(String(40))
    due_text: Mapped[Optional[str]] = mapped_column(Text)
    # `ภายใน N (วันทำการ) นับแต่วันที่ได้รับหนังสือ`: counted from each recipient's own receipt.
    relative_days: Mapped[Optional[int]] = mapped_column(Integer)
    relative_working_days: Mapped[bool] = mapped_column(Boolean, default=False)
    # Fields each recipient fills in to confirm: [{"name", "label_th", "kind", "required"}].
    confirmation_form: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)
    signed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    signed_capacity: Mapped[Optional[str]] = mapped_column(String(16))
    delegation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("delegations.id"))
    # Paths of the generated covering letter (PDF, DOCX) once rendered; empty until then.
    covering_files: Mapped[dict[str, Any]] = mapped_column(JsonValue, default=dict)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    issuer_org: Mapped[Optional[Organization]] = relationship(foreign_keys=[issuer_org_id])
    parent: Mapped[Optional["OfficialLetter"]] = relationship(
        remote_side=[id], foreign_keys=[parent_letter_id]
    )
    citations: Mapped[list["LetterCitation"]] = relationship(
        back_populates="letter", order_by="LetterCitation.id", foreign_keys="LetterCitation.letter_id"
    )


class LetterCitation(Base):
    """A letter cited under อ้างถึง or enclosed under สิ่งที่ส่งมาด้วย, linked when it is known here."""

    __tablename__ = "letter_citations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("official_letters.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "reference" or "enclosure"
    text: Mapped[Optional[str]] = mapped_column(Text)
    cited_number: Mapped[Optional[str]] = mapped_column(String(60))
    cited_date: Mapped[Optional[date]] = mapped_column(Date)
    cited_letter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official_letters.id"), index=True)
    # How the link was found: "number_date", "date_subject", or null when it is not linked.
    matched_by: Mapped[Optional[str]] = mapped_column(String(16))

    letter: Mapped[OfficialLetter] = relationship(back_populates="citations", foreign_keys=[letter_id])
    cited_letter: Mapped[Optional[OfficialLetter]] = relationship(foreign_keys=[cited_letter_id])


class Receipt(Base):
    """One row of an office's receipt register (ทะเบียนหนังสือรับ)."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("organization_id", "year", "number", name="uq_receipts_org_year_number"),
        UniqueConstraint("organization_id", "letter_id", name="uq_receipts_org_letter"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("official_letters.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)  # calendar year (CE) of `received_at`
    number: Mapped[int] = mapped_column(Integer)
    # When the letter reached the office (the stamp), apart from when the clerk typed it in.
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(20))
    sender_text: Mapped[Optional[str]] = mapped_column(String(300))
    remarks: Mapped[Optional[str]] = mapped_column(Text)
    # Contradictions for the clerk to look at, e.g. a receipt dated before the letter.
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)

    letter: Mapped[OfficialLetter] = relationship()
    organization: Mapped[Organization] = relationship()


class ReceiptArrival(Base):
    """Each channel a registered letter came through; a repeat arrival adds a row, not a receipt."""

    __tablename__ = "receipt_arrivals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    arrived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Endorsement(Base):
    """A supervisor's เกษียนหนังสือ on a received letter: decision words, a note, and the capacity signed in."""

    __tablename__ = "endorsements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    endorsed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decisions: Mapped[list[str]] = mapped_column(JsonValue)
    # The division named in `มอบ <กอง> ดำเนินการ`.
    assigned_unit: Mapped[Optional[str]] = mapped_column(String(200))
    note: Mapped[Optional[str]] = mapped_column(Text)
    capacity: Mapped[str] = mapped_column(String(16))
    delegation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("delegations.id"))
    endorsed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoutingTask(Base):
    """One recipient's task for one circular, with its current state stored beside its events."""

    __tablename__ = "routing_tasks"
    # The unique constraint's index also serves lookups by letter alone.
    __table_args__ = (
        UniqueConstraint("letter_id", "recipient_org_id", name="uq_routing_tasks_letter_recipient"),
        # The inbox lists an office's tasks newest first, one page at a time.
        Index("ix_routing_tasks_recipient_org_id_id", "recipient_org_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("official_letters.id"))
    root_letter_id: Mapped[int] = mapped_column(ForeignKey("official_letters.id"))
    sender_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Null for a relative deadline until the recipient registers its receipt.
    due_nominal: Mapped[Optional[date]] = mapped_column(Date)
    due_effective: Mapped[Optional[date]] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The kind of the latest event other than `overdue`, as `state.derive_status` folds it.
    state: Mapped[str] = mapped_column(String(16), default=EVENT_DELIVERED, server_default=EVENT_DELIVERED)
    # True once the task has an `overdue` event.
    overdue_marked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    letter: Mapped[OfficialLetter] = relationship(foreign_keys=[letter_id])
    recipient: Mapped[Organization] = relationship(foreign_keys=[recipient_org_id])
    sender: Mapped[Organization] = relationship(foreign_keys=[sender_org_id])
    events: Mapped[list["TaskEvent"]] = relationship(order_by="TaskEvent.id", viewonly=True)


class TaskEvent(Base):
    """One append-only event of a task. Rows are inserted, never updated or deleted."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("routing_tasks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    # Event details: receipt number, assignee, form values, reason ...
    data: Mapped[dict[str, Any]] = mapped_column(JsonValue, default=dict)


class TaskStateCount(Base):
    """The number of tasks of one circular's cascade with one recipient kind, state and due date.

    The national dashboard sums these rows instead of reading millions of tasks. A task
    without a due date (a relative deadline not yet registered) is counted under NO_DUE_DATE,
    which is after every day, so it is never past due.
    """

    __tablename__ = "routing_state_counts"

    root_letter_id: Mapped[int] = mapped_column(ForeignKey("official_letters.id"), primary_key=True)
    # `Organization.kind` of the recipients: `lao`, `district_office` ...
    recipient_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    tasks: Mapped[int] = mapped_column(Integer, default=0)


class Notice(Base):
    """A reminder or an escalation produced by the scheduled jobs, for one office to read."""

    __tablename__ = "routing_notices"
    __table_args__ = (
        UniqueConstraint("task_id", "kind", "due_date", "working_days_before", name="uq_routing_notices_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("routing_tasks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date] = mapped_column(Date)
    working_days_before: Mapped[int] = mapped_column(Integer, default=0)
    message_th: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
