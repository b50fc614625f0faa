"""Property tests of the text parsers on generated Thai-like text.

The text mixes Thai consonants, vowels and tone marks in any order, Thai and Arabic digits,
the keywords letters are split on, month names, form feeds and private-use code points
(the broken glyphs of PDF text layers). Each property checks that no exception escapes
and that the output keeps the letter-json contract.

`make test` runs the `default` profile (a few hundred cases per property). The long run
is `HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/test_fuzz_parsers.py`; see
docs/reliability.md.
"""
from __future__ import annotations

import datetime
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.errors import InputError
from parsers.letter import parse_letters
from parsers.pipeline import parse_document
from parsers.textrepair import repair_text

settings.register_profile(
    "default", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# 34,000 cases per property, so the three properties run more than 100,000 in all.
settings.register_profile(
    "long", max_examples=34_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

THAI_CONSONANTS = [chr(c) for c in range(0x0E01, 0x0E2F)]
THAI_MARKS = [chr(c) for c in (0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F))]
THAI_VOWELS = [chr(c) for c in (0x0E30, 0x0E32, 0x0E33, *range(0x0E40, 0x0E46))]
THAI_DIGITS = [chr(c) for c in range(0x0E50, 0x0E5A)]
# The private-use glyphs of Thai PDF fonts (Windows U+F700-F71A, Mac U+F884-F89E) and a few outside them.
PRIVATE_USE = [chr(c) for c in (*range(0xF700, 0xF71B), *range(0xF884, 0xF89F), 0xE000, 0xF8FF, 0xF71F)]
KEYWORDS = [
    "ที่", "เรื่อง", "เรียน", "อ้างถึง", "สิ่งที่ส่งมาด้วย", "ภายในวันที่", "ก่อนวันที่", "ไม่เกินวันที่",
    "ตั้งแต่วันที่", "ถึงวันที่", "ด่วนที่สุด", "ด่วนมาก", "ด่วนภายใน", "ลับ", "ขอแสดงความนับถือ",
    "จึงเรียนมาเพื่อโปรดพิจารณา", "สำเนาส่ง", "โทร.", "โทรสาร", "เลขรับ", "วันที่", "เวลา", "ภายใน",
    "วันทำการ", "นับแต่วันที่ได้รับหนังสือ", "ปีงบประมาณ", "พ.ศ.", "มท", "ชร", "/ว", "ว ",
    "(นายธนศักดิ์ ใจใส)", "ปฏิบัติราชการแทน", "รักษาราชการแทน", "ทราบ", "มอบ กองคลัง ดำเนินการ",
    "๑.", "๒.", "- ๒ -", "จำนวน ๑ ชุด", "องค์การบริหารส่วนตำบล", "อำเภอแม่สาย", "จังหวัดเชียงราย",
]
MONTHS = [
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม",
    "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม", "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "ธ.ค.",
]
SEPARATORS = [" ", "  ", "\n", "\n\n", "\f", "\t", "/", ".", ":", "(", ")", "-"]

_atom = st.one_of(
    st.sampled_from(THAI_CONSONANTS),
    st.sampled_from(THAI_MARKS),
    st.sampled_from(THAI_VOWELS),
    st.sampled_from(THAI_DIGITS),
    st.sampled_from("0123456789"),
    st.sampled_from(PRIVATE_USE),
    st.sampled_from(KEYWORDS),
    st.sampled_from(MONTHS),
    st.sampled_from(SEPARATORS),
    # Two-to-four-digit numbers, as in days, BE years and letter serials.
    st.integers(min_value=0, max_value=2600).map(str),
    st.integers(min_value=0, max_value=2600).map(lambda n: str(n).translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))),
    st.sampled_from(["Carbon Credit", "QR Code", "E-office", "ก", "a"]),
)
letter_like_text = st.lists(_atom, max_size=120).map("".join)

LINE_STARTS = ["ที่", "เรื่อง", "เรียน", "อ้างถึง", "สิ่งที่ส่งมาด้วย", "ด่วนที่สุด", "ด่วนภายใน", "สำเนาส่ง",
               "ขอแสดงความนับถือ", "จึงเรียนมาเพื่อโปรดพิจารณา", "เลขรับ", "วันที่", "เวลา", "โทร.", "๑.", "๒.",
               "(นาย", "", ""]
