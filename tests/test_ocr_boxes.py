"""Boxes of OCR values on a tilted page land on the value in the page image as given."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from parsers.ocr import OcrSettings, ocr_page
from parsers.ocr.clean import clean_page
from parsers.ocr.images import PageImage
from tests.test_ocr import DPI, SARABUN

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs the tesseract command")

PAGE_SIZE = (2480, 3508)
FONT = ImageFont.truetype(str(SARABUN), round(16 * DPI / 72))
# The serial is in Thai digits, which the Thai model misreads, so the digit recognizer
# reads it and the value gets a low_confidence warning with its box. It is near the
# top-left corner, where a box left unrotated would be furthest off.
NUMBER_PREFIX = "ที่ มท ๐๘๐๘.๒/ว "
SERIAL = "๑๓๕๒"
NUMBER_AT = (150, 300)
OTHER_LINES = [
    ("กรมส่งเสริมการปกครองท้องถิ่น", (1500, 300)),
    ("๑๗ สิงหาคม ๒๕๔๙", (1000, 540)),
    ("เรื่อง ระเบียบกระทรวงมหาดไทยว่าด้วยการเงิน การคลัง และการพัสดุ", (150, 660)),
    ("เรียน ผู้ว่าราชการจังหวัด ทุกจังหวัด", (150, 780)),
    ("จึงเรียนมาเพื่อโปรดทราบ", (500, 1500)),
    ("โทร. ๐ ๒๒๔๑ ๙๐๔๙", (150, 3100)),
]


def _draw(page: Image.Image, with_serial: bool, with_rest: bool) -> None:
    draw = ImageDraw.Draw(page)
    prefix_width = draw.textlength(NUMBER_PREFIX, font=FONT)
    if with_rest:
        draw.text(NUMBER_AT, NUMBER_PREFIX, font=FONT, fill=0)
        for text, at in OTHER_LINES:
            draw.text(at, text, font=FONT, fill=0)
    if with_serial:
        draw.text((NUMBER_AT[0] + prefix_width, NUMBER_AT[1]), SERIAL, font=FONT, fill=0)


def tilted(image: Image.Image, degrees: float) -> Image.Image:
    """Return `image` turned counter-clockwise about its centre, as a scanner tilts a sheet."""
    return image.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)


def ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    ink = np.asarray(image) < 128
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def overlap_share(box, truth) -> float:
    """Return the area shared by `box` and `truth` over the area of their union."""
    width = max(0, min(box[2], truth[2]) - max(box[0], truth[0]))
    height = max(0, min(box[3], truth[3]) - max(box[1], truth[1]))
    shared = width * height
    area = (box[2] - box[0]) * (box[3] - box[1]) + (truth[2] - truth[0]) * (truth[3] - truth[1]) - shared
    return shared / area


def page_pair(degrees: float) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Return the tilted letter page and the ink box of the serial alone on the same tilt."""
    page = Image.new("L", PAGE_SIZE, 255)
    _draw(page, with_serial=True, with_rest=True)
    serial_only = Image.new("L", PAGE_SIZE, 255)
    _draw(serial_only, with_serial=True, with_rest=False)
    return tilted(page, degrees), ink_box(tilted(serial_only, degrees))


@pytest.mark.parametrize("degrees", [2.5, -2.0])
def test_serial_box_lands_on_serial(degrees):
    page, truth = page_pair(degrees)
    result = ocr_page(PageImage(image=page, dpi=DPI), 1, OcrSettings())
    serial_warnings = [w for w in result.warnings if w.get("field") == "doc_number"]
    assert len(serial_warnings) == 1
    warning = serial_warnings[0]
    assert warning["image_size"] == list(PAGE_SIZE)
    box = warning["box"]
    assert overlap_share(box, truth) >= 0.6, (box, truth)
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    truth_centre = ((truth[0] + truth[2]) / 2, (truth[1] + truth[3]) / 2)
    assert abs(centre[0] - truth_centre[0]) <= 15
    assert abs(centre[1] - truth_centre[1]) <= 15


def test_line_box_lands_on_line_at_bottom():
    page, _ = page_pair(2.5)
    phone_only = Image.new("L", PAGE_SIZE, 255)
    ImageDraw.Draw(phone_only).text(OTHER_LINES[-1][1], OTHER_LINES[-1][0], font=FONT, fill=0)
    truth = ink_box(tilted(phone_only, 2.5))
    result = ocr_page(PageImage(image=page, dpi=DPI), 1, OcrSettings())
    phone = next(line for line in result.lines if line.text.startswith("โทร"))
    assert overlap_share(phone.box, truth) >= 0.6, (phone.box, truth)


def test_deskew_box_map_inverts_rotation():
    page = Image.new("L", PAGE_SIZE, 255)
    ImageDraw.Draw(page).rectangle((300, 200, 700, 260), fill=0)
    ImageDraw.Draw(page).rectangle((1800, 3000, 2200, 3060), fill=0)
    cleaned = clean_page(tilted(page, 3.0), dpi=DPI)
    assert cleaned.skew_degrees == pytest.approx(-3.0, abs=0.15)
    rows = np.flatnonzero(cleaned.ink[: cleaned.ink.shape[0] // 2].any(axis=1))
    columns = np.flatnonzero(cleaned.ink[: cleaned.ink.shape[0] // 2].any(axis=0))
    upper = (int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1)
    bar = Image.new("L", PAGE_SIZE, 255)
    ImageDraw.Draw(bar).rectangle((300, 200, 700, 260), fill=0)
    truth = ink_box(tilted(bar, 3.0))
    mapped = cleaned.box_in_original(upper)
    assert overlap_share(mapped, truth) >= 0.8, (mapped, truth)


def test_grey_crop_matches_cleaned_ink_on_tilted_page():
    page, _ = page_pair(2.5)
    cleaned = clean_page(page, dpi=DPI)
    rows = np.flatnonzero(cleaned.ink.any(axis=1))
    columns = np.flatnonzero(cleaned.ink.any(axis=0))
    # The first text line of the cleaned page: the number and the issuer.
    box = (int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[0]) + 120)
    grey = np.asarray(cleaned.grey_crop(box)) < 128
    ink = cleaned.ink[box[1]:box[3], box[0]:box[2]]
    shared = (grey & ink).sum()
    assert grey.shape == ink.shape
    assert shared >= 0.8 * ink.sum()
    assert shared >= 0.8 * grey.sum()
