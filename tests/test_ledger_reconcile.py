"""Reconciliation with the national registry's CSV: parsing the file and every kind of difference."""

from __future__ import annotations

from datetime import date

import pytest

from workflow.ledger import operations
from workflow.ledger.errors import InvalidValue
from workflow.ledger.reconcile import (
    HOLDER_DIFFERS,
    MISSING_HERE,
    MISSING_THERE,
    STATUS_DIFFERS,
    Holding,
    compare,
    read_registry_csv,
    reconcile,
)
from workflow.ledger.testing import issue_and_allocate, key, make_ledger_staff, open_lao_accounts, register_bank
from workflow.routing.testing import prepare_database, reset

HEADER = "account_code,serial_start,serial_end,status\n"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('reconcile') / 'ledger.db'}")
    yield db
    db.dispose()


@pytest.fixture
def session(database):
    reset(database)
    session = database.session()
    yield session
    session.close()


@pytest.fixture
def funded(session):
    """LAO-5570901 holds serials 1-75 and LAO-5570902 holds 76-100; the bank has bought 20 and retired 5."""
    staff = make_ledger_staff(session)
    open_lao_accounts(session, staff)
    issue_and_allocate(session, staff)
    bank = register_bank(session, staff)
    sale = operations.prepare_transfer(
        session, staff.officers["5570901"], idempotency_key=key(), buyer_account=bank, quantity=20,
        receipt_number="รบ 15/2568", receipt_date=date(2025, 6, 2), letter_reference="ธนาคาร ที่ ESG 12/2568")
    operations.approve(session, staff.executives["5570901"], sale.id, idempotency_key=key())
    operations.confirm(session, staff.dla_head, sale.id, idempotency_key=key())
    retirement = operations.prepare_retirement(
        session, staff.dla_officer, idempotency_key=key(), account_code=bank, quantity=5,
        beneficiary="ธนาคารกรุงไทย จำกัด (มหาชน)", purpose="ชดเชยการใช้ไฟฟ้า ปี 2567",
        letter_reference="ธนาคาร ที่ ESG 13/2568")
    operations.approve(session, staff.dla_head, retirement.id, idempotency_key=key())
    return bank


def matching_registry(bank: str) -> str:
    return (HEADER + "LAO-5570901,21,75,active\nLAO-5570902,76,100,active\n"
            f",1,5,retired\n{bank},6,20,active\n")


def test_matching_registry_has_no_differences(session, funded):
    assert reconcile(session, matching_registry(funded)) == []


def test_block_missing_from_registry(session, funded):
    registry = matching_registry(funded).replace("LAO-5570902,76,100,active\n", "LAO-5570902,76,90,active\n")
    differences = reconcile(session, registry)
    assert len(differences) == 1
    assert differences[0].kind == MISSING_THERE
    assert (differences[0].serial_start, differences[0].serial_end) == (91, 100)
    assert differences[0].ledger.account_code == "LAO-5570902"


def test_block_missing_from_ledger(session, funded):
    differences = reconcile(session, matching_registry(funded) + "DLA,101,150,active\n")
    assert [(d.kind, d.serial_start, d.serial_end) for d in differences] == [(MISSING_HERE, 101, 150)]
    assert differences[0].quantity == 50


def test_retired_in_ledger_active_in_registry(session, funded):
    registry = matching_registry(funded).replace(",1,5,retired\n", f"{funded},1,5,active\n")
    differences = reconcile(session, registry)
    assert [(d.kind, d.serial_start, d.serial_end) for d in differences] == [(STATUS_DIFFERS, 1, 5)]
    assert differences[0].ledger.status == "retired"
    assert differences[0].registry.status == "active"


def test_different_holder_only_for_split_part(session, funded):
    registry = matching_registry(funded).replace("LAO-5570901,21,75,active\n",
                                                 "LAO-5570901,21,60,active\nLAO-5570902,61,75,active\n")
    differences = reconcile(session, registry)
    assert [(d.kind, d.serial_start, d.serial_end) for d in differences] == [(HOLDER_DIFFERS, 61, 75)]
    assert differences[0].ledger.account_code == "LAO-5570901"
    assert differences[0].registry.account_code == "LAO-5570902"


def test_compare_merges_pieces_of_one_block():
    ledger = [Holding(1, 100, "active", "LAO-5570901")]
    registry = [Holding(1, 10, "active", "LAO-5570901"), Holding(51, 60, "active", "LAO-5570901")]
    differences = compare(ledger, registry)
    assert [(d.kind, d.serial_start, d.serial_end) for d in differences] == [
        (MISSING_THERE, 11, 50), (MISSING_THERE, 61, 100)]


def test_registry_csv_accepts_bom_commas_and_column_order():
    holdings = read_registry_csv("\ufeffstatus,serial_end,serial_start,account_code\nactive,\"1,000\",1,DLA\n")
    assert holdings == [Holding(1, 1000, "active", "DLA")]


@pytest.mark.parametrize("text, code", [
    ("account_code,serial_start,status\nDLA,1,active\n", "registry_csv_missing_columns"),
    (HEADER + "DLA,10,1,active\n", "registry_csv_invalid_range"),
    (HEADER + "DLA,1,10,sold\n", "registry_csv_invalid_status"),
    (HEADER + "DLA,หนึ่ง,10,active\n", "registry_csv_invalid_serial"),
    (HEADER + ",1,10,active\n", "registry_csv_missing_account"),
    (HEADER + "DLA,1,10,active\nDLA,5,20,active\n", "registry_csv_overlap"),
    (HEADER, "registry_csv_empty"),
])
def test_registry_csv_rejects_bad_rows(text, code):
    with pytest.raises(InvalidValue) as raised:
        read_registry_csv(text)
    assert raised.value.code == code


def test_registry_csv_overlap_message_names_line():
    with pytest.raises(InvalidValue) as raised:
        read_registry_csv(HEADER + "DLA,1,10,active\nDLA,5,20,active\n")
    assert "บรรทัด 3" in raised.value.message_th


def test_registry_csv_line_numbers_count_blank_lines():
    with pytest.raises(InvalidValue) as raised:
        read_registry_csv(HEADER + "DLA,1,10,active\n\nDLA,11,²,active\n")
    assert raised.value.code == "registry_csv_invalid_serial"
    assert "บรรทัด 4" in raised.value.message_th


def test_registry_csv_reads_thai_digits():
    assert read_registry_csv(HEADER + "LAO-5570901,๑,๒๕,active\n") == [Holding(1, 25, "active", "LAO-5570901")]


def test_registry_csv_oversized_field_rejected():
    with pytest.raises(InvalidValue) as raised:
        read_registry_csv(HEADER + "DLA,1,10,active\n\"" + "ก" * 200_000 + "\",11,20,active\n")
    assert raised.value.code == "registry_csv_unreadable"
    assert "บรรทัด 3" in raised.value.message_th
