"""Repair the Thai text layer of PDFs and OCR output before any field is parsed.

`repair_text` runs these steps in order on the whole text of a file (pages joined by form
feeds, which are kept):

1. Map private-use glyph code points back to Thai by a fixed table. A control character
   inside Thai words is replaced by the Thai character the dictionary points to, or kept.
2. NFC, then compose ``ํ`` + ``า`` into ``ำ``, put marks in canonical order, read a stack of
   two tone marks as ``ู`` plus a tone where the dictionary agrees, drop doubled marks and
   drop spaces inside a cluster.
3. Remove page numbers and page-continuation lines.
4. Guess repairs with the dictionary (`parsers.vocab`): lost or wrong marks, a half-lost ``ำ``,
   and words split by a space or a line break. A guess is kept only when the repaired word
   is a dictionary word and the original is not. Pages that show a systematic fault
   (`PageFaults`) allow more guesses of that fault.

Every distinct guessed pair, and every doubled mark, gets one ``corrected_text`` warning;
the fixed table, the ``ำ`` composition and the reordering are not reported.

A line break is joined only where a dictionary word crosses it, because letters are
line-structured (subject, signature block, stamps). Across a space at least one side must
also be a fragment that is no word. Latin text is never joined.

Character classes use explicit ranges of the Thai block (U+0E00-U+0E7F) because Python's
``\\w`` and ``\\b`` stop at Thai vowel and tone marks.
"""

import functools
import logging
import re
import unicodedata
from typing import NamedTuple

from parsers import vocab

logger = logging.getLogger(__name__)

# --- Character classes --------------------------------------------------------------------

CONSONANTS = "\u0e01-\u0e2e"
LEADING_VOWELS = "\u0e40-\u0e44"
# Combining marks: above and below vowels, phinthu, maitaikhu, tone marks, thanthakhat,
# nikhahit and yamakkan.
COMBINING_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
# Characters that can appear inside a Thai word; excludes digits, ฯ, ๆ and ฿.
THAI_LETTERS = "\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e"
THAI_DIGITS = "\u0e50-\u0e59"

SARA_AA = "\u0e32"
SARA_AM = "\u0e33"
NIKHAHIT = "\u0e4d"
TONE_MARKS = frozenset("\u0e48\u0e49\u0e4a\u0e4b")
ABOVE_VOWELS = frozenset("\u0e31\u0e34\u0e35\u0e36\u0e37\u0e47")
# Above vowels, maitaikhu and nikhahit: the marks a tone mark can sit on.
_UPPER_VOWELS = ABOVE_VOWELS | {"\u0e4d"}
# Skeleton characters a word cannot start with: ะ า (also ำ, which the skeleton writes as
# า) ๅ and the below vowels.
_NOT_WORD_START = frozenset("\u0e30\u0e32\u0e45\u0e38\u0e39\u0e3a")
# Characters that continue the cluster before them: marks and ะ า ำ ๅ.
_CLUSTER_CONTINUATION = frozenset("\u0e30\u0e31\u0e32\u0e33\u0e45") | frozenset(
    chr(code) for code in [*range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)]
)
_LEADING_VOWEL_SET = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")
# Consonants with an ascender (ป ฝ ฟ), whose upper marks legacy fonts shift left.
_ASCENDER_CONSONANTS = frozenset("\u0e1b\u0e1d\u0e1f")

# Marks that a broken text layer can lose or swap: above vowels, maitaikhu, tone marks,
# thanthakhat and nikhahit. Below vowels are kept out because the fonts that lose them
# (shifted-down forms after ญ ฐ ฎ ฏ) are rare, and keeping them in the skeleton makes the
# dictionary index much more selective.
LOSSABLE_MARKS = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d"
_LOSSABLE_SET = frozenset(LOSSABLE_MARKS)
# A word's skeleton is the word without lossable marks and with ำ written as า, so that
# `วาดวย`, `ว่าด้วย` and `จานวน`, `จำนวน` share a skeleton.
_SKELETON_TABLE = str.maketrans({**{mark: None for mark in LOSSABLE_MARKS}, SARA_AM: SARA_AA})

# --- Step 1: private-use glyphs -----------------------------------------------------------

