"""Recognize single Thai and Arabic digits from a page's ink, with a small shipped network.

Debian's Thai Tesseract model has no ๔ ๖ ๗ ๘ ๙ in its character set and misreads
the Thai digits it has, so the digits of numbers and dates are read again by this
recognizer. `scripts/train_digits.py` trains it on digits rendered from Thai
fonts and writes `parsers/data/digits.npz`: a one-hidden-layer network (ReLU, then
softmax) over a 24 x 24 normalized glyph.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "digits.npz"
GLYPH_SIZE = 24
# The glyph's longer side is scaled to this, leaving a margin in the 24 x 24 square.
_GLYPH_BOX = 20
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
ARABIC_DIGITS = "0123456789"
LABELS = ARABIC_DIGITS + THAI_DIGITS


@dataclass(frozen=True)
class Reading:
    """One glyph's most likely digit, its probability, and its box in the ink mask."""

    digit: str
    probability: float
    box: tuple[int, int, int, int]


def glyph_features(ink: np.ndarray) -> np.ndarray:
    """Return the network input for one glyph: its ink cropped, scaled to fit 20 px and centred in 24 x 24.

    `ink` is a boolean mask. The result is a float32 vector of GLYPH_SIZE squared values in [0, 1].
    """
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    canvas = np.zeros((GLYPH_SIZE, GLYPH_SIZE), dtype=np.float32)
    if rows.size == 0:
        return canvas.ravel()
    glyph = ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    height, width = glyph.shape
    scale = _GLYPH_BOX / max(height, width)
    new_height = max(1, round(height * scale))
    new_width = max(1, round(width * scale))
    image = Image.fromarray(glyph.astype(np.float32), mode="F")
    small = np.asarray(image.resize((new_width, new_height), Image.Resampling.BOX), dtype=np.float32)
    top = (GLYPH_SIZE - new_height) // 2
    left = (GLYPH_SIZE - new_width) // 2
    canvas[top:top + new_height, left:left + new_width] = np.clip(small, 0.0, 1.0)
    return canvas.ravel()


