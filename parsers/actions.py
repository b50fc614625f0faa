"""Find a letter's action paragraphs and who must do what (assignments)."""
import re

from parsers.parts import Line, join_lines
from parsers.thaidate import to_arabic

ACTION_NUMBER_RE = re.compile(r"^(?P<number>[0-9๐-๙]{1,2})\s*\.(?![0-9๐-๙])\s*")
REQUEST_RE = re.compile(r"ขอให้|ขอความร่วมมือ|โปรด|ขอแจ้งให้|จึงขอ|ให้[^\s]{0,40}ดำเนินการ|มอบหมาย")
# The recipient asked to act: `ขอให้อำเภอพิจารณา`, `ขอความร่วมมือจังหวัดแจ้ง…`.
INTRO_ACTOR_RE = re.compile(
    r"(?:ขอ(?:แจ้ง)?ให้|ขอความร่วมมือ(?:ให้)?|แจ้งให้|จึงให้)(?P<actor>[^\s]{2,60}?)"
    r"(?:พิจารณา|ดำเนินการ|ถือปฏิบัติ|ทราบ|แจ้ง|สำรวจ|รายงาน|จัดส่ง|ส่ง|มอบหมาย|เร่ง|ตรวจสอบ)")
ORG_ACTOR = (r"องค์กรปกครองส่วนท้องถิ่น|องค์การบริหารส่วน[ก-๛]*|เทศบาล[ก-๛]*|อำเภอ|จังหวัด|"
             r"หน่วยงาน[ก-๛]*|ส่วนราชการ[ก-๛]*|สำนักงาน[ก-๛]*")
PARAGRAPH_ACTOR_RE = re.compile(rf"^(?:แจ้ง|ให้)(?P<actor>{ORG_ACTOR})")
ASSIGN_RE = re.compile(r"มอบหมาย[^\s]*?ผู้รับผิดชอบ|มอบหมาย[^\s]{2,40}")
REQUESTED_RE = re.compile(
    r"(?:รายงาน|จัดส่ง|ส่ง|แจ้ง)(?P<what>(?:รายชื่อ|ชื่อ|ข้อมูล|ผล|แบบ|บัญชี|หลักฐาน|เอกสาร|สำเนา|ตำแหน่ง|หมายเลข)"
    r"[^\n]*?)(?=ให้|ไปยัง|มายัง|ไปที่|ตามแบบ|ผ่าน|ภายใน|ทาง|โดย|เพื่อ|$|\n)")
REQUEST_SPLIT_RE = re.compile(r"\s*(?:,|\s|และ)\s*")
CHANNELS = (
    (re.compile(r"E-?office|สำนักงานอิเล็กทรอนิกส์", re.IGNORECASE), "E-office"),
    (re.compile(r"QR\s?Code|คิวอาร์โค้ด", re.IGNORECASE), "QR Code"),
    (re.compile(r"e-?mail|ไปรษณีย์อิเล็กทรอนิกส์|อีเมล", re.IGNORECASE), "E-mail"),
    (re.compile(r"Google\s?Form", re.IGNORECASE), "Google Form"),
)


def find_actions(text: str, body_lines: list[Line]) -> list[dict]:
    """Return numbered action paragraphs, or the one paragraph that makes the request.

    Each action carries `_span`, its (start, end) in `text`. Numbers must run 1, 2, 3 ...;
    a line opening with another number continues the current paragraph.
    """
    actions: list[dict] = []
    expected = 1
    current = None
    for line in body_lines:
        match = ACTION_NUMBER_RE.match(line.text)
        if match and int(to_arabic(match.group("number"))) == expected:
            current = {"number": expected, "lines": [line.text[match.end():]],
                       "_span": [line.start, line.end]}
            actions.append(current)
            expected += 1
            continue
        if current is None or line.blank:
            continue
        current["lines"].append(line.text)
        current["_span"][1] = line.end
    if actions:
        return [_finish(a) for a in actions]
    paragraph = _request_paragraph(body_lines)
    if paragraph is None:
        return []
    return [_finish({"number": None, "lines": [ln.text for ln in paragraph],
                     "_span": [paragraph[0].start, paragraph[-1].end]})]


def _finish(action: dict) -> dict:
    return {"number": action["number"], "text": join_lines(action.pop("lines")), "deadlines": [],
            "_span": tuple(action["_span"])}


def _request_paragraph(body_lines: list[Line]) -> list[Line] | None:
    paragraphs, current = [], []
    for line in body_lines:
        if line.blank:
            if current:
                paragraphs.append(current)
            current = []
        else:
            current.append(line)
    if current:
        paragraphs.append(current)
    if not paragraphs:
        return None
    if len(paragraphs) == 1:
        paragraphs = _split_at_short_lines(paragraphs[0])
    requesting = [p for p in paragraphs if REQUEST_RE.search(join_lines([ln.text for ln in p]))]
    return requesting[-1] if requesting else paragraphs[-1]


# A line shorter than this share of the longest line ends a paragraph in text without blank
# lines, because a justified paragraph fills every line but its last.
SHORT_LINE_SHARE = 0.7


# Lines longer than this were not wrapped, so each is a paragraph of its own.
UNWRAPPED_LINE = 100


def _split_at_short_lines(lines: list[Line]) -> list[list[Line]]:
    longest = max(len(line.text) for line in lines)
    if longest > UNWRAPPED_LINE:
        return [[line] for line in lines]
    paragraphs, current = [], []
    for line in lines:
        current.append(line)
        if len(line.text) < SHORT_LINE_SHARE * longest:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def find_assignments(intro: str, actions: list[dict], addressee: str | None) -> list[dict]:
    """Return who must do what: one assignment per action that assigns staff or requests data."""
    actors = [m.group("actor") for m in INTRO_ACTOR_RE.finditer(intro)]
    default_actor = actors[-1] if actors else addressee
    assignments = []
    for action in actions:
        text = action["text"]
        assign = ASSIGN_RE.search(text)
        requested = _requested(text)
        if not assign and not requested:
            continue
        paragraph_actor = PARAGRAPH_ACTOR_RE.match(text)
        actor = paragraph_actor.group("actor") if paragraph_actor else default_actor
        if assign:
            verb = assign.group()
        else:
            verb = REQUESTED_RE.search(text).group().strip()
        channel = next((name for regex, name in CHANNELS if regex.search(text)), None)
        due = next((d["date"] for d in action["deadlines"] if d["kind"] == "due" and d["date"]), None)
        assignments.append({"actor": actor, "action": verb, "requested": requested,
                            "channel": channel, "due": due, "from_action": action["number"]})
    return assignments


def _requested(text: str) -> list[str]:
    match = REQUESTED_RE.search(text)
    if not match:
        return []
    items = [item for item in REQUEST_SPLIT_RE.split(match.group("what").strip()) if item]
    return items[:8]
