"""The shipped digit recognizer on a font face it was not trained on."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from parsers.ocr.digits import (
    ARABIC_DIGITS, GLYPH_SIZE, LABELS, MODEL_PATH, THAI_DIGITS, DigitRecognizer, Reading, glyph_features,
    number_candidates,
)

# scripts/train_digits.py leaves the Laksaman face out of training.
HELD_OUT = Path("/usr/share/fonts/truetype/tlwg")
HELD_OUT_FILES = ["Laksaman.ttf", "Laksaman-Bold.ttf", "Laksaman-Italic.ttf", "Laksaman-BoldItalic.ttf"]
SIZES = (30, 45, 60)

pytestmark = pytest.mark.skipif(not (HELD_OUT / HELD_OUT_FILES[0]).exists(),
                                reason="needs Debian's fonts-tlwg-laksaman-ttf")


def render(text: str, font: ImageFont.FreeTypeFont) -> np.ndarray:
    size = font.size
    image = Image.new("L", (size * (len(text) + 2), size * 3), 255)
    ImageDraw.Draw(image).text((size, size // 2), text, font=font, fill=0)
    return np.asarray(image) < 128


@pytest.fixture(scope="module")
def recognizer() -> DigitRecognizer:
    return DigitRecognizer(MODEL_PATH)


@pytest.fixture(scope="module")
def held_out_readings(recognizer):
    readings = {}
    for name in HELD_OUT_FILES:
        for size in SIZES:
            font = ImageFont.truetype(str(HELD_OUT / name), size)
            for digit in LABELS:
                readings[(name, size, digit)] = recognizer.classify([render(digit, font)])[0][0]
    return readings


def test_model_file_is_small():
    assert MODEL_PATH.stat().st_size < 1_000_000


def test_model_has_all_twenty_digits(recognizer):
    assert sorted(recognizer.labels) == sorted(LABELS)


def test_held_out_face_is_read_right(held_out_readings):
    right = sum(1 for (_, _, digit), read in held_out_readings.items() if read == digit)
    assert right / len(held_out_readings) >= 0.95


@pytest.mark.parametrize("digit", list("๔๖๗๘๙"))
def test_thai_digits_missing_from_tesseract_are_read(held_out_readings, digit):
    read = [held_out_readings[(name, size, digit)] for name in HELD_OUT_FILES for size in SIZES]
    assert read.count(digit) >= len(read) - 1


def test_number_is_read_in_one_script(recognizer):
    font = ImageFont.truetype(str(HELD_OUT / "Laksaman.ttf"), 48)
    ink = render("๒๕๖๘", font)
    readings = recognizer.read_region(ink, (0, 0, ink.shape[1], ink.shape[0]))
    assert "".join(r.digit for r in readings) == "๒๕๖๘"


def test_arabic_number_is_read_with_boxes(recognizer):
    font = ImageFont.truetype(str(HELD_OUT / "Laksaman-Bold.ttf"), 48)
    ink = render("1352", font)
    readings = recognizer.read_region(ink, (0, 0, ink.shape[1], ink.shape[0]))
    assert "".join(r.digit for r in readings) == "1352"
    assert [r.box[0] for r in readings] == sorted(r.box[0] for r in readings)


def test_blank_glyph_gives_zero_features():
    assert not glyph_features(np.zeros((30, 20), dtype=bool)).any()


def test_digit_sets_are_disjoint():
    assert not set(ARABIC_DIGITS) & set(THAI_DIGITS)


# scripts/train_digits.py also leaves this Latin handwriting face out of training.
HANDWRITING_HELD_OUT = Path("/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf")


@pytest.mark.skipif(not HANDWRITING_HELD_OUT.exists(), reason="needs Debian's fonts-humor-sans")
def test_held_out_handwriting_face_is_read(recognizer):
    right, total = 0, 0
    for size in SIZES:
        font = ImageFont.truetype(str(HANDWRITING_HELD_OUT), size)
        for digit in ARABIC_DIGITS:
            read = recognizer.read_number([render(digit, font)])[0][0][0]
            right += read.translate(str.maketrans(THAI_DIGITS, ARABIC_DIGITS)) == digit
            total += 1
    assert right / total >= 0.9


def slanted_bar(slant: float) -> np.ndarray:
    ink = np.zeros((40, 40), dtype=bool)
    for row in range(40):
        column = int(round(20 + slant * (20 - row)))
        ink[row, column - 2:column + 2] = True
    return ink


def test_slant_is_removed_before_reading():
    leaning = glyph_features(slanted_bar(0.4)).reshape(GLYPH_SIZE, GLYPH_SIZE) > 0.5
    # Across its 40 rows the bar moves 16 pixels sideways; upright, every row has ink
    # in about the same columns.
    first_columns = [int(np.flatnonzero(row)[0]) for row in leaning if row.any()]
    assert len(first_columns) >= 16
    assert max(first_columns) - min(first_columns) <= 1


def test_candidates_follow_each_glyph_alternatives():
    readings = [
        Reading("9", 0.7, (0, 0, 10, 20), alternatives=(("9", 0.7), ("2", 0.25))),
        Reading("8", 0.9, (12, 0, 22, 20), alternatives=(("8", 0.9), ("3", 0.05))),
    ]
    candidates = number_candidates(readings)
    assert candidates[0][0] == "98"
    assert candidates[1][0] == "28"
    assert candidates[0][1] == pytest.approx(0.63)
    assert [number for number, _ in candidates] == ["98", "28", "93", "23"]
