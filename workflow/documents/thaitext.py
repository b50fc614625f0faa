"""Thai digits, Buddhist-era dates in letter form, and line breaking for Thai text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

from workflow.thaidate import format_be_date

TO_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
DIGIT_STYLES = ("thai", "arabic")


def to_thai_digits(text: str) -> str:
    """Return `text` with Arabic digits replaced by Thai ones."""
    return text.translate(TO_THAI_DIGITS)


def with_digits(text: str, digits: str) -> str:
    """Return `text` with its digits in the given style: `thai` or `arabic` (left as written)."""
    if digits not in DIGIT_STYLES:
        raise ValueError(f"unknown digit style {digits!r}; expected one of {DIGIT_STYLES}")
    return to_thai_digits(text) if digits == "thai" else text


def letter_date(value: date, digits: str = "thai") -> str:
    """Format a date as a letter shows it: `๑๓ เมษายน ๒๕๖๘`, or `13 เมษายน 2568` for Arabic digits."""
    return with_digits(format_be_date(value), digits)


def number(value: int, digits: str = "thai") -> str:
    return with_digits(str(value), digits)


# Latin words, numbers, e-mail addresses and URLs stay whole; Thai runs go to the word segmenter.
_NON_THAI_RUN = re.compile(r"[^\u0E00-\u0E7F\s]+|\s+")


def split_words(text: str) -> list[str]:
    """Split text into pieces a line may break between: Thai words, spaces and other runs.

    Thai is written without spaces between words, so Thai runs are cut by pythainlp's
    dictionary segmenter (`newmm`). Joining the pieces gives the text back unchanged.
    """
    from pythainlp.tokenize import word_tokenize

    pieces: list[str] = []
    position = 0
    for match in _NON_THAI_RUN.finditer(text):
        if match.start() > position:
            pieces += word_tokenize(text[position:match.start()], engine="newmm", keep_whitespace=True)
        pieces.append(match.group())
        position = match.end()
    if position < len(text):
        pieces += word_tokenize(text[position:], engine="newmm", keep_whitespace=True)
    return [piece for piece in pieces if piece]


def clusters(text: str) -> list[str]:
    """Split text into character clusters: a base character with the marks above or below it."""
    result: list[str] = []
    for char in text:
        if result and (unicodedata.category(char) == "Mn" or char == "\u0E33"):
            result[-1] += char
        else:
            result.append(char)
    return result


def break_lines(text: str, width: float, measure: Callable[[str], float],
                first_width: float | None = None) -> list[str]:
    """Break `text` into lines no wider than `width` (the first line `first_width`) at word ends.

    `measure` returns the width of a string in the same unit as `width`. A word wider than a
    whole line is cut between character clusters, so no mark is separated from its base.
    Spaces at a line break are dropped.
    """
    lines: list[str] = []
    current = ""
    limit = first_width if first_width is not None else width
    for piece in split_words(text):
        if piece.isspace() and not current:
            continue
        if measure(current + piece) <= limit:
            current += piece
            continue
        if current.strip():
            lines.append(current.rstrip())
            limit = width
        current = "" if piece.isspace() else piece
        while current and measure(current) > limit:
            head, current = _cut_to_width(current, limit, measure)
            lines.append(head)
            limit = width
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _cut_to_width(word: str, width: float, measure: Callable[[str], float]) -> tuple[str, str]:
    parts = clusters(word)
    head = parts[0]
    for count in range(1, len(parts)):
        candidate = head + parts[count]
        if measure(candidate) > width:
            return head, "".join(parts[count:])
        head = candidate
    return head, ""
