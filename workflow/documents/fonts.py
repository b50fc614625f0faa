"""Register Sarabun with reportlab so that Thai is shaped by HarfBuzz and extracts as plain Unicode.

reportlab (checked with 5.1) shapes text through `uharfbuzz` when it is installed: a paragraph
style with `shaping=1`, or a string from `shapeStr` drawn on a canvas. Shaping places tone
marks above the upper vowels and moves marks clear of the tall consonants ป ฝ ฟ. Without it,
a tone mark over an upper vowel is drawn into that vowel and disappears.

Shaping has one cost in the text layer. HarfBuzz picks alternate glyphs (`uni0E48.small`,
`uni0E49.narrow` ...) that have no Unicode code point, and reportlab gives each one a
private-use code point (U+E000 upwards), which then appears in the PDF's ToUnicode map: pypdf
reads `ที่` back as `ที` + U+E000. `ShapedThaiFont` rewrites those entries so that each alternate
glyph maps back to the characters its name spells, and Latin ligatures (`ﬁ`) to their letters.

HarfBuzz also splits `ำ` into `ํ` + `า` so that a tone mark can sit on the nikhahit, which
would extract as `จํานวน` and `นํ้า`. `rejoin_sara_am` puts the pair back: the precomposed `ำ`
glyph where no tone mark is involved, otherwise aliases of the same glyphs that extract as
the tone mark and `ำ`.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, ShapeData, ShapedStr, TTFont

log = logging.getLogger(__name__)

REGULAR = "SarabunShaped"
BOLD = "SarabunShaped-Bold"

_PRIVATE_USE = range(0xE000, 0xF900)
# Shaping turns `fi`, `fl` ... into the font's ligature glyphs, which the cmap lists as U+FB00-FB06.
_LATIN_LIGATURES = range(0xFB00, 0xFB07)
# Aliases start high in the private-use area, clear of those reportlab hands out from U+E000.
_ALIAS_START = 0xF000
# The fonts are shared by every thread of the process, and an alias is a new code point in them.
_ALIAS_LOCK = threading.Lock()
NIKHAHIT, SARA_AA, SARA_AM = "\u0E4D", "\u0E32", "\u0E33"
# Glyph names of the Adobe Glyph List form `uni0E48` or `uni0E4D0E48`, with an optional suffix.
_UNI_NAME = re.compile(r"^uni((?:[0-9A-F]{4})+)(?:\..*)?$")


def sarabun_path(style: str = "Regular") -> Path:
    """Return the path of a Sarabun TTF from the `fontpkg-sarabun` package."""
    import fontpkg_sarabun

    return Path(fontpkg_sarabun.__file__).parent / "files" / f"Sarabun-{style}.ttf"


class ShapedThaiFont(TTFont):
    """A TTFont whose ToUnicode map sends HarfBuzz's alternate glyphs back to real characters."""

    def addObjects(self, doc):
        state = self.state.get(doc)
        subsets = [list(subset) for subset in state.subsets] if state else []
        super().addObjects(doc)
        for index, subset in enumerate(subsets):
            if not any(code in _PRIVATE_USE or code in _LATIN_LIGATURES for code in subset):
                continue
            base_name = (SUBSETN(index) + b"+" + self.face.name + self.face.subfontNameX).decode("pdfdoc")
            stream = doc.idToObject.get("toUnicodeCMap:" + base_name)
            if stream is None:
                log.warning("ToUnicode map of %s not found; Thai marks may extract as private-use code points",
                            base_name)
                continue
            stream.content = _to_unicode_cmap(base_name, [self._text_of(code) for code in subset])

    def alias(self, code: int, text: str) -> str:
        """Return a private-use character that draws the glyph of `code` and extracts as `text`."""
        aliases = self.__dict__.setdefault("_aliases", {})
        key = (code, text)
        with _ALIAS_LOCK:
            if key not in aliases:
                alias = _ALIAS_START
                while alias in self.face.charToGlyph:
                    alias += 1
                self.face.charToGlyph[alias] = self.face.charToGlyph[code]
                self.face.charWidths[alias] = self.face.charWidths[code]
                self.__dict__.setdefault("_alias_texts", {})[alias] = text
                aliases[key] = alias
        return chr(aliases[key])

    def glyph_text(self, char: str) -> str:
        """Return the characters that the glyph drawn for `char` stands for."""
        return self._text_of(ord(char))

    def _text_of(self, code: int) -> str:
        """Return the text one code of a subset stands for."""
        alias_text = self.__dict__.get("_alias_texts", {}).get(code)
        if alias_text is not None:
            return alias_text
        if code in _LATIN_LIGATURES:
            return unicodedata.normalize("NFKC", chr(code))
        cmap_codes, names = self._font_cmap()
        if code not in _PRIVATE_USE or code in cmap_codes:
            return chr(code)
        glyph_id = self.face.charToGlyph.get(code)
        name = self.hbFont().glyph_to_string(glyph_id) if glyph_id is not None else ""
        text = _text_of_glyph_name(name, names)
        if not text:
            log.warning("glyph %r of %s spells no known characters; it extracts as U+%04X",
                        name, self.fontName, code)
            return chr(code)
        return text

    def _font_cmap(self) -> tuple[frozenset[int], dict[str, str]]:
        """Return the code points of the font's own cmap and a map from glyph name to character."""
        cached = getattr(self, "_cmap_cache", None)
        if cached is None:
            font = self.hbFont()
            codes = frozenset(self.hbFace.unicodes)
            names: dict[str, str] = {}
            for code in sorted(codes):
                glyph_id = font.get_nominal_glyph(code)
                if glyph_id is not None:
                    names.setdefault(font.glyph_to_string(glyph_id), chr(code))
            cached = self._cmap_cache = (codes, names)
        return cached


