#!/usr/bin/env python3
"""Build PDFs with a text layer from the sample letters in samples/.

Each `samples/<id>.txt` is rendered by two routes, and each PDF gets a copy of
`<id>.expected.json` named after it (the id is the file name before its first
dot, so the route is joined to the id with a hyphen):

- `reportlab`: Sarabun (PyPI package fontpkg-sarabun) drawn by reportlab in a
  plain layout, one text line per PDF line, long lines wrapped at Thai word
  boundaries. Gives `<id>-sarabun.pdf`.
- `libreoffice`: Laksaman (Debian package fonts-tlwg-laksaman, pulled in by
  fonts-thai-tlwg) set by LibreOffice Writer from a generated flat ODT. The
  layout is that of an official letter, with the number on the left and the
  issuer on the right of the same lines, the date centred and the signature
  block indented. Gives `<id>-laksaman.pdf`. Needs `soffice` (Debian package
  libreoffice-writer-nogui).

A form feed in a text file starts a new page in both routes.
"""

import argparse
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

log = logging.getLogger("build_samples")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ROUTES = ("reportlab", "libreoffice")
PDF_SUFFIX = {"reportlab": "sarabun", "libreoffice": "laksaman"}

# A conversion normally ends within seconds, so a soffice still running after this is stuck.
SOFFICE_TIMEOUT_SECONDS = 180

THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
               "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
DATE_LINE = re.compile(r"^\s*[0-9๐-๙]{1,2}\s+(%s)\s+[0-9๐-๙]{4}\s*$" % "|".join(THAI_MONTHS))
DOCNUM_LINE = re.compile(r"^ที่\s+[ก-ฮ]{2}\s*[0-9๐-๙]")
URGENCY_LINE = re.compile(r"^(ด่วนที่สุด|ด่วนมาก|ด่วน|ด่วนภายใน\s.*)$")
SECRECY_LINE = re.compile(r"^(ลับที่สุด|ลับมาก|ลับ)$")
SUBJECT_LINE = re.compile(r"^เรื่อง\s")
CLOSING_LINE = re.compile(r"^ขอแสดงความนับถือ\s*$")
STAMP_TIME_LINE = re.compile(r"^เวลา")
BODY_START = re.compile(r"^(จึงเรียน|ตามที่|ตามหนังสือ|ด้วย|[0-9๐-๙]{1,2}\.\s)")
# Parts that keep their own line start even when long: the subject, salutation, references,
# enclosures and copies.
HEAD_PART = re.compile(r"^(เรื่อง|เรียน|กราบเรียน|อ้างถึง|สิ่งที่ส่งมาด้วย|สำเนาส่ง)")
# Lines longer than this many characters are paragraphs of running text in the official layout.
BODY_MIN_CHARS = 70

# Official layout: A4 with 3 cm and 2 cm side margins leaves 16 cm for text. The issuer
# column starts at the tab stop and takes the rest of the line.
OFFICIAL_FONT_SIZE = 16
ISSUER_TAB_CM = 8.0
ISSUER_WIDTH_PT = (16.0 - ISSUER_TAB_CM) / 2.54 * 72


# ---------------------------------------------------------------- input


def read_letter_pages(path):
    """Return the pages of a sample text file, each a list of lines without line ends."""
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
    pages = []
    for page in text.split("\f"):
        lines = page.split("\n")
        while lines and not lines[-1].strip():
            lines.pop()  # trailing blank lines would spill onto an empty last page
        pages.append(lines)
    return pages


def sample_ids(selected=None):
    """Return the ids of the text samples, sorted, limited to `selected` when given."""
    ids = sorted(p.name.split(".")[0] for p in SAMPLES.glob("*.txt"))
    if selected:
        unknown = sorted(set(selected) - set(ids))
        if unknown:
            raise SystemExit(f"unknown sample id(s): {', '.join(unknown)}; expected one of {', '.join(ids)}")
        ids = [i for i in ids if i in selected]
    return ids