# Positional glyph variants that legacy Thai fonts keep in the Private Use Area. The table
# follows the PUA fallback of Thai shaping as HarfBuzz implements it and as the OpenType
# shaping documents describe it (n8willis/opentype-shaping-documents, "Thai and Lao shaping
# in OpenType", PUA fallback model): SD = shifted down, SL = shifted left, SDL = down and left,
# RD = consonant without descender. Windows fonts use U+F700-U+F71A, Mac fonts U+F884-U+F89E.
_WINDOWS_PUA = {
    0xF700: "\u0e10",  # ฐ RD
    0xF701: "\u0e34", 0xF702: "\u0e35", 0xF703: "\u0e36", 0xF704: "\u0e37",  # ิ ี ึ ื SL
    0xF705: "\u0e48", 0xF706: "\u0e49", 0xF707: "\u0e4a", 0xF708: "\u0e4b",  # tones SDL
    0xF709: "\u0e4c",  # ์ SDL
    0xF70A: "\u0e48", 0xF70B: "\u0e49", 0xF70C: "\u0e4a", 0xF70D: "\u0e4b",  # tones SD
    0xF70E: "\u0e4c",  # ์ SD
    0xF70F: "\u0e0d",  # ญ RD
    0xF710: "\u0e31", 0xF711: "\u0e4d", 0xF712: "\u0e47",  # ั ํ ็ SL
    0xF713: "\u0e48", 0xF714: "\u0e49", 0xF715: "\u0e4a", 0xF716: "\u0e4b",  # tones SL
    0xF717: "\u0e4c",  # ์ SL
    0xF718: "\u0e38", 0xF719: "\u0e39", 0xF71A: "\u0e3a",  # ุ ู ฺ SD
}
_MAC_PUA = {
    0xF884: "\u0e31", 0xF885: "\u0e34", 0xF886: "\u0e35", 0xF887: "\u0e36",  # ั ิ ี ึ SL
    0xF888: "\u0e37", 0xF889: "\u0e47",  # ื ็ SL
    0xF88A: "\u0e48", 0xF88B: "\u0e48", 0xF88C: "\u0e48",  # ่ SL, SD, SDL
    0xF88D: "\u0e49", 0xF88E: "\u0e49", 0xF88F: "\u0e49",  # ้ SL, SD, SDL
    0xF890: "\u0e4a", 0xF891: "\u0e4a", 0xF892: "\u0e4a",  # ๊ SL, SD, SDL
    0xF893: "\u0e4b", 0xF894: "\u0e4b", 0xF895: "\u0e4b",  # ๋ SL, SD, SDL
    0xF896: "\u0e4c", 0xF897: "\u0e4c", 0xF898: "\u0e4c",  # ์ SL, SD, SDL
    0xF899: "\u0e4d",  # ํ SL
    0xF89A: "\u0e0d",  # ญ RD
    0xF89B: "\u0e38", 0xF89C: "\u0e39", 0xF89D: "\u0e3a",  # ุ ู ฺ SD
    0xF89E: "\u0e10",  # ฐ RD
}
PRIVATE_USE_TABLE = {**_WINDOWS_PUA, **_MAC_PUA}
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
# A control character (other than tab, line feed, vertical tab, form feed and carriage
# return) right after a Thai letter: a glyph the PDF maps to nothing sensible. LibreOffice
# PDFs read by pypdf can give U+0010 for every า.
_CONTROL_IN_WORD = re.compile(f"(?<=[{THAI_LETTERS}])[\x00-\x08\x0e-\x1f]")
_CONTROL_RUN = re.compile(f"[{THAI_LETTERS}\x00-\x08\x0e-\x1f]+")
_GLYPH_CANDIDATES = [chr(code) for code in range(0x0E01, 0x0E4F) if chr(code) not in "\u0e2f\u0e3b\u0e3c\u0e3d\u0e3e\u0e3f\u0e46"]
_CONTROL_SAMPLE_RUNS = 40
_CONTROL_MIN_COUNT = 3

# --- Step 2: deterministic mark fixes -----------------------------------------------------

# ํ + า with an optional tone mark between them, and a tone mark before ํ + า.
_SPLIT_AM = re.compile(NIKHAHIT + "([\u0e48-\u0e4b]?)" + SARA_AA)
_AM_BEFORE_TONE = re.compile(SARA_AM + "([\u0e48-\u0e4b])")
# ำ followed by the า its glyph is drawn with (LibreOffice PDFs read by pypdf: `จำานวน`);
# no Thai word has า right after ำ.
_AM_WITH_EXTRA_AA = re.compile(SARA_AM + SARA_AA)
# A tone mark or thanthakhat stored before the vowel of its cluster. NFC already moves tone
# marks after ุ and ู (combining classes 107 > 103), but not after above vowels (class 0).
_TONE_BEFORE_VOWEL = re.compile("([\u0e48-\u0e4c])([\u0e31\u0e34-\u0e37\u0e47\u0e38-\u0e3a])")
_DOUBLED_MARK = re.compile(f"([{COMBINING_MARKS}])\\1+")
# Two tone marks on one consonant, one of them mai tho: a font whose ู reads as ้ (`ผ้้`
# for `ผู้`, `อย่้` for `อยู่`), or a doubled mai tho typed by mistake.
_TONE_STACK = re.compile(f"(?<=[{CONSONANTS}])(?:\u0e49[\u0e48-\u0e4b]|[\u0e48-\u0e4b]\u0e49)")
MAI_THO = "\u0e49"
SARA_UU = "\u0e39"
# Two sara e typed for sara ae (เเ for แ): no Thai word has two sara e in a row.
_DOUBLE_SARA_E = re.compile("\u0e40\u0e40(?=[\u0e01-\u0e2e])")
# A space before a combining mark or before ะ า ำ ๅ, which never start a syllable.
_SPACE_BEFORE_MARK = re.compile(
    f"(?<=[{CONSONANTS}\u0e30-\u0e3a\u0e47-\u0e4e])[ \u00a0]+(?=[{COMBINING_MARKS}\u0e30\u0e32\u0e33\u0e45])"
)
# A space after a leading vowel, which always belongs to the consonant after it.
_SPACE_AFTER_LEADING_VOWEL = re.compile(f"(?<=[{LEADING_VOWELS}])[ \u00a0]+(?=[{CONSONANTS}])")

# --- Step 3: page furniture ---------------------------------------------------------------

_DIGIT = f"[0-9{THAI_DIGITS}]"
# `- ๒ -`, `-2-`, `หน้า ๒`, `หน้า 2/5`, `หน้า ๒ จาก ๕` as a whole line.
_PAGE_NUMBER_LINE = re.compile(
    rf"^[ \t]*(?:[-–—][ \t]*{_DIGIT}{{1,3}}[ \t]*[-–—]"
    rf"|หน้า[ \t]*(?:ที่[ \t]*)?{_DIGIT}{{1,3}}(?:[ \t]*(?:/|จาก)[ \t]*{_DIGIT}{{1,3}})?)[ \t]*$"
)
_BARE_NUMBER_LINE = re.compile(rf"^[ \t]*({_DIGIT}{{1,3}})[ \t]*$")
# `/๓. กรณีองค์กร...`: a pointer to the first words of the next page.
_CONTINUATION_LINE = re.compile(r"^[ \t]*/[ \t]*(\S.*?)[ \t]*(?:\.{2,}|…)[ \t]*$")
_CATCHWORD_MAX_CHARS = 40
_THAI_DIGIT_TABLE = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")

# --- Step 4: dictionary-checked guesses ---------------------------------------------------

