"""Draw a covering letter as an A4 PDF in the official external-letter layout.

Positions follow the usual government template of the regulation's external-letter form. The
margins are 3 cm left and 2 cm right, and the Garuda emblem is 3 cm high at the top centre. The
number sits at the left and the issuer at the right on the same lines, and the date starts at
the page centre. Body paragraphs are indented 2.5 cm, and the signature block is centred under
the closing. Lines are broken here at Thai words found by pythainlp, and each line is drawn with
HarfBuzz shaping.
"""

from __future__ import annotations

import io
import logging
import re

from reportlab.lib.colors import black, red
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfbase.ttfonts import ShapedStr, shapeStr
from reportlab.pdfgen.canvas import Canvas

from workflow.documents.covering_letter import Part
from workflow.documents.fonts import BOLD, REGULAR, register_fonts, rejoin_sara_am, shaping_available
from workflow.documents.qr import QUIET_ZONE, qr_matrix
from workflow.documents.thaitext import break_lines, split_words, with_digits

log = logging.getLogger(__name__)

CM = 72 / 2.54
PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 3.0 * CM
RIGHT = PAGE_WIDTH - 2.0 * CM
CENTRE = PAGE_WIDTH / 2
BOTTOM = 2.0 * CM
GARUDA_TOP = 1.5 * CM
GARUDA_HEIGHT = 3.0 * CM
FIRST_BASELINE = PAGE_HEIGHT - GARUDA_TOP - GARUDA_HEIGHT
NEXT_PAGE_TOP = PAGE_HEIGHT - 3.0 * CM
ISSUER_MAX_X = 12.5 * CM
PARAGRAPH_INDENT = 2.5 * CM

# NOTE: Government letters are set in TH Sarabun 16 pt. Google's Sarabun draws the same text
# larger: at 16 pt it fits about 65 characters on a 16 cm line where TH-font letters fit 80 to
# 90, so 12 pt Sarabun is used for body text (an estimate of the same apparent size).
BODY_SIZE = 12.0
LEADING = BODY_SIZE * 1.5
STAMP_SIZE = 20.0
STAMP_SMALL_SIZE = 15.0
SMALL_SIZE = 10.0
QR_SIZE = 2.4 * CM
QR_CAPTION_WIDTH = 6.0 * CM
# Room kept free around the code for its quiet zone; a long URL makes smaller modules.
QR_QUIET_MARGIN = 0.5 * CM


def render_pdf(parts: list[Part], digits: str = "thai") -> bytes:
    """Draw the parts of a letter (from `letter_parts`) on A4 pages; return the PDF bytes.

    `digits` (`thai` or `arabic`) sets the digits of the page numbers on pages after the first.
    """
    register_fonts()
    if not shaping_available():
        log.warning("uharfbuzz is not installed: Thai tone marks may collide with upper vowels")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    by_kind = {part.kind: part for part in parts}
    canvas.setTitle(by_kind["subject"].lines[0])
    canvas.setAuthor(by_kind["issuer"].lines[0])
    canvas.setSubject(by_kind["number"].lines[0])
    _LetterWriter(canvas, by_kind, digits).write(parts)
    canvas.save()
    return buffer.getvalue()


