"""Clean a scanned page before OCR: binarize, drop stamps, lines and speckle, deskew.

Every step works on a boolean ink mask (True where a pixel is ink) as a numpy array.
Sizes are given for 300 dpi and scaled by the page's real resolution.
"""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

log = logging.getLogger(__name__)

# A pixel whose colour channels differ by more than this is stamp or pen ink, not
# black print. Grey watermarks and toner have nearly equal channels.
_CHROMA_LIMIT = 70
# Ink components smaller than this many pixels at 300 dpi are speckle. A Thai tone
# mark at 14 pt is about 60 pixels and a full stop about 20.
_SPECKLE_PIXELS = 12
# A vertical run of ink longer than this at 300 dpi (13 mm) is a scanner streak or a
# ruled line: no Thai letter at body size is that tall. Horizontal runs must be much
# longer, because the tops of a bold word come close to a continuous run.
_VERTICAL_RUN = 150
_HORIZONTAL_RUN = 450
# Letters this tall at 300 dpi (6 mm) are a stamp's, not body text's, which is about
# 60 pixels (5 mm) for a letter with its marks at 16 pt.
_STAMP_LETTER_HEIGHT = 70
# A component taller than this at 300 dpi (25 mm) is a picture such as the Garuda
# emblem or a signature, not a letter of body text or of a speed stamp.
_PICTURE_HEIGHT = 300
_MAX_SKEW_DEGREES = 3.0


