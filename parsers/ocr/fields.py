"""Find the numbers and dates of a letter in OCR lines, read their digits again and check them.

Numbers are in known places: the document number of the `ที่` line, the letter date,
dates after `วันที่` (citations, deadlines) and numbers after `โทร.`. There, digits that Tesseract
read with low confidence or as non-digits are read again from the ink by the shipped
digit recognizer. Each date must be a real calendar date with a
Buddhist-era year near the letter's own, and the document number must fit the number
grammar. A value that fails, or that was handwritten or unclear, gets a
`low_confidence` warning with the page and the pixel box of the value.
"""
from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from parsers.ocr.digits import ARABIC_DIGITS, THAI_DIGITS, DigitRecognizer, number_candidates
from parsers.ocr.engine import Box
from parsers.ocr.layout import TextLine

log = logging.getLogger(__name__)

# Thai vowel and tone marks above and below the line, which Tesseract often drops.
_MARKS = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")
MONTHS = ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
          "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"]
_TO_ARABIC = str.maketrans(THAI_DIGITS, ARABIC_DIGITS)
# Tesseract's confidence (0-100) at or above which a digit it read is kept as read.
_TRUSTED_DIGIT = 90.0
# Recognizer probability at or above which its reading of a glyph is used.
_TRUSTED_GLYPH = 0.5
# A letter's own date is Buddhist era 2500 (1957) or later and at most a year ahead of
# the clock. A cited date lies within this many years of the letter's.
_FIRST_LETTER_YEAR = 2500
_CITED_YEARS = 30
# Letter-part labels at the start of a line, and their skeletons without marks, so
# that `เรือง` or `อางถง` read by OCR becomes the label again.
_LABELS = ["เรื่อง", "เรียน", "อ้างถึง", "สิ่งที่ส่งมาด้วย", "ด่วนที่สุด", "ด่วนมาก", "ขอแสดงความนับถือ"]


@dataclass
class Span:
    """Characters [start, end) of one line's text."""

    line: TextLine
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.line.text[self.start:self.end]

    @property
    def box(self) -> Box | None:
        boxes = [b for b in self.line.char_boxes[self.start:self.end] if b is not None]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))

    def confidences(self) -> list[float]:
        """Return Tesseract's confidence for each character of the span that has a box."""
        wanted = {b for b in self.line.char_boxes[self.start:self.end] if b is not None}
        return [c.confidence for w in self.line.words for c in w.chars if c.box in wanted]


def skeleton(text: str) -> str:
    """Return `text` without vowel and tone marks above and below the line."""
    return _MARKS.sub("", text)


# Letters the Thai model confuses, matched as either in month names.
_CONFUSED = {"ต": "[ตด]", "ด": "[ตด]", "ย": "[ยข]", "ข": "[ยข]", "บ": "[บป]", "ป": "[บป]"}


def _month_pattern() -> str:
    # Each month is matched on its letters only, marks optional, and with the letters
    # OCR confuses interchangeable.
    parts = []
    for month in MONTHS:
        letters = []
        for ch in skeleton(month):
            letters.append(_CONFUSED.get(ch, re.escape(ch)))
            letters.append(_MARKS.pattern + "*")
        parts.append("".join(letters))
    return "|".join(f"(?:{p})" for p in parts)  # no month pattern contains "|"


