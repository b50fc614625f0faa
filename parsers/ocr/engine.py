"""Run the Tesseract command on one image and return its lines, words and characters.

Tesseract runs as a child process (`tesseract stdin stdout ... hocr`), so a page that
takes too long can be killed and a missing engine is an error value, not a crash. The
hOCR output carries a box and a confidence for every line, word and character
(`hocr_char_boxes`), which the digit recognizer and the plausibility checks need.
"""
from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from PIL import Image

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels of the image given to Tesseract

_BBOX = re.compile(r"bbox (\d+) (\d+) (\d+) (\d+)")
_CHAR_BOX = re.compile(r"x_bboxes (\d+) (\d+) (\d+) (\d+)")
_WORD_CONF = re.compile(r"x_wconf (\d+(?:\.\d+)?)")
_CHAR_CONF = re.compile(r"x_conf (\d+(?:\.\d+)?)")


class OcrUnavailable(Exception):
    """The Tesseract command or its Thai model cannot be run on this machine."""


class OcrTimeout(Exception):
    """Tesseract did not finish one image within the time limit."""


class OcrFailed(Exception):
    """Tesseract ran but failed on the image."""


@dataclass
class Char:
    text: str
    box: Box
    confidence: float


@dataclass
class Word:
    text: str
    box: Box
    confidence: float
    chars: list[Char] = field(default_factory=list)
    # Thai is written without spaces between words, so Tesseract's hOCR gives one
    # "word" per cluster. This flag is the space its text output put before the word.
    space_before: bool = True


@dataclass
class Line:
    box: Box
    words: list[Word]

    @property
    def text(self) -> str:
        parts = []
        for index, word in enumerate(self.words):
            if index and word.space_before:
                parts.append(" ")
            parts.append(word.text)
        return "".join(parts)


@dataclass(frozen=True)
class EngineSettings:
    """Tesseract invocation settings: the command, the model, the page segmentation mode and the time limit."""

    command: str = "tesseract"
    languages: str = "tha"
    page_segmentation: int = 3
    timeout_seconds: float = 60.0


def engine_environment() -> dict[str, str]:
    """Return the environment for the Tesseract process.

    Tesseract 5 parallelizes its LSTM with OpenMP. On a shared machine the threads of
    concurrent pages fight for the cores and one page took several times longer than
    on one thread, so each process gets one thread and concurrency comes from pages.
    """
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def recognize(image: Image.Image, settings: EngineSettings) -> list[Line]:
    """Recognize `image` and return its text lines in Tesseract's reading order.

    Raises OcrUnavailable when the command or the model is missing, OcrTimeout past
    `settings.timeout_seconds`, OcrFailed when Tesseract exits with an error.
    """
    with tempfile.TemporaryDirectory(prefix="saraban-ocr-") as folder:
        output_base = os.path.join(folder, "page")
        command = [
            settings.command, "stdin", output_base,
            "-l", settings.languages,
            "--psm", str(settings.page_segmentation),
            "-c", "hocr_char_boxes=1",
            # Paragraph detection is not needed and costs about 0.2 s of CPU a page.
            "-c", "paragraph_text_based=0",
            "hocr", "txt",
        ]
        completed = _run(command, _encode(image), settings)
        with open(output_base + ".hocr", "rb") as hocr, open(output_base + ".txt", encoding="utf-8") as text:
            lines = parse_hocr(hocr.read())
            mark_spaces(lines, text.read())
    log.debug("tesseract: %d lines, stderr %r", len(lines), completed.stderr[-200:])
    return lines


def recognize_each(images: list[Image.Image], settings: EngineSettings) -> list[list[Line]]:
    """Recognize every image in one Tesseract run and return the lines of each, in order.

    Tesseract reads a text file that lists image paths as one document of many pages,
    so the model is loaded once for all of them. Raises as `recognize` does.
    """
    if not images:
        return []
    with tempfile.TemporaryDirectory(prefix="saraban-ocr-") as folder:
        paths = []
        for index, image in enumerate(images):
            path = os.path.join(folder, f"image{index}.pnm")
            with open(path, "wb") as handle:
                handle.write(_encode(image))
            paths.append(path)
        listing = os.path.join(folder, "images.txt")
        with open(listing, "w", encoding="utf-8") as handle:
            handle.write("\n".join(paths) + "\n")
        output_base = os.path.join(folder, "out")
        command = [
            settings.command, listing, output_base,
            "-l", settings.languages,
            "--psm", str(settings.page_segmentation),
            "-c", "hocr_char_boxes=1",
            "-c", "paragraph_text_based=0",
            "hocr", "txt",
        ]
        _run(command, b"", settings)
        with open(output_base + ".hocr", "rb") as hocr, open(output_base + ".txt", encoding="utf-8") as text:
            pages = parse_hocr_pages(hocr.read())
            mark_spaces([line for page in pages for line in page], text.read())
    if len(pages) != len(images):
        raise OcrFailed(f"Tesseract returned {len(pages)} pages for {len(images)} images")
    return pages


