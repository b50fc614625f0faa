"""OCR of scanned letters: clean the page image, run Tesseract, fix digits, check fields.

Pure: no Flask, database or Redis. `ocr_page` takes one page image and returns its
text with the boxes of every line and the warnings the clerk needs to see.
"""
from __future__ import annotations

import datetime
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from parsers.ocr.clean import clean_page, ink_mask
from parsers.ocr.digits import shipped_recognizer
from parsers.ocr.engine import (
    Box, EngineSettings, OcrFailed, OcrTimeout, OcrUnavailable, check_engine, recognize, recognize_each,
)
from parsers.ocr.images import OCR_DPI, PageImage
from parsers.ocr.fields import FieldReader
from parsers.ocr.layout import TextLine, page_text, split_regions
from parsers.ocr.reread import reread_lines
from parsers.ocr.stamp import find_stamp, replace_stamp_lines, speed_class, stamp_image

__all__ = [
    "OcrSettings", "PageOcr", "OcrUnavailable", "ocr_page", "check_engine",
    "unavailable_warning",
]

log = logging.getLogger(__name__)

DEFAULT_PAGE_TIMEOUT = 60.0


@dataclass(frozen=True)
class OcrSettings:
    """Settings for reading scanned pages; `from_environment` reads them from SARABAN_* variables."""

    command: str = "tesseract"
    languages: str = "tha"
    page_segmentation: int = 3
    page_timeout_seconds: float = DEFAULT_PAGE_TIMEOUT
    # Resolution PDF pages are rendered at for OCR.
    dpi: int = OCR_DPI
    clean: bool = True
    fix_digits: bool = True

    @classmethod
    def from_environment(cls) -> "OcrSettings":
        """Return settings from SARABAN_TESSERACT (command), SARABAN_OCR_LANGUAGES,
        SARABAN_OCR_PAGE_TIMEOUT (seconds) and SARABAN_OCR_DPI (render resolution)."""
        return cls(
            dpi=int(_number_from_environment("SARABAN_OCR_DPI", OCR_DPI)),
            command=os.environ.get("SARABAN_TESSERACT", "tesseract"),
            languages=os.environ.get("SARABAN_OCR_LANGUAGES", "tha"),
            page_timeout_seconds=_number_from_environment("SARABAN_OCR_PAGE_TIMEOUT", DEFAULT_PAGE_TIMEOUT),
        )

    def engine(self) -> EngineSettings:
        return EngineSettings(
            command=self.command,
            languages=self.languages,
            page_segmentation=self.page_segmentation,
            timeout_seconds=self.page_timeout_seconds,
        )


