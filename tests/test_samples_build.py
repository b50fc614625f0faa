"""Checks on samples/: every letter has a valid expected parse, every PDF a text layer,
and scripts/build_samples.py rebuilds the committed PDFs.

Parse accuracy is not tested here; these tests only keep the test data sound.
"""

from __future__ import annotations

import datetime
import importlib.util
import itertools
import json
import re
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEED_ID = "000_6094e22fb7add413"
MAX_PDF_BYTES = 200 * 1024

# Keys the project's parse scorer reads from an expected letter, and nothing else.
SCORER_KEYS = {
    "issuer", "date", "urgency", "doc_number", "circular", "subject", "addressee",
    "closing_request", "references", "enclosures", "enclosure_count", "deadlines",
    "signatory_name", "signatory_capacity", "phone", "fax", "extension", "email",
    "coordinator", "warnings", "endorsement_decisions", "receipt_stamp_dates",
}
DEADLINE_KEYS = {"due", "start", "relative"}
URGENCIES = {"most_urgent", "very_urgent", "urgent", None}
CAPACITIES = {"self", "on_behalf", "acting", "performing_duties", None}
COUNTED_FROM = {"receipt", "letter_date", "event", None}
DOCNUM = re.compile(r"^[ก-ฮ]{2} \d+(\.\d+)*/(ว )?\d+$")

TEXT_FILES = sorted(SAMPLES.glob("*.txt"))
EXPECTED_FILES = sorted(SAMPLES.glob("*.expected.json"))
PDF_FILES = sorted(SAMPLES.glob("*.pdf"))


def sample_id(path):
    return path.name.split(".")[0]


