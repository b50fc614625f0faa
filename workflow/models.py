"""Database models. They only model: the rules that change them live in `workflow.operations`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JsonValue = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


# Organization kinds, from the top of the Ministry of Interior's local-administration line down.
ORG_DEPARTMENT = "department"
ORG_PROVINCE_OFFICE = "province_office"
ORG_DISTRICT_OFFICE = "district_office"
ORG_LAO = "lao"


class Organization(Base):
    """An office in the directory: DLA, a provincial or district office, or a local organization (LAO)."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "DLA", "PROV-57", "DIST-5709", or the LAO's 7-digit DLA code.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name_th: Mapped[str] = mapped_column(String(200))
    # LAO type from the DLA registry (subdistrict_admin_org, city_municipality ...); null for offices.
    lao_type: Mapped[Optional[str]] = mapped_column(String(32))
    province_code: Mapped[Optional[str]] = mapped_column(String(2), index=True)
    district_code: Mapped[Optional[str]] = mapped_column(String(4), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organizations.id"), index=True)

    parent: Mapped[Optional["Organization"]] = relationship(remote_side=[id])


ROLE_CLERK = "clerk"
ROLE_SUPERVISOR = "supervisor"
ROLE_OFFICER = "officer"
# Manages the directory, calendars and delegations.
ROLE_ADMIN = "admin"
ROLES = (ROLE_CLERK, ROLE_SUPERVISOR, ROLE_OFFICER, ROLE_ADMIN)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organization: Mapped[Organization] = relationship()


class Document(Base):
    """One uploaded file, stored once by the SHA-256 of its bytes."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    # The organization that received the file first; its staff may correct the parse.
    organization_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organizations.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Filled from the parse result once a parse job succeeds.
    pages: Mapped[Optional[int]] = mapped_column(Integer)
    text_source: Mapped[Optional[str]] = mapped_column(String(16))
    schema: Mapped[Optional[str]] = mapped_column(String(40))
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)

    uploaded_by: Mapped[Optional[User]] = relationship()
    organization: Mapped[Optional[Organization]] = relationship()
    jobs: Mapped[list["ParseJob"]] = relationship(
        back_populates="document", order_by="ParseJob.created_at"
    )
    letters: Mapped[list["Letter"]] = relationship(
        back_populates="document", order_by="Letter.position", cascade="all, delete-orphan"
    )

    @property
    def latest_job(self) -> Optional["ParseJob"]:
        return self.jobs[-1] if self.jobs else None


JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"


class ParseJob(Base):
    """A parse of one document; the web page polls its status and page progress."""

    __tablename__ = "parse_jobs"

    # A uuid4 hex, also used as the rq job id so that log lines match across processes.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JOB_QUEUED)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    pages_total: Mapped[Optional[int]] = mapped_column(Integer)
    error_code: Mapped[Optional[str]] = mapped_column(String(40))
    error_message_th: Mapped[Optional[str]] = mapped_column(Text)
    error_message_en: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    document: Mapped[Document] = relationship(back_populates="jobs")


class Letter(Base):
    """One letter found in a document (a file may hold a cover letter and the letters it encloses)."""

    __tablename__ = "letters"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    first_page: Mapped[Optional[int]] = mapped_column(Integer)
    last_page: Mapped[Optional[int]] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # The parser's span map, kept whole: it may name sub-fields that have no row of their own.
    spans: Mapped[dict[str, Any]] = mapped_column(JsonValue, default=dict)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)

    document: Mapped[Document] = relationship(back_populates="letters")
    fields: Mapped[list["LetterField"]] = relationship(
        back_populates="letter", order_by="LetterField.position", cascade="all, delete-orphan"
    )


class LetterField(Base):
    """One field of a letter as the parser read it; corrections are kept in `FieldCorrection`."""

    __tablename__ = "letter_fields"
    __table_args__ = (UniqueConstraint("letter_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    parsed_value: Mapped[Any] = mapped_column(JsonValue, nullable=True)
    span_start: Mapped[Optional[int]] = mapped_column(Integer)
    span_end: Mapped[Optional[int]] = mapped_column(Integer)

    letter: Mapped[Letter] = relationship(back_populates="fields")
    corrections: Mapped[list["FieldCorrection"]] = relationship(
        back_populates="field", order_by="FieldCorrection.id", cascade="all, delete-orphan"
    )

    @property
    def latest_correction(self) -> Optional["FieldCorrection"]:
        return self.corrections[-1] if self.corrections else None

    @property
    def value(self) -> Any:
        """The value to show: the latest correction, or the parsed value when there is none."""
        latest = self.latest_correction
        return latest.new_value if latest is not None else self.parsed_value


class FieldCorrection(Base):
    """An append-only record of one correction: who, when, the parsed value and the new value."""

    __tablename__ = "field_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("letter_fields.id"), index=True)
    corrected_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    corrected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    parsed_value: Mapped[Any] = mapped_column(JsonValue, nullable=True)
    previous_value: Mapped[Any] = mapped_column(JsonValue, nullable=True)
    new_value: Mapped[Any] = mapped_column(JsonValue, nullable=True)

    field: Mapped[LetterField] = relationship(back_populates="corrections")
    corrected_by: Mapped[User] = relationship()
