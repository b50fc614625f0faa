"""Read and normalize Thai document numbers such as `ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐`.

Grammar: `<2 Thai letters> <office code>[.<sub>...]/[ว] <running number>`. The two letters are
a ministry or province code, `ว` marks a circular. Digits may be Thai or Arabic and spacing
around `/` and after `ว` varies (`ว ๑๙๘๘`, `ว1989`, `ว.123`).
"""
import re

from parsers.thaidate import DIGIT, to_arabic

DOCNUM_PATTERN = (
    rf"(?P<prefix>[ก-ฮ]\s?\.?\s?[ก-ฮ])\.?\s*"
    rf"(?P<office>{DIGIT}{{2,6}}(?:\s?\.\s?{DIGIT}{{1,3}})*)\s*/\s*"
    rf"(?P<circular>ว\s?\.?)?\s*(?P<serial>(?:[|Il]\s?)?{DIGIT}{{1,6}})(?!{DIGIT})"
)
# Standing alone, a number's two letters must not end a longer Thai word (`มติ ครม. ๑๒/๒๕๖๘`).
DOCNUM_RE = re.compile(r"(?<![ก-ฯะ-ฺเ-ๆ])" + DOCNUM_PATTERN)
# A number introduced by `ที่`; `ด่วนที่สุด` ends in `ที่` too, so that word is excluded.
NUMBER_LINE_RE = re.compile(
    rf"(?<!ด่วน)(?<![ก-๛])ที่?\s*(?:\.\s*)*(?:[:：]\s*)?{DOCNUM_PATTERN}"
)


# OCR reads `/ว` as digits glued to the office code: `มท 0808.222 1352` for `มท 0808.2/ว 1352`.
MISREAD_NUMBER_RE = re.compile(
    rf"(?<!ด่วน)(?<![ก-๛])ที่?\s*(?P<prefix>[ก-ฮ]\s?[ก-ฮ])\.?\s*"
    rf"(?P<office>{DIGIT}{{4}}\.{DIGIT}{{2,5}})\s+(?P<serial>{DIGIT}{{1,6}})(?!{DIGIT}|\s*/)"
)
# OCR readings of `/ว` after the sub-unit: the slash as 1, 7 or 2 or lost, and ว as 2.
CIRCULAR_MARK_READINGS = ("2", "22", "12", "72")


def office_widths(prefix: str) -> tuple[int, ...]:
    """Return the allowed digit counts of the sub-unit after the four-digit office code.

    A ministry's units have one digit (`มท 0808.2`). A province's district offices run to two
    (`ขก 0023.15`), so the longer reading is tried first.
    """
    from parsers import codes

    return (1,) if prefix in codes.MINISTRY_BY_CODE else (2, 1)


def misread_number(text: str) -> tuple[re.Match, dict] | None:
    """Return the match and DOCNUM dict for a number whose `/ว` OCR read as digits, or None.

    The office code is checked against the pattern for its prefix. A sub-unit longer than that
    pattern allows, whose surplus digits read as `/ว`, is split there.
    """
    match = MISREAD_NUMBER_RE.search(text)
    if not match:
        return None
    prefix = re.sub(r"\s", "", match.group("prefix"))
    code, sub = to_arabic(match.group("office")).split(".")
    serial_text = to_arabic(match.group("serial"))
    for width in office_widths(prefix):
        if sub[width:] in CIRCULAR_MARK_READINGS:
            office = f"{code}.{sub[:width]}"
            return match, {"text": f"{prefix} {office}/ว {serial_text}", "prefix": prefix,
                           "office": office, "circular": True, "serial": int(serial_text)}
    return None


def normalize(match: re.Match) -> dict:
    """Return the DOCNUM dict for a DOCNUM_RE match: Arabic digits and canonical spacing."""
    prefix = re.sub(r"[\s.]", "", match.group("prefix"))
    office = re.sub(r"\s", "", to_arabic(match.group("office")))
    circular = match.group("circular") is not None
    # OCR reads a handwritten 1 as a bar or a Latin l before the other digits.
    serial_text = re.sub(r"\s", "", to_arabic(match.group("serial")))
    serial_text = re.sub(r"^[|Il]", "1", serial_text)
    serial = int(serial_text)
    text = f"{prefix} {office}/" + (f"ว {serial_text}" if circular else serial_text)
    return {"text": text, "prefix": prefix, "office": office, "circular": circular, "serial": serial}


def parse_docnum(text: str) -> dict | None:
    """Return the DOCNUM dict for the first document number in `text`, or None."""
    match = DOCNUM_RE.search(text)
    return normalize(match) if match else None


def same_number(a: dict | None, b: dict | None) -> bool:
    """Tell whether two DOCNUM dicts name the same letter (leading zeros of the serial ignored)."""
    if not a or not b:
        return False
    return (a["prefix"], a["office"], a["circular"], a["serial"]) == (
        b["prefix"], b["office"], b["circular"], b["serial"])
