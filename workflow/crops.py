"""Cut the image of one OCR value out of a stored original, for the clerk to compare with the text.

A `low_confidence` warning of the OCR carries the page number, the value's box in pixels
and the size of the page image that OCR read (`image_size`). The page is rendered again
at that size, pypdfium2 for a PDF and Pillow for an image file, the same way
`parsers.ocr.images` renders it for OCR, and the box with a margin is cut out.
"""

from __future__ import annotations

import io

import pypdfium2
from PIL import Image

from parsers.ocr.images import ImageUnreadable, image_pages
from workflow.errors import NotFound

PDF_MAGIC = b"%PDF-"
CROP_WARNING_CODES = frozenset({"low_confidence"})
# Margin around the box, as a share of the box's height, so that strokes cut off by the
# box and the words beside the value show too.
MARGIN_HEIGHTS = 0.6
MIN_MARGIN_PX = 12
# A page image over this many pixels is not rendered; OCR renders an A3 page at 300 dpi
# to about 17 million.
MAX_PAGE_PIXELS = 60_000_000
# A crop wider than this is scaled down to it, so that a box around a whole line stays small.
MAX_CROP_WIDTH_PX = 1600


class CropUnavailable(NotFound):
    """A warning without a usable page box, or an original that no longer renders."""


def _unavailable(detail: str) -> CropUnavailable:
    return CropUnavailable(
        "crop_not_available",
        "ไม่มีภาพตัดจากต้นฉบับสำหรับข้อสังเกตนี้ กรุณาเปิดไฟล์ต้นฉบับเพื่อตรวจ",
        detail,
    )


def crop_geometry(warning: dict) -> tuple[int, tuple[int, int, int, int], tuple[int, int]]:
    """Return the warning's page number, box and page image size, checked; raises CropUnavailable."""
    if not isinstance(warning, dict) or warning.get("code") not in CROP_WARNING_CODES:
        raise _unavailable("the warning is not an OCR value warning")
    page, box, size = warning.get("page"), warning.get("box"), warning.get("image_size")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise _unavailable(f"invalid page {page!r}")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise _unavailable(f"invalid image_size {size!r}")
    if size[0] * size[1] > MAX_PAGE_PIXELS:
        raise _unavailable(f"image_size {size!r} is over {MAX_PAGE_PIXELS} pixels")
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) for v in box)):
        raise _unavailable(f"invalid box {box!r}")
    left, top, right, bottom = box
    if not (0 <= left < right <= size[0] and 0 <= top < bottom <= size[1]):
        raise _unavailable(f"box {box!r} is not inside the page image {size!r}")
    return page, (left, top, right, bottom), (size[0], size[1])


def crop_bounds(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Return the box grown by the margin on every side and clipped to the page image."""
    left, top, right, bottom = box
    margin = max(MIN_MARGIN_PX, round((bottom - top) * MARGIN_HEIGHTS))
    return max(0, left - margin), max(0, top - margin), min(size[0], right + margin), min(size[1], bottom + margin)


def _pdf_page(data: bytes, page: int, size: tuple[int, int]) -> Image.Image:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        raise _unavailable(f"the PDF cannot be opened: {error}") from error
    try:
        if page > len(document):
            raise _unavailable(f"page {page} of a {len(document)}-page PDF")
        pdf_page = document[page - 1]
        try:
            # OCR rendered the page in grey at some resolution; its width in pixels gives the scale back.
            bitmap = pdf_page.render(scale=size[0] / pdf_page.get_width(), grayscale=True)
            image = bitmap.to_pil()
        finally:
            pdf_page.close()
    finally:
        document.close()
    return image.convert("L") if image.mode != "L" else image


def _image_page(data: bytes, page: int) -> Image.Image:
    try:
        for number, frame in enumerate(image_pages(data), start=1):
            if number == page:
                return frame.image
    except ImageUnreadable as error:
        raise _unavailable(f"the image cannot be decoded: {error}") from error
    raise _unavailable(f"page {page} is past the image file's last frame")


def render_crop(data: bytes, warning: dict) -> bytes:
    """Return the PNG of a warning's box and its margin, cut from the original `data`.

    The page is rendered at the warning's `image_size`, so the PNG is as large as the
    padded box in those pixels (scaled down to MAX_CROP_WIDTH_PX wide at most). Raises
    CropUnavailable when the warning has no usable box or the page cannot be rendered.
    NOTE: each call renders the whole page again (about a quarter of a second for an A4
    scan at 300 dpi on the development machine), once per crop on a page with several.
    """
    page, box, size = crop_geometry(warning)
    if data.startswith(PDF_MAGIC):
        image = _pdf_page(data, page, size)
    else:
        image = _image_page(data, page)
    if image.size != size:
        # A rendering a pixel off from OCR's, from rounding the resolution, is stretched to match.
        image = image.resize(size, Image.Resampling.BILINEAR)
    crop = image.crop(crop_bounds(box, size))
    if crop.width > MAX_CROP_WIDTH_PX:
        height = max(1, round(crop.height * MAX_CROP_WIDTH_PX / crop.width))
        crop = crop.resize((MAX_CROP_WIDTH_PX, height), Image.Resampling.LANCZOS)
    if crop.mode not in ("1", "L", "RGB"):
        crop = crop.convert("RGB")
    buffer = io.BytesIO()
    crop.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
