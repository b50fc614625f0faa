"""The fields of a parsed letter: Thai labels, value checks, form input and display text.

Field names and value shapes follow the parse result contract (docs/letter-json.md). A
field the catalog does not know (the parser may add keys) is treated as free JSON.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

from workflow.errors import InvalidValue
from workflow.thaidate import BE_OFFSET, MONTHS_TH, format_be_date, parse_thai_date, to_arabic_digits

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
# Deadline kinds as a clerk chooses them in the correction form.
DEADLINE_KINDS = {
    "due": "ภายในวันที่ (กำหนดส่ง)",
    "start": "ตั้งแต่วันที่ (วันเริ่ม)",
    "window": "ช่วงวันที่ (ตั้งแต่…ถึง…)",
    "relative": "ภายในจำนวนวัน (นับจากวันที่กำหนด)",
}
# Start points of a relative deadline (`counted_from` of the contract).
COUNTED_FROM = {
    "receipt": "นับแต่วันที่ได้รับหนังสือ",
    "letter_date": "นับแต่วันที่ของหนังสือ",
    "event": "นับแต่วันที่เกิดเหตุที่หนังสือระบุ",
}
# Label of a field the catalog does not know yet; the parser may add keys at any time.
UNKNOWN_FIELD_LABEL = "ข้อมูลอื่นที่ระบบอ่านได้"
UNKNOWN_SUBFIELD_LABEL = "รายละเอียด"

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
    "undated_requests": FieldSpec("คำขอที่ไม่มีกำหนดวัน", KIND_LIST),
    "copies": FieldSpec("สำเนาส่ง", KIND_LONGTEXT),
}


def spec_for(name: str) -> FieldSpec:
    return FIELDS.get(name) or FieldSpec(UNKNOWN_FIELD_LABEL, KIND_JSON)


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
    "working_days": "นับเฉพาะวันทำการ",
    "counted_from": "นับจาก",
    "on_behalf_of": "แทน",
    "effective": "วันครบกำหนดที่ใช้จริง",
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
            parts.append(spec.keys.get(part) or SUBFIELD_LABELS.get(part, UNKNOWN_SUBFIELD_LABEL))
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


def _invalid(name: str, reason_th: str, reason_en: str, code: str = "invalid_value") -> InvalidValue:
    """Build the error for a value of field `name`; `reason_th` is a whole Thai sentence."""
    label = spec_for(name).label
    return InvalidValue(code, f"ช่อง “{label}”: {reason_th}", f"{name}: {reason_en}")


def _read_date(name: str, raw: str, where: str = "") -> str:
    """Read a typed Thai date into an ISO date.

    Raises InvalidValue with code `invalid_value` for text that is not a date, and with
    `date_not_in_calendar` for a day that does not exist, such as 31 กุมภาพันธ์. `where`
    names the place inside the field, such as a list item.
    """
    try:
        return parse_thai_date(raw).isoformat()
    except ValueError:
        pass
    # Put day 1 in place of the typed day: if that reads, the form was right and the day does not exist.
    first_of_month = re.sub(r"^\s*[0-9๐-๙]{1,2}(?=\s*[/.\-\u0E00-\u0E7F\s])", "1", raw, count=1)
    try:
        month_start = parse_thai_date(first_of_month)
    except ValueError:
        raise _invalid(
            name,
            f"{where}อ่าน “{raw}” เป็นวันที่ไม่ได้ กรุณาพิมพ์วัน เดือน ปี พ.ศ. เช่น 2 เมษายน 2568",
            f"not a date: {raw!r}",
        ) from None
    days = calendar.monthrange(month_start.year, month_start.month)[1]
    month = f"{MONTHS_TH[month_start.month - 1]} {month_start.year + BE_OFFSET}"
    raise _invalid(
        name,
        f"{where}ไม่มีวันที่ “{raw.strip()}” ในปฏิทิน เพราะเดือน{month} มี {days} วัน",
        f"no such day: {raw!r}",
        code="date_not_in_calendar",
    )


def validate_value(name: str, value: Any) -> None:
    """Raise InvalidValue unless `value` has the shape the contract gives field `name`.

    None (the field is empty) is valid for every field except lists, which use [].
    """
    spec = spec_for(name)
    if spec.kind == KIND_LIST:
        if not isinstance(value, list):
            raise _invalid(name, "ค่าที่ส่งมาต้องเป็นรายการ", "expected a list")
        return
    if value is None or spec.kind == KIND_JSON:
        return
    if spec.kind in (KIND_TEXT, KIND_LONGTEXT):
        if not isinstance(value, str) or not value.strip():
            raise _invalid(name, "กรุณาพิมพ์ข้อความ หรือเว้นว่างทั้งช่องถ้าหนังสือไม่มีข้อมูลนี้", "expected a non-empty string")
    elif spec.kind == KIND_CHOICE:
        if not isinstance(value, str) or value not in spec.choices:
            raise _invalid(name, "กรุณาเลือกค่าจากรายการที่มีให้", f"{value!r} is not one of {sorted(spec.choices)}")
    elif spec.kind == KIND_DATE:
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            raise _invalid(name, "ค่าที่ส่งมาไม่ใช่วันที่", f"{value!r} is not an ISO date") from None
    elif spec.kind == KIND_DATETIME:
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise _invalid(name, "ค่าที่ส่งมาไม่ใช่วันและเวลา", f"{value!r} is not an ISO datetime") from None
    elif spec.kind == KIND_DOCNUM:
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            raise _invalid(name, "กรุณาพิมพ์เลขที่หนังสือ เช่น ชร 0023.6/ว 3200", "expected a DOCNUM object with text")
    elif spec.kind == KIND_OBJECT:
        if not isinstance(value, dict) or set(value) - set(spec.keys):
            raise _invalid(name, "มีหัวข้อที่ระบบไม่รู้จัก", f"expected an object with keys {sorted(spec.keys)}")


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
        raise _invalid(
            name,
            f"อ่าน “{text}” เป็นวันและเวลาไม่ได้ กรุณาพิมพ์ เช่น 9 เมษายน 2568 16:30",
            f"not a date and time: {text!r}",
        ) from None


def value_from_form(name: str, form: Mapping[str, str], current: Any = None) -> Any:
    """Turn the correction form's inputs for field `name` into a value of the contract's shape.

    The form sends `value` for one-input fields and `value.<key>` for each key of an object
    field. For lists with item inputs (deadlines, actions) it sends `item_count` and
    `<index>.<key>` for each item. `current` is the value shown, whose item keys without an
    input are kept.
    An empty input clears the field (None, or [] for lists). Raises InvalidValue with
    a Thai message when the input cannot be read.
    """
    spec = spec_for(name)
    if spec.kind == KIND_OBJECT:
        parts = {key: (form.get(f"value.{key}") or "").strip() or None for key in spec.keys}
        return parts if any(parts.values()) else None
    if name in ITEM_INPUTS and ITEM_COUNT_INPUT in form:
        return items_from_form(name, form, current)
    raw = (form.get("value") or "").strip()
    if not raw:
        return [] if spec.kind == KIND_LIST else None
    if spec.kind in (KIND_TEXT, KIND_LONGTEXT, KIND_CHOICE):
        return re.sub(r"\s+", " ", raw) if spec.kind == KIND_TEXT else raw
    if spec.kind == KIND_DATE:
        return _read_date(name, raw)
    if spec.kind == KIND_DATETIME:
        return _parse_datetime_input(name, raw)
    if spec.kind == KIND_DOCNUM:
        return parse_doc_number(raw)
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise _invalid(name, "ข้อมูลที่พิมพ์ไม่อยู่ในรูปแบบ JSON ที่ถูกต้อง", f"invalid JSON: {raw[:80]!r}") from None


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


# --- list items as form inputs ----------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    """One input of a list item in the correction form."""

    key: str
    label: str
    # text, longtext, date (a Thai date), number (a whole number), yes_no, or choice.
    kind: str
    choices: dict[str, str] = field(default_factory=dict)


ITEM_INPUTS: dict[str, tuple[ItemInput, ...]] = {
    "deadlines": (
        ItemInput("kind", "ประเภท", "choice", DEADLINE_KINDS),
        ItemInput("date", "วันที่", "date"),
        ItemInput("end", "ถึงวันที่ (เฉพาะช่วงวันที่)", "date"),
        ItemInput("days", "จำนวนวัน (เฉพาะภายในจำนวนวัน)", "number"),
        ItemInput("working_days", "นับเฉพาะวันทำการ", "yes_no"),
        ItemInput("text", "ข้อความในหนังสือ", "text"),
    ),
    "actions": (
        ItemInput("number", "ข้อที่", "number"),
        ItemInput("text", "ข้อความ", "longtext"),
    ),
    "undated_requests": (
        ItemInput("text", "ข้อความในหนังสือ", "text"),
        ItemInput("action", "อยู่ในข้อที่", "number"),
    ),
}
ITEM_COUNT_INPUT = "item_count"
NEW_ITEM = "new"
# Keys a new item gets before its inputs are read, so that it has every key of the contract.
NEW_ITEM_DEFAULTS: dict[str, dict[str, Any]] = {
    "deadlines": {"kind": "due", "date": None, "stated": None, "end": None, "days": None, "working_days": False,
                  "counted_from": None, "text": None, "action": None},
    "actions": {"number": None, "text": None, "deadlines": []},
    "undated_requests": {"text": None, "action": None},
}
# A form never carries more items than this; more means a forged or broken request.
MAX_FORM_ITEMS = 200


def item_form_values(name: str, value: Any) -> dict[str, str]:
    """Return the correction form's inputs for list field `name`, filled from `value`."""
    items = value if isinstance(value, list) else []
    values = {ITEM_COUNT_INPUT: str(len(items))}
    for index, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        for item_input in ITEM_INPUTS[name]:
            part = item.get(item_input.key)
            if item_input.kind == "date":
                text = format_be_date(part) if part else ""
            elif item_input.kind == "yes_no":
                text = "yes" if part else ""
            else:
                text = "" if part is None else str(part)
            values[f"{index}.{item_input.key}"] = text
    return values


