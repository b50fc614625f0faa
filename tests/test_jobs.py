"""Parse jobs: the run_parse operation, the in-process worker thread and rq with a real Redis."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import func, select

from parsers.pipeline import parse_document
from tests.conftest import sample_bytes
from workflow import jobs, operations
from workflow.errors import JobStateError, NotFound
from workflow.models import Letter, LetterField, ParseJob

MAX_BYTES = 2 * 1024 * 1024
SAMPLE = "001_dla_circular_bin_count.txt"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def ingest_sample(session, store, user, name=SAMPLE):
    return operations.ingest_upload(session, store, sample_bytes(name), name, user, MAX_BYTES)


def test_run_parse_stores_what_parser_returns(session, store, users):
    ingested = ingest_sample(session, store, users["clerk"])
    expected = parse_document(sample_bytes(SAMPLE), SAMPLE)
    job = operations.run_parse(session, store, ingested.job.id, max_bytes=MAX_BYTES)
    document = ingested.document
    assert job.status == "done"
    assert job.finished_at is not None
    assert document.pages == expected["pages"]
    assert document.text_source == expected["text_source"]
    assert document.warnings == expected["warnings"]
    assert len(document.letters) == len(expected["letters"])
    for stored, parsed in zip(document.letters, expected["letters"]):
        assert stored.text == parsed["text"]
        assert {f.name: f.parsed_value for f in stored.fields} == {
            name: value for name, value in parsed.items() if name not in ("text", "spans", "warnings", "pages")
        }


def test_run_parse_records_page_progress(session, store, users):
    ingested = ingest_sample(session, store, users["clerk"])
    job = operations.run_parse(session, store, ingested.job.id, max_bytes=MAX_BYTES)
    assert job.pages_total == ingested.document.pages
    assert job.pages_done == job.pages_total


def test_api_result_matches_parser_output(session, store, users):
    ingested = ingest_sample(session, store, users["clerk"])
    operations.run_parse(session, store, ingested.job.id, max_bytes=MAX_BYTES)
    expected = parse_document(sample_bytes(SAMPLE), SAMPLE)
    result = operations.document_result(ingested.document)
    for key in ("schema", "file", "sha256", "pages", "text_source", "warnings"):
        assert result[key] == expected[key], key
    assert len(result["letters"]) == len(expected["letters"])


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "corrupt_pdf"),
        (b"PK\x03\x04" + b"\x00" * 200, "unsupported_type"),
    ],
    ids=["truncated-pdf", "zip-named-pdf"],
)
def test_run_parse_unreadable_file_fails_job(session, store, users, data, code):
    ingested = operations.ingest_upload(session, store, data, "หนังสือจังหวัด.pdf", users["clerk"], MAX_BYTES)
    job = operations.run_parse(session, store, ingested.job.id, max_bytes=MAX_BYTES)
    assert job.status == "failed"
    assert job.error_code == code
    assert job.error_message_th
    assert count(session, Letter) == 0


def test_run_parse_rejects_finished_job(session, store, users):
    ingested = ingest_sample(session, store, users["clerk"])
    operations.run_parse(session, store, ingested.job.id, max_bytes=MAX_BYTES)
    letters_before = count(session, Letter)
    fields_before = count(session, LetterField)
    with pytest.raises(JobStateError):
        operations.run_parse(session, store, ingested.job.id, max_bytes=MAX_BYTES)
    session.expire_all()
    assert session.get(ParseJob, ingested.job.id).status == "done"
    assert count(session, Letter) == letters_before
    assert count(session, LetterField) == fields_before


def test_run_parse_unknown_job_not_found(session, store, users):
    with pytest.raises(NotFound):
        operations.run_parse(session, store, uuid.uuid4().hex, max_bytes=MAX_BYTES)


def test_requeue_resets_interrupted_job(session, store, users):
    ingested = ingest_sample(session, store, users["clerk"])
    ingested.job.status = "running"
    session.commit()
    assert operations.requeue_unfinished_jobs(session) == [ingested.job.id]
    session.expire_all()
    assert session.get(ParseJob, ingested.job.id).status == "queued"


# --- the two queues ---------------------------------------------------------------------


def test_thread_worker_runs_job(app, session, store, users, caplog):
    ingested = ingest_sample(session, store, users["clerk"])
    handler_filter = jobs.JobIdFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.INFO):
        jobs.enqueue_parse(app, ingested.job.id)
        jobs.thread_worker(app).wait_until_idle()
    caplog.handler.removeFilter(handler_filter)
    session.expire_all()
    assert session.get(ParseJob, ingested.job.id).status == "done"
    task_records = [r for r in caplog.records if r.name.startswith("workflow") and r.threadName == "saraban-worker"]
    assert task_records
    assert all(r.job_id == ingested.job.id for r in task_records)


@pytest.mark.redis
def test_rq_worker_runs_job(app, session, store, users, redis_url):
    from redis import Redis
    from rq import Queue

    queue_name = f"saraban-test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=redis_url, SARABAN_RQ_QUEUE=queue_name)
    ingested = ingest_sample(session, store, users["clerk"])
    jobs.enqueue_parse(app, ingested.job.id)
    connection = Redis.from_url(redis_url)
    try:
        assert Queue(queue_name, connection=connection).count == 1
        ran = jobs.run_worker(app, burst=True, in_process=True)
        assert ran is True
        session.expire_all()
        job = session.get(ParseJob, ingested.job.id)
        assert job.status == "done"
        assert job.pages_done == job.pages_total
        assert Queue(queue_name, connection=connection).count == 0
    finally:
        Queue(queue_name, connection=connection).delete(delete_jobs=True)
        connection.close()


@pytest.mark.redis
def test_rq_failed_parse_recorded_in_database(app, session, store, users, redis_url):
    from redis import Redis
    from rq import Queue

    queue_name = f"saraban-test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=redis_url, SARABAN_RQ_QUEUE=queue_name)
    html = "<html><head><title>ระบบสารบรรณ</title></head></html>".encode("utf-8")
    ingested = operations.ingest_upload(session, store, html, "ด่วนที่สุด.pdf", users["clerk"], MAX_BYTES)
    jobs.enqueue_parse(app, ingested.job.id)
    connection = Redis.from_url(redis_url)
    try:
        jobs.run_worker(app, burst=True, in_process=True)
        session.expire_all()
        job = session.get(ParseJob, ingested.job.id)
        assert job.status == "failed"
        assert job.error_code == "unsupported_type"
    finally:
        Queue(queue_name, connection=connection).delete(delete_jobs=True)
        connection.close()


def test_ingest_paths_parses_folder(app, tmp_path):
    from workflow import commands

    folder = tmp_path / "หนังสือรับ"
    folder.mkdir()
    (folder / "003.txt").write_bytes(sample_bytes("003_chum_phae_reminder_arabic.txt"))
    (folder / "ว่าง.pdf").write_bytes(b"")
    (folder / "หน้าเว็บ.pdf").write_text("<html><body>ระบบ e-office</body></html>", encoding="utf-8")
    results = commands.ingest_paths([folder], app=app)
    by_file = {result["file"]: result for result in results}
    assert len(results) == 3
    assert by_file["003.txt"]["status"] == "done"
    assert by_file["003.txt"]["schema"] == "saraban.parse/1"
    assert by_file["ว่าง.pdf"]["error"]["code"] == "empty_file"
    assert by_file["หน้าเว็บ.pdf"]["error"]["code"] == "unsupported_type"
    again = commands.ingest_paths([folder / "003.txt"], app=app)
    assert again[0]["document_id"] == by_file["003.txt"]["document_id"]


def test_ingest_folder_skips_notes_and_expected_results(app, tmp_path):
    from workflow import commands

    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "003.txt").write_bytes(sample_bytes("003_chum_phae_reminder_arabic.txt"))
    (folder / "003.expected.json").write_text('{"issuer": "ที่ว่าการอำเภอชุมแพ"}', encoding="utf-8")
    (folder / "README.md").write_text("# หนังสือตัวอย่าง\n", encoding="utf-8")
    results = commands.ingest_paths([folder], app=app)
    assert [result["file"] for result in results] == ["003.txt"]


def test_ingest_named_file_is_judged_by_content(app, tmp_path):
    from workflow import commands

    named = tmp_path / "หนังสือ.md"
    named.write_bytes(sample_bytes("003_chum_phae_reminder_arabic.txt"))
    results = commands.ingest_paths([named], app=app)
    assert results[0]["status"] == "done"


def test_requeue_interrupted_leaves_finished_job(session, store, users):
    ingested = ingest_sample(session, store, users["clerk"])
    operations.run_parse(session, store, ingested.job.id, MAX_BYTES)
    assert operations.requeue_interrupted_job(session, ingested.job.id) is False
    session.expire_all()
    assert session.get(ParseJob, ingested.job.id).status == "done"


@pytest.mark.redis
def test_rq_retry_finishes_job_left_running(app, session, store, users, redis_url):
    """A first attempt that died mid-job leaves it running; rq's retry must parse it anyway."""
    from redis import Redis
    from rq import Queue

    queue_name = f"saraban-test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=redis_url, SARABAN_RQ_QUEUE=queue_name)
    ingested = ingest_sample(session, store, users["clerk"])
    jobs.enqueue_parse(app, ingested.job.id)
    connection = Redis.from_url(redis_url)
    try:
        rq_job = Queue(queue_name, connection=connection).fetch_job(ingested.job.id)
        assert rq_job.retries_left == jobs.JOB_RETRIES
        # What the first attempt left behind when its worker was killed: the job marked
        # running in the database, and rq about to run the job once more.
        ingested.job.status = "running"
        session.commit()
        rq_job.retries_left = jobs.JOB_RETRIES - 1
        rq_job.save()
        assert jobs.run_worker(app, burst=True, in_process=True) is True
        session.expire_all()
        job = session.get(ParseJob, ingested.job.id)
        assert job.status == "done"
        assert session.scalar(select(func.count()).select_from(Letter).where(Letter.document_id == job.document_id)) == 1
    finally:
        Queue(queue_name, connection=connection).delete(delete_jobs=True)
        connection.close()


