"""TH e-GIF `GovernmentDocument` messages of DGA's e-CMS: read them into a letter, write a letter as one.

A message is a SOAP envelope (or the bare `GovernmentDocument` element) holding one
`CorrespondenceLetter`. Its children live in the `ram` namespace, which clients in use
spell in more than one way (`RAM_NAMESPACE_PATTERNS`). The mapping of each element to the
parse contract is in docs/ecms.md. XML is parsed with defusedxml, which rejects DTDs and
entity declarations, so a message cannot expand entities or reach for external files.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from parsers.docnum import parse_docnum
from workflow.errors import WorkflowError
from workflow.integration.ecms_codes import CodeTable

SOAP_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NAMESPACE = "http://www.w3.org/2005/08/addressing"
GOVERNMENT_DOCUMENT_NAMESPACE = "urn:th:gov:egif:data:standard:GovernmentDocument:1.0"
# The spelling this service writes.
RAM_NAMESPACE = "urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1"
# Spellings of the ram namespace this service reads. Client code in use writes the TH e-GIF
# URI above, and also a misspelled `ReuseableAggregateBusinessInformaionEntity`. The
# UN/CEFACT form (`urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:N`)
# and a `:draft:` variant of it are accepted too, because the schema derives from it.
RAM_NAMESPACE_PATTERNS = (
    re.compile(r"^urn:th:gov:egif:data:standard:(?:draft:)?Reus(?:e)?ableAggregateBusinessInforma(?:t)?ionEntity:\d+(?:\.\d+)*$"),
    re.compile(r"^urn:un:unece:uncefact:data:(?:standard|draft):ReusableAggregateBusinessInformationEntity:\d+(?:\.\d+)*$"),
)
PDF_MIME = "application/pdf"
# A base64 text is 4/3 of its bytes; the envelope and fields add a little.
BASE64_OVERHEAD = 4 / 3
ENVELOPE_ALLOWANCE = 1024 * 1024
MAX_ATTACHMENTS = 50


class EcmsError(WorkflowError):
    """A message this service cannot read; nothing is stored when it is raised."""

    http_status = 400


@dataclass
class Party:
    """A sender or receiver: a person's name and post, and the DGA codes of the ministry and department."""

    given_name: str = ""
    family_name: str = ""
    job_title: str = ""
    ministry_id: str = ""
    department_id: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)

    def as_dict(self) -> dict[str, str]:
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "job_title": self.job_title,
            "ministry_id": self.ministry_id,
            "department_id": self.department_id,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> "Party":
        data = data or {}
        return cls(**{key: str(data.get(key) or "") for key in cls().as_dict()})


@dataclass
class Attachment:
    """An enclosed file of a message; `filename` is an extension of this service (the schema has none)."""

    data: bytes
    mime_code: str
    filename: str = ""


@dataclass
class Reference:
    """One `ReferenceCorrespondence`: a letter the recipient already holds."""

    id: str
    correspondence_date: date | None
    subject: str


@dataclass
class GovernmentDocument:
    """The content of one `CorrespondenceLetter`, with codes still as the message wrote them."""

    id: str
    correspondence_date: date | None
    subject: str
    secret_code: str = ""
    speed_code: str = ""
    sender: Party = field(default_factory=Party)
    receiver: Party = field(default_factory=Party)
    references: list[Reference] = field(default_factory=list)
    attachment_descriptions: list[str] = field(default_factory=list)
    send_date: str = ""
    description: str = ""
    main_letter: bytes = b""
    main_letter_mime: str = PDF_MIME
    attachments: list[Attachment] = field(default_factory=list)
    ram_namespace: str = RAM_NAMESPACE


# --- reading ----------------------------------------------------------------------------


def _error(code: str, message_th: str, message_en: str) -> EcmsError:
    return EcmsError(code, message_th, message_en)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def is_ram_namespace(uri: str) -> bool:
    return any(pattern.match(uri) for pattern in RAM_NAMESPACE_PATTERNS)


def _parse_xml(data: bytes) -> ET.Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise _error(
            "ecms_forbidden_xml",
            "ข้อความ e-CMS มีการประกาศ DTD หรือ entity ซึ่งระบบไม่รับ กรุณาให้ระบบต้นทางส่งใหม่โดยไม่มี DTD",
            f"the message declares a DTD or entities, which are rejected: {error}",
        ) from None
    except ET.ParseError as error:
        raise _error(
            "ecms_malformed_xml",
            f"ข้อความ e-CMS ไม่ใช่ XML ที่ถูกต้อง (บรรทัด {error.position[0]}) กรุณาให้ระบบต้นทางส่งใหม่",
            f"the message is not well-formed XML: {error}",
        ) from None


