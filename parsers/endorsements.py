"""Find endorsements (เกษียนหนังสือ) below a letter's signature and read their decisions.

An endorsement is a staff note or a choice of printed decision words (`ทราบ`, `ดำเนินการ`,
`ถือปฏิบัติ`, `แจ้งเวียน` ...), then a name in brackets, a position and often a date. A ticked
box survives in text only as a tick character; without one, every printed word is listed and
the endorsement is marked uncertain.
"""
import datetime
import re

from parsers import slips
from parsers.parts import (
    CLOSING_RE, COURTESY_RE, PAREN_NAME_RE, Line, join_items, parse_person,
)
from parsers.slips import Corrector, correct_decision_words
from parsers.thaidate import DATE_NO_YEAR_RE, date_without_year, find_dates

TICKED = "☑✓✔☒■▣"
BOXES = "☐□▢"
TICKED_WORD_RE = re.compile(rf"[{TICKED}]\s*([ก-๛]+)")
THAI_WORD_RE = re.compile(r"[ก-๛]+")
# `มอบกองสาธารณสุขดำเนินการ`: the executive hands the letter to a division.
ASSIGN_LINE_RE = re.compile(
    r"^(?:-\s*)?มอบ(?:หมาย)?(?:ให้)?\s*(?P<to>\S.*?)\s*(?P<verb>ดำเนินการ|พิจารณา|ทราบ|รับผิดชอบ)?\s*$")
# One word handing the letter on: `มอบกองคลังดำเนินการ`.
ASSIGN_WORD_RE = re.compile(r"^มอบ(?:หมาย)?(?:ให้)?(?P<to>[ก-๛.]+?)(?P<verb>ดำเนินการ|พิจารณา|ทราบ|รับผิดชอบ)?$")
NOTE_START_RE = re.compile(r"^(?:-\s*)?(?:เรียน|เห็นควร|มอบ|เพื่อโปรด|ทราบ)")
# When this many printed decision words stand together with no tick, the text cannot show
# which box was ticked.
PRINTED_CHOICES = 3


def _tail_start(lines: list[Line]) -> int | None:
    for regex in (COURTESY_RE, CLOSING_RE):
        found = [i for i, line in enumerate(lines) if regex.match(line.text)]
        if found:
            return found[-1] + 1
    return None


def _assign_word(word: str) -> re.Match | None:
    return ASSIGN_WORD_RE.match(word)


def is_decision_line(text: str) -> bool:
    """Tell whether every Thai word of a line is a decision word (slips allowed) or `มอบ…`."""
    words = THAI_WORD_RE.findall(text)
    if not words:
        return False
    _, _, count = correct_decision_words(text)
    assigns = sum(1 for word in words if _assign_word(word) and not slips.decision_word(word))
    return count + assigns == len(words)


def correct_endorsement_lines(text: str, lines: list[Line]) -> tuple[str, list[dict]]:
    """Correct misread decision words on the decision lines below the signature."""
    start = _tail_start(lines)
    if start is None:
        return text, []
    replacements = []
    for line in lines[start:]:
        if not line.text or not is_decision_line(line.text):
            continue
        _, found, _ = correct_decision_words(line.text)
        replacements += [(line.start + a, line.start + b, new) for a, b, new in found]
    corrector = Corrector(text)
    corrector.apply(replacements)
    return corrector.text, corrector.corrections


def _starts_block(line: Line) -> bool:
    return bool(line.text) and (is_decision_line(line.text) or bool(NOTE_START_RE.match(line.text))
                                or any(c in line.text for c in TICKED + BOXES))


def find_endorsements(text: str, lines: list[Line], begin: int, stamp_lines: set[int],
                      reference: datetime.date | None = None) -> list[dict]:
    """Return the endorsements found from `lines[begin]` on, each with `_spans`.

    `reference` (the receipt or letter date) gives the year of a date written without one."""
    found, i = [], begin
    while i < len(lines):
        if i in stamp_lines or not _starts_block(lines[i]):
            i += 1
            continue
        item, i = _read_block(text, lines, i, stamp_lines, reference)
        found.append(item)
    return found


def _read_block(text: str, lines: list[Line], first: int, stamp_lines: set[int],
                reference: datetime.date | None) -> tuple[dict, int]:
    decision_lines, person, person_spans, last = [], None, {}, first
    i = first
    while i < len(lines):
        line = lines[i]
        if i in stamp_lines:
            break
        if line.blank:
            i += 1
            continue
        if person is not None:
            if _starts_block(line):
                break
            if find_dates_in(line.text):
                last = i
                i += 1
            break
        if PAREN_NAME_RE.search(line.text):
            person, person_spans, last = parse_person(lines, i, stop=is_decision_line)
            i = last + 1
            continue
        if is_decision_line(line.text) or ASSIGN_LINE_RE.match(line.text) \
                or any(c in line.text for c in TICKED + BOXES):
            decision_lines.append(line.text)
        last = i
        i += 1

    block = (lines[first].start, lines[last].end)
    item = {"decisions": [], "text": join_items([ln.text for ln in lines[first:last + 1]]),
            "name": None, "position": None, "capacity": None, "on_behalf_of": None, "date": None}
    spans = {"": block, "text": block}

    decisions, uncertain, assigned_to = _decisions(decision_lines)
    item["decisions"] = decisions
    if assigned_to:
        item["assigned_to"] = assigned_to
    if uncertain:
        item["low_confidence"] = True
    if person:
        item.update({k: person[k] for k in ("name", "position", "capacity", "on_behalf_of")})
        spans.update(person_spans)

    for start, end, date in find_dates(text[block[0]:block[1]]):
        item["date"] = date.isoformat()
        spans["date"] = (block[0] + start, block[0] + end)
    if item["date"] is None:
        for match in DATE_NO_YEAR_RE.finditer(text, block[0], block[1]):
            date = date_without_year(match, reference)
            if date:
                item["date"] = date.isoformat()
                spans["date"] = (match.start(), match.end())
    item["_spans"] = spans
    return item, max(i, last + 1)


def find_dates_in(text: str) -> bool:
    """Tell whether `text` contains a date, with or without its year (`๒๒ ก.ค.`)."""
    return bool(DATE_NO_YEAR_RE.search(text))


def _decisions(decision_lines: list[str]) -> tuple[list[str], bool, str | None]:
    """Return the decision words in order, whether the ticked box is unknown, and the division
    the letter was handed to."""
    joined = " ".join(decision_lines)
    ticked = TICKED_WORD_RE.findall(joined)
    if ticked:
        return [_spelled(word) for word in ticked if _spelled(word)], False, None
    words, printed, assigned_to = [], 0, None
    for line in decision_lines:
        assign = ASSIGN_LINE_RE.match(line)
        if assign and not is_decision_line(line):
            words.append("มอบ")
            assigned_to = assign.group("to")
            if assign.group("verb"):
                words.append(assign.group("verb"))
            continue
        for word in THAI_WORD_RE.findall(line):
            spelled = _spelled(word)
            handed = _assign_word(word)
            if spelled:
                words.append(spelled)
                printed += 1
            elif handed:
                words.append("มอบ")
                assigned_to = handed.group("to")
                if handed.group("verb"):
                    words.append(handed.group("verb"))
    uncertain = printed >= PRINTED_CHOICES or any(c in joined for c in BOXES)
    return words, uncertain, assigned_to


def _spelled(word: str) -> str | None:
    return slips.decision_word(word)