def _run(command: list[str], image_bytes: bytes, settings: EngineSettings) -> subprocess.CompletedProcess:
    try:
        completed = subprocess.run(
            command,
            input=image_bytes,
            capture_output=True,
            timeout=settings.timeout_seconds,
            env=engine_environment(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise OcrUnavailable(f"the Tesseract command {settings.command!r} was not found") from exc
    except PermissionError as exc:
        raise OcrUnavailable(f"the Tesseract command {settings.command!r} cannot be run: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise OcrTimeout(f"Tesseract ran over {settings.timeout_seconds:g} s") from exc
    errors = completed.stderr.decode("utf-8", errors="replace")
    if completed.returncode != 0:
        if "Failed loading language" in errors or "Could not initialize tesseract" in errors:
            raise OcrUnavailable(f"the Tesseract model {settings.languages!r} is not installed: {errors.strip()}")
        raise OcrFailed(f"Tesseract exited with status {completed.returncode}: {errors.strip()[:300]}")
    return completed


def mark_spaces(lines: list[Line], text: str) -> None:
    """Set `space_before` on every word from Tesseract's plain-text output of the same run.

    Both outputs walk the same words in the same order, so the text is consumed word by
    word. Whitespace skipped before a word means Tesseract put a space there. A word
    that cannot be found (not seen so far) keeps the default of a space.
    """
    position = 0
    for line in lines:
        for index, word in enumerate(line.words):
            start = position
            while position < len(text) and text[position].isspace():
                position += 1
            found = text.startswith(word.text, position)
            if not found:
                ahead = text.find(word.text, position, position + 40 + len(word.text))
                if ahead < 0:
                    position = start
                    continue
                position = ahead
            word.space_before = index > 0 and position > start
            position += len(word.text)


def check_engine(settings: EngineSettings) -> None:
    """Raise OcrUnavailable unless the command runs and lists every requested model."""
    try:
        completed = subprocess.run(
            [settings.command, "--list-langs"],
            capture_output=True,
            timeout=30,
            env=engine_environment(),
            check=False,
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise OcrUnavailable(f"the Tesseract command {settings.command!r} cannot be run: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise OcrUnavailable(f"the Tesseract command {settings.command!r} did not respond to --list-langs within 30 s") from exc
    listed = (completed.stdout + completed.stderr).decode("utf-8", errors="replace").split()
    missing = [name for name in settings.languages.split("+") if name not in listed]
    if missing:
        raise OcrUnavailable(f"the Tesseract model(s) {', '.join(missing)} are not installed")


def _encode(image: Image.Image) -> bytes:
    # PNM is the cheapest format to write that Leptonica reads from a pipe; a
    # bilevel image goes as PBM at one bit per pixel.
    if image.mode not in ("1", "L"):
        image = image.convert("L")
    buffer = io.BytesIO()
    image.save(buffer, format="PPM")
    return buffer.getvalue()


def parse_hocr(data: bytes) -> list[Line]:
    """Parse Tesseract's hOCR output into lines of words with character boxes."""
    # Tesseract's hOCR is XHTML with a DOCTYPE; the parser ignores the external DTD.
    return _parse_lines(ET.fromstring(data))


def parse_hocr_pages(data: bytes) -> list[list[Line]]:
    """Parse Tesseract's hOCR output of a many-page run into the lines of each page."""
    root = ET.fromstring(data)
    return [_parse_lines(element) for element in root.iter() if _css_class(element) == "ocr_page"]


def _parse_lines(root: ET.Element) -> list[Line]:
    lines: list[Line] = []
    for element in root.iter():
        if _css_class(element) not in ("ocr_line", "ocr_caption", "ocr_header", "ocr_textfloat"):
            continue
        words = [_parse_word(w) for w in element if _css_class(w) == "ocrx_word"]
        words = [w for w in words if w.text]
        if words:
            lines.append(Line(box=_bbox(element.get("title", "")), words=words))
    return lines


def _css_class(element: ET.Element) -> str:
    return element.get("class", "")


def _bbox(title: str) -> Box:
    match = _BBOX.search(title)
    if not match:
        return (0, 0, 0, 0)
    return tuple(int(v) for v in match.groups())  # type: ignore[return-value]


def _parse_word(element: ET.Element) -> Word:
    title = element.get("title", "")
    conf = _WORD_CONF.search(title)
    chars = []
    for span in element.iter():
        if _css_class(span) != "ocrx_cinfo":
            continue
        char_title = span.get("title", "")
        box = _CHAR_BOX.search(char_title)
        char_conf = _CHAR_CONF.search(char_title)
        chars.append(Char(
            text=span.text or "",
            box=tuple(int(v) for v in box.groups()) if box else (0, 0, 0, 0),  # type: ignore[arg-type]
            confidence=float(char_conf.group(1)) if char_conf else 0.0,
        ))
    text = "".join(c.text for c in chars) if chars else "".join(element.itertext()).strip()
    return Word(
        text=text,
        box=_bbox(title),
        confidence=float(conf.group(1)) if conf else 0.0,
        chars=chars,
    )
