"""Split repaired text into letters and parse every part of each (letter-json contract).

A file may hold a cover letter followed by the letters it encloses, each starting with a
receipt stamp, its date, its issuer or its `ที่` line, in any order. A letter is found by its
`เรื่อง` line followed by a `เรียน` line; its head is the run of head-like lines above.
"""
import datetime
import logging
import re

from parsers import slips
from parsers.deadlines import find_asap, find_deadlines
from parsers.docnum import NUMBER_LINE_RE, misread_number, normalize
from parsers.lettercheck import check_file, check_letter, warning
from parsers.thaidate import parse_time
from parsers.parts import (
    CLOSING_RE, COURTESY_RE, DATE_RE, DELIVER_BY_RE, ENCLOSURES_RE, PAGE_MARK_RE, PAREN_NAME_RE,
    REFERENCES_RE, SALUTATION_RE, URGENCY_LINE_RE, SECRECY_LINE_RE, SECRECY_WORDS, SUBJECT_RE, URGENCY_RE,
    URGENCY_WORDS, BODY_OPENER_RE, QUANTITY_RE, CONTACT_LINE_RE, Line, date_from_match, find_stamps,
    head_line_kind, is_address, is_org, join_lines, parse_citation, parse_contact,
    parse_person, split_items, split_lines, TYPED_NAME_RE,
)
from parsers.actions import find_actions, find_assignments
from parsers.endorsements import correct_endorsement_lines, find_endorsements

logger = logging.getLogger(__name__)

# How far below a `เรื่อง` line its `เรียน` line may be, in non-blank lines.
SALUTATION_WINDOW = 8
URGENCY_LEAD_RE = re.compile(r"^(ด่วนที่สุด|ด่วนมาก|ด่วน)(?![ก-๛])\s*$")
# How many lines below the courtesy line a name typed without brackets is looked for.
TYPED_NAME_WINDOW = 5
# A signature's name line opens with the bracketed name; `(ฉบับที่ ๒)` inside a subject does not.
NAME_LINE_RE = re.compile(r"^\(\s*[ก-๛]")
COPIES_RE = re.compile(r"^สำเนาส่ง\s*[:：]?\s*")
# Without a subject or salutation line, how many lines from the top are read as the head.
HEAD_MAX_LINES = 12


def parse_letters(text: str) -> list[dict]:
    """Return one LETTER dict (letter-json.md) per letter found in `text`.

    Pages in `text` are separated by form feeds, and each letter's `pages` counts them.
    """
    if not text.strip():
        return []
    fixed, corrections = slips.correct_words(text)
    lines = split_lines(fixed)
    starts = letter_starts(lines)
    letters = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(fixed)
        own = [dict(c, start=c["start"] - start, end=c["end"] - start)
               for c in corrections if start <= c["start"] < end]
        letter = parse_letter(fixed[start:end], own)
        content_end = start + len(fixed[start:end].rstrip())
        letter["pages"] = [fixed.count("\f", 0, start) + 1,
                           fixed.count("\f", 0, max(start, content_end)) + 1]
        letters.append(letter)
    check_file(letters)
    return [_ordered(letter) for letter in letters]


def attach_page_warnings(letters: list[dict], warnings: list[dict]) -> list[dict]:
    """Move each page-level warning (one with a `page`) onto the letter whose pages contain it.

    The warning keeps all its keys (`page`, `box`, `image_size`, `text` for an OCR field).
    Returns the warnings that stay file-level: those without a page, or on a page no letter
    covers.
    """
    remaining = []
    for item in warnings:
        page = item.get("page") if isinstance(item, dict) else None
        owner = None
        if isinstance(page, int):
            owner = next((letter for letter in letters
                          if letter.get("pages") and letter["pages"][0] <= page <= letter["pages"][1]), None)
        if owner is None:
            remaining.append(item)
        else:
            owner["warnings"].append(item)
    return remaining


# ---- splitting --------------------------------------------------------------------------