def _find_letter_element(root: ET.Element) -> ET.Element:
    document = root if _local(root.tag) == "GovernmentDocument" else None
    if document is None:
        document = next((el for el in root.iter() if _local(el.tag) == "GovernmentDocument"), None)
    if document is None or _namespace(document.tag) != GOVERNMENT_DOCUMENT_NAMESPACE:
        raise _error(
            "ecms_not_government_document",
            "ไฟล์นี้ไม่ใช่หนังสือ e-CMS (ไม่พบ GovernmentDocument ตามมาตรฐาน TH e-GIF)",
            f"no GovernmentDocument element in namespace {GOVERNMENT_DOCUMENT_NAMESPACE}",
        )
    letter = next((el for el in document if _local(el.tag) == "CorrespondenceLetter"), None)
    if letter is None:
        raise _error(
            "ecms_missing_field",
            "ข้อความ e-CMS ไม่มีส่วน CorrespondenceLetter",
            "GovernmentDocument has no CorrespondenceLetter child",
        )
    if not is_ram_namespace(_namespace(letter.tag)):
        raise _error(
            "ecms_unknown_namespace",
            f"ข้อความ e-CMS ใช้ namespace “{_namespace(letter.tag)}” ที่ระบบไม่รู้จัก",
            f"CorrespondenceLetter is in unknown namespace {_namespace(letter.tag)!r}",
        )
    return letter


def _child(parent: ET.Element, name: str) -> ET.Element | None:
    return next((el for el in parent if _local(el.tag) == name), None)


def _children(parent: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in parent if _local(el.tag) == name]


def _text(parent: ET.Element | None, name: str) -> str:
    if parent is None:
        return ""
    element = _child(parent, name)
    return " ".join((element.text or "").split()) if element is not None else ""


def parse_correspondence_date(value: str, element: str = "CorrespondenceDate") -> date | None:
    """Read an ISO date, or a date-time, whose year may be Buddhist era (over 2400)."""
    value = value.strip()
    if not value:
        return None
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$", value)
    try:
        if match is None:
            raise ValueError(value)
        year, month, day = (int(part) for part in match.groups())
        return date(year - 543 if year > 2400 else year, month, day)
    except ValueError:
        raise _error(
            "ecms_invalid_date",
            f"วันที่ “{value}” ในช่อง {element} ไม่ถูกต้อง ต้องเป็นรูปแบบ YYYY-MM-DD",
            f"{element} {value!r} is not a YYYY-MM-DD date",
        ) from None


