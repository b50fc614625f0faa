"""Run the routing reminders and the overdue escalation once a day.

`run_daily_jobs` calls `send_reminders` and `escalate_overdue` for one day. Both functions
create each notice and each overdue mark once, so a second run on the same day adds
nothing, and a run missed while the service was down is made up by the next one.

Two ways to trigger it:
- With REDIS_URL, rq's scheduler (a worker started with `Worker.work(with_scheduler=True)`)
  enqueues the run at `RUN_AT` Bangkok time. Each run is put in with `Queue.enqueue_at`
  under a job id named for its day, and the job schedules the next day's run when it ends.
- Without Redis, `DailyJobThread`, a timer thread of the web process, runs it at start
  and then every day at `RUN_AT`.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, time, timedelta
from typing import Callable

from flask import Flask, current_app

from workflow.routing.calendar import BANGKOK, today_in_thailand

log = logging.getLogger(__name__)

TASK_NAME = "routing_daily"
# Bangkok time of the daily run: before offices open, so the day's reminders are waiting.
RUN_AT = time(6, 0)
THREAD_EXTENSION = "saraban.routing_schedule"


def run_daily_jobs(session, today: date | None = None) -> dict[str, int]:
    """Create today's reminders and escalate overdue tasks; returns how many of each were created."""
    from workflow.routing.jobs import escalate_overdue, send_reminders

    today = today or today_in_thailand()
    reminders = send_reminders(session, today)
    escalated = escalate_overdue(session, today)
    log.info("daily routing jobs for %s: %d reminders, %d escalations", today, reminders, escalated)
    return {"reminders": reminders, "escalated": escalated}


def next_run_after(moment: datetime) -> datetime:
    """Return the first `RUN_AT` in Bangkok strictly after `moment` (an aware datetime)."""
    if moment.tzinfo is None:
        raise ValueError("next_run_after needs an aware datetime")
    local = moment.astimezone(BANGKOK)
    candidate = datetime.combine(local.date(), RUN_AT, tzinfo=BANGKOK)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def daily_job_id(run_at: datetime, queue_name: str) -> str:
    """Return the job id of the run at `run_at`: one per queue and Bangkok day, e.g. `routing-daily-saraban-2026-12-05`.

    rq job ids are global in a Redis database, so the queue name keeps two deployments that
    share one Redis database from taking each other's run for their own.
    """
    return f"routing-daily-{queue_name}-{run_at.astimezone(BANGKOK).date().isoformat()}"


def daily_task() -> None:
    """Run the daily jobs in the current application context; under rq, schedule the next run too."""
    from workflow.app import new_session

    session = new_session()
    try:
        run_daily_jobs(session)
    finally:
        session.close()
    if current_app.config.get("REDIS_URL"):
        schedule_next_rq_run(current_app._get_current_object())


# --- rq ---------------------------------------------------------------------------------


def schedule_next_rq_run(app: Flask, now: datetime | None = None) -> str:
    """Put the next daily run in rq's scheduled-job registry unless a job with its id exists.

    Returns the job id. The worker must run with its scheduler on (`saraban worker` does).
    """
    from rq.job import Job

    from workflow.jobs import rq_queue

    run_at = next_run_after(now or datetime.now(BANGKOK))
    queue = rq_queue(app)
    job_id = daily_job_id(run_at, queue.name)
    if Job.exists(job_id, connection=queue.connection):
        log.info("job %s: daily routing run already scheduled", job_id)
        return job_id
    queue.enqueue_at(
        run_at,
        "workflow.jobs.run_rq_task",
        TASK_NAME,
        [],
        job_id=job_id,
        job_timeout=app.config["SARABAN_JOB_TIMEOUT"],
        description=f"{TASK_NAME} {job_id}",
    )
    log.info("job %s: daily routing run scheduled for %s", job_id, run_at.isoformat())
    return job_id


# --- in-process -------------------------------------------------------------------------


class DailyJobThread:
    """A daemon thread that runs the daily task at start and then every day at `RUN_AT`.

    `clock` returns the current aware datetime; tests pass their own. `runs` counts the
    finished runs, and `wait_for_runs` blocks until a number of them have finished.
    """

    def __init__(self, app: Flask, clock: Callable[[], datetime] | None = None):
        self.app = app
        self.clock = clock or (lambda: datetime.now(BANGKOK))
        self.runs = 0
        self._stop = threading.Event()
        self._ran = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="saraban-routing-schedule", daemon=True)

    def start(self) -> "DailyJobThread":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def wait_for_runs(self, count: int, timeout: float) -> bool:
        """Block until `count` runs have finished or `timeout` seconds have passed; return whether they had."""
        with self._ran:
            return self._ran.wait_for(lambda: self.runs >= count, timeout)

    def run_once(self) -> None:
        from workflow.jobs import execute

        moment = self.clock()
        job_id = daily_job_id(moment, "inprocess")
        try:
            execute(self.app, TASK_NAME, (), job_id)
        except Exception:
            # The next day's run retries; the thread must outlive one failed run.
            log.exception("job %s: daily routing run failed", job_id)
        with self._ran:
            self.runs += 1
            self._ran.notify_all()

    def seconds_until_next_run(self) -> float:
        moment = self.clock()
        return max((next_run_after(moment) - moment).total_seconds(), 0.0)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.seconds_until_next_run())


def start_in_process(app: Flask) -> DailyJobThread:
    """Start the app's daily-job thread once; return it."""
    thread = app.extensions.get(THREAD_EXTENSION)
    if thread is None:
        thread = app.extensions[THREAD_EXTENSION] = DailyJobThread(app).start()
        log.info("daily routing jobs run in-process at %s Bangkok time", RUN_AT.strftime("%H:%M"))
    return thread
