"""The watch folder: each settled file ingested once, then moved to done/ or failed/ with the reason."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import func, select

from tests.conftest import PROVINCE_LETTER_TEXT
from tests.pdfmaker import thai_pdf
from tests.test_ecms import LETTER_LINES
from workflow.integration.watchfolder import WatchFolder, scan_watch_folder
from workflow.models import JOB_DONE, Document

LETTER_BYTES = PROVINCE_LETTER_TEXT.encode("utf-8")


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "scanner"
    folder.mkdir()
    return folder


def documents(session) -> list[Document]:
    session.expire_all()
    return list(session.scalars(select(Document).order_by(Document.id)))


def settle(watcher: WatchFolder) -> list[dict]:
    """Scan twice: the first scan notes the sizes, the second takes the files that kept them."""
    first = watcher.scan()
    return first + watcher.scan()


def test_settled_file_ingested_and_moved(app, session, inbox):
    (inbox / "ชร-ว3200.txt").write_bytes(LETTER_BYTES)
    watcher = WatchFolder(app, inbox)

    outcomes = settle(watcher)

    stored = documents(session)
    assert [outcome["status"] for outcome in outcomes] == ["done"]
    assert len(stored) == 1
    assert stored[0].latest_job.status == JOB_DONE
    assert stored[0].letters[0].text.startswith("ที่ ชร")
    assert (inbox / "done" / "ชร-ว3200.txt").read_bytes() == LETTER_BYTES
    assert not (inbox / "ชร-ว3200.txt").exists()


def test_first_scan_only_notes_the_file(app, session, inbox):
    (inbox / "ชร-ว3200.txt").write_bytes(LETTER_BYTES)

    outcomes = WatchFolder(app, inbox).scan()

    assert outcomes == []
    assert documents(session) == []
    assert (inbox / "ชร-ว3200.txt").exists()


def test_growing_file_waits_until_stable(app, session, inbox):
    pdf = thai_pdf([LETTER_LINES])
    path = inbox / "scan-0001.pdf"
    path.write_bytes(pdf[: len(pdf) // 2])
    watcher = WatchFolder(app, inbox)

    watcher.scan()
    with path.open("ab") as handle:
        handle.write(pdf[len(pdf) // 2:])
    after_growth = watcher.scan()
    settled = watcher.scan()

    assert after_growth == []
    assert [outcome["status"] for outcome in settled] == ["done"]
    assert documents(session)[0].size == len(pdf)


def test_same_bytes_twice_make_one_document(app, session, inbox):
    (inbox / "ชร-ว3200.txt").write_bytes(LETTER_BYTES)
    (inbox / "ชร-ว3200 สำเนา.txt").write_bytes(LETTER_BYTES)
    watcher = WatchFolder(app, inbox)

    outcomes = settle(watcher)
    (inbox / "ชร-ว3200.txt").write_bytes(LETTER_BYTES)
    again = settle(watcher)

    assert len(documents(session)) == 1
    assert sorted(outcome["created"] for outcome in outcomes) == [False, True]
    assert again[0]["created"] is False
    assert again[0]["document_id"] == outcomes[0]["document_id"]
    assert (inbox / "done" / "ชร-ว3200-2.txt").exists()


def test_empty_file_moved_to_failed_with_reason(app, session, inbox):
    (inbox / "ว่าง.pdf").write_bytes(b"")

    outcomes = settle(WatchFolder(app, inbox))

    reason = (inbox / "failed" / "ว่าง.pdf.error.txt").read_text(encoding="utf-8")
    assert outcomes[0]["status"] == "failed"
    assert outcomes[0]["error"]["code"] == "empty_file"
    assert "ว่างเปล่า" in reason
    assert "the file is empty" in reason
    assert "code: empty_file" in reason
    assert (inbox / "failed" / "ว่าง.pdf").exists()
    assert documents(session) == []


def test_unreadable_file_moved_to_failed_with_parser_code(app, session, inbox):
    (inbox / "damaged.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(64))

    outcomes = settle(WatchFolder(app, inbox))

    reason = (inbox / "failed" / "damaged.pdf.error.txt").read_text(encoding="utf-8")
    assert outcomes[0]["status"] == "failed"
    assert f"code: {outcomes[0]['error']['code']}" in reason
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in reason.splitlines()[0])
    assert not (inbox / "damaged.pdf").exists()


def test_partial_and_hidden_files_ignored(app, session, inbox):
    (inbox / "scan-0002.pdf.part").write_bytes(b"%PDF-1.4 partial")
    (inbox / ".scan-0003.pdf").write_bytes(b"%PDF-1.4 hidden")

    outcomes = settle(WatchFolder(app, inbox))

    assert outcomes == []
    assert (inbox / "scan-0002.pdf.part").exists()
    assert documents(session) == []


def test_symbolic_link_left_alone(app, session, inbox, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(LETTER_BYTES)
    (inbox / "link.txt").symlink_to(outside)

    outcomes = settle(WatchFolder(app, inbox))

    assert outcomes == []
    assert documents(session) == []
    assert (inbox / "link.txt").is_symlink()


def test_owner_office_receives_documents(app, session, users, inbox):
    (inbox / "ชร-ว3200.txt").write_bytes(LETTER_BYTES)

    settle(WatchFolder(app, inbox, users["clerk"].username))

    stored = documents(session)
    assert stored[0].organization_id == users["clerk"].organization_id
    assert stored[0].uploaded_by_id == users["clerk"].id


def test_periodic_scan_uses_configured_folder(app, session, inbox):
    app.config["SARABAN_WATCH_DIR"] = str(inbox)
    (inbox / "ชร-ว3200.txt").write_bytes(LETTER_BYTES)

    first = scan_watch_folder(app)
    second = scan_watch_folder(app)

    assert first == []
    assert [outcome["status"] for outcome in second] == ["done"]


def test_missing_folder_raises(app, tmp_path):
    with pytest.raises(FileNotFoundError):
        WatchFolder(app, tmp_path / "ไม่มีโฟลเดอร์").scan()


def test_cli_watch_once_ingests_and_stops(tmp_path, monkeypatch, capsys, inbox):
    from workflow import cli
    from workflow.db import upgrade_to_head

    url = f"sqlite:///{tmp_path / 'saraban.db'}"
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SARABAN_STORAGE", str(tmp_path / "originals"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SARABAN_WATCH_USER", raising=False)
    (inbox / "ชร-ว3200.txt").write_bytes(LETTER_BYTES)

    status = cli.main(["watch", str(inbox), "--once", "--interval", "0"])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [line["status"] for line in lines] == ["done"]
    assert (inbox / "done" / "ชร-ว3200.txt").exists()


def test_in_process_poller_scans_folder(app, session, inbox):
    from workflow.integration import poller

    app.config["SARABAN_WATCH_DIR"] = str(inbox)
    runner = poller.start_in_process(app, environ={"SARABAN_WATCH_INTERVAL": "1"})
    try:
        assert runner is not None
        assert runner.settings.mail_interval is None
        assert runner.wait_for_runs("watch", 1, timeout=60)
        (inbox / "ชร-ว3200.txt").write_bytes(LETTER_BYTES)
        seen = runner.runs["watch"]
        # One run notes the file's size and a later one takes it, so wait for three more runs.
        assert runner.wait_for_runs("watch", seen + 3, timeout=60)
    finally:
        runner.stop()

    assert (inbox / "done" / "ชร-ว3200.txt").read_bytes() == LETTER_BYTES
    assert [document.filename for document in documents(session)] == ["ชร-ว3200.txt"]
    assert poller.start_in_process(app) is runner


def test_in_process_poller_off_without_sources(app):
    from workflow.integration import poller

    app.config.pop("SARABAN_WATCH_DIR", None)
    assert poller.start_in_process(app, environ={}) is None


def test_in_process_poller_rejects_bad_interval(app, inbox):
    from workflow.integration import poller

    app.config["SARABAN_WATCH_DIR"] = str(inbox)
    with pytest.raises(poller.PollerConfigError, match="SARABAN_WATCH_INTERVAL"):
        poller.start_in_process(app, environ={"SARABAN_WATCH_INTERVAL": "ห้าวินาที"})
    with pytest.raises(poller.PollerConfigError, match="minimum"):
        poller.start_in_process(app, environ={"SARABAN_WATCH_INTERVAL": "0"})
