"""Recognize the lines of a letter: head lines, receipt stamps, citations, signature blocks.

Everything here works on `Line` records (offsets into the letter's text) and returns values
with (start, end) spans, so that `parsers.letter` can fill LETTER fields and their spans.
"""
import re
from dataclasses import dataclass

from parsers.docnum import DOCNUM_RE, NUMBER_LINE_RE, normalize
from parsers.thaidate import (
    DATE_RE, DIGIT, MONTH_PATTERN, date_from_match, parse_thai_date, parse_time, to_arabic,
)

SEPARATOR_RE = re.compile(r"\n|\f")

URGENCY_WORDS = {"ด่วนที่สุด": "most_urgent", "ด่วนมาก": "very_urgent", "ด่วน": "urgent"}
SECRECY_WORDS = {"ลับที่สุด": "top_secret", "ลับมาก": "secret", "ลับ": "confidential"}
URGENCY_RE = re.compile(r"(?<![ก-๛])(ด่วนที่สุด|ด่วนมาก|ด่วน)(?!ภายใน)(?![ก-๛])")
# An urgency stamp alone on its line, perhaps with OCR specks after it.
URGENCY_LINE_RE = re.compile(r"^(ด่วนที่สุด|ด่วนมาก|ด่วน)(?![ก-๛])[^ก-ฮA-Za-z]{0,8}$")
DELIVER_BY_RE = re.compile(r"ด่วนภายใน\s*(?:วันที่)?\s*(?P<rest>.{0,60})")
SECRECY_LINE_RE = re.compile(r"^(ลับที่สุด|ลับมาก|ลับ)$")

SUBJECT_RE = re.compile(r"^เรื่อง(?![ก-๛]*\s*(?:นี้|ดังกล่าว))\s*[:：]?\s*")
SALUTATION_RE = re.compile(r"^(กราบเรียน|เรียน)\s*[:：]?\s*")
REFERENCES_RE = re.compile(r"^(?:-\s*)?อ้างถึง\s*[:：]?\s*")
ENCLOSURES_RE = re.compile(r"^(?:-\s*)?สิ่งที่ส่งมาด้วย\s*[:：]?\s*")
CLOSING_RE = re.compile(r"^จึง(?:กราบ)?เรียนมาเพื่อ")
# The signatory's name may follow on the same line when a PDF's text layer merges them.
COURTESY_RE = re.compile(r"^ขอแสดงความนับถือ(?:อย่างสูง)?(?![ก-๛])")
BODY_OPENER_RE = re.compile(
    r"^(?:ด้วย|ตาม|อนุสนธิ|เนื่อง|ขอ(?:แจ้ง|ส่ง|ความ|ให้|อนุญาต|อนุมัติ|ประชาสัมพันธ์|เชิญ)|บัดนี้|ในการนี้|"
    r"โดยที่|[0-9๐-๙]{1,2}\s*\.(?![0-9๐-๙]))")
ORG_START_RE = re.compile(
    r"^(?:ศาลากลาง|ที่ว่าการ|กรม|กระทรวง|สำนักงาน|สำนัก|องค์การ|องค์กร|เทศบาล|กอง|มหาวิทยาลัย|"
    r"โรงเรียน|โรงพยาบาล|ศูนย์|สถาบัน|ธนาคาร|บริษัท|คณะ|ส่วน|กลุ่ม|ฝ่าย|งาน|สภา|เมืองพัทยา|"
    r"กรุงเทพมหานคร|จังหวัด|อำเภอ)")
ADDRESS_START_RE = re.compile(
    rf"^(?:ถนน|ถ\s?\.|ซอย|ซ\s?\.|หมู่ที่|หมู่|ม\s?\.\s?{DIGIT}|ตำบล|ต\s?\.|แขวง|เขต|อำเภอ|อ\s?\.|"
    rf"เลขที่\s*{DIGIT}|{DIGIT}+\s*(?:/\s*{DIGIT}+)?\s*(?:หมู่|ถนน|ม\.(?!\s?[ก-ฮ]\s?\.)))")
