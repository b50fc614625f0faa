"""Find a letter's action paragraphs and who must do what (assignments)."""
import re

from parsers.parts import Line, join_lines
from parsers.thaidate import to_arabic

ACTION_NUMBER_RE = re.compile(r"^(?P<number>[0-9๐-๙]{1,2})\s*\.(?![0-9๐-๙])\s*")
REQUEST_RE = re.compile(r"ขอให้|ขอความร่วมมือ|โปรด|ขอแจ้งให้|จึงขอ|ให้[^\s]{0,40}ดำเนินการ|มอบหมาย")
# Organizations that can be asked to act. An actor phrase starts with one of these words and runs
# to the first verb: `องค์การบริหารส่วนตำบลโนนอุดมตรวจสอบ…`.
ACTOR_START = (r"องค์กรปกครอง|องค์การ|เทศบาล|อำเภอ|จังหวัด|หน่วยงาน|ส่วนราชการ|สำนักงาน|กรม|"
               r"ท้องถิ่น|นายอำเภอ|ผู้ว่าราชการ|นายก")
# `ส่ง` but not `ส่งเสริม`, which is part of office names.
ACTION_VERB = (r"พิจารณา|ดำเนินการ|ถือปฏิบัติ|ทราบ|แจ้ง|สำรวจ|รายงาน|จัดส่ง|ส่ง(?!เสริม)|มอบหมาย|"
               r"เร่ง|ตรวจสอบ|จัดทำ|บันทึก|กำชับ|ปรับปรุง|เข้าร่วม|ประชาสัมพันธ์|เริ่ม")
ACTOR_RE = re.compile(rf"(?:ให้|แจ้ง)?\s?(?P<actor>(?:{ACTOR_START})[^\n]{{0,80}}?)\s?(?={ACTION_VERB})")
# `แจ้งองค์กรปกครองส่วนท้องถิ่นเริ่มใช้งาน…`: a known organization needs no verb after it.
PARAGRAPH_ACTOR_RE = re.compile(r"(?:แจ้ง|ให้)(?P<actor>องค์กรปกครองส่วนท้องถิ่น|องค์การบริหารส่วน[ก-๛]*|"
                                r"เทศบาล[ก-๛]*|อำเภอ|จังหวัด|หน่วยงาน[ก-๛]*|ส่วนราชการ[ก-๛]*)")
# `X แจ้ง Y ดำเนินการ`: Y does the work that follows.
RELAY_RE = re.compile(rf"แจ้ง(?:ให้)?\s?(?P<actor>(?:{ACTOR_START})[^\n]{{0,80}}?)\s?(?={ACTION_VERB})")
# Words that open the request. `จึง…` marks the request after a background clause. A marker
# after `ได้` reports an earlier request (`ได้ขอความร่วมมือ…`, `ได้แจ้งให้…`), so it is skipped.
REQUEST_MARK_RE = re.compile(
    r"จึง(?:ขอความร่วมมือ(?:ให้)?|ขอ(?:แจ้ง)?ให้|แจ้งให้|ให้)|(?<!ได้)(?:ขอ(?:แจ้ง)?ให้|ขอความร่วมมือ(?:ให้)?|แจ้งให้)")
# A paragraph that opens with one of these states the background, up to `นั้น`.
BACKGROUND_RE = re.compile(r"^(?:ตามที่|ตามหนังสือ|ปรากฏว่า|เนื่องจาก|ด้วย|อนึ่ง)[^\n]*?(?:\sนั้น(?:\s|$)|$)")
# Phrases that end an action: the due date, a condition or a follow-up sentence.
ACTION_END_RE = re.compile(
    r"\s?(?:ภายใน(?=\s?(?:วันที่|เดือน|กำหนด|[0-9๐-๙]))|ไม่เกินวันที่|ก่อนวันที่|ดังนี้|โดยด่วน)|"
    r"\s(?:หาก|ทั้งนี้|เพื่อ(?!ให้เป็น)|ซึ่ง|รายละเอียด)|โดยให้")
# `จัดส่งเอกสาร ดังนี้`: the numbered items are the things to send.
LISTED_REQUEST_RE = re.compile(r"(?P<verb>(?:จัดส่ง|ส่ง|รายงาน)(?:เอกสาร|ข้อมูล|หลักฐาน)[^\n]{0,40}?)\s?ดังนี้")
ASSIGN_RE = re.compile(r"มอบหมาย[^\s]*?ผู้รับผิดชอบ|มอบหมาย[^\s]{2,40}")
# What is to be sent back, as the letter names it: `รายงานรายชื่อให้…` → รายชื่อ,
# `รายงานตามแบบ ถข.1 ให้…` → แบบ ถข.1, `ส่งแบบสำรวจตามสิ่งที่ส่งมาด้วย` → แบบสำรวจ.
REQUESTED_RE = re.compile(
    r"(?:รายงาน|จัดส่ง|ส่ง(?!เสริม)|แจ้ง)(?:ตาม(?=แบบ))?"
    r"(?P<what>(?:รายชื่อ|ชื่อ|ข้อมูล|ผล|แบบ|บัญชี|หลักฐาน|เอกสาร|สำเนา|ตำแหน่ง|หมายเลข)[^\n]*?)"
    r"(?=\s?ให้(?=สำนักงาน|อำเภอ|จังหวัด|กรม|ท้องถิ่น|องค์|เทศบาล|ทราบ|แล้ว|ถูกต้อง)|\s?ไปยัง|\s?มายัง|"
    r"\s?ไปที่|\s?ตาม|\s?ผ่าน|\s?ภายใน|\s?ทาง|\s?โดย|\s?เพื่อ|\s?ไม่เกิน|\s?ก่อนวันที่|\s?ต่อ|$)")
