#!/usr/bin/env python3
"""Time the OCR path against one bare Tesseract pass on the same page images.

Usage: python bench/ocr_bench.py [--pages N] [--no-write] SCAN.pdf ...

For every page it renders the page at 300 dpi, times `tesseract page.png - -l tha`
(one OpenMP thread), then times the project's whole OCR path for that page (render,
clean, Tesseract, layout, digit recognizer, checks). It prints seconds per page and
the ratio, writes the table into the OCR section of docs/benchmarks.md, and prints
the figures last as one JSON object.
Times are CPU seconds of this process and its children, because other load on the
machine disturbs them less than wall time. Wall time is printed beside them.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers.ocr import OcrSettings, ocr_page  # noqa: E402
from parsers.ocr.engine import engine_environment  # noqa: E402
from parsers.ocr.images import OCR_DPI, PdfRenderer  # noqa: E402

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


def report(rows: list[dict], command: str, settings: OcrSettings) -> str:
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
        "(render, clean, Tesseract with hOCR, layout, digits, checks). CPU seconds of the process and",
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
    args = parser.parse_args()
    settings = OcrSettings.from_environment()
    rows = []
    for path in args.pdfs:
        rows.extend(bench_file(path, args.pages, settings))
    prefix = f"SARABAN_OCR_DPI={settings.dpi} " if settings.dpi != OCR_DPI else ""
    command = prefix + "python bench/ocr_bench.py " + " ".join(
        (["--pages", str(args.pages)] if args.pages else []) + [p.name for p in args.pdfs])
    section = report(rows, command, settings)
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