POSTCODE_END_RE = re.compile(rf"(?<!{DIGIT}){DIGIT}{{5}}\s*$")
STAMP_FIELD_RE = re.compile(
    r"^(?P<label>เลขรับ|เลขทะเบียนรับ|ทะเบียนรับ|รับที่|เลขที่|วันที่|เวลา)\s*(?:ที่)?\s*[.:…_\s]*(?P<value>.*)$")
# Up to four characters without letters, or one or two letters alone, are OCR specks. A year
# wrapped onto a line of its own is content.
NOISE_RE = re.compile(r"^(?![0-9๐-๙]{4}$)[^ก-ฮA-Za-z]{1,4}$|^[^\s0-9๐-๙]{1,2}$")
PAGE_MARK_RE = re.compile(rf"^(?:-\s*{DIGIT}{{1,3}}\s*-|/\s*.*\.\.\.?|/\s*{DIGIT}.*)$")
PAREN_NAME_RE = re.compile(r"\(\s*([^()]{2,80}?)\s*\)")
# A name typed without brackets, as electronic letters may print it: `นายสมชาย ใจดี`.
TYPED_NAME_RE = re.compile(
    r"^((?:นางสาว|นาย|นาง|น\.ส\.\s?|ดร\.\s?|ว่าที่\s?[ก-๛.]+\s)[ก-๛]+\s+[ก-๛]+)\s*$")
TRAILING_DATE_RE = re.compile(
    rf"\s*(?:วันที่\s*)?{DIGIT}{{1,2}}\s*{MONTH_PATTERN}(?:\s*(?:พ\s?\.\s?ศ\s?\.\s*)?{DIGIT}{{2,4}})?\s*$")
RANK_LINE_RE = re.compile(r"^[ก-๛]{1,4}\s?\.(?:\s?[ก-๛]{1,4}\s?\.)*$|^ว่าที่\s*[ก-๛. ]{0,20}$")
CAPACITY_RE = re.compile(r"ปฏิบัติราชการแทน|รักษาราชการแทน|รักษาการแทน|ปฏิบัติหน้าที่|รักษาการในตำแหน่ง")
CAPACITY_VALUE = {"ปฏิบัติราชการแทน": "on_behalf", "รักษาราชการแทน": "acting",
                  "รักษาการแทน": "acting", "ปฏิบัติหน้าที่": "performing_duties",
                  "รักษาการในตำแหน่ง": "acting"}
CONTACT_LINE_RE = re.compile(
    r"โทร|โทรสาร|ผู้ประสานงาน|e-?mail|อีเมล|ไปรษณีย์อิเล็กทรอนิกส์|www\.|@", re.IGNORECASE)
PHONE_NUMBER = rf"{DIGIT}[{DIGIT[1:-1]}\s\-]{{4,}}{DIGIT}"
PHONE_RE = re.compile(
    rf"(?:โทรศัพท์|โทร\s?\.?|Tel\.?)(?P<both>\s*/\s*โทรสาร\s?\.?)?\s*[:：]?\s*(?P<number>{PHONE_NUMBER})",
    re.IGNORECASE)
FAX_RE = re.compile(rf"(?<!/)(?<!/\s)โทรสาร\s?\.?\s*[:：]?\s*(?P<number>{PHONE_NUMBER})")
EXTENSION_RE = re.compile(rf"ต่อ\s*[:.]?\s*(?P<number>{DIGIT}+(?:\s*[-,]\s*{DIGIT}+)*)")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
COORDINATOR_RE = re.compile(r"ผู้ประสานงาน\s*[:：]?\s*(?P<name>[^\n\d๐-๙]*?)\s*(?=โทร|$|[0-9๐-๙(])",
                            re.MULTILINE)
ITEM_NUMBER_RE = re.compile(r"(?:^|(?<=\s))(?:-\s*)?(?P<number>[0-9๐-๙]{1,2})\s*\.(?![0-9๐-๙])\s*")
QUANTITY_RE = re.compile(
    rf"(?:จำนวน|\()\s*(?P<quantity>{DIGIT}+)\s*(?P<unit>ฉบับ|ชุด|แผ่น|เล่ม|หน้า|แฟ้ม|รายการ|ไฟล์|ม้วน|กล่อง|แบบ|ตลับ|คู่)")
