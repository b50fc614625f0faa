"""`saraban parse`: one JSON line per file, error objects, exit status."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from tests.pdfmaker import thai_pdf

SEED = Path(__file__).resolve().parent.parent / "samples" / "000_6094e22fb7add413.txt"


def run_parse(*paths, json_output=True):
    args = [sys.executable, "-m", "workflow.cli", "parse", *map(str, paths)]
    if json_output:
        args.append("--json")
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_parse_prints_one_line_per_file_in_order(tmp_path):
    pdf = tmp_path / "จังหวัด.pdf"
    pdf.write_bytes(thai_pdf([["ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐", "ศาลากลางจังหวัดเชียงราย"]]))
    proc = run_parse(SEED, pdf)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["file"] == SEED.name
    assert first["schema"] == "saraban.parse/1"
    assert first["text_source"] == "plain"
    assert first["sha256"] == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert second["file"] == "จังหวัด.pdf"
    assert second["text_source"] == "pdf-text"
    assert second["pages"] == 1


def test_unreadable_file_gives_error_object_and_status_2(tmp_path):
    fake = tmp_path / "หนังสือ.pdf"
    fake.write_text("<html><body>ไม่ใช่ PDF</body></html>", encoding="utf-8")
    proc = run_parse(SEED, fake)
    assert proc.returncode == 2
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0]["file"] == SEED.name
    assert lines[1]["file"] == str(fake)
    assert lines[1]["error"]["code"] == "unsupported_type"
    assert "HTML" in lines[1]["error"]["message"]
    assert "[unsupported_type]" in proc.stderr


def test_missing_file_is_reported_not_raised(tmp_path):
    proc = run_parse(tmp_path / "ไม่มี.txt")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["code"] == "file_not_found"


def test_empty_file_exits_2(tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    proc = run_parse(empty)
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["code"] == "empty_file"


def test_summary_without_json_is_thai(tmp_path):
    proc = run_parse(SEED, json_output=False)
    assert proc.returncode == 0
    assert "หน้า" in proc.stdout
