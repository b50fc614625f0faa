"""The benchmark data generator writes consistent routing and ledger data (Chiang Rai only, to stay small)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_URL
from workflow.db import Database, upgrade_to_head
from workflow.models import ORG_LAO, Organization
from workflow.routing import rollup
from workflow.routing.models import RoutingTask
from workflow.routing.state import latest_state_subquery

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

pytestmark = pytest.mark.postgres

PROVINCES = {"57"}
CIRCULARS = 40


def _new_database() -> str:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means the server is unusable here
        pytest.skip(f"PostgreSQL is unreachable: {error}")
    name = f"saraban_test_generate_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)
    return url


def _drop_database(url: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def generated():
    url = _new_database()
    try:
        summary = generate.generate_routing(url, CIRCULARS, seed=7, provinces=PROVINCES)
        books = generate.generate_ledger(url, seed=7, laos=6, sales=12, provinces=PROVINCES)
        yield url, summary, books
    finally:
        _drop_database(url)


@pytest.fixture
def session(generated):
    database = Database(generated[0])
    session = database.session()
    yield session
    session.close()
    database.dispose()


def _lao_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Organization)
                          .where(Organization.kind == ORG_LAO, Organization.province_code == "57"))


def test_generate_writes_every_circular(generated):
    _url, summary, _books = generated
    assert len(summary.circulars) == CIRCULARS
    assert len({counts.doc_number for counts in summary.circulars}) == CIRCULARS


def test_generate_reaches_every_lao_once(generated, session):
    for counts in generated[1].circulars:
        assert counts.recipients == _lao_count(session)


def test_generate_mixes_states_and_overdue(generated):
    circulars = generated[1].circulars
    assert any(counts.overdue > 0 for counts in circulars)
    assert any(counts.lao_states["reported"] > 0 for counts in circulars)
    assert any(counts.lao_states["confirmed"] > 0 for counts in circulars)
    assert any(counts.lao_states["delivered"] > 0 for counts in circulars)


def test_rollup_matches_generated_counts(generated, session):
    as_of = generate.as_of(CIRCULARS)
    for counts in generated[1].circulars:
        letter = rollup.find_circular(session, counts.doc_number)
        result = rollup.rollup(session, letter, as_of=as_of)
        assert result["recipients"] == counts.recipients, counts.doc_number
        assert result["confirmed"] == counts.confirmed, counts.doc_number
        assert result["overdue"] == counts.overdue, counts.doc_number


def test_derived_lao_states_match_generated(generated, session):
    states = latest_state_subquery()
    for counts in generated[1].circulars:
        rows = session.execute(
            select(states.c.state, func.count())
            .join(RoutingTask, RoutingTask.id == states.c.task_id)
            .join(Organization, Organization.id == RoutingTask.recipient_org_id)
            .where(RoutingTask.root_letter_id == counts.letter_id, Organization.kind == ORG_LAO)
            .group_by(states.c.state)
        ).all()
        expected = {state: number for state, number in counts.lao_states.items() if number}
        assert dict(rows) == expected, counts.doc_number


def test_tasks_follow_the_directory(generated, session):
    mismatched = session.scalar(text(
        "SELECT count(*) FROM routing_tasks t JOIN organizations o ON o.id = t.recipient_org_id "
        "WHERE o.parent_id IS DISTINCT FROM t.sender_org_id"
    ))
    assert mismatched == 0


@pytest.mark.parametrize("child, column, parent", [
    ("task_events", "task_id", "routing_tasks"),
    ("task_events", "actor_id", "users"),
    ("routing_tasks", "letter_id", "official_letters"),
    ("routing_tasks", "root_letter_id", "official_letters"),
    ("official_letters", "parent_letter_id", "official_letters"),
    ("receipts", "letter_id", "official_letters"),
    ("endorsements", "receipt_id", "receipts"),
    ("receipt_arrivals", "receipt_id", "receipts"),
])
def test_references_resolve(generated, session, child, column, parent):
    orphans = session.scalar(text(
        f"SELECT count(*) FROM {child} c LEFT JOIN {parent} p ON p.id = c.{column} "
        f"WHERE c.{column} IS NOT NULL AND p.id IS NULL"
    ))
    assert orphans == 0


def test_register_counters_follow_numbers(generated, session):
    behind = session.scalar(text(
        "SELECT count(*) FROM receipts r JOIN register_counters c ON c.organization_id = r.organization_id "
        "AND c.register = 'receipt' AND c.year = r.year WHERE r.number >= c.next_number"
    ))
    assert behind == 0


def test_sequences_continue_after_generated_ids(generated, session):
    next_id = session.scalar(text("SELECT nextval(pg_get_serial_sequence('task_events', 'id'))"))
    assert next_id > session.scalar(text("SELECT max(id) FROM task_events"))


def test_same_seed_gives_same_states(generated):
    url = _new_database()
    try:
        again = generate.generate_routing(url, CIRCULARS, seed=7, provinces=PROVINCES)
    finally:
        _drop_database(url)
    assert [counts.lao_states for counts in again.circulars] == [counts.lao_states for counts in generated[1].circulars]


def test_generated_ledger_verifies(generated):
    url, _summary, books = generated
    proc = subprocess.run([str(Path(sys.executable).parent / "saraban"), "ledger", "verify", "--json"],
                          env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, timeout=600)
    result = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert result["ok"] is True, result["problems"][:3]
    assert result["events"] == books.ledger_events


def test_generated_ledger_posts_sales_and_retirements(generated, session):
    kinds = dict(session.execute(text("SELECT kind, count(*) FROM ledger_requests WHERE status = 'posted' GROUP BY kind")).all())
    assert kinds.get("transfer") == 12
    assert kinds.get("retire") == 12
    assert kinds.get("allocate") == 1