CITATION_ISSUER_RE = re.compile(
    r"(?:สำเนา)?หนังสือ\s*(?P<issuer>[^\s].*?)\s*"
    r"(?=ด่วน|ลับ|(?<![ก-๛])ที่?\s*[ก-ฮ]\s?[ก-ฮ]\s*[0-9๐-๙]|ลงวันที่|ลว\.|$)")
CITATION_DATE_RE = re.compile(r"(?:ลงวันที่|ลว\s?\.|ฉบับลงวันที่)\s*")


@dataclass
class Line:
    """One line of a letter's text: offsets of the stripped content and the content itself."""

    start: int
    end: int
    text: str

    @property
    def blank(self) -> bool:
        return not self.text

    @property
    def noise(self) -> bool:
        """A short line without letters: OCR specks, stray page digits, rules (`=`, `|`)."""
        return bool(NOISE_RE.match(self.text))


def split_lines(text: str, base: int = 0) -> list[Line]:
    """Return every line of `text` (blank ones too) with offsets of its stripped content."""
    lines, position = [], 0
    for match in SEPARATOR_RE.finditer(text):
        lines.append(_line(text, position, match.start(), base))
        position = match.end()
    lines.append(_line(text, position, len(text), base))
    return lines


def _line(text: str, start: int, end: int, base: int) -> Line:
    raw = text[start:end]
    stripped = raw.strip()
    if not stripped:
        return Line(base + start, base + start, "")
    offset = start + (len(raw) - len(raw.lstrip()))
    return Line(base + offset, base + offset + len(stripped), stripped)


def join_lines(parts: list[str]) -> str:
    """Join wrapped lines: Thai meets Thai without a space, anything else with one."""
    out = ""
    for part in parts:
        part = re.sub(r"[ \t]+", " ", part.strip())
        if not part:
            continue
        if out and not (_is_thai(out[-1]) and _is_thai(part[0])):
            out += " "
        out += part
    return out


def join_items(parts: list[str]) -> str:
    """Join lines that are separate items (organization lines, positions) with one space."""
    return " ".join(re.sub(r"[ \t]+", " ", p.strip()) for p in parts if p.strip())


def _is_thai(char: str) -> bool:
    return "\u0e01" <= char <= "\u0e4e"


# ---- classification of head lines -------------------------------------------------------

# Lines of a receipt stamp are short; a longer line opening with `วันที่` is running text.
STAMP_LINE_MAX = 40


def is_stamp_field(line: Line) -> bool:
    return (bool(STAMP_FIELD_RE.match(line.text)) and not line.text.startswith("วันที่ว")
            and len(line.text) <= STAMP_LINE_MAX)


def is_address(text: str) -> bool:
    return bool(ADDRESS_START_RE.match(text) or POSTCODE_END_RE.search(text))


def is_org(text: str) -> bool:
    return bool(ORG_START_RE.match(text)) and not CONTACT_LINE_RE.search(text)


def is_date_line(text: str) -> bool:
    match = DATE_RE.search(text)
    if not match or date_from_match(match) is None:
        return False
    rest = (text[:match.start()] + text[match.end():]).replace("วันที่", "")
    return len(re.sub(r"[\s.:]", "", rest)) <= 3


def is_number_line(text: str) -> bool:
    return bool(NUMBER_LINE_RE.match(text))


def head_line_kind(text: str) -> str | None:
    """Return what a line can be in a letter's head, or None when it cannot be a head line."""
    if is_number_line(text):
        return "number"
    if is_date_line(text):
        return "date"
    if URGENCY_LINE_RE.match(text) or text.startswith("ด่วนภายใน") or SECRECY_LINE_RE.match(text):
        return "class"
    if STAMP_FIELD_RE.match(text):
        return "stamp"
    if is_address(text) and not CONTACT_LINE_RE.search(text):
        return "address"
    if is_org(text) and not CAPACITY_RE.search(text) and "(" not in text:
        return "org"
    if text in ("บันทึกข้อความ",) or text.startswith("ส่วนราชการ"):
        return "memo"
    return None