DATE_LEADS = ["ภายในวันที่", "ก่อนวันที่", "ไม่เกินวันที่", "ตั้งแต่วันที่", "ถึงวันที่", "ลงวันที่", "ภายในเดือน",
              "ภายในปีงบประมาณ พ.ศ.", "ภายใน", "ด่วนภายใน", ""]


def _digits(number: int, thai: bool) -> str:
    return str(number).translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")) if thai else str(number)


# Dates as letters write them, with days, months and years in and out of range.
date_phrase = st.builds(
    lambda lead, day, month, year, thai, tail: f"{lead} {_digits(day, thai)} {month} {_digits(year, thai)}{tail}",
    st.sampled_from(DATE_LEADS),
    st.integers(min_value=0, max_value=40),
    st.sampled_from(MONTHS),
    st.one_of(st.integers(min_value=2400, max_value=2700), st.integers(min_value=0, max_value=99),
              st.integers(min_value=0, max_value=10_000)),
    st.booleans(),
    st.sampled_from(["", " วันทำการ", " นับแต่วันที่ได้รับหนังสือ", " เวลา ๑๖.๓๐ น.", " ถึงวันที่ ๓๑ มีนาคม ๒๕๖๘"]),
)
letter_line = st.builds(
    lambda start, parts: " ".join([start, *parts]).strip(),
    st.sampled_from(LINE_STARTS),
    st.lists(st.one_of(date_phrase, letter_like_text), max_size=3),
)
# Text built line by line, so that the splitter finds letters and every part parser runs.
letter_shaped_text = st.lists(letter_line, max_size=40).map("\n".join)

ISO_DATE_KEYS = {"date", "stated", "end", "due"}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
THAI_CHARACTER = re.compile("[\u0e01-\u0e5b]")


def _walk(value, path=""):
    """Yield (key, value, path) for every dict entry under `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item, f"{path}.{key}"
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def assert_warning_contract(warning: dict) -> None:
    assert SNAKE_CASE.match(warning["code"]), warning
    assert THAI_CHARACTER.search(warning["message"]), warning
    assert "field" in warning, warning


def assert_letter_contract(letter: dict) -> None:
    text = letter["text"]
    assert isinstance(text, str)
    for name, span in letter["spans"].items():
        assert len(span) == 2, (name, span)
        start, end = span
        assert 0 <= start <= end <= len(text), (name, span, len(text))
    for key, value, path in _walk({k: v for k, v in letter.items() if k not in ("spans", "text")}):
        if key in ISO_DATE_KEYS and isinstance(value, str):
            datetime.date.fromisoformat(value)
        if key == "deliver_by" and value is not None:
            datetime.datetime.fromisoformat(value)
    first, last = letter["pages"]
    assert 1 <= first <= last, letter["pages"]
    for warning in letter["warnings"]:
        assert_warning_contract(warning)


@given(letter_like_text)
def test_repair_text_keeps_page_breaks(text):
    repaired, warnings = repair_text(text)
    assert isinstance(repaired, str)
    assert repaired.count("\f") == text.count("\f")
    for warning in warnings:
        assert_warning_contract(warning)


@given(st.one_of(letter_like_text, letter_shaped_text))
def test_parse_letters_keeps_contract(text):
    repaired, _ = repair_text(text)
    pages = repaired.count("\f") + 1
    for letter in parse_letters(repaired):
        assert_letter_contract(letter)
        assert letter["pages"][1] <= pages


@given(st.one_of(letter_like_text, letter_shaped_text), st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_parse_document_returns_result_or_input_error(text, encoding):
    data = text.encode(encoding)
    try:
        result = parse_document(data, "หนังสือ.txt")
    except InputError as error:
        assert SNAKE_CASE.match(error.code)
        assert THAI_CHARACTER.search(error.message_th)
        return
    assert result["schema"] == "saraban.parse/1"
    assert result["pages"] >= 1
    for warning in result["warnings"]:
        assert_warning_contract(warning)
    for letter in result["letters"]:
        assert_letter_contract(letter)
