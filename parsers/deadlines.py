"""Find deadline phrases in a letter's body and compute their dates.

| phrase | kind | date |
| --- | --- | --- |
| `ภายในวันที่ X`, `ไม่เกินวันที่ X` | due | X |
| `ก่อนวันที่ X` | due | the day before X (`stated` keeps X) |
| `ตั้งแต่วันที่ X (เป็นต้นไป)` | start | X |
| `ตั้งแต่วันที่ X ถึงวันที่ Y` | window (X to Y), or due Y when the sentence requests a report | |
| `ภายในเดือน<month> <year>` | due | the last day of that month |
| `ภายในปีงบประมาณ พ.ศ. N` | due | 30 September of N (the fiscal year starts on 1 October) |
| `ภายใน N วัน(ทำการ) นับแต่…` | relative | none: counted from each recipient's receipt or the named event |

A date written without a year takes the year that puts it nearest the letter's date. `date`
is the day the table gives. When a due date falls on a weekend or a Thai public holiday,
`effective` is the next working day and `holiday_shift` is true. `rule` names the row used.
`โดยด่วน`, `โดยเร็ว` and `ทันที` carry no date; `find_asap` reports them apart, because a
deadline's kind is one of due, start, window and relative.
"""
import datetime
import functools
import re

from parsers.thaidate import (
    DATE_NO_YEAR_RE, DATE_RE, DIGIT, MONTH_PATTERN, be_year, date_from_match,
    date_without_year, fiscal_year_end, last_day_of_month, month_number, to_arabic,
)

WEEKDAY = r"(?:จันทร์|อังคาร|พุธ|พฤหัสบดี|พฤหัส|ศุกร์|เสาร์|อาทิตย์)"
DAY_WORD = rf"(?:วัน\s*{WEEKDAY}?\s*ที่\s*|วัน\s*{WEEKDAY}\s*)"
DATE_INLINE = (rf"{DIGIT}{{1,2}}\s*{MONTH_PATTERN}(?![ก-ฮ])"
               rf"(?:\s*(?:พ\s?\.\s?ศ\s?\.\s*)?(?:{DIGIT}{{4}}|{DIGIT}{{2}})(?!{DIGIT}))?")

WINDOW_RE = re.compile(
    rf"ตั้งแต่\s*{DAY_WORD}?(?P<first>{DATE_INLINE})\s*(?:-|–|ถึง|จนถึง|ถึงวันที่)\s*"
    rf"{DAY_WORD}?(?P<second>{DATE_INLINE})")
# `ตั้งแต่บัดนี้ถึงวันที่ Y`: a window that opens with the letter itself.
UNTIL_RE = re.compile(
    rf"ตั้งแต่\s*บัดนี้\s*(?:เป็นต้นไป\s*)?(?:จน)?ถึง\s*{DAY_WORD}?(?P<second>{DATE_INLINE})")
START_RE = re.compile(
    rf"(?:ตั้งแต่|เริ่ม(?:ตั้งแต่)?)\s*{DAY_WORD}?(?P<first>{DATE_INLINE})(?:\s*เป็นต้นไป)?")
DUE_RE = re.compile(
    rf"(?:ภายใน|ไม่เกิน(?:กว่า)?|ไม่ช้ากว่า|ก่อน|ให้ทัน)\s*{DAY_WORD}?(?P<first>{DATE_INLINE})")
MONTH_DUE_RE = re.compile(
    rf"ภายใน\s*(?:สิ้น)?เดือน\s*(?P<month>{MONTH_PATTERN})(?![ก-ฮ])"
    rf"(?:\s*(?:พ\s?\.\s?ศ\s?\.\s*)?(?P<year>{DIGIT}{{4}}|{DIGIT}{{2}})(?!{DIGIT}))?")
FISCAL_RE = re.compile(
    rf"ภายใน\s*ปีงบประมาณ\s*(?:พ\s?\.\s?ศ\s?\.\s*)?(?P<year>{DIGIT}{{4}})")