def _item_error(name: str, position: str, reason_th: str, reason_en: str) -> InvalidValue:
    return _invalid(name, f"{position}: {reason_th}", f"item {position}: {reason_en}")


def _read_item_input(name: str, position: str, item_input: ItemInput, raw: str) -> Any:
    raw = raw.strip()
    if item_input.kind == "yes_no":
        return raw == "yes"
    if not raw:
        return None
    if item_input.kind == "date":
        return _read_date(name, raw, where=f"{position} {item_input.label}: ")
    if item_input.kind == "number":
        digits = to_arabic_digits(raw)
        if not digits.isdigit() or int(digits) < 1:
            raise _item_error(name, position, f"{item_input.label} ต้องเป็นจำนวนเต็มบวก เช่น 7 แต่พิมพ์ว่า “{raw}”",
                              f"{item_input.key} is not a positive whole number: {raw!r}")
        return int(digits)
    if item_input.kind == "choice" and raw not in item_input.choices:
        raise _item_error(name, position, f"กรุณาเลือก{item_input.label}จากรายการ", f"{item_input.key}={raw!r}")
    return re.sub(r"\s+", " ", raw) if item_input.kind == "text" else raw


def _check_item(name: str, position: str, item: dict) -> None:
    if name == "deadlines":
        kind = item.get("kind")
        if kind in ("due", "start", "window") and not item.get("date"):
            raise _item_error(name, position, "กรุณาพิมพ์วันที่ เช่น 11 เมษายน 2568", f"{kind} without a date")
        if kind == "relative" and not item.get("days"):
            raise _item_error(name, position, "กรุณาพิมพ์จำนวนวัน เช่น 7", "relative without days")
        if item.get("end") and item.get("date") and item["end"] < item["date"]:
            raise _item_error(name, position, "วันสิ้นสุดอยู่ก่อนวันเริ่ม", "end before date")
    elif not item.get("text"):
        raise _item_error(name, position, "กรุณาพิมพ์ข้อความ หรือเลือกลบรายการนี้", "item without text")


