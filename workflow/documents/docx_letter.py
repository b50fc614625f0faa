"""Write a covering letter as a DOCX that a clerk can still edit in Word or LibreOffice.

Same parts and order as the PDF, placed with indents and tab stops instead of absolute
positions, so Word breaks the lines at Thai word boundaries itself and keeps the layout when
the text changes.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from workflow.documents.covering_letter import Part
from workflow.documents.pdf_letter import CM, measure
from workflow.documents.qr import qr_png

# TH SarabunPSK is the usual font of Thai government letters. Where it is missing, Word falls
# back to another Thai font.
FONT_NAME = "TH SarabunPSK"
BODY_SIZE = Pt(16)
STAMP_SIZE = Pt(28)
SMALL_SIZE = Pt(12)
RED = RGBColor(0xC0, 0x00, 0x00)

LEFT_MARGIN_CM = 3.0
TEXT_WIDTH_CM = 16.0
CENTRE_CM = 10.5 - LEFT_MARGIN_CM
ISSUER_TAB_CM = 9.5
PARAGRAPH_INDENT_CM = 2.5
GARUDA_HEIGHT_CM = 3.0


def render_docx(parts: list[Part]) -> bytes:
    """Write the parts of a letter (from `letter_parts`) as a DOCX; return its bytes."""
    document = Document()
    _set_up_page(document)
    _set_up_styles(document)
    by_kind = {part.kind: part for part in parts}
    properties = document.core_properties
    properties.title = by_kind["subject"].lines[0]
    properties.author = by_kind["issuer"].lines[0]
    properties.subject = by_kind["number"].lines[0]
    properties.language = "th-TH"

    _write_head(document, by_kind)
    for part in parts:
        writer = _WRITERS.get(part.kind)
        if writer:
            writer(document, part, by_kind)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_up_page(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(1.5), Cm(2.0)
    section.left_margin, section.right_margin = Cm(LEFT_MARGIN_CM), Cm(2.0)
    section.header_distance, section.footer_distance = Cm(0.8), Cm(0.8)


def _set_up_styles(document) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT_NAME
    style.font.size = BODY_SIZE
    run_properties = style.element.get_or_add_rPr()
    fonts = run_properties.get_or_add_rFonts()
    # Word draws Thai with the complex-script font and size, so both must be set.
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT_NAME)
    _set_run_property(run_properties, "w:szCs", val=str(int(BODY_SIZE.pt * 2)))
    _set_run_property(run_properties, "w:lang", val="th-TH", bidi="th-TH")
    paragraph_format = style.paragraph_format
    paragraph_format.space_before = Pt(0)
    paragraph_format.space_after = Pt(0)
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE


# Children of w:rPr that follow w:szCs and w:lang. The WordprocessingML schema fixes their
# order, and Word may report a file that breaks it as damaged.
_AFTER_SIZE_CS = ("w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign",
                  "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath")
_AFTER_LANG = ("w:eastAsianLayout", "w:specVanish", "w:oMath")


def _set_run_property(run_properties, tag: str, **attributes: str) -> None:
    """Set a run property python-docx has no API for, in its place in the schema's order."""
    for old in run_properties.findall(qn(tag)):
        run_properties.remove(old)
    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    successors = _AFTER_SIZE_CS if tag == "w:szCs" else _AFTER_LANG
    run_properties.insert_element_before(element, *successors)


def _run(paragraph, text: str, size=None, bold: bool = False, color=None):
    run = paragraph.add_run(text)
    if size is not None:
        run.font.size = size
        _set_run_property(run._element.get_or_add_rPr(), "w:szCs", val=str(int(size.pt * 2)))
    if bold:
        run.font.bold = True
        run.font.cs_bold = True
    if color is not None:
        run.font.color.rgb = color
    return run


def _write_head(document, by_kind: dict[str, Part]) -> None:
    """Write the secrecy stamps in header and footer, the urgency stamp and the Garuda space."""
    secrecy = by_kind.get("secrecy")
    if secrecy:
        section = document.sections[0]
        for area in (section.header, section.footer):
            paragraph = area.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(paragraph, secrecy.lines[0], size=STAMP_SIZE, bold=True, color=RED)
    urgency = by_kind.get("urgency")
    stamp_height = 0.0
    if urgency:
        paragraph = document.add_paragraph()
        _exact_height(paragraph, 1.5)
        _run(paragraph, urgency.lines[0], size=STAMP_SIZE, bold=True, color=RED)
        stamp_height = 1.5
    # NOTE: the project ships no artwork of the Garuda emblem. This empty paragraph keeps its
    # 3 cm space at the top centre, so an office can paste the emblem in.
    garuda = document.add_paragraph()
    garuda.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _exact_height(garuda, GARUDA_HEIGHT_CM - stamp_height)