@pytest.mark.redis
def test_requeue_after_redis_lost_queue(app, session, store, users, redis_url):
    """An upload whose rq job vanished with Redis is parsed after `saraban requeue`."""
    from redis import Redis
    from rq import Queue

    from workflow import commands

    queue_name = f"saraban-test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=redis_url, SARABAN_RQ_QUEUE=queue_name)
    ingested = ingest_sample(session, store, users["clerk"])
    jobs.enqueue_parse(app, ingested.job.id)
    connection = Redis.from_url(redis_url)
    try:
        Queue(queue_name, connection=connection).delete(delete_jobs=True)
        assert Queue(queue_name, connection=connection).count == 0
        assert commands.requeue_jobs(app) == [ingested.job.id]
        assert jobs.run_worker(app, burst=True, in_process=True) is True
        session.expire_all()
        assert session.get(ParseJob, ingested.job.id).status == "done"
    finally:
        Queue(queue_name, connection=connection).delete(delete_jobs=True)
        connection.close()


def test_ingest_as_user_gives_documents_their_office(app, session, tmp_path):
    from workflow import commands
    from workflow.models import Document

    commands.seed_demo_users(app)
    path = tmp_path / "003.txt"
    path.write_bytes(sample_bytes("003_chum_phae_reminder_arabic.txt"))
    result = commands.ingest_paths([path], app=app, username=commands.DEMO_UPLOADER)
    session.expire_all()
    document = session.get(Document, result[0]["document_id"])
    assert document.organization.code == "DIST-5709"
    assert document.uploaded_by.username == "saraban"


