"""Image crops of low-confidence OCR values: cut from the stored original and shown on the letter page."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image, ImageChops

from tests.conftest import PROJECT_ROOT
from tests.test_web import sign_in, upload
from workflow import crops, jobs
from workflow.errors import NotFound
from workflow.models import Letter

# Real DLA circulars scanned by a Tambon office, without a text layer (kept outside the project).
SCANS = Path(os.environ.get("SARABAN_SAMPLES_REAL", PROJECT_ROOT.parent / "shared" / "samples-real"))
SCAN = SCANS / "dla_30_mt-0809-3-w159.pdf"
CROP_URL = re.compile(r'src="(/letters/(\d+)/warnings/(\d+)/crop\.png)"')


def png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def padded_size(warning: dict) -> tuple[int, int]:
    left, top, right, bottom = crops.crop_bounds(tuple(warning["box"]), tuple(warning["image_size"]))
    return right - left, bottom - top


# --- cutting a crop ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def typed_page_png() -> tuple[bytes, Image.Image]:
    from tests.test_ocr import letter_page, png_bytes

    page = letter_page()
    return png_bytes(page), page


def test_image_crop_matches_page_pixels(typed_page_png):
    data, page = typed_page_png
    # The date line of `letter_page`, set at x=1000 on the third line.
    warning = {"code": "low_confidence", "field": "date", "page": 1, "box": [990, 530, 1500, 620],
               "image_size": [page.width, page.height], "text": "17 สิงหาคม 2549"}
    png = crops.render_crop(data, warning)
    cut = Image.open(io.BytesIO(png))
    bounds = crops.crop_bounds((990, 530, 1500, 620), page.size)
    assert cut.size == (bounds[2] - bounds[0], bounds[3] - bounds[1])
    assert ImageChops.difference(cut.convert("L"), page.crop(bounds)).getbbox() is None
    # The date's ink is in the crop, not a blank patch of paper.
    assert cut.convert("L").getextrema()[0] < 100


def test_pdf_crop_rendered_at_ocr_size():
    from tests.pdfmaker import thai_pdf

    data = thai_pdf([["ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐", "๒ เมษายน ๒๕๖๘"]])
    document = pypdfium2.PdfDocument(data)
    width_pt, height_pt = document[0].get_size()
    document.close()
    size = [round(width_pt * 300 / 72), round(height_pt * 300 / 72)]
    warning = {"code": "low_confidence", "field": "date", "page": 1, "box": [200, 300, 800, 380], "image_size": size}
    assert png_size(crops.render_crop(data, warning)) == padded_size(warning)


def test_wide_crop_scaled_down(typed_page_png):
    data, page = typed_page_png
    warning = {"code": "low_confidence", "page": 1, "box": [0, 280, page.width, 420], "image_size": list(page.size)}
    bounds_width, bounds_height = padded_size(warning)
    width, height = png_size(crops.render_crop(data, warning))
    assert width == crops.MAX_CROP_WIDTH_PX
    assert height == round(bounds_height * crops.MAX_CROP_WIDTH_PX / bounds_width)


@pytest.mark.parametrize(
    "warning",
    [
        {"code": "corrected_text", "page": 1, "box": [1, 1, 10, 10], "image_size": [100, 100]},
        {"code": "low_confidence", "field": "doc_number"},
        {"code": "low_confidence", "page": 0, "box": [1, 1, 10, 10], "image_size": [100, 100]},
        {"code": "low_confidence", "page": 1, "box": [50, 50, 150, 60], "image_size": [100, 100]},
        {"code": "low_confidence", "page": 1, "box": [10, 10, 5, 20], "image_size": [100, 100]},
        {"code": "low_confidence", "page": 1, "box": [1, 1, 10, 10], "image_size": [100000, 100000]},
        {"code": "low_confidence", "page": 1, "box": ["1", 1, 10, 10], "image_size": [100, 100]},
    ],
    ids=["other-code", "no-box", "page-zero", "box-outside", "box-inverted", "huge-page", "text-coordinate"],
)
def test_unusable_warning_has_no_crop(warning):
    with pytest.raises(crops.CropUnavailable) as raised:
        crops.crop_geometry(warning)
    assert raised.value.code == "crop_not_available"
    assert isinstance(raised.value, NotFound)


def test_page_past_end_has_no_crop(typed_page_png):
    data, page = typed_page_png
    warning = {"code": "low_confidence", "page": 2, "box": [10, 10, 50, 50], "image_size": list(page.size)}
    with pytest.raises(crops.CropUnavailable):
        crops.render_crop(data, warning)


# --- a real scan through the web pages ----------------------------------------------------


def first_page(data: bytes) -> bytes:
    source = pypdfium2.PdfDocument(data)
    single = pypdfium2.PdfDocument.new()
    single.import_pages(source, [0])
    buffer = io.BytesIO()
    single.save(buffer)
    single.close()
    source.close()
    return buffer.getvalue()


@pytest.fixture
def scanned_letter(app, session, users):
    """Page 1 of a real scanned DLA circular with a handwritten serial and day, uploaded and read by OCR."""
    if shutil.which("tesseract") is None:
        pytest.skip("needs the tesseract command")
    if not SCAN.is_file():
        pytest.skip(f"the real scans are not at {SCANS} (set SARABAN_SAMPLES_REAL)")
    client = app.test_client()
    sign_in(client)
    response = upload(client, ("มท0809.3-ว159.pdf", first_page(SCAN.read_bytes())))
    assert response.status_code == 302
    jobs.thread_worker(app).wait_until_idle()
    document_url = response.headers["Location"]
    return client, document_url


def test_scan_crops_shown_beside_values(app, session, scanned_letter):
    client, document_url = scanned_letter
    page = client.get(document_url).get_data(as_text=True)
    found = CROP_URL.findall(page)
    assert found, "the letter page shows no crop"
    letter_id = int(found[0][1])
    letter = session.get(Letter, letter_id)
    boxed = [(index, w) for index, w in enumerate(letter.warnings) if w["code"] == "low_confidence" and w.get("box")]
    assert boxed
    assert {int(index) for _, _, index in found} == {index for index, _ in boxed}

    # Each crop sits in the row of the field its warning is about.
    for index, warning in boxed:
        row = re.search(rf'<tr class="field[^"]*"[^>]*data-field="{warning["field"]}".*?</tr>', page, re.S)
        assert row is not None, warning["field"]
        assert f"/letters/{letter_id}/warnings/{index}/crop.png" in row.group(0)

    # Each crop is a PNG of the warning's box with its margin, in the pixels OCR read.
    for url, _, index in found:
        warning = letter.warnings[int(index)]
        response = client.get(html.unescape(url))
        assert response.status_code == 200, url
        assert response.mimetype == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert png_size(response.data) == padded_size(warning)


def test_scan_crop_checked_like_document(app, session, scanned_letter):
    client, document_url = scanned_letter
    url = CROP_URL.search(client.get(document_url).get_data(as_text=True)).group(1)
    letter_id = int(url.split("/")[2])
    letter = session.get(Letter, letter_id)

    other = app.test_client()
    sign_in(other, username="malee")
    denied = other.get(url)
    assert denied.status_code == 403
    assert "document_access_denied" in denied.get_data(as_text=True)
    assert denied.mimetype == "text/html"

    assert client.get(f"/letters/{letter_id}/warnings/{len(letter.warnings)}/crop.png").status_code == 404
    assert client.get("/letters/999999/warnings/0/crop.png").status_code == 404
    for index, warning in enumerate(letter.warnings):
        if warning.get("box"):
            continue
        response = client.get(f"/letters/{letter_id}/warnings/{index}/crop.png")
        assert response.status_code == 404
        assert "crop_not_available" in response.get_data(as_text=True)


# --- a file-level warning, on a page no letter covers ---------------------------------------


def test_file_level_crop_shown_and_served(app, session, store, users, typed_page_png):
    from workflow import operations
    from workflow.models import JOB_DONE

    data, page = typed_page_png
    warning = {"code": "low_confidence", "message": "หน้า 1: เลขที่หนังสืออ่านจากภาพไม่ชัด กรุณาตรวจกับภาพต้นฉบับ",
               "field": None, "page": 1, "box": [140, 400, 900, 480], "image_size": list(page.size),
               "text": "ที่ มท 0808.2/ว 1352"}
    ingested = operations.ingest_upload(session, store, data, "สแกน-มท0808.2-ว1352.png", users["clerk"], 2 * 1024 * 1024)
    ingested.document.warnings = [{"code": "ocr_unavailable", "message": "ไม่พบโปรแกรม OCR", "field": None}, warning]
    ingested.document.pages = 1
    ingested.job.status = JOB_DONE
    session.commit()
    client = app.test_client()
    sign_in(client)

    page_html = client.get(f"/documents/{ingested.document.id}").get_data(as_text=True)
    assert f'src="/documents/{ingested.document.id}/warnings/1/crop.png"' in page_html
    assert f"/documents/{ingested.document.id}/warnings/0/crop.png" not in page_html

    response = client.get(f"/documents/{ingested.document.id}/warnings/1/crop.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert png_size(response.data) == padded_size(warning)
    assert client.get(f"/documents/{ingested.document.id}/warnings/0/crop.png").status_code == 404
    assert client.get(f"/documents/{ingested.document.id}/warnings/2/crop.png").status_code == 404

    other = app.test_client()
    sign_in(other, username="malee")
    assert other.get(f"/documents/{ingested.document.id}/warnings/1/crop.png").status_code == 403
