"""Functions behind the `saraban` command line; each is a thin shell over `workflow.operations`."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable

from flask import Flask
from sqlalchemy import select

from workflow import jobs, operations
from workflow.app import create_app, get_store, new_session
from workflow.db import upgrade_to_head
from workflow.directory import load_directory as load_directory_rows
from workflow.errors import WorkflowError
from workflow.models import ROLE_ADMIN, ROLE_CLERK, ROLE_OFFICER, ROLE_SUPERVISOR, User
from workflow.routing import schedule as routing_schedule

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [job %(job_id)s] %(message)s"

# Demo accounts for trying the system; the password is documented in the README.
DEMO_PASSWORD = "saraban-demo"
# `saraban setup --samples` uploads the sample letters as this clerk, so the Mae Sai district
# office owns them and its staff see them.
DEMO_UPLOADER = "saraban"
DEMO_USERS = (
    # username, display name, organization code, role
    ("saraban", "นางสาวสมศรี ใจดี", "DIST-5709", ROLE_CLERK),
    ("maesai.supervisor", "นายประเสริฐ วงศ์คำ", "DIST-5709", ROLE_SUPERVISOR),
    ("wiangphangkham.officer", "นายอนุชา แสงทอง", "5570903", ROLE_OFFICER),
    ("maesai.admin", "นางวันเพ็ญ ศรีสุวรรณ", "DIST-5709", ROLE_ADMIN),
)


def configure_logging(level: int = logging.INFO) -> None:
    """Log to standard error with the job id on every line (`-` outside jobs)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(jobs.JobIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _app(app: Flask | None) -> Flask:
    return app if app is not None else create_app()


def init_db(app: Flask | None = None) -> None:
    """Create the database, or upgrade it, to the newest schema."""
    app = _app(app)
    upgrade_to_head(app.config["DATABASE_URL"])


def load_directory(app: Flask | None = None) -> dict[str, int]:
    """Load the organization directory; returns how many rows of each kind were inserted."""
    app = _app(app)
    with app.app_context():
        session = new_session()
        try:
            return load_directory_rows(session)
        finally:
            session.close()


def seed_demo_users(app: Flask | None = None) -> list[str]:
    """Create the demo accounts that do not exist yet (loading the directory first); returns their usernames."""
    app = _app(app)
    load_directory(app)
    created = []
    with app.app_context():
        session = new_session()
        try:
            for username, display_name, org_code, role in DEMO_USERS:
                if session.query(User.id).filter_by(username=username).first() is not None:
                    continue
                operations.create_user(session, username, display_name, DEMO_PASSWORD, org_code, role)
                created.append(username)
        finally:
            session.close()
    return created


# Kinds of file taken from a folder: letters as PDF, text or scanned images. A folder of
# letters may also contain notes and expected results (README.md, *.expected.json), which are
# skipped. A file named on its own is always ingested and judged by its content.
LETTER_SUFFIXES = frozenset({".pdf", ".txt", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})


def _is_letter_file(path: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.parts)
    return path.is_file() and not hidden and path.suffix.lower() in LETTER_SUFFIXES


def _expand(paths: Iterable[str | os.PathLike]) -> list[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if _is_letter_file(p)))
        else:
            files.append(path)
    return files


def _user_named(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise LookupError(f"no user named {username!r}: create it first (saraban setup creates the demo users)")
    return user


def _read_limited(path: Path, max_bytes: int) -> bytes:
    # One byte over the limit is enough to reject the file without reading all of it.
    with path.open("rb") as handle:
        return handle.read(max_bytes + 1)


def ingest_paths(
    paths: Iterable[str | os.PathLike], app: Flask | None = None, username: str | None = None
) -> list[dict]:
    """Ingest files, and every file under folders, then run each new parse job here to the end.

    With `username`, the documents are uploaded as that user, so their organization owns and
    sees them; without it they belong to no organization and no web user sees them.
    Returns one object per file, in order: the parse result of the contract with `path`
    added, or `{"path", "file", "error": {"code", "message"}}` for a file that was rejected.
    A missing path, or an unknown username, raises before anything is ingested.
    """
    app = _app(app)
    files = _expand(paths)
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
    max_bytes = app.config["SARABAN_MAX_UPLOAD_BYTES"]
    results = []
    with app.app_context():
        session = new_session()
        try:
            uploader = _user_named(session, username) if username else None
            for path in files:
                try:
                    ingested = operations.ingest_upload(
                        session, get_store(), _read_limited(path, max_bytes), path.name, uploader, max_bytes
                    )
                except WorkflowError as error:
                    results.append({"path": str(path), "file": path.name, "error": {"code": error.code, "message": error.message_th}})
                    continue
                if ingested.created:
                    jobs.execute(app, "parse_document", (ingested.job.id,), ingested.job.id)
                session.expire_all()
                document = operations.get_document(session, ingested.document.id)
                results.append({"path": str(path), **operations.document_result(document)})
        finally:
            session.close()
    return results


def serve(host: str = "127.0.0.1", port: int = 5000, app: Flask | None = None) -> None:
    """Run the web application with Flask's threaded server.

    Without REDIS_URL, parse jobs run in a worker thread of this process, jobs that a
    previous run left unfinished are queued again, a timer thread runs the daily
    routing reminders and escalation, and another scans the watch folder and fetches mail
    when SARABAN_WATCH_DIR or SARABAN_IMAP_HOST is set.
    """
    app = _app(app)
    upgrade_to_head(app.config["DATABASE_URL"])
    if not app.config.get("REDIS_URL"):
        with app.app_context():
            session = new_session()
            try:
                job_ids = operations.requeue_unfinished_jobs(session)
            finally:
                session.close()
        for job_id in job_ids:
            jobs.enqueue_parse(app, job_id)
        routing_schedule.start_in_process(app)
        from workflow.integration import poller

        poller.start_in_process(app)
    log.info("serving on http://%s:%d", host, port)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def requeue_jobs(app: Flask | None = None) -> list[str]:
    """Queue again every parse job the database still lists as queued or running; return their ids.

    For after a Redis restart that lost its queue: the uploads and their jobs are rows in
    the database, so nothing is lost. A job that rq still holds is not parsed twice,
    because a parse only starts from the queued state.
    """
    app = _app(app)
    with app.app_context():
        session = new_session()
        try:
            job_ids = operations.requeue_unfinished_jobs(session)
        finally:
            session.close()
    for job_id in job_ids:
        jobs.enqueue_parse(app, job_id)
    return job_ids


def run_worker(app: Flask | None = None, burst: bool = False) -> bool:
    """Run an rq worker with its scheduler on REDIS_URL; returns whether it ran any job (relevant with `burst`).

    It first schedules the next daily routing run, unless one is scheduled already.
    """
    app = _app(app)
    if app.config.get("REDIS_URL"):
        routing_schedule.schedule_next_rq_run(app)
    return jobs.run_worker(app, burst=burst)
