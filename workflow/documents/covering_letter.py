"""The covering letter an office issues when it forwards (แจ้งเวียน) a circular to the level below.

It is an external letter (หนังสือภายนอก) whose parts and their order follow the Prime Minister's
Office regulation on official correspondence (ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ พ.ศ. ๒๕๒๖):
speed and secrecy stamps, number and issuer, date, subject, salutation, references, enclosures,
body, closing request, closing, signatory, owning unit and contact, copies. `letter_parts` lays
those parts out once, as text, and both the PDF and the DOCX renderer draw that same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from workflow.documents.thaitext import DIGIT_STYLES, letter_date, number, with_digits
from workflow.errors import InvalidValue
from workflow.thaidate import BANGKOK

URGENCY_WORDS = {"most_urgent": "ด่วนที่สุด", "very_urgent": "ด่วนมาก", "urgent": "ด่วน"}
SECRECY_WORDS = {"top_secret": "ลับที่สุด", "secret": "ลับมาก", "confidential": "ลับ"}
CAPACITY_WORDS = {
    "self": "",
    "on_behalf": "ปฏิบัติราชการแทน",
    "acting": "รักษาราชการแทน",
    "performing_duties": "ปฏิบัติหน้าที่",
}
DEFAULT_QR_CAPTION = "สแกนเพื่อยืนยันการรับทราบและแจ้งรายชื่อผู้รับผิดชอบ"
# A confirmation link is an http(s) page. A longer URL makes a denser code, which a phone
# camera reads less reliably from paper.
MAX_URL_LENGTH = 500


@dataclass(frozen=True)
class Enclosure:
    """One item of สิ่งที่ส่งมาด้วย, e.g. a copy of the provincial letter, `จำนวน ๑ ฉบับ`."""

    text: str
    quantity: int | None = 1
    unit: str | None = "ฉบับ"


@dataclass(frozen=True)
class ActionList:
    """Numbered action paragraphs (๑. ๒. ๓.) inside the body."""

    items: tuple[str, ...]
    start: int = 1


@dataclass(frozen=True)
class Signatory:
    """The person who signs: name, position lines, and the capacity they sign in.

    `capacity` takes the values of the parse contract: `self`, `on_behalf` (ปฏิบัติราชการแทน),
    `acting` (รักษาราชการแทน) or `performing_duties` (ปฏิบัติหน้าที่). For any capacity but
    `self`, the capacity words follow the last position line and `on_behalf_of` (the office
    holder's title, e.g. `ผู้ว่าราชการจังหวัดเชียงราย`) takes the next line.
    """

    name: str
    positions: tuple[str, ...]
    capacity: str = "self"
    on_behalf_of: str | None = None


@dataclass(frozen=True)
class Contact:
    """The owning unit and how to reach it, printed at the bottom left."""

    unit_lines: tuple[str, ...]
    phone: str | None = None
    extension: str | None = None
    fax: str | None = None
    email: str | None = None
    coordinator: str | None = None


@dataclass(frozen=True)
class CoveringLetter:
    """Everything printed on a covering letter, as plain data.

    `deliver_by` prints the speed stamp as a delivery deadline (`ด่วนภายใน ๑๐ เมษายน ๒๕๖๘
    เวลา ๑๐.๐๐ น.`, in Thai time, naive values taken as UTC) in place of `urgency`.

    Text fields are printed as given, so their digits stay as the caller wrote them. The
    document number, date, item numbers, quantities and phone numbers follow `digits`
    (`thai` or `arabic`); e-mail addresses and the URL never change.
    """

    doc_number: str
    issuer_name: str
    issuer_address: tuple[str, ...]
    date: date
    subject: str
    addressee: str
    body: tuple[str | ActionList, ...]
    closing_request: str
    signatory: Signatory
    contact: Contact
    confirmation_url: str | None = None
    qr_caption: str = DEFAULT_QR_CAPTION
    salutation: str = "เรียน"
    references: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    urgency: str | None = None
    deliver_by: datetime | None = None
    secrecy: str | None = None
    closing: str = "ขอแสดงความนับถือ"
    copies: tuple[str, ...] = ()
    digits: str = "thai"


@dataclass(frozen=True)
class Part:
    """One part of the letter as text.

    `kind` names the part, and `label` is the printed caption of a labelled part (`เรื่อง`,
    `อ้างถึง` ...). `lines` are its paragraphs or lines. For enclosures, `trailing` contains
    the quantity printed at the end of each item (`จำนวน ๑ ฉบับ`), one per line.
    """

    kind: str
    lines: tuple[str, ...]
    label: str = ""
    trailing: tuple[str, ...] = field(default=())


def validate_letter(letter: CoveringLetter) -> None:
    """Raise InvalidValue, with a Thai message, for a letter that cannot be printed as given."""
    required = {
        "doc_number": ("เลขที่หนังสือ", letter.doc_number),
        "issuer_name": ("ส่วนราชการเจ้าของหนังสือ", letter.issuer_name),
        "subject": ("เรื่อง", letter.subject),
        "addressee": ("คำขึ้นต้น (เรียน)", letter.addressee),
        "closing_request": ("ข้อความจึงเรียนมาเพื่อ", letter.closing_request),
        "signatory.name": ("ชื่อผู้ลงนาม", letter.signatory.name),
    }
    for name, (label_th, value) in required.items():
        if not (value or "").strip():
            raise InvalidValue("missing_letter_field", f"ยังไม่ได้กรอก{label_th}", f"{name} is empty")
    if not letter.body:
        raise InvalidValue("missing_letter_field", "ยังไม่ได้กรอกเนื้อความของหนังสือ", "body is empty")
    if letter.digits not in DIGIT_STYLES:
        raise InvalidValue("invalid_digits", "รูปแบบตัวเลขต้องเป็นเลขไทยหรือเลขอารบิก",
                           f"digits must be one of {DIGIT_STYLES}, got {letter.digits!r}")
    _check_code("urgency", letter.urgency, URGENCY_WORDS, "ชั้นความเร็ว")
    _check_code("secrecy", letter.secrecy, SECRECY_WORDS, "ชั้นความลับ")
    _check_code("signatory.capacity", letter.signatory.capacity, CAPACITY_WORDS, "ฐานะผู้ลงนาม")
    if letter.signatory.capacity != "self" and not letter.signatory.on_behalf_of:
        raise InvalidValue("missing_letter_field", "ผู้ลงนามปฏิบัติราชการแทนหรือรักษาราชการแทน ต้องระบุตำแหน่งที่ลงนามแทน",
                           "signatory.on_behalf_of is required unless capacity is 'self'")
    _check_url(letter.confirmation_url)


def _check_code(name: str, value: str | None, allowed: dict[str, str], label_th: str) -> None:
    if value is not None and value not in allowed:
        choices = ", ".join(words or code for code, words in allowed.items())
        raise InvalidValue(f"invalid_{name.split('.')[-1]}", f"{label_th}ไม่ถูกต้อง: {value} (เลือกได้: {choices})",
                           f"{name} must be one of {sorted(allowed)}, got {value!r}")


def _check_url(url: str | None) -> None:
    if url is None:
        return
    if not url.startswith(("https://", "http://")):
        raise InvalidValue("invalid_confirmation_url", "ลิงก์ยืนยันต้องขึ้นต้นด้วย https:// หรือ http://",
                           f"confirmation_url must be an http(s) URL, got {url[:80]!r}")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidValue("invalid_confirmation_url", f"ลิงก์ยืนยันยาวเกิน {MAX_URL_LENGTH} ตัวอักษร",
                           f"confirmation_url is {len(url)} characters, the limit is {MAX_URL_LENGTH}")


def letter_parts(letter: CoveringLetter) -> list[Part]:
    """Lay the letter out as its parts, in the regulation's order, with digits applied."""
    validate_letter(letter)
    digits = letter.digits
    parts: list[Part] = []
    if letter.secrecy:
        parts.append(Part("secrecy", (SECRECY_WORDS[letter.secrecy],)))
    if letter.deliver_by:
        parts.append(Part("urgency", (_deliver_by_stamp(letter.deliver_by, digits),)))
    elif letter.urgency:
        parts.append(Part("urgency", (URGENCY_WORDS[letter.urgency],)))
    parts.append(Part("number", (f"ที่ {with_digits(letter.doc_number.strip(), digits)}",)))
    parts.append(Part("issuer", (letter.issuer_name, *letter.issuer_address)))
    parts.append(Part("date", (letter_date(letter.date, digits),)))
    parts.append(Part("subject", (letter.subject,), label="เรื่อง"))
    parts.append(Part("salutation", (letter.addressee,), label=letter.salutation))
    if letter.references:
        parts.append(Part("references", _numbered(letter.references, digits), label="อ้างถึง"))
    if letter.enclosures:
        parts.append(_enclosures_part(letter.enclosures, digits))
    parts.append(Part("body", tuple(_body_paragraphs(letter.body, digits))))
    parts.append(Part("closing_request", (letter.closing_request,)))
    parts.append(Part("closing", (letter.closing,)))
    parts.append(Part("signature", _signature_lines(letter.signatory)))
    parts.append(Part("contact", _contact_lines(letter.contact, digits)))
    if letter.copies:
        parts.append(Part("copies", tuple(letter.copies), label="สำเนาส่ง"))
    if letter.confirmation_url:
        parts.append(Part("qr", (letter.confirmation_url, letter.qr_caption)))
    return parts


def _deliver_by_stamp(moment: datetime, digits: str) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(BANGKOK)
    return f"ด่วนภายใน {letter_date(local.date(), digits)} เวลา {with_digits(f'{local:%H.%M}', digits)} น."


def _numbered(items: tuple[str, ...], digits: str) -> tuple[str, ...]:
    if len(items) == 1:
        return (items[0],)
    return tuple(f"{number(index, digits)}. {item}" for index, item in enumerate(items, start=1))


def _enclosures_part(enclosures: tuple[Enclosure, ...], digits: str) -> Part:
    texts = _numbered(tuple(item.text for item in enclosures), digits)
    quantities = tuple(
        f"จำนวน {number(item.quantity, digits)} {item.unit or ''}".rstrip() if item.quantity is not None else ""
        for item in enclosures
    )
    return Part("enclosures", texts, label="สิ่งที่ส่งมาด้วย", trailing=quantities)


def _body_paragraphs(body: tuple[str | ActionList, ...], digits: str):
    for block in body:
        if isinstance(block, ActionList):
            for offset, item in enumerate(block.items):
                yield f"{number(block.start + offset, digits)}. {item}"
        else:
            yield block


def _signature_lines(signatory: Signatory) -> tuple[str, ...]:
    lines = [f"({signatory.name.strip()})", *(line for line in signatory.positions if line.strip())]
    words = CAPACITY_WORDS[signatory.capacity]
    if words:
        if len(lines) > 1:
            lines[-1] = f"{lines[-1]} {words}"
        else:
            lines.append(words)
        lines.append(signatory.on_behalf_of or "")
    return tuple(lines)


def _contact_lines(contact: Contact, digits: str) -> tuple[str, ...]:
    lines = list(contact.unit_lines)
    extension = f" ต่อ {with_digits(contact.extension, digits)}" if contact.extension else ""
    if contact.phone and contact.phone == contact.fax:
        lines.append(f"โทร./โทรสาร {with_digits(contact.phone, digits)}{extension}")
    else:
        if contact.phone:
            lines.append(f"โทร. {with_digits(contact.phone, digits)}{extension}")
        if contact.fax:
            lines.append(f"โทรสาร {with_digits(contact.fax, digits)}")
    if contact.email:
        lines.append(f"ไปรษณีย์อิเล็กทรอนิกส์ {contact.email}")
    if contact.coordinator:
        lines.append(f"ผู้ประสานงาน {with_digits(contact.coordinator, digits)}")
    return tuple(lines)


def letter_text(letter: CoveringLetter) -> str:
    """Return the letter as plain text, part by part, the way a text layer reads it."""
    from workflow.documents.templates import render_text

    return render_text(letter_parts(letter))


def render_covering_letter(letter: CoveringLetter) -> tuple[bytes, bytes]:
    """Render the letter; return the PDF and the DOCX, as bytes.

    Raises InvalidValue when a required field is empty or a code (urgency, secrecy, capacity,
    digits) is unknown.
    """
    from workflow.documents.docx_letter import render_docx
    from workflow.documents.pdf_letter import render_pdf

    parts = letter_parts(letter)
    return render_pdf(parts, letter.digits), render_docx(parts)
