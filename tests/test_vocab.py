"""Tests for parsers.vocab: the dictionary and the domain vocabulary file."""

import re
import unicodedata
from importlib import resources

from parsers import vocab

THAI_WORD = re.compile("[\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e]+")


def domain_file_lines():
    text = resources.files("parsers").joinpath("data", vocab.DOMAIN_WORDS_FILE).read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_dictionary_holds_pythainlp_words():
    assert vocab.is_word("หนังสือ")
    assert vocab.is_word("ว่าด้วย")
    assert vocab.is_word("หมู่บ้าน")


def test_dictionary_holds_domain_words():
    for word in ["กรมส่งเสริมการปกครองท้องถิ่น", "คาร์บอนเครดิต", "ถังขยะเปียก", "ถือปฏิบัติ", "สารบรรณกลาง"]:
        assert vocab.is_word(word), word
        assert vocab.is_domain_word(word), word


def test_broken_forms_are_not_words():
    for broken in ["วาดวย", "หมูบาน", "จานวน", "คู่่มือ", "ทือปฏิบัติ"]:
        assert not vocab.is_word(broken), broken


def test_common_word_is_not_domain_word():
    assert not vocab.is_domain_word("หนังสือพิมพ์")


def test_word_lists_are_loaded_once():
    assert vocab.thai_dictionary() is vocab.thai_dictionary()
    assert vocab.domain_words() is vocab.domain_words()


def test_domain_file_has_no_duplicates():
    lines = domain_file_lines()
    duplicates = sorted({line for line in lines if lines.count(line) > 1})
    assert duplicates == []


def test_domain_file_words_are_thai_and_nfc():
    for line in domain_file_lines():
        assert THAI_WORD.fullmatch(line), line
        assert unicodedata.is_normalized("NFC", line), line


def test_domain_file_words_have_no_doubled_marks():
    for line in domain_file_lines():
        assert not re.search("([\u0e31\u0e34-\u0e3a\u0e47-\u0e4e])\\1", line), line


def test_word_frequencies_come_from_shipped_corpus():
    frequencies = vocab.word_frequencies()
    assert frequencies["ไม่"] > frequencies.get("ไม้", 0)
