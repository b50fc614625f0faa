"""Correct OCR and typing slips in a letter's text against the vocabulary and the context.

Every correction is a whole kind of slip, found by context and checked against the
dictionary, never a fixed pair of strings:

- a doubled upper or lower mark (`คู่่มือ`);
- a domain term with one or two letters swapped for look-alikes (`คำเนินการ`, `ถึงขยะ`,
  `ดึงขยะ`), when the written form is not itself a dictionary word;
- a letter-part keyword at the start of a line with one letter dropped, added or changed
  (`รื่อง`, `จานวน`);
- a month name inside a date with one letter wrong;
- an unknown province or ministry code in a letter number or an address (`ขร` for `ชร`),
  chosen by the issuer's province and postal code;
- a ต read as ด or the reverse (`อัดรา`, `ดามหนังสือ`, `ดำบล`, `เงินเตือน`), when the corrected
  run of Thai letters segments into more frequent words by more than the cost of the slip;
- decision words inside an endorsement (`กราบ` for `ทราบ`, `ทือปฏิบัติ` for `ถือปฏิบัติ`),
  see `correct_decision_words`.

Each correction is returned as {"from", "to", "start", "end"} with offsets into the corrected
text, so the caller can warn the clerk with both forms.
"""
import bisect
import functools
import logging
import re

from parsers import codes
from parsers.docnum import DOCNUM_RE
from parsers.thaidate import DIGIT, MONTHS_FULL, MONTH_PATTERN

logger = logging.getLogger(__name__)

THAI_LETTERS = "ก-๛"
UPPER_LOWER_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
DOUBLED_MARK_RE = re.compile(rf"([{UPPER_LOWER_MARKS}])\1+")

# Domain terms a slip is corrected towards; each is long enough that a look-alike variant is
# almost never another real word.
DOMAIN_TERMS = (
    "ดำเนินการ", "ถือปฏิบัติ", "ถังขยะ", "แจ้งเวียน", "องค์กรปกครองส่วนท้องถิ่น",
    "ส่งเสริมการปกครองท้องถิ่น", "ผู้ว่าราชการจังหวัด", "ปฏิบัติราชการแทน", "รักษาราชการแทน",
    "ปฏิบัติหน้าที่", "ขอแสดงความนับถือ", "สิ่งที่ส่งมาด้วย", "ประชาสัมพันธ์", "ผู้ประสานงาน",
    "คาร์บอนเครดิต", "พิจารณา", "นายกเทศมนตรี", "ที่ว่าการอำเภอ", "ศาลากลางจังหวัด",
    "องค์การบริหารส่วนตำบล", "องค์การบริหารส่วนจังหวัด", "งบประมาณ", "รายละเอียด",
    "ผู้รับผิดชอบ", "เจ้าหน้าที่", "จึงเรียนมาเพื่อ", "ลงวันที่", "อ้างถึง", "สำนักงาน",
    "เทศบาลตำบล", "ท้องถิ่นจังหวัด", "ท้องถิ่นอำเภอ", "มอบหมาย", "ประสานงาน", "ระเบียบ",
    "กระทรวงมหาดไทย", "หนังสือ", "โทรสาร", "ภายในวันที่", "ตั้งแต่วันที่", "ด่วนที่สุด",
    "ลงวันที่", "เรียนมาเพื่อ", "ผู้ว่าราชการ", "ท้องถิ่น", "ฉบับที่", "เมื่อวันที่", "วันที่",
) + MONTHS_FULL

# Classes of look-alike characters: consonants OCR confuses, and upper vowels and tone marks
# that share a position above the consonant.
LOOKALIKE_CLASSES = (
    "ขชซฃยญ", "ดคตถภก", "ทถ", "บปษ", "มนฆ", "รว", "ฎฏ", "ผฝ", "พฟ", "ทหฑ", "ลส", "ศส",
    "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e47", "\u0e38\u0e39",
)