# ---- receipt stamps ---------------------------------------------------------------------

STAMP_LABEL_RE = re.compile(
    r"(?<![ก-๛])(?P<label>เลขรับ|เลขทะเบียนรับ|ทะเบียนรับ|รับที่|เลขที่|วันที่|เวลา)\s*[.:…_]*\s*")
RECEIPT_LABELS = {"เลขรับ", "เลขทะเบียนรับ", "ทะเบียนรับ", "รับที่"}
NUMBER_LABELS = RECEIPT_LABELS | {"เลขที่"}


def _inline_stamp(line: Line) -> bool:
    """Tell whether a line contains a whole stamp: `… รับที่ ๑๒ วันที่ ๕ พ.ค. ๖๘ เวลา …`."""
    labels = {m.group("label") for m in STAMP_LABEL_RE.finditer(line.text)}
    return len(labels) >= 2 and bool(labels & RECEIPT_LABELS)


def find_stamps(lines: list[Line]) -> list[dict]:
    """Return receipt stamps: runs of stamp field lines with their organization lines above.

    A run counts as a stamp when it has at least two fields and one of them is a receipt
    number, so a memo's `วันที่` line or a meeting's date and time is not mistaken for one. A line with a
    receipt number and another field is a stamp on its own, its organization before them.
    """
    stamps, i = [], 0
    while i < len(lines):
        if not is_stamp_field(lines[i]):
            if _inline_stamp(lines[i]):
                stamps.append(_stamp(lines, i, i + 1))
            i += 1
            continue
        j = i
        while j < len(lines) and is_stamp_field(lines[j]):
            j += 1
        labels = {m.group("label") for k in range(i, j) for m in STAMP_LABEL_RE.finditer(lines[k].text)}
        if len(labels) >= 2 and labels & NUMBER_LABELS:
            stamps.append(_stamp(lines, i, j))
        i = j
    return stamps


def _stamp_fields(lines: list[Line], first: int, after: int) -> dict:
    """Return {label: (value, start, end)} for the first of each label in lines[first:after]."""
    fields = {}
    for line in lines[first:after]:
        labels = list(STAMP_LABEL_RE.finditer(line.text))
        for n, match in enumerate(labels):
            end = labels[n + 1].start() if n + 1 < len(labels) else len(line.text)
            value = line.text[match.end():end].strip()
            fields.setdefault(match.group("label"),
                              (value, line.start + match.end(), line.start + match.end() + len(value)))
    return fields


def _stamp(lines: list[Line], first: int, after: int) -> dict:
    org_lines = []
    spans = {}
    inline_org = ""
    labels = list(STAMP_LABEL_RE.finditer(lines[first].text))
    if labels and labels[0].start() > 0:
        inline_org = lines[first].text[:labels[0].start()].strip()
    if inline_org:
        spans["organization"] = (lines[first].start, lines[first].start + len(inline_org))
    else:
        k = first - 1
        while k >= 0 and len(org_lines) < 2 and not lines[k].blank \
                and head_line_kind(lines[k].text) in ("org", None) and not is_stamp_field(lines[k]):
            org_lines.insert(0, lines[k])
            k -= 1
        if org_lines:
            spans["organization"] = (org_lines[0].start, org_lines[-1].end)
    organization = inline_org or join_items([ln.text for ln in org_lines])
    stamp = {"organization": organization or None, "number": None, "date": None, "time": None}

    for label, (value, start, end) in _stamp_fields(lines, first, after).items():
        if label in NUMBER_LABELS and stamp["number"] is None:
            stamp["number"] = value or None
            spans["number"] = (start, end)
        elif label == "วันที่":
            found = parse_thai_date(value)
            stamp["date"] = found.isoformat() if found else None
            spans["date"] = (start, end)
        elif label == "เวลา":
            stamp["time"] = parse_time(value)
            spans["time"] = (start, end)

    start = org_lines[0].start if org_lines else lines[first].start
    stamp["_span"] = (start, lines[after - 1].end)
    stamp["_spans"] = spans
    stamp["_lines"] = set(range(first - len(org_lines), after))
    return stamp