def _decode_base64(element: ET.Element, label_th: str, name: str, max_bytes: int) -> bytes:
    text = "".join((element.text or "").split())
    if not text:
        raise _error(
            "ecms_missing_letter_file",
            f"ข้อความ e-CMS ไม่มีไฟล์{label_th}",
            f"{name} is empty",
        )
    if len(text) > max_bytes * BASE64_OVERHEAD + 4:
        raise _error(
            "ecms_file_too_large",
            f"ไฟล์{label_th}ในข้อความ e-CMS ใหญ่เกินขนาดที่ระบบรับได้",
            f"{name} is over {max_bytes} bytes",
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _error(
            "ecms_invalid_base64",
            f"ไฟล์{label_th}ในข้อความ e-CMS เข้ารหัส base64 ไม่ถูกต้อง กรุณาให้ระบบต้นทางส่งใหม่",
            f"{name} is not valid base64",
        ) from None


def _read_party(element: ET.Element | None) -> Party:
    if element is None:
        return Party()
    return Party(
        given_name=_text(element, "GivenName"),
        family_name=_text(element, "FamilyName"),
        job_title=_text(element, "JobTitle"),
        ministry_id=_text(_child(element, "MinistryOrganization"), "ID"),
        department_id=_text(_child(element, "DepartmentOrganization"), "ID"),
    )


def read_message(data: bytes, max_bytes: int) -> GovernmentDocument:
    """Read one e-CMS message; `max_bytes` limits each decoded file.

    Raises EcmsError with a stable code: `ecms_message_too_large`, `ecms_malformed_xml`,
    `ecms_forbidden_xml`, `ecms_not_government_document`, `ecms_unknown_namespace`,
    `ecms_missing_field`, `ecms_invalid_date`, `ecms_missing_letter_file`,
    `ecms_invalid_base64`, `ecms_file_too_large` or `ecms_too_many_attachments`.
    """
    limit = int(max_bytes * BASE64_OVERHEAD * 2 + ENVELOPE_ALLOWANCE)
    if len(data) > limit:
        raise _error(
            "ecms_message_too_large",
            "ข้อความ e-CMS ใหญ่เกินขนาดที่ระบบรับได้",
            f"the message is {len(data)} bytes, over {limit}",
        )
    letter = _find_letter_element(_parse_xml(data))
    subject = _text(letter, "Subject")
    letter_id = _text(letter, "ID")
    if not subject or not letter_id:
        missing = "Subject" if not subject else "ID"
        raise _error(
            "ecms_missing_field",
            f"ข้อความ e-CMS ไม่มี{'เรื่อง' if missing == 'Subject' else 'เลขที่หนังสือ'} ({missing})",
            f"CorrespondenceLetter has no {missing}",
        )
    main = _child(letter, "MainLetterBinaryObject")
    if main is None:
        raise _error("ecms_missing_letter_file", "ข้อความ e-CMS ไม่มีไฟล์หนังสือ (MainLetterBinaryObject)",
                     "CorrespondenceLetter has no MainLetterBinaryObject")
    attachment_elements = _children(letter, "AttachmentBinaryObject")
    if len(attachment_elements) > MAX_ATTACHMENTS:
        raise _error(
            "ecms_too_many_attachments",
            f"ข้อความ e-CMS มีไฟล์แนบเกิน {MAX_ATTACHMENTS} ไฟล์",
            f"{len(attachment_elements)} attachments, over {MAX_ATTACHMENTS}",
        )
    return GovernmentDocument(
        id=letter_id,
        correspondence_date=parse_correspondence_date(_text(letter, "CorrespondenceDate")),
        subject=subject,
        secret_code=_text(letter, "SecretCode"),
        speed_code=_text(letter, "SpeedCode"),
        sender=_read_party(_child(letter, "SenderParty")),
        receiver=_read_party(_child(letter, "ReceiverParty")),
        references=[
            Reference(
                id=_text(element, "ID"),
                correspondence_date=parse_correspondence_date(
                    _text(element, "CorrespondenceDate"), "ReferenceCorrespondence/CorrespondenceDate"
                ),
                subject=_text(element, "Subject"),
            )
            for element in _children(letter, "ReferenceCorrespondence")
        ],
        attachment_descriptions=[
            " ".join((element.text or "").split()) for element in _children(letter, "Attachment")
            if (element.text or "").strip() and (element.text or "").strip() != "-"
        ],
        send_date=_text(letter, "SendDate"),
        description=_text(letter, "Description"),
        main_letter=_decode_base64(main, "หนังสือ", "MainLetterBinaryObject", max_bytes),
        main_letter_mime=main.get("mimeCode") or PDF_MIME,
        attachments=[
            Attachment(
                data=_decode_base64(element, f"แนบลำดับที่ {index}", f"AttachmentBinaryObject {index}", max_bytes),
                mime_code=element.get("mimeCode") or "application/octet-stream",
                filename=element.get("filename") or "",
            )
            for index, element in enumerate(attachment_elements, start=1)
        ],
        ram_namespace=_namespace(letter.tag),
    )


# --- mapping to the parse contract -------------------------------------------------------


def _citation(text: str, docnum_text: str | None, cited_date: date | None) -> dict:
    return {
        "text": text,
        "issuer": None,
        "urgency": None,
        "doc_number": parse_docnum(docnum_text) if docnum_text else None,
        "date": cited_date.isoformat() if cited_date else None,
    }


def letter_fields(message: GovernmentDocument, codes: CodeTable) -> dict:
    """Return the LETTER keys the message states, which overrule what the parser read from the file.

    Raises EcmsError (`ecms_unknown_code`) for a speed or secrecy code not in `codes`.
    """
    try:
        urgency = codes.urgency_for(message.speed_code)
        secrecy = codes.secrecy_for(message.secret_code)
    except WorkflowError as error:
        raise _error(error.code, error.message_th, error.message_en) from None
    fields: dict = {
        "doc_number": parse_docnum(message.id),
        "date": message.correspondence_date.isoformat() if message.correspondence_date else None,
        "subject": message.subject,
        "urgency": urgency,
        "secrecy": secrecy,
        "references": [
            _citation(reference.subject or reference.id, reference.id, reference.correspondence_date)
            for reference in message.references
        ],
        "enclosures": [
            {**_citation(text, text, None), "quantity": None, "unit": None}
            for text in message.attachment_descriptions
        ],
    }
    if message.receiver.job_title:
        fields["addressee"] = message.receiver.job_title
    if message.sender.full_name:
        fields["signatory"] = {"name": message.sender.full_name, "position": message.sender.job_title or None}
    fields["ecms"] = {
        "id": message.id,
        "sender": message.sender.as_dict(),
        "receiver": message.receiver.as_dict(),
        "send_date": message.send_date or None,
        "description": message.description or None,
        "speed_code": message.speed_code or None,
        "secret_code": message.secret_code or None,
        "main_letter_mime": message.main_letter_mime,
        "attachments": [],
    }
    return fields


def _merge_citations(stated: list[dict], parsed: list[dict]) -> list[dict]:
    """Keep the message's list, filling keys the message cannot state from the parser's matching citation."""
    merged = []
    for citation in stated:
        number = (citation.get("doc_number") or {}).get("text")
        match = next(
            (item for item in parsed if number and (item.get("doc_number") or {}).get("text") == number),
            None,
        )
        if match is None:
            match = next((item for item in parsed if item.get("text") == citation["text"]), None)
        combined = dict(match or {})
        combined.update({key: value for key, value in citation.items() if value is not None})
        for key, value in citation.items():
            combined.setdefault(key, value)
        merged.append(combined)
    return merged


def overlay_letter(parsed: dict | None, stated: dict) -> dict:
    """Return the parsed LETTER with the message's fields written over it.

    A field the message leaves empty keeps the parser's value. A spans entry of a
    replaced field is dropped when the new value differs, because it pointed at the old value.
    """
    letter = dict(parsed or {"pages": [1, 1], "kind": "external", "warnings": [], "spans": {}, "text": ""})
    spans = dict(letter.get("spans") or {})
    warnings = list(letter.get("warnings") or [])
    for key, value in stated.items():
        if key in ("references", "enclosures"):
            if value:
                value = _merge_citations(value, letter.get(key) or [])
            else:
                continue
        elif key == "signatory":
            parsed_signatory = letter.get("signatory") or {"capacity": "self", "on_behalf_of": None}
            if parsed_signatory.get("name") and " ".join(parsed_signatory["name"].split()) != value["name"]:
                warnings.append({
                    "code": "ecms_signatory_differs",
                    "message": f"ผู้ลงนามในไฟล์หนังสือคือ {parsed_signatory['name']} แต่ข้อความ e-CMS ระบุผู้ส่งเป็น "
                               f"{value['name']} โปรดตรวจสอบ",
                    "field": "signatory",
                })
            value = {**parsed_signatory, **value}
            if not value.get("position"):
                value["position"] = parsed_signatory.get("position")
        elif key == "doc_number" and value is None:
            if stated["ecms"]["id"]:
                warnings.append({
                    "code": "ecms_doc_number_unreadable",
                    "message": f"อ่านเลขที่หนังสือ “{stated['ecms']['id']}” จากข้อความ e-CMS ไม่ได้ จึงใช้เลขที่ที่อ่านจากไฟล์",
                    "field": "doc_number",
                })
            continue
        if key in spans and letter.get(key) != value:
            spans.pop(key)
        letter[key] = value
    letter["spans"] = spans
    letter["warnings"] = warnings
    return letter


# --- writing ----------------------------------------------------------------------------


def _sub(parent: ET.Element, name: str, text: str | None = None, namespace: str = RAM_NAMESPACE) -> ET.Element:
    element = ET.SubElement(parent, f"{{{namespace}}}{name}")
    if text is not None:
        element.text = text
    return element


def _write_party(parent: ET.Element, name: str, party: Party) -> None:
    element = _sub(parent, name)
    _sub(element, "GivenName", party.given_name)
    _sub(element, "FamilyName", party.family_name)
    _sub(element, "JobTitle", party.job_title)
    _sub(_sub(element, "MinistryOrganization"), "ID", party.ministry_id)
    _sub(_sub(element, "DepartmentOrganization"), "ID", party.department_id)


def _envelope(message_id: str, body_name: str) -> tuple[ET.Element, ET.Element]:
    envelope = ET.Element(f"{{{SOAP_NAMESPACE}}}Envelope")
    header = ET.SubElement(envelope, f"{{{SOAP_NAMESPACE}}}Header")
    ET.SubElement(header, f"{{{WSA_NAMESPACE}}}MessageID").text = message_id
    body = ET.SubElement(envelope, f"{{{SOAP_NAMESPACE}}}Body")
    return envelope, ET.SubElement(body, body_name)


def _serialize(element: ET.Element) -> bytes:
    ET.register_namespace("SOAP-ENV", SOAP_NAMESPACE)
    ET.register_namespace("wsa", WSA_NAMESPACE)
    ET.register_namespace("rsm", GOVERNMENT_DOCUMENT_NAMESPACE)
    ET.register_namespace("ram", RAM_NAMESPACE)
    ET.indent(element)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def write_message(message: GovernmentDocument, message_id: str) -> bytes:
    """Return the SOAP envelope of an outbound `GovernmentDocument`, in the TH e-GIF ram spelling."""
    envelope, request = _envelope(message_id, "CorrespondenceLetterOutboundRequest")
    document = ET.SubElement(request, f"{{{GOVERNMENT_DOCUMENT_NAMESPACE}}}GovernmentDocument")
    letter = _sub(document, "CorrespondenceLetter")
    _sub(letter, "ID", message.id)
    _sub(letter, "CorrespondenceDate", message.correspondence_date.isoformat() if message.correspondence_date else "")
    _sub(letter, "Subject", message.subject)
    _sub(letter, "SecretCode", message.secret_code)
    _sub(letter, "SpeedCode", message.speed_code)
    _write_party(letter, "SenderParty", message.sender)
    _write_party(letter, "ReceiverParty", message.receiver)
    for reference in message.references:
        element = _sub(letter, "ReferenceCorrespondence")
        _sub(element, "ID", reference.id)
        _sub(element, "CorrespondenceDate",
             reference.correspondence_date.isoformat() if reference.correspondence_date else "")
        _sub(element, "Subject", reference.subject)
    for description in message.attachment_descriptions:
        _sub(letter, "Attachment", description)
    _sub(letter, "SendDate", message.send_date or datetime.now().replace(microsecond=0).isoformat())
    _sub(letter, "Description", message.description)
    main = _sub(letter, "MainLetterBinaryObject", base64.b64encode(message.main_letter).decode("ascii"))
    main.set("mimeCode", message.main_letter_mime)
    for attachment in message.attachments:
        element = _sub(letter, "AttachmentBinaryObject", base64.b64encode(attachment.data).decode("ascii"))
        element.set("mimeCode", attachment.mime_code)
        if attachment.filename:
            element.set("filename", attachment.filename)
    return _serialize(envelope)


# --- notifiers --------------------------------------------------------------------------

RECEIVE_NOTIFIER = "ReceiveLetterNotifier"
ACCEPT_NOTIFIER = "AcceptLetterNotifier"
REJECT_NOTIFIER = "RejectLetterNotifier"
INVALID_NOTIFIER = "InvalidLetterNotifier"
NOTIFIERS = (RECEIVE_NOTIFIER, ACCEPT_NOTIFIER, REJECT_NOTIFIER, INVALID_NOTIFIER)


def write_notifier(
    kind: str,
    message_id: str,
    letter_id: str,
    correspondence_date: date | None,
    subject: str,
    accept_id: str | None = None,
    reason: str | None = None,
) -> bytes:
    """Return the notifier of one letter: delivered, accepted under `accept_id`, rejected or invalid.

    `reason` (a rejection's reason) is an extension of this service: the published
    clients send none, so a receiver may ignore it.
    """
    if kind not in NOTIFIERS:
        raise ValueError(f"unknown notifier {kind!r}; expected one of {NOTIFIERS}")
    if kind == ACCEPT_NOTIFIER and not accept_id:
        raise ValueError("an AcceptLetterNotifier needs the receipt number as accept_id")
    envelope, request = _envelope(message_id, "CorrespondenceLetterOutboundRequest")
    notifier = ET.SubElement(request, kind)
    ET.SubElement(notifier, "LetterID").text = letter_id
    if kind == ACCEPT_NOTIFIER:
        ET.SubElement(notifier, "AcceptID").text = accept_id
    ET.SubElement(notifier, "CorrespondenceDate").text = correspondence_date.isoformat() if correspondence_date else ""
    ET.SubElement(notifier, "Subject").text = subject
    if reason:
        ET.SubElement(notifier, "Reason").text = reason
    return _serialize(envelope)


def read_notifier(data: bytes) -> dict:
    """Return a notifier's kind and fields: `{"kind", "letter_id", "accept_id", "correspondence_date", "subject", "reason"}`."""
    root = _parse_xml(data)
    notifier = next((el for el in root.iter() if _local(el.tag) in NOTIFIERS), None)
    if notifier is None:
        raise _error("ecms_not_notifier", "ข้อความนี้ไม่ใช่การแจ้งตอบกลับของ e-CMS", "no notifier element in the message")
    return {
        "kind": _local(notifier.tag),
        "letter_id": _text(notifier, "LetterID"),
        "accept_id": _text(notifier, "AcceptID") or None,
        "correspondence_date": _text(notifier, "CorrespondenceDate") or None,
        "subject": _text(notifier, "Subject"),
        "reason": _text(notifier, "Reason") or None,
    }
