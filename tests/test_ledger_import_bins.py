"""`saraban ledger import-bins`: a verified-bins CSV becomes an allocation request, or a Thai error and nothing."""

from __future__ import annotations

import argparse
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from workflow.ledger import operations
from workflow.ledger.commands import add_import_bins_parser, import_bins_command
from workflow.ledger.models import LedgerEvent, LedgerRequest
from workflow.ledger.testing import key, make_ledger_staff, open_lao_accounts
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset

ROUND = 3
LETTER = "มท 0821.2/ว 2001"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('import_bins') / 'ledger.db'}")
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
def issued(database, monkeypatch):
    """Set up a round of 100 tCO2e in DLA's account and two opened LAO accounts, with DATABASE_URL set to the database."""
    reset(database)
    monkeypatch.setenv("DATABASE_URL", database.engine.url.render_as_string(hide_password=False))
    session = database.session()
    staff = make_ledger_staff(session)
    open_lao_accounts(session, staff)
    request = operations.prepare_issue(
        session, staff.dla_officer, idempotency_key=key(), round_number=ROUND, monitoring_start=date(2023, 4, 1),
        monitoring_end=date(2023, 9, 30), certified_on=date(2024, 3, 15), quantity=100,
        registry_reference="T-VER-P-0001-R3", serial_start=1, serial_end=100, letter_reference="อบก. ที่ 0001/2567")
    operations.approve(session, staff.dla_head, request.id, idempotency_key=key())
    staff.session = session
    yield staff
    session.close()