def _anchor_lines(lines: list[Line]) -> list[int]:
    anchors = []
    for i, line in enumerate(lines):
        if not SUBJECT_RE.match(line.text):
            continue
        seen = 0
        for following in lines[i + 1:]:
            if following.blank:
                continue
            seen += 1
            if SALUTATION_RE.match(following.text) or following.text.startswith("ถึง"):
                anchors.append(i)
                break
            if seen >= SALUTATION_WINDOW:
                break
    # A letter whose subject line OCR lost still has a salutation right below its head.
    for i, line in enumerate(lines):
        if not SALUTATION_RE.match(line.text) or _has_subject_above(lines, i, anchors):
            continue
        previous = max([a for a in anchors if a < i], default=-1)
        first = _head_start(lines, previous, i)
        kinds = {head_line_kind(lines[k].text) for k in range(first, i) if not lines[k].blank}
        if first < i and kinds & {"number", "date"}:
            anchors.append(i)
    anchors.sort()
    if not anchors:
        anchors = [i for i, line in enumerate(lines) if SALUTATION_RE.match(line.text)][:1]
    return anchors


def _has_subject_above(lines: list[Line], index: int, anchors: list[int]) -> bool:
    seen = 0
    for k in range(index - 1, -1, -1):
        if k in anchors:
            return True
        if lines[k].blank:
            continue
        seen += 1
        if seen >= SALUTATION_WINDOW:
            return False
    return False


def letter_starts(lines: list[Line]) -> list[int]:
    """Return the character offset where each letter starts (the first is always 0)."""
    anchors = _anchor_lines(lines)
    starts = [0]
    for previous, anchor in zip(anchors, anchors[1:]):
        first = _head_start(lines, previous, anchor)
        starts.append(lines[first].start)
    return starts


def _head_start(lines: list[Line], previous: int, anchor: int) -> int:
    """Walk up from a `เรื่อง` line over head lines; return the index of the first one."""
    first, after_kind = anchor, None
    seen: set[str] = set()
    i = anchor - 1
    while i > previous:
        line = lines[i]
        if line.blank or line.noise:
            i -= 1
            continue
        kind = head_line_kind(line.text)
        if kind is None:
            break
        if kind == "org" and after_kind not in ("address", "stamp", "org", "date", "number"):
            break
        if kind in ("date", "number") and kind in seen:
            break  # a head has one date and one number: this one ends the letter above
        seen.add(kind)
        first, after_kind = i, kind
        i -= 1
    return first


# ---- one letter -------------------------------------------------------------------------

def _find(lines: list[Line], regex, begin: int = 0, end: int | None = None) -> int | None:
    for i in range(begin, len(lines) if end is None else end):
        if regex.match(lines[i].text):
            return i
    return None


def _prepare(text: str, corrections: list[dict]) -> tuple[str, list[dict]]:
    """Apply the corrections that need the letter's own context: codes, decision words."""
    lines = split_lines(text)
    subject = _find(lines, SUBJECT_RE)
    head = text[:lines[subject].start] if subject is not None else text[:600]
    text, found = slips.correct_codes(text, head)
    corrections = corrections + found
    text, found = correct_endorsement_lines(text, split_lines(text))
    return text, corrections + found


