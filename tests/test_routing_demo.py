"""`run_demo`: the finished chain of 2568 stays as it was, and a pending chain of today waits for people to act."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.test_routing_operations import snapshot
from workflow.models import User
from workflow.routing import demo, operations
from workflow.routing.access import valid_delegations
from workflow.routing.calendar import today_in_thailand
from workflow.routing.models import CAPACITY_ON_BEHALF, OfficialLetter, RoutingTask
from workflow.routing.rollup import find_circular, rollup
from workflow.routing.state import load_status
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset

TODAY = today_in_thailand()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('routing_demo') / 'routing.db'}")
        yield db
        db.dispose()
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as url:
        db = prepare_database(url)
        yield db
        db.dispose()


@pytest.fixture
def session(database):
    reset(database)
    session = database.session()
    demo.run_demo(session)
    yield session
    session.close()


def user(session, username) -> User:
    return session.scalar(select(User).where(User.username == username))


def letter_by_subject(session, subject) -> OfficialLetter:
    return session.scalar(select(OfficialLetter).where(OfficialLetter.subject == subject))


def task_of(session, letter, username) -> RoutingTask:
    return session.scalar(select(RoutingTask).where(
        RoutingTask.letter_id == letter.id, RoutingTask.recipient_org_id == user(session, username).organization_id))


def test_finished_chain_of_2568_unchanged(session):
    result = rollup(session, find_circular(session, "มท 0821.2/ว 1446"), as_of=date(2025, 4, 10))
    assert result["by_district"]["5709"] == {"recipients": 10, "confirmed": 10, "overdue": 0}
    assert result["overdue"] == 0


def test_pending_circular_dated_this_year(session):
    letter = letter_by_subject(session, demo.BINS_SUBJECT)
    assert letter.doc_number == "มท 0821.2/ว 2905"
    assert letter.letter_date.year == TODAY.year
    assert letter.letter_date < TODAY
    assert letter.relative_days == demo.BINS_RELATIVE_DAYS
    assert letter.parent_letter_id is None


def test_province_endorsed_but_not_forwarded(session):
    letter = letter_by_subject(session, demo.BINS_SUBJECT)
    task = task_of(session, letter, "demo.chiangrai.head")
    status = load_status(session, task.id)
    assert status.state == "endorsed"
    assert task.due_effective > TODAY
    children = session.scalars(select(OfficialLetter).where(OfficialLetter.parent_letter_id == letter.id)).all()
    assert children == []


def test_province_head_can_forward(session):
    letter = letter_by_subject(session, demo.BINS_SUBJECT)
    result = operations.forward_circular(session, user(session, "demo.chiangrai.head"), letter.id)
    assert result.letter.doc_number == "ชร 0023.6/ว 4121"
    assert result.task_count > 18
    assert result.letter.due_effective >= TODAY


def test_province_clerk_forwards_under_delegation(session):
    clerk = user(session, "demo.chiangrai.clerk")
    delegations = valid_delegations(session, clerk, TODAY)
    assert len(delegations) == 1
    assert delegations[0].capacity == CAPACITY_ON_BEHALF
    assert "คำสั่งสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดเชียงราย ที่ 58/" in delegations[0].order_reference
    letter = letter_by_subject(session, demo.BINS_SUBJECT)
    result = operations.forward_circular(session, clerk, letter.id, delegation_id=delegations[0].id)
    assert result.letter.signed_capacity == CAPACITY_ON_BEHALF


def test_mae_sai_awaits_receipt_of_invitation(session):
    invitation = letter_by_subject(session, demo.INVITATION_SUBJECT)
    assert invitation.doc_number == "ชร 0023.6/ว 4120"
    task = task_of(session, invitation, "demo.maesai.clerk")
    assert load_status(session, task.id).state == "delivered"
    assert task.due_effective is None


def test_mae_sai_clerk_registers_and_forwards(session):
    invitation = letter_by_subject(session, demo.INVITATION_SUBJECT)
    receipt = operations.register_receipt(session, user(session, "demo.maesai.clerk"), channel="system",
                                          letter_id=invitation.id).receipt
    task = task_of(session, invitation, "demo.maesai.clerk")
    assert load_status(session, task.id).state == "received"
    assert task.due_effective > TODAY
    head = user(session, "demo.maesai.head")
    operations.endorse(session, head, receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้ง ทต. และ อบต. ในพื้นที่")
    result = operations.forward_circular(session, head, invitation.id)
    assert result.task_count == 10


def test_demo_twice_adds_nothing(session):
    before = snapshot(session)
    summary = demo.run_demo(session)
    assert snapshot(session) == before
    assert summary.users_created == 0
    assert summary.pending_letters == ["มท 0821.2/ว 2905", letter_by_subject(session, demo.INVITATION_SUBJECT).doc_number]


def test_pending_days_stay_in_year():
    assert demo.fiscal_year_of(date(2026, 12, 5)) == (date(2026, 10, 1), date(2027, 9, 30))
    assert demo.fiscal_year_of(date(2026, 9, 30)) == (date(2025, 10, 1), date(2026, 9, 30))


@pytest.fixture
def app(database, session, tmp_path):
    from workflow.app import create_app

    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
        "SARABAN_STORAGE": str(tmp_path / "storage"),
        "REDIS_URL": None,
        "SECRET_KEY": "routing-demo-test",
    })
    yield application
    application.extensions["saraban.db"].dispose()


def page_as(app, session, username, path) -> str:
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = user(session, username).id
    return client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("username", ["demo.chiangrai.head", "demo.chiangrai.clerk"])
def test_task_page_offers_forward(app, session, username):
    task = task_of(session, letter_by_subject(session, demo.BINS_SUBJECT), username)
    page = page_as(app, session, username, f"/routing/tasks/{task.id}")
    assert 'id="forward"' in page
    assert demo.BINS_SUBJECT in page


def test_task_page_offers_receipt_to_mae_sai(app, session):
    task = task_of(session, letter_by_subject(session, demo.INVITATION_SUBJECT), "demo.maesai.clerk")
    page = page_as(app, session, "demo.maesai.clerk", f"/routing/tasks/{task.id}")
    assert 'id="receive"' in page
    inbox = page_as(app, session, "demo.maesai.clerk", "/routing/")
    assert demo.INVITATION_SUBJECT in inbox