def write_csv(tmp_path, text: str, name: str = "bins.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def counts(session) -> tuple[int, int]:
    session.expire_all()
    requests = session.scalar(select(func.count()).select_from(LedgerRequest).where(LedgerRequest.kind == "allocate"))
    return requests, session.scalar(select(func.count()).select_from(LedgerEvent))


def test_import_prepares_allocation(issued, tmp_path, capsys):
    path = write_csv(tmp_path, "\ufefflao_code,verified_bins,ชื่อ\n5570901,\"3,000\",เทศบาลตำบลแม่สาย\n5570902,1000,อื่น\n")
    assert import_bins_command(path, ROUND, "l.dla.officer", LETTER, as_json=True) == 0
    result = json.loads(capsys.readouterr().out)
    request = issued.session.get(LedgerRequest, result["request"])
    assert request.kind == "allocate"
    assert request.status == "pending"
    assert request.letter_reference == LETTER
    assert [(share["account"], share["quantity"]) for share in request.payload["shares"]] == [
        ("LAO-5570901", 75), ("LAO-5570902", 25)]
    assert result["bins"] == 4000


def test_import_again_returns_same_request(issued, tmp_path, capsys):
    path = write_csv(tmp_path, "lao_code,verified_bins\n5570901,3\n5570902,1\n")
    assert import_bins_command(path, ROUND, "l.dla.officer", LETTER, as_json=True) == 0
    first = json.loads(capsys.readouterr().out)["request"]
    before = counts(issued.session)
    assert import_bins_command(path, ROUND, "l.dla.officer", LETTER, as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["request"] == first
    assert counts(issued.session) == before


def test_dry_run_prepares_nothing(issued, tmp_path, capsys):
    path = write_csv(tmp_path, "lao_code,verified_bins\n5570901,1\n5570902,1\n")
    before = counts(issued.session)
    assert import_bins_command(path, ROUND, "l.dla.officer", LETTER, quantity=9, dry_run=True) == 0
    output = capsys.readouterr().out
    assert "5570901  ถัง 1  ได้รับ 5 tCO2e" in output
    assert "5570902  ถัง 1  ได้รับ 4 tCO2e" in output
    assert "ยังไม่ได้จัดทำคำขอ" in output
    assert counts(issued.session) == before


@pytest.mark.parametrize(("text", "expected"), [
    ("lao_code,verified_bins\n5570901,3\n\n5570902,สาม\n", "บรรทัด 4: จำนวนถัง “สาม” ต้องเป็นจำนวนเต็มบวก"),
    ("lao_code,verified_bins\n557090,3\n", "บรรทัด 2: รหัส อปท. “557090” ไม่ใช่ตัวเลข 7 หลัก"),
    ("lao_code,verified_bins\n5570901,3\n5570901,4\n", "บรรทัด 3: รหัส อปท. 5570901 ซ้ำกับบรรทัดก่อนหน้า"),
    ("lao_code,verified_bins\n5570901,0\n", "บรรทัด 2: จำนวนถัง “0” ต้องเป็นจำนวนเต็มบวก"),
    ("lao_code,bins\n5570901,3\n", "ไฟล์จำนวนถังขยะเปียกไม่มีคอลัมน์ verified_bins"),
    ("lao_code,verified_bins\n", "ไฟล์จำนวนถังขยะเปียกไม่มีข้อมูล"),
    ("lao_code,verified_bins\n5570901,3\n5570903,1\n", "อปท. ต่อไปนี้ยังไม่ได้เปิดบัญชีคาร์บอนเครดิต: 5570903"),
    ("lao_code,verified_bins\n5570901,๓\n5570902,1²\n", "บรรทัด 3: จำนวนถัง “1²” ต้องเป็นจำนวนเต็มบวก"),
    ("lao_code,verified_bins\n5570901,3\n\"" + "ก" * 200_000 + "\",1\n", "บรรทัด 3: อ่านไฟล์ CSV ไม่ได้"),
])
def test_bad_file_imports_nothing(issued, tmp_path, capsys, text, expected):
    path = write_csv(tmp_path, text)
    before = counts(issued.session)
    assert import_bins_command(path, ROUND, "l.dla.officer", LETTER) == 1
    assert expected in capsys.readouterr().err
    assert counts(issued.session) == before


def test_bad_row_error_has_stable_code(issued, tmp_path, capsys):
    path = write_csv(tmp_path, "lao_code,verified_bins\n5570901,3\n5570902,-1\n")
    assert import_bins_command(path, ROUND, "l.dla.officer", LETTER) == 1
    assert capsys.readouterr().err.rstrip().endswith("[bins_csv_invalid_count]")


def test_non_utf8_file_rejected(issued, tmp_path, capsys):
    path = tmp_path / "bins.csv"
    path.write_bytes("lao_code,verified_bins\n5570901,3\n".encode("utf-8") + "แม่สาย".encode("cp874"))
    before = counts(issued.session)
    assert import_bins_command(str(path), ROUND, "l.dla.officer", LETTER) == 1
    assert "ต้องเป็น CSV แบบ UTF-8" in capsys.readouterr().err
    assert counts(issued.session) == before


def test_lao_officer_cannot_import(issued, tmp_path, capsys):
    path = write_csv(tmp_path, "lao_code,verified_bins\n5570901,3\n5570902,1\n")
    before = counts(issued.session)
    assert import_bins_command(path, ROUND, "l.5570901.officer", LETTER) == 1
    assert "[not_allowed]" in capsys.readouterr().err
    assert counts(issued.session) == before


def test_unknown_round_and_missing_file(issued, tmp_path, capsys):
    path = write_csv(tmp_path, "lao_code,verified_bins\n5570901,3\n")
    assert import_bins_command(path, 9, "l.dla.officer", LETTER) == 1
    assert "ไม่พบรอบการรับรองที่ 9" in capsys.readouterr().err
    assert import_bins_command(str(tmp_path / "missing.csv"), ROUND, "l.dla.officer", LETTER) == 1
    assert "[file_unreadable]" in capsys.readouterr().err


def test_parser_reads_options(issued, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="saraban ledger")
    add_import_bins_parser(parser.add_subparsers(dest="ledger_command", required=True))
    path = write_csv(tmp_path, "lao_code,verified_bins\n5570901,1\n5570902,1\n")
    args = parser.parse_args(["import-bins", path, "--round", str(ROUND), "--user", "l.dla.officer",
                              "--letter", LETTER, "--quantity", "10", "--json"])
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["quantity"] == 10
    assert [share["quantity"] for share in result["shares"]] == [5, 5]


def test_fully_allocated_round_rejected(issued, tmp_path, capsys):
    path = write_csv(tmp_path, "lao_code,verified_bins\n5570901,3\n5570902,1\n")
    assert import_bins_command(path, ROUND, "l.dla.officer", LETTER, as_json=True) == 0
    request_id = json.loads(capsys.readouterr().out)["request"]
    operations.approve(issued.session, issued.dla_head, request_id, idempotency_key=key())
    before = counts(issued.session)
    assert import_bins_command(path, ROUND, "l.dla.officer", "มท 0821.2/ว 2002") == 1
    assert "กรมไม่มีหน่วยของรอบการรับรองที่ 3 เหลือให้จัดสรร" in capsys.readouterr().err
    assert counts(issued.session) == before
