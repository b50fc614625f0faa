"""Bad and odd files through `saraban parse`: an error object or a normal result, never a traceback.

The corpus is generated into a temporary folder by `tests/badinput/build_corpus.py`. The
two heavy cases (800 blank pages and a FlateDecode bomb) run in a child process that
reports its peak memory through `resource`. The memory figures asserted are limits
that a regression would cross, not speed or size targets.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.badinput.build_corpus import CASES, CASES_BY_NAME, build

THAI_CHARACTER = re.compile("[\u0e01-\u0e5b]")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
LIGHT_CASES = [case for case in CASES if not case.heavy]
HEAVY_CASES = [case for case in CASES if case.heavy]
# Peak resident memory one `saraban parse` of a heavy case may use. Parsing one ordinary
# letter PDF peaks at about 120 MB (GNU time, imports included), and the bomb alone would
# need over 1 GB, so the limit separates the two by a wide margin.
MAX_RSS_BYTES = 400 * 1024 * 1024
# A child that runs longer than this has hung, whatever the machine.
CHILD_TIMEOUT_SECONDS = 600

# The child reads its peak from VmHWM, which starts again at exec. getrusage's ru_maxrss keeps
# the peak of the forked copy of the test process, so a large test process would fail the case.
CHILD = """
import json, sys
from workflow.cli import main
status = main(["parse", "--json", sys.argv[1]])
with open("/proc/self/status") as proc_status:
    peak_kb = next(int(line.split()[1]) for line in proc_status if line.startswith("VmHWM:"))
with open(sys.argv[2], "w") as report:
    json.dump({"status": status, "max_rss_kb": peak_kb}, report)
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("badinput"), [case.name for case in LIGHT_CASES])


@pytest.fixture(scope="module")
def parsed(corpus) -> dict:
    """Run one `saraban parse --json` over the whole light corpus; return its lines by case and its process."""
    names = list(corpus)
    proc = subprocess.run(
        [sys.executable, "-m", "workflow.cli", "parse", "--json", *map(str, corpus.values())],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT_SECONDS,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    return {"proc": proc, "lines": dict(zip(names, lines)), "count": len(lines)}


def test_parse_prints_one_line_per_corpus_file(parsed, corpus):
    assert parsed["count"] == len(corpus)


def test_parse_exits_2_when_any_file_unreadable(parsed):
    assert parsed["proc"].returncode == 2


def test_parse_writes_no_traceback(parsed):
    assert "Traceback" not in parsed["proc"].stderr


@pytest.mark.parametrize("case", LIGHT_CASES, ids=lambda case: case.name)
def test_bad_input_gives_stable_outcome(case, parsed):
    line = parsed["lines"][case.name]
    if case.error is None:
        assert "error" not in line, line.get("error")
        assert line["schema"] == "saraban.parse/1"
        for warning in line["warnings"]:
            assert SNAKE_CASE.match(warning["code"])
            assert THAI_CHARACTER.search(warning["message"])
    else:
        assert line["error"]["code"] == case.error
        assert THAI_CHARACTER.search(line["error"]["message"])
        assert f"[{case.error}]" in parsed["proc"].stderr


def test_bad_xref_is_read_with_repair_warning(parsed):
    line = parsed["lines"]["bad_xref_pdf"]
    assert "pdf_repaired" in [warning["code"] for warning in line["warnings"]]
    assert "ศาลากลางจังหวัดเชียงราย" in line["letters"][0]["text"]


@pytest.mark.parametrize("case_name", ["encrypted_owner_only", "aes_owner_only"])
def test_owner_password_only_is_read(parsed, case_name):
    assert parsed["lines"][case_name]["letters"][0]["subject"].startswith("การใช้งานระบบบัญชี")


@pytest.mark.parametrize("case_name", ["utf16_text", "tis620_text"])
def test_other_encodings_give_the_letter(parsed, case_name):
    letter = parsed["lines"][case_name]["letters"][0]
    assert letter["doc_number"]["text"] == "ชร 0023.6/ว 3200"
    assert letter["date"] == "2025-04-02"


def test_image_only_pdf_warns_of_page_without_text(parsed):
    line = parsed["lines"]["image_only_pdf"]
    assert line["letters"] == []
    assert "page_without_text" in [warning["code"] for warning in line["warnings"]]


def test_english_letter_gives_no_thai_fields(parsed):
    letters = parsed["lines"]["english_letter"]["letters"]
    assert all(letter["doc_number"] is None for letter in letters)
    assert all(letter["date"] is None for letter in letters)


@pytest.mark.parametrize("case", HEAVY_CASES, ids=lambda case: case.name)
def test_heavy_input_rejected_within_memory_limit(case, tmp_path):
    path = build(tmp_path / "corpus", [case.name])[case.name]
    report_path = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(report_path)],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT_SECONDS,
    )
    assert "Traceback" not in proc.stderr
    report = json.loads(report_path.read_text())
    assert report["status"] == 2
    assert json.loads(proc.stdout)["error"]["code"] == case.error
    # ru_maxrss is in kilobytes on Linux.
    assert report["max_rss_kb"] * 1024 < MAX_RSS_BYTES


def test_corpus_cases_have_unique_names():
    assert len(CASES_BY_NAME) == len(CASES)
