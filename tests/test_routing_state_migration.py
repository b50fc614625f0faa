"""The stored-state revision backfills from the events, and downgrades and upgrades again, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select

from tests.test_routing_operations import OFFICER_VALUES, chain_to_lao, lao_receives
from workflow.db import Database, alembic_config, upgrade_to_head
from workflow.routing import jobs, operations
from workflow.routing.models import RoutingTask, TaskStateCount
from workflow.routing.stored_state import find_differences
from workflow.routing.testing import make_staff, postgres_reachable, postgres_schema_url, prepare_database

REVISION = "0400"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as schema_url:
        yield schema_url


def stored(session) -> tuple[dict, dict]:
    states = {task.id: (task.state, task.overdue_marked) for task in session.scalars(select(RoutingTask))}
    counts = {
        (row.root_letter_id, row.recipient_kind, row.state, row.due_on): row.tasks
        for row in session.scalars(select(TaskStateCount))
        if row.tasks
    }
    return states, counts


def columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        if table not in inspector.get_table_names():
            return set()
        return {column["name"] for column in inspector.get_columns(table)}
    finally:
        engine.dispose()


def test_backfill_matches_operations(url):
    database = prepare_database(url)
    session = database.session()
    staff = make_staff(session)
    _district, task = chain_to_lao(session, staff)
    receipt = lao_receives(session, staff, task)
    operations.endorse(session, staff.lao_exec, receipt.id, ["ทราบ", "มอบ"], assigned_unit="สำนักปลัด",
                       on_date=date(2025, 4, 8))
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES)
    operations.approve_confirmation(session, staff.lao_exec, task.id, on_date=date(2025, 4, 9))
    jobs.escalate_overdue(session, date(2025, 4, 30))
    before_states, before_counts = stored(session)
    session.close()
    database.dispose()

    below = ScriptDirectory.from_config(alembic_config(url)).get_revision(REVISION).down_revision
    command.downgrade(alembic_config(url), below)
    assert {"state", "overdue_marked"}.isdisjoint(columns(url, "routing_tasks"))
    assert "letter_id" in columns(url, "routing_tasks")
    assert columns(url, "routing_state_counts") == set()

    upgrade_to_head(url)
    database = Database(url)
    session = database.session()
    after_states, after_counts = stored(session)
    assert find_differences(session).total == 0
    session.close()
    database.dispose()

    assert after_states == before_states
    assert after_counts == before_counts
    assert ("reported", False) in after_states.values()
    assert ("delivered", True) in after_states.values()
    assert sum(after_counts.values()) == len(after_states)