class _LetterWriter:
    """Keeps the pen position and turns pages, marking each continuation the official way."""

    def __init__(self, canvas: Canvas, by_kind: dict[str, Part], digits: str):
        self.canvas = canvas
        self.by_kind = by_kind
        self.page = 1
        self.y = FIRST_BASELINE
        self.secrecy = by_kind["secrecy"].lines[0] if "secrecy" in by_kind else None
        self.digits = digits

    def write(self, parts: list[Part]) -> None:
        self._stamp_secrecy()
        for part in parts:
            getattr(self, f"_write_{part.kind}")(part)

    # Parts, in the order `letter_parts` emits them.

    def _write_secrecy(self, part: Part) -> None:
        pass  # drawn on every page by _stamp_secrecy

    def _write_urgency(self, part: Part) -> None:
        # The stamp stays left of the Garuda's space. A long `ด่วนภายใน ...` stamp gets a
        # smaller size and, if it still does not fit, its time on a second line.
        text = part.lines[0]
        width = CENTRE - GARUDA_HEIGHT / 2 - LEFT
        size = STAMP_SIZE if measure(text, STAMP_SIZE, BOLD) <= width else STAMP_SMALL_SIZE
        lines = [text]
        if measure(text, size, BOLD) > width:
            date_part, separator, time_part = text.partition(" เวลา ")
            lines = [date_part, "เวลา " + time_part] if separator else [text]
        y = FIRST_BASELINE + 1.3 * CM + (len(lines) - 1) * size * 1.25
        for line in lines:
            draw_text(self.canvas, LEFT, y, line, BOLD, size, color=red)
            y -= size * 1.25

    def _write_number(self, part: Part) -> None:
        # NOTE: the Garuda emblem's space (3 cm high, top centre) is left blank because the
        # project ships no artwork of the emblem. Offices print on paper that carries it.
        draw_text(self.canvas, LEFT, FIRST_BASELINE, part.lines[0], REGULAR, BODY_SIZE)
        self.number_right = LEFT + measure(part.lines[0])

    def _write_issuer(self, part: Part) -> None:
        widest = max(measure(line) for line in part.lines)
        x = max(min(ISSUER_MAX_X, RIGHT - widest), self.number_right + 0.5 * CM)
        lines = [piece for line in part.lines for piece in break_lines(line, RIGHT - x, measure)]
        for index, line in enumerate(lines):
            if index:
                self.y -= LEADING
            draw_text(self.canvas, x, self.y, line, REGULAR, BODY_SIZE)

    def _write_date(self, part: Part) -> None:
        self.y -= LEADING * 1.5
        draw_text(self.canvas, CENTRE, self.y, part.lines[0], REGULAR, BODY_SIZE)
        self.y -= LEADING * 0.5

    def _write_subject(self, part: Part) -> None:
        self._labelled(part)

    def _write_salutation(self, part: Part) -> None:
        self._labelled(part)

    def _write_references(self, part: Part) -> None:
        self._labelled(part)

    def _write_enclosures(self, part: Part) -> None:
        self._labelled(part)

    def _write_copies(self, part: Part) -> None:
        self._labelled(part)

    def _write_body(self, part: Part) -> None:
        self.y -= LEADING * 0.3
        for index, paragraph in enumerate(part.lines):
            last = index == len(part.lines) - 1
            self._paragraph(paragraph, keep_with_closing=last)

    def _write_closing_request(self, part: Part) -> None:
        self._ensure(LEADING * 1.3 + self._closing_height(part.lines[0]), self._paragraph_lines(part.lines[0])[0])
        self._paragraph(part.lines[0])

    def _closing_height(self, closing_request: str) -> float:
        """Return the height from the closing request's first baseline to the last signature line.

        The closing request, the closing and the signature stay on one page, with at least two
        lines of the body before them, as the regulation's practice is never to leave a
        signature alone on a page.
        """
        signature_lines = len(self.by_kind["signature"].lines)
        return LEADING * (len(self._paragraph_lines(closing_request)) + 3.5 + signature_lines)

    def _write_closing(self, part: Part) -> None:
        self.y -= LEADING * 1.3
        draw_text(self.canvas, CENTRE, self.y, part.lines[0], REGULAR, BODY_SIZE)
        self.signature_centre = CENTRE + measure(part.lines[0]) / 2

    def _write_signature(self, part: Part) -> None:
        half = max(measure(line) for line in part.lines) / 2
        centre = min(self.signature_centre, RIGHT - half)
        self.y -= LEADING * 4
        for index, line in enumerate(part.lines):
            if index:
                self.y -= LEADING
            draw_text(self.canvas, centre, self.y, line, REGULAR, BODY_SIZE, align="centre")

    def _write_contact(self, part: Part) -> None:
        width = RIGHT - LEFT
        if "qr" in self.by_kind:
            width -= QR_SIZE + QR_QUIET_MARGIN
        lines = [piece for line in part.lines for piece in break_lines(line, width, measure)]
        self.y -= LEADING * 2
        self._ensure(LEADING * len(lines), lines[0])
        self.contact_top = self.y
        for index, line in enumerate(lines):
            if index:
                self.y -= LEADING
            draw_text(self.canvas, LEFT, self.y, line, REGULAR, BODY_SIZE)
        if "qr" in self.by_kind:
            # The code goes beside the contact block, before the copies line starts below both.
            self._draw_qr_block(self.by_kind["qr"])

    def _write_qr(self, part: Part) -> None:
        pass  # drawn beside the contact block by _write_contact

    def _draw_qr_block(self, part: Part) -> None:
        url, caption = part.lines
        caption_lines = break_lines(caption, QR_CAPTION_WIDTH, lambda text: measure(text, SMALL_SIZE))
        height = QR_SIZE + QR_QUIET_MARGIN + SMALL_SIZE * 1.4 * len(caption_lines)
        top = self.contact_top + BODY_SIZE
        if top - height < BOTTOM:
            # The code goes below the contact block when the page has no room beside it.
            top = self.y - LEADING
            if top - height < BOTTOM:
                self._new_page(None)
                top = self.y + BODY_SIZE
        module = draw_qr(self.canvas, RIGHT - QR_SIZE, top - QR_SIZE, QR_SIZE, url)
        y = top - QR_SIZE - QUIET_ZONE * module - SMALL_SIZE
        for line in caption_lines:
            draw_text(self.canvas, RIGHT, y, line, REGULAR, SMALL_SIZE, align="right")
            y -= SMALL_SIZE * 1.4
        self.y = min(self.y, y)

    # Layout helpers.

    def _labelled(self, part: Part) -> None:
        self.y -= LEADING * 1.3
        label = part.label + "  "
        x = LEFT + measure(label)
        first = True
        for index, item in enumerate(part.lines):
            lines = break_lines(item, RIGHT - x, measure) or [""]
            trailing = part.trailing[index] if index < len(part.trailing) else ""
            for line in lines:
                if not first:
                    self.y -= LEADING
                self._ensure(0, line)
                if first:
                    draw_text(self.canvas, LEFT, self.y, part.label, REGULAR, BODY_SIZE)
                    first = False
                draw_text(self.canvas, x, self.y, line, REGULAR, BODY_SIZE)
            if trailing:
                if x + measure(lines[-1] + "  " + trailing) > RIGHT:
                    self.y -= LEADING
                    self._ensure(0, trailing)
                draw_text(self.canvas, RIGHT, self.y, trailing, REGULAR, BODY_SIZE, align="right")

    def _paragraph_lines(self, text: str) -> list[str]:
        return break_lines(text, RIGHT - LEFT, measure, first_width=RIGHT - LEFT - PARAGRAPH_INDENT)

    def _paragraph(self, text: str, keep_with_closing: bool = False) -> None:
        self.y -= LEADING * 0.3
        lines = self._paragraph_lines(text)
        reserve = self._closing_height(self.by_kind["closing_request"].lines[0]) if keep_with_closing else 0
        for index, line in enumerate(lines):
            self.y -= LEADING
            if keep_with_closing and len(lines) - index == min(2, len(lines)):
                # The last two lines go with the closing block when it does not fit after them.
                self._ensure(LEADING * (min(2, len(lines)) - 1 + 1.3) + reserve, line)
            self._ensure(0, line)
            x = LEFT + PARAGRAPH_INDENT if index == 0 else LEFT
            draw_text(self.canvas, x, self.y, line, REGULAR, BODY_SIZE)

    def _ensure(self, height: float, next_text: str | None) -> None:
        """Turn the page unless `height` below the current baseline still fits above the margin."""
        if self.y - height >= BOTTOM:
            return
        self._new_page(next_text)

    def _new_page(self, next_text: str | None) -> None:
        if next_text:
            # The continuation mark: a slash and the first words of the next page, at the bottom right.
            draw_text(self.canvas, RIGHT, BOTTOM - LEADING, f"/{_first_words(next_text)}...",
                      REGULAR, BODY_SIZE, align="right")
        self.canvas.showPage()
        self.page += 1
        page_number = with_digits(str(self.page), self.digits)
        draw_text(self.canvas, CENTRE, PAGE_HEIGHT - 2.0 * CM, f"- {page_number} -", REGULAR, BODY_SIZE,
                  align="centre")
        self._stamp_secrecy()
        self.y = NEXT_PAGE_TOP

    def _stamp_secrecy(self) -> None:
        if not self.secrecy:
            return
        for y in (PAGE_HEIGHT - 1.0 * CM, 0.8 * CM):
            draw_text(self.canvas, CENTRE, y, self.secrecy, BOLD, STAMP_SIZE, color=red, align="centre")