def _lookalike_table() -> dict[int, int]:
    # Union of overlapping classes, so that ส joins ล and ศ, and so on.
    groups: list[set[str]] = []
    for members in LOOKALIKE_CLASSES:
        merged = set(members)
        for group in [g for g in groups if g & merged]:
            merged |= group
            groups.remove(group)
        groups.append(merged)
    table = {}
    for group in groups:
        representative = min(group)
        for char in group:
            table[ord(char)] = ord(representative)
    return table


LOOKALIKE = _lookalike_table()
THAI_WORD_RE = re.compile(r"[ก-๛]+")
TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b"
TONE_MARK_RE = re.compile(f"[{TONE_MARKS}]")
LOOKALIKE_TONELESS = {**LOOKALIKE, **{ord(mark): None for mark in TONE_MARKS}}
# Domain-vocabulary words at least this long join the look-alike search; shorter ones are
# too often one letter away from another word.
VOCABULARY_TERM_MIN = 6


@functools.cache
def _term_search() -> tuple[re.Pattern, dict[str, str]]:
    """Return the skeleton pattern of all domain terms and the term of each skeleton."""
    terms = list(DOMAIN_TERMS)
    try:
        from parsers import vocab
        terms += sorted(w for w in vocab.domain_words()
                        if len(w) >= VOCABULARY_TERM_MIN and THAI_WORD_RE.fullmatch(w))
    except (ImportError, OSError, AttributeError) as exc:
        logger.debug("domain vocabulary unavailable (%s); using the built-in terms", exc)
    by_skeleton: dict[str, str] = {}
    for term in terms:
        by_skeleton.setdefault(term.translate(LOOKALIKE_TONELESS), term)
    pattern = re.compile("|".join(re.escape(s) for s in sorted(by_skeleton, key=len, reverse=True)))
    return pattern, by_skeleton

# Keywords that open a line of a letter part. A line whose first word is one edit away from
# one of them, and is not a word itself, is corrected.
LINE_KEYWORDS = (
    "เรื่อง", "เรียน", "กราบเรียน", "อ้างถึง", "สิ่งที่ส่งมาด้วย", "ขอแสดงความนับถือ",
    "ผู้ประสานงาน", "โทรสาร", "ลงวันที่", "จำนวน", "สำเนาส่ง", "ด่วนที่สุด", "ด่วนมาก",
    "ส่วนราชการ", "บันทึกข้อความ",
)
LINE_PREFIX_KEYWORDS = ("จึงเรียนมาเพื่อ", "ขอแสดงความนับถือ", "สิ่งที่ส่งมาด้วย", "อ้างถึง")

DECISION_WORDS = (
    "ทราบ", "ดำเนินการ", "ถือปฏิบัติ", "แจ้งเวียน", "เห็นชอบ", "อนุมัติ", "อนุญาต", "มอบ",
    "ลงนาม", "แจ้ง", "พิจารณา", "เห็นควร", "ไม่อนุมัติ", "ไม่เห็นชอบ", "ส่ง", "เวียน",
)

_FIRST_WORD_RE = re.compile(r"^([ \t]*(?:-\s*)?)([ก-๛]+)", re.MULTILINE)
_LOOSE_DATE_RE = re.compile(
    rf"(?<![{DIGIT[1:-1]}])({DIGIT}{{1,2}})\s*([ก-๛]{{4,12}})\s*(?:พ\.ศ\.\s*)?({DIGIT}{{4}})")