def rejoin_sara_am(shaped: ShapedStr, font: ShapedThaiFont) -> ShapedStr:
    """Return the shaped string with each `ํ` + `า` pair HarfBuzz made of `ำ` drawn so it extracts as `ำ`."""
    chars = list(shaped)
    data = list(shaped.__shapeData__)
    index = 0
    while index + 1 < len(chars):
        first, second = chars[index], chars[index + 1]
        same_cluster = data[index].cluster == data[index + 1].cluster
        first_text = font.glyph_text(first)
        if not (same_cluster and font.glyph_text(second) == SARA_AA and first_text.startswith(NIKHAHIT)):
            index += 1
            continue
        rest = first_text[len(NIKHAHIT):]
        if rest:
            # A ligature of nikhahit and tone mark: keep the glyphs, extract as tone mark then ำ.
            chars[index] = font.alias(ord(first), rest)
            chars[index + 1] = font.alias(ord(second), SARA_AM)
        else:
            width = font.face.charWidths[ord(SARA_AM)]
            advance = data[index].x_advance + data[index + 1].x_advance
            chars[index:index + 2] = [SARA_AM]
            data[index:index + 2] = [ShapeData(data[index].cluster, advance, 0, 0, 0, width)]
        index += 1
    return ShapedStr("".join(chars), shapeData=data)


def _text_of_glyph_name(name: str, names: dict[str, str]) -> str:
    """Return the characters a glyph name spells: `uni0E4D0E48.narrow` is `ํ่`, `f_i` is `fi`."""
    match = _UNI_NAME.match(name)
    if match:
        hex_digits = match[1]
        return "".join(chr(int(hex_digits[i:i + 4], 16)) for i in range(0, len(hex_digits), 4))
    # Ligature names join their parts with `_`; each part is the name of a glyph in the cmap.
    parts = name.split(".")[0].split("_")
    texts = [names.get(part, "") for part in parts]
    return "".join(texts) if all(texts) else ""


def _to_unicode_cmap(font_name: str, texts: list[str]) -> str:
    """Build a ToUnicode CMap mapping the one-byte codes 0..n-1 to `texts` (PDF 1.7, 9.10.3)."""
    entries = ["<%02X> <%s>" % (index, "".join("%04X" % ord(char) for char in text))
               for index, text in enumerate(texts)]
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({font_name})",
        f"/Ordering ({font_name})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{font_name} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<00> <%02X>" % (len(texts) - 1),
        "endcodespacerange",
    ]
    # The CMap format allows at most 100 entries in one bfchar section.
    for start in range(0, len(entries), 100):
        chunk = entries[start:start + 100]
        lines += [f"{len(chunk)} beginbfchar", *chunk, "endbfchar"]
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines)


def register_fonts() -> tuple[str, str]:
    """Register Sarabun regular and bold with reportlab once; return their names."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name, style in ((REGULAR, "Regular"), (BOLD, "Bold")):
        if name in registered:
            continue
        font = ShapedThaiFont(name, str(sarabun_path(style)))
        # reportlab hands out the first font registered for a face name (`Sarabun-Regular`)
        # under every later name, so a face of its own keeps this subclass from being
        # swapped for a plain TTFont that other code registered from the same file.
        font.face.name = name.encode("ascii")
        pdfmetrics.registerFont(font)
    return REGULAR, BOLD


def shaping_available() -> bool:
    """Tell whether reportlab can shape Thai here (it needs the `uharfbuzz` package)."""
    register_fonts()
    return bool(pdfmetrics.getFont(REGULAR).shapable)