_THAI_RUN = re.compile(f"[{THAI_LETTERS}]+")
_DIRECT_MARK = re.compile(f"[{CONSONANTS}][\u0e38\u0e39]?[\u0e48-\u0e4c]")
_CONSONANT = re.compile(f"[{CONSONANTS}]")
# A page whose tone marks and thanthakhat sit directly on a consonant for fewer than 3 in 100
# consonants has lost its marks. A two-page district circular has 9.8 in 100, and a pypdf
# extraction of a Word regulation without its private-use glyphs has under 2.
_LOSSY_MARK_RATIO = 0.03
_LOSSY_MIN_CONSONANTS = 80
# A page (or text) of at least 200 consonants with ำ in fewer than 2 in 1,000 of them lost
# the nikhahit of every ำ (`จานวน`). A two-page district circular has 31 ำ in 2,893.
_SARA_AM = re.compile(SARA_AM)
_LOST_AM_RATIO = 0.002
_LOST_AM_MIN_CONSONANTS = 200
# `ขอ 5` in a text that lost its marks is `ข้อ 5` (a numbered clause).
_CLAUSE_WORD = re.compile(f"(?:(?<=ตาม)|(?<![{THAI_LETTERS}]))ขอ(?=[ \t]*{_DIGIT})")
# A Thai word broken at the end of a line: the line ends in Thai letters (pypdf may add
# trailing spaces) and the next line starts at column 0 with a consonant or leading vowel.
# Both patterns match whole runs only (the lookbehind), which keeps the search linear.
_LINE_BREAK_IN_WORD = re.compile(
    f"(?<![{THAI_LETTERS}])([{THAI_LETTERS}]+)([ \t]*\n)([{CONSONANTS}{LEADING_VOWELS}][{THAI_LETTERS}]*)"
)
_SPACE_IN_WORD = re.compile(
    f"(?<![{THAI_LETTERS}])([{THAI_LETTERS}]+)( )([{CONSONANTS}{LEADING_VOWELS}][{THAI_LETTERS}]*)"
)
# Five or more single clusters separated by single spaces: letter-spaced text of a justified
# line (`แ บ บ ส ำ ร ว จ`). Ordinary Thai never puts a space after every cluster.
_CLUSTER = f"[{LEADING_VOWELS}]?[{CONSONANTS}][{COMBINING_MARKS}]*[\u0e30\u0e32\u0e33\u0e45]?"
_LETTER_SPACED = re.compile(f"(?<![{THAI_LETTERS}])(?:{_CLUSTER} ){{4,}}{_CLUSTER}(?![{THAI_LETTERS}])")
# Characters either side of a break that the join check segments: enough for the longest
# compound in the dictionary to cross the break.
_JOIN_WINDOW = 24

# Outside pages that lost their marks a guessed word needs at least 3 characters besides
# its marks: an unknown name such as `ทือ` would otherwise become the short word `ที`.
_MIN_GUESS_SKELETON = 3
_MIN_GUESS_SKELETON_LOSSY = 1

# Segmentation costs, added up and compared as one integer: each unknown cluster costs
# `_UNKNOWN`, each word `_WORD`, plus the cost of its edits (`_mark_edits`). An edit costing
# `_GUARDED` or more wins only where it removes unknown clusters. A cheaper edit also wins
# where it saves words, such as `หมู่บ้าน` for `หมู` + `บาน` on a page that lost its marks.
_UNKNOWN = 1 << 40
_GUARDED = 1 << 30
_WORD = 1 << 20


class PageFaults(NamedTuple):
    """Systematic faults detected on a page, which allow the matching guesses."""

    marks_lost: bool  # upper marks drawn with private-use glyphs were dropped
    am_lost: bool  # every ำ lost its nikhahit and reads as า
    uu_as_mai_tho: bool = False  # the font's ู reads as ้ (found in the whole text)


_INTACT = PageFaults(marks_lost=False, am_lost=False)

_MESSAGES = {
    "doubled": 'แก้ "{original}" เป็น "{fixed}" เพราะมีสระหรือวรรณยุกต์ซ้ำกัน',
    "marks": (
        'แก้ "{original}" เป็น "{fixed}" เพราะสระหรือวรรณยุกต์ในไฟล์ต้นฉบับหายไปหรือผิดตัว '
        "ระบบเทียบกับพจนานุกรมแล้ว โปรดตรวจทาน"
    ),
    "line_break": (
        'รวม "{left}" ท้ายบรรทัดกับ "{right}" ต้นบรรทัดถัดไปเป็นคำว่า "{fixed}" '
        "เพราะคำถูกตัดขึ้นบรรทัดใหม่กลางคำ โปรดตรวจทาน"
    ),
    "space": 'ลบช่องว่างกลางคำ "{left} {right}" เป็น "{fixed}" โปรดตรวจทาน',
    "letter_spaced": 'ลบช่องว่างระหว่างตัวอักษร "{original}" เป็น "{fixed}" โปรดตรวจทาน',
}


