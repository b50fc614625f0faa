"""The ledger demo: a round for Chiang Rai's LAOs, one sale, one retirement, and nothing more on a second run."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflow.ledger import reports
from workflow.ledger.demo import RETIRED_TONNES, SALE_TONNES, load
from workflow.ledger.models import Account, LedgerEvent, LedgerTransaction
from workflow.ledger.verify import verify
from workflow.models import Organization
from workflow.routing.demo import run_demo
from workflow.routing.models import TaskEvent
from workflow.routing.testing import prepare_database


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    database = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('ledger-demo') / 'demo.db'}")
    session = database.session()
    run_demo(session)
    load(session)
    yield session
    session.close()
    database.dispose()


def test_demo_allocates_to_every_chiang_rai_lao(session):
    laos = session.scalar(select(func.count()).select_from(Organization)
                          .where(Organization.kind == "lao", Organization.province_code == "57"))
    accounts = session.scalar(select(func.count()).select_from(Account).where(Account.kind == "lao"))
    totals = reports.balances(session)
    assert accounts == laos
    assert reports.balances_by_area(session, "province")[0]["area"] == "57"
    assert totals["total_issued"] == totals["total_held"] + totals["total_retired"] + totals["total_cancelled"]
    assert totals["total_retired"] == RETIRED_TONNES


def test_demo_sale_and_retirement_posted(session):
    kinds = list(session.scalars(select(LedgerTransaction.kind).order_by(LedgerTransaction.id)))
    assert kinds == ["issue", "allocate", "transfer", "retire"]
    buyer = session.scalar(select(Account).where(Account.kind == "buyer"))
    assert next(row["balance"] for row in reports.balances(session)["accounts"]
                if row["account"] == buyer.code) == SALE_TONNES - RETIRED_TONNES


def test_demo_links_officer_approval(session):
    account = session.scalar(select(Account).where(Account.code == "LAO-5570901"))
    event = session.get(TaskEvent, account.routing_event_id)
    assert event is not None
    assert event.kind == "reported"


def test_demo_second_run_adds_nothing(session):
    before = session.scalar(select(func.count()).select_from(LedgerEvent))
    load(session)
    after = session.scalar(select(func.count()).select_from(LedgerEvent))
    assert after == before
    assert verify(session)["ok"] is True