def parse_letter(text: str, corrections: list[dict]) -> dict:
    """Return the LETTER dict for the text of one letter (without `pages`)."""
    text, corrections = _prepare(text, corrections)
    lines = split_lines(text)
    letter = _empty_letter(text)
    spans: dict[str, list[int]] = {}
    letter["spans"] = spans

    stamps = find_stamps(lines)
    stamp_lines = set().union(*(s["_lines"] for s in stamps)) if stamps else set()
    for n, stamp in enumerate(stamps):
        _span(spans, f"receipt_stamps.{n}", stamp["_span"])
        for key, value in stamp["_spans"].items():
            _span(spans, f"receipt_stamps.{n}.{key}", value)
        letter["receipt_stamps"].append({k: v for k, v in stamp.items() if not k.startswith("_")})

    subject = _find(lines, SUBJECT_RE)
    first_salutation = _find(lines, SALUTATION_RE)
    if subject is not None and first_salutation is not None and subject > first_salutation:
        subject = None  # OCR lost this letter's subject; a later one belongs to its text
    salutation = _find(lines, SALUTATION_RE, subject) if subject is not None else first_salutation
    if subject is not None:
        head_end = subject
    elif salutation is not None:
        head_end = salutation
    else:
        head_end = min(len(lines), HEAD_MAX_LINES)
    _parse_head(letter, lines, head_end, stamp_lines)

    body_start = head_end
    if subject is not None:
        body_start = _parse_subject(letter, lines, subject)
    if salutation is not None:
        body_start = max(body_start, _parse_salutation(letter, lines, salutation))
    body_start = _parse_citations(letter, lines, body_start)

    closing = _find(lines, CLOSING_RE, body_start)
    courtesy = _find(lines, COURTESY_RE, body_start)
    body_end = next((i for i in (closing, courtesy) if i is not None), None)
    if body_end is None:
        body_end = _tail_guess(lines, body_start)
    if closing is not None:
        _parse_closing(letter, lines, closing)
    request_end = _continuation(lines, closing, _ends_closing) + 1 \
        if closing is not None else body_end
    _parse_body(letter, lines, body_start, body_end, request_end)

    if courtesy is not None:
        tail_start = courtesy
    elif closing is not None:
        tail_start = closing + 1
    else:
        tail_start = body_end
    _parse_tail(letter, lines, tail_start, stamp_lines)

    if letter["date"] is None:
        _date_at_end(letter)
    letter["kind"] = _kind(letter, text)
    letter["warnings"] = letter.pop("_warnings") + check_letter(letter, corrections)
    return letter


def _empty_letter(text: str) -> dict:
    return {"pages": None, "kind": "unknown", "urgency": None, "deliver_by": None, "secrecy": None,
            "doc_number": None, "issuer": None, "issuer_address": None, "date": None,
            "subject": None, "salutation": None, "addressee": None, "references": [],
            "enclosures": [], "actions": [], "deadlines": [], "assignments": [],
            "closing_request": None, "signatory": None, "contact": None, "receipt_stamps": [],
            "endorsements": [], "copies": None, "undated_requests": [], "warnings": [],
            "_warnings": [], "spans": {},
            "text": text}


def _ordered(letter: dict) -> dict:
    keys = list(_empty_letter("").keys())
    out = {key: letter.get(key) for key in keys if key not in ("spans", "text") and not key.startswith("_")}
    out.update({k: v for k, v in letter.items() if k not in keys and not k.startswith("_")})
    out["spans"] = letter["spans"]
    out["text"] = letter["text"]
    return out


def _span(spans: dict, key: str, value: tuple[int, int]) -> None:
    spans[key] = [int(value[0]), int(value[1])]