class _Report:
    """Collected WARNING dicts, one per distinct repair."""

    def __init__(self) -> None:
        self.warnings: list[dict] = []
        self._seen: set[tuple[str, str]] = set()

    def corrected(self, original: str, fixed: str, reason: str, left: str = "", right: str = "") -> None:
        if (original, fixed) in self._seen:
            return
        self._seen.add((original, fixed))
        message = _MESSAGES[reason].format(original=original, fixed=fixed, left=left, right=right)
        logger.debug("corrected %r to %r (%s)", original, fixed, reason)
        self.warnings.append({"code": "corrected_text", "message": message, "field": None})

    def control_glyph(self, control: str, glyph: str, count: int) -> None:
        name = f"U+{ord(control):04X}"
        logger.info("control character %s read as %r (%s times)", name, glyph, count)
        message = (
            f'ในไฟล์นี้ตัวอักษร "{glyph}" อ่านออกมาเป็นอักขระควบคุมรหัส {name} จำนวน {count} ตัว '
            f'ระบบแทนที่ด้วย "{glyph}" ทั้งหมดโดยเทียบกับพจนานุกรม โปรดตรวจทาน'
        )
        self.warnings.append({"code": "corrected_text", "message": message, "field": None})

    def unmapped_glyph(self, codepoint: str, count: int) -> None:
        name = f"U+{ord(codepoint):04X}"
        logger.warning("unmapped glyph %s (%s times) kept in the text", name, count)
        message = (
            f"พบอักขระพิเศษรหัส {name} จำนวน {count} ตัว ซึ่งระบบแปลงเป็นตัวอักษรไทยไม่ได้ "
            "จึงเก็บไว้ตามเดิม โปรดตรวจทานข้อความบริเวณนั้นกับต้นฉบับ"
        )
        self.warnings.append({"code": "unmapped_glyph", "message": message, "field": None})


def repair_text(text: str) -> tuple[str, list[dict]]:
    """Repair a file's extracted text and return it with WARNING dicts (letter-json.md).

    `text` contains the pages joined by form feeds; the result keeps one form feed per page
    break. Warnings have `field` None.
    """
    report = _Report()
    text = _map_private_use(text, report)
    if _CONTROL_IN_WORD.search(text):
        text = _guess_control_glyphs(text, report)
    text, uu_as_mai_tho = _fix_marks(text, report)
    pages = _remove_page_furniture(text.split("\f"))
    faults = [page_faults._replace(uu_as_mai_tho=uu_as_mai_tho) for page_faults in _page_faults(pages)]
    pages = [_repair_guesses(page, page_faults, report) for page, page_faults in zip(pages, faults)]
    return "\f".join(pages), report.warnings


# --- Step 1 -------------------------------------------------------------------------------


def _map_private_use(text: str, report: _Report) -> str:
    if not _PRIVATE_USE.search(text):
        return text
    text = text.translate(PRIVATE_USE_TABLE)
    unmapped: dict[str, int] = {}
    for match in _PRIVATE_USE.finditer(text):
        unmapped[match.group()] = unmapped.get(match.group(), 0) + 1
    for codepoint, count in unmapped.items():
        report.unmapped_glyph(codepoint, count)
    return text


def _guess_control_glyphs(text: str, report: _Report) -> str:
    """Replace each control character inside Thai words by the Thai character that makes the
    most of its words dictionary words, or keep it and report it as unmapped.

    A replacement needs at least 3 occurrences, at least a third of up to 40 sampled runs
    fully made of dictionary words, and twice as many such runs as the next candidate.
    """
    counts: dict[str, int] = {}
    for match in _CONTROL_IN_WORD.finditer(text):
        counts[match.group()] = counts.get(match.group(), 0) + 1
    for control, count in counts.items():
        runs = [match.group() for match in _CONTROL_RUN.finditer(text) if control in match.group()]
        runs = runs[:_CONTROL_SAMPLE_RUNS]
        scores = []
        for glyph in _GLYPH_CANDIDATES:
            covered = sum(_covered_by_words(_compose(run.replace(control, glyph))) for run in runs)
            scores.append((covered, glyph))
        scores.sort(reverse=True)
        (best, glyph), (second, _) = scores[0], scores[1]
        if count >= _CONTROL_MIN_COUNT and best * 3 >= len(runs) and best >= 2 * second:
            inside_words = f"(?<=[{THAI_LETTERS}]){re.escape(control)}|{re.escape(control)}(?=[{THAI_LETTERS}])"
            text = re.sub(inside_words, glyph, text)
            report.control_glyph(control, glyph, count)
        else:
            report.unmapped_glyph(control, count)
    return text


def _compose(run: str) -> str:
    """Return `run` in NFC with ำ composed, as `_fix_marks` would leave it."""
    run = unicodedata.normalize("NFC", run)
    return _AM_WITH_EXTRA_AA.sub(SARA_AM, _SPLIT_AM.sub(lambda m: m.group(1) + SARA_AM, run))


# --- Step 2 -------------------------------------------------------------------------------


def _fix_marks(text: str, report: _Report) -> tuple[str, bool]:
    """Apply the cluster fixes and return the text and whether its ู reads as ้.

    Only a doubled mark and a stacked tone mark read as ู are reported.
    """
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _SPLIT_AM.sub(lambda m: m.group(1) + SARA_AM, text)
    text = _AM_BEFORE_TONE.sub(lambda m: m.group(1) + SARA_AM, text)
    text = _AM_WITH_EXTRA_AA.sub(SARA_AM, text)
    text = _TONE_BEFORE_VOWEL.sub(r"\2\1", text)
    uu_as_mai_tho = False
    if _TONE_STACK.search(text):
        text, uu_as_mai_tho = _resolve_tone_stacks(text, report)
    if _DOUBLED_MARK.search(text):
        text = _remove_doubled_marks(text, report)
    text = _DOUBLE_SARA_E.sub("\u0e41", text)
    text = _SPACE_BEFORE_MARK.sub("", text)
    text = _SPACE_AFTER_LEADING_VOWEL.sub("", text)
    return text, uu_as_mai_tho


def _resolve_tone_stacks(text: str, report: _Report) -> tuple[str, bool]:
    """Read stacks of two tone marks with ้ as ู plus a tone mark, where the dictionary agrees.

    A stack is read so when the result segments at lower cost than the stack with its
    doubled mark removed. Returns the text and whether any stack was read as ู.
    """
    found = False

    def fix_run(match: re.Match) -> str:
        nonlocal found
        run = match.group()
        position = 0
        while stack := _TONE_STACK.search(run, position):
            position = stack.end()
            pair = stack.group()
            tone = pair[1] if pair[0] == MAI_THO else pair[0]
            as_uu = unicodedata.normalize("NFC", run[: stack.start()] + SARA_UU + tone + run[stack.end() :])
            as_typo = run[: stack.start()] + _DOUBLED_MARK.sub(r"\1", pair) + run[stack.end() :]
            uu_cost, uu_tokens = _segment(as_uu, _INTACT)
            if uu_cost >= _segment(as_typo, _INTACT)[0]:
                continue
            found = True
            for start, end, _word, _edits in uu_tokens:
                if start <= stack.start() < end:
                    report.corrected(run[start:end], as_uu[start:end], "marks")
            run = as_uu
        return run

    return _THAI_RUN.sub(fix_run, text), found