def test_ingest_as_unknown_user_stores_nothing(app, session, tmp_path):
    from workflow import commands
    from workflow.models import Document

    path = tmp_path / "003.txt"
    path.write_bytes(sample_bytes("003_chum_phae_reminder_arabic.txt"))
    with pytest.raises(LookupError):
        commands.ingest_paths([path], app=app, username="ไม่มีผู้ใช้นี้")
    assert count(session, Document) == 0


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_redis(port: int):
    """Start a Redis of the test's own on loopback that keeps nothing on disk, as a restart loses all."""
    import shutil
    import subprocess
    import time

    from redis import Redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    connection = Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    for _ in range(100):
        try:
            connection.ping()
            break
        except Exception:
            time.sleep(0.05)
    connection.close()
    return process


def test_redis_restart_loses_no_upload(app, session, users):
    """Uploads before and during a Redis outage are all parsed once Redis is back and jobs are requeued."""
    from tests.test_web import sign_in, upload
    from workflow import commands
    from workflow.models import Document

    port = _free_port()
    redis_server = _start_redis(port)
    app.config.update(REDIS_URL=f"redis://127.0.0.1:{port}/0", SARABAN_RQ_QUEUE="saraban-restart-test")
    client = app.test_client()
    sign_in(client)
    try:
        before = upload(client, (SAMPLE, sample_bytes(SAMPLE)))
        assert before.status_code in (200, 302)

        redis_server.kill()
        redis_server.wait()
        during_name = "003_chum_phae_reminder_arabic.txt"
        during = upload(client, (during_name, sample_bytes(during_name)))
        assert during.status_code in (200, 302)
        session.expire_all()
        assert count(session, Document) == 2
        assert sorted(job.status for job in session.scalars(select(ParseJob))) == ["queued", "queued"]

        redis_server = _start_redis(port)
        assert len(commands.requeue_jobs(app)) == 2
        assert jobs.run_worker(app, burst=True, in_process=True) is True
        session.expire_all()
        assert [job.status for job in session.scalars(select(ParseJob))] == ["done", "done"]
        assert count(session, Letter) >= 2
    finally:
        redis_server.kill()
        redis_server.wait()