def _first_words(text: str, limit: int = 12) -> str:
    result = ""
    for piece in split_words(text.strip()):
        if result and len(result) + len(piece) > limit:
            break
        result += piece
    return result.strip()


def measure(text: str, size: float = BODY_SIZE, font: str = REGULAR) -> float:
    """Return the width of `text` in points, unshaped (marks have no advance either way)."""
    return stringWidth(text, font, size)


# A TJ array element: a literal string (with escapes) or a number.
_TJ_ELEMENT = re.compile(rb"\((?:\\.|[^\\)])*\)|-?\d*\.?\d+")
_TJ_ARRAY = re.compile(rb"\[((?:\((?:\\.|[^\\)])*\)|[^\[\]()])*)\]\s*TJ")
# pypdf reads a TJ offset of more than half a space to the right as a word gap; Sarabun's space
# is 260/1000 em wide, so no single offset may exceed 60/1000 em.
_MAX_TJ_GAP = 60


def draw_text(canvas: Canvas, x: float, y: float, text: str, font: str, size: float,
              color=black, align: str = "left") -> None:
    """Draw one line of text with HarfBuzz shaping, its baseline at `y`.

    `align` is the point of the line that `x` gives: its `left` end, `centre` or `right` end.
    """
    if not text:
        return
    shaped = shapeStr(text, font, size) if shaping_available() else text
    if isinstance(shaped, ShapedStr):
        shaped = rejoin_sara_am(shaped, getFont(font))
        width = sum(glyph.x_advance for glyph in shaped.__shapeData__) * size / 1000
    else:
        width = stringWidth(text, font, size)
    if align == "centre":
        x -= width / 2
    elif align == "right":
        x -= width
    text_object = canvas.beginText(x, y)
    text_object.setFont(font, size)
    text_object.setFillColor(color)
    text_object.textOut(shaped)
    text_object._code[:] = [_split_large_gaps(code) for code in text_object._code]
    canvas.drawText(text_object)


