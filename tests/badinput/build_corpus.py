"""Build the corpus of bad and odd uploads into a folder, at test time.

Nothing here is committed as a binary: every file is generated. Run it alone to look
at the files:

    .venv/bin/python -m tests.badinput.build_corpus /tmp/badinput

Each entry of `CASES` names a file, how to build it, and what reading it must give:
an error `code`, or `None` for a normal result (possibly with warnings).
"""
from __future__ import annotations

import io
import re
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pypdf
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.pdfmaker import blank_pdf, thai_pdf

LETTER_LINES = [
    "ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐",
    "ศาลากลางจังหวัดเชียงราย",
    "๒ เมษายน ๒๕๖๘",
    "เรื่อง การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น",
    "เรียน นายอำเภอ ทุกอำเภอ",
    "ขอให้รายงานรายชื่อเจ้าหน้าที่ผู้รับผิดชอบ ภายในวันที่ ๑๑ เมษายน ๒๕๖๘",
    "ขอแสดงความนับถือ",
]
LETTER_TEXT = "\n".join(LETTER_LINES) + "\n"
ENGLISH_LETTER = """Ref. No. 2025/041
Embassy of Example, Bangkok
2 April 2025
Subject: Invitation to the regional waste-management workshop
Dear Governor of Chiang Rai,
We have the honour to invite two officers of your province to the workshop on 20 May 2025.
Yours sincerely,
(John Smith)
First Secretary
"""
# Pages of the many-pages case: over the reader's page limit.
MANY_PAGES = 800
# Size the FlateDecode bomb inflates to. Its compressed stream is about 1 MB.
BOMB_INFLATED_BYTES = 1024 * 1024 * 1024
# Depth of nested arrays and dictionaries in the deep-nesting case.
NESTING_DEPTH = 50_000


def letter_pdf() -> bytes:
    return thai_pdf([LETTER_LINES])


def truncated_pdf() -> bytes:
    data = letter_pdf()
    return data[: len(data) * 2 // 3]


def bad_xref_pdf() -> bytes:
    """The letter PDF with every offset of its cross-reference table and `startxref` wrong."""
    data = letter_pdf()
    xref_at = data.rindex(b"\nxref\n") + 1
    head, table = data[:xref_at], data[xref_at:]
    table = re.sub(rb"(?m)^\d{10} (\d{5} [nf])", lambda m: b"0000000017 " + m.group(1), table)
    table = re.sub(rb"startxref\s+\d+", b"startxref\n99999", table)
    return head + table


def _encrypted(user_password: str, owner_password: str, algorithm: str = "RC4-128") -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(letter_pdf()))
    writer.encrypt(user_password, owner_password=owner_password, algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted_user_password_pdf() -> bytes:
    return _encrypted("รหัสเปิดไฟล์", "owner-2568")


def encrypted_owner_only_pdf() -> bytes:
    return _encrypted("", "owner-2568")


def aes_user_password_pdf() -> bytes:
    return _encrypted("รหัสเปิดไฟล์", "owner-2568", "AES-256")


def aes_owner_only_pdf() -> bytes:
    """AES-256 with only an owner password, as Word writes a PDF whose editing is restricted."""
    return _encrypted("", "owner-2568", "AES-256")


def many_blank_pages_pdf() -> bytes:
    return blank_pdf(MANY_PAGES)


def _pdf_from_objects(objects: list[bytes]) -> bytes:
    """Assemble a PDF whose object n+1 is objects[n], with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref_at = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at))
    return out.getvalue()


def _one_page(contents: bytes, resources: bytes = b"<< >>") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources " + resources + b" /Contents 4 0 R >>",
        contents,
    ]


def _zeros_deflated() -> bytes:
    """Return BOMB_INFLATED_BYTES of zeros, deflated a megabyte at a time so the gigabyte never exists in memory."""
    compressor = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(BOMB_INFLATED_BYTES // len(chunk))]
    parts.append(compressor.flush())
    return b"".join(parts)


def flate_bomb_pdf() -> bytes:
    """One page whose content stream inflates to BOMB_INFLATED_BYTES of zeros."""
    stream = _zeros_deflated()
    contents = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"
    return _pdf_from_objects(_one_page(contents))


def _xobject_bomb_pdf(xobject_dictionary: bytes, contents_text: bytes) -> bytes:
    stream = _zeros_deflated()
    xobject = xobject_dictionary + b" /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"
    contents = b"<< /Length %d >>\nstream\n" % len(contents_text) + contents_text + b"\nendstream"
    return _pdf_from_objects(_one_page(contents, resources=b"<< /XObject << /X1 5 0 R >> >>") + [xobject])


def form_bomb_pdf() -> bytes:
    """One page that draws a form XObject whose stream inflates to BOMB_INFLATED_BYTES."""
    return _xobject_bomb_pdf(b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842]", b"/X1 Do")


def image_bomb_pdf() -> bytes:
    """One page that draws a 32768 x 32768 grey image, a gigabyte once decoded, and has no text."""
    return _xobject_bomb_pdf(
        b"<< /Type /XObject /Subtype /Image /Width 32768 /Height 32768 /ColorSpace /DeviceGray /BitsPerComponent 8",
        b"q 595 0 0 842 0 0 cm /X1 Do Q",
    )


def deep_nesting_pdf() -> bytes:
    """A page whose resources hold arrays and dictionaries nested NESTING_DEPTH deep."""
    nested = b"[<< /A " * NESTING_DEPTH + b"0" + b" >>]" * NESTING_DEPTH
    contents_text = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"
    contents = b"<< /Length %d >>\nstream\n" % len(contents_text) + contents_text + b"\nendstream"
    return _pdf_from_objects(_one_page(contents, resources=b"<< /Deep " + nested + b" >>"))


def _png(width: int, height: int, rows: Callable[[int], bytes]) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + rows(y) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def white_png() -> bytes:
    """A 200 x 100 grey-scale PNG, all white."""
    return _png(200, 100, lambda _y: b"\xff" * 200)


def image_only_pdf() -> bytes:
    """One page holding only a drawn grey box and no text layer, like a scan."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setFillGray(0.85)
    pdf.rect(72, 500, 300, 200, fill=1, stroke=0)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def html_page() -> bytes:
    return "<!DOCTYPE html><html><head><title>ระบบสารบรรณ</title></head><body>เข้าสู่ระบบ</body></html>".encode()


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("หนังสือ.txt", LETTER_TEXT)
    return buffer.getvalue()


def binary_bytes() -> bytes:
    """Bytes of no text encoding: every byte value, four times, starting with NUL."""
    return bytes(range(256)) * 4


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[], bytes]
    # Error code reading must give, or None for a normal result.
    error: str | None
    # Whether the case is big or slow enough to run only in the tests that measure memory.
    heavy: bool = False


