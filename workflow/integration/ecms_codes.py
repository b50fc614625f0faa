"""Speed and secrecy codes of e-CMS `GovernmentDocument` messages, mapped to the parse contract's values.

NOTE: DGA has not published the official code lists, so `DEFAULT_CODES` is an assumption
taken from the three-digit codes seen in client code (`001` ...). An office overrides it with
a JSON file named by `SARABAN_ECMS_CODES`, shaped like `DEFAULT_CODES`:
`{"speed": {"000": null, "001": "urgent", ...}, "secrecy": {...}}`. A null value means "none".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from workflow.errors import InvalidValue

URGENCIES = ("most_urgent", "very_urgent", "urgent")
SECRECY_LEVELS = ("top_secret", "secret", "confidential")

DEFAULT_CODES: dict[str, dict[str, str | None]] = {
    # ปกติ, ด่วน, ด่วนมาก, ด่วนที่สุด
    "speed": {"000": None, "001": "urgent", "002": "very_urgent", "003": "most_urgent"},
    # ปกติ, ลับ, ลับมาก, ลับที่สุด
    "secrecy": {"000": None, "001": "confidential", "002": "secret", "003": "top_secret"},
}


@dataclass(frozen=True)
class CodeTable:
    """Both directions of the speed and secrecy code lists."""

    speed: dict[str, str | None]
    secrecy: dict[str, str | None]

    def urgency_for(self, code: str | None) -> str | None:
        return self._value(self.speed, code, "SpeedCode", "ชั้นความเร็ว")

    def secrecy_for(self, code: str | None) -> str | None:
        return self._value(self.secrecy, code, "SecretCode", "ชั้นความลับ")

    def speed_code(self, urgency: str | None) -> str:
        return self._code(self.speed, urgency, "urgency")

    def secret_code(self, secrecy: str | None) -> str:
        return self._code(self.secrecy, secrecy, "secrecy")

    @staticmethod
    def _value(table: dict[str, str | None], code: str | None, element: str, label_th: str) -> str | None:
        code = (code or "").strip()
        if not code:
            return None
        if code not in table:
            raise InvalidValue(
                "ecms_unknown_code",
                f"ไม่รู้จักรหัส{label_th} “{code}” ในข้อความ e-CMS กรุณาเพิ่มรหัสนี้ในไฟล์ตั้งค่า SARABAN_ECMS_CODES",
                f"{element} {code!r} is not in the code table; add it to the SARABAN_ECMS_CODES file",
            )
        return table[code]

    @staticmethod
    def _code(table: dict[str, str | None], value: str | None, name: str) -> str:
        for code, mapped in table.items():
            if mapped == value:
                return code
        raise InvalidValue(
            "ecms_no_code",
            f"ตารางรหัส e-CMS ไม่มีรหัสสำหรับค่า “{value}”",
            f"the code table has no code for {name} {value!r}",
        )


def _check_table(name: str, table: object, allowed: tuple[str, ...]) -> dict[str, str | None]:
    if not isinstance(table, dict) or not table:
        raise ValueError(f"{name}: expected a non-empty object of code to value")
    for code, value in table.items():
        if value is not None and value not in allowed:
            raise ValueError(f"{name}: code {code!r} maps to {value!r}, expected null or one of {allowed}")
    if None not in table.values():
        raise ValueError(f"{name}: one code must map to null (a letter with no mark)")
    return {str(code): value for code, value in table.items()}


def load_code_table(path: str | os.PathLike | None = None) -> CodeTable:
    """Return the code table from `path`, else from `SARABAN_ECMS_CODES`, else the default.

    Raises ValueError for a file that is not a valid table, naming the file and the problem.
    """
    path = path or os.environ.get("SARABAN_ECMS_CODES")
    raw: dict = DEFAULT_CODES
    if path:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"e-CMS code table {path}: {error}") from error
    try:
        return CodeTable(
            speed=_check_table("speed", raw.get("speed"), URGENCIES),
            secrecy=_check_table("secrecy", raw.get("secrecy"), SECRECY_LEVELS),
        )
    except (AttributeError, ValueError) as error:
        raise ValueError(f"e-CMS code table {path or 'default'}: {error}") from error