def _apply_deadline_date(item: dict, base: dict) -> None:
    # Dates derived from the typed date follow it, unless the letter stated them apart.
    old_date = base.get("date")
    if item.get("date") != old_date:
        for key in ("stated", "effective"):
            if key in item and (item[key] == old_date or item[key] is None):
                item[key] = item["date"]
    if item.get("kind") == "relative" and not item.get("counted_from"):
        item["counted_from"] = "receipt"


def _read_item(name: str, form: Mapping[str, str], prefix: str, position: str, base: dict) -> dict:
    item = dict(base)
    for item_input in ITEM_INPUTS[name]:
        item[item_input.key] = _read_item_input(name, position, item_input, form.get(f"{prefix}.{item_input.key}") or "")
    if name == "deadlines":
        _apply_deadline_date(item, base)
    _check_item(name, position, item)
    return item


def _new_item_filled(name: str, form: Mapping[str, str]) -> bool:
    # The kind select and the yes/no box always send something, so they do not count as typed.
    typed = [i for i in ITEM_INPUTS[name] if i.kind not in ("choice", "yes_no")]
    return any((form.get(f"{NEW_ITEM}.{i.key}") or "").strip() for i in typed)


def items_from_form(name: str, form: Mapping[str, str], current: Any) -> list[dict]:
    """Read the items of list field `name` from the correction form; raises InvalidValue.

    Keys the form has no input for (such as a deadline's `counted_from` or an action's own
    deadlines) are kept from the item in `current` at the same index.
    """
    current = current if isinstance(current, list) else []
    count_text = to_arabic_digits(form.get(ITEM_COUNT_INPUT) or "0")
    if not count_text.isdigit() or int(count_text) > MAX_FORM_ITEMS:
        raise _invalid(name, "แบบฟอร์มส่งจำนวนรายการมาไม่ถูกต้อง กรุณาโหลดหน้าใหม่", f"bad item_count {count_text!r}")
    items = []
    for index in range(int(count_text)):
        if form.get(f"{index}.remove"):
            continue
        base = current[index] if index < len(current) and isinstance(current[index], dict) else NEW_ITEM_DEFAULTS[name]
        items.append(_read_item(name, form, str(index), f"รายการที่ {index + 1}", base))
    if _new_item_filled(name, form):
        items.append(_read_item(name, form, NEW_ITEM, "รายการใหม่", NEW_ITEM_DEFAULTS[name]))
    return items