def _remove_doubled_marks(text: str, report: _Report) -> str:
    def fix_run(match: re.Match) -> str:
        run = match.group()
        if not _DOUBLED_MARK.search(run):
            return run
        fixed = _DOUBLED_MARK.sub(r"\1", run)
        original_word, fixed_word = _name_doubled_word(run, fixed)
        report.corrected(original_word, fixed_word, "doubled")
        return fixed

    return _THAI_RUN.sub(fix_run, text)


def _name_doubled_word(run: str, fixed: str) -> tuple[str, str]:
    """Return the dictionary word around the first doubled mark, before and after the fix."""
    doubled = _DOUBLED_MARK.search(run)
    offset = doubled.start()  # the same index in `fixed`: nothing before it was removed
    _, tokens = _segment(fixed, _INTACT)
    for start, end, _word, _edits in tokens:
        if start <= offset < end:
            extra = doubled.end() - doubled.start() - 1
            return run[start : end + extra], fixed[start:end]
    return run, fixed


# --- Step 3 -------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return "".join(text.split())


def _remove_page_furniture(pages: list[str]) -> list[str]:
    """Drop page numbers, continuation pointers and catchwords; return the pages.

    A continuation pointer (`/๓. กรณีองค์กร...`) is dropped when the next content line starts
    with its words or when it ends a page. A catchword is a last line of a page, at most 40
    characters, that repeats the start of the next page's first line.
    """
    page_lines = [page.split("\n") for page in pages]
    dropped = [set() for _ in pages]
    for number, lines in enumerate(page_lines):
        dropped[number] |= _page_number_lines(lines, number + 1, len(pages))

    content = [
        (number, index, line)
        for number, lines in enumerate(page_lines)
        for index, line in enumerate(lines)
        if line.strip() and index not in dropped[number]
    ]
    for position, (number, index, line) in enumerate(content):
        following = content[position + 1] if position + 1 < len(content) else None
        ends_page = following is not None and following[0] != number
        next_words = _squash(following[2]) if following else ""
        pointer = _CONTINUATION_LINE.match(line)
        if pointer:
            if ends_page or next_words.startswith(_squash(pointer.group(1))):
                dropped[number].add(index)
        elif ends_page:
            catchword = _squash(line.strip().lstrip("/").rstrip(".…"))
            is_short = 0 < len(catchword) <= _CATCHWORD_MAX_CHARS
            if is_short and len(next_words) > len(catchword) and next_words.startswith(catchword):
                dropped[number].add(index)

    return [_drop_lines(lines, dropped[number]) for number, lines in enumerate(page_lines)]


def _page_number_lines(lines: list[str], page_number: int, page_count: int) -> set[int]:
    """Return indexes of page-number lines: dashed or `หน้า` forms anywhere, bare numbers
    equal to the page number among the first and last two content lines of a multi-page text."""
    content = [index for index, line in enumerate(lines) if line.strip()]
    edges = set(content[:2] + content[-2:])
    found = set()
    for index in content:
        line = lines[index]
        if _PAGE_NUMBER_LINE.match(line):
            found.add(index)
            continue
        bare = _BARE_NUMBER_LINE.match(line)
        if bare and page_count > 1 and index in edges:
            if int(bare.group(1).translate(_THAI_DIGIT_TABLE)) == page_number:
                found.add(index)
    return found


def _drop_lines(lines: list[str], dropped: set[int]) -> str:
    """Join `lines` without the dropped ones, also dropping a blank line that would follow a
    blank line because of the removal."""
    kept_lines: list[str] = []
    skip_blank = False
    for index, line in enumerate(lines):
        if index in dropped:
            skip_blank = bool(kept_lines) and not kept_lines[-1].strip()
            continue
        if skip_blank and not line.strip():
            skip_blank = False
            continue
        skip_blank = False
        kept_lines.append(line)
    return "\n".join(kept_lines)


# --- Step 4 -------------------------------------------------------------------------------


def _page_faults(pages: list[str]) -> list[PageFaults]:
    """Return the systematic faults of each page (`_LOSSY_MARK_RATIO`, `_LOST_AM_RATIO`).

    A page with fewer than 80 consonants is judged by the whole text, and a text with fewer
    than 80 consonants counts as intact.
    """
    counts = [
        (len(_CONSONANT.findall(page)), len(_DIRECT_MARK.findall(page)), len(_SARA_AM.findall(page)))
        for page in pages
    ]
    totals = tuple(map(sum, zip(*counts))) if counts else (0, 0, 0)
    return [_judge_page(page_counts if page_counts[0] >= _LOSSY_MIN_CONSONANTS else totals) for page_counts in counts]


def _judge_page(counts: tuple[int, int, int]) -> PageFaults:
    consonants, direct_marks, sara_am = counts
    if consonants < _LOSSY_MIN_CONSONANTS:
        return _INTACT
    return PageFaults(
        marks_lost=direct_marks < _LOSSY_MARK_RATIO * consonants,
        am_lost=consonants >= _LOST_AM_MIN_CONSONANTS and sara_am < _LOST_AM_RATIO * consonants,
    )


