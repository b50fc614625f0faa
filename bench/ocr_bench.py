#!/usr/bin/env python3
"""Time the OCR path against one bare Tesseract pass on the same page images.

Usage: python bench/ocr_bench.py [--pages N] [--no-write] [--expected EXPECTED.json] SCAN.pdf ...

For every page it renders the page at 300 dpi, times `tesseract page.png - -l tha`
(one OpenMP thread), then times the project's whole OCR path for that page (render,
clean, Tesseract, layout, digit recognizer, checks). It prints seconds per page and
the ratio, writes the table into the OCR section of docs/benchmarks.md, and prints
the figures last as one JSON object.
Times are CPU seconds of this process and its children, because other load on the
machine disturbs them less than wall time. Wall time is printed beside them.
With --expected, every scan listed in that hand transcription of page-1 fields is
parsed whole (`parsers.pipeline.parse_document`) and its fields are compared with the
transcription. The per-field table goes into the same section.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import unicodedata
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers.ocr import OcrSettings, ocr_page  # noqa: E402
from parsers.ocr.engine import engine_environment  # noqa: E402
from parsers.ocr.fields import MONTHS  # noqa: E402
from parsers.ocr.images import OCR_DPI, PdfRenderer  # noqa: E402
from parsers.parts import URGENCY_WORDS  # noqa: E402
from parsers.pipeline import parse_document  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START = "<!-- ocr-bench:start -->"
END = "<!-- ocr-bench:end -->"


class Clock:
    """CPU seconds of this process and its finished children, and wall seconds."""

    def __enter__(self) -> "Clock":
        self._cpu = _cpu_now()
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.cpu = _cpu_now() - self._cpu
        self.wall = time.perf_counter() - self._wall


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_pass(png: str) -> Clock:
    with Clock() as clock:
        subprocess.run(["tesseract", png, "-", "-l", "tha"], env=engine_environment(),
                       capture_output=True, check=True)
    return clock


def bench_file(path: Path, max_pages: int | None, settings: OcrSettings) -> list[dict]:
    data = path.read_bytes()
    rows = []
    renderer = PdfRenderer(data)
    try:
        count = renderer.page_count
        for index in range(min(count, max_pages or count)):
            with tempfile.TemporaryDirectory() as folder:
                png = os.path.join(folder, "page.png")
                renderer.render(index, OCR_DPI).image.save(png)
                bare = bare_pass(png)
            with Clock() as ours:
                page = PdfRenderer(data).render(index, settings.dpi)
                ocr_page(page, index + 1, settings)
            rows.append({"file": path.name, "page": index + 1, "bare": bare, "ours": ours})
            print(f"{path.name} p{index + 1}: bare {bare.cpu:.2f} s cpu ({bare.wall:.2f} wall), "
                  f"ocr path {ours.cpu:.2f} s cpu ({ours.wall:.2f} wall), ratio {ours.cpu / bare.cpu:.2f}",
                  flush=True)
    finally:
        renderer.close()
    return rows


THAI_TO_ARABIC = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
FIELDS = ["urgency", "doc_number", "date", "subject", "addressee", "references", "closing_request",
          "enclosure_count", "signatory_name", "phone"]


def squash(text) -> str | None:
    """Return `text` without whitespace, in NFC and with Arabic digits, for comparing."""
    if text is None:
        return None
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", str(text)).translate(THAI_TO_ARABIC))


def number_key(text) -> str | None:
    """Return a document number without its ที่, spaces and the full stop after ว."""
    if isinstance(text, dict):
        text = text.get("text")
    if not text:
        return None
    return squash(text).removeprefix("ที่").replace("ว.", "ว")


def expected_fields(entry: dict) -> dict:
    """Return the comparable page-1 fields of one transcribed letter, without those not transcribed."""
    fields = {
        "urgency": URGENCY_WORDS.get(entry.get("urgency")),
        "doc_number": number_key(entry.get("doc_no")),
        "date": entry.get("date_iso"),
        "subject": squash(entry.get("subject")),
        "addressee": squash(entry.get("to")),
    }
    if "references" in entry:
        fields["references"] = [_citation(text) for text in entry["references"]]
    if "closing" in entry:
        fields["closing_request"] = squash(entry["closing"])
    if "attachments" in entry:
        fields["enclosure_count"] = len(entry["attachments"])
    if entry.get("signer"):
        fields["signatory_name"] = squash(" ".join(entry["signer"].split()[:2]))
    phone = re.search(r"0-?\d{1,2}-?\d{3,4}-?\d{4}", entry.get("contact") or "")
    if phone:
        fields["phone"] = re.sub(r"\D", "", phone.group(0))
    return fields


def _citation(text: str) -> list:
    """Return the document number and ISO date of a transcribed reference."""
    number = re.search(r"ที่\s*([ก-ฮ]{2}\s*[\d๐-๙.]+\s*/\s*ว?\.?\s*[\d๐-๙]+)", text)
    date = re.search(r"(\d{1,2})(" + "|".join(MONTHS) + r")(\d{4})", squash(text))
    iso = None
    if date:
        iso = f"{int(date.group(3)) - 543:04d}-{MONTHS.index(date.group(2)) + 1:02d}-{int(date.group(1)):02d}"
    return [number_key(number.group(1)) if number else None, iso]


def found_fields(letter: dict) -> dict:
    """Return the same fields from one parsed letter."""
    signatory = letter.get("signatory") or {}
    phone = (letter.get("contact") or {}).get("phone")
    return {
        "urgency": letter.get("urgency"),
        "doc_number": number_key(letter.get("doc_number")),
        "date": letter.get("date"),
        "subject": squash(letter.get("subject")),
        "addressee": squash(letter.get("addressee")),
        "references": [[number_key(r.get("doc_number")), r.get("date")] for r in letter.get("references") or []],
        "closing_request": squash(letter.get("closing_request")),
        "enclosure_count": len(letter.get("enclosures") or []),
        "signatory_name": squash(signatory.get("name")),
        "phone": re.sub(r"\D", "", str(phone).translate(THAI_TO_ARABIC)) if phone else None,
    }


def field_score(expected, found) -> float:
    """Return 1 for a match, or for lists the matched items over the longer list."""
    if not isinstance(expected, list):
        return float(expected == found)
    if not expected and not found:
        return 1.0
    left = list(found)
    hits = 0
    for item in expected:
        if item in left:
            left.remove(item)
            hits += 1
    return hits / max(len(expected), len(found))


def score_fields(expected_path: Path, pdfs: list[Path]) -> list[dict]:
    """Parse each transcribed scan among `pdfs` and return one row of field scores per file."""
    entries = {entry["file"]: entry for entry in json.loads(expected_path.read_text())["letters"]}
    rows = []
    for path in pdfs:
        entry = entries.get(path.name)
        if entry is None:
            continue
        letters = parse_document(path.read_bytes(), path.name)["letters"]
        found = found_fields(letters[0]) if letters else {}
        expected = expected_fields(entry)
        scores = {name: field_score(value, found.get(name)) for name, value in expected.items()}
        rows.append({"file": path.name, "scores": scores,
                     "missed": {name: found.get(name) for name, score in scores.items() if score < 1}})
        print(f"{path.name}: {sum(scores.values()):.1f}/{len(scores)} fields", flush=True)
    return rows


def field_report(rows: list[dict], expected_path: Path) -> list[str]:
    lines = [
        "",
        f"### Field accuracy on `{expected_path.name}`",
        "",
        "Page-1 fields of the transcribed scans, from `parse_document` on the whole file, compared",
        "ignoring whitespace and digit script, references by document number and date. A field",
        "that the transcription leaves out is not counted: the closing sentences of two scans are",
        "on page 2 and were not transcribed.",
        "",
        "| field | right | of | share |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in FIELDS:
        scores = [row["scores"][name] for row in rows if name in row["scores"]]
        if scores:
            lines.append(f"| {name} | {sum(scores):g} | {len(scores)} | {100 * sum(scores) / len(scores):.0f}% |")
    total = [score for row in rows for score in row["scores"].values()]
    lines.append(f"| all | {sum(total):g} | {len(total)} | {100 * sum(total) / len(total):.1f}% |")
    lines += ["", "Misses:", ""]
    for row in rows:
        for name, value in row["missed"].items():
            lines.append(f"- {row['file']} `{name}`: {json.dumps(value, ensure_ascii=False)}")
    return lines


def machine() -> str:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()
    return (f"{os.cpu_count()} CPUs (`nproc`), {model}, Python {platform.python_version()}, "
            f"{version[0] if version else 'tesseract ?'}")


def report(rows: list[dict], command: str, settings: OcrSettings, fields: list[str] = ()) -> str:
    lines = [
        START,
        "## OCR",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}. Date: {datetime.date.today().isoformat()}.",
        "",
        f"*Bare* is one `tesseract page.png - -l tha` with `OMP_THREAD_LIMIT=1` on the page rendered at",
        f"{OCR_DPI} dpi; *OCR path* is `parsers.ocr` from the PDF page, rendered at {settings.dpi} dpi, to the checked text",
        "(render, clean, Tesseract with hOCR, a second Tesseract run on the lines that the page layout",
        "split or missed and on the speed stamp, layout, digits, checks). CPU seconds of the process and",
        "its children; wall seconds in brackets (other jobs shared the machine).",
        "",
        "| file | page | bare s | OCR path s | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        bare, ours = row["bare"], row["ours"]
        lines.append(f"| {row['file']} | {row['page']} | {bare.cpu:.2f} ({bare.wall:.2f}) | "
                     f"{ours.cpu:.2f} ({ours.wall:.2f}) | {ours.cpu / bare.cpu:.2f} |")
    bare_total = sum(r["bare"].cpu for r in rows)
    ours_total = sum(r["ours"].cpu for r in rows)
    pages = len(rows)
    lines += [
        "",
        f"Mean over {pages} pages: bare {bare_total / pages:.2f} s, OCR path {ours_total / pages:.2f} s "
        f"per page, ratio {ours_total / bare_total:.2f}; slowest OCR path page "
        f"{max(r['ours'].cpu for r in rows):.2f} s.",
        *fields,
        END,
    ]
    return "\n".join(lines) + "\n"


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nMeasured numbers, with the command and the machine behind each.\n\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdfs", nargs="+", type=Path, help="image-only PDFs to read")
    parser.add_argument("--pages", type=int, default=None, help="read at most this many pages of each file")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    parser.add_argument("--expected", type=Path, default=None,
                        help="hand transcription of page-1 fields (expected_page1.json) to score the scans against")
    args = parser.parse_args()
    settings = OcrSettings.from_environment()
    rows = []
    for path in args.pdfs:
        rows.extend(bench_file(path, args.pages, settings))
    prefix = f"SARABAN_OCR_DPI={settings.dpi} " if settings.dpi != OCR_DPI else ""
    fields = field_report(score_fields(args.expected, args.pdfs), args.expected) if args.expected else []
    command = prefix + "python bench/ocr_bench.py " + " ".join(
        (["--pages", str(args.pages)] if args.pages else [])
        + (["--expected", args.expected.name] if args.expected else []) + [p.name for p in args.pdfs])
    section = report(rows, command, settings, fields)
    print(section)
    if not args.no_write:
        write_doc(section)
    # The figures last, as one JSON object, for bench/run.py to collect.
    bare_total = sum(r["bare"].cpu for r in rows)
    ours_total = sum(r["ours"].cpu for r in rows)
    print(json.dumps({
        "ocr_s_per_page": round(ours_total / len(rows), 3),
        "ocr_slowest_s_per_page": round(max(r["ours"].cpu for r in rows), 3),
        "ocr_vs_tesseract_ratio": round(ours_total / bare_total, 3),
        "ocr_pages": len(rows),
    }))


if __name__ == "__main__":
    main()
