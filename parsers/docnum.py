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
