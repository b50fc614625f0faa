"""Ledger integrity: largest-remainder shares, the bins CSV, verify naming tampered rows, concurrent spending."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from sqlalchemy import select, text

from workflow.ledger import operations, reports
from workflow.ledger.allocation import largest_remainder, read_bins_csv
from workflow.ledger.errors import InsufficientCredits, InvalidValue
from workflow.ledger.models import Account, LedgerEntry, LedgerEvent, SerialBlock
from workflow.ledger.testing import issue_and_allocate, key, make_ledger_staff, open_lao_accounts, register_bank
from workflow.ledger.verify import verify
from workflow.models import Organization, User
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset


# --- allocation ----------------------------------------------------------------------------


def test_shares_add_up_exactly():
    bins = {"5570901": 1234, "5570902": 987, "5570903": 55, "5570904": 3001, "5570905": 7}
    shares = largest_remainder(2777, bins)
    assert sum(share.quantity for share in shares) == 2777


def test_shares_give_leftover_to_largest_remainders():
    # 10 split 1:2 gives 3.33 and 6.67: the one tonne left over goes to the larger remainder.
    shares = {share.lao_code: share.quantity for share in largest_remainder(10, {"5570901": 1, "5570902": 2})}
    assert shares == {"5570901": 3, "5570902": 7}


def test_shares_tie_break():
    # 100 split by 1:1:1 gives 33.33 each, so the one tonne left goes to the lowest code.
    equal = {share.lao_code: share.quantity for share in largest_remainder(100, {"5570903": 5, "5570901": 5, "5570902": 5})}
    assert equal == {"5570901": 34, "5570902": 33, "5570903": 33}
    # 5 split by 1:1:2 gives 1.25, 1.25, 2.5: the .5 wins, then nothing is left.
    mixed = {share.lao_code: share.quantity for share in largest_remainder(5, {"5570901": 1, "5570902": 1, "5570903": 2})}
    assert mixed == {"5570901": 1, "5570902": 1, "5570903": 3}


def test_shares_do_not_depend_on_row_order():
    bins = {"5570901": 3, "5570902": 3, "5570903": 3, "5570904": 1}
    forward = largest_remainder(11, bins)
    backward = largest_remainder(11, dict(reversed(list(bins.items()))))
    assert forward == backward


def test_bins_csv_reads_layout():
    text_in = "\ufefflao_code,name_th,verified_bins\n5570901,เทศบาลตำบลแม่สาย,\"1,250\"\n5570902,เทศบาลตำบลห้วยไคร้,830\n"
    assert read_bins_csv(text_in) == {"5570901": 1250, "5570902": 830}


@pytest.mark.parametrize("bad", [
    "lao_code\n5570901\n",
    "lao_code,verified_bins\n557090,10\n",
    "lao_code,verified_bins\n5570901,0\n",
    "lao_code,verified_bins\n5570901,10\n5570901,12\n",
    "lao_code,verified_bins\n",
])
def test_bins_csv_rejects_bad_rows(bad):
    with pytest.raises(InvalidValue):
        read_bins_csv(bad)


# --- database tests ------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'integrity.db'}")
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
    staff.bank = register_bank(session, staff)
    request = operations.prepare_transfer(
        session, staff.officers["5570901"], idempotency_key=key(), buyer_account=staff.bank, quantity=30,
        receipt_number="รบ 15/2568", receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 12/2568",
    )
    operations.approve(session, staff.executives["5570901"], request.id, idempotency_key=key())
    operations.confirm(session, staff.dla_head, request.id, idempotency_key=key())
    session.close()
    return staff


def tamper(database, statement, **params):
    with database.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_verify_passes_untouched_ledger(database, funded):
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is True
    assert result["first_break"] is None
    assert result["events"] > 0


def test_verify_names_changed_entry(database, funded):
    with database.session() as session:
        entry = session.scalar(select(LedgerEntry).where(LedgerEntry.unit == "tco2e").order_by(LedgerEntry.id.desc()))
        entry_id, transaction_id = entry.id, entry.transaction_id
    tamper(database, "UPDATE ledger_entries SET amount = amount + 5 WHERE id = :id", id=entry_id)
    with database.session() as session:
        result = verify(session)
        posted = session.scalar(select(LedgerEvent).where(LedgerEvent.transaction_id == transaction_id))
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_entries"
    assert result["first_break"]["row"] == entry_id
    assert result["first_break"]["event"] == posted.id


def test_verify_names_moved_block(database, funded):
    with database.session() as session:
        block = session.scalar(select(SerialBlock).where(SerialBlock.closed_by_transaction_id.is_(None))
                               .order_by(SerialBlock.id.desc()))
        block_id = block.id
    tamper(database, "UPDATE ledger_blocks SET serial_end = serial_end + 1 WHERE id = :id", id=block_id)
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_blocks"
    assert result["first_break"]["row"] == block_id


def test_verify_names_edited_event(database, funded):
    with database.session() as session:
        event = session.scalar(select(LedgerEvent).where(LedgerEvent.kind == "prepared").order_by(LedgerEvent.id))
        event_id = event.id
        body = json.loads(event.body)
    body["data"]["letter_reference"] = "ปลอม"
    tamper(database, "UPDATE ledger_events SET body = :body WHERE id = :id",
           body=json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")), id=event_id)
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is False
    assert result["first_break"]["event"] == event_id
    assert result["first_break"]["table"] == "ledger_events"


def test_verify_names_deleted_last_event(database, funded):
    with database.session() as session:
        last_id = session.scalar(select(LedgerEvent.id).order_by(LedgerEvent.id.desc()))
    tamper(database, "DELETE FROM ledger_events WHERE id = :id", id=last_id)
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_chain_head"


def test_cli_verify_reports_break(database, funded, monkeypatch, capsys):
    from workflow.cli import main

    monkeypatch.setenv("DATABASE_URL", database.url)
    assert main(["ledger", "verify", "--json"]) == 0
    clean = json.loads(capsys.readouterr().out)
    assert set(clean) >= {"ok", "events", "accounts", "first_break"}
    with database.session() as session:
        entry_id = session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id))
    tamper(database, "UPDATE ledger_entries SET amount = amount + 1 WHERE id = :id", id=entry_id)
    assert main(["ledger", "verify", "--json"]) == 1
    broken = json.loads(capsys.readouterr().out)
    assert broken["ok"] is False
    assert broken["first_break"]["row"] == entry_id


def test_cli_balances_adds_up(database, funded, monkeypatch, capsys):
    from workflow.cli import main

    monkeypatch.setenv("DATABASE_URL", database.url)
    assert main(["ledger", "balances", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total_issued"] == 100
    assert result["total_held"] == result["total_issued"] - result["total_retired"] - result["total_cancelled"]
    assert sum(row["balance"] for row in result["accounts"]) == result["total_held"]
    assert {"account", "owner", "balance"} == set(result["accounts"][0])


THREADS = 6


def test_concurrent_reservations_cannot_overdraw(database, funded):
    """Six reservations of 20 tCO2e from 45 available: exactly two post, the others raise InsufficientCredits."""
    errors: list[BaseException] = []
    refused: list[InsufficientCredits] = []
    start = threading.Barrier(THREADS)

    def work(index: int) -> None:
        session = database.session()
        try:
            officer = session.get(User, funded.officers["5570901"].id)
            executive = session.get(User, funded.executives["5570901"].id)
            start.wait()
            try:
                request = operations.prepare_reservation(session, officer, idempotency_key=f"race-{index}",
                                                         quantity=20, letter_reference=f"บันทึกข้อความ ที่ {index}/2568")
                operations.approve(session, executive, request.id, idempotency_key=f"race-approve-{index}")
            except InsufficientCredits as error:
                refused.append(error)
        except BaseException as error:  # reported to the main thread, which fails the test
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(refused) == THREADS - 2
    with database.session() as session:
        blocks = reports.open_blocks(session, "LAO-5570901")
        reserved = sum(block.quantity for block in blocks if block.bucket == "reserved")
        result = verify(session)
    assert reserved == 40
    assert result["ok"] is True


def test_concurrent_retries_post_once(database, funded):
    """The same approval sent from six threads with one key posts one transaction."""
    setup = database.session()
    request = operations.prepare_reservation(setup, setup.get(User, funded.officers["5570902"].id),
                                             idempotency_key="once", quantity=5,
                                             letter_reference="บันทึกข้อความ ที่ 20/2568")
    request_id = request.id
    setup.close()
    errors: list[BaseException] = []
    results: list[int] = []
    start = threading.Barrier(THREADS)

    def work() -> None:
        session = database.session()
        try:
            executive = session.get(User, funded.executives["5570902"].id)
            start.wait()
            results.append(operations.approve(session, executive, request_id, idempotency_key="once-approve").id)
        except BaseException as error:  # reported to the main thread, which fails the test
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [request_id] * THREADS
    with database.session() as session:
        posted = session.scalars(select(LedgerEvent).where(LedgerEvent.request_id == request_id,
                                                           LedgerEvent.kind == "posted")).all()
        assert len(posted) == 1
        assert verify(session)["ok"] is True


def test_verify_names_changed_account_owner(database, funded):
    with database.session() as session:
        account_id = session.scalar(select(Account.id).where(Account.code == "LAO-5570902"))
        other_lao = session.scalar(select(Organization.id).where(Organization.code == "5570903"))
    tamper(database, "UPDATE ledger_accounts SET organization_id = :org WHERE id = :id", org=other_lao, id=account_id)
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_accounts"
    assert result["first_break"]["row"] == account_id


def test_verify_names_changed_round(database, funded):
    tamper(database, "UPDATE ledger_rounds SET registry_reference = 'T-VER-P-9999'")
    with database.session() as session:
        result = verify(session)
    assert result["ok"] is False
    assert result["first_break"]["table"] == "ledger_rounds"
