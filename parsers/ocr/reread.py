"""Read again, one line at a time, the text lines that Tesseract's page layout split or missed.

Two faults of the page layout lose text on Thai letters:

- The marks above a line (tone marks and upper vowels, as in พื้นที่) are cut off into a
  line of their own, which reads as noise, and the line below loses them: ในพื้นที่
  comes out as ในพิ นทจง.
- A whole line of body text is left out of every block, so nothing reads it.

Cut out alone and read as a single line (`--psm 7`), such lines come out right. The
cut is taken in grey from the original page, which keeps thin strokes that the
threshold broke. All cuts of a page are read in one Tesseract run.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image

from parsers.ocr.clean import CleanPage
from parsers.ocr.engine import Box, EngineSettings, Line, OcrFailed, OcrTimeout, recognize_each

log = logging.getLogger(__name__)

_SINGLE_LINE = 7
# A line whose words Tesseract read at this mean confidence (0-100) or more is text.
# A short line below it may be marks cut off from the line next to it.
_TEXT_CONFIDENCE = 70.0
# A line of cut-off marks is at most this share of a text line's height.
_MARK_LINE_HEIGHT = 0.8
# A run of ink rows left out of every line is read again when it is between these
# shares of a text line's height and at least `_MISSED_WIDTH` line heights wide.
_MISSED_MIN_HEIGHT = 0.6
_MISSED_MAX_HEIGHT = 2.0
_MISSED_WIDTH = 6.0
# Ink columns further apart than this many line heights are separate pieces.
_COLUMN_GAP = 3.0
# A read of a missed piece is kept at this mean confidence or more.
_MISSED_CONFIDENCE = 80.0
# A new read of a split line replaces the old unless its confidence is lower by more than this.
_WORSE_BY = 10.0
# At most this many lines of a page are read again, about 0.06 s of CPU each at 300 dpi,
# so that a page of noise cannot double the page's time. Split lines go first.
_MAX_CUTS = 30


@dataclass
class _Cut:
    box: Box
    replaces: list[int]  # indexes of the page lines the new read replaces


def reread_lines(lines: list[Line], page: CleanPage, settings: EngineSettings,
                 extra: list[Image.Image] = ()) -> tuple[list[Line], list[list[Line]] | None]:
    """Return `lines` with split lines read again and missed lines added, top to bottom.

    Boxes stay in the cleaned image's pixels. The `extra` images, such as a speed stamp,
    are read as single lines in the same Tesseract run, and their lines are returned
    second. A failed or timed-out second run leaves `lines` as they were and returns
    None for the extra images.
    """
    text_flags = [_is_text(line) for line in lines]
    height = _text_line_height(lines, text_flags)
    cuts = []
    if height is not None:
        cuts = _split_line_cuts(lines, text_flags, height, page.ink.shape) + _missed_line_cuts(lines, page.ink, height)
    if len(cuts) > _MAX_CUTS:
        log.info("%d lines to read again, only the first %d are", len(cuts), _MAX_CUTS)
        cuts = cuts[:_MAX_CUTS]
    if not cuts and not extra:
        return lines, []
    single = EngineSettings(command=settings.command, languages=settings.languages,
                            page_segmentation=_SINGLE_LINE, timeout_seconds=settings.timeout_seconds)
    try:
        reads = recognize_each([page.grey_crop(cut.box) for cut in cuts] + list(extra), single)
    except (OcrTimeout, OcrFailed) as exc:
        log.warning("lines not read again: %s", exc)
        return lines, None
    extra_reads = reads[len(cuts):]
    dropped: set[int] = set()
    added: list[Line] = []
    for cut, read in zip(cuts, reads):
        new = _merge_words(read, cut.box)
        if new is None:
            continue
        if cut.replaces:
            old = max(_confidence(lines[i]) for i in cut.replaces if text_flags[i])
            if _confidence(new) < old - _WORSE_BY:
                log.debug("kept %r over the second read %r", lines[cut.replaces[0]].text, new.text)
                continue
        elif _confidence(new) < _MISSED_CONFIDENCE or sum(ch.isalnum() for ch in new.text) < 3:
            continue
        dropped.update(cut.replaces)
        added.append(new)
    log.debug("%d lines read again, %d replaced", len(added), len(dropped))
    kept = [line for index, line in enumerate(lines) if index not in dropped]
    return sorted(kept + added, key=lambda line: (line.box[1] + line.box[3]) / 2), extra_reads


def _confidence(line: Line) -> float:
    return sum(word.confidence for word in line.words) / len(line.words)


def _is_text(line: Line) -> bool:
    letters = sum(ch.isalnum() for ch in line.text)
    return letters >= 5 and _confidence(line) >= _TEXT_CONFIDENCE


def _text_line_height(lines: list[Line], text_flags: list[bool]) -> float | None:
    """Return the median height of the page's confidently read lines, or None without any."""
    heights = sorted(line.box[3] - line.box[1] for line, is_text in zip(lines, text_flags) if is_text)
    if not heights:
        return None
    return float(heights[len(heights) // 2])


def _split_line_cuts(lines: list[Line], text_flags: list[bool], height: float,
                     shape: tuple[int, int]) -> list[_Cut]:
    """Return a cut for each text line that lost marks to a noise line just above or below it."""
    cuts = []
    claimed: set[int] = set()
    for index, line in enumerate(lines):
        if not text_flags[index]:
            continue
        marks = [other for other, candidate in enumerate(lines)
                 if other not in claimed and not text_flags[other] and _is_mark_line(candidate, line, height)]
        if not marks:
            continue
        claimed.update(marks)
        top = min(lines[i].box[1] for i in marks + [index])
        bottom = max(lines[i].box[3] for i in marks + [index])
        margin = int(height * 0.15)
        box = (max(0, line.box[0] - margin), max(0, top - margin),
               min(shape[1], line.box[2] + margin), min(shape[0], bottom + margin))
        cuts.append(_Cut(box=box, replaces=[index] + marks))
    return cuts


def _is_mark_line(candidate: Line, line: Line, height: float) -> bool:
    """Tell whether `candidate` reads like marks cut off from the top or bottom of `line`."""
    if candidate is line:
        return False
    own_height = candidate.box[3] - candidate.box[1]
    if own_height > _MARK_LINE_HEIGHT * height:
        return False
    overlap = min(candidate.box[2], line.box[2]) - max(candidate.box[0], line.box[0])
    if overlap < 0.5 * (candidate.box[2] - candidate.box[0]):
        return False
    reach = 0.3 * height
    above = candidate.box[1] < line.box[1] and candidate.box[3] >= line.box[1] - reach
    below = candidate.box[3] > line.box[3] and candidate.box[1] <= line.box[3] + reach
    return above or below


def _missed_line_cuts(lines: list[Line], ink: np.ndarray, height: float) -> list[_Cut]:
    """Return a cut for each line-sized run of ink that no line of the page covers."""
    left_over = ink.copy()
    for line in lines:
        left, top, right, bottom = line.box
        left_over[top:bottom, left:right] = False
    rows = left_over.sum(axis=1)
    # A row with a few stray pixels is not text; a text line has ink in a good share of its rows.
    inked = rows >= max(3, int(height * 0.1))
    cuts = []
    for start, stop in _runs(inked, gap=int(height * 0.3)):
        if not _MISSED_MIN_HEIGHT * height <= stop - start <= _MISSED_MAX_HEIGHT * height:
            continue
        columns = left_over[start:stop].any(axis=0)
        for left, right in _runs(columns, gap=int(height * _COLUMN_GAP)):
            if right - left < _MISSED_WIDTH * height:
                continue
            # Rows with only a tone mark or two fall below the row threshold, so the
            # cut reaches well above and below the run.
            margin = int(height * 0.35)
            box = (max(0, left - margin), max(0, start - margin),
                   min(ink.shape[1], right + margin), min(ink.shape[0], stop + margin))
            cuts.append(_Cut(box=box, replaces=[]))
    return cuts


def _runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Return the [start, stop) runs of True in `flags`, joining runs at most `gap` apart."""
    indexes = np.flatnonzero(flags)
    if indexes.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(indexes) > gap + 1)
    starts = np.concatenate([[indexes[0]], indexes[breaks + 1]])
    stops = np.concatenate([indexes[breaks], [indexes[-1]]]) + 1
    return [(int(a), int(b)) for a, b in zip(starts, stops)]


def _merge_words(read: list[Line], box: Box) -> Line | None:
    """Return the words read from one cut as one line in page pixels, or None when it has none."""
    words = [word for line in read for word in line.words]
    if not words:
        return None
    dx, dy = box[0], box[1]
    for word in words:
        word.box = _moved(word.box, dx, dy)
        for char in word.chars:
            char.box = _moved(char.box, dx, dy)
    # Each line Tesseract found in the cut starts a new word group, so a space goes before it.
    for line in read[1:]:
        line.words[0].space_before = True
    line_box = (min(w.box[0] for w in words), min(w.box[1] for w in words),
                max(w.box[2] for w in words), max(w.box[3] for w in words))
    return Line(box=line_box, words=words)


def _moved(box: Box, dx: int, dy: int) -> Box:
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