# ---- citations --------------------------------------------------------------------------

def split_items(text: str) -> list[tuple[int, int]]:
    """Return (start, end) of the numbered items in a references or enclosures block.

    Item numbers must run 1, 2, 3 ... and without a leading `๑.` the whole block is one item.
    """
    starts, expected = [], 1
    for match in ITEM_NUMBER_RE.finditer(text):
        if int(to_arabic(match.group("number"))) == expected:
            starts.append((match.start(), match.end()))
            expected += 1
    if not starts:
        stripped = text.strip()
        if not stripped:
            return []
        offset = text.index(stripped)
        return [(offset, offset + len(stripped))]
    items = []
    for k, (start, content) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(text)
        items.append((content, content + len(text[content:end].rstrip())))
    return items


def parse_citation(text: str) -> tuple[dict, dict]:
    """Return a CITATION dict for one reference or enclosure item, and spans inside `text`."""
    flat = join_lines(text.splitlines())
    citation = {"text": flat, "issuer": None, "urgency": None, "doc_number": None, "date": None}
    spans = {}
    urgency = URGENCY_RE.search(text)
    if urgency:
        citation["urgency"] = URGENCY_WORDS[urgency.group(1)]
    number = NUMBER_LINE_RE.search(text) or DOCNUM_RE.search(text)
    if number:
        citation["doc_number"] = normalize(number)
        spans["doc_number"] = (number.start("prefix"), number.end("serial"))
    issuer = CITATION_ISSUER_RE.search(text)
    if issuer and issuer.group("issuer").strip():
        citation["issuer"] = join_lines(issuer.group("issuer").splitlines())
        spans["issuer"] = (issuer.start("issuer"), issuer.end("issuer"))

    dated = CITATION_DATE_RE.search(text)
    search_from = 0
    if dated:
        search_from = dated.end()
    elif number:
        search_from = number.end()
    for match in DATE_RE.finditer(text, search_from):
        found = date_from_match(match)
        if found:
            citation["date"] = found.isoformat()
            spans["date"] = (match.start(), match.end())
            break

    quantity = QUANTITY_RE.search(text)
    if quantity:
        spans["quantity"] = (quantity.start(), quantity.end())
    citation["quantity"] = int(to_arabic(quantity.group("quantity"))) if quantity else None
    citation["unit"] = quantity.group("unit") if quantity else None
    return citation, spans


# ---- signature blocks -------------------------------------------------------------------

def parse_person(lines: list[Line], index: int, stop=None) -> tuple[dict, dict, int]:
    """Read a name in brackets at `lines[index]` and the position lines below it.

    `stop(text)` returns True for a line that ends the position (an endorsement's decision line).
    Returns the person {"name", "position", "capacity", "on_behalf_of"}, spans, and the index
    of the last line used. A date after the position is left out of it.
    """
    line = lines[index]
    match = PAREN_NAME_RE.search(line.text) or TYPED_NAME_RE.match(line.text)
    name = match.group(1).strip()
    name_span = (line.start + match.start(1), line.start + match.end(1))
    previous = lines[index - 1] if index > 0 else None
    if previous and not previous.blank and RANK_LINE_RE.match(previous.text) and not name.startswith(
            previous.text):
        name = previous.text + " " + name
        name_span = (previous.start, name_span[1])
    position_parts = []
    after = line.text[match.end():].strip()
    first_span = None
    if after:
        position_parts.append(after)
        first_span = line.start + match.end() + (len(line.text[match.end():]) - len(line.text[match.end():].lstrip()))
    last = index
    k = index + 1
    skipped_blank = False
    while k < len(lines):
        current = lines[k]
        if current.blank:
            if position_parts or skipped_blank:
                break
            skipped_blank = True
            k += 1
            continue
        if current.noise:
            k += 1
            continue
        if PAREN_NAME_RE.search(current.text) or CONTACT_LINE_RE.search(current.text) \
                or is_stamp_field(current) or is_number_line(current.text):
            break
        if position_parts and _looks_like_unit(current.text) and not CAPACITY_RE.search(current.text):
            break
        if is_date_line(current.text) or URGENCY_LINE_RE.match(current.text) \
                or current.text.startswith("เรียน") or (stop and stop(current.text)):
            break
        position_parts.append(current.text)
        if _position_complete(position_parts):
            if first_span is None:
                first_span = current.start
            last = k
            break
        if first_span is None:
            first_span = current.start
        last = k
        k += 1
    if position_parts:
        # `ปลัดองค์การบริหารส่วนตำบลโนนผึ้ง ๒๒ ก.ค. ๖๘`: the endorsement's date, not the position.
        position_parts[-1] = TRAILING_DATE_RE.sub("", position_parts[-1])
    person, spans = _person_fields(name, position_parts)
    spans["name"] = name_span
    if first_span is not None and position_parts:
        spans["position"] = (first_span, lines[last].end if last > index else line.end)
    return person, spans, last