_MONTH_PATTERNS = _month_pattern().split("|")
_MONTH = re.compile("|".join(_MONTH_PATTERNS))
_DATE = re.compile(
    r"(?P<day>\S{1,3})\s*(?P<month>" + _MONTH.pattern + r")\s*(?:พ\s*\.?\s*ศ\s*\.?\s*)?(?P<year>\S{2,5})"
)
_DOC_NUMBER = re.compile(
    r"^\s*ที\S?\s*(?P<prefix>[ก-ฮ]{2})\s*\.?\s*(?P<office>[0-9๐-๙][0-9๐-๙.]*)\s*/\s*"
    # The Thai model now and then reads the circular mark ว as 2, so a lone 2 between
    # the slash and the serial is taken for it.
    r"(?P<circular>(?:ว[\u0e34-\u0e3a\u0e47-\u0e4e]?\s*\.?)|(?:2(?=\s+[0-9๐-๙])))?\s*(?P<serial>\S.*)$"
)
# วันที่ before a date: ลงวันที่ in a citation, ภายในวันที่ in a deadline, เมื่อวันที่ ...
_DAY_LABEL = re.compile(r"(?P<cited>ลง\s*)?ว" + _MARKS.pattern + r"*น\s*ท" + _MARKS.pattern + r"*\s*")
# A phone, fax or extension number after its label, in digit groups split by - or spaces.
_PHONE = re.compile(r"(?:โทร(?:สาร)?\.?|ต่อ)\s*(?P<number>[0-9๐-๙][0-9๐-๙ -]*[0-9๐-๙]|[0-9๐-๙])")
_DIGIT_GROUP = re.compile(r"[0-9๐-๙]+")


def month_number(text: str) -> int | None:
    """Return 1-12 for a month name read by OCR, or None."""
    for number, month in enumerate(MONTHS, start=1):
        if re.fullmatch(_MONTH_PATTERNS[number - 1], text):
            return number
    return None


def is_real_date(day: int, month: int, year_be: int) -> bool:
    """Tell whether day/month/Buddhist-era year is a date on the calendar."""
    year = year_be - 543
    if not 1 <= month <= 12 or year < 1:
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


def check_letter_date(day: int, month: int, year_be: int, current_year_be: int) -> str | None:
    """Return why a letter's own date is implausible, in Thai, or None when it is plausible."""
    if not is_real_date(day, month, year_be):
        return f"วันที่ {day} เดือน {month} พ.ศ. {year_be} ไม่มีอยู่จริงในปฏิทิน"
    if not _FIRST_LETTER_YEAR <= year_be <= current_year_be + 1:
        return f"ปี พ.ศ. {year_be} ไม่น่าใช่ปีของหนังสือ"
    return None


def check_cited_date(day: int, month: int, year_be: int, letter_year_be: int | None) -> str | None:
    """Return why a date cited in a letter is implausible, in Thai, or None when it is plausible."""
    if not is_real_date(day, month, year_be):
        return f"วันที่ {day} เดือน {month} พ.ศ. {year_be} ไม่มีอยู่จริงในปฏิทิน"
    if letter_year_be and abs(year_be - letter_year_be) > _CITED_YEARS:
        return f"ปี พ.ศ. {year_be} ห่างจากปีของหนังสือ (พ.ศ. {letter_year_be}) เกิน {_CITED_YEARS} ปี"
    return None


# The Thai model turns ที่ into ที. Before a document number (two Thai letters and a
# digit) and in วันที่ before a day, the word can only be ที่.
_THI_BEFORE_NUMBER = re.compile(r"(?<![ก-๙])ที(?![่-๋])(?=\s*[ก-ฮ]{2}\s*\.?\s*[0-9๐-๙])")
_WAN_THI = re.compile(r"วั?น\s*ที?(?![่-๋ก-ฮ])(?=\s*[0-9๐-๙])")


def repair_labels(line: TextLine) -> None:
    """Restore letter-part labels and the word ที่ that OCR read without their marks."""
    _repair_line_start(line)
    for pattern, word in ((_THI_BEFORE_NUMBER, "ที่"), (_WAN_THI, "วันที่")):
        for match in reversed(list(pattern.finditer(line.text))):
            if match.group(0) != word:
                _replace(line, match.start(), match.end(), word)


def _repair_line_start(line: TextLine) -> None:
    head = line.text.split(" ", 1)[0]
    for label in _LABELS:
        if head != label and len(head) <= len(label) + 1 and skeleton(head) == skeleton(label):
            _replace(line, 0, len(head), label)
            return
    match = _DOC_NUMBER.match(line.text)
    if match and not line.text.lstrip().startswith("ที่ "):
        start = len(line.text) - len(line.text.lstrip())
        _replace(line, start, line.text.index(match.group("prefix")), "ที่ ")