def _repair_guesses(page: str, faults: PageFaults, report: _Report) -> str:
    """Apply the dictionary-checked repairs to one page."""

    def fix_run(match: re.Match) -> str:
        if _is_abbreviation(match):
            return match.group()
        return _repair_run(match.group(), faults, report)

    if _LETTER_SPACED.search(page):
        page = _LETTER_SPACED.sub(lambda match: _join_letters(match.group(), report), page)
    if faults.uu_as_mai_tho:
        page = _THAI_RUN.sub(lambda match: _restore_uu(match.group(), faults, report), page)
    page = _THAI_RUN.sub(fix_run, page)
    if faults.marks_lost:
        page = _repair_clause_word(page, report)
    page = _join_all(_LINE_BREAK_IN_WORD, page, faults, report, "line_break")
    page = _join_all(_SPACE_IN_WORD, page, faults, report, "space")
    return page


def _join_all(pattern: re.Pattern, page: str, faults: PageFaults, report: _Report, reason: str) -> str:
    """Apply `_join` at every match of `pattern`, letting a run that starts after one break
    end before the next (a one-line run broken at both ends)."""
    position = 0
    while match := pattern.search(page, position):
        replacement = _join(match, faults, report, reason)
        if replacement == match.group():
            position = match.start(3)
        else:
            # The joined run may end at the next break: search it again from its start.
            page = page[: match.start()] + replacement + page[match.end() :]
            position = match.start()
    return page


def _join_letters(spaced: str, report: _Report) -> str:
    joined = spaced.replace(" ", "")
    report.corrected(spaced, joined, "letter_spaced")
    return joined


def _restore_uu(run: str, faults: PageFaults, report: _Report) -> str:
    """Read a ้ of `run` as ู where the dictionary confirms it (`ข้อม้ล` for `ข้อมูล`).

    Used only in a text whose font is known to read ู as ้ (`_resolve_tone_stacks`).
    """
    if MAI_THO not in run or _covered_by_words(run):
        return run
    cost, _ = _segment(run, faults)
    for index, char in enumerate(run):
        if char != MAI_THO:
            continue
        candidate = unicodedata.normalize("NFC", run[:index] + SARA_UU + run[index + 1 :])
        candidate_cost, tokens = _segment(candidate, faults)
        if candidate_cost >= cost:
            continue
        for start, end, _word, _edits in tokens:
            if start <= index < end:
                report.corrected(run[start:end], candidate[start:end], "marks")
        run, cost = candidate, candidate_cost
    return run


def _is_abbreviation(match: re.Match) -> bool:
    """Return True for a run followed by a full stop, such as `พ` and `ศ` in `พ.ศ.`."""
    return match.end() < len(match.string) and match.string[match.end()] == "."


def _repair_run(run: str, faults: PageFaults, report: _Report) -> str:
    if faults == _INTACT and _covered_by_words(run):
        return run
    _, tokens = _segment(run, faults)
    if not any(edits for _start, _end, _word, edits in tokens):
        return run
    parts = []
    for start, end, word, edits in tokens:
        span = run[start:end]
        if edits:
            report.corrected(span, word, "marks")
            parts.append(word)
        else:
            parts.append(span)
    return "".join(parts)


def _repair_clause_word(page: str, report: _Report) -> str:
    if not _CLAUSE_WORD.search(page):
        return page
    report.corrected("ขอ", "ข้อ", "marks")
    return _CLAUSE_WORD.sub("ข้อ", page)


def _join(match: re.Match, faults: PageFaults, report: _Report, reason: str) -> str:
    """Join two Thai runs across a line break or space when a dictionary word crosses it.

    The join is kept when segmenting the joined text costs less than segmenting the two
    sides apart, and a dictionary word spans the break without leaving a fragment of a word
    on either side. Across a space one side must also end or start with characters that are
    no word: spaces separate phrases in Thai, so two whole words either side of a space stay
    apart. Only the crossing word is rewritten, and a run before a full stop (`พ.ศ.`) is
    never joined.
    """
    left, gap, right = match.groups()
    if _is_abbreviation(match):
        return match.group()
    if reason == "space" and _covered_by_words(left) and _covered_by_words(right):
        return match.group()  # whole words on both sides: the cheap common case
    # Segment only the ends of the runs: a crossing word is at most `_JOIN_WINDOW` long. A
    # word cut at the far end of a window costs the same joined or apart.
    tail = left[_cluster_start(left, len(left) - _JOIN_WINDOW) :]
    head = right[: _cluster_end(right, _JOIN_WINDOW)]
    if not _has_crossing_word(tail, head, faults):
        return match.group()
    tail_cost, tail_tokens = _segment(tail, faults)
    head_cost, head_tokens = _segment(head, faults)
    joined = tail + head
    joined_cost, joined_tokens = _segment(joined, faults)
    if joined_cost >= tail_cost + head_cost:
        return match.group()
    boundary = len(tail)
    crossing = [token for token in joined_tokens if token[0] < boundary < token[1]]
    if not crossing or crossing[0][2] is None:
        return match.group()
    start, end, word, _edits = crossing[0]
    # The crossing word may split a word of either side only into two dictionary words
    # (`กระทำ` + `ความผิด` of `กระทำความผิด`), never leave a fragment (`เทศบา` + `ลพ`).
    if not _splits_into_words(tail, tail_tokens, start) or not _splits_into_words(head, head_tokens, end - boundary):
        return match.group()
    if reason == "space" and tail_tokens[-1][2] is not None and head_tokens[0][2] is not None:
        return match.group()

    report.corrected(
        joined[start:boundary] + "\n" + joined[boundary:end],
        word,
        reason,
        left=joined[start:boundary],
        right=joined[boundary:end],
    )
    cut = len(left) - len(tail)
    return left[: cut + start] + word + right[end - boundary :]


def _splits_into_words(text: str, tokens: tuple, index: int) -> bool:
    """Return True when `index` is a token boundary of `text`, or splits its token into two
    dictionary words."""
    for start, end, _word, _edits in tokens:
        if index in (start, end):
            return True
        if start < index < end:
            return vocab.is_word(text[start:index]) and vocab.is_word(text[index:end])
    return False


