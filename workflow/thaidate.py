"""Buddhist-era dates for screens, and reading the dates a clerk types."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

# Thailand keeps UTC+7 all year, so a fixed offset needs no time-zone database.
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")
BE_OFFSET = 543

MONTHS_TH = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
MONTHS_TH_ABBR = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def to_arabic_digits(text: str) -> str:
    return text.translate(THAI_DIGITS)


def format_be_date(value: date | str | None) -> str:
    """Format a date (or an ISO date string) as `2 เมษายน 2568`; empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {MONTHS_TH[value.month - 1]} {value.year + BE_OFFSET}"


def format_be_datetime(value: datetime | str | None) -> str:
    """Format a moment in Thai time as `4 ธันวาคม 2569 เวลา 10:15 น.`; naive values are taken as UTC."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(BANGKOK)
    return f"{format_be_date(local.date())} เวลา {local:%H:%M} น."


def _month_number(word: str) -> int | None:
    word = word.strip()
    for index, (full, abbr) in enumerate(zip(MONTHS_TH, MONTHS_TH_ABBR), start=1):
        if word in (full, abbr, abbr.replace(".", "")):
            return index
    return None


def _year_ce(year: int) -> int:
    # A year above 2400 is Buddhist era; two digits mean 25xx (BE), as in `๖๘`.
    if year < 100:
        year += 2500
    return year - BE_OFFSET if year > 2400 else year


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})$")
_WORDS = re.compile(r"^(\d{1,2})\s*([\u0E00-\u0E7F.]+)\s*(?:พ\.ศ\.\s*)?(\d{2,4})$")


def parse_thai_date(text: str) -> date:
    """Read a date typed as `2 เมษายน 2568`, `๒ เม.ย. ๖๘`, `2/4/2568` or ISO `2025-04-02`.

    Day-month-year forms take the year as Buddhist era above 2400 and as Common Era
    otherwise; an ISO date is always Common Era. Raises ValueError when the text is not
    a real calendar date in one of these forms.
    """
    cleaned = re.sub(r"\s+", " ", to_arabic_digits(text).strip())
    match = _ISO.match(cleaned)
    if match:
        return date(int(match[1]), int(match[2]), int(match[3]))
    match = _NUMERIC.match(cleaned)
    if match:
        return date(_year_ce(int(match[3])), int(match[2]), int(match[1]))
    match = _WORDS.match(cleaned)
    if match:
        month = _month_number(match[2])
        if month is None:
            raise ValueError(f"unknown Thai month name: {match[2]!r}")
        return date(_year_ce(int(match[3])), month, int(match[1]))
    raise ValueError(f"not a date: {text!r}")
