"""Letters that arrive from outside: find the one record of a letter and link the letters it cites.

Input is a LETTER object of the parse contract (`saraban parse --json`), or the few keys of it
a clerk types in: `doc_number`, `date`, `subject`, `issuer`, `urgency`, `references`,
`enclosures`.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parsers.docnum import parse_docnum
from workflow.routing.calendar import load_calendar
from workflow.routing.errors import InvalidValue
from workflow.routing.models import LetterCitation, OfficialLetter

log = logging.getLogger(__name__)

MAX_SUBJECT_LENGTH = 2000
URGENCIES = ("most_urgent", "very_urgent", "urgent")


def normalize_doc_number(value: str | dict | None) -> dict | None:
    """Return the DOCNUM dict for a number as written (Thai or Arabic digits, any spacing), or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("text")
        if not value:
            return None
    return parse_docnum(str(value))


def _same_subject(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return " ".join(unicodedata.normalize("NFC", a).split()) == " ".join(unicodedata.normalize("NFC", b).split())


def _parse_iso_date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidValue(
            "invalid_date",
            f"วันที่ “{value}” ในช่อง {field} ไม่ถูกต้อง ต้องเป็นวันที่ ค.ศ. แบบ YYYY-MM-DD",
            f"{field}: {value!r} is not an ISO date",
        ) from None


def find_letter(session: Session, doc_number: str | None, letter_date: date | None, subject: str | None,
                issuer_name: str | None) -> OfficialLetter | None:
    """Return the stored letter with this number and date; without a number, the one with this date, issuer and subject."""
    if doc_number:
        return session.scalar(
            select(OfficialLetter).where(
                OfficialLetter.doc_number == doc_number, OfficialLetter.letter_date == letter_date
            )
        )
    if letter_date is None or not subject:
        return None
    candidates = session.scalars(
        select(OfficialLetter).where(
            OfficialLetter.doc_number.is_(None),
            OfficialLetter.letter_date == letter_date,
            OfficialLetter.issuer_name == issuer_name,
        )
    )
    return next((letter for letter in candidates if _same_subject(letter.subject, subject)), None)


def find_or_create_letter(session: Session, data: dict, created_by_id: int) -> tuple[OfficialLetter, bool]:
    """Return the one record of the letter `data` describes, creating it and its citations when new.

    Must run inside the caller's transaction. Raises InvalidValue for a letter without a
    subject, with an invalid date, or with a number that cannot be read.
    """
    subject = (data.get("subject") or "").strip()
    if not subject:
        raise InvalidValue("missing_subject", "หนังสือต้องมีเรื่อง", "the letter has no subject")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise InvalidValue(
            "subject_too_long",
            f"เรื่องยาวเกิน {MAX_SUBJECT_LENGTH} ตัวอักษร",
            f"subject is {len(subject)} characters, over {MAX_SUBJECT_LENGTH}",
        )
    raw_number = data.get("doc_number")
    docnum = normalize_doc_number(raw_number)
    if raw_number and docnum is None:
        number_text = raw_number.get("text") if isinstance(raw_number, dict) else raw_number
        raise InvalidValue(
            "invalid_doc_number",
            f"อ่านเลขที่หนังสือ “{number_text}” ไม่ได้ ตัวอย่างที่ถูกต้อง: ชร 0023.6/ว 3200",
            f"cannot read document number {number_text!r}",
        )
    letter_date = _parse_iso_date(data.get("date"), "date")
    urgency = data.get("urgency")
    if urgency is not None and urgency not in URGENCIES:
        raise InvalidValue("invalid_urgency", f"ไม่รู้จักชั้นความเร็ว “{urgency}”", f"unknown urgency {urgency!r}")
    issuer_name = data.get("issuer")
    doc_text = docnum["text"] if docnum else None
    deadline = _first_deadline(session, data.get("deadlines") or [])

    existing = find_letter(session, doc_text, letter_date, subject, issuer_name)
    if existing is not None:
        return existing, False

    letter, inserted = _insert_letter(session, OfficialLetter(
        doc_number=doc_text,
        is_circular=bool(docnum and docnum["circular"]),
        serial=docnum["serial"] if docnum else None,
        letter_date=letter_date,
        subject=subject,
        urgency=urgency,
        issuer_name=issuer_name,
        source_letter_id=data.get("source_letter_id"),
        warnings=list(data.get("warnings") or []),
        created_by_id=created_by_id,
        confirmation_form=[],
        covering_files={},
        **deadline,
    ))
    if not inserted:
        return letter, False
    letter.root_letter_id = letter.id
    for role, key in (("reference", "references"), ("enclosure", "enclosures")):
        for citation in data.get(key) or []:
            _add_citation(session, letter, role, citation)
    _adopt_enclosed_parent(letter)
    log.info("letter %s (%s, %s) recorded", letter.id, doc_text, letter_date)
    return letter, True


def _first_deadline(session: Session, deadlines: list[dict]) -> dict[str, Any]:
    """Return the OfficialLetter deadline columns for the first deadline of a parsed letter.

    A `due` deadline gives its `date` (already the day before X for `ก่อนวันที่ X`), a
    `window` its `end`. The effective date moves a day off to the next working day. A
    `relative` deadline counted from receipt gives the number of days. Start dates and
    the other kinds give nothing.
    """
    for item in deadlines:
        kind = item.get("kind")
        if kind in ("due", "window"):
            nominal = _parse_iso_date(item.get("end") if kind == "window" else item.get("date"), "deadline")
            if nominal is None:
                continue
            effective = load_calendar(session).effective_due(nominal)
            return {"due_nominal": nominal, "due_effective": effective, "due_rule": "stated",
                    "due_text": item.get("text")}
        if kind == "relative" and item.get("counted_from") == "receipt" and item.get("days"):
            return {"relative_days": int(item["days"]), "relative_working_days": bool(item.get("working_days")),
                    "due_rule": "relative", "due_text": item.get("text")}
    return {}


def _insert_letter(session: Session, letter: OfficialLetter) -> tuple[OfficialLetter, bool]:
    """Insert `letter`, or return the row another office inserted for the same number and date meanwhile.

    Two offices may register the same new letter at once. On PostgreSQL the second insert
    fails on the (doc_number, letter_date) constraint, so it runs in a savepoint and the
    committed row is read instead. SQLite runs write operations one at a time, so there a
    plain insert is enough. Returns the letter and whether this call inserted it.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.add(letter)
        session.flush()
        return letter, True
    try:
        with session.begin_nested():
            session.add(letter)
            session.flush()
    except IntegrityError:
        existing = find_letter(session, letter.doc_number, letter.letter_date, letter.subject, letter.issuer_name)
        if existing is None:
            raise
        log.info("letter %s of %s was recorded meanwhile by another office", letter.doc_number, letter.letter_date)
        return existing, False
    return letter, True


def _add_citation(session: Session, letter: OfficialLetter, role: str, citation: dict) -> LetterCitation:
    docnum = normalize_doc_number(citation.get("doc_number") or citation.get("text"))
    cited_date = _parse_iso_date(citation.get("date"), f"{role} date")
    cited, matched_by = link_citation(
        session, docnum["text"] if docnum else None, cited_date, letter.subject, exclude_id=letter.id
    )
    row = LetterCitation(
        letter_id=letter.id,
        role=role,
        text=citation.get("text"),
        cited_number=docnum["text"] if docnum else None,
        cited_date=cited_date,
        cited_letter=cited,
        matched_by=matched_by,
    )
    letter.citations.append(row)
    return row


def link_citation(
    session: Session,
    cited_number: str | None,
    cited_date: date | None,
    citing_subject: str | None,
    exclude_id: int | None = None,
) -> tuple[OfficialLetter | None, str | None]:
    """Find the stored letter a citation names: by number and date first, then by date and subject.

    The second rule catches a citation whose number was mistyped (`ว 9201` for `ว 3200`):
    a re-issued circular keeps the subject of the letter it encloses. It links only when
    exactly one letter of that date has the same subject.
    """
    if cited_number and cited_date:
        found = session.scalar(
            select(OfficialLetter).where(
                OfficialLetter.doc_number == cited_number, OfficialLetter.letter_date == cited_date
            )
        )
        if found is not None:
            return found, "number_date"
    if cited_date and citing_subject:
        same_day = session.scalars(
            select(OfficialLetter).where(OfficialLetter.letter_date == cited_date, OfficialLetter.id != exclude_id)
        )
        matches = [item for item in same_day if _same_subject(item.subject, citing_subject)]
        if len(matches) == 1:
            return matches[0], "date_subject"
    return None, None


def _adopt_enclosed_parent(letter: OfficialLetter) -> None:
    """Take the first linked enclosure as the upper-level letter this one re-issues."""
    for citation in letter.citations:
        if citation.role == "enclosure" and citation.cited_letter is not None:
            letter.parent_letter_id = citation.cited_letter.id
            letter.root_letter_id = citation.cited_letter.root_letter_id or citation.cited_letter.id
            return