def form_values(name: str, value: Any) -> dict[str, str]:
    """Return every input of the correction form for field `name`, filled from `value`."""
    spec = spec_for(name)
    if spec.kind == KIND_OBJECT:
        value = value if isinstance(value, dict) else {}
        return {f"value.{key}": value.get(key) or "" for key in spec.keys}
    if name in ITEM_INPUTS:
        return item_form_values(name, value)
    return {"value": form_text(name, value)}


# --- display ----------------------------------------------------------------------------


def _join(*parts: Any) -> str:
    return " ".join(str(part) for part in parts if part not in (None, "", []))


def _describe_item(name: str, item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    if name == "enclosures" and item.get("quantity") is not None and "จำนวน" not in (item.get("text") or ""):
        return _join(item.get("text"), "จำนวน", item.get("quantity"), item.get("unit"))
    if name in ("references", "enclosures"):
        return item.get("text") or describe_generic(item)
    if name == "actions":
        number = f"{item['number']}." if item.get("number") is not None else None
        return _join(number, item.get("text"))
    if name == "deadlines":
        return describe_deadline(item)
    if name == "undated_requests":
        action = f"(ข้อ {item['action']})" if item.get("action") is not None else None
        return _join(item.get("text"), action)
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
    return describe_generic(item)


def describe_deadline(item: dict) -> str:
    """Describe a DEADLINE as a clerk would say it, such as `ภายใน 7 วันทำการ นับแต่วันที่ได้รับหนังสือ`."""
    kind = item.get("kind")
    day = format_be_date(item.get("date"))
    if kind == "relative":
        unit = "วันทำการ" if item.get("working_days") else "วัน"
        when = _join("ภายใน", item.get("days"), unit, COUNTED_FROM.get(item.get("counted_from")))
        if day:
            when = f"{when} (ครบกำหนด {day})"
    elif kind == "start":
        when = f"ตั้งแต่วันที่ {day}"
    elif kind == "window":
        when = _join(f"ตั้งแต่วันที่ {day}", item.get("end") and f"ถึงวันที่ {format_be_date(item['end'])}")
    else:
        when = f"ภายในวันที่ {day}" if day else "ไม่ระบุวันที่"
        stated = item.get("stated")
        if stated and item.get("date") and stated != item["date"]:
            when += f" (หนังสือเขียนว่า {format_be_date(stated)})"
    phrase = item.get("text")
    return f"{when} — “{phrase}”" if phrase else when


def describe_generic(value: Any) -> str:
    """Describe a value of a shape the catalog does not know, with Thai labels and no raw JSON."""
    if isinstance(value, dict):
        parts = [
            f"{SUBFIELD_LABELS.get(key, UNKNOWN_SUBFIELD_LABEL)}: {describe_generic(part)}"
            for key, part in value.items()
            if part not in (None, "", [], {})
        ]
        return " · ".join(parts)
    if isinstance(value, list):
        return ", ".join(describe_generic(part) for part in value)
    if isinstance(value, bool):
        return "ใช่" if value else "ไม่ใช่"
    return str(value)


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
    if isinstance(value, list):
        return [describe_generic(item) for item in value]
    return [describe_generic(value)]


def _format_local_datetime(value: str) -> str:
    # Letters state local Thai time without an offset, so no time-zone conversion applies.
    moment = datetime.fromisoformat(value)
    return f"{format_be_date(moment.date())} เวลา {moment:%H:%M} น."
