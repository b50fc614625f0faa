"""Reading `/api/v1` request bodies and arguments into checked Python values.

Every check raises `InvalidValue` (HTTP 400) with a Thai message that names the field, so
a bad request reaches no operation. Text is also checked for NUL characters and unpaired
UTF-16 surrogates, which JSON can carry but neither database nor UTF-8 can store.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import request

from workflow.errors import InvalidValue, NotFound
from workflow.routing.calendar import BANGKOK

# Database ids are 32-bit integers on PostgreSQL; a larger id cannot exist.
MAX_ID = 2**31 - 1
# The path converter for record ids: an id out of range is simply not found (404).
ID = "int(max=2147483647)"
MAX_PAGE = 100_000
MAX_TEXT_LENGTH = 10_000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
JOB_ID_RE = re.compile(r"^[0-9a-f]{32}$")
ACCOUNT_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Dates outside these years are typing mistakes, and year 1 or 9999 would overflow time-zone arithmetic.
MIN_YEAR = 1900
MAX_YEAR = 2200


def _invalid(name: str, message_th: str, message_en: str) -> InvalidValue:
    return InvalidValue("invalid_value", f"ช่อง “{name}” {message_th}", f"field {name!r} {message_en}")


def _check_storable(value: Any, path: str) -> None:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise InvalidValue(
                "invalid_text", f"ข้อความในช่อง “{path}” มีอักขระที่บันทึกไม่ได้ (อักขระ NUL หรือรหัส UTF-16 ที่ไม่ครบคู่)",
                f"{path} contains a NUL character or an unpaired surrogate",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, path)
            _check_storable(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_storable(item, f"{path}[{index}]")


def json_body() -> dict[str, Any]:
    """Return the request's JSON object; an empty body counts as `{}`."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype != "application/json":
        raise InvalidValue(
            "unsupported_media_type", "กรุณาส่งข้อมูลเป็น JSON พร้อมส่วนหัว Content-Type: application/json",
            f"request body of type {request.mimetype!r}, expected application/json",
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidValue(
            "invalid_json", "ข้อมูลที่ส่งมาไม่ใช่ JSON object ที่ถูกต้อง", "request body is not a JSON object",
        )
    _check_storable(body, "body")
    return body


def text(body: dict, name: str, required: bool = False, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidValue("missing_value", f"ต้องระบุช่อง “{name}”", f"field {name!r} is missing")
        return None
    if not isinstance(value, str):
        raise _invalid(name, "ต้องเป็นข้อความ", "must be a string")
    if len(value) > max_length:
        raise _invalid(name, f"ยาวเกิน {max_length:,} ตัวอักษร", f"is longer than {max_length} characters")
    return value


def whole(body: dict, name: str, required: bool = True, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidValue("missing_value", f"ต้องระบุช่อง “{name}”", f"field {name!r} is missing")
        return None
    # bool is a subclass of int in Python, but `true` is not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise _invalid(name, f"ต้องเป็นจำนวนเต็มตั้งแต่ {minimum:,} ถึง {maximum:,}",
                       f"must be a whole number in {minimum}..{maximum}, got {value!r}")
    return value


def number(body: dict, name: str, minimum: float = 0, maximum: float = 1e12) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
        raise _invalid(name, f"ต้องเป็นตัวเลขตั้งแต่ {minimum:,} ถึง {maximum:,.0f}",
                       f"must be a number in {minimum}..{maximum}, got {value!r}")
    return float(value)


def flag(body: dict, name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise _invalid(name, "ต้องเป็น true หรือ false", f"must be a boolean, got {value!r}")
    return value


def text_list(body: dict, name: str, required: bool = False) -> list[str] | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidValue("missing_value", f"ต้องระบุช่อง “{name}”", f"field {name!r} is missing")
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(name, "ต้องเป็นรายการข้อความ", "must be an array of strings")
    return value


def object_list(body: dict, name: str) -> list[dict] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _invalid(name, "ต้องเป็นรายการของ object", "must be an array of objects")
    return value


def mapping(body: dict, name: str, required: bool = False) -> dict | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidValue("missing_value", f"ต้องระบุช่อง “{name}”", f"field {name!r} is missing")
        return None
    if not isinstance(value, dict):
        raise _invalid(name, "ต้องเป็น object", "must be an object")
    return value


def iso_date(body: dict, name: str, required: bool = False) -> date | None:
    raw = text(body, name, required=required, max_length=10)
    if raw is None:
        return None
    try:
        if not ISO_DATE_RE.match(raw):
            raise ValueError(raw)
        value = date.fromisoformat(raw)
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError(raw)
        return value
    except ValueError:
        raise _invalid(name, f"“{raw}” ต้องเป็นวันที่แบบ ค.ศ. ปี-เดือน-วัน เช่น 2025-04-11",
                       f"{raw!r} is not an ISO date (YYYY-MM-DD)") from None


def iso_datetime(body: dict, name: str) -> datetime | None:
    """Return an ISO 8601 moment; one without a time zone is read as Thai time."""
    raw = text(body, name, max_length=40)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise ValueError(raw)
    except ValueError:
        raise _invalid(name, f"“{raw}” ต้องเป็นวันเวลาแบบ ISO 8601 เช่น 2025-04-03T09:30:00+07:00",
                       f"{raw!r} is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=BANGKOK)


def page_argument() -> int:
    """Return the `page` query argument (default 1)."""
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidValue("invalid_page", f"เลขหน้า “{raw[:20]}” ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง {MAX_PAGE:,}",
                           f"page {raw[:20]!r} is not a whole number in 1..{MAX_PAGE}")
    return int(raw)


def job_id(raw: str) -> str:
    if not JOB_ID_RE.match(raw):
        raise NotFound("job_not_found", "ไม่พบงานอ่านเอกสารนี้", f"{raw[:40]!r} is not a job id")
    return raw


def account_code(raw: str) -> str:
    if not ACCOUNT_CODE_RE.match(raw):
        raise NotFound("account_not_found", "ไม่พบบัญชีนี้", f"{raw[:40]!r} is not an account code")
    return raw