def _position_complete(parts: list[str]) -> bool:
    """Tell whether a position is complete: a capacity marker and the office it stands for.

    `รองผู้ว่าราชการจังหวัด ปฏิบัติราชการแทน` is followed by exactly one line naming the
    office. Anything below it is the owning unit or an endorsement.
    """
    for n, part in enumerate(parts):
        marker = CAPACITY_RE.search(part)
        if marker:
            rest = part[marker.end():].strip()
            return bool(rest) or n + 1 < len(parts)
    return False


def _looks_like_unit(text: str) -> bool:
    return bool(re.match(r"^(?:สำนัก|กอง|กลุ่ม|ส่วน|ฝ่าย|งาน|ศูนย์|ที่ทำการ|ที่ว่าการ|ศาลากลาง)", text))


def _person_fields(name: str, position_parts: list[str]) -> tuple[dict, dict]:
    position_text = join_items(position_parts)
    capacity, on_behalf_of, position = "self", None, position_text or None
    marker = CAPACITY_RE.search(position_text)
    if marker:
        capacity = CAPACITY_VALUE[marker.group()]
        position = position_text[:marker.start()].strip() or None
        on_behalf_of = position_text[marker.end():].strip() or None
        if capacity == "performing_duties" and position is None:
            position = on_behalf_of
    return {"name": name, "position": position, "capacity": capacity,
            "on_behalf_of": on_behalf_of}, {}


# ---- contact ----------------------------------------------------------------------------

def arabic_number(text: str) -> str:
    """Return a phone number in Arabic digits, grouped as written with single spaces."""
    return re.sub(r"\s+", " ", to_arabic(text)).strip()


def parse_contact(text: str, unit_lines: list[str], base: int) -> tuple[dict, dict]:
    """Return the contact dict read from `text` (starting at offset `base`) and its spans."""
    contact = {"unit": join_items(unit_lines) or None, "phone": None, "extension": None,
               "fax": None, "email": None, "coordinator": None}
    spans = {}
    phone = PHONE_RE.search(text)
    if phone:
        contact["phone"] = arabic_number(phone.group("number"))
        spans["phone"] = (base + phone.start("number"), base + phone.end("number"))
        if phone.group("both"):
            contact["fax"] = contact["phone"]
            spans["fax"] = spans["phone"]
        extension = EXTENSION_RE.match(text, phone.end("number")) or EXTENSION_RE.match(
            text, phone.end("number") + (len(text[phone.end("number"):]) - len(text[phone.end("number"):].lstrip())))
        if extension:
            contact["extension"] = to_arabic(extension.group("number"))
            spans["extension"] = (base + extension.start("number"), base + extension.end("number"))
    fax = FAX_RE.search(text)
    if fax and contact["fax"] is None:
        contact["fax"] = arabic_number(fax.group("number"))
        spans["fax"] = (base + fax.start("number"), base + fax.end("number"))
    email = EMAIL_RE.search(text)
    if email:
        contact["email"] = email.group()
        spans["email"] = (base + email.start(), base + email.end())
    coordinator = COORDINATOR_RE.search(text)
    if coordinator and coordinator.group("name").strip():
        contact["coordinator"] = coordinator.group("name").strip()
        spans["coordinator"] = (base + coordinator.start("name"), base + coordinator.end("name"))
    return contact, spans
