"""`saraban ecms import` and `saraban ecms export` on a SQLite database."""

from __future__ import annotations

import json

import pytest

from tests.pdfmaker import thai_pdf
from tests.test_ecms import LETTER_LINES, fixture_message
from workflow import cli
from workflow.db import upgrade_to_head
from workflow.integration import ecms


@pytest.fixture
def environment(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'saraban.db'}"
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SARABAN_STORAGE", str(tmp_path / "originals"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SARABAN_ECMS_CODES", raising=False)
    return tmp_path


def test_cli_import_prints_letter_json(environment, capsys):
    pdf = thai_pdf([LETTER_LINES])
    message = environment / "letter.xml"
    message.write_bytes(fixture_message("government_document_thegif.xml", pdf))

    status = cli.main(["ecms", "import", str(message), "--json"])

    output = json.loads(capsys.readouterr().out)
    assert status == 0
    assert output["schema"] == "saraban.parse/1"
    assert output["letters"][0]["doc_number"]["text"] == "ชร 0023.6/ว 3200"
    assert output["letters"][0]["urgency"] == "very_urgent"
    assert (environment / "originals" / output["sha256"][:2] / output["sha256"]).read_bytes() == pdf


def test_cli_export_writes_message(environment, capsys):
    pdf = thai_pdf([LETTER_LINES])
    message = environment / "letter.xml"
    message.write_bytes(fixture_message("government_document_thegif.xml", pdf))
    cli.main(["ecms", "import", str(message), "--json"])
    capsys.readouterr()
    exported = environment / "out.xml"

    status = cli.main(["ecms", "export", "1", "-o", str(exported)])

    assert status == 0
    again = ecms.read_message(exported.read_bytes(), 2 * 1024 * 1024)
    assert again.id == "ชร 0023.6/ว 3200"
    assert again.main_letter == pdf


def test_cli_import_bad_base64_exits_2(environment, capsys):
    message = environment / "broken.xml"
    text = fixture_message("government_document_uncefact.xml", b"%PDF-1.4").decode("utf-8")
    message.write_text(text.replace("JVBERi0xLjQ=", "JVBERi0x!!!"), encoding="utf-8")

    status = cli.main(["ecms", "import", str(message), "--json"])

    captured = capsys.readouterr()
    output = json.loads(captured.out)
    assert status == 2
    assert output["error"]["code"] == "ecms_invalid_base64"
    assert "base64" in output["error"]["message"]
    assert "ecms_invalid_base64" in captured.err
    assert not (environment / "originals").exists() or not any((environment / "originals").rglob("*"))


def test_cli_export_unknown_letter_fails(environment, capsys):
    status = cli.main(["ecms", "export", "42"])

    assert status == 1
    assert "letter_not_found" in capsys.readouterr().err
