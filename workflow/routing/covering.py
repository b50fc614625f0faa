"""The covering letter of an issued circular, drawn by `workflow.documents.covering_letter`.

Rendering is kept out of `forward_circular` so that a forward stays one quick transaction:
`write_covering_files` renders an issued circular afterwards and records where its PDF and
DOCX were written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.db import transaction
from workflow.models import ORG_DEPARTMENT, ORG_DISTRICT_OFFICE, ORG_LAO, ORG_PROVINCE_OFFICE, Organization, User
from workflow.routing.errors import NotFound
from workflow.routing.models import CAPACITY_SELF, Delegation, OfficialLetter, RoutingTask, StaffPosition
from workflow.thaidate import format_be_date

log = logging.getLogger(__name__)

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")

# Salutation of a circular to all its recipients of one kind.
ADDRESSEES = {
    ORG_PROVINCE_OFFICE: "ผู้ว่าราชการจังหวัด ทุกจังหวัด",
    ORG_DISTRICT_OFFICE: "นายอำเภอ ทุกอำเภอ",
    ORG_LAO: "นายกองค์กรปกครองส่วนท้องถิ่น ทุกแห่ง",
    ORG_DEPARTMENT: "อธิบดีกรมส่งเสริมการปกครองท้องถิ่น",
}


def _addressee(session: Session, letter: OfficialLetter) -> str:
    kinds = session.scalars(
        select(Organization.kind)
        .join(RoutingTask, RoutingTask.recipient_org_id == Organization.id)
        .where(RoutingTask.letter_id == letter.id)
        .distinct()
    ).all()
    return " และ".join(ADDRESSEES[kind] for kind in sorted(kinds, key=list(ADDRESSEES).index)) or "ผู้รับ ทุกแห่ง"


def build_covering_letter(session: Session, letter: OfficialLetter, confirmation_url: str | None = None) -> Any:
    """Return the `CoveringLetter` for an issued circular: number, date, subject, enclosure, deadline, signer.

    `confirmation_url`, when given, is printed as a QR code that opens the recipients' confirmation form.
    """
    from workflow.documents.covering_letter import Contact, CoveringLetter, Enclosure, Signatory

    signer = session.get(User, letter.signed_by_id)
    position = session.scalar(select(StaffPosition.position_th).where(StaffPosition.user_id == signer.id))
    delegation = session.get(Delegation, letter.delegation_id) if letter.delegation_id else None
    parent = letter.parent
    enclosures = ()
    body = []
    if parent is not None:
        enclosures = (Enclosure(f"สำเนาหนังสือ{parent.issuer_name or ''} ที่ {parent.doc_number} "
                                f"ลงวันที่ {format_be_date(parent.letter_date)}", 1, "ชุด"),)
        body.append(f"ด้วย{letter.issuer_name}ได้รับแจ้งจาก{parent.issuer_name or 'หน่วยงานต้นสังกัด'} "
                    f"เรื่อง {parent.subject} รายละเอียดปรากฏตามสิ่งที่ส่งมาด้วย")
    else:
        body.append(f"ด้วย{letter.issuer_name}ขอแจ้งเรื่อง {letter.subject}")
    if letter.due_text:
        body.append(f"จึงขอให้ดำเนินการตามหนังสือดังกล่าว และรายงานผล{letter.due_text}")
    # Text fields are printed as given, so their Arabic digits are turned into Thai ones to
    # match the number and date, which the generator prints in Thai digits.
    enclosures = tuple(Enclosure(item.text.translate(THAI_DIGITS), item.quantity, item.unit) for item in enclosures)
    body = [paragraph.translate(THAI_DIGITS) for paragraph in body]
    return CoveringLetter(
        doc_number=letter.doc_number,
        issuer_name=letter.issuer_name,
        issuer_address=(),
        date=letter.letter_date,
        subject=letter.subject,
        addressee=_addressee(session, letter),
        body=tuple(body),
        closing_request="จึงเรียนมาเพื่อโปรดพิจารณาดำเนินการต่อไป",
        signatory=Signatory(
            name=signer.display_name,
            positions=(position or "",),
            capacity=letter.signed_capacity or CAPACITY_SELF,
            on_behalf_of=delegation.principal_position_th if delegation else None,
        ),
        contact=Contact(unit_lines=(letter.issuer_name,)),
        enclosures=enclosures,
        urgency=letter.urgency,
        confirmation_url=confirmation_url,
    )


def write_covering_files(
    session: Session, letter_id: int, folder: Path, confirmation_url: str | None = None
) -> dict[str, str]:
    """Render the circular's covering letter as PDF and DOCX under `folder` and record the paths.

    `confirmation_url` is passed on to `build_covering_letter` for the QR code.

    Raises NotFound for an unknown letter, ImportError when the document generator or one
    of its renderers is not installed, and InvalidValue when the letter lacks a printed field.
    """
    from workflow.documents.covering_letter import render_covering_letter

    letter = session.get(OfficialLetter, letter_id)
    if letter is None or letter.issuer_org_id is None:
        raise NotFound("letter_not_found", f"ไม่พบหนังสือเวียนเลขที่ {letter_id}", f"no issued circular {letter_id}")
    pdf_bytes, docx_bytes = render_covering_letter(build_covering_letter(session, letter, confirmation_url))
    target = Path(folder) / "letters" / str(letter.id)
    target.mkdir(parents=True, exist_ok=True)
    files = {"pdf": str(target / "covering.pdf"), "docx": str(target / "covering.docx")}
    Path(files["pdf"]).write_bytes(pdf_bytes)
    Path(files["docx"]).write_bytes(docx_bytes)
    with transaction(session):
        letter.covering_files = files
    log.info("letter %s: covering letter written to %s", letter.id, target)
    return files