def _parse_head(letter: dict, lines: list[Line], head_end: int, stamp_lines: set[int]) -> None:
    spans = letter["spans"]
    head = [(i, lines[i]) for i in range(head_end) if i not in stamp_lines and not lines[i].blank]
    address_index = None
    for i, line in head:
        text = line.text
        number = NUMBER_LINE_RE.search(text)
        if number is None and letter["doc_number"] is None:
            _misread_number(letter, line)
        if number and letter["doc_number"] is None and (number.start() == 0 or not is_org(text)):
            letter["doc_number"] = normalize(number)
            _span(spans, "doc_number", (line.start + number.start("prefix"), line.start + number.end("serial")))
            if re.search(r"[|Il]", number.group("serial")):
                letter["_warnings"].append(warning(
                    "low_confidence",
                    f"เลขที่หนังสืออ่านจากลายมือได้ไม่ชัด (\"{number.group('serial')}\" อ่านเป็น "
                    f"{letter['doc_number']['serial']}) ควรตรวจสอบกับต้นฉบับ", "doc_number"))
            urgency = URGENCY_LEAD_RE.match(text[:number.start()])
            if urgency and letter["urgency"] is None:
                # The speed stamp printed on the number's line: `ด่วนที่สุด   ที่ มท …`.
                letter["urgency"] = URGENCY_WORDS[urgency.group(1)]
                _span(spans, "urgency", (line.start, line.start + len(urgency.group(1))))
            rest = text[number.end():].strip()
            date = DATE_RE.search(rest)
            if date and date_from_match(date) and letter["date"] is None:
                # A memo's number line also carries its date: `ที่ … วันที่ …`.
                offset = number.end() + text[number.end():].index(rest) + date.start()
                letter["date"] = date_from_match(date).isoformat()
                _span(spans, "date", (line.start + offset, line.start + offset + len(date.group())))
                continue
            if rest and is_org(rest) and letter["issuer"] is None:
                offset = text.index(rest, number.end())
                letter["issuer"] = rest
                _span(spans, "issuer", (line.start + offset, line.end))
            continue
        deliver = DELIVER_BY_RE.search(text)
        if deliver and letter["deliver_by"] is None:
            # The time may have wrapped onto the next line.
            after = letter["text"][line.start + deliver.end("rest") - len(deliver.group("rest")):][:80]
            letter["deliver_by"] = _deliver_by(after)
            _span(spans, "deliver_by", (line.start + deliver.start(), line.end))
            continue
        urgency = URGENCY_LINE_RE.match(text)
        if urgency and letter["urgency"] is None:
            letter["urgency"] = URGENCY_WORDS[urgency.group(1)]
            _span(spans, "urgency", (line.start + urgency.start(), line.start + urgency.end()))
            continue
        secrecy = SECRECY_LINE_RE.match(text)
        if secrecy and letter["secrecy"] is None:
            letter["secrecy"] = SECRECY_WORDS[secrecy.group(1)]
            _span(spans, "secrecy", (line.start, line.end))
            continue
        date = DATE_RE.search(text)
        if date and letter["date"] is None and date_from_match(date):
            letter["date"] = date_from_match(date).isoformat()
            _span(spans, "date", (line.start + date.start(), line.start + date.end()))
            continue
        if text.startswith("ส่วนราชการ") and letter["issuer"] is None:
            _parse_memo_unit(letter, line)
            continue
        if address_index is None and is_address(text) and not is_org(text):
            address_index = i
    if address_index is not None:
        _parse_address(letter, lines, head, address_index)
    if letter["issuer"] is None:
        for i, line in head:
            if is_org(line.text) and head_line_kind(line.text) == "org":
                letter["issuer"] = line.text
                _span(spans, "issuer", (line.start, line.end))
                break


def _misread_number(letter: dict, line: Line) -> None:
    """Read a number line whose `/ว` OCR turned into digits (`ที่ มท 0808.222 1352`)."""
    found = misread_number(line.text)
    if found is None:
        return
    match, number = found
    letter["doc_number"] = number
    _span(letter["spans"], "doc_number", (line.start + match.start("prefix"), line.start + match.end("serial")))
    letter["_warnings"].append(warning(
        "low_confidence",
        f"เลขที่หนังสืออ่านได้ไม่ชัด (\"{match.group()}\" อ่านเป็น {number['text']}) ควรตรวจสอบกับต้นฉบับ",
        "doc_number"))


def _parse_memo_unit(letter: dict, line: Line) -> None:
    """Read a memo's `ส่วนราชการ` line: the issuing unit, often followed by its telephone."""
    value = re.sub(r"^ส่วนราชการ\s*[:：]?\s*", "", line.text)
    start = line.end - len(value)
    phone = re.search(r"\s*โทร", value)
    unit = value[:phone.start()] if phone else value
    letter["issuer"] = unit or None
    _span(letter["spans"], "issuer", (start, start + len(unit)))
    if phone:
        contact, inner = parse_contact(value[phone.start():], [], start + phone.start())
        letter["contact"] = contact
        for key, span in inner.items():
            _span(letter["spans"], f"contact.{key}", span)


