"""Lines that Tesseract's page layout split or left out are read again one by one.

The page layout's faults cannot be produced on demand. So each test takes Tesseract's
real lines of a rendered page and puts one fault into them. The fault is a line left
out, or a line whose upper marks went to a noise line of their own. The second read is real.
"""
from __future__ import annotations

import re
import shutil

import pytest
from PIL import ImageFilter

from parsers.ocr.clean import clean_page
from parsers.ocr.engine import Char, EngineSettings, Line, Word, recognize
from parsers.ocr.reread import reread_lines
from tests.test_ocr import DPI, letter_page

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs the tesseract command")

SUBJECT = "เรื่อง เงินตอบแทนรายเดือนสำหรับผู้ปฏิบัติงานในพื้นที่จังหวัดชายแดนภาคใต้"
BODY = "ตามที่ศาลปกครองสูงสุดได้มีคำพิพากษาเพิกถอนประกาศคณะกรรมการกลาง"
LINES = [
    ("ที่ มท ๐๘๐๙.๓/ว ๑๕๙", 150),
    ("๕ ตุลาคม ๒๕๕๐", 1000),
    (SUBJECT, 150),
    ("เรียน ประธาน ก.จ.จ. ก.ท.จ. และ ก.อบต.จังหวัด ยะลา", 150),
    (BODY, 450),
    ("สำนักงาน ก.จ. ก.ท. และ ก.อบต. จึงขอให้จังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่น", 150),
]
UPPER_MARKS = re.compile("[\u0e31\u0e34-\u0e37\u0e47-\u0e4e]")


@pytest.fixture(scope="module")
def scanned():
    """Return the cleaned page, lightly blurred like a scan, and Tesseract's lines of it."""
    page = letter_page(LINES, issuer="สำนักงาน ก.จ., ก.ท. และ ก.อบต.").filter(ImageFilter.GaussianBlur(0.8))
    cleaned = clean_page(page, dpi=DPI)
    return cleaned, recognize(cleaned.image, EngineSettings())


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\u0e4d\u0e32", "\u0e33")


def _find(lines: list[Line], start: str) -> Line:
    return next(line for line in lines if _squash(line.text).startswith(_squash(start)))


def test_missed_line_is_read_again(scanned):
    cleaned, lines = scanned
    body = _find(lines, BODY[:12])
    without_body = [line for line in lines if line is not body]

    result, _ = reread_lines(without_body, cleaned, EngineSettings())

    texts = [_squash(line.text) for line in result]
    assert _squash(BODY) in texts
    assert len(result) == len(lines)


def test_recovered_line_keeps_reading_order(scanned):
    cleaned, lines = scanned
    body = _find(lines, BODY[:12])
    result, _ = reread_lines([line for line in lines if line is not body], cleaned, EngineSettings())
    order = [_squash(line.text) for line in result]
    assert order.index(_squash(BODY)) == [_squash(line.text) for line in lines].index(_squash(body.text))


def test_marks_split_off_are_read_back(scanned):
    cleaned, lines = scanned
    subject = _find(lines, "เรื่อง")
    # The fault: the subject line without its upper marks, and the marks as a noise line above.
    stripped = Line(box=subject.box, words=[
        Word(text=UPPER_MARKS.sub("", word.text), box=word.box, confidence=92.0,
             chars=[Char(text=UPPER_MARKS.sub("", c.text), box=c.box, confidence=92.0) for c in word.chars],
             space_before=word.space_before)
        for word in subject.words
    ])
    height = subject.box[3] - subject.box[1]
    left, top, right, _ = subject.box
    noise_box = (left + 200, top - height // 4, right - 300, top + height // 5)
    noise = Line(box=noise_box, words=[Word(text="ส ส 4", box=noise_box, confidence=30.0)])
    faulty = [noise if line is subject else line for line in lines]
    faulty.insert(faulty.index(noise) + 1, stripped)
    assert "พื้นที่" not in stripped.text

    result, _ = reread_lines(faulty, cleaned, EngineSettings())

    texts = [_squash(line.text) for line in result]
    assert _squash(SUBJECT) in texts
    assert all("ส ส 4" not in line.text for line in result)


def test_page_without_faults_keeps_its_text(scanned):
    cleaned, lines = scanned
    result, _ = reread_lines(lines, cleaned, EngineSettings())
    assert [_squash(line.text) for line in result] == [_squash(line.text) for line in lines]