@functools.lru_cache(maxsize=65536)
def _has_crossing_word(tail: str, head: str, faults: PageFaults) -> bool:
    """Return True when some dictionary word starts in `tail` and ends in `head`.

    A cheap test before the three segmentations of `_join`: most breaks have no such word.
    """
    _, prefixes = _skeleton_index()
    joined = tail + head
    skeleton = joined.translate(_SKELETON_TABLE)
    bases = [i for i, char in enumerate(joined) if char not in _LOSSABLE_SET]
    bases.append(len(joined))
    boundary = len(tail.translate(_SKELETON_TABLE))
    for start in range(boundary):
        for end in range(start + 1, len(skeleton) + 1):
            is_skeleton = prefixes.get(skeleton[start:end])
            if is_skeleton is None:
                break
            if is_skeleton and end > boundary:
                if _match_word(joined[bases[start] : bases[end]], skeleton[start:end], faults):
                    return True
    return False


def _cluster_start(text: str, index: int) -> int:
    """Return the first index at or after `index` where a Thai cluster starts."""
    index = max(0, index)
    while 0 < index < len(text) and (text[index] in _CLUSTER_CONTINUATION or text[index - 1] in _LEADING_VOWEL_SET):
        index += 1
    return index


def _cluster_end(text: str, index: int) -> int:
    """Return the first index at or after `index` where a Thai cluster ends."""
    while index < len(text) and (text[index] in _CLUSTER_CONTINUATION or text[index - 1] in _LEADING_VOWEL_SET):
        index += 1
    return min(index, len(text))


# --- Dictionary segmentation --------------------------------------------------------------


@functools.cache
def _skeleton_index() -> tuple[dict[str, tuple[str, ...]], dict[str, bool]]:
    """Return the dictionary words grouped by skeleton, and every skeleton prefix.

    The prefix table maps each prefix of a skeleton to True when it is itself a skeleton.
    The segmenter stops extending a word where the table has no entry. With pythainlp 5.4
    the table has about 170,000 entries (about 14 MB), and building the index takes about
    0.3 s of CPU time.
    """
    word_pattern = re.compile(f"[{THAI_LETTERS}]+")
    words = [word for word in vocab.thai_dictionary() if word_pattern.fullmatch(word)]
    # One translate call over all words is about three times faster than one per word.
    skeletons = "\n".join(words).translate(_SKELETON_TABLE).split("\n")
    index: dict[str, list[str]] = {}
    for word, skeleton in zip(words, skeletons):
        index.setdefault(skeleton, []).append(word)
    frozen = {skeleton: tuple(sorted(words)) for skeleton, words in index.items()}
    prefixes: dict[str, bool] = {}
    for skeleton in frozen:
        # Shorter prefixes of a prefix already present were added with it.
        for size in range(len(skeleton) - 1, 0, -1):
            prefix = skeleton[:size]
            if prefix in prefixes:
                break
            prefixes[prefix] = False
    prefixes.update(dict.fromkeys(frozen, True))
    return frozen, prefixes


@functools.lru_cache(maxsize=65536)
def _segment(run: str, faults: PageFaults) -> tuple[int, tuple[tuple[int, int, str | None, int], ...]]:
    """Segment a Thai run into dictionary words, allowing mark repairs.

    Returns the total cost and tokens `(start, end, word, edits)`: `word` is the dictionary
    word for `run[start:end]` (equal to it when `edits` is 0), or None for an unknown
    cluster. The method is maximal matching by dynamic programming over the run's skeleton.
    Words start and end only at cluster boundaries: never before ะ า ำ ๅ or a below vowel,
    and never right after a leading vowel.
    """
    _, prefixes = _skeleton_index()
    skeleton = run.translate(_SKELETON_TABLE)
    bases = [i for i, char in enumerate(run) if char not in _LOSSABLE_SET]
    bases.append(len(run))
    size = len(skeleton)
    if size == 0:
        return _UNKNOWN, ((0, len(run), None, 0),)
    boundaries = [True]
    boundaries.extend(
        char not in _NOT_WORD_START and previous not in _LEADING_VOWEL_SET
        for previous, char in zip(skeleton, skeleton[1:])
    )
    boundaries.append(True)

    unknown_cost = _UNKNOWN + _WORD
    best: list[int | None] = [None] * (size + 1)
    back: list[tuple[int, str | None, int] | None] = [None] * (size + 1)
    best[0] = 0
    for i in range(size):
        cost = best[i]
        if cost is None:
            continue
        start = 0 if i == 0 else bases[i]
        following = i + 1
        while not boundaries[following]:
            following += 1
        step = cost + unknown_cost
        if best[following] is None or step < best[following]:
            best[following] = step
            back[following] = (i, None, 0)
        for j in range(i + 1, size + 1):
            piece = skeleton[i:j]
            is_skeleton = prefixes.get(piece)
            if is_skeleton is None:
                break
            if not is_skeleton or not boundaries[j]:
                continue
            match = _match_word(run[start : bases[j]], piece, faults)
            if match is None:
                continue
            word, edits = match
            step = cost + _WORD + edits
            if best[j] is None or step < best[j]:
                best[j] = step
                back[j] = (i, word, edits)

    tokens = []
    j = size
    while j > 0:
        i, word, edits = back[j]
        tokens.append((0 if i == 0 else bases[i], bases[j], word, edits))
        j = i
    tokens.reverse()
    return best[size], tuple(tokens)