def _parse_address(letter: dict, lines: list[Line], head, address_index: int) -> None:
    spans = letter["spans"]
    indices = [i for i, _ in head]
    position = indices.index(address_index)
    last = address_index
    if not re.search(r"[0-9๐-๙]{5}\s*$", lines[address_index].text) and position + 1 < len(indices):
        following = indices[position + 1]
        if re.search(r"[0-9๐-๙]{5}\s*$", lines[following].text) and following - address_index <= 2:
            last = following
    parts = [lines[i].text for i in indices if address_index <= i <= last]
    letter["issuer_address"] = " ".join(parts)
    _span(spans, "issuer_address", (lines[address_index].start, lines[last].end))
    if letter["issuer"] is None and position > 0:
        previous = lines[indices[position - 1]]
        if head_line_kind(previous.text) in ("org", None) and not URGENCY_RE.fullmatch(previous.text):
            letter["issuer"] = previous.text
            _span(spans, "issuer", (previous.start, previous.end))


def _deliver_by(rest: str) -> str | None:
    date = DATE_RE.search(rest)
    found = date_from_match(date) if date else None
    if found is None:
        return None
    time = parse_time(rest[date.end():])
    return f"{found.isoformat()}T{time}:00" if time else found.isoformat()


def _continuation(lines: list[Line], index: int, stop) -> int:
    """Return the index of the last line that continues the line at `index` without a gap."""
    last = index
    for k in range(index + 1, len(lines)):
        line = lines[k]
        if line.noise:
            continue
        if line.blank or stop(line.text):
            break
        last = k
    return last


def _texts(lines: list[Line], first: int, last: int) -> list[str]:
    """Return the texts of lines[first..last] without noise lines."""
    return [lines[k].text for k in range(first, last + 1) if not lines[k].noise]


def _is_part_keyword(text: str) -> bool:
    return bool(SALUTATION_RE.match(text) or REFERENCES_RE.match(text) or ENCLOSURES_RE.match(text)
                or SUBJECT_RE.match(text) or BODY_OPENER_RE.match(text))


# Openings of running text that a wrapped subject line does not start with; orders and
# announcements have no salutation line to end their subject.
TEXT_OPENER_RE = re.compile(
    r"^(?:ด้วย|ตามที่|ตามหนังสือ|อนุสนธิ|เนื่องด้วย|เนื่องจาก|เพื่อให้|อาศัยอำนาจ|โดยที่|บัดนี้|"
    r"ในการนี้|[0-9๐-๙]{1,2}\s*\.(?![0-9๐-๙]))")


def _is_heading_keyword(text: str) -> bool:
    return bool(SALUTATION_RE.match(text) or REFERENCES_RE.match(text) or ENCLOSURES_RE.match(text)
                or SUBJECT_RE.match(text) or TEXT_OPENER_RE.match(text) or NAME_LINE_RE.match(text)
                or SIGNED_ON_RE.match(text))


def _parse_subject(letter: dict, lines: list[Line], index: int) -> int:
    line = lines[index]
    match = SUBJECT_RE.match(line.text)
    last = _continuation(lines, index, _is_heading_keyword)
    parts = [line.text[match.end():]] + _texts(lines, index + 1, last)
    letter["subject"] = join_lines(parts) or None
    _span(letter["spans"], "subject", (line.start + match.end(), lines[last].end))
    return last + 1


# Words of running text: a line holding one of them opens the body, not more addressees.
SENTENCE_WORD_RE = re.compile(r"ได้|(?<!ผู้)ว่า(?!การ)|ขอ(?!น|ง)|จึง|แล้ว|ดังนี้|ตาม|เพื่อ|โดย|ซึ่ง")
ADDRESSEE_MAX_LINE = 100


def _ends_addressee(text: str) -> bool:
    return _is_part_keyword(text) or len(text) > ADDRESSEE_MAX_LINE or bool(SENTENCE_WORD_RE.search(text))