class DigitRecognizer:
    """The shipped digit network, loaded from an .npz file of plain arrays."""

    def __init__(self, path: Path = MODEL_PATH):
        with np.load(path, allow_pickle=False) as model:
            self.hidden_weights = model["hidden_weights"]
            self.hidden_bias = model["hidden_bias"]
            self.output_weights = model["output_weights"]
            self.output_bias = model["output_bias"]
            self.labels = str(model["labels"])
        if len(self.labels) != self.output_bias.shape[0]:
            raise ValueError(f"{path}: {len(self.labels)} labels for {self.output_bias.shape[0]} outputs")

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Return class probabilities for a batch of glyph feature rows."""
        hidden = np.maximum(features @ self.hidden_weights + self.hidden_bias, 0.0)
        scores = hidden @ self.output_weights + self.output_bias
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def classify(self, glyphs: list[np.ndarray]) -> list[tuple[str, float]]:
        """Return the most likely digit and its probability for each boolean glyph mask."""
        if not glyphs:
            return []
        features = np.stack([glyph_features(g) for g in glyphs])
        probabilities = self.probabilities(features)
        best = probabilities.argmax(axis=1)
        return [(self.labels[i], float(probabilities[row, i])) for row, i in enumerate(best)]

    def read_number(self, glyphs: list[np.ndarray]) -> list[tuple[str, float]]:
        """Return the digit and its probability for each glyph of one number, all in one script.

        A number is written in Thai or in Arabic digits throughout, and what matters is
        each digit's value. So a glyph's probability for a value adds both scripts'
        classes (a handwritten 9 and ๙ look alike), and every digit is written in the
        script with the larger total over the number.
        """
        if not glyphs:
            return []
        probabilities = self._averaged_probabilities(glyphs)
        index = {label: i for i, label in enumerate(self.labels)}
        arabic = probabilities[:, [index[d] for d in ARABIC_DIGITS]]
        thai = probabilities[:, [index[d] for d in THAI_DIGITS]]
        digits = THAI_DIGITS if thai.sum() > arabic.sum() else ARABIC_DIGITS
        values = arabic + thai
        best = values.argmax(axis=1)
        return [(digits[v], float(values[row, v])) for row, v in enumerate(best)]

    def _averaged_probabilities(self, glyphs: list[np.ndarray]) -> np.ndarray:
        """Return class probabilities averaged over each glyph as scanned and thickened by 1 and 2 pixels.

        Pen strokes are thinner than the printed strokes the network was trained on,
        and thickened copies raised the probability of the right digit on handwritten
        serials and days in real scans.
        """
        variants = [glyphs]
        for iterations in (1, 2):
            variants.append([ndimage.binary_dilation(g, iterations=iterations) for g in glyphs])
        total = sum(self.probabilities(np.stack([glyph_features(g) for g in variant])) for variant in variants)
        return total / len(variants)

    def read_region(self, ink: np.ndarray, box: tuple[int, int, int, int],
                    core: tuple[int, int, int, int] | None = None) -> list[Reading]:
        """Split the ink inside `box` into glyphs from left to right and read them as one number.

        Components that overlap horizontally by more than half the narrower one's width
        are one glyph (a broken stroke), and specks under a fifth of the region's height
        are ignored. With `core`, a glyph less than 40% of whose width lies inside it
        is part of a neighbouring letter and is dropped.
        """
        left, top, right, bottom = box
        region = ink[max(0, top):bottom, max(0, left):right]
        glyphs = split_glyphs(region)
        if core is not None:
            glyphs = [(g, b) for g, b in glyphs if _overlap(left + b[0], left + b[2], core[0], core[2]) >= 0.4 * (b[2] - b[0])]
        readings = self.read_number([g for g, _ in glyphs])
        return [
            Reading(digit=digit, probability=p, box=(left + x0, top + y0, left + x1, top + y1))
            for (digit, p), (_, (x0, y0, x1, y1)) in zip(readings, glyphs)
        ]


def _overlap(start: float, end: float, core_start: float, core_end: float) -> float:
    return max(0.0, min(end, core_end) - max(start, core_start))


def split_glyphs(region: np.ndarray) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Return the glyph masks of `region` from left to right, each with its box in the region."""
    labels, count = ndimage.label(region, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return []
    spans = []
    min_height = max(3, region.shape[0] // 5)
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        rows, columns = found
        if rows.stop - rows.start < min_height and columns.stop - columns.start < min_height:
            continue
        spans.append([columns.start, columns.stop, rows.start, rows.stop, [index]])
    spans.sort()

    merged: list[list] = []
    for span in spans:
        # Parts of one broken glyph overlap mostly; a flourish such as the tail of ๕
        # reaches over its neighbour only a little.
        overlap = merged[-1][1] - span[0] if merged else 0
        if merged and overlap > 0.5 * min(span[1] - span[0], merged[-1][1] - merged[-1][0]):
            last = merged[-1]
            last[1] = max(last[1], span[1])
            last[2] = min(last[2], span[2])
            last[3] = max(last[3], span[3])
            last[4] += span[4]
        else:
            merged.append(span)

    result = []
    for x0, x1, y0, y1, members in merged:
        mask = np.isin(labels[y0:y1, x0:x1], members)
        result.extend(_split_touching(mask, (x0, y0, x1, y1)))
    return result


def _split_touching(mask: np.ndarray, box: tuple[int, int, int, int]) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Cut a glyph much wider than tall, two digits touching, at its thinnest column.

    No single digit of the Thai or Latin fonts is more than about 1.3 times as wide as
    tall, but the tail of ๕ often touches the next digit.
    """
    height, width = mask.shape
    if width <= 1.5 * height or width < 6:
        return [(mask, box)]
    low, high = int(width * 0.3), int(width * 0.7)
    cut = low + int(np.argmin(mask[:, low:high].sum(axis=0)))
    x0, y0, x1, y1 = box
    parts = []
    for part, left in ((mask[:, :cut], x0), (mask[:, cut:], x0 + cut)):
        rows = np.flatnonzero(part.any(axis=1))
        if rows.size == 0:
            continue
        trimmed = part[rows[0]:rows[-1] + 1]
        parts.extend(_split_touching(trimmed, (left, y0 + rows[0], left + part.shape[1], y0 + rows[-1] + 1)))
    return parts


@functools.lru_cache(maxsize=1)
def shipped_recognizer() -> DigitRecognizer | None:
    """Return the recognizer from parsers/data/digits.npz, or None when the file is missing."""
    if not MODEL_PATH.exists():
        log.warning("digit model %s not found; digits stay as Tesseract read them", MODEL_PATH)
        return None
    return DigitRecognizer(MODEL_PATH)
