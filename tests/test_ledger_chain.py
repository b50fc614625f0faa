"""The event chain written at commit, and verify reading the ledger in batches."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from workflow.ledger import chain, operations
from workflow.ledger.accounts import get_account
from workflow.ledger.idempotency import run_idempotent
from workflow.ledger import verify as verify_module
from workflow.ledger.models import ChainHead, LedgerEvent, LedgerRequest
from workflow.ledger.testing import LAO_CODES, issue_and_allocate, key, make_ledger_staff, open_lao_accounts
from workflow.ledger.verify import verify
from workflow.models import User
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset


# --- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("transaction_id", [None, 42])
def test_body_with_sequence_is_canonical(transaction_id):
    moment = datetime(2025, 6, 2, 3, 4, 5, 600000, tzinfo=timezone.utc)
    # The data contains a nested "transaction" key, which must not be taken for the top-level one.
    data = {"letter_reference": "มท 0821.2/ว 1446", "payload": {"transaction": 7, "ชื่อ": "เทศบาลตำบลแม่สาย"}}
    partial = chain.canonical_json({"kind": "posted", "at": moment, "actor": 3, "request": 9,
                                    "transaction": transaction_id, "data": data})
    whole = chain.canonical_json({"sequence": 1234, "kind": "posted", "at": moment, "actor": 3, "request": 9,
                                  "transaction": transaction_id, "data": data})
    assert chain._finish_body(partial, 1234) == whole


def test_text_check_matches_parsed_columns():
    body = chain.canonical_json({"sequence": 5, "kind": "approved", "at": datetime(2025, 1, 1, tzinfo=timezone.utc),
                                 "actor": 8, "request": 12, "transaction": None, "data": {"status": "approved"}})
    assert verify_module._columns_match_text(body, 5, "approved", 12, None, 8)
    assert not verify_module._columns_match_text(body, 6, "approved", 12, None, 8)
    assert not verify_module._columns_match_text(body, 5, "approved", 13, None, 8)
    assert not verify_module._columns_match_text(body, 5, "approved", 12, None, 9)
    assert not verify_module._columns_match_text(body, 5, "rejected", 12, None, 8)


def test_pairing_accepts_late_events():
    rows = iter([(1, "a"), (2, "b"), (3, "c"), (5, "e")])
    pairing = verify_module._Pairing(rows)
    # Transaction 3 committed before transaction 2, so its event comes first.
    assert pairing.record(1, "event 1") == ("a", True)
    assert pairing.record(3, "event 3") == ("c", True)
    assert pairing.record(2, "event 2") == ("b", True)
    assert pairing.record(4, "event 4") == (None, False)
    assert pairing.waiting_recorded == {4: "event 4"}
    assert list(pairing.unmatched_rows()) == [(5, "e")]


# --- database -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('chain') / 'chain.db'}")
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
def funded(database):
    reset(database)
    session = database.session()
    staff = make_ledger_staff(session)
    open_lao_accounts(session, staff)
    issue_and_allocate(session, staff)
    session.close()
    return staff


def _event_count(database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(LedgerEvent))


def _reserve(session, staff, code: str, label: str) -> LedgerRequest:
    officer = session.get(User, staff.officers[code].id)
    executive = session.get(User, staff.executives[code].id)
    request = operations.prepare_reservation(session, officer, idempotency_key=f"{label}-prepare", quantity=1,
                                             letter_reference=f"บันทึกข้อความ กองคลัง ที่ {label}/2568")
    return operations.approve(session, executive, request.id, idempotency_key=f"{label}-approve")


def test_open_transaction_does_not_block_postings(database, funded):
    waiting = database.session()
    other = database.session()
    try:
        if database.engine.dialect.name == "postgresql":
            # Fail instead of hanging if the posting waits for the open transaction's lock.
            other.execute(text("SET lock_timeout = '20s'"))
            other.commit()
        head = chain.lock_head(waiting)
        chain.append_event(waiting, head, "checked", datetime.now(timezone.utc), {"note": "ตรวจทานยอดคงเหลือ"})

        posted = _reserve(other, funded, "5570901", "beside-open")
        assert posted.status == "posted"

        waiting.commit()
        last = waiting.scalar(select(LedgerEvent).order_by(LedgerEvent.id.desc()))
        assert last.kind == "checked"
        assert json.loads(last.body)["sequence"] == waiting.get(ChainHead, chain.HEAD_ROW_ID).last_event_id
    finally:
        waiting.close()
        other.close()
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is True, result["problems"]


def test_rolled_back_events_are_dropped(database, funded):
    before = _event_count(database)
    session = database.session()
    try:
        head = chain.lock_head(session)
        chain.append_event(session, head, "checked", datetime.now(timezone.utc), {"note": "ยกเลิก"})
        session.rollback()
        session.execute(select(func.count()).select_from(LedgerEvent))
        session.commit()
    finally:
        session.close()
    assert _event_count(database) == before


def test_concurrent_laos_chain_verifies(database, funded):
    """Three threads per LAO post reservations at once; the chain stays gapless and every posting is in it."""
    per_thread = 3
    threads_per_lao = 3
    before = _event_count(database)
    errors: list[BaseException] = []
    start = threading.Barrier(threads_per_lao * len(LAO_CODES))

    def work(code: str, index: int) -> None:
        session = database.session()
        try:
            start.wait()
            for number in range(per_thread):
                _reserve(session, funded, code, f"race-{code}-{index}-{number}")
        except BaseException as error:  # reported to the main thread, which fails the test
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=work, args=(code, index))
               for code in LAO_CODES for index in range(threads_per_lao)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    postings = per_thread * threads_per_lao * len(LAO_CODES)
    # Each reservation is prepared, approved and posted: three events.
    assert _event_count(database) == before + 3 * postings
    with database.session() as session:
        result = verify(session)
        head = session.get(ChainHead, chain.HEAD_ROW_ID)
        assert head.last_event_id == result["events"]
    assert result["ok"] is True, result["problems"]


def test_deadlock_victim_runs_again(database, funded):
    """Two transactions lock two accounts in opposite order; the one PostgreSQL aborts runs again and succeeds."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs write transactions one at a time, so they cannot deadlock")
    both_hold_one = threading.Barrier(2)
    attempts = {"forward": 0, "backward": 0}
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def run(name: str, first_code: str, second_code: str) -> None:
        session = database.session()

        def work():
            attempts[name] += 1
            get_account(session, first_code, lock=True)
            if attempts[name] == 1:
                both_hold_one.wait(timeout=60)
            return get_account(session, second_code, lock=True)

        try:
            account = run_idempotent(session, key(f"deadlock-{name}"), "lock_two_accounts", None, {"name": name}, work)
            results[name] = account.code
        except BaseException as error:  # reported to the main thread, which fails the test
            errors.append(error)
        finally:
            session.close()

    first, second = (f"LAO-{code}" for code in LAO_CODES)
    threads = [threading.Thread(target=run, args=("forward", first, second)),
               threading.Thread(target=run, args=("backward", second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == {"forward": second, "backward": first}
    # One of the two was the deadlock victim and ran a second time.
    assert sorted(attempts.values()) == [1, 2]


# --- verify in small batches ----------------------------------------------------------------


def tamper(database, statement, **params):
    with database.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.fixture
def small_batches(monkeypatch):
    # Two rows per fetch makes every stream cross many batch boundaries.
    monkeypatch.setattr(verify_module, "BATCH_ROWS", 2)


def test_verify_in_small_batches_passes(database, funded, small_batches):
    with database.session() as session:
        _reserve(session, funded, "5570902", "small-batches")
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is True, result["problems"]
    assert result["events"] == _event_count(database)


def test_verify_names_changed_request_status(database, funded, small_batches):
    with database.session() as session:
        request_id = _reserve(session, funded, "5570901", "status").id
        posted = session.scalar(select(LedgerEvent).where(LedgerEvent.request_id == request_id,
                                                          LedgerEvent.kind == "posted"))
        posted_id, posted_sequence = posted.id, json.loads(posted.body)["sequence"]
    tamper(database, "UPDATE ledger_requests SET status = 'rejected' WHERE id = :id", id=request_id)
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_requests"
    assert result["first_break"]["row"] == request_id
    assert result["first_break"]["event"] == posted_id
    assert result["first_break"]["sequence"] == posted_sequence


def test_verify_names_changed_event_actor(database, funded, small_batches):
    with database.session() as session:
        event = session.scalar(select(LedgerEvent).where(LedgerEvent.kind == "approved").order_by(LedgerEvent.id))
        event_id = event.id
        other_user = session.scalar(select(User.id).where(User.id != event.actor_id).order_by(User.id))
    # The hash covers the body, not the columns, so only the comparison of columns with the body finds this.
    tamper(database, "UPDATE ledger_events SET actor_id = :actor WHERE id = :id", actor=other_user, id=event_id)
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_events"
    assert result["first_break"]["event"] == event_id
    assert "actor" in result["first_break"]["reason"]


def test_verify_names_changed_request_payload(database, funded, small_batches):
    with database.session() as session:
        request_id = _reserve(session, funded, "5570902", "payload").id
    changed = json.dumps({"account": "LAO-5570902", "quantity": 2, "buyer_account": None})
    if database.engine.dialect.name == "postgresql":
        tamper(database, "UPDATE ledger_requests SET payload = CAST(:payload AS jsonb) WHERE id = :id",
               payload=changed, id=request_id)
    else:
        tamper(database, "UPDATE ledger_requests SET payload = :payload WHERE id = :id", payload=changed, id=request_id)
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_requests"
    assert result["first_break"]["row"] == request_id
