"""Read Thai dates and times: Thai or Arabic digits, full or abbreviated months, BE years.

`dateparser` keeps a Buddhist-era year as a Common-era year and reads `มี.ค.` as January, and
`pythainlp.util.thai_strptime` fails on Thai digits, double spaces and `พ.ศ.`, so dates are
read here with one compiled pattern and checked against the calendar.
"""
import calendar
import datetime
import re

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
TO_ARABIC = str.maketrans(THAI_DIGITS, "0123456789")
DIGIT = "[0-9๐-๙]"

MONTHS_FULL = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
# Abbreviations as printed, with their dots; the pattern also accepts them without dots
# or with spaces after the dots, as OCR and typists leave them.
MONTHS_SHORT = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)

# Earliest and latest Buddhist-era years accepted as a letter's year: wider than any letter
# this service will see, narrow enough to reject a misread running number.
MIN_BE_YEAR = 2400
MAX_BE_YEAR = 2700
BE_OFFSET = 543


def _short_month_pattern(abbrev: str) -> str:
    letters = abbrev.replace(".", "")
    if len(letters) == 2:
        a, b = letters
        return rf"{a}\s?\.?\s?{b}\s?\.?"
    # three letters, e.g. มี.ค. and เม.ย.
    first, last = abbrev.split(".")[0], letters[-1]
    return rf"{first}\s?\.?\s?{last}\s?\.?"


_MONTH_ALTERNATIVES = sorted(
    [(re.escape(name), i + 1) for i, name in enumerate(MONTHS_FULL)]
    + [(_short_month_pattern(name), i + 1) for i, name in enumerate(MONTHS_SHORT)],
    key=lambda item: -len(item[0]),
)
MONTH_PATTERN = "(?:" + "|".join(p for p, _ in _MONTH_ALTERNATIVES) + ")"
_MONTH_RES = [(re.compile(p + r"\Z"), month) for p, month in _MONTH_ALTERNATIVES]

# day, month, optional พ.ศ., year of two or four digits; the month is never read out of a
# longer Thai word because the next character must not continue it.
DATE_PATTERN = (
    rf"(?P<day>{DIGIT}{{1,2}})\s*(?P<month>{MONTH_PATTERN})(?![ก-ฮ])\s*"
    rf"(?:พ\s?\.\s?ศ\s?\.\s*)?(?P<year>{DIGIT}{{4}}|{DIGIT}{{2}})(?!{DIGIT})"
)
DATE_RE = re.compile(DATE_PATTERN)
# The same without a year, for deadlines such as `ภายในวันที่ ๙ เมษายน` that rely on the
# letter's own year.
DATE_NO_YEAR_RE = re.compile(
    rf"(?P<day>{DIGIT}{{1,2}})\s*(?P<month>{MONTH_PATTERN})(?![ก-ฮ])"
)
TIME_RE = re.compile(rf"(?P<hour>{DIGIT}{{1,2}})\s*[.:]\s*(?P<minute>{DIGIT}{{2}})\s*(?:น\s?\.?)?")


def to_arabic(text: str) -> str:
    """Return `text` with Thai digits replaced by Arabic ones."""
    return text.translate(TO_ARABIC)


def month_number(name: str) -> int | None:
    """Return 1-12 for a full or abbreviated Thai month name, or None."""
    name = name.strip()
    for pattern, month in _MONTH_RES:
        if pattern.match(name):
            return month
    return None


def be_year(text: str) -> int | None:
    """Return the Buddhist-era year written as two or four digits, or None if implausible."""
    digits = to_arabic(text)
    if not digits.isdigit():
        return None
    year = int(digits)
    if len(digits) == 2:
        year += 2500
    if MIN_BE_YEAR <= year <= MAX_BE_YEAR:
        return year
    return None


def make_date(day: int, month: int, year_be: int) -> datetime.date | None:
    """Return the Common-era date for a BE day, or None for an impossible date."""
    try:
        return datetime.date(year_be - BE_OFFSET, month, day)
    except ValueError:
        return None


def date_from_match(match: re.Match) -> datetime.date | None:
    """Return the date a DATE_RE match stands for, or None when it is not a real date."""
    year = be_year(match.group("year"))
    month = month_number(match.group("month"))
    if year is None or month is None:
        return None
    return make_date(int(to_arabic(match.group("day"))), month, year)


def parse_thai_date(text: str) -> datetime.date | None:
    """Return the first real date written in `text`, e.g. `๒ เมษายน ๒๕๖๘` or `10 มี.ค. 68`."""
    for match in DATE_RE.finditer(text):
        found = date_from_match(match)
        if found is not None:
            return found
    return None


def find_dates(text: str):
    """Yield (start, end, date) for every real date in `text`, in order."""
    for match in DATE_RE.finditer(text):
        found = date_from_match(match)
        if found is not None:
            yield match.start(), match.end(), found


def date_without_year(match: re.Match, reference: datetime.date | None) -> datetime.date | None:
    """Return the date of a day-and-month match in the year that puts it nearest `reference`."""
    if reference is None:
        return None
    month = month_number(match.group("month"))
    if month is None:
        return None
    day = int(to_arabic(match.group("day")))
    candidates = []
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            candidates.append(datetime.date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs((d - reference).days))


def parse_time(text: str) -> str | None:
    """Return `HH:MM` for a time such as `๑๐.๐๐ น.`, or None when it is not a clock time."""
    match = TIME_RE.search(text)
    if not match:
        return None
    hour, minute = int(to_arabic(match.group("hour"))), int(to_arabic(match.group("minute")))
    if hour > 24 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def last_day_of_month(year: int, month: int) -> datetime.date:
    """Return the last calendar day of a Common-era month."""
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def fiscal_year_end(year_be: int) -> datetime.date:
    """Return 30 September of fiscal year `year_be` (it starts on 1 October of the year before)."""
    return datetime.date(year_be - BE_OFFSET, 9, 30)