def _replace(line: TextLine, start: int, end: int, text: str) -> None:
    """Replace characters [start, end) of `line` by `text`, spreading their boxes over it."""
    boxes = [b for b in line.char_boxes[start:end] if b is not None]
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
           max(b[3] for b in boxes)) if boxes else None
    line.text = line.text[:start] + text + line.text[end:]
    line.char_boxes[start:end] = [None if ch == " " else box for ch in text]


class FieldReader:
    """Reads again and checks the numbers and dates on one page's lines."""

    def __init__(self, ink: np.ndarray, recognizer: DigitRecognizer | None, page_number: int,
                 image_size: tuple[int, int], current_year_be: int):
        self.ink = ink
        self.recognizer = recognizer
        self.page_number = page_number
        self.image_size = image_size
        self.current_year_be = current_year_be
        self.warnings: list[dict] = []
        self.letter_year_be: int | None = None

    def read(self, lines: list[TextLine]) -> None:
        """Fix digits in `lines` in place and collect warnings; boxes must be in `ink`'s pixels."""
        for line in lines:
            repair_labels(line)
        header = lines[: max(8, len(lines) // 4)]
        for line in header:
            if self._read_doc_number(line):
                break
        for line in header:
            if self._read_letter_date(line):
                break
        for line in lines:
            self._read_cited_dates(line)
            self._read_phone_numbers(line)
            # Digits read again can complete a pattern, as in วันที ๙ read first as วันที ธ.
            repair_labels(line)

    def _read_doc_number(self, line: TextLine) -> bool:
        match = _DOC_NUMBER.match(line.text)
        if not match:
            return False
        serial = Span(line, match.start("serial"), match.end("serial"))
        # The serial of a circular is often written by hand after the letter is signed.
        value, sure = self._read_digits(serial, handwriting_likely=True, box=_serial_box(serial))
        serial_from_end = (len(line.text) - serial.start, len(line.text) - serial.end)
        # The circular mark and the office code stand left of the serial, so they are
        # fixed after it, from the right: replacing text then moves nothing still to read.
        if match.group("circular") and match.group("circular").strip() != "ว":
            circular_end = match.start("circular") + len(match.group("circular").rstrip())
            _replace(line, match.start("circular"), circular_end, "ว")
        self._read_office_code(line, match.start("office"), match.end("office"))
        # Those fixes can change the length of the text before the serial, which runs to
        # the end of the line, so its span is found again from the end.
        serial = Span(line, len(line.text) - serial_from_end[0], len(line.text) - serial_from_end[1])
        if not value or not value.translate(_TO_ARABIC).isdigit():
            self._warn("doc_number", serial, "เลขที่หนังสือที่อ่านได้ไม่ตรงรูปแบบเลขที่หนังสือราชการ กรุณาตรวจกับภาพต้นฉบับ")
        elif not sure:
            self._warn("doc_number", serial,
                       f"เลขที่หนังสือ \"{line.text.strip()}\" อ่านจากลายมือหรือภาพไม่ชัด กรุณาตรวจกับภาพต้นฉบับ")
        return True

    def _read_office_code(self, line: TextLine, start: int, end: int) -> None:
        """Read again the Thai digits of an office code such as ๐๘๒๑.๒, part by part between dots.

        Parts are read from the right, so replacing one never moves those still to read.
        """
        if not any(ch in THAI_DIGITS for ch in line.text[start:end]):
            return
        parts = [m.span() for m in re.finditer(r"[^.]+", line.text[start:end])]
        for part_start, part_end in reversed(parts):
            self._read_digits(Span(line, start + part_start, start + part_end))

    def _read_letter_date(self, line: TextLine) -> bool:
        match = _DATE.search(line.text)
        if not match or match.start() > 3 or line.text[:match.start()].strip():
            return False
        reading = self._read_date(line, match, own_date=True)
        if reading is None:
            return True
        day, month, year, sure, span = reading
        problem = check_letter_date(day, month, year, self.current_year_be)
        if problem:
            self._warn("date", span, f"วันที่ของหนังสือที่อ่านได้ไม่น่าถูกต้อง: {problem} กรุณาตรวจกับภาพต้นฉบับ")
        elif not sure:
            self._warn("date", span, "วันที่ของหนังสืออ่านจากลายมือหรือภาพไม่ชัด กรุณาตรวจกับภาพต้นฉบับ")
        if is_real_date(day, month, year):
            self.letter_year_be = year
        return True

    def _read_cited_dates(self, line: TextLine) -> None:
        # From the right, so that replacing one date's digits moves none still to read.
        for label in reversed(list(_DAY_LABEL.finditer(line.text))):
            match = _DATE.match(line.text, label.end())
            if not match:
                continue
            reading = self._read_date(line, match, own_date=False)
            if reading is None:
                continue
            day, month, year, sure, span = reading
            field, what = ("citation_date", "วันที่ของหนังสือที่อ้างถึง") if label.group("cited") else ("body_date", "วันที่ในเนื้อหนังสือ")
            problem = check_cited_date(day, month, year, self.letter_year_be)
            if problem:
                self._warn(field, span, f"{what}อ่านได้ไม่น่าถูกต้อง: {problem} กรุณาตรวจกับภาพต้นฉบับ")
            elif not sure:
                self._warn(field, span, f"{what}อ่านจากภาพไม่ชัด กรุณาตรวจกับภาพต้นฉบับ")

    def _read_phone_numbers(self, line: TextLine) -> None:
        for match in reversed(list(_PHONE.finditer(line.text))):
            start = match.start("number")
            groups = list(_DIGIT_GROUP.finditer(match.group("number")))
            sure = True
            for group in reversed(groups):
                _, group_sure = self._read_digits(Span(line, start + group.start(), start + group.end()))
                sure = sure and group_sure
            if not sure:
                # The digits may have changed length, so the number is matched again.
                again = _PHONE.match(line.text, match.start())
                end = again.end("number") if again else match.end("number")
                self._warn("contact", Span(line, start, end), "หมายเลขโทรศัพท์อ่านจากภาพไม่ชัด กรุณาตรวจกับภาพต้นฉบับ")

    def _read_date(self, line: TextLine, match: re.Match, own_date: bool) -> tuple[int, int, int, bool, Span] | None:
        month = month_number(match.group("month"))
        day_span = Span(line, match.start("day"), match.end("day"))
        year_span = Span(line, match.start("year"), match.end("year"))
        # The year stands right of the day, so reading it first moves nothing still to read,
        # and the day can then be checked against a calendar month.
        year_text, year_sure = self._read_digits(year_span)
        year = _year_from_digits(year_text)
        day_length = day_span.end - day_span.start
        accept = None
        if month is not None and year is not None:
            def accept(text: str) -> bool:
                return is_real_date(int(text.translate(_TO_ARABIC)), month, year)
        # The day of the letter's own date is often written by hand, as is the serial.
        day_text, day_sure = self._read_digits(day_span, handwriting_likely=own_date, accept=accept)
        # Replacing the day's text moves the year, so its span is shifted by the change.
        shift = (day_span.end - day_span.start) - day_length
        year_span = Span(line, year_span.start + shift, year_span.end + shift)
        whole = Span(line, day_span.start, year_span.end)
        if month is None or not day_text.translate(_TO_ARABIC).isdigit() or year is None:
            self._warn("date", whole, "อ่านวันที่จากภาพไม่ได้ครบ กรุณาตรวจกับภาพต้นฉบับ")
            return None
        return int(day_text.translate(_TO_ARABIC)), month, year, day_sure and year_sure, whole

    def _read_digits(self, span: Span, handwriting_likely: bool = False,
                     box: Box | None = None, accept: Callable[[str], bool] | None = None) -> tuple[str, bool]:
        """Return the digits of `span`, replacing its text in the line, and whether they are sure.

        Arabic digits that Tesseract read with high confidence are kept, and are sure
        unless `handwriting_likely` and the recognizer reads the ink differently.
        Otherwise the recognizer's reading replaces the text when every glyph is clear,
        and it is never sure, because such a value was handwritten or unclear.
        The recognizer reads the ink in `box`, by default the span's own box.
        With `accept`, a check of the value (a day must make a real date), a value that
        fails it is replaced by the most probable reading of the ink that passes, if any;
        that reading is never sure.
        """
        text = span.text.strip()
        confidences = span.confidences()
        # Only Arabic digits are trusted: the Thai model misreads the Thai digits it has.
        trusted = bool(text) and all(ch in ARABIC_DIGITS for ch in text) and bool(confidences) \
            and min(confidences) >= _TRUSTED_DIGIT
        if trusted and not handwriting_likely and (accept is None or accept(text)):
            return text, True
        box = box or span.box
        if self.recognizer is None or box is None:
            return text, trusted
        readings = self.recognizer.read_region(self.ink, _pad(box, self.ink.shape), core=box)
        clear = bool(readings) and min(r.probability for r in readings) >= _TRUSTED_GLYPH
        digits = "".join(r.digit for r in readings)
        if accept is not None and readings and not _passes(accept, text):
            checked = next((c for c, _ in number_candidates(readings) if _passes(accept, c)), None)
            if checked is not None:
                log.debug("page %s: %r fails its check; read as %r", self.page_number, text, checked)
                self._put_digits(span, checked, readings)
                return checked, False
        if trusted:
            agree = clear and digits.translate(_TO_ARABIC) == text
            if agree or not clear or len(digits) == len(text):
                return text, agree
        if not clear:
            log.debug("page %s: digits %r unclear: %s", self.page_number, text, readings)
            return text, False
        self._put_digits(span, digits, readings)
        return digits, False

    @staticmethod
    def _put_digits(span: Span, digits: str, readings: list) -> None:
        """Replace the text of `span` by `digits`, one per glyph read, with the glyphs' boxes."""
        _replace(span.line, span.start, span.end, digits)
        span.line.char_boxes[span.start:span.start + len(digits)] = [r.box for r in readings]
        span.end = span.start + len(digits)

    def _warn(self, field: str, span: Span, message: str) -> None:
        box = span.box
        self.warnings.append({
            "code": "low_confidence",
            "message": f"หน้า {self.page_number}: {message}",
            "field": field,
            "page": self.page_number,
            "box": list(box) if box else None,
            "image_size": list(self.image_size),
            "text": span.text,
        })


def _passes(accept: Callable[[str], bool], text: str) -> bool:
    """Tell whether `text` is a number in one script of digits that passes `accept`."""
    arabic = text.translate(_TO_ARABIC)
    return bool(arabic) and arabic.isdigit() and accept(arabic)


def _year_from_digits(text: str) -> int | None:
    """Return a Buddhist-era year from its digits, taking two digits as 25xx, or None."""
    arabic = text.translate(_TO_ARABIC)
    if not arabic.isdigit():
        return None
    year = int(arabic)
    return year + 2500 if year < 100 else year


def _serial_box(serial: Span) -> Box | None:
    """Return the box from the end of the text before `serial` to the end of its line.

    Tesseract sometimes drops a handwritten digit or joins it to the circular mark, so
    the serial's ink is taken as everything right of the mark or slash, not only the
    characters Tesseract put in the serial.
    """
    box = serial.box
    if box is None:
        return None
    before = [b for b in serial.line.char_boxes[:serial.start] if b is not None]
    left = max(b[2] for b in before) + 1 if before else box[0]
    # The box only grows: a character before that overlaps the serial cuts nothing off.
    left = min(left, box[0])
    return (left, box[1], max(box[2], serial.line.box[2]), box[3])


def _pad(box: Box, shape: tuple[int, ...]) -> Box:
    """Return `box` grown by half its height at the sides and a fifth above and below.

    Tesseract's character boxes can cut a stroke off. The recognizer drops the parts of
    neighbouring letters that the margin takes in, because it keeps only glyphs mostly
    inside the original box.
    """
    height = box[3] - box[1]
    side = max(2, height // 2)
    margin = max(2, height // 5)
    return (max(0, box[0] - side), max(0, box[1] - margin),
            min(shape[1], box[2] + side), min(shape[0], box[3] + margin))