def _split_large_gaps(code: str) -> str:
    """Split each rightward TJ offset larger than `_MAX_TJ_GAP` into smaller ones.

    reportlab positions a shifted mark as `[163 (mark) -163] TJ`: it moves left, draws the mark
    and moves back. The move back looks like a word gap to pypdf, which then puts a space
    inside the word. A run of smaller offsets moves the pen as far and adds no space.
    """
    if "TJ" not in code:
        return code
    return _TJ_ARRAY.sub(_split_array, code.encode("latin-1")).decode("latin-1")


def _split_array(match: re.Match) -> bytes:
    pieces = []
    for element in _TJ_ELEMENT.finditer(match[1]):
        token = element.group()
        if token.startswith(b"(") or float(token) >= -_MAX_TJ_GAP:
            pieces.append(token)
            continue
        remaining = -float(token)
        while remaining > 0:
            step = min(remaining, _MAX_TJ_GAP)
            pieces.append(b"-%g" % step)
            remaining -= step
    return b"[" + b" ".join(pieces) + b"] TJ"


def draw_qr(canvas: Canvas, x: float, y: float, size: float, url: str) -> float:
    """Draw the QR code of `url` as vector squares in a `size` square whose lower left is (x, y).

    The quiet zone the QR standard requires is the blank paper around it: the code sits at the
    right margin, and the letter keeps other text at least `QUIET_ZONE` modules away.
    Returns the size of one module.
    """
    matrix = qr_matrix(url)
    module = size / len(matrix)
    canvas.saveState()
    canvas.setFillColor(black)
    for row_index, row in enumerate(matrix):
        for column_index, dark in enumerate(row):
            if dark:
                canvas.rect(x + column_index * module, y + size - (row_index + 1) * module,
                            module, module, stroke=0, fill=1)
    canvas.restoreState()
    return module
