"""Bad and odd uploads through `operations.ingest_upload` and the parse job.

Every file the upload accepts is kept byte for byte under its SHA-256, and its parse job
ends as done (with warnings) or failed (with the reader's code and a Thai message).
Nothing else is created. The corpus runs on SQLite; upload names run on both databases.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.badinput.build_corpus import CASES, CASES_BY_NAME, LETTER_TEXT, ODD_FILENAMES, build
from tests.conftest import add_offices
from workflow import jobs, operations
from workflow.app import create_app
from workflow.db import upgrade_to_head
from workflow.errors import UploadRejected
from workflow.models import Document, Letter, ParseJob
from workflow.storage import sha256_hex

THAI_CHARACTER = re.compile("[\u0e01-\u0e5b]")
MAX_BYTES = 50 * 1024 * 1024
STORED_CASES = [case for case in CASES if case.name != "empty"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("badinput"))


@pytest.fixture
def sqlite_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'saraban.db'}"
    upgrade_to_head(url)
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": url,
        "SARABAN_STORAGE": str(tmp_path / "originals"),
        "SARABAN_MAX_UPLOAD_BYTES": MAX_BYTES,
        "REDIS_URL": None,
        "SECRET_KEY": "test-secret",
    })
    yield application
    application.extensions["saraban.db"].dispose()


@pytest.fixture
def sqlite_session(sqlite_app):
    db_session = sqlite_app.extensions["saraban.db"].session()
    add_offices(db_session)
    yield db_session
    db_session.close()


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def ingest_and_parse(app, session, data: bytes, filename: str) -> tuple[Document, ParseJob]:
    store = app.extensions["saraban.store"]
    ingested = operations.ingest_upload(session, store, data, filename, None, MAX_BYTES)
    jobs.execute(app, "parse_document", (ingested.job.id,), ingested.job.id)
    session.expire_all()
    return session.get(Document, ingested.document.id), session.get(ParseJob, ingested.job.id)


def test_empty_upload_stores_nothing(sqlite_app, sqlite_session):
    store = sqlite_app.extensions["saraban.store"]
    with pytest.raises(UploadRejected) as raised:
        operations.ingest_upload(sqlite_session, store, b"", "ว่าง.pdf", None, MAX_BYTES)
    assert raised.value.code == "empty_file"
    assert count(sqlite_session, Document) == 0
    assert stored_files(store.root) == []


@pytest.mark.parametrize("case", STORED_CASES, ids=lambda case: case.name)
def test_bad_upload_keeps_original_and_ends_job(case, corpus, sqlite_app, sqlite_session):
    data = corpus[case.name].read_bytes()
    document, job = ingest_and_parse(sqlite_app, sqlite_session, data, case.filename)
    store = sqlite_app.extensions["saraban.store"]

    assert store.read(document.sha256) == data
    assert document.sha256 == sha256_hex(data)
    assert stored_files(store.root) == [store.path_for(document.sha256)]
    assert count(sqlite_session, Document) == 1
    assert count(sqlite_session, ParseJob) == 1
    if case.error is None:
        assert job.status == "done", (job.error_code, job.error_message_en)
        for warning in document.warnings:
            assert THAI_CHARACTER.search(warning["message"])
    else:
        assert job.status == "failed"
        assert job.error_code == case.error
        assert THAI_CHARACTER.search(job.error_message_th)
        assert count(sqlite_session, Letter) == 0
        assert document.pages is None


def test_failed_parse_result_shows_error(corpus, sqlite_app, sqlite_session):
    data = corpus["truncated_pdf"].read_bytes()
    document, _job = ingest_and_parse(sqlite_app, sqlite_session, data, "ตัดท้าย.pdf")
    result = operations.document_result(document)
    assert result["error"]["code"] == "corrupt_pdf"
    assert "letters" not in result


def test_letter_in_tis620_is_parsed_after_upload(corpus, sqlite_app, sqlite_session):
    data = corpus["tis620_text"].read_bytes()
    document, _job = ingest_and_parse(sqlite_app, sqlite_session, data, CASES_BY_NAME["tis620_text"].filename)
    result = operations.document_result(document)
    assert result["letters"][0]["subject"].startswith("การใช้งานระบบบัญชี Carbon Credit")


# --- upload names, on SQLite and PostgreSQL ---------------------------------------------

SAFE_NAMES = [(raw, expected) for raw, expected in ODD_FILENAMES if expected is not None and "\x00" not in raw and "\u202e" not in raw]


@pytest.mark.parametrize(("raw", "expected"), SAFE_NAMES, ids=["unix-path", "windows-path", "thai"])
def test_upload_name_keeps_base_name_only(session, store, users, raw, expected):
    data = LETTER_TEXT.encode()
    result = operations.ingest_upload(session, store, data, raw, users["clerk"], MAX_BYTES)
    assert result.document.filename == expected
    assert store.read(result.document.sha256) == data


def test_long_upload_name_is_cut_to_column_size(session, store, users):
    raw = "ก" * 300 + ".pdf"
    result = operations.ingest_upload(session, store, LETTER_TEXT.encode(), raw, users["clerk"], MAX_BYTES)
    assert len(result.document.filename) <= operations.MAX_FILENAME_LENGTH
    assert result.document.filename.startswith("กกก")


def test_upload_name_drops_nul(session, store, users):
    data = LETTER_TEXT.encode()
    result = operations.ingest_upload(session, store, data, "หนังสือ\x00.pdf", users["clerk"], MAX_BYTES)
    assert result.document.filename == "หนังสือ.pdf"


def test_upload_name_drops_bidi_controls(session, store, users):
    data = LETTER_TEXT.encode()
    result = operations.ingest_upload(session, store, data, "\u202egdp.ตอบกลับ", users["clerk"], MAX_BYTES)
    assert result.document.filename == "gdp.ตอบกลับ"
