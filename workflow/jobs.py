"""Background jobs: rq when REDIS_URL is set, otherwise a worker thread in the same process.

Every task runs inside an application context of its own, and every log line written
while it runs carries its job id (see `JobIdFilter`).
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from typing import Any, Callable

from flask import Flask, current_app

from workflow.parse_process import ChildProcessParse

log = logging.getLogger(__name__)

current_job_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_job_id", default="-")

WORKER_EXTENSION = "saraban.worker"
# The app an rq worker process runs its tasks in; set by `run_worker`.
_worker_app: Flask | None = None


class JobIdFilter(logging.Filter):
    """Add `job_id` to every record, so a handler's format can show it (`-` outside jobs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = current_job_id.get()
        return True


def _is_rq_retry() -> bool:
    """Return whether this task runs as a retry of an rq job that raised or whose worker died."""
    from rq import get_current_job

    job = get_current_job()
    return job is not None and job.retries_left is not None and job.retries_left < JOB_RETRIES


def _parse_document_task(job_id: str) -> None:
    from rq import get_current_job

    from workflow import operations
    from workflow.app import get_store, new_session

    limit_s = current_app.config["SARABAN_JOB_TIMEOUT"]
    # rq stops a job past its timeout itself; elsewhere the parse runs in a child process
    # that is killed at the limit.
    parse = RqTimeoutParse(limit_s) if get_current_job() is not None else ChildProcessParse(limit_s)
    session = new_session()
    try:
        if _is_rq_retry():
            operations.requeue_interrupted_job(session, job_id)
        operations.run_parse(
            session, get_store(), job_id, max_bytes=current_app.config["SARABAN_MAX_UPLOAD_BYTES"], parse=parse
        )
    finally:
        session.close()


class RqTimeoutParse:
    """`parse_document` inside an rq job: rq's timeout exception becomes ParseTimedOut.

    NOTE: a timeout that fires after the parse, while the result is being stored, is not
    converted. The job is then recorded as `parse_failed`, and each rq retry of it stops
    at once because the job is no longer queued.
    """

    def __init__(self, limit_s: float):
        self.limit_s = limit_s

    def __call__(self, data: bytes, filename: str, **options: Any) -> dict:
        from rq.timeouts import JobTimeoutException

        from parsers.pipeline import parse_document
        from workflow.operations import ParseTimedOut

        try:
            return parse_document(data, filename, **options)
        except JobTimeoutException as error:
            raise ParseTimedOut(self.limit_s) from error


def _routing_daily_task() -> None:
    from workflow.routing.schedule import daily_task

    daily_task()


TASKS: dict[str, Callable[..., Any]] = {
    "parse_document": _parse_document_task,
    "routing_daily": _routing_daily_task,
}


def execute(app: Flask, task_name: str, args: tuple, job_id: str) -> None:
    """Run one task in a fresh application context, with `job_id` in its log lines."""
    token = current_job_id.set(job_id)
    try:
        with app.app_context():
            log.info("job %s: %s started", job_id, task_name)
            TASKS[task_name](*args)
            log.info("job %s: %s finished", job_id, task_name)
    finally:
        current_job_id.reset(token)


