"""The daily routing run: its timing, the in-process timer thread, and rq's scheduler on a real Redis."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from workflow import jobs
from workflow.app import create_app
from workflow.routing import admin, operations, schedule
from workflow.routing.calendar import BANGKOK, load_calendar, today_in_thailand
from workflow.routing.models import EVENT_OVERDUE, NOTICE_ESCALATION, NOTICE_REMINDER, Notice, TaskEvent
from workflow.routing.testing import make_staff, prepare_database, reset

SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
# Generous bound for a background run to finish on a loaded machine; the tests assert no speed.
WAIT_SECONDS = 120


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('schedule') / 'routing.db'}")
    yield db
    db.dispose()


@pytest.fixture
def session(database):
    reset(database)
    session = database.session()
    yield session
    session.close()


def make_app(database, tmp_path, **config):
    return create_app({
        "TESTING": True,
        "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
        "SARABAN_STORAGE": str(tmp_path / "storage"),
        "REDIS_URL": None,
        "SECRET_KEY": "schedule-test",
        **config,
    })


def one_due_soon_one_overdue(session) -> None:
    """DLA sends Chiang Rai one circular due in two working days and Phuket one past due."""
    staff = make_staff(session)
    today = today_in_thailand()
    due_soon = load_calendar(session).add_working_days(today, 2)
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")
    operations.issue_circular(session, staff.dla_head, subject=SUBJECT, issued_on=today - timedelta(days=3),
                              due_nominal=due_soon, recipient_codes=["PROV-57"])
    operations.issue_circular(session, staff.dla_head, subject=SUBJECT, issued_on=today - timedelta(days=40),
                              due_nominal=today - timedelta(days=20), recipient_codes=["PROV-83"])


def notice_counts(session) -> dict[str, int]:
    session.rollback()
    rows = session.execute(select(Notice.kind, func.count()).group_by(Notice.kind)).all()
    counts = {kind: count for kind, count in rows}
    counts["overdue_events"] = session.scalar(
        select(func.count()).select_from(TaskEvent).where(TaskEvent.kind == EVENT_OVERDUE)
    )
    session.rollback()
    return counts


def test_next_run_is_six_in_bangkok():
    before_six = datetime(2026, 12, 4, 5, 59, tzinfo=BANGKOK)
    at_six = datetime(2026, 12, 4, 6, 0, tzinfo=BANGKOK)
    assert schedule.next_run_after(before_six) == datetime(2026, 12, 4, 6, 0, tzinfo=BANGKOK)
    assert schedule.next_run_after(at_six) == datetime(2026, 12, 5, 6, 0, tzinfo=BANGKOK)


def test_next_run_reads_utc_moment_in_bangkok():
    # 23:30 UTC on 4 December is 06:30 on 5 December in Bangkok, past that day's run.
    moment = datetime(2026, 12, 4, 23, 30, tzinfo=timezone.utc)
    assert schedule.next_run_after(moment) == datetime(2026, 12, 6, 6, 0, tzinfo=BANGKOK)
    assert schedule.daily_job_id(schedule.next_run_after(moment), "saraban") == "routing-daily-saraban-2026-12-06"


def test_daily_run_twice_adds_nothing(session):
    one_due_soon_one_overdue(session)
    first = schedule.run_daily_jobs(session)
    second = schedule.run_daily_jobs(session)
    assert first == {"reminders": 1, "escalated": 1}
    assert second == {"reminders": 0, "escalated": 0}
    assert notice_counts(session) == {NOTICE_REMINDER: 1, NOTICE_ESCALATION: 1, "overdue_events": 1}


def test_in_process_thread_runs_at_start(database, session, tmp_path):
    one_due_soon_one_overdue(session)
    app = make_app(database, tmp_path)
    thread = schedule.start_in_process(app)
    try:
        assert thread.wait_for_runs(1, WAIT_SECONDS)
        assert schedule.start_in_process(app) is thread
    finally:
        thread.stop()
        app.extensions["saraban.db"].dispose()
    assert notice_counts(session) == {NOTICE_REMINDER: 1, NOTICE_ESCALATION: 1, "overdue_events": 1}


def test_in_process_thread_sleeps_until_six(database, tmp_path):
    app = make_app(database, tmp_path)
    thread = schedule.DailyJobThread(app, clock=lambda: datetime(2026, 12, 4, 22, 30, tzinfo=BANGKOK))
    assert thread.seconds_until_next_run() == 7.5 * 3600
    app.extensions["saraban.db"].dispose()


def test_in_process_runs_on_two_days_repeat_nothing(database, session, tmp_path):
    one_due_soon_one_overdue(session)
    app = make_app(database, tmp_path)
    days = iter([datetime(2026, 12, 4, 6, 0, tzinfo=BANGKOK), datetime(2026, 12, 5, 6, 0, tzinfo=BANGKOK)])
    thread = schedule.DailyJobThread(app, clock=lambda: next(days))
    thread.run_once()
    thread.run_once()
    app.extensions["saraban.db"].dispose()
    assert thread.runs == 2
    assert notice_counts(session) == {NOTICE_REMINDER: 1, NOTICE_ESCALATION: 1, "overdue_events": 1}


@pytest.mark.redis
def test_rq_scheduler_runs_daily_job_and_schedules_next(database, session, tmp_path, redis_url):
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    one_due_soon_one_overdue(session)
    queue_name = f"saraban-schedule-test-{uuid.uuid4().hex[:8]}"
    app = make_app(database, tmp_path, REDIS_URL=redis_url, SARABAN_RQ_QUEUE=queue_name)
    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=connection)
    try:
        # The run after a moment 25 hours ago is at most an hour ago, so it is due when the worker starts.
        long_ago = datetime.now(BANGKOK) - timedelta(hours=25)
        job_id = schedule.schedule_next_rq_run(app, now=long_ago)
        assert job_id in ScheduledJobRegistry(queue=queue).get_job_ids()
        assert schedule.schedule_next_rq_run(app, now=long_ago) == job_id
        assert len(ScheduledJobRegistry(queue=queue).get_job_ids()) == 1

        assert jobs.run_worker(app, burst=True, in_process=True) is True
        assert notice_counts(session) == {NOTICE_REMINDER: 1, NOTICE_ESCALATION: 1, "overdue_events": 1}

        next_id = schedule.daily_job_id(schedule.next_run_after(datetime.now(BANGKOK)), queue_name)
        assert next_id in ScheduledJobRegistry(queue=queue).get_job_ids()

        # The same day's run enqueued again adds no notice.
        queue.enqueue("workflow.jobs.run_rq_task", schedule.TASK_NAME, [], job_id=f"{job_id}-again")
        assert jobs.run_worker(app, burst=True, in_process=True) is True
        assert notice_counts(session) == {NOTICE_REMINDER: 1, NOTICE_ESCALATION: 1, "overdue_events": 1}
    finally:
        queue.empty()
        for key in connection.scan_iter(f"rq:*{queue_name}*"):
            connection.delete(key)
        connection.close()
        app.extensions["saraban.db"].dispose()