def _parse_salutation(letter: dict, lines: list[Line], index: int) -> int:
    line = lines[index]
    match = SALUTATION_RE.match(line.text)
    letter["salutation"] = match.group(1)
    _span(letter["spans"], "salutation", (line.start, line.start + len(match.group(1))))
    last = _continuation(lines, index, _ends_addressee)
    parts = [line.text[match.end():]] + _texts(lines, index + 1, last)
    letter["addressee"] = join_lines(parts) or None
    _span(letter["spans"], "addressee", (line.start + match.end(), lines[last].end))
    return last + 1


def _is_citation_continuation(text: str) -> bool:
    return bool(re.match(r"^(?:-\s*)?(?:[0-9๐-๙]{1,2}\s*\.(?![0-9๐-๙])|ลงวันที่|ลว\.|จำนวน|ที่\s|ฉบับ)", text))


CITATION_KEYWORD_RE = re.compile(r"(?:-\s*)?(?<!ที่)(?<!ที่\s)(อ้างถึง|สิ่งที่ส่งมาด้วย)\s*[:：]?\s*")
ITEM_START_RE = re.compile(r"(?:^|\n)\s*(?:-\s*)?[0-9๐-๙]{1,2}\s*\.(?![0-9๐-๙])")


def _item_complete(region: str) -> bool:
    """Tell whether the last citation item of `region` already has its date or quantity."""
    starts = [m.end() for m in CITATION_KEYWORD_RE.finditer(region)]
    starts += [m.end() for m in ITEM_START_RE.finditer(region)]
    tail = region[max(starts):] if starts else region
    return bool(DATE_RE.search(tail) or QUANTITY_RE.search(tail))


def _parse_citations(letter: dict, lines: list[Line], begin: int) -> int:
    """Read the อ้างถึง and สิ่งที่ส่งมาด้วย blocks below the salutation; return the body start.

    A line continues the blocks when it is an item number, a `ลงวันที่` or `จำนวน` line, or
    when the item above still lacks its date and quantity. Text layers without blank lines
    may glue a keyword to the end of the line above, so keywords are also found mid-line.
    """
    text = letter["text"]
    i = begin
    while i < len(lines) and (lines[i].blank or lines[i].noise):
        i += 1
    if i >= len(lines) or not (REFERENCES_RE.match(lines[i].text) or ENCLOSURES_RE.match(lines[i].text)):
        return i
    last, k = i, i + 1
    while k < len(lines):
        current = lines[k]
        if current.blank or current.noise:
            k += 1
            continue
        if REFERENCES_RE.match(current.text) or ENCLOSURES_RE.match(current.text):
            last, k = k, k + 1
            continue
        gap = any(lines[m].blank for m in range(last + 1, k))
        continuation = _is_citation_continuation(current.text)
        if not continuation:
            if gap or BODY_OPENER_RE.match(current.text):
                break
            if _item_complete(text[lines[i].start:lines[last].end]):
                break
        last, k = k, k + 1
    region_start = lines[i].start
    region = text[region_start:lines[last].end]
    keywords = list(CITATION_KEYWORD_RE.finditer(region))
    for n, keyword in enumerate(keywords):
        key = "references" if keyword.group(1) == "อ้างถึง" else "enclosures"
        block_start = keyword.end()
        block_end = keywords[n + 1].start() if n + 1 < len(keywords) else len(region)
        block = region[block_start:block_end]
        for start, end in split_items(block):
            citation, inner = parse_citation(block[start:end])
            index = len(letter[key])
            if key == "references":
                citation.pop("quantity")
                citation.pop("unit")
            letter[key].append(citation)
            offset = region_start + block_start + start
            _span(letter["spans"], f"{key}.{index}", (offset, offset + end - start))
            for field, (a, b) in inner.items():
                _span(letter["spans"], f"{key}.{index}.{field}", (offset + a, offset + b))
    i = last + 1
    while i < len(lines) and (lines[i].blank or lines[i].noise):
        i += 1
    return i


def _tail_guess(lines: list[Line], begin: int) -> int:
    for i in range(begin, len(lines)):
        if PAREN_NAME_RE.search(lines[i].text) and len(lines[i].text) < 80:
            return i
    return len(lines)