def copy_expected(sample_id, pdf_path):
    """Write `<pdf stem>.expected.json` beside the PDF, a copy of the sample's expected file."""
    source = SAMPLES / f"{sample_id}.expected.json"
    target = pdf_path.with_name(pdf_path.stem + ".expected.json")
    shutil.copyfile(source, target)
    return target


# ---------------------------------------------------------------- reportlab route


def sarabun_font_files():
    """Return {weight: Path} for the upright Sarabun TTF files that fontpkg-sarabun ships."""
    import fontpkg_sarabun

    metadata = json.loads((fontpkg_sarabun.ROOT / "metadata.json").read_text(encoding="utf-8"))
    return {f["weight"]: fontpkg_sarabun.ROOT / f["path"]
            for f in metadata["files"] if f["style"] == "normal" and not f["variable"]}


def register_ttf(name, path):
    """Register a TrueType font with reportlab under `name` once; return the reportlab font."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return pdfmetrics.getFont(name)


def find_font_file(family, package):
    """Return the file fontconfig's `fc-match` finds for `family`, or raise naming the package."""
    found = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True)
    font_file = found.stdout.strip()
    if found.returncode != 0 or family.split()[0].lower() not in Path(font_file).name.lower():
        raise RuntimeError(f"font {family} not found (fc-match gave {font_file!r}); "
                           f"install the Debian package {package}")
    return font_file


class FontRuns:
    """Sarabun with a fallback font for the characters Sarabun lacks.

    reportlab draws a character missing from a font as glyph 0, which pypdf reads back
    as U+0000, so the stray Devanagari letters in sample 000 would be lost. Runs of such
    characters are drawn in Lohit Devanagari (Debian package fonts-lohit-deva), which
    is loaded only when a letter needs it.
    """

    FALLBACK = ("Lohit Devanagari", "fonts-lohit-deva")

    def __init__(self, bold=False):
        files = sarabun_font_files()
        name, weight = ("Sarabun-Bold", 700) if bold else ("Sarabun", 400)
        self.main = register_ttf(name, files[weight])
        self.covered = self.main.face.charToGlyph
        self.fallback = None

    def runs(self, text):
        """Split text into (font name, run) pairs, each run drawable in its font."""
        out = []
        for char in text:
            name = self.main.fontName if ord(char) in self.covered or char.isspace() else self.fallback_name()
            if out and out[-1][0] == name:
                out[-1] = (name, out[-1][1] + char)
            else:
                out.append((name, char))
        return out

    def fallback_name(self):
        """Return the reportlab name of the fallback font, registering it on first use."""
        if self.fallback is None:
            family, package = self.FALLBACK
            self.fallback = register_ttf(family.replace(" ", "-"), find_font_file(family, package))
        return self.fallback.fontName

    def width(self, text, size):
        """Return the advance width of `text` in points at `size`."""
        from reportlab.pdfbase import pdfmetrics

        return sum(pdfmetrics.stringWidth(run, name, size) for name, run in self.runs(text))

    def draw(self, pdf, x, y, text, size):
        """Draw `text` with its baseline starting at (x, y)."""
        line = pdf.beginText(x, y)
        for name, run in self.runs(text):
            line.setFont(name, size)
            line.textOut(run)
        pdf.drawText(line)