def load_build_script():
    spec = importlib.util.spec_from_file_location("build_samples", ROOT / "scripts" / "build_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_letters(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def is_iso_date(value):
    try:
        return datetime.date.fromisoformat(value).isoformat() == value
    except (TypeError, ValueError):
        return False


def page_texts(pdf_path):
    return [page.extract_text() or "" for page in PdfReader(pdf_path).pages]


def squash(text):
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


# ---------------------------------------------------------------- expected files


def test_samples_directory_holds_seed_and_eight_letters():
    ids = [sample_id(p) for p in TEXT_FILES]
    assert SEED_ID in ids
    assert len(ids) >= 9


@pytest.mark.parametrize("text_file", TEXT_FILES, ids=lambda p: p.name)
def test_text_sample_has_expected_file(text_file):
    assert (SAMPLES / f"{sample_id(text_file)}.expected.json").is_file()


@pytest.mark.parametrize("pdf_file", PDF_FILES, ids=lambda p: p.name)
def test_pdf_has_expected_copy_of_its_letter(pdf_file):
    own = SAMPLES / f"{sample_id(pdf_file)}.expected.json"
    letter_id = sample_id(pdf_file).rsplit("-", 1)[0]
    source = SAMPLES / f"{letter_id}.expected.json"
    assert own.is_file(), f"{own.name} is missing; run scripts/build_samples.py"
    assert source.is_file(), f"{pdf_file.name} has no text sample {letter_id}.txt with an expected file"
    assert json.loads(own.read_text(encoding="utf-8")) == json.loads(source.read_text(encoding="utf-8"))


@pytest.mark.parametrize("expected_file", EXPECTED_FILES, ids=lambda p: p.name)
def test_expected_file_names_only_scorer_keys(expected_file):
    for number, letter in enumerate(expected_letters(expected_file), 1):
        assert isinstance(letter, dict), f"letter {number} is not an object"
        unknown = set(letter) - SCORER_KEYS
        assert not unknown, f"letter {number} has keys the scorer does not read: {sorted(unknown)}"
        unknown_deadlines = set(letter.get("deadlines", {})) - DEADLINE_KEYS
        assert not unknown_deadlines, f"letter {number} deadlines has unknown keys: {sorted(unknown_deadlines)}"


@pytest.mark.parametrize("expected_file", EXPECTED_FILES, ids=lambda p: p.name)
def test_expected_file_values_have_scorer_shapes(expected_file):
    for number, letter in enumerate(expected_letters(expected_file), 1):
        where = f"{expected_file.name} letter {number}"
        if "date" in letter:
            assert is_iso_date(letter["date"]), f"{where}: date {letter['date']!r}"
        assert letter.get("urgency") in URGENCIES, f"{where}: urgency {letter.get('urgency')!r}"
        assert letter.get("signatory_capacity") in CAPACITIES, f"{where}: capacity"
        if letter.get("doc_number") is not None:
            assert DOCNUM.match(letter["doc_number"]), f"{where}: doc_number {letter['doc_number']!r}"
        for number_text, date in letter.get("references", []):
            assert number_text is None or DOCNUM.match(number_text), f"{where}: reference {number_text!r}"
            assert date is None or is_iso_date(date), f"{where}: reference date {date!r}"
        for number_text, date, quantity, unit in letter.get("enclosures", []):
            assert number_text is None or DOCNUM.match(number_text), f"{where}: enclosure {number_text!r}"
            assert date is None or is_iso_date(date), f"{where}: enclosure date {date!r}"
            assert quantity is None or isinstance(quantity, int), f"{where}: quantity {quantity!r}"
            assert unit in ("ชุด", "ฉบับ", None), f"{where}: unit {unit!r}"
        deadlines = letter.get("deadlines", {})
        for kind in ("due", "start"):
            assert all(is_iso_date(d) for d in deadlines.get(kind, [])), f"{where}: {kind} {deadlines[kind]}"
        for days, working_days, counted_from in deadlines.get("relative", []):
            assert isinstance(days, int) and days > 0, f"{where}: relative days {days!r}"
            assert isinstance(working_days, bool), f"{where}: working_days {working_days!r}"
            assert counted_from in COUNTED_FROM, f"{where}: counted_from {counted_from!r}"
        assert all(is_iso_date(d) for d in letter.get("receipt_stamp_dates", [])), f"{where}: stamp dates"


@pytest.mark.parametrize("expected_file", [p for p in EXPECTED_FILES if "-" not in sample_id(p)],
                         ids=lambda p: p.name)
def test_expected_doc_numbers_appear_in_letter_text(expected_file):
    """Each expected document number is written in its text file (any digit script, any spacing).

    Sample 000 writes the province code as the OCR slip `ขร`; its expected number has `ชร`.
    """
    text = squash((SAMPLES / f"{sample_id(expected_file)}.txt").read_text(encoding="utf-8"))
    text = text.translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")).replace("ขร", "ชร")
    for letter in expected_letters(expected_file):
        if letter.get("doc_number"):
            assert squash(letter["doc_number"]) in text


# ---------------------------------------------------------------- PDFs


def test_seed_pdf_for_web_upload_exists():
    assert (SAMPLES / f"{SEED_ID}-sarabun.pdf").is_file()


def test_every_text_sample_has_both_pdfs():
    for text_file in TEXT_FILES:
        for font in ("sarabun", "laksaman"):
            assert (SAMPLES / f"{sample_id(text_file)}-{font}.pdf").is_file(), f"{text_file.name}: {font}"


@pytest.mark.parametrize("pdf_file", PDF_FILES, ids=lambda p: p.name)
def test_pdf_has_text_layer_on_every_page(pdf_file):
    texts = page_texts(pdf_file)
    assert texts, f"{pdf_file.name} has no pages"
    for number, text in enumerate(texts, 1):
        assert len(text.strip()) > 20, f"{pdf_file.name} page {number} has no text layer"


@pytest.mark.parametrize("pdf_file", PDF_FILES, ids=lambda p: p.name)
def test_pdf_is_small(pdf_file):
    assert pdf_file.stat().st_size < MAX_PDF_BYTES


@pytest.mark.parametrize("pdf_file", sorted(SAMPLES.glob("*-sarabun.pdf")), ids=lambda p: p.name)
def test_sarabun_pdf_text_equals_its_source(pdf_file):
    """reportlab writes the characters it draws, so only whitespace may differ from the text file."""
    source = (SAMPLES / f"{sample_id(pdf_file).rsplit('-', 1)[0]}.txt").read_text(encoding="utf-8")
    assert squash("".join(page_texts(pdf_file))) == squash(source)


@pytest.fixture(scope="module")
def build_script():
    return load_build_script()


# NOTE: line breaks come from pythainlp's word dictionary, so a pythainlp release that segments
# differently fails this test until the PDFs are rebuilt with scripts/build_samples.py.
@pytest.mark.parametrize("text_file", TEXT_FILES, ids=lambda p: p.name)
def test_reportlab_route_rebuilds_committed_pdf(build_script, text_file, tmp_path):
    committed = SAMPLES / f"{sample_id(text_file)}-sarabun.pdf"
    rebuilt = build_script.build(sample_id(text_file), "reportlab", tmp_path)
    assert rebuilt.name == committed.name
    assert page_texts(rebuilt) == page_texts(committed)
    assert (tmp_path / f"{sample_id(text_file)}-sarabun.expected.json").is_file()


def test_libreoffice_header_shares_one_line(build_script, tmp_path):
    if build_script.find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed: Debian package libreoffice-writer-nogui")
    pdf = build_script.build("001_dla_circular_bin_count", "libreoffice", tmp_path)
    lines = page_texts(pdf)[0].splitlines()
    assert pdf.name == "001_dla_circular_bin_count-laksaman.pdf"
    assert any(line.startswith("ที่ มท ๐๘๒๐.๓/ว ๑๒๓๔") and "กรมส่งเสริมการปกครอง" in line for line in lines)
    assert "๑๖ มิถุนายน ๒๕๖๘" in lines


def test_wrap_line_breaks_only_between_words(build_script):
    from pythainlp.tokenize import word_tokenize

    line = "ตามหนังสือที่อ้างถึง กรมส่งเสริมการปกครองท้องถิ่นได้ขอความร่วมมือจังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่น"
    pieces = build_script.wrap_line(line, 30, len)
    boundaries = set(itertools.accumulate(len(t) for t in word_tokenize(line, engine="newmm", keep_whitespace=True)))
    ends, position = [], 0
    for piece in pieces:
        position = line.index(piece, position) + len(piece)
        ends.append(position)
    assert len(pieces) > 1
    assert all(len(piece) <= 30 for piece in pieces)
    assert "".join(pieces).replace(" ", "") == line.replace(" ", "")
    assert set(ends) <= boundaries


def test_wrap_line_never_splits_a_cluster(build_script):
    assert build_script.wrap_line("ที่นี่", 2, len) == ["ที่", "นี่"]


def test_official_layout_finds_receipt_stamp(build_script):
    lines = ["องค์การบริหารส่วนตำบลโนนผึ้ง", "เลขรับ ๑๑๘๗", "วันที่ ๒๒ ก.ค. ๒๕๖๘", "เวลา ๐๙.๔๕ น.", "",
             "ที่ อบ ๐๐๒๓.๑๖/ว ๒๓๑๔", "ที่ว่าการอำเภอวารินชำราบ", "", "เรื่อง ทดสอบ"]
    assert build_script.stamp_ranges(lines) == [(0, 3)]
