"""The fields of a parsed letter: Thai labels, value checks, form input and display text.

Field names and value shapes follow the parse result contract (docs/letter-json.md). A
field the catalog does not know (the parser may add keys) is treated as free JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

from workflow.errors import InvalidValue
from workflow.thaidate import format_be_date, parse_thai_date, to_arabic_digits

# Keys of a LETTER that are not fields of their own.
NON_FIELD_KEYS = frozenset({"text", "spans", "warnings", "pages"})

KIND_TEXT = "text"
KIND_LONGTEXT = "longtext"
KIND_CHOICE = "choice"
KIND_DATE = "date"
KIND_DATETIME = "datetime"
KIND_DOCNUM = "docnum"
KIND_OBJECT = "object"
KIND_LIST = "list"
KIND_JSON = "json"


@dataclass(frozen=True)
class FieldSpec:
    label: str
    kind: str
    # Allowed values and their Thai labels, for KIND_CHOICE.
    choices: dict[str, str] = field(default_factory=dict)
    # Sub-field names and their Thai labels, for KIND_OBJECT.
    keys: dict[str, str] = field(default_factory=dict)


LETTER_KINDS = {
    "external": "หนังสือภายนอก",
    "internal": "หนังสือภายใน",
    "stamped": "หนังสือประทับตรา",
    "order": "คำสั่ง",
    "announcement": "ประกาศ",
    "unknown": "ไม่ทราบประเภท",
}
URGENCY = {"most_urgent": "ด่วนที่สุด", "very_urgent": "ด่วนมาก", "urgent": "ด่วน"}
SECRECY = {"top_secret": "ลับที่สุด", "secret": "ลับมาก", "confidential": "ลับ"}
CAPACITY = {
    "self": "ลงนามเอง",
    "on_behalf": "ปฏิบัติราชการแทน",
    "acting": "รักษาราชการแทน",
    "performing_duties": "ปฏิบัติหน้าที่",
}
DEADLINE_KINDS = {"due": "กำหนดส่ง", "start": "เริ่มตั้งแต่", "window": "ช่วงเวลา", "relative": "นับจากวันรับ"}

FIELDS: dict[str, FieldSpec] = {
    "kind": FieldSpec("ประเภทหนังสือ", KIND_CHOICE, choices=LETTER_KINDS),
    "urgency": FieldSpec("ชั้นความเร็ว", KIND_CHOICE, choices=URGENCY),
    "deliver_by": FieldSpec("ด่วนภายใน", KIND_DATETIME),
    "secrecy": FieldSpec("ชั้นความลับ", KIND_CHOICE, choices=SECRECY),
    "doc_number": FieldSpec("ที่ (เลขที่หนังสือ)", KIND_DOCNUM),
    "issuer": FieldSpec("ส่วนราชการเจ้าของหนังสือ", KIND_TEXT),
    "issuer_address": FieldSpec("ที่ตั้ง", KIND_TEXT),
    "date": FieldSpec("ลงวันที่", KIND_DATE),
    "subject": FieldSpec("เรื่อง", KIND_TEXT),
    "salutation": FieldSpec("คำขึ้นต้น", KIND_TEXT),
    "addressee": FieldSpec("ผู้รับ (เรียน)", KIND_TEXT),
    "references": FieldSpec("อ้างถึง", KIND_LIST),
    "enclosures": FieldSpec("สิ่งที่ส่งมาด้วย", KIND_LIST),
    "actions": FieldSpec("การดำเนินการที่ขอ", KIND_LIST),
    "deadlines": FieldSpec("กำหนดเวลา", KIND_LIST),
    "assignments": FieldSpec("การมอบหมาย", KIND_LIST),
    "closing_request": FieldSpec("จึงเรียนมาเพื่อ", KIND_LONGTEXT),
    "signatory": FieldSpec(
        "ผู้ลงนาม",
        KIND_OBJECT,
        keys={"name": "ชื่อ", "position": "ตำแหน่ง", "capacity": "ฐานะ", "on_behalf_of": "แทน"},
    ),
    "contact": FieldSpec(
        "ส่วนราชการเจ้าของเรื่อง",
        KIND_OBJECT,
        keys={
            "unit": "หน่วยงาน",
            "phone": "โทร.",
            "extension": "ต่อ",
            "fax": "โทรสาร",
            "email": "อีเมล",
            "coordinator": "ผู้ประสานงาน",
        },
    ),
    "receipt_stamps": FieldSpec("ตราประทับรับหนังสือ", KIND_LIST),
    "endorsements": FieldSpec("การเกษียนหนังสือ", KIND_LIST),
}


def spec_for(name: str) -> FieldSpec:
    return FIELDS.get(name) or FieldSpec(name, KIND_JSON)


# Thai names of the keys inside list items and objects, for warnings that point at one.
SUBFIELD_LABELS = {
    "text": "ข้อความ",
    "issuer": "ผู้ออกหนังสือ",
    "urgency": "ชั้นความเร็ว",
    "doc_number": "เลขที่หนังสือ",
    "date": "วันที่",
    "stated": "วันที่ตามหนังสือ",
    "end": "วันสิ้นสุด",
    "quantity": "จำนวน",
    "unit": "หน่วย",
    "number": "เลขที่",
    "deadlines": "กำหนดเวลา",
    "kind": "ประเภท",
    "days": "จำนวนวัน",
    "actor": "ผู้ปฏิบัติ",
    "action": "การดำเนินการ",
    "requested": "สิ่งที่ขอ",
    "channel": "ช่องทาง",
    "due": "กำหนดส่ง",
    "organization": "หน่วยงาน",
    "time": "เวลา",
    "decisions": "คำสั่งการ",
    "name": "ชื่อ",
    "position": "ตำแหน่ง",
    "capacity": "ฐานะ",
}


def path_label(path: str | None) -> str:
    """Return a Thai label for a field path of the parse result, such as `deadlines.1` or `signatory.position`."""
    if not path:
        return ""
    name, *rest = path.split(".")
    spec = spec_for(name)
    parts = [spec.label]
    for part in rest:
        if part.isdigit():
            parts.append(f"รายการที่ {int(part) + 1}")
        else:
            parts.append(spec.keys.get(part) or SUBFIELD_LABELS.get(part, part))
    return " · ".join(parts)


def field_order(name: str) -> int:
    names = list(FIELDS)
    return names.index(name) if name in names else len(names)


# --- value checks -----------------------------------------------------------------------

_DOCNUM = re.compile(
    r"^(?:ที่\s*)?(?P<prefix>[\u0E01-\u0E2E]{2})\.?\s*(?P<office>\d+(?:\.\d+)*)\s*/\s*"
    r"(?P<circular>ว\.?)?\s*(?P<serial>\d+)$"
)


def parse_doc_number(text: str) -> dict:
    """Read a letter number such as `ชร ๐๐๒๓.๖/ว ๓๒๐๐` into the DOCNUM shape of the contract."""
    match = _DOCNUM.match(to_arabic_digits(text).strip())
    if match is None:
        raise InvalidValue(
            "invalid_doc_number",
            f"เลขที่หนังสือ “{text}” ไม่อยู่ในรูปแบบ เช่น ชร 0023.6/ว 3200",
            f"not a letter number: {text!r}",
        )
    circular = match["circular"] is not None
    serial = int(match["serial"])
    normalized = f"{match['prefix']} {match['office']}/{'ว ' if circular else ''}{serial}"
    return {
        "text": normalized,
        "prefix": match["prefix"],
        "office": match["office"],
        "circular": circular,
        "serial": serial,
    }


def _invalid(name: str, reason_th: str, reason_en: str) -> InvalidValue:
    label = spec_for(name).label
    return InvalidValue("invalid_value", f"ค่าของช่อง “{label}” ไม่ถูกต้อง: {reason_th}", f"{name}: {reason_en}")


def validate_value(name: str, value: Any) -> None:
    """Raise InvalidValue unless `value` has the shape the contract gives field `name`.

    None (the field is empty) is valid for every field except lists, which use [].
    """
    spec = spec_for(name)
    if spec.kind == KIND_LIST:
        if not isinstance(value, list):
            raise _invalid(name, "ต้องเป็นรายการ", "expected a list")
        return
    if value is None or spec.kind == KIND_JSON:
        return
    if spec.kind in (KIND_TEXT, KIND_LONGTEXT):
        if not isinstance(value, str) or not value.strip():
            raise _invalid(name, "ต้องเป็นข้อความที่ไม่ว่าง", "expected a non-empty string")
    elif spec.kind == KIND_CHOICE:
        if value not in spec.choices:
            raise _invalid(name, "ไม่อยู่ในตัวเลือก", f"{value!r} is not one of {sorted(spec.choices)}")
    elif spec.kind == KIND_DATE:
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            raise _invalid(name, "ไม่ใช่วันที่", f"{value!r} is not an ISO date") from None
    elif spec.kind == KIND_DATETIME:
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise _invalid(name, "ไม่ใช่วันเวลา", f"{value!r} is not an ISO datetime") from None
    elif spec.kind == KIND_DOCNUM:
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            raise _invalid(name, "ต้องมีเลขที่หนังสือ", "expected a DOCNUM object with text")
    elif spec.kind == KIND_OBJECT:
        if not isinstance(value, dict) or set(value) - set(spec.keys):
            raise _invalid(name, "มีหัวข้อที่ไม่รู้จัก", f"expected an object with keys {sorted(spec.keys)}")


# --- form input -------------------------------------------------------------------------

_TIME = re.compile(r"\s*(?:เวลา\s*)?(\d{1,2})[:.](\d{2})\s*(?:น\.)?\s*$")


def _parse_datetime_input(name: str, text: str) -> str:
    cleaned = to_arabic_digits(text).strip()
    try:
        return datetime.fromisoformat(cleaned).isoformat(timespec="minutes")
    except ValueError:
        pass
    match = _TIME.search(cleaned)
    hour, minute = (int(match[1]), int(match[2])) if match else (0, 0)
    day_part = cleaned[: match.start()] if match else cleaned
    try:
        day = parse_thai_date(day_part)
        return datetime(day.year, day.month, day.day, hour, minute).isoformat(timespec="minutes")
    except ValueError:
        raise _invalid(name, "พิมพ์เป็น เช่น 9 เมษายน 2568 16:30", f"not a date and time: {text!r}") from None


def value_from_form(name: str, form: Mapping[str, str]) -> Any:
    """Turn the correction form's inputs for field `name` into a value of the contract's shape.

    The form sends `value` for one-input fields and `value.<key>` for each key of an object
    field. An empty input clears the field (None, or [] for lists). Raises InvalidValue with
    a Thai message when the input cannot be read.
    """
    spec = spec_for(name)
    if spec.kind == KIND_OBJECT:
        parts = {key: (form.get(f"value.{key}") or "").strip() or None for key in spec.keys}
        return parts if any(parts.values()) else None
    raw = (form.get("value") or "").strip()
    if not raw:
        return [] if spec.kind == KIND_LIST else None
    if spec.kind in (KIND_TEXT, KIND_LONGTEXT, KIND_CHOICE):
        return re.sub(r"\s+", " ", raw) if spec.kind == KIND_TEXT else raw
    if spec.kind == KIND_DATE:
        try:
            return parse_thai_date(raw).isoformat()
        except ValueError:
            raise _invalid(name, "พิมพ์เป็น เช่น 2 เมษายน 2568", f"not a date: {raw!r}") from None
    if spec.kind == KIND_DATETIME:
        return _parse_datetime_input(name, raw)
    if spec.kind == KIND_DOCNUM:
        return parse_doc_number(raw)
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise _invalid(name, "ต้องอยู่ในรูปแบบ JSON", f"invalid JSON: {raw[:80]!r}") from None


def form_text(name: str, value: Any) -> str:
    """Return the text to put in the correction input, so that submitting it unchanged keeps the value."""
    spec = spec_for(name)
    if value is None:
        return ""
    if spec.kind in (KIND_TEXT, KIND_LONGTEXT, KIND_CHOICE):
        return str(value)
    if spec.kind == KIND_DATE:
        return format_be_date(value)
    if spec.kind == KIND_DATETIME:
        moment = datetime.fromisoformat(value)
        return f"{format_be_date(moment.date())} {moment:%H:%M}"
    if spec.kind == KIND_DOCNUM:
        return value.get("text") or ""
    return json.dumps(value, ensure_ascii=False, indent=1)


# --- display ----------------------------------------------------------------------------


def _join(*parts: Any) -> str:
    return " ".join(str(part) for part in parts if part not in (None, "", []))


def _describe_item(name: str, item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    if name == "enclosures" and item.get("quantity") is not None and "จำนวน" not in (item.get("text") or ""):
        return _join(item.get("text"), "จำนวน", item.get("quantity"), item.get("unit"))
    if name in ("references", "enclosures"):
        return item.get("text") or json.dumps(item, ensure_ascii=False)
    if name == "actions":
        number = f"{item['number']}." if item.get("number") is not None else None
        return _join(number, item.get("text"))
    if name == "deadlines":
        when = format_be_date(item.get("date")) or (f"{item['days']} วัน" if item.get("days") else None)
        return _join(DEADLINE_KINDS.get(item.get("kind"), item.get("kind")), when, "—", item.get("text"))
    if name == "assignments":
        requested = ", ".join(item.get("requested") or [])
        due = format_be_date(item.get("due"))
        return _join(f"{item.get('actor')}:", item.get("action"), requested and f"({requested})",
                     item.get("channel") and f"ทาง {item['channel']}", due and f"ภายใน {due}")
    if name == "receipt_stamps":
        return _join(item.get("organization"), item.get("number") and f"เลขรับ {item['number']}",
                     format_be_date(item.get("date")), item.get("time") and f"เวลา {item['time']} น.")
    if name == "endorsements":
        return _join(" ".join(item.get("decisions") or []), "—", item.get("name"), item.get("position"),
                     format_be_date(item.get("date")))
    return json.dumps(item, ensure_ascii=False)


def display_lines(name: str, value: Any) -> list[str]:
    """Return the value as Thai lines for the screen; an empty list when the field is empty."""
    spec = spec_for(name)
    if value is None or value == [] or value == "":
        return []
    if spec.kind == KIND_CHOICE:
        return [spec.choices.get(value, str(value))]
    if spec.kind == KIND_DATE:
        return [format_be_date(value)]
    if spec.kind == KIND_DATETIME:
        return [_format_local_datetime(value)]
    if spec.kind == KIND_DOCNUM:
        return [value.get("text") or ""]
    if spec.kind == KIND_OBJECT:
        lines = []
        for key, label in spec.keys.items():
            part = value.get(key)
            if part:
                text = CAPACITY.get(part, part) if key == "capacity" else part
                lines.append(f"{label}: {text}")
        return lines
    if spec.kind == KIND_LIST:
        return [_describe_item(name, item) for item in value]
    if isinstance(value, str):
        return [value]
    return [json.dumps(value, ensure_ascii=False)]


def _format_local_datetime(value: str) -> str:
    # Letters state local Thai time without an offset, so no time-zone conversion applies.
    moment = datetime.fromisoformat(value)
    return f"{format_be_date(moment.date())} เวลา {moment:%H:%M} น."