NUMBER_WORDS = r"(?:(?:หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า|ยี่)?สิบ(?:เอ็ด|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า)?|หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า)"
RELATIVE_RE = re.compile(
    rf"ภายใน\s*(?:ระยะเวลา\s*)?(?P<days>{DIGIT}{{1,3}}|{NUMBER_WORDS})\s*(?:\(\s*[^)]{{1,20}}\)\s*)?วัน"
    rf"(?P<working>\s*ทำการ)?"
    rf"(?:\s*(?P<counted>(?:นับ\s*(?:แต่|จาก|ตั้งแต่|ถัดจาก)|(?:ภาย)?หลัง(?:จาก)?)\s*[^\s,.]{{0,40}}))?")
ASAP_RE = re.compile(r"(?<!ด่วน)(?:โดยด่วน(?:ที่สุด)?|โดยเร็ว(?:ที่สุด)?|ทันที)")
# Verbs of a sentence that requests a report or a submission from the recipient.
SUBMIT_RE = re.compile(r"(?<!ได้รับ)(?<!จะ)(?:รายงาน|จัดส่ง|ส่ง(?!เสริม|มาด้วย)|ยื่น)")
PARAGRAPH_START_RE = re.compile(r"\n\s*[0-9๐-๙]{1,2}\s*\.(?![0-9๐-๙])")
# How far before a window the verb asking for a report may stand, in characters.
SUBMIT_LOOKBACK = 120

_UNITS = {"หนึ่ง": 1, "เอ็ด": 1, "สอง": 2, "ยี่": 2, "สาม": 3, "สี่": 4, "ห้า": 5, "หก": 6,
          "เจ็ด": 7, "แปด": 8, "เก้า": 9}


def thai_number(text: str) -> int | None:
    """Return the value of a number written in digits or Thai words up to 99 (`สิบห้า`)."""
    text = text.strip()
    if to_arabic(text).isdigit():
        return int(to_arabic(text))
    if "สิบ" in text:
        tens_word, _, units_word = text.partition("สิบ")
        tens = _UNITS.get(tens_word, 1) if tens_word else 1
        units = _UNITS.get(units_word, 0) if units_word else 0
        return tens * 10 + units
    return _UNITS.get(text)


def read_date(text: str, reference: datetime.date | None) -> datetime.date | None:
    """Return the date in a DATE_INLINE string, taking the year from `reference` if missing."""
    match = DATE_RE.search(text)
    if match:
        return date_from_match(match)
    match = DATE_NO_YEAR_RE.search(text)
    return date_without_year(match, reference) if match else None


def _asks_to_submit(text: str, start: int) -> bool:
    """Tell whether the clause before a window requests a report or a submission."""
    left = max(text.rfind("\n\n", 0, start), start - SUBMIT_LOOKBACK, 0)
    paragraphs = [m.start() for m in PARAGRAPH_START_RE.finditer(text, left, start)]
    if paragraphs:
        left = paragraphs[-1]
    return bool(SUBMIT_RE.search(text, left, start))


def _deadline(kind, span_start, span_end, text, **values) -> dict:
    item = {"kind": kind, "date": None, "stated": None, "end": None, "days": None,
            "working_days": False, "counted_from": None, "text": text[span_start:span_end],
            "action": None}
    for key, value in values.items():
        item[key] = value.isoformat() if isinstance(value, datetime.date) else value
    item["_span"] = (span_start, span_end)
    return item


def _free(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= a or start >= b for a, b in taken)


