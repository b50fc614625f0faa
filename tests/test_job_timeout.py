"""Parse jobs over SARABAN_JOB_TIMEOUT: stopped and marked failed, in-process and under a real rq worker."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from parsers.errors import InputError
from parsers.pipeline import parse_document
from tests.conftest import PROJECT_ROOT, sample_bytes
from workflow import jobs, operations
from workflow.models import Letter, ParseJob
from workflow.parse_process import ChildProcessParse

MAX_BYTES = 2 * 1024 * 1024
SAMPLE = "001_dla_circular_bin_count.txt"
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs the tesseract command")


def scanned_letters_tiff(pages: int) -> bytes:
    """Return a multi-page TIFF of typed Thai letter pages at 300 dpi: every page goes through OCR."""
    from tests.test_ocr import letter_page

    images = [letter_page() for _ in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="TIFF", save_all=True, append_images=images[1:], dpi=(300, 300),
                   compression="tiff_deflate")
    return buffer.getvalue()


def count_letters(session) -> int:
    from sqlalchemy import func, select

    return session.scalar(select(func.count()).select_from(Letter))


# --- the child process on its own --------------------------------------------------------


def test_child_parse_matches_parser_output():
    data = sample_bytes(SAMPLE)
    progress = []
    result = ChildProcessParse(120)(data, SAMPLE, progress=lambda done, total: progress.append((done, total)),
                                    max_bytes=MAX_BYTES)
    assert result == parse_document(data, SAMPLE, max_bytes=MAX_BYTES)
    assert progress
    assert progress[-1] == (result["pages"], result["pages"])


def test_child_parse_passes_input_error_on():
    html = "<html><body>หนังสือราชการ</body></html>".encode("utf-8")
    with pytest.raises(InputError) as raised:
        ChildProcessParse(120)(html, "หนังสือ.pdf", max_bytes=MAX_BYTES)
    assert raised.value.code == "unsupported_type"
    assert raised.value.message_th


@needs_tesseract
def test_child_parse_stopped_at_limit():
    with pytest.raises(operations.ParseTimedOut) as raised:
        ChildProcessParse(1)(scanned_letters_tiff(6), "สแกน.tif", max_bytes=MAX_BYTES)
    assert raised.value.limit_s == 1


# --- the in-process worker ---------------------------------------------------------------


def test_duration_in_thai_messages():
    assert operations.format_duration_th(1) == "1 วินาที"
    assert operations.format_duration_th(90) == "90 วินาที"
    assert operations.format_duration_th(600) == "10 นาที"
    assert operations.format_duration_th(5400) == "1 ชั่วโมง 30 นาที"


@needs_tesseract
def test_thread_worker_fails_job_over_limit(app, session, store, users):
    app.config["SARABAN_JOB_TIMEOUT"] = 1
    data = scanned_letters_tiff(6)
    ingested = operations.ingest_upload(session, store, data, "สแกนหนังสือเวียน.tif", users["clerk"], MAX_BYTES)
    jobs.enqueue_parse(app, ingested.job.id)
    jobs.thread_worker(app).wait_until_idle()

    session.expire_all()
    job = session.get(ParseJob, ingested.job.id)
    assert job.status == "failed"
    assert job.error_code == "job_timeout"
    assert "1 วินาที" in job.error_message_th
    assert "อ่านเอกสารอีกครั้ง" in job.error_message_th
    assert job.finished_at is not None
    assert store.read(ingested.document.sha256) == data
    assert count_letters(session) == 0


@needs_tesseract
def test_cli_ingest_fails_job_over_limit(app, session, tmp_path):
    from workflow import commands

    app.config["SARABAN_JOB_TIMEOUT"] = 1
    scan = tmp_path / "สแกน.tif"
    scan.write_bytes(scanned_letters_tiff(6))
    (result,) = commands.ingest_paths([scan], app=app)
    assert result["status"] == "failed"
    assert result["error"]["code"] == "job_timeout"


# --- a real rq worker process ------------------------------------------------------------


def start_rq_worker(database_url: str, redis_url: str, queue_name: str, storage: str, timeout_s: int):
    """Start `jobs.run_worker` in burst mode in a process of its own, as `saraban worker` runs it."""
    environment = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SARABAN_RQ_QUEUE=queue_name,
        SARABAN_STORAGE=storage,
        SARABAN_JOB_TIMEOUT=str(timeout_s),
        SARABAN_MAX_UPLOAD_MB="2",
        SECRET_KEY="test-secret",
    )
    code = (
        "from workflow.app import create_app\n"
        "from workflow import jobs\n"
        "jobs.run_worker(create_app(), burst=True, with_scheduler=False)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


@needs_tesseract
@pytest.mark.redis
def test_rq_worker_fails_job_over_limit(app, session, store, users, redis_url, database_url):
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    queue_name = f"saraban-test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=redis_url, SARABAN_RQ_QUEUE=queue_name, SARABAN_JOB_TIMEOUT=1)
    data = scanned_letters_tiff(6)
    ingested = operations.ingest_upload(session, store, data, "สแกนหนังสือเวียน.tif", users["clerk"], MAX_BYTES)
    jobs.enqueue_parse(app, ingested.job.id)
    connection = Redis.from_url(redis_url)
    try:
        worker = start_rq_worker(database_url, redis_url, queue_name, app.config["SARABAN_STORAGE"], 1)
        assert worker.returncode == 0, worker.stderr[-2000:]

        session.expire_all()
        job = session.get(ParseJob, ingested.job.id)
        assert job.status == "failed", worker.stderr[-2000:]
        assert job.error_code == "job_timeout"
        assert "1 วินาที" in job.error_message_th
        assert store.read(ingested.document.sha256) == data
        assert count_letters(session) == 0
        # The failure is recorded, not raised, so rq does not retry the job.
        rq_job = Job.fetch(ingested.job.id, connection=connection)
        assert rq_job.get_status() == "finished"
        assert Queue(queue_name, connection=connection).count == 0
    finally:
        Queue(queue_name, connection=connection).delete(delete_jobs=True)
        connection.close()
