"""Every sample letter parses into the fields its expected-result file states.

The expected files use the shorthand of the project's field scorer: `phone` is
`contact.phone`, references are [number, date] pairs, enclosures [number, date, quantity,
unit], `warnings` lists codes that must appear on the letter or at file level. Text is
compared ignoring whitespace and digit script, as the scorer does.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from parsers.pipeline import parse_document

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
CASES = sorted(p for p in SAMPLES.glob("*.expected.json"))


def squash(value):
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).translate(THAI_DIGITS)
    return re.sub(r"\s+", "", text)


def docnum(value):
    if isinstance(value, dict):
        value = value.get("text")
    return squash(value).replace("ว.", "ว") if value else None


def digits(value):
    return re.sub(r"\D", "", str(value).translate(THAI_DIGITS)) if value else None


def mismatches(expected: dict, letter: dict, file_codes: set[str]) -> list[str]:
    """Return the names of the expected fields the letter gets wrong."""
    contact = letter.get("contact") or {}
    signatory = letter.get("signatory") or {}
    found = {
        "urgency": letter.get("urgency") == expected.get("urgency"),
        "date": letter.get("date") == expected.get("date"),
        "doc_number": docnum(letter.get("doc_number")) == docnum(expected.get("doc_number")),
        "circular": bool((letter.get("doc_number") or {}).get("circular")) == expected.get("circular"),
        "signatory_capacity": signatory.get("capacity") == expected.get("signatory_capacity"),
        "signatory_name": squash(signatory.get("name")) == squash(expected.get("signatory_name")),
    }
    for key in ("issuer", "subject", "addressee", "closing_request"):
        found[key] = squash(letter.get(key)) == squash(expected.get(key))
    for key in ("phone", "fax"):
        found[key] = digits(contact.get(key)) == digits(expected.get(key))
    for key in ("extension", "email", "coordinator"):
        found[key] = squash(contact.get(key)) == squash(expected.get(key))
    if "references" in expected:
        got = sorted([docnum(r.get("doc_number")) or "", r.get("date") or ""] for r in letter.get("references") or [])
        want = sorted([docnum(r[0]) or "", r[1] or ""] for r in expected["references"])
        found["references"] = got == want
    if "enclosures" in expected:
        got = sorted([docnum(e.get("doc_number")) or "", e.get("date") or "", e.get("quantity") or 0, e.get("unit") or ""]
                     for e in letter.get("enclosures") or [])
        want = sorted([docnum(e[0]) or "", e[1] or "", e[2] or 0, e[3] or ""] for e in expected["enclosures"])
        found["enclosures"] = got == want
    for kind, dates in (expected.get("deadlines") or {}).items():
        if kind == "relative":
            got = sorted([d.get("days"), bool(d.get("working_days")), d.get("counted_from")]
                         for d in letter.get("deadlines") or [] if d.get("kind") == "relative")
            found["deadline_relative"] = got == sorted(dates)
        else:
            got = sorted(d.get("date") for d in letter.get("deadlines") or [] if d.get("kind") == kind)
            found["deadline_" + kind] = got == sorted(dates)
    codes = {w.get("code") for w in letter.get("warnings") or []} | file_codes
    for code in expected.get("warnings") or []:
        found["warning:" + code] = code in codes
    if "receipt_stamp_dates" in expected:
        got = sorted({r.get("date") for r in letter.get("receipt_stamps") or [] if r.get("date")})
        found["receipt_stamp_dates"] = got == expected["receipt_stamp_dates"]
    if "endorsement_decisions" in expected:
        got = [d for e in letter.get("endorsements") or [] for d in e.get("decisions") or []]
        found["endorsement_decisions"] = got == expected["endorsement_decisions"]
    return [key for key, ok in found.items() if not ok and _stated(expected, key)]


def _stated(expected: dict, key: str) -> bool:
    base = key.split(":")[0]
    if base == "warning" or key.startswith("deadline_"):
        return True
    return base in expected


@pytest.mark.parametrize("expected_path", CASES, ids=[p.name.split(".")[0] for p in CASES])
def test_sample_parses_to_expected_fields(expected_path):
    stem = expected_path.name.split(".")[0]
    letter_file = next(p for p in SAMPLES.glob(stem + ".*") if p.suffix in (".txt", ".pdf"))
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    expected_letters = expected if isinstance(expected, list) else [expected]
    result = parse_document(letter_file.read_bytes(), letter_file.name)
    file_codes = {w.get("code") for w in result["warnings"]}
    assert len(result["letters"]) >= len(expected_letters)
    for index, want in enumerate(expected_letters):
        wrong = mismatches(want, result["letters"][index], file_codes)
        assert wrong == [], f"letter {index + 1} of {letter_file.name}: wrong {wrong}"