class ThreadWorker:
    """One daemon thread that runs tasks in the order they were enqueued.

    A parse runs in a child process that is killed at SARABAN_JOB_TIMEOUT (see
    `ChildProcessParse`). NOTE: the queue is lost when the process stops (`commands.serve`
    queues such jobs again).
    """

    def __init__(self, app: Flask):
        self.app = app
        self._queue: queue.Queue[tuple[str, tuple, str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, task_name: str, args: tuple, job_id: str) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="saraban-worker", daemon=True)
                self._thread.start()
        self._queue.put((task_name, args, job_id))

    def wait_until_idle(self) -> None:
        """Block until every task submitted so far has finished."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            task_name, args, job_id = self._queue.get()
            try:
                execute(self.app, task_name, args, job_id)
            except Exception:
                # The task has recorded its failure; the thread must live on for the next one.
                log.exception("job %s: %s failed", job_id, task_name)
            finally:
                self._queue.task_done()


def thread_worker(app: Flask) -> ThreadWorker:
    worker = app.extensions.get(WORKER_EXTENSION)
    if worker is None:
        worker = app.extensions[WORKER_EXTENSION] = ThreadWorker(app)
    return worker


def rq_queue(app: Flask):
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(app.config["REDIS_URL"])
    return Queue(app.config["SARABAN_RQ_QUEUE"], connection=connection)


# Retries of an rq job that raised, and the waits before each, growing so that a database
# failover or a Redis restart has time to finish.
JOB_RETRIES = 3
JOB_RETRY_BACKOFF_S = (10, 60, 300)


def enqueue(app: Flask, task_name: str, *args: Any, job_id: str) -> str:
    """Send a task to rq when REDIS_URL is set, else to this process's worker thread.

    `job_id` names the job in both places and in every log line; returns it.
    """
    if task_name not in TASKS:
        raise KeyError(f"unknown task {task_name!r}")
    if app.config.get("REDIS_URL"):
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
        from rq import Retry

        try:
            rq_queue(app).enqueue_call(
                "workflow.jobs.run_rq_task",
                args=(task_name, list(args)),
                job_id=job_id,
                timeout=app.config["SARABAN_JOB_TIMEOUT"],
                description=f"{task_name} {job_id}",
                # A task that raises met a transient fault (a lost database or Redis connection):
                # bad input is recorded on the job as a failure and does not raise.
                retry=Retry(max=JOB_RETRIES, interval=list(JOB_RETRY_BACKOFF_S)),
            )
        except (RedisConnectionError, RedisTimeoutError) as error:
            # The upload and its job are already rows in the database, so `saraban requeue`
            # sends the job once Redis is back.
            log.error("job %s: %s not sent, Redis unreachable (%s); run saraban requeue when it is back",
                      job_id, task_name, error)
            return job_id
        log.info("job %s: %s sent to rq queue %s", job_id, task_name, app.config["SARABAN_RQ_QUEUE"])
    else:
        thread_worker(app).submit(task_name, tuple(args), job_id)
        log.info("job %s: %s sent to the in-process worker", job_id, task_name)
    return job_id


def enqueue_parse(app: Flask, job_id: str) -> str:
    return enqueue(app, "parse_document", job_id, job_id=job_id)


def run_rq_task(task_name: str, args: list) -> None:
    """Entry point rq calls in the worker process."""
    from rq import get_current_job

    global _worker_app
    if _worker_app is None:
        from workflow.app import create_app

        _worker_app = create_app()
    job = get_current_job()
    execute(_worker_app, task_name, tuple(args), job.id if job is not None else "-")


def run_worker(app: Flask, burst: bool = False, in_process: bool = False, with_scheduler: bool = True) -> bool:
    """Run an rq worker on the app's REDIS_URL and queue until stopped (or, with `burst`, until empty).

    `in_process` uses rq's SimpleWorker, which runs jobs without forking. `with_scheduler`
    also runs rq's scheduler, which enqueues jobs put in with `Queue.enqueue_at` when
    their time comes (the daily routing run). Returns what rq's `Worker.work` returns:
    whether any job was run.
    """
    from rq import SimpleWorker, Worker

    global _worker_app
    if not app.config.get("REDIS_URL"):
        raise RuntimeError("REDIS_URL is not set: jobs run in the web process, no separate worker is needed")
    _worker_app = app
    work_queue = rq_queue(app)
    # Connections opened before a fork must not be shared with the forked job process.
    app.extensions["saraban.db"].dispose()
    worker_class = SimpleWorker if in_process else Worker
    worker = worker_class([work_queue], connection=work_queue.connection)
    log.info("rq worker listening on queue %s", work_queue.name)
    return worker.work(burst=burst, with_scheduler=with_scheduler)