CASES = [
    Case("empty", "ว่าง.pdf", lambda: b"", "empty_file"),
    Case("truncated_pdf", "ตัดท้าย.pdf", truncated_pdf, "corrupt_pdf"),
    Case("bad_xref_pdf", "xref-เสีย.pdf", bad_xref_pdf, None),
    Case("encrypted_user_password", "เข้ารหัส.pdf", encrypted_user_password_pdf, "encrypted_pdf"),
    Case("encrypted_owner_only", "เข้ารหัส-เจ้าของ.pdf", encrypted_owner_only_pdf, None),
    Case("aes_user_password", "เข้ารหัส-aes.pdf", aes_user_password_pdf, "encrypted_pdf"),
    Case("aes_owner_only", "เข้ารหัส-aes-เจ้าของ.pdf", aes_owner_only_pdf, None),
    Case("many_blank_pages", "๘๐๐-หน้า.pdf", many_blank_pages_pdf, "too_many_pages", heavy=True),
    Case("flate_bomb", "bomb.pdf", flate_bomb_pdf, "content_too_large", heavy=True),
    Case("form_bomb", "bomb-form.pdf", form_bomb_pdf, "content_too_large", heavy=True),
    Case("image_bomb", "bomb-ภาพ.pdf", image_bomb_pdf, "image_too_large", heavy=True),
    Case("deep_nesting", "ซ้อนลึก.pdf", deep_nesting_pdf, None),
    Case("image_only_pdf", "สแกน.pdf", image_only_pdf, None),
    Case("english_letter", "english.txt", lambda: ENGLISH_LETTER.encode(), None),
    Case("html_named_pdf", "หนังสือ.pdf", html_page, "unsupported_type"),
    Case("zip_named_pdf", "แนบ.pdf", zip_archive, "unsupported_type"),
    Case("png_named_pdf", "ภาพ.pdf", white_png, None),
    Case("utf16_text", "utf16.txt", lambda: LETTER_TEXT.encode("utf-16"), None),
    Case("tis620_text", "tis620.txt", lambda: LETTER_TEXT.encode("tis-620"), None),
    Case("binary_named_txt", "ข้อมูล.txt", binary_bytes, "unsupported_type"),
]
CASES_BY_NAME = {case.name: case for case in CASES}

# Upload names as a browser or an e-office export may send them, and the stored name each must become.
ODD_FILENAMES = [
    ("../../etc/x.pdf", "x.pdf"),
    ("C:\\temp\\a.pdf", "a.pdf"),
    ("\u202egdp.ตอบกลับ", "gdp.ตอบกลับ"),
    ("หนังสือ\x00.pdf", "หนังสือ.pdf"),
    ("ก" * 300 + ".pdf", None),
    ("หนังสือเวียน มท ๐๘๒๑.๒-ว ๑๔๔๖.pdf", "หนังสือเวียน มท ๐๘๒๑.๒-ว ๑๔๔๖.pdf"),
]


def build(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write the named cases (all when `names` is None) into `folder`; return their paths by case name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in CASES:
        if names is not None and case.name not in names:
            continue
        path = folder / f"{case.name}-{case.filename}"
        path.write_bytes(case.build())
        paths[case.name] = path
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "badinput")
    for name, path in build(target).items():
        print(f"{name}\t{path.stat().st_size}\t{path}")
