"""Recognize single Thai and Arabic digits from a page's ink, with a small shipped network.

Debian's Thai Tesseract model has no ๔ ๖ ๗ ๘ ๙ in its character set and misreads
the Thai digits it has, so the digits of numbers and dates are read again by this
recognizer. `scripts/train_digits.py` trains it on digits rendered from Thai fonts
and handwriting faces and on digits drawn as pen strokes, and writes
`parsers/data/digits.npz`: a one-hidden-layer network (ReLU, then softmax) over a
24 x 24 glyph made upright and scaled. A model trained before glyphs were made
upright reads worse with this code, so the script and the model change together.
"""
from __future__ import annotations

import functools
import itertools
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


# Digits kept per glyph as alternatives to its most likely one.
ALTERNATIVES = 3


@dataclass(frozen=True)
class Reading:
    """One glyph's most likely digit, its probability, and its box in the ink mask.

    `alternatives` are the glyph's ALTERNATIVES most likely digits with their
    probabilities, most likely first, starting with `digit`.
    """

    digit: str
    probability: float
    box: tuple[int, int, int, int]
    alternatives: tuple[tuple[str, float], ...] = ()


def number_candidates(readings: list[Reading], limit: int = 8) -> list[tuple[str, float]]:
    """Return up to `limit` numbers the glyphs can spell, most probable first, with their probabilities.

    A number's probability is the product of its glyphs' probabilities, so the first
    candidate is the reading of each glyph's most likely digit.
    """
    if not readings:
        return []
    choices = [r.alternatives or ((r.digit, r.probability),) for r in readings]
    combined = []
    for combination in itertools.product(*choices):
        digits = "".join(d for d, _ in combination)
        combined.append((digits, float(np.prod([p for _, p in combination]))))
    combined.sort(key=lambda item: -item[1])
    return combined[:limit]


def glyph_features(ink: np.ndarray) -> np.ndarray:
    """Return the network input for one glyph: its ink cropped, made upright, scaled to fit 20 px and centred in 24 x 24.

    `ink` is a boolean mask. The result is a float32 vector of GLYPH_SIZE squared values in [0, 1].
    """
    canvas = np.zeros((GLYPH_SIZE, GLYPH_SIZE), dtype=np.float32)
    glyph = _crop(ink)
    if glyph is None:
        return canvas.ravel()
    glyph = _crop(_deskew(glyph))
    if glyph is None:
        return canvas.ravel()
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


def _crop(ink: np.ndarray) -> np.ndarray | None:
    """Return the box of `ink` that holds all its ink, or None when it has none."""
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]


# The largest slant that _deskew removes, in pixels across per pixel down.
_MAX_SLANT = 0.7


def _deskew(glyph: np.ndarray) -> np.ndarray:
    """Return `glyph` sheared so that its ink's principal axis is vertical.

    The slant is the covariance of the ink's columns and rows over the variance of its
    rows (the usual moment deskew for handwritten digits). Removing it before scaling
    makes a writer's slant, which varies from hand to hand, vanish from the features.
    """
    rows, columns = np.nonzero(glyph)
    if rows.size < 3:
        return glyph
    row_mean, column_mean = rows.mean(), columns.mean()
    row_variance = ((rows - row_mean) ** 2).mean()
    if row_variance == 0:
        return glyph
    slant = float(np.clip(((columns - column_mean) * (rows - row_mean)).mean() / row_variance,
                          -_MAX_SLANT, _MAX_SLANT))
    height, width = glyph.shape
    new_width = width + int(np.ceil(abs(slant) * height))
    # An output pixel (row, column) takes the input at (row, column + slant * row + offset),
    # and the ink's centre stays in the middle of the wider output.
    offset = column_mean - slant * row_mean - new_width / 2
    upright = ndimage.affine_transform(glyph.astype(np.float32), np.array([[1.0, 0.0], [slant, 1.0]]),
                                       offset=(0.0, offset), output_shape=(height, new_width), order=1)
    return upright > 0.5


class DigitRecognizer:
    """The shipped digit networks, loaded from an .npz file of plain arrays.

    Each weight array has a leading axis over the networks (an ensemble), whose
    probabilities are averaged; a file of unstacked arrays holds one network.
    """

    def __init__(self, path: Path = MODEL_PATH):
        with np.load(path, allow_pickle=False) as model:
            arrays = {name: model[name].astype(np.float32)
                      for name in ("hidden_weights", "hidden_bias", "output_weights", "output_bias")}
            self.labels = str(model["labels"])
        if arrays["hidden_weights"].ndim == 2:
            arrays = {name: array[np.newaxis] for name, array in arrays.items()}
        self.hidden_weights = arrays["hidden_weights"]
        self.hidden_bias = arrays["hidden_bias"]
        self.output_weights = arrays["output_weights"]
        self.output_bias = arrays["output_bias"]
        if len(self.labels) != self.output_bias.shape[-1]:
            raise ValueError(f"{path}: {len(self.labels)} labels for {self.output_bias.shape[-1]} outputs")

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Return class probabilities for a batch of glyph feature rows, averaged over the networks."""
        total = np.zeros((features.shape[0], self.output_bias.shape[-1]), dtype=np.float32)
        for member in range(self.hidden_weights.shape[0]):
            hidden = np.maximum(features @ self.hidden_weights[member] + self.hidden_bias[member], 0.0)
            scores = hidden @ self.output_weights[member] + self.output_bias[member]
            scores -= scores.max(axis=1, keepdims=True)
            exp = np.exp(scores)
            total += exp / exp.sum(axis=1, keepdims=True)
        return total / self.hidden_weights.shape[0]

    def classify(self, glyphs: list[np.ndarray]) -> list[tuple[str, float]]:
        """Return the most likely digit and its probability for each boolean glyph mask."""
        if not glyphs:
            return []
        features = np.stack([glyph_features(g) for g in glyphs])
        probabilities = self.probabilities(features)
        best = probabilities.argmax(axis=1)
        return [(self.labels[i], float(probabilities[row, i])) for row, i in enumerate(best)]

    def read_number(self, glyphs: list[np.ndarray]) -> list[list[tuple[str, float]]]:
        """Return each glyph's most likely digits with their probabilities, all in one script.

        A number is written in Thai or in Arabic digits throughout, and what matters is
        each digit's value. So a glyph's probability for a value adds both scripts'
        classes (a handwritten 9 and ๙ look alike), and every digit is written in the
        script with the larger total over the number. Each glyph gets its ALTERNATIVES
        most likely digits, most likely first.
        """
        if not glyphs:
            return []
        probabilities = self.probabilities(np.stack([glyph_features(g) for g in glyphs]))
        index = {label: i for i, label in enumerate(self.labels)}
        arabic = probabilities[:, [index[d] for d in ARABIC_DIGITS]]
        thai = probabilities[:, [index[d] for d in THAI_DIGITS]]
        digits = THAI_DIGITS if thai.sum() > arabic.sum() else ARABIC_DIGITS
        values = arabic + thai
        ranked = np.argsort(-values, axis=1)[:, :ALTERNATIVES]
        return [[(digits[v], float(values[row, v])) for v in order] for row, order in enumerate(ranked)]

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
            Reading(digit=ranked[0][0], probability=ranked[0][1], box=(left + x0, top + y0, left + x1, top + y1),
                    alternatives=tuple(ranked))
            for ranked, (_, (x0, y0, x1, y1)) in zip(readings, glyphs)
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
