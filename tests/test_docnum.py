"""Document numbers: normalization of digits, spacing and the circular mark."""
import pytest

from parsers.docnum import NUMBER_LINE_RE, normalize, parse_docnum, same_number


@pytest.mark.parametrize("written, text, circular, serial", [
    ("ชร ๐๐๒๓.๖/ว ๓๒๐๐", "ชร 0023.6/ว 3200", True, 3200),
    ("มท ๐๘๒๑.๒/ว๑๔๔๖", "มท 0821.2/ว 1446", True, 1446),
    ("มท 0809.3/ว.159", "มท 0809.3/ว 159", True, 159),
    ("มท 0809.2/2799", "มท 0809.2/2799", False, 2799),
    ("มท 0809.2/ 2341", "มท 0809.2/2341", False, 2341),
    ("ศธ ๐๔๐๐๒ / ว ๑๒", "ศธ 04002/ว 12", True, 12),
    ("ลป ๕๒๓๐๒/๑๔๓๒", "ลป 52302/1432", False, 1432),
    ("มท 0809.3/ว 0003", "มท 0809.3/ว 0003", True, 3),
    ("นศ ๐๐๒๓.๕/ว\n๙๔๑๗", "นศ 0023.5/ว 9417", True, 9417),
])
def test_parse_and_normalize(written, text, circular, serial):
    number = parse_docnum(written)
    assert number["text"] == text
    assert number["circular"] is circular
    assert number["serial"] == serial


def test_parts_of_a_number():
    number = parse_docnum("ที่ ชร ๐๐๒๓.๒๐/ว ๔๙๔๗")
    assert number["prefix"] == "ชร"
    assert number["office"] == "0023.20"


def test_number_line_needs_the_word_ti():
    assert NUMBER_LINE_RE.match("ที่ มท ๐๘๒๑.๒/ว ๑๔๔๖")
    assert NUMBER_LINE_RE.match("ที มท ๐๘๒๑.๒/ว ๑๔๔๖")  # OCR drops the tone mark
    assert not NUMBER_LINE_RE.match("ด่วนที่สุด")


def test_urgency_before_number_is_not_part_of_it():
    match = NUMBER_LINE_RE.search("หนังสือจังหวัดเชียงราย ด่วนที่สุด ที่ ชร ๐๐๒๓.๖/ว ๙๒๐๑")
    assert normalize(match)["text"] == "ชร 0023.6/ว 9201"


def test_fraction_in_running_text_is_not_a_number():
    assert parse_docnum("การประชุมครั้งที่ ๑/๒๕๖๘") is None


def test_same_number_ignores_leading_zeros():
    assert same_number(parse_docnum("มท 0809.3/ว 0003"), parse_docnum("มท ๐๘๐๙.๓/ว ๓"))
    assert not same_number(parse_docnum("ชร 0023.6/ว 9201"), parse_docnum("ชร 0023.6/ว 3200"))


def test_letters_ending_a_word_are_not_a_prefix():
    assert parse_docnum("ตามมติครม ๑๒/๒๕๖๘") is None
