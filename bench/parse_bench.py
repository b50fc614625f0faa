"""Measure full parsing against pypdf's bare text extraction on the same PDFs.

Usage: .venv/bin/python bench/parse_bench.py [PDF...]   (default: samples/*.pdf)
Prints a JSON object with `parse_vs_pypdf_ratio` (target at most 1.5), `letters_per_s`
on one core, and the peak memory of the process.
"""
from __future__ import annotations

import io
import json
import resource
import sys
import time
from pathlib import Path

import pypdf

from parsers.pipeline import parse_document

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 7


def _bare_extract(data: bytes) -> None:
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        page.extract_text()


def _cpu_seconds(function, files: list[tuple[str, bytes]]) -> float:
    """Return the CPU time of one pass over all files, in seconds.

    CPU time of this process, not wall time, so that other work on a shared machine
    does not count against either side of the ratio.
    """
    started = time.process_time()
    for name, data in files:
        function(name, data)
    return time.process_time() - started


def _best_of_interleaved(first, second, files: list[tuple[str, bytes]]) -> tuple[float, float]:
    """Return the fastest of ROUNDS passes of each function, alternating them round by round."""
    best_first = best_second = float("inf")
    for _ in range(ROUNDS):
        best_first = min(best_first, _cpu_seconds(first, files))
        best_second = min(best_second, _cpu_seconds(second, files))
    return best_first, best_second


def main(paths: list[str]) -> dict:
    pdfs = [Path(p) for p in paths] or sorted((ROOT / "samples").glob("*.pdf"))
    files = [(p.name, p.read_bytes()) for p in pdfs]
    if not files:
        raise SystemExit("no PDF to measure: run `make samples` or name the files")
    letters = sum(len(parse_document(data, name)["letters"]) for name, data in files)
    bare, full = _best_of_interleaved(
        lambda name, data: _bare_extract(data),
        lambda name, data: parse_document(data, name),
        files,
    )
    return {
        "files": len(files),
        "letters": letters,
        "pypdf_extract_s": round(bare, 4),
        "parse_s": round(full, 4),
        "parse_vs_pypdf_ratio": round(full / bare, 3),
        "letters_per_s": round(letters / full, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=1))