def _ends_closing(text: str) -> bool:
    return bool(COURTESY_RE.match(text) or NAME_LINE_RE.match(text))


def _parse_closing(letter: dict, lines: list[Line], index: int) -> None:
    last = _continuation(lines, index, _ends_closing)
    letter["closing_request"] = join_lines(_texts(lines, index, last))
    _span(letter["spans"], "closing_request", (lines[index].start, lines[last].end))


def _parse_body(letter: dict, lines: list[Line], begin: int, end: int, request_end: int) -> None:
    """Read actions, deadlines and assignments from the body and the closing request.

    `lines[begin:end]` is the body. The closing request runs on to `request_end` and may carry
    a deadline or an undated `โดยด่วน` too.
    """
    if begin >= max(end, request_end):
        return
    text = letter["text"]
    body_start = lines[begin].start
    body_end = lines[end - 1].end if end > begin else body_start
    search_end = lines[max(end, request_end) - 1].end
    letter_date = datetime.date.fromisoformat(letter["date"]) if letter["date"] else None
    body_lines = [ln for ln in lines[begin:end] if not PAGE_MARK_RE.match(ln.text)]
    actions = find_actions(text, body_lines)
    for start, stop, phrase in find_asap(text[body_start:search_end]):
        start += body_start
        number = next((a["number"] for a in actions if a["_span"][0] <= start < a["_span"][1]), None)
        _span(letter["spans"], f"undated_requests.{len(letter['undated_requests'])}",
              (start, stop + body_start))
        letter["undated_requests"].append({"text": phrase, "action": number})
    deadlines = find_deadlines(text[body_start:search_end], letter_date)
    for n, item in enumerate(deadlines):
        a, b = item.pop("_span")
        a, b = a + body_start, b + body_start
        _span(letter["spans"], f"deadlines.{n}", (a, b))
        for action in actions:
            if action["_span"][0] <= a < action["_span"][1]:
                item["action"] = action["number"]
                action["deadlines"].append(item)
                break
        letter["deadlines"].append(item)
    for n, action in enumerate(actions):
        _span(letter["spans"], f"actions.{n}", action.pop("_span"))
    letter["actions"] = actions
    intro_end = letter["spans"]["actions.0"][0] if actions and actions[0]["number"] else body_end
    letter["assignments"] = find_assignments(text[body_start:intro_end], actions, letter["addressee"])
    for n, assignment in enumerate(letter["assignments"]):
        index = next(k for k, a in enumerate(actions) if a["number"] == assignment["from_action"])
        letter["spans"][f"assignments.{n}"] = list(letter["spans"][f"actions.{index}"])


def _parse_tail(letter: dict, lines: list[Line], begin: int, stamp_lines: set[int]) -> None:
    spans = letter["spans"]
    i = begin
    signatory_end = begin - 1
    typed = [k for k in range(begin, min(len(lines), begin + TYPED_NAME_WINDOW))
             if TYPED_NAME_RE.match(lines[k].text)]
    while i < len(lines):
        line = lines[i]
        named = PAREN_NAME_RE.search(line.text) or (typed and i == typed[0])
        if i not in stamp_lines and named and not CONTACT_LINE_RE.search(line.text):
            person, inner, last = parse_person(lines, i)
            letter["signatory"] = person
            _span(spans, "signatory", (min(inner["name"][0], lines[i].start), lines[last].end))
            for key, value in inner.items():
                _span(spans, f"signatory.{key}", value)
            signatory_end = last
            break
        if CONTACT_LINE_RE.search(line.text) or SUBJECT_RE.match(line.text):
            break
        i += 1
    contact_end = _parse_contact_block(letter, lines, signatory_end + 1, stamp_lines)
    copies = _find(lines, COPIES_RE, begin)
    if copies is not None:
        match = COPIES_RE.match(lines[copies].text)
        last = _continuation(lines, copies, _ends_copies)
        letter["copies"] = join_lines([lines[copies].text[match.end():]] + _texts(lines, copies + 1, last)) or None
        _span(spans, "copies", (lines[copies].start + match.end(), lines[last].end))
        contact_end = max(contact_end, last)
    received = sorted(s["date"] for s in letter["receipt_stamps"] if s["date"])
    reference = received[-1] if received else letter["date"]
    endorsements = find_endorsements(letter["text"], lines, max(contact_end, signatory_end) + 1, stamp_lines,
                                     datetime.date.fromisoformat(reference) if reference else None)
    for n, item in enumerate(endorsements):
        for key, value in item.pop("_spans").items():
            _span(spans, f"endorsements.{n}" + (f".{key}" if key else ""), value)
        letter["endorsements"].append(item)