@functools.lru_cache(maxsize=65536)
def _covered_by_words(run: str) -> bool:
    """Return True when greedy longest matching splits `run` into dictionary words as written.

    On an intact page a run covered this way needs no repair: every edit there costs more
    than any number of words, and the cover has no unknown clusters. Greedy matching is about four
    times cheaper than `_segment`; when it dead-ends, `_segment` decides.
    """
    _, prefixes = _skeleton_index()
    words = vocab.thai_dictionary()
    skeleton = run.translate(_SKELETON_TABLE)
    bases = [i for i, char in enumerate(run) if char not in _LOSSABLE_SET]
    bases.append(len(run))
    if bases[0] != 0:
        return False
    position = 0
    while position < len(skeleton):
        longest = 0
        for end in range(position + 1, len(skeleton) + 1):
            is_skeleton = prefixes.get(skeleton[position:end])
            if is_skeleton is None:
                break
            if is_skeleton and run[bases[position] : bases[end]] in words:
                longest = end
        if not longest:
            return False
        position = longest
    return True


@functools.lru_cache(maxsize=65536)
def _match_word(span: str, skeleton: str, faults: PageFaults) -> tuple[str, int] | None:
    """Return the dictionary word for `span` and the number of mark edits, or None.

    The span itself wins when it is a word. Otherwise the candidates sharing its skeleton
    are ranked by edits; ties go to `_break_tie`.
    """
    if vocab.is_word(span):
        return span, 0
    if len(skeleton) < (_MIN_GUESS_SKELETON_LOSSY if faults.marks_lost else _MIN_GUESS_SKELETON):
        return None
    index, _ = _skeleton_index()
    scored = []
    for word in index.get(skeleton, ()):
        edits = _mark_edits(span, word, faults)
        if edits is not None:
            scored.append((edits, word))
    if not scored:
        return None
    fewest = min(edits for edits, _ in scored)
    tied = [word for edits, word in scored if edits == fewest]
    word = tied[0] if len(tied) == 1 else _break_tie(tied, faults)
    return None if word is None else (word, fewest)


def _break_tie(words: list[str], faults: PageFaults) -> str | None:
    """Return the only domain word among tied candidates, or None.

    On a page with systematic faults, a word at least twice as frequent in the Thai National
    Corpus as the next one also wins (`ไม่` over `ไม้`).
    """
    domain = [word for word in words if vocab.is_domain_word(word)]
    if len(domain) == 1:
        return domain[0]
    if not (faults.marks_lost or faults.am_lost):
        return None
    frequencies = vocab.word_frequencies()
    ranked = sorted(words, key=lambda word: frequencies.get(word, 0), reverse=True)
    if frequencies.get(ranked[0], 0) > 2 * frequencies.get(ranked[1], 0):
        return ranked[0]
    return None


def _clusters(text: str) -> list[list[str]]:
    """Split `text` into [base character, lossable marks after it] pairs."""
    clusters: list[list[str]] = []
    for char in text:
        if char in _LOSSABLE_SET:
            if clusters:
                clusters[-1][1] += char
            else:
                clusters.append(["", char])
        else:
            clusters.append([char, ""])
    return clusters


def _mark_edits(span: str, word: str, faults: PageFaults) -> int | None:
    """Return the cost of the mark edits that turn `span` into `word`, or None if not allowed.

    Allowed everywhere, at cost `_GUARDED`: `า` for a half-lost `ำ`, and a mark swapped for
    another of its class (tone for tone, above vowel for above vowel). On a page that lost
    every ำ, restoring one costs half a word. On a page that lost its marks, a mark missing
    from `span` costs 1 where a legacy font draws it with a private-use glyph
    (`_is_shifted_glyph`). A swap there costs a little more than a word, because lost marks
    are the expected fault and a swap (`ไม่ขัด` read as `ไม้ขีด`) the likelier mistake.
    """
    swap_cost = _WORD + 1 if faults.marks_lost else _GUARDED
    am_cost = _WORD // 2 if faults.am_lost else swap_cost
    span_clusters = _clusters(span)
    word_clusters = _clusters(word)
    if len(span_clusters) != len(word_clusters):
        return None
    edits = 0
    for position, (span_cluster, word_cluster) in enumerate(zip(span_clusters, word_clusters)):
        span_base, span_marks = span_cluster
        word_base, word_marks = word_cluster
        if span_base != word_base:
            if span_base == SARA_AA and word_base == SARA_AM:
                edits += am_cost
            else:
                return None
        if span_marks == word_marks:
            continue
        missing = [mark for mark in word_marks if mark not in span_marks]
        for mark in span_marks:
            if mark in word_marks:
                continue
            partner = next((other for other in missing if _same_class(mark, other)), None)
            if partner is None:
                return None
            missing.remove(partner)
            edits += swap_cost
        if missing:
            if not faults.marks_lost:
                return None
            followed_by_am = position + 1 < len(word_clusters) and word_clusters[position + 1][0] == SARA_AM
            for mark in missing:
                if not _is_shifted_glyph(word_base, word_marks, mark, followed_by_am):
                    return None
            edits += len(missing)
    return edits


def _same_class(mark: str, other: str) -> bool:
    """Return True when both marks are tone marks or both are above vowels."""
    if mark in TONE_MARKS:
        return other in TONE_MARKS
    return mark in ABOVE_VOWELS and other in ABOVE_VOWELS


def _is_shifted_glyph(base: str, marks: str, mark: str, followed_by_am: bool) -> bool:
    """Return True when a legacy Thai font draws `mark` on `base` with a private-use glyph.

    Those are the glyphs that extractors drop. Every upper mark on ป ฝ ฟ is shifted left.
    Elsewhere a tone mark or thanthakhat is shifted down unless it sits on an above vowel or
    on the nikhahit of ำ. A tone mark over an
    above vowel elsewhere keeps its ordinary code point, so `สิทธิ` is never read as a
    `สิทธิ์` that lost its thanthakhat.
    """
    if base in _ASCENDER_CONSONANTS:
        return True
    if mark in _UPPER_VOWELS:
        return False
    return not followed_by_am and not any(other in _UPPER_VOWELS for other in marks)
