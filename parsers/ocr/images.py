"""Page images for OCR: PDF pages rendered with pdfium, and the frames of image files."""
from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2
from PIL import Image, ImageSequence, UnidentifiedImageError

log = logging.getLogger(__name__)

# Tesseract's Thai model reads body text best at about 300 dpi; a page scanned at less
# is enlarged to this before OCR.
OCR_DPI = 300
_LOW_DPI = 250
# Larger images are rejected before decoding, as possible decompression bombs. A
# 300 dpi A3 page is about 17 million pixels.
_MAX_PIXELS = 60_000_000


class ImageUnreadable(Exception):
    """The bytes start like a supported image format, but the image cannot be decoded."""


@dataclass
class PageImage:
    """One page as an image, with the resolution it has."""

    image: Image.Image
    dpi: float


class PdfRenderer:
    """Render pages of one PDF with pdfium, which also decodes JBIG2 and JPEG 2000 scans."""

    def __init__(self, data: bytes):
        self._document = pypdfium2.PdfDocument(data)

    @property
    def page_count(self) -> int:
        return len(self._document)

    def render(self, index: int, dpi: int = OCR_DPI) -> PageImage:
        """Return page `index` (0-based) rendered in grey at `dpi`."""
        page = self._document[index]
        try:
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            image = bitmap.to_pil()
        finally:
            page.close()
        return PageImage(image=image.convert("L") if image.mode != "L" else image, dpi=dpi)

    def close(self) -> None:
        self._document.close()


def image_pages(data: bytes) -> Iterator[PageImage]:
    """Yield each frame of an image file (PNG, JPEG, TIFF, GIF), enlarged to OCR_DPI if scanned coarser.

    Raises ImageUnreadable when the file cannot be decoded.
    """
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > _MAX_PIXELS:
            raise ImageUnreadable(f"the image is {image.width} x {image.height} pixels, over {_MAX_PIXELS}")
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable(f"{type(exc).__name__}: {exc}") from exc
    for frame in ImageSequence.Iterator(image):
        try:
            yield _page_from_frame(frame)
        except (OSError, ValueError) as exc:
            raise ImageUnreadable(f"{type(exc).__name__}: {exc}") from exc


def count_frames(data: bytes) -> int:
    """Return how many pages an image file holds, or raise ImageUnreadable."""
    try:
        image = Image.open(io.BytesIO(data))
        return getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageUnreadable(f"{type(exc).__name__}: {exc}") from exc


def _effective_dpi(frame: Image.Image) -> float:
    """Return the frame's resolution, trusting its tag only when the page size agrees.

    Cameras and some scanners tag every image 72 dpi. A letter is A4 (8.27 inches
    wide), so the short side in pixels over 8.27 is a floor for the real resolution.
    An image without a tag counts as OCR_DPI.
    """
    tag = frame.info.get("dpi")
    if not tag or not tag[0]:
        return float(OCR_DPI)
    from_size = min(frame.size) / 8.27
    return max(float(tag[0]), from_size)


def _page_from_frame(frame: Image.Image) -> PageImage:
    dpi = _effective_dpi(frame)
    if frame.mode not in ("1", "L", "RGB"):
        frame = frame.convert("RGB")
    else:
        frame = frame.copy()
    if dpi < _LOW_DPI:
        factor = OCR_DPI / dpi
        if frame.mode == "1":
            frame = frame.convert("L")
        frame = frame.resize((round(frame.width * factor), round(frame.height * factor)), Image.Resampling.BICUBIC)
        dpi = float(OCR_DPI)
    return PageImage(image=frame, dpi=dpi)