def find_deadlines(text: str, letter_date: datetime.date | None) -> list[dict]:
    """Return DEADLINE dicts for every deadline phrase in `text`, in order of appearance.

    Each dict also carries `_span`, the (start, end) offsets of its phrase in `text`.
    """
    found: list[dict] = []
    taken: list[tuple[int, int]] = []

    def add(item):
        found.append(item)
        taken.append(item["_span"])

    for match in WINDOW_RE.finditer(text):
        first = read_date(match.group("first"), letter_date)
        second = read_date(match.group("second"), letter_date)
        if first is None or second is None:
            continue
        if _asks_to_submit(text, match.start()):
            add(_deadline("due", match.start(), match.end(), text, date=second, stated=second,
                          rule="window_end",
                          end=second))
        else:
            add(_deadline("window", match.start(), match.end(), text, date=first, stated=first,
                          rule="window",
                          end=second))

    for match in UNTIL_RE.finditer(text):
        second = read_date(match.group("second"), letter_date)
        if second is None:
            continue
        if _asks_to_submit(text, match.start()):
            add(_deadline("due", match.start(), match.end(), text, date=second, stated=second,
                          end=second, rule="window_end"))
        else:
            add(_deadline("window", match.start(), match.end(), text, date=letter_date,
                          stated=None, end=second, rule="window"))

    for match in FISCAL_RE.finditer(text):
        year = be_year(match.group("year"))
        if year and _free(taken, match.start(), match.end()):
            add(_deadline("due", match.start(), match.end(), text,
                          date=fiscal_year_end(year), stated=fiscal_year_end(year),
                          rule="fiscal_year_end"))

    for match in MONTH_DUE_RE.finditer(text):
        if not _free(taken, match.start(), match.end()):
            continue
        month = month_number(match.group("month"))
        if match.group("year"):
            year = be_year(match.group("year"))
            year_ce = year - 543 if year else None
        elif letter_date:
            year_ce = letter_date.year + (1 if month < letter_date.month else 0)
        else:
            year_ce = None
        if month and year_ce:
            last = last_day_of_month(year_ce, month)
            add(_deadline("due", match.start(), match.end(), text, date=last, stated=last,
                          rule="month_end"))

    for match in DUE_RE.finditer(text):
        if not _free(taken, match.start(), match.end()):
            continue
        stated = read_date(match.group("first"), letter_date)
        if stated is None:
            continue
        if match.group().startswith("ก่อน"):
            add(_deadline("due", match.start(), match.end(), text,
                          date=stated - datetime.timedelta(days=1), stated=stated, rule="day_before"))
        else:
            add(_deadline("due", match.start(), match.end(), text, date=stated, stated=stated,
                          rule="as_stated"))

    for match in START_RE.finditer(text):
        if not _free(taken, match.start(), match.end()):
            continue
        first = read_date(match.group("first"), letter_date)
        if first is not None:
            add(_deadline("start", match.start(), match.end(), text, date=first, stated=first,
                          rule="start"))

    for match in RELATIVE_RE.finditer(text):
        if not _free(taken, match.start(), match.end()):
            continue
        days = thai_number(match.group("days"))
        if not days:
            continue
        counted = match.group("counted") or ""
        if "ได้รับ" in counted:
            counted_from = "receipt"
        elif re.search(r"ลงนาม|ลงวันที่|หนังสือ(?:ฉบับ)?นี้|วันที่หนังสือ|ออกหนังสือ", counted):
            counted_from = "letter_date"
        elif counted:
            counted_from = "event"
        else:
            counted_from = None
        add(_deadline("relative", match.start(), match.end(), text, days=days,
                      working_days=bool(match.group("working")), counted_from=counted_from,
                      rule="relative"))

    for item in found:
        _shift_past_holidays(item)
    found.sort(key=lambda item: item["_span"])
    return found


@functools.cache
def _thai_holidays(year: int):
    import holidays  # about 0.1 s to import, so only when a due date needs checking

    return holidays.Thailand(years=year)


def is_working_day(day: datetime.date) -> bool:
    """Tell whether `day` is a Thai working day: not a weekend or a public holiday."""
    return day.weekday() < 5 and day not in _thai_holidays(day.year)


def _shift_past_holidays(item: dict) -> None:
    """Set `effective`: a due date on a weekend or holiday moves to the next working day.

    A person ordered to act by a given day gets the next working day when that day is a
    holiday (Administrative Procedure Act B.E. 2539, section 64). `date` keeps the day the
    phrase names, and `ก่อนวันที่ X` is not moved, since moving it forward could reach X.
    """
    item["effective"] = item["date"]
    item["holiday_shift"] = False
    if item["kind"] != "due" or not item["date"] or item["rule"] == "day_before":
        return
    day = datetime.date.fromisoformat(item["date"])
    if is_working_day(day):
        return
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    item["effective"] = day.isoformat()
    item["holiday_shift"] = True


def find_asap(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, phrase) for `โดยด่วน`, `โดยเร็ว`, `ทันที`: requests without a date."""
    return [(m.start(), m.end(), m.group()) for m in ASAP_RE.finditer(text)]