_MONTH_EXACT_RE = re.compile(MONTH_PATTERN + r"\Z")
_POSTCODE_CODE_RE = re.compile(rf"(?<![ก-ฯะ-ฺเ-ๆ])([ก-ฮ]{{2}})\.?\s*({DIGIT}{{5}})(?!{DIGIT})")
_FOREIGN_LETTER = r"A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u0900-\u0dff\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
_MIXED_TOKEN_RE = re.compile(rf"[^\s()\[\]\"'“”,;:]*[ก-๛][^\s()\[\]\"'“”,;:]*")
_FOREIGN_RE = re.compile(rf"[{_FOREIGN_LETTER}]")
# One to three Latin letters inside a Thai word, or one or two stuck to either end of it.
_SANDWICH_RE = re.compile(
    r"[ก-๛][A-Za-z]{1,3}[ก-๛]|[ก-๛]{2}[A-Za-z]{1,2}(?=$|[\s,.)])|(?:^|(?<=[\s(]))[A-Za-z]{1,2}[ก-๛]{2}")
_NON_LATIN_FOREIGN_RE = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0900-\u0dff\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff]")


@functools.cache
def _dictionary() -> frozenset[str]:
    try:
        from parsers import vocab
        return vocab.thai_dictionary()
    except (ImportError, OSError, AttributeError) as exc:
        logger.debug("project vocabulary unavailable (%s); using pythainlp's word list", exc)
        from pythainlp.corpus import thai_words
        return frozenset(thai_words())


def is_word(text: str) -> bool:
    """Tell whether `text` is a dictionary word."""
    return text in _dictionary()


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _build_neighbourhood(words) -> dict[str, str]:
    """Map every one-deletion form of each word to the word (symmetric-deletion lookup)."""
    table = {}
    for word in words:
        table.setdefault(word, word)
        for variant in _deletions(word):
            table.setdefault(variant, word)
    return table


_KEYWORD_NEAR = _build_neighbourhood(LINE_KEYWORDS)
_LONGEST_KEYWORD = max(map(len, LINE_KEYWORDS))
_KEYWORD_TONELESS = {TONE_MARK_RE.sub("", k): k for k in LINE_KEYWORDS}
_KEYWORD_TONELESS_NEAR = _build_neighbourhood(_KEYWORD_TONELESS)
# Vowels and tone marks written above the consonant, which OCR of a faint scan often loses.
UPPER_MARK_RE = re.compile("[\u0e31\u0e34-\u0e37\u0e47-\u0e4e]")
_KEYWORD_BARE = {UPPER_MARK_RE.sub("", k): k for k in LINE_KEYWORDS}
_MONTH_NEAR = _build_neighbourhood(MONTHS_FULL)
_DECISION_NEAR = _build_neighbourhood(DECISION_WORDS)


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance between two short strings."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def nearest(word: str, neighbourhood: dict[str, str]) -> str | None:
    """Return the listed word within one edit of `word`, or None (exact matches included).

    The deletion table finds candidates cheaply. Each is confirmed with the edit distance,
    because two different deletions can meet although the words are two edits apart.
    """
    if neighbourhood.get(word) == word:
        return word
    candidates = [neighbourhood[word]] if word in neighbourhood else []
    if len(word) > 1:
        candidates += [neighbourhood[v] for v in _deletions(word) if v in neighbourhood]
    for candidate in candidates:
        if edit_distance(word, candidate) <= 1:
            return candidate
    return None


class Corrector:
    """Collect corrections while rewriting a text stage by stage."""

    def __init__(self, text: str):
        self.text = text
        self.corrections: list[dict] = []

    def apply(self, replacements: list[tuple[int, int, str]]) -> None:
        """Replace (start, end, new) ranges of the current text, which must not overlap."""
        if not replacements:
            return
        parts, last, shift = [], 0, 0
        for start, end, new in sorted(replacements):
            old = self.text[start:end]
            parts.append(self.text[last:start])
            parts.append(new)
            self.corrections.append({"from": old, "to": new, "start": start + shift,
                                     "end": start + shift + len(new)})
            shift += len(new) - (end - start)
            last = end
        parts.append(self.text[last:])
        self.text = "".join(parts)


