"""Province and ministry codes of letter numbers, and the provinces named in a text."""
import re
from pathlib import Path

from parsers.thaidate import DIGIT, to_arabic

DATA_DIR = Path(__file__).parent / "data"


def _read_table(name: str) -> list[list[str]]:
    rows = []
    with open(DATA_DIR / name, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            rows.append(line.rstrip("\n").split("\t"))
    return rows


_PROVINCE_ROWS = _read_table("province_codes.tsv")
PROVINCE_BY_CODE = {code: name for code, name, _ in _PROVINCE_ROWS}
CODE_BY_PROVINCE = {name: code for code, name, _ in _PROVINCE_ROWS}
CODES_BY_POSTCODE: dict[str, list[str]] = {}
for _code, _name, _prefix in _PROVINCE_ROWS:
    CODES_BY_POSTCODE.setdefault(_prefix, []).append(_code)
MINISTRY_BY_CODE = {code: name for code, name in _read_table("ministry_codes.tsv")}
ALL_CODES = frozenset(PROVINCE_BY_CODE) | frozenset(MINISTRY_BY_CODE)

# Letters that OCR engines and typists confuse, as unordered pairs.
CONFUSABLE_LETTERS = frozenset(frozenset(pair) for pair in (
    "ขช", "ชซ", "ขฃ", "ขย", "ชย", "ถภ", "ถด", "ถก", "กภ", "ดค", "คต", "ดต", "บป", "มน",
    "รว", "ฎฏ", "ผฝ", "พฟ", "ทห", "ลส", "ศส", "ษศ", "อธ", "ฐธ", "ญย", "ฆม", "ฑท", "ฒผ",
    "จง", "นบ", "ยบ",
))

# A province name counts only after จังหวัด or จ. (or as กรุงเทพมหานคร), because bare names
# such as เลย or แพร่ are everyday words.
_NAMES = sorted(CODE_BY_PROVINCE, key=len, reverse=True)
PROVINCE_NAME_RE = re.compile(
    r"(?:จังหวัด|จ\s?\.)\s?(" + "|".join(map(re.escape, _NAMES)) + r")|(กรุงเทพมหานคร|กทม\.?)")
POSTCODE_RE = re.compile(rf"(?<!{DIGIT})({DIGIT}{{2}}){DIGIT}{{3}}(?!{DIGIT})")


def provinces_named(text: str) -> list[str]:
    """Return the province names in `text` written after จังหวัด, in order, without repeats."""
    found = []
    for match in PROVINCE_NAME_RE.finditer(text):
        name = match.group(1) or "กรุงเทพมหานคร"
        if name not in found:
            found.append(name)
    return found


def codes_for_postcode(text: str) -> list[str]:
    """Return the province codes matching the last five-digit postal code in `text`."""
    matches = POSTCODE_RE.findall(text)
    if not matches:
        return []
    return CODES_BY_POSTCODE.get(to_arabic(matches[-1]), [])


def is_known_code(code: str) -> bool:
    """Tell whether `code` is one of the 77 province codes or a ministry code."""
    return code in ALL_CODES


def _confusable(a: str, b: str) -> bool:
    return frozenset((a, b)) in CONFUSABLE_LETTERS


def correct_code(code: str, expected: list[str]) -> str | None:
    """Return the known code that an unknown two-letter `code` is a slip of, or None.

    `expected` lists the codes the context points to (the issuer's province, the postal code),
    most trusted first. A candidate differs from `code` in one letter; one of `expected` wins,
    otherwise a single candidate that differs by a confusable pair of letters.
    """
    if len(code) != 2 or code in ALL_CODES:
        return None
    candidates = [known for known in ALL_CODES
                  if sum(x != y for x, y in zip(known, code)) == 1]
    for wanted in expected:
        if wanted in candidates:
            return wanted
    confusable = [c for c in candidates
                  if all(x == y or _confusable(x, y) for x, y in zip(c, code))]
    if len(confusable) == 1:
        return confusable[0]
    return None