def _number_from_environment(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if number <= 0:
        log.warning("%s=%r is not a positive number; using %s", name, value, default)
        return default
    return number


@dataclass
class PageOcr:
    """The text of one page read by OCR, its lines with boxes, and the page's warnings.

    Boxes are in pixels of the page image as it was given, `image_size` wide and high.
    On a page that was deskewed, a box is the upright box around the tilted value.
    """

    text: str
    lines: list[TextLine]
    image_size: tuple[int, int]
    warnings: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def unavailable_warning(detail: str) -> dict:
    """Return the file-level warning for a machine where Tesseract cannot run."""
    log.warning("OCR unavailable: %s", detail)
    return {
        "code": "ocr_unavailable",
        "message": "ระบบอ่านข้อความจากภาพ (OCR) ไม่พร้อมใช้งานบนเครื่องนี้ หน้าที่เป็นภาพสแกนจึงยังไม่ได้อ่าน กรุณาแจ้งผู้ดูแลระบบ",
        "field": None,
    }


def ocr_page(page: PageImage, page_number: int, settings: OcrSettings) -> PageOcr:
    """Read one page image. Raises OcrUnavailable when Tesseract or its model is missing.

    A page over the time limit or one that Tesseract fails on comes back empty with a
    warning, so one bad page never stops the file.
    """
    started = time.monotonic()
    image = page.image
    size = image.size
    cleaned = None
    colour = None
    if settings.clean:
        cleaned = clean_page(image, dpi=page.dpi)
        image, ink, colour = cleaned.image, cleaned.ink, cleaned.colour
    else:
        ink = ink_mask(image)
    try:
        raw_lines = recognize(image, settings.engine())
    except OcrTimeout as exc:
        log.warning("page %s: %s", page_number, exc)
        return PageOcr(text="", lines=[], image_size=size, warnings=[_timeout_warning(page_number, settings)],
                       seconds=time.monotonic() - started)
    except OcrFailed as exc:
        log.warning("page %s: %s", page_number, exc)
        return PageOcr(text="", lines=[], image_size=size, warnings=[_failed_warning(page_number)],
                       seconds=time.monotonic() - started)
    stamps = _find_speed_stamps(ink, colour, page.dpi)
    stamp_images = [stamp_image(mask, box) for mask, box in stamps]
    if cleaned is not None:
        raw_lines, stamp_reads = reread_lines(raw_lines, cleaned, settings.engine(), extra=stamp_images)
    else:
        stamp_reads = _read_single_lines(stamp_images, settings)
    lines = split_regions(raw_lines)
    for (_, box), read in zip(stamps, stamp_reads or []):
        speed = speed_class(read)
        if speed:
            lines = replace_stamp_lines(lines, box, speed)
            break
    fields = FieldReader(
        ink,
        shipped_recognizer() if settings.fix_digits else None,
        page_number,
        image_size=size,
        current_year_be=datetime.date.today().year + 543,
    )
    fields.read(lines)
    if cleaned is not None:
        _map_boxes(lines, fields.warnings, cleaned.box_in_original)
    seconds = time.monotonic() - started
    log.info("page %s read by OCR in %.2f s: %d lines, %d warnings", page_number, seconds, len(lines),
             len(fields.warnings))
    return PageOcr(text=page_text(lines), lines=lines, image_size=size, warnings=fields.warnings, seconds=seconds)


def _find_speed_stamps(ink, colour, dpi: float) -> list[tuple[np.ndarray, Box]]:
    """Return the masks and boxes of large stamp letters, in black ink first, then in coloured ink.

    A red stamp was dropped from the page with the other coloured ink, so it is looked
    for in the coloured ink too. The first of them that spells a speed class is used.
    """
    found = []
    for mask in (ink, colour):
        if mask is None:
            continue
        box = find_stamp(mask, dpi)
        if box is not None:
            found.append((mask, box))
    return found


def _read_single_lines(images: list[Image.Image], settings: OcrSettings) -> list[list] | None:
    """Return the lines of each image read as a single line, or None when Tesseract failed."""
    if not images:
        return []
    engine = settings.engine()
    single = EngineSettings(command=engine.command, languages=engine.languages, page_segmentation=7,
                            timeout_seconds=engine.timeout_seconds)
    try:
        return recognize_each(images, single)
    except (OcrTimeout, OcrFailed) as exc:
        log.info("speed stamp not read: %s", exc)
        return None


def _map_boxes(lines: list[TextLine], warnings: list[dict], to_page: Callable[[Box], Box]) -> None:
    """Move every box of `lines` and `warnings` from the cleaned image to the page image's pixels."""
    for warning in warnings:
        if warning.get("box"):
            warning["box"] = list(to_page(tuple(warning["box"])))
    for line in lines:
        line.box = to_page(line.box)
        line.char_boxes = [None if b is None else to_page(b) for b in line.char_boxes]
        for word in line.words:
            word.box = to_page(word.box)
            for char in word.chars:
                char.box = to_page(char.box)


def _timeout_warning(page_number: int, settings: OcrSettings) -> dict:
    return {
        "code": "ocr_timeout",
        "message": f"อ่านหน้า {page_number} ด้วย OCR ไม่เสร็จภายใน {settings.page_timeout_seconds:g} วินาที จึงข้ามหน้านี้ กรุณาตรวจหน้านี้เอง",
        "field": None,
        "page": page_number,
    }


def _failed_warning(page_number: int) -> dict:
    return {
        "code": "ocr_failed",
        "message": f"อ่านหน้า {page_number} ด้วย OCR ไม่สำเร็จ กรุณาตรวจหน้านี้เอง",
        "field": None,
        "page": page_number,
    }