def _doubled_marks(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in DOUBLED_MARK_RE.finditer(text):
        # Report the whole syllable so the clerk sees the word, not a lone mark.
        start = match.start()
        while start > 0 and "\u0e01" <= text[start - 1] <= "\u0e4e" and not (
                "\u0e01" <= text[start] <= "\u0e2e"):
            start -= 1
        end = match.end()
        while end < len(text) and "\u0e30" <= text[end] <= "\u0e4e" and text[end] != "\u0e40":
            end += 1
        out.append((start, end, text[start:match.start()] + match.group(1) + text[match.end():end]))
    return out


def _domain_terms(text: str) -> list[tuple[int, int, str]]:
    """Find look-alike spellings of domain terms, also with tone marks lost (`ด่วนทีสุด`).

    Terms are searched in a skeleton of the text where look-alike letters share one code
    point and tone marks are removed. `dropped` maps skeleton offsets back to the text.
    """
    skeleton = text.translate(LOOKALIKE_TONELESS)
    dropped = [m.start() - n for n, m in enumerate(TONE_MARK_RE.finditer(text))]
    out = []
    pattern, by_skeleton = _term_search()
    for match in pattern.finditer(skeleton):
        term = by_skeleton[match.group()]
        start = match.start() + bisect.bisect_right(dropped, match.start())
        end = match.end() - 1 + bisect.bisect_right(dropped, match.end() - 1) + 1
        while end < len(text) and TONE_MARK_RE.match(text, end):
            end += 1
        written = text[start:end]
        if written == term:
            continue
        allowed = 2 if len(term) >= 6 else 1
        if edit_distance(written, term) > allowed or is_word(written):
            continue
        left, right, shortest = _narrow(written, term, by_skeleton.values())
        out.append((start + left, end - right, shortest))
    return out


def _narrow(written: str, term: str, terms) -> tuple[int, int, str]:
    """Return how much to cut from each end of a correction, and the term that remains.

    `โครงการถึงขยะเปียก` is reported as `ถึงขยะ` → `ถังขยะ`: the shortest listed term inside
    the corrected text that still covers every changed letter.
    """
    prefix = 0
    while prefix < min(len(written), len(term)) and written[prefix] == term[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(written), len(term)) - prefix and written[-1 - suffix] == term[-1 - suffix]:
        suffix += 1
    best = (0, len(term))
    for candidate in terms:
        if len(candidate) >= best[1] - best[0]:
            continue
        at = term.find(candidate)
        while at != -1:
            if at <= prefix and at + len(candidate) >= len(term) - suffix:
                best = (at, at + len(candidate))
                break
            at = term.find(candidate, at + 1)
    return best[0], len(term) - best[1], term[best[0]:best[1]]


CLASS_WORDS = ("ด่วนที่สุด", "ด่วนมาก", "ลับที่สุด", "ลับมาก")
_CLASS_TONELESS = {TONE_MARK_RE.sub("", w): w for w in CLASS_WORDS}
_CLASS_NEAR = _build_neighbourhood(_CLASS_TONELESS)
_CLASS_BARE = {re.sub("[\u0e31\u0e34-\u0e37\u0e47-\u0e4e]", "", w): w for w in CLASS_WORDS}
_SHORT_LINE_RE = re.compile(r"^[ \t]*([ก-๛][ก-๛ ]{3,14}?)[ \t]*$", re.MULTILINE)


def _class_lines(text: str) -> list[tuple[int, int, str]]:
    """Correct a short line that is a misread speed or secrecy stamp (`ดวนท สุด`)."""
    out = []
    for match in _SHORT_LINE_RE.finditer(text):
        written = match.group(1)
        bare = TONE_MARK_RE.sub("", written.replace(" ", ""))
        if written in CLASS_WORDS or is_word(written.replace(" ", "")):
            continue
        word = _CLASS_TONELESS.get(nearest(bare, _CLASS_NEAR) or "")
        if not word:
            # `ดวนทสด`: the class word with every upper vowel and tone mark lost.
            word = _CLASS_BARE.get(UPPER_MARK_RE.sub("", written.replace(" ", "")))
        if word:
            out.append((match.start(1), match.end(1), word))
    return out


def _line_keywords(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in _FIRST_WORD_RE.finditer(text):
        word = match.group(2)
        start = match.start(2)
        fixed = _prefix_keyword(word)
        if fixed:
            out.append((start, start + fixed[0], fixed[1]))
            continue
        if word in LINE_KEYWORDS:
            continue
        following = text[match.end():match.end() + 1]
        if following and not following.isspace() and following not in ".:":
            continue
        bare = TONE_MARK_RE.sub("", word)
        toneless = _KEYWORD_TONELESS.get(bare)
        if toneless is None and len(word) <= _LONGEST_KEYWORD + 1 and not is_word(word):
            toneless = _KEYWORD_TONELESS.get(nearest(bare, _KEYWORD_TONELESS_NEAR) or "")
        if toneless is None and not is_word(word):
            # `เรอง`, `เรยน`: the keyword with every upper vowel and tone mark lost.
            toneless = _KEYWORD_BARE.get(UPPER_MARK_RE.sub("", word))
        if toneless:
            # OCR drops tone marks and first letters (`เรือง`, `รือง` for `เรื่อง`). Letters equal
            # but for tone marks mean the keyword even if they spell a word; one more slip
            # is corrected only in a non-word.
            out.append((start, match.end(), toneless))
            continue
        if is_word(word) or len(word) > _LONGEST_KEYWORD + 1:
            continue
        near = nearest(word, _KEYWORD_NEAR)
        if near and near != word and abs(len(near) - len(word)) <= 1:
            out.append((start, match.end(), near))
    return out


def _prefix_keyword(word: str) -> tuple[int, str] | None:
    """Return (length, keyword) when `word` opens with a slip of a long line keyword."""
    if any(word.startswith(keyword) for keyword in LINE_PREFIX_KEYWORDS):
        return None
    for keyword in LINE_PREFIX_KEYWORDS:
        size = len(keyword)
        if len(word) < size - 1 or (word[0] not in keyword[:2] and word[1] not in keyword[:3]):
            continue  # one edit cannot make the line open with this keyword
        for length in (size - 1, size + 1, size):
            head = word[:length]
            if len(head) == length and nearest(head, _PREFIX_NEAR[keyword]) == keyword:
                return length, keyword
    return None


_PREFIX_NEAR = {k: _build_neighbourhood([k]) for k in LINE_PREFIX_KEYWORDS}


def _month_names(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in _LOOSE_DATE_RE.finditer(text):
        word = match.group(2)
        if _MONTH_EXACT_RE.match(word):
            continue
        near = nearest(word, _MONTH_NEAR)
        if near and near != word:
            out.append((match.start(2), match.end(2), near))
    return out


def _letter_codes(text: str, expected: list[str]) -> list[tuple[int, int, str]]:
    out = []
    for regex, group in ((DOCNUM_RE, "prefix"), (_POSTCODE_CODE_RE, 1)):
        for match in regex.finditer(text):
            code = re.sub(r"[\s.]", "", match.group(group))
            if len(code) != 2 or codes.is_known_code(code):
                continue
            local = expected
            if group == 1:
                local = codes.codes_for_postcode(match.group(2)) + expected
            fixed = codes.correct_code(code, local)
            if fixed:
                start, end = match.start(group), match.end(group)
                out.append((start, end, _replace_letters(text[start:end], fixed)))
    # A code and its postal code may both be found: keep one replacement per range.
    unique = {}
    for item in out:
        unique.setdefault((item[0], item[1]), item)
    return list(unique.values())


def _replace_letters(written: str, letters: str) -> str:
    """Put `letters` in place of the Thai consonants of `written`, keeping spaces and dots."""
    pending = iter(letters)
    return "".join(next(pending) if "\u0e01" <= char <= "\u0e2e" else char for char in written)


def context_codes(head: str) -> list[str]:
    """Return the province codes the head of a letter points to: named provinces, postcodes."""
    found = [codes.CODE_BY_PROVINCE[name] for name in codes.provinces_named(head)]
    found += codes.codes_for_postcode(head)
    return list(dict.fromkeys(found))


# ด and ต differ by a small hook that OCR often loses or adds.
HOOK_PAIR = {"ด": "ต", "ต": "ด"}
HOOK_SKELETON = str.maketrans({"ต": "ด"})
# Cost of assuming one ด/ต slip, in the units of the word costs below (natural log of a
# frequency ratio): a slip is corrected only when the corrected words are about 1,100 times
# more likely in the Thai National Corpus counts than the written ones.
HOOK_SLIP_COST = 7.0
# Cost of a letter that starts no known word, higher than any word's cost per letter.
UNKNOWN_LETTER_COST = 10.0
# Cost of a dictionary word that has no corpus count.
UNCOUNTED_WORD_COST = 14.0
LONGEST_WORD = 20
# Runs of Thai letters longer than this are left alone, to bound the work per run.
HOOK_RUN_MAX = 400
_THAI_RUN_RE = re.compile(r"[ก-๛]+")


@functools.cache
def _word_costs() -> tuple[dict[str, float], dict[str, list[str]]]:
    """Return the cost (-log relative frequency) of each word and the words of each ด/ต skeleton.

    Counts are pythainlp's Thai National Corpus word frequencies (`pythainlp.corpus.tnc`,
    shipped inside the package), and dictionary words without a count get a fixed cost.
    """
    import math

    from pythainlp.corpus import tnc
    counts = {w: c for w, c in tnc.word_freqs() if THAI_WORD_RE.fullmatch(w) and len(w) <= LONGEST_WORD}
    total = sum(counts.values())
    costs = {w: math.log(total / c) for w, c in counts.items()}
    for word in _dictionary():
        if len(word) <= LONGEST_WORD and THAI_WORD_RE.fullmatch(word):
            costs.setdefault(word, UNCOUNTED_WORD_COST)
    by_skeleton: dict[str, list[str]] = {}
    for word in costs:
        if "ด" in word or "ต" in word:
            by_skeleton.setdefault(word.translate(HOOK_SKELETON), []).append(word)
    return costs, by_skeleton


@functools.cache
def _word_prefixes() -> tuple[frozenset[str], frozenset[str]]:
    """Return every prefix of the costed words, and every prefix of their ด/ต skeletons.

    A piece of a run that is neither can grow into no word, so the segmentation stops there.
    """
    costs, by_skeleton = _word_costs()
    words = frozenset(word[:k] for word in costs for k in range(1, len(word) + 1))
    skeletons = frozenset(key[:k] for key in by_skeleton for k in range(1, len(key) + 1))
    return words, skeletons


def _hook_slips(text: str) -> list[tuple[int, int, str]]:
    """Find words with ต read as ด or ด read as ต, by segmenting each run of Thai letters.

    Each run is segmented twice over: once as written, and once allowing words that differ from
    the written letters only at ด/ต, each difference costing HOOK_SLIP_COST. A word of the
    cheapest segmentation that differs from the text is a correction.
    """
    costs, by_skeleton = _word_costs()
    out = []
    for run in _THAI_RUN_RE.finditer(text):
        word = run.group()
        if len(word) > HOOK_RUN_MAX or ("ด" not in word and "ต" not in word):
            continue
        for start, end, fixed in _segment_hooks(word, costs, by_skeleton):
            out.append((run.start() + start, run.start() + end, fixed))
    return out


def _segment_hooks(run: str, costs: dict[str, float], by_skeleton: dict[str, list[str]]):
    size = len(run)
    # The skeleton maps one letter to one letter, so a piece's skeleton is a slice of the run's.
    skeleton = run.translate(HOOK_SKELETON)
    word_prefixes, skeleton_prefixes = _word_prefixes()
    best = [0.0] + [float("inf")] * size
    back: list[tuple[int, str | None]] = [(0, None)] * (size + 1)
    for i in range(size):
        if best[i] == float("inf"):
            continue
        step = best[i] + UNKNOWN_LETTER_COST
        if step < best[i + 1]:
            best[i + 1], back[i + 1] = step, (i, None)
        for end in range(i + 1, min(size, i + LONGEST_WORD) + 1):
            piece = run[i:end]
            if piece not in word_prefixes and skeleton[i:end] not in skeleton_prefixes:
                break
            choices = []
            if piece in costs:
                choices.append((costs[piece], piece))
            for candidate in by_skeleton.get(skeleton[i:end], ()):
                if candidate != piece:
                    slips = sum(a != b for a, b in zip(candidate, piece))
                    choices.append((costs[candidate] + HOOK_SLIP_COST * slips, candidate))
            for cost, candidate in choices:
                if best[i] + cost < best[end]:
                    best[end], back[end] = best[i] + cost, (i, candidate)
    found = []
    end = size
    while end > 0:
        start, candidate = back[end]
        if candidate is not None and candidate != run[start:end]:
            found.append((start, end, candidate))
        end = start
    return found[::-1]


def correct_words(text: str) -> tuple[str, list[dict]]:
    """Return `text` with word slips corrected (marks, keywords, domain terms, month names).

    These corrections need no knowledge of the letter, so they run once over a whole file.
    """
    corrector = Corrector(text)
    corrector.apply(_doubled_marks(corrector.text))
    corrector.apply(_line_keywords(corrector.text))
    corrector.apply(_class_lines(corrector.text))
    corrector.apply(_domain_terms(corrector.text))
    corrector.apply(_hook_slips(corrector.text))
    corrector.apply(_month_names(corrector.text))
    return corrector.text, corrector.corrections


def correct_codes(text: str, head: str) -> tuple[str, list[dict]]:
    """Return `text` with unknown letter-number and address codes corrected.

    `head` is the part of the letter that names its issuer (issuer line, address): the issuer's
    province decides which code an unknown code was meant to be.
    """
    corrector = Corrector(text)
    corrector.apply(_letter_codes(text, context_codes(head)))
    return corrector.text, corrector.corrections


def correct_decision_words(line: str) -> tuple[str, list[tuple[int, int, str]], int]:
    """Correct decision words in one endorsement line.

    Returns the corrected line, the (start, end, new) replacements, and how many words of the
    line are decision words. A line is an endorsement's choice line only when all its words are.
    """
    replacements, count = [], 0
    for match in re.finditer(r"[ก-๛]+", line):
        word = match.group()
        if word in DECISION_WORDS:
            count += 1
            continue
        near = nearest(word, _DECISION_NEAR)
        if near and len(word) >= 4 and abs(len(near) - len(word)) <= 1 and not (
                word in DECISION_WORDS):
            replacements.append((match.start(), match.end(), near))
            count += 1
    fixed = line
    for start, end, new in reversed(replacements):
        fixed = fixed[:start] + new + fixed[end:]
    return fixed, replacements, count


def decision_word(word: str) -> str | None:
    """Return the correctly spelled decision word `word` stands for, or None."""
    if word in DECISION_WORDS:
        return word
    return nearest(word, _DECISION_NEAR)


def find_mixed_script(text: str):
    """Yield (start, end, token) for words that mix Thai with letters of another script.

    Latin words next to Thai ones are normal (`Carbon Credit`), so Latin counts only when one
    to three Latin letters sit inside a Thai word or one or two stick to its end. Any other
    script inside a Thai word counts.
    """
    for match in _MIXED_TOKEN_RE.finditer(text):
        token = match.group()
        if not _FOREIGN_RE.search(token):
            continue
        if _NON_LATIN_FOREIGN_RE.search(token) or _SANDWICH_RE.search(token):
            yield match.start(), match.end(), token