# Items of a requested list: `รายชื่อ… พร้อมตำแหน่งและหมายเลขโทรศัพท์`. A comma between digits
# groups a number (`1,245`) and never splits.
REQUEST_SPLIT_RE = re.compile(r"\s*,(?![0-9๐-๙])\s*|\s*และ\s*|\s+(?:พร้อม(?:ทั้ง|กับ)?|รวมทั้ง)\s*")
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
    """Return who must do what: one assignment per action that assigns staff or requests data.

    Only the request clause counts. In an unnumbered paragraph it opens with a request marker
    (`จึงขอให้…`, `ขอความร่วมมือ…`). A background clause (`ตามที่…`, `ปรากฏว่า…`) is never
    the request. A numbered action is a request in itself.
    """
    default_actor = _intro_actor(intro) or addressee
    listed = _listed_request(intro, actions, default_actor)
    if listed:
        return [listed]
    assignments = []
    for action in actions:
        clause = _request_clause(action["text"], numbered=action["number"] is not None)
        if clause is None:
            continue
        actor, rest = _clause_actor(clause)
        rest = rest[:_action_end(rest)].strip()
        assign = ASSIGN_RE.search(rest)
        requested = _requested(rest)
        if not assign and not requested:
            continue
        verb = rest[assign.start():] if assign else rest
        channel = next((name for regex, name in CHANNELS if regex.search(clause)), None)
        due = next((d["date"] for d in action["deadlines"] if d["kind"] == "due" and d["date"]), None)
        assignments.append({"actor": actor or default_actor, "action": verb, "requested": requested,
                            "channel": channel, "due": due, "from_action": action["number"]})
    return assignments


def _listed_request(intro: str, actions: list[dict], actor: str | None) -> dict | None:
    """Return one assignment for `จึงขอให้X จัดส่งเอกสาร ดังนี้` followed by the numbered items."""
    clause = _request_clause(intro, numbered=False)
    if clause is None or not actions or actions[0]["number"] is None:
        return None
    rest = _clause_actor(clause)[1].strip()
    match = LISTED_REQUEST_RE.match(rest)
    if not match:
        return None
    requested = [a["text"][:_action_end(a["text"])].strip() for a in actions]
    due = next((d["date"] for a in actions for d in a["deadlines"] if d["kind"] == "due" and d["date"]), None)
    channel = next((name for regex, name in CHANNELS for a in actions if regex.search(a["text"])), None)
    return {"actor": actor, "action": match.group("verb"), "requested": requested,
            "channel": channel, "due": due, "from_action": actions[0]["number"]}


def _request_clause(text: str, numbered: bool) -> str | None:
    """Return the part of an action's text that makes the request, or None if none does."""
    marks = list(REQUEST_MARK_RE.finditer(text))
    therefore = [m for m in marks if m.group().startswith("จึง")]
    if therefore:
        return text[therefore[-1].end():]
    if numbered:
        return text
    background = BACKGROUND_RE.match(text)
    skip = background.end() if background else 0
    later = [m for m in marks if m.start() >= skip]
    return text[later[0].end():] if later else None


def _clause_actor(clause: str) -> tuple[str | None, str]:
    """Split a request clause into its actor, if it names one first, and the rest."""
    match = ACTOR_RE.match(clause) or PARAGRAPH_ACTOR_RE.match(clause)
    if not match:
        return None, clause
    return match.group("actor").strip(), clause[match.end():]


def _intro_actor(intro: str) -> str | None:
    """Return who the numbered actions are addressed to, from `จึงขอให้X(แจ้งY)ดำเนินการ ดังนี้`."""
    clause = _request_clause(intro, numbered=False)
    if clause is None:
        return None
    match = ACTOR_RE.match(clause)
    if not match:
        return None
    relay = RELAY_RE.match(clause[match.end():])
    return (relay or match).group("actor").strip()


def _action_end(rest: str) -> int:
    match = ACTION_END_RE.search(rest)
    return match.start() if match and match.start() > 0 else len(rest)


def _requested(text: str) -> list[str]:
    match = REQUESTED_RE.search(text)
    if not match:
        return []
    items = [item.strip() for item in REQUEST_SPLIT_RE.split(match.group("what").strip())]
    return [item for item in items if item][:8]
