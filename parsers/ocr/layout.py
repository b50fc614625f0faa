"""Turn Tesseract's lines into the page text, one line per region of the page.

The header of a Thai letter puts two things side by side: the document number at
the left and the issuer at the right, under the Garuda emblem. Tesseract often reads
them as one line. Here a line is cut wherever its words are a column gap apart, so
the number line and the issuer line come out as separate lines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.ocr.engine import Box, Line, Word

# Tesseract's Thai model cannot output SARA AM (U+0E33) and writes NIKHAHIT (U+0E4D)
# followed by SARA AA instead, with any tone mark before or between them. NFC does
# not join them because SARA AM has only a compatibility decomposition.
_SPLIT_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
_TONE_BEFORE_NIKHAHIT = re.compile("([\u0e48-\u0e4b])\u0e4d\u0e32")
# Tesseract reads the Garuda emblem, signatures and stamp remains as short runs of
# low-confidence marks. A piece of a line is dropped below these mean word
# confidences (0-100): the first for pieces of at most 4 letters, the second for any.
_NOISE_SHORT_CHARS = 4
_NOISE_SHORT_CONFIDENCE = 75.0
_NOISE_CONFIDENCE = 40.0
# A gap this many times the line's letter height separates two columns: a space
# between words is at most about one letter height.
_COLUMN_GAP = 3.0


@dataclass
class TextLine:
    """One line of recognized text and its words, boxes in page pixels.

    `char_boxes` has one entry per character of `text`: the box Tesseract gave the
    character, or None for a space.
    """

    text: str
    box: Box
    words: list[Word]
    char_boxes: list[Box | None]


def join_sara_am(text: str) -> str:
    """Return `text` with NIKHAHIT + SARA AA written as SARA AM."""
    text = _TONE_BEFORE_NIKHAHIT.sub(lambda m: m.group(1) + "\u0e33", text)
    return _SPLIT_SARA_AM.sub(lambda m: m.group(1) + "\u0e33", text)


def split_regions(lines: list[Line]) -> list[TextLine]:
    """Return the lines cut at column gaps, without noise, in reading order."""
    pieces: list[TextLine] = []
    for line in lines:
        pieces.extend(piece for piece in _split_line(line) if not is_noise(piece))
    return _reading_order(pieces)


def _reading_order(pieces: list[TextLine]) -> list[TextLine]:
    """Return `pieces` top to bottom, and left to right among pieces on the same row.

    Tesseract may return the issuer block at the right before the number at the left.
    A letter has no text columns, so the page order is the order of rows.
    """
    rows: list[list[TextLine]] = []
    for piece in sorted(pieces, key=lambda p: (p.box[1] + p.box[3]) / 2):
        centre = (piece.box[1] + piece.box[3]) / 2
        if rows:
            last = rows[-1][0]
            last_centre = (last.box[1] + last.box[3]) / 2
            if abs(centre - last_centre) < (last.box[3] - last.box[1]) / 2:
                rows[-1].append(piece)
                continue
        rows.append([piece])
    return [piece for row in rows for piece in sorted(row, key=lambda p: p.box[0])]


def is_noise(line: TextLine) -> bool:
    """Tell whether a piece of a line is marks read from a picture or stamp, not text."""
    confidence = sum(w.confidence for w in line.words) / len(line.words)
    letters = sum(1 for ch in line.text if ch.isalnum())
    if letters <= _NOISE_SHORT_CHARS and confidence < _NOISE_SHORT_CONFIDENCE:
        return True
    return confidence < _NOISE_CONFIDENCE


def page_text(lines: list[TextLine]) -> str:
    """Return the page's text, one line per region, ending with a newline."""
    return "".join(line.text + "\n" for line in lines if line.text.strip())


def _split_line(line: Line) -> list[TextLine]:
    height = _letter_height(line)
    groups: list[list[Word]] = [[]]
    right = None
    for word in line.words:
        if right is not None and word.box[0] - right > _COLUMN_GAP * height:
            groups.append([])
        groups[-1].append(word)
        right = word.box[2] if right is None else max(right, word.box[2])
    return [_text_line(group) for group in groups if group]


def _letter_height(line: Line) -> float:
    """Return the median height of the line's characters, a robust letter size."""
    heights = sorted(c.box[3] - c.box[1] for w in line.words for c in w.chars if c.box[3] > c.box[1])
    if not heights:
        return max(1.0, (line.box[3] - line.box[1]) / 2)
    return float(heights[len(heights) // 2])


def _text_line(words: list[Word]) -> TextLine:
    pairs: list[tuple[str, Box | None]] = []
    for index, word in enumerate(words):
        if index and word.space_before:
            pairs.append((" ", None))
        if word.chars:
            pairs.extend((c.text, c.box) for c in word.chars for _ in c.text)
        else:
            pairs.extend((ch, word.box) for ch in word.text)
    pairs = join_sara_am_pairs(pairs)
    box = (
        min(w.box[0] for w in words),
        min(w.box[1] for w in words),
        max(w.box[2] for w in words),
        max(w.box[3] for w in words),
    )
    return TextLine(text="".join(ch for ch, _ in pairs), box=box, words=words, char_boxes=[b for _, b in pairs])


def join_sara_am_pairs(pairs: list[tuple[str, Box | None]]) -> list[tuple[str, Box | None]]:
    """Apply `join_sara_am` to characters that carry boxes, keeping one box per character."""
    text = "".join(ch for ch, _ in pairs)
    if "\u0e4d" not in text:
        return pairs
    result: list[tuple[str, Box | None]] = []
    index = 0
    while index < len(pairs):
        ch = pairs[index][0]
        ahead = text[index:index + 3]
        match = _SPLIT_SARA_AM.match(ahead) or _TONE_BEFORE_NIKHAHIT.match(ahead)
        if match:
            tone = match.group(1) or ""
            box = pairs[index + len(match.group(0)) - 1][1]
            if tone:
                result.append((tone, box))
            result.append(("\u0e33", box))
            index += len(match.group(0))
            continue
        result.append((ch, pairs[index][1]))
        index += 1
    return result