def split_clusters(text):
    """Split text into clusters that keep each Thai mark (and sara am) with its base letter."""
    clusters = []
    for char in text:
        if clusters and (unicodedata.category(char) == "Mn" or char == "\u0e33"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def wrap_line(text, width, measure):
    """Break one text line into pieces no wider than `width` points.

    Thai has no spaces between words, so breaks fall at the word boundaries found by
    pythainlp's dictionary tokenizer. A single word wider than the line is cut between
    character clusters. `measure` returns the width of a string in points.
    """
    from pythainlp.tokenize import word_tokenize

    if measure(text) <= width:
        return [text]
    pieces, current = [], ""
    for token in word_tokenize(text, engine="newmm", keep_whitespace=True):
        if measure(current + token) <= width:
            current += token
            continue
        if current.strip():
            pieces.append(current.rstrip())
        current = token.lstrip()
        while measure(current) > width:
            clusters = split_clusters(current)
            head = clusters[0]  # one cluster even if it alone is too wide, so the loop ends
            for cluster in clusters[1:]:
                if measure(head + cluster) > width:
                    break
                head += cluster
            pieces.append(head)
            current = current[len(head):]
    if current.strip():
        pieces.append(current.rstrip())
    return pieces


def build_reportlab_pdf(pages, pdf_path, title):
    """Draw the pages in Sarabun, plain layout, to `pdf_path`.

    The PDF is byte-for-byte reproducible (reportlab's invariant mode), so a rebuild
    can be compared with the committed file.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas

    regular, bold = FontRuns(), FontRuns(bold=True)
    size, leading = 14, 20
    left, right, top, bottom = 3 * cm, 2 * cm, 2.5 * cm, 2 * cm
    page_width, page_height = A4
    width = page_width - left - right

    pdf = canvas.Canvas(str(pdf_path), pagesize=A4, invariant=1)
    pdf.setTitle(title)
    pdf.setAuthor("Saraban sample letters")
    for page_number, lines in enumerate(pages):
        if page_number:
            pdf.showPage()
        y = page_height - top
        for line in lines:
            stripped = line.strip()
            font = bold if URGENCY_LINE.match(stripped) or SECRECY_LINE.match(stripped) else regular
            indent = regular.width(" " * (len(line) - len(line.lstrip(" "))), size)
            pieces = wrap_line(stripped, width - indent, lambda s, f=font: f.width(s, size)) if stripped else [""]
            for piece in pieces:
                if y < bottom and not piece:
                    continue  # a blank line at the foot of a page is dropped, not carried over
                if y < bottom:
                    pdf.showPage()
                    y = page_height - top
                font.draw(pdf, left + indent, y, piece, size)
                y -= leading
    pdf.save()
    return pdf_path


# ---------------------------------------------------------------- LibreOffice route


FODT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta><dc:title>{title}</dc:title></office:meta>
 <office:font-face-decls>
  <style:font-face style:name="{font}" svg:font-family="{font}"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0cm" fo:line-height="0.72cm"/>
   <style:text-properties style:font-name="{font}" fo:font-size="{size}pt"
    style:font-name-complex="{font}" style:font-size-complex="{size}pt"
    style:font-name-asian="{font}" style:font-size-asian="{size}pt"
    fo:language="th" fo:country="TH" style:language-complex="th" style:country-complex="TH"/>
  </style:default-style>
  <style:style style:name="Standard" style:family="paragraph"/>
  <style:style style:name="Header" style:family="paragraph">
   <style:paragraph-properties>
    <style:tab-stops><style:tab-stop style:position="{tab_cm}cm"/></style:tab-stops>
   </style:paragraph-properties>
  </style:style>
  <style:style style:name="Centre" style:family="paragraph">
   <style:paragraph-properties fo:text-align="center"/>
  </style:style>
  <style:style style:name="Urgency" style:family="paragraph">
   <style:paragraph-properties fo:margin-left="1cm"/>
   <style:text-properties fo:font-size="22pt" style:font-size-complex="22pt" fo:font-weight="bold"
    style:font-weight-complex="bold" fo:color="#c00000"/>
  </style:style>
  <style:style style:name="Secrecy" style:family="paragraph">
   <style:paragraph-properties fo:text-align="center"/>
   <style:text-properties fo:font-size="22pt" style:font-size-complex="22pt" fo:font-weight="bold"
    style:font-weight-complex="bold" fo:color="#c00000"/>
  </style:style>
  <style:style style:name="Body" style:family="paragraph">
   <style:paragraph-properties fo:text-indent="2.5cm" fo:text-align="justify"/>
  </style:style>
  <style:style style:name="Signature" style:family="paragraph">
   <style:paragraph-properties fo:margin-left="7cm" fo:text-align="center"/>
  </style:style>
  <style:style style:name="Stamp" style:family="paragraph">
   <style:paragraph-properties fo:margin-left="9.5cm" fo:border="0.06pt solid #1f3c88"
    fo:padding="0.1cm" fo:text-align="center"/>
   <style:text-properties fo:font-size="14pt" style:font-size-complex="14pt" fo:color="#1f3c88"/>
  </style:style>
  <style:style style:name="PageBreak" style:family="paragraph">
   <style:paragraph-properties fo:break-before="page"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="A4">
   <style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm"
    fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="3cm" fo:margin-right="2cm"/>
  </style:page-layout>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="A4"/>
 </office:master-styles>
 <office:body><office:text>
"""
FODT_TAIL = " </office:text></office:body>\n</office:document>\n"


def odf_text(text):
    """Escape `text` for ODF, keeping runs of spaces (ODF collapses them otherwise)."""
    def spaces(match):
        return " " if len(match.group()) == 1 else f'<text:s text:c="{len(match.group())}"/>'
    return re.sub(r" +", spaces, escape(text))


def paragraph(style, text, page_break=False):
    """Return one ODF paragraph; a page break is carried by a separate empty paragraph."""
    out = '  <text:p text:style-name="PageBreak"/>\n' if page_break else ""
    return out + f'  <text:p text:style-name="{style}">{text}</text:p>\n'


def stamp_ranges(lines):
    """Return (first, last) line indexes of receipt stamps above the subject line.

    A stamp is a run of up to five non-blank lines that ends with a `เวลา` (time) line.
    """
    limit = next((i for i, line in enumerate(lines) if SUBJECT_LINE.match(line.strip())), len(lines))
    ranges = []
    for i in range(limit):
        if STAMP_TIME_LINE.match(lines[i].strip()):
            first = i
            while first > 0 and i - first < 4 and lines[first - 1].strip():
                first -= 1
            ranges.append((first, i))
    return ranges


def issuer_lines_after(lines, number_index):
    """Return the indexes of the issuer lines that follow a number line, blank lines skipped."""
    i = number_index + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    found = []
    while i < len(lines) and lines[i].strip() and len(found) < 3:
        stripped = lines[i].strip()
        if DATE_LINE.match(stripped) or SUBJECT_LINE.match(stripped) or URGENCY_LINE.match(stripped):
            break
        found.append(i)
        i += 1
    return found


def split_issuer_row(row, measure):
    """Split an issuer or address line at spaces so that each part fits the issuer column."""
    parts = []
    while measure(row) > ISSUER_WIDTH_PT and " " in row:
        words = row.split(" ")
        head = words[0]
        for word in words[1:]:
            if measure(head + " " + word) > ISSUER_WIDTH_PT:
                break
            head += " " + word
        parts.append(head)
        row = row[len(head):].strip()
    return parts + [row]


def official_page(lines, measure):
    """Lay out one page in the official style; return its ODF paragraphs as (style, xml).

    `measure` returns the width in points of a string in the document font.
    """
    out = []
    stamps = stamp_ranges(lines)
    stamp_lines = {i for first, last in stamps for i in range(first, last + 1)}
    consumed = set()
    # The signature block is the first run of non-blank lines after the closing line.
    in_signature = signature_started = False
    for i, line in enumerate(lines):
        if i in consumed:
            continue
        stripped = line.strip()
        if in_signature:
            if stripped:
                signature_started = True
                out.append(("Signature", odf_text(stripped)))
                continue
            if signature_started:
                in_signature = False
        if i in stamp_lines:
            out.append(("Stamp", odf_text(stripped)))
        elif DOCNUM_LINE.match(stripped):
            issuer = issuer_lines_after(lines, i)
            consumed.update(issuer)
            rows = [part for j in issuer for part in split_issuer_row(lines[j].strip(), measure)] or [""]
            out.append(("Header", odf_text(stripped) + "<text:tab/>" + odf_text(rows[0])))
            out.extend(("Header", "<text:tab/>" + odf_text(row)) for row in rows[1:])
        elif DATE_LINE.match(stripped):
            out.append(("Centre", odf_text(stripped)))
        elif URGENCY_LINE.match(stripped):
            out.append(("Urgency", odf_text(stripped)))
        elif SECRECY_LINE.match(stripped):
            out.append(("Secrecy", odf_text(stripped)))
        elif CLOSING_LINE.match(stripped):
            in_signature, signature_started = True, False
            out.append(("Signature", odf_text(stripped)))
        elif BODY_START.match(stripped) or (len(stripped) > BODY_MIN_CHARS and not line.startswith(" ")
                                            and not HEAD_PART.match(stripped)):
            out.append(("Body", odf_text(stripped)))
        else:
            out.append(("Standard", odf_text(line.rstrip())))
    return out


def font_measure(family):
    """Return a function giving the width in points of a string in `family` at the official size."""
    from reportlab.pdfbase import pdfmetrics

    font = register_ttf(family, find_font_file(family, "fonts-thai-tlwg"))
    return lambda text: pdfmetrics.stringWidth(text, font.fontName, OFFICIAL_FONT_SIZE)


def write_official_fodt(pages, fodt_path, font, title):
    """Write the pages as a flat ODT document in the official layout."""
    measure = font_measure(font)
    parts = [FODT_HEAD.format(title=escape(title), font=font, size=OFFICIAL_FONT_SIZE, tab_cm=ISSUER_TAB_CM)]
    for page_number, lines in enumerate(pages):
        for n, (style, xml) in enumerate(official_page(lines, measure)):
            parts.append(paragraph(style, xml, page_break=bool(page_number) and n == 0))
    parts.append(FODT_TAIL)
    fodt_path.write_text("".join(parts), encoding="utf-8")
    return fodt_path


def find_soffice():
    """Return the path of LibreOffice's `soffice`, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def build_libreoffice_pdf(pages, pdf_path, title, soffice, font="Laksaman"):
    """Convert the pages to `pdf_path` through a flat ODT and headless LibreOffice.

    LibreOffice runs with a throw-away user profile, so it neither reads nor changes
    the profile of the person running the script and can run beside another instance.
    """
    with tempfile.TemporaryDirectory(prefix="saraban-lo-") as work:
        work = Path(work)
        fodt = write_official_fodt(pages, work / (pdf_path.stem + ".fodt"), font, title)
        command = [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless",
                   "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(work), str(fodt)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT_SECONDS)
        produced = work / (pdf_path.stem + ".pdf")
        if result.returncode != 0 or not produced.exists():
            raise RuntimeError(f"soffice failed to convert {fodt.name} (exit {result.returncode}): "
                               f"{result.stderr.strip()[-300:]}")
        shutil.move(produced, pdf_path)
    return pdf_path


# ---------------------------------------------------------------- main


def build(sample_id, route, out_dir, soffice=None):
    """Build one sample's PDF by one route into `out_dir`; return the PDF path."""
    pages = read_letter_pages(SAMPLES / f"{sample_id}.txt")
    pdf_path = out_dir / f"{sample_id}-{PDF_SUFFIX[route]}.pdf"
    title = f"Saraban sample {sample_id}"
    if route == "reportlab":
        build_reportlab_pdf(pages, pdf_path, title)
    else:
        soffice = soffice or find_soffice()
        if soffice is None:
            raise RuntimeError("soffice not found: install the Debian package libreoffice-writer-nogui")
        build_libreoffice_pdf(pages, pdf_path, title, soffice)
    copy_expected(sample_id, pdf_path)
    log.info("built %s (%d bytes)", pdf_path.name, pdf_path.stat().st_size)
    return pdf_path


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="sample ids to build (default: every samples/*.txt)")
    parser.add_argument("--route", choices=ROUTES + ("all",), default="all",
                        help="which renderer to use (default: all)")
    parser.add_argument("--out", type=Path, default=SAMPLES,
                        help="directory for the PDFs and their expected files (default: samples/)")
    return parser.parse_args(argv)


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = parse_args(argv)
    routes = ROUTES if args.route == "all" else (args.route,)
    soffice = find_soffice()
    if "libreoffice" in routes and soffice is None:
        log.error("soffice not found: install the Debian packages libreoffice-writer-nogui and "
                  "fonts-thai-tlwg, or run with --route reportlab")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for sample_id in sample_ids(args.ids):
        for route in routes:
            build(sample_id, route, args.out, soffice)
    return 0


if __name__ == "__main__":
    sys.exit(main())
