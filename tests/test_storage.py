"""Original files: stored once by hash, read-only, and rejected uploads change nothing."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import func, select

from tests.conftest import sample_bytes
from workflow import operations
from workflow.errors import UploadRejected
from workflow.models import Document, ParseJob
from workflow.storage import OriginalStore, sha256_hex

LETTER_BYTES = sample_bytes("003_chum_phae_reminder_arabic.txt")
MAX_BYTES = 1024 * 1024


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


# --- the store alone --------------------------------------------------------------------


def test_store_path_is_sha256_of_bytes(tmp_path):
    store = OriginalStore(tmp_path)
    digest = store.put(LETTER_BYTES)
    assert digest == sha256_hex(LETTER_BYTES)
    assert store.path_for(digest) == tmp_path / digest[:2] / digest
    assert store.read(digest) == LETTER_BYTES


def test_stored_file_is_read_only(tmp_path):
    store = OriginalStore(tmp_path)
    path = store.path_for(store.put(LETTER_BYTES))
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0


def test_store_same_bytes_twice_keeps_first_file(tmp_path):
    store = OriginalStore(tmp_path)
    path = store.path_for(store.put(LETTER_BYTES))
    before = os.stat(path)
    store.put(LETTER_BYTES)
    after = os.stat(path)
    assert after.st_ino == before.st_ino
    assert after.st_mtime_ns == before.st_mtime_ns


def test_store_leaves_no_temporary_files(tmp_path):
    store = OriginalStore(tmp_path)
    store.put(LETTER_BYTES)
    store.put(LETTER_BYTES)
    assert stored_files(tmp_path) == [f"{sha256_hex(LETTER_BYTES)[:2]}/{sha256_hex(LETTER_BYTES)}"]


def test_store_rejects_path_that_is_not_a_digest(tmp_path):
    with pytest.raises(ValueError):
        OriginalStore(tmp_path).path_for("../../etc/passwd")


# --- ingest_upload, on each database ----------------------------------------------------


def test_ingest_creates_document_and_queued_job(session, store, users):
    result = operations.ingest_upload(session, store, LETTER_BYTES, "ชุมแพ-ทวงถาม.txt", users["clerk"], MAX_BYTES)
    assert result.created is True
    assert result.document.sha256 == sha256_hex(LETTER_BYTES)
    assert result.document.filename == "ชุมแพ-ทวงถาม.txt"
    assert result.document.organization_id == users["clerk"].organization_id
    assert result.job.status == "queued"
    assert store.exists(result.document.sha256)
    assert count(session, Document) == 1
    assert count(session, ParseJob) == 1


def test_ingest_same_bytes_returns_existing_record(session, store, users):
    first = operations.ingest_upload(session, store, LETTER_BYTES, "ฉบับแรก.txt", users["clerk"], MAX_BYTES)
    second = operations.ingest_upload(session, store, LETTER_BYTES, "ชื่ออื่น.txt", users["other_clerk"], MAX_BYTES)
    assert second.created is False
    assert second.document.id == first.document.id
    assert second.job.id == first.job.id
    assert second.document.filename == "ฉบับแรก.txt"
    assert count(session, Document) == 1
    assert count(session, ParseJob) == 1


def test_ingest_keeps_only_base_name(session, store, users):
    result = operations.ingest_upload(session, store, LETTER_BYTES, "C:\\เอกสาร\\รับ\\หนังสือ.txt", users["clerk"], MAX_BYTES)
    assert result.document.filename == "หนังสือ.txt"


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "empty_file"), (b"%PDF-1.7\n" + b"0" * MAX_BYTES, "file_too_large")],
    ids=["empty", "too-large"],
)
def test_ingest_rejected_upload_changes_nothing(session, store, users, data, code):
    with pytest.raises(UploadRejected) as raised:
        operations.ingest_upload(session, store, data, "หนังสือ.pdf", users["clerk"], MAX_BYTES)
    assert raised.value.code == code
    assert "หนังสือ.pdf" in raised.value.message_th
    assert count(session, Document) == 0
    assert count(session, ParseJob) == 0
    assert not store.root.exists() or stored_files(store.root) == []


def test_unreadable_file_is_kept_with_error(session, store, users, app):
    html = "<!doctype html><html><body>หน้าเข้าสู่ระบบ e-office</body></html>".encode("utf-8")
    ingested = operations.ingest_upload(session, store, html, "หนังสือด่วน.pdf", users["clerk"], MAX_BYTES)
    job = operations.run_parse(session, store, ingested.job.id, max_bytes=MAX_BYTES)
    assert job.status == "failed"
    assert job.error_code == "unsupported_type"
    assert job.error_message_th
    assert store.read(ingested.document.sha256) == html
    assert count(session, Document) == 1


def test_ingest_race_returns_winner_record(app, session, store, users, monkeypatch):
    winner = app.extensions["saraban.db"].session()
    first = operations.ingest_upload(winner, store, LETTER_BYTES, "ฉบับแรก.txt", None, MAX_BYTES)
    winner.close()
    real_lookup = operations._existing_upload
    calls = []

    def lookup_missing_first_time(*args):
        # The first lookup misses, as it does when both uploads check before either commits.
        calls.append(args)
        return None if len(calls) == 1 else real_lookup(*args)

    monkeypatch.setattr(operations, "_existing_upload", lookup_missing_first_time)
    second = operations.ingest_upload(session, store, LETTER_BYTES, "ฉบับที่สอง.txt", users["clerk"], MAX_BYTES)
    assert len(calls) == 2
    assert second.created is False
    assert second.document.id == first.document.id
    assert count(session, Document) == 1
    assert count(session, ParseJob) == 1