@dataclass
class CleanPage:
    """A cleaned bilevel page image and where it sits in the original image."""

    # Mode "1", black ink on white: Tesseract reads a bilevel image as it is, without
    # thresholding it again, and the pipe carries one bit a pixel.
    image: Image.Image
    ink: np.ndarray  # boolean ink mask of `image`
    offset: tuple[int, int]  # left and top of the crop in the deskewed original
    skew_degrees: float
    # Width and height of the image given to `clean_page`, about whose centre it was deskewed.
    original_size: tuple[int, int]
    # Coloured ink dropped from `image` (stamps, pen), aligned with `ink`; None for a
    # grey or black-and-white page.
    colour: np.ndarray | None = None
    # The image given to `clean_page`, for `grey_crop`.
    original: Image.Image | None = None

    def grey_crop(self, box: tuple[int, int, int, int], ink_margin: int = 1) -> Image.Image:
        """Return `box` of the cleaned image cut from the original in grey, pixel for pixel.

        Grey keeps thin strokes that the threshold broke. The cut is deskewed like the
        cleaned image, and pixels further than `ink_margin` from the cleaned ink are
        white, so stamps, lines and specks the cleaning dropped stay out of it.
        """
        left, top, right, bottom = box
        width, height = right - left, bottom - top
        grey = self._grey
        centre_x = (left + right) / 2 + self.offset[0]
        centre_y = (top + bottom) / 2 + self.offset[1]
        if self.skew_degrees and self.original is not None:
            centre_x, centre_y = _unrotate(centre_x, centre_y, self.skew_degrees,
                                           self.original_size[0] / 2, self.original_size[1] / 2)
            # A margin wide enough that the turned cut has no empty corners.
            margin = math.ceil(max(width, height) * abs(math.sin(math.radians(self.skew_degrees)))) + 2
        else:
            margin = 0
        if self.original is None:
            centre_x -= self.offset[0]
            centre_y -= self.offset[1]
        outer = (round(centre_x - width / 2) - margin, round(centre_y - height / 2) - margin)
        cut = grey.crop((outer[0], outer[1], outer[0] + width + 2 * margin, outer[1] + height + 2 * margin))
        if margin:
            cut = cut.rotate(self.skew_degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)
            cut = cut.crop((margin, margin, margin + width, margin + height))
        near_ink = self.ink[max(0, top):bottom, max(0, left):right]
        if ink_margin:
            near_ink = ndimage.binary_dilation(near_ink, iterations=ink_margin)
        pixels = np.full((height, width), 255, dtype=np.uint8)
        inside = np.asarray(cut, dtype=np.uint8)[: near_ink.shape[0], : near_ink.shape[1]]
        pixels[: near_ink.shape[0], : near_ink.shape[1]] = np.where(near_ink, inside, 255)
        return Image.fromarray(pixels, mode="L")

    @functools.cached_property
    def _grey(self) -> Image.Image:
        source = self.original if self.original is not None else self.image
        return source if source.mode == "L" else source.convert("L")

    def box_in_original(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Return the pixel box in the original image that covers `box` of the cleaned image.

        The box is moved back by the crop, and its four corners are turned back by the
        deskew angle about the original's centre. A turned box is a slanted rectangle,
        so the result is the upright box around it, clipped to the original image.
        """
        left, top, right, bottom = box
        dx, dy = self.offset
        corners = [(left + dx, top + dy), (right + dx, top + dy), (left + dx, bottom + dy), (right + dx, bottom + dy)]
        width, height = self.original_size
        if self.skew_degrees:
            corners = [_unrotate(x, y, self.skew_degrees, width / 2, height / 2) for x, y in corners]
        xs = [x for x, _ in corners]
        ys = [y for _, y in corners]
        return (max(0, math.floor(min(xs))), max(0, math.floor(min(ys))),
                min(width, math.ceil(max(xs))), min(height, math.ceil(max(ys))))


def clean_page(image: Image.Image, dpi: float = 300.0, drop_colour: bool = True) -> CleanPage:
    """Return `image` binarized, without colour stamps, ruled lines or speckle, deskewed and cropped."""
    scale = dpi / 300.0
    speckle = max(3, int(_SPECKLE_PIXELS * scale * scale))
    ink = ink_mask(image, drop_colour=drop_colour)
    ink = remove_components(ink, min_pixels=speckle,
                            max_height=int(_PICTURE_HEIGHT * scale),
                            fill_height=int(_STAMP_LETTER_HEIGHT * scale))
    ink = remove_lines(ink, vertical=int(_VERTICAL_RUN * scale), horizontal=int(_HORIZONTAL_RUN * scale))
    colour = colour_mask(image) if drop_colour else None
    if colour is not None:
        colour = remove_components(colour, min_pixels=speckle, max_height=int(_PICTURE_HEIGHT * scale),
                                   fill_height=int(_STAMP_LETTER_HEIGHT * scale))
    angle = estimate_skew(ink)
    if abs(angle) >= 0.15:
        ink = rotate(ink, angle)
        colour = rotate(colour, angle) if colour is not None else None
    else:
        angle = 0.0
    # The crop keeps coloured ink too, so a red speed stamp above the text survives it.
    left, top, right, bottom = crop_box(ink if colour is None else ink | colour, pad=int(30 * scale))
    ink = ink[top:bottom, left:right]
    colour = colour[top:bottom, left:right] if colour is not None else None
    return CleanPage(image=Image.fromarray(~ink), ink=ink, offset=(left, top), skew_degrees=angle, colour=colour,
                     original_size=image.size, original=image)


def colour_mask(image: Image.Image) -> np.ndarray | None:
    """Return where `image` has strongly coloured ink, or None when it is not a colour image."""
    if image.mode != "RGB":
        return None
    rgb = np.asarray(image, dtype=np.int16)
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    # Pale tints (a coloured watermark) are background, not ink.
    return (chroma > _CHROMA_LIMIT) & (rgb.min(axis=2) < 160)


def ink_mask(image: Image.Image, drop_colour: bool = True) -> np.ndarray:
    """Return the boolean ink mask of `image` by Otsu's threshold, without coloured ink if asked."""
    if image.mode == "1":
        return ~np.asarray(image, dtype=bool)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if image.mode == "RGB":
        rgb = np.asarray(image, dtype=np.int16)
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        if drop_colour:
            chroma = rgb.max(axis=2) - rgb.min(axis=2)
            gray = np.where(chroma > _CHROMA_LIMIT, 255, gray).astype(np.uint8)
    else:
        gray = np.asarray(image, dtype=np.uint8)
    return gray < otsu_threshold(gray)


def otsu_threshold(gray: np.ndarray) -> int:
    """Return the grey level that best splits `gray` into two classes (Otsu, 1979)."""
    histogram = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = histogram.sum()
    if total == 0:
        return 128
    levels = np.arange(256)
    weight_dark = np.cumsum(histogram)
    weight_light = total - weight_dark
    sum_dark = np.cumsum(histogram * levels)
    mean_dark = sum_dark / np.maximum(weight_dark, 1)
    mean_light = (sum_dark[-1] - sum_dark) / np.maximum(weight_light, 1)
    between = weight_dark * weight_light * (mean_dark - mean_light) ** 2
    # A page that is already black and white has one split; keep it at mid grey.
    return int(np.argmax(between)) + 1 if between.max() > 0 else 128


def remove_lines(ink: np.ndarray, vertical: int, horizontal: int) -> np.ndarray:
    """Return `ink` without vertical runs of `vertical` pixels or horizontal runs of `horizontal`.

    A scanned line wanders by a pixel and has small breaks, so ink is widened by one
    pixel across the line to find it, and a window counts as a line when 90% of it is
    ink. Only the line's own pixels are removed, not the widening.
    """
    # Lines are found on a copy pooled 2 x 2 (a pooled pixel is ink if any of its four
    # is), which takes a quarter of the time and loses no line two pixels wide or less.
    height, width = ink.shape
    even = ink[: height - height % 2, : width - width % 2]
    # Four strided ORs are several times faster than a reshape and .any() over two axes.
    pooled = even[0::2, 0::2] | even[1::2, 0::2] | even[0::2, 1::2] | even[1::2, 1::2]
    lines = np.zeros_like(pooled)
    for axis, run in ((0, vertical // 2), (1, horizontal // 2)):
        if pooled.shape[axis] < run:
            continue
        widened = _widen(pooled, axis=1 - axis)
        starts = _window_sums(widened, run, axis) >= 0.9 * run
        if starts.any():
            # A pixel is on a line when some window that covers it starts a line.
            lines |= _window_sums(_pad_front(starts, run - 1, axis), run, axis) > 0
    full = np.zeros_like(ink)
    full[: height - height % 2, : width - width % 2] = lines.repeat(2, axis=0).repeat(2, axis=1)
    return ink & ~full


def _widen(mask: np.ndarray, axis: int) -> np.ndarray:
    """Return `mask` grown by one pixel both ways along `axis`."""
    grown = mask.copy()
    before = [slice(None)] * 2
    after = [slice(None)] * 2
    before[axis], after[axis] = slice(None, -1), slice(1, None)
    grown[tuple(after)] |= mask[tuple(before)]
    grown[tuple(before)] |= mask[tuple(after)]
    return grown


def _window_sums(mask: np.ndarray, run: int, axis: int) -> np.ndarray:
    """Return the count of True in each window of `run` pixels along `axis`, by window start."""
    total = np.cumsum(mask, axis=axis, dtype=np.int32)
    total = np.concatenate([np.zeros_like(total.take([0], axis=axis)), total], axis=axis)
    length = mask.shape[axis] - run + 1
    return total.take(np.arange(run, run + length), axis=axis) - total.take(np.arange(length), axis=axis)


def _pad_front(mask: np.ndarray, count: int, axis: int) -> np.ndarray:
    """Return `mask` with `count` False rows or columns added before and after along `axis`."""
    width = [(0, 0), (0, 0)]
    width[axis] = (count, count)
    return np.pad(mask, width)


def remove_components(ink: np.ndarray, min_pixels: int, max_height: int, fill_height: int | None = None) -> np.ndarray:
    """Return `ink` without components smaller than `min_pixels` or taller than `max_height`.

    Components at least `fill_height` tall get their holes filled: those are the
    letters of a speed stamp (ด่วนที่สุด), printed in outline with a halftone fill
    that the speckle step removes, and Tesseract reads them only when solid.
    """
    labels, count = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return ink
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_pixels
    tall = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        height = box[0].stop - box[0].start
        if height > max_height:
            keep[index] = False
        elif fill_height and height >= fill_height and keep[index]:
            tall.append((index, box))
    keep[0] = False
    result = keep[labels]
    for index, box in tall:
        # Closing first mends outlines that the scan broke, so their holes can be filled.
        letter = np.pad(labels[box] == index, 3)
        closed = ndimage.binary_closing(letter, structure=np.ones((3, 3), dtype=bool), iterations=1)
        result[box] |= ndimage.binary_fill_holes(closed)[3:-3, 3:-3]
    return result


def estimate_skew(ink: np.ndarray) -> float:
    """Return the angle in degrees that makes the text lines of `ink` horizontal.

    Text lines give the row profile of a page its sharpest peaks when they are level,
    so the angle with the largest variance of row sums wins, searched coarse then fine
    on a quarter-size copy.
    """
    small = Image.fromarray(ink[::4, ::4])
    if not ink[::4, ::4].any():
        return 0.0

    def sharpness(angle: float) -> float:
        rotated = np.asarray(small.rotate(float(angle), resample=Image.Resampling.NEAREST))
        return float(np.var(rotated.sum(axis=1)))

    coarse = np.arange(-_MAX_SKEW_DEGREES, _MAX_SKEW_DEGREES + 0.01, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.4, best + 0.41, 0.1)
    return round(float(max(fine, key=sharpness)), 2)


def rotate(ink: np.ndarray, angle: float) -> np.ndarray:
    """Return `ink` turned by `angle` degrees counter-clockwise about its centre."""
    turned = Image.fromarray(ink).rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
    return np.asarray(turned, dtype=bool)


def _unrotate(x: float, y: float, angle: float, centre_x: float, centre_y: float) -> tuple[float, float]:
    """Return the point of the original image that `rotate(..., angle)` moved to (x, y).

    `rotate` turns counter-clockwise on the screen, where y grows downwards, so the
    inverse turns clockwise by the same angle about the same centre.
    """
    radians = math.radians(angle)
    cos, sin = math.cos(radians), math.sin(radians)
    return (centre_x + cos * (x - centre_x) - sin * (y - centre_y),
            centre_y + sin * (x - centre_x) + cos * (y - centre_y))


def crop_box(ink: np.ndarray, pad: int) -> tuple[int, int, int, int]:
    """Return the left, top, right and bottom of `ink`'s ink plus `pad` pixels, within the image."""
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return 0, 0, ink.shape[1], ink.shape[0]
    top = max(0, rows[0] - pad)
    bottom = min(ink.shape[0], rows[-1] + pad + 1)
    left = max(0, columns[0] - pad)
    right = min(ink.shape[1], columns[-1] + pad + 1)
    return int(left), int(top), int(right), int(bottom)
