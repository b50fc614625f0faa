"""Reading uploaded bytes: encodings, PDFs, and files that cannot be read."""
import io

import pypdf
import pytest

from parsers.errors import InputError
from parsers.reader import read_document
from tests.pdfmaker import blank_pdf, thai_pdf

LETTER_LINES = [
    "ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐",
    "ศาลากลางจังหวัดเชียงราย",
    "๒ เมษายน ๒๕๖๘",
    "เรื่อง การใช้งานระบบบัญชี Carbon Credit",
]
LETTER_TEXT = "\n".join(LETTER_LINES) + "\n"


def test_utf8_text_is_read_as_one_page():
    result = read_document(LETTER_TEXT.encode("utf-8"))
    assert result.text_source == "plain"
    assert result.pages == [LETTER_TEXT]


def test_utf8_with_bom_drops_the_bom():
    result = read_document(b"\xef\xbb\xbf" + LETTER_TEXT.encode("utf-8"))
    assert result.pages[0].startswith("ที่ ชร")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_is_decoded(encoding):
    data = LETTER_TEXT.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    assert read_document(data).pages == [LETTER_TEXT]


def test_tis620_text_is_decoded():
    data = LETTER_TEXT.encode("tis-620")
    assert read_document(data).pages == [LETTER_TEXT]


def test_form_feed_starts_a_new_page():
    text = "หน้าแรก ด่วนที่สุด\n\fสิ่งที่ส่งมาด้วย\n"
    assert read_document(text.encode()).pages == ["หน้าแรก ด่วนที่สุด\n", "สิ่งที่ส่งมาด้วย\n"]


def test_crlf_line_ends_become_newlines():
    assert read_document("เรื่อง ทดสอบ\r\nเรียน นายอำเภอ\r\n".encode()).pages == ["เรื่อง ทดสอบ\nเรียน นายอำเภอ\n"]


def test_pdf_text_layer_is_extracted_per_page():
    data = thai_pdf([LETTER_LINES[:2], LETTER_LINES[2:]])
    result = read_document(data)
    assert result.text_source == "pdf-text"
    assert len(result.pages) == 2
    assert "ศาลากลางจังหวัดเชียงราย" in result.pages[0]
    assert "เมษายน" in result.pages[1]
    assert result.warnings == []


def test_pdf_page_without_text_is_reported():
    result = read_document(blank_pdf(2))
    codes = [(w["code"], w["page"]) for w in result.warnings]
    assert codes == [("page_without_text", 1), ("page_without_text", 2)]
    assert "หน้า 1" in result.warnings[0]["message"]


def test_progress_is_reported_for_every_page():
    seen = []
    read_document(thai_pdf([["หน้า ๑"], ["หน้า ๒"], ["หน้า ๓"]]), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def _error_code(data: bytes, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        read_document(data, **kwargs)
    return caught.value


def test_empty_file_is_rejected():
    error = _error_code(b"")
    assert error.code == "empty_file"
    assert "ว่าง" in error.message_th


def test_html_named_pdf_is_rejected_by_content():
    error = _error_code(b"<!DOCTYPE html><html><body>\xe0\xb8\x97\xe0\xb8\xb5\xe0\xb9\x88</body></html>")
    assert error.code == "unsupported_type"
    assert "HTML" in error.message_th


def test_zip_is_rejected():
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("letter.txt", LETTER_TEXT)
    assert _error_code(buffer.getvalue()).code == "unsupported_type"


def test_truncated_pdf_is_corrupt():
    data = thai_pdf([LETTER_LINES])
    assert _error_code(data[: len(data) // 3]).code == "corrupt_pdf"


def test_pdf_with_user_password_is_encrypted():
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(thai_pdf([LETTER_LINES])))
    writer.encrypt("รหัสลับ")
    buffer = io.BytesIO()
    writer.write(buffer)
    error = _error_code(buffer.getvalue())
    assert error.code == "encrypted_pdf"
    assert "รหัสผ่าน" in error.message_th


def test_pdf_with_owner_password_only_is_read():
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(thai_pdf([LETTER_LINES])))
    writer.encrypt("", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "เชียงราย" in read_document(buffer.getvalue()).pages[0]


def test_file_over_the_limit_is_rejected():
    error = _error_code(LETTER_TEXT.encode() * 10, max_bytes=100)
    assert error.code == "file_too_large"


def test_binary_bytes_are_not_text():
    assert _error_code(bytes(range(256)) * 4).code == "unsupported_type"


def test_damaged_png_is_corrupt_image():
    assert _error_code(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).code == "corrupt_image"
