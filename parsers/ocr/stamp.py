"""Read the speed stamp (ด่วนที่สุด, ด่วนมาก, ด่วน) above the document number on its own.

The stamp is set in letters two to three times body size, often in outline with a
halftone fill, and Tesseract's page segmentation reads it as noise. Cut out alone and
read as one line, it comes out right, so its letters are found by size in the top of
the page and read as a single line, in the run that reads split lines again.
"""
from __future__ import annotations

import logging

import numpy as np
from PIL import Image
from scipy import ndimage

from parsers.ocr.engine import Box, Line
from parsers.ocr.fields import skeleton
from parsers.ocr.layout import TextLine

log = logging.getLogger(__name__)

SPEED_CLASSES = ["ด่วนที่สุด", "ด่วนมาก", "ด่วน"]
# At 300 dpi, stamp letters are 70-300 pixels tall (body letters at most about 60),
# and the stamp is in the top quarter of the page.
_MIN_HEIGHT = 70
_MAX_HEIGHT = 300
_TOP_SHARE = 0.25


def find_stamp(ink: np.ndarray, dpi: float) -> Box | None:
    """Return the box of the large letters in the top quarter of `ink`, or None."""
    scale = dpi / 300.0
    band = ink[: int(ink.shape[0] * _TOP_SHARE)]
    labels, count = ndimage.label(band, structure=np.ones((3, 3), dtype=bool))
    boxes = []
    for found in ndimage.find_objects(labels):
        if found is None:
            continue
        height = found[0].stop - found[0].start
        width = found[1].stop - found[1].start
        if _MIN_HEIGHT * scale <= height <= _MAX_HEIGHT * scale and width <= 2 * height:
            boxes.append((found[1].start, found[0].start, found[1].stop, found[0].stop))
    # A word of the stamp has at least three large letters side by side.
    if len(boxes) < 3:
        return None
    top = min(b[1] for b in boxes)
    row = [b for b in boxes if b[1] < top + _MAX_HEIGHT * scale / 2]
    if len(row) < 3:
        return None
    height = max(b[3] for b in row) - min(b[1] for b in row)
    margin = height // 2
    return (max(0, min(b[0] for b in row) - margin), max(0, min(b[1] for b in row) - margin),
            min(ink.shape[1], max(b[2] for b in row) + margin), min(ink.shape[0], max(b[3] for b in row) + margin))


def stamp_image(ink: np.ndarray, box: Box) -> Image.Image:
    """Return the ink inside `box` as a black-on-white image to read as one line."""
    left, top, right, bottom = box
    return Image.fromarray(np.where(ink[top:bottom, left:right], 0, 255).astype(np.uint8), mode="L")


def speed_class(lines: list[Line]) -> str | None:
    """Return the speed class that the lines read from a stamp spell, or None when they spell none."""
    read = skeleton("".join(line.text for line in lines).replace(" ", ""))
    # The closest class wins, so ด่วนกีสุด (ท read as ก) is ด่วนที่สุด, not ด่วน.
    distance, speed = min((_edit_distance(read, skeleton(speed)), speed) for speed in SPEED_CLASSES)
    if distance > 0.4 * len(skeleton(speed)):
        log.info("speed stamp read as %r, which matches no speed class", read)
        return None
    return speed


def _edit_distance(first: str, second: str) -> int:
    """Return the Levenshtein distance between two short strings."""
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, start=1):
        current = [i]
        for j, b in enumerate(second, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def replace_stamp_lines(lines: list[TextLine], box: Box, speed: str) -> list[TextLine]:
    """Return `lines` with those lying in the stamp's box replaced by one line of the speed class."""
    def inside(line: TextLine) -> bool:
        centre = (line.box[1] + line.box[3]) / 2
        return box[1] <= centre <= box[3] and line.box[0] < box[2] and line.box[2] > box[0]

    kept = [line for line in lines if not inside(line)]
    stamp = TextLine(text=speed, box=box, words=[], char_boxes=[box] * len(speed))
    position = next((i for i, line in enumerate(kept) if line.box[1] > box[1]), len(kept))
    return kept[:position] + [stamp] + kept[position:]