def _ends_copies(text: str) -> bool:
    return bool(CONTACT_LINE_RE.search(text) or PAREN_NAME_RE.search(text)
                or SECRECY_LINE_RE.match(text) or URGENCY_LINE_RE.match(text))


def _parse_contact_block(letter: dict, lines: list[Line], begin: int, stamp_lines: set[int]) -> int:
    """Read the unit and contact lines after the signature; return the last index used."""
    first_contact = None
    for i in range(begin, len(lines)):
        if i in stamp_lines:
            continue
        if CONTACT_LINE_RE.search(lines[i].text):
            first_contact = i
            break
        if SUBJECT_RE.match(lines[i].text) or NUMBER_LINE_RE.match(lines[i].text):
            return begin - 1
    if first_contact is None:
        return begin - 1

    # The unit lines sit directly above the first telephone or e-mail line.
    first = first_contact
    while first - 1 >= begin and not lines[first - 1].blank and first - 1 not in stamp_lines \
            and not PAREN_NAME_RE.search(lines[first - 1].text):
        first -= 1

    last = first_contact
    for k in range(first_contact + 1, len(lines)):
        if lines[k].blank:
            # The coordinator line may stand apart from the telephone lines.
            nxt = next((m for m in range(k, len(lines)) if not lines[m].blank), None)
            if nxt is not None and nxt - last <= 2 and CONTACT_LINE_RE.search(lines[nxt].text):
                continue
            break
        if not CONTACT_LINE_RE.search(lines[k].text):
            break
        last = k

    unit_lines = [lines[k].text for k in range(first, first_contact)]
    block_start = lines[first_contact].start
    contact, inner = parse_contact(letter["text"][block_start:lines[last].end], unit_lines, block_start)
    letter["contact"] = contact
    _span(letter["spans"], "contact", (lines[first].start, lines[last].end))
    if unit_lines:
        _span(letter["spans"], "contact.unit", (lines[first].start, lines[first_contact - 1].end))
    for key, value in inner.items():
        _span(letter["spans"], f"contact.{key}", value)
    return last


SIGNED_ON_RE = re.compile(r"(?:สั่ง|ประกาศ|ให้ไว้)\s*ณ\s*วันที่\s*")


def _date_at_end(letter: dict) -> None:
    """Read the date of an order or announcement from its `สั่ง ณ วันที่ …` line."""
    text = letter["text"]
    for signed in SIGNED_ON_RE.finditer(text):
        date = DATE_RE.match(text, signed.end())
        if date and date_from_match(date):
            letter["date"] = date_from_match(date).isoformat()
            _span(letter["spans"], "date", (date.start(), date.end()))
            return


def _kind(letter: dict, text: str) -> str:
    head = text[:400]
    if "บันทึกข้อความ" in head or re.search(r"^ส่วนราชการ", head, re.MULTILINE):
        return "internal"
    if letter["salutation"] or letter["doc_number"] or letter["issuer_address"]:
        return "external"
    if re.search(r"^คำสั่ง", head, re.MULTILINE):
        return "order"
    if re.search(r"^ประกาศ", head, re.MULTILINE):
        return "announcement"
    if "หนังสือประทับตรา" in text or re.search(r"^ถึง\s", text, re.MULTILINE):
        return "stamped"
    return "unknown"