def _exact_height(paragraph, height_cm: float) -> None:
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.paragraph_format.line_spacing = Cm(height_cm)


def _write_number_and_issuer(document, part: Part, by_kind: dict[str, Part]) -> None:
    issuer = by_kind["issuer"].lines
    for index, line in enumerate(issuer):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(ISSUER_TAB_CM))
        paragraph.add_run((part.lines[0] if index == 0 else "") + "\t" + line)


def _write_date(document, part: Part, by_kind: dict[str, Part]) -> None:
    paragraph = document.add_paragraph(part.lines[0])
    paragraph.paragraph_format.left_indent = Cm(CENTRE_CM)
    paragraph.paragraph_format.space_before = BODY_SIZE


def _write_labelled(document, part: Part, by_kind: dict[str, Part]) -> None:
    hang = Cm(measure(part.label + "  ") / CM)
    for index, line in enumerate(part.lines):
        paragraph = document.add_paragraph()
        paragraph_format = paragraph.paragraph_format
        paragraph_format.left_indent = hang
        paragraph_format.first_line_indent = -hang
        paragraph_format.tab_stops.add_tab_stop(hang)
        if index == 0:
            paragraph_format.space_before = Pt(8)
        text = (part.label if index == 0 else "") + "\t" + line
        trailing = part.trailing[index] if index < len(part.trailing) else ""
        if trailing:
            paragraph_format.tab_stops.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT)
            text += "\t" + trailing
        paragraph.add_run(text)


def _write_body(document, part: Part, by_kind: dict[str, Part]) -> None:
    for line in part.lines:
        _indented_paragraph(document, line)


def _indented_paragraph(document, text: str):
    paragraph = document.add_paragraph(text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.THAI_JUSTIFY
    paragraph.paragraph_format.first_line_indent = Cm(PARAGRAPH_INDENT_CM)
    paragraph.paragraph_format.space_before = Pt(6)
    return paragraph


def _write_closing_request(document, part: Part, by_kind: dict[str, Part]) -> None:
    paragraph = _indented_paragraph(document, part.lines[0])
    paragraph.paragraph_format.keep_with_next = True


def _write_closing(document, part: Part, by_kind: dict[str, Part]) -> None:
    paragraph = document.add_paragraph(part.lines[0])
    paragraph.paragraph_format.left_indent = Cm(CENTRE_CM)
    paragraph.paragraph_format.space_before = BODY_SIZE
    paragraph.paragraph_format.keep_with_next = True


def _write_signature(document, part: Part, by_kind: dict[str, Part]) -> None:
    # Centre the block under the closing line, which starts at the page centre.
    centre_cm = CENTRE_CM + measure(by_kind["closing"].lines[0]) / CM / 2
    left_indent = Cm(max(0.0, 2 * centre_cm - TEXT_WIDTH_CM))
    for index, line in enumerate(part.lines):
        paragraph = document.add_paragraph(line)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.left_indent = left_indent
        paragraph.paragraph_format.keep_with_next = index < len(part.lines) - 1
        if index == 0:
            # Room for the handwritten signature.
            paragraph.paragraph_format.space_before = Pt(BODY_SIZE.pt * 3.5)


def _write_contact(document, part: Part, by_kind: dict[str, Part]) -> None:
    for index, line in enumerate(part.lines):
        paragraph = document.add_paragraph(line)
        paragraph.paragraph_format.keep_with_next = index < len(part.lines) - 1
        if index == 0:
            paragraph.paragraph_format.space_before = Pt(BODY_SIZE.pt * 2)


def _write_qr(document, part: Part, by_kind: dict[str, Part]) -> None:
    url, caption = part.lines
    picture = document.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    picture.paragraph_format.space_before = Pt(6)
    picture.paragraph_format.keep_with_next = True
    picture.add_run().add_picture(io.BytesIO(qr_png(url)), width=Cm(2.8))
    caption_paragraph = document.add_paragraph()
    caption_paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(caption_paragraph, caption, size=SMALL_SIZE)


_WRITERS = {
    "number": _write_number_and_issuer,
    "date": _write_date,
    "subject": _write_labelled,
    "salutation": _write_labelled,
    "references": _write_labelled,
    "enclosures": _write_labelled,
    "body": _write_body,
    "closing_request": _write_closing_request,
    "closing": _write_closing,
    "signature": _write_signature,
    "contact": _write_contact,
    "copies": _write_labelled,
    "qr": _write_qr,
}
